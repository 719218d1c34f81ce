package indexer

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/livematch/livematch/engine"
	"github.com/livematch/livematch/fixtures"
)

// streamed is what MatchEach handed out: each product (a copy) and its text
// relevance, by id.
type streamed struct {
	stats MatchStats
	prods map[string]*engine.Product
	text  map[string]float64
}

func matchEach(t *testing.T, x *Index, q MatchQuery) streamed {
	t.Helper()
	s := streamed{prods: map[string]*engine.Product{}, text: map[string]float64{}}
	began := 0
	st, err := x.MatchEach(context.Background(), q, func(float64) Sink {
		began++
		return AddAll(func(p *engine.Product, text float64) {
			if _, dup := s.prods[p.ID]; dup {
				t.Fatalf("%s handed out twice", p.ID)
			}
			s.prods[p.ID], s.text[p.ID] = cloneProduct(p), text
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if began != 1 {
		t.Fatalf("begin called %d times", began)
	}
	s.stats = st
	return s
}

// catalogueFixture is a generated catalogue with ids and approved suppliers.
func catalogueFixture(t *testing.T, n int) ([]*engine.Product, map[string]*engine.Org) {
	t.Helper()
	regions, err := fixtures.LoadRegions(nil)
	if err != nil {
		t.Fatal(err)
	}
	cat := fixtures.Generate(7, 20, n, regions)
	orgs := map[string]*engine.Org{}
	for i := range cat.Orgs {
		o := &cat.Orgs[i]
		o.ID, o.Status = fmt.Sprintf("org_%02d", i), engine.OrgApproved
		orgs[o.ID] = o
	}
	ps := make([]*engine.Product, len(cat.Products))
	for i, cp := range cat.Products {
		p := cp.Product
		p.ID, p.OrgID = fmt.Sprintf("prd_%04d", i), cat.Orgs[cp.OrgIndex].ID
		ps[i] = &p
	}
	return ps, orgs
}

// The in-memory catalogue must hand out exactly the products whose index
// gates pass, each carrying every field matching reads: the engine must
// score the streamed copy exactly as it scores the full product, and gate
// it alike. Updates in place, text changes, deletes and a compaction in
// between must leave no trace.
func TestMatchEachAgreesWithEngine(t *testing.T) {
	ps, orgs := catalogueFixture(t, 1500)
	now := fixedNow()
	x := mustOpen(t, testConfig(t, ""), defaultOptions())
	apply(t, x, 0, changesFor(ps)...)

	// Churn: stock updates (in place), retitled products (new slots),
	// deletes; then compact. The final state is in `final`.
	rng := rand.New(rand.NewPCG(3, 4))
	final := map[string]*engine.Product{}
	for _, p := range ps {
		final[p.ID] = p
	}
	seq := int64(len(ps))
	for i := range 1200 {
		p := cloneProduct(ps[rng.IntN(len(ps))])
		seq++
		switch i % 3 {
		case 0:
			p.Stock = int64(rng.IntN(3000))
			p.Booked = int64(rng.IntN(2)) * int64(rng.IntN(int(p.Stock)+1)) // reservations hold some, or all
			p.Certifications = p.Certifications[:min(len(p.Certifications), rng.IntN(3))]
			if i%5 == 0 { // review withdrawn or granted, in place
				p.ReviewStatus = [...]engine.ReviewStatus{engine.ReviewPending, engine.ReviewApproved}[rng.IntN(2)]
			}
			if i%7 == 0 { // recategorised, text unchanged: a new slot
				p.Category = [...]string{"fresh_fruit", "tea", "snacks"}[rng.IntN(3)]
			}
		case 1:
			p.TitleZh += " 新款"
			p.Tags = append(p.Tags, "新品")
		case 2:
			apply(t, x, 0, Change{Seq: seq, ID: p.ID, Deleted: true})
			delete(final, p.ID)
			continue
		}
		if _, gone := final[p.ID]; !gone {
			continue // deleted earlier: leave it deleted
		}
		apply(t, x, 0, Change{Seq: seq, ID: p.ID, Product: p})
		final[p.ID] = p
	}
	x.mu.Lock()
	dead := x.cat.dead
	x.cat.compact()
	x.mu.Unlock()
	if dead == 0 {
		t.Fatal("the churn left no dead slots to compact")
	}

	price := func(v float64) *float64 { return &v }
	gateReasons := map[string]bool{}
	for _, r := range indexGateReasons {
		gateReasons[r] = true
	}
	for _, q := range []MatchQuery{
		{},
		{Categories: []string{"fresh_fruit"}},
		{Keywords: "猕猴桃"},
		{Keywords: "kiwi 猕猴桃", Categories: []string{"fresh_fruit"}, MinStock: 500},
		{Keywords: "茶", PriceMax: price(200), MinCommission: 0.1},
		{Keywords: "新款", PriceMin: price(30), PriceMax: price(300)},
		{Keywords: "orange 橙子", RequiredCerts: []string{"green_food"}, CertsAt: now.AddDate(0, 6, 0)},
		{Categories: []string{"tea", "snacks"}, RequiredCerts: []string{"organic"}, CertsAt: now},
		{Keywords: "no such word at all"},
	} {
		t.Run(fmt.Sprintf("%+v", q.Keywords+"|"+strings.Join(q.Categories, ",")), func(t *testing.T) {
			profile := &engine.DemandProfile{Keywords: q.Keywords, Categories: q.Categories, PriceMin: q.PriceMin,
				PriceMax: q.PriceMax, MinCommissionRate: q.MinCommission, MinStock: q.MinStock, RequiredCerts: q.RequiredCerts,
				PreferredCerts: []string{"organic", "green_food"}, AudienceRegions: []string{"310000"}}
			if !q.CertsAt.IsZero() {
				profile.StreamDate = q.CertsAt
			}
			q.Month, q.MaxLeadDays, q.Dated = engine.Schedule(profile, now)
			got := matchEach(t, x, q)
			params := engine.MatchParams{Now: now, TextMax: got.stats.TextMax}
			want := map[string]bool{}
			excluded := map[string]int{}
			for id, p := range final {
				// The index's gates pass when the engine's first failing
				// gate (if any) is one the index does not evaluate.
				reason := engine.Gate(profile, engine.Candidate{Product: p, Supplier: orgs[p.OrgID]}, now)
				text, matched, err := x.TextScore(context.Background(), q.Keywords, id)
				if err != nil {
					t.Fatal(err)
				}
				if !matched {
					continue
				}
				if gateReasons[reason] {
					excluded[reason]++
					continue
				}
				want[id] = true
				c, ok := got.prods[id]
				if !ok {
					t.Fatalf("%s passes the index's gates but was not handed out", id)
				}
				if got.text[id] != text {
					t.Errorf("%s: text %v streamed, %v from TextScore", id, got.text[id], text)
				}
				full := engine.Score(profile, engine.Candidate{Product: p, Supplier: orgs[p.OrgID], Text: text}, params)
				slim := engine.Score(profile, engine.Candidate{Product: c, Supplier: orgs[p.OrgID], Text: text}, params)
				full.Product, slim.Product = nil, nil
				if !reflect.DeepEqual(full, slim) {
					t.Fatalf("%s: the streamed copy scores differently:\n full %+v\n slim %+v", id, full, slim)
				}
				if g := engine.Gate(profile, engine.Candidate{Product: c, Supplier: orgs[p.OrgID]}, now); g != reason {
					t.Fatalf("%s: gate %q on the streamed copy, %q on the product", id, g, reason)
				}
			}
			if len(got.prods) != len(want) || got.stats.Total != uint64(len(want)) {
				t.Fatalf("handed out %d (total %d), want %d", len(got.prods), got.stats.Total, len(want))
			}
			if !maps.Equal(got.stats.Excluded, excluded) {
				t.Errorf("excluded %v, want %v", got.stats.Excluded, excluded)
			}
			if q.Keywords == "no such word at all" && len(got.prods) != 0 {
				t.Errorf("%d products match nonsense", len(got.prods))
			}
			if q.Keywords == "" && len(q.Categories) == 0 && len(got.prods) < len(final)/2 {
				t.Errorf("only %d of %d products without keywords or categories", len(got.prods), len(final))
			}
		})
	}

	// A fresh index of the final state streams the same.
	y := mustOpen(t, testConfig(t, ""), defaultOptions())
	var cs []Change
	ids := slices.Sorted(maps.Keys(final))
	for i, id := range ids {
		cs = append(cs, Change{Seq: int64(i + 1), ID: id, Product: final[id]})
	}
	apply(t, y, 0, cs...)
	for _, q := range []MatchQuery{{}, {Keywords: "猕猴桃 新款"}, {Keywords: "茶", Categories: []string{"tea"}}} {
		a, b := matchEach(t, x, q), matchEach(t, y, q)
		if !maps.EqualFunc(a.prods, b.prods, func(p, q *engine.Product) bool { return reflect.DeepEqual(p, q) }) {
			t.Errorf("%q: churned and fresh indexes hand out different products", q.Keywords)
		}
		for id, v := range a.text {
			if d := v - b.text[id]; d > 1e-4*v || d < -1e-4*v {
				t.Errorf("%q %s: text %v churned, %v fresh", q.Keywords, id, v, b.text[id])
			}
		}
	}
}

// Matching text: more matching keywords rank higher, and a one-character
// keyword finds every title or tag holding it.
func TestMatchTextRelevance(t *testing.T) {
	x := mustOpen(t, testConfig(t, ""), defaultOptions())
	mk := func(id, title string, tags ...string) Change {
		return Change{ID: id, Product: &engine.Product{ID: id, OrgID: "o", TitleZh: title, Category: "tea", PriceCNY: 10,
			Stock: 5, ReviewStatus: engine.ReviewApproved, Tags: tags}}
	}
	cs := []Change{mk("both", "勐海 红茶"), mk("one", "勐海 普洱"), mk("tag", "普洱", "红茶"), mk("none", "白茶")}
	for i := range cs {
		cs[i].Seq = int64(i + 1)
	}
	apply(t, x, 0, cs...)
	got := matchEach(t, x, MatchQuery{Keywords: "红茶 勐海"})
	if got.text["both"] <= got.text["one"] || got.text["both"] <= got.text["tag"] || got.stats.TextMax != got.text["both"] {
		t.Errorf("text %v, max %v: the product matching both keywords must lead", got.text, got.stats.TextMax)
	}
	if _, ok := got.prods["none"]; ok || got.text["one"] == 0 || got.text["tag"] == 0 {
		t.Errorf("matched %v", slices.Sorted(maps.Keys(got.prods)))
	}
	got = matchEach(t, x, MatchQuery{Keywords: "茶"})
	if ids := slices.Sorted(maps.Keys(got.prods)); !slices.Equal(ids, []string{"both", "none", "tag"}) {
		t.Errorf("茶 matched %v, want every product with 茶 in its title or tags", ids)
	}
}

// A clean Close leaves a snapshot of the catalogue that the next Open uses
// (and removes); a stale, damaged or missing snapshot falls back to reading
// the stored records, with the same result.
func TestCatalogueSnapshot(t *testing.T) {
	ps, _ := catalogueFixture(t, 400)
	dir := filepath.Join(t.TempDir(), "idx")
	cfg := testConfig(t, dir)
	x, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	apply(t, x, int64(len(ps)), changesFor(ps)...)
	apply(t, x, 0, Change{Seq: int64(len(ps) + 1), ID: ps[0].ID, Deleted: true})
	queries := []MatchQuery{{}, {Keywords: "猕猴桃 kiwi"}, {Keywords: "茶", Categories: []string{"tea"}, MinStock: 100}}
	want := make([]streamed, len(queries))
	for i, q := range queries {
		want[i] = matchEach(t, x, q)
	}
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	snap := filepath.Join(dir, snapshotFile)
	if _, err := os.Stat(snap); err != nil {
		t.Fatalf("no snapshot after Close: %v", err)
	}
	check := func(name string, damage func()) {
		t.Run(name, func(t *testing.T) {
			damage()
			y, err := Open(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(snap); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the snapshot is still there after Open: %v", err)
			}
			for i, q := range queries {
				got := matchEach(t, y, q)
				if !reflect.DeepEqual(got, want[i]) {
					t.Errorf("%q: %d products, want %d", q.Keywords, len(got.prods), len(want[i].prods))
				}
			}
			if err := y.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
	check("snapshot", func() {})
	check("no snapshot", func() { _ = os.Remove(snap) })
	check("garbage", func() { _ = os.WriteFile(snap, []byte("not a snapshot"), 0o600) })

	// A snapshot from an older state of this index (checkpoint behind) is
	// not used: the product retitled since is found by its new title.
	y, err := Open(cfg) // uses and removes the snapshot "garbage" left none of; writes one at Close
	if err != nil {
		t.Fatal(err)
	}
	if err := y.Close(); err != nil {
		t.Fatal(err)
	}
	old, err := os.ReadFile(snap)
	if err != nil {
		t.Fatal(err)
	}
	if y, err = Open(cfg); err != nil {
		t.Fatal(err)
	}
	p := cloneProduct(ps[1])
	p.TitleZh = "陈旧快照测试"
	apply(t, y, 0, Change{Seq: int64(len(ps) + 2), ID: p.ID, Product: p})
	if err := y.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(snap, old, 0o600); err != nil {
		t.Fatal(err)
	}
	z := mustOpen(t, cfg, defaultOptions())
	if _, ok, err := z.TextScore(context.Background(), "陈旧快照测试", p.ID); err != nil || !ok {
		t.Fatalf("the retitled product is not found (stale snapshot used?): %v %v", ok, err)
	}
}

// Streaming from several goroutines, one engine.Matcher each, merged, gives
// exactly the sequential result.
func TestMatchEachInParallel(t *testing.T) {
	ps, orgs := catalogueFixture(t, 1500)
	o := defaultOptions()
	o.parallelFrom = 100
	x := mustOpen(t, testConfig(t, ""), o)
	apply(t, x, 0, changesFor(ps)...)
	now := fixedNow()
	for _, p := range []*engine.DemandProfile{
		{Categories: []string{"fresh_fruit", "tea"}, PovertyReliefMinShare: 0.4, AudienceRegions: []string{"310000"}},
		{Keywords: "茶 礼盒 kiwi", MinStock: 10, Weights: engine.Weights{"poverty_relief": 2}},
		{},
	} {
		params := func(textMax float64) engine.MatchParams {
			return engine.MatchParams{Now: now, Limit: 30, TextMax: textMax}
		}
		var matchers []*skipSink
		st, err := x.MatchEach(context.Background(), api2Query(p, now), func(textMax float64) Sink {
			m := &skipSink{m: engine.NewMatcher(p, params(textMax)), orgs: orgs}
			matchers = append(matchers, m)
			return m
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(matchers) < 2 && st.Total >= 100 {
			t.Fatalf("%d candidates streamed by %d matcher(s)", st.Total, len(matchers))
		}
		skipped := 0
		for _, m := range matchers {
			skipped += m.skipped
		}
		for _, m := range matchers[1:] {
			matchers[0].m.Merge(m.m)
		}
		got := matchers[0].m.Result()
		got.Excluded = merge(got.Excluded, st.Excluded)
		if p.Keywords != "" && skipped == 0 {
			t.Errorf("%q: no candidate skipped", p.Keywords)
		}

		// The reference: every candidate that passes the index's gates but
		// the season and lead-time ones, matched by engine.Match (which
		// gates those itself).
		all, err := x.MatchCandidates(context.Background(), MatchQuery{Keywords: p.Keywords, Categories: p.Categories, MinStock: p.MinStock, CertsAt: now, Limit: 1 << 30})
		if err != nil {
			t.Fatal(err)
		}
		cands := make([]engine.Candidate, len(all.Hits))
		for i, h := range all.Hits {
			cands[i] = engine.Candidate{Product: h.Product, Supplier: orgs[h.Product.OrgID], Text: h.Text}
		}
		want := engine.Match(p, cands, params(st.TextMax))
		want.Excluded = merge(want.Excluded, all.Excluded)
		if got.Candidates != int(st.Total) {
			t.Errorf("%q: the matchers counted %d candidates, %d streamed", p.Keywords, got.Candidates, st.Total)
		}
		want.Candidates = got.Candidates // the reference was offered more: the season and lead-time gates' excluded
		if len(got.Items) == 0 || !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: parallel %d items, sequential %d; differ", p.Keywords, len(got.Items), len(want.Items))
		}
	}
}

// api2Query is the index query of a profile (as api.CandidateQuery).
func api2Query(p *engine.DemandProfile, now time.Time) MatchQuery {
	q := MatchQuery{Keywords: p.Keywords, Categories: p.Categories, PriceMin: p.PriceMin, PriceMax: p.PriceMax,
		MinCommission: p.MinCommissionRate, MinStock: p.MinStock, RequiredCerts: p.RequiredCerts, CertsAt: now}
	q.Month, q.MaxLeadDays, q.Dated = engine.Schedule(p, now)
	return q
}

// skipSink is the Sink of api.MatchProfile: an engine.Matcher offered
// every candidate's partial product first.
type skipSink struct {
	m       *engine.Matcher
	orgs    map[string]*engine.Org
	skipped int
}

func (s *skipSink) Skip(p *engine.Product, text float64) bool {
	if s.m.Skip(engine.Candidate{Product: p, Supplier: s.orgs[p.OrgID], Text: text}) {
		s.skipped++
		return true
	}
	return false
}

func (s *skipSink) Add(p *engine.Product, text float64) {
	s.m.Add(engine.Candidate{Product: p, Supplier: s.orgs[p.OrgID], Text: text})
}

// merge adds the counts of b to a (nil-safe) and drops zeros.
func merge(a, b map[string]int) map[string]int {
	out := map[string]int{}
	for _, m := range []map[string]int{a, b} {
		for k, n := range m {
			if n != 0 {
				out[k] += n
			}
		}
	}
	return out
}

func TestSortTouched(t *testing.T) {
	for _, tc := range []struct {
		name    string
		n       int
		touched []uint32
	}{
		{"empty", 10, nil},
		{"one", 1, []uint32{0}},
		{"reversed across words", 200, []uint32{199, 130, 64, 63, 1, 0}},
		{"interleaved runs", 1000, []uint32{5, 500, 999, 6, 501, 7, 128}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := &textScorer{touched: slices.Clone(tc.touched)}
			ts.sortTouched(tc.n)
			want := slices.Sorted(slices.Values(tc.touched))
			if !slices.Equal(ts.touched, want) && !(len(want) == 0 && len(ts.touched) == 0) {
				t.Fatalf("sorted %v, want %v", ts.touched, want)
			}
			for w, b := range ts.mark {
				if b != 0 {
					t.Fatalf("mark word %d left %b", w, b)
				}
			}
		})
	}
}

func TestGallop(t *testing.T) {
	docs := []uint32{2, 3, 5, 8, 13, 21, 34, 55, 89, 144}
	for target := uint32(0); target < 150; target++ {
		wk, wf := slices.BinarySearch(docs, target)
		for _, from := range []int{0, 3, 9, 10} {
			if k, f := gallop(docs[from:], target); from+k != max(wk, from) || f != (wf && wk >= from) {
				t.Fatalf("gallop(docs[%d:], %d) = %d, %v; want %d, %v", from, target, from+k, f, max(wk, from), wf && wk >= from)
			}
		}
	}
	if k, f := gallop(nil, 1); k != 0 || f {
		t.Fatalf("gallop(nil) = %d, %v", k, f)
	}
}

// A row stays one cache line, and the certificate types fit its mask.
func TestRowLayout(t *testing.T) {
	if n := unsafe.Sizeof(row{}); n != 64 {
		t.Errorf("a row is %d bytes, want 64", n)
	}
	if n := len(engine.CertTypes()); n > 16 {
		t.Errorf("%d certificate types do not fit row.CertTypes", n)
	}
}

// row.allInForce is the fast path of certificate checks (catalog.hasCert,
// checked here for every type against the certificates themselves): whenever it holds,
// CertTypes must be exactly the types in force, for expiries around the
// moment asked (to the nanosecond, across day boundaries) and certificates
// that never expire; and it must hold for certificates that expire later.
func TestRowCertificatesInForce(t *testing.T) {
	v := newVocab(nil, func(s string) string { return s })
	day := 24 * time.Hour
	now := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	offsets := []time.Duration{-2 * day, -day, -time.Nanosecond, 0, time.Nanosecond, time.Hour, day - time.Nanosecond, day, 400 * day}
	rng := rand.New(rand.NewPCG(5, 6))
	fast := 0
	for range 3000 {
		var certs []engine.Certification
		for range rng.IntN(4) {
			ct := engine.Certification{Type: engine.CertTypes()[rng.IntN(len(engine.CertTypes()))].Code}
			if rng.IntN(3) > 0 {
				ct.ExpiresAt = now.Add(offsets[rng.IntN(len(offsets))])
			}
			certs = append(certs, ct)
		}
		var c catalog
		r := c.rowOf(v, &engine.Product{Certifications: certs})
		for _, at := range []time.Time{now.Add(-day), now.Add(-time.Nanosecond), now, now.Add(time.Hour), now.Add(2 * day)} {
			var want uint16
			for _, ct := range c.certs[r.CertOff : r.CertOff+uint32(r.CertN)] {
				if ct.Exp == 0 || ct.Exp > at.UnixNano() {
					want |= 1 << ct.Typ
				}
			}
			for typ := range len(engine.CertTypes()) {
				if got := c.hasCert(&r, uint8(typ), at.UnixNano()); got != (want&(1<<typ) != 0) {
					t.Fatalf("certificates %v at %v: hasCert(type %d) = %v, in force %b", certs, at, typ, got, want)
				}
			}
			if r.allInForce(at.UnixNano()) {
				fast++
				if want != r.CertTypes {
					t.Fatalf("certificates %v at %v: all in force by the row (types %b), in force %b", certs, at, r.CertTypes, want)
				}
			}
		}
	}
	if fast == 0 {
		t.Fatal("the fast path never applied")
	}
	// Certificates that expire in a year are all in force today.
	var c catalog
	r := c.rowOf(v, &engine.Product{Certifications: []engine.Certification{{Type: engine.CertTypes()[0].Code, ExpiresAt: now.Add(365 * day)}}})
	if !r.allInForce(now.UnixNano()) || r.allInForce(now.Add(366*day).UnixNano()) {
		t.Fatalf("a certificate expiring in a year: in force now %v, in 366 days %v", r.allInForce(now.UnixNano()), r.allInForce(now.Add(366*day).UnixNano()))
	}
}
