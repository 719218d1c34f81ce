package indexer

import (
	"container/heap"
	"context"
	"math/bits"

	"github.com/livematch/livematch/engine"
)

// Search runs a product search from the in-memory catalogue: free text (see
// the package doc; every term must match, in titles, tags or descriptions)
// conjoined with the filters of q, facets over all hits, and one page of
// hits whose full records are read from Bleve's stored fields. With text,
// hits are sorted by score (highest first), then id; without, by id. Limit
// defaults to DefaultLimit and is clamped to 1..MaxLimit, Offset to
// 0..MaxOffset. A query whose words are all stop words or punctuation
// behaves as one without text.
//
// The score is BM25 over titles and tags (as matching scores keywords), or
// a lower score for a term found only in a description. With text, the
// page's hits carry their highlights (see engine.ProductHit.Highlights):
// the analysed terms the search looked up, glossary expansions included,
// marked in the fields that hold them.
//
// Search returns an error of KindInvalid for a bad price band (negative, not
// a number, or min above max) or commission floor (not in 0..1) and of
// KindUnavailable if the index is closed or ctx ends first.
func (x *Index) Search(ctx context.Context, q engine.ProductQuery) (engine.ProductPage, error) {
	const op = "indexer.Search"
	limit, offset, err := x.searchBounds(op, q)
	if err != nil {
		return engine.ProductPage{}, err
	}
	now := x.now().UnixNano()
	plan := queryBuilder{analyzer: x.analyzer, gloss: x.gloss, fields: textFields[:]}.textPlan(q.Q, true)

	ts := x.scorers.Get().(*textScorer)
	defer x.scorers.Put(ts)

	x.mu.RLock()
	c := &x.cat
	f, ok := x.searchFilter(c, q, now)
	if !ok {
		x.mu.RUnlock()
		return emptyPage(), nil
	}
	fc := newFacetCounter(c, x.vocab)
	top := &hitHeap{c: c, text: len(plan) > 0}
	k := offset + limit
	total := 0
	consider := func(d uint32, s float32) {
		if !f.pass(c, d) {
			return
		}
		total++
		fc.add(c, d, now)
		h := scoredDoc{d: d, s: s}
		switch {
		case len(top.h) < k:
			heap.Push(top, h)
		case top.better(h, top.h[0]):
			top.h[0] = h
			heap.Fix(top, 0)
		}
	}
	if len(plan) > 0 {
		c.score(ts, plan, true)
		want := uint8(min(len(plan), 255))
		for i, d := range ts.touched {
			if i&4095 == 0 && ctx.Err() != nil {
				err = ctxErr(op, ctx.Err())
				break
			}
			if ts.hits[d] >= want {
				consider(d, ts.acc[d])
			}
		}
		ts.reset()
	} else {
		for d := range c.ids {
			if d&4095 == 0 && ctx.Err() != nil {
				err = ctxErr(op, ctx.Err())
				break
			}
			if c.isLive(uint32(d)) {
				consider(uint32(d), 0)
			}
		}
	}
	// The page: the heap's best k, best first, from offset on.
	ranked := make([]scoredDoc, len(top.h))
	for i := len(ranked) - 1; i >= 0; i-- {
		ranked[i] = heap.Pop(top).(scoredDoc)
	}
	ids := make([]string, 0, max(len(ranked)-offset, 0))
	scores := make([]float64, 0, cap(ids))
	for _, h := range ranked[min(offset, len(ranked)):] {
		ids = append(ids, c.ids[h.d])
		scores = append(scores, float64(h.s))
	}
	page := emptyPage()
	fc.fill(c, x.vocab, &page)
	x.mu.RUnlock()
	if err != nil {
		return engine.ProductPage{}, err
	}

	page.Total = uint64(total)
	page.Hits = make([]engine.ProductHit, 0, len(ids))
	for i, p := range x.Products(ids) {
		if p == nil {
			// Deleted from Bleve a moment before the catalogue catches up.
			continue
		}
		page.Hits = append(page.Hits, engine.ProductHit{Product: p, Score: scores[i]})
	}
	x.vocab.highlightHits(newHighlighter(plan), page.Hits)
	return page, nil
}

// searchFilter is a ProductQuery's filters compiled against the catalogue.
type searchFilter struct {
	cat, cert    int64 // -1: any
	prov, org    int64
	poverty      int8 // -1: any; 0: false; 1: true
	inStock      int8
	approved     bool
	lo, hi       float64
	hasLo, hasHi bool
	comm         float64 // commission floor, when hasComm
	hasComm      bool
	at           int64
}

// searchFilter compiles q's filters; ok is false when no product can pass
// (an unknown category, province, org or certification type). The caller
// holds x.mu.
func (x *Index) searchFilter(c *catalog, q engine.ProductQuery, now int64) (searchFilter, bool) {
	f := searchFilter{approved: q.OnlyVisible, at: now}
	var ok [4]bool
	f.cat, ok[0] = lookup(x.vocab.catIdx, q.Category)
	f.cert, ok[1] = lookup(x.vocab.certIdx, q.Certification)
	f.prov, ok[2] = lookup(c.places.byStr, q.Province)
	f.org, ok[3] = lookup(c.orgs.byStr, q.OrgID)
	if ok != [4]bool{true, true, true, true} {
		return f, false
	}
	tri := func(b *bool) int8 {
		switch {
		case b == nil:
			return -1
		case *b:
			return 1
		}
		return 0
	}
	f.poverty, f.inStock = tri(q.PovertyRelief), tri(q.InStock)
	if q.PriceMin != nil {
		f.lo, f.hasLo = *q.PriceMin, true
	}
	if q.PriceMax != nil {
		f.hi, f.hasHi = *q.PriceMax, true
	}
	if q.CommissionMin != nil {
		f.comm, f.hasComm = *q.CommissionMin, true
	}
	return f, true
}

// lookup returns key's number in m, or -1 for an empty key (any value); ok
// is false for a key m does not hold.
func lookup[T uint8 | uint32](m map[string]T, key string) (n int64, ok bool) {
	if key == "" {
		return -1, true
	}
	i, ok := m[key]
	return int64(i), ok
}

// pass reports whether docnum d passes the filters.
func (f *searchFilter) pass(c *catalog, d uint32) bool {
	r := &c.rows[d]
	switch {
	case f.approved && !r.Approved,
		f.cat >= 0 && int64(r.Cat) != f.cat,
		f.prov >= 0 && int64(r.Prov) != f.prov,
		f.org >= 0 && int64(r.Org) != f.org,
		f.poverty >= 0 && r.Poverty != (f.poverty == 1),
		f.inStock >= 0 && (r.Stock > 0) != (f.inStock == 1),
		f.hasComm && !(r.Commission >= f.comm):
		return false
	}
	if f.hasLo || f.hasHi {
		price := r.Price
		if r.Live > 0 {
			price = r.Live
		}
		if f.hasLo && !(price >= f.lo) || f.hasHi && !(price <= f.hi) {
			return false
		}
	}
	return f.cert < 0 || c.hasCert(r, uint8(f.cert), f.at)
}

// facetCounter counts the facets of the hits by column value.
type facetCounter struct {
	cats    []int // by category index
	provs   []int // by place id
	poverty [2]int
	certs   []int // by certificate type index
}

func newFacetCounter(c *catalog, v *vocab) *facetCounter {
	return &facetCounter{cats: make([]int, len(v.cats)), provs: make([]int, len(c.places.strs)), certs: make([]int, len(v.certs))}
}

// add counts docnum d: its certificates in force at now count once per type.
func (fc *facetCounter) add(c *catalog, d uint32, now int64) {
	r := &c.rows[d]
	if r.Cat != noCategory {
		fc.cats[r.Cat]++
	}
	fc.provs[r.Prov]++
	if r.Poverty {
		fc.poverty[1]++
	} else {
		fc.poverty[0]++
	}
	if r.CertN == 0 {
		return
	}
	if r.allInForce(now) {
		for m := r.CertTypes; m != 0; m &= m - 1 {
			fc.certs[bits.TrailingZeros16(m)]++
		}
		return
	}
	var seen uint64
	for _, ct := range c.certs[r.CertOff : r.CertOff+uint32(r.CertN)] {
		if bit := uint64(1) << (ct.Typ & 63); seen&bit == 0 && (ct.Exp == 0 || ct.Exp > now) {
			seen |= bit
			fc.certs[ct.Typ]++
		}
	}
}

// fill writes the counts to page's facets, sorted by count, then value.
func (fc *facetCounter) fill(c *catalog, v *vocab, page *engine.ProductPage) {
	list := func(n int, value func(i int) string, count func(i int) int) []engine.FacetCount {
		out := []engine.FacetCount{}
		for i := range n {
			if k := count(i); k > 0 {
				if s := value(i); s != "" {
					out = append(out, engine.FacetCount{Value: s, Count: k})
				}
			}
		}
		sortCounts(out)
		return out
	}
	page.Facets[engine.FacetCategory] = list(len(fc.cats), func(i int) string { return v.cats[i] }, func(i int) int { return fc.cats[i] })
	page.Facets[engine.FacetProvince] = list(len(fc.provs), func(i int) string { return c.places.strs[i] }, func(i int) int { return fc.provs[i] })
	page.Facets[engine.FacetPovertyRelief] = list(2, func(i int) string { return [2]string{"false", "true"}[i] }, func(i int) int { return fc.poverty[i] })
	page.Facets[engine.FacetCertification] = list(len(fc.certs), func(i int) string { return v.certs[i] }, func(i int) int { return fc.certs[i] })
}

// scoredDoc is a hit: docnum and score.
type scoredDoc struct {
	d uint32
	s float32
}

// hitHeap keeps the best hits with the worst on top: by score (text) then
// id, or by id alone.
type hitHeap struct {
	c    *catalog
	text bool
	h    []scoredDoc
}

// better reports whether a ranks before b.
func (hh *hitHeap) better(a, b scoredDoc) bool {
	if hh.text && a.s != b.s {
		return a.s > b.s
	}
	return hh.c.ids[a.d] < hh.c.ids[b.d]
}

func (hh *hitHeap) Len() int           { return len(hh.h) }
func (hh *hitHeap) Less(i, j int) bool { return hh.better(hh.h[j], hh.h[i]) }
func (hh *hitHeap) Swap(i, j int)      { hh.h[i], hh.h[j] = hh.h[j], hh.h[i] }
func (hh *hitHeap) Push(v any)         { hh.h = append(hh.h, v.(scoredDoc)) }
func (hh *hitHeap) Pop() any {
	v := hh.h[len(hh.h)-1]
	hh.h = hh.h[:len(hh.h)-1]
	return v
}
