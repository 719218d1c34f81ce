package indexer

import (
	"cmp"
	"slices"

	"github.com/livematch/livematch/engine"
)

// maxUnapproved bounds how many products waiting for or refused by review
// ReviewQueue reads in full.
const maxUnapproved = 10000

// ReviewQueue returns the live products whose review status is status
// (pending or rejected), oldest change first (then by id), reading the
// catalogue's rows for the candidates and their full records only for
// those; at most maxUnapproved products not approved are considered.
func (x *Index) ReviewQueue(status engine.ReviewStatus) []*engine.Product {
	if x.closed.Load() || status == engine.ReviewApproved {
		return nil
	}
	x.mu.RLock()
	c := x.cat
	var ids []string
	for d, id := range c.ids {
		if id == "" || !c.isLive(uint32(d)) || c.rows[d].Approved {
			continue
		}
		ids = append(ids, id)
		if len(ids) == maxUnapproved {
			break
		}
	}
	x.mu.RUnlock()
	out := []*engine.Product{}
	for _, p := range x.Products(ids) {
		if p != nil && p.ReviewStatus == status {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b *engine.Product) int {
		return cmp.Or(a.UpdatedAt.Compare(b.UpdatedAt), cmp.Compare(a.ID, b.ID))
	})
	return out
}
