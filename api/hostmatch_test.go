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

// hostFixture is testdata/host_fixture.json: MCNs and, per MCN alias, the
// bodies of their hosts exactly as POST /v1/hosts takes them.
type hostFixture struct {
	MCNs []struct {
		Alias      string `json:"alias"`
		NameZh     string `json:"name_zh"`
		RegionCode string `json:"region_code"`
	} `json:"mcns"`
	Hosts map[string][]map[string]any `json:"hosts"`
}

// hostCase is one relevance case of testdata/host_cases.json. Hosts are
// named by their name in the fixture.
type hostCase struct {
	Comment string `json:"comment"`
	// Why says how the expected figures follow from the formulas of
	// engine/doc.go "# Host matching" (documentation only).
	Why string `json:"why"`
	// Request is the body of POST /v1/match/hosts (and, with a title added
	// when it has none, of POST /v1/host-requests).
	Request map[string]any `json:"request"`
	Limit   int            `json:"limit"`
	rankingExpect
	// FactorAtLeast: host → factor → lower bound of the value.
	FactorAtLeast map[string]map[string]float64 `json:"factor_at_least"`
	// Tied lists groups of hosts that must all be in the items with the
	// same score, ordered among themselves by host id.
	Tied [][]string `json:"tied"`
	// Weights: factor → the weight every item must report for it.
	Weights map[string]float64 `json:"weights"`
}

// hostClock is the fixed "now" of the host matching cases.
var hostClock = time.Date(2026, 11, 20, 0, 0, 0, 0, time.FixedZone("CST", 8*3600))

// loadHostFixture creates the fixture's MCNs and hosts and returns a map
// from host id to host name.
func loadHostFixture(t *testing.T, e *env) (nameOf map[string]string) {
	t.Helper()
	raw, err := os.ReadFile("testdata/host_fixture.json")
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	var fx hostFixture
	if err := dec.Decode(&fx); err != nil {
		t.Fatal(err)
	}
	nameOf = map[string]string{}
	seen := map[string]bool{}
	for _, m := range fx.MCNs {
		r := e.must(201, "POST", "/v1/orgs", e.admin, map[string]any{"kind": engine.OrgMCN, "name_zh": m.NameZh, "region_code": m.RegionCode})
		key := r.body["api_key"].(string)
		for _, h := range fx.Hosts[m.Alias] {
			name := h["name"].(string)
			if seen[name] {
				t.Fatalf("host name %q twice in the fixture", name)
			}
			seen[name] = true
			hr := e.must(201, "POST", "/v1/hosts", key, h)
			nameOf[hr.body["id"].(string)] = name
		}
	}
	if n := len(nameOf); n == 0 || n != len(seen) {
		t.Fatalf("%d hosts created, %d in the fixture", n, len(seen))
	}
	return nameOf
}

// hostRun is the outcome of one host match request, as the cases see it.
type hostRun struct {
	rankedRun                               // items named by host name
	weights   map[string]map[string]float64 // host → factor → weight
}

// decodeHostRun reads a host match answer (POST /v1/match/hosts or GET
// /v1/host-requests/{id}/matches) and checks each item's explanation.
func decodeHostRun(t *testing.T, r resp, nameOf map[string]string) hostRun {
	t.Helper()
	run := hostRun{rankedRun: rankedRun{factors: map[string]map[string]float64{}}, weights: map[string]map[string]float64{}}
	run.excluded, _ = r.body["excluded"].(map[string]any)
	items, ok := r.body["items"].([]any)
	if !ok {
		t.Fatalf("no items: %s", r.raw)
	}
	for _, it := range items {
		m := it.(map[string]any)
		id := m["host"].(map[string]any)["id"].(string)
		name, ok := nameOf[id]
		if !ok {
			t.Fatalf("unknown host %s in the items", id)
		}
		run.names = append(run.names, name)
		run.ids = append(run.ids, id)
		run.scores = append(run.scores, m["score"].(float64))
		checkHostExplanation(t, name, m)
		run.factors[name], run.weights[name] = map[string]float64{}, map[string]float64{}
		for _, f := range m["factors"].([]any) {
			fm := f.(map[string]any)
			run.factors[name][fm["name"].(string)] = fm["value"].(float64)
			run.weights[name][fm["name"].(string)] = fm["weight"].(float64)
		}
	}
	return run
}

func hostMatchPath(base string, limit int) string {
	if limit > 0 {
		return base + "?limit=" + strconv.Itoa(limit)
	}
	return base
}

func TestHostMatchCases(t *testing.T) {
	e := newEnv(t, envOpts{now: func() time.Time { return hostClock }})
	nameOf := loadHostFixture(t, e)
	_, firm := e.newOrg(engine.OrgCrossborderFirm, "440304")
	known := map[string]bool{}
	for _, n := range nameOf {
		known[n] = true
	}
	raw, err := os.ReadFile("testdata/host_cases.json")
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields() // a misspelt expectation must not pass silently
	var cases []hostCase
	if err := dec.Decode(&cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) < 24 {
		t.Fatalf("%d cases, want at least 24", len(cases))
	}
	comments := map[string]bool{}
	for _, tc := range cases {
		if comments[tc.Comment] {
			t.Errorf("case %q twice", tc.Comment)
		}
		comments[tc.Comment] = true
		t.Run(tc.Comment, func(t *testing.T) {
			checkHostCaseNames(t, tc, known)
			run := decodeHostRun(t, e.must(200, "POST", hostMatchPath("/v1/match/hosts", tc.Limit), firm, tc.Request), nameOf)
			checkHostCase(t, tc, run)
			if t.Failed() || os.Getenv("HOST_CASES_DUMP") != "" {
				dumpHostRun(t, run)
			}

			// The same request stored and matched by id gives the same answer.
			body := map[string]any{"title": "relevance case"}
			for k, v := range tc.Request {
				body[k] = v
			}
			rid := e.must(201, "POST", "/v1/host-requests", firm, body).body["id"].(string)
			stored := decodeHostRun(t, e.must(200, "GET", hostMatchPath("/v1/host-requests/"+rid+"/matches", tc.Limit), firm, nil), nameOf)
			if !slices.Equal(stored.ids, run.ids) || !slices.Equal(stored.scores, run.scores) {
				t.Errorf("GET /v1/host-requests/{id}/matches gives %v %v, POST /v1/match/hosts %v %v",
					stored.names, stored.scores, run.names, run.scores)
			}
			for name, fs := range run.factors {
				for f, v := range fs {
					if stored.factors[name][f] != v {
						t.Errorf("stored request: %s %s = %v, ad hoc %v", name, f, stored.factors[name][f], v)
					}
				}
			}
			if !equalCounts(stored.excluded, run.excluded) {
				t.Errorf("stored request excludes %v, ad hoc %v", stored.excluded, run.excluded)
			}
		})
	}
}

// checkHostCase checks a run against a case's expectations and the ranking
// contract (score, highest first, then host id).
func checkHostCase(t *testing.T, tc hostCase, run hostRun) {
	t.Helper()
	got := run.names
	pos := func(s string) int { return slices.Index(got, s) }
	tc.check(t, run.rankedRun)
	for reason := range run.excluded {
		if !slices.Contains(engine.HostGateOrder(), reason) {
			t.Errorf("unknown exclusion reason %q", reason)
		}
	}
	for name, want := range tc.FactorAtLeast {
		for f, v := range want {
			if g, ok := run.factors[name][f]; !ok || g < v {
				t.Errorf("%s %s = %v, want ≥ %v", name, f, run.factors[name][f], v)
			}
		}
	}
	for _, group := range tc.Tied {
		var idx []int
		tie := true
		for _, name := range group {
			i := pos(name)
			if i < 0 {
				t.Errorf("tied %s missing from %v", name, got)
				tie = false
				continue
			}
			if j := pos(group[0]); j >= 0 && run.scores[i] != run.scores[j] {
				t.Errorf("%s (%v) and %s (%v) should tie", name, run.scores[i], group[0], run.scores[j])
				tie = false
			}
			idx = append(idx, i)
		}
		// Within a tie the items are ordered by host id.
		slices.Sort(idx)
		for k := 1; tie && k < len(idx); k++ {
			if run.ids[idx[k-1]] > run.ids[idx[k]] {
				t.Errorf("tied hosts %v not ordered by id: %s before %s", group, run.ids[idx[k-1]], run.ids[idx[k]])
			}
		}
	}
	for name, fs := range run.weights {
		for f, w := range tc.Weights {
			if fs[f] != w {
				t.Errorf("%s: factor %s has weight %v, want %v", name, f, fs[f], w)
			}
		}
	}
	// The items are in score order, ties broken by host id.
	for i := 1; i < len(got); i++ {
		if run.scores[i] > run.scores[i-1] || run.scores[i] == run.scores[i-1] && run.ids[i] < run.ids[i-1] {
			t.Errorf("items %d and %d out of order (score, then id): %v %v %v", i-1, i, got, run.scores, run.ids)
		}
	}
}

// checkHostExplanation checks the contract of one host match: the eight
// host factors in their fixed order, values in [0,1], reasons in both
// languages, a switched-off factor contributing nothing, contributions
// summing to the score, and the score in [0,1].
func checkHostExplanation(t *testing.T, name string, m map[string]any) {
	t.Helper()
	score := m["score"].(float64)
	fs := m["factors"].([]any)
	want := engine.HostFactors()
	if len(fs) != len(want) || len(fs) != 8 {
		t.Errorf("%s: %d factors, want 8", name, len(fs))
	}
	sum := 0.0
	for i, f := range fs {
		fm := f.(map[string]any)
		if i < len(want) && fm["name"] != string(want[i]) {
			t.Errorf("%s: factor %d is %v, want %s", name, i, fm["name"], want[i])
		}
		v, c, w := fm["value"].(float64), fm["contribution"].(float64), fm["weight"].(float64)
		if v < 0 || v > 1 || c < 0 || c > 1 || w < 0 {
			t.Errorf("%s: factor %v", name, fm)
		}
		if rz, _ := fm["reason_zh"].(string); strings.TrimSpace(rz) == "" {
			t.Errorf("%s: factor %v without a Chinese reason", name, fm["name"])
		}
		if re, _ := fm["reason_en"].(string); strings.TrimSpace(re) == "" {
			t.Errorf("%s: factor %v without an English reason", name, fm["name"])
		}
		if w == 0 && c != 0 {
			t.Errorf("%s: factor %v is switched off but contributes %v", name, fm["name"], c)
		}
		sum += c
	}
	if score < 0 || score > 1 || math.Abs(sum-score) > 0.001 {
		t.Errorf("%s: score %v, contributions sum to %v", name, score, sum)
	}
}

// checkHostCaseNames reports host names a case uses that the fixture does
// not hold (a typo would make an exclusion pass vacuously).
func checkHostCaseNames(t *testing.T, tc hostCase, known map[string]bool) {
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
	for _, m := range []map[string]map[string]float64{tc.FactorValues, tc.FactorAtLeast} {
		for n, fs := range m {
			names = append(names, n)
			for f := range fs {
				if !slices.Contains(engine.HostFactors(), engine.Factor(f)) {
					t.Errorf("case names unknown factor %q", f)
				}
			}
		}
	}
	for n := range tc.Scores {
		names = append(names, n)
	}
	for _, g := range tc.Tied {
		names = append(names, g...)
	}
	for _, n := range names {
		if !known[n] {
			t.Errorf("case names unknown host %q", n)
		}
	}
	for reason := range tc.ExcludedAtLeast {
		if !slices.Contains(engine.HostGateOrder(), reason) {
			t.Errorf("case names unknown exclusion reason %q", reason)
		}
	}
	for reason := range tc.ExcludedExactly {
		if !slices.Contains(engine.HostGateOrder(), reason) {
			t.Errorf("case names unknown exclusion reason %q", reason)
		}
	}
	if tc.Comment == "" {
		t.Error("case without a comment")
	}
}

// equalCounts compares two decoded exclusion maps.
func equalCounts(a, b map[string]any) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// dumpHostRun logs the items with their scores and factor values and the
// exclusion counts, to see why a case failed (or, with HOST_CASES_DUMP set,
// what a new case gives).
func dumpHostRun(t *testing.T, run hostRun) {
	t.Helper()
	for i, name := range run.names {
		var b strings.Builder
		for _, f := range engine.HostFactors() {
			b.WriteString(" " + string(f) + "=" + strconv.FormatFloat(run.factors[name][string(f)], 'f', -1, 64))
		}
		t.Logf("%d. %s %v%s", i+1, name, run.scores[i], b.String())
	}
	t.Logf("excluded %v", run.excluded)
}
