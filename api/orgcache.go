package api

import (
	"context"
	"sync"

	"github.com/livematch/livematch/engine"
	"github.com/livematch/livematch/store"
)

// orgCache is the in-memory directory of orgs that matching reads (the
// admission status, grade and region of every candidate's supplier), so
// that the match path does not query the database. RefreshOrgs fills it
// from a sweep (at start-up and then periodically, which also brings in
// other replicas' changes); this process's own org writes update it at
// once; an id it has never seen is read once from the database.
type orgCache struct {
	st *store.Store

	mu sync.RWMutex
	m  map[string]*engine.Org // nil value: no such org
}

func newOrgCache(st *store.Store) *orgCache {
	return &orgCache{st: st, m: map[string]*engine.Org{}}
}

// get returns the org, or nil if it does not exist.
func (c *orgCache) get(ctx context.Context, id string) (*engine.Org, error) {
	c.mu.RLock()
	o, ok := c.m[id]
	c.mu.RUnlock()
	if ok {
		return o, nil
	}
	o, err := c.st.GetOrg(ctx, id)
	if engine.IsKind(err, engine.KindNotFound) {
		o, err = nil, nil
	}
	if err != nil {
		return nil, err
	}
	c.put(id, o)
	return o, nil
}

// put records an org as it now is (nil: gone).
func (c *orgCache) put(id string, o *engine.Org) {
	c.mu.Lock()
	c.m[id] = o
	c.mu.Unlock()
}

// load replaces the directory with a full sweep of the orgs.
func (c *orgCache) load(ctx context.Context) error {
	m := map[string]*engine.Org{}
	if err := c.st.ScanOrgs(ctx, func(o *engine.Org) error { m[o.ID] = o; return nil }); err != nil {
		return err
	}
	c.mu.Lock()
	c.m = m
	c.mu.Unlock()
	return nil
}

// RefreshOrgs reloads the org directory that matching reads from the
// database. Call it at start-up and periodically (other replicas' org
// changes arrive this way).
func (s *Server) RefreshOrgs(ctx context.Context) error { return s.orgs.load(ctx) }
