package indexer

import (
	"context"
	"encoding/json"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/livematch/livematch/engine"
)

// Paging bounds of Search.
const (
	DefaultLimit = 20
	MaxLimit     = 100
	MaxOffset    = 10000
)

// maxClauses bounds the term clauses that glossary expansions may add to a
// query (the words typed are bounded by maxQueryRunes).
const maxClauses = 1024

// maxCertTerms bounds the distinct values of the certs field a facet
// collects: certificate types times distinct expiry instants among the hits.
const maxCertTerms = 100000

// searchBleve is Search answered by Bleve alone (its own scores): the
// tests check that it finds the same hits, totals and facets as Search.
func (x *Index) searchBleve(ctx context.Context, q engine.ProductQuery) (engine.ProductPage, error) {
	const op = "indexer.Search"
	limit, offset, err := x.searchBounds(op, q)
	if err != nil {
		return engine.ProductPage{}, err
	}
	now := x.now()
	nowMs := float64(now.UnixMilli())

	filters, none := filterQueries(q, nowMs)
	if none {
		return emptyPage(), nil
	}
	qb := x.queryBuilder()
	plan := qb.textPlan(q.Q, true)
	text, hasText := qb.planQuery(plan, true)

	var root query.Query
	switch {
	case hasText || len(filters) > 0:
		bq := query.NewBooleanQuery(nil, nil, nil)
		if hasText {
			bq.AddMust(text)
		}
		if len(filters) > 0 {
			bq.AddFilter(query.NewConjunctionQuery(filters))
		}
		root = bq
	default:
		root = bleve.NewMatchAllQuery()
	}

	req := bleve.NewSearchRequestOptions(root, limit, offset, false)
	req.Fields = []string{fSource} // the page's records, read with the hits
	if hasText {
		req.SortBy([]string{"-_score", "_id"})
	} else {
		req.SortBy([]string{"_id"})
	}
	req.AddFacet(fFacets, bleve.NewFacetRequest(fFacets, maxCertTerms+200))

	res, err := x.idx.SearchInContext(ctx, req)
	if err != nil {
		return engine.ProductPage{}, x.bleveErr(op, "search failed", err)
	}

	page := emptyPage()
	page.Total = res.Total
	facets := splitFacets(res.Facets[fFacets])
	page.Facets[engine.FacetCategory] = termCounts(facets[facetCategory])
	page.Facets[engine.FacetProvince] = termCounts(facets[facetProvince])
	page.Facets[engine.FacetPovertyRelief] = termCounts(facets[facetPoverty])
	page.Facets[engine.FacetCertification] = certCounts(facets[facetCert], nowMs)

	page.Hits = make([]engine.ProductHit, 0, len(res.Hits))
	for _, h := range res.Hits {
		p, ok := x.hitProduct(h.ID, h.Fields[fSource])
		if !ok {
			// The batch is visible in Bleve a moment before the catalogue
			// catches up; skip the hit rather than show a stale product.
			continue
		}
		score := 0.0
		if hasText {
			score = h.Score
		}
		page.Hits = append(page.Hits, engine.ProductHit{Product: p, Score: score})
	}
	x.vocab.highlightHits(newHighlighter(plan), page.Hits)
	return page, nil
}

// hitProduct decodes a hit's stored record, if the catalogue has the
// product.
func (x *Index) hitProduct(id string, src any) (*engine.Product, bool) {
	x.mu.RLock()
	_, live := x.cat.byID[id]
	x.mu.RUnlock()
	s, ok := src.(string)
	if !live || !ok {
		return nil, false
	}
	var rec record
	if err := json.Unmarshal([]byte(s), &rec); err != nil {
		x.log.Error("undecodable stored record", "id", id, "err", err)
		return nil, false
	}
	p := rec.Product.product()
	p.ID = id
	return p, true
}

// searchBounds checks that the index is open and q's price band and
// commission floor make sense, and returns its page bounds.
func (x *Index) searchBounds(op string, q engine.ProductQuery) (limit, offset int, err error) {
	if x.closed.Load() {
		return 0, 0, errClosed(op)
	}
	if err := checkQuery(q); err != nil {
		return 0, 0, err
	}
	limit, offset = pageBounds(q.Limit, q.Offset)
	return limit, offset, nil
}

// checkQuery rejects price bands and commission floors that cannot be
// meant.
func checkQuery(q engine.ProductQuery) error {
	const op = "indexer.Search"
	var pr engine.Problems
	bad := func(v *float64) bool { return v != nil && (math.IsNaN(*v) || math.IsInf(*v, 0) || *v < 0) }
	if bad(q.PriceMin) {
		pr.Add("price_min", "must be a number ≥ 0")
	}
	if bad(q.PriceMax) {
		pr.Add("price_max", "must be a number ≥ 0")
	}
	if q.PriceMin != nil && q.PriceMax != nil && !bad(q.PriceMin) && !bad(q.PriceMax) && *q.PriceMin > *q.PriceMax {
		pr.Add("price_min", "must not exceed price_max")
	}
	if c := q.CommissionMin; c != nil && !(*c >= 0 && *c <= 1) {
		pr.Add("commission_min", "must be a number from 0 to 1")
	}
	return pr.Err(op)
}

// pageBounds applies the default and the bounds of Limit and Offset.
func pageBounds(limit, offset int) (int, int) {
	switch {
	case limit <= 0:
		limit = DefaultLimit
	case limit > MaxLimit:
		limit = MaxLimit
	}
	return limit, min(max(offset, 0), MaxOffset)
}

func emptyPage() engine.ProductPage {
	return engine.ProductPage{
		Hits: []engine.ProductHit{},
		Facets: map[string][]engine.FacetCount{
			engine.FacetCategory:      {},
			engine.FacetCertification: {},
			engine.FacetProvince:      {},
			engine.FacetPovertyRelief: {},
		},
	}
}

// filterQueries turns the filters of q into exact, unscored queries. none
// reports a filter that no product can pass (an unknown certification type).
func filterQueries(q engine.ProductQuery, nowMs float64) (fs []query.Query, none bool) {
	term := func(field, value string) {
		tq := query.NewTermQuery(value)
		tq.SetField(field)
		fs = append(fs, tq)
	}
	if q.Category != "" {
		term(fCategory, q.Category)
	}
	if q.Province != "" {
		term(fProvince, q.Province)
	}
	if q.OrgID != "" {
		term(fOrg, q.OrgID)
	}
	if q.PovertyRelief != nil {
		term(fPoverty, strconv.FormatBool(*q.PovertyRelief))
	}
	if q.InStock != nil {
		term(fInStock, strconv.FormatBool(*q.InStock))
	}
	if q.OnlyVisible {
		term(fReview, string(engine.ReviewApproved))
	}
	if q.Certification != "" {
		if _, ok := engine.CertTypeByCode(q.Certification); !ok {
			return nil, true
		}
		from := nowMs + 1
		inc := true
		fs = append(fs, query.NewNumericRangeInclusiveQuery(&from, nil, &inc, nil))
		fs[len(fs)-1].(*query.NumericRangeQuery).SetField(certExpField(q.Certification))
	}
	if q.PriceMin != nil || q.PriceMax != nil {
		inc := true
		nq := query.NewNumericRangeInclusiveQuery(q.PriceMin, q.PriceMax, &inc, &inc)
		nq.SetField(fPrice)
		fs = append(fs, nq)
	}
	if q.CommissionMin != nil {
		inc := true
		nq := query.NewNumericRangeInclusiveQuery(q.CommissionMin, nil, &inc, nil)
		nq.SetField(fComm)
		fs = append(fs, nq)
	}
	return fs, false
}

// textQuery builds the query for the free text q over the product text
// fields (see queryBuilder.textQuery).
func (x *Index) textQuery(q string, all bool) (query.Query, bool) {
	return x.queryBuilder().textQuery(q, all)
}

// queryBuilder is the builder of Bleve queries over the product text fields.
func (x *Index) queryBuilder() queryBuilder {
	fields := textFields[:]
	if x.opts.allField {
		fields = []fieldBoost{{fAll, 1}}
	}
	return queryBuilder{analyzer: x.analyzer, gloss: x.gloss, fields: fields}
}

// fieldBoost is a text field and the boost a match in it earns.
type fieldBoost struct {
	name  string
	boost float64
}

// queryBuilder turns user text into Bleve queries over some text fields,
// never through Bleve's query-string syntax.
type queryBuilder struct {
	analyzer analysis.Analyzer
	gloss    Glossary
	fields   []fieldBoost
}

// textAlt is one alternative of a query term: its tokens (all of which
// must match, in one field for Bleve), the boost a match earns, and the
// tokens that highlighting marks in a hit's text (see queryBuilder.tokens).
type textAlt struct {
	tokens []string
	marks  []string
	boost  float64
}

// textPlan analyses the free text q into terms, each a list of
// alternatives (the term itself, its glossary synonyms and, when matching
// keywords, the two-character pieces of a long Chinese phrase). Bleve's
// query (textQuery) and the in-memory matcher (catalog.textScores) are both
// built from it. With all, every term must match (search); without, any
// term may (matching). The clause budget bounds tokens × fields.
func (b queryBuilder) textPlan(q string, all bool) [][]textAlt {
	if strings.TrimSpace(q) == "" {
		return nil
	}
	terms := parseTerms(normalizeQuery(q, b.gloss.Simplify), b.gloss)
	budget := maxClauses
	nf := max(len(b.fields), 1)
	var plan [][]textAlt
	for _, t := range terms {
		var alts []textAlt
		if toks, marks := b.tokens(t.text); len(toks) > 0 {
			alts = append(alts, textAlt{tokens: toks, marks: marks, boost: boostOriginal})
		}
		add := func(text string, boost float64) {
			toks, marks := b.tokens(text)
			if cost := len(toks) * nf; len(toks) > 0 && cost <= budget {
				budget -= cost
				alts = append(alts, textAlt{tokens: toks, marks: marks, boost: boost})
			}
		}
		for _, e := range t.expansions {
			add(e, boostExpansion)
		}
		if !all {
			// Keywords and notes may be whole Chinese phrases (懂茶文化):
			// any two-character piece of a longer Han run may match too,
			// below the run itself and its synonyms.
			for _, bg := range hanBigrams(t.text) {
				add(bg, boostPiece)
			}
		}
		if len(alts) > 0 {
			plan = append(plan, alts)
		}
	}
	return plan
}

// textQuery builds the Bleve query for the free text q (see textPlan); ok
// is false when q holds no word that analyses to a token. Without all,
// documents matching more terms score higher.
func (b queryBuilder) textQuery(q string, all bool) (query.Query, bool) {
	return b.planQuery(b.textPlan(q, all), all)
}

// planQuery is textQuery of a plan already made.
func (b queryBuilder) planQuery(plan [][]textAlt, all bool) (query.Query, bool) {
	var conj []query.Query
	for _, alts := range plan {
		qs := make([]query.Query, len(alts))
		for i, a := range alts {
			qs[i] = b.altQuery(a)
		}
		if len(qs) == 1 {
			conj = append(conj, qs[0])
		} else {
			conj = append(conj, query.NewDisjunctionQuery(qs))
		}
	}
	switch {
	case len(conj) == 0:
		return nil, false
	case len(conj) == 1:
		return conj[0], true
	case all:
		return query.NewConjunctionQuery(conj), true
	default:
		return query.NewDisjunctionQuery(conj), true
	}
}

// altQuery is one alternative of a term: all of its tokens in one text field.
func (b queryBuilder) altQuery(a textAlt) query.Query {
	perField := make([]query.Query, 0, len(b.fields))
	for _, f := range b.fields {
		tqs := make([]query.Query, len(a.tokens))
		for i, tok := range a.tokens {
			tq := query.NewTermQuery(tok)
			tq.SetField(f.name)
			tq.SetBoost(a.boost * f.boost)
			tqs[i] = tq
		}
		if len(tqs) == 1 {
			perField = append(perField, tqs[0])
		} else {
			perField = append(perField, query.NewConjunctionQuery(tqs))
		}
	}
	if len(perField) == 1 {
		return perField[0]
	}
	return query.NewDisjunctionQuery(perField)
}

// tokens analyses text with the text analyzer and returns its distinct
// tokens, at most maxTokens, and those of them that highlighting marks: all
// but the single Chinese characters that only occur inside a bigram of the
// same text (猕猴桃 marks 猕猴 and 猴桃, not 桃, so that 水蜜桃 in the same
// title stays unmarked; 茶 alone marks 茶).
func (b queryBuilder) tokens(text string) (toks, marks []string) {
	ts := b.analyzer.Analyze([]byte(text))
	toks = make([]string, 0, len(ts))
	seen := make(map[string]bool, len(ts))
	for i, t := range ts {
		s := string(t.Term)
		if !coveredUnigram(ts, i) && !slices.Contains(marks, s) {
			marks = append(marks, s)
		}
		if seen[s] {
			continue
		}
		seen[s] = true
		toks = append(toks, s)
		if len(toks) == maxTokens {
			break
		}
	}
	return toks, marks
}

// coveredUnigram reports whether ts[i] is a single character that the CJK
// bigram filter also put in a bigram: one that starts or ends with it,
// which the filter emits right next to it.
func coveredUnigram(ts analysis.TokenStream, i int) bool {
	t := ts[i]
	if t.Type != analysis.Single {
		return false
	}
	for j := max(i-2, 0); j <= min(i+2, len(ts)-1); j++ {
		if u := ts[j]; u.Type == analysis.Double && (u.Start == t.Start || u.End == t.End) {
			return true
		}
	}
	return false
}

// termCounts converts a terms facet to counts sorted by count, then value.
// splitFacets splits the terms of the one facet field by their prefixes
// (the prefix removed).
func splitFacets(fr *search.FacetResult) map[string][]*search.TermFacet {
	out := map[string][]*search.TermFacet{}
	if fr == nil || fr.Terms == nil {
		return out
	}
	for _, t := range fr.Terms.Terms() {
		if len(t.Term) < 2 || t.Term[1] != ':' {
			continue
		}
		prefix := t.Term[:2]
		out[prefix] = append(out[prefix], &search.TermFacet{Term: t.Term[2:], Count: t.Count})
	}
	return out
}

func termCounts(terms []*search.TermFacet) []engine.FacetCount {
	out := []engine.FacetCount{}
	for _, t := range terms {
		if t.Count > 0 && t.Term != "" {
			out = append(out, engine.FacetCount{Value: t.Term, Count: t.Count})
		}
	}
	sortCounts(out)
	return out
}

// certCounts turns the facet over certs ("type" or "type@expiry-ms") into
// counts of the certificate types in force at nowMs.
func certCounts(terms []*search.TermFacet, nowMs float64) []engine.FacetCount {
	out := []engine.FacetCount{}
	counts := map[string]int{}
	for _, t := range terms {
		typ, exp, finite := strings.Cut(t.Term, "@")
		if finite {
			ms, err := strconv.ParseInt(exp, 10, 64)
			if err != nil || float64(ms) <= nowMs {
				continue
			}
		}
		counts[typ] += t.Count
	}
	for typ, n := range counts {
		if n > 0 {
			out = append(out, engine.FacetCount{Value: typ, Count: n})
		}
	}
	sortCounts(out)
	return out
}

func sortCounts(cs []engine.FacetCount) {
	sort.Slice(cs, func(i, j int) bool {
		if cs[i].Count != cs[j].Count {
			return cs[i].Count > cs[j].Count
		}
		return cs[i].Value < cs[j].Value
	})
}

// hanBigrams returns the distinct two-character pieces of a term made only
// of Han characters and longer than two, at most maxTerms of them.
func hanBigrams(text string) []string {
	rs := []rune(text)
	if len(rs) <= 2 {
		return nil
	}
	for _, r := range rs {
		if !isHan(r) {
			return nil
		}
	}
	var out []string
	seen := map[string]bool{}
	for i := 0; i+1 < len(rs) && len(out) < maxTerms; i++ {
		if bg := string(rs[i : i+2]); !seen[bg] {
			seen[bg] = true
			out = append(out, bg)
		}
	}
	return out
}
