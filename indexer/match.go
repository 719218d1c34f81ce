package indexer

import (
	"context"
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
	Limit         int       // at most this many candidates; ≤0: DefaultCandidates
	// SkipCounts leaves Excluded empty (saves the count queries).
	SkipCounts bool
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

// MatchCandidates retrieves the candidates of a demand profile, best text
// relevance first (then id), and counts the products each pushed-down gate
// excluded. It returns KindUnavailable if the index is closed.
func (x *Index) MatchCandidates(ctx context.Context, q MatchQuery) (Candidates, error) {
	const op = "indexer.MatchCandidates"
	if x.closed.Load() {
		return Candidates{}, errClosed(op)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultCandidates
	}
	pl, err := x.plan(op, q)
	if err != nil {
		return Candidates{}, err
	}
	hasText, gates, build := pl.hasText, pl.gates, pl.build
	count := func(n int) (uint64, error) {
		res, err := x.idx.SearchInContext(ctx, bleve.NewSearchRequestOptions(build(n), 0, 0, false))
		if err != nil {
			return 0, x.bleveErr(op, "count failed", err)
		}
		return res.Total, nil
	}

	out := Candidates{Excluded: map[string]int{}}
	req := bleve.NewSearchRequestOptions(build(len(gates)), limit, 0, false)
	if hasText {
		req.SortBy([]string{"-_score", "_id"})
	} else {
		req.SortBy([]string{"_id"})
	}
	res, err := x.idx.SearchInContext(ctx, req)
	if err != nil {
		return Candidates{}, x.bleveErr(op, "search failed", err)
	}
	out.Total = res.Total
	// Exclusion counts: c(i) = matches of base and the first i gates; gate i
	// excluded c(i-1) − c(i). The last count is the main query's total.
	var prev uint64
	if !q.SkipCounts {
		if prev, err = count(0); err != nil {
			return Candidates{}, err
		}
	}
	for i, g := range gates {
		if q.SkipCounts {
			break
		}
		cur := res.Total
		if i < len(gates)-1 {
			if cur, err = count(i + 1); err != nil {
				return Candidates{}, err
			}
		}
		if prev > cur {
			out.Excluded[g.reason] = int(prev - cur)
		}
		prev = cur
	}

	if hasText && len(res.Hits) > 0 {
		out.TextMax = res.Hits[0].Score
	}
	out.Hits = make([]Candidate, 0, len(res.Hits))
	x.mu.RLock()
	for _, h := range res.Hits {
		e, ok := x.products[h.ID]
		if !ok {
			continue
		}
		c := Candidate{Product: e.p}
		if hasText {
			c.Text = h.Score
		}
		out.Hits = append(out.Hits, c)
	}
	x.mu.RUnlock()
	return out, nil
}

// TextScore returns the raw text relevance of one product for keywords, as
// MatchCandidates would compute it, and whether the product matches them at
// all. Without keywords every product matches with relevance 0.
func (x *Index) TextScore(ctx context.Context, keywords, id string) (float64, bool, error) {
	const op = "indexer.TextScore"
	if x.closed.Load() {
		return 0, false, errClosed(op)
	}
	text, hasText := x.textQuery(keywords, false)
	if !hasText {
		return 0, true, nil
	}
	bq := query.NewBooleanQuery(nil, nil, nil)
	bq.AddMust(text)
	bq.AddFilter(query.NewDocIDQuery([]string{id}))
	res, err := x.idx.SearchInContext(ctx, bleve.NewSearchRequestOptions(bq, 1, 0, false))
	if err != nil {
		return 0, false, x.bleveErr(op, "search failed", err)
	}
	if len(res.Hits) == 0 {
		return 0, false, nil
	}
	return res.Hits[0].Score, true, nil
}

// Products calls fn for every product in the catalogue (in no order) while
// holding the catalogue's read lock; fn must not call back into the index.
func (x *Index) Products(fn func(p *engine.Product) bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	for _, e := range x.products {
		if e.p != nil && !fn(e.p) {
			return
		}
	}
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
