package engine

import (
	"math"
	"slices"
	"strings"
	"time"
)

// Gate reasons: why a candidate is excluded from a profile's matches. They are
// the keys of MatchResult.Excluded.
const (
	ExcludedNotApproved   = "not_approved"
	ExcludedSupplier      = "supplier_not_admitted"
	ExcludedCategory      = "wrong_category"
	ExcludedPrice         = "price_out_of_band"
	ExcludedCommission    = "commission_below_floor"
	ExcludedStock         = "out_of_stock"
	ExcludedCertification = "missing_certification"
	ExcludedSeason        = "out_of_season"
	ExcludedLeadTime      = "lead_time"
)

// The gates, in the order Gate checks them; gateNone means "passes".
const (
	gateNotApproved = iota
	gateSupplier
	gateCategory
	gatePrice
	gateCommission
	gateStock
	gateCertification
	gateSeason
	gateLeadTime
	numGates
	gateNone = -1
)

var gateOrder = [numGates]string{ExcludedNotApproved, ExcludedSupplier, ExcludedCategory, ExcludedPrice,
	ExcludedCommission, ExcludedStock, ExcludedCertification, ExcludedSeason, ExcludedLeadTime}

// GateOrder returns the gate reasons in the order Gate checks them (a fresh copy).
func GateOrder() []string { return append([]string(nil), gateOrder[:]...) }

// Geo measures distances between regions for logistics scoring.
type Geo interface {
	// Distance returns the great-circle distance in km between the provinces
	// of two six-digit region codes (0 within one province), or false when
	// either code is unknown.
	Distance(fromRegion, toRegion string) (km float64, ok bool)
}

// Candidate is a product offered to Match: the product, its owning org and
// the text relevance the index gave it.
type Candidate struct {
	Product  *Product
	Supplier *Org    // the owning org; nil = unknown (fails the supplier gate)
	Text     float64 // raw text relevance from the index (BM25, >= 0); ignored without keywords
}

// MatchParams are the collaborators and knobs of one match.
type MatchParams struct {
	Now      time.Time  // the clock; the "as of" date is the stream date when set, else Now
	Regions  RegionBook // names regions in reasons; nil: codes are used
	Geo      Geo        // distances for logistics; nil: logistics takes its neutral value
	Limit    int        // top-k; <= 0: DefaultMatchLimit; capped at MaxMatchLimit
	TextHalf float64    // text relevance that maps to 0.5 when TextMax is not set; <= 0: DefaultTextHalf
	// TextMax is the best text relevance among the profile's candidates.
	// When > 0 the text factor is relative to it: t/TextMax, capped at 1.
	TextMax float64
}

// Defaults and limits of a match.
const (
	DefaultTextHalf   = 2.0
	DefaultMatchLimit = 20
	MaxMatchLimit     = 100
)

// FactorScore is one factor of a match: its value in [0,1], its weight, its
// share of the score (Weight·Value/ΣWeight) and the reasons in Chinese and
// English.
type FactorScore struct {
	Name         Factor
	Value        float64
	Weight       float64
	Contribution float64
	ReasonZh     string
	ReasonEn     string
}

// ProductMatch is one scored product: Score in [0,1] is the sum of the
// factors' contributions (within 0.001; all figures rounded to 4 decimals).
type ProductMatch struct {
	Product  *Product
	Supplier *Org
	Score    float64
	Factors  []FactorScore
}

// MatchResult is the outcome of Match: the top items, best first, how many
// candidates each gate excluded (reasons with a count of 0 are left out) and
// how many candidates were offered.
type MatchResult struct {
	Items      []ProductMatch
	Excluded   map[string]int
	Candidates int
}

// cst is China Standard Time, in which seasons are reckoned.
var cst = time.FixedZone("CST", 8*3600)

// gateEnv holds what the gates need besides the profile and the candidate.
type gateEnv struct {
	now   time.Time // the clock
	asOf  time.Time // the stream date when set, else now
	month int       // month of asOf in China Standard Time, 1..12
	// streamDays is the number of days from now to the stream date (0 without one).
	streamDays float64
}

func newGateEnv(p *DemandProfile, now time.Time) gateEnv {
	e := gateEnv{now: now, asOf: now}
	if !p.StreamDate.IsZero() {
		e.asOf = p.StreamDate
		e.streamDays = daysBetween(now, p.StreamDate)
	}
	e.month = int(e.asOf.In(cst).Month())
	return e
}

// Schedule returns what the season and lead-time gates of p compare at
// clock now, for callers that evaluate them on their own columns: the month
// (1..12, China Standard Time) a product's AvailableMonths must include
// when it names any, and, when p has a stream date, the most days of lead
// time that still ship in time (dated is false without a stream date). A
// product passes the lead-time gate when float64(max(LeadTimeDays, 0)) ≤
// maxLeadDays.
func Schedule(p *DemandProfile, now time.Time) (month int, maxLeadDays float64, dated bool) {
	env := newGateEnv(p, now)
	return env.month, env.streamDays, !p.StreamDate.IsZero()
}

// Gate reports why candidate c must not be shown for profile p, as the first
// failing reason in GateOrder, or "" when it passes. now is the clock; the
// as-of date for certificates and seasons is the stream date when set.
func Gate(p *DemandProfile, c Candidate, now time.Time) string {
	env := newGateEnv(p, now)
	if g := gate(p, &c, &env); g != gateNone {
		return gateOrder[g]
	}
	return ""
}

func gate(p *DemandProfile, c *Candidate, env *gateEnv) int {
	pr := c.Product
	if pr == nil || pr.ReviewStatus != ReviewApproved {
		return gateNotApproved
	}
	if !admitted(c.Supplier, pr) {
		return gateSupplier
	}
	if len(p.Categories) > 0 && !contains(p.Categories, pr.Category) {
		return gateCategory
	}
	price := pr.EffectivePrice()
	if p.PriceMin != nil && !(price >= *p.PriceMin) || p.PriceMax != nil && !(price <= *p.PriceMax) {
		return gatePrice
	}
	if !(pr.CommissionRate >= p.MinCommissionRate) {
		return gateCommission
	}
	if pr.Available() < max(p.MinStock, 1) {
		return gateStock
	}
	for _, req := range p.RequiredCerts {
		if !hasValidCert(pr, req, env.asOf) {
			return gateCertification
		}
	}
	if len(pr.AvailableMonths) > 0 && !slices.Contains(pr.AvailableMonths, env.month) {
		return gateSeason
	}
	if !p.StreamDate.IsZero() && float64(max(pr.LeadTimeDays, 0)) > env.streamDays {
		return gateLeadTime
	}
	return gateNone
}

// admitted reports whether supplier s passes the supplier gate for product
// pr: known, approved, and pr's owner.
func admitted(s *Org, pr *Product) bool {
	return s != nil && s.Status == OrgApproved && (s.ID == "" || pr.OrgID == "" || s.ID == pr.OrgID)
}

func hasValidCert(pr *Product, typ string, t time.Time) bool {
	for _, c := range pr.Certifications {
		if c.Type == typ && c.ValidAt(t) {
			return true
		}
	}
	return false
}

// daysBetween returns the days from a to b (negative when b is earlier).
func daysBetween(a, b time.Time) float64 { return b.Sub(a).Hours() / 24 }

// scorer scores candidates for one profile; it holds everything that does
// not depend on the candidate.
type scorer struct {
	p *DemandProfile
	gateEnv
	regions  RegionBook
	geo      Geo
	textHalf float64
	textMax  float64
	keywords bool
	weights  [numFactors]float64 // sanitised: negative, NaN and infinite weights count as 0
	scaled   [numFactors]float64 // weights divided by the largest, so sums cannot overflow
	wsum     float64             // sum of scaled
	// distance caches the mean distance score per ship-from code (Match only).
	distance map[string]float64
}

func newScorer(p *DemandProfile, params MatchParams) *scorer {
	s := &scorer{
		p:        p,
		gateEnv:  newGateEnv(p, params.Now),
		regions:  params.Regions,
		geo:      params.Geo,
		textHalf: params.TextHalf,
		textMax:  params.TextMax,
		keywords: strings.TrimSpace(p.Keywords) != "",
	}
	if !(s.textHalf > 0) || math.IsInf(s.textHalf, 0) {
		s.textHalf = DefaultTextHalf
	}
	maxW := 0.0
	for i, f := range factorList {
		w := p.Weights.Of(f)
		if !(w > 0) || math.IsInf(w, 0) {
			w = 0
		}
		s.weights[i] = w
		maxW = max(maxW, w)
	}
	if maxW > 0 {
		for i, w := range s.weights {
			s.scaled[i] = w / maxW
			s.wsum += s.scaled[i]
		}
	}
	return s
}

// certIndex is the position of FactorCertification in factorList.
const certIndex = 5

// bound returns the highest unrounded score c can reach whatever the value of
// factor skip (v holds the other values).
func (s *scorer) bound(v *[numFactors]float64, skip int) float64 {
	if s.wsum == 0 {
		return 0
	}
	raw := s.scaled[skip]
	for i, x := range v {
		if i != skip {
			raw += s.scaled[i] * x
		}
	}
	return raw / s.wsum
}

// total combines factor values into the rounded score.
func (s *scorer) total(v *[numFactors]float64) float64 {
	if s.wsum == 0 {
		return 0
	}
	raw := 0.0
	for i, x := range v {
		raw += s.scaled[i] * x
	}
	return round4(unit(raw / s.wsum))
}

// explain scores c with every factor's reasons.
func (s *scorer) explain(c *Candidate) ProductMatch {
	var v [numFactors]float64
	fs := make([]FactorScore, numFactors)
	for i, f := range factorList {
		x, zh, en := s.factor(i, c, true)
		v[i] = x
		fs[i] = FactorScore{Name: f, Value: round4(x), Weight: s.weights[i], ReasonZh: zh, ReasonEn: en}
		if s.wsum > 0 {
			fs[i].Contribution = round4(s.scaled[i] * x / s.wsum)
		}
	}
	return ProductMatch{Product: c.Product, Supplier: c.Supplier, Score: s.total(&v), Factors: fs}
}

// Score computes every factor of candidate c for profile p, with reasons.
// Call it for candidates that pass Gate; for others the values are still in
// [0,1] but the reasons may not make sense.
func Score(p *DemandProfile, c Candidate, params MatchParams) ProductMatch {
	if c.Product == nil {
		c.Product = &Product{}
	}
	return newScorer(p, params).explain(&c)
}

// Match gates every candidate (counting exclusions by reason), scores the
// rest, ranks them by score (highest first, ties by product id), re-ranks the
// top for fair exposure of poverty-relief suppliers (FairTopK with
// p.PovertyReliefMinShare) and returns the top params.Limit with reasons.
//
// Only the top items are explained: the rest are scored without formatting
// any text, and only the best Limit overall and the best Limit poverty-relief
// candidates are kept while scanning, which is all FairTopK can pick from.
func Match(p *DemandProfile, cands []Candidate, params MatchParams) MatchResult {
	m := NewMatcher(p, params)
	for i := range cands {
		m.Add(cands[i])
	}
	return m.Result()
}

// Matcher matches one profile against candidates fed one at a time, for
// callers that stream candidates from their own storage: Add gates and
// scores each and keeps only what the result can need, copying a candidate's
// product when it keeps it, so the caller may reuse one Product value for
// every call. NewMatcher, Add for each candidate and Result give exactly what
// Match gives for the same candidates in the same order. A Matcher is not
// safe for concurrent use.
type Matcher struct {
	p      *DemandProfile
	s      *scorer
	k      int
	share  float64
	fair   bool
	kept   []Candidate // candidates in a heap at some point, by rankEntry.idx
	best   topK
	relief topK
	n      int
	excl   [numGates]int
	v      [numFactors]float64
	order  [numFactors - 1]int // the factors Skip computes, in its order
}

// NewMatcher prepares matching p with params.
func NewMatcher(p *DemandProfile, params MatchParams) *Matcher {
	s := newScorer(p, params)
	k := params.Limit
	if k <= 0 {
		k = DefaultMatchLimit
	}
	k = min(k, MaxMatchLimit)
	m := &Matcher{p: p, s: s, k: k, share: p.PovertyReliefMinShare, fair: p.PovertyReliefMinShare > 0}
	for i, f := range [...]Factor{FactorText, FactorPovertyRelief, FactorGrade, FactorStock, FactorCommission,
		FactorPrice, FactorLeadTime, FactorSeasonality, FactorLogistics} {
		m.order[i] = factorIndex(string(f))
	}
	if s.geo != nil && len(p.AudienceRegions) > 0 {
		s.distance = make(map[string]float64, 64)
	}
	id := func(i int) string { return m.kept[i].Product.ID }
	m.best = topK{k: k, items: make([]rankEntry, 0, k), id: id}
	m.relief = topK{k: k, id: id}
	if m.fair {
		m.relief.items = make([]rankEntry, 0, k)
	}
	return m
}

// Add gates and scores candidate c. It keeps a copy of c's product (and
// nothing else of it) only when c enters the current top.
func (m *Matcher) Add(c Candidate) {
	m.n++
	s, v := m.s, &m.v
	if g := gate(m.p, &c, &s.gateEnv); g != gateNone {
		m.excl[g]++
		return
	}
	protected := m.fair && c.Supplier.PovertyRelief
	// Certificates are the costliest factor (a second memory region per
	// product): skip a candidate whose score cannot reach either heap even
	// with full marks for them.
	for f := range v {
		if f != certIndex {
			v[f], _, _ = s.factor(f, &c, false)
		}
	}
	if floor, ok := m.floor(c.Supplier.PovertyRelief); ok && s.bound(v, certIndex) < floor {
		return
	}
	v[certIndex], _, _ = s.factor(certIndex, &c, false)
	score := s.total(v)
	// Would it enter either heap? Compare with a provisional entry that sorts
	// after every kept one with the same score and id.
	e := rankEntry{score: score, idx: len(m.kept)}
	m.kept = append(m.kept, c) // provisional: the id is needed for ties
	inBest := m.best.wouldKeep(e)
	inRelief := protected && m.relief.wouldKeep(e)
	if !inBest && !inRelief {
		m.kept = m.kept[:len(m.kept)-1]
		return
	}
	m.kept[e.idx].Product = c.Product.clone()
	if inBest {
		m.best.push(e)
	}
	if inRelief {
		m.relief.push(e)
	}
}

// Skip reports whether candidate c can be left out without changing the
// result, for callers that build a candidate's full product only when
// needed: c must pass every gate on its product (the caller has checked
// them), and c.Product may lack its ID, Category, ProvinceCode,
// ReviewStatus and Certifications. Skip bounds the score with every factor
// but the certificates', which counts as full marks, and answers true when
// even that bound could not enter the top (or, for a protected supplier of
// a fair profile, the best of the protected): the candidate is then
// counted as offered, as Add would have, and must not be given to Add.
// Otherwise (false, also for a supplier that fails its gate) call Add with
// the full product.
func (m *Matcher) Skip(c Candidate) bool {
	if c.Product == nil || !admitted(c.Supplier, c.Product) {
		return false
	}
	floor, ok := m.floor(c.Supplier.PovertyRelief)
	if !ok {
		return false
	}
	// Start from full marks and take off what each factor falls short,
	// the cheapest and most telling first, until the bound drops below
	// the floor or only the certificates are left.
	s := m.s
	if s.wsum == 0 {
		return false
	}
	raw, limit := s.wsum, floor*s.wsum
	for _, f := range m.order {
		v, _, _ := s.factor(f, &c, false)
		if raw -= s.scaled[f] * (1 - v); raw < limit {
			m.n++
			return true
		}
	}
	return false
}

// floor returns the least score a candidate of a supplier with the given
// poverty-relief status must beat to enter the result (in either heap),
// with a margin for rounding; ok is false while any score would do.
func (m *Matcher) floor(relief bool) (float64, bool) {
	floor, ok := m.best.floor()
	protected := m.fair && relief
	if !ok || protected && !m.relief.full() {
		return 0, false
	}
	if protected {
		floor = min(floor, m.relief.items[0].score)
	}
	return floor - 0.00005 - 1e-12, true
}

// Merge takes in what another Matcher of the same profile and parameters
// kept, as if this one had been given o's candidates too: matching can be
// split over goroutines, one Matcher each, and merged at the end (the
// result is the same, ties being broken by product id). o must not be used
// afterwards.
func (m *Matcher) Merge(o *Matcher) {
	n := m.n
	seen := make(map[int]bool, len(o.best.items)+len(o.relief.items))
	for _, e := range append(append([]rankEntry(nil), o.best.items...), o.relief.items...) {
		if !seen[e.idx] {
			seen[e.idx] = true
			m.Add(o.kept[e.idx])
		}
	}
	m.n = n + o.n
	for g, c := range o.excl {
		m.excl[g] += c
	}
}

// Result ranks what was kept, re-ranks it for fair exposure and explains the
// top items. Call it once, after the last Add.
func (m *Matcher) Result() MatchResult {
	best := &m.best
	pool := best.items
	for _, e := range m.relief.items {
		if !slices.ContainsFunc(best.items, func(b rankEntry) bool { return b.idx == e.idx }) {
			pool = append(pool, e)
		}
	}
	slices.SortFunc(pool, func(a, b rankEntry) int {
		if a.idx == b.idx {
			return 0
		}
		if best.better(a, b) {
			return -1
		}
		return 1
	})
	ranked := make([]ProductMatch, len(pool))
	for j, e := range pool {
		c := &m.kept[e.idx]
		ranked[j] = ProductMatch{Product: c.Product, Supplier: c.Supplier, Score: e.score}
	}
	chosen := FairTopK(ranked, m.k, m.share)
	items := make([]ProductMatch, len(chosen))
	for j, r := range chosen {
		items[j] = m.s.explain(&m.kept[pool[r].idx])
	}
	res := MatchResult{Items: items, Excluded: make(map[string]int, numGates), Candidates: m.n}
	for g, n := range m.excl {
		if n > 0 {
			res.Excluded[gateOrder[g]] = n
		}
	}
	return res
}

// clone copies p with its own slices, so the caller may reuse p.
func (p *Product) clone() *Product {
	if p == nil {
		return nil
	}
	c := *p
	c.Tags = slices.Clone(p.Tags)
	c.AvailableMonths = slices.Clone(p.AvailableMonths)
	c.Certifications = slices.Clone(p.Certifications)
	return &c
}

// rankEntry is a scored candidate: its rounded score and its index.
type rankEntry struct {
	score float64
	idx   int
}

// topK keeps the best k entries seen in a min-heap (the worst kept at the
// root); products and hosts both rank with it.
type topK struct {
	k     int
	items []rankEntry
	id    func(idx int) string // the id of candidate idx, for ties
}

// better reports whether a ranks before b: higher score, then lower id,
// then lower index.
func (t *topK) better(a, b rankEntry) bool {
	if a.score != b.score {
		return a.score > b.score
	}
	ida, idb := t.id(a.idx), t.id(b.idx)
	if ida != idb {
		return ida < idb
	}
	return a.idx < b.idx
}

// wouldKeep reports whether push(e) would keep e.
func (t *topK) wouldKeep(e rankEntry) bool {
	return len(t.items) < t.k || t.better(e, t.items[0])
}

// full reports whether the heap holds k entries.
func (t *topK) full() bool { return len(t.items) >= t.k }

// floor returns the score of the worst entry kept when the heap is full.
func (t *topK) floor() (float64, bool) {
	if !t.full() || len(t.items) == 0 {
		return 0, false
	}
	return t.items[0].score, true
}

func (t *topK) push(e rankEntry) {
	h := t.items
	if len(h) < t.k {
		h = append(h, e)
		for i := len(h) - 1; i > 0; { // sift up: worse entries rise to the root
			parent := (i - 1) / 2
			if !t.better(h[parent], h[i]) {
				break
			}
			h[i], h[parent] = h[parent], h[i]
			i = parent
		}
		t.items = h
		return
	}
	if !t.better(e, h[0]) {
		return
	}
	h[0] = e
	for i := 0; ; { // sift down
		l, r, worst := 2*i+1, 2*i+2, i
		if l < len(h) && t.better(h[worst], h[l]) {
			worst = l
		}
		if r < len(h) && t.better(h[worst], h[r]) {
			worst = r
		}
		if worst == i {
			break
		}
		h[i], h[worst] = h[worst], h[i]
		i = worst
	}
}

// round4 rounds x to 4 decimals.
func round4(x float64) float64 { return math.Round(x*1e4) / 1e4 }

// unit clamps x to [0,1], mapping NaN to 0.
func unit(x float64) float64 {
	switch {
	case !(x > 0):
		return 0
	case x > 1:
		return 1
	}
	return x
}
