package api

import (
	"math"
	"slices"
	"testing"
)

// rankingExpect is what a relevance case expects of a ranked answer (items
// named by sku or host name); the product and the host suites embed it.
type rankingExpect struct {
	// Include must be in the items, Exclude must not.
	Include []string `json:"include"`
	Exclude []string `json:"exclude"`
	// Above lists pairs [a, b]: both in the items, a ranked above b.
	Above [][2]string `json:"above"`
	// First is the top item.
	First string `json:"first"`
	// Order is the exact list of items, best first.
	Order []string `json:"order"`
	// ExcludedAtLeast: excluded[reason] ≥ n.
	ExcludedAtLeast map[string]int `json:"excluded_at_least"`
	// ExcludedExactly: excluded[reason] = n (0: the reason is absent).
	ExcludedExactly map[string]int `json:"excluded_exactly"`
	// Count is the exact number of items.
	Count *int `json:"count"`
	// FactorValues: item → factor → expected value (±0.01).
	FactorValues map[string]map[string]float64 `json:"factor_values"`
	// Scores: item → expected score (±0.01).
	Scores map[string]float64 `json:"scores"`
}

// rankedRun is a ranked answer: item names, ids and scores in order, factor
// values by item, and the excluded counts.
type rankedRun struct {
	names    []string
	ids      []string
	scores   []float64
	factors  map[string]map[string]float64 // item → factor → value
	excluded map[string]any
}

// check compares a run with the expectations.
func (x *rankingExpect) check(t *testing.T, run rankedRun) {
	t.Helper()
	got := run.names
	pos := func(s string) int { return slices.Index(got, s) }
	for _, s := range x.Include {
		if pos(s) < 0 {
			t.Errorf("%s missing from %v", s, got)
		}
	}
	for _, s := range x.Exclude {
		if pos(s) >= 0 {
			t.Errorf("%s must not be in %v", s, got)
		}
	}
	for _, ab := range x.Above {
		if pa, pb := pos(ab[0]), pos(ab[1]); pa < 0 || pb < 0 || pa > pb {
			t.Errorf("%s should rank above %s in %v", ab[0], ab[1], got)
		}
	}
	if x.First != "" && (len(got) == 0 || got[0] != x.First) {
		t.Errorf("first should be %s: %v", x.First, got)
	}
	if x.Order != nil && !slices.Equal(got, x.Order) {
		t.Errorf("order %v, want %v (scores %v)", got, x.Order, run.scores)
	}
	for reason, n := range x.ExcludedAtLeast {
		if v, _ := run.excluded[reason].(float64); int(v) < n {
			t.Errorf("excluded[%s] = %v, want ≥ %d (%v)", reason, run.excluded[reason], n, run.excluded)
		}
	}
	for reason, n := range x.ExcludedExactly {
		if v, _ := run.excluded[reason].(float64); int(v) != n {
			t.Errorf("excluded[%s] = %v, want %d (%v)", reason, run.excluded[reason], n, run.excluded)
		}
	}
	if x.Count != nil && len(got) != *x.Count {
		t.Errorf("%d items, want %d: %v", len(got), *x.Count, got)
	}
	for name, want := range x.FactorValues {
		for f, v := range want {
			if g, ok := run.factors[name][f]; !ok || math.Abs(g-v) > 0.01 {
				t.Errorf("%s %s = %v, want %v", name, f, run.factors[name][f], v)
			}
		}
	}
	for name, v := range x.Scores {
		if i := pos(name); i < 0 || math.Abs(run.scores[i]-v) > 0.01 {
			t.Errorf("%s score: want %v (items %v, scores %v)", name, v, got, run.scores)
		}
	}
}
