package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/livematch/livematch/engine"
	"github.com/livematch/livematch/fixtures"
	"github.com/livematch/livematch/indexer"
	"github.com/livematch/livematch/store"
)

// testURI is the MongoDB every test uses (its own database each): an
// embedded FerretDB started by TestMain, or MONGODB_URI when set.
var (
	testURI      string
	testEmbedded *store.Embedded // nil when MONGODB_URI is set
)

// shared reference data, loaded once (read-only after loading).
var (
	refOnce  sync.Once
	regions  *fixtures.Regions
	glossary *fixtures.Glossary
)

func TestMain(m *testing.M) { os.Exit(runMain(m)) }

func runMain(m *testing.M) int {
	testURI = os.Getenv("MONGODB_URI")
	if testURI == "" {
		dir, err := os.MkdirTemp("", "api-test-*")
		if err != nil {
			panic(err)
		}
		defer os.RemoveAll(dir)
		e, err := store.StartEmbedded(context.Background(), dir, "", nil)
		if err != nil {
			panic(err)
		}
		defer e.Close()
		testURI, testEmbedded = e.URI(), e
	}
	return m.Run()
}

func loadRef(tb testing.TB) {
	tb.Helper()
	refOnce.Do(func() {
		var err error
		if regions, err = fixtures.LoadRegions(nil); err != nil {
			panic(err)
		}
		if glossary, err = fixtures.LoadGlossary(); err != nil {
			panic(err)
		}
	})
}

// env is a running API on a real HTTP server over a real database and index.
type env struct {
	t        testing.TB
	url      string
	store    *store.Store
	index    *indexer.Index
	follower *indexer.Follower
	server   *Server
	admin    string // admin API key
}

var nonWord = regexp.MustCompile(`[^A-Za-z0-9]+`)

type envOpts struct {
	reviewRequired bool
	rateLimit      float64
	now            func() time.Time
	queryTimeout   time.Duration
	maxQueries     int
}

func newEnv(tb testing.TB, opts ...envOpts) *env {
	tb.Helper()
	loadRef(tb)
	var o envOpts
	if len(opts) > 0 {
		o = opts[0]
	}
	if o.rateLimit == 0 {
		o.rateLimit = -1
	}
	ctx := context.Background()
	name := nonWord.ReplaceAllString(tb.Name(), "_")
	if len(name) > 40 {
		name = name[len(name)-40:]
	}
	st, err := store.Open(ctx, testURI, store.Options{Database: "a_" + name, Now: o.now, Embedded: testEmbedded})
	if err != nil {
		tb.Fatal(err)
	}
	if err := st.Drop(ctx); err != nil {
		tb.Fatal(err)
	}
	if err := st.Init(ctx); err != nil {
		tb.Fatal(err)
	}
	idx, err := indexer.Open(indexer.Config{Glossary: glossary, Now: o.now})
	if err != nil {
		tb.Fatal(err)
	}
	fol := indexer.NewFollower(idx, st, nil)
	if err := fol.CatchUp(ctx, nil); err != nil {
		tb.Fatal(err)
	}
	fctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = fol.Run(fctx) }()
	hosts, err := indexer.NewHostIndex(glossary)
	if err != nil {
		tb.Fatal(err)
	}
	srv := New(Config{Store: st, Index: idx, Hosts: hosts, Regions: regions, Geo: regions, ReviewRequired: o.reviewRequired, RateLimit: o.rateLimit, Now: o.now, QueryTimeout: o.queryTimeout, MaxQueries: o.maxQueries,
		IndexStatus: func(ctx context.Context) (IndexStatus, error) {
			s, err := fol.Status(ctx)
			return IndexStatus{Documents: s.Documents, AppliedSeq: s.AppliedSeq, HeadSeq: s.HeadSeq, Lag: s.Lag, Ready: s.CaughtUp}, err
		}})
	hs := httptest.NewServer(srv.Handler())
	_, key, err := EnsureAdmin(ctx, st, regions, "")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		hs.Close()
		cancel()
		<-done
		_ = idx.Close()
		_ = st.Drop(ctx)
		_ = st.Close(ctx)
	})
	return &env{t: tb, url: hs.URL, store: st, index: idx, follower: fol, server: srv, admin: key}
}

// resp is a decoded HTTP response.
type resp struct {
	status int
	header http.Header
	body   map[string]any
	raw    []byte
}

// request builds a request; body may be nil, a string or []byte (sent as
// is) or a value (sent as JSON). hdr are extra header pairs. It also returns
// the body bytes.
func (e *env) request(method, path, key string, body any, hdr ...string) (*http.Request, []byte) {
	e.t.Helper()
	var raw []byte
	switch b := body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	case []byte:
		raw = b
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			e.t.Fatal(err)
		}
	}
	req, err := http.NewRequest(method, e.url+path, bytes.NewReader(raw))
	if err != nil {
		e.t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return req, raw
}

// do sends a request built by request and decodes the answer.
func (e *env) do(method, path, key string, body any, hdr ...string) resp {
	e.t.Helper()
	req, _ := e.request(method, path, key, body, hdr...)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	r := resp{status: res.StatusCode, header: res.Header, raw: raw}
	if len(raw) > 0 && raw[0] == '{' {
		if err := json.Unmarshal(raw, &r.body); err != nil {
			e.t.Fatalf("%s %s: bad JSON %q: %v", method, path, raw, err)
		}
	}
	if r.status >= 500 && r.status != 503 {
		e.t.Errorf("%s %s answered %d: %s", method, path, r.status, raw)
	}
	if r.status >= 400 {
		if ct := res.Header.Get("Content-Type"); ct != "application/problem+json" {
			e.t.Errorf("%s %s: error with Content-Type %q", method, path, ct)
		}
	}
	return r
}

// must asserts the status and returns the response.
func (e *env) must(status int, method, path, key string, body any, hdr ...string) resp {
	e.t.Helper()
	r := e.do(method, path, key, body, hdr...)
	if r.status != status {
		e.t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.status, status, r.raw)
	}
	return r
}

// newOrg creates an org as admin and returns its id and key.
func (e *env) newOrg(kind engine.OrgKind, region string) (id, key string) {
	e.t.Helper()
	r := e.must(201, "POST", "/v1/orgs", e.admin, map[string]any{"kind": kind, "name_zh": "测试" + string(kind), "name_en": "Test " + string(kind), "region_code": region})
	return r.body["id"].(string), r.body["api_key"].(string)
}

// fieldsOf returns the field names of a problem's errors.
func fieldsOf(r resp) []string {
	var out []string
	errs, _ := r.body["errors"].([]any)
	for _, e := range errs {
		m, _ := e.(map[string]any)
		f, _ := m["field"].(string)
		out = append(out, f)
	}
	return out
}

// eventually polls cond until it holds or the wait runs out (a wait for an
// asynchronous effect, not a speed assertion).
func eventually(tb testing.TB, wait time.Duration, cond func() bool) bool {
	tb.Helper()
	deadline := time.Now().Add(wait)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func product(sku string) map[string]any {
	return map[string]any{
		"sku": sku, "title_zh": "赣南脐橙 5斤装", "title_en": "Gannan navel oranges 2.5 kg",
		"description_zh": "兴国县合作社直供", "category": "fresh_fruit", "tags": []string{"礼盒", "gift box"},
		"price_cny": 39.9, "live_price_cny": 29.9, "commission_rate": 0.2, "stock": 5000, "moq": 1,
		"lead_time_days": 2, "ship_from": "360732", "shelf_life_days": 30, "available_months": []int{11, 12, 1, 2},
		"certifications": []any{"geo_indication", map[string]any{"type": "green_food", "number": "LB-18-2311120456A", "expires_at": "2027-10-31T00:00:00Z"}},
	}
}
