package api

import (
	"context"
	"sync"
	"time"

	"github.com/livematch/livematch/engine"
	"github.com/livematch/livematch/store"
)

// orgCache keeps recently read orgs for matching, which needs the admission
// status, grade and region of every candidate's supplier. Entries live for
// ttl; this process's own org writes invalidate them at once, other
// replicas' writes are seen within ttl.
type orgCache struct {
	st  *store.Store
	ttl time.Duration
	now func() time.Time

	mu sync.Mutex
	m  map[string]orgEntry
}

type orgEntry struct {
	org *engine.Org // nil: no such org
	at  time.Time
}

func newOrgCache(st *store.Store, ttl time.Duration, now func() time.Time) *orgCache {
	return &orgCache{st: st, ttl: ttl, now: now, m: map[string]orgEntry{}}
}

// get returns the org, or nil if it does not exist.
func (c *orgCache) get(ctx context.Context, id string) (*engine.Org, error) {
	now := c.now()
	c.mu.Lock()
	e, ok := c.m[id]
	c.mu.Unlock()
	if ok && now.Sub(e.at) < c.ttl {
		return e.org, nil
	}
	o, err := c.st.GetOrg(ctx, id)
	if engine.IsKind(err, engine.KindNotFound) {
		o, err = nil, nil
	}
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if len(c.m) > 100000 { // bound memory: start over
		c.m = map[string]orgEntry{}
	}
	c.m[id] = orgEntry{org: o, at: now}
	c.mu.Unlock()
	return o, nil
}

// invalidate forgets an org after this process changed it.
func (c *orgCache) invalidate(id string) {
	c.mu.Lock()
	delete(c.m, id)
	c.mu.Unlock()
}
