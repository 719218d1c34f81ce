package store

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/livematch/livematch/engine"
)

// The stock ledger: every change to a product's bookings or stock is one
// entry of a per-product chain whose _id is "<product>:<n>" for the n-th
// entry (n from 1). An entry carries the ledger's state after it (stock and
// booked units), computed by engine.StockLedger from the state of entry
// n−1, and is written with a plain insert. The database's unique _id index
// makes that insert the atomic step: of several clients that computed entry
// n from the same head, exactly one inserts it; the others get a duplicate
// key error, re-read the head and try again. SQLite enforces the index
// across connections and processes, and so does MongoDB, so this holds on
// the embedded FerretDB (whose conditional updates are not atomic, see
// docs/deals.md) and on a real MongoDB alike, without any in-process lock.
//
// A second unique index on op ("<kind>:<product>:<ref>") makes each
// operation idempotent: applying the same kind to the same reference twice
// (a retried request whose reply was lost) applies it once.
//
// Every read is by _id. The head is found from a hint document per product
// (stock_heads, raised after each append and allowed to lag) by probing the
// following entries, galloping then bisecting, so a stale hint costs a few
// lookups, never a scan.
const (
	collLedger      = "stock_ledger"
	collLedgerHeads = "stock_heads"
)

// defaultLedgerAttempts bounds the appends a ledger operation tries before
// it gives up because other clients keep winning the next slot.
const defaultLedgerAttempts = 100

// LedgerKind is what a ledger entry does.
type LedgerKind string

// Ledger entry kinds.
const (
	LedgerBook    LedgerKind = "book"    // units booked (a new hold)
	LedgerRelease LedgerKind = "release" // booked units freed (cancelled, expired)
	LedgerShip    LedgerKind = "ship"    // booked units shipped: they leave the stock
	LedgerStock   LedgerKind = "stock"   // the stock set to Units (a supplier's edit)
)

// BookingEntry identifies a ledger operation: Ref is the reservation's id
// (or, for a stock change, a caller's request key) and Actor the org that
// acts. An operation of one kind with the same non-empty Ref is applied at
// most once per product; an empty Ref is never deduplicated.
type BookingEntry struct {
	Ref   string
	Actor string
}

// LedgerEntry is one stored entry of a product's stock ledger.
type LedgerEntry struct {
	ProductID string
	N         int64 // position in the product's chain, from 1
	Kind      LedgerKind
	Units     int64 // booked, released or shipped units, or the new stock
	Ref       string
	Actor     string
	Ledger    engine.StockLedger // the state after this entry
	At        time.Time
}

// BookingResult is the outcome of a ledger operation.
type BookingResult struct {
	// Entry is the entry written (its zero value when Replayed).
	Entry LedgerEntry
	// Ledger is the product's state after the operation.
	Ledger engine.StockLedger
	// Replayed is true when the operation had been applied before (same
	// kind and Ref): nothing was written this time.
	Replayed bool
	// Attempts counts the appends tried (1 when no other client interfered).
	Attempts int
}

type ledgerDoc struct {
	ID        string    `bson:"_id"` // "<product>:<n>"
	ProductID string    `bson:"product_id"`
	N         int64     `bson:"n"`
	Op        string    `bson:"op"` // unique: "<kind>:<product>:<ref>"
	Kind      string    `bson:"kind"`
	Units     int64     `bson:"units"`
	Ref       string    `bson:"ref,omitempty"`
	Actor     string    `bson:"actor,omitempty"`
	Stock     int64     `bson:"stock"`
	Booked    int64     `bson:"booked"`
	At        time.Time `bson:"at"`
}

func (d *ledgerDoc) toEntry() LedgerEntry {
	return LedgerEntry{ProductID: d.ProductID, N: d.N, Kind: LedgerKind(d.Kind), Units: d.Units, Ref: d.Ref,
		Actor: d.Actor, Ledger: engine.StockLedger{Stock: d.Stock, Booked: d.Booked}, At: d.At.UTC()}
}

type ledgerHeadDoc struct {
	ID string `bson:"_id"` // the product id
	N  int64  `bson:"n"`
}

// LedgerKey names a product's stock ledger: its id and the moment it was
// created, so that a product deleted and listed again under the same sku
// starts a fresh ledger instead of inheriting the old one's bookings.
func LedgerKey(p *engine.Product) string {
	return p.ID + "@" + strconv.FormatInt(p.CreatedAt.UnixMilli(), 36)
}

// productOfKey returns the product id of a ledger key.
func productOfKey(key string) string {
	id, _, _ := strings.Cut(key, "@")
	return id
}

func ledgerID(productID string, n int64) string {
	return productID + ":" + strconv.FormatInt(n, 10)
}

// Book books units of a product for the reservation entry.Ref, in one
// atomic step: it answers KindConflict naming units, with an
// *engine.Shortage cause carrying the units available, when booked + units
// would exceed the stock. stock opens the ledger when the product has none
// yet; afterwards the ledger's own stock (changed by SetStock and Ship) is
// the bound.
func (s *Store) Book(ctx context.Context, productID string, stock, units int64, entry BookingEntry) (BookingResult, error) {
	return s.appendLedger(ctx, "store.Book", productID, stock, LedgerBook, units, entry,
		func(l engine.StockLedger) (engine.StockLedger, error) { return l.Book(units) })
}

// Release frees units booked for entry.Ref (a cancelled or expired hold).
func (s *Store) Release(ctx context.Context, productID string, units int64, entry BookingEntry) (BookingResult, error) {
	return s.appendLedger(ctx, "store.Release", productID, 0, LedgerRelease, units, entry,
		func(l engine.StockLedger) (engine.StockLedger, error) { return l.Release(units) })
}

// Ship moves units booked for entry.Ref out of the ledger: they leave both
// the booking and the stock.
func (s *Store) Ship(ctx context.Context, productID string, units int64, entry BookingEntry) (BookingResult, error) {
	return s.appendLedger(ctx, "store.Ship", productID, 0, LedgerShip, units, entry,
		func(l engine.StockLedger) (engine.StockLedger, error) { return l.Ship(units) })
}

// SetStock sets a product's stock in its ledger; it answers KindConflict
// naming stock when the stock would fall below the booked units. current
// opens the ledger when the product has none yet.
func (s *Store) SetStock(ctx context.Context, productID string, current, stock int64, entry BookingEntry) (BookingResult, error) {
	return s.appendLedger(ctx, "store.SetStock", productID, current, LedgerStock, stock, entry,
		func(l engine.StockLedger) (engine.StockLedger, error) { return l.SetStock(stock) })
}

// StockLedger returns a product's ledger state and the position of its
// head entry (0 when the product has no ledger yet; then the state is
// {Stock: stock}).
func (s *Store) StockLedger(ctx context.Context, productID string, stock int64) (engine.StockLedger, int64, error) {
	n, head, err := s.ledgerHead(ctx, "store.StockLedger", productID, stock, 0)
	if err != nil {
		return engine.StockLedger{}, 0, err
	}
	return head.state(), n, nil
}

// LedgerEntries returns a product's ledger entries in order, up to the head
// (lookups by _id: the chain has no gaps).
func (s *Store) LedgerEntries(ctx context.Context, productID string) ([]LedgerEntry, error) {
	const op = "store.LedgerEntries"
	var out []LedgerEntry
	for n := int64(1); ; n++ {
		d, ok, err := s.ledgerEntry(ctx, op, productID, n)
		if err != nil {
			return nil, err
		}
		if !ok {
			return out, nil
		}
		out = append(out, d.toEntry())
	}
}

// ledgerEntry reads entry n of a product's chain.
func (s *Store) ledgerEntry(ctx context.Context, op, productID string, n int64) (*ledgerDoc, bool, error) {
	var d ledgerDoc
	err := s.ledger.FindOne(ctx, bson.D{{Key: "_id", Value: ledgerID(productID, n)}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, classify(op, err)
	}
	return &d, true, nil
}

// headState is the head of a chain as found: its entry (nil for the empty
// chain) and the stock that opens an empty chain.
type headState struct {
	doc   *ledgerDoc
	stock int64
}

func (h headState) state() engine.StockLedger {
	if h.doc == nil {
		return engine.StockLedger{Stock: h.stock}
	}
	return engine.StockLedger{Stock: h.doc.Stock, Booked: h.doc.Booked}
}

// ledgerHead finds the head of a product's chain, starting from the hint
// document, or from known (an entry known to exist) when that lies beyond.
// Entries are never removed and each is inserted only after its
// predecessor, so the chain is contiguous: entry n exists for every n up to
// the head. At the moment the probe found entry n+1 missing, n was the head.
func (s *Store) ledgerHead(ctx context.Context, op, productID string, stock, known int64) (int64, headState, error) {
	lo := known
	if lo == 0 {
		var h ledgerHeadDoc
		err := s.ledgerHeads.FindOne(ctx, bson.D{{Key: "_id", Value: productID}}).Decode(&h)
		if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
			return 0, headState{}, classify(op, err)
		}
		lo = h.N
	}
	head := headState{stock: stock}
	if lo > 0 {
		d, ok, err := s.ledgerEntry(ctx, op, productID, lo)
		if err != nil {
			return 0, headState{}, err
		}
		if !ok { // a hint from a dropped ledger: start over
			lo = 0
		} else {
			head.doc = d
		}
	}
	// Gallop: lo exists (or is 0), find some hi that does not.
	hi := int64(0)
	for step := int64(1); ; step *= 2 {
		d, ok, err := s.ledgerEntry(ctx, op, productID, lo+step)
		if err != nil {
			return 0, headState{}, err
		}
		if !ok {
			hi = lo + step
			break
		}
		lo, head.doc = lo+step, d
	}
	// Bisect: lo exists, hi does not.
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		d, ok, err := s.ledgerEntry(ctx, op, productID, mid)
		if err != nil {
			return 0, headState{}, err
		}
		if ok {
			lo, head.doc = mid, d
		} else {
			hi = mid
		}
	}
	return lo, head, nil
}

// appendLedger appends one entry computed by step from the head's state,
// retrying (boundedly) when another client wins the slot.
func (s *Store) appendLedger(ctx context.Context, op, productID string, stock int64, kind LedgerKind, units int64,
	entry BookingEntry, step func(engine.StockLedger) (engine.StockLedger, error)) (BookingResult, error) {
	if productID == "" {
		return BookingResult{}, engine.InvalidField(op, "product_id", "is required")
	}
	opKey := string(kind) + ":" + productID + ":" + entry.Ref
	if entry.Ref == "" {
		opKey = string(kind) + ":" + productID + ":" + NewID("op")
	}
	var known int64
	for attempt := 1; attempt <= s.ledgerAttempts; attempt++ {
		if attempt > 2 {
			ledgerBackoff(ctx, attempt)
		}
		if err := ctx.Err(); err != nil {
			return BookingResult{}, classify(op, err)
		}
		n, head, err := s.ledgerHead(ctx, op, productID, stock, known)
		if err != nil {
			return BookingResult{}, err
		}
		next, err := step(head.state())
		if err != nil {
			// A retried operation that another client (or an earlier try)
			// applied already may no longer fit: releasing units twice, or
			// shipping them after the release. Its op key tells. This is
			// the rare path, so a query by op is affordable here.
			if entry.Ref != "" {
				n, cerr := s.ledger.CountDocuments(ctx, bson.D{{Key: "op", Value: opKey}})
				if cerr != nil {
					return BookingResult{}, classify(op, cerr)
				}
				if n > 0 {
					return BookingResult{Ledger: head.state(), Replayed: true, Attempts: attempt}, nil
				}
			}
			return BookingResult{Ledger: head.state(), Attempts: attempt}, err
		}
		if s.beforeAppend != nil {
			s.beforeAppend(productID, n)
		}
		d := ledgerDoc{ID: ledgerID(productID, n+1), ProductID: productID, N: n + 1, Op: opKey, Kind: string(kind),
			Units: units, Ref: entry.Ref, Actor: entry.Actor, Stock: next.Stock, Booked: next.Booked, At: s.stamp()}
		_, err = s.ledger.InsertOne(ctx, d)
		if err == nil {
			s.raiseLedgerHint(ctx, productID, n+1)
			s.stockChanged(productID)
			return BookingResult{Entry: d.toEntry(), Ledger: next, Attempts: attempt}, nil
		}
		if !mongo.IsDuplicateKeyError(err) {
			return BookingResult{}, classify(op, err)
		}
		// Either another client took slot n+1 (it exists now) or this
		// operation was applied before (its op key exists, the slot not).
		_, taken, rerr := s.ledgerEntry(ctx, op, productID, n+1)
		if rerr != nil {
			return BookingResult{}, rerr
		}
		if !taken {
			cur, _, err := s.StockLedger(ctx, productID, stock)
			if err != nil {
				return BookingResult{}, err
			}
			return BookingResult{Ledger: cur, Replayed: true, Attempts: attempt}, nil
		}
		known = n + 1
	}
	return BookingResult{Attempts: s.ledgerAttempts}, engine.Errorf(engine.KindUnavailable, op,
		"the product's stock is being changed by too many clients at once; try again")
}

// raiseLedgerHint moves a product's head hint up to n. The hint only saves
// probes: a failed or lost (raced) write costs nothing but lookups later.
func (s *Store) raiseLedgerHint(ctx context.Context, productID string, n int64) {
	_, err := s.ledgerHeads.UpdateOne(ctx, bson.D{{Key: "_id", Value: productID}},
		bson.D{{Key: "$max", Value: bson.D{{Key: "n", Value: n}}}}, options.UpdateOne().SetUpsert(true))
	if err != nil && !mongo.IsDuplicateKeyError(err) { // two first upserts raced
		s.log.Debug("ledger hint not raised", "product_id", productID, "n", n, "err", err)
	}
}

// ledgerBackoff waits a random while that grows with the attempt (up to
// about 5 ms) so that clients losing the same slot spread out.
func ledgerBackoff(ctx context.Context, attempt int) {
	d := time.Duration(rand.Int64N(int64(min(attempt, 50)) * int64(100*time.Microsecond)))
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// String formats the entry for logs and test messages.
func (e LedgerEntry) String() string {
	return fmt.Sprintf("#%d %s %d ref=%s → stock %d booked %d", e.N, e.Kind, e.Units, e.Ref, e.Ledger.Stock, e.Ledger.Booked)
}
