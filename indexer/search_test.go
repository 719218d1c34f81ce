package indexer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/livematch/livematch/engine"
)

// searchCase is one relevance case of testdata/search_cases.json.
type searchCase struct {
	Comment  string                    `json:"comment"`
	Query    caseQuery                 `json:"query"`
	Found    []string                  `json:"found"`
	NotFound []string                  `json:"not_found"`
	Total    *uint64                   `json:"total"`
	Hits     []string                  `json:"hits"`
	Facets   map[string]map[string]int `json:"facets"`
	// Highlights are, by hit id, exactly the highlights of that hit.
	Highlights map[string]map[string]string `json:"highlights"`
}

// caseQuery is engine.ProductQuery in snake_case.
type caseQuery struct {
	Q             string   `json:"q"`
	Category      string   `json:"category"`
	Certification string   `json:"certification"`
	Province      string   `json:"province"`
	PovertyRelief *bool    `json:"poverty_relief"`
	PriceMin      *float64 `json:"price_min"`
	PriceMax      *float64 `json:"price_max"`
	CommissionMin *float64 `json:"commission_min"`
	InStock       *bool    `json:"in_stock"`
	OrgID         string   `json:"org_id"`
	OnlyVisible   bool     `json:"only_visible"`
	Limit         int      `json:"limit"`
	Offset        int      `json:"offset"`
}

func (c caseQuery) productQuery() engine.ProductQuery {
	q := engine.ProductQuery(c)
	if q.Limit == 0 {
		q.Limit = 100
	}
	return q
}

func loadCases(tb testing.TB) []searchCase {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "search_cases.json"))
	if err != nil {
		tb.Fatal(err)
	}
	var f struct {
		Comment string       `json:"comment"`
		Cases   []searchCase `json:"cases"`
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		tb.Fatal(err)
	}
	return f.Cases
}

// checkCase runs one case and returns what is wrong with the result.
func checkCase(ctx context.Context, search func(context.Context, engine.ProductQuery) (engine.ProductPage, error), c searchCase) []string {
	page, err := search(ctx, c.Query.productQuery())
	if err != nil {
		return []string{fmt.Sprintf("search: %v", err)}
	}
	var bad []string
	ids := hitIDs(page)
	for _, id := range c.Found {
		if !slices.Contains(ids, id) {
			bad = append(bad, fmt.Sprintf("%s not found", id))
		}
	}
	for _, id := range c.NotFound {
		if slices.Contains(ids, id) {
			bad = append(bad, fmt.Sprintf("%s found", id))
		}
	}
	if c.Total != nil && page.Total != *c.Total {
		bad = append(bad, fmt.Sprintf("total %d, want %d", page.Total, *c.Total))
	}
	if c.Hits != nil && !slices.Equal(ids, c.Hits) {
		bad = append(bad, fmt.Sprintf("hits %v, want %v", ids, c.Hits))
	}
	for name, want := range c.Facets {
		got := map[string]int{}
		for _, fc := range page.Facets[name] {
			got[fc.Value] = fc.Count
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			bad = append(bad, fmt.Sprintf("facet %s = %v, want %v", name, got, want))
		}
	}
	hasText := strings.Trim(c.Query.Q, "the, of!") != ""
	for _, h := range page.Hits {
		want, listed := c.Highlights[h.Product.ID]
		switch {
		case listed && !maps.Equal(h.Highlights, want):
			bad = append(bad, fmt.Sprintf("%s: highlights %q, want %q", h.Product.ID, h.Highlights, want))
		case hasText && len(h.Highlights) == 0:
			bad = append(bad, fmt.Sprintf("%s: no highlights", h.Product.ID))
		case !hasText && h.Highlights != nil:
			bad = append(bad, fmt.Sprintf("%s: highlights %q without text", h.Product.ID, h.Highlights))
		}
	}
	for id := range c.Highlights {
		if !slices.Contains(ids, id) {
			bad = append(bad, fmt.Sprintf("%s not found (for its highlights)", id))
		}
	}
	return bad
}

// TestSearchCases runs the relevance cases against Search (the catalogue)
// and against Bleve's own search of the same index.
func TestSearchCases(t *testing.T) {
	ctx := context.Background()
	x := mustOpenFixture(t, defaultOptions())
	for _, o := range []struct {
		name   string
		search func(context.Context, engine.ProductQuery) (engine.ProductPage, error)
	}{
		{"catalogue", x.Search},
		{"bleve", x.searchBleve},
	} {
		t.Run(o.name, func(t *testing.T) {
			cases := loadCases(t)
			if len(cases) < 20 {
				t.Fatalf("only %d cases", len(cases))
			}
			for i, c := range cases {
				t.Run(fmt.Sprintf("%02d", i), func(t *testing.T) {
					for _, msg := range checkCase(ctx, o.search, c) {
						t.Errorf("%s: %s (query %+v)", c.Comment, msg, c.Query)
					}
				})
			}
		})
	}
}

// TestSearchInvariants checks properties every result must have: facets
// sorted by count then value, their counts not above the total, text hits
// sorted by score then id, hits without text sorted by id with score 0.
func TestSearchInvariants(t *testing.T) {
	ctx := context.Background()
	x := mustOpenFixture(t, defaultOptions())
	for _, c := range loadCases(t) {
		q := c.Query.productQuery()
		page, err := x.Search(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{engine.FacetCategory, engine.FacetCertification, engine.FacetProvince, engine.FacetPovertyRelief} {
			fs, ok := page.Facets[name]
			if !ok || fs == nil {
				t.Errorf("%q: facet %s missing", c.Comment, name)
			}
			if !sort.SliceIsSorted(fs, func(i, j int) bool {
				return fs[i].Count > fs[j].Count || fs[i].Count == fs[j].Count && fs[i].Value < fs[j].Value
			}) {
				t.Errorf("%q: facet %s not sorted: %v", c.Comment, name, fs)
			}
			for _, f := range fs {
				if f.Count < 1 || uint64(f.Count) > page.Total {
					t.Errorf("%q: facet %s count %d, total %d", c.Comment, name, f.Count, page.Total)
				}
			}
		}
		hasText := strings.Trim(q.Q, "the, of!") != ""
		for i := 1; i < len(page.Hits); i++ {
			a, b := page.Hits[i-1], page.Hits[i]
			if hasText && (a.Score < b.Score || a.Score == b.Score && a.Product.ID > b.Product.ID) {
				t.Errorf("%q: hits %s (%g) before %s (%g)", c.Comment, a.Product.ID, a.Score, b.Product.ID, b.Score)
			}
			if !hasText && a.Product.ID > b.Product.ID {
				t.Errorf("%q: hits not sorted by id: %v", c.Comment, hitIDs(page))
			}
		}
		for _, h := range page.Hits {
			if !hasText && h.Score != 0 {
				t.Errorf("%q: score %g without text", c.Comment, h.Score)
			}
			if hasText && h.Score <= 0 {
				t.Errorf("%q: score %g with text", c.Comment, h.Score)
			}
		}
	}
}

func TestSearchOriginalRanksAboveExpansion(t *testing.T) {
	x := mustOpenFixture(t, defaultOptions())
	// 猕猴桃 is typed; 奇异果 (p09) only matches through the glossary.
	page, err := x.Search(context.Background(), engine.ProductQuery{Q: "猕猴桃", OnlyVisible: true})
	if err != nil {
		t.Fatal(err)
	}
	if ids := hitIDs(page); !slices.Equal(ids, []string{"p02", "p09"}) {
		t.Fatalf("hits %v, want [p02 p09]", ids)
	}
}

func TestPaging(t *testing.T) {
	x := mustOpenFixture(t, defaultOptions())
	ctx := context.Background()
	all, err := x.Search(ctx, engine.ProductQuery{Q: "茶", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var paged []string
	for off := 0; off < int(all.Total); off += 3 {
		p, err := x.Search(ctx, engine.ProductQuery{Q: "茶", Limit: 3, Offset: off})
		if err != nil {
			t.Fatal(err)
		}
		if p.Total != all.Total {
			t.Fatalf("total %d at offset %d, want %d", p.Total, off, all.Total)
		}
		paged = append(paged, hitIDs(p)...)
	}
	if !slices.Equal(paged, hitIDs(all)) {
		t.Fatalf("paged %v, want %v", paged, hitIDs(all))
	}

	for _, tc := range []struct {
		limit, offset int
		wantHits      int
	}{
		{0, 0, DefaultLimit},
		{-5, 0, DefaultLimit},
		{1000, 0, 24},
		{1, -3, 1},
		{10, 1 << 30, 0},
	} {
		p, err := x.Search(ctx, engine.ProductQuery{Limit: tc.limit, Offset: tc.offset})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Hits) != tc.wantHits || p.Total != 24 {
			t.Errorf("limit %d offset %d: %d hits of %d, want %d of 24", tc.limit, tc.offset, len(p.Hits), p.Total, tc.wantHits)
		}
	}
}

func TestSearchInvalid(t *testing.T) {
	x := mustOpenFixture(t, defaultOptions())
	nan := 0.0
	nan /= nan
	for _, tc := range []struct {
		q     engine.ProductQuery
		field string
	}{
		{engine.ProductQuery{PriceMin: ptr(-1.0)}, "price_min"},
		{engine.ProductQuery{PriceMax: &nan}, "price_max"},
		{engine.ProductQuery{PriceMin: ptr(50.0), PriceMax: ptr(10.0)}, "price_min"},
		{engine.ProductQuery{CommissionMin: ptr(-0.1)}, "commission_min"},
		{engine.ProductQuery{CommissionMin: ptr(1.5)}, "commission_min"},
		{engine.ProductQuery{CommissionMin: &nan}, "commission_min"},
	} {
		for name, search := range map[string]func(context.Context, engine.ProductQuery) (engine.ProductPage, error){
			"catalogue": x.Search, "bleve": x.searchBleve} {
			_, err := search(context.Background(), tc.q)
			var e *engine.Error
			if !engine.IsKind(err, engine.KindInvalid) || !errors.As(err, &e) ||
				!slices.ContainsFunc(e.Fields, func(f engine.FieldError) bool { return f.Field == tc.field }) {
				t.Errorf("%s %+v: err %v, want KindInvalid naming %s", name, tc.q, err, tc.field)
			}
		}
	}
}

func TestParseTerms(t *testing.T) {
	g := loadGlossary(t)
	for _, tc := range []struct {
		q    string
		want []string // term texts
	}{
		{"navel orange juice", []string{"navel orange", "juice"}},
		{"kiwi fruit 礼盒", []string{"kiwi fruit", "礼盒"}},
		{"kiwi猕猴桃", []string{"kiwi", "猕猴桃"}},
		{"t恤 2.5kg", []string{"t恤", "2.5kg"}},
		{"茶 茶，茶", []string{"茶"}},
		{"farmer's t-shirt", []string{"farmer's", "t-shirt"}},
		{"--- ... !!!", nil},
		{"", nil},
	} {
		var got []string
		for _, term := range parseTerms(normalizeQuery(tc.q, g.Simplify), g) {
			got = append(got, term.text)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%q: terms %q, want %q", tc.q, got, tc.want)
		}
	}
	long := strings.Repeat("kiwi 猕猴桃 ", 100)
	terms := parseTerms(normalizeQuery(long, g.Simplify), g)
	if len(terms) > maxTerms {
		t.Errorf("%d terms, cap %d", len(terms), maxTerms)
	}
	words := strings.Repeat("a", 10) + strings.Repeat(" w", 200)
	for i, w := range []string{long, words, strings.Repeat("茶", 10000)} {
		terms := parseTerms(normalizeQuery(w, g.Simplify), g)
		if len(terms) > maxTerms {
			t.Errorf("input %d: %d terms", i, len(terms))
		}
		for _, term := range terms {
			if len(term.expansions) > maxExpansions {
				t.Errorf("input %d: %d expansions", i, len(term.expansions))
			}
		}
	}
}

func TestAnalyzer(t *testing.T) {
	x := mustOpen(t, testConfig(t, ""), defaultOptions())
	for _, tc := range []struct{ in, want string }{
		{"猕猴桃", "猕 猕猴 猴 猴桃 桃"},
		{"茶", "茶"},
		{"Yunnan walnuts", "yunnan walnut"},
		{"farmer's oranges", "farmer orang"},
		{"ＫＩＷＩ 5斤装", "kiwi 5 斤 斤装 装"},
		{"the kiwi of", "kiwi"},
		{"白茶abc", "白 白茶 茶 abc"},
		// the stemmer leaves CJK tokens alone, even ones ending in letters it strips
		{"茶s 茶ies", "茶 s 茶 ie"},
	} {
		var got []string
		for _, tok := range x.analyzer.Analyze([]byte(tc.in)) {
			got = append(got, string(tok.Term))
		}
		if strings.Join(got, " ") != tc.want {
			t.Errorf("%q → %q, want %q", tc.in, strings.Join(got, " "), tc.want)
		}
	}
}
