package api

import (
	"bytes"
	"context"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/livematch/livematch/engine"
)

// lockedBuffer is a bytes.Buffer safe for the server's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestKeysNeverStoredOrLogged checks that an API key appears neither in the
// database nor in the server's debug log, whatever the request did.
func TestKeysNeverStoredOrLogged(t *testing.T) {
	e := newEnv(t)
	var logs lockedBuffer
	srv := New(Config{Store: e.store, Index: e.index, Regions: regions, RateLimit: -1,
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	le := *e
	le.url = hs.URL
	id, key := le.newOrg(engine.OrgCooperative, "360732")
	le.must(201, "POST", "/v1/products", key, product("K-1"))
	le.must(400, "POST", "/v1/products", key, `{"sku":`)
	le.must(401, "GET", "/v1/products", key+"x", nil)
	rotated := le.must(201, "POST", "/v1/orgs/"+id+"/keys", key, nil).body["api_key"].(string)
	le.must(401, "GET", "/v1/products", key, nil)
	for _, k := range []string{key, rotated, e.admin} {
		if strings.Contains(logs.String(), k) {
			t.Errorf("a key is in the log")
		}
	}
	if !strings.Contains(logs.String(), "route=/v1/products") {
		t.Errorf("the log does not show requests at all: %q", logs.String())
	}
	// The database holds hashes only: search every stored key document.
	var found bool
	err := e.store.ScanOrgs(context.Background(), func(o *engine.Org) error {
		rec, _, err := e.store.KeyByID(context.Background(), keyRecord(o.ID, rotated).ID)
		if err == nil && (bytes.Contains(rec.Hash, []byte(rotated)) || strings.Contains(rec.ID, rotated)) {
			found = true
		}
		return nil
	})
	if err != nil || found {
		t.Fatalf("a key is stored in clear (%v)", err)
	}
}
