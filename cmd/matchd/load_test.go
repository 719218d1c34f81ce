package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"
)

// TestMixedLoad drives a running matchd (embedded database, demo data) with
// mixed reads and writes from 16 clients on loopback for 30 s in CI (5 s
// elsewhere; LOAD_SECONDS overrides): every answer is 2xx or 429, and once
// the server is closed no goroutine it started is left running. Throughput
// and latency percentiles are logged, not asserted.
func TestMixedLoad(t *testing.T) {
	t.Setenv("MONGODB_URI", "")
	dur := 5 * time.Second
	if os.Getenv("CI") != "" {
		dur = 30 * time.Second
	}
	if s := os.Getenv("LOAD_SECONDS"); s != "" {
		var n int
		if _, err := fmt.Sscan(s, &n); err == nil && n > 0 {
			dur = time.Duration(n) * time.Second
		}
	}
	before := runtime.NumGoroutine()
	dir := t.TempDir()
	m, _ := startMain(t, dir, "--rate-limit", "300")
	const admin = "lm_test_admin_key"

	var keys []struct {
		OrgID  string `json:"org_id"`
		Kind   string `json:"kind"`
		APIKey string `json:"api_key"`
	}
	raw, err := os.ReadFile(filepath.Join(dir, "demo-keys.json"))
	if err != nil || json.Unmarshal(raw, &keys) != nil {
		t.Fatalf("demo keys: %v", err)
	}
	var supplierKeys, mcnKeys []string
	for _, k := range keys {
		switch k.Kind {
		case "cooperative", "factory", "importer":
			supplierKeys = append(supplierKeys, k.APIKey)
		case "mcn":
			mcnKeys = append(mcnKeys, k.APIKey)
		}
	}
	client := &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 32}}
	base := "http://" + m.Addr()
	queries := []string{"kiwi", "%E8%8C%B6", "%E8%84%90%E6%A9%99", "walnut", "potato&in_stock=true", "", "orange&price_max=50"}

	type result struct {
		status int
		took   time.Duration
	}
	var (
		mu      sync.Mutex
		results []result
		wg      sync.WaitGroup
	)
	deadline := time.Now().Add(dur)
	for c := 0; c < 16; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(c), 7))
			sup := supplierKeys[c%len(supplierKeys)]
			mcn := mcnKeys[c%len(mcnKeys)]
			var mine []string // product ids this client created
			for i := 0; time.Now().Before(deadline); i++ {
				var req *http.Request
				switch op := rng.IntN(10); {
				case op < 5: // search
					req, _ = http.NewRequest("GET", base+"/v1/products?q="+queries[rng.IntN(len(queries))], nil)
					req.Header.Set("Authorization", "Bearer "+mcn)
				case op < 6: // match
					body := `{"keywords":"猕猴桃 orange","categories":["fresh_fruit"],"poverty_relief_min_share":0.3}`
					req, _ = http.NewRequest("POST", base+"/v1/match/products?limit=10", bytes.NewBufferString(body))
					req.Header.Set("Authorization", "Bearer "+mcn)
				case op < 8 || len(mine) == 0: // write a product
					p := fmt.Sprintf(`{"sku":"LOAD-%d-%d","title_zh":"负载测试 脐橙 %d","category":"fresh_fruit","price_cny":%d,"stock":%d}`,
						c, i, i, 10+rng.IntN(90), rng.IntN(1000))
					req, _ = http.NewRequest("POST", base+"/v1/products", bytes.NewBufferString(p))
					req.Header.Set("Authorization", "Bearer "+sup)
				default: // patch stock of an own product
					id := mine[rng.IntN(len(mine))]
					req, _ = http.NewRequest("PATCH", base+"/v1/products/"+id+"/stock", bytes.NewBufferString(fmt.Sprintf(`{"stock":%d}`, rng.IntN(500))))
					req.Header.Set("Authorization", "Bearer "+sup)
				}
				start := time.Now()
				res, err := client.Do(req)
				if err != nil {
					t.Errorf("%s %s: %v", req.Method, req.URL.Path, err)
					return
				}
				body, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if req.Method == "POST" && req.URL.Path == "/v1/products" && res.StatusCode < 300 {
					var p struct{ ID string }
					if json.Unmarshal(body, &p) == nil {
						mine = append(mine, p.ID)
					}
				}
				if res.StatusCode >= 300 && res.StatusCode != 429 {
					t.Errorf("%s %s: %d %s", req.Method, req.URL.Path, res.StatusCode, body)
				}
				mu.Lock()
				results = append(results, result{res.StatusCode, time.Since(start)})
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	client.CloseIdleConnections()

	lat := make([]time.Duration, len(results))
	limited := 0
	for i, r := range results {
		lat[i] = r.took
		if r.status == 429 {
			limited++
		}
	}
	slices.Sort(lat)
	pct := func(p float64) time.Duration { return lat[min(len(lat)-1, int(float64(len(lat))*p))] }
	if len(lat) == 0 {
		t.Fatal("no requests made")
	}
	t.Logf("%d requests in %s (%.0f/s), %d answered 429; latency p50 %s p95 %s p99 %s",
		len(lat), dur, float64(len(lat))/dur.Seconds(), limited, pct(0.50), pct(0.95), pct(0.99))

	// Everything written is indexed: lag reaches 0.
	for i := 0; ; i++ {
		_, st := call(t, m, "GET", "/v1/index/status", admin, "")
		if st["lag"] == 0.0 {
			break
		}
		if i == 100 {
			t.Fatalf("index lag stays at %v", st["lag"])
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	// No goroutine outlives the server (allow the runtime a moment, and a
	// small slack for the test's own HTTP client and timers).
	var after int
	for i := 0; i < 100; i++ {
		runtime.GC()
		if after = runtime.NumGoroutine(); after <= before+2 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if after > before+2 {
		buf := make([]byte, 1<<20)
		t.Fatalf("%d goroutines before, %d after Close:\n%s", before, after, buf[:runtime.Stack(buf, true)])
	}
}
