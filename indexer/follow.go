package indexer

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync/atomic"
	"time"

	"github.com/livematch/livematch/store"
)

// gatherDelay is how long Run waits after a write is published before it
// applies what has gathered.
const gatherDelay = 25 * time.Millisecond

// Follower keeps an Index in step with the store's change feed: CatchUp
// replays what the index missed (after a restart or crash), Run applies new
// writes as they are published.
type Follower struct {
	idx     *Index
	st      *store.Store
	log     *slog.Logger
	caught  atomic.Bool
	batch   int
	applied atomic.Int64 // changes applied since start, for metrics
}

// NewFollower returns a follower of st's product feed into idx. The store
// must be initialised (store.Init) first.
func NewFollower(idx *Index, st *store.Store, log *slog.Logger) *Follower {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Follower{idx: idx, st: st, log: log, batch: 1000}
}

// CatchUp applies every product change with seq above the index's checkpoint
// from a database sweep, then moves the checkpoint to the feed's watermark as
// it was before the sweep began (everything at or below it was in the
// database then, so the sweep saw it or a newer version that the feed
// carries). progress, if set, is called with the number of changes applied.
func (f *Follower) CatchUp(ctx context.Context, progress func(n int)) error {
	const op = "indexer.CatchUp"
	mark := f.st.Feed().Watermark()
	cp := f.idx.Checkpoint()
	if cp >= mark {
		// Nothing was written since the checkpoint: skip the sweep (on
		// FerretDB a seq filter reads the whole collection).
		f.log.Info("index up to date", "checkpoint", cp)
		f.caught.Store(true)
		return nil
	}
	var buf []Change
	n := 0
	flush := func() error {
		if len(buf) == 0 {
			return nil
		}
		if err := f.idx.Apply(ctx, buf, cp); err != nil {
			return err
		}
		n += len(buf)
		buf = buf[:0]
		if progress != nil {
			progress(n)
		}
		return nil
	}
	err := f.st.ScanProducts(ctx, cp, func(c store.ProductChange) error {
		buf = append(buf, Change{Seq: c.Seq, ID: c.ID, Deleted: c.Deleted, Product: c.Product})
		if len(buf) >= f.batch {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if mark > cp {
		if err := f.idx.Apply(ctx, nil, mark); err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
	}
	f.log.Info("index caught up", "replayed", n, "checkpoint", f.idx.Checkpoint())
	f.caught.Store(true)
	return nil
}

// Run applies published changes until ctx ends, then applies what is left.
// Each drain becomes one index batch whose checkpoint is the feed's
// watermark at the moment of draining.
func (f *Follower) Run(ctx context.Context) error {
	feed := f.st.Feed()
	feed.Bound(feedBound)
	defer feed.Bound(0)
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return f.drain(context.WithoutCancel(ctx))
		case <-feed.C():
			// Let a burst of writes gather into one index batch: many tiny
			// Bleve segments cost more in merging than this delay, which
			// stays far inside the one-second visibility promise.
			select {
			case <-ctx.Done():
			case <-time.After(gatherDelay):
			}
		case <-tick.C:
		}
		if err := f.drain(ctx); err != nil {
			if ctx.Err() != nil { // shutting down: the final drain below applies it
				return f.drain(context.WithoutCancel(ctx))
			}
			f.log.Error("applying changes to the index failed; will retry", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}
}

// maxApply bounds one index batch: a large backlog is applied in several
// (Bleve's batch memory grows with its size).
const maxApply = 2000

// feedBound is the backlog of published changes at which writers wait
// (store.Feed.Bound) while the follower runs.
const feedBound = 20000

// drain applies everything published, in batches of at most maxApply in
// seq order. A batch's checkpoint is the feed's watermark, but below the
// first seq of the batches still to come.
func (f *Follower) drain(ctx context.Context) error {
	changes, mark := f.st.Feed().Drain()
	if len(changes) == 0 && mark <= f.idx.Checkpoint() {
		return nil
	}
	slices.SortFunc(changes, func(a, b store.ProductChange) int { return cmp.Compare(a.Seq, b.Seq) })
	for start := 0; start < len(changes) || start == 0; start += maxApply {
		end := min(start+maxApply, len(changes))
		cp := mark
		if end < len(changes) {
			cp = min(mark, changes[end].Seq-1)
		}
		batch := make([]Change, 0, end-start)
		for _, c := range changes[start:end] {
			batch = append(batch, Change{Seq: c.Seq, ID: c.ID, Deleted: c.Deleted, Product: c.Product})
		}
		if err := f.idx.Apply(ctx, batch, cp); err != nil {
			// Nothing is lost: the changes are in the database above the
			// stored checkpoint, and a restart replays them. Re-queue what
			// is left for this process.
			f.st.Feed().Requeue(changes[start:])
			return err
		}
		f.applied.Add(int64(len(batch)))
		if end == len(changes) {
			break
		}
	}
	return nil
}

// CaughtUp reports whether the start-up catch-up has finished.
func (f *Follower) CaughtUp() bool { return f.caught.Load() }

// FollowStatus describes the index's position along the change feed.
type FollowStatus struct {
	Documents  uint64
	AppliedSeq int64
	HeadSeq    int64
	Lag        int64
	CaughtUp   bool
}

// Status reads the head of the feed from the database and compares it with
// the index's checkpoint.
func (f *Follower) Status(ctx context.Context) (FollowStatus, error) {
	head, err := f.st.ProductSeq(ctx)
	if err != nil {
		return FollowStatus{}, err
	}
	docs, err := f.idx.DocCount()
	if err != nil {
		return FollowStatus{}, err
	}
	cp := f.idx.Checkpoint()
	return FollowStatus{Documents: docs, AppliedSeq: cp, HeadSeq: head, Lag: max(head-cp, 0), CaughtUp: f.caught.Load()}, nil
}
