package indexer

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/livematch/livematch/engine"
)

// Search answers from the in-memory catalogue; Bleve's own search over the
// same index is the reference. Both must find the same products (an
// alternative's tokens may match across titles and tags in the catalogue
// but must match within one field in Bleve, which the generated texts
// never tell apart), count the same total and the same facets, and, without
// text, return the same pages; a product on both pages must carry the same
// highlights, which with text are never empty and are what highlighting
// every field without the cheap test of highlighter.mayHold gives. Churn
// before the queries (stock and certificate updates in place, retitled and
// re-described products, deletes, a compaction) must leave no trace.
func TestSearchAgreesWithBleve(t *testing.T) {
	ps, _ := catalogueFixture(t, 1500)
	x := mustOpen(t, testConfig(t, ""), defaultOptions())
	apply(t, x, 0, changesFor(ps)...)
	rng := rand.New(rand.NewPCG(5, 6))
	seq := int64(len(ps))
	live := map[string]*engine.Product{}
	for _, p := range ps {
		live[p.ID] = p
	}
	for i := range 900 {
		p := cloneProduct(ps[rng.IntN(len(ps))])
		if live[p.ID] == nil {
			continue
		}
		seq++
		switch i % 4 {
		case 0:
			p.Stock = int64(rng.IntN(3)) * int64(rng.IntN(500))
			p.Booked = int64(rng.IntN(2)) * p.Stock // fully reserved: out of stock for in_stock
			p.Certifications = p.Certifications[:min(len(p.Certifications), rng.IntN(3))]
		case 1:
			p.TitleZh += " 新款"
		case 2:
			p.DescriptionZh += "附赠有机茶包。"
		case 3:
			apply(t, x, 0, Change{Seq: seq, ID: p.ID, Deleted: true})
			delete(live, p.ID)
			continue
		}
		live[p.ID] = p
		apply(t, x, 0, Change{Seq: seq, ID: p.ID, Product: p})
	}
	x.mu.Lock()
	x.cat.compact()
	x.mu.Unlock()

	texts := []string{"", "茶", "有机", "茶包", "苹果", "kiwi", "orange 脐橙", "合作社", "进口", "customs",
		"大米 东北", "新款", "green", "蜂蜜", "牛奶", "的", "猕猴桃"}
	yes, no := true, false
	filters := []struct {
		name string
		q    engine.ProductQuery
	}{
		{"none", engine.ProductQuery{}},
		{"category", engine.ProductQuery{Category: ps[0].Category}},
		{"certification", engine.ProductQuery{Certification: "green_food"}},
		{"poverty relief", engine.ProductQuery{PovertyRelief: &yes}},
		{"not poverty relief, in stock", engine.ProductQuery{PovertyRelief: &no, InStock: &yes}},
		{"out of stock", engine.ProductQuery{InStock: &no}},
		{"province", engine.ProductQuery{Province: ps[1].ProvinceCode}},
		{"org, visible", engine.ProductQuery{OrgID: ps[2].OrgID, OnlyVisible: true}},
		{"price band", engine.ProductQuery{PriceMin: ptr(20.0), PriceMax: ptr(80.0)}},
		{"commission floor", engine.ProductQuery{CommissionMin: ptr(0.15)}},
		{"commission floor 0, in stock", engine.ProductQuery{CommissionMin: ptr(0.0), InStock: &yes}},
		{"unknown province", engine.ProductQuery{Province: "999999"}},
	}
	ctx := context.Background()
	compared, nonEmpty := 0, 0
	for _, text := range texts {
		for _, f := range filters {
			q := f.q
			q.Q, q.Limit = text, MaxLimit
			t.Run(fmt.Sprintf("%q/%s", text, f.name), func(t *testing.T) {
				got, err := x.Search(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				want, err := x.searchBleve(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				compared++
				if got.Total > 0 {
					nonEmpty++
				}
				if got.Total != want.Total {
					t.Errorf("total %d, Bleve %d", got.Total, want.Total)
				}
				if g, w := fmt.Sprint(got.Facets), fmt.Sprint(want.Facets); g != w {
					t.Errorf("facets\n%s\nBleve\n%s", g, w)
				}
				gi, wi := hitIDs(got), hitIDs(want)
				if text == "" {
					if !slices.Equal(gi, wi) {
						t.Errorf("page %v, Bleve %v", gi, wi)
					}
				} else if got.Total <= MaxLimit {
					slices.Sort(gi)
					slices.Sort(wi)
					if !slices.Equal(gi, wi) {
						t.Errorf("hits %v, Bleve %v", gi, wi)
					}
				}
				for _, h := range got.Hits {
					if p := live[h.Product.ID]; p == nil || p.TitleZh != h.Product.TitleZh || p.Stock != h.Product.Stock {
						t.Errorf("hit %s is not the live product", h.Product.ID)
					}
					if q.CommissionMin != nil && !(h.Product.CommissionRate >= *q.CommissionMin) {
						t.Errorf("hit %s: commission %g below the floor %g", h.Product.ID, h.Product.CommissionRate, *q.CommissionMin)
					}
				}
				checkHighlights(t, x, q.Q, got, want)
			})
		}
	}
	if nonEmpty < compared/2 {
		t.Errorf("only %d of %d queries found anything: the comparison proves little", nonEmpty, compared)
	}
}

// checkHighlights checks the highlights of two pages of the same query
// text: equal for a product on both, none without text, some on every hit
// with text, and those of highlighting every field.
func checkHighlights(t *testing.T, x *Index, text string, got, want engine.ProductPage) {
	t.Helper()
	h := newHighlighter(x.queryBuilder().textPlan(text, true))
	var all *highlighter
	if h != nil {
		c := *h
		c.always = true
		all = &c
	}
	ref := map[string]map[string]string{}
	for _, hit := range want.Hits {
		ref[hit.Product.ID] = hit.Highlights
	}
	for _, hit := range got.Hits {
		id := hit.Product.ID
		if w, ok := ref[id]; ok && !maps.Equal(hit.Highlights, w) {
			t.Errorf("%s: highlights %q, Bleve's search %q", id, hit.Highlights, w)
		}
		switch {
		case h == nil && hit.Highlights != nil:
			t.Errorf("%s: highlights %q without text", id, hit.Highlights)
		case h != nil && len(hit.Highlights) == 0:
			t.Errorf("%s: no highlights for %q", id, text)
		case h != nil && !maps.Equal(hit.Highlights, x.vocab.highlight(all, hit.Product)):
			t.Errorf("%s: highlights %q, every field analysed %q", id, hit.Highlights, x.vocab.highlight(all, hit.Product))
		}
	}
}
