package store

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/livematch/livematch/engine"
)

// queued returns the number of ledger operations waiting for the next
// group commit.
func queued(s *Store) int {
	s.ledgerState.mu.Lock()
	defer s.ledgerState.mu.Unlock()
	return len(s.ledgerState.queue)
}

// TestLedgerGroupCommit holds the committer in its first round until the
// other operations wait in the queue, in a known order, so that the next
// round commits them together: bookings that fit, refusals between them
// decided on the state after the entries before them, and a booking whose
// reference was booked earlier in the same round (applied once).
func TestLedgerGroupCommit(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t)
	const p = "prd_group@1"
	type op struct {
		name     string
		ref      string
		units    int64
		fits     bool
		avail    int64 // refused: the available units it is told
		replayed bool
	}
	ops := []op{
		{"first, alone in its round", "rsv_a", 10, true, 0, false},
		{"fits", "rsv_b", 20, true, 0, false},
		{"refused after b: 70 left", "rsv_c", 80, false, 70, false},
		{"b again: applied once", "rsv_b", 20, true, 0, true},
		{"fits after the refusal and the replay", "rsv_d", 30, true, 0, false},
		{"the rest", "rsv_e", 40, true, 0, false},
		{"nothing left", "rsv_f", 1, false, 0, false},
	}
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	s.beforeAppend = func(string, int64) { once.Do(func() { close(entered); <-release }) }
	defer func() { s.beforeAppend = nil }()
	type outcome struct {
		res BookingResult
		err error
	}
	out := make([]outcome, len(ops))
	var wg sync.WaitGroup
	for i, o := range ops {
		wg.Go(func() {
			res, err := s.Book(ctx, p, 100, o.units, BookingEntry{Ref: o.ref})
			out[i] = outcome{res, err}
		})
		if i == 0 {
			<-entered // the first round has taken it and waits
			continue
		}
		for queued(s) < i { // the others queue in this order
			time.Sleep(100 * time.Microsecond)
		}
	}
	close(release)
	wg.Wait()
	var booked int64
	for i, o := range ops {
		res, err := out[i].res, out[i].err
		switch {
		case o.fits && err != nil:
			t.Fatalf("%s: %v", o.name, err)
		case o.fits && res.Replayed != o.replayed:
			t.Fatalf("%s: replayed %v", o.name, res.Replayed)
		case o.fits && !o.replayed:
			booked += o.units
			if res.Entry.Units != o.units || res.Entry.Ref != o.ref || res.Ledger.Booked != res.Entry.Ledger.Booked {
				t.Fatalf("%s: entry %v, ledger %+v", o.name, res.Entry, res.Ledger)
			}
		case !o.fits:
			sh, ok := shortageOf(err)
			if !ok || sh.Available != o.avail || sh.Requested != o.units {
				t.Fatalf("%s: %v, want a shortage with %d available", o.name, err, o.avail)
			}
		}
	}
	l, n, err := s.StockLedger(ctx, p, 0)
	if err != nil || l != (engine.StockLedger{Stock: 100, Booked: booked}) || n != 4 || booked != 100 {
		t.Fatalf("ledger %+v at %d (%v), booked %d", l, n, err, booked)
	}
	entries, err := s.LedgerEntries(ctx, p)
	if err != nil || len(entries) != 4 {
		t.Fatalf("entries %v (%v)", entries, err)
	}
	checkChain(t, entries)
	for i, ref := range []string{"rsv_a", "rsv_b", "rsv_d", "rsv_e"} {
		if entries[i].Ref != ref {
			t.Fatalf("entry %d is %v, want %s: the round's entries follow the queue", i+1, entries[i], ref)
		}
	}
}

// TestLedgerStaleHead makes a Store decide on a head it remembers after
// another client changed the ledger: a booking that does not fit on the
// remembered state but fits now is booked (the refusal is not trusted
// without a probe), and one planned after a slot another client took is
// planned again.
func TestLedgerStaleHead(t *testing.T) {
	ctx := context.Background()
	a := mustOpen(t)
	b := peer(t, a, testURI, testEmbedded)
	const p = "prd_stale@1"
	if _, err := a.Book(ctx, p, 100, 100, BookingEntry{Ref: "rsv_full"}); err != nil {
		t.Fatal(err)
	}
	if k, ok := a.cachedHead(p); !ok || k.n != 1 || k.l.Booked != 100 {
		t.Fatalf("a remembers %+v %v", k, ok)
	}
	if _, err := b.Release(ctx, p, 100, BookingEntry{Ref: "rsv_full"}); err != nil {
		t.Fatal(err)
	}
	// On what a remembers nothing is available; in the ledger all is.
	res, err := a.Book(ctx, p, 100, 60, BookingEntry{Ref: "rsv_1"})
	if err != nil || res.Entry.N != 3 || res.Ledger != (engine.StockLedger{Stock: 100, Booked: 60}) {
		t.Fatalf("book on a stale head: %v %+v", err, res)
	}
	// b books slot 4; a, remembering 3, loses that slot and books 5.
	if _, err := b.Book(ctx, p, 100, 30, BookingEntry{Ref: "rsv_2"}); err != nil {
		t.Fatal(err)
	}
	res, err = a.Book(ctx, p, 100, 20, BookingEntry{Ref: "rsv_3"})
	if _, ok := shortageOf(err); !ok || res.Attempts != 2 {
		t.Fatalf("book after a lost slot: %v %+v, want a shortage after 2 attempts", err, res)
	}
	res, err = a.Book(ctx, p, 100, 10, BookingEntry{Ref: "rsv_4"})
	if err != nil || res.Entry.N != 5 || res.Ledger.Booked != 100 {
		t.Fatalf("book: %v %+v", err, res)
	}
	entries, err := b.LedgerEntries(ctx, p)
	if err != nil || len(entries) != 5 {
		t.Fatalf("entries %v (%v)", entries, err)
	}
	checkChain(t, entries)
}

// TestInsertGrouped inserts documents from many goroutines at once: each
// succeeds or fails on its own, a duplicate _id with the duplicate key
// error InsertOne gives.
func TestInsertGrouped(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t)
	coll := s.deals.reservations
	if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: "dup"}}); err != nil {
		t.Fatal(err)
	}
	const n = 40
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			id := fmt.Sprintf("doc_%d", i)
			if i%10 == 3 {
				id = "dup"
			}
			errs[i] = s.insertGrouped(ctx, coll, bson.D{{Key: "_id", Value: id}, {Key: "i", Value: i}})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if i%10 == 3 {
			if !mongo.IsDuplicateKeyError(err) {
				t.Fatalf("insert %d of a taken _id: %v", i, err)
			}
		} else if err != nil {
			t.Fatalf("insert %d: %v", i, err)
		}
	}
	got, err := coll.CountDocuments(ctx, bson.D{})
	if err != nil || got != n-4+1 {
		t.Fatalf("%d documents (%v), want %d", got, err, n-4+1)
	}
}

// TestLedgerRefusedReplay repeats a release and a ship whose units are
// gone: the step refuses them, and their op keys tell that they were
// applied, so they answer Replayed; a release never applied is an error.
func TestLedgerRefusedReplay(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t)
	const p = "prd_replay@1"
	for _, step := range []func() (BookingResult, error){
		func() (BookingResult, error) { return s.Book(ctx, p, 100, 10, BookingEntry{Ref: "rsv_r"}) },
		func() (BookingResult, error) { return s.Release(ctx, p, 10, BookingEntry{Ref: "rsv_r"}) },
		func() (BookingResult, error) { return s.Book(ctx, p, 100, 5, BookingEntry{Ref: "rsv_s"}) },
		func() (BookingResult, error) { return s.Ship(ctx, p, 5, BookingEntry{Ref: "rsv_s"}) },
	} {
		if res, err := step(); err != nil || res.Replayed {
			t.Fatalf("%+v %v", res, err)
		}
	}
	for name, again := range map[string]func() (BookingResult, error){
		"release": func() (BookingResult, error) { return s.Release(ctx, p, 10, BookingEntry{Ref: "rsv_r"}) },
		"ship":    func() (BookingResult, error) { return s.Ship(ctx, p, 5, BookingEntry{Ref: "rsv_s"}) },
	} {
		if res, err := again(); err != nil || !res.Replayed {
			t.Fatalf("%s again: %+v %v, want Replayed", name, res, err)
		}
	}
	if _, err := s.Release(ctx, p, 10, BookingEntry{Ref: "rsv_never"}); !engine.IsKind(err, engine.KindInternal) {
		t.Fatalf("release of units never booked: %v", err)
	}
	if l, n, err := s.StockLedger(ctx, p, 0); err != nil || n != 4 || l != (engine.StockLedger{Stock: 95}) {
		t.Fatalf("ledger %+v at %d (%v)", l, n, err)
	}
}

// TestLedgerOpensWithCallersStock: a product with no ledger yet, whose
// empty chain this process has read (remembered as empty), opens its
// ledger with the stock the booking's caller read now — the product's
// stock may have changed without a ledger since that read.
func TestLedgerOpensWithCallersStock(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t)
	const p = "prd_opening@1"
	if _, n, err := s.StockLedger(ctx, p, 100); err != nil || n != 0 {
		t.Fatalf("the empty chain: n %d, %v", n, err)
	}
	// The product's stock is now 50: the empty chain says so, and a
	// booking of 60 must not fit.
	if l, n, err := s.StockLedger(ctx, p, 50); err != nil || n != 0 || l != (engine.StockLedger{Stock: 50}) {
		t.Fatalf("the empty chain read with a stock of 50: %+v, n %d, %v", l, n, err)
	}
	_, err := s.Book(ctx, p, 50, 60, BookingEntry{Ref: "rsv_big"})
	if sh, ok := shortageOf(err); !ok || sh.Available != 50 {
		t.Fatalf("booking 60 of a stock of 50: %v", err)
	}
	res, err := s.Book(ctx, p, 50, 50, BookingEntry{Ref: "rsv_all"})
	if err != nil || res.Ledger != (engine.StockLedger{Stock: 50, Booked: 50}) {
		t.Fatalf("booking all 50: %+v %v", res, err)
	}
}
