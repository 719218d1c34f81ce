package indexer

import (
	"testing"

	"github.com/livematch/livematch/engine"
	"github.com/livematch/livematch/fixtures"
)

func TestZZMeasureDesc(t *testing.T) {
	regions, _ := fixtures.LoadRegions(nil)
	cat := fixtures.Generate(7, 200, 50000, regions)
	x := mustOpen(t, testConfig(t, ""), defaultOptions())
	a := x.vocab.analyzer
	tot, totT := 0, 0
	distinct := map[string]int{}
	for _, cp := range cat.Products {
		p := cp.Product
		seen := map[string]bool{}
		for _, s := range []string{p.DescriptionZh, p.DescriptionEn} {
			for _, tk := range a.Analyze([]byte(s)) {
				seen[string(tk.Term)] = true
			}
		}
		tot += len(seen)
		for k := range seen {
			distinct[k]++
		}
		d := x.vocab.analyse(&engine.Product{TitleZh: p.TitleZh, TitleEn: p.TitleEn, Tags: p.Tags})
		totT += len(d.tokens)
	}
	big := 0
	for _, c := range distinct {
		if c > 50000/16 {
			big++
		}
	}
	t.Logf("desc tokens/product %.1f, title+tag tokens/product %.1f, distinct desc %d, dense(>1/16) %d", float64(tot)/50000, float64(totT)/50000, len(distinct), big)
}
