package main

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// latency summarises one measured series of calls.
type latency struct {
	n, errors          int
	p50, p95, p99, max time.Duration
	rps                float64 // calls per second over the wall time
	firstErr           error
}

// String formats the summary for logs.
func (l latency) String() string {
	s := fmt.Sprintf("n=%d p50=%s p95=%s p99=%s max=%s %.0f/s", l.n, ms(l.p50), ms(l.p95), ms(l.p99), ms(l.max), l.rps)
	if l.errors > 0 {
		s += fmt.Sprintf(" errors=%d (%v)", l.errors, l.firstErr)
	}
	return s
}

// measure calls fn(i) for i in 0..n-1 from `clients` goroutines at once,
// timing each call, and summarises the series.
func measure(clients, n int, fn func(i int) error) latency {
	clients = max(clients, 1)
	times := make([]time.Duration, n)
	var next atomic.Int64
	var mu sync.Mutex
	var l latency
	start := time.Now()
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				t0 := time.Now()
				err := fn(i)
				times[i] = time.Since(t0)
				if err != nil {
					mu.Lock()
					if l.errors == 0 {
						l.firstErr = err
					}
					l.errors++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	wall := time.Since(start)
	slices.Sort(times)
	l.n = n
	if n > 0 {
		l.p50, l.p95, l.p99, l.max = percentile(times, 0.50), percentile(times, 0.95), percentile(times, 0.99), times[n-1]
		l.rps = float64(n) / wall.Seconds()
	}
	return l
}

// percentile returns the q-quantile of sorted (nearest rank).
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// ms formats d in milliseconds with two decimals.
func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }
