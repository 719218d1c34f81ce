package store

import (
	"go.mongodb.org/mongo-driver/v2/bson"
	"hash/fnv"
	"slices"
	"sync"
)

// FerretDB evaluates an update's filter and writes the result in separate
// steps, so two concurrent compare-and-swap replaces (or $inc's) can both
// succeed. Read-modify-write cycles therefore also hold an in-process lock
// per document (striped), and seq allocation holds seqMu. On a real MongoDB
// the version filter alone is atomic and protects writers in other
// processes too; the locks then only save wasted retries.
const lockStripes = 256

type stripes struct {
	mu [lockStripes]sync.Mutex
}

func stripeOf(id string) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(id))
	return int(h.Sum32() % lockStripes)
}

// lock locks the stripe of id and returns its unlock function.
func (s *stripes) lock(id string) func() {
	m := &s.mu[stripeOf(id)]
	m.Lock()
	return m.Unlock
}

// lockAll locks the stripes of all ids in ascending order (so that it never
// deadlocks with another lockAll or lock) and returns the unlock function.
func (s *stripes) lockAll(ids []string) func() {
	idx := make([]int, 0, len(ids))
	for _, id := range ids {
		idx = append(idx, stripeOf(id))
	}
	slices.Sort(idx)
	idx = slices.Compact(idx)
	for _, i := range idx {
		s.mu[i].Lock()
	}
	return func() {
		for _, i := range idx {
			s.mu[i].Unlock()
		}
	}
}

// casFilter is the filter of a compare-and-swap write: the document with
// this _id, still at this version. On the embedded FerretDB the version is
// left out: the stripe lock already excludes concurrent writers (one
// process owns the database), and FerretDB's SQLite backend pushes down only
// a lone _id equality, so any other field would make it read and decode the
// whole collection for every write.
func (s *Store) casFilter(id string, version int64) bson.D {
	if s.embedded != nil {
		return bson.D{{Key: "_id", Value: id}}
	}
	return bson.D{{Key: "_id", Value: id}, {Key: "version", Value: version}}
}
