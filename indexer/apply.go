package indexer

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/document"
	"github.com/livematch/livematch/engine"
)

// Change is one write from the change feed.
type Change struct {
	Seq     int64
	ID      string
	Deleted bool
	Product *engine.Product // nil when Deleted
}

// Apply indexes a batch of changes in one Bleve batch that also stores
// checkpoint, the highest sequence number the caller knows to be fully
// applied, so that index content and checkpoint move together. The stored
// checkpoint never goes backwards. The catalogue is updated after the batch.
//
// Replays are harmless: a change is ignored when its Seq is not above the
// sequence number already applied for its id (remembered for live products
// and, above the checkpoint, for deletes), or not above the stored
// checkpoint. Within one call the highest Seq per id wins.
//
// Apply returns an error of KindInvalid if a change has no ID or an update
// has no Product (nothing is applied then), and of KindUnavailable if the
// index is closed.
func (x *Index) Apply(ctx context.Context, changes []Change, checkpoint int64) error {
	const op = "indexer.Apply"
	for i, c := range changes {
		switch {
		case c.ID == "":
			return engine.Errorf(engine.KindInvalid, op, "change %d (seq %d) has no id", i, c.Seq)
		case !c.Deleted && c.Product == nil:
			return engine.Errorf(engine.KindInvalid, op, "change %d (seq %d, id %q) has no product", i, c.Seq, c.ID)
		}
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	x.applyMu.Lock()
	defer x.applyMu.Unlock()
	if x.closed.Load() {
		return errClosed(op)
	}

	cp := x.checkpoint.Load()
	winners := make(map[string]Change, len(changes))
	x.mu.RLock()
	for _, c := range changes {
		if cp > 0 && c.Seq <= cp {
			continue
		}
		if d, ok := x.cat.byID[c.ID]; ok && c.Seq <= x.cat.seqs[d] {
			continue
		}
		if s, ok := x.tombstones[c.ID]; ok && c.Seq <= s {
			continue
		}
		if w, ok := winners[c.ID]; ok && c.Seq <= w.Seq {
			continue
		}
		winners[c.ID] = c
	}
	x.mu.RUnlock()

	newCP := max(cp, checkpoint)
	b := x.idx.NewBatch()
	// catalogue updates, analysed here, outside the catalogue's lock
	updates := make(map[string]*update, len(winners))
	tomb := x.tombstones
	tombChanged := false
	editTomb := func() {
		if !tombChanged {
			tomb = make(map[string]int64, len(x.tombstones)+len(winners))
			for id, s := range x.tombstones {
				tomb[id] = s
			}
			tombChanged = true
		}
	}
	var puts []*update
	for id, c := range winners {
		if c.Deleted {
			b.Delete(id)
			editTomb()
			tomb[id] = c.Seq
			updates[id] = &update{seq: c.Seq}
			continue
		}
		if _, ok := tomb[id]; ok {
			editTomb()
			delete(tomb, id)
		}
		p := cloneProduct(c.Product)
		p.ID = id
		u := &update{p: p, seq: c.Seq}
		updates[id] = u
		puts = append(puts, u)
	}
	// Encoding, mapping and analysing are spread over the cores.
	if err := x.prepare(puts); err != nil {
		return engine.Wrap(engine.KindInternal, op, "cannot encode a product", err)
	}
	for _, u := range puts {
		if err := b.IndexAdvanced(u.doc); err != nil {
			return engine.Wrap(engine.KindInternal, op, "cannot index a product", err)
		}
	}
	var prune []string
	for id, s := range tomb {
		if s <= newCP {
			prune = append(prune, id)
		}
	}
	if len(prune) > 0 {
		editTomb()
		for _, id := range prune {
			delete(tomb, id)
		}
	}
	if tombChanged {
		v, err := json.Marshal(tomb)
		if err != nil {
			return engine.Wrap(engine.KindInternal, op, "cannot encode tombstones", err)
		}
		b.SetInternal([]byte(keyTombstones), v)
	}
	if len(winners) == 0 && !tombChanged && newCP == cp {
		return nil // nothing to write
	}
	var cpv [8]byte
	binary.BigEndian.PutUint64(cpv[:], uint64(newCP))
	b.SetInternal([]byte(keyCheckpoint), cpv[:])

	if err := x.idx.Batch(b); err != nil {
		return x.bleveErr(op, "cannot write the batch", err)
	}

	x.mu.Lock()
	for id, u := range updates {
		if u.p == nil {
			x.cat.remove(id)
		} else {
			x.cat.put(x.vocab, u.p, u.seq, u.text)
		}
	}
	if x.cat.needsCompaction() {
		x.cat.compact()
	}
	x.mu.Unlock()
	x.tombstones = tomb
	x.tombCount.Store(int64(len(tomb)))
	x.checkpoint.Store(newCP)
	x.lastApply.Store(time.Now().UnixNano())
	if skipped := len(changes) - len(winners); skipped > 0 {
		x.log.Debug("stale changes ignored", "skipped", skipped, "applied", len(winners), "checkpoint", newCP)
	}
	return nil
}

// update is one product's change as Apply prepares it: the document Bleve
// indexes and the text the catalogue holds, or a delete.
type update struct {
	p    *engine.Product // nil: delete
	seq  int64
	doc  *document.Document
	text docText
}

// prepare encodes, maps and analyses us on every core. Each text is
// analysed once: Bleve's text fields replay the token streams the
// catalogue's postings are built from (Bleve would otherwise analyse every
// text again in Batch, a fifth of the CPU of a bulk load).
func (x *Index) prepare(us []*update) error {
	m := x.idx.Mapping()
	return spread(len(us), 64, func(i int) error {
		u := us[i]
		d, err := newIndexDoc(u.p, u.seq, x.gloss.Simplify)
		if err != nil {
			return err
		}
		doc := document.NewDocument(u.p.ID)
		if err := m.MapDocument(doc, d); err != nil {
			return err
		}
		streams := map[string]analysis.TokenStream{}
		for j, f := range doc.Fields {
			tf, ok := f.(*document.TextField)
			if !ok || !tf.Options().IsIndexed() || tf.Analyzer() != x.vocab.analyzer {
				continue
			}
			text := string(tf.Value())
			ts, ok := streams[text]
			if !ok {
				ts = x.vocab.analyzer.Analyze([]byte(text)) // a copy: filters change terms in place
				streams[text] = ts
			}
			doc.Fields[j] = document.NewTextFieldCustom(tf.Name(), tf.ArrayPositions(), tf.Value(), tf.Options(), replay(ts))
		}
		u.doc = doc
		u.text = x.vocab.analyseWith(u.p, func(text string) analysis.TokenStream {
			if ts, ok := streams[text]; ok {
				return ts
			}
			return x.vocab.analyzer.Analyze([]byte(text)) // not a field: an empty text
		})
		return nil
	})
}

// replay is an analysis.Analyzer that returns a token stream analysed
// before, whatever it is given.
type replay analysis.TokenStream

// Analyze returns the stream.
func (r replay) Analyze([]byte) analysis.TokenStream { return analysis.TokenStream(r) }

// spread calls fn for 0..n-1 from one goroutine per core (fewer when n
// gives each less than per), and returns the first error of each
// goroutine, which stops at its error.
func spread(n, per int, fn func(i int) error) error {
	workers := min(runtime.GOMAXPROCS(0), max(n/per, 1))
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				if err := fn(i); err != nil {
					errs[w] = err
					return
				}
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}
