package indexer

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/livematch/livematch/engine"
	"github.com/livematch/livematch/store"
)

// followStore opens a store on a fresh database of an embedded FerretDB
// started for this test (or MONGODB_URI when set).
func followStore(tb testing.TB) *store.Store {
	tb.Helper()
	ctx := context.Background()
	uri := os.Getenv("MONGODB_URI")
	var emb *store.Embedded
	if uri == "" {
		var err error
		emb, err = store.StartEmbedded(ctx, tb.TempDir(), "", nil)
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { _ = emb.Close() })
		uri = emb.URI()
	}
	st, err := store.Open(ctx, uri, store.Options{Database: "follow_test", Embedded: emb})
	if err != nil {
		tb.Fatal(err)
	}
	if err := st.Drop(ctx); err != nil {
		tb.Fatal(err)
	}
	if err := st.Init(ctx); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = st.Close(ctx) })
	return st
}

func followProduct(sku string, stock int64) *engine.Product {
	return &engine.Product{OrgID: "org_f", SKU: sku, TitleZh: "猕猴桃 " + sku, Category: "fresh_fruit",
		PriceCNY: 10, Stock: stock, ShipFrom: "610124", ReviewStatus: engine.ReviewApproved}
}

func TestFollowerCatchUpRunAndRestart(t *testing.T) {
	ctx := context.Background()
	st := followStore(t)
	dir := filepath.Join(t.TempDir(), "index")
	cfg := testConfig(t, dir)

	// Writes before the index exists are replayed by CatchUp.
	for i := 0; i < 5; i++ {
		if _, err := st.UpsertProduct(ctx, followProduct(fmt.Sprintf("F-%d", i), 10), 0, nil); err != nil {
			t.Fatal(err)
		}
	}
	idx, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f := NewFollower(idx, st, nil)
	if err := f.CatchUp(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if n, _ := idx.DocCount(); n != 5 || idx.Checkpoint() != 5 || !f.CaughtUp() {
		t.Fatalf("after catch-up: %d docs, checkpoint %d", n, idx.Checkpoint())
	}

	// Run applies new writes, deletes included.
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- f.Run(runCtx) }()
	id := store.ProductID("org_f", "F-0")
	if _, _, err := st.UpdateProduct(ctx, id, 0, func(p *engine.Product) error { p.Stock = 0; return nil }); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteProduct(ctx, store.ProductID("org_f", "F-1"), 0, nil); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		s, err := f.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if s.Lag == 0 && s.Documents == 4 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("follower did not catch up: %+v", s)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if p, ok := idx.Product(id); !ok || p.Stock != 0 {
		t.Fatalf("stock change not applied: %+v", p)
	}
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := idx.Close(); err != nil {
		t.Fatal(err)
	}

	// Writes while the index is closed (a crash, a restart) are replayed from
	// the stored checkpoint; nothing before it is read again.
	if _, err := st.UpsertProduct(ctx, followProduct("F-new", 3), 0, nil); err != nil {
		t.Fatal(err)
	}
	idx, err = Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer idx.Close()
	if idx.Checkpoint() != 7 {
		t.Fatalf("checkpoint after reopen: %d", idx.Checkpoint())
	}
	replayed := 0
	f = NewFollower(idx, st, nil)
	if err := f.CatchUp(ctx, func(n int) { replayed = n }); err != nil {
		t.Fatal(err)
	}
	if n, _ := idx.DocCount(); n != 5 || replayed != 1 || idx.Checkpoint() != 8 {
		t.Fatalf("after restart: %d docs, replayed %d, checkpoint %d", n, replayed, idx.Checkpoint())
	}
	// Up to date: no sweep at all.
	replayed = -1
	if err := NewFollower(idx, st, nil).CatchUp(ctx, func(n int) { replayed = n }); err != nil || replayed != -1 {
		t.Fatalf("up-to-date catch-up swept (%d, %v)", replayed, err)
	}
}

// A backlog larger than one index batch is applied in several, in seq
// order, each with a checkpoint below the batches still to come; the last
// reaches the feed's watermark.
func TestFollowerAppliesABacklogInBatches(t *testing.T) {
	ctx := context.Background()
	st := followStore(t)
	idx := mustOpen(t, testConfig(t, ""), defaultOptions())
	f := NewFollower(idx, st, nil)
	if err := f.CatchUp(ctx, nil); err != nil {
		t.Fatal(err)
	}
	n := 2*maxApply + 345
	ps := make([]*engine.Product, n)
	for i := range ps {
		ps[i] = followProduct(fmt.Sprintf("B-%05d", i), int64(i+1))
	}
	for start := 0; start < n; start += 1000 {
		if _, err := st.BulkUpsertProducts(ctx, ps[start:min(start+1000, n)], nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.drain(ctx); err != nil { // one drain of the whole backlog
		t.Fatal(err)
	}
	head, err := st.ProductSeq(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if docs, _ := idx.DocCount(); docs != uint64(n) || idx.Checkpoint() != head || f.applied.Load() != int64(n) {
		t.Fatalf("%d docs, checkpoint %d (head %d), applied %d; want %d", docs, idx.Checkpoint(), head, f.applied.Load(), n)
	}
	if p, ok := idx.Product(store.ProductID("org_f", fmt.Sprintf("B-%05d", n-1))); !ok || p.Stock != int64(n) {
		t.Fatalf("last product: %+v", p)
	}
}
