package indexer

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/livematch/livematch/engine"
	"github.com/livematch/livematch/fixtures"
)

// BenchmarkMatchPath measures a demand profile's whole match path on a
// generated catalogue: candidate retrieval from Bleve with the pushed-down
// gates and exclusion counts, then the engine's gates, ten factors,
// explanations and fair re-ranking of the top 20.
//
//	go test ./indexer -run '^$' -bench MatchPath -benchtime 100x
func BenchmarkMatchPath(b *testing.B) {
	regions, err := fixtures.LoadRegions(nil)
	if err != nil {
		b.Fatal(err)
	}
	gloss, err := fixtures.LoadGlossary()
	if err != nil {
		b.Fatal(err)
	}
	now := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	profiles := []*engine.DemandProfile{
		{Name: "kiwi", Keywords: "猕猴桃 kiwi", Categories: []string{"fresh_fruit"}, MinStock: 100, ExpectedUnits: 2000,
			AudienceRegions: []string{"310000"}, PovertyReliefMinShare: 0.3, StreamDate: now.AddDate(0, 0, 20)},
		{Name: "tea", Keywords: "茶 礼盒", PriceMax: ptr(300.0), MinCommissionRate: 0.1, PreferredCerts: []string{"organic"}},
		{Name: "no keywords", Categories: []string{"fresh_fruit", "dried_goods"}, PovertyReliefMinShare: 0.5},
	}
	for _, p := range profiles {
		if err := engine.PrepareProfile(p, regions, now); err != nil {
			b.Fatal(err)
		}
	}
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("products=%d", n), func(b *testing.B) {
			cat := fixtures.Generate(42, max(20, n/500), n, regions)
			orgs := make(map[string]*engine.Org, len(cat.Orgs))
			for i := range cat.Orgs {
				o := &cat.Orgs[i]
				o.ID = fmt.Sprintf("org_%04d", i)
				o.Status = engine.OrgApproved
				orgs[o.ID] = o
			}
			x, err := Open(Config{Path: b.TempDir() + "/index", Glossary: gloss, Now: func() time.Time { return now }})
			if err != nil {
				b.Fatal(err)
			}
			defer x.Close()
			batch := make([]Change, 0, 1000)
			for i := range cat.Products {
				p := cat.Products[i].Product
				p.OrgID = cat.Orgs[cat.Products[i].OrgIndex].ID
				p.ID = fmt.Sprintf("prd_%07d", i)
				p.ReviewStatus = engine.ReviewApproved
				batch = append(batch, Change{Seq: int64(i + 1), ID: p.ID, Product: &p})
				if len(batch) == cap(batch) || i == len(cat.Products)-1 {
					if err := x.Apply(context.Background(), batch, int64(i+1)); err != nil {
						b.Fatal(err)
					}
					batch = batch[:0]
				}
			}
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				p := profiles[i%len(profiles)]
				res, err := x.MatchCandidates(ctx, MatchQuery{Keywords: p.Keywords, Categories: p.Categories, PriceMin: p.PriceMin,
					PriceMax: p.PriceMax, MinCommission: p.MinCommissionRate, MinStock: p.MinStock, RequiredCerts: p.RequiredCerts, CertsAt: now})
				if err != nil {
					b.Fatal(err)
				}
				cands := make([]engine.Candidate, len(res.Hits))
				for j, h := range res.Hits {
					cands[j] = engine.Candidate{Product: h.Product, Supplier: orgs[h.Product.OrgID], Text: h.Text}
				}
				m := engine.Match(p, cands, engine.MatchParams{Now: now, Regions: regions, Geo: regions, TextMax: res.TextMax})
				if len(m.Items) == 0 {
					b.Fatalf("profile %s matched nothing", p.Name)
				}
			}
		})
	}
}
