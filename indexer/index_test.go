package indexer

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/livematch/livematch/engine"
)

func mustSearch(tb testing.TB, x *Index, q engine.ProductQuery) engine.ProductPage {
	tb.Helper()
	if q.Limit == 0 {
		q.Limit = 100
	}
	p, err := x.Search(context.Background(), q)
	if err != nil {
		tb.Fatalf("search %+v: %v", q, err)
	}
	return p
}

func apply(tb testing.TB, x *Index, cp int64, cs ...Change) {
	tb.Helper()
	if err := x.Apply(context.Background(), cs, cp); err != nil {
		tb.Fatalf("apply: %v", err)
	}
}

func docCount(tb testing.TB, x *Index) uint64 {
	tb.Helper()
	n, err := x.DocCount()
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

func productByID(tb testing.TB, id string) *engine.Product {
	tb.Helper()
	for _, p := range loadProducts(tb) {
		if p.ID == id {
			return p
		}
	}
	tb.Fatalf("no fixture product %s", id)
	return nil
}

func TestApplyDeleteAndReplay(t *testing.T) {
	x := mustOpenFixture(t, defaultOptions()) // seqs 1..24, checkpoint 24
	if n := docCount(t, x); n != 24 {
		t.Fatalf("doc count %d", n)
	}

	// delete p02 at seq 100 (checkpoint stays behind, as with a lagging feed)
	apply(t, x, 24, Change{Seq: 100, ID: "p02", Deleted: true})
	if _, ok := x.Product("p02"); ok {
		t.Fatal("p02 still in the catalogue")
	}
	if ids := hitIDs(mustSearch(t, x, engine.ProductQuery{Q: "猕猴桃"})); slices.Contains(ids, "p02") {
		t.Fatalf("deleted p02 found: %v", ids)
	}
	if n := docCount(t, x); n != 23 {
		t.Fatalf("doc count %d after delete", n)
	}

	// a stale update of the deleted product (seq 50 < 100) is ignored
	p02 := productByID(t, "p02")
	apply(t, x, 24, Change{Seq: 50, ID: "p02", Product: p02})
	if _, ok := x.Product("p02"); ok {
		t.Fatal("stale update resurrected p02")
	}
	if st := x.Status(); st.Tombstones != 1 {
		t.Fatalf("tombstones %d, want 1", st.Tombstones)
	}

	// a newer one brings it back
	apply(t, x, 24, Change{Seq: 101, ID: "p02", Product: p02})
	if _, ok := x.Product("p02"); !ok {
		t.Fatal("p02 not restored")
	}
	if st := x.Status(); st.Tombstones != 0 {
		t.Fatalf("tombstones %d, want 0", st.Tombstones)
	}

	// replaying the whole initial batch changes nothing
	before := mustSearch(t, x, engine.ProductQuery{Q: "茶"})
	changed := loadProducts(t)
	for _, p := range changed {
		p.TitleZh = "榴莲"
	}
	apply(t, x, 24, changesFor(changed)...)
	if got := mustSearch(t, x, engine.ProductQuery{Q: "榴莲"}); got.Total != 0 {
		t.Fatalf("replay applied: %v", hitIDs(got))
	}
	after := mustSearch(t, x, engine.ProductQuery{Q: "茶"})
	if !slices.Equal(hitIDs(before), hitIDs(after)) || docCount(t, x) != 24 {
		t.Fatalf("replay changed results: %v → %v", hitIDs(before), hitIDs(after))
	}

	// within one batch the highest seq wins, whatever the order
	a, b := productByID(t, "p03"), productByID(t, "p03")
	a.TitleZh, b.TitleZh = "甲版本", "乙版本"
	apply(t, x, 24, Change{Seq: 201, ID: "p03", Product: b}, Change{Seq: 200, ID: "p03", Product: a})
	if p, _ := x.Product("p03"); p.TitleZh != "乙版本" {
		t.Fatalf("title %q, want the seq-201 version", p.TitleZh)
	}
	if got := hitIDs(mustSearch(t, x, engine.ProductQuery{Q: "乙版本"})); !slices.Equal(got, []string{"p03"}) {
		t.Fatalf("search for the new title: %v", got)
	}
	if got := mustSearch(t, x, engine.ProductQuery{Q: "赣南脐橙"}); got.Total != 0 {
		t.Fatalf("old title still indexed: %v", hitIDs(got))
	}
}

func TestApplyCheckpoint(t *testing.T) {
	x := mustOpen(t, testConfig(t, ""), defaultOptions())
	p := productByID(t, "p01")
	apply(t, x, 50, Change{Seq: 40, ID: "p01", Product: p})
	if cp := x.Checkpoint(); cp != 50 {
		t.Fatalf("checkpoint %d", cp)
	}
	apply(t, x, 10)
	if cp := x.Checkpoint(); cp != 50 {
		t.Fatalf("checkpoint went back to %d", cp)
	}
	// an unknown id at or below the checkpoint is a replay of something already applied
	apply(t, x, 50, Change{Seq: 45, ID: "p99", Product: productByID(t, "p02")})
	if _, ok := x.Product("p99"); ok {
		t.Fatal("change below the checkpoint applied")
	}
	apply(t, x, 60, Change{Seq: 51, ID: "p99", Product: productByID(t, "p02")})
	if _, ok := x.Product("p99"); !ok {
		t.Fatal("change above the checkpoint ignored")
	}
	if st := x.Status(); st.Checkpoint != 60 || st.DocCount != 2 || st.Products != 2 || st.LastApply.IsZero() {
		t.Fatalf("status %+v", st)
	}
}

func TestApplyInvalid(t *testing.T) {
	x := mustOpen(t, testConfig(t, ""), defaultOptions())
	for _, cs := range [][]Change{
		{{Seq: 1, ID: "", Product: productByID(t, "p01")}},
		{{Seq: 1, ID: "p01", Product: productByID(t, "p01")}, {Seq: 2, ID: "p02"}},
	} {
		err := x.Apply(context.Background(), cs, 5)
		if !engine.IsKind(err, engine.KindInvalid) {
			t.Fatalf("err %v, want KindInvalid", err)
		}
	}
	if n := docCount(t, x); n != 0 || x.Checkpoint() != 0 {
		t.Fatalf("invalid batch partly applied: %d docs, checkpoint %d", n, x.Checkpoint())
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := x.Apply(ctx, changesFor(loadProducts(t)), 1); !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
}

func TestCatalogueIsolated(t *testing.T) {
	x := mustOpen(t, testConfig(t, ""), defaultOptions())
	p := productByID(t, "p01")
	apply(t, x, 0, Change{Seq: 1, ID: "p01", Product: p})
	p.TitleZh = "changed"
	p.Tags[0] = "changed"
	got, _ := x.Product("p01")
	if got.TitleZh == "changed" || got.Tags[0] == "changed" {
		t.Fatal("catalogue shares memory with the caller")
	}
	got.TitleZh, got.Tags[0] = "scribbled", "scribbled"
	if got2, _ := x.Product("p01"); got2 == got || got2.TitleZh == "scribbled" || got2.Tags[0] == "scribbled" {
		t.Fatal("Product should return a fresh copy each time")
	}
}

func TestPersistAcrossReopen(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "products.bleve")
	cfg := testConfig(t, dir)
	x, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ps := loadProducts(t)
	// a product with every field set survives the stored record
	full := &engine.Product{
		ID: "full", OrgID: "o1", SKU: "SKU-1", TitleZh: "全字段", TitleEn: "All fields",
		DescriptionZh: "描述", DescriptionEn: "Description", Category: "tea", Tags: []string{"a", "b"},
		PriceCNY: 10.5, LivePriceCNY: 9.5, CommissionRate: 0.2, Stock: 7, MOQ: 2, LeadTimeDays: 3,
		ShipFrom: "360732", ColdChain: true, ShelfLifeDays: 30, AvailableMonths: []int{11, 12},
		Certifications: []engine.Certification{{Type: "organic", Number: "N1", Issuer: "CQC",
			ExpiresAt: time.Date(2027, 1, 2, 3, 4, 5, 0, time.UTC)}, {Type: "haccp"}},
		OriginCountry: "CN", ExportReady: true, SampleAvailable: true, ReviewStatus: engine.ReviewPending,
		ProvinceCode: "360000", PovertyRelief: true, Version: 4, Seq: 99,
		CreatedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), UpdatedAt: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC),
	}
	apply(t, x, 30, changesFor(ps)...)
	apply(t, x, 30, Change{Seq: 99, ID: "full", Product: full}, Change{Seq: 98, ID: "p05", Deleted: true})
	before := mustSearch(t, x, engine.ProductQuery{Q: "茶"})
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}

	y, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer y.Close()
	st := y.Status()
	if st.Checkpoint != 30 || st.DocCount != 24 || st.Products != 24 || st.Tombstones != 1 {
		t.Fatalf("status after reopen %+v", st)
	}
	t.Logf("catalogue of %d products restored in %v", st.Products, st.LoadTime)
	got, ok := y.Product("full")
	if !ok || !reflect.DeepEqual(got, full) {
		t.Fatalf("restored product differs:\n got %+v\nwant %+v", got, full)
	}
	for _, p := range ps {
		if p.ID == "p05" {
			continue
		}
		if got, ok := y.Product(p.ID); !ok || !reflect.DeepEqual(got, p) {
			t.Fatalf("restored %s differs:\n got %+v\nwant %+v", p.ID, got, p)
		}
	}
	after := mustSearch(t, y, engine.ProductQuery{Q: "茶"})
	if !reflect.DeepEqual(hitIDs(before), hitIDs(after)) || !reflect.DeepEqual(before.Facets, after.Facets) {
		t.Fatalf("search changed across reopen: %v → %v", hitIDs(before), hitIDs(after))
	}
	// the tombstone survived: a stale update of p05 is still ignored
	apply(t, y, 30, Change{Seq: 97, ID: "p05", Product: productByID(t, "p05")})
	if _, ok := y.Product("p05"); ok {
		t.Fatal("stale update after reopen resurrected p05")
	}
}

func TestOpenCorrupt(t *testing.T) {
	cfg := testConfig(t, "")
	for name, damage := range map[string]func(t *testing.T, dir string){
		"garbage meta": func(t *testing.T, dir string) {
			if err := os.WriteFile(filepath.Join(dir, "index_meta.json"), []byte("{not json"), 0o600); err != nil {
				t.Fatal(err)
			}
		},
		"not an index": func(t *testing.T, dir string) {
			if err := os.RemoveAll(dir); err != nil {
				t.Fatal(err)
			}
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("hello"), 0o600); err != nil {
				t.Fatal(err)
			}
		},
		"truncated root.bolt": func(t *testing.T, dir string) {
			if err := os.WriteFile(filepath.Join(dir, "store", "root.bolt"), []byte("xx"), 0o600); err != nil {
				t.Fatal(err)
			}
		},
		"truncated segment": func(t *testing.T, dir string) {
			segs, _ := filepath.Glob(filepath.Join(dir, "store", "*.zap"))
			if len(segs) == 0 {
				t.Fatal("no segment files")
			}
			for _, s := range segs {
				if err := os.Truncate(s, 100); err != nil {
					t.Fatal(err)
				}
			}
		},
		"scribbled segment": func(t *testing.T, dir string) {
			segs, _ := filepath.Glob(filepath.Join(dir, "store", "*.zap"))
			if len(segs) == 0 {
				t.Fatal("no segment files")
			}
			for _, s := range segs {
				b, err := os.ReadFile(s)
				if err != nil {
					t.Fatal(err)
				}
				for i := 0; i < len(b)-200; i += 7 {
					b[i] ^= 0x5a
				}
				if err := os.WriteFile(s, b, 0o600); err != nil {
					t.Fatal(err)
				}
			}
		},
		// A few bytes flipped in the middle of a segment, where the terms
		// and postings are: Bleve maps it without complaint, and only the
		// footer checksum tells.
		"flipped bytes in a segment": func(t *testing.T, dir string) {
			segs, _ := filepath.Glob(filepath.Join(dir, "store", "*.zap"))
			if len(segs) == 0 {
				t.Fatal("no segment files")
			}
			b, err := os.ReadFile(segs[0])
			if err != nil {
				t.Fatal(err)
			}
			for i := len(b) / 2; i < len(b)/2+8; i++ {
				b[i] ^= 0xff
			}
			if err := os.WriteFile(segs[0], b, 0o600); err != nil {
				t.Fatal(err)
			}
		},
		"other schema": func(t *testing.T, dir string) {
			x, err := Open(Config{Path: dir})
			if err != nil {
				t.Fatal(err)
			}
			if err := x.idx.SetInternal([]byte(keySchema), []byte("products/0")); err != nil {
				t.Fatal(err)
			}
			if err := x.Close(); err != nil {
				t.Fatal(err)
			}
		},
	} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "idx")
			cfg.Path = dir
			x, err := Open(cfg)
			if err != nil {
				t.Fatal(err)
			}
			apply(t, x, 24, changesFor(loadProducts(t))...)
			if err := x.Close(); err != nil {
				t.Fatal(err)
			}
			damage(t, dir)
			y, err := Open(cfg)
			if err == nil {
				// Scorch may skip a snapshot whose segments are damaged and
				// fall back to an older one. That is acceptable only if the
				// checkpoint rolled back with the content (the feed then
				// replays what is missing).
				st := y.Status()
				y.Close()
				if name == "truncated segment" && st.DocCount == 0 && st.Checkpoint == 0 {
					t.Logf("rolled back to an older snapshot: %+v", st)
					return
				}
				t.Fatalf("opened a damaged index: %+v", st)
			}
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("err %v, want ErrCorrupt", err)
			}
			t.Logf("%v", err)
		})
	}
}

func TestOpenLocked(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "idx")
	cfg := testConfig(t, dir)
	x := mustOpen(t, cfg, defaultOptions())
	apply(t, x, 1, changesFor(loadProducts(t)[:1])...)
	o := defaultOptions()
	o.boltTimeout = 50 * time.Millisecond
	_, err := open(cfg, o)
	if err == nil || errors.Is(err, ErrCorrupt) || !engine.IsKind(err, engine.KindUnavailable) {
		t.Fatalf("err %v, want KindUnavailable and not ErrCorrupt", err)
	}
}

func TestOpenEmptyDir(t *testing.T) {
	dir := t.TempDir() // exists and is empty
	x := mustOpen(t, testConfig(t, dir), defaultOptions())
	apply(t, x, 1, changesFor(loadProducts(t)[:1])...)
	if n := docCount(t, x); n != 1 {
		t.Fatalf("doc count %d", n)
	}
}

func TestClosed(t *testing.T) {
	x, err := Open(testConfig(t, ""))
	if err != nil {
		t.Fatal(err)
	}
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	if err := x.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	ctx := context.Background()
	_, err1 := x.Search(ctx, engine.ProductQuery{Q: "茶"})
	err2 := x.Apply(ctx, nil, 1)
	_, err3 := x.DocCount()
	for _, err := range []error{err1, err2, err3} {
		if !engine.IsKind(err, engine.KindUnavailable) {
			t.Errorf("err %v, want KindUnavailable", err)
		}
	}
	if st := x.Status(); !st.Closed {
		t.Errorf("status %+v", st)
	}
}

func TestCertificateExpiryMovesWithTheClock(t *testing.T) {
	var now atomic.Int64
	cfg := testConfig(t, "")
	cfg.Now = func() time.Time { return time.Unix(0, now.Load()).UTC() }
	x := mustOpen(t, cfg, defaultOptions())
	apply(t, x, 24, changesFor(loadProducts(t))...)

	certs := func() ([]string, map[string]int) {
		p := mustSearch(t, x, engine.ProductQuery{Certification: "organic"})
		facet := map[string]int{}
		for _, f := range mustSearch(t, x, engine.ProductQuery{Category: "tea"}).Facets[engine.FacetCertification] {
			facet[f.Value] = f.Count
		}
		return hitIDs(p), facet
	}
	// p06's organic certificate expires at 2026-05-31T23:59:59Z
	now.Store(time.Date(2026, 5, 31, 23, 59, 58, 0, time.UTC).UnixNano())
	ids, facet := certs()
	if !slices.Contains(ids, "p06") || facet["organic"] != 2 {
		t.Fatalf("before expiry: %v %v", ids, facet)
	}
	now.Store(time.Date(2026, 5, 31, 23, 59, 59, 0, time.UTC).UnixNano())
	ids, facet = certs()
	if slices.Contains(ids, "p06") || facet["organic"] != 1 {
		t.Fatalf("at expiry: %v %v", ids, facet)
	}
	// agreement with engine.Product.ValidCerts
	p06, _ := x.Product("p06")
	if slices.Contains(p06.ValidCerts(cfg.Now()), "organic") {
		t.Fatal("engine and index disagree")
	}
}

func TestRebuild(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data", "products.bleve")
	cfg := testConfig(t, dir)

	old, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	stale := productByID(t, "p01")
	stale.ID, stale.TitleZh = "gone", "榴莲"
	apply(t, old, 5, Change{Seq: 5, ID: "gone", Product: stale})

	ps := loadProducts(t)
	scan := func(ctx context.Context, fn func(Change) error) error {
		for _, c := range changesFor(ps) {
			if err := fn(c); err != nil {
				return err
			}
		}
		return nil
	}
	var progress []int
	var closedOld bool
	x, err := Rebuild(ctx, cfg, scan, RebuildOptions{
		Checkpoint: 20,
		BatchSize:  10,
		Progress:   func(n int) { progress = append(progress, n) },
		BeforeSwap: func() error {
			// the old index served until now
			if p := mustSearch(t, old, engine.ProductQuery{Q: "榴莲"}); p.Total != 1 {
				t.Errorf("old index not serving during rebuild")
			}
			closedOld = true
			return old.Close()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	if !closedOld || !slices.Equal(progress, []int{10, 20, 24}) {
		t.Fatalf("closed old %v, progress %v", closedOld, progress)
	}
	if st := x.Status(); st.DocCount != 24 || st.Products != 24 || st.Checkpoint != 20 || st.Path != dir {
		t.Fatalf("status %+v", st)
	}
	if p := mustSearch(t, x, engine.ProductQuery{Q: "榴莲"}); p.Total != 0 {
		t.Fatal("old content survived the rebuild")
	}
	for _, c := range loadCases(t)[:5] {
		if bad := checkCase(ctx, x.Search, c); len(bad) > 0 {
			t.Errorf("%s: %v", c.Comment, bad)
		}
	}
	entries, err := os.ReadDir(filepath.Dir(dir))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "products.bleve" {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Fatalf("left over: %v", names)
	}
}

func TestRebuildFailureKeepsOldIndex(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "products.bleve")
	cfg := testConfig(t, dir)
	old, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	apply(t, old, 24, changesFor(loadProducts(t))...)
	boom := errors.New("database went away")
	scan := func(ctx context.Context, fn func(Change) error) error {
		for i, c := range changesFor(loadProducts(t)) {
			if i == 15 {
				return boom
			}
			if err := fn(c); err != nil {
				return err
			}
		}
		return nil
	}
	_, err = Rebuild(ctx, cfg, scan, RebuildOptions{BatchSize: 4, BeforeSwap: old.Close})
	if !errors.Is(err, boom) {
		t.Fatalf("err %v, want the scan error", err)
	}
	if n := docCount(t, old); n != 24 {
		t.Fatalf("old index has %d docs", n)
	}
	old.Close()
	entries, _ := os.ReadDir(filepath.Dir(dir))
	if len(entries) != 1 {
		t.Fatalf("left over %d entries", len(entries))
	}
	// a failing apply stops the scan too
	x, err := Rebuild(ctx, Config{}, func(ctx context.Context, fn func(Change) error) error {
		for i := range 100 {
			if err := fn(Change{Seq: int64(i + 1), ID: ""}); err != nil {
				return err
			}
		}
		return nil
	}, RebuildOptions{BatchSize: 3})
	if x != nil || !engine.IsKind(err, engine.KindInvalid) {
		t.Fatalf("err %v, want KindInvalid", err)
	}
}

func TestRebuildInMemory(t *testing.T) {
	ps := loadProducts(t)
	x, err := Rebuild(context.Background(), testConfig(t, ""), func(ctx context.Context, fn func(Change) error) error {
		for _, c := range changesFor(ps) {
			if err := fn(c); err != nil {
				return err
			}
		}
		return nil
	}, RebuildOptions{Checkpoint: 7})
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	if st := x.Status(); st.DocCount != 24 || st.Checkpoint != 7 {
		t.Fatalf("status %+v", st)
	}
}

// TestConcurrentApplyAndSearch is for the race detector.
func TestConcurrentApplyAndSearch(t *testing.T) {
	x := mustOpenFixture(t, defaultOptions())
	ctx := context.Background()
	ps := loadProducts(t)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 3 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				p, err := x.Search(ctx, engine.ProductQuery{Q: "茶 tea", Certification: "organic"})
				if err != nil {
					t.Error(err)
					return
				}
				for _, h := range p.Hits {
					_ = strings.ToUpper(h.Product.TitleEn)
				}
				_ = x.Status()
			}
		})
	}
	for i := range 50 {
		p := ps[i%len(ps)]
		q := *p
		q.Stock = int64(i)
		seq := int64(100 + i)
		if i%7 == 0 {
			apply(t, x, seq-1, Change{Seq: seq, ID: p.ID, Deleted: true})
		} else {
			apply(t, x, seq-1, Change{Seq: seq, ID: p.ID, Product: &q})
		}
	}
	close(stop)
	wg.Wait()
}

func TestProducts(t *testing.T) {
	x := mustOpenFixture(t, defaultOptions())
	ids := []string{"p05", "nope", "p01", "p02", "p01"}
	got := x.Products(ids)
	if len(got) != len(ids) {
		t.Fatalf("%d products for %d ids", len(got), len(ids))
	}
	for i, id := range ids {
		want, ok := x.Product(id)
		switch {
		case !ok && got[i] != nil:
			t.Errorf("%s: got %+v, want nil", id, got[i])
		case ok && (got[i] == nil || got[i].ID != id || got[i].TitleZh != want.TitleZh):
			t.Errorf("%s: got %+v, want %+v", id, got[i], want)
		}
	}
	if got[1] != nil || got[0] == nil {
		t.Errorf("unknown id found or known id missing: %v", got)
	}
	if n := len(x.Products(nil)); n != 0 {
		t.Errorf("%d products for no ids", n)
	}
}
