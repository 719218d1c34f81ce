package api

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/livematch/livematch/engine"
	"github.com/livematch/livematch/store"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// bulkKiwis returns n NDJSON product lines that every kiwi profile matches.
func bulkKiwis(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `{"sku":"K-%03d","title_zh":"周至猕猴桃 %d号","title_en":"Zhouzhi kiwi no. %d","category":"fresh_fruit","price_cny":%d,"stock":500,"ship_from":"610124"}`+"\n",
			i, i, i, 20+i%50)
	}
	return b.String()
}

// TestPageSizeClamped asks every endpoint that takes ?limit= for too many,
// too few and malformed page sizes: out of range is clamped to 1..100, not a
// number is a 400 naming limit.
func TestPageSizeClamped(t *testing.T) {
	e := newEnv(t, envOpts{now: func() time.Time { return matchClock }})
	coopID, coop := e.newOrg(engine.OrgCooperative, "610124")
	_, mcn := e.newOrg(engine.OrgMCN, "310101")
	r := e.must(200, "POST", "/v1/products:bulk", coop, bulkKiwis(130))
	if r.body["accepted"] != 130.0 {
		t.Fatalf("bulk: %s", r.raw)
	}
	if !eventually(t, 10*time.Second, func() bool {
		return e.must(200, "GET", "/v1/products?limit=1", mcn, nil).body["total"] == 130.0
	}) {
		t.Fatal("products not indexed")
	}
	profile := map[string]any{"name": "kiwi", "keywords": "猕猴桃 kiwi", "categories": []string{"fresh_fruit"},
		"stream_date": "2026-12-12T20:00:00+08:00"}
	pid := e.must(201, "POST", "/v1/demand-profiles", mcn, profile).body["id"].(string)
	// an admin action, so the cooperative's audit trail has an entry
	e.must(200, "PATCH", "/v1/orgs/"+coopID, e.admin, map[string]any{"grade": "A"})
	anyProduct := e.must(200, "GET", "/v1/products?limit=1", coop, nil).body["items"].([]any)[0].(map[string]any)["id"].(string)

	for _, tc := range []struct {
		method, path, key string
		body              any
		big               int // items when asking for more than 100
	}{
		{"GET", "/v1/products", mcn, nil, 100},
		{"GET", "/v1/demand-profiles/" + pid + "/matches", mcn, nil, 100},
		{"POST", "/v1/match/products", mcn, profile, 100},
		{"GET", "/v1/meta/regions?q=" + url.QueryEscape("县"), mcn, nil, 100},
		{"GET", "/v1/products/" + anyProduct + "/buyers", coop, nil, 1},
		{"GET", "/v1/orgs/" + coopID + "/audit", coop, nil, 2}, // created, graded
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			ask := func(limit string) resp {
				sep := "?"
				if strings.Contains(tc.path, "?") {
					sep = "&"
				}
				return e.do(tc.method, tc.path+sep+"limit="+url.QueryEscape(limit), tc.key, tc.body)
			}
			for _, c := range []struct {
				limit string
				want  int
			}{{"1000", tc.big}, {"101", tc.big}, {"0", 1}, {"-7", 1}, {"3", min(3, tc.big)}} {
				r := ask(c.limit)
				if r.status != 200 {
					t.Fatalf("limit=%s: %d %s", c.limit, r.status, r.raw)
				}
				if n := len(r.body["items"].([]any)); n != c.want {
					t.Errorf("limit=%s: %d items, want %d", c.limit, n, c.want)
				}
			}
			for _, bad := range []string{"ten", "1e3", "99999999999999999999", "1.5"} {
				r := ask(bad)
				if r.status != 400 || !slices.Contains(fieldsOf(r), "limit") {
					t.Errorf("limit=%s: %d %v %s", bad, r.status, fieldsOf(r), r.raw)
				}
			}
		})
	}
}

// TestListPagination walks each list endpoint page by page: every object
// exactly once, in id order, the last page without a cursor; a foreign or
// garbled cursor is a 400 naming cursor.
func TestListPagination(t *testing.T) {
	e := newEnv(t, envOpts{now: func() time.Time { return matchClock }})
	_, mcn := e.newOrg(engine.OrgMCN, "310101")
	_, firm := e.newOrg(engine.OrgCrossborderFirm, "440304")
	const n = 23
	made := map[string][]string{}
	for i := range n {
		p := map[string]any{"name": fmt.Sprintf("stream %d", i), "keywords": "茶", "stream_date": "2026-12-12T20:00:00+08:00"}
		made["/v1/demand-profiles"] = append(made["/v1/demand-profiles"], e.must(201, "POST", "/v1/demand-profiles", mcn, p).body["id"].(string))
		h := lily()
		h["name"] = fmt.Sprintf("Host %d", i)
		made["/v1/hosts"] = append(made["/v1/hosts"], e.must(201, "POST", "/v1/hosts", mcn, h).body["id"].(string))
		req := map[string]any{"title": fmt.Sprintf("request %d", i), "target_markets": []string{"MY"},
			"languages": []map[string]string{{"code": "ms", "min_level": "conversational"}}}
		made["/v1/host-requests"] = append(made["/v1/host-requests"], e.must(201, "POST", "/v1/host-requests", firm, req).body["id"].(string))
		id, _ := e.newOrg(engine.OrgFactory, "330106")
		made["/v1/orgs"] = append(made["/v1/orgs"], id)
	}
	keys := map[string]string{"/v1/demand-profiles": mcn, "/v1/hosts": mcn, "/v1/host-requests": firm, "/v1/orgs": e.admin}
	for path, want := range made {
		t.Run(path, func(t *testing.T) {
			var got []string
			cursor, pages := "", 0
			for {
				q := "?limit=10"
				if cursor != "" {
					q += "&cursor=" + url.QueryEscape(cursor)
				}
				r := e.must(200, "GET", path+q, keys[path], nil)
				items := r.body["items"].([]any)
				if len(items) > 10 {
					t.Fatalf("page of %d", len(items))
				}
				for _, it := range items {
					got = append(got, it.(map[string]any)["id"].(string))
				}
				pages++
				cursor, _ = r.body["next_cursor"].(string)
				if cursor == "" || pages > 20 {
					break
				}
			}
			if !slices.IsSorted(got) {
				t.Errorf("not in id order: %v", got)
			}
			if len(slices.Compact(slices.Clone(got))) != len(got) {
				t.Errorf("an object on two pages: %v", got)
			}
			for _, id := range want {
				if !slices.Contains(got, id) {
					t.Errorf("%s never listed (%d pages, %d items)", id, pages, len(got))
				}
			}
			if path != "/v1/orgs" && len(got) != n { // the org list also has the admin, the MCN and the firm
				t.Errorf("%d items, want %d", len(got), n)
			}
			if r := e.must(200, "GET", path, keys[path], nil); len(r.body["items"].([]any)) != 20 || r.body["next_cursor"] == "" {
				t.Errorf("default page: %d items, next %q", len(r.body["items"].([]any)), r.body["next_cursor"])
			}
			for _, bad := range []string{"zzz", "o:5", encodeCursor(5), "!!!"} {
				r := e.do("GET", path+"?cursor="+url.QueryEscape(bad), keys[path], nil)
				if r.status != 400 || !slices.Contains(fieldsOf(r), "cursor") {
					t.Errorf("cursor %q: %d %s", bad, r.status, r.raw)
				}
			}
		})
	}
}

// TestQueryTimeBound runs searches and matches with a time bound no query
// can meet: each answers 503 with Retry-After as a problem, never 500 and
// never a hang; requests that run no query are not affected.
func TestQueryTimeBound(t *testing.T) {
	e := newEnv(t, envOpts{now: func() time.Time { return matchClock }, queryTimeout: time.Nanosecond})
	coopID, coop := e.newOrg(engine.OrgCooperative, "610124")
	_, mcn := e.newOrg(engine.OrgMCN, "310101")
	_, firm := e.newOrg(engine.OrgCrossborderFirm, "440304")
	e.must(200, "POST", "/v1/products:bulk", coop, bulkKiwis(20))
	e.must(201, "POST", "/v1/hosts", mcn, lily())
	profile := map[string]any{"name": "kiwi", "keywords": "猕猴桃 kiwi", "stream_date": "2026-12-12T20:00:00+08:00"}
	pid := e.must(201, "POST", "/v1/demand-profiles", mcn, profile).body["id"].(string)
	req := map[string]any{"title": "tea", "target_markets": []string{"MY"}, "notes": "懂水果",
		"languages": []map[string]string{{"code": "zh", "min_level": "fluent"}}}
	rid := e.must(201, "POST", "/v1/host-requests", firm, req).body["id"].(string)
	if !eventually(t, 10*time.Second, func() bool { return e.index.Status().Products == 20 }) {
		t.Fatal("products not indexed")
	}
	anyProduct := store.ProductID(coopID, "K-000")
	for _, tc := range []struct {
		method, path, key string
		body              any
	}{
		{"GET", "/v1/products?q=" + url.QueryEscape("猕猴桃 kiwi"), mcn, nil},
		{"GET", "/v1/products", mcn, nil},
		{"GET", "/v1/demand-profiles/" + pid + "/matches", mcn, nil},
		{"POST", "/v1/match/products", mcn, profile},
		{"GET", "/v1/products/" + anyProduct + "/buyers", coop, nil},
		{"GET", "/v1/host-requests/" + rid + "/matches", firm, nil},
		{"POST", "/v1/match/hosts", firm, req},
	} {
		r := e.do(tc.method, tc.path, tc.key, tc.body)
		if r.status != 503 || r.header.Get("Retry-After") == "" || r.header.Get("Content-Type") != "application/problem+json" ||
			!strings.Contains(r.body["detail"].(string), "longer than allowed") && !strings.Contains(r.body["detail"].(string), "in time") {
			t.Errorf("%s %s: %d %v %s", tc.method, tc.path, r.status, r.header, r.raw)
		}
	}
	e.must(200, "GET", "/v1/orgs/"+coopID, coop, nil)
	e.must(200, "GET", "/v1/demand-profiles/"+pid, mcn, nil)
}

// TestQueriesWaitTheirTurn holds every query turn (--max-queries 1): a
// search or match then waits in line and, when its time bound runs out
// first, answers 503 with Retry-After (never 500, never a hang), while
// requests that run no query go on; once the turn is free, queries run
// again and the waiting gauge is back to zero.
func TestQueriesWaitTheirTurn(t *testing.T) {
	e := newEnv(t, envOpts{now: func() time.Time { return matchClock }, queryTimeout: 3 * time.Second, maxQueries: 1})
	coopID, coop := e.newOrg(engine.OrgCooperative, "610124")
	_, mcn := e.newOrg(engine.OrgMCN, "310101")
	e.must(200, "POST", "/v1/products:bulk", coop, bulkKiwis(5))
	profile := map[string]any{"name": "kiwi", "keywords": "猕猴桃", "stream_date": "2026-12-12T20:00:00+08:00"}
	pid := e.must(201, "POST", "/v1/demand-profiles", mcn, profile).body["id"].(string)
	if !eventually(t, 10*time.Second, func() bool { return e.index.Status().Products == 5 }) {
		t.Fatal("products not indexed")
	}
	queries := []struct{ method, path string }{
		{"GET", "/v1/products?q=" + url.QueryEscape("猕猴桃")},
		{"GET", "/v1/demand-profiles/" + pid + "/matches"},
	}
	_, release, err := e.server.query(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range queries {
		r := e.do(q.method, q.path, mcn, nil)
		if r.status != 503 || r.header.Get("Retry-After") == "" || r.header.Get("Content-Type") != "application/problem+json" ||
			!strings.Contains(string(r.raw), "came in time") {
			t.Errorf("%s %s while the turn is held: %d %v %s", q.method, q.path, r.status, r.header, r.raw)
		}
	}
	e.must(200, "GET", "/v1/orgs/"+coopID, coop, nil)

	// A query that waits gets the turn when it is released.
	done := make(chan resp, 1)
	go func() { done <- e.do(queries[0].method, queries[0].path, mcn, nil) }()
	if !eventually(t, 5*time.Second, func() bool { return testutil.ToFloat64(e.server.metrics.queued) == 1 }) {
		t.Fatal("the search is not waiting for its turn")
	}
	release()
	if r := <-done; r.status != 200 {
		t.Fatalf("the waiting search: %d %s", r.status, r.raw)
	}
	for _, q := range queries {
		if r := e.do(q.method, q.path, mcn, nil); r.status != 200 {
			t.Errorf("%s %s after the turn is free: %d %s", q.method, q.path, r.status, r.raw)
		}
	}
	if n := testutil.ToFloat64(e.server.metrics.queued); n != 0 {
		t.Errorf("%v queries still counted as waiting", n)
	}
}
