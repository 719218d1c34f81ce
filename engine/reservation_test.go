package engine

import (
	"errors"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"
)

var dealNow = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC) // 18:00 in China

func heldReservation() Reservation {
	return Reservation{ID: "rsv_1", ProductID: "prd_1", SupplierOrgID: "org_s", MCNOrgID: "org_m", Units: 100,
		StreamDate: dealNow.Add(72 * time.Hour), Status: ReservationHeld, ExpiresAt: dealNow.Add(DefaultHold)}
}

func TestPrepareReservation(t *testing.T) {
	cases := []struct {
		name   string
		edit   func(*Reservation)
		fields string // the fields named, comma-separated; "" = valid
		check  func(*Reservation) bool
	}{
		{"valid, default hold", func(r *Reservation) {}, "", func(r *Reservation) bool {
			return r.Status == ReservationHeld && r.ExpiresAt.Equal(dealNow.Add(48*time.Hour))
		}},
		{"hold 7 days exactly", func(r *Reservation) { r.ExpiresAt = dealNow.Add(MaxHold) }, "", nil},
		{"hold past 7 days", func(r *Reservation) { r.ExpiresAt = dealNow.Add(MaxHold + time.Second) }, "hold_until", nil},
		{"hold in the past", func(r *Reservation) { r.ExpiresAt = dealNow.Add(-time.Minute) }, "hold_until", nil},
		{"hold now", func(r *Reservation) { r.ExpiresAt = dealNow }, "hold_until", nil},
		{"zero units", func(r *Reservation) { r.Units = 0 }, "units", nil},
		{"negative units", func(r *Reservation) { r.Units = -5 }, "units", nil},
		{"too many units", func(r *Reservation) { r.Units = MaxStock + 1 }, "units", nil},
		{"no product", func(r *Reservation) { r.ProductID = "  " }, "product_id", nil},
		{"no stream date", func(r *Reservation) { r.StreamDate = time.Time{} }, "stream_date", nil},
		{"stream yesterday (China time)", func(r *Reservation) { r.StreamDate = dealNow.Add(-24 * time.Hour) }, "stream_date", nil},
		{"stream earlier today (China time) is today", func(r *Reservation) { r.StreamDate = dealNow.Add(-5 * time.Hour) }, "", nil},
		{"stream at 00:00 UTC today (08:00 China)", func(r *Reservation) {
			r.StreamDate = time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
		}, "", nil},
		{"note too long", func(r *Reservation) { r.Note = strings.Repeat("橙", MaxDealNoteLen+1) }, "note", nil},
		{"several at once", func(r *Reservation) { r.Units = 0; r.ExpiresAt = dealNow.Add(-time.Hour) }, "units,hold_until", nil},
		{"status and result are reset", func(r *Reservation) { r.Status = ReservationCompleted; r.UnitsSold = 9 }, "", func(r *Reservation) bool {
			return r.Status == ReservationHeld && r.UnitsSold == 0
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := Reservation{ProductID: " prd_1 ", Units: 10, StreamDate: dealNow.Add(48 * time.Hour), Note: " for Saturday "}
			tc.edit(&r)
			err := PrepareReservation(&r, dealNow)
			if got := strings.Join(fieldNames(err), ","); got != tc.fields {
				t.Fatalf("fields %q, want %q (%v)", got, tc.fields, err)
			}
			if tc.fields != "" && !IsKind(err, KindInvalid) {
				t.Fatalf("kind %v", KindOf(err))
			}
			if tc.check != nil && !tc.check(&r) {
				t.Fatalf("result %+v", r)
			}
		})
	}
}

// TestReservationTransitions tries every action by every party from every
// state (and a hold past its expires_at) against the contract's table.
func TestReservationTransitions(t *testing.T) {
	allowed := []struct {
		action ReservationAction
		by     Party
		from   string // a state's name below
		to     ReservationStatus
	}{
		{ReserveConfirm, PartySupplier, "held", ReservationConfirmed},
		{ReserveCancel, PartyMCN, "held", ReservationCancelled},
		{ReserveCancel, PartySupplier, "held", ReservationCancelled},
		{ReserveCancel, PartyMCN, "confirmed", ReservationCancelled},
		{ReserveCancel, PartySupplier, "confirmed", ReservationCancelled},
		{ReserveShip, PartySupplier, "confirmed", ReservationShipped},
		{ReserveResult, PartyMCN, "shipped", ReservationCompleted},
		{ReserveExpire, PartySystem, "held past expires_at", ReservationExpired},
	}
	mayAct := map[ReservationAction][]Party{
		ReserveConfirm: {PartySupplier}, ReserveCancel: {PartyMCN, PartySupplier}, ReserveShip: {PartySupplier},
		ReserveResult: {PartyMCN}, ReserveExpire: {PartySystem},
	}
	type state struct {
		name    string
		status  ReservationStatus
		expired bool // held, with expires_at passed
	}
	states := []state{{"held", ReservationHeld, false}, {"held past expires_at", ReservationHeld, true}}
	for _, s := range ReservationStatuses()[1:] {
		states = append(states, state{string(s), s, false})
	}
	actions := []ReservationAction{ReserveConfirm, ReserveCancel, ReserveShip, ReserveResult, ReserveExpire}
	parties := []Party{PartyMCN, PartySupplier, PartySystem, ""}
	for _, st := range states {
		for _, a := range actions {
			for _, by := range parties {
				r := heldReservation()
				r.Status = st.status
				now := dealNow
				if st.expired {
					now = r.ExpiresAt.Add(time.Second)
				}
				cur := r.StatusAt(now)
				c := ReservationChange{Action: a, By: by, TrackingNo: "SF123", UnitsSold: 80, UnitsReturned: 5, Rating: 4}
				got, err := ApplyReservation(r, c, now)
				var want *ReservationStatus
				for _, al := range allowed {
					if al.action == a && al.by == by && al.from == st.name {
						want = &al.to
					}
				}
				mayAny := false
				for _, p := range mayAct[a] {
					mayAny = mayAny || p == by
				}
				name := st.name + "/" + string(a) + "/" + string(by)
				switch {
				case MayReservation(a, by) != mayAny:
					t.Errorf("%s: MayReservation = %v", name, !mayAny)
				case !mayAny:
					if !IsKind(err, KindForbidden) || got != r {
						t.Errorf("%s: want forbidden, got %v", name, err)
					}
				case want == nil:
					if !IsKind(err, KindConflict) || got != r {
						t.Errorf("%s: want conflict, got %v", name, err)
					} else if !strings.Contains(err.Error(), "is "+string(cur)) && !(a == ReserveExpire && st.status == ReservationHeld) {
						t.Errorf("%s: the conflict does not name the state %s: %v", name, cur, err)
					}
				default:
					if err != nil || got.Status != *want {
						t.Errorf("%s: got %s, %v; want %s", name, got.Status, err, *want)
					}
					if r.Status != st.status {
						t.Errorf("%s: the input was modified", name)
					}
				}
			}
		}
	}
	// Expire on a hold not yet due names its expires_at.
	if _, err := ApplyReservation(heldReservation(), ReservationChange{Action: ReserveExpire, By: PartySystem}, dealNow); !IsKind(err, KindConflict) ||
		!strings.Contains(err.Error(), "2026-11-22T10:00:00Z") {
		t.Errorf("early expiry: %v", err)
	}
	if _, err := ApplyReservation(heldReservation(), ReservationChange{Action: "steal", By: PartyMCN}, dealNow); strings.Join(fieldNames(err), ",") != "action" {
		t.Errorf("unknown action: %v", err)
	}
}

func TestReservationInputs(t *testing.T) {
	shipped := heldReservation()
	shipped.Status = ReservationShipped
	confirmed := heldReservation()
	confirmed.Status = ReservationConfirmed
	cases := []struct {
		name   string
		r      Reservation
		c      ReservationChange
		fields string
		check  func(Reservation) bool
	}{
		{"result", shipped, ReservationChange{Action: ReserveResult, By: PartyMCN, UnitsSold: 100, UnitsReturned: 100, Rating: 5, Note: " good "}, "",
			func(r Reservation) bool {
				return r.UnitsSold == 100 && r.UnitsReturned == 100 && r.Rating == 5 && r.ResultNote == "good" && r.CompletedAt.Equal(dealNow)
			}},
		{"result without rating", shipped, ReservationChange{Action: ReserveResult, By: PartyMCN}, "", nil},
		{"sold more than reserved", shipped, ReservationChange{Action: ReserveResult, By: PartyMCN, UnitsSold: 101}, "units_sold", nil},
		{"negative sold", shipped, ReservationChange{Action: ReserveResult, By: PartyMCN, UnitsSold: -1}, "units_sold", nil},
		{"returned more than sold", shipped, ReservationChange{Action: ReserveResult, By: PartyMCN, UnitsSold: 10, UnitsReturned: 11}, "units_returned", nil},
		{"negative returned", shipped, ReservationChange{Action: ReserveResult, By: PartyMCN, UnitsReturned: -1}, "units_returned", nil},
		{"rating 6", shipped, ReservationChange{Action: ReserveResult, By: PartyMCN, Rating: 6}, "rating", nil},
		{"rating -1", shipped, ReservationChange{Action: ReserveResult, By: PartyMCN, Rating: -1}, "rating", nil},
		{"result note too long", shipped, ReservationChange{Action: ReserveResult, By: PartyMCN, Note: strings.Repeat("x", MaxDealNoteLen+1)}, "note", nil},
		{"ship with tracking", confirmed, ReservationChange{Action: ReserveShip, By: PartySupplier, TrackingNo: " SF1 "}, "",
			func(r Reservation) bool { return r.TrackingNo == "SF1" && r.ShippedAt.Equal(dealNow) }},
		{"ship without tracking", confirmed, ReservationChange{Action: ReserveShip, By: PartySupplier}, "", nil},
		{"tracking too long", confirmed, ReservationChange{Action: ReserveShip, By: PartySupplier, TrackingNo: strings.Repeat("1", MaxTrackingNoLen+1)}, "tracking_no", nil},
		{"cancel records who", confirmed, ReservationChange{Action: ReserveCancel, By: PartySupplier}, "",
			func(r Reservation) bool { return r.CancelledBy == PartySupplier && r.CancelledAt.Equal(dealNow) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ApplyReservation(tc.r, tc.c, dealNow)
			if f := strings.Join(fieldNames(err), ","); f != tc.fields || (tc.fields == "" && err != nil) {
				t.Fatalf("fields %q, want %q (%v)", f, tc.fields, err)
			}
			if tc.fields != "" && (!IsKind(err, KindInvalid) || got != tc.r) {
				t.Fatalf("invalid input: kind %v, state changed %v", KindOf(err), got != tc.r)
			}
			if tc.check != nil && !tc.check(got) {
				t.Fatalf("result %+v", got)
			}
		})
	}
}

func TestStockLedger(t *testing.T) {
	l := StockLedger{Stock: 100, Booked: 60}
	cases := []struct {
		name  string
		do    func(StockLedger) (StockLedger, error)
		kind  Kind // with fails
		fails bool
		field string
		want  StockLedger
	}{
		{"book what fits", func(l StockLedger) (StockLedger, error) { return l.Book(40) }, 0, false, "", StockLedger{100, 100}},
		{"book one too many", func(l StockLedger) (StockLedger, error) { return l.Book(41) }, KindConflict, true, "units", l},
		{"book zero", func(l StockLedger) (StockLedger, error) { return l.Book(0) }, KindInvalid, true, "units", l},
		{"release", func(l StockLedger) (StockLedger, error) { return l.Release(60) }, 0, false, "", StockLedger{100, 0}},
		{"release more than booked", func(l StockLedger) (StockLedger, error) { return l.Release(61) }, KindInternal, true, "", l},
		{"ship", func(l StockLedger) (StockLedger, error) { return l.Ship(10) }, 0, false, "", StockLedger{90, 50}},
		{"ship more than booked", func(l StockLedger) (StockLedger, error) { return l.Ship(61) }, KindInternal, true, "", l},
		{"stock down to booked", func(l StockLedger) (StockLedger, error) { return l.SetStock(60) }, 0, false, "", StockLedger{60, 60}},
		{"stock below booked", func(l StockLedger) (StockLedger, error) { return l.SetStock(59) }, KindConflict, true, "stock", l},
		{"negative stock", func(l StockLedger) (StockLedger, error) { return l.SetStock(-1) }, KindInvalid, true, "stock", l},
	}
	for _, tc := range cases {
		got, err := tc.do(l)
		if (err != nil) != tc.fails || (tc.fails && (KindOf(err) != tc.kind || strings.Join(fieldNames(err), ",") != tc.field)) || got != tc.want {
			t.Errorf("%s: %+v, %v", tc.name, got, err)
		}
	}
	var sh *Shortage
	if _, err := l.Book(41); !errors.As(err, &sh) || sh.Available != 40 || sh.Requested != 41 {
		t.Errorf("shortage: %+v", sh)
	}
	if Available(5, 9) != 0 || Available(9, 5) != 4 || (StockLedger{Stock: 3, Booked: 4}).Check() == nil {
		t.Error("Available or Check")
	}
	for _, tc := range []struct {
		before, after   ReservationStatus
		release, shiped int64
	}{
		{ReservationHeld, ReservationConfirmed, 0, 0},
		{ReservationHeld, ReservationCancelled, 7, 0},
		{ReservationHeld, ReservationExpired, 7, 0},
		{ReservationConfirmed, ReservationCancelled, 7, 0},
		{ReservationConfirmed, ReservationShipped, 0, 7},
		{ReservationShipped, ReservationCompleted, 0, 0},
	} {
		if r, s := LedgerEffect(tc.before, tc.after, 7); r != tc.release || s != tc.shiped {
			t.Errorf("%s → %s: release %d ship %d", tc.before, tc.after, r, s)
		}
	}
}

func TestSampleRequests(t *testing.T) {
	base := SampleRequest{ProductID: "prd_1", ShipToRegion: "360732", MCNOrgID: "org_m", SupplierOrgID: "org_s"}
	for _, tc := range []struct {
		name      string
		edit      func(*SampleRequest)
		available bool
		kind      Kind
		fields    string
	}{
		{"valid", func(*SampleRequest) {}, true, 0, ""},
		{"no samples offered", func(*SampleRequest) {}, false, KindConflict, "product_id"},
		{"bad region", func(s *SampleRequest) { s.ShipToRegion = "36073" }, true, KindInvalid, "ship_to_region"},
		{"unknown region", func(s *SampleRequest) { s.ShipToRegion = "999999" }, true, KindInvalid, "ship_to_region"},
		{"no product", func(s *SampleRequest) { s.ProductID = "" }, true, KindInvalid, "product_id"},
	} {
		s := base
		tc.edit(&s)
		err := PrepareSampleRequest(&s, tc.available, testRegions)
		if f := strings.Join(fieldNames(err), ","); f != tc.fields || (err != nil && KindOf(err) != tc.kind) || (err == nil && s.Status != SampleRequested) {
			t.Errorf("%s: %v (%q)", tc.name, err, f)
		}
	}
	allowed := map[SampleAction]struct {
		by       Party
		from, to SampleStatus
	}{
		SampleAccept: {PartySupplier, SampleRequested, SampleAccepted}, SampleDecline: {PartySupplier, SampleRequested, SampleDeclined},
		SampleShip: {PartySupplier, SampleAccepted, SampleShipped}, SampleReceive: {PartyMCN, SampleShipped, SampleReceived},
	}
	for _, st := range SampleStatuses() {
		for a, rule := range allowed {
			for _, by := range []Party{PartyMCN, PartySupplier, PartySystem} {
				s := base
				s.Status = st
				got, err := ApplySample(s, SampleChange{Action: a, By: by, Reason: "out of season", TrackingNo: "SF9"}, dealNow)
				switch {
				case by != rule.by:
					if !IsKind(err, KindForbidden) || MaySample(a, by) {
						t.Errorf("%s/%s/%s: want forbidden, got %v", st, a, by, err)
					}
				case st != rule.from:
					if !IsKind(err, KindConflict) || !strings.Contains(err.Error(), "is "+string(st)) {
						t.Errorf("%s/%s/%s: want conflict naming the state, got %v", st, a, by, err)
					}
				default:
					if err != nil || got.Status != rule.to {
						t.Errorf("%s/%s/%s: %s %v", st, a, by, got.Status, err)
					}
				}
			}
		}
	}
	req := base
	req.Status = SampleRequested
	if _, err := ApplySample(req, SampleChange{Action: SampleDecline, By: PartySupplier, Reason: " "}, dealNow); strings.Join(fieldNames(err), ",") != "reason" {
		t.Errorf("decline without reason: %v", err)
	}
	req.Status = SampleAccepted
	if _, err := ApplySample(req, SampleChange{Action: SampleShip, By: PartySupplier}, dealNow); strings.Join(fieldNames(err), ",") != "tracking_no" {
		t.Errorf("ship without tracking number: %v", err)
	}
}

// TestBookingProperty drives one product through random sequences of
// reservations, transitions by random parties, clock advances and stock
// changes, every step through the engine's own rules (a reservation is
// booked only when StockLedger.Book accepts it). After every step: the
// ledger keeps 0 ≤ booked ≤ stock, its booked units equal the units of the
// reservations recorded held or confirmed (no units appear or vanish), its
// stock equals the last stock set minus the units shipped since, and the
// reservations counted as of now never exceed the stock.
func TestBookingProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		now := dealNow
		initial := rapid.Int64Range(0, 1000).Draw(t, "stock")
		l := StockLedger{Stock: initial}
		stockModel := initial
		var rs []Reservation
		pick := func(t *rapid.T) int { return rapid.IntRange(0, len(rs)-1).Draw(t, "reservation") }
		parties := rapid.SampledFrom([]Party{PartyMCN, PartySupplier, PartySystem})
		transition := func(a ReservationAction) func(*rapid.T) {
			return func(t *rapid.T) {
				if len(rs) == 0 {
					t.Skip("no reservation")
				}
				i := pick(t)
				by := parties.Draw(t, "by")
				c := ReservationChange{Action: a, By: by,
					UnitsSold: rapid.Int64Range(-1, rs[i].Units+1).Draw(t, "sold"), Rating: rapid.IntRange(0, 6).Draw(t, "rating")}
				c.UnitsReturned = rapid.Int64Range(-1, max(c.UnitsSold, 0)+1).Draw(t, "returned")
				next, err := ApplyReservation(rs[i], c, now)
				if err != nil {
					k := KindOf(err)
					if k != KindForbidden && k != KindConflict && k != KindInvalid || (k == KindForbidden) == MayReservation(a, by) {
						t.Fatalf("%s by %s on %s: %v", a, by, rs[i].Status, err)
					}
					return
				}
				nl, err := l.ApplyLedger(rs[i].Status, next.Status, rs[i].Units)
				if err != nil {
					t.Fatalf("%s → %s: ledger %v", rs[i].Status, next.Status, err)
				}
				_, shipped := LedgerEffect(rs[i].Status, next.Status, rs[i].Units)
				stockModel -= shipped
				l, rs[i] = nl, next
			}
		}
		t.Repeat(map[string]func(*rapid.T){
			"reserve": func(t *rapid.T) {
				r := Reservation{ProductID: "prd_1", Units: rapid.Int64Range(-1, 400).Draw(t, "units"),
					StreamDate: now.Add(time.Duration(rapid.IntRange(-48, 240).Draw(t, "stream_in_h")) * time.Hour),
					ExpiresAt:  now.Add(time.Duration(rapid.IntRange(0, 24*8).Draw(t, "hold_h")) * time.Hour)}
				if err := PrepareReservation(&r, now); err != nil {
					if !IsKind(err, KindInvalid) {
						t.Fatal(err)
					}
					return
				}
				nl, err := l.Book(r.Units)
				if err != nil {
					var sh *Shortage
					if !errors.As(err, &sh) || sh.Available != l.Available() || r.Units <= sh.Available {
						t.Fatalf("booking %d of %+v: %v", r.Units, l, err)
					}
					return
				}
				l = nl
				rs = append(rs, r)
			},
			"confirm": transition(ReserveConfirm),
			"cancel":  transition(ReserveCancel),
			"ship":    transition(ReserveShip),
			"result":  transition(ReserveResult),
			"expire":  transition(ReserveExpire),
			"advance clock": func(t *rapid.T) {
				now = now.Add(time.Duration(rapid.IntRange(0, 100).Draw(t, "hours")) * time.Hour)
			},
			"change stock": func(t *rapid.T) {
				s := rapid.Int64Range(-1, 1500).Draw(t, "new_stock")
				nl, err := l.SetStock(s)
				if err != nil {
					if !(IsKind(err, KindConflict) && s < l.Booked) && !(IsKind(err, KindInvalid) && s < 0) {
						t.Fatalf("stock %d on %+v: %v", s, l, err)
					}
					return
				}
				l, stockModel = nl, s
			},
			"": func(t *rapid.T) {
				if err := l.Check(); err != nil {
					t.Fatal(err)
				}
				var recorded int64
				for _, r := range rs {
					if r.Status.Books() {
						recorded += r.Units
					}
				}
				if recorded != l.Booked {
					t.Fatalf("ledger books %d, reservations hold %d", l.Booked, recorded)
				}
				if l.Stock != stockModel {
					t.Fatalf("ledger stock %d, want %d", l.Stock, stockModel)
				}
				if err := CheckBookings(l.Stock, rs, now); err != nil {
					t.Fatal(err)
				}
			},
		})
	})
}
