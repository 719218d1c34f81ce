package store

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
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
// Every read is by _id. The head is found from the latest head this
// process has seen, else from a hint document per product (stock_heads,
// raised every ledgerHintEvery entries and allowed to lag), by probing the
// following entries, galloping then bisecting, so a stale start costs a few
// lookups, never a scan.
//
// Within one process, operations are group-committed: one goroutine at a
// time takes every operation waiting (of any product) and inserts their
// entries with one ordered insertMany, each entry still its own document
// under both unique indexes; a product whose head this process knows needs
// no read at all. commitLedger states why that is as sound as one insert
// per operation; docs/deals.md has the argument and the figures.
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
	head, err := s.ledgerHead(ctx, "store.StockLedger", productID, stock)
	if err != nil {
		return engine.StockLedger{}, 0, err
	}
	return head.l, head.n, nil
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

// ledgerHintEvery is how often (in entries) a product's head hint is
// raised: a process that knows no head of the product starts from the hint
// and probes at most about 2·log2(ledgerHintEvery) entries beyond it.
const ledgerHintEvery = 64

// ledgerMaxBatch bounds the entries one group commit inserts.
const ledgerMaxBatch = 256

// ledgerCacheMax bounds the heads a Store remembers (one small entry per
// product booked or read through this process).
const ledgerCacheMax = 1 << 17

// ledgerProbes is how many products' heads one group commit looks up at
// once.
const ledgerProbes = 8

// ledgerState is a Store's in-process part of the ledger: the latest head
// it has seen of each product, and the operations waiting for the next
// group commit. Neither is needed for correctness: a known head is a fact
// (entry n exists with that state; entries are never removed), so a stale
// one only costs a lost insert and a probe; the queue only decides which
// operations share one insert.
type ledgerState struct {
	mu      sync.Mutex
	heads   map[string]knownHead
	queue   []*ledgerReq
	running bool // a committer goroutine is working through the queue
	// inserts group the inserts that follow a booking (a reservation's
	// document), by collection: see insertGrouped.
	inserts map[string]*insertGroup
	// write serialises this Store's group commits: SQLite lets one writer
	// in at a time, and a writer that finds the database locked sleeps
	// (1, 2, 5, 10 … ms) before it tries again, where a mutex hands over
	// at once.
	write sync.Mutex
}

// knownHead is an entry of a product's chain known to exist, and its
// state. verify asks the next commit to probe beyond it first (an insert
// after it was lost to another client).
type knownHead struct {
	n      int64
	l      engine.StockLedger
	verify bool
}

// cachedHead returns the latest head of productID this Store has seen.
func (s *Store) cachedHead(productID string) (knownHead, bool) {
	s.ledgerState.mu.Lock()
	defer s.ledgerState.mu.Unlock()
	h, ok := s.ledgerState.heads[productID]
	return h, ok
}

// learnHead records that entry n of productID exists with state l (n = 0:
// the chain was empty; l is then unused), unless a later entry is known.
// A head found by a probe clears a pending verify.
func (s *Store) learnHead(productID string, n int64, l engine.StockLedger, verify bool) {
	st := &s.ledgerState
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.heads == nil {
		st.heads = map[string]knownHead{}
	}
	old, ok := st.heads[productID]
	switch {
	case ok && old.n > n:
		return
	case ok && old.n == n:
		st.heads[productID] = knownHead{n: n, l: l, verify: old.verify && verify}
		return
	}
	if !ok && len(st.heads) >= ledgerCacheMax {
		for k := range st.heads { // drop an arbitrary one
			delete(st.heads, k)
			break
		}
	}
	st.heads[productID] = knownHead{n: n, l: l, verify: verify}
}

// forgetLedgerHeads drops every known head (the database was dropped).
func (s *Store) forgetLedgerHeads() {
	s.ledgerState.mu.Lock()
	s.ledgerState.heads = nil
	s.ledgerState.mu.Unlock()
}

// headState is the head of a chain as found: its position (0 for the
// empty chain) and the state after it ({Stock: the opening stock} for the
// empty chain).
type headState struct {
	n int64
	l engine.StockLedger
}

// ledgerHead finds the head of a product's chain, starting from the
// latest head this Store knows, or else from entry 1 and the hint
// document. Entries
// are never removed and each is inserted only after its predecessor, so
// the chain is contiguous: entry n exists for every n up to the head. At
// the moment the probe found entry n+1 missing, n was the head.
func (s *Store) ledgerHead(ctx context.Context, op, productID string, stock int64) (headState, error) {
	head := headState{l: engine.StockLedger{Stock: stock}}
	if k, ok := s.cachedHead(productID); ok && k.n > 0 {
		head = headState{n: k.n, l: k.l}
	} else if !ok {
		// Most products of a catalogue have no ledger: entry 1 tells in
		// one read, before the hint is worth reading.
		d, ok, err := s.ledgerEntry(ctx, op, productID, 1)
		if err != nil {
			return headState{}, err
		}
		if !ok {
			s.learnHead(productID, 0, head.l, false)
			return head, nil
		}
		head = headState{n: 1, l: d.state()}
		var h ledgerHeadDoc
		err = s.ledgerHeads.FindOne(ctx, bson.D{{Key: "_id", Value: productID}}).Decode(&h)
		if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
			return headState{}, classify(op, err)
		}
		if h.N > 1 {
			d, ok, err := s.ledgerEntry(ctx, op, productID, h.N)
			if err != nil {
				return headState{}, err
			}
			if ok { // else a hint from a dropped ledger: start from entry 1
				head = headState{n: h.N, l: d.state()}
			}
		}
	}
	lo := head.n
	// Gallop: lo exists (or is 0), find some hi that does not.
	hi := int64(0)
	for step := int64(1); ; step *= 2 {
		d, ok, err := s.ledgerEntry(ctx, op, productID, lo+step)
		if err != nil {
			return headState{}, err
		}
		if !ok {
			hi = lo + step
			break
		}
		lo, head = lo+step, headState{n: lo + step, l: d.state()}
	}
	// Bisect: lo exists, hi does not.
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		d, ok, err := s.ledgerEntry(ctx, op, productID, mid)
		if err != nil {
			return headState{}, err
		}
		if ok {
			lo, head = mid, headState{n: mid, l: d.state()}
		} else {
			hi = mid
		}
	}
	s.learnHead(productID, head.n, head.l, false)
	return head, nil
}

func (d *ledgerDoc) state() engine.StockLedger {
	return engine.StockLedger{Stock: d.Stock, Booked: d.Booked}
}

// ledgerReq is one ledger operation waiting for, or in, a group commit.
type ledgerReq struct {
	ctx     context.Context
	op      string
	product string
	stock   int64 // opens an empty chain
	kind    LedgerKind
	units   int64
	opKey   string
	entry   BookingEntry
	step    func(engine.StockLedger) (engine.StockLedger, error)

	attempts int
	res      BookingResult
	err      error
	refused  bool // err is the step's: the operation does not fit
	done     chan struct{}

	// The current round's plan: the index of its entry among its
	// product's planned entries (-1: the step refused), or, refused, the
	// number of the product's entries planned before it, the state it was
	// refused on and the step's error.
	doc     int
	pos     int
	seen    engine.StockLedger
	stepErr error
}

func (r *ledgerReq) finish(res BookingResult, err error) {
	r.res, r.err = res, err
	close(r.done)
}

// appendLedger appends one entry computed by step from the head's state,
// retrying (boundedly) when another client wins the slot. Operations of
// this Store are group-committed: a committer goroutine takes every
// operation waiting and inserts their entries in one ordered insertMany
// (see commitLedger).
func (s *Store) appendLedger(ctx context.Context, op, productID string, stock int64, kind LedgerKind, units int64,
	entry BookingEntry, step func(engine.StockLedger) (engine.StockLedger, error)) (BookingResult, error) {
	if productID == "" {
		return BookingResult{}, engine.InvalidField(op, "product_id", "is required")
	}
	if err := ctx.Err(); err != nil {
		return BookingResult{}, classify(op, err)
	}
	opKey := string(kind) + ":" + productID + ":" + entry.Ref
	if entry.Ref == "" {
		opKey = string(kind) + ":" + productID + ":" + NewID("op")
	}
	if _, ok := s.cachedHead(productID); !ok {
		// Look the head up here, on the caller's goroutine, rather than
		// in the group commit, which would wait for every such lookup.
		if _, err := s.ledgerHead(ctx, op, productID, stock); err != nil {
			return BookingResult{}, err
		}
	}
	r := &ledgerReq{ctx: ctx, op: op, product: productID, stock: stock, kind: kind, units: units, opKey: opKey,
		entry: entry, step: step, done: make(chan struct{})}
	st := &s.ledgerState
	st.mu.Lock()
	st.queue = append(st.queue, r)
	if !st.running {
		st.running = true
		go s.runLedgerCommits()
	}
	st.mu.Unlock()
	select {
	case <-r.done:
		if r.refused {
			return s.refused(ctx, r)
		}
		return r.res, r.err
	case <-ctx.Done():
		// The operation may still be applied: like a lost reply, which the
		// op key makes safe to retry and the reconciliation cleans up.
		return BookingResult{}, classify(op, ctx.Err())
	}
}

// runLedgerCommits group-commits the queued operations until the queue is
// empty.
func (s *Store) runLedgerCommits() {
	st := &s.ledgerState
	for {
		st.mu.Lock()
		n := min(len(st.queue), ledgerMaxBatch)
		if n == 0 {
			st.running = false
			st.mu.Unlock()
			return
		}
		batch := slices.Clone(st.queue[:n])
		st.queue = slices.Delete(st.queue, 0, n)
		st.mu.Unlock()
		pending, lost := s.commitLedger(batch)
		if len(pending) == 0 {
			continue
		}
		if lost > 2 {
			ledgerBackoff(context.Background(), lost)
		}
		st.mu.Lock()
		st.queue = append(pending, st.queue...)
		st.mu.Unlock()
	}
}

// ledgerPlan is one product's part of a group commit.
type ledgerPlan struct {
	product string
	reqs    []*ledgerReq
	head    headState
	fresh   bool // head was found current by a probe in this round
	docs    []ledgerDoc
	first   int // index of docs[0] in the round's insert
	err     error
}

// plan computes the product's next entries from its head, in the order
// the operations arrived; an operation its step refuses gets no entry.
func (s *Store) plan(p *ledgerPlan) {
	p.docs = p.docs[:0]
	var state engine.StockLedger
	for _, r := range p.reqs {
		cur := state
		if p.head.n == 0 && len(p.docs) == 0 {
			cur = engine.StockLedger{Stock: r.stock} // each opens the empty chain with its own stock
		} else if len(p.docs) == 0 {
			cur = p.head.l
		}
		next, err := r.step(cur)
		if err != nil {
			r.doc, r.pos, r.seen, r.stepErr = -1, len(p.docs), cur, err
			continue
		}
		n := p.head.n + int64(len(p.docs)) + 1
		p.docs = append(p.docs, ledgerDoc{ID: ledgerID(p.product, n), ProductID: p.product, N: n, Op: r.opKey,
			Kind: string(r.kind), Units: r.units, Ref: r.entry.Ref, Actor: r.entry.Actor,
			Stock: next.Stock, Booked: next.Booked, At: s.stamp()})
		r.doc, r.stepErr, r.seen = len(p.docs)-1, nil, next
		state = next
	}
}

// prepare finds the product's head (from what this Store knows, probing
// only when it knows nothing, was told to verify, or would refuse every
// operation on a head not seen current) and plans its entries.
func (s *Store) prepare(ctx context.Context, p *ledgerPlan) {
	k, ok := s.cachedHead(p.product)
	if ok && !k.verify {
		p.head = headState{n: k.n, l: k.l} // plan opens an empty chain with each caller's stock
	} else {
		h, err := s.ledgerHead(ctx, p.reqs[0].op, p.product, p.reqs[0].stock)
		if err != nil {
			p.err = err
			return
		}
		p.head, p.fresh = h, true
	}
	s.plan(p)
	if len(p.docs) > 0 || p.fresh {
		return
	}
	// Only refusals, decided on a remembered head: they stand only if that
	// head is current now.
	h, err := s.ledgerHead(ctx, p.reqs[0].op, p.product, p.reqs[0].stock)
	if err != nil {
		p.err = err
		return
	}
	changed := h.n != p.head.n
	p.head, p.fresh = h, true
	if changed {
		s.plan(p)
	}
}

// commitLedger runs one round of group commit over batch and returns the
// operations to try again (another client won a slot they were planned
// for) and the most attempts any of those has made.
//
// Why it is sound: each product's planned entries follow one another from
// its head n by the engine's rules, and they go into one ordered
// insertMany with every other product's. FerretDB inserts them in one
// SQLite transaction, or, when that fails on a unique index, one by one
// in order, stopping at the first failure (MongoDB's ordered insert stops
// there too); so entry n+j is written only after entry n+j−1, as with
// single inserts. If n was not the head any more, the insert of n+1 fails
// on the unique _id and nothing after it is written. An operation's
// entry is acknowledged only when written. A refusal is decided on the
// state after the product's j-th planned entry (j ≥ 1, written: that state
// was the head when it was written) or on the head itself (j = 0) when a
// probe in this round found it current or the insert of n+1 succeeded;
// otherwise it is tried again.
func (s *Store) commitLedger(batch []*ledgerReq) (pending []*ledgerReq, lost int) {
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	var plans []*ledgerPlan
	byProduct := map[string]*ledgerPlan{}
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.finish(BookingResult{Attempts: r.attempts}, classify(r.op, err))
			continue
		}
		r.attempts++
		p := byProduct[r.product]
		if p == nil {
			p = &ledgerPlan{product: r.product}
			byProduct[r.product] = p
			plans = append(plans, p)
		}
		p.reqs = append(p.reqs, r)
	}
	// Heads and plans, a few products at a time (most need no lookup).
	sem := make(chan struct{}, ledgerProbes)
	var wg sync.WaitGroup
	for _, p := range plans {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			s.prepare(ctx, p)
		})
	}
	wg.Wait()
	var docs []any
	var owner []*ledgerPlan // owner[i] planned docs[i]
	for _, p := range plans {
		if p.err != nil {
			for _, r := range p.reqs {
				r.finish(BookingResult{Attempts: r.attempts}, p.err)
			}
			continue
		}
		p.first = len(docs)
		for i := range p.docs {
			docs = append(docs, p.docs[i])
			owner = append(owner, p)
		}
		if s.beforeAppend != nil && len(p.docs) > 0 {
			s.beforeAppend(p.product, p.head.n)
		}
	}
	written := len(docs) // entries written: docs[:written]
	var insErr error     // why docs[written] was not written
	dup := false         // … a duplicate key
	if len(docs) > 0 {
		s.ledgerState.write.Lock()
		_, err := s.ledger.InsertMany(ctx, docs, options.InsertMany().SetOrdered(true))
		s.ledgerState.write.Unlock()
		var bwe mongo.BulkWriteException
		switch {
		case err == nil:
		case errors.As(err, &bwe) && len(bwe.WriteErrors) > 0 && bwe.WriteConcernError == nil:
			written = len(docs)
			for _, we := range bwe.WriteErrors {
				written = min(written, we.Index)
			}
			insErr, dup = err, isDuplicateWrite(bwe, written)
		default:
			// Not known what was written: fail every operation that had
			// an entry planned (the op key makes a retry safe; entries
			// are facts, so what this Store knew stays true).
			for _, p := range plans {
				if p.err != nil || len(p.docs) == 0 {
					s.settlePlan(p, 0, nil, &pending)
					continue
				}
				for _, r := range p.reqs {
					r.finish(BookingResult{Attempts: r.attempts}, classify(r.op, err))
				}
			}
			return pending, 0
		}
	}
	// The failed entry: another client took the slot, or the operation
	// was applied before (its op key exists, the slot does not).
	var replayed *ledgerReq
	if written < len(docs) {
		p := owner[written]
		d := p.docs[written-p.first]
		var failed *ledgerReq
		for _, r := range p.reqs {
			if r.doc == written-p.first {
				failed = r
			}
		}
		if !dup {
			failed.finish(BookingResult{Attempts: failed.attempts}, classify(failed.op, insErr))
		} else if taken, ok, err := s.ledgerEntry(ctx, failed.op, p.product, d.N); err != nil {
			failed.finish(BookingResult{Attempts: failed.attempts}, err)
		} else if ok {
			s.learnHead(p.product, d.N, taken.state(), true)
		} else {
			replayed = failed
		}
	}
	for _, p := range plans {
		if p.err != nil {
			continue
		}
		mine := max(0, min(len(p.docs), written-p.first)) // this product's entries written
		if mine > 0 {
			last := p.docs[mine-1]
			s.learnHead(p.product, last.N, last.state(), false)
			if last.N/ledgerHintEvery > p.head.n/ledgerHintEvery {
				s.ledgerState.write.Lock()
				s.raiseLedgerHint(ctx, p.product, last.N)
				s.ledgerState.write.Unlock()
			}
			s.stockChanged(p.product)
		}
		s.settlePlan(p, mine, replayed, &pending)
	}
	if replayed != nil {
		cur, err := s.ledgerHead(ctx, replayed.op, replayed.product, replayed.stock)
		replayed.finish(BookingResult{Ledger: cur.l, Replayed: true, Attempts: replayed.attempts}, err)
	}
	for _, r := range pending {
		lost = max(lost, r.attempts)
	}
	// Give up on operations that keep losing their slot.
	kept := pending[:0]
	for _, r := range pending {
		if r.attempts >= s.ledgerAttempts {
			r.finish(BookingResult{Attempts: r.attempts}, engine.Errorf(engine.KindUnavailable, r.op,
				"the product's stock is being changed by too many clients at once; try again"))
			continue
		}
		kept = append(kept, r)
	}
	return kept, lost
}

// settlePlan answers p's operations after mine of its entries were
// written: those entries' operations are applied, refusals decided on a
// state the chain has passed through stand, and the rest go to pending
// (skipped: the replayed operation and those already answered).
func (s *Store) settlePlan(p *ledgerPlan, mine int, replayed *ledgerReq, pending *[]*ledgerReq) {
	for _, r := range p.reqs {
		select {
		case <-r.done:
			continue
		default:
		}
		switch {
		case r == replayed:
		case r.doc >= 0 && r.doc < mine:
			d := p.docs[r.doc]
			r.finish(BookingResult{Entry: d.toEntry(), Ledger: r.seen, Attempts: r.attempts}, nil)
		case r.doc < 0 && (r.pos >= 1 && r.pos <= mine || r.pos == 0 && (p.fresh || mine >= 1)):
			r.refused = true
			r.finish(BookingResult{Ledger: r.seen, Attempts: r.attempts}, r.stepErr)
		default:
			*pending = append(*pending, r)
		}
	}
}

// refused answers an operation its step refused on a state the chain
// passed through (on the caller's goroutine, not the committer's). A
// retried release or ship that another client (or an earlier try) applied
// already no longer fits (the units are gone): its op key tells, and it
// answers Replayed. That query is not by _id (on FerretDB it reads the
// collection), which is affordable on this rare path; a refused booking,
// common when a product sells out, is not checked (a retried booking that
// no longer fits is a Conflict, see docs/deals.md).
func (s *Store) refused(ctx context.Context, r *ledgerReq) (BookingResult, error) {
	if r.entry.Ref == "" || r.kind == LedgerBook {
		return r.res, r.err
	}
	n, err := s.ledger.CountDocuments(ctx, bson.D{{Key: "op", Value: r.opKey}})
	if err != nil {
		return BookingResult{}, classify(r.op, err)
	}
	if n > 0 {
		res := r.res
		res.Replayed = true
		return res, nil
	}
	return r.res, r.err
}

// isDuplicateWrite reports whether the write error at index i is a
// duplicate key.
func isDuplicateWrite(bwe mongo.BulkWriteException, i int) bool {
	for _, we := range bwe.WriteErrors {
		if we.Index == i {
			return we.Code == 11000 || we.Code == 11001 || we.Code == 12582
		}
	}
	return false
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

// insertGroup is the queue of one collection's grouped inserts.
type insertGroup struct {
	coll    *mongo.Collection
	queue   []*insertReq
	running bool
}

type insertReq struct {
	ctx  context.Context
	doc  any
	err  error
	done chan struct{}
}

// insertGrouped inserts doc into coll together with the documents other
// goroutines of this Store insert into coll at the same moment: one
// unordered insertMany (one SQLite transaction on FerretDB, where every
// commit waits for the disk) instead of one insert each. Each document
// succeeds or fails on its own, with the error InsertOne would give (a
// duplicate key is a mongo.WriteException).
func (s *Store) insertGrouped(ctx context.Context, coll *mongo.Collection, doc any) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r := &insertReq{ctx: ctx, doc: doc, done: make(chan struct{})}
	st := &s.ledgerState
	st.mu.Lock()
	if st.inserts == nil {
		st.inserts = map[string]*insertGroup{}
	}
	g := st.inserts[coll.Name()]
	if g == nil {
		g = &insertGroup{coll: coll}
		st.inserts[coll.Name()] = g
	}
	g.queue = append(g.queue, r)
	if !g.running {
		g.running = true
		go s.runGroupedInserts(g)
	}
	st.mu.Unlock()
	select {
	case <-r.done:
		return r.err
	case <-ctx.Done():
		return ctx.Err() // the document may be written, as after a lost reply
	}
}

// runGroupedInserts inserts g's queued documents, a batch at a time, until
// the queue is empty.
func (s *Store) runGroupedInserts(g *insertGroup) {
	st := &s.ledgerState
	for {
		st.mu.Lock()
		n := min(len(g.queue), ledgerMaxBatch)
		if n == 0 {
			g.running = false
			st.mu.Unlock()
			return
		}
		batch := slices.Clone(g.queue[:n])
		g.queue = slices.Delete(g.queue, 0, n)
		st.mu.Unlock()
		var docs []any
		var reqs []*insertReq
		for _, r := range batch {
			if err := r.ctx.Err(); err != nil {
				r.err = err
				close(r.done)
				continue
			}
			docs, reqs = append(docs, r.doc), append(reqs, r)
		}
		if len(docs) == 0 {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
		s.ledgerState.write.Lock()
		_, err := g.coll.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
		s.ledgerState.write.Unlock()
		cancel()
		var bwe mongo.BulkWriteException
		if err != nil && errors.As(err, &bwe) && len(bwe.WriteErrors) > 0 && bwe.WriteConcernError == nil {
			for _, we := range bwe.WriteErrors {
				if we.Index >= 0 && we.Index < len(reqs) {
					w := we.WriteError
					w.Index = 0
					reqs[we.Index].err = mongo.WriteException{WriteErrors: []mongo.WriteError{w}, Labels: bwe.Labels}
				}
			}
			err = nil
		}
		for _, r := range reqs {
			if err != nil {
				r.err = err
			}
			close(r.done)
		}
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
