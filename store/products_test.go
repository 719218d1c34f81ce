package store

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/livematch/livematch/engine"
)

// bulkMode is a way to open the store under test. "embedded" is the
// default set-up (Options.Embedded: bulk replacements go through
// replaceStaged). "driver" opens the same database without
// Options.Embedded, so that the store takes the path it takes on a real
// MongoDB: $in reads, version compare-and-swap filters, update commands.
type bulkMode struct {
	name string
	open func(testing.TB) *Store
	size int // products per chunk: the driver path scans on FerretDB
}

func bulkModes() []bulkMode {
	modes := []bulkMode{{name: "driver", open: openDriverPath, size: 45}}
	if testEmbedded != nil {
		modes = append([]bulkMode{{name: "embedded", open: mustOpen, size: 160}}, modes...)
	}
	return modes
}

// openDriverPath is mustOpen without Options.Embedded.
func openDriverPath(tb testing.TB) *Store {
	tb.Helper()
	return openStore(tb, "d_", nil)
}

// setClock makes s stamp at (and from then on) t.
func setClock(s *Store, t time.Time) { s.now = func() time.Time { return t } }

// drainChecked drains s's feed and checks it: the watermark has reached
// the last seq allocated (no seq was left pending), no seq was published
// twice, and every change's seq was allocated. It returns the changes by
// product id.
func drainChecked(t *testing.T, s *Store) map[string][]ProductChange {
	t.Helper()
	changes, mark := s.Feed().Drain()
	head, err := s.ProductSeq(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if mark != head {
		t.Fatalf("watermark %d, last seq allocated %d", mark, head)
	}
	byID := map[string][]ProductChange{}
	seqs := map[int64]bool{}
	for _, c := range changes {
		if seqs[c.Seq] || c.Seq < 1 || c.Seq > head {
			t.Fatalf("change seq %d published twice or never allocated (head %d)", c.Seq, head)
		}
		seqs[c.Seq] = true
		byID[c.ID] = append(byID[c.ID], c)
	}
	return byID
}

// checkStagingEmpty checks that a bulk upsert left nothing staged.
func checkStagingEmpty(t *testing.T, s *Store) {
	t.Helper()
	n, err := s.db.Collection(stagingColl).CountDocuments(context.Background(), bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("%d documents left in %s", n, stagingColl)
	}
}

// Kinds of item in a bulk chunk.
const (
	itemNew      = iota
	itemExisting // stored and live before the call
	itemDeleted  // stored as a tombstone before the call
	itemRepeat   // the sku of the item before it, again
	itemBadNew   // a new product the database rejects (infinite price)
	itemBadOld   // an existing product whose new version the database rejects
)

func TestBulkUpsertChunks(t *testing.T) {
	type tc struct {
		name string
		kind func(i, n int) int
	}
	cases := []tc{
		{"new only", func(i, n int) int { return itemNew }},
		{"existing only", func(i, n int) int { return itemExisting }},
		// The probe (first 100) finds nothing: the rest is inserted first
		// too, and its existing products go read + replace.
		{"mixed after new probe", func(i, n int) int {
			if i < bulkProbe || i%2 == 0 {
				return itemNew
			}
			return itemExisting
		}},
		// The probe finds existing products: the rest is read first.
		{"mixed", func(i, n int) int { return []int{itemNew, itemExisting, itemExisting}[i%3] }},
		{"tombstones", func(i, n int) int { return []int{itemDeleted, itemNew, itemExisting}[i%3] }},
		{"repeated skus", func(i, n int) int {
			switch {
			case i%10 == 1 || i%10 == 6:
				return itemRepeat
			case i%10 >= 5:
				return itemExisting
			}
			return itemNew
		}},
	}
	if testEmbedded != nil {
		// FerretDB rejects infinite numbers (MongoDB stores them).
		cases = append(cases, tc{"bad items in the middle", func(i, n int) int {
			switch {
			case i == n/3:
				return itemBadNew
			case i == 2*n/3:
				return itemBadOld
			case i%2 == 0:
				return itemExisting
			}
			return itemNew
		}})
	}
	for _, mode := range bulkModes() {
		for _, c := range cases {
			t.Run(mode.name+"/"+c.name, func(t *testing.T) {
				runBulkCase(t, mode, c.kind)
			})
		}
	}
}

func runBulkCase(t *testing.T, mode bulkMode, kind func(i, n int) int) {
	ctx := context.Background()
	s := mode.open(t)
	n := mode.size
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	t1 := t0.Add(time.Hour)
	setClock(s, t0)

	// Store what must exist before the call, one product at a time.
	skus := make([]string, n)
	kinds := make([]int, n)
	prior := map[string]int64{} // version before the call
	for i := range n {
		kinds[i] = kind(i, n)
		skus[i] = fmt.Sprintf("K-%d", i)
		if kinds[i] == itemRepeat {
			skus[i] = skus[i-1]
			continue
		}
		if kinds[i] == itemExisting || kinds[i] == itemDeleted || kinds[i] == itemBadOld {
			p := product("org_k", skus[i], 1)
			if _, err := s.UpsertProduct(ctx, p, 0, nil); err != nil {
				t.Fatal(err)
			}
			prior[skus[i]] = 1
			if kinds[i] == itemDeleted {
				if err := s.DeleteProduct(ctx, p.ID, 0, nil); err != nil {
					t.Fatal(err)
				}
				prior[skus[i]] = 2
			}
		}
	}
	drainChecked(t, s)

	setClock(s, t1)
	ps := make([]*engine.Product, n)
	for i := range n {
		ps[i] = product("org_k", skus[i], int64(100+i))
		if kinds[i] == itemBadNew || kinds[i] == itemBadOld {
			ps[i].PriceCNY = math.Inf(1)
		}
	}
	kept := 0
	keep := func(old, p *engine.Product) {
		if math.IsInf(p.PriceCNY, 0) {
			return // rejected on insert or when staged: depends on the path
		}
		kept++
		if old.Version != prior[p.SKU] || old.Stock != 1 {
			t.Errorf("keep got %s at version %d stock %d", p.SKU, old.Version, old.Stock)
		}
		p.TitleEn = "kept " + old.SKU
	}
	res, err := s.BulkUpsertProducts(ctx, ps, keep)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != n {
		t.Fatalf("%d results for %d products", len(res), n)
	}
	feed := drainChecked(t, s)
	if mode.name == "embedded" {
		checkStagingEmpty(t, s)
	}

	wantKept := 0
	for i := range n {
		if kinds[i] == itemExisting {
			wantKept++
		}
		r, id := res[i], ProductID("org_k", skus[i])
		got, gerr := s.getProductDoc(ctx, id)
		switch kinds[i] {
		case itemRepeat:
			if !engine.IsKind(r.Err, engine.KindConflict) {
				t.Errorf("item %d (repeated sku): %+v, want a conflict", i, r)
			}
			continue
		case itemBadNew, itemBadOld:
			if r.Err == nil || engine.IsKind(r.Err, engine.KindConflict) {
				t.Errorf("item %d (bad): %+v, want the database's rejection", i, r)
			}
			if len(feed[id]) != 0 {
				t.Errorf("item %d (bad): published %+v", i, feed[id])
			}
			if kinds[i] == itemBadNew && !engine.IsKind(gerr, engine.KindNotFound) {
				t.Errorf("item %d (bad, new) stored: %+v %v", i, got, gerr)
			}
			if kinds[i] == itemBadOld && (gerr != nil || got.Version != 1 || got.Stock != 1) {
				t.Errorf("item %d (bad, existing) changed: %+v %v", i, got, gerr)
			}
			continue
		}
		if r.Err != nil {
			t.Errorf("item %d: %v", i, r.Err)
			continue
		}
		if gerr != nil {
			t.Fatalf("item %d: %v", i, gerr)
		}
		live := kinds[i] == itemExisting
		wantVersion, wantCreated, wantTitleEn := prior[skus[i]]+1, t1, ""
		if live {
			wantCreated, wantTitleEn = t0, "kept "+skus[i]
		}
		if r.Created == live || got.Version != wantVersion || !got.CreatedAt.Equal(wantCreated) ||
			!got.UpdatedAt.Equal(t1) || got.Stock != int64(100+i) || got.Deleted || got.TitleEn != wantTitleEn {
			t.Errorf("item %d (kind %d): created=%v, stored %+v", i, kinds[i], r.Created, got)
		}
		if ps[i].Version != got.Version || ps[i].Seq != got.Seq || ps[i].ID != id {
			t.Errorf("item %d: caller's product has version %d seq %d id %s, stored %d %d %s",
				i, ps[i].Version, ps[i].Seq, ps[i].ID, got.Version, got.Seq, got.ID)
		}
		if cs := feed[id]; len(cs) != 1 || cs[0].Seq != got.Seq || cs[0].Deleted || cs[0].Product == nil ||
			cs[0].Product.Version != got.Version || cs[0].Product.Stock != got.Stock {
			t.Errorf("item %d: feed has %+v for stored seq %d", i, cs, got.Seq)
		}
	}
	if kept != wantKept {
		t.Errorf("keep called %d times, want %d (once per live product)", kept, wantKept)
	}
}

// TestBulkUpsertManyReplacesDriverPath replaces more products in one call
// than FerretDB 1.24 answers in one update command (it hangs at 100). The
// driver path is MongoDB's; on FerretDB each of its version-checked
// replaces reads the whole collection, which under -race on a busy CI
// machine once took longer than the default 5 s operation bound: this test
// is about the answer, so its bound is generous.
func TestBulkUpsertManyReplacesDriverPath(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, "d_", nil, func(o *Options) { o.Timeout = 60 * time.Second })
	const n = 104
	ps := make([]*engine.Product, n)
	for i := range ps {
		ps[i] = product("org_m", fmt.Sprintf("M-%d", i), 1)
	}
	for round := 1; round <= 2; round++ {
		res, err := s.BulkUpsertProducts(ctx, ps, nil)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		for i, r := range res {
			if r.Err != nil || r.Created != (round == 1) || ps[i].Version != int64(round) {
				t.Fatalf("round %d item %d: %+v version %d", round, i, r, ps[i].Version)
			}
		}
		if feed := drainChecked(t, s); len(feed) != n {
			t.Fatalf("round %d: feed has changes for %d products, want %d", round, len(feed), n)
		}
	}
}

// TestBulkUpsertConflictFailsOnlyThatItem changes a product behind the
// store's back (as another process would) between the bulk upsert's read
// and its write: on the version compare-and-swap path only that item fails.
func TestBulkUpsertConflictFailsOnlyThatItem(t *testing.T) {
	ctx := context.Background()
	s := openDriverPath(t)
	const n, victim = 40, 17
	ps := make([]*engine.Product, n)
	for i := range ps {
		ps[i] = product("org_c", fmt.Sprintf("C-%d", i), 1)
	}
	if _, err := s.BulkUpsertProducts(ctx, ps, nil); err != nil {
		t.Fatal(err)
	}
	drainChecked(t, s)
	victimID := ProductID("org_c", fmt.Sprintf("C-%d", victim))
	keep := func(old, p *engine.Product) {
		if old.ID == victimID {
			_, err := s.products.UpdateOne(ctx, bson.D{{Key: "_id", Value: victimID}},
				bson.D{{Key: "$set", Value: bson.D{{Key: "version", Value: 7}, {Key: "stock", Value: 77}}}})
			if err != nil {
				t.Error(err)
			}
		}
	}
	for i := range ps {
		ps[i] = product("org_c", fmt.Sprintf("C-%d", i), 2)
	}
	res, err := s.BulkUpsertProducts(ctx, ps, keep)
	if err != nil {
		t.Fatal(err)
	}
	feed := drainChecked(t, s)
	for i, r := range res {
		got, err := s.getProductDoc(ctx, ps[i].ID)
		if err != nil {
			t.Fatal(err)
		}
		if i == victim {
			if !engine.IsKind(r.Err, engine.KindConflict) || got.Version != 7 || got.Stock != 77 || len(feed[ps[i].ID]) != 0 {
				t.Errorf("victim: %+v, stored %+v, feed %+v", r, got, feed[ps[i].ID])
			}
			continue
		}
		if r.Err != nil || got.Version != 2 || got.Stock != 2 || len(feed[ps[i].ID]) != 1 {
			t.Errorf("item %d: %+v, stored %+v, feed %+v", i, r, got, feed[ps[i].ID])
		}
	}
}

// TestBulkUpsertVanished deletes a product outright behind the store's
// back between the bulk upsert's read and its write: a replace never
// creates, so only that item fails, and nothing is stored for it. On the
// embedded database this makes the staged transaction fall short, roll
// back and leave the items to the update commands.
func TestBulkUpsertVanished(t *testing.T) {
	for _, mode := range bulkModes() {
		t.Run(mode.name, func(t *testing.T) {
			ctx := context.Background()
			s := mode.open(t)
			const n, victim = 40, 23
			ps := make([]*engine.Product, n)
			for i := range ps {
				ps[i] = product("org_v", fmt.Sprintf("V-%d", i), 1)
			}
			if _, err := s.BulkUpsertProducts(ctx, ps, nil); err != nil {
				t.Fatal(err)
			}
			drainChecked(t, s)
			victimID := ps[victim].ID
			keep := func(old, p *engine.Product) {
				if old.ID == victimID {
					if _, err := s.products.DeleteOne(ctx, bson.D{{Key: "_id", Value: victimID}}); err != nil {
						t.Error(err)
					}
				}
			}
			for i := range ps {
				ps[i] = product("org_v", fmt.Sprintf("V-%d", i), 2)
			}
			res, err := s.BulkUpsertProducts(ctx, ps, keep)
			if err != nil {
				t.Fatal(err)
			}
			feed := drainChecked(t, s)
			for i, r := range res {
				got, err := s.getProductDoc(ctx, ps[i].ID)
				if i == victim {
					if !engine.IsKind(r.Err, engine.KindConflict) || !engine.IsKind(err, engine.KindNotFound) || len(feed[victimID]) != 0 {
						t.Errorf("victim: %+v, stored %+v (%v), feed %+v", r, got, err, feed[victimID])
					}
					continue
				}
				if r.Err != nil || err != nil || got.Version != 2 || got.Stock != 2 || len(feed[ps[i].ID]) != 1 {
					t.Errorf("item %d: %+v, stored %+v (%v), feed %+v", i, r, got, err, feed[ps[i].ID])
				}
			}
			if mode.name == "embedded" {
				checkStagingEmpty(t, s)
			}
		})
	}
}

// TestBulkUpsertCancelled cancels the call after its inserts, before its
// replaces: the call fails, what was inserted is stored and published, the
// existing products are unchanged, and no seq is left pending.
func TestBulkUpsertCancelled(t *testing.T) {
	for _, mode := range bulkModes() {
		t.Run(mode.name, func(t *testing.T) {
			s := mode.open(t)
			n := mode.size
			ps := make([]*engine.Product, n)
			for i := range ps {
				ps[i] = product("org_x", fmt.Sprintf("X-%d", i), 1)
				if i%2 == 0 {
					if _, err := s.UpsertProduct(context.Background(), ps[i], 0, nil); err != nil {
						t.Fatal(err)
					}
				}
			}
			drainChecked(t, s)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			for i := range ps {
				ps[i] = product("org_x", fmt.Sprintf("X-%d", i), 2)
			}
			_, err := s.BulkUpsertProducts(ctx, ps, func(old, p *engine.Product) { cancel() })
			if !engine.IsKind(err, engine.KindUnavailable) {
				t.Fatalf("cancelled call: %v", err)
			}
			feed := drainChecked(t, s)
			for i, p := range ps {
				got, err := s.getProductDoc(context.Background(), p.ID)
				if err != nil {
					t.Fatal(err)
				}
				wantStock, wantChanges := int64(2), 1 // inserted by the call
				if i%2 == 0 {
					wantStock, wantChanges = 1, 0 // existed: never replaced
				}
				if got.Version != 1 || got.Stock != wantStock || len(feed[p.ID]) != wantChanges {
					t.Errorf("item %d: stored %+v, feed %+v", i, got, feed[p.ID])
				}
			}
			if mode.name == "embedded" {
				checkStagingEmpty(t, s)
			}
		})
	}
}

// TestBulkSettle covers writes whose outcome is unknown (a lost reply, an
// unconfirmed commit): settle publishes the ones stored under their own
// seq, fails the others, and finishes every seq.
func TestBulkSettle(t *testing.T) {
	for _, mode := range bulkModes() {
		t.Run(mode.name, func(t *testing.T) {
			ctx := context.Background()
			s := mode.open(t)
			other := product("org_u", "U-other", 5) // stored by another writer
			if _, err := s.UpsertProduct(ctx, other, 0, nil); err != nil {
				t.Fatal(err)
			}
			drainChecked(t, s)
			first, err := s.reserveProducts(ctx, 3)
			if err != nil {
				t.Fatal(err)
			}
			b := &bulkRun{s: s, op: "test", out: make([]BulkResult, 3)}
			for k, sku := range []string{"U-stored", "U-other", "U-lost"} {
				p := product("org_u", sku, 1)
				p.ID, p.Version, p.Seq = ProductID(p.OrgID, p.SKU), 1, first+int64(k)
				b.items = append(b.items, &bulkItem{i: k, p: p, seq: p.Seq, doc: toProductDoc(p)})
			}
			if _, err := s.products.InsertOne(ctx, b.items[0].doc); err != nil {
				t.Fatal(err)
			}
			b.settle(ctx, b.items)
			feed := drainChecked(t, s)
			if b.out[0].Err != nil || len(feed[b.items[0].p.ID]) != 1 || feed[b.items[0].p.ID][0].Seq != first {
				t.Errorf("stored write: %+v, feed %+v", b.out[0], feed[b.items[0].p.ID])
			}
			for k := 1; k < 3; k++ {
				if !engine.IsKind(b.out[k].Err, engine.KindConflict) || len(feed[b.items[k].p.ID]) != 0 {
					t.Errorf("item %d: %+v, feed %+v", k, b.out[k], feed[b.items[k].p.ID])
				}
			}
			for _, it := range b.items {
				if !it.done {
					t.Errorf("%s: seq %d not finished", it.p.SKU, it.seq)
				}
			}
		})
	}
}

// TestBulkUpsertStagingLeftovers stores a product over a staged document
// left by an attempt that did not finish (a crash).
func TestBulkUpsertStagingLeftovers(t *testing.T) {
	if testEmbedded == nil {
		t.Log("MONGODB_URI is set: no staging without the embedded FerretDB")
		return
	}
	ctx := context.Background()
	s := mustOpen(t)
	ps := []*engine.Product{product("org_l", "L-1", 1), product("org_l", "L-2", 1)}
	if _, err := s.BulkUpsertProducts(ctx, ps, nil); err != nil {
		t.Fatal(err)
	}
	stale := product("org_l", "L-1", 99)
	stale.ID, stale.Version, stale.Seq = ps[0].ID, 9, 999
	if _, err := s.db.Collection(stagingColl).InsertOne(ctx, toProductDoc(stale)); err != nil {
		t.Fatal(err)
	}
	ps = []*engine.Product{product("org_l", "L-1", 2), product("org_l", "L-2", 2)}
	res, err := s.BulkUpsertProducts(ctx, ps, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		got, err := s.getProductDoc(ctx, ps[i].ID)
		if r.Err != nil || err != nil || got.Version != 2 || got.Stock != 2 || got.Seq != ps[i].Seq {
			t.Errorf("item %d: %+v, stored %+v (%v)", i, r, got, err)
		}
	}
	checkStagingEmpty(t, s)
	drainChecked(t, s)
}

// TestBulkUpsertConcurrent runs bulk upserts of overlapping products from
// several goroutines, and single writes of the same products alongside:
// every product's final version is the number of writes acknowledged for
// it (a lost update would leave it lower), and the feed carries each
// acknowledged write once.
func TestBulkUpsertConcurrent(t *testing.T) {
	for _, mode := range bulkModes() {
		t.Run(mode.name, func(t *testing.T) {
			ctx := context.Background()
			s := mode.open(t)
			pool := mode.size / 2
			const bulkers, singles, rounds = 4, 2, 4
			const singleMark = 999_999 // the stock single writes set (bulk writes set g*100+round)
			var mu sync.Mutex
			acks := map[string]int64{}
			ack := func(id string) {
				mu.Lock()
				acks[id]++
				mu.Unlock()
			}
			var wg sync.WaitGroup
			for g := range bulkers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					rng := rand.New(rand.NewPCG(uint64(g), 1))
					for round := range rounds {
						var ps []*engine.Product
						for _, k := range rng.Perm(pool)[:pool*2/3] {
							ps = append(ps, product("org_p", fmt.Sprintf("P-%d", k), int64(g*100+round)))
						}
						res, err := s.BulkUpsertProducts(ctx, ps, nil)
						if err != nil {
							t.Error(err)
							return
						}
						for i, r := range res {
							if r.Err != nil {
								t.Errorf("bulk %d round %d %s: %v", g, round, ps[i].SKU, r.Err)
								continue
							}
							ack(ps[i].ID)
						}
					}
				}()
			}
			for g := range singles {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for k := g; k < pool; k += 3 {
						p := product("org_p", fmt.Sprintf("P-%d", k), singleMark)
						if _, err := s.UpsertProduct(ctx, p, 0, nil); err != nil {
							t.Error(err)
							continue
						}
						ack(p.ID)
					}
				}()
			}
			wg.Wait()
			feed := drainChecked(t, s)
			for k := range pool {
				id := ProductID("org_p", fmt.Sprintf("P-%d", k))
				got, err := s.getProductDoc(ctx, id)
				if acks[id] == 0 {
					if !engine.IsKind(err, engine.KindNotFound) {
						t.Errorf("%s: never written, stored %+v %v", id, got, err)
					}
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
				if got.Version != acks[id] || int64(len(feed[id])) != acks[id] {
					t.Errorf("%s: version %d, %d changes published, %d writes acknowledged", id, got.Version, len(feed[id]), acks[id])
				}
				var last int64
				for _, c := range feed[id] {
					last = max(last, c.Seq)
				}
				if last != got.Seq {
					t.Errorf("%s: stored seq %d, highest published %d", id, got.Seq, last)
				}
			}
			if mode.name == "embedded" {
				checkStagingEmpty(t, s)
			}
		})
	}
}
