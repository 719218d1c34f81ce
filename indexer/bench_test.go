package indexer

import (
	"context"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/livematch/livematch/engine"
)

// benchQueries are the searches timed by BenchmarkSearch and the chain
// comparison.
var benchQueries = []engine.ProductQuery{
	{Q: "茶"},
	{Q: "猕猴桃"},
	{Q: "kiwi"},
	{Q: "农业"},
	{Q: "navel orange"},
	{Q: "walnut"},
	{Q: "有机 脐橙"},
	{Q: "茶", Category: "tea", Certification: "organic", PriceMax: ptr(200.0), InStock: ptr(true)},
	{Category: "fresh_fruit", PovertyRelief: ptr(true)},
	{},
}

func queryName(q engine.ProductQuery) string {
	var parts []string
	if q.Q != "" {
		parts = append(parts, "q="+strings.ReplaceAll(q.Q, " ", "_"))
	}
	if q.Category != "" {
		parts = append(parts, "filters")
	}
	if len(parts) == 0 {
		return "match_all"
	}
	return strings.Join(parts, ",")
}

// buildCorpus indexes ps in batches of 1000 and returns the index and the
// time indexing took.
func buildCorpus(tb testing.TB, path string, o options, ps []*engine.Product) (*Index, time.Duration) {
	tb.Helper()
	x, err := open(testConfig(tb, path), o)
	if err != nil {
		tb.Fatal(err)
	}
	cs := changesFor(ps)
	start := time.Now()
	for i := 0; i < len(cs); i += 1000 {
		end := min(i+1000, len(cs))
		if err := x.Apply(context.Background(), cs[i:end], int64(end)); err != nil {
			tb.Fatal(err)
		}
	}
	return x, time.Since(start)
}

func dirSize(tb testing.TB, dir string) int64 {
	tb.Helper()
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			info, err := d.Info()
			if err != nil {
				return err
			}
			n += info.Size()
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

// BenchmarkApply indexes batches of 1000 new products into an on-disk index.
func BenchmarkApply(b *testing.B) {
	ps := genProducts(1000 * 20)
	x := mustOpen(b, testConfig(b, filepath.Join(b.TempDir(), "idx")), defaultOptions())
	ctx := context.Background()
	seq := int64(0)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		batch := make([]Change, 1000)
		for j := range batch {
			seq++
			p := ps[(i*1000+j)%len(ps)]
			batch[j] = Change{Seq: seq, ID: p.ID, Product: p}
		}
		if err := x.Apply(ctx, batch, seq); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "docs/s")
}

// BenchmarkSearch runs the benchmark queries over 20,000 generated
// products, from the catalogue (Search) and from Bleve (searchBleve), and
// times the highlighting of each text query's first page (default limit)
// alone, which both include.
func BenchmarkSearch(b *testing.B) {
	x, _ := buildCorpus(b, filepath.Join(b.TempDir(), "idx"), defaultOptions(), genProducts(20000))
	defer x.Close()
	ctx := context.Background()
	for _, q := range benchQueries {
		for name, search := range map[string]func(context.Context, engine.ProductQuery) (engine.ProductPage, error){
			"catalogue": x.Search, "bleve": x.searchBleve} {
			b.Run(name+"/"+queryName(q), func(b *testing.B) {
				for b.Loop() {
					if _, err := search(ctx, q); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
	for _, q := range benchQueries {
		if q.Q == "" {
			continue
		}
		page, err := x.Search(ctx, q)
		if err != nil {
			b.Fatal(err)
		}
		h := newHighlighter(x.queryBuilder().textPlan(q.Q, true))
		b.Run("highlight/"+queryName(q), func(b *testing.B) {
			for b.Loop() {
				x.vocab.highlightHits(h, page.Hits)
			}
			b.ReportMetric(float64(len(page.Hits)), "hits/page")
		})
	}
	b.Run("hostile", func(b *testing.B) {
		q := engine.ProductQuery{Q: strings.Repeat("kiwi 茶 navel orange 猕猴桃 核桃 ", 20)}
		for b.Loop() {
			if _, err := x.Search(ctx, q); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkOpen measures restoring the catalogue of 20,000 products from
// the stored records when an index is opened.
func BenchmarkOpen(b *testing.B) {
	dir := filepath.Join(b.TempDir(), "idx")
	x, _ := buildCorpus(b, dir, defaultOptions(), genProducts(20000))
	if err := x.Close(); err != nil {
		b.Fatal(err)
	}
	cfg := testConfig(b, dir)
	for b.Loop() {
		y, err := Open(cfg)
		if err != nil {
			b.Fatal(err)
		}
		if n := y.Status().Products; n != 20000 {
			b.Fatalf("%d products", n)
		}
		_ = y.Close()
	}
}

// BenchmarkRebuild measures a full rebuild of 20,000 products.
func BenchmarkRebuild(b *testing.B) {
	ps := genProducts(20000)
	cfg := testConfig(b, filepath.Join(b.TempDir(), "idx"))
	scan := func(ctx context.Context, fn func(Change) error) error {
		for _, c := range changesFor(ps) {
			if err := fn(c); err != nil {
				return err
			}
		}
		return nil
	}
	for b.Loop() {
		x, err := Rebuild(context.Background(), cfg, scan, RebuildOptions{Checkpoint: 20000})
		if err != nil {
			b.Fatal(err)
		}
		_ = x.Close()
	}
	b.ReportMetric(float64(b.N*len(ps))/b.Elapsed().Seconds(), "docs/s")
}

// BenchmarkCompareChains compares analysis chains on 20,000 generated
// products: indexing throughput, index size, search latency (p50) and which
// relevance cases pass. A measurement, not a test:
//
//	go test ./indexer -run '^$' -bench CompareChains -benchtime 1x
func BenchmarkCompareChains(b *testing.B) {
	t := b
	ps := genProducts(20000)
	cases := loadCases(t)
	for _, c := range []struct {
		name string
		o    options
	}{
		{"cjk (bigrams only), fields", options{chain: chainBigram}},
		{"unigram+bigram, fields", options{chain: chainUniBigram}},
		{"unigram+bigram, _all", options{chain: chainUniBigram, allField: true}},
	} {
		dir := filepath.Join(t.TempDir(), "idx")
		x, took := buildCorpus(t, dir, c.o, ps)
		ctx := context.Background()
		var lat []string
		for _, q := range benchQueries {
			if _, err := x.Search(ctx, q); err != nil { // warm up
				t.Fatal(err)
			}
			ds := make([]time.Duration, 0, 201)
			var total uint64
			for range cap(ds) {
				s := time.Now()
				p, err := x.Search(ctx, q)
				ds = append(ds, time.Since(s))
				if err != nil {
					t.Fatal(err)
				}
				total = p.Total
			}
			slices.Sort(ds)
			lat = append(lat, fmt.Sprintf("%s %v (%d hits)", queryName(q), ds[len(ds)/2].Round(time.Microsecond), total))
		}
		if err := x.Close(); err != nil {
			t.Fatal(err)
		}
		size := dirSize(t, dir)

		fx := mustOpenFixture(t, c.o)
		var failed []string
		for i, sc := range cases {
			if bad := checkCase(ctx, fx.Search, sc); len(bad) > 0 {
				failed = append(failed, fmt.Sprintf("#%d %q: %s", i, sc.Query.Q, strings.Join(bad, "; ")))
			}
		}
		t.Logf("== %s\n  indexing: %.0f docs/s (%v for %d)\n  size: %.1f MB\n  p50: %s\n  cases: %d/%d pass\n  failing: %s",
			c.name, float64(len(ps))/took.Seconds(), took.Round(time.Millisecond), len(ps),
			float64(size)/(1<<20), strings.Join(lat, "; "), len(cases)-len(failed), len(cases),
			strings.Join(failed, "\n           "))
	}
}
