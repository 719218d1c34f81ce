package api

import (
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/livematch/livematch/engine"
)

// TestConcurrentStockUpdatesWithIfMatch runs many clients that each read a
// product and write its stock with If-Match: every acknowledged write gets
// its own version, the others answer 412, and the final state is the last
// acknowledged write.
func TestConcurrentStockUpdatesWithIfMatch(t *testing.T) {
	e := newEnv(t)
	_, key := e.newOrg(engine.OrgCooperative, "360732")
	id := e.must(201, "POST", "/v1/products", key, product("RACE-1")).body["id"].(string)

	const clients, attempts = 8, 12
	type ack struct {
		version int64
		stock   int64
	}
	var (
		mu        sync.Mutex
		acks      []ack
		conflicts int
		wg        sync.WaitGroup
	)
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for a := 0; a < attempts; a++ {
				r := e.do("GET", "/v1/products/"+id, key, nil)
				if r.status != 200 {
					t.Errorf("read: %d", r.status)
					return
				}
				etag := r.header.Get("ETag")
				stock := int64(c*1000 + a)
				w := e.do("PATCH", "/v1/products/"+id+"/stock", key, map[string]any{"stock": stock}, "If-Match", etag)
				mu.Lock()
				switch w.status {
				case 200:
					v, err := strconv.ParseInt(strings.Trim(w.header.Get("ETag"), `"`), 10, 64)
					if err != nil || w.body["stock"] != float64(stock) {
						t.Errorf("ack: etag %q body %s", w.header.Get("ETag"), w.raw)
					}
					acks = append(acks, ack{v, stock})
				case 412:
					conflicts++
				default:
					t.Errorf("write: %d %s", w.status, w.raw)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(acks) == 0 {
		t.Fatal("no write was acknowledged")
	}
	seen := map[int64]bool{}
	last := acks[0]
	for _, a := range acks {
		if seen[a.version] {
			t.Errorf("version %d acknowledged twice", a.version)
		}
		seen[a.version] = true
		if a.version > last.version {
			last = a
		}
	}
	final := e.must(200, "GET", "/v1/products/"+id, key, nil)
	if final.body["stock"] != float64(last.stock) || final.body["version"] != float64(last.version) {
		t.Fatalf("final stock %v version %v, last acknowledged %+v", final.body["stock"], final.body["version"], last)
	}
	if int(last.version) != 1+len(acks) {
		t.Errorf("version %d after %d acknowledged writes on version 1", last.version, len(acks))
	}
	t.Logf("%d writes acknowledged, %d answered 412", len(acks), conflicts)
	if len(acks)+conflicts != clients*attempts {
		t.Errorf("%d answers for %d writes", len(acks)+conflicts, clients*attempts)
	}
}
