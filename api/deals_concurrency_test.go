package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/livematch/livematch/engine"
	"github.com/livematch/livematch/store"
)

// The reservation storm: 64 HTTP clients (each its own connection pool, on
// the keys of several MCN orgs) reserve one product with a stock of 1,000.
const (
	stormClients   = 64
	stormMCNs      = 8 // MCN orgs; client c uses org c % stormMCNs
	stormStock     = 1000
	stormRushMin   = 25 // every client's first request asks 25..40 units
	stormPhase1Ops = 5  // then this many of 1..40 units
	stormPhase2Ops = 5  // reservations and cancels mixed with stock edits
	stormMaxEdits  = 40 // the supplier's stock edits in phase 2, at most
)

// stormClient is one HTTP client of the storm; it never calls t.Fatal, so
// that it can run on any goroutine.
type stormClient struct {
	hc   *http.Client
	base string
	key  string
}

// stormAnswer is a decoded answer.
type stormAnswer struct {
	status int
	ctype  string
	body   map[string]any
	raw    []byte
}

func newStormClient(base, key string) *stormClient {
	return &stormClient{base: base, key: key,
		hc: &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 2}}}
}

func (c *stormClient) call(method, path string, body any) (stormAnswer, error) {
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return stormAnswer{}, err
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		return stormAnswer{}, err
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := c.hc.Do(req)
	if err != nil {
		return stormAnswer{}, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return stormAnswer{}, err
	}
	a := stormAnswer{status: res.StatusCode, ctype: res.Header.Get("Content-Type"), raw: raw}
	if len(raw) > 0 && raw[0] == '{' {
		if err := json.Unmarshal(raw, &a.body); err != nil {
			return a, fmt.Errorf("%s %s: bad JSON %q: %w", method, path, raw, err)
		}
	}
	return a, nil
}

// stormRefusal checks a reservation's 409: problem+json naming units, with
// an available member below the units asked. It returns the available
// units, or a description of what is wrong.
func stormRefusal(a stormAnswer, units int64) (int64, string) {
	av, ok := a.body["available"].(float64)
	errs, _ := a.body["errors"].([]any)
	var first map[string]any
	if len(errs) > 0 {
		first, _ = errs[0].(map[string]any)
	}
	switch {
	case a.ctype != "application/problem+json":
		return 0, "Content-Type " + a.ctype
	case !ok:
		return 0, "no available member"
	case first == nil || first["field"] != "units":
		return 0, "errors[0] does not name units"
	case av != float64(int64(av)) || av < 0 || int64(av) >= units:
		return 0, fmt.Sprintf("available %v for %d units asked", av, units)
	}
	return int64(av), ""
}

// stormHold is an acknowledged reservation.
type stormHold struct {
	id    string
	units int64
}

// stormTally is what one client saw. A 503 (the database did not answer in
// time, which happens when 64 clients overload a 2-core machine under
// -race) is an unknown outcome: the change may or may not have happened,
// so the audit allows for either, bounded by the number of such answers.
type stormTally struct {
	holds         []stormHold // acknowledged (201), in order
	cancelled     []stormHold // of those, cancelled (200)
	cancelUnknown []stormHold // of those, cancels answered 503
	refused       int
	minRefused    int64 // the fewest units of a refusal (0: none)
	busy          int   // reservations answered 503
	problems      []string
}

func (tl *stormTally) fail(format string, args ...any) {
	tl.problems = append(tl.problems, fmt.Sprintf(format, args...))
}

func isBusy(a stormAnswer) bool { return a.status == 503 && a.ctype == "application/problem+json" }

// reserve sends one reservation and records the outcome.
func (tl *stormTally) reserve(c *stormClient, productID string, units int64) {
	a, err := c.call("POST", "/v1/reservations", map[string]any{"product_id": productID, "units": units, "stream_date": tomorrow()})
	switch {
	case err != nil:
		tl.fail("reserve %d: %v", units, err)
	case a.status == 201:
		id, _ := a.body["id"].(string)
		if id == "" || a.body["units"] != float64(units) || a.body["status"] != "held" || a.body["product_id"] != productID {
			tl.fail("reserve %d: 201 %s", units, a.raw)
			return
		}
		tl.holds = append(tl.holds, stormHold{id, units})
	case a.status == 409:
		if _, bad := stormRefusal(a, units); bad != "" {
			tl.fail("reserve %d: 409 %s: %s", units, bad, a.raw)
			return
		}
		tl.refused++
		if tl.minRefused == 0 || units < tl.minRefused {
			tl.minRefused = units
		}
	case isBusy(a):
		tl.busy++
	default:
		tl.fail("reserve %d: %d %s", units, a.status, a.raw)
	}
}

// live returns the client's holds that it has not (tried to) cancel.
func (tl *stormTally) live() []stormHold {
	var out []stormHold
	for _, h := range tl.holds {
		gone := func(x stormHold) bool { return x.id == h.id }
		if !slices.ContainsFunc(tl.cancelled, gone) && !slices.ContainsFunc(tl.cancelUnknown, gone) {
			out = append(out, h)
		}
	}
	return out
}

// stormKnown is what the clients together know after a phase.
type stormKnown struct {
	acked         map[string]int64 // every acknowledged reservation → units
	cancelled     map[string]bool  // acknowledged cancels
	cancelUnknown map[string]bool  // cancels answered 503
	busy          int              // reservations answered 503
	refused       int
	minRefused    int64
	stock         int64 // the last acknowledged stock
	stockKnown    bool  // false after a stock edit answered 503
}

func stormCollect(t *testing.T, tallies []stormTally) stormKnown {
	t.Helper()
	k := stormKnown{acked: map[string]int64{}, cancelled: map[string]bool{}, cancelUnknown: map[string]bool{}}
	for i := range tallies {
		tl := &tallies[i]
		for _, p := range tl.problems {
			t.Errorf("client %d: %s", i, p)
		}
		for _, h := range tl.holds {
			if _, dup := k.acked[h.id]; dup {
				t.Errorf("reservation %s acknowledged twice", h.id)
			}
			k.acked[h.id] = h.units
		}
		for _, h := range tl.cancelled {
			k.cancelled[h.id] = true
		}
		for _, h := range tl.cancelUnknown {
			k.cancelUnknown[h.id] = true
		}
		k.busy += tl.busy
		k.refused += tl.refused
		if tl.minRefused > 0 && (k.minRefused == 0 || tl.minRefused < k.minRefused) {
			k.minRefused = tl.minRefused
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	return k
}

func (k stormKnown) ackedHeldUnits() int64 {
	var n int64
	for id, u := range k.acked {
		if !k.cancelled[id] && !k.cancelUnknown[id] {
			n += u
		}
	}
	return n
}

// stormAudit runs once no request is in flight. It reconciles (releasing
// the bookings of reservations a 503 left unstored) and checks that the
// database's reservations, the ledger and the product agree with each
// other and with what the clients were told. It returns the units held and
// the number of ledger entries, and says what the 503s left.
func stormAudit(t *testing.T, d *dealEnv, key string, k stormKnown) (held int64, entries int, note string) {
	t.Helper()
	ctx := context.Background()
	rep, err := d.store.ReconcileDeals(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if k.busy == 0 && len(k.cancelUnknown) == 0 && rep != (store.ReconcileReport{}) {
		t.Errorf("every request was answered, yet reconciliation repaired %+v", rep)
	}
	// Every reservation of the product in the database.
	type listedRsv struct {
		status string
		units  int64
	}
	listed := map[string]listedRsv{}
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 100 {
			t.Fatal("paging did not end")
		}
		q := url.Values{"product_id": {d.productID}, "limit": {"100"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		r := d.must(200, "GET", "/v1/reservations?"+q.Encode(), d.coopKey, nil)
		for _, it := range r.body["items"].([]any) {
			m := it.(map[string]any)
			listed[m["id"].(string)] = listedRsv{m["status"].(string), int64(m["units"].(float64))}
		}
		if cursor, _ = r.body["next_cursor"].(string); cursor == "" {
			break
		}
	}
	extra := 0
	for id, l := range listed {
		units, ok := k.acked[id]
		want := "held"
		switch {
		case !ok:
			extra++ // answered 503 but stored: a hold nobody knows of
		case k.cancelled[id]:
			want = "cancelled"
		case k.cancelUnknown[id] && l.status == "cancelled":
			want = "cancelled"
		}
		if ok && l.units != units || l.status != want {
			t.Errorf("reservation %s is %s with %d units in the database; want %s (acknowledged with %d units: %v)", id, l.status, l.units, want, units, ok)
		}
	}
	for id := range k.acked {
		if _, ok := listed[id]; !ok {
			t.Errorf("acknowledged reservation %s is not in the database", id)
		}
	}
	if extra > k.busy {
		t.Errorf("%d reservations in the database were never acknowledged, but only %d requests were answered 503", extra, k.busy)
	}
	// The ledger: a valid chain; each stored reservation booked once and
	// released once iff cancelled; a booking of an unstored one (a 503)
	// released once.
	all, err := d.store.LedgerEntries(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	stormCheckChain(t, all)
	books, releases := map[string]int{}, map[string]int{}
	for _, e := range all {
		switch e.Kind {
		case store.LedgerBook:
			books[e.Ref]++
			if l, ok := listed[e.Ref]; ok && l.units != e.Units {
				t.Errorf("ledger entry %v for a reservation of %d units", e, l.units)
			}
		case store.LedgerRelease:
			releases[e.Ref]++
		case store.LedgerStock:
		default:
			t.Errorf("unexpected ledger entry %v", e)
		}
	}
	orphans := 0
	for ref, n := range books {
		l, stored := listed[ref]
		switch {
		case n != 1:
			t.Errorf("%s is booked %d times", ref, n)
		case !stored && (releases[ref] != 1 || k.acked[ref] != 0):
			t.Errorf("the booking of %s, which is not stored, is released %d times (acknowledged: %v)", ref, releases[ref], k.acked[ref] != 0)
		case !stored:
			orphans++
		case l.status == "cancelled" && releases[ref] != 1, l.status == "held" && releases[ref] != 0:
			t.Errorf("%s reservation %s is released %d times", l.status, ref, releases[ref])
		}
		if stored && l.status == "held" {
			held += l.units
		}
	}
	for ref := range releases {
		if books[ref] == 0 {
			t.Errorf("%s is released but was never booked", ref)
		}
	}
	for id := range listed {
		if books[id] != 1 {
			t.Errorf("reservation %s is booked %d times", id, books[id])
		}
	}
	if orphans+extra > k.busy {
		t.Errorf("%d unstored bookings and %d unacknowledged reservations, but only %d requests answered 503", orphans, extra, k.busy)
	}
	head := all[len(all)-1].Ledger
	stock, booked, available := d.stock(t)
	if head.Booked != held || booked != held || stock != head.Stock || available != stock-booked {
		t.Errorf("ledger head %+v, product %d/%d/%d (stock/booked/available); the database holds %d units", head, stock, booked, available, held)
	}
	if k.stockKnown && head.Stock != k.stock {
		t.Errorf("stock %d, but the last acknowledged edit set %d", head.Stock, k.stock)
	}
	if t.Failed() {
		t.FailNow()
	}
	return held, len(all), fmt.Sprintf("503s left %d unacknowledged holds and %d unstored bookings (reconciliation: %+v)", extra, orphans, rep)
}

// TestReservationStorm races 64 HTTP clients reserving 1..40 units of one
// product with a stock of 1,000 through the real server. Phase 1 only
// reserves: the accepted units never exceed the stock, every refusal is a
// 409 problem naming units whose available is below the units asked, and
// the product's booked units and the ledger agree with the acknowledged
// reservations. Phase 2 mixes in cancels of the clients' own reservations
// and a supplier raising and lowering the stock. After each phase every
// ledger entry keeps booked ≤ stock and follows from its predecessor, the
// ledger books each reservation once and releases each cancelled one once,
// and the product, the ledger and the stored reservations agree.
func TestReservationStorm(t *testing.T) {
	d := newDealEnv(t, stormStock, false)
	keys := []string{d.mcnKey, d.mcn2Key}
	for len(keys) < stormMCNs {
		_, k := d.newOrg(engine.OrgMCN, "330106")
		keys = append(keys, k)
	}
	clients := make([]*stormClient, stormClients)
	for i := range clients {
		clients[i] = newStormClient(d.url, keys[i%stormMCNs])
		defer clients[i].hc.CloseIdleConnections()
	}
	tallies := make([]stormTally, stormClients)
	p, err := d.store.GetProduct(context.Background(), d.productID)
	if err != nil {
		t.Fatal(err)
	}
	key := store.LedgerKey(p)

	// Phase 1: reservations only.
	start := time.Now()
	var wg, rush sync.WaitGroup
	rush.Add(stormClients)
	for i, c := range clients {
		wg.Go(func() {
			tl := &tallies[i]
			rng := rand.New(rand.NewPCG(1, uint64(i)))
			// Everyone asks 25..40 units first, all before anyone goes on:
			// 64 × 25 > 1,000, so refusals happen whatever the timing.
			tl.reserve(c, d.productID, stormRushMin+rng.Int64N(40-stormRushMin+1))
			rush.Done()
			rush.Wait()
			for range stormPhase1Ops {
				tl.reserve(c, d.productID, 1+rng.Int64N(40))
			}
		})
	}
	wg.Wait()
	phase1 := time.Since(start)
	k1 := stormCollect(t, tallies)
	k1.stock, k1.stockKnown = stormStock, true
	acceptedUnits := k1.ackedHeldUnits()
	if acceptedUnits > stormStock {
		t.Fatalf("overbooked: %d units accepted of a stock of %d", acceptedUnits, stormStock)
	}
	// At most 1000/25 = 40 of the 64 rush requests fit.
	if k1.refused+k1.busy < stormClients-stormStock/stormRushMin {
		t.Fatalf("only %d refusals after a rush of %d × ≥%d units", k1.refused, stormClients, stormRushMin)
	}
	stock, booked, available := d.stock(t)
	if stock != stormStock || booked < acceptedUnits {
		t.Fatalf("product: stock %d booked %d; accepted %d units", stock, booked, acceptedUnits)
	}
	if k1.busy == 0 {
		// Every request was answered, and nothing was released: the
		// ledger holds exactly the acknowledged bookings, and available
		// only fell, so every refusal saw at least what is available now.
		l, n, err := d.store.StockLedger(context.Background(), key, stormStock)
		if err != nil || booked != acceptedUnits || available != stormStock-acceptedUnits || l.Booked != acceptedUnits || n != int64(len(k1.acked)) {
			t.Fatalf("product booked %d available %d, ledger %+v at entry %d (%v); %d reservations of %d units acknowledged",
				booked, available, l, n, err, len(k1.acked), acceptedUnits)
		}
		if available >= k1.minRefused {
			t.Fatalf("available %d at the end, but a refusal of %d units happened", available, k1.minRefused)
		}
	}
	held, entries, note := stormAudit(t, d, key, k1)
	t.Logf("phase 1: %d clients, %d requests in %v: %d accepted (%d of %d units), %d refused (409; the fewest units refused %d), %d answered 503; "+
		"available at the end %d; %d units held in the database, %d ledger entries; %s",
		stormClients, len(k1.acked)+k1.refused+k1.busy, phase1.Round(time.Millisecond), len(k1.acked), acceptedUnits, stormStock,
		k1.refused, k1.minRefused, k1.busy, available, held, entries, note)

	// Phase 2: reservations, cancels of one's own holds, and stock edits.
	sup := newStormClient(d.url, d.coopKey)
	defer sup.hc.CloseIdleConnections()
	var (
		done                             = make(chan struct{})
		lastStock                        = int64(stormStock)
		stockKnown                       = true
		editsOK, editsRefused, editsBusy int
		supProblems                      []string
		sw                               sync.WaitGroup
	)
	start = time.Now()
	sw.Go(func() {
		rng := rand.New(rand.NewPCG(2, 0))
		for e := 0; e < stormMaxEdits; e++ {
			select {
			case <-done:
				return
			default:
			}
			want := 600 + rng.Int64N(801) // 600..1400, often below what is booked
			a, err := sup.call("PATCH", "/v1/products/"+d.productID+"/stock", map[string]any{"stock": want})
			switch {
			case err != nil:
				supProblems = append(supProblems, err.Error())
			case a.status == 200 && a.body["stock"] == float64(want):
				editsOK++
				lastStock, stockKnown = want, true
			case a.status == 409 && a.ctype == "application/problem+json" && slices.Contains(fieldsOf(resp{body: a.body}), "stock"):
				editsRefused++
			case isBusy(a):
				editsBusy++
				stockKnown = false
			default:
				supProblems = append(supProblems, fmt.Sprintf("stock %d: %d %s", want, a.status, a.raw))
			}
			time.Sleep(time.Duration(rng.IntN(20)) * time.Millisecond)
		}
	})
	for i, c := range clients {
		wg.Go(func() {
			tl := &tallies[i]
			rng := rand.New(rand.NewPCG(3, uint64(i)))
			for range stormPhase2Ops {
				if live := tl.live(); len(live) > 0 && rng.IntN(3) == 0 {
					h := live[rng.IntN(len(live))]
					a, err := c.call("POST", "/v1/reservations/"+h.id+":cancel", map[string]any{"reason": "storm"})
					switch {
					case err == nil && a.status == 200 && a.body["status"] == "cancelled" && a.body["cancelled_by"] == "mcn":
						tl.cancelled = append(tl.cancelled, h)
					case err == nil && isBusy(a):
						tl.cancelUnknown = append(tl.cancelUnknown, h)
					default:
						tl.fail("cancel %s: %d %v %s", h.id, a.status, err, a.raw)
					}
					continue
				}
				tl.reserve(c, d.productID, 1+rng.Int64N(40))
			}
		})
	}
	wg.Wait()
	close(done)
	sw.Wait()
	phase2 := time.Since(start)
	for _, p := range supProblems {
		t.Errorf("supplier: %s", p)
	}
	k2 := stormCollect(t, tallies)
	k2.stock, k2.stockKnown = lastStock, stockKnown
	held, entries, note = stormAudit(t, d, key, k2)
	t.Logf("phase 2 in %v: %d reservations and %d cancels acknowledged, %d refused (409), %d reservations and %d cancels answered 503; "+
		"supplier: %d stock edits accepted, %d refused (409 stock), %d answered 503; end: stock %d, %d units held, %d ledger entries; %s",
		phase2.Round(time.Millisecond), len(k2.acked)-len(k1.acked), len(k2.cancelled), k2.refused-k1.refused, k2.busy-k1.busy,
		len(k2.cancelUnknown), editsOK, editsRefused, editsBusy, lastStock, held, entries, note)
}

// stormCheckChain verifies that each ledger entry follows from its
// predecessor by the engine's rules and keeps 0 ≤ booked ≤ stock.
func stormCheckChain(tb testing.TB, entries []store.LedgerEntry) {
	tb.Helper()
	if len(entries) == 0 {
		tb.Fatal("the ledger is empty")
	}
	var prev engine.StockLedger
	for i, e := range entries {
		if e.N != int64(i+1) {
			tb.Fatalf("entry %d has n %d", i+1, e.N)
		}
		if i == 0 {
			switch e.Kind {
			case store.LedgerBook:
				prev = engine.StockLedger{Stock: e.Ledger.Stock}
			case store.LedgerStock:
				prev = engine.StockLedger{Stock: e.Units}
			default:
				tb.Fatalf("the chain starts with %v", e)
			}
		}
		var next engine.StockLedger
		var err error
		switch e.Kind {
		case store.LedgerBook:
			next, err = prev.Book(e.Units)
		case store.LedgerRelease:
			next, err = prev.Release(e.Units)
		case store.LedgerShip:
			next, err = prev.Ship(e.Units)
		case store.LedgerStock:
			next, err = prev.SetStock(e.Units)
		}
		if err != nil || next != e.Ledger {
			tb.Fatalf("entry %v does not follow from %+v (%v)", e, prev, err)
		}
		if err := e.Ledger.Check(); err != nil || e.Ledger.Booked > e.Ledger.Stock {
			tb.Fatalf("entry %v breaks booked ≤ stock: %v", e, err)
		}
		prev = next
	}
}
