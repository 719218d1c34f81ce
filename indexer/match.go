package indexer

import (
	"cmp"
	"context"
	"errors"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/livematch/livematch/engine"
)

// DefaultCandidates is how many candidates MatchCandidates returns at most
// when the query names no limit.
const DefaultCandidates = 5000

// MatchQuery selects the candidate products of a demand profile: keywords
// (any term may match; more matching terms score higher) conjoined with the
// gates the index can evaluate, categories among them.
type MatchQuery struct {
	Keywords      string
	Categories    []string // any of them; none: every category
	PriceMin      *float64 // on the effective price, inclusive
	PriceMax      *float64
	MinCommission float64
	MinStock      int64     // the stock gate is stock ≥ max(MinStock, 1)
	RequiredCerts []string  // each must be in force at CertsAt
	CertsAt       time.Time // zero: now
	// Month, when 1..12, is the season gate: a product that names its
	// months must be available then (see engine.Schedule).
	Month int
	// Dated turns on the lead-time gate: a product's lead time must not
	// exceed MaxLeadDays (see engine.Schedule).
	Dated       bool
	MaxLeadDays float64
	Limit       int // at most this many candidates; ≤0: DefaultCandidates
}

// Candidate is a product that passed the index's filters and gates, with
// its raw text relevance (BM25; 0 without keywords).
type Candidate struct {
	Product *engine.Product
	Text    float64
}

// Candidates is the answer of MatchCandidates.
type Candidates struct {
	Hits []Candidate
	// TextMax is the best text relevance among all candidates (the first
	// hit's, as hits are sorted by it); 0 without keywords.
	TextMax float64
	// Excluded counts, per gate reason (engine.Excluded*), the products that
	// match the keywords and categories but fail that gate, each counted
	// under the first gate it fails in engine.GateOrder among those the index
	// evaluates (review status, category, price band, commission floor,
	// stock, required certifications). The supplier's admission is judged by
	// the engine afterwards, so a product of a suspended supplier that also
	// fails an index gate is counted under that gate.
	Excluded map[string]int
	// Total is how many products passed; Hits holds the best Limit of them.
	Total uint64
}

// MatchStats describes one streamed match (MatchEach).
type MatchStats struct {
	// Excluded counts, per gate reason (engine.Excluded*), the products
	// that match the keywords but fail that gate, each counted under the
	// first gate it fails in engine.GateOrder among those the index
	// evaluates (review status, category, price band, commission floor,
	// stock, required certifications). The supplier's admission is judged
	// by the engine afterwards.
	Excluded map[string]int
	// Total is how many products passed the index's gates.
	Total uint64
	// TextMax is the best text relevance among them; 0 without keywords.
	TextMax float64
}

// Sink receives one part of a streamed match (see MatchEach).
type Sink interface {
	// Skip is offered each candidate first, its product carrying all
	// that matching reads but ID, Category, ProvinceCode, ReviewStatus
	// and Certifications (as engine.Matcher.Skip needs): true leaves it
	// out.
	Skip(p *engine.Product, text float64) bool
	// Add receives each candidate not skipped, its product filled with all
	// that matching reads.
	Add(p *engine.Product, text float64)
}

// AddAll is a Sink that skips nothing and hands every candidate to the
// function.
type AddAll func(p *engine.Product, text float64)

// Skip is always false.
func (AddAll) Skip(*engine.Product, float64) bool { return false }

// Add calls f.
func (f AddAll) Add(p *engine.Product, text float64) { f(p, text) }

// MatchEach streams the candidates of a demand profile from the in-memory
// catalogue: every product that matches the keywords (all products without
// keywords) and passes the gates the index evaluates, with its text
// relevance. It first finds them all, then calls begin with the best text
// relevance among them and offers each candidate to the Sink begin returns,
// in no particular order. For many candidates it splits them over
// goroutines: begin is then called once per part (sequentially), and each
// Sink is called from its own goroutine (an engine.Matcher per part, merged
// afterwards, gives the same result). The product passed is reused for the
// next call: keep a copy, not the pointer (engine.Matcher.Add copies what
// it keeps). Titles and descriptions are never filled; see Product for the
// full record. The catalogue is read-locked meanwhile: the sinks must not
// call back into the index. MatchEach returns KindInvalid for an unknown
// required certificate, KindUnavailable if the index is closed or ctx ends
// first.
func (x *Index) MatchEach(ctx context.Context, q MatchQuery, begin func(textMax float64) Sink) (MatchStats, error) {
	const op = "indexer.MatchEach"
	var st MatchStats
	err := x.candidates(ctx, op, q, true, func(c *catalog, s MatchStats, pass []passed, _ func(uint32) float64) error {
		st = s
		// A large candidate set is streamed by one goroutine per core,
		// each with its own function from begin.
		parts := 1
		if len(pass) >= x.opts.parallelFrom {
			parts = min(runtime.GOMAXPROCS(0), 4)
		}
		sinks := make([]Sink, parts)
		for i := range sinks {
			sinks[i] = begin(s.TextMax)
		}
		errs := make([]error, parts)
		var wg sync.WaitGroup
		for part, sink := range sinks {
			wg.Go(func() {
				var p engine.Product
				lo, hi := len(pass)*part/parts, len(pass)*(part+1)/parts
				for i := range pass[lo:hi] {
					if i&4095 == 0 && ctx.Err() != nil {
						errs[part] = ctxErr(op, ctx.Err())
						return
					}
					ps := &pass[lo+i]
					t := float64(ps.text)
					c.peek(&ps.row, &p)
					if !sink.Skip(&p, t) {
						c.complete(x.vocab, ps.d, &ps.row, &p)
						sink.Add(&p, t)
					}
				}
			})
		}
		wg.Wait()
		return errors.Join(errs...)
	})
	if err != nil {
		return MatchStats{}, err
	}
	return st, nil
}

// TextRelevance returns, with one scoring pass, what a product's buyers
// need of a profile: the product's text relevance for the profile's
// keywords (as MatchEach hands it out), the best relevance among the
// products that pass the index's gates (MatchStats.TextMax), and whether
// the product matches the keywords at all (always without keywords).
func (x *Index) TextRelevance(ctx context.Context, q MatchQuery, id string) (text, textMax float64, matched bool, err error) {
	const op = "indexer.TextRelevance"
	keywords := len(x.textPlan(q.Keywords)) > 0
	err = x.candidates(ctx, op, q, false, func(c *catalog, s MatchStats, _ []passed, score func(uint32) float64) error {
		textMax = s.TextMax
		if d, ok := c.byID[id]; ok {
			text = score(d)
		}
		matched = !keywords || text > 0
		return nil
	})
	return text, textMax, matched, err
}

// candidates finds the products that match q's keywords and pass the index's
// gates, counting exclusions, and calls then while the catalogue is
// read-locked, with them when keep (else pass is empty); text gives a
// docnum's text relevance (0 without keywords).
func (x *Index) candidates(ctx context.Context, op string, q MatchQuery, keep bool,
	then func(c *catalog, st MatchStats, pass []passed, text func(uint32) float64) error) error {
	if x.closed.Load() {
		return errClosed(op)
	}
	g, err := x.gates(op, q)
	if err != nil {
		return err
	}
	plan := x.textPlan(q.Keywords)
	ts := x.scorers.Get().(*textScorer)
	defer x.scorers.Put(ts)
	pass := x.passing.Get().(*[]passed)
	defer x.passing.Put(pass)

	x.mu.RLock()
	defer x.mu.RUnlock()
	c := &x.cat
	st := MatchStats{Excluded: map[string]int{}}
	var excl [numIndexGates]int
	*pass = (*pass)[:0]
	var textMax float32
	total := 0
	check := func(d uint32) {
		if r := g.check(c, d); r >= 0 {
			excl[r]++
			return
		}
		total++
		var t float32
		if len(plan) > 0 {
			t = ts.acc[d]
			textMax = max(textMax, t)
		}
		if keep {
			*pass = append(*pass, passed{row: c.rows[d], d: d, text: t})
		}
	}
	text := func(uint32) float64 { return 0 }
	if len(plan) > 0 {
		c.score(ts, plan, false)
		defer ts.reset()
		text = func(d uint32) float64 { return float64(ts.acc[d]) }
		for i, d := range ts.touched {
			if i&4095 == 0 && ctx.Err() != nil {
				return ctxErr(op, ctx.Err())
			}
			check(d)
		}
	} else if g.cats != nil {
		// Only the chosen categories' products are visited; the others
		// are counted as the review and category gates would count them.
		n := 0
		for cat, chosen := range g.cats {
			if !chosen || cat >= len(c.byCat) {
				continue
			}
			for _, d := range c.byCat[cat] {
				if n++; n&4095 == 0 && ctx.Err() != nil {
					return ctxErr(op, ctx.Err())
				}
				if c.isLive(d) {
					check(d)
				}
			}
		}
		for cat := range c.catLive {
			if cat < len(g.cats) && g.cats[cat] {
				continue
			}
			excl[igReview] += c.catLive[cat] - c.catApproved[cat]
			excl[igCategory] += c.catApproved[cat]
		}
	} else {
		for d := range c.ids {
			if d&4095 == 0 && ctx.Err() != nil {
				return ctxErr(op, ctx.Err())
			}
			if c.isLive(uint32(d)) {
				check(uint32(d))
			}
		}
	}
	for i, n := range excl {
		if n > 0 {
			st.Excluded[indexGateReasons[i]] = n
		}
	}
	st.Total, st.TextMax = uint64(total), float64(textMax)
	return then(c, st, *pass, text)
}

// passed is a candidate that passed the index's gates: its docnum, text
// relevance and a copy of its row, which the streaming reads in order
// instead of going back to the catalogue's columns at random.
type passed struct {
	row  row
	d    uint32
	text float32
}

// Gates the index evaluates, in engine.GateOrder.
const (
	igReview = iota
	igCategory
	igPrice
	igCommission
	igStock
	igCerts
	igSeason
	igLead
	numIndexGates
)

var indexGateReasons = [numIndexGates]string{engine.ExcludedNotApproved, engine.ExcludedCategory, engine.ExcludedPrice,
	engine.ExcludedCommission, engine.ExcludedStock, engine.ExcludedCertification, engine.ExcludedSeason, engine.ExcludedLeadTime}

// gateSet is a MatchQuery's gates compiled against the catalogue's columns.
type gateSet struct {
	cats         []bool // by category index; nil: any category
	lo, hi       float64
	hasLo, hasHi bool
	minComm      float64
	minStock     int64
	certs        []uint8
	at           int64  // certificates must be valid after this (Unix ns)
	month        uint16 // bit of the season gate's month; 0: no season gate
	dated        bool
	maxLead      float64
}

func (x *Index) gates(op string, q MatchQuery) (*gateSet, error) {
	at := q.CertsAt
	if at.IsZero() {
		at = x.now()
	}
	g := &gateSet{minComm: q.MinCommission, minStock: max(q.MinStock, 1), at: at.UnixNano(), dated: q.Dated, maxLead: q.MaxLeadDays}
	if q.Month >= 1 && q.Month <= 12 {
		g.month = 1 << (q.Month - 1)
	}
	if len(q.Categories) > 0 {
		g.cats = make([]bool, len(x.vocab.cats))
		for _, code := range q.Categories {
			if i, ok := x.vocab.catIdx[code]; ok {
				g.cats[i] = true
			}
		}
	}
	if q.PriceMin != nil {
		g.lo, g.hasLo = *q.PriceMin, true
	}
	if q.PriceMax != nil {
		g.hi, g.hasHi = *q.PriceMax, true
	}
	for _, code := range q.RequiredCerts {
		i, ok := x.vocab.certIdx[code]
		if !ok {
			return nil, engine.InvalidField(op, "required_certifications", "unknown certification type "+code)
		}
		g.certs = append(g.certs, i)
	}
	return g, nil
}

// check returns the first gate docnum d fails, or -1. The comparisons are
// the engine's (engine.Gate), on the same values.
func (g *gateSet) check(c *catalog, d uint32) int {
	r := &c.rows[d]
	if !r.Approved {
		return igReview
	}
	if g.cats != nil && (r.Cat == noCategory || !g.cats[r.Cat]) {
		return igCategory
	}
	price := r.Price
	if r.Live > 0 {
		price = r.Live
	}
	if g.hasLo && !(price >= g.lo) || g.hasHi && !(price <= g.hi) {
		return igPrice
	}
	if !(r.Commission >= g.minComm) {
		return igCommission
	}
	if int64(r.Stock) < g.minStock {
		return igStock
	}
	for _, want := range g.certs {
		if !c.hasCert(r, want, g.at) {
			return igCerts
		}
	}
	if g.month != 0 && r.Months != 0 && r.Months&g.month == 0 {
		return igSeason
	}
	if g.dated && float64(max(r.Lead, 0)) > g.maxLead {
		return igLead
	}
	return -1
}

// textPlan is the matching plan of keywords (any term may match).
func (x *Index) textPlan(keywords string) [][]textAlt {
	return queryBuilder{analyzer: x.analyzer, gloss: x.gloss, fields: textFields[:]}.textPlan(keywords, false)
}

// MatchCandidates collects the candidates of a demand profile (MatchEach),
// best text relevance first, then id, at most q.Limit of them
// (DefaultCandidates when not set), each a copy.
func (x *Index) MatchCandidates(ctx context.Context, q MatchQuery) (Candidates, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultCandidates
	}
	var parts []*[]Candidate // one per part: the parts run concurrently
	st, err := x.MatchEach(ctx, q, func(float64) Sink {
		part := new([]Candidate)
		parts = append(parts, part)
		return AddAll(func(p *engine.Product, text float64) {
			*part = append(*part, Candidate{Product: cloneProduct(p), Text: text})
		})
	})
	if err != nil {
		return Candidates{}, err
	}
	var hits []Candidate
	for _, part := range parts {
		hits = append(hits, *part...)
	}
	slices.SortFunc(hits, func(a, b Candidate) int {
		if a.Text != b.Text {
			return cmp.Compare(b.Text, a.Text)
		}
		return strings.Compare(a.Product.ID, b.Product.ID)
	})
	return Candidates{Hits: hits[:min(limit, len(hits))], TextMax: st.TextMax, Excluded: st.Excluded, Total: st.Total}, nil
}

// TextScore returns the text relevance of one product for keywords, as
// MatchEach computes it, and whether the product matches them at all.
// Without keywords every product matches with relevance 0.
func (x *Index) TextScore(ctx context.Context, keywords, id string) (float64, bool, error) {
	const op = "indexer.TextScore"
	if x.closed.Load() {
		return 0, false, errClosed(op)
	}
	plan := x.textPlan(keywords)
	if len(plan) == 0 {
		return 0, true, nil
	}
	ts := x.scorers.Get().(*textScorer)
	defer x.scorers.Put(ts)
	x.mu.RLock()
	defer x.mu.RUnlock()
	d, ok := x.cat.byID[id]
	if !ok {
		return 0, false, nil
	}
	x.cat.score(ts, plan, false)
	defer ts.reset()
	t := ts.acc[d]
	return float64(t), t > 0, nil
}

func termQ(field, value string) query.Query {
	tq := query.NewTermQuery(value)
	tq.SetField(field)
	return tq
}

func rangeQ(field string, lo, hi *float64) query.Query {
	inc := true
	nq := query.NewNumericRangeInclusiveQuery(lo, hi, &inc, &inc)
	nq.SetField(field)
	return nq
}

// matchPlan is a match query compiled for Bleve: the text query (if any)
// and the gates the index evaluates, in engine.GateOrder.
type matchPlan struct {
	text    query.Query
	hasText bool
	base    []query.Query
	gates   []planGate
}

// planGate is one gate the index evaluates and its exclusion reason.
type planGate struct {
	reason string
	q      query.Query
}

// plan compiles q.
func (x *Index) plan(op string, q MatchQuery) (*matchPlan, error) {
	at := q.CertsAt
	if at.IsZero() {
		at = x.now()
	}
	text, hasText := x.textQuery(q.Keywords, false)

	// base: keywords and categories. Then each gate in engine.GateOrder.
	var base []query.Query
	if hasText {
		base = append(base, text)
	}
	gates := []planGate{{engine.ExcludedNotApproved, termQ(fReview, string(engine.ReviewApproved))}}
	if len(q.Categories) > 0 {
		cats := make([]query.Query, 0, len(q.Categories))
		for _, c := range q.Categories {
			cats = append(cats, termQ(fCategory, c))
		}
		gates = append(gates, planGate{engine.ExcludedCategory, query.NewDisjunctionQuery(cats)})
	}
	if q.PriceMin != nil || q.PriceMax != nil {
		gates = append(gates, planGate{engine.ExcludedPrice, rangeQ(fPrice, q.PriceMin, q.PriceMax)})
	}
	if q.MinCommission > 0 {
		gates = append(gates, planGate{engine.ExcludedCommission, rangeQ(fComm, &q.MinCommission, nil)})
	}
	minStock := float64(max(q.MinStock, 1))
	gates = append(gates, planGate{engine.ExcludedStock, rangeQ(fStock, &minStock, nil)})
	if len(q.RequiredCerts) > 0 {
		from := float64(at.UnixMilli()) + 1
		cs := make([]query.Query, 0, len(q.RequiredCerts))
		for _, c := range q.RequiredCerts {
			if _, ok := engine.CertTypeByCode(c); !ok {
				return nil, engine.InvalidField(op, "required_certifications", "unknown certification type "+c)
			}
			cs = append(cs, rangeQ(certExpField(c), &from, nil))
		}
		gates = append(gates, planGate{engine.ExcludedCertification, query.NewConjunctionQuery(cs)})
	}

	return &matchPlan{text: text, hasText: hasText, base: base, gates: gates}, nil
}

// build returns the query of the base and the first n gates.
func (pl *matchPlan) build(n int) query.Query {
	qs := append([]query.Query(nil), pl.base...)
	for _, g := range pl.gates[:n] {
		qs = append(qs, g.q)
	}
	if len(qs) == 0 {
		return bleve.NewMatchAllQuery()
	}
	if !pl.hasText {
		return query.NewConjunctionQuery(qs)
	}
	bq := query.NewBooleanQuery(nil, nil, nil)
	bq.AddMust(pl.text)
	if len(qs) > 1 {
		bq.AddFilter(query.NewConjunctionQuery(qs[1:]))
	}
	return bq
}

// PlainMatch answers q with Bleve alone, as a team without a matching engine
// would: the keywords and the gates the index evaluates as one query, Bleve's
// own relevance (or id order without keywords) and its top-N sort, the best
// limit product ids. No factors, no explanation, no fair share. It exists to
// compare against (see bench/).
func (x *Index) PlainMatch(ctx context.Context, q MatchQuery, limit int) ([]string, error) {
	const op = "indexer.PlainMatch"
	if x.closed.Load() {
		return nil, errClosed(op)
	}
	pl, err := x.plan(op, q)
	if err != nil {
		return nil, err
	}
	req := bleve.NewSearchRequestOptions(pl.build(len(pl.gates)), max(limit, 1), 0, false)
	if pl.hasText {
		req.SortBy([]string{"-_score", "_id"})
	} else {
		req.SortBy([]string{"_id"})
	}
	res, err := x.idx.SearchInContext(ctx, req)
	if err != nil {
		return nil, x.bleveErr(op, "search failed", err)
	}
	ids := make([]string, len(res.Hits))
	for i, h := range res.Hits {
		ids[i] = h.ID
	}
	return ids, nil
}
