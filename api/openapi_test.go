package api

import (
	"bytes"
	"context"
	"io"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"github.com/livematch/livematch/engine"
)

// loadOpenAPI parses the embedded document.
func loadOpenAPI(t *testing.T) *openapi3.T {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(OpenAPI())
	if err != nil {
		t.Fatalf("load openapi.json: %v", err)
	}
	return doc
}

func TestOpenAPIValid(t *testing.T) {
	doc := loadOpenAPI(t)
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi = %q, want 3.1.0", doc.OpenAPI)
	}
	if !doc.IsOpenAPI31OrLater() {
		t.Errorf("the document is not treated as OpenAPI 3.1")
	}
	if err := doc.Validate(context.Background(), openapi3.EnableMultiError()); err != nil {
		t.Fatalf("openapi.json is not valid: %v", err)
	}

	// Every operation is named, summarised, described and tagged.
	known := map[string]bool{"orgs": true, "products": true, "search": true, "demand-profiles": true, "hosts": true,
		"host-requests": true, "matching": true, "meta": true, "ops": true, "deals": true}
	for _, tag := range doc.Tags {
		if !known[tag.Name] || tag.Description == "" {
			t.Errorf("tag %q: unknown or not described", tag.Name)
		}
	}
	ids := map[string]string{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			where := method + " " + path
			if op.OperationID == "" || op.Summary == "" || op.Description == "" {
				t.Errorf("%s: operationId, summary and description are required", where)
			}
			if prev, dup := ids[op.OperationID]; dup {
				t.Errorf("%s: operationId %q is also used by %s", where, op.OperationID, prev)
			}
			ids[op.OperationID] = where
			if len(op.Tags) != 1 || !known[op.Tags[0]] {
				t.Errorf("%s: tags = %v, want one of %v", where, op.Tags, slices.Sorted(maps.Keys(known)))
			}
		}
	}
}

// openapiPublic are the routes that need no API key.
func openapiPublic(method, path string) bool {
	return method == http.MethodGet && (strings.HasPrefix(path, "/v1/meta/") ||
		slices.Contains([]string{"/healthz", "/readyz", "/metrics", "/openapi.json"}, path))
}

// ginParam matches a gin path parameter (":id") at the start of a segment.
var ginParam = regexp.MustCompile(`/:([A-Za-z_][A-Za-z0-9_]*)`)

// openapiPath converts a gin route path into OpenAPI form: "/v1/orgs/:id"
// becomes "/v1/orgs/{id}" and the escaped literal colon of
// "/v1/products\:bulk" becomes "/v1/products:bulk".
func openapiPath(ginPath string) string {
	p := strings.ReplaceAll(ginPath, `\:`, "\x00")
	p = ginParam.ReplaceAllString(p, "/{$1}")
	return strings.ReplaceAll(p, "\x00", ":")
}

func TestOpenAPIPath(t *testing.T) {
	for in, want := range map[string]string{
		"/v1/orgs/:id":        "/v1/orgs/{id}",
		"/v1/orgs/:id/audit":  "/v1/orgs/{id}/audit",
		`/v1/products\:bulk`:  "/v1/products:bulk",
		"/v1/products:bulk":   "/v1/products:bulk",
		"/v1/products/:id/st": "/v1/products/{id}/st",
		"/openapi.json":       "/openapi.json",
	} {
		if got := openapiPath(in); got != want {
			t.Errorf("openapiPath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestOpenAPICoversRoutes(t *testing.T) {
	doc := loadOpenAPI(t)
	s := New(Config{})

	documented := map[string]*openapi3.Operation{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			documented[method+" "+path] = op
		}
	}

	routes := map[string]bool{}
	for _, r := range s.Routes() {
		key := r.Method + " " + openapiPath(r.Path)
		routes[key] = true
		op, ok := documented[key]
		if !ok {
			t.Errorf("route %s %s (%s) is not in openapi.json", r.Method, r.Path, key)
			continue
		}
		path := openapiPath(r.Path)
		public := openapiPublic(r.Method, path)
		switch {
		case public && (op.Security == nil || len(*op.Security) != 0):
			t.Errorf("%s: a public route must have security: []", key)
		case !public && op.Security != nil:
			t.Errorf("%s: an authenticated route must use the document's bearer security", key)
		}
		if !public && op.Responses.Status(http.StatusUnauthorized) == nil {
			t.Errorf("%s: an authenticated route must document 401", key)
		}
	}
	if len(routes) == 0 {
		t.Fatal("the server has no routes")
	}
	for key := range documented {
		if !routes[key] {
			t.Errorf("openapi.json documents %s, which is not a route", key)
		}
	}

	// The bulk route is the literal path with a colon.
	if _, ok := documented[http.MethodPost+" /v1/products:bulk"]; !ok {
		t.Errorf("POST /v1/products:bulk is not documented")
	}
	if _, ok := firstRequirement(doc.Security)["bearer"]; !ok || len(doc.Security) != 1 {
		t.Errorf("the document's default security must be the bearer scheme, got %v", doc.Security)
	}
}

func firstRequirement(reqs openapi3.SecurityRequirements) openapi3.SecurityRequirement {
	if len(reqs) == 0 {
		return nil
	}
	return reqs[0]
}

// conformance sends real requests to a running API and validates each
// request and response against the document.
type conformance struct {
	t    *testing.T
	e    *env
	doc  *openapi3.T
	seen map[string]bool
}

var ndjsonDecoder sync.Once

// call sends method tmpl (an OpenAPI path, its parameters filled from
// params) with the query, key, body and header pairs, asserts the status and
// validates the exchange against the document (the request only when it is
// meant to be good).
func (c *conformance) call(status int, method, tmpl string, params map[string]string, query, key string, body any, hdr ...string) resp {
	c.t.Helper()
	path := tmpl
	for k, v := range params {
		path = strings.ReplaceAll(path, "{"+k+"}", url.PathEscape(v))
	}
	if query != "" {
		path += "?" + query
	}
	r := c.e.do(method, path, key, body, hdr...)
	if r.status != status {
		c.t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.status, status, r.raw)
	}
	item := c.doc.Paths.Value(tmpl)
	if item == nil || item.GetOperation(method) == nil {
		c.t.Fatalf("%s %s is not documented", method, tmpl)
	}
	c.seen[method+" "+tmpl] = true

	req, _ := c.e.request(method, path, key, body, hdr...)
	ctx := context.Background()
	in := &openapi3filter.RequestValidationInput{
		Request:    req,
		PathParams: params,
		Route:      &routers.Route{Spec: c.doc, Path: tmpl, PathItem: item, Method: method, Operation: item.GetOperation(method)},
		Options:    &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true},
	}
	if status < 400 {
		if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
			c.t.Errorf("%s %s: the request does not match openapi.json: %v", method, path, err)
		}
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 r.status,
		Header:                 r.header,
		Body:                   io.NopCloser(bytes.NewReader(r.raw)),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		c.t.Errorf("%s %s: the %d response does not match openapi.json: %v\n%s", method, path, r.status, err, r.raw)
	}
	return r
}

// TestOpenAPIConformance exercises every documented operation on a running
// API and checks that requests and responses (good ones and problems) match
// the document.
func TestOpenAPIConformance(t *testing.T) {
	ndjsonDecoder.Do(func() { openapi3filter.RegisterBodyDecoder("application/x-ndjson", openapi3filter.PlainBodyDecoder) })
	doc := loadOpenAPI(t)
	e := newEnv(t)
	c := &conformance{t: t, e: e, doc: doc, seen: map[string]bool{}}
	admin := e.admin

	// ops and meta
	c.call(200, "GET", "/healthz", nil, "", "", nil)
	c.call(200, "GET", "/readyz", nil, "", "", nil)
	c.call(200, "GET", "/metrics", nil, "", "", nil)
	c.call(200, "GET", "/openapi.json", nil, "", "", nil)
	c.call(200, "GET", "/v1/meta/categories", nil, "", "", nil)
	c.call(200, "GET", "/v1/meta/certifications", nil, "", "", nil)
	c.call(200, "GET", "/v1/meta/regions", nil, "q="+url.QueryEscape("兴国")+"&limit=5", "", nil)
	c.call(400, "GET", "/v1/meta/regions", nil, "limit=many", "", nil)

	// orgs
	org := c.call(201, "POST", "/v1/orgs", nil, "", admin, map[string]any{"kind": "cooperative", "name_zh": "兴国县脐橙合作社",
		"name_en": "Xingguo Navel Orange Cooperative", "region_code": "360732", "countries": []string{"CN", "MY"}})
	orgID, key := org.body["id"].(string), org.body["api_key"].(string)
	id := map[string]string{"id": orgID}
	c.call(200, "GET", "/v1/orgs", nil, "", admin, nil)
	c.call(200, "GET", "/v1/orgs/{id}", id, "", key, nil)
	c.call(200, "PATCH", "/v1/orgs/{id}", id, "", admin, map[string]any{"grade": "A"}, "If-Match", `"1"`)
	c.call(412, "PATCH", "/v1/orgs/{id}", id, "", admin, map[string]any{"status": "suspended"}, "If-Match", `"1"`)
	c.call(400, "PATCH", "/v1/orgs/{id}", id, "", admin, map[string]any{"grade": "Z", "extra": 1})
	c.call(403, "GET", "/v1/orgs", nil, "", key, nil)
	c.call(401, "GET", "/v1/orgs", nil, "", "", nil)
	c.call(404, "GET", "/v1/orgs/{id}", map[string]string{"id": "org_nosuchorg"}, "", admin, nil)
	key = c.call(201, "POST", "/v1/orgs/{id}/keys", id, "", key, nil).body["api_key"].(string)
	c.call(200, "GET", "/v1/orgs/{id}/audit", id, "limit=50", admin, nil)

	// products
	p := product("GN-ORANGE-5KG")
	created := c.call(201, "POST", "/v1/products", nil, "", key, p)
	pid := map[string]string{"id": created.body["id"].(string)}
	c.call(200, "POST", "/v1/products", nil, "", key, p)
	c.call(400, "POST", "/v1/products", nil, "", key, without(product("GN-ORANGE-5KG"), "price_cny"))
	c.call(413, "POST", "/v1/products", nil, "", key, `{"sku":"`+strings.Repeat("x", 2<<20)+`"}`)
	c.call(403, "POST", "/v1/products", nil, "", admin, p)
	c.call(200, "GET", "/v1/products/{id}", pid, "", admin, nil)
	c.call(200, "PUT", "/v1/products/{id}", pid, "", key, without(product("GN-ORANGE-5KG"), "sku", "live_price_cny"))
	c.call(200, "PATCH", "/v1/products/{id}/stock", pid, "", key, map[string]any{"stock": 120}, "If-Match", `"3"`)
	c.call(412, "PATCH", "/v1/products/{id}/stock", pid, "", key, map[string]any{"stock": 7}, "If-Match", `"1"`)
	c.call(200, "PATCH", "/v1/products/{id}/review", pid, "", admin, map[string]any{"review_status": "approved", "note": "ok"})
	search := "q=" + url.QueryEscape("脐橙") + "&category=fresh_fruit&poverty_relief=true&price_min=1&price_max=100&commission_min=0.2&in_stock=true&limit=10"
	if !eventually(t, 5*time.Second, func() bool { return e.must(200, "GET", "/v1/products?"+search, key, nil).body["total"] == float64(1) }) {
		t.Error("the product is not found")
	}
	found := c.call(200, "GET", "/v1/products", nil, search, key, nil)
	if items, _ := found.body["items"].([]any); len(items) != 1 || items[0].(map[string]any)["highlights"] == nil {
		t.Errorf("search: want one item with highlights: %s", found.raw)
	}
	c.call(400, "GET", "/v1/products", nil, "category=nope&limit=x", key, nil)
	c.call(400, "GET", "/v1/products", nil, "commission_min=1.5", key, nil)

	// The review queue: a product set to pending waits there.
	c.call(200, "PATCH", "/v1/products/{id}/review", pid, "", admin, map[string]any{"review_status": "pending"})
	if !eventually(t, 5*time.Second, func() bool {
		items, _ := e.must(200, "GET", "/v1/review/queue", admin, nil).body["items"].([]any)
		return len(items) == 1
	}) {
		t.Error("the pending product is not in the review queue")
	}
	c.call(200, "GET", "/v1/review/queue", nil, "limit=5", admin, nil)
	c.call(400, "GET", "/v1/review/queue", nil, "limit=x&cursor=zzz", admin, nil)
	c.call(403, "GET", "/v1/review/queue", nil, "", key, nil)
	c.call(401, "GET", "/v1/review/queue", nil, "", "", nil)
	bulk := mustJSON(t, product("BULK-1")) + "\n\n" + mustJSON(t, without(product("BULK-2"), "stock")) + "\n{bad json\n"
	res := c.call(200, "POST", "/v1/products:bulk", nil, "", key, bulk, "Content-Type", "application/x-ndjson")
	if res.body["accepted"] != float64(1) || res.body["rejected"] != float64(2) {
		t.Errorf("bulk: %s", res.raw)
	}
	c.call(204, "DELETE", "/v1/products/{id}", pid, "", key, nil)
	c.call(404, "GET", "/v1/products/{id}", pid, "", key, nil)
	c.call(200, "GET", "/v1/index/status", nil, "", admin, nil)

	conformMatching(c)
	conformHosts(c)
	conformDeals(c)

	var missed []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			if !c.seen[method+" "+path] {
				missed = append(missed, method+" "+path)
			}
		}
	}
	sort.Strings(missed)
	if len(missed) > 0 {
		t.Errorf("operations not exercised: %v", missed)
	}
}

// conformMatching exercises the demand-profile and matching operations: an
// MCN's profile (created, listed, read, replaced, matched and deleted), an
// unsaved match and a cooperative's product's buyers, with the problems.
func conformMatching(c *conformance) {
	t, e, admin := c.t, c.e, c.e.admin
	coopID, coopKey := e.newOrg(engine.OrgCooperative, "360732")
	_, coop2Key := e.newOrg(engine.OrgCooperative, "360732")
	_, mcnKey := e.newOrg(engine.OrgMCN, "310101")
	_, otherMCN := e.newOrg(engine.OrgMCN, "310101")

	orange := product("MATCH-ORANGE-5KG")
	orange["available_months"] = []int{} // all year: in season whatever today's date
	prodID := c.call(201, "POST", "/v1/products", nil, "", coopKey, orange).body["id"].(string)
	if !eventually(t, 5*time.Second, func() bool {
		return e.must(200, "GET", "/v1/products?org_id="+coopID, coopKey, nil).body["total"] == float64(1)
	}) {
		t.Fatal("the product was not indexed")
	}

	// A plain stream date is midnight China time.
	day := time.Now().In(chinaTime).AddDate(0, 0, 30)
	streamDate := day.Format(time.DateOnly)
	midnight := time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, chinaTime).UTC().Format(time.RFC3339)
	profile := func(changes ...any) map[string]any {
		p := map[string]any{"name": "双十二 助农专场", "keywords": "脐橙 有机 orange", "categories": []string{"fresh_fruit"},
			"price_min": 10, "price_max": 60, "min_commission_rate": 0.1, "expected_units": 2000, "min_stock": 500,
			"required_certifications": []string{}, "preferred_certifications": []string{"green_food", "organic"},
			"audience_regions": []string{"310000"}, "target_markets": []string{"CN"}, "stream_date": streamDate,
			"poverty_relief_min_share": 0.3, "weights": map[string]float64{"poverty_relief": 2, "grade": 0.5}}
		for i := 0; i+1 < len(changes); i += 2 {
			if changes[i+1] == nil {
				delete(p, changes[i].(string))
			} else {
				p[changes[i].(string)] = changes[i+1]
			}
		}
		return p
	}

	created := c.call(201, "POST", "/v1/demand-profiles", nil, "", mcnKey, profile())
	pid := map[string]string{"id": created.body["id"].(string)}
	if got := created.header.Get("Location"); got != "/v1/demand-profiles/"+pid["id"] {
		t.Errorf("Location = %q", got)
	}
	if created.body["stream_date"] != midnight || created.body["status"] != "open" {
		t.Errorf("stream_date %v (want %s), status %v", created.body["stream_date"], midnight, created.body["status"])
	}
	if w, _ := created.body["weights"].(map[string]any); len(w) != len(engine.Factors()) || w["poverty_relief"] != float64(2) || w["text"] != float64(1) {
		t.Errorf("effective weights: %v", created.body["weights"])
	}
	bad := c.call(400, "POST", "/v1/demand-profiles", nil, "", mcnKey, profile("price_min", 80, "weights", map[string]float64{"bogus": 1}))
	for _, f := range []string{"price_min", "weights.bogus"} {
		if !slices.Contains(fieldsOf(bad), f) {
			t.Errorf("400 fields %v lack %s", fieldsOf(bad), f)
		}
	}
	c.call(403, "POST", "/v1/demand-profiles", nil, "", coopKey, profile())
	c.call(401, "POST", "/v1/demand-profiles", nil, "", "", profile())

	if items, _ := c.call(200, "GET", "/v1/demand-profiles", nil, "", mcnKey, nil).body["items"].([]any); len(items) != 1 {
		t.Errorf("the MCN lists %d profiles, want 1", len(items))
	}
	c.call(200, "GET", "/v1/demand-profiles", nil, "", admin, nil)
	c.call(403, "GET", "/v1/demand-profiles", nil, "", coopKey, nil)
	c.call(200, "GET", "/v1/demand-profiles/{id}", pid, "", mcnKey, nil)
	c.call(200, "GET", "/v1/demand-profiles/{id}", pid, "", admin, nil)
	c.call(404, "GET", "/v1/demand-profiles/{id}", pid, "", otherMCN, nil)
	c.call(404, "GET", "/v1/demand-profiles/{id}", map[string]string{"id": "dp_nosuchprofile"}, "", mcnKey, nil)

	rfc := day.Format("2006-01-02") + "T20:00:00+08:00"
	put := c.call(200, "PUT", "/v1/demand-profiles/{id}", pid, "", mcnKey, profile("stream_date", rfc, "price_min", nil), "If-Match", `"1"`)
	if put.body["version"] != float64(2) || put.header.Get("ETag") != `"2"` || put.body["price_min"] != nil {
		t.Errorf("PUT: %s", put.raw)
	}
	c.call(412, "PUT", "/v1/demand-profiles/{id}", pid, "", mcnKey, profile(), "If-Match", `"1"`)
	c.call(404, "PUT", "/v1/demand-profiles/{id}", pid, "", otherMCN, profile())
	c.call(400, "PUT", "/v1/demand-profiles/{id}", pid, "", mcnKey, profile("status", "archived", "stream_date", "12/12/2026"))

	// Matches of the stored profile and of the same profile unsaved.
	m := c.call(200, "GET", "/v1/demand-profiles/{id}/matches", pid, "limit=5", mcnKey, nil)
	if !matchesProduct(m, prodID) {
		t.Errorf("matches lack %s: %s", prodID, m.raw)
	}
	c.call(200, "GET", "/v1/demand-profiles/{id}/matches", pid, "", admin, nil)
	c.call(404, "GET", "/v1/demand-profiles/{id}/matches", pid, "", otherMCN, nil)
	c.call(400, "GET", "/v1/demand-profiles/{id}/matches", pid, "limit=lots", mcnKey, nil)
	adhoc := c.call(200, "POST", "/v1/match/products", nil, "limit=10", mcnKey, profile("name", nil, "stream_date", rfc))
	if !matchesProduct(adhoc, prodID) {
		t.Errorf("the unsaved match lacks %s: %s", prodID, adhoc.raw)
	}
	c.call(200, "POST", "/v1/match/products", nil, "", admin, map[string]any{"keywords": "orange"})
	c.call(400, "POST", "/v1/match/products", nil, "", mcnKey, profile("price_max", 5, "weights", map[string]float64{"bogus": 1}))
	c.call(403, "POST", "/v1/match/products", nil, "", coopKey, profile())

	// The product's buyers, for its owner only.
	pr := map[string]string{"id": prodID}
	buyers := c.call(200, "GET", "/v1/products/{id}/buyers", pr, "limit=10", coopKey, nil)
	if items, _ := buyers.body["items"].([]any); len(items) != 1 ||
		items[0].(map[string]any)["profile"].(map[string]any)["id"] != pid["id"] {
		t.Errorf("buyers: %s", buyers.raw)
	}
	c.call(404, "GET", "/v1/products/{id}/buyers", pr, "", coop2Key, nil)
	c.call(403, "GET", "/v1/products/{id}/buyers", pr, "", mcnKey, nil)

	c.call(404, "DELETE", "/v1/demand-profiles/{id}", pid, "", otherMCN, nil)
	c.call(412, "DELETE", "/v1/demand-profiles/{id}", pid, "", mcnKey, nil, "If-Match", `"1"`)
	c.call(204, "DELETE", "/v1/demand-profiles/{id}", pid, "", mcnKey, nil, "If-Match", `"2"`)
	c.call(404, "GET", "/v1/demand-profiles/{id}", pid, "", mcnKey, nil)
}

// matchesProduct reports whether a match answer lists product id.
func matchesProduct(r resp, id string) bool {
	items, _ := r.body["items"].([]any)
	for _, it := range items {
		if p, _ := it.(map[string]any)["product"].(map[string]any); p["id"] == id {
			return true
		}
	}
	return false
}

// conformHosts exercises the host and host-request operations: an MCN's
// host (created, listed, read, replaced and deleted), a cross-border firm's
// host request (created, listed, read, replaced, matched and deleted) and an
// unsaved host match, with the problems. Dates are relative to today (China
// time) because the conformance server runs on the real clock.
func conformHosts(c *conformance) {
	t, e, admin := c.t, c.e, c.e.admin
	_, mcnKey := e.newOrg(engine.OrgMCN, "310101")
	_, otherMCN := e.newOrg(engine.OrgMCN, "330106")
	_, firmKey := e.newOrg(engine.OrgCrossborderFirm, "440304")
	_, firm2Key := e.newOrg(engine.OrgCrossborderFirm, "440304")

	today := time.Now().In(chinaTime)
	date := func(days int) string { return today.AddDate(0, 0, days).Format(time.DateOnly) }
	streamDay := date(30)
	edit := func(m map[string]any, changes []any) map[string]any {
		for i := 0; i+1 < len(changes); i += 2 {
			if changes[i+1] == nil {
				delete(m, changes[i].(string))
			} else {
				m[changes[i].(string)] = changes[i+1]
			}
		}
		return m
	}
	// The example of api.md, its dates moved into the future.
	host := func(changes ...any) map[string]any {
		return edit(map[string]any{
			"name": "Lily 王", "languages": []map[string]string{{"code": "zh", "level": "native"}, {"code": "en", "level": "fluent"}},
			"markets": []string{"US", "MY"}, "categories": []string{"beauty", "fresh_fruit"},
			"followers": 120000, "avg_viewers": 3000, "conversion_rate": 0.035, "rating": 4.7,
			"certification":   map[string]any{"level": "senior", "expires_at": today.AddDate(1, 0, 0).UTC().Format(time.RFC3339)},
			"hourly_rate_cny": 800, "timezone": "Asia/Shanghai", "available_dates": []string{streamDay, date(28)},
			"bio_zh": "美妆与生鲜双语主播，懂水果", "bio_en": "Bilingual beauty and fresh fruit host",
		}, changes)
	}
	request := func(changes ...any) map[string]any {
		return edit(map[string]any{
			"title": "Export tea to Malaysia", "categories": []string{"tea"}, "target_markets": []string{"MY"},
			"date": streamDay, "budget_cny_per_hour": 1000, "require_certified": true, "notes": "懂茶文化",
			"languages": []map[string]string{{"code": "zh", "min_level": "fluent"}, {"code": "ms", "min_level": "conversational"}},
		}, changes)
	}

	// Hosts: the MCN's own, readable by every org.
	created := c.call(201, "POST", "/v1/hosts", nil, "", mcnKey, host())
	hid := map[string]string{"id": created.body["id"].(string)}
	if got := created.header.Get("Location"); got != "/v1/hosts/"+hid["id"] {
		t.Errorf("Location = %q", got)
	}
	if cert, _ := created.body["certification"].(map[string]any); cert["valid"] != true ||
		!slices.Equal(anyStrings(created.body["available_dates"]), []string{date(28), streamDay}) {
		t.Errorf("create: %s", created.raw)
	}
	bad := c.call(400, "POST", "/v1/hosts", nil, "", mcnKey, host("languages", []map[string]string{{"code": "xx", "level": "native"}}))
	if !slices.Contains(fieldsOf(bad), "languages[0].code") {
		t.Errorf("400 fields %v lack languages[0].code", fieldsOf(bad))
	}
	bad = c.call(400, "POST", "/v1/hosts", nil, "", mcnKey, host("timezone", "Mars/Olympus"))
	if !slices.Contains(fieldsOf(bad), "timezone") {
		t.Errorf("400 fields %v lack timezone", fieldsOf(bad))
	}
	c.call(403, "POST", "/v1/hosts", nil, "", firmKey, host())
	c.call(401, "POST", "/v1/hosts", nil, "", "", host())

	for key, want := range map[string]int{mcnKey: 1, otherMCN: 0, firmKey: 1, admin: 1} {
		if items, _ := c.call(200, "GET", "/v1/hosts", nil, "", key, nil).body["items"].([]any); len(items) != want {
			t.Errorf("GET /v1/hosts lists %d hosts, want %d", len(items), want)
		}
	}
	c.call(200, "GET", "/v1/hosts/{id}", hid, "", firmKey, nil)
	c.call(200, "GET", "/v1/hosts/{id}", hid, "", otherMCN, nil)
	c.call(404, "GET", "/v1/hosts/{id}", map[string]string{"id": "host_nosuchhost"}, "", firmKey, nil)

	// The time zone defaults to Asia/Shanghai; a plain expiry date is
	// midnight China time.
	put := c.call(200, "PUT", "/v1/hosts/{id}", hid, "", mcnKey, host("timezone", nil, "rating", 4.9,
		"certification", map[string]any{"level": "senior", "expires_at": date(365)}), "If-Match", `"1"`)
	if put.body["version"] != float64(2) || put.header.Get("ETag") != `"2"` || put.body["timezone"] != "Asia/Shanghai" || put.body["rating"] != 4.9 {
		t.Errorf("PUT: %s", put.raw)
	}
	c.call(412, "PUT", "/v1/hosts/{id}", hid, "", mcnKey, host(), "If-Match", `"1"`)
	c.call(404, "PUT", "/v1/hosts/{id}", hid, "", otherMCN, host())
	c.call(403, "PUT", "/v1/hosts/{id}", hid, "", firmKey, host())
	c.call(400, "PUT", "/v1/hosts/{id}", hid, "", mcnKey, host("timezone", "Nowhere/Special", "rating", 6))

	// Host requests: the firm's own.
	hr := c.call(201, "POST", "/v1/host-requests", nil, "", firmKey, request())
	rid := map[string]string{"id": hr.body["id"].(string)}
	if got := hr.header.Get("Location"); got != "/v1/host-requests/"+rid["id"] {
		t.Errorf("Location = %q", got)
	}
	if w, _ := hr.body["weights"].(map[string]any); len(w) != len(engine.HostFactors()) || w["language"] != float64(1) ||
		hr.body["status"] != "open" || hr.body["date"] != streamDay {
		t.Errorf("create request: %s", hr.raw)
	}
	bad = c.call(400, "POST", "/v1/host-requests", nil, "", firmKey, request("date", date(-2), "weights", map[string]float64{"charm": 1}))
	for _, f := range []string{"date", "weights.charm"} {
		if !slices.Contains(fieldsOf(bad), f) {
			t.Errorf("400 fields %v lack %s", fieldsOf(bad), f)
		}
	}
	c.call(403, "POST", "/v1/host-requests", nil, "", mcnKey, request())

	if items, _ := c.call(200, "GET", "/v1/host-requests", nil, "", firmKey, nil).body["items"].([]any); len(items) != 1 {
		t.Errorf("the firm lists %d requests, want 1", len(items))
	}
	if items, _ := c.call(200, "GET", "/v1/host-requests", nil, "", firm2Key, nil).body["items"].([]any); len(items) != 0 {
		t.Errorf("another firm lists %d requests, want 0", len(items))
	}
	c.call(200, "GET", "/v1/host-requests", nil, "", admin, nil)
	c.call(403, "GET", "/v1/host-requests", nil, "", mcnKey, nil)
	c.call(200, "GET", "/v1/host-requests/{id}", rid, "", firmKey, nil)
	c.call(200, "GET", "/v1/host-requests/{id}", rid, "", admin, nil)
	c.call(404, "GET", "/v1/host-requests/{id}", rid, "", firm2Key, nil)
	c.call(404, "GET", "/v1/host-requests/{id}", rid, "", mcnKey, nil)

	// The api.md request needs Malay, which the host does not speak.
	m := c.call(200, "GET", "/v1/host-requests/{id}/matches", rid, "", firmKey, nil)
	if items, _ := m.body["items"].([]any); len(items) != 0 || m.body["candidates"] != float64(1) ||
		m.body["excluded"].(map[string]any)["language_below_level"] != float64(1) {
		t.Errorf("matches of the Malay request: %s", m.raw)
	}

	fruit := func(changes ...any) map[string]any {
		return request(append([]any{"title", "Fresh fruit for Malaysia", "categories", []string{"fresh_fruit"},
			"languages", []map[string]string{{"code": "zh", "min_level": "fluent"}}, "notes", "懂水果",
			"weights", map[string]float64{"language": 2, "timezone": 0}}, changes...)...)
	}
	put = c.call(200, "PUT", "/v1/host-requests/{id}", rid, "", firmKey, fruit(), "If-Match", `"1"`)
	if w, _ := put.body["weights"].(map[string]any); put.body["version"] != float64(2) || put.header.Get("ETag") != `"2"` ||
		w["language"] != float64(2) || w["timezone"] != float64(0) || w["bio"] != float64(1) {
		t.Errorf("PUT request: %s", put.raw)
	}
	c.call(412, "PUT", "/v1/host-requests/{id}", rid, "", firmKey, fruit(), "If-Match", `"1"`)
	c.call(404, "PUT", "/v1/host-requests/{id}", rid, "", firm2Key, fruit())
	c.call(403, "PUT", "/v1/host-requests/{id}", rid, "", mcnKey, fruit())
	c.call(400, "PUT", "/v1/host-requests/{id}", rid, "", firmKey, fruit("status", "archived", "budget_cny_per_hour", -1))

	m = c.call(200, "GET", "/v1/host-requests/{id}/matches", rid, "limit=5", firmKey, nil)
	if !matchesHost(m, hid["id"]) {
		t.Errorf("matches lack %s: %s", hid["id"], m.raw)
	} else {
		checkExplanationN(t, m.body["items"].([]any)[0].(map[string]any), len(engine.HostFactors()))
	}
	c.call(200, "GET", "/v1/host-requests/{id}/matches", rid, "", admin, nil)
	c.call(404, "GET", "/v1/host-requests/{id}/matches", rid, "", firm2Key, nil)
	c.call(400, "GET", "/v1/host-requests/{id}/matches", rid, "limit=lots", firmKey, nil)

	// The same request unsaved (no title needed), and the problems.
	adhoc := c.call(200, "POST", "/v1/match/hosts", nil, "limit=10", firm2Key, fruit("title", nil))
	if !matchesHost(adhoc, hid["id"]) {
		t.Errorf("the unsaved match lacks %s: %s", hid["id"], adhoc.raw)
	}
	c.call(200, "POST", "/v1/match/hosts", nil, "", admin, map[string]any{"notes": "fresh fruit"})
	c.call(400, "POST", "/v1/match/hosts", nil, "", firmKey, fruit("languages", []map[string]string{{"code": "malay", "min_level": "fluent"}}))
	c.call(403, "POST", "/v1/match/hosts", nil, "", mcnKey, fruit())

	c.call(404, "DELETE", "/v1/host-requests/{id}", rid, "", firm2Key, nil)
	c.call(412, "DELETE", "/v1/host-requests/{id}", rid, "", firmKey, nil, "If-Match", `"1"`)
	c.call(204, "DELETE", "/v1/host-requests/{id}", rid, "", firmKey, nil, "If-Match", `"2"`)
	c.call(404, "GET", "/v1/host-requests/{id}", rid, "", firmKey, nil)

	c.call(404, "DELETE", "/v1/hosts/{id}", hid, "", otherMCN, nil)
	c.call(412, "DELETE", "/v1/hosts/{id}", hid, "", mcnKey, nil, "If-Match", `"1"`)
	c.call(204, "DELETE", "/v1/hosts/{id}", hid, "", mcnKey, nil, "If-Match", `"2"`)
	c.call(404, "GET", "/v1/hosts/{id}", hid, "", firmKey, nil)
}

// matchesHost reports whether a host match answer lists host id.
func matchesHost(r resp, id string) bool {
	items, _ := r.body["items"].([]any)
	for _, it := range items {
		if h, _ := it.(map[string]any)["host"].(map[string]any); h["id"] == id {
			return true
		}
	}
	return false
}

// anyStrings converts a decoded JSON array of strings.
func anyStrings(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, x := range list {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

// conformDeals exercises reservations and sample requests: the whole life
// of a reservation, the 409 with available, a stale If-Match, the lists and
// trails, and a sample request from request to receipt.
func conformDeals(c *conformance) {
	e := c.e
	_, coopKey := e.newOrg(engine.OrgCooperative, "360732")
	_, mcnKey := e.newOrg(engine.OrgMCN, "330106")
	p := product("DEAL-ORANGE")
	p["stock"], p["sample_available"] = 100, true
	pid := e.must(201, "POST", "/v1/products", coopKey, p).body["id"].(string)
	day := time.Now().Add(72 * time.Hour).In(chinaTime).Format(time.DateOnly)
	hold := time.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339)
	r := c.call(201, "POST", "/v1/reservations", nil, "", mcnKey, map[string]any{"product_id": pid, "units": 40, "stream_date": day, "hold_until": hold, "note": "双12专场"})
	id := r.body["id"].(string)
	short := c.call(409, "POST", "/v1/reservations", nil, "", mcnKey, map[string]any{"product_id": pid, "units": 61, "stream_date": day})
	if short.body["available"] != 60.0 {
		c.t.Errorf("409 available = %v, want 60", short.body["available"])
	}
	c.call(400, "POST", "/v1/reservations", nil, "", mcnKey, map[string]any{"product_id": pid, "units": 0, "stream_date": "2020-01-01"})
	rid := map[string]string{"id": id}
	c.call(200, "GET", "/v1/reservations/{id}", rid, "", coopKey, nil)
	c.call(404, "GET", "/v1/reservations/{id}", map[string]string{"id": "rsv_nosuch"}, "", coopKey, nil)
	c.call(409, "POST", "/v1/reservations/{id}", map[string]string{"id": id + ":ship"}, "", coopKey, map[string]any{"tracking_no": "SF1"})
	c.call(403, "POST", "/v1/reservations/{id}", map[string]string{"id": id + ":confirm"}, "", mcnKey, nil)
	c.call(412, "POST", "/v1/reservations/{id}", map[string]string{"id": id + ":confirm"}, "", coopKey, nil, "If-Match", `"9"`)
	c.call(200, "POST", "/v1/reservations/{id}", map[string]string{"id": id + ":confirm"}, "", coopKey, nil, "If-Match", `"1"`)
	c.call(200, "POST", "/v1/reservations/{id}", map[string]string{"id": id + ":ship"}, "", coopKey, map[string]any{"tracking_no": "SF1234567890"})
	c.call(400, "POST", "/v1/reservations/{id}/result", rid, "", mcnKey, map[string]any{"units_sold": 41, "units_returned": 0})
	c.call(200, "POST", "/v1/reservations/{id}/result", rid, "", mcnKey, map[string]any{"units_sold": 38, "units_returned": 1, "rating": 5})
	c.call(200, "GET", "/v1/reservations/{id}/audit", rid, "", mcnKey, nil)
	c.call(200, "GET", "/v1/reservations", nil, "status=completed&product_id="+pid+"&limit=10", coopKey, nil)
	c.call(400, "GET", "/v1/reservations", nil, "status=lost", coopKey, nil)
	got := e.must(200, "GET", "/v1/products/"+pid, coopKey, nil)
	if got.body["stock"] != 60.0 || got.body["booked"] != 0.0 || got.body["available"] != 60.0 {
		c.t.Errorf("after shipping 40 of 100: stock %v booked %v available %v", got.body["stock"], got.body["booked"], got.body["available"])
	}

	s := c.call(201, "POST", "/v1/sample-requests", nil, "", mcnKey, map[string]any{"product_id": pid, "ship_to_region": "330106", "note": "主播试吃"})
	sid := s.body["id"].(string)
	c.call(400, "POST", "/v1/sample-requests", nil, "", mcnKey, map[string]any{"product_id": pid, "ship_to_region": "12"})
	c.call(200, "GET", "/v1/sample-requests/{id}", map[string]string{"id": sid}, "", coopKey, nil)
	c.call(400, "POST", "/v1/sample-requests/{id}", map[string]string{"id": sid + ":decline"}, "", coopKey, map[string]any{})
	c.call(200, "POST", "/v1/sample-requests/{id}", map[string]string{"id": sid + ":accept"}, "", coopKey, nil)
	c.call(200, "POST", "/v1/sample-requests/{id}", map[string]string{"id": sid + ":ship"}, "", coopKey, map[string]any{"tracking_no": "SF42"})
	c.call(200, "POST", "/v1/sample-requests/{id}", map[string]string{"id": sid + ":receive"}, "", mcnKey, nil)
	c.call(200, "GET", "/v1/sample-requests/{id}/audit", map[string]string{"id": sid}, "", mcnKey, nil)
	c.call(200, "GET", "/v1/sample-requests", nil, "status=received&limit=5", mcnKey, nil)
}
