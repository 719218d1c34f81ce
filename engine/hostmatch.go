package engine

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The eight factors of a host match, in the order HostFactors returns them.
// The names are the keys of HostRequest.Weights.
const (
	HostFactorLanguage   Factor = "language"
	HostFactorMarket     Factor = "market"
	HostFactorCategory   Factor = "category"
	HostFactorAudience   Factor = "audience"
	HostFactorConversion Factor = "conversion"
	HostFactorRating     Factor = "rating"
	HostFactorBio        Factor = "bio"
	HostFactorTimezone   Factor = "timezone"
)

// numHostFactors is the number of host factors; hostFactorList holds them in order.
const numHostFactors = 8

var hostFactorList = [numHostFactors]Factor{HostFactorLanguage, HostFactorMarket, HostFactorCategory,
	HostFactorAudience, HostFactorConversion, HostFactorRating, HostFactorBio, HostFactorTimezone}

// Positions of the host factors in hostFactorList.
const (
	hfLanguage = iota
	hfMarket
	hfCategory
	hfAudience
	hfConversion
	hfRating
	hfBio
	hfTimezone
)

// HostFactors returns the eight host factors in their fixed order (a fresh copy).
func HostFactors() []Factor { return append([]Factor(nil), hostFactorList[:]...) }

func hostFactorIndex(name string) int {
	for i, f := range hostFactorList {
		if string(f) == name {
			return i
		}
	}
	return -1
}

// Gate reasons: why a host is excluded from a request's matches. They are
// the keys of HostMatchResult.Excluded.
const (
	ExcludedLanguage     = "language_below_level"
	ExcludedNotCertified = "not_certified"
	ExcludedUnavailable  = "unavailable"
	ExcludedOverBudget   = "over_budget"
)

// The host gates, in the order hostGate checks them.
const (
	hostGateLanguage = iota
	hostGateCertified
	hostGateAvailable
	hostGateBudget
	numHostGates
)

var hostGateOrder = [numHostGates]string{ExcludedLanguage, ExcludedNotCertified, ExcludedUnavailable, ExcludedOverBudget}

// HostGateOrder returns the host gate reasons in the order HostGate checks
// them (a fresh copy).
func HostGateOrder() []string { return append([]string(nil), hostGateOrder[:]...) }

// HostCandidate is a host offered to MatchHosts: the host and the raw text
// relevance (>= 0) the index gave its bio for the request's notes and
// categories.
type HostCandidate struct {
	Host *Host
	Bio  float64
}

// HostMatchParams are the collaborators and knobs of one host match.
type HostMatchParams struct {
	Now   time.Time // the clock
	Limit int       // top-k; <= 0: DefaultMatchLimit; capped at MaxMatchLimit
	// BioMax is the best bio relevance among the request's candidates. When
	// > 0 the bio factor is Bio/BioMax, capped at 1; otherwise (no notes)
	// every bio scores a neutral 0.5.
	BioMax float64
	// UTCOffset returns the offset of an IANA time zone from UTC in hours at
	// t (Asia/Shanghai: 8), or false when the zone is unknown. Nil: every
	// host's zone is unknown. MatchHosts calls it once per distinct zone.
	UTCOffset func(tz string, t time.Time) (float64, bool)
}

// HostMatch is one scored host: Score in [0,1] is the sum of the factors'
// contributions (within 0.001; all figures rounded to 4 decimals).
type HostMatch struct {
	Host    *Host
	Score   float64
	Factors []FactorScore
}

// HostMatchResult is the outcome of MatchHosts: the top items, best first,
// how many candidates each gate excluded (reasons with a count of 0 are left
// out) and how many candidates were offered.
type HostMatchResult struct {
	Items      []HostMatch
	Excluded   map[string]int
	Candidates int
}

// Constants of the host factor definitions (see the package documentation).
const (
	langAtMin        = 0.6 // a required language exactly at its minimum level
	langExtraBonus   = 0.1 // each useful language beyond those required
	langNoneRequired = 0.5 // base value when no language is required
	hostNeutral      = 0.5 // market, category, rating, bio and timezone without data
	followersFull    = 7.0 // log10(1+followers) at which followers earn 1 (10 million)
	viewersFull      = 5.0 // log10(1+avg_viewers) at which viewers earn 1 (100 thousand)
	followersShare   = 0.7 // share of followers in the audience factor; the rest is viewers
	conversionFull   = 0.05
	ratingFull       = 5.0
	tzZeroHours      = 8.0 // hours off a market's prime time at which the fit reaches 0
)

// marketInfo is what host matching knows of a market: names, the main UTC
// offset (hours) and the official languages.
type marketInfo struct {
	code, zh, en string
	offset       float64
	langs        []string
}

// hostMarkets is the market table; never modified.
var hostMarkets = [...]marketInfo{
	{"CN", "中国", "China", 8, []string{"zh"}},
	{"HK", "中国香港", "Hong Kong", 8, []string{"zh", "en"}},
	{"TW", "中国台湾", "Taiwan", 8, []string{"zh"}},
	{"MY", "马来西亚", "Malaysia", 8, []string{"ms", "en", "zh"}},
	{"SG", "新加坡", "Singapore", 8, []string{"en", "zh", "ms", "ta"}},
	{"TH", "泰国", "Thailand", 7, []string{"th"}},
	{"VN", "越南", "Vietnam", 7, []string{"vi"}},
	{"ID", "印度尼西亚", "Indonesia", 7, []string{"id"}},
	{"PH", "菲律宾", "the Philippines", 8, []string{"en", "tl"}},
	{"JP", "日本", "Japan", 9, []string{"ja"}},
	{"KR", "韩国", "South Korea", 9, []string{"ko"}},
	{"AU", "澳大利亚", "Australia", 10, []string{"en"}},
	{"NZ", "新西兰", "New Zealand", 12, []string{"en"}},
	{"IN", "印度", "India", 5.5, []string{"hi", "en"}},
	{"AE", "阿联酋", "the UAE", 4, []string{"ar"}},
	{"SA", "沙特阿拉伯", "Saudi Arabia", 3, []string{"ar"}},
	{"RU", "俄罗斯", "Russia", 3, []string{"ru"}},
	{"DE", "德国", "Germany", 1, []string{"de"}},
	{"FR", "法国", "France", 1, []string{"fr"}},
	{"GB", "英国", "the UK", 0, []string{"en"}},
	{"ES", "西班牙", "Spain", 1, []string{"es"}},
	{"IT", "意大利", "Italy", 1, []string{"it"}},
	{"NL", "荷兰", "the Netherlands", 1, []string{"nl"}},
	{"US", "美国", "the US", -5, []string{"en"}},
	{"CA", "加拿大", "Canada", -5, []string{"en"}},
	{"MX", "墨西哥", "Mexico", -6, []string{"es"}},
	{"BR", "巴西", "Brazil", -3, []string{"pt"}},
}

func marketByCode(code string) (*marketInfo, bool) {
	for i := range hostMarkets {
		if hostMarkets[i].code == code {
			return &hostMarkets[i], true
		}
	}
	return nil, false
}

// marketNames names a market for reasons (its code when not in the table).
func marketNames(code string) (zh, en string) {
	if m, ok := marketByCode(code); ok {
		return m.zh, m.en
	}
	return code, code
}

// languageNames names common languages in reasons; never modified.
var languageNames = [...]Term{
	{"zh", "中文", "Chinese"}, {"en", "英语", "English"}, {"ms", "马来语", "Malay"},
	{"ta", "泰米尔语", "Tamil"}, {"th", "泰语", "Thai"}, {"vi", "越南语", "Vietnamese"},
	{"id", "印尼语", "Indonesian"}, {"tl", "他加禄语", "Tagalog"}, {"ja", "日语", "Japanese"},
	{"ko", "韩语", "Korean"}, {"hi", "印地语", "Hindi"}, {"ar", "阿拉伯语", "Arabic"},
	{"ru", "俄语", "Russian"}, {"de", "德语", "German"}, {"fr", "法语", "French"},
	{"es", "西班牙语", "Spanish"}, {"pt", "葡萄牙语", "Portuguese"}, {"it", "意大利语", "Italian"},
	{"nl", "荷兰语", "Dutch"}, {"km", "高棉语", "Khmer"}, {"lo", "老挝语", "Lao"},
	{"my", "缅甸语", "Burmese"}, {"tr", "土耳其语", "Turkish"}, {"fa", "波斯语", "Persian"},
}

func languageName(code string) (zh, en string) {
	for _, t := range languageNames {
		if t.Code == code {
			return t.NameZh, t.NameEn
		}
	}
	return code, code
}

func levelZh(l LanguageLevel) string {
	switch l {
	case LevelNative:
		return "母语"
	case LevelFluent:
		return "流利"
	case LevelBusiness:
		return "商务"
	case LevelConversational:
		return "会话"
	}
	return "未知"
}

func levelEn(l LanguageLevel) string {
	if l.Valid() {
		return string(l)
	}
	return "unknown level"
}

// hostGateEnv holds what the host gates need besides the request and the host.
type hostGateEnv struct {
	now time.Time
	// dayEnd is the end of the request date in China time (the next
	// midnight CST); zero without a valid date.
	dayEnd time.Time
}

func newHostGateEnv(r *HostRequest, now time.Time) hostGateEnv {
	e := hostGateEnv{now: now}
	if d, err := time.ParseInLocation(dateLayout, r.Date, cst); err == nil && r.Date != "" {
		e.dayEnd = d.AddDate(0, 0, 1)
	}
	return e
}

// certified reports whether c is in force on the request date (throughout
// it, in China time) or, without a date, now.
func (e *hostGateEnv) certified(c *HostCertification) bool {
	if c == nil {
		return false
	}
	if c.ExpiresAt.IsZero() {
		return true
	}
	if !e.dayEnd.IsZero() {
		return !c.ExpiresAt.Before(e.dayEnd)
	}
	return c.ExpiresAt.After(e.now)
}

// HostGate reports why host h must not be shown for request r, as the first
// failing reason in HostGateOrder, or "" when it passes. now is the clock;
// a certificate must be in force throughout the request date (China time)
// or, without a date, at now. A nil host counts as an empty one.
func HostGate(r *HostRequest, h *Host, now time.Time) string {
	if h == nil {
		h = &Host{}
	}
	env := newHostGateEnv(r, now)
	if g := hostGate(r, h, &env); g >= 0 {
		return hostGateOrder[g]
	}
	return ""
}

// hostGate returns the first failing gate, or -1.
func hostGate(r *HostRequest, h *Host, env *hostGateEnv) int {
	for _, need := range r.Languages {
		if rank := hostRank(h, need.Code); rank == 0 || rank < need.MinLevel.Rank() {
			return hostGateLanguage
		}
	}
	if r.RequireCertified && !env.certified(h.Certification) {
		return hostGateCertified
	}
	if r.Date != "" && !slices.Contains(h.AvailableDates, r.Date) {
		return hostGateAvailable
	}
	if r.BudgetCNYPerHour > 0 && !(h.HourlyRateCNY <= r.BudgetCNYPerHour) {
		return hostGateBudget
	}
	return -1
}

// hostRank is the best rank at which h speaks the language code (0: not at all).
func hostRank(h *Host, code string) int {
	best := 0
	for _, l := range h.Languages {
		if l.Code == code {
			best = max(best, l.Level.Rank())
		}
	}
	return best
}

// tzOffset is a cached answer of HostMatchParams.UTCOffset.
type tzOffset struct {
	hours float64
	ok    bool
}

// hostScorer scores hosts for one request; it holds everything that does
// not depend on the host.
type hostScorer struct {
	r *HostRequest
	hostGateEnv
	tzAt      time.Time // the instant at which host zones' offsets are taken
	utcOffset func(string, time.Time) (float64, bool)
	bioMax    float64       // 0: bio neutral
	useful    []string      // zh, en and the official languages of the target markets
	tzMarkets []*marketInfo // the target markets with a known offset
	weights   [numHostFactors]float64
	scaled    [numHostFactors]float64
	wsum      float64
	offsets   map[string]tzOffset // MatchHosts only
}

func newHostScorer(r *HostRequest, params HostMatchParams) *hostScorer {
	s := &hostScorer{
		r:           r,
		hostGateEnv: newHostGateEnv(r, params.Now),
		tzAt:        params.Now,
		utcOffset:   params.UTCOffset,
		useful:      []string{"zh", "en"},
	}
	if !s.dayEnd.IsZero() {
		// Midday UTC of the request date: the same civil date nearly everywhere.
		s.tzAt = time.Date(s.dayEnd.Year(), s.dayEnd.Month(), s.dayEnd.Day()-1, 12, 0, 0, 0, time.UTC)
	}
	if b := params.BioMax; b > 0 && !math.IsInf(b, 0) {
		s.bioMax = b
	}
	for _, code := range r.TargetMarkets {
		m, ok := marketByCode(code)
		if !ok {
			continue
		}
		if !slices.Contains(s.tzMarkets, m) {
			s.tzMarkets = append(s.tzMarkets, m)
		}
		for _, l := range m.langs {
			if !slices.Contains(s.useful, l) {
				s.useful = append(s.useful, l)
			}
		}
	}
	maxW := 0.0
	for i, f := range hostFactorList {
		w := r.Weights.Of(f)
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

// required reports whether the request requires language code.
func (s *hostScorer) required(code string) bool {
	for _, n := range s.r.Languages {
		if n.Code == code {
			return true
		}
	}
	return false
}

// total combines factor values into the rounded score.
func (s *hostScorer) total(v *[numHostFactors]float64) float64 {
	if s.wsum == 0 {
		return 0
	}
	raw := 0.0
	for i, x := range v {
		raw += s.scaled[i] * x
	}
	return round4(unit(raw / s.wsum))
}

// hostDeferred marks (as bits by position) the factors that MatchHosts
// computes only for hosts that can still reach the top: the costlier ones
// (language loops over both language lists, timezone looks the zone up).
const hostDeferred = 1<<hfLanguage | 1<<hfTimezone

func hostDeferredFactor(i int) bool { return hostDeferred&(1<<i) != 0 }

// bound returns the highest unrounded score reachable whatever the deferred
// factors' values (v holds the others).
func (s *hostScorer) bound(v *[numHostFactors]float64) float64 {
	if s.wsum == 0 {
		return 0
	}
	raw := 0.0
	for i, x := range v {
		if hostDeferredFactor(i) {
			raw += s.scaled[i]
		} else {
			raw += s.scaled[i] * x
		}
	}
	return raw / s.wsum
}

// explain scores c with every factor's reasons.
func (s *hostScorer) explain(c *HostCandidate) HostMatch {
	var v [numHostFactors]float64
	fs := make([]FactorScore, numHostFactors)
	for i, f := range hostFactorList {
		x, zh, en := s.factor(i, c, true)
		v[i] = x
		fs[i] = FactorScore{Name: f, Value: round4(x), Weight: s.weights[i], ReasonZh: zh, ReasonEn: en}
		if s.wsum > 0 {
			fs[i].Contribution = round4(s.scaled[i] * x / s.wsum)
		}
	}
	return HostMatch{Host: c.Host, Score: s.total(&v), Factors: fs}
}

// ScoreHost computes every factor of candidate c for request r, with
// reasons. Call it for hosts that pass HostGate; for others the values are
// still in [0,1] but the reasons may not make sense. A nil host counts as
// an empty one.
func ScoreHost(r *HostRequest, c HostCandidate, params HostMatchParams) HostMatch {
	if c.Host == nil {
		c.Host = &Host{}
	}
	return newHostScorer(r, params).explain(&c)
}

// MatchHosts gates every candidate (counting exclusions by reason), scores
// the rest, ranks them by score (highest first, ties by host id) and returns
// the top params.Limit with reasons. Candidates with a nil host are skipped
// (they count only in Candidates).
//
// Only the top items are explained: the rest are scored without formatting
// any text, only the best Limit are kept while scanning (a bounded heap), and
// once the heap is full a host that could not reach it even with full marks
// for language and time zone is dropped before those are computed. Each
// distinct time zone is resolved once.
func MatchHosts(r *HostRequest, cands []HostCandidate, params HostMatchParams) HostMatchResult {
	s := newHostScorer(r, params)
	if s.utcOffset != nil && len(s.tzMarkets) > 0 {
		s.offsets = make(map[string]tzOffset, 16)
	}
	k := params.Limit
	if k <= 0 {
		k = DefaultMatchLimit
	}
	k = min(k, MaxMatchLimit)

	var excluded [numHostGates]int
	best := topK{k: k, items: make([]rankEntry, 0, k), id: func(i int) string { return cands[i].Host.ID }}
	var v [numHostFactors]float64
	for i := range cands {
		c := &cands[i]
		if c.Host == nil {
			continue
		}
		if g := hostGate(r, c.Host, &s.hostGateEnv); g >= 0 {
			excluded[g]++
			continue
		}
		// Factors switched off (weight 0) count for nothing: skip them.
		for f := range v {
			if !hostDeferredFactor(f) && s.scaled[f] > 0 {
				v[f], _, _ = s.factor(f, c, false)
			}
		}
		if floor, ok := best.floor(); ok && s.bound(&v) < floor-0.00005-1e-12 {
			continue
		}
		for f := range v {
			if hostDeferredFactor(f) && s.scaled[f] > 0 {
				v[f], _, _ = s.factor(f, c, false)
			}
		}
		best.push(rankEntry{score: s.total(&v), idx: i})
	}

	ranked := best.items
	slices.SortFunc(ranked, func(a, b rankEntry) int {
		if a.idx == b.idx {
			return 0
		}
		if best.better(a, b) {
			return -1
		}
		return 1
	})
	items := make([]HostMatch, len(ranked))
	for j, e := range ranked {
		items[j] = s.explain(&cands[e.idx])
	}
	res := HostMatchResult{Items: items, Excluded: make(map[string]int, numHostGates), Candidates: len(cands)}
	for g, n := range excluded {
		if n > 0 {
			res.Excluded[hostGateOrder[g]] = n
		}
	}
	return res
}

// factor computes host factor i of candidate c; with explain it also writes
// the reasons (and only then calls fmt).
func (s *hostScorer) factor(i int, c *HostCandidate, explain bool) (v float64, zh, en string) {
	h := c.Host
	switch i {
	case hfLanguage:
		v, zh, en = s.language(h, explain)
	case hfMarket:
		v, zh, en = s.market(h, explain)
	case hfCategory:
		v, zh, en = s.category(h, explain)
	case hfAudience:
		v, zh, en = s.audience(h, explain)
	case hfConversion:
		v, zh, en = s.conversion(h, explain)
	case hfRating:
		v, zh, en = s.rating(h, explain)
	case hfBio:
		v, zh, en = s.bio(c.Bio, explain)
	case hfTimezone:
		v, zh, en = s.timezone(h, explain)
	}
	return unit(v), zh, en
}

// needValue is the language value of one required language: 0 below the
// minimum, else 0.6 at the minimum rising to 1 at native (1 when native is
// the minimum).
func needValue(rank, minRank int) float64 {
	switch {
	case rank == 0 || rank < minRank:
		return 0
	case minRank >= 4:
		return 1
	}
	return langAtMin + (1-langAtMin)*float64(rank-minRank)/float64(4-minRank)
}

// extraLanguage reports whether host language j counts for the extras
// bonus: spoken at a known level, not required, useful for the request, and
// not listed earlier.
func (s *hostScorer) extraLanguage(h *Host, j int) bool {
	l := h.Languages[j]
	if !l.Level.Valid() || s.required(l.Code) || !slices.Contains(s.useful, l.Code) {
		return false
	}
	for _, o := range h.Languages[:j] {
		if o.Code == l.Code && o.Level.Valid() {
			return false
		}
	}
	return true
}

func (s *hostScorer) language(h *Host, explain bool) (float64, string, string) {
	needs := s.r.Languages
	extras := 0
	for j := range h.Languages {
		if s.extraLanguage(h, j) {
			extras++
		}
	}
	v := langNoneRequired
	if len(needs) > 0 {
		sum := 0.0
		for _, n := range needs {
			sum += needValue(hostRank(h, n.Code), n.MinLevel.Rank())
		}
		v = sum / float64(len(needs))
	}
	v += langExtraBonus * float64(extras)
	if !explain {
		return v, "", ""
	}
	var zh, en []string
	if len(needs) == 0 {
		zh, en = append(zh, "未要求语言"), append(en, "No languages required")
	}
	for _, n := range needs {
		nameZh, nameEn := languageName(n.Code)
		rank, minRank := hostRank(h, n.Code), n.MinLevel.Rank()
		lvl := rankLevel(rank)
		switch {
		case rank == 0:
			zh = append(zh, fmt.Sprintf("不会%s（要求%s）", nameZh, levelZh(n.MinLevel)))
			en = append(en, fmt.Sprintf("No %s (needs %s)", nameEn, levelEn(n.MinLevel)))
		case rank < minRank:
			zh = append(zh, fmt.Sprintf("%s%s水平，低于要求的%s", nameZh, levelZh(lvl), levelZh(n.MinLevel)))
			en = append(en, fmt.Sprintf("%s %s, below the required %s", nameEn, levelEn(lvl), levelEn(n.MinLevel)))
		default:
			d := rank - minRank
			zh = append(zh, fmt.Sprintf("%s%s水平（要求%s），超出要求%d级", nameZh, levelZh(lvl), levelZh(n.MinLevel), d))
			en = append(en, fmt.Sprintf("%s %s (needs %s), %d level%s above", nameEn, levelEn(lvl), levelEn(n.MinLevel), d, plural(d)))
		}
	}
	if extras > 0 {
		var xz, xe []string
		for j, l := range h.Languages {
			if s.extraLanguage(h, j) {
				nameZh, nameEn := languageName(l.Code)
				lvl := rankLevel(hostRank(h, l.Code))
				xz = append(xz, fmt.Sprintf("%s（%s）", nameZh, levelZh(lvl)))
				xe = append(xe, fmt.Sprintf("%s (%s)", nameEn, levelEn(lvl)))
			}
		}
		zh = append(zh, fmt.Sprintf("另会%s，每种加%s", strings.Join(xz, "、"), num(langExtraBonus)))
		en = append(en, fmt.Sprintf("also speaks %s, +%s each", strings.Join(xe, ", "), num(langExtraBonus)))
	}
	return v, strings.Join(zh, "；"), strings.Join(en, "; ")
}

// rankLevel is the level of a rank (the empty level for 0).
func rankLevel(rank int) LanguageLevel {
	switch rank {
	case 4:
		return LevelNative
	case 3:
		return LevelFluent
	case 2:
		return LevelBusiness
	case 1:
		return LevelConversational
	}
	return ""
}

// overlap counts the items of want that are in have; it returns the count
// and, with names, those items.
func overlap(want, have []string, names bool) (int, []string) {
	n := 0
	var hit []string
	for _, w := range want {
		if slices.Contains(have, w) {
			n++
			if names {
				hit = append(hit, w)
			}
		}
	}
	return n, hit
}

func (s *hostScorer) market(h *Host, explain bool) (float64, string, string) {
	targets := s.r.TargetMarkets
	if len(targets) == 0 {
		return hostNeutral, "未指定目标市场", "No target markets given"
	}
	n, hit := overlap(targets, h.Markets, explain)
	v := float64(n) / float64(len(targets))
	if !explain {
		return v, "", ""
	}
	if n == 0 {
		return v, fmt.Sprintf("在%d个目标市场均无带货经验", len(targets)),
			fmt.Sprintf("Has not sold in any of the %d target market%s", len(targets), plural(len(targets)))
	}
	var zh, en []string
	for _, c := range hit {
		z, e := marketNames(c)
		zh, en = append(zh, z), append(en, e)
	}
	return v, fmt.Sprintf("在%d/%d个目标市场有带货经验（%s）", n, len(targets), strings.Join(zh, "、")),
		fmt.Sprintf("Has sold in %d of %d target market%s (%s)", n, len(targets), plural(len(targets)), strings.Join(en, ", "))
}

func (s *hostScorer) category(h *Host, explain bool) (float64, string, string) {
	want := s.r.Categories
	if len(want) == 0 {
		return hostNeutral, "未指定品类", "No categories given"
	}
	n, hit := overlap(want, h.Categories, explain)
	v := float64(n) / float64(len(want))
	if !explain {
		return v, "", ""
	}
	if n == 0 {
		return v, fmt.Sprintf("不擅长所需的%d个品类", len(want)),
			fmt.Sprintf("Knows none of the %d categories asked for", len(want))
	}
	var zh, en []string
	for _, code := range hit {
		z, e := code, code
		if c, ok := CategoryByCode(code); ok {
			z, e = c.NameZh, c.NameEn
		}
		zh, en = append(zh, z), append(en, e)
	}
	return v, fmt.Sprintf("擅长%d/%d个所需品类（%s）", n, len(want), strings.Join(zh, "、")),
		fmt.Sprintf("Knows %d of %d categories asked for (%s)", n, len(want), strings.Join(en, ", "))
}

func (s *hostScorer) audience(h *Host, explain bool) (float64, string, string) {
	f, a := max(0, h.Followers), max(0, h.AvgViewers)
	fv := min(1, math.Log10(1+float64(f))/followersFull)
	av := min(1, math.Log10(1+float64(a))/viewersFull)
	v := followersShare*fv + (1-followersShare)*av
	if !explain {
		return v, "", ""
	}
	return v, fmt.Sprintf("粉丝%s，场均观看%s人（对数刻度：粉丝1000万、观看10万为满分）", countZh(f), countZh(a)),
		fmt.Sprintf("%s followers, %s average viewers (log scale: 10 million followers and 100,000 viewers earn full marks)", countEn(f), countEn(a))
}

func (s *hostScorer) conversion(h *Host, explain bool) (float64, string, string) {
	r := h.ConversionRate
	v := r / conversionFull
	if !explain {
		return v, "", ""
	}
	return v, fmt.Sprintf("转化率%s%%（%s%%及以上为满分）", pct(r), pct(conversionFull)),
		fmt.Sprintf("%s%% conversion (%s%% or more earns full marks)", pct(r), pct(conversionFull))
}

func (s *hostScorer) rating(h *Host, explain bool) (float64, string, string) {
	r := h.Rating
	if !(r > 0) {
		return hostNeutral, "未评分，按中性计", "Unrated: scored neutral"
	}
	v := r / ratingFull
	if !explain {
		return v, "", ""
	}
	return v, fmt.Sprintf("评分%s/5", num(r)), fmt.Sprintf("Rated %s of 5", num(r))
}

func (s *hostScorer) bio(b float64, explain bool) (float64, string, string) {
	if s.bioMax == 0 {
		if strings.TrimSpace(s.r.Notes) != "" || len(s.r.Categories) > 0 {
			return hostNeutral, "没有主播简介提到需求说明或品类，简介按中性计", "No host's bio mentions the notes or categories: bio scored neutral"
		}
		return hostNeutral, "无需求说明，简介按中性计", "No notes: bio scored neutral"
	}
	var v float64
	switch {
	case math.IsInf(b, 1):
		v = 1
	case b > 0:
		v = min(1, b/s.bioMax)
	}
	if !explain {
		return v, "", ""
	}
	switch {
	case v == 0:
		return v, "简介与需求无文本匹配", "The bio does not match the request"
	case v >= 1:
		return v, "简介与需求最相关", "The most relevant bio"
	}
	return v, fmt.Sprintf("简介相关度为最佳匹配的%s%%", pct(v)),
		fmt.Sprintf("Bio %s%% as relevant as the best match", pct(v))
}

// offset returns the host zone's UTC offset in hours, through the cache
// when MatchHosts set one up. An empty zone is unknown (it is not UTC).
func (s *hostScorer) offset(tz string) (float64, bool) {
	if tz == "" || s.utcOffset == nil {
		return 0, false
	}
	if o, ok := s.offsets[tz]; ok {
		return o.hours, o.ok
	}
	hours, ok := s.utcOffset(tz, s.tzAt)
	ok = ok && !math.IsNaN(hours) && !math.IsInf(hours, 0)
	if s.offsets != nil {
		s.offsets[tz] = tzOffset{hours, ok}
	}
	return hours, ok
}

// hoursApart is the circular distance in hours (0..12) between two UTC offsets.
func hoursApart(a, b float64) float64 {
	d := math.Mod(math.Abs(a-b), 24)
	if d > 12 {
		d = 24 - d
	}
	return d
}

func (s *hostScorer) timezone(h *Host, explain bool) (float64, string, string) {
	if len(s.tzMarkets) == 0 {
		if len(s.r.TargetMarkets) == 0 {
			return hostNeutral, "未指定目标市场，时区按中性计", "No target markets: time zone scored neutral"
		}
		return hostNeutral, "目标市场时区未知，按中性计", "Target markets' time zones unknown: scored neutral"
	}
	off, ok := s.offset(h.Timezone)
	if !ok {
		return hostNeutral, "主播时区未知，按中性计", "Host time zone unknown: scored neutral"
	}
	sum, apart := 0.0, 0.0
	for _, m := range s.tzMarkets {
		d := hoursApart(off, m.offset)
		sum += max(0, 1-d/tzZeroHours)
		apart += d
	}
	n := float64(len(s.tzMarkets))
	v := sum / n
	if !explain {
		return v, "", ""
	}
	if len(s.tzMarkets) == 1 {
		m := s.tzMarkets[0]
		return v, fmt.Sprintf("主播时区%s，与%s黄金时段（%s）相差%s小时", utcLabel(off), m.zh, utcLabel(m.offset), num1(apart)),
			fmt.Sprintf("Host on %s, %s h from prime time in %s (%s)", utcLabel(off), num1(apart), m.en, utcLabel(m.offset))
	}
	return v, fmt.Sprintf("主播时区%s，与%d个目标市场的黄金时段平均相差%s小时", utcLabel(off), len(s.tzMarkets), num1(apart/n)),
		fmt.Sprintf("Host on %s, on average %s h from prime time in %d target markets", utcLabel(off), num1(apart/n), len(s.tzMarkets))
}

// utcLabel writes an offset in hours as UTC+8, UTC−5, UTC+5:30.
func utcLabel(hours float64) string {
	sign := "+"
	if hours < 0 {
		sign, hours = "−", -hours
	}
	mins := int(math.Round(hours * 60))
	if mins%60 == 0 {
		return "UTC" + sign + strconv.Itoa(mins/60)
	}
	return fmt.Sprintf("UTC%s%d:%02d", sign, mins/60, mins%60)
}

// countZh writes a count the Chinese way: 3000, 12万, 1.5亿.
func countZh(n int64) string {
	switch {
	case n >= 100_000_000:
		return num(float64(n)/1e8) + "亿"
	case n >= 10_000:
		return num(float64(n)/1e4) + "万"
	}
	return strconv.FormatInt(n, 10)
}

// countEn writes a count with thousands separators: 120,000.
func countEn(n int64) string {
	s := strconv.FormatInt(n, 10)
	if n < 0 || len(s) <= 3 {
		return s
	}
	var b strings.Builder
	head := len(s) % 3
	if head > 0 {
		b.WriteString(s[:head])
	}
	for i := head; i < len(s); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(s[i : i+3])
	}
	return b.String()
}
