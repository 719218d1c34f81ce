package store

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/livematch/livematch/engine"
)

// testURI is the database every test of this package uses (its own database
// name per test): an embedded FerretDB started by TestMain, or MONGODB_URI.
var (
	testURI      string
	testEmbedded *Embedded // nil when MONGODB_URI is set
)

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	testURI = os.Getenv("MONGODB_URI")
	if testURI == "" {
		dir, err := os.MkdirTemp("", "store-test-*")
		if err != nil {
			panic(err)
		}
		defer os.RemoveAll(dir)
		e, err := StartEmbedded(context.Background(), dir, "", nil)
		if err != nil {
			panic(err)
		}
		defer e.Close()
		testURI, testEmbedded = e.URI(), e
	}
	return m.Run()
}

var nonWord = regexp.MustCompile(`[^A-Za-z0-9]+`)

// mustOpen opens a Store on a fresh database named after the test.
func mustOpen(tb testing.TB) *Store {
	tb.Helper()
	return openStore(tb, "t_", testEmbedded)
}

// openStore opens a Store on a fresh database named prefix + the test's
// name, dropped at the end of the test.
func openStore(tb testing.TB, prefix string, emb *Embedded, tweaks ...func(*Options)) *Store {
	tb.Helper()
	ctx := context.Background()
	name := nonWord.ReplaceAllString(tb.Name(), "_")
	if len(name) > 40 {
		name = name[len(name)-40:]
	}
	opts := Options{Database: prefix + name, Embedded: emb}
	for _, tweak := range tweaks {
		tweak(&opts)
	}
	s, err := Open(ctx, testURI, opts)
	if err != nil {
		tb.Fatal(err)
	}
	if err := s.Drop(ctx); err != nil {
		tb.Fatal(err)
	}
	if err := s.Init(ctx); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		_ = s.Drop(ctx)
		_ = s.Close(ctx)
	})
	return s
}

func product(org, sku string, stock int64) *engine.Product {
	return &engine.Product{OrgID: org, SKU: sku, TitleZh: "赣南脐橙 " + sku, Category: "fresh_fruit",
		PriceCNY: 39.9, Stock: stock, ShipFrom: "360732", ReviewStatus: engine.ReviewApproved,
		Certifications: []engine.Certification{{Type: "green_food", Number: "LB-1", ExpiresAt: time.Date(2027, 10, 31, 0, 0, 0, 0, time.UTC)}}}
}

func TestProductLifecycle(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t)
	p := product("org_a", "SKU-1", 10)
	created, err := s.UpsertProduct(ctx, p, 0, nil)
	if err != nil || !created {
		t.Fatalf("create: created=%v err=%v", created, err)
	}
	if p.Version != 1 || p.Seq != 1 || p.ID != ProductID("org_a", "SKU-1") {
		t.Fatalf("stamps: version %d seq %d id %s", p.Version, p.Seq, p.ID)
	}
	got, err := s.GetProduct(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.TitleZh != p.TitleZh || len(got.Certifications) != 1 || !got.Certifications[0].ExpiresAt.Equal(p.Certifications[0].ExpiresAt) || !got.CreatedAt.Equal(p.CreatedAt) {
		t.Fatalf("round trip: got %+v want %+v", got, p)
	}
	// Upsert by sku updates, keeps created_at.
	p2 := product("org_a", "SKU-1", 20)
	created, err = s.UpsertProduct(ctx, p2, 0, nil)
	if err != nil || created || p2.Version != 2 || !p2.CreatedAt.Equal(p.CreatedAt) {
		t.Fatalf("upsert: created=%v v=%d err=%v", created, p2.Version, err)
	}
	// Stale If-Match.
	if _, err := s.UpsertProduct(ctx, product("org_a", "SKU-1", 30), 1, nil); !engine.IsKind(err, engine.KindPrecondition) {
		t.Fatalf("stale upsert: %v", err)
	}
	_, after, err := s.UpdateProduct(ctx, p.ID, 2, func(p *engine.Product) error { p.Stock = 7; return nil })
	if err != nil || after.Stock != 7 || after.Version != 3 {
		t.Fatalf("update: %v %+v", err, after)
	}
	if _, _, err := s.UpdateProduct(ctx, p.ID, 2, func(p *engine.Product) error { return nil }); !engine.IsKind(err, engine.KindPrecondition) {
		t.Fatalf("stale update: %v", err)
	}
	if err := s.DeleteProduct(ctx, p.ID, 0, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetProduct(ctx, p.ID); !engine.IsKind(err, engine.KindNotFound) {
		t.Fatalf("get deleted: %v", err)
	}
	if err := s.DeleteProduct(ctx, p.ID, 0, nil); !engine.IsKind(err, engine.KindNotFound) {
		t.Fatalf("delete twice: %v", err)
	}
	// Re-creating a deleted sku is a create with a higher version.
	p3 := product("org_a", "SKU-1", 1)
	created, err = s.UpsertProduct(ctx, p3, 0, nil)
	if err != nil || !created || p3.Version != 5 {
		t.Fatalf("recreate: created=%v v=%d err=%v", created, p3.Version, err)
	}
	// The feed saw every write in order, the delete as a tombstone.
	changes, mark := s.Feed().Drain()
	var kinds []string
	for _, c := range changes {
		kinds = append(kinds, fmt.Sprintf("%d:%v", c.Seq, c.Deleted))
	}
	if got, want := strings.Join(kinds, " "), "1:false 2:false 3:false 4:true 5:false"; got != want || mark != 5 {
		t.Fatalf("feed = %q mark %d, want %q mark 5", got, mark, want)
	}
	var seen []int64
	if err := s.ScanProducts(ctx, 0, func(c ProductChange) error { seen = append(seen, c.Seq); return nil }); err != nil || len(seen) != 1 || seen[0] != 5 {
		t.Fatalf("scan: %v %v", seen, err)
	}
}

func TestConcurrentUpdatesLoseNothing(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t)
	p := product("org_a", "SKU-C", 0)
	if _, err := s.UpsertProduct(ctx, p, 0, nil); err != nil {
		t.Fatal(err)
	}
	const workers, each = 6, 5
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				if _, _, err := s.UpdateProduct(ctx, p.ID, 0, func(p *engine.Product) error { p.Stock++; return nil }); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	got, err := s.GetProduct(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Stock != workers*each || got.Version != 1+workers*each {
		t.Fatalf("stock %d version %d, want %d and %d", got.Stock, got.Version, workers*each, 1+workers*each)
	}
	changes, mark := s.Feed().Drain()
	seqs := make([]int64, 0, len(changes))
	for _, c := range changes {
		seqs = append(seqs, c.Seq)
	}
	sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
	if len(seqs) != 1+workers*each || mark < seqs[len(seqs)-1] {
		t.Fatalf("feed has %d changes, mark %d, last %d", len(seqs), mark, seqs[len(seqs)-1])
	}
}

func TestFeedWatermark(t *testing.T) {
	f := NewFeed(10)
	t1 := f.beginReserve()
	f.endReserve(t1, 11, 11)
	t2 := f.beginReserve()
	if got := f.Watermark(); got != 10 {
		t.Fatalf("with 11 pending and a reservation in flight: %d, want 10", got)
	}
	f.endReserve(t2, 12, 13)
	f.finish(12, &ProductChange{Seq: 12})
	f.finish(13, nil)
	if ch, mark := f.Drain(); len(ch) != 1 || mark != 10 {
		t.Fatalf("11 still pending: %d changes, mark %d", len(ch), mark)
	}
	f.finish(11, &ProductChange{Seq: 11})
	if ch, mark := f.Drain(); len(ch) != 1 || mark != 13 {
		t.Fatalf("all done: %d changes, mark %d", len(ch), mark)
	}
	t3 := f.beginReserve()
	f.endReserve(t3, 1, 0) // failed reservation
	if mark := f.Watermark(); mark != 13 {
		t.Fatalf("after failed reservation: %d", mark)
	}
}

func TestBulkUpsert(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t)
	if _, err := s.UpsertProduct(ctx, product("org_b", "B-0", 1), 0, nil); err != nil {
		t.Fatal(err)
	}
	var ps []*engine.Product
	for i := 0; i < 50; i++ {
		ps = append(ps, product("org_b", fmt.Sprintf("B-%d", i), int64(i)))
	}
	res, err := s.BulkUpsertProducts(ctx, ps, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.Err != nil || r.Created != (i != 0) {
			t.Fatalf("line %d: %+v", i, r)
		}
	}
	n := 0
	if err := s.ScanProducts(ctx, 0, func(c ProductChange) error { n++; return nil }); err != nil || n != 50 {
		t.Fatalf("scan: %d %v", n, err)
	}
	got, err := s.GetProduct(ctx, ProductID("org_b", "B-0"))
	if err != nil || got.Version != 2 || got.Stock != 0 {
		t.Fatalf("B-0: %+v %v", got, err)
	}
}

func TestOrgsAndKeys(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t)
	o := &engine.Org{Kind: engine.OrgCooperative, NameZh: "兴国合作社", RegionCode: "360732", Grade: "A", Status: "approved", PovertyRelief: true}
	if err := s.CreateOrg(ctx, o); err != nil {
		t.Fatal(err)
	}
	if err := s.SetOrgKey(ctx, KeyRecord{ID: "k1", OrgID: o.ID, Hash: []byte("h1")}); err != nil {
		t.Fatal(err)
	}
	k, org, err := s.KeyByID(ctx, "k1")
	if err != nil || org.ID != o.ID || string(k.Hash) != "h1" {
		t.Fatalf("key: %+v %+v %v", k, org, err)
	}
	if err := s.SetOrgKey(ctx, KeyRecord{ID: "k2", OrgID: o.ID, Hash: []byte("h2")}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.KeyByID(ctx, "k1"); !engine.IsKind(err, engine.KindNotFound) {
		t.Fatalf("old key still works: %v", err)
	}
	before, after, err := s.UpdateOrg(ctx, o.ID, 0, func(o *engine.Org) error { o.Grade = "C"; return nil })
	if err != nil || before.Grade != "A" || after.Grade != "C" {
		t.Fatalf("update org: %v", err)
	}
	if _, _, err := s.KeyByID(ctx, "k2"); err != nil {
		t.Fatalf("key lost by org update: %v", err)
	}
	if _, _, err := s.UpdateOrg(ctx, o.ID, 1, func(o *engine.Org) error { return nil }); !engine.IsKind(err, engine.KindPrecondition) {
		t.Fatalf("stale org update: %v", err)
	}
	if err := s.AddAudit(ctx, AuditEntry{OrgID: o.ID, Actor: "admin", Action: "org.update", Before: map[string]any{"grade": "A"}, After: map[string]any{"grade": "C"}}); err != nil {
		t.Fatal(err)
	}
	trail, err := s.Audit(ctx, o.ID, 10)
	if err != nil || len(trail) != 1 || trail[0].After["grade"] != "C" {
		t.Fatalf("audit: %+v %v", trail, err)
	}
	if _, err := s.GetOrg(ctx, "nope"); !engine.IsKind(err, engine.KindNotFound) {
		t.Fatalf("missing org: %v", err)
	}
}

func TestUnavailable(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, "mongodb://127.0.0.1:1/", Options{Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(ctx)
	if err := s.Ping(ctx); !engine.IsKind(err, engine.KindUnavailable) {
		t.Fatalf("ping: %v", err)
	}
	if _, err := s.GetOrg(ctx, "x"); !engine.IsKind(err, engine.KindUnavailable) {
		t.Fatalf("get: %v", err)
	}
}

func TestInitTwice(t *testing.T) {
	s := mustOpen(t)
	// A restart runs Init on a database whose indexes exist.
	for i := 0; i < 2; i++ {
		if err := s.Init(context.Background()); err != nil {
			t.Fatalf("Init #%d: %v", i+2, err)
		}
	}
}

func TestProfilesVersioned(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t)
	lo := 10.0
	p := &engine.DemandProfile{OrgID: "org_m", Name: "双十二", Keywords: "脐橙", PriceMin: &lo, Weights: engine.Weights{"text": 2},
		StreamDate: time.Date(2026, 12, 12, 12, 0, 0, 0, time.UTC), Status: engine.ProfileOpen}
	if err := s.CreateProfile(ctx, p); err != nil || p.ID == "" || p.Version != 1 || p.Seq != 1 {
		t.Fatalf("create: %+v %v", p, err)
	}
	got, err := s.GetProfile(ctx, p.ID)
	if err != nil || got.OrgID != "org_m" || *got.PriceMin != 10 || got.Weights["text"] != 2 || !got.StreamDate.Equal(p.StreamDate) {
		t.Fatalf("get: %+v %v", got, err)
	}
	if _, err := s.UpdateProfile(ctx, p.ID, 7, false, nil); !engine.IsKind(err, engine.KindPrecondition) {
		t.Fatalf("stale update: %v", err)
	}
	after, err := s.UpdateProfile(ctx, p.ID, 1, false, func(p *engine.DemandProfile) error { p.Name = "改"; return nil })
	if err != nil || after.Version != 2 || after.Name != "改" || after.OrgID != "org_m" || !after.CreatedAt.Equal(p.CreatedAt) {
		t.Fatalf("update: %+v %v", after, err)
	}
	if _, err := s.UpdateProfile(ctx, p.ID, 0, true, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetProfile(ctx, p.ID); !engine.IsKind(err, engine.KindNotFound) {
		t.Fatalf("deleted profile: %v", err)
	}
	n := 0
	if err := s.ScanProfiles(ctx, func(*engine.DemandProfile) error { n++; return nil }); err != nil || n != 0 {
		t.Fatalf("scan sees %d deleted profiles (%v)", n, err)
	}
}

// TestUncertainWriteReachesTheFeed covers a write whose reply was lost
// (e.g. a timeout after the server applied it): if the document is stored,
// its change is still published; if not, the seq is finished without one.
func TestUncertainWriteReachesTheFeed(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t)
	for _, stored := range []bool{true, false} {
		p := product("org_u", fmt.Sprintf("U-%v", stored), 3)
		p.ID = ProductID(p.OrgID, p.SKU)
		first, err := s.reserveProducts(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		p.Seq, p.Version = first, 1
		d := toProductDoc(p)
		if stored {
			if _, err := s.products.InsertOne(ctx, d); err != nil {
				t.Fatal(err)
			}
		}
		s.finishUncertain(ctx, d)
		changes, mark := s.Feed().Drain()
		if mark != first || (len(changes) == 1) != stored || (stored && changes[0].ID != p.ID) {
			t.Fatalf("stored=%v: %d changes, mark %d (seq %d)", stored, len(changes), mark, first)
		}
	}
}

// A write whose outcome cannot be read back because the database is gone
// keeps its seq pending (the index's checkpoint must not pass a write that
// may be stored) until the database answers again; then the stored write
// reaches the feed.
func TestUnknownOutcomeWaitsForTheDatabase(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	quiet := slog.New(slog.DiscardHandler)
	emb, err := StartEmbedded(ctx, dir, "127.0.0.1:0", quiet)
	if err != nil {
		t.Fatal(err)
	}
	addr := strings.TrimPrefix(strings.SplitN(emb.URI(), "/?", 2)[0], "mongodb://")
	addr = strings.TrimSuffix(addr, "/")
	s, err := Open(ctx, emb.URI(), Options{Database: "outcome", Embedded: emb, Timeout: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Init(ctx); err != nil {
		t.Fatal(err)
	}
	p := product("org_w", "W-1", 3)
	p.ID = ProductID(p.OrgID, p.SKU)
	first, err := s.reserveProducts(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	p.Seq, p.Version = first, 1
	d := toProductDoc(p)
	if _, err := s.products.InsertOne(ctx, d); err != nil {
		t.Fatal(err)
	}
	if err := emb.Close(); err != nil { // the reply was lost, and now the database is gone
		t.Fatal(err)
	}
	s.finishUncertain(ctx, d)
	if _, mark := s.Feed().Drain(); mark >= first {
		t.Fatalf("watermark %d passed seq %d while its outcome is unknown", mark, first)
	}
	emb2, err := StartEmbedded(ctx, dir, addr, quiet) // back, on the same files and address
	if err != nil {
		t.Fatal(err)
	}
	defer emb2.Close()
	deadline := time.Now().Add(20 * time.Second)
	var changes []ProductChange
	mark := int64(0)
	for mark < first && time.Now().Before(deadline) {
		var c []ProductChange
		c, mark = s.Feed().Drain()
		changes = append(changes, c...)
		time.Sleep(50 * time.Millisecond)
	}
	if mark != first || len(changes) != 1 || changes[0].ID != p.ID {
		t.Fatalf("after the database returned: mark %d (seq %d), changes %+v", mark, first, changes)
	}
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

// A bounded feed holds writers back while its backlog is full and lets them
// go when a follower drains it; ctx ends a wait with KindUnavailable.
func TestFeedBound(t *testing.T) {
	f := NewFeed(0)
	f.Bound(2)
	ctx := context.Background()
	for seq := int64(1); seq <= 2; seq++ {
		if err := f.waitRoom(ctx); err != nil {
			t.Fatal(err)
		}
		tok := f.beginReserve()
		f.endReserve(tok, seq, seq)
		f.finish(seq, &ProductChange{Seq: seq, ID: fmt.Sprint(seq)})
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if err := f.waitRoom(short); !engine.IsKind(err, engine.KindUnavailable) {
		t.Fatalf("a full feed let a writer through: %v", err)
	}
	waited := make(chan error, 1)
	go func() { waited <- f.waitRoom(ctx) }()
	select {
	case err := <-waited:
		t.Fatalf("a writer passed before the drain: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	if changes, mark := f.Drain(); len(changes) != 2 || mark != 2 {
		t.Fatalf("drained %d, mark %d", len(changes), mark)
	}
	if err := <-waited; err != nil {
		t.Fatal(err)
	}
	f.Bound(0)
	for seq := int64(3); seq <= 10; seq++ {
		tok := f.beginReserve()
		f.endReserve(tok, seq, seq)
		f.finish(seq, &ProductChange{Seq: seq})
	}
	if err := f.waitRoom(short); err != nil {
		t.Fatalf("an unbounded feed held a writer: %v", err)
	}
}
