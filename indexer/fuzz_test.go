package indexer

import (
	"context"
	"math"
	"testing"

	"github.com/livematch/livematch/engine"
)

// FuzzSearchQuery throws arbitrary text and filter values at Search over the
// fixed product set: it must never panic, never fail with anything but
// KindInvalid, and always return a well-formed page.
func FuzzSearchQuery(f *testing.F) {
	for _, c := range loadCases(f) {
		q := c.Query
		var pmin, pmax float64 = -1, -1
		if q.PriceMin != nil {
			pmin = *q.PriceMin
		}
		if q.PriceMax != nil {
			pmax = *q.PriceMax
		}
		f.Add(q.Q, q.Category, q.Certification, q.Province, q.OrgID, pmin, pmax, q.Limit, q.Offset, uint8(0))
	}
	f.Add("kiwi 猕猴桃 \x00\xff\xfe \"quoted\" +must -not title_zh:茶 *wild? ~2 (a OR b)", "tea\x00", "organic*", "6100", "o1", math.NaN(), math.Inf(1), -1, -1, uint8(0xff))
	f.Add("", "", "../..", "", "", 0.0, 0.0, 1<<30, 1<<30, uint8(0x15))

	x := mustOpenFixture(f, defaultOptions())
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, q, category, cert, province, org string, pmin, pmax float64, limit, offset int, flags uint8) {
		pq := engine.ProductQuery{
			Q: q, Category: category, Certification: cert, Province: province, OrgID: org,
			OnlyVisible: flags&1 != 0, Limit: limit, Offset: offset,
		}
		if pmin >= 0 || math.IsNaN(pmin) {
			pq.PriceMin = &pmin
		}
		if pmax >= 0 || math.IsNaN(pmax) {
			pq.PriceMax = &pmax
		}
		if flags&2 != 0 {
			pq.PovertyRelief = ptr(flags&4 != 0)
		}
		if flags&8 != 0 {
			pq.InStock = ptr(flags&16 != 0)
		}
		page, err := x.Search(ctx, pq)
		if err != nil {
			if !engine.IsKind(err, engine.KindInvalid) {
				t.Fatalf("%+v: error of kind %v: %v", pq, engine.KindOf(err), err)
			}
			return
		}
		if len(page.Hits) > MaxLimit || uint64(len(page.Hits)) > page.Total {
			t.Fatalf("%d hits of %d", len(page.Hits), page.Total)
		}
		if len(page.Facets) != 4 {
			t.Fatalf("facets %v", page.Facets)
		}
		for _, h := range page.Hits {
			if h.Product == nil {
				t.Fatal("hit without product")
			}
		}
	})
}
