package engine

import (
	"fmt"
	"testing"
)

// BenchmarkMatch matches a profile with keywords, categories, a price band,
// audience regions, a stream date and a 30% fair share against synthetic
// candidates (about half pass the gates), returning the top 20.
func BenchmarkMatch(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			p := matchProfile(b, 0.3)
			cands := synthCandidates(n, 1)
			params := MatchParams{Now: matchNow, Regions: matchRegions, Geo: geo, Limit: 20}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				res := Match(&p, cands, params)
				if len(res.Items) != 20 {
					b.Fatalf("%d items", len(res.Items))
				}
			}
		})
	}
}

// BenchmarkScore explains one candidate, as the buyers endpoint does per profile.
func BenchmarkScore(b *testing.B) {
	p := factorProfile(b)
	c := gnOrange()
	params := testParams()
	b.ReportAllocs()
	for b.Loop() {
		Score(&p, c, params)
	}
}
