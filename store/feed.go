package store

import (
	"context"
	"sync"

	"github.com/livematch/livematch/engine"
)

// ProductChange is one write to the products collection as the change feed
// carries it: the new state of the product, or a tombstone.
type ProductChange struct {
	Seq     int64
	ID      string
	Deleted bool
	Product *engine.Product // nil when Deleted; never modified after publishing
}

// Feed is the in-process side of the change feed of one collection. Writers
// reserve a seq before they write and report the outcome after; followers
// drain the published changes together with a watermark that is safe to use
// as a checkpoint. All methods are safe for concurrent use.
type Feed struct {
	mu      sync.Mutex
	pending map[int64]struct{} // reserved, outcome not yet known
	highest int64              // highest seq whose outcome is known
	// reserving holds, per reservation in flight (counter not yet answered),
	// the highest seq allocated before it began: its own seq will be above.
	reserving map[uint64]int64
	nextTok   uint64
	allocated int64 // highest seq ever allocated to a reservation
	queue     []ProductChange
	notify    chan struct{} // capacity 1: "the queue is not empty"
	lastSafe  int64
	// limit bounds the queue for writers (0: unbounded); room is closed
	// and replaced whenever a drain makes room.
	limit int
	room  chan struct{}
}

// NewFeed returns an empty feed whose watermark starts at start (the highest
// seq already in the database).
func NewFeed(start int64) *Feed {
	return &Feed{pending: map[int64]struct{}{}, reserving: map[uint64]int64{}, highest: start,
		allocated: start, lastSafe: start, notify: make(chan struct{}, 1), room: make(chan struct{})}
}

// Bound makes writers wait while n or more published changes wait to be
// drained (0: no bound). A follower that drains the feed sets it, so that a
// write burst faster than indexing slows the writers down instead of
// filling memory; without a follower (import, seed) the feed stays
// unbounded.
func (f *Feed) Bound(n int) {
	f.mu.Lock()
	f.limit = max(n, 0)
	f.mu.Unlock()
}

// waitRoom waits until the queue is below its bound or ctx ends.
func (f *Feed) waitRoom(ctx context.Context) error {
	for {
		f.mu.Lock()
		if f.limit == 0 || len(f.queue) < f.limit {
			f.mu.Unlock()
			return nil
		}
		room := f.room
		f.mu.Unlock()
		select {
		case <-room:
		case <-ctx.Done():
			return engine.Wrap(engine.KindUnavailable, "store.Feed", "the index is behind the writes; try again shortly", ctx.Err())
		}
	}
}

// madeRoomLocked wakes the writers waiting for room; f.mu is held.
func (f *Feed) madeRoomLocked() {
	close(f.room)
	f.room = make(chan struct{})
}

// beginReserve is called before asking the counter for seqs; the watermark
// cannot pass the seqs allocated so far until endReserve.
func (f *Feed) beginReserve() uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextTok++
	f.reserving[f.nextTok] = f.allocated
	return f.nextTok
}

// endReserve registers seqs [first, last] as in flight; first > last means
// the reservation failed and nothing was allocated.
func (f *Feed) endReserve(tok uint64, first, last int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.reserving, tok)
	for s := first; s <= last; s++ {
		f.pending[s] = struct{}{}
	}
	if last > f.allocated {
		f.allocated = last
	}
}

// finish records the outcome of a reserved seq: a published change, or
// nothing when the write failed (c == nil).
func (f *Feed) finish(seq int64, c *ProductChange) {
	f.mu.Lock()
	delete(f.pending, seq)
	if seq > f.highest {
		f.highest = seq
	}
	if c != nil {
		f.queue = append(f.queue, *c)
	}
	f.mu.Unlock()
	if c != nil {
		select {
		case f.notify <- struct{}{}:
		default:
		}
	}
}

// safeLocked returns the watermark: every seq at or below it has been
// published or has failed.
func (f *Feed) safeLocked() int64 {
	safe := f.highest
	for s := range f.pending {
		if s-1 < safe {
			safe = s - 1
		}
	}
	for _, before := range f.reserving {
		if before < safe {
			safe = before
		}
	}
	if safe < f.lastSafe { // never move backwards
		safe = f.lastSafe
	}
	f.lastSafe = safe
	return safe
}

// C returns a channel that receives a value whenever changes are waiting.
func (f *Feed) C() <-chan struct{} { return f.notify }

// Drain takes every published change and returns them with the watermark
// taken at the same instant: all changes at or below it are in this batch or
// in an earlier one.
func (f *Feed) Drain() ([]ProductChange, int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	q := f.queue
	f.queue = nil
	if len(q) > 0 {
		f.madeRoomLocked()
	}
	return q, f.safeLocked()
}

// Watermark returns the current watermark without draining.
func (f *Feed) Watermark() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.safeLocked()
}

// Pending returns how many published changes wait to be drained.
func (f *Feed) Pending() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.queue)
}

// Requeue puts changes back at the front of the queue (after a follower
// failed to apply them), keeping their order.
func (f *Feed) Requeue(changes []ProductChange) {
	if len(changes) == 0 {
		return
	}
	f.mu.Lock()
	f.queue = append(append([]ProductChange(nil), changes...), f.queue...)
	f.mu.Unlock()
	select {
	case f.notify <- struct{}{}:
	default:
	}
}
