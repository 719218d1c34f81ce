package store

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/livematch/livematch/engine"
)

// runParallel calls fn(i) for i in 0..b.N-1 from g goroutines at once and
// reports the throughput (ops/s) and the mean attempts per call that
// attempts, when set, collects.
func runParallel(b *testing.B, g int, fn func(i int) error) {
	b.Helper()
	var next atomic.Int64
	var failed atomic.Int64
	var first atomic.Value
	b.ResetTimer()
	var wg sync.WaitGroup
	for range g {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= b.N {
					return
				}
				if err := fn(i); err != nil {
					if failed.Add(1) == 1 {
						first.Store(err)
					}
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d of %d calls failed, first: %v", n, b.N, first.Load())
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}

// BenchmarkBook measures Store.Book, one unit per call: "hot" books one
// product from g goroutines of one Store (a flash sale on one server),
// "hot-2stores" splits them over two Stores on separate driver clients
// (two servers), "spread" books 10,000 products round robin. The figures
// are in docs/performance.md (Reservations).
func BenchmarkBook(b *testing.B) {
	ctx := context.Background()
	var attempts atomic.Int64
	book := func(s *Store, key string, i int) error {
		res, err := s.Book(ctx, key, engine.MaxStock, 1, BookingEntry{Ref: fmt.Sprintf("rsv_%d_%d", time.Now().UnixNano(), i)})
		attempts.Add(int64(res.Attempts))
		return err
	}
	report := func(b *testing.B) {
		b.ReportMetric(float64(attempts.Swap(0))/float64(b.N), "attempts/op")
	}
	for _, g := range []int{1, 16, 64} {
		b.Run(fmt.Sprintf("hot/goroutines=%d", g), func(b *testing.B) {
			s := mustOpen(b)
			attempts.Store(0)
			runParallel(b, g, func(i int) error { return book(s, "prd_hot@1", i) })
			report(b)
		})
	}
	b.Run("hot-2stores/goroutines=16", func(b *testing.B) {
		s := mustOpen(b)
		o := peer(b, s, testURI, testEmbedded)
		attempts.Store(0)
		runParallel(b, 16, func(i int) error { return book([]*Store{s, o}[i%2], "prd_hot@1", i) })
		report(b)
	})
	for _, g := range []int{16, 64} {
		b.Run(fmt.Sprintf("spread/products=10000/goroutines=%d", g), func(b *testing.B) {
			s := mustOpen(b)
			attempts.Store(0)
			runParallel(b, g, func(i int) error { return book(s, fmt.Sprintf("prd_%d@1", i%10000), i) })
			report(b)
		})
	}
}

// BenchmarkCreateReservation measures Store.CreateReservation (the ledger
// booking and the reservation's insert), one unit per call, on one hot
// product and round robin over 10,000 products, from g goroutines.
func BenchmarkCreateReservation(b *testing.B) {
	ctx := context.Background()
	now := time.Now()
	reserve := func(s *Store, p *engine.Product) error {
		r := &engine.Reservation{ProductID: p.ID, Units: 1, StreamDate: now.Add(48 * time.Hour)}
		if err := engine.PrepareReservation(r, now); err != nil {
			return err
		}
		r.SupplierOrgID, r.MCNOrgID, r.ProductSKU, r.ProductTitleZh = p.OrgID, "org_mcn", p.SKU, p.TitleZh
		_, err := s.CreateReservation(ctx, p, r)
		return err
	}
	newProduct := func(i int) *engine.Product {
		p := product("org_sup", fmt.Sprintf("SKU-%d", i), engine.MaxStock)
		p.ID, p.CreatedAt = ProductID(p.OrgID, p.SKU), now
		return p
	}
	for _, g := range []int{1, 16, 64} {
		b.Run(fmt.Sprintf("hot/goroutines=%d", g), func(b *testing.B) {
			s := mustOpen(b)
			p := newProduct(0)
			runParallel(b, g, func(int) error { return reserve(s, p) })
		})
	}
	for _, g := range []int{16, 64} {
		b.Run(fmt.Sprintf("spread/products=10000/goroutines=%d", g), func(b *testing.B) {
			s := mustOpen(b)
			ps := make([]*engine.Product, 10000)
			for i := range ps {
				ps[i] = newProduct(i)
			}
			runParallel(b, g, func(i int) error { return reserve(s, ps[i%len(ps)]) })
		})
	}
}
