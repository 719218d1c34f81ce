package indexer

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/livematch/livematch/engine"
)

// fixedNow is the clock of the unit tests: certificates expiring before
// 2026-06-01 count for nothing.
func fixedNow() time.Time { return time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC) }

// fakeGlossary is a tiny stand-in for fixtures.Glossary, read from
// testdata/glossary.tsv (synonym groups) and testdata/t2s.tsv (traditional →
// simplified characters). It is for unit tests only.
type fakeGlossary struct {
	groups [][]string
	t2s    map[rune]rune
}

func (g *fakeGlossary) Simplify(s string) string {
	return strings.Map(func(r rune) rune {
		if v, ok := g.t2s[r]; ok {
			return v
		}
		return r
	}, s)
}

func (g *fakeGlossary) Expand(term string) []string {
	term = strings.ToLower(term)
	var out []string
	for _, grp := range g.groups {
		if !slices.Contains(grp, term) {
			continue
		}
		for _, m := range grp {
			if m != term && !slices.Contains(out, m) {
				out = append(out, m)
			}
		}
	}
	return out
}

func (g *fakeGlossary) LongestPhrase(words []string) int {
	for n := min(len(words), 3); n >= 2; n-- {
		p := strings.ToLower(strings.Join(words[:n], " "))
		for _, grp := range g.groups {
			if slices.Contains(grp, p) {
				return n
			}
		}
	}
	return min(len(words), 1)
}

func loadGlossary(tb testing.TB) *fakeGlossary {
	tb.Helper()
	g := &fakeGlossary{t2s: map[rune]rune{}}
	readTSV(tb, "glossary.tsv", func(cols []string) {
		for i := range cols {
			cols[i] = strings.ToLower(cols[i])
		}
		g.groups = append(g.groups, cols)
	})
	readTSV(tb, "t2s.tsv", func(cols []string) {
		if len(cols) != 2 {
			tb.Fatalf("t2s.tsv: want 2 columns, got %q", cols)
		}
		g.t2s[[]rune(cols[0])[0]] = []rune(cols[1])[0]
	})
	return g
}

func readTSV(tb testing.TB, name string, fn func(cols []string)) {
	tb.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fn(strings.Split(line, "\t"))
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
}

// loadProducts reads the fixed product set of testdata/products.json.
func loadProducts(tb testing.TB) []*engine.Product {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "products.json"))
	if err != nil {
		tb.Fatal(err)
	}
	var recs []productRecord
	if err := json.Unmarshal(b, &recs); err != nil {
		tb.Fatal(err)
	}
	ps := make([]*engine.Product, len(recs))
	for i := range recs {
		ps[i] = recs[i].product()
	}
	return ps
}

// changesFor turns products into changes with sequence numbers 1, 2, ….
func changesFor(ps []*engine.Product) []Change {
	cs := make([]Change, len(ps))
	for i, p := range ps {
		cs[i] = Change{Seq: int64(i + 1), ID: p.ID, Product: p}
	}
	return cs
}

func testConfig(tb testing.TB, path string) Config {
	tb.Helper()
	return Config{Path: path, Glossary: loadGlossary(tb), Now: fixedNow}
}

// mustOpen opens an index with the given options and closes it at the end
// of the test.
func mustOpen(tb testing.TB, cfg Config, o options) *Index {
	tb.Helper()
	x, err := open(cfg, o)
	if err != nil {
		tb.Fatalf("open: %v", err)
	}
	tb.Cleanup(func() { _ = x.Close() })
	return x
}

// mustOpenFixture opens an in-memory index holding the fixed product set.
func mustOpenFixture(tb testing.TB, o options) *Index {
	tb.Helper()
	x := mustOpen(tb, testConfig(tb, ""), o)
	ps := loadProducts(tb)
	if err := x.Apply(context.Background(), changesFor(ps), int64(len(ps))); err != nil {
		tb.Fatalf("apply: %v", err)
	}
	return x
}

func hitIDs(p engine.ProductPage) []string {
	ids := make([]string, len(p.Hits))
	for i, h := range p.Hits {
		ids[i] = h.Product.ID
	}
	return ids
}

func ptr[T any](v T) *T { return &v }
