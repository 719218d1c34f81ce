package indexer

import (
	"context"
	"slices"
	"testing"

	"github.com/livematch/livematch/engine"
)

func TestMatchCandidates(t *testing.T) {
	ctx := context.Background()
	x := mustOpenFixture(t, defaultOptions())
	total, _ := x.DocCount()
	cases := []struct {
		name string
		q    MatchQuery
	}{
		{"keywords only", MatchQuery{Keywords: "猕猴桃 orange"}},
		{"keywords and gates", MatchQuery{Keywords: "茶 kiwi", MinStock: 10, PriceMax: ptr(200.0)}},
		{"no keywords", MatchQuery{Categories: []string{"fresh_fruit"}}},
		{"certificates", MatchQuery{Keywords: "tea", RequiredCerts: []string{"organic"}, CertsAt: fixedNow()}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := x.MatchCandidates(ctx, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Hits) == 0 || uint64(len(res.Hits)) != res.Total {
				t.Fatalf("%d hits, total %d", len(res.Hits), res.Total)
			}
			excluded := 0
			for _, n := range res.Excluded {
				excluded += n
			}
			for i, h := range res.Hits {
				p := h.Product
				// Every pushed-down gate holds for every hit.
				if p.ReviewStatus != engine.ReviewApproved || p.Stock < max(tc.q.MinStock, 1) || p.CommissionRate < tc.q.MinCommission ||
					(tc.q.PriceMax != nil && p.EffectivePrice() > *tc.q.PriceMax) {
					t.Errorf("hit %s fails a gate: %+v", p.ID, p)
				}
				for _, c := range tc.q.RequiredCerts {
					if !slices.Contains(p.ValidCerts(tc.q.CertsAt), c) {
						t.Errorf("hit %s lacks %s", p.ID, c)
					}
				}
				// The text relevance of one product equals its relevance as
				// a candidate (buyers and matches score alike), and hits are
				// sorted by it.
				score, matched, err := x.TextScore(ctx, tc.q.Keywords, p.ID)
				if err != nil || !matched || score != h.Text {
					t.Errorf("%s: TextScore %v (%v, %v), candidate %v", p.ID, score, matched, err, h.Text)
				}
				if i > 0 && h.Text > res.Hits[i-1].Text {
					t.Errorf("not sorted by relevance at %d", i)
				}
			}
			if tc.q.Keywords != "" && res.TextMax != res.Hits[0].Text {
				t.Errorf("TextMax %v, best %v", res.TextMax, res.Hits[0].Text)
			}
			if uint64(excluded)+res.Total > total {
				t.Errorf("excluded %d + total %d exceed %d documents", excluded, res.Total, total)
			}
		})
	}
	// Gates count what they exclude, each product under its first failing
	// gate: the fixture sets no commission, so a floor excludes every
	// approved, in-stock kiwi.
	res, err := x.MatchCandidates(ctx, MatchQuery{Keywords: "猕猴桃", MinCommission: 0.05})
	if err != nil || res.Total != 0 || res.Excluded[engine.ExcludedCommission] != 2 || res.Excluded[engine.ExcludedNotApproved] != 2 {
		t.Fatalf("commission floor: %+v %v", res, err)
	}
	// A product that does not match the keywords is not matched by TextScore.
	if _, matched, err := x.TextScore(ctx, "拖拉机", loadProducts(t)[0].ID); err != nil || matched {
		t.Errorf("unrelated keywords matched: %v", err)
	}
	// Limit.
	res, err = x.MatchCandidates(ctx, MatchQuery{Keywords: "猕猴桃", Limit: 1})
	if err != nil || len(res.Hits) != 1 || res.Total < 2 || res.Hits[0].Text != res.TextMax {
		t.Fatalf("limit 1: %+v %v", res, err)
	}
}
