package store

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/livematch/livematch/engine"
)

// dealClock is a settable clock, safe for concurrent use.
type dealClock struct{ ns atomic.Int64 }

func newDealClock(t time.Time) *dealClock {
	c := &dealClock{}
	c.ns.Store(t.UnixNano())
	return c
}

func (c *dealClock) Now() time.Time      { return time.Unix(0, c.ns.Load()).UTC() }
func (c *dealClock) Add(d time.Duration) { c.ns.Add(int64(d)) }

// dealPeer is peer with a clock: a second Store on the database of s.
func dealPeer(tb testing.TB, s *Store, uri string, emb *Embedded, now func() time.Time) *Store {
	tb.Helper()
	ctx := context.Background()
	p, err := Open(ctx, uri, Options{Database: s.dbName, Embedded: emb, Now: now})
	if err != nil {
		tb.Fatal(err)
	}
	if err := p.Init(ctx); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = p.Close(ctx) })
	return p
}

// dealProduct stores a product of org_sup with the given stock.
func dealProduct(tb testing.TB, s *Store, sku string, stock int64) *engine.Product {
	tb.Helper()
	p := product("org_sup", sku, stock)
	if _, err := s.UpsertProduct(context.Background(), p, 0, nil); err != nil {
		tb.Fatal(err)
	}
	return p
}

// newHold creates a held reservation of units of p for org_mcn through s,
// expiring at expires (zero: the default hold).
func newHold(tb testing.TB, s *Store, p *engine.Product, units int64, expires time.Time) *engine.Reservation {
	tb.Helper()
	now := s.now()
	r := &engine.Reservation{ProductID: p.ID, Units: units, StreamDate: now.Add(24 * time.Hour), ExpiresAt: expires}
	if err := engine.PrepareReservation(r, now); err != nil {
		tb.Fatal(err)
	}
	r.SupplierOrgID, r.MCNOrgID, r.ProductSKU, r.ProductTitleZh = p.OrgID, "org_mcn", p.SKU, p.TitleZh
	got, err := s.CreateReservation(context.Background(), p, r)
	if err != nil {
		tb.Fatal(err)
	}
	return got
}

var (
	dealMCN      = Actor{OrgID: "org_mcn", Party: engine.PartyMCN}
	dealSupplier = Actor{OrgID: "org_sup", Party: engine.PartySupplier}
)

// refCounts counts a ledger's entries by kind and ref.
func refCounts(entries []LedgerEntry) map[LedgerKind]map[string]int {
	out := map[LedgerKind]map[string]int{}
	for _, e := range entries {
		if out[e.Kind] == nil {
			out[e.Kind] = map[string]int{}
		}
		out[e.Kind][e.Ref]++
	}
	return out
}

// rawReservation reads a reservation's stored document as is (not rolled
// forward).
func rawReservation(tb testing.TB, s *Store, id string) reservationDoc {
	tb.Helper()
	var d reservationDoc
	if err := s.deals.reservations.FindOne(context.Background(), bson.D{{Key: "_id", Value: id}}).Decode(&d); err != nil {
		tb.Fatal(err)
	}
	return d
}

// checkTrail verifies that a reservation's history is one chain: versions
// 2, 3, … without gaps, each change starting from the state the previous
// one left (the first from held), as many entries as the log holds for it,
// and the current reservation (read through every store) at the last of
// them. It returns the history.
func checkTrail(tb testing.TB, id string, stores ...*Store) []DealChange {
	tb.Helper()
	ctx := context.Background()
	h, err := stores[0].ReservationHistory(ctx, id)
	if err != nil {
		tb.Fatal(err)
	}
	prev := string(engine.ReservationHeld)
	for i, ch := range h {
		if ch.Version != int64(i+2) || ch.From != prev {
			tb.Fatalf("%s: change %d is %+v after %s", id, i, ch, prev)
		}
		prev = ch.To
	}
	n, err := stores[0].deals.log.CountDocuments(ctx, bson.D{{Key: "object", Value: id}})
	if err != nil || n != int64(len(h)) {
		tb.Fatalf("%s: %d log entries (%v), a chain of %d", id, n, err, len(h))
	}
	for _, s := range stores {
		r, err := s.GetReservation(ctx, id)
		if err != nil || r.Version != int64(len(h)+1) || string(r.Status) != prev {
			tb.Fatalf("%s: current %+v (%v), but the chain ends at version %d, %s", id, r, err, len(h)+1, prev)
		}
	}
	return h
}

// raceMode is how two stores race on one held reservation.
type raceMode struct {
	name    string
	x, y    engine.ReservationAction // x runs on one store, y on the other
	xBy     Actor
	yBy     Actor
	ifMatch bool // both demand version 1
	// exactlyOne: one change wins and the other is refused; otherwise
	// both may succeed when their order allows it (confirm, then cancel).
	exactlyOne bool
}

// TestReservationTransitionRace makes two database clients (separate
// driver clients; then two FerretDB servers over the same SQLite files)
// change the same held reservations at the same moment: confirm against
// cancel with If-Match, cancel against cancel, and confirm against cancel
// without If-Match, over many reservations at once. Each reservation's
// history is one chain of versions, the replies agree with it (a loser
// gets KindPrecondition or KindConflict, never a success the chain does
// not show), and the ledger released a reservation's units exactly once
// iff it ended cancelled.
func TestReservationTransitionRace(t *testing.T) {
	modes := []raceMode{
		{name: "confirm vs cancel, If-Match", x: engine.ReserveConfirm, xBy: dealSupplier, y: engine.ReserveCancel, yBy: dealMCN, ifMatch: true, exactlyOne: true},
		{name: "cancel vs cancel", x: engine.ReserveCancel, xBy: dealSupplier, y: engine.ReserveCancel, yBy: dealMCN, exactlyOne: true},
		{name: "confirm vs cancel", x: engine.ReserveConfirm, xBy: dealSupplier, y: engine.ReserveCancel, yBy: dealSupplier},
	}
	const rounds, perRound = 6, 8
	for _, pair := range clientPairs() {
		t.Run(pair.name, func(t *testing.T) {
			ctx := context.Background()
			a := mustOpen(t)
			uri, emb := pair.second(t)
			b := peer(t, a, uri, emb)
			p := dealProduct(t, a, "SKU-RACE", 100000)
			key := LedgerKey(p)
			type outcome struct {
				r   *engine.Reservation
				err error
			}
			var (
				units      = map[string]int64{}
				final      = map[string]engine.ReservationStatus{}
				wins       = map[string]int{} // mode → rounds where one change won
				both       = map[string]int{} // mode → rounds where both succeeded
				loserKinds = map[engine.Kind]int{}
				stale      int // documents found behind their log before a read
			)
			start := time.Now()
			for round := 0; round < rounds; round++ {
				mode := modes[round%len(modes)]
				holds := make([]*engine.Reservation, perRound)
				for i := range holds {
					holds[i] = newHold(t, []*Store{a, b}[i%2], p, int64(1+(round*perRound+i)%50), time.Time{})
					units[holds[i].ID] = holds[i].Units
				}
				results := make([][2]outcome, perRound)
				go1 := make(chan struct{})
				var wg sync.WaitGroup
				for i, h := range holds {
					// Which store takes which side alternates.
					sx, sy := a, b
					if i%2 == 1 {
						sx, sy = b, a
					}
					var ifv int64
					if mode.ifMatch {
						ifv = 1
					}
					for side, run := range []struct {
						s  *Store
						by Actor
						ac engine.ReservationAction
					}{{sx, mode.xBy, mode.x}, {sy, mode.yBy, mode.y}} {
						wg.Go(func() {
							<-go1
							r, err := run.s.ChangeReservation(ctx, h.ID, ifv, run.by, engine.ReservationChange{Action: run.ac})
							results[i][side] = outcome{r, err}
						})
					}
				}
				close(go1)
				wg.Wait()
				for i, h := range holds {
					res := results[i]
					actions := [2]engine.ReservationAction{mode.x, mode.y}
					won := 0
					for side, o := range res {
						switch {
						case o.err == nil:
							won++
						case engine.IsKind(o.err, engine.KindPrecondition):
							loserKinds[engine.KindPrecondition]++
						case engine.IsKind(o.err, engine.KindConflict):
							loserKinds[engine.KindConflict]++
						default:
							t.Fatalf("%s: %s of %s: %v", mode.name, actions[side], h.ID, o.err)
						}
					}
					if d := rawReservation(t, a, h.ID); d.Version != int64(1+won) {
						stale++ // a lost document write: the log has the newer state
					}
					hist := checkTrail(t, h.ID, a, b)
					if len(hist) != won || won == 0 {
						t.Fatalf("%s: %d changes succeeded, the chain of %s has %d: %+v", mode.name, won, h.ID, len(hist), hist)
					}
					// A read repairs a document left behind its log.
					if d := rawReservation(t, b, h.ID); d.Version != int64(1+won) || d.Status != hist[won-1].To || !d.Settled {
						t.Fatalf("%s: after reads %s is stored as %s v%d (settled %v), the log ends at %s v%d", mode.name, h.ID, d.Status, d.Version, d.Settled, hist[won-1].To, 1+won)
					}
					// Every success is in the chain at the version it
					// answered, with its action.
					for side, o := range res {
						if o.err != nil {
							continue
						}
						ch := hist[o.r.Version-2]
						if ch.Action != string(actions[side]) || ch.To != string(o.r.Status) {
							t.Fatalf("%s: %s answered %s at version %d; the chain has %+v", mode.name, actions[side], o.r.Status, o.r.Version, ch)
						}
					}
					switch {
					case mode.exactlyOne && won != 1:
						t.Fatalf("%s: both changes of %s succeeded: %+v", mode.name, h.ID, hist)
					case won == 2 && (hist[0].Action != string(engine.ReserveConfirm) || hist[1].Action != string(engine.ReserveCancel)):
						t.Fatalf("%s: two changes of %s in an order the rules forbid: %+v", mode.name, h.ID, hist)
					}
					if mode.ifMatch {
						for _, o := range res {
							if o.err != nil && !engine.IsKind(o.err, engine.KindPrecondition) {
								t.Errorf("%s: the loser of an If-Match race got %v, want KindPrecondition", mode.name, o.err)
							}
						}
					}
					if won == 1 {
						wins[mode.name]++
					} else {
						both[mode.name]++
					}
					final[h.ID] = engine.ReservationStatus(hist[len(hist)-1].To)
				}
			}
			elapsed := time.Since(start)
			// The ledger: one booking per reservation, one release per
			// cancelled one, none for the confirmed; a valid chain.
			entries, err := b.LedgerEntries(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			checkChain(t, entries)
			c := refCounts(entries)
			var booked int64
			for id, st := range final {
				wantRelease := 0
				if st == engine.ReservationCancelled {
					wantRelease = 1
				} else {
					booked += units[id]
				}
				if c[LedgerBook][id] != 1 || c[LedgerRelease][id] != wantRelease {
					t.Errorf("%s (%s): booked %d times, released %d times", id, st, c[LedgerBook][id], c[LedgerRelease][id])
				}
			}
			if len(entries) != len(c[LedgerBook])+len(c[LedgerRelease]) || len(c[LedgerBook]) != rounds*perRound {
				t.Errorf("%d ledger entries: %d bookings, %d releases, for %d reservations", len(entries), len(c[LedgerBook]), len(c[LedgerRelease]), rounds*perRound)
			}
			if l, _, err := a.StockLedger(ctx, key, 0); err != nil || l.Booked != booked {
				t.Errorf("ledger %+v (%v), but the confirmed reservations hold %d units", l, err, booked)
			}
			var summary []string
			for _, m := range modes {
				summary = append(summary, fmt.Sprintf("%s: %d single wins, %d both", m.name, wins[m.name], both[m.name]))
			}
			t.Logf("%d reservations raced in %v; %v; losers: %d precondition, %d conflict; %d documents behind their log until read; %d ledger entries, %d units booked at the end",
				rounds*perRound, elapsed.Round(time.Millisecond), summary, loserKinds[engine.KindPrecondition], loserKinds[engine.KindConflict], stale, len(entries), booked)
		})
	}
}

// crashAfterLog records the next version of a reservation in the deal log
// as ChangeReservation would, then "crashes": the document is written only
// when writeDoc, and the ledger effect is never settled.
func crashAfterLog(tb testing.TB, s *Store, id string, by Actor, action engine.ReservationAction, writeDoc bool) {
	tb.Helper()
	ctx := context.Background()
	cur := rawReservation(tb, s, id)
	now := s.stamp()
	r := cur.toEngine()
	next, err := engine.ApplyReservation(*r, engine.ReservationChange{Action: action, By: by.Party}, now)
	if err != nil {
		tb.Fatal(err)
	}
	next.Version, next.UpdatedAt = r.Version+1, now
	nd := toReservationDoc(&next, cur.LedgerKey)
	release, ship := engine.LedgerEffect(r.Status, next.Status, r.Units)
	nd.Settled = cur.Settled && release == 0 && ship == 0
	raw, err := bson.Marshal(nd)
	if err != nil {
		tb.Fatal(err)
	}
	e := dealLogDoc{ID: logID(id, next.Version), Object: id, Kind: dealReservation, Version: next.Version,
		Action: string(action), Actor: by.OrgID, Party: string(by.Party), From: string(r.Status), To: string(next.Status), At: now, State: raw}
	if _, err := s.deals.log.InsertOne(ctx, e); err != nil {
		tb.Fatal(err)
	}
	if writeDoc {
		if _, err := s.deals.reservations.ReplaceOne(ctx, bson.D{{Key: "_id", Value: id}}, nd); err != nil {
			tb.Fatal(err)
		}
	}
}

// TestReconcileDeals simulates the crashes a reservation can meet and
// checks that ReconcileDeals, run by two stores at once and then again,
// repairs each exactly once: a booking whose reservation was never stored
// (released, but not while younger than the grace), a cancel recorded in
// the log only (the document rolled forward and the units released), a
// confirm recorded in the log only (rolled forward, nothing released), and
// a cancel whose document was written but whose units were not released.
func TestReconcileDeals(t *testing.T) {
	for _, pair := range clientPairs() {
		t.Run(pair.name, func(t *testing.T) {
			ctx := context.Background()
			a := mustOpen(t)
			uri, emb := pair.second(t)
			b := peer(t, a, uri, emb)
			p := dealProduct(t, a, "SKU-RECON", 1000)
			key := LedgerKey(p)

			keep := newHold(t, a, p, 100, time.Time{})     // untouched
			logCancel := newHold(t, b, p, 40, time.Time{}) // cancel in the log only
			logConfirm := newHold(t, a, p, 25, time.Time{})
			docCancel := newHold(t, b, p, 15, time.Time{}) // cancel written, not settled
			crashAfterLog(t, a, logCancel.ID, dealMCN, engine.ReserveCancel, false)
			crashAfterLog(t, b, logConfirm.ID, dealSupplier, engine.ReserveConfirm, false)
			crashAfterLog(t, a, docCancel.ID, dealSupplier, engine.ReserveCancel, true)
			// A crash between the booking and the reservation's insert.
			if _, err := a.Book(ctx, key, p.Stock, 30, BookingEntry{Ref: "rsv_x", Actor: "org_mcn"}); err != nil {
				t.Fatal(err)
			}
			if l, _, err := a.StockLedger(ctx, key, 0); err != nil || l.Booked != 100+40+25+15+30 {
				t.Fatalf("before: %+v %v", l, err)
			}
			if d := rawReservation(t, a, logCancel.ID); d.Version != 1 || d.Status != "held" {
				t.Fatalf("the crash left %+v", d)
			}

			// A booking younger than the grace may still get its
			// reservation: it is left alone (the rest is repaired).
			rep, err := a.ReconcileDeals(ctx, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			want := ReconcileReport{RolledForward: 2, Settled: 2}
			if rep != want {
				t.Errorf("reconcile with a grace of 1h: %+v, want %+v", rep, want)
			}
			if l, _, err := a.StockLedger(ctx, key, 0); err != nil || l.Booked != 100+25+30 {
				t.Fatalf("after the first pass: %+v %v, want 155 booked (the young orphan kept)", l, err)
			}

			// Two stores at once, then each again: the orphan is released
			// once, nothing else changes.
			var reps [2]ReconcileReport
			var errs [2]error
			var wg sync.WaitGroup
			for i, s := range []*Store{a, b} {
				wg.Go(func() { reps[i], errs[i] = s.ReconcileDeals(ctx, 0) })
			}
			wg.Wait()
			if errs[0] != nil || errs[1] != nil {
				t.Fatal(errs)
			}
			if sum := reps[0].OrphansReleased + reps[1].OrphansReleased; sum != 1 || reps[0].RolledForward+reps[1].RolledForward+reps[0].Settled+reps[1].Settled != 0 {
				t.Errorf("concurrent passes: %+v and %+v, want one orphan released in all", reps[0], reps[1])
			}
			for _, s := range []*Store{b, a} {
				if rep, err := s.ReconcileDeals(ctx, 0); err != nil || rep != (ReconcileReport{}) {
					t.Errorf("a pass with nothing to do: %+v %v", rep, err)
				}
			}

			entries, err := a.LedgerEntries(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			checkChain(t, entries)
			c := refCounts(entries)
			for _, x := range []struct {
				ref      string
				released int
			}{{keep.ID, 0}, {logCancel.ID, 1}, {logConfirm.ID, 0}, {docCancel.ID, 1}, {"rsv_x", 1}} {
				if c[LedgerBook][x.ref] != 1 || c[LedgerRelease][x.ref] != x.released {
					t.Errorf("%s: booked %d times, released %d times, want once and %d", x.ref, c[LedgerBook][x.ref], c[LedgerRelease][x.ref], x.released)
				}
			}
			if l := entries[len(entries)-1].Ledger; l.Booked != 125 || len(entries) != 8 {
				t.Errorf("ledger %+v after %d entries, want 125 booked after 8 (5 bookings, 3 releases)", l, len(entries))
			}
			// The documents caught up with their log and are settled.
			for _, x := range []struct {
				id     string
				status engine.ReservationStatus
				ver    int64
			}{{keep.ID, engine.ReservationHeld, 1}, {logCancel.ID, engine.ReservationCancelled, 2},
				{logConfirm.ID, engine.ReservationConfirmed, 2}, {docCancel.ID, engine.ReservationCancelled, 2}} {
				d := rawReservation(t, b, x.id)
				if d.Status != string(x.status) || d.Version != x.ver || !d.Settled {
					t.Errorf("%s stored as %s v%d settled %v, want %s v%d settled", x.id, d.Status, d.Version, d.Settled, x.status, x.ver)
				}
				checkTrail(t, x.id, a, b)
			}
			// The product document follows the ledger (a wait for the
			// stock sync, not a speed assertion).
			deadline := time.Now().Add(10 * time.Second)
			for {
				got, err := b.GetProduct(ctx, p.ID)
				if err != nil {
					t.Fatal(err)
				}
				if got.Booked == 125 && got.Stock == 1000 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the product shows stock %d booked %d, the ledger 1000/125", got.Stock, got.Booked)
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
}

// TestSweepExpired runs the expiry sweep of two stores, on a fake clock,
// over the same holds: each due hold is expired once (the counts of the
// two sweeps add up to the holds due) and its units are released once;
// holds not yet due and confirmed ones are left alone; sweeping again does
// nothing; the limit bounds one pass.
func TestSweepExpired(t *testing.T) {
	for _, pair := range clientPairs() {
		t.Run(pair.name, func(t *testing.T) {
			ctx := context.Background()
			clk := newDealClock(time.Date(2026, 11, 20, 2, 0, 0, 0, time.UTC))
			a := openStore(t, "t_", testEmbedded, func(o *Options) { o.Now = clk.Now })
			uri, emb := pair.second(t)
			b := dealPeer(t, a, uri, emb, clk.Now)
			p := dealProduct(t, a, "SKU-SWEEP", 1000)
			key := LedgerKey(p)
			t0 := clk.Now()

			var soon, later, confirmed []*engine.Reservation
			isConfirmed := map[string]bool{}
			for i := 0; i < 6; i++ {
				soon = append(soon, newHold(t, []*Store{a, b}[i%2], p, int64(10+i), t0.Add(time.Hour)))
			}
			for i := 0; i < 4; i++ {
				later = append(later, newHold(t, []*Store{b, a}[i%2], p, int64(20+i), t0.Add(3*time.Hour)))
			}
			for i := 0; i < 2; i++ {
				r := newHold(t, a, p, int64(30+i), t0.Add(time.Hour))
				if _, err := b.ChangeReservation(ctx, r.ID, 0, dealSupplier, engine.ReservationChange{Action: engine.ReserveConfirm}); err != nil {
					t.Fatal(err)
				}
				confirmed = append(confirmed, r)
				isConfirmed[r.ID] = true
			}
			sum := func(rs []*engine.Reservation) (n int64) {
				for _, r := range rs {
					n += r.Units
				}
				return n
			}
			booked := func() int64 {
				t.Helper()
				l, _, err := a.StockLedger(ctx, key, 0)
				if err != nil {
					t.Fatal(err)
				}
				return l.Booked
			}
			// Each store learns the other's holds (as at a start).
			for _, s := range []*Store{a, b} {
				if _, err := s.ReconcileDeals(ctx, time.Hour); err != nil {
					t.Fatal(err)
				}
			}
			sweepBoth := func() (int, int) {
				t.Helper()
				var n [2]int
				var errs [2]error
				var wg sync.WaitGroup
				for i, s := range []*Store{a, b} {
					wg.Go(func() { n[i], errs[i] = s.SweepExpired(ctx, 100) })
				}
				wg.Wait()
				if errs[0] != nil || errs[1] != nil {
					t.Fatal(errs)
				}
				return n[0], n[1]
			}
			if na, nb := sweepBoth(); na+nb != 0 {
				t.Fatalf("nothing is due, yet %d and %d holds expired", na, nb)
			}
			if got, want := booked(), sum(soon)+sum(later)+sum(confirmed); got != want {
				t.Fatalf("booked %d, want %d", got, want)
			}

			clk.Add(2 * time.Hour) // the first six are due
			na, nb := sweepBoth()
			if na+nb != len(soon) {
				t.Fatalf("the sweeps expired %d + %d holds, want %d", na, nb, len(soon))
			}
			if na2, nb2 := sweepBoth(); na2+nb2 != 0 {
				t.Fatalf("a second sweep expired %d + %d", na2, nb2)
			}
			if got, want := booked(), sum(later)+sum(confirmed); got != want {
				t.Fatalf("after the sweep booked %d, want %d", got, want)
			}

			clk.Add(2 * time.Hour) // the other four are due too
			if n, err := a.SweepExpired(ctx, 3); err != nil || n != 3 {
				t.Fatalf("a sweep limited to 3: %d %v", n, err)
			}
			if n, err := b.SweepExpired(ctx, 100); err != nil || n != 1 {
				t.Fatalf("the other store's sweep after it: %d %v, want the 1 left", n, err)
			}
			if na, nb := sweepBoth(); na+nb != 0 {
				t.Fatalf("sweeping again expired %d + %d", na, nb)
			}
			if got, want := booked(), sum(confirmed); got != want {
				t.Fatalf("at the end booked %d, want %d (the confirmed)", got, want)
			}

			entries, err := b.LedgerEntries(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			checkChain(t, entries)
			c := refCounts(entries)
			for _, r := range append(append(append([]*engine.Reservation{}, soon...), later...), confirmed...) {
				want := engine.ReservationExpired
				released := 1
				if isConfirmed[r.ID] {
					want, released = engine.ReservationConfirmed, 0
				}
				if c[LedgerBook][r.ID] != 1 || c[LedgerRelease][r.ID] != released {
					t.Errorf("%s: booked %d times, released %d times", r.ID, c[LedgerBook][r.ID], c[LedgerRelease][r.ID])
				}
				hist := checkTrail(t, r.ID, a, b)
				last := hist[len(hist)-1]
				if last.To != string(want) || want == engine.ReservationExpired && (last.Action != string(engine.ReserveExpire) || last.Actor != "system" || len(hist) != 1) {
					t.Errorf("%s: history %+v, want it to end %s", r.ID, hist, want)
				}
				if got, err := a.GetReservation(ctx, r.ID); err != nil || want == engine.ReservationExpired && got.ExpiredAt.IsZero() {
					t.Errorf("%s: %+v %v", r.ID, got, err)
				}
			}
			t.Logf("first due batch expired %d by one store and %d by the other; %d ledger entries", na, nb, len(entries))
		})
	}
}
