package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/livematch/livematch/engine"
	"github.com/livematch/livematch/store"
)

// searchCase is one relevance case of testdata/search_cases.json.
type searchCase struct {
	Comment string            `json:"comment"`
	Params  map[string]string `json:"params"`
	Must    []string          `json:"must"`
	MustNot []string          `json:"must_not"`
	Total   *int              `json:"total"`
	// Highlights are, by sku, exactly the highlights of that item.
	Highlights map[string]map[string]string `json:"highlights"`
}

func TestSearchCases(t *testing.T) {
	e := newEnv(t)
	// All test products belong to one cooperative in 兴国县 (poverty relief);
	// ship_from varies per product.
	coop, key := e.newOrg(engine.OrgCooperative, "360732")
	body, err := os.ReadFile("testdata/search_products.ndjson")
	if err != nil {
		t.Fatal(err)
	}
	r := e.must(200, "POST", "/v1/products:bulk", key, string(body))
	if r.body["rejected"] != 0.0 {
		t.Fatalf("fixture products rejected: %s", r.raw)
	}
	n := int(r.body["accepted"].(float64))
	if !eventually(t, 5*time.Second, func() bool { return e.must(200, "GET", "/v1/products", key, nil).body["total"] == float64(n) }) {
		t.Fatal("fixture products not indexed")
	}
	raw, err := os.ReadFile("testdata/search_cases.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []searchCase
	if err := json.Unmarshal(raw, &cases); err != nil {
		t.Fatal(err)
	}
	skus := map[string]string{} // product id -> sku
	for _, line := range bytes.Split(body, []byte("\n")) {
		var p struct{ SKU string }
		if json.Unmarshal(line, &p) == nil {
			skus[store.ProductID(coop, p.SKU)] = p.SKU
		}
	}
	skuOf := func(id string) string { return skus[id] }
	for _, tc := range cases {
		t.Run(tc.Comment, func(t *testing.T) {
			v := url.Values{"limit": {"100"}}
			for k, val := range tc.Params {
				v.Set(k, val)
			}
			r := e.must(200, "GET", "/v1/products?"+v.Encode(), key, nil)
			var got []string
			for _, it := range r.body["items"].([]any) {
				item := it.(map[string]any)
				sku := skuOf(item["id"].(string))
				got = append(got, sku)
				hl, has := item["highlights"].(map[string]any)
				switch want, listed := tc.Highlights[sku]; {
				case tc.Params["q"] == "" && has:
					t.Errorf("%s: highlights %v without q", sku, hl)
				case listed && fmt.Sprint(hl) != fmt.Sprint(want):
					t.Errorf("%v: %s highlights %q, want %q", tc.Params, sku, hl, want)
				}
			}
			for sku := range tc.Highlights {
				if !slices.Contains(got, sku) {
					t.Errorf("%v: %s missing (for its highlights)", tc.Params, sku)
				}
			}
			for _, s := range tc.Must {
				if !slices.Contains(got, s) {
					t.Errorf("%v: %s missing from %v", tc.Params, s, got)
				}
			}
			for _, s := range tc.MustNot {
				if slices.Contains(got, s) {
					t.Errorf("%v: %s must not be in %v", tc.Params, s, got)
				}
			}
			if tc.Total != nil && r.body["total"] != float64(*tc.Total) {
				t.Errorf("%v: total %v, want %d (%v)", tc.Params, r.body["total"], *tc.Total, got)
			}
		})
	}
}

func TestSearchFacetsAndPaging(t *testing.T) {
	e := newEnv(t)
	_, key := e.newOrg(engine.OrgCooperative, "360732")
	body, err := os.ReadFile("testdata/search_products.ndjson")
	if err != nil {
		t.Fatal(err)
	}
	e.must(200, "POST", "/v1/products:bulk", key, string(body))
	if !eventually(t, 5*time.Second, func() bool { return e.must(200, "GET", "/v1/products", key, nil).body["total"] == 13.0 }) {
		t.Fatal("not indexed")
	}
	r := e.must(200, "GET", "/v1/products?limit=5", key, nil)
	facets := r.body["facets"].(map[string]any)
	cat := facets["category"].(map[string]any)
	if cat["fresh_fruit"] != 4.0 || cat["tea"] != 2.0 || facets["poverty_relief"].(map[string]any)["true"] != 13.0 {
		t.Errorf("facets: %v", facets)
	}
	if facets["certification"].(map[string]any)["green_food"] != 1.0 || facets["province"].(map[string]any)["360000"] != 2.0 {
		t.Errorf("facets: %v", facets)
	}
	// Walk the pages with the cursor: every product once.
	seen := map[string]bool{}
	cursor := ""
	for pages := 0; pages < 10; pages++ {
		r := e.must(200, "GET", "/v1/products?limit=5&cursor="+url.QueryEscape(cursor), key, nil)
		for _, it := range r.body["items"].([]any) {
			id := it.(map[string]any)["id"].(string)
			if seen[id] {
				t.Fatalf("page %d repeats %s", pages, id)
			}
			seen[id] = true
		}
		cursor, _ = r.body["next_cursor"].(string)
		if cursor == "" {
			break
		}
	}
	if len(seen) != 13 {
		t.Fatalf("paging saw %d products", len(seen))
	}
	for _, bad := range []struct{ query, field string }{
		{"cursor=zzz", "cursor"}, {"limit=ten", "limit"}, {"category=drones", "category"},
		{"certification=iso1", "certification"}, {"province=360732", "province"}, {"price_min=-1", "price_min"},
		{"price_min=50&price_max=10", "price_min"}, {"poverty_relief=maybe", "poverty_relief"}, {"in_stock=2", "in_stock"},
		{"price_max=NaN", "price_max"}, {"commission_min=2", "commission_min"}, {"commission_min=abc", "commission_min"},
		{"commission_min=-0.1", "commission_min"}, {"commission_min=NaN", "commission_min"},
	} {
		r := e.must(400, "GET", "/v1/products?"+bad.query, key, nil)
		if !slices.Contains(fieldsOf(r), bad.field) {
			t.Errorf("%s: fields %v", bad.query, fieldsOf(r))
		}
	}
}
