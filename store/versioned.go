package store

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/livematch/livematch/engine"
)

// docMeta is the part every versioned document shares (inlined in bson).
type docMeta struct {
	ID        string    `bson:"_id"`
	OrgID     string    `bson:"org_id"`
	Version   int64     `bson:"version"`
	Seq       int64     `bson:"seq"`
	Deleted   bool      `bson:"deleted,omitempty"`
	CreatedAt time.Time `bson:"created_at"`
	UpdatedAt time.Time `bson:"updated_at"`
}

// versioned stores documents of type D for engine objects of type T in one
// collection, with ids, versions (optimistic concurrency), seqs and
// tombstones: the CRUD shared by demand profiles, hosts and host requests.
// Products have their own, batched path (products.go).
type versioned[T any, D any] struct {
	s      *Store
	coll   *mongo.Collection
	prefix string // id prefix
	name   string // for errors and the seq counter
	// toDoc and fromDoc convert; meta points into a document's docMeta.
	toDoc   func(*T, docMeta) D
	fromDoc func(*D) *T
	meta    func(*D) *docMeta
}

// create stores a new object owned by orgID and returns it as stored.
func (v versioned[T, D]) create(ctx context.Context, orgID string, obj *T) (*T, error) {
	op := "store.Create" + v.name
	now := v.s.stamp()
	seq, err := v.s.allocSeq(ctx, v.coll.Name(), 1)
	if err != nil {
		return nil, err
	}
	d := v.toDoc(obj, docMeta{ID: NewID(v.prefix), OrgID: orgID, Version: 1, Seq: seq, CreatedAt: now, UpdatedAt: now})
	if _, err := v.coll.InsertOne(ctx, d); err != nil {
		return nil, classify(op, err)
	}
	return v.fromDoc(&d), nil
}

// get returns a live object, or KindNotFound.
func (v versioned[T, D]) get(ctx context.Context, id string) (*T, error) {
	d, err := v.getDoc(ctx, id)
	if err != nil {
		return nil, err
	}
	return v.fromDoc(d), nil
}

func (v versioned[T, D]) getDoc(ctx context.Context, id string) (*D, error) {
	op := "store.Get" + v.name
	var d D
	if err := v.coll.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d); err != nil {
		return nil, classify(op, err)
	}
	if v.meta(&d).Deleted {
		return nil, engine.Errorf(engine.KindNotFound, op, "not found")
	}
	return &d, nil
}

// update reads the live object, applies fn and writes it back if nobody
// changed it in between (ifVersion > 0 demands that version); with del it
// becomes a tombstone. fn may replace every field but the metadata.
func (v versioned[T, D]) update(ctx context.Context, id string, ifVersion int64, del bool, fn func(*T) error) (*T, error) {
	op := "store.Update" + v.name
	defer v.s.locks.lock(id)()
	for attempt := 0; attempt < maxAttempts; attempt++ {
		backoff(ctx, attempt)
		d, err := v.getDoc(ctx, id)
		if err != nil {
			return nil, err
		}
		m := *v.meta(d)
		if ifVersion > 0 && m.Version != ifVersion {
			return nil, engine.Errorf(engine.KindPrecondition, op, "version %d is not current (current is %d)", ifVersion, m.Version)
		}
		obj := v.fromDoc(d)
		if fn != nil {
			if err := fn(obj); err != nil {
				return nil, err
			}
		}
		seq, err := v.s.allocSeq(ctx, v.coll.Name(), 1)
		if err != nil {
			return nil, err
		}
		prev := m.Version
		m.Version, m.Seq, m.UpdatedAt, m.Deleted = prev+1, seq, v.s.stamp(), del
		nd := v.toDoc(obj, m)
		res, err := v.coll.ReplaceOne(ctx, v.s.casFilter(id, prev), nd)
		if err != nil {
			return nil, classify(op, err)
		}
		if res.MatchedCount == 1 {
			return v.fromDoc(&nd), nil
		}
		if ifVersion > 0 {
			return nil, engine.Errorf(engine.KindPrecondition, op, "version %d is not current", ifVersion)
		}
	}
	return nil, engine.Errorf(engine.KindConflict, op, "the object is being changed concurrently; try again")
}

// scan calls fn for every live object (a full sweep).
func (v versioned[T, D]) scan(ctx context.Context, fn func(*T) error) error {
	op := "store.Scan" + v.name
	cur, err := v.coll.Find(ctx, bson.D{})
	if err != nil {
		return classify(op, err)
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		var d D
		if err := cur.Decode(&d); err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		if v.meta(&d).Deleted {
			continue
		}
		if err := fn(v.fromDoc(&d)); err != nil {
			return err
		}
	}
	return classify(op, cur.Err())
}
