package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/livematch/livematch/engine"
	"github.com/livematch/livematch/store"
)

func mustJSON(tb testing.TB, v any) string {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

func without(m map[string]any, keys ...string) map[string]any {
	for _, k := range keys {
		delete(m, k)
	}
	return m
}

func TestEveryKindHasAStatus(t *testing.T) {
	seen := map[int]engine.Kind{}
	for _, k := range engine.Kinds() {
		st := statusOf(k)
		if st < 400 || st > 599 {
			t.Errorf("%v maps to %d", k, st)
		}
		if other, dup := seen[st]; dup {
			t.Errorf("%v and %v both map to %d", k, other, st)
		}
		seen[st] = k
	}
}

func TestAuth(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct{ name, header string }{
		{"no header", ""},
		{"not bearer", "Basic abc"},
		{"unknown key", "Bearer lm_nope"},
		{"empty bearer", "Bearer "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("GET", "/v1/products", "", nil, "Authorization", tc.header)
			if r.status != 401 || r.header.Get("WWW-Authenticate") == "" {
				t.Fatalf("status %d, www-authenticate %q", r.status, r.header.Get("WWW-Authenticate"))
			}
		})
	}
	// Meta routes need no key.
	e.must(200, "GET", "/v1/meta/categories", "", nil)
}

func TestOrgs(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		kind             engine.OrgKind
		region, province string
		relief           bool
	}{
		{engine.OrgCooperative, "360732", "360000", true}, // 兴国县, a former national poverty county
		{engine.OrgFactory, "330782", "330000", false},    // 义乌市
		{engine.OrgImporter, "310115", "310000", false},   // 浦东新区
		{engine.OrgMCN, "330106", "330000", false},        // 杭州西湖区
		{engine.OrgCrossborderFirm, "440304", "440000", false},
		{engine.OrgCooperative, "532601", "530000", true}, // 文山市 (listed under its prefecture code 532600)
	}
	var firstID, firstKey string
	for _, tc := range cases {
		r := e.must(201, "POST", "/v1/orgs", e.admin, map[string]any{"kind": tc.kind, "name_zh": "某机构", "region_code": tc.region})
		if r.body["poverty_relief"] != tc.relief || r.body["province"] != tc.province {
			t.Errorf("%s %s: poverty_relief %v province %v, want %v %s", tc.kind, tc.region, r.body["poverty_relief"], r.body["province"], tc.relief, tc.province)
		}
		key, _ := r.body["api_key"].(string)
		if !strings.HasPrefix(key, "lm_") || r.header.Get("ETag") != `"1"` {
			t.Errorf("key %q etag %q", key, r.header.Get("ETag"))
		}
		if firstID == "" {
			firstID, firstKey = r.body["id"].(string), key
		}
		// The key works and is never shown again.
		me := e.must(200, "GET", "/v1/orgs/"+r.body["id"].(string), key, nil)
		if _, shown := me.body["api_key"]; shown || me.body["kind"] != string(tc.kind) {
			t.Errorf("GET own org: %s", me.raw)
		}
	}
	// Poverty relief cannot be self-declared, nor can unknown fields pass.
	r := e.must(400, "POST", "/v1/orgs", e.admin, map[string]any{"kind": "cooperative", "name_zh": "x", "region_code": "310101", "poverty_relief": true})
	if !slices.Contains(fieldsOf(r), "poverty_relief") {
		t.Errorf("self-declared relief: fields %v", fieldsOf(r))
	}
	r = e.must(400, "POST", "/v1/orgs", e.admin, map[string]any{"kind": "shop", "name_zh": "", "region_code": "999999", "grade": "D", "countries": []string{"XX"}})
	for _, f := range []string{"kind", "name_zh", "region_code", "grade", "countries[0]"} {
		if !slices.Contains(fieldsOf(r), f) {
			t.Errorf("bad org: fields %v lack %s", fieldsOf(r), f)
		}
	}
	// Only the admin creates orgs; an org sees only itself.
	e.must(403, "POST", "/v1/orgs", firstKey, map[string]any{"kind": "mcn", "name_zh": "x", "region_code": "310101"})
	_, otherKey := e.newOrg(engine.OrgMCN, "310101")
	e.must(404, "GET", "/v1/orgs/"+firstID, otherKey, nil)
	e.must(404, "POST", "/v1/orgs/"+firstID+"/keys", otherKey, nil)
	e.must(403, "PATCH", "/v1/orgs/"+firstID, otherKey, map[string]any{"grade": "A"})

	// Admin grades and suspends, with If-Match, and the audit trail shows it.
	e.must(412, "PATCH", "/v1/orgs/"+firstID, e.admin, map[string]any{"grade": "A"}, "If-Match", `"7"`)
	r = e.must(200, "PATCH", "/v1/orgs/"+firstID, e.admin, map[string]any{"grade": "A", "status": "suspended"}, "If-Match", `"1"`)
	if r.body["grade"] != "A" || r.body["status"] != "suspended" || r.body["version"] != 2.0 {
		t.Errorf("patch: %s", r.raw)
	}
	e.must(400, "PATCH", "/v1/orgs/"+firstID, e.admin, map[string]any{"grade": "Z"})
	audit := e.must(200, "GET", "/v1/orgs/"+firstID+"/audit", firstKey, nil)
	items, _ := audit.body["items"].([]any)
	if len(items) != 2 {
		t.Fatalf("audit: %s", audit.raw)
	}
	last := items[1].(map[string]any)
	if last["action"] != "org.update" || last["before"].(map[string]any)["grade"] != "B" || last["after"].(map[string]any)["status"] != "suspended" {
		t.Errorf("audit entry: %v", last)
	}

	// Key rotation: the old key stops working at once.
	r = e.must(201, "POST", "/v1/orgs/"+firstID+"/keys", firstKey, nil)
	newKey := r.body["api_key"].(string)
	e.must(401, "GET", "/v1/orgs/"+firstID, firstKey, nil)
	e.must(200, "GET", "/v1/orgs/"+firstID, newKey, nil)
}

func TestProductLifecycle(t *testing.T) {
	e := newEnv(t)
	coop, coopKey := e.newOrg(engine.OrgCooperative, "360732")
	_, factoryKey := e.newOrg(engine.OrgFactory, "330782")
	_, mcnKey := e.newOrg(engine.OrgMCN, "310101")

	r := e.must(201, "POST", "/v1/products", coopKey, product("GN-ORANGE-5KG"))
	id := r.body["id"].(string)
	if r.body["org_id"] != coop || r.body["review_status"] != "approved" || r.body["poverty_relief"] != true ||
		r.body["version"] != 1.0 || r.header.Get("ETag") != `"1"` || r.body["province"] != "360000" {
		t.Fatalf("create: %s", r.raw)
	}
	certs := r.body["certifications"].([]any)
	if len(certs) != 2 || certs[1].(map[string]any)["number"] != "LB-18-2311120456A" || certs[0].(map[string]any)["valid"] != true {
		t.Errorf("certifications: %v", certs)
	}
	// Upsert by sku.
	p := product("GN-ORANGE-5KG")
	p["stock"] = 4000
	r = e.must(200, "POST", "/v1/products", coopKey, p)
	if r.body["id"] != id || r.body["version"] != 2.0 || r.body["stock"] != 4000.0 {
		t.Fatalf("upsert: %s", r.raw)
	}
	// Roles and ownership.
	e.must(403, "POST", "/v1/products", mcnKey, product("X"))
	e.must(404, "PUT", "/v1/products/"+id, factoryKey, product("GN-ORANGE-5KG"))
	e.must(404, "DELETE", "/v1/products/"+id, factoryKey, nil)
	e.must(404, "PATCH", "/v1/products/"+id+"/stock", factoryKey, map[string]any{"stock": 1})
	e.must(403, "PATCH", "/v1/products/"+id+"/review", coopKey, map[string]any{"review_status": "approved"})
	// Everyone reads approved products.
	e.must(200, "GET", "/v1/products/"+id, mcnKey, nil)

	// If-Match.
	e.must(412, "PUT", "/v1/products/"+id, coopKey, p, "If-Match", `"1"`)
	p["title_zh"] = "赣南脐橙 10斤装"
	r = e.must(200, "PUT", "/v1/products/"+id, coopKey, p, "If-Match", `"2"`)
	if r.body["title_zh"] != "赣南脐橙 10斤装" || r.body["version"] != 3.0 {
		t.Fatalf("put: %s", r.raw)
	}
	p["sku"] = "OTHER"
	r = e.must(400, "PUT", "/v1/products/"+id, coopKey, p)
	if !slices.Contains(fieldsOf(r), "sku") {
		t.Errorf("sku change: %v", fieldsOf(r))
	}
	e.must(412, "PATCH", "/v1/products/"+id+"/stock", coopKey, map[string]any{"stock": 1}, "If-Match", `"2"`)
	r = e.must(200, "PATCH", "/v1/products/"+id+"/stock", coopKey, map[string]any{"stock": 0})
	if r.body["stock"] != 0.0 || r.body["version"] != 4.0 {
		t.Fatalf("stock: %s", r.raw)
	}
	r = e.must(400, "PATCH", "/v1/products/"+id+"/stock", coopKey, map[string]any{"stock": -1})
	if !slices.Contains(fieldsOf(r), "stock") {
		t.Errorf("negative stock: %v", fieldsOf(r))
	}

	// Admin review hides a product from others, and is audited.
	e.must(200, "PATCH", "/v1/products/"+id+"/review", e.admin, map[string]any{"review_status": "rejected"})
	e.must(404, "GET", "/v1/products/"+id, mcnKey, nil)
	e.must(200, "GET", "/v1/products/"+id, coopKey, nil)
	audit := e.must(200, "GET", "/v1/orgs/"+coop+"/audit", e.admin, nil)
	if !strings.Contains(string(audit.raw), "product.review") {
		t.Errorf("audit lacks the review: %s", audit.raw)
	}

	e.must(204, "DELETE", "/v1/products/"+id, coopKey, nil)
	e.must(404, "GET", "/v1/products/"+id, coopKey, nil)
	e.must(404, "DELETE", "/v1/products/"+id, coopKey, nil)
}

func TestReviewRequired(t *testing.T) {
	e := newEnv(t, envOpts{reviewRequired: true})
	_, coopKey := e.newOrg(engine.OrgCooperative, "360732")
	_, mcnKey := e.newOrg(engine.OrgMCN, "310101")
	r := e.must(201, "POST", "/v1/products", coopKey, product("R-1"))
	id := r.body["id"].(string)
	if r.body["review_status"] != "pending" {
		t.Fatalf("review_status %v", r.body["review_status"])
	}
	e.must(404, "GET", "/v1/products/"+id, mcnKey, nil)
	e.must(200, "PATCH", "/v1/products/"+id+"/review", e.admin, map[string]any{"review_status": "approved"})
	e.must(200, "GET", "/v1/products/"+id, mcnKey, nil)
	// A changed product goes back to review.
	r = e.must(200, "POST", "/v1/products", coopKey, product("R-1"))
	if r.body["review_status"] != "pending" {
		t.Fatalf("after change: %v", r.body["review_status"])
	}
}

func TestBadInput(t *testing.T) {
	e := newEnv(t)
	_, coopKey := e.newOrg(engine.OrgCooperative, "360732")
	with := func(k string, v any) map[string]any {
		p := product("BAD")
		if v == nil {
			delete(p, k)
		} else {
			p[k] = v
		}
		return p
	}
	cases := []struct {
		name   string
		body   any
		status int
		field  string
	}{
		{"malformed", `{"sku": `, 400, "body"},
		{"not an object", `[1,2]`, 400, "body"},
		{"empty", ``, 400, "body"},
		{"trailing data", `{"sku":"A"} {"x":1}`, 400, "body"},
		{"unknown field", with("colour", "red"), 400, "colour"},
		{"wrong type", with("price_cny", "cheap"), 400, "price_cny"},
		{"huge integer", `{"sku":"A","stock":1e30}`, 400, "stock"},
		{"missing price", with("price_cny", nil), 400, "price_cny"},
		{"missing stock", with("stock", nil), 400, "stock"},
		{"negative price", with("price_cny", -1), 400, "price_cny"},
		{"commission over 1", with("commission_rate", 1.5), 400, "commission_rate"},
		{"unknown category", with("category", "drones"), 400, "category"},
		{"bad region", with("ship_from", "123456"), 400, "ship_from"},
		{"month 13", with("available_months", []int{1, 13}), 400, "available_months[1]"},
		{"unknown certification", with("certifications", []any{"iso9001", "made_up"}), 400, "certifications[1].type"},
		{"bad certification expiry", with("certifications", []any{map[string]any{"type": "organic", "expires_at": "next year"}}), 400, "certifications[0]"},
		{"certification of wrong type", with("certifications", []any{42}), 400, "certifications[0]"},
		{"no title", without(product("BAD"), "title_zh", "title_en"), 400, "title_zh"},
		{"bad tag", with("tags", []any{""}), 400, "tags[0]"},
		{"bad country", with("origin_country", "Narnia"), 400, "origin_country"},
		{"NUL in text", with("title_zh", "a\u0000b"), 400, "title_zh"},
		{"too large", `{"sku":"` + strings.Repeat("a", 2<<20) + `"}`, 413, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("POST", "/v1/products", coopKey, tc.body)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.raw)
			}
			if tc.field != "" && !slices.Contains(fieldsOf(r), tc.field) {
				t.Fatalf("fields %v lack %q: %s", fieldsOf(r), tc.field, r.raw)
			}
			if r.body["status"] != float64(tc.status) || r.body["type"] == "" || r.body["title"] == "" {
				t.Fatalf("not a problem document: %s", r.raw)
			}
		})
	}
}

func TestBulk(t *testing.T) {
	e := newEnv(t)
	coop, coopKey := e.newOrg(engine.OrgCooperative, "360732")
	_, mcnKey := e.newOrg(engine.OrgMCN, "310101")
	var lines []string
	for i := 1; i <= 30; i++ {
		p := product(fmt.Sprintf("BULK-%02d", i))
		p["title_zh"] = fmt.Sprintf("兴国脐橙 批次%02d", i)
		lines = append(lines, mustJSON(t, p))
	}
	lines[4] = `{"sku": "BROKEN", "price_cny": "x"}`
	lines[9] = `not json at all`
	bad := product("BULK-BAD")
	bad["category"] = "drones"
	lines[14] = mustJSON(t, bad)
	lines = append(lines, "", "   ") // blank lines are skipped
	r := e.must(200, "POST", "/v1/products:bulk", coopKey, strings.Join(lines, "\n"), "Content-Type", "application/x-ndjson")
	if r.body["accepted"] != 27.0 || r.body["rejected"] != 3.0 {
		t.Fatalf("bulk: %s", r.raw)
	}
	errs := r.body["errors"].([]any)
	got := []float64{}
	for _, le := range errs {
		got = append(got, le.(map[string]any)["line"].(float64))
	}
	if !slices.Equal(got, []float64{5, 10, 15}) {
		t.Errorf("error lines %v", got)
	}
	if e15 := errs[2].(map[string]any); e15["sku"] != "BULK-BAD" || !strings.Contains(fmt.Sprint(e15["errors"]), "category") {
		t.Errorf("line 15: %v", e15)
	}
	// Good lines are stored and become searchable.
	ok := eventually(t, 5*time.Second, func() bool {
		s := e.must(200, "GET", "/v1/products?q=兴国脐橙&limit=100", mcnKey, nil)
		return s.body["total"] == 27.0
	})
	if !ok {
		t.Fatal("bulk products did not become searchable")
	}
	// A second import of the same lines updates, not duplicates.
	r = e.must(200, "POST", "/v1/products:bulk", coopKey, strings.Join(lines, "\n"))
	if r.body["accepted"] != 27.0 {
		t.Fatalf("re-import: %s", r.raw)
	}
	s := e.must(200, "GET", "/v1/products/"+store.ProductID(coop, "BULK-01"), coopKey, nil)
	if s.body["version"] != 2.0 {
		t.Errorf("re-import version %v", s.body["version"])
	}
	e.must(403, "POST", "/v1/products:bulk", mcnKey, lines[0])
}

func TestStockReachesSearch(t *testing.T) {
	e := newEnv(t)
	_, coopKey := e.newOrg(engine.OrgCooperative, "360732")
	_, mcnKey := e.newOrg(engine.OrgMCN, "310101")
	r := e.must(201, "POST", "/v1/products", coopKey, product("STOCK-1"))
	id := r.body["id"].(string)
	inStock := func() float64 {
		return e.must(200, "GET", "/v1/products?in_stock=true&q=脐橙", mcnKey, nil).body["total"].(float64)
	}
	if !eventually(t, 5*time.Second, func() bool { return inStock() == 1 }) {
		t.Fatal("new product not searchable")
	}
	e.must(200, "PATCH", "/v1/products/"+id+"/stock", coopKey, map[string]any{"stock": 0})
	if !eventually(t, 5*time.Second, func() bool { return inStock() == 0 }) {
		t.Fatal("stock change did not reach search")
	}
	st := e.must(200, "GET", "/v1/index/status", e.admin, nil)
	if st.body["lag"] != 0.0 || st.body["documents"] != 1.0 || st.body["last_seq_applied"] != 2.0 {
		t.Errorf("index status: %s", st.raw)
	}
	e.must(403, "GET", "/v1/index/status", coopKey, nil)
	e.must(200, "GET", "/readyz", "", nil)
	e.must(200, "GET", "/healthz", "", nil)
	m := e.must(200, "GET", "/metrics", "", nil)
	if !strings.Contains(string(m.raw), `livematch_http_requests_total{method="PATCH",route="/v1/products/:id/stock",status="200"} 1`) {
		t.Errorf("metrics lack the stock patch")
	}
}

func TestRateLimit(t *testing.T) {
	e := newEnv(t, envOpts{rateLimit: 1})
	_, key := e.newOrg(engine.OrgMCN, "310101")
	limited := 0
	for i := 0; i < 250; i++ {
		r := e.do("GET", "/v1/meta/categories", key, nil) // meta is not limited
		if r.status != 200 {
			t.Fatalf("meta: %d", r.status)
		}
	}
	for i := 0; i < 250; i++ {
		r := e.do("GET", "/v1/orgs/x", key, nil)
		if r.status == http.StatusTooManyRequests {
			limited++
			if r.header.Get("Retry-After") == "" {
				t.Fatal("429 without Retry-After")
			}
		}
	}
	if limited == 0 {
		t.Fatal("250 requests at burst 200 and 1/s were never limited")
	}
}

func TestRoutesAnswerProblems(t *testing.T) {
	e := newEnv(t)
	r := e.must(404, "GET", "/v1/nope", e.admin, nil)
	if r.body["status"] != 404.0 {
		t.Errorf("%s", r.raw)
	}
	e.must(400, "PATCH", "/v1/products", e.admin, nil)
}
