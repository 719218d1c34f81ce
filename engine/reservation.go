package engine

import (
	"fmt"
	"strings"
	"time"
)

// ReservationStatus is where a reservation stands (see the package doc's
// state diagram).
type ReservationStatus string

// Reservation states.
const (
	ReservationHeld      ReservationStatus = "held"
	ReservationConfirmed ReservationStatus = "confirmed"
	ReservationShipped   ReservationStatus = "shipped"
	ReservationCompleted ReservationStatus = "completed"
	ReservationCancelled ReservationStatus = "cancelled"
	ReservationExpired   ReservationStatus = "expired"
)

// ReservationStatuses returns every reservation state.
func ReservationStatuses() []ReservationStatus {
	return []ReservationStatus{ReservationHeld, ReservationConfirmed, ReservationShipped,
		ReservationCompleted, ReservationCancelled, ReservationExpired}
}

// Valid reports whether s is a known state.
func (s ReservationStatus) Valid() bool {
	for _, v := range ReservationStatuses() {
		if v == s {
			return true
		}
	}
	return false
}

// Books reports whether a reservation in this state counts against its
// product's stock: held and confirmed do.
func (s ReservationStatus) Books() bool {
	return s == ReservationHeld || s == ReservationConfirmed
}

// Party is who acts on a reservation or sample request: the MCN that made
// it, the supplier that owns the product, or the system (expiry).
type Party string

// Parties.
const (
	PartyMCN      Party = "mcn"
	PartySupplier Party = "supplier"
	PartySystem   Party = "system"
)

// ReservationAction is a transition of a reservation.
type ReservationAction string

// Reservation actions.
const (
	ReserveConfirm ReservationAction = "confirm" // supplier: held → confirmed
	ReserveCancel  ReservationAction = "cancel"  // either side: held or confirmed → cancelled
	ReserveShip    ReservationAction = "ship"    // supplier: confirmed → shipped
	ReserveResult  ReservationAction = "result"  // mcn: shipped → completed
	ReserveExpire  ReservationAction = "expire"  // system: held past expires_at → expired
)

// Hold times and text limits of reservations and samples.
const (
	DefaultHold      = 48 * time.Hour
	MaxHold          = 7 * 24 * time.Hour
	MaxDealNoteLen   = 2000
	MaxTrackingNoLen = 100
	MaxDeclineReason = 500
	MaxDealIDLen     = 200 // product, profile and host ids
)

// Reservation is an MCN's hold on units of a supplier's product for a
// stream, and what became of it.
type Reservation struct {
	ID        string
	ProductID string
	// The product's sku and titles when the reservation was made, for lists.
	ProductSKU     string
	ProductTitleZh string
	ProductTitleEn string
	SupplierOrgID  string
	MCNOrgID       string
	Units          int64
	StreamDate     time.Time
	ProfileID      string // optional
	HostID         string // optional
	Note           string
	Status         ReservationStatus
	ExpiresAt      time.Time // a hold not confirmed by then expires
	TrackingNo     string    // set when shipped

	// The MCN's result, set when completed.
	UnitsSold     int64
	UnitsReturned int64
	Rating        int // 1..5, 0 when not rated
	ResultNote    string

	CancelledBy  Party  // set when cancelled
	CancelReason string // optional, given with the cancel

	Version     int64
	Seq         int64
	CreatedAt   time.Time
	UpdatedAt   time.Time
	ConfirmedAt time.Time
	ShippedAt   time.Time
	CompletedAt time.Time
	CancelledAt time.Time
	ExpiredAt   time.Time
}

// StatusAt is the reservation's state as of now: a hold whose expires_at
// has passed is expired even before the sweep records it, so that an
// expired hold is never shown as held.
func (r *Reservation) StatusAt(now time.Time) ReservationStatus {
	if r.Status == ReservationHeld && !now.Before(r.ExpiresAt) {
		return ReservationExpired
	}
	return r.Status
}

// BookedUnits sums the units of the reservations that count against stock
// as of now (held and not past expires_at, or confirmed).
func BookedUnits(rs []Reservation, now time.Time) int64 {
	var n int64
	for i := range rs {
		if rs[i].StatusAt(now).Books() {
			n += rs[i].Units
		}
	}
	return n
}

// CheckBookings checks the invariant of one product's reservations: the
// units held and confirmed never exceed its stock. It answers KindInternal
// when they do.
func CheckBookings(stock int64, rs []Reservation, now time.Time) error {
	if b := BookedUnits(rs, now); b > stock {
		return Errorf(KindInternal, "engine.CheckBookings", "%d units booked of a stock of %d", b, stock)
	}
	return nil
}

// civilDay is the date of t in China time, as days since the epoch.
func civilDay(t time.Time) int64 {
	y, m, d := t.In(cst).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
}

// PrepareReservation validates and normalises a new reservation as an MCN
// submits it (product, units, stream date, optional profile, host, hold
// time and note) and makes it held: ExpiresAt, when zero, defaults to now +
// DefaultHold. The caller sets ProductID, SupplierOrgID and MCNOrgID from
// the product and the caller, and books the units (StockLedger.Book).
//
// It returns an *Error of KindInvalid naming every bad field by its JSON
// name: product_id (required); units (1 to MaxStock); stream_date
// (required, not before today in China time); hold_until (after now, at
// most MaxHold ahead); profile_id, host_id (at most 200 characters); note
// (at most 2000 characters).
func PrepareReservation(r *Reservation, now time.Time) error {
	const op = "engine.PrepareReservation"
	var pr Problems
	r.ProductID = strings.TrimSpace(r.ProductID)
	if r.ProductID == "" {
		pr.Add("product_id", "is required")
	}
	checkText(&pr, "product_id", r.ProductID, 0, MaxDealIDLen)
	if r.Units < 1 || r.Units > MaxStock {
		pr.Add("units", "must be a whole number between 1 and %d", MaxStock)
	}
	switch {
	case r.StreamDate.IsZero():
		pr.Add("stream_date", "is required")
	case civilDay(r.StreamDate) < civilDay(now):
		pr.Add("stream_date", "must not lie before today (%s, China time)", now.In(cst).Format(dateLayout))
	}
	if r.ExpiresAt.IsZero() {
		r.ExpiresAt = now.Add(DefaultHold)
	} else if !r.ExpiresAt.After(now) {
		pr.Add("hold_until", "must lie in the future")
	} else if r.ExpiresAt.Sub(now) > MaxHold {
		pr.Add("hold_until", "must lie at most 7 days ahead")
	}
	r.ProfileID = strings.TrimSpace(r.ProfileID)
	checkText(&pr, "profile_id", r.ProfileID, 0, MaxDealIDLen)
	r.HostID = strings.TrimSpace(r.HostID)
	checkText(&pr, "host_id", r.HostID, 0, MaxDealIDLen)
	r.Note = strings.TrimSpace(r.Note)
	checkText(&pr, "note", r.Note, 0, MaxDealNoteLen)
	r.Status = ReservationHeld
	r.TrackingNo, r.UnitsSold, r.UnitsReturned, r.Rating, r.ResultNote, r.CancelledBy = "", 0, 0, 0, "", ""
	return pr.Err(op)
}

// ReservationChange is one action on a reservation by a party, with the
// action's input: TrackingNo for ship; UnitsSold, UnitsReturned, Rating
// and Note for result; Note (the reason, optional) for cancel.
type ReservationChange struct {
	Action        ReservationAction
	By            Party
	TrackingNo    string
	UnitsSold     int64
	UnitsReturned int64
	Rating        int
	Note          string
}

// reservationRule is who may take an action and from which states.
type reservationRule struct {
	by   []Party
	from []ReservationStatus
	to   ReservationStatus
}

// reservationRuleOf returns the transition table's row for an action.
func reservationRuleOf(a ReservationAction) (reservationRule, bool) {
	switch a {
	case ReserveConfirm:
		return reservationRule{[]Party{PartySupplier}, []ReservationStatus{ReservationHeld}, ReservationConfirmed}, true
	case ReserveCancel:
		return reservationRule{[]Party{PartyMCN, PartySupplier}, []ReservationStatus{ReservationHeld, ReservationConfirmed}, ReservationCancelled}, true
	case ReserveShip:
		return reservationRule{[]Party{PartySupplier}, []ReservationStatus{ReservationConfirmed}, ReservationShipped}, true
	case ReserveResult:
		return reservationRule{[]Party{PartyMCN}, []ReservationStatus{ReservationShipped}, ReservationCompleted}, true
	case ReserveExpire:
		return reservationRule{[]Party{PartySystem}, []ReservationStatus{ReservationHeld}, ReservationExpired}, true
	}
	return reservationRule{}, false
}

// MayReservation reports whether party by may ever take action a (in some
// state): the role check, before the state check.
func MayReservation(a ReservationAction, by Party) bool {
	rule, ok := reservationRuleOf(a)
	if !ok {
		return false
	}
	for _, p := range rule.by {
		if p == by {
			return true
		}
	}
	return false
}

// ApplyReservation applies a change to a reservation at now and returns
// the new state; r is not modified. The state is taken as of now
// (StatusAt): a hold past its expires_at counts as expired, so it can no
// longer be confirmed or cancelled, only recorded as expired.
//
// Errors, in this order: KindInvalid naming action for an unknown action;
// KindForbidden when the party may never take the action; KindConflict
// naming the current state when the action is not allowed from it (expire
// also when the hold has not yet run out); KindInvalid naming the fields of
// the action's input: tracking_no (at most 100 characters), units_sold (0
// to units), units_returned (0 to units_sold), rating (1 to 5, or 0 for
// none), note (at most 2000 characters).
//
// Whether the units leave the booking is LedgerEffect's to say.
func ApplyReservation(r Reservation, c ReservationChange, now time.Time) (Reservation, error) {
	const op = "engine.ApplyReservation"
	rule, ok := reservationRuleOf(c.Action)
	if !ok {
		return r, InvalidField(op, "action", fmt.Sprintf("unknown action %q", clip(string(c.Action))))
	}
	if !MayReservation(c.Action, c.By) {
		return r, Errorf(KindForbidden, op, "the %s may not %s a reservation", partyName(c.By), c.Action)
	}
	cur := r.StatusAt(now)
	if c.Action == ReserveExpire && r.Status == ReservationHeld && cur == ReservationHeld {
		return r, stateConflict(op, string(cur), fmt.Sprintf("the hold runs until %s and has not expired", r.ExpiresAt.UTC().Format(time.RFC3339)))
	}
	from := cur
	if c.Action == ReserveExpire {
		from = r.Status // the recorded state: held, and due (checked above)
	}
	allowed := false
	for _, s := range rule.from {
		allowed = allowed || s == from
	}
	if !allowed {
		return r, stateConflict(op, string(cur), fmt.Sprintf("the reservation is %s; it cannot be %s", cur, pastTense(c.Action)))
	}
	next := r
	next.Status = rule.to
	var pr Problems
	switch c.Action {
	case ReserveConfirm:
		next.ConfirmedAt = now
	case ReserveCancel:
		next.CancelledAt, next.CancelledBy = now, c.By
		next.CancelReason = strings.TrimSpace(c.Note)
		checkText(&pr, "reason", next.CancelReason, 0, MaxDeclineReason)
	case ReserveExpire:
		// Recorded when the sweep (or a read) notices; the hold ended at
		// ExpiresAt.
		next.ExpiredAt = now
	case ReserveShip:
		next.TrackingNo = strings.TrimSpace(c.TrackingNo)
		checkText(&pr, "tracking_no", next.TrackingNo, 0, MaxTrackingNoLen)
		next.ShippedAt = now
	case ReserveResult:
		if c.UnitsSold < 0 || c.UnitsSold > r.Units {
			pr.Add("units_sold", "must be between 0 and the %d units reserved", r.Units)
		}
		if c.UnitsReturned < 0 || c.UnitsReturned > max(c.UnitsSold, 0) {
			pr.Add("units_returned", "must be between 0 and units_sold")
		}
		if c.Rating != 0 && (c.Rating < 1 || c.Rating > 5) {
			pr.Add("rating", "must be between 1 and 5")
		}
		note := strings.TrimSpace(c.Note)
		checkText(&pr, "note", note, 0, MaxDealNoteLen)
		next.UnitsSold, next.UnitsReturned, next.Rating, next.ResultNote = c.UnitsSold, c.UnitsReturned, c.Rating, note
		next.CompletedAt = now
	}
	if err := pr.Err(op); err != nil {
		return r, err
	}
	return next, nil
}

// LedgerEffect says what a transition from before to after does to the
// product's stock ledger: units released (a booking state left for
// cancelled or expired), units shipped (left for shipped), or nothing.
func LedgerEffect(before, after ReservationStatus, units int64) (release, ship int64) {
	if !before.Books() || after.Books() {
		return 0, 0
	}
	if after == ReservationShipped {
		return 0, units
	}
	return units, 0
}

// ApplyLedger applies the ledger effect of a reservation's transition.
func (l StockLedger) ApplyLedger(before, after ReservationStatus, units int64) (StockLedger, error) {
	release, ship := LedgerEffect(before, after, units)
	switch {
	case release > 0:
		return l.Release(release)
	case ship > 0:
		return l.Ship(ship)
	}
	return l, nil
}

// stateConflict is the KindConflict of a transition not allowed from the
// current state: its field is "status", naming the state.
func stateConflict(op, state, msg string) *Error {
	return &Error{Kind: KindConflict, Op: op, Msg: msg, Fields: []FieldError{{Field: "status", Message: "is " + state}}}
}

func partyName(p Party) string {
	if p == "" {
		return "unknown party"
	}
	return string(p)
}

func pastTense(a ReservationAction) string {
	switch a {
	case ReserveConfirm:
		return "confirmed"
	case ReserveCancel:
		return "cancelled"
	case ReserveShip:
		return "shipped"
	case ReserveResult:
		return "given a result"
	case ReserveExpire:
		return "expired"
	}
	return string(a)
}
