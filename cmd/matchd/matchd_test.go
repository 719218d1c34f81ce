package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a goroutine-safe bytes.Buffer for captured output.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startMain runs "matchd serve" on 127.0.0.1:0 over dir and waits until it
// is ready.
func startMain(tb testing.TB, dir string, extra ...string) (*Main, *syncBuffer) {
	tb.Helper()
	out := &syncBuffer{}
	m := NewMain()
	m.Stdout, m.Stderr = out, out
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--data", dir, "--log-level", "warn", "--admin-key", "lm_test_admin_key"}, extra...)
	if err := m.ParseFlags(args); err != nil {
		tb.Fatal(err)
	}
	if err := m.Run(context.Background()); err != nil {
		tb.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for !m.Ready() {
		if time.Now().After(deadline) {
			tb.Fatalf("not ready in 2 minutes; output:\n%s", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return m, out
}

func call(tb testing.TB, m *Main, method, path, key, body string) (int, map[string]any) {
	tb.Helper()
	req, err := http.NewRequest(method, "http://"+m.Addr()+path, strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var v map[string]any
	_ = json.Unmarshal(raw, &v)
	return res.StatusCode, v
}

func TestServeDemoRestartAndIndexLoss(t *testing.T) {
	// This test restarts the embedded database on one data directory, so it
	// runs on the embedded default even when MONGODB_URI is set.
	t.Setenv("MONGODB_URI", "")
	dir := t.TempDir()
	m, out := startMain(t, dir)
	const admin = "lm_test_admin_key"

	// The demo catalogue is there and searchable in both languages.
	st, body := call(t, m, "GET", "/v1/products?q=kiwi", admin, "")
	if st != 200 || body["total"].(float64) < 2 {
		t.Fatalf("demo search kiwi: %d %v", st, body)
	}
	demoTotal := total(t, m, admin, "")
	if demoTotal < 100 {
		t.Fatalf("demo catalogue has %v products", demoTotal)
	}
	keys, err := os.ReadFile(filepath.Join(dir, "demo-keys.json"))
	if err != nil || !strings.Contains(string(keys), "lm_") {
		t.Fatalf("demo keys: %v %s", err, keys)
	}
	// Demo hosts are there for host matching, and survive restarts below.
	st, hosts := call(t, m, "GET", "/v1/hosts", admin, "")
	demoHosts := len(hosts["items"].([]any))
	if st != 200 || demoHosts < 5 {
		t.Fatalf("demo hosts: %d %d", st, demoHosts)
	}
	if !strings.Contains(out.String(), "livematch is ready on http://") {
		t.Errorf("no banner: %s", out.String())
	}

	// A new org and product, accepted before shutdown...
	st, org := call(t, m, "POST", "/v1/orgs", admin, `{"kind":"cooperative","name_zh":"苍溪猕猴桃合作社","region_code":"510824"}`)
	if st != 201 || org["poverty_relief"] != true {
		t.Fatalf("org: %d %v", st, org)
	}
	key := org["api_key"].(string)
	st, _ = call(t, m, "POST", "/v1/products", key, `{"sku":"CX-1","title_zh":"苍溪红心猕猴桃 测试批次甲","category":"fresh_fruit","price_cny":59,"stock":300}`)
	if st != 201 {
		t.Fatalf("product: %d", st)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}

	// ...is there after a restart on the same directory, and searchable.
	m, _ = startMain(t, dir)
	if got := total(t, m, key, "测试批次甲"); got != 1 {
		t.Fatalf("after restart: %v hits", got)
	}
	if got := total(t, m, admin, ""); got != demoTotal+1 {
		t.Fatalf("after restart: %v products, want %v", got, demoTotal+1)
	}
	if _, hosts := call(t, m, "GET", "/v1/hosts", admin, ""); len(hosts["items"].([]any)) != demoHosts {
		t.Fatalf("after restart: %d hosts, want %d", len(hosts["items"].([]any)), demoHosts)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}

	// The index is derived: delete it and it is rebuilt from the database.
	if err := os.RemoveAll(filepath.Join(dir, "index")); err != nil {
		t.Fatal(err)
	}
	m, _ = startMain(t, dir)
	if got := total(t, m, admin, ""); got != demoTotal+1 {
		t.Fatalf("after index loss: %v products, want %v", got, demoTotal+1)
	}
	st, status := call(t, m, "GET", "/v1/index/status", admin, "")
	if st != 200 || status["lag"] != 0.0 || status["documents"] != demoTotal+1 {
		t.Fatalf("index status: %d %v", st, status)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}

	// A corrupt index is moved aside and rebuilt.
	if err := os.WriteFile(filepath.Join(dir, "index", "index_meta.json"), []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	m, _ = startMain(t, dir)
	defer m.Close()
	if got := total(t, m, admin, ""); got != demoTotal+1 {
		t.Fatalf("after index corruption: %v products", got)
	}
	aside, _ := filepath.Glob(filepath.Join(dir, "index.corrupt-*"))
	if len(aside) != 1 {
		t.Fatalf("corrupt index not moved aside: %v", aside)
	}
	// A second matchd on the same directory is refused.
	other := NewMain()
	other.Stdout, other.Stderr = io.Discard, io.Discard
	if err := other.ParseFlags([]string{"seed", "--data", dir}); err != nil {
		t.Fatal(err)
	}
	if err := other.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "another matchd") {
		t.Fatalf("second matchd: %v", err)
	}
	_ = other.Close()
}

func total(tb testing.TB, m *Main, key, q string) float64 {
	tb.Helper()
	st, body := call(tb, m, "GET", "/v1/products?limit=1&q="+q, key, "")
	if st != 200 {
		tb.Fatalf("search %q: %d %v", q, st, body)
	}
	return body["total"].(float64)
}

func TestParseFlags(t *testing.T) {
	cases := []struct {
		args []string
		env  map[string]string
		ok   bool
		want func(*Main) string
	}{
		{[]string{}, nil, true, func(m *Main) string { return m.Command + " " + m.Config.Addr }},
		{[]string{"serve", "--addr", ":9"}, nil, true, func(m *Main) string { return m.Command + " " + m.Config.Addr }},
		{[]string{}, map[string]string{"MATCHD_ADDR": "0.0.0.0:1", "MATCHD_DEMO": "false"}, true, func(m *Main) string { return fmt.Sprint(m.Config.Addr, m.Config.Demo) }},
		{[]string{"import", "--org", "o1", "f.ndjson"}, nil, true, func(m *Main) string { return m.Config.ImportOrg + " " + m.Config.ImportFile }},
		{[]string{}, map[string]string{"MATCHD_QUERY_TIMEOUT": "250ms"}, true, func(m *Main) string { return m.Config.QueryTimeout.String() }},
		{[]string{}, map[string]string{"MATCHD_MAX_QUERIES": "3"}, true, func(m *Main) string { return fmt.Sprint(m.Config.MaxQueries) }},
		{[]string{"import", "f.ndjson"}, nil, false, nil},
		{[]string{"--query-timeout", "0s"}, nil, false, nil},
		{[]string{"--query-timeout", "soon"}, nil, false, nil},
		{[]string{"--max-queries", "-1"}, nil, false, nil},
		{[]string{}, map[string]string{"MATCHD_MAX_QUERIES": "many"}, false, nil},
		{[]string{"frobnicate"}, nil, false, nil},
		{[]string{"--log-level", "loud"}, nil, false, nil},
		{[]string{"serve", "extra"}, nil, false, nil},
	}
	want := []string{"serve 127.0.0.1:8080", "serve :9", "0.0.0.0:1false", "o1 f.ndjson", "250ms", "3"}
	for i, tc := range cases {
		for k, v := range tc.env {
			t.Setenv(k, v)
		}
		m := NewMain()
		m.Stderr = io.Discard
		err := m.ParseFlags(tc.args)
		if (err == nil) != tc.ok {
			t.Errorf("%v: err %v", tc.args, err)
			continue
		}
		if tc.ok && tc.want(m) != want[i] {
			t.Errorf("%v: got %q want %q", tc.args, tc.want(m), want[i])
		}
		for k := range tc.env {
			os.Unsetenv(k)
		}
	}
}
