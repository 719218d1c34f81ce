package api

import (
	"encoding/json"
	"math"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/livematch/livematch/engine"
)

// matchFixture is testdata/match_fixture.json.
type matchFixture struct {
	Orgs []struct {
		Alias      string `json:"alias"`
		Kind       string `json:"kind"`
		NameZh     string `json:"name_zh"`
		RegionCode string `json:"region_code"`
		Grade      string `json:"grade"`
		Status     string `json:"status"`
	} `json:"orgs"`
	Products map[string][]map[string]any `json:"products"`
}

// matchCase is one relevance case of testdata/match_cases.json.
type matchCase struct {
	Comment string         `json:"comment"`
	Profile map[string]any `json:"profile"`
	Limit   int            `json:"limit"`
	// Include must be in the items, Exclude must not.
	Include []string `json:"include"`
	Exclude []string `json:"exclude"`
	// Above lists pairs [a, b]: both in the items, a ranked above b.
	Above [][2]string `json:"above"`
	// First is the top item.
	First string `json:"first"`
	// ExcludedAtLeast: excluded[reason] ≥ n.
	ExcludedAtLeast map[string]int `json:"excluded_at_least"`
	// Count is the exact number of items.
	Count *int `json:"count"`
	// ReliefAtLeast: at least this many poverty-relief items in the items.
	ReliefAtLeast int `json:"relief_at_least"`
	// FactorValues: sku → factor → expected value (±0.01).
	FactorValues map[string]map[string]float64 `json:"factor_values"`
}

// matchClock is the fixed "now" of the matching cases.
var matchClock = time.Date(2026, 11, 20, 0, 0, 0, 0, time.FixedZone("CST", 8*3600))

// loadMatchFixture creates the fixture's orgs and products and returns an
// MCN key and a map from product id to sku.
func loadMatchFixture(t *testing.T, e *env) (mcnKey string, skuOf map[string]string, keyOf map[string]string) {
	t.Helper()
	raw, err := os.ReadFile("testdata/match_fixture.json")
	if err != nil {
		t.Fatal(err)
	}
	var fx matchFixture
	if err := json.Unmarshal(raw, &fx); err != nil {
		t.Fatal(err)
	}
	skuOf, keyOf = map[string]string{}, map[string]string{}
	n := 0
	for _, o := range fx.Orgs {
		body := map[string]any{"kind": o.Kind, "name_zh": o.NameZh, "region_code": o.RegionCode, "grade": o.Grade}
		if o.Status != "" {
			body["status"] = o.Status
		}
		r := e.must(201, "POST", "/v1/orgs", e.admin, body)
		keyOf[o.Alias] = r.body["api_key"].(string)
		for _, p := range fx.Products[o.Alias] {
			pr := e.must(201, "POST", "/v1/products", keyOf[o.Alias], p)
			skuOf[pr.body["id"].(string)] = p["sku"].(string)
			n++
		}
	}
	_, mcnKey = e.newOrg(engine.OrgMCN, "310101")
	if !eventually(t, 5*time.Second, func() bool {
		return e.must(200, "GET", "/v1/products", e.admin, nil).body["total"] == float64(n)
	}) {
		t.Fatal("fixture products not indexed")
	}
	return mcnKey, skuOf, keyOf
}

func TestMatchCases(t *testing.T) {
	e := newEnv(t, envOpts{now: func() time.Time { return matchClock }})
	mcn, skuOf, _ := loadMatchFixture(t, e)
	raw, err := os.ReadFile("testdata/match_cases.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []matchCase
	if err := json.Unmarshal(raw, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) == 0 {
		t.Fatal("no cases")
	}
	for _, tc := range cases {
		t.Run(tc.Comment, func(t *testing.T) {
			path := "/v1/match/products"
			if tc.Limit > 0 {
				path += "?limit=" + itoa(tc.Limit)
			}
			r := e.must(200, "POST", path, mcn, tc.Profile)
			items, _ := r.body["items"].([]any)
			var got []string
			relief := 0
			factors := map[string]map[string]float64{}
			for _, it := range items {
				m := it.(map[string]any)
				p := m["product"].(map[string]any)
				sku := skuOf[p["id"].(string)]
				got = append(got, sku)
				if p["poverty_relief"] == true {
					relief++
				}
				checkExplanation(t, sku, m)
				factors[sku] = map[string]float64{}
				for _, f := range m["factors"].([]any) {
					fm := f.(map[string]any)
					factors[sku][fm["name"].(string)] = fm["value"].(float64)
				}
			}
			pos := func(s string) int { return slices.Index(got, s) }
			for _, s := range tc.Include {
				if pos(s) < 0 {
					t.Errorf("%s missing from %v", s, got)
				}
			}
			for _, s := range tc.Exclude {
				if pos(s) >= 0 {
					t.Errorf("%s must not be in %v", s, got)
				}
			}
			for _, ab := range tc.Above {
				if pa, pb := pos(ab[0]), pos(ab[1]); pa < 0 || pb < 0 || pa > pb {
					t.Errorf("%s should rank above %s in %v", ab[0], ab[1], got)
				}
			}
			if tc.First != "" && (len(got) == 0 || got[0] != tc.First) {
				t.Errorf("first should be %s: %v", tc.First, got)
			}
			excluded, _ := r.body["excluded"].(map[string]any)
			for reason, n := range tc.ExcludedAtLeast {
				if v, _ := excluded[reason].(float64); int(v) < n {
					t.Errorf("excluded[%s] = %v, want ≥ %d (%v)", reason, excluded[reason], n, excluded)
				}
			}
			if tc.Count != nil && len(got) != *tc.Count {
				t.Errorf("%d items, want %d: %v", len(got), *tc.Count, got)
			}
			if relief < tc.ReliefAtLeast {
				t.Errorf("%d poverty-relief items, want ≥ %d: %v", relief, tc.ReliefAtLeast, got)
			}
			for sku, want := range tc.FactorValues {
				for name, v := range want {
					if g, ok := factors[sku][name]; !ok || math.Abs(g-v) > 0.01 {
						t.Errorf("%s %s = %v, want %v", sku, name, factors[sku][name], v)
					}
				}
			}
		})
	}
}

// checkExplanation checks the contract of one match: ten factors with
// values in [0,1], reasons in both languages, contributions summing to the
// score, and the score in [0,1].
func checkExplanation(t *testing.T, sku string, m map[string]any) {
	t.Helper()
	score := m["score"].(float64)
	fs := m["factors"].([]any)
	if len(fs) != len(engine.Factors()) {
		t.Errorf("%s: %d factors", sku, len(fs))
	}
	sum := 0.0
	for _, f := range fs {
		fm := f.(map[string]any)
		v, c := fm["value"].(float64), fm["contribution"].(float64)
		if v < 0 || v > 1 || fm["reason_zh"] == "" || fm["reason_en"] == "" {
			t.Errorf("%s: factor %v", sku, fm)
		}
		sum += c
	}
	if score < 0 || score > 1 || math.Abs(sum-score) > 0.001 {
		t.Errorf("%s: score %v, contributions sum to %v", sku, score, sum)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
