package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/livematch/livematch/engine"
	"github.com/livematch/livematch/store"
)

// The deal crash test: a storm of reservations (and a few cancels and
// confirms) against the real matchd, killed with SIGKILL at random moments.
const (
	dealCrashStock   = 100000
	dealCrashMCNs    = 3
	dealCrashWorkers = 12 // MCN clients; worker w uses MCN org w % dealCrashMCNs
	dealCrashRounds  = 3  // storms, each ended by a kill
)

// dealCrashRsv is what the clients know of one reservation.
type dealCrashRsv struct {
	units     int64
	mcn       int  // index of its MCN org
	cancelled bool // a cancel was acknowledged
	confirmed bool // a confirm was acknowledged
	unsure    bool // a cancel or confirm was in flight at a kill
}

// dealCrash is what the test knows across rounds.
type dealCrash struct {
	cs        *crashState
	productID string
	mcnKeys   []string
	rsv       map[string]*dealCrashRsv // acknowledged reservations
	// unknown counts reservations in flight at a kill: each may have left a
	// stored reservation nobody was told of, or a booking without one.
	unknown  int
	refused  int // 409s (stock exhausted; not expected with this stock)
	requests int
}

// TestCrashDeals builds the real matchd, creates a supplier, a product with
// a stock of 100,000 and MCN orgs through the API, and runs storms of
// concurrent reservations (with cancels by the MCNs and confirms by the
// supplier), each ended by kill -9 at a seeded random moment. The server is
// restarted on the same data directory after each kill, at first with an
// orphan grace of an hour (no reconciliation runs), finally with 1 s; then
// it is killed once more at a random moment around its first reconciliation
// pass and restarted. Then: every acknowledged reservation is stored with
// its units and state; the product's booked units (exact, from the ledger)
// equal the units of the held and confirmed reservations in the database
// (polled while the reconciliation runs: a wait, not a speed assertion);
// reservations nobody was told of, plus bookings without a reservation,
// are at most the reservations in flight at the kills; and, read from the
// database files directly, every reservation is booked once, released once
// iff cancelled, every booking without a reservation is released once, and
// every ledger entry follows from its predecessor with booked ≤ stock.
// CRASH_SEED=<n> replays a run.
func TestCrashDeals(t *testing.T) {
	testStart := time.Now()
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("CRASH_SEED"); v != "" {
		var err error
		if seed, err = strconv.ParseUint(v, 10, 64); err != nil {
			t.Fatalf("CRASH_SEED: %v", err)
		}
	}
	t.Logf("seed %d (CRASH_SEED=%d replays this run)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, seed^0x5851f42d4c957f2d))

	bin, buildTook := crashBuild(t)
	cs := &crashState{t: t, bin: bin, dir: t.TempDir(),
		client: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 32}}}
	t.Cleanup(cs.client.CloseIdleConnections)
	// No reconciliation while storms run: a pass with a grace of 1 s would
	// take a booking whose reservation is still being inserted for an
	// orphan (the real default, 15 s, is above the request timeout).
	t.Setenv("MATCHD_ORPHAN_GRACE", "1h")
	p := cs.start()
	dc := &dealCrash{cs: cs, rsv: map[string]*dealCrashRsv{}}
	dc.setUp(p)

	for round := 1; round <= dealCrashRounds; round++ {
		delay := time.Duration(300+rng.IntN(1200)) * time.Millisecond
		acked, cancels, confirms, inFlight := dc.storm(p, round, delay, rng)
		if err := p.wait(10 * time.Second); err != nil {
			t.Fatalf("round %d: matchd did not exit after SIGKILL: %v", round, err)
		}
		if round == dealCrashRounds {
			t.Setenv("MATCHD_ORPHAN_GRACE", "1s")
		}
		p = cs.start()
		dc.checkAcknowledged(p, round)
		t.Logf("round %d: killed after %v: %d reservations, %d cancels, %d confirms acknowledged, %d requests in flight; restart to ready %v",
			round, delay, acked, cancels, confirms, inFlight, p.readyAfter.Round(time.Millisecond))
	}
	// Kill it again around its first reconciliation pass, and restart.
	kd := time.Duration(500+rng.IntN(1500)) * time.Millisecond
	time.Sleep(kd)
	p.kill()
	if err := p.wait(10 * time.Second); err != nil {
		t.Fatalf("matchd did not exit after SIGKILL: %v", err)
	}
	p = cs.start()
	held, n, waited := dc.awaitBalanced(p)
	dc.checkAcknowledged(p, dealCrashRounds+1)
	p.kill()
	if err := p.wait(10 * time.Second); err != nil {
		t.Fatalf("matchd did not exit after SIGKILL: %v", err)
	}
	rep := dc.checkDatabase()
	t.Logf("summary: seed %d; %d requests, %d reservations acknowledged, %d in flight at the kills, %d refused; "+
		"killed again %v after the last restart; ledger balanced (%d units held by %d reservations) %v after the restart; %s; build %v, total %v",
		seed, dc.requests, len(dc.rsv), dc.unknown, dc.refused, kd, held, n, waited.Round(time.Millisecond), rep,
		buildTook.Round(time.Millisecond), time.Since(testStart).Round(time.Millisecond))
}

// call sends a JSON request and decodes a JSON answer into v (when not
// nil). err is a transport error: the process is gone.
func (dc *dealCrash) call(ctx context.Context, p *crashProc, method, path, key string, body any, v any) (int, []byte, error) {
	var raw []byte
	if body != nil {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			return 0, nil, err
		}
	}
	st, out, err := dc.cs.do(ctx, p, method, path, key, raw)
	if err == nil && v != nil && st < 300 {
		if jerr := json.Unmarshal(out, v); jerr != nil {
			return st, out, fmt.Errorf("%s %s: %w", method, path, jerr)
		}
	}
	return st, out, err
}

// setUp creates the supplier, the product and the MCN orgs.
func (dc *dealCrash) setUp(p *crashProc) {
	t := dc.cs.t
	dc.cs.createOrg(p)
	ctx := context.Background()
	var prod struct {
		ID string `json:"id"`
	}
	st, raw, err := dc.call(ctx, p, "POST", "/v1/products", dc.cs.key, map[string]any{
		"sku": "CRASH-DEALS-1", "title_zh": "崩溃测试 赣南脐橙 5斤装", "title_en": "crash test navel oranges",
		"category": "fresh_fruit", "price_cny": 39.9, "stock": dealCrashStock, "ship_from": "360732",
	}, &prod)
	if err != nil || st != http.StatusCreated || prod.ID == "" {
		t.Fatalf("create product: %d %v %s", st, err, raw)
	}
	dc.productID = prod.ID
	for i := range dealCrashMCNs {
		var org struct {
			APIKey string `json:"api_key"`
		}
		st, raw, err := dc.call(ctx, p, "POST", "/v1/orgs", crashAdminKey, map[string]any{
			"kind": "mcn", "name_zh": fmt.Sprintf("崩溃测试机构%d", i), "name_en": fmt.Sprintf("Crash MCN %d", i), "region_code": "330106",
		}, &org)
		if err != nil || st != http.StatusCreated || org.APIKey == "" {
			t.Fatalf("create mcn: %d %v %s", st, err, raw)
		}
		dc.mcnKeys = append(dc.mcnKeys, org.APIKey)
	}
}

// storm runs the MCN workers and the supplier until p is killed after
// delay, and records what was acknowledged and what was in flight.
func (dc *dealCrash) storm(p *crashProc, round int, delay time.Duration, rng *rand.Rand) (acked, cancels, confirms, inFlight int) {
	t := dc.cs.t
	streamDate := time.Now().Add(48 * time.Hour).In(time.FixedZone("CST", 8*3600)).Format(time.DateOnly)
	var (
		mu       sync.Mutex
		failures []string
		wg       sync.WaitGroup
		toSup    = make(chan string, 1024) // held reservations the supplier may confirm
		killed   = make(chan struct{})     // closed at the kill: an idle supplier stops
	)
	ctx, cancel := context.WithCancel(context.Background())
	seeds := make([]uint64, dealCrashWorkers+1)
	for i := range seeds {
		seeds[i] = rng.Uint64()
	}
	type rsvOut struct {
		ID     string `json:"id"`
		Status string `json:"status"`
		Units  int64  `json:"units"`
	}
	for w := range dealCrashWorkers {
		wg.Go(func() {
			wr := rand.New(rand.NewPCG(seeds[w], uint64(round)))
			org := w % dealCrashMCNs
			key := dc.mcnKeys[org]
			var mine []string // own reservations not (being) cancelled
			for ctx.Err() == nil {
				if len(mine) > 0 && wr.IntN(6) == 0 {
					k := wr.IntN(len(mine))
					id := mine[k]
					mine = append(mine[:k], mine[k+1:]...)
					var out rsvOut
					st, raw, err := dc.call(ctx, p, "POST", "/v1/reservations/"+id+":cancel", key, map[string]any{"reason": "crash test"}, &out)
					mu.Lock()
					dc.requests++
					switch {
					case err != nil:
						dc.rsv[id].unsure = true
						inFlight++
					case st == http.StatusOK && out.Status == "cancelled":
						dc.rsv[id].cancelled = true
						cancels++
					default:
						failures = append(failures, fmt.Sprintf("cancel %s: %d %s", id, st, raw))
					}
					mu.Unlock()
					if err != nil {
						return
					}
					continue
				}
				units := 1 + wr.Int64N(40)
				var out rsvOut
				st, raw, err := dc.call(ctx, p, "POST", "/v1/reservations", key,
					map[string]any{"product_id": dc.productID, "units": units, "stream_date": streamDate}, &out)
				mu.Lock()
				dc.requests++
				switch {
				case err != nil:
					dc.unknown++
					inFlight++
				case st == http.StatusCreated && out.ID != "" && out.Units == units && out.Status == "held":
					dc.rsv[out.ID] = &dealCrashRsv{units: units, mcn: org}
					acked++
					mine = append(mine, out.ID)
				case st == http.StatusConflict:
					dc.refused++
				default:
					failures = append(failures, fmt.Sprintf("reserve %d: %d %s", units, st, raw))
				}
				mu.Unlock()
				if err != nil {
					return
				}
				if st == http.StatusCreated && wr.IntN(4) == 0 {
					select {
					case toSup <- out.ID:
					default:
					}
				}
			}
		})
	}
	wg.Go(func() { // the supplier confirms some holds
		for {
			var id string
			select {
			case id = <-toSup:
			case <-killed:
				return
			}
			var out rsvOut
			st, raw, err := dc.call(ctx, p, "POST", "/v1/reservations/"+id+":confirm", dc.cs.key, nil, &out)
			mu.Lock()
			dc.requests++
			switch {
			case err != nil:
				dc.rsv[id].unsure = true
				inFlight++
			case st == http.StatusOK && out.Status == "confirmed":
				dc.rsv[id].confirmed = true
				confirms++
			case st == http.StatusConflict: // cancelled first
			default:
				failures = append(failures, fmt.Sprintf("confirm %s: %d %s", id, st, raw))
			}
			mu.Unlock()
			if err != nil {
				return
			}
		}
	})
	time.Sleep(delay)
	p.kill()
	close(killed)
	wg.Wait() // the requests in flight fail once the process is gone
	cancel()
	for _, f := range failures {
		t.Errorf("round %d: %s", round, f)
	}
	if t.Failed() {
		t.FailNow()
	}
	return acked, cancels, confirms, inFlight
}

// dealCrashListed is a reservation as the database lists it.
type dealCrashListed struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Units  int64  `json:"units"`
}

// list returns every reservation of the product, as admin.
func (dc *dealCrash) list(p *crashProc) map[string]dealCrashListed {
	t := dc.cs.t
	out := map[string]dealCrashListed{}
	cursor := ""
	for page := 0; ; page++ {
		if page > 1000 {
			t.Fatal("paging did not end")
		}
		q := url.Values{"product_id": {dc.productID}, "limit": {"100"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var res struct {
			Items      []dealCrashListed `json:"items"`
			NextCursor string            `json:"next_cursor"`
		}
		dc.cs.getJSON(p, "/v1/reservations?"+q.Encode(), crashAdminKey, &res)
		for _, it := range res.Items {
			if _, dup := out[it.ID]; dup {
				t.Fatalf("reservation %s listed twice", it.ID)
			}
			out[it.ID] = it
		}
		if cursor = res.NextCursor; cursor == "" {
			return out
		}
	}
}

// checkAcknowledged checks that every acknowledged reservation is stored
// with its units and a state its acknowledged changes allow, and that at
// most the reservations in flight at the kills are stored unacknowledged.
func (dc *dealCrash) checkAcknowledged(p *crashProc, round int) {
	t := dc.cs.t
	listed := dc.list(p)
	for id, r := range dc.rsv {
		l, ok := listed[id]
		if !ok {
			t.Errorf("round %d: acknowledged reservation %s (%d units) is not in the database", round, id, r.units)
			continue
		}
		if l.Units != r.units {
			t.Errorf("round %d: reservation %s has %d units, acknowledged with %d", round, id, l.Units, r.units)
		}
		if st, ok := dc.rsvStatusOK(p, id, r, l.Status); !ok {
			t.Errorf("round %d: reservation %s is %s (read by id: %s); acknowledged %+v", round, id, l.Status, st, *r)
		}
	}
	extra := 0
	for id, l := range listed {
		if dc.rsv[id] == nil {
			extra++
			if l.Status != "held" {
				t.Errorf("round %d: unacknowledged reservation %s is %s", round, id, l.Status)
			}
		}
	}
	if extra > dc.unknown {
		t.Errorf("round %d: %d reservations stored that nobody was told of, but only %d were in flight at the kills", round, extra, dc.unknown)
	}
	if t.Failed() {
		t.FailNow()
	}
}

// rsvStatusOK reports whether status (as listed) fits what the clients
// were told of r. A list shows the stored document, which a crash may have
// left behind its log; then the reservation read by id (rolled forward)
// decides, and is returned.
func (dc *dealCrash) rsvStatusOK(p *crashProc, id string, r *dealCrashRsv, status string) (string, bool) {
	fits := func(s string) bool {
		switch {
		case r.cancelled:
			return s == "cancelled"
		case r.unsure:
			return s == "held" || s == "cancelled" || s == "confirmed"
		case r.confirmed:
			return s == "confirmed"
		}
		return s == "held"
	}
	if fits(status) {
		return status, true
	}
	var got dealCrashListed
	dc.cs.getJSON(p, "/v1/reservations/"+id, crashAdminKey, &got)
	return got.Status, fits(got.Status)
}

// awaitBalanced polls until the product's booked units (exact: from the
// ledger) equal the units of the held and confirmed reservations in the
// database; the orphan bookings a kill left are released by the
// reconciliation that runs 1 s after the start.
func (dc *dealCrash) awaitBalanced(p *crashProc) (held int64, n int, waited time.Duration) {
	t := dc.cs.t
	start := time.Now()
	deadline := start.Add(60 * time.Second)
	for {
		var prod struct {
			Stock     int64 `json:"stock"`
			Booked    int64 `json:"booked"`
			Available int64 `json:"available"`
		}
		dc.cs.getJSON(p, "/v1/products/"+dc.productID, dc.cs.key, &prod)
		held, n = 0, 0
		for _, l := range dc.list(p) {
			if l.Status == "held" || l.Status == "confirmed" {
				held += l.Units
				n++
			}
		}
		var again struct {
			Booked int64 `json:"booked"`
		}
		dc.cs.getJSON(p, "/v1/products/"+dc.productID, dc.cs.key, &again)
		if prod.Booked > prod.Stock || prod.Available != prod.Stock-prod.Booked || prod.Stock != dealCrashStock {
			t.Fatalf("product: stock %d booked %d available %d", prod.Stock, prod.Booked, prod.Available)
		}
		if prod.Booked == held && again.Booked == held {
			return held, n, time.Since(start)
		}
		// Fewer booked than held can only be a document left behind its
		// log (a crash between a change's log entry and its document
		// write), which the reconciliation rolls forward: keep waiting.
		if time.Now().After(deadline) {
			t.Fatalf("after 60 s the ledger still books %d units; the database holds %d in %d reservations; output:\n%s",
				prod.Booked, held, n, p.out.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// checkDatabase opens the stopped matchd's database files and checks the
// ledger against the reservations: each stored reservation booked once and
// released once iff cancelled (or expired), each booking of a reservation
// never stored released once, the chain valid, its booked units those of
// the held and confirmed reservations. A last reconciliation pass must
// find no orphan left.
func (dc *dealCrash) checkDatabase() string {
	t := dc.cs.t
	ctx := context.Background()
	e, err := store.StartEmbedded(ctx, filepath.Join(dc.cs.dir, "db"), "127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	st, err := store.Open(ctx, e.URI(), store.Options{Database: "livematch", Embedded: e})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close(ctx)
	prod, err := st.GetProduct(ctx, dc.productID)
	if err != nil {
		t.Fatal(err)
	}
	key := store.LedgerKey(prod)
	// What the server's reconciliation left to do (rolled forward or
	// settled only if it had not run yet; orphans never: the poll saw the
	// ledger balanced).
	rep, err := st.ReconcileDeals(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if rep.OrphansReleased != 0 {
		t.Errorf("the server's reconciliation left %d orphan bookings", rep.OrphansReleased)
	}
	stored := map[string]*engine.Reservation{}
	before := ""
	for {
		page, err := st.ListReservations(ctx, store.DealFilter{ProductID: dc.productID, Before: before, Limit: 500})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page {
			stored[r.ID] = r
		}
		if len(page) < 500 {
			break
		}
		before = page[len(page)-1].ID
	}
	entries, err := st.LedgerEntries(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) == 0 {
		t.Fatal("the product has no ledger")
	}
	var prev engine.StockLedger
	books, releases := map[string]int{}, map[string]int{}
	for i, en := range entries {
		if en.N != int64(i+1) {
			t.Fatalf("entry %d has n %d", i+1, en.N)
		}
		if i == 0 {
			prev = engine.StockLedger{Stock: en.Ledger.Stock}
		}
		var next engine.StockLedger
		switch en.Kind {
		case store.LedgerBook:
			next, err = prev.Book(en.Units)
			books[en.Ref]++
		case store.LedgerRelease:
			next, err = prev.Release(en.Units)
			releases[en.Ref]++
		default:
			t.Fatalf("unexpected entry %v", en)
		}
		if err != nil || next != en.Ledger || en.Ledger.Check() != nil {
			t.Fatalf("entry %v does not follow from %+v (%v)", en, prev, err)
		}
		prev = next
	}
	var held int64
	extra := 0
	for id, r := range stored {
		wantRelease := 0
		switch r.Status {
		case engine.ReservationHeld, engine.ReservationConfirmed:
			held += r.Units
		case engine.ReservationCancelled, engine.ReservationExpired:
			wantRelease = 1
		default:
			t.Errorf("reservation %s is %s", id, r.Status)
		}
		if books[id] != 1 || releases[id] != wantRelease {
			t.Errorf("%s reservation %s: booked %d times, released %d times", r.Status, id, books[id], releases[id])
		}
		if dc.rsv[id] == nil {
			extra++
		}
	}
	orphans := 0
	for ref, n := range books {
		if stored[ref] != nil {
			continue
		}
		orphans++
		if n != 1 || releases[ref] != 1 || dc.rsv[ref] != nil {
			t.Errorf("booking %s without a reservation: booked %d times, released %d times (acknowledged: %v)", ref, n, releases[ref], dc.rsv[ref] != nil)
		}
	}
	for ref := range releases {
		if books[ref] == 0 {
			t.Errorf("%s released but never booked", ref)
		}
	}
	if prev.Booked != held || prev.Stock != dealCrashStock {
		t.Errorf("ledger %+v, but the held and confirmed reservations hold %d units", prev, held)
	}
	if extra+orphans > dc.unknown {
		t.Errorf("%d stored reservations nobody was told of and %d bookings without a reservation, but only %d reservations were in flight at the kills",
			extra, orphans, dc.unknown)
	}
	return fmt.Sprintf("database: %d reservations (%d unacknowledged), %d ledger entries, %d orphan bookings released; a last reconciliation found %+v",
		len(stored), extra, len(entries), orphans, rep)
}
