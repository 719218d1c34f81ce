package api

import (
	"encoding/json"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
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
		// StatusAfter is applied by an admin PATCH /v1/orgs/{id} once the
		// org's products are listed (a supplier suspended after listing).
		StatusAfter string `json:"status_after"`
	} `json:"orgs"`
	// Products per org alias. Fields whose name starts with "_" are not
	// posted but applied afterwards: "_review" (a review status) by an admin
	// PATCH /v1/products/{id}/review, "_stock_after" (a stock level) by the
	// owner's PATCH /v1/products/{id}/stock.
	Products map[string][]map[string]any `json:"products"`
}

// matchCase is one relevance case of testdata/match_cases.json.
type matchCase struct {
	Comment string         `json:"comment"`
	Profile map[string]any `json:"profile"`
	Limit   int            `json:"limit"`
	rankingExpect
	// ReliefAtLeast: at least this many poverty-relief items in the items.
	ReliefAtLeast int `json:"relief_at_least"`
	// Repeat runs the case a second time and requires the very same items,
	// in the same order, with the same scores.
	Repeat bool `json:"repeat"`
}

// matchClock is the fixed "now" of the matching cases.
var matchClock = time.Date(2026, 11, 20, 0, 0, 0, 0, time.FixedZone("CST", 8*3600))

// loadMatchFixture creates the fixture's orgs and products, applies the
// after-listing changes (review decisions, stock updates, org suspensions),
// waits until the index reflects all of it and returns an MCN key, a map
// from product id to sku and each org alias's key.
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
	type final struct {
		review engine.ReviewStatus
		stock  int64
	}
	want := map[string]final{} // product id → state the index must reach
	for _, o := range fx.Orgs {
		body := map[string]any{"kind": o.Kind, "name_zh": o.NameZh, "region_code": o.RegionCode, "grade": o.Grade}
		if o.Status != "" {
			body["status"] = o.Status
		}
		r := e.must(201, "POST", "/v1/orgs", e.admin, body)
		orgID := r.body["id"].(string)
		keyOf[o.Alias] = r.body["api_key"].(string)
		for _, p := range fx.Products[o.Alias] {
			post := map[string]any{}
			for k, v := range p {
				if !strings.HasPrefix(k, "_") {
					post[k] = v
				}
			}
			pr := e.must(201, "POST", "/v1/products", keyOf[o.Alias], post)
			id := pr.body["id"].(string)
			sku := p["sku"].(string)
			if _, dup := skuOf[id]; dup {
				t.Fatalf("duplicate product id %s", id)
			}
			skuOf[id] = sku
			f := final{review: engine.ReviewApproved, stock: int64(p["stock"].(float64))}
			if v, ok := p["_review"]; ok {
				f.review = engine.ReviewStatus(v.(string))
				e.must(200, "PATCH", "/v1/products/"+id+"/review", e.admin, map[string]any{"review_status": v, "note": "relevance fixture"})
			}
			if v, ok := p["_stock_after"]; ok {
				f.stock = int64(v.(float64))
				e.must(200, "PATCH", "/v1/products/"+id+"/stock", keyOf[o.Alias], map[string]any{"stock": v})
			}
			want[id] = f
		}
		if o.StatusAfter != "" {
			e.must(200, "PATCH", "/v1/orgs/"+orgID, e.admin, map[string]any{"status": o.StatusAfter})
		}
	}
	_, mcnKey = e.newOrg(engine.OrgMCN, "310101")
	if !eventually(t, 10*time.Second, func() bool {
		for id, f := range want {
			p, ok := e.index.Product(id)
			if !ok || p.ReviewStatus != f.review || p.Stock != f.stock {
				return false
			}
		}
		return true
	}) {
		t.Fatal("fixture products not indexed")
	}
	return mcnKey, skuOf, keyOf
}

// matchRun is the outcome of one match request, as the cases see it.
type matchRun struct {
	rankedRun // items named by sku
	relief    int
}

func runMatchCase(t *testing.T, e *env, mcn string, skuOf map[string]string, tc matchCase) matchRun {
	t.Helper()
	path := "/v1/match/products"
	if tc.Limit > 0 {
		path += "?limit=" + itoa(tc.Limit)
	}
	r := e.must(200, "POST", path, mcn, tc.Profile)
	items, _ := r.body["items"].([]any)
	run := matchRun{rankedRun: rankedRun{factors: map[string]map[string]float64{}}}
	run.excluded, _ = r.body["excluded"].(map[string]any)
	for _, it := range items {
		m := it.(map[string]any)
		p := m["product"].(map[string]any)
		id := p["id"].(string)
		sku, ok := skuOf[id]
		if !ok {
			t.Fatalf("unknown product %s in the items", id)
		}
		run.names = append(run.names, sku)
		run.ids = append(run.ids, id)
		run.scores = append(run.scores, m["score"].(float64))
		if p["poverty_relief"] == true {
			run.relief++
		}
		checkExplanation(t, sku, m)
		run.factors[sku] = map[string]float64{}
		for _, f := range m["factors"].([]any) {
			fm := f.(map[string]any)
			run.factors[sku][fm["name"].(string)] = fm["value"].(float64)
		}
	}
	return run
}

func TestMatchCases(t *testing.T) {
	e := newEnv(t, envOpts{now: func() time.Time { return matchClock }})
	mcn, skuOf, _ := loadMatchFixture(t, e)
	known := map[string]bool{}
	for _, s := range skuOf {
		known[s] = true
	}
	raw, err := os.ReadFile("testdata/match_cases.json")
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields() // a misspelt expectation must not pass silently
	var cases []matchCase
	if err := dec.Decode(&cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) == 0 {
		t.Fatal("no cases")
	}
	for _, tc := range cases {
		t.Run(tc.Comment, func(t *testing.T) {
			checkCaseSKUs(t, tc, known)
			run := runMatchCase(t, e, mcn, skuOf, tc)
			got := run.names
			tc.check(t, run.rankedRun)
			if run.relief < tc.ReliefAtLeast {
				t.Errorf("%d poverty-relief items, want ≥ %d: %v", run.relief, tc.ReliefAtLeast, got)
			}
			if share, _ := tc.Profile["poverty_relief_min_share"].(float64); share == 0 {
				// Without fair re-ranking the items are in score order, ties
				// broken by product id.
				for i := 1; i < len(got); i++ {
					if run.scores[i] > run.scores[i-1] || run.scores[i] == run.scores[i-1] && run.ids[i] < run.ids[i-1] {
						t.Errorf("items %d and %d out of order (score, then id): %v %v %v", i-1, i, got, run.scores, run.ids)
					}
				}
			}
			if t.Failed() || os.Getenv("MATCH_CASES_DUMP") != "" {
				dumpRun(t, run)
			}
			if tc.Repeat {
				again := runMatchCase(t, e, mcn, skuOf, tc)
				if !slices.Equal(again.names, got) || !slices.Equal(again.scores, run.scores) {
					t.Errorf("second run differs: %v %v, first %v %v", again.names, again.scores, got, run.scores)
				}
			}
		})
	}
}

// dumpRun logs the items with their scores and factor values and the
// exclusion counts, to see why a case failed (or, with MATCH_CASES_DUMP set,
// what a new case gives).
func dumpRun(t *testing.T, run matchRun) {
	t.Helper()
	for i, sku := range run.names {
		var b strings.Builder
		for _, f := range engine.Factors() {
			b.WriteString(" " + string(f) + "=" + strconv.FormatFloat(run.factors[sku][string(f)], 'f', -1, 64))
		}
		t.Logf("%d. %s %v%s", i+1, sku, run.scores[i], b.String())
	}
	t.Logf("excluded %v", run.excluded)
}

// checkCaseSKUs reports skus a case names that the fixture does not hold
// (a typo would make an exclusion pass vacuously).
func checkCaseSKUs(t *testing.T, tc matchCase, known map[string]bool) {
	t.Helper()
	var names []string
	names = append(names, tc.Include...)
	names = append(names, tc.Exclude...)
	names = append(names, tc.Order...)
	for _, ab := range tc.Above {
		names = append(names, ab[0], ab[1])
	}
	if tc.First != "" {
		names = append(names, tc.First)
	}
	for s := range tc.FactorValues {
		names = append(names, s)
	}
	for s := range tc.Scores {
		names = append(names, s)
	}
	for _, s := range names {
		if !known[s] {
			t.Errorf("case names unknown sku %q", s)
		}
	}
	if tc.Comment == "" {
		t.Error("case without a comment")
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
