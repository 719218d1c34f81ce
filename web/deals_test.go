package web

import (
	"strings"
	"testing"
	"time"

	"github.com/livematch/livematch/engine"
)

// TestDealTextsCoverEveryState checks the keys the deals pages build at
// run time: a label for every state, action and party the engine knows.
func TestDealTextsCoverEveryState(t *testing.T) {
	msgs, err := loadMessages(files)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, s := range engine.ReservationStatuses() {
		keys = append(keys, "reservations.status."+string(s))
	}
	for _, s := range engine.SampleStatuses() {
		keys = append(keys, "samples.status."+string(s))
	}
	for _, a := range reservationActionOrder {
		keys = append(keys, "reservations.done."+string(a), "reservations.act."+string(a), "reservations.action."+string(a))
	}
	keys = append(keys, "reservations.action.create", "reservations.action."+string(engine.ReserveExpire))
	for _, a := range sampleActionOrder {
		keys = append(keys, "samples.done."+string(a), "samples.act."+string(a))
	}
	for _, p := range []engine.Party{engine.PartyMCN, engine.PartySupplier, engine.PartySystem} {
		keys = append(keys, "deals.party."+string(p))
	}
	for _, p := range []string{string(engine.PartyMCN), string(engine.PartySupplier), "none"} {
		keys = append(keys, "deals.nothing."+p)
	}
	for _, k := range keys {
		if !msgs.has(k) {
			t.Errorf("message %q is not in the catalogue", k)
		}
	}
	// The templates parse with the partial's blocks.
	if _, err := parsePages(files); err != nil {
		t.Fatal(err)
	}
}

// TestDealActions checks that each row offers what the engine's transition
// tables allow the caller's side in the deal's state, and nothing else.
func TestDealActions(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	later, earlier := now.Add(time.Hour), now.Add(-time.Minute)
	res := []struct {
		status  engine.ReservationStatus
		expires time.Time
		side    engine.Party
		want    string
	}{
		{engine.ReservationHeld, later, engine.PartySupplier, "confirm cancel"},
		{engine.ReservationHeld, later, engine.PartyMCN, "cancel"},
		{engine.ReservationHeld, earlier, engine.PartySupplier, ""}, // run out: nothing, even before the sweep
		{engine.ReservationConfirmed, later, engine.PartySupplier, "ship cancel"},
		{engine.ReservationConfirmed, later, engine.PartyMCN, "cancel"},
		{engine.ReservationShipped, later, engine.PartySupplier, ""},
		{engine.ReservationShipped, later, engine.PartyMCN, "result"},
		{engine.ReservationCompleted, later, engine.PartyMCN, ""},
		{engine.ReservationCancelled, later, engine.PartySupplier, ""},
		{engine.ReservationExpired, later, engine.PartyMCN, ""},
		{engine.ReservationHeld, later, "", ""}, // neither side
	}
	for _, c := range res {
		r := reservation{dealHead: dealHead{Status: string(c.status)}, ExpiresAt: c.expires, Units: 10}
		if got := strings.Join(reservationActions(r, c.side, now), " "); got != c.want {
			t.Errorf("reservation %s (expires %s) for the %q: %q, want %q", c.status, c.expires.Format(time.Kitchen), c.side, got, c.want)
		}
	}
	smp := []struct {
		status engine.SampleStatus
		side   engine.Party
		want   string
	}{
		{engine.SampleRequested, engine.PartySupplier, "accept decline"},
		{engine.SampleRequested, engine.PartyMCN, ""},
		{engine.SampleAccepted, engine.PartySupplier, "ship"},
		{engine.SampleShipped, engine.PartyMCN, "receive"},
		{engine.SampleShipped, engine.PartySupplier, ""},
		{engine.SampleDeclined, engine.PartyMCN, ""},
		{engine.SampleReceived, engine.PartyMCN, ""},
	}
	for _, c := range smp {
		if got := strings.Join(sampleActions(sampleRequest{dealHead: dealHead{Status: string(c.status)}}, c.side, now), " "); got != c.want {
			t.Errorf("sample request %s for the %q: %q, want %q", c.status, c.side, got, c.want)
		}
	}
}

// TestHoldUntil checks the hold field's conversion to hold_until: hours
// or days from now; a blank hold leaves the API's default; text that is
// no whole number is refused before anything is sent.
func TestHoldUntil(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	s := &Server{cfg: Config{Now: func() time.Time { return now }}}
	cases := []struct {
		n, unit, want string
		ok            bool
	}{
		{"48", "hours", "2026-12-03T10:00:00Z", true},
		{" 3 ", "days", "2026-12-04T10:00:00Z", true},
		{"7", "days", "2026-12-08T10:00:00Z", true},
		{"8", "days", "2026-12-09T10:00:00Z", true}, // too long: the API says so
		{"", "days", "", true},
		{"2.5", "days", "", false},
		{"two", "hours", "", false},
	}
	for _, c := range cases {
		got, ok := s.holdUntil(c.n, c.unit)
		if got != c.want || ok != c.ok {
			t.Errorf("holdUntil(%q, %q) = %q, %v; want %q, %v", c.n, c.unit, got, ok, c.want, c.ok)
		}
	}
}

// TestDealStateURL checks that an action's way back keeps the list's
// filter and page.
func TestDealStateURL(t *testing.T) {
	cases := []struct {
		st   dealState
		want string
	}{
		{dealState{}, "/console/reservations"},
		{dealState{Status: "held"}, "/console/reservations?status=held"},
		{dealState{Status: "held", ProductID: "p 1", Cursor: "c2", Trail: "- c1"}, "/console/reservations?cursor=c2&product_id=p+1&status=held&trail=-+c1"},
		{dealState{Trail: "- c1"}, "/console/reservations"}, // a trail without a cursor is no page
	}
	for _, c := range cases {
		if got := c.st.listURL("/console/reservations"); got != c.want {
			t.Errorf("%+v: %s, want %s", c.st, got, c.want)
		}
	}
}
