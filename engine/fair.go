package engine

import "math"

// fairAlpha is the significance level of FairTopK's binomial test.
const fairAlpha = 0.1

// FairTopK returns the indices (into ranked, which is sorted best first) of
// the top k after FA*IR-style constrained re-ranking (Zehlike et al., 2017:
// "FA*IR: A Fair Top-k Ranking Algorithm"). An item is protected when its
// Supplier is a poverty-relief supplier.
//
// Every prefix of length i of the result holds at least m(i) protected items,
// where m(i) is the inverse binomial CDF at significance 0.1 for (i,
// minShare): the fewest protected items a fair ranking with that share would
// show with probability above 10%. In addition the whole top k holds at
// least ceil(minShare·k) protected items (the contract's guarantee), which is
// propagated back to the prefixes (m(i) ≥ m(k) − (k − i)). When fewer
// protected items exist than required, all of them are taken.
//
// The re-ranking is greedy: at each position it takes the best remaining
// protected item if the prefix holds fewer than m(i), else the best remaining
// item overall. The relative order within the protected and within the other
// items is kept. k is capped at len(ranked); minShare ≤ 0 (or NaN) returns
// the first k unchanged; minShare above 1 counts as 1. The result is
// deterministic.
func FairTopK(ranked []ProductMatch, k int, minShare float64) []int {
	k = max(0, min(k, len(ranked)))
	out := make([]int, 0, k)
	if !(minShare > 0) {
		for i := range k {
			out = append(out, i)
		}
		return out
	}
	minShare = min(minShare, 1)
	need := fairMinimums(k, minShare)

	var prot, other []int // indices of each group, best first
	for i := range ranked {
		if s := ranked[i].Supplier; s != nil && s.PovertyRelief {
			prot = append(prot, i)
		} else {
			other = append(other, i)
		}
	}
	taken := 0
	for i := 1; i <= k; i++ {
		takeProt := len(prot) > 0 && (taken < need[i] || len(other) == 0 || prot[0] < other[0])
		if takeProt {
			out = append(out, prot[0])
			prot = prot[1:]
			taken++
		} else {
			out = append(out, other[0])
			other = other[1:]
		}
	}
	return out
}

// fairMinimums returns m(0..k): the fewest protected items each prefix of a
// top k must hold for a target share p (0 < p ≤ 1).
func fairMinimums(k int, p float64) []int {
	m := make([]int, k+1)
	cur := 0
	for i := 1; i <= k; i++ {
		// The inverse CDF never falls and rises by at most 1 as i grows.
		for cur < i && binomCDF(cur, i, p) < fairAlpha {
			cur++
		}
		m[i] = cur
	}
	total := int(math.Ceil(p*float64(k) - 1e-9)) // 0.3·10 is 3.0000000000000004 in floating point
	for i := k; i >= 1; i-- {
		m[i] = max(m[i], total-(k-i))
		if i < k {
			m[i] = max(m[i], m[i+1]-1)
		}
		m[i] = min(m[i], i)
	}
	return m
}

// binomCDF returns P(X ≤ m) for X ~ Binomial(n, p).
func binomCDF(m, n int, p float64) float64 {
	switch {
	case m < 0:
		return 0
	case m >= n || p <= 0:
		return 1
	case p >= 1:
		return 0
	}
	// P(X ≤ m) = I_{1−p}(n−m, m+1), the regularised incomplete beta function.
	return regIncBeta(1-p, float64(n-m), float64(m+1))
}

// regIncBeta returns the regularised incomplete beta function I_x(a, b)
// (continued fraction, after Numerical Recipes §6.4).
func regIncBeta(x, a, b float64) float64 {
	if x <= 0 {
		return 0
	}
	if x >= 1 {
		return 1
	}
	lab, _ := math.Lgamma(a + b)
	la, _ := math.Lgamma(a)
	lb, _ := math.Lgamma(b)
	front := math.Exp(lab - la - lb + a*math.Log(x) + b*math.Log1p(-x))
	if x < (a+1)/(a+b+2) {
		return front * betaCF(x, a, b) / a
	}
	return 1 - front*betaCF(1-x, b, a)/b
}

// betaCF evaluates the continued fraction of the incomplete beta function by
// the modified Lentz method.
func betaCF(x, a, b float64) float64 {
	const (
		eps     = 1e-15
		tiny    = 1e-300
		maxIter = 100000
	)
	guard := func(v float64) float64 {
		if math.Abs(v) < tiny {
			return tiny
		}
		return v
	}
	qab, qap, qam := a+b, a+1, a-1
	c := 1.0
	d := 1 / guard(1-qab*x/qap)
	h := d
	for i := 1; i <= maxIter; i++ {
		m := float64(i)
		m2 := 2 * m
		aa := m * (b - m) * x / ((qam + m2) * (a + m2))
		d = 1 / guard(1+aa*d)
		c = guard(1 + aa/c)
		h *= d * c
		aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
		d = 1 / guard(1+aa*d)
		c = guard(1 + aa/c)
		del := d * c
		h *= del
		if math.Abs(del-1) < eps {
			break
		}
	}
	return h
}
