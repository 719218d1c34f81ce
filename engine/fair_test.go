package engine

import (
	"math"
	"slices"
	"testing"
)

// rankedList builds n ranked matches; the items at the given positions are
// protected (poverty-relief suppliers).
func rankedList(n int, protected ...int) []ProductMatch {
	relief, other := &Org{PovertyRelief: true}, &Org{}
	out := make([]ProductMatch, n)
	for i := range out {
		out[i] = ProductMatch{Supplier: other, Score: 1 - float64(i)/float64(n+1)}
		if slices.Contains(protected, i) {
			out[i].Supplier = relief
		}
	}
	return out
}

func isProtected(m ProductMatch) bool { return m.Supplier != nil && m.Supplier.PovertyRelief }

// checkFair checks the structural properties of a FairTopK result.
func checkFair(tb testing.TB, ranked []ProductMatch, k int, share float64, got []int) {
	tb.Helper()
	want := max(0, min(k, len(ranked)))
	if len(got) != want {
		tb.Fatalf("%d indices, want %d", len(got), want)
	}
	seen := make(map[int]bool, len(got))
	lastProt, lastOther := -1, -1
	prot := 0
	for _, i := range got {
		if i < 0 || i >= len(ranked) || seen[i] {
			tb.Fatalf("index %d out of range or repeated in %v", i, got)
		}
		seen[i] = true
		if isProtected(ranked[i]) { // each group keeps its order
			if i < lastProt {
				tb.Fatalf("protected order broken in %v", got)
			}
			lastProt = i
			prot++
		} else {
			if i < lastOther {
				tb.Fatalf("unprotected order broken in %v", got)
			}
			lastOther = i
		}
	}
	total := 0
	for _, m := range ranked {
		if isProtected(m) {
			total++
		}
	}
	if share > 0 {
		need := min(total, int(math.Ceil(min(share, 1)*float64(want)-1e-9)))
		if prot < need {
			tb.Fatalf("%d protected in the top %d, want at least %d (share %v, %d exist): %v", prot, want, need, share, total, got)
		}
	}
}

func TestFairTopK(t *testing.T) {
	seq := func(n int) []int {
		out := make([]int, n)
		for i := range out {
			out[i] = i
		}
		return out
	}
	bottom := []int{20, 21, 22, 23, 24}
	cases := []struct {
		name   string
		ranked []ProductMatch
		k      int
		share  float64
		want   []int // nil: only the properties are checked
	}{
		{"share 0 keeps the order", rankedList(30, bottom...), 10, 0, seq(10)},
		{"NaN share keeps the order", rankedList(30, bottom...), 10, math.NaN(), seq(10)},
		{"share 0.3 of 10, protected at the bottom", rankedList(25, bottom...), 10, 0.3, []int{0, 1, 2, 3, 4, 5, 20, 6, 21, 22}}, // m = 0 0 0 0 0 0 1 1 2 3,
		{"share 0.5 of 10", rankedList(25, bottom...), 10, 0.5, nil},
		{"share 1", rankedList(25, bottom...), 10, 1, []int{20, 21, 22, 23, 24, 0, 1, 2, 3, 4}},
		{"share above 1 counts as 1", rankedList(25, bottom...), 5, 7, []int{20, 21, 22, 23, 24}},
		{"protected already on top", rankedList(25, 0, 1, 2, 3), 10, 0.3, seq(10)},
		{"not enough protected: all of them", rankedList(40, 39), 10, 0.5, []int{0, 1, 2, 39, 3, 4, 5, 6, 7, 8}}, // m(4) = 1 for p = 0.5,
		{"no protected at all", rankedList(40), 10, 0.5, seq(10)},
		{"k larger than the list", rankedList(6, 5), 10, 0.3, []int{0, 1, 2, 3, 5, 4}}, // ceil(0.3·6) = 2: m(5) = 1,
		{"k 0", rankedList(6, 5), 0, 0.3, []int{}},
		{"k negative", rankedList(6, 5), -3, 0.3, []int{}},
		{"empty list", nil, 10, 0.3, []int{}},
		{"everything protected", rankedList(5, 0, 1, 2, 3, 4), 3, 0.5, seq(3)},
		{"long list, binomial test on prefixes", rankedList(200, 150, 160, 170, 180, 190, 195, 196, 197, 198, 199), 100, 0.1, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := FairTopK(tc.ranked, tc.k, tc.share)
			checkFair(t, tc.ranked, tc.k, tc.share, got)
			if tc.want != nil && !slices.Equal(got, tc.want) {
				t.Fatalf("FairTopK = %v, want %v", got, tc.want)
			}
			if again := FairTopK(tc.ranked, tc.k, tc.share); !slices.Equal(got, again) {
				t.Fatalf("not deterministic: %v then %v", got, again)
			}
		})
	}
}

// TestFairPrefixes checks every prefix of a re-ranked list against m(i).
func TestFairPrefixes(t *testing.T) {
	var bottom []int
	for i := 100; i < 200; i++ {
		bottom = append(bottom, i)
	}
	ranked := rankedList(200, bottom...)
	for _, share := range []float64{0.1, 0.3, 0.5, 0.8} {
		k := 60
		got := FairTopK(ranked, k, share)
		need := fairMinimums(k, share)
		prot := 0
		for i, idx := range got {
			if isProtected(ranked[idx]) {
				prot++
			}
			if prot < need[i+1] {
				t.Fatalf("share %v: prefix %d holds %d protected, needs %d", share, i+1, prot, need[i+1])
			}
			// Greedy: a protected item is taken early only when needed.
			if isProtected(ranked[idx]) && prot > need[i+1] {
				t.Fatalf("share %v: prefix %d takes a protected item it does not need", share, i+1)
			}
		}
	}
}

// exactBinomCDF sums the binomial probabilities directly.
func exactBinomCDF(m, n int, p float64) float64 {
	sum := 0.0
	for j := 0; j <= m && j <= n; j++ {
		lc, _ := math.Lgamma(float64(n + 1))
		lj, _ := math.Lgamma(float64(j + 1))
		lnj, _ := math.Lgamma(float64(n - j + 1))
		sum += math.Exp(lc - lj - lnj + float64(j)*math.Log(p) + float64(n-j)*math.Log1p(-p))
	}
	return sum
}

func TestBinomCDF(t *testing.T) {
	for _, p := range []float64{0.01, 0.1, 0.3, 0.5, 0.77, 0.99} {
		for n := 1; n <= 80; n++ {
			for m := 0; m <= n; m++ {
				got, want := binomCDF(m, n, p), exactBinomCDF(m, n, p)
				if math.Abs(got-want) > 1e-9 {
					t.Fatalf("CDF(%d; %d, %v) = %v, want %v", m, n, p, got, want)
				}
			}
		}
	}
	if binomCDF(-1, 5, 0.5) != 0 || binomCDF(5, 5, 0.5) != 1 || binomCDF(2, 5, 0) != 1 || binomCDF(2, 5, 1) != 0 {
		t.Fatal("edge cases")
	}
	// Large n stays finite and monotone.
	prev := -1.0
	for m := 0; m <= 100000; m += 5000 {
		v := binomCDF(m, 100000, 0.3)
		if math.IsNaN(v) || v < prev-1e-12 || v < 0 || v > 1 {
			t.Fatalf("CDF(%d; 100000, 0.3) = %v after %v", m, v, prev)
		}
		prev = v
	}
}

func TestFairMinimums(t *testing.T) {
	// The inverse CDF alone: for p = 0.3, the top 6 needs no protected item
	// (P(X = 0) = 0.7⁶ = 0.118 ≥ 0.1), the top 7 needs one (0.7⁷ = 0.082 < 0.1),
	// and so does the top 10 (P(X ≤ 1) = 0.149); the contract lifts m(10) to
	// ceil(0.3·10) = 3 and propagates back.
	got := fairMinimums(10, 0.3)
	want := []int{0, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3}
	if !slices.Equal(got, want) {
		t.Fatalf("m = %v, want %v", got, want)
	}
	// Without the contract term, m(i) matches the inverse CDF at every i.
	for _, p := range []float64{0.1, 0.5, 0.9} {
		m := fairMinimums(300, p)
		for i := 1; i <= 300; i++ {
			ppf := 0
			for ppf < i && exactBinomCDF(ppf, i, p) < fairAlpha {
				ppf++
			}
			if m[i] < ppf || m[i] > i || m[i] < m[i-1] || m[i] > m[i-1]+1 {
				t.Fatalf("p %v: m(%d) = %d (prev %d), inverse CDF %d", p, i, m[i], m[i-1], ppf)
			}
		}
	}
}

// FuzzFairTopK re-ranks lists built from the fuzz arguments: indices are
// unique, within range, min(k, len) of them, each group's order is kept and
// the share holds wherever enough protected items exist.
func FuzzFairTopK(f *testing.F) {
	f.Add(uint8(25), 10, 0.3, uint64(0b11111<<20))
	f.Add(uint8(0), 5, 0.5, uint64(0))
	f.Add(uint8(200), 300, 1.0, uint64(1))
	f.Add(uint8(7), -2, math.NaN(), uint64(0xff))
	f.Fuzz(func(t *testing.T, n uint8, k int, share float64, mask uint64) {
		var protected []int
		for i := range int(n) {
			if mask&(1<<(i%64)) != 0 && (i/64)%2 == int(mask>>63) {
				protected = append(protected, i)
			}
		}
		ranked := rankedList(int(n), protected...)
		got := FairTopK(ranked, k, share)
		checkFair(t, ranked, k, share, got)
	})
}
