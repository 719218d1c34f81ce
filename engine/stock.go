package engine

import "fmt"

// Available is what can still be reserved of a product: its stock minus the
// units booked against it (held and confirmed reservations), never below 0.
func Available(stock, booked int64) int64 {
	return max(0, stock-booked)
}

// Shortage is the cause of the KindConflict error that a booking which does
// not fit answers: the units asked for and the units available when it was
// refused. The api shows Available as the problem's "available" member.
type Shortage struct {
	Requested int64
	Available int64
}

// Error implements error.
func (s *Shortage) Error() string {
	return fmt.Sprintf("%d units requested, %d available", s.Requested, s.Available)
}

// StockLedger is the running state of one product's stock ledger: its stock
// and the units booked against it (the sum of its held and confirmed
// reservations). Its methods are the only arithmetic of bookings; each
// returns the next state or an error and never a state that breaks Check.
type StockLedger struct {
	Stock  int64
	Booked int64
}

// Available returns the units that can still be reserved.
func (l StockLedger) Available() int64 { return Available(l.Stock, l.Booked) }

// Check reports whether the ledger keeps the invariant
// 0 ≤ booked ≤ stock ≤ MaxStock, as an *Error of KindInternal when not.
func (l StockLedger) Check() error {
	if l.Booked < 0 || l.Stock < 0 || l.Booked > l.Stock || l.Stock > MaxStock {
		return Errorf(KindInternal, "engine.StockLedger.Check", "ledger broken: stock %d, booked %d", l.Stock, l.Booked)
	}
	return nil
}

// Book books units (a new hold). It answers KindInvalid naming units when
// units ≤ 0, and KindConflict naming units, with a *Shortage cause, when
// the units do not fit: booked + units would exceed stock.
func (l StockLedger) Book(units int64) (StockLedger, error) {
	const op = "engine.StockLedger.Book"
	if units <= 0 || units > MaxStock {
		return l, InvalidField(op, "units", fmt.Sprintf("must be between 1 and %d", MaxStock))
	}
	if units > l.Available() {
		av := l.Available()
		return l, &Error{Kind: KindConflict, Op: op, Msg: fmt.Sprintf("only %d units are available", av),
			Fields: []FieldError{{Field: "units", Message: fmt.Sprintf("%d units do not fit: %d available", units, av)}},
			Err:    &Shortage{Requested: units, Available: av}}
	}
	return StockLedger{Stock: l.Stock, Booked: l.Booked + units}, nil
}

// Release frees booked units (a cancelled or expired reservation). Releasing
// more than is booked, or units ≤ 0, is KindInternal: it means a
// reservation's units were released twice or never booked.
func (l StockLedger) Release(units int64) (StockLedger, error) {
	if units <= 0 || units > l.Booked {
		return l, Errorf(KindInternal, "engine.StockLedger.Release", "cannot release %d units of %d booked", units, l.Booked)
	}
	return StockLedger{Stock: l.Stock, Booked: l.Booked - units}, nil
}

// Ship moves booked units out of the ledger: a shipped reservation's units
// leave both the booking and the stock. Shipping more than is booked is
// KindInternal, as for Release.
func (l StockLedger) Ship(units int64) (StockLedger, error) {
	if units <= 0 || units > l.Booked {
		return l, Errorf(KindInternal, "engine.StockLedger.Ship", "cannot ship %d units of %d booked", units, l.Booked)
	}
	return StockLedger{Stock: l.Stock - units, Booked: l.Booked - units}, nil
}

// SetStock changes the stock (a supplier's edit). It answers KindInvalid
// naming stock when stock is out of 0..MaxStock, and KindConflict naming
// stock when it is below the booked units.
func (l StockLedger) SetStock(stock int64) (StockLedger, error) {
	const op = "engine.StockLedger.SetStock"
	if stock < 0 || stock > MaxStock {
		return l, InvalidField(op, "stock", fmt.Sprintf("must be between 0 and %d", MaxStock))
	}
	if stock < l.Booked {
		return l, &Error{Kind: KindConflict, Op: op, Msg: fmt.Sprintf("%d units are booked", l.Booked),
			Fields: []FieldError{{Field: "stock", Message: fmt.Sprintf("must not be below the %d units held and confirmed", l.Booked)}}}
	}
	return StockLedger{Stock: stock, Booked: l.Booked}, nil
}
