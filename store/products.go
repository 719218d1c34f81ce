package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/livematch/livematch/engine"
)

// maxAttempts bounds optimistic-concurrency retries.
const maxAttempts = 20

// backoff waits a little, more with each attempt, with jitter, before an
// optimistic-concurrency retry.
func backoff(ctx context.Context, attempt int) {
	if attempt == 0 {
		return
	}
	d := time.Duration(attempt)*time.Millisecond + time.Duration(rand.Int64N(int64(2*time.Millisecond)))
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// getProductDoc reads a product document including tombstones.
func (s *Store) getProductDoc(ctx context.Context, id string) (*productDoc, error) {
	var d productDoc
	if err := s.products.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d); err != nil {
		return nil, classify("store.GetProduct", err)
	}
	return &d, nil
}

// GetProduct returns a live product by id, or KindNotFound (also for deleted ones).
func (s *Store) GetProduct(ctx context.Context, id string) (*engine.Product, error) {
	d, err := s.getProductDoc(ctx, id)
	if err != nil {
		return nil, err
	}
	if d.Deleted {
		return nil, engine.Errorf(engine.KindNotFound, "store.GetProduct", "not found")
	}
	return d.toEngine(), nil
}

// write stores d (already stamped with version and seq) replacing the
// document whose version is prev (0: none exists yet), and publishes the
// change. It reports whether the precondition held.
func (s *Store) writeProduct(ctx context.Context, d productDoc, prev int64) (bool, error) {
	const op = "store.writeProduct"
	var err error
	var matched bool
	if prev == 0 {
		_, err = s.products.InsertOne(ctx, d)
		if mongo.IsDuplicateKeyError(err) {
			s.feed.finish(d.Seq, nil)
			return false, nil
		}
		matched = err == nil
	} else {
		var res *mongo.UpdateResult
		res, err = s.products.ReplaceOne(ctx, s.casFilter(d.ID, prev), d)
		matched = err == nil && res.MatchedCount == 1
	}
	if err != nil {
		// An error may still have written (a timeout after the server
		// applied it). Look before finishing the seq, so that a stored
		// write still reaches the index.
		s.finishUncertain(ctx, d)
		return false, classify(op, err)
	}
	if !matched {
		s.feed.finish(d.Seq, nil)
		return false, nil
	}
	s.feed.finish(d.Seq, &ProductChange{Seq: d.Seq, ID: d.ID, Deleted: d.Deleted, Product: changeProduct(&d)})
	return true, nil
}

// finishUncertain finishes the seq of a write whose outcome is unknown: it
// re-reads the document (with a fresh deadline) and publishes the change if
// the write was stored after all. If the document cannot be read either
// (the database is unreachable), resolveLater keeps asking in the
// background and the seq stays unfinished meanwhile, so the index's
// checkpoint never passes a write that may be stored.
func (s *Store) finishUncertain(ctx context.Context, d productDoc) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.timeout)
	defer cancel()
	if !s.resolve(rctx, d.Seq, d.ID) {
		s.resolveLater(d.Seq, d.ID)
	}
}

// resolve reads product id and finishes seq: with the stored change if the
// document carries seq, without one otherwise. It reports false, finishing
// nothing, when the document cannot be read.
func (s *Store) resolve(ctx context.Context, seq int64, id string) bool {
	got, err := s.getProductDoc(ctx, id)
	switch {
	case err == nil && got.Seq == seq:
		s.feed.finish(seq, &ProductChange{Seq: got.Seq, ID: got.ID, Deleted: got.Deleted, Product: changeProduct(got)})
	case err == nil || engine.IsKind(err, engine.KindNotFound):
		s.feed.finish(seq, nil)
	default:
		return false
	}
	return true
}

// resolveLater resolves seq in the background, retrying with backoff until
// the database answers. Close stops it with the seq unfinished: the next
// start's catch-up sweep (seq > checkpoint) then finds the write if it was
// stored.
func (s *Store) resolveLater(seq int64, id string) {
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		for attempt := 0; ; attempt++ {
			select {
			case <-s.closing:
				return
			case <-time.After(min(250*time.Millisecond<<min(attempt, 5), 5*time.Second)):
			}
			ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
			done := s.resolve(ctx, seq, id)
			cancel()
			if done {
				return
			}
		}
	}()
}

func changeProduct(d *productDoc) *engine.Product {
	if d.Deleted {
		return nil
	}
	return d.toEngine()
}

// UpsertProduct creates the product (ID derived from OrgID and SKU) or
// replaces the live one with the same sku. ifVersion > 0 demands the stored
// version. On success p carries the stored ID, Version, Seq and times, and
// created says whether it is new. keep is called with the stored product
// (when one exists) before p is written, to carry over server-owned fields.
func (s *Store) UpsertProduct(ctx context.Context, p *engine.Product, ifVersion int64, keep func(old, p *engine.Product)) (created bool, err error) {
	const op = "store.UpsertProduct"
	p.ID = ProductID(p.OrgID, p.SKU)
	defer s.locks.lock(p.ID)()
	for attempt := 0; attempt < maxAttempts; attempt++ {
		backoff(ctx, attempt)
		old, err := s.getProductDoc(ctx, p.ID)
		if err != nil && !engine.IsKind(err, engine.KindNotFound) {
			return false, err
		}
		var prev int64
		live := old != nil && !old.Deleted
		if old != nil {
			prev = old.Version
		}
		if live {
			if err := s.freshDoc(ctx, old); err != nil {
				return false, err
			}
		}
		if ifVersion > 0 && (!live || prev != ifVersion) {
			return false, engine.Errorf(engine.KindPrecondition, op, "version %d is not current", ifVersion)
		}
		now := s.stamp()
		p.CreatedAt, p.UpdatedAt, p.Version = now, now, prev+1
		p.Booked = 0
		ledger := false
		if live {
			p.CreatedAt = old.CreatedAt.UTC()
			if keep != nil {
				keep(old.toEngine(), p)
			}
			if ledger, err = s.stockThroughLedger(ctx, old, p); err != nil {
				return false, err
			}
		}
		first, err := s.reserveProducts(ctx, 1)
		if err != nil {
			return false, err
		}
		p.Seq = first
		nd := toProductDoc(p)
		nd.Ledger = ledger
		ok, err := s.writeProduct(ctx, nd, prev)
		if err != nil {
			return false, err
		}
		if ok {
			return !live, nil
		}
		if ifVersion > 0 {
			return false, engine.Errorf(engine.KindPrecondition, op, "version %d is not current", ifVersion)
		}
	}
	return false, engine.Errorf(engine.KindConflict, op, "the product is being changed concurrently; try again")
}

// UpdateProduct reads the live product, applies fn and writes it back if
// nobody changed it in between (ifVersion > 0 demands that version). It
// returns the product before and after the change.
func (s *Store) UpdateProduct(ctx context.Context, id string, ifVersion int64, fn func(*engine.Product) error) (before, after *engine.Product, err error) {
	return s.mutateProduct(ctx, id, ifVersion, false, fn)
}

// DeleteProduct replaces the product with a tombstone (so the change feed
// carries the deletion). ifVersion > 0 demands that version.
func (s *Store) DeleteProduct(ctx context.Context, id string, ifVersion int64, check func(*engine.Product) error) error {
	_, _, err := s.mutateProduct(ctx, id, ifVersion, true, check)
	return err
}

func (s *Store) mutateProduct(ctx context.Context, id string, ifVersion int64, del bool, fn func(*engine.Product) error) (before, after *engine.Product, err error) {
	const op = "store.UpdateProduct"
	defer s.locks.lock(id)()
	for attempt := 0; attempt < maxAttempts; attempt++ {
		backoff(ctx, attempt)
		d, err := s.getProductDoc(ctx, id)
		if err != nil {
			return nil, nil, err
		}
		if d.Deleted {
			return nil, nil, engine.Errorf(engine.KindNotFound, op, "not found")
		}
		if err := s.freshDoc(ctx, d); err != nil {
			return nil, nil, err
		}
		if ifVersion > 0 && d.Version != ifVersion {
			return nil, nil, engine.Errorf(engine.KindPrecondition, op, "version %d is not current (current is %d)", ifVersion, d.Version)
		}
		before = d.toEngine()
		cur := d.toEngine()
		if fn != nil {
			if err := fn(cur); err != nil {
				return nil, nil, err
			}
		}
		cur.ID, cur.OrgID, cur.CreatedAt = before.ID, before.OrgID, before.CreatedAt
		cur.Version, cur.UpdatedAt = before.Version+1, s.stamp()
		ledger := d.Ledger
		if del {
			l, n, err := s.StockLedger(ctx, LedgerKey(before), d.Stock)
			if err != nil {
				return nil, nil, err
			}
			if n > 0 && l.Booked > 0 {
				return nil, nil, &engine.Error{Kind: engine.KindConflict, Op: op, Msg: "the product has reservations",
					Fields: []engine.FieldError{{Field: "booked", Message: fmt.Sprintf("%d units are held or confirmed; cancel those reservations first", l.Booked)}}}
			}
		} else {
			if ledger, err = s.stockThroughLedger(ctx, d, cur); err != nil {
				return nil, nil, err
			}
		}
		first, err := s.reserveProducts(ctx, 1)
		if err != nil {
			return nil, nil, err
		}
		cur.Seq = first
		nd := toProductDoc(cur)
		nd.Deleted, nd.Ledger = del, ledger
		ok, err := s.writeProduct(ctx, nd, before.Version)
		if err != nil {
			return nil, nil, err
		}
		if ok {
			return before, cur, nil
		}
		if ifVersion > 0 {
			return nil, nil, engine.Errorf(engine.KindPrecondition, op, "version %d is not current", ifVersion)
		}
	}
	return nil, nil, engine.Errorf(engine.KindConflict, op, "the product is being changed concurrently; try again")
}

// BulkResult is the outcome of one product of a bulk upsert.
type BulkResult struct {
	Created bool
	Err     error
}

// Tuning of BulkUpsertProducts.
const (
	// bulkProbe is how many products a call inserts before it decides how
	// to treat the rest (see BulkUpsertProducts). It is FerretDB's insert
	// batch: FerretDB inserts up to 100 documents in one transaction and,
	// when one of them exists already, retries those 100 one transaction
	// each.
	bulkProbe = 100
	// bulkReaders bounds the concurrent finds by _id of one call.
	bulkReaders = 8
	// replaceBatch bounds the replaces sent in one update command.
	// FerretDB 1.24 keeps one pooled SQLite connection per statement of an
	// update command until the command ends, and the pool of a database
	// has 100: a command of 100 statements or more waits forever for a
	// connection (measured: 99 replaces take 85 ms, 100 never answer).
	replaceBatch = 32
	// findBatch bounds the ids of one $in query (real MongoDB only).
	findBatch = 1000
	// stagedBatch bounds the products of one replaceStaged transaction
	// (and the parameters of its statements: SQLite allows 32766).
	stagedBatch = 1000
	// stagingColl holds the new versions of replaced products for a moment
	// on the embedded FerretDB (see replaceStaged).
	stagingColl = "products_staging"
)

// replaceSlots bounds the update commands of replaceBatch statements that
// bulk upserts of this process have in flight (2 × 32 = 64 statements),
// so that concurrent bulk upserts together stay below FerretDB's 100
// connections too (see replaceBatch). A real MongoDB does not need it; it
// costs it little.
var replaceSlots = make(chan struct{}, 2)

// bulkItem is one product of a bulk upsert, written at most once.
type bulkItem struct {
	i     int // index in the caller's slice
	p     *engine.Product
	seq   int64       // reserved for this item alone
	old   *productDoc // the stored document, when one was found
	doc   productDoc  // what was (or is being) written
	tried bool        // an insert of it failed with a duplicate key
	done  bool        // seq finished
}

// bulkRun is the state of one BulkUpsertProducts call.
type bulkRun struct {
	s     *Store
	op    string
	out   []BulkResult
	items []*bulkItem
	keep  func(old, p *engine.Product)
	now   time.Time
}

// BulkUpsertProducts upserts many products (each with OrgID and SKU set),
// each as UpsertProduct without ifVersion would but without its retries,
// and reports each product's outcome separately. An item fails alone
// (BulkResult.Err) when the database rejects it or when a concurrent
// writer changed it in between (KindConflict); an error of the database as
// a whole fails the call (what was written by then is stored and
// published). A product that appears more than once in ps is written once,
// from its first occurrence; the later occurrences fail with KindConflict
// and write nothing. keep is as for UpsertProduct: it is called before the
// write for every product that exists live.
//
// Strategy. The call holds the stripe locks of all its ids throughout and
// reserves one seq per distinct product up front. It inserts the first
// bulkProbe products as new (version 1) without reading anything. If none
// of them existed it inserts the rest the same way, so a fresh catalogue
// costs one insert command and no reads. Otherwise the chunk is probably a
// re-upload, whose inserts would mostly fail (each failure costing FerretDB
// a transaction of its own): the rest is read first, and only the products
// found missing are inserted. The products that exist are read (one find
// by _id each on FerretDB, one $in query elsewhere: see findProducts) and
// replaced by version+1 with created_at kept (a tombstone's replacement
// is a new product: created_at now, Created true). On the embedded
// FerretDB the replacements are written in one SQLite transaction
// (replaceStaged); elsewhere, and for what that leaves, by update commands
// of compare-and-swap replaces (casFilter, replace) whose matched count is
// checked, reading back only when it falls short.
//
// Guarantees. A write is published to the feed and reported only once
// the database acknowledged it. A write whose outcome is unknown (a lost
// reply, a write-concern error, an unconfirmed commit) is settled by
// reading the document back with a fresh deadline, as finishUncertain
// does. Every reserved seq is finished exactly once: by publish or fail as
// soon as its item's outcome is known, or, for items never sent because
// the call ended early, by the deferred safety net.
//
// Seqs. A product keeps its reserved seq when its insert fails with a
// duplicate key and a replace writes it later in the call. The feed stays
// correct: the seq is pending from the reservation until its finish, so
// the watermark stays below it through both attempts; the failed insert
// stored nothing under it, and the replace is the only write that can.
// Seqs are reserved while the product's stripe is locked, so a product's
// successive writes still carry increasing seqs (the indexer ignores a
// change whose seq is not above the one it has for the product).
func (s *Store) BulkUpsertProducts(ctx context.Context, ps []*engine.Product, keep func(old, p *engine.Product)) ([]BulkResult, error) {
	const op = "store.BulkUpsertProducts"
	out := make([]BulkResult, len(ps))
	if len(ps) == 0 {
		return out, nil
	}
	ids := make([]string, len(ps))
	for i, p := range ps {
		p.ID = ProductID(p.OrgID, p.SKU)
		ids[i] = p.ID
	}
	defer s.locks.lockAll(ids)()
	b := &bulkRun{s: s, op: op, out: out, keep: keep, items: make([]*bulkItem, 0, len(ps))}
	seen := make(map[string]struct{}, len(ps))
	for i, p := range ps {
		if _, dup := seen[p.ID]; dup {
			out[i].Err = engine.Errorf(engine.KindConflict, op, "sku %q appears more than once in this batch; send the later one in another batch", p.SKU)
			continue
		}
		seen[p.ID] = struct{}{}
		b.items = append(b.items, &bulkItem{i: i, p: p})
	}
	first, err := s.reserveProducts(ctx, int64(len(b.items)))
	if err != nil {
		return nil, err
	}
	for k, it := range b.items {
		it.seq = first + int64(k)
	}
	// Safety net: whatever ends the call, every reserved seq is finished.
	// Items still unfinished here were never sent (every sent write is
	// settled where it is sent).
	defer func() {
		for _, it := range b.items {
			if !it.done {
				it.done = true
				s.feed.finish(it.seq, nil)
			}
		}
	}()
	b.now = s.stamp()
	if err := b.run(ctx); err != nil {
		return nil, err
	}
	return out, nil
}

// run writes every item (see BulkUpsertProducts).
func (b *bulkRun) run(ctx context.Context) error {
	probe, rest := b.items[:min(bulkProbe, len(b.items))], b.items[min(bulkProbe, len(b.items)):]
	toRead, err := b.insert(ctx, probe)
	if err != nil {
		return err
	}
	readFirst := len(toRead) > 0
	if readFirst {
		toRead = append(toRead, rest...)
	} else {
		if toRead, err = b.insert(ctx, rest); err != nil {
			return err
		}
	}
	if err := b.read(ctx, toRead); err != nil {
		return err
	}
	var replace, missing []*bulkItem
	for _, it := range toRead {
		switch {
		case it.old != nil:
			replace = append(replace, it)
		case it.tried: // it existed a moment ago: another process is at it
			b.fail(it, errChangedConcurrently(b.op))
		default: // read first, and found missing
			missing = append(missing, it)
		}
	}
	created, err := b.insert(ctx, missing)
	if err != nil {
		return err
	}
	for _, it := range created { // by another process since the read
		b.fail(it, errChangedConcurrently(b.op))
	}
	kept := replace[:0]
	for _, it := range replace {
		if b.prepareReplace(ctx, it) {
			kept = append(kept, it)
		}
	}
	replace = kept
	if b.s.embedded != nil {
		var slow []*bulkItem
		for start := 0; start < len(replace); start += stagedBatch {
			left, err := b.replaceStaged(ctx, replace[start:min(start+stagedBatch, len(replace))])
			if err != nil {
				return err
			}
			slow = append(slow, left...)
		}
		replace = slow
	}
	return b.replace(ctx, replace)
}

func errChangedConcurrently(op string) error {
	return engine.Errorf(engine.KindConflict, op, "the product was changed concurrently; try again")
}

// publish finishes the item's seq with the change it stored.
func (b *bulkRun) publish(it *bulkItem) {
	it.done = true
	b.s.feed.finish(it.seq, &ProductChange{Seq: it.seq, ID: it.doc.ID, Deleted: it.doc.Deleted, Product: changeProduct(&it.doc)})
}

// fail reports err for the item and finishes its seq without a change.
func (b *bulkRun) fail(it *bulkItem, err error) {
	b.out[it.i].Err = err
	it.done = true
	b.s.feed.finish(it.seq, nil)
}

// insert stores items as new products (version 1). It publishes the ones
// stored, fails the ones the database rejected, and returns the ones that
// exist already (duplicate key), which it leaves unfinished. An error of
// the command as a whole settles all items (settle) and is returned.
func (b *bulkRun) insert(ctx context.Context, items []*bulkItem) (exist []*bulkItem, err error) {
	if len(items) == 0 {
		return nil, nil
	}
	docs := make([]any, len(items))
	for k, it := range items {
		p := it.p
		p.CreatedAt, p.UpdatedAt, p.Version, p.Seq = b.now, b.now, 1, it.seq
		it.doc = toProductDoc(p)
		docs[k] = &it.doc
	}
	_, err = b.s.products.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
	failed, err := writeErrors(err)
	if err != nil {
		b.settle(ctx, items)
		return nil, classify(b.op, err)
	}
	for k, it := range items {
		we, bad := failed[k]
		switch {
		case !bad:
			b.out[it.i].Created = true
			b.publish(it)
		case mongo.IsDuplicateKeyError(we):
			it.tried = true
			exist = append(exist, it)
		default:
			b.fail(it, classify(b.op, we))
		}
	}
	return exist, nil
}

// writeErrors splits the error of an unordered bulk write into the
// per-model write errors (by index) and an error that leaves the outcome of
// every model unknown (anything else, including a write-concern error).
func writeErrors(err error) (map[int]error, error) {
	if err == nil {
		return nil, nil
	}
	var bwe mongo.BulkWriteException
	if !errors.As(err, &bwe) || bwe.WriteConcernError != nil {
		return nil, err
	}
	failed := make(map[int]error, len(bwe.WriteErrors))
	for _, we := range bwe.WriteErrors {
		failed[we.Index] = we
	}
	return failed, nil
}

// read sets it.old to the stored document (tombstones included) of each
// item, nil when there is none. A read error fails the call.
func (b *bulkRun) read(ctx context.Context, items []*bulkItem) error {
	if len(items) == 0 {
		return nil
	}
	ids := make([]string, len(items))
	for k, it := range items {
		ids[k] = it.p.ID
	}
	docs, errs := b.s.findProducts(ctx, ids)
	for k, it := range items {
		if errs[k] != nil {
			return errs[k]
		}
		it.old = docs[k]
	}
	return nil
}

// prepareReplace stamps the item as the next version of it.old. A stock
// change of a product with a stock ledger goes through the ledger; when
// the ledger refuses it (stock below the booked units) the item fails and
// prepareReplace reports false.
func (b *bulkRun) prepareReplace(ctx context.Context, it *bulkItem) bool {
	p, old := it.p, it.old
	live := !old.Deleted
	p.CreatedAt, p.UpdatedAt, p.Version, p.Seq = b.now, b.now, old.Version+1, it.seq
	p.Booked = 0
	ledger := false
	if live {
		p.CreatedAt = old.CreatedAt.UTC()
		if b.keep != nil {
			b.keep(old.toEngine(), p)
		}
		p.Booked, ledger = old.Booked, old.Ledger
		if old.Ledger {
			err := b.s.freshDoc(ctx, old)
			if err == nil {
				ledger, err = b.s.stockThroughLedger(ctx, old, p)
			}
			if err != nil {
				b.fail(it, err)
				return false
			}
		}
	}
	b.out[it.i].Created = !live
	it.doc = toProductDoc(p)
	it.doc.Ledger = ledger
	return true
}

// replace writes prepared items with compare-and-swap replaces, in update
// commands of replaceBatch. When a command's matched count equals its size
// every replace matched (each matches at most its one _id); otherwise the
// items are read back, and those that do not carry their seq lost to a
// concurrent writer (KindConflict). A command error settles its items and
// fails the call; later items are never sent.
func (b *bulkRun) replace(ctx context.Context, items []*bulkItem) error {
	for start := 0; start < len(items); start += replaceBatch {
		batch := items[start:min(start+replaceBatch, len(items))]
		models := make([]mongo.WriteModel, len(batch))
		for k, it := range batch {
			models[k] = mongo.NewReplaceOneModel().SetFilter(b.s.casFilter(it.doc.ID, it.old.Version)).SetReplacement(&it.doc)
		}
		replaceSlots <- struct{}{}
		res, err := b.s.products.BulkWrite(ctx, models, options.BulkWrite().SetOrdered(false))
		<-replaceSlots
		failed, err := writeErrors(err)
		if err != nil {
			b.settle(ctx, batch)
			return classify(b.op, err)
		}
		if len(failed) == 0 && res != nil && res.MatchedCount == int64(len(batch)) {
			for _, it := range batch {
				b.publish(it)
			}
			continue
		}
		var check []*bulkItem
		for k, it := range batch {
			if we, bad := failed[k]; bad {
				err := classify(b.op, we)
				if mongo.IsDuplicateKeyError(we) {
					err = errChangedConcurrently(b.op)
				}
				b.fail(it, err)
				continue
			}
			check = append(check, it)
		}
		b.settle(ctx, check)
	}
	return nil
}

// settle decides the outcome of items whose write was sent but whose
// success is not known: it reads them back and publishes those stored
// with their own seq (the stored document, as finishUncertain does); the
// others fail, with KindConflict (another write won), or with the read
// error if they cannot be read (their write, if stored, then waits for the
// next rebuild, as in finishUncertain). It reads with a deadline of its
// own, detached from ctx, which may have expired or been cancelled: a
// stored write must not miss the feed for that.
func (b *bulkRun) settle(ctx context.Context, items []*bulkItem) {
	if len(items) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), b.s.timeout)
	defer cancel()
	ids := make([]string, len(items))
	for k, it := range items {
		ids[k] = it.doc.ID
	}
	docs, errs := b.s.findProducts(ctx, ids)
	for k, it := range items {
		switch got := docs[k]; {
		case errs[k] != nil && !engine.IsKind(errs[k], engine.KindNotFound):
			// Unknown yet: the seq stays pending until the database answers.
			b.out[it.i].Err = errs[k]
			it.done = true
			b.s.resolveLater(it.seq, it.doc.ID)
		case errs[k] != nil:
			b.fail(it, errChangedConcurrently(b.op))
		case got != nil && got.Seq == it.seq:
			it.doc = *got
			b.publish(it)
		default:
			b.fail(it, errChangedConcurrently(b.op))
		}
	}
}

// findProducts reads the stored documents (tombstones included) of ids:
// docs[k] is nil when there is none, errs[k] reports a failed read. On the
// embedded FerretDB it sends one find by _id per id, bulkReaders at a time:
// FerretDB's SQLite backend pushes down only a lone _id equality, so an $in
// would read and decode the whole collection. Elsewhere it sends one $in
// query per findBatch ids.
func (s *Store) findProducts(ctx context.Context, ids []string) (docs []*productDoc, errs []error) {
	docs, errs = make([]*productDoc, len(ids)), make([]error, len(ids))
	if s.embedded == nil {
		for start := 0; start < len(ids); start += findBatch {
			part := ids[start:min(start+findBatch, len(ids))]
			if err := s.findProductsIn(ctx, part, docs[start:]); err != nil {
				for k := range part {
					errs[start+k] = err
				}
			}
		}
		return docs, errs
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(bulkReaders, len(ids)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				k := int(next.Add(1) - 1)
				if k >= len(ids) {
					return
				}
				d, err := s.getProductDoc(ctx, ids[k])
				switch {
				case err == nil:
					docs[k] = d
				case !engine.IsKind(err, engine.KindNotFound):
					errs[k] = err
				}
			}
		}()
	}
	wg.Wait()
	return docs, errs
}

// findProductsIn reads the documents of ids with one $in query into docs
// (by the position of their id in ids).
func (s *Store) findProductsIn(ctx context.Context, ids []string, docs []*productDoc) error {
	const op = "store.findProducts"
	pos := make(map[string]int, len(ids))
	for k, id := range ids {
		pos[id] = k
	}
	cur, err := s.products.Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}})
	if err != nil {
		return classify(op, err)
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		var d productDoc
		if err := cur.Decode(&d); err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		if k, ok := pos[d.ID]; ok {
			docs[k] = &d
		}
	}
	return classify(op, cur.Err())
}

// replaceStaged writes the prepared replacements of items on the embedded
// FerretDB in one SQLite transaction, instead of one transaction (and one
// fsync, about 1 ms, serialized by SQLite's write lock) per document
// through FerretDB's update command.
//
// FerretDB encodes the new versions: they are inserted into stagingColl
// (a batched insert, as for new products; FerretDB validates them as it
// would a replacement, and an item it rejects fails alone). Then, on the
// database file (WAL, synchronous=FULL, like FerretDB's own connections),
// one transaction deletes the products' current rows, inserts the staged
// rows in their place and deletes the staged rows. The transaction is
// atomic, so a product is never missing nor doubled, even across a crash,
// and readers see the old or the new version. Its precondition, as for
// casFilter on the embedded database, is that the stripe locks exclude
// every other writer of these products (one process owns the embedded
// database); it also checks that each product still exists and that each
// new version is staged, and rolls back if a count falls short. A staged
// row is FerretDB's own encoding of the document, which does not depend
// on the collection, so FerretDB reads the copied rows as any other; SQLite
// maintains the indexes.
//
// It returns the items it did not write, for replace: all of them when it
// cannot be used (the file or the staging collection cannot be prepared,
// or the transaction fails or falls short: nothing was written to the
// products then). The others are settled; err is the call's error when
// the commit's outcome is unknown.
func (b *bulkRun) replaceStaged(ctx context.Context, items []*bulkItem) (rest []*bulkItem, err error) {
	s := b.s
	path := filepath.Join(s.embedded.dir, s.dbName+".sqlite")
	// mode=rw: never create the file (that would be a database FerretDB
	// does not know).
	db, err := sql.Open("sqlite", "file:"+path+"?mode=rw&_pragma=busy_timeout(10000)&_pragma=synchronous(FULL)&_txlock=immediate")
	if err != nil {
		return items, nil
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	products, staging, err := stagingTables(ctx, db)
	if err != nil || products == "" {
		return items, nil
	}
	byID := func(table string, ids []any) string {
		return fmt.Sprintf(`%q WHERE _ferretdb_sjson->'$._id' IN (%s)`, table, strings.TrimSuffix(strings.Repeat("?,", len(ids)), ","))
	}
	allIDs := make([]any, len(items))
	docs := make([]any, len(items))
	for k, it := range items {
		allIDs[k] = sjsonString(it.doc.ID)
		docs[k] = &it.doc
	}
	cleanup := func() {
		if staging != "" {
			_, _ = db.ExecContext(context.WithoutCancel(ctx), `DELETE FROM `+byID(staging, allIDs), allIDs...)
		}
	}
	// Leftovers of an attempt that did not finish (a crash) would collide.
	if staging != "" {
		if _, err := db.ExecContext(ctx, `DELETE FROM `+byID(staging, allIDs), allIDs...); err != nil {
			return items, nil
		}
	}
	_, err = s.db.Collection(stagingColl).InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
	if staging == "" { // created by that insert: give it the _id index too
		if _, staging, _ = stagingTables(ctx, db); staging != "" {
			_ = s.embedded.IndexIDs(ctx, s.dbName) // only speed depends on it
		}
	}
	failed, err := writeErrors(err)
	if err != nil || staging == "" {
		cleanup()
		return items, nil
	}
	var staged []*bulkItem
	var ids []any
	for k, it := range items {
		switch we, bad := failed[k]; {
		case !bad:
			staged = append(staged, it)
			ids = append(ids, allIDs[k])
		case mongo.IsDuplicateKeyError(we): // not staged: write it the slow way
			rest = append(rest, it)
		default: // FerretDB rejects this document
			b.fail(it, classify(b.op, we))
		}
	}
	if len(staged) == 0 {
		return rest, nil
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		cleanup()
		return append(rest, staged...), nil
	}
	n := int64(len(staged))
	ok := execCount(ctx, tx, n, `DELETE FROM `+byID(products, ids), ids) &&
		execCount(ctx, tx, n, fmt.Sprintf(`INSERT INTO %q (_ferretdb_sjson) SELECT _ferretdb_sjson FROM `, products)+byID(staging, ids), ids) &&
		execCount(ctx, tx, n, `DELETE FROM `+byID(staging, ids), ids)
	if !ok {
		_ = tx.Rollback()
		cleanup()
		return append(rest, staged...), nil
	}
	if err := tx.Commit(); err != nil {
		b.settle(ctx, staged) // committed or not: look
		cleanup()
		return nil, engine.Wrap(engine.KindUnavailable, b.op, "the database did not confirm the write; try again", err)
	}
	for _, it := range staged {
		b.publish(it)
	}
	return rest, nil
}

// stagingTables returns the SQLite tables of the products and staging
// collections ("" for one that does not exist).
func stagingTables(ctx context.Context, db *sql.DB) (products, staging string, err error) {
	rows, err := db.QueryContext(ctx, `SELECT name, table_name FROM _ferretdb_collections WHERE name IN (?, ?)`, collProducts, stagingColl)
	if err != nil {
		return "", "", err
	}
	defer rows.Close()
	for rows.Next() {
		var name, table string
		if err := rows.Scan(&name, &table); err != nil {
			return "", "", err
		}
		if name == collProducts {
			products = table
		} else {
			staging = table
		}
	}
	return products, staging, rows.Err()
}

// execCount runs a statement in tx and reports whether it succeeded and
// changed exactly want rows.
func execCount(ctx context.Context, tx *sql.Tx, want int64, q string, args []any) bool {
	res, err := tx.ExecContext(ctx, q, args...)
	if err != nil {
		return false
	}
	n, err := res.RowsAffected()
	return err == nil && n == want
}

// sjsonString is a string as FerretDB's SQLite backend stores it, and as
// _ferretdb_sjson->'$._id' returns it: a JSON string.
func sjsonString(v string) string {
	b, _ := json.Marshal(v) // a string always marshals
	return string(b)
}

// ScanProducts calls fn for every product document with seq > after,
// including tombstones (Deleted set, Product nil), in no particular order.
// On FerretDB this is a full sweep: use it for start-up catch-up and rebuilds.
func (s *Store) ScanProducts(ctx context.Context, after int64, fn func(ProductChange) error) error {
	const op = "store.ScanProducts"
	filter := bson.D{}
	if after > 0 {
		filter = bson.D{{Key: "seq", Value: bson.D{{Key: "$gt", Value: after}}}}
	}
	cur, err := s.products.Find(ctx, filter, options.Find().SetBatchSize(1000))
	if err != nil {
		return classify(op, err)
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		var d productDoc
		if err := cur.Decode(&d); err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		if err := fn(ProductChange{Seq: d.Seq, ID: d.ID, Deleted: d.Deleted, Product: changeProduct(&d)}); err != nil {
			return err
		}
	}
	return classify(op, cur.Err())
}

// CountProducts returns the number of product documents, tombstones included
// (for progress bars).
func (s *Store) CountProducts(ctx context.Context) (int64, error) {
	n, err := s.products.EstimatedDocumentCount(ctx)
	return n, classify("store.CountProducts", err)
}

// ProductSeq returns the last seq allocated to products.
func (s *Store) ProductSeq(ctx context.Context) (int64, error) {
	return s.currentSeq(ctx, collProducts)
}
