package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/time/rate"

	"github.com/livematch/livematch/engine"
	"github.com/livematch/livematch/store"
)

const callerKey = "livematch.caller"

// NewKey returns a fresh random API key ("lm_" and 40 base32 characters).
func NewKey() string {
	var b [25]byte
	_, _ = rand.Read(b[:]) // never fails
	return "lm_" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
}

// keyRecord derives what is stored for a key: a lookup id and a hash, both
// one-way, so the key itself is never stored or logged.
func keyRecord(orgID, key string) store.KeyRecord {
	id := sha256.Sum256([]byte("livematch-key-id\x00" + key))
	h := sha256.Sum256([]byte("livematch-key-hash\x00" + key))
	return store.KeyRecord{ID: "key_" + hex.EncodeToString(id[:12]), OrgID: orgID, Hash: h[:]}
}

// IssueKey gives the org a new API key, revoking its previous one, and
// returns the key (the only time it is visible).
func IssueKey(ctx context.Context, st *store.Store, orgID string) (string, error) {
	key := NewKey()
	if err := st.SetOrgKey(ctx, keyRecord(orgID, key)); err != nil {
		return "", err
	}
	return key, nil
}

// EnsureAdmin makes sure the operator's admin org exists and has a key. If
// key is set it becomes the admin key. If key is empty and the admin has no
// key yet, a key is generated and returned (to be shown once); otherwise the
// returned key is empty.
func EnsureAdmin(ctx context.Context, st *store.Store, regions engine.RegionBook, key string) (orgID, generated string, err error) {
	const adminID = "org_admin"
	o, err := st.GetOrg(ctx, adminID)
	if engine.IsKind(err, engine.KindNotFound) {
		o = &engine.Org{ID: adminID, Kind: engine.OrgAdmin, NameZh: "平台运营", NameEn: "Platform operator", RegionCode: "310000", Grade: engine.GradeA, Status: engine.OrgApproved}
		if err := engine.PrepareOrg(o, regions); err != nil {
			return "", "", err
		}
		if err := st.CreateOrg(ctx, o); err != nil && !engine.IsKind(err, engine.KindConflict) {
			return "", "", err
		}
	} else if err != nil {
		return "", "", err
	}
	if key != "" {
		rec := keyRecord(adminID, key)
		if cur, _, err := st.KeyByID(ctx, rec.ID); err == nil && cur.OrgID == adminID {
			return adminID, "", nil
		}
		return adminID, "", st.SetOrgKey(ctx, rec)
	}
	has, err := st.OrgHasKey(ctx, adminID)
	if err != nil || has {
		return adminID, "", err
	}
	generated, err = IssueKey(ctx, st, adminID)
	return adminID, generated, err
}

// authenticate resolves the bearer key to its org; a request served in
// process (see WithCredential) may carry a credential instead.
func (s *Server) authenticate(c *gin.Context) {
	const op = "api.authenticate"
	h := c.GetHeader("Authorization")
	var want store.KeyRecord
	if cred, ok := credentialFrom(c.Request.Context()); ok && h == "" {
		want = store.KeyRecord{ID: cred.KeyID, Hash: cred.KeyHash}
	} else {
		key, ok := strings.CutPrefix(h, "Bearer ")
		key = strings.TrimSpace(key)
		if !ok || key == "" || len(key) > 200 {
			s.fail(c, engine.Errorf(engine.KindUnauthenticated, op, "an API key is required: Authorization: Bearer <api_key>"))
			return
		}
		want = keyRecord("", key)
	}
	org, err := s.resolve(c.Request.Context(), want)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Set(callerKey, org)
	c.Next()
}

// SetDatabaseUp records whether the database answers (readiness probes and
// a heartbeat report it). While it does not, every request authenticates
// against the database, and so answers 503.
func (s *Server) SetDatabaseUp(up bool) { s.dbDown.Store(!up) }

// keyCache remembers keys verified against the database for a short time,
// so that most requests authenticate without a database read (the caller's
// org then comes from the in-memory org directory). Rotating a key through
// this process drops its org's entries at once; another replica's rotation
// takes effect here within the time to live.
type keyCache struct {
	ttl time.Duration
	now func() time.Time

	mu sync.Mutex
	m  map[string]cachedKey // by key id
}

type cachedKey struct {
	hash  []byte
	orgID string
	until time.Time
}

func newKeyCache(ttl time.Duration, now func() time.Time) *keyCache {
	return &keyCache{ttl: ttl, now: now, m: map[string]cachedKey{}}
}

// get returns the org of a key that was verified less than ttl ago.
func (k *keyCache) get(want store.KeyRecord) (string, bool) {
	k.mu.Lock()
	e, ok := k.m[want.ID]
	k.mu.Unlock()
	if !ok || !k.now().Before(e.until) || subtle.ConstantTimeCompare(e.hash, want.Hash) != 1 {
		return "", false
	}
	return e.orgID, true
}

// put remembers a verified key.
func (k *keyCache) put(rec store.KeyRecord) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(k.m) >= 100000 { // bounded: start over rather than grow
		k.m = map[string]cachedKey{}
	}
	k.m[rec.ID] = cachedKey{hash: rec.Hash, orgID: rec.OrgID, until: k.now().Add(k.ttl)}
}

// dropOrg forgets every key of an org.
func (k *keyCache) dropOrg(orgID string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for id, e := range k.m {
		if e.orgID == orgID {
			delete(k.m, id)
		}
	}
}

// caller returns the authenticated org.
func caller(c *gin.Context) *engine.Org {
	o, _ := c.Get(callerKey)
	org, _ := o.(*engine.Org)
	return org
}

// requireKind lets only orgs of the given kinds through.
func (s *Server) requireKind(kinds ...engine.OrgKind) gin.HandlerFunc {
	names := make([]string, len(kinds))
	for i, k := range kinds {
		names[i] = string(k)
	}
	msg := fmt.Sprintf("only %s orgs may do this", strings.Join(names, ", "))
	return func(c *gin.Context) {
		org := caller(c)
		for _, k := range kinds {
			if org != nil && org.Kind == k {
				c.Next()
				return
			}
		}
		s.fail(c, engine.Errorf(engine.KindForbidden, "api.requireKind", "%s", msg))
	}
}

// limiter keeps one token bucket per API key.
type limiter struct {
	mu      sync.Mutex
	rate    rate.Limit
	burst   int
	off     bool
	buckets map[string]*bucket
	now     func() time.Time
	sweep   time.Time
}

type bucket struct {
	l    *rate.Limiter
	seen time.Time
}

func newLimiter(perSec float64, burst int, now func() time.Time) *limiter {
	return &limiter{rate: rate.Limit(perSec), burst: burst, off: perSec < 0, buckets: map[string]*bucket{}, now: now}
}

// allow reports whether the org may make a request now, and if not, how long
// to wait.
func (l *limiter) allow(orgID string) (bool, time.Duration) {
	if l.off {
		return true, 0
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.sweep) > time.Minute { // forget idle buckets
		for k, b := range l.buckets {
			if now.Sub(b.seen) > 10*time.Minute {
				delete(l.buckets, k)
			}
		}
		l.sweep = now
	}
	b := l.buckets[orgID]
	if b == nil {
		b = &bucket{l: rate.NewLimiter(l.rate, l.burst)}
		l.buckets[orgID] = b
	}
	b.seen = now
	r := b.l.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

func (s *Server) rateLimit(c *gin.Context) {
	org := caller(c)
	if ok, wait := s.limiter.allow(org.ID); !ok {
		secs := int(wait/time.Second) + 1
		c.Header("Retry-After", fmt.Sprint(secs))
		s.fail(c, engine.Errorf(engine.KindRateLimited, "api.rateLimit", "too many requests; retry in %d s", secs))
		return
	}
	c.Next()
}
