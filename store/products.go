package store

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
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
// the write was stored after all. If the document cannot be read either,
// the seq is finished without a change; the write, if stored, then waits
// for the next rebuild (the database is unreachable at that point).
func (s *Store) finishUncertain(ctx context.Context, d productDoc) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.timeout)
	defer cancel()
	got, err := s.getProductDoc(rctx, d.ID)
	if err == nil && got.Seq == d.Seq {
		s.feed.finish(d.Seq, &ProductChange{Seq: got.Seq, ID: got.ID, Deleted: got.Deleted, Product: changeProduct(got)})
		return
	}
	s.feed.finish(d.Seq, nil)
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
		if ifVersion > 0 && (!live || prev != ifVersion) {
			return false, engine.Errorf(engine.KindPrecondition, op, "version %d is not current", ifVersion)
		}
		now := s.stamp()
		p.CreatedAt, p.UpdatedAt, p.Version = now, now, prev+1
		if live {
			p.CreatedAt = old.CreatedAt.UTC()
			if keep != nil {
				keep(old.toEngine(), p)
			}
		}
		first, err := s.reserveProducts(ctx, 1)
		if err != nil {
			return false, err
		}
		p.Seq = first
		ok, err := s.writeProduct(ctx, toProductDoc(p), prev)
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
		first, err := s.reserveProducts(ctx, 1)
		if err != nil {
			return nil, nil, err
		}
		cur.Seq = first
		nd := toProductDoc(cur)
		nd.Deleted = del
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

// BulkUpsertProducts upserts many products (each with OrgID and SKU set) with
// one seq reservation and one unordered bulk write. Each product's outcome is
// reported separately; products with the same sku in one call are the
// caller's business (the last one wins only if written in separate calls).
// keep is as for UpsertProduct.
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
	olds := make([]*productDoc, len(ps))
	var wg sync.WaitGroup
	var firstErr error
	var mu sync.Mutex
	sem := make(chan struct{}, 8)
	for i, p := range ps {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			d, err := s.getProductDoc(ctx, p.ID)
			if err != nil && !engine.IsKind(err, engine.KindNotFound) {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
				return
			}
			olds[i] = d
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	first, err := s.reserveProducts(ctx, int64(len(ps)))
	if err != nil {
		return nil, err
	}
	now := s.stamp()
	models := make([]mongo.WriteModel, len(ps))
	docs := make([]productDoc, len(ps))
	for i, p := range ps {
		old := olds[i]
		var prev int64
		live := old != nil && !old.Deleted
		if old != nil {
			prev = old.Version
		}
		p.CreatedAt, p.UpdatedAt, p.Version, p.Seq = now, now, prev+1, first+int64(i)
		if live {
			p.CreatedAt = old.CreatedAt.UTC()
			if keep != nil {
				keep(old.toEngine(), p)
			}
		}
		out[i].Created = !live
		docs[i] = toProductDoc(p)
		if prev == 0 {
			models[i] = mongo.NewInsertOneModel().SetDocument(docs[i])
		} else {
			models[i] = mongo.NewReplaceOneModel().SetFilter(s.casFilter(p.ID, prev)).SetReplacement(docs[i])
		}
	}
	_, err = s.products.BulkWrite(ctx, models, options.BulkWrite().SetOrdered(false))
	failed := map[int]error{}
	if err != nil {
		var bwe mongo.BulkWriteException
		if !errors.As(err, &bwe) || bwe.WriteConcernError != nil {
			for i := range ps {
				s.feed.finish(first+int64(i), nil)
			}
			return nil, classify(op, err)
		}
		for _, we := range bwe.WriteErrors {
			failed[we.Index] = classify(op, we)
		}
	}
	// A replace whose version no longer matched wrote nothing and reported no
	// error; find those by reading back the ones we replaced.
	for i := range ps {
		if _, bad := failed[i]; bad || olds[i] == nil {
			continue
		}
		d, err := s.getProductDoc(ctx, ps[i].ID)
		if err != nil || d.Seq != docs[i].Seq {
			failed[i] = engine.Errorf(engine.KindConflict, op, "the product was changed concurrently; try again")
		}
	}
	for i := range ps {
		if ferr, bad := failed[i]; bad {
			if engine.IsKind(ferr, engine.KindConflict) || mongo.IsDuplicateKeyError(ferr) {
				ferr = engine.Errorf(engine.KindConflict, op, "the product was changed concurrently; try again")
			}
			out[i].Err = ferr
			s.feed.finish(docs[i].Seq, nil)
			continue
		}
		s.feed.finish(docs[i].Seq, &ProductChange{Seq: docs[i].Seq, ID: docs[i].ID, Product: ps[i]})
	}
	return out, nil
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
