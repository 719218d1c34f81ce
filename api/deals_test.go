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
)

// dealEnv is an API with a cooperative that lists one product and two MCNs.
type dealEnv struct {
	*env
	coop, coopKey string
	mcn, mcnKey   string
	mcn2, mcn2Key string
	productID     string
}

func newDealEnv(t *testing.T, stock int, samples bool) *dealEnv {
	t.Helper()
	e := newEnv(t)
	d := &dealEnv{env: e}
	d.coop, d.coopKey = e.newOrg(engine.OrgCooperative, "360732")
	d.mcn, d.mcnKey = e.newOrg(engine.OrgMCN, "330106")
	d.mcn2, d.mcn2Key = e.newOrg(engine.OrgMCN, "440106")
	p := product("GN-ORANGE-5KG")
	p["stock"], p["sample_available"] = stock, samples
	d.productID = e.must(201, "POST", "/v1/products", d.coopKey, p).body["id"].(string)
	return d
}

func tomorrow() string { return time.Now().Add(24 * time.Hour).In(chinaTime).Format(time.DateOnly) }

func (d *dealEnv) reserve(key string, units int, extra ...any) resp {
	d.t.Helper()
	body := map[string]any{"product_id": d.productID, "units": units, "stream_date": tomorrow()}
	for i := 0; i+1 < len(extra); i += 2 {
		body[extra[i].(string)] = extra[i+1]
	}
	return d.do("POST", "/v1/reservations", key, body)
}

func (d *dealEnv) stock(t *testing.T) (stock, booked, available int64) {
	t.Helper()
	b := d.must(200, "GET", "/v1/products/"+d.productID, d.coopKey, nil).body
	return int64(b["stock"].(float64)), int64(b["booked"].(float64)), int64(b["available"].(float64))
}

func TestReservationLifecycle(t *testing.T) {
	d := newDealEnv(t, 100, true)
	r := d.reserve(d.mcnKey, 30, "note", "周六专场")
	if r.status != 201 {
		t.Fatalf("reserve: %d %s", r.status, r.raw)
	}
	id := r.body["id"].(string)
	if r.body["status"] != "held" || r.body["supplier_org_id"] != d.coop || r.body["mcn_org_id"] != d.mcn || r.body["units"] != 30.0 ||
		r.body["supplier_org_name_zh"] != "测试cooperative" || r.body["mcn_org_name_en"] != "Test mcn" {
		t.Fatalf("created: %s", r.raw)
	}
	exp, _ := time.Parse(time.RFC3339, r.body["expires_at"].(string))
	if h := time.Until(exp); h < 47*time.Hour || h > 49*time.Hour {
		t.Errorf("default hold ends in %v, want 48h", h)
	}
	if s, b, a := d.stock(t); s != 100 || b != 30 || a != 70 {
		t.Fatalf("after the hold: stock %d booked %d available %d", s, b, a)
	}
	// Roles and states.
	steps := []struct {
		name, key, path string
		body            any
		status          int
		field           string
		want            string
	}{
		{"the mcn cannot confirm", d.mcnKey, id + ":confirm", nil, 403, "", ""},
		{"another mcn does not see it", d.mcn2Key, id + ":cancel", nil, 404, "", ""},
		{"ship before confirm", d.coopKey, id + ":ship", map[string]any{"tracking_no": "SF1"}, 409, "status", ""},
		{"result before shipping", d.mcnKey, id + "/result", map[string]any{"units_sold": 1, "units_returned": 0}, 409, "status", ""},
		{"unknown action", d.coopKey, id + ":approve", nil, 400, "action", ""},
		{"confirm", d.coopKey, id + ":confirm", nil, 200, "", "confirmed"},
		{"confirm twice", d.coopKey, id + ":confirm", nil, 409, "status", ""},
		{"ship", d.coopKey, id + ":ship", map[string]any{"tracking_no": "SF1234567890"}, 200, "", "shipped"},
		{"cancel after shipping", d.mcnKey, id + ":cancel", nil, 409, "status", ""},
		{"more sold than reserved", d.mcnKey, id + "/result", map[string]any{"units_sold": 31, "units_returned": 0}, 400, "units_sold", ""},
		{"more returned than sold", d.mcnKey, id + "/result", map[string]any{"units_sold": 5, "units_returned": 6}, 400, "units_returned", ""},
		{"rating out of range", d.mcnKey, id + "/result", map[string]any{"units_sold": 5, "units_returned": 1, "rating": 6}, 400, "rating", ""},
		{"units_sold missing", d.mcnKey, id + "/result", map[string]any{"units_returned": 1}, 400, "units_sold", ""},
		{"the supplier cannot report", d.coopKey, id + "/result", map[string]any{"units_sold": 5, "units_returned": 1}, 403, "", ""},
		{"result", d.mcnKey, id + "/result", map[string]any{"units_sold": 28, "units_returned": 2, "rating": 5, "note": "卖得好"}, 200, "", "completed"},
	}
	for _, st := range steps {
		got := d.do("POST", "/v1/reservations/"+st.path, st.key, st.body)
		if got.status != st.status {
			t.Fatalf("%s: status %d, want %d: %s", st.name, got.status, st.status, got.raw)
		}
		if st.field != "" && !slices.Contains(fieldsOf(got), st.field) {
			t.Errorf("%s: fields %v, want %s", st.name, fieldsOf(got), st.field)
		}
		if st.want != "" && got.body["status"] != st.want {
			t.Errorf("%s: status %v, want %s", st.name, got.body["status"], st.want)
		}
	}
	if s, b, a := d.stock(t); s != 70 || b != 0 || a != 70 {
		t.Errorf("after shipping: stock %d booked %d available %d, want 70/0/70", s, b, a)
	}
	got := d.must(200, "GET", "/v1/reservations/"+id, d.mcnKey, nil)
	if got.body["units_sold"] != 28.0 || got.body["units_returned"] != 2.0 || got.body["rating"] != 5.0 || got.body["version"] != 4.0 || got.body["tracking_no"] != "SF1234567890" {
		t.Errorf("completed: %s", got.raw)
	}
	trail := d.must(200, "GET", "/v1/reservations/"+id+"/audit", d.coopKey, nil).body["items"].([]any)
	var actions []string
	for _, it := range trail {
		m := it.(map[string]any)
		actions = append(actions, fmt.Sprintf("%s:%s:%s", m["action"], m["actor"], m["after"]))
	}
	want := []string{"create:" + d.mcn + ":held", "confirm:" + d.coop + ":confirmed", "ship:" + d.coop + ":shipped", "result:" + d.mcn + ":completed"}
	if !slices.Equal(actions, want) {
		t.Errorf("audit trail %v, want %v", actions, want)
	}
	d.must(404, "GET", "/v1/reservations/"+id+"/audit", d.mcn2Key, nil)
}

func TestReservationNeverOverbooks(t *testing.T) {
	d := newDealEnv(t, 100, false)
	a := d.reserve(d.mcnKey, 70)
	if a.status != 201 {
		t.Fatalf("first: %d %s", a.status, a.raw)
	}
	b := d.reserve(d.mcn2Key, 31)
	if b.status != 409 || b.body["available"] != 30.0 || !slices.Contains(fieldsOf(b), "units") {
		t.Fatalf("over the stock: %d %s", b.status, b.raw)
	}
	d.must(201, "POST", "/v1/reservations", d.mcn2Key, map[string]any{"product_id": d.productID, "units": 30, "stream_date": tomorrow()})
	// The supplier cannot lower the stock below what is booked, but can down to it.
	r := d.do("PATCH", "/v1/products/"+d.productID+"/stock", d.coopKey, map[string]any{"stock": 99})
	if r.status != 409 || !slices.Contains(fieldsOf(r), "stock") {
		t.Fatalf("stock below booked: %d %s", r.status, r.raw)
	}
	p := product("GN-ORANGE-5KG")
	p["stock"] = 50
	if r := d.do("POST", "/v1/products", d.coopKey, p); r.status != 409 || !slices.Contains(fieldsOf(r), "stock") {
		t.Fatalf("upsert below booked: %d %s", r.status, r.raw)
	}
	if r := d.do("DELETE", "/v1/products/"+d.productID, d.coopKey, nil); r.status != 409 {
		t.Fatalf("delete with bookings: %d %s", r.status, r.raw)
	}
	d.must(200, "PATCH", "/v1/products/"+d.productID+"/stock", d.coopKey, map[string]any{"stock": 150})
	if s, b, av := d.stock(t); s != 150 || b != 100 || av != 50 {
		t.Errorf("after raising the stock: %d/%d/%d", s, b, av)
	}
	// Cancelling frees the units; the freed units can be booked again.
	id := a.body["id"].(string)
	if r := d.do("POST", "/v1/reservations/"+id+":cancel", d.coopKey, map[string]any{"reason": strings.Repeat("断", 501)}); r.status != 400 || !slices.Contains(fieldsOf(r), "reason") {
		t.Fatalf("a too long reason: %d %s", r.status, r.raw)
	}
	d.must(200, "POST", "/v1/reservations/"+id+":cancel", d.coopKey, map[string]any{"reason": "冻害减产"})
	if _, b, av := d.stock(t); b != 30 || av != 120 {
		t.Errorf("after the cancel: booked %d available %d", b, av)
	}
	if got := d.must(200, "GET", "/v1/reservations/"+id, d.mcnKey, nil); got.body["cancelled_by"] != "supplier" || got.body["cancel_reason"] != "冻害减产" {
		t.Errorf("cancelled_by %v, cancel_reason %v", got.body["cancelled_by"], got.body["cancel_reason"])
	}
	d.must(201, "POST", "/v1/reservations", d.mcnKey, map[string]any{"product_id": d.productID, "units": 120, "stream_date": tomorrow()})
	// Search and matching read available: the product is now sold out.
	if !eventually(t, 5*time.Second, func() bool {
		r := d.must(200, "GET", "/v1/products?in_stock=true&q="+url.QueryEscape("脐橙"), d.mcnKey, nil)
		return r.body["total"] == 0.0
	}) {
		t.Error("a fully booked product is still found by in_stock=true")
	}
	r = d.must(200, "GET", "/v1/products?in_stock=false&q="+url.QueryEscape("脐橙"), d.mcnKey, nil)
	items := r.body["items"].([]any)
	if len(items) != 1 || items[0].(map[string]any)["available"] != 0.0 {
		t.Errorf("in_stock=false: %s", r.raw)
	}
	// Operators see the outcomes on /metrics.
	metrics := string(d.must(200, "GET", "/metrics", "", nil).raw)
	for _, want := range []string{`livematch_reservations_total{outcome="held"} 3`, `livematch_reservations_total{outcome="refused"} 1`,
		`livematch_reservation_units_total{outcome="held"} 220`, `livematch_reservation_units_total{outcome="refused"} 31`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func TestReservationBadInput(t *testing.T) {
	d := newDealEnv(t, 100, false)
	yesterday := time.Now().Add(-48 * time.Hour).In(chinaTime).Format(time.DateOnly)
	cases := []struct {
		name  string
		body  any
		field string
	}{
		{"unknown product", map[string]any{"product_id": "prd_nope", "units": 1, "stream_date": tomorrow()}, "product_id"},
		{"no product", map[string]any{"units": 1, "stream_date": tomorrow()}, "product_id"},
		{"zero units", map[string]any{"product_id": d.productID, "units": 0, "stream_date": tomorrow()}, "units"},
		{"negative units", map[string]any{"product_id": d.productID, "units": -5, "stream_date": tomorrow()}, "units"},
		{"fractional units", `{"product_id":"` + d.productID + `","units":2.5,"stream_date":"` + tomorrow() + `"}`, "units"},
		{"units as text", `{"product_id":"` + d.productID + `","units":"3","stream_date":"` + tomorrow() + `"}`, "units"},
		{"no units", map[string]any{"product_id": d.productID, "stream_date": tomorrow()}, "units"},
		{"past stream date", map[string]any{"product_id": d.productID, "units": 1, "stream_date": yesterday}, "stream_date"},
		{"no stream date", map[string]any{"product_id": d.productID, "units": 1}, "stream_date"},
		{"bad stream date", map[string]any{"product_id": d.productID, "units": 1, "stream_date": "next saturday"}, "stream_date"},
		{"hold in the past", map[string]any{"product_id": d.productID, "units": 1, "stream_date": tomorrow(), "hold_until": time.Now().Add(-time.Hour).Format(time.RFC3339)}, "hold_until"},
		{"hold too long", map[string]any{"product_id": d.productID, "units": 1, "stream_date": tomorrow(), "hold_until": time.Now().Add(8 * 24 * time.Hour).Format(time.RFC3339)}, "hold_until"},
		{"someone else's profile", map[string]any{"product_id": d.productID, "units": 1, "stream_date": tomorrow(), "profile_id": "dp_nope"}, "profile_id"},
		{"unknown field", map[string]any{"product_id": d.productID, "units": 1, "stream_date": tomorrow(), "colour": "red"}, "colour"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := d.do("POST", "/v1/reservations", d.mcnKey, c.body)
			if r.status != 400 || !slices.Contains(fieldsOf(r), c.field) {
				t.Errorf("status %d fields %v, want 400 naming %s: %s", r.status, fieldsOf(r), c.field, r.raw)
			}
		})
	}
	if r := d.must(200, "GET", "/v1/reservations", d.mcnKey, nil); len(r.body["items"].([]any)) != 0 {
		t.Errorf("bad input stored something: %s", r.raw)
	}
	if _, b, _ := d.stock(t); b != 0 {
		t.Errorf("bad input booked %d units", b)
	}
	// Only MCNs reserve.
	d.must(403, "POST", "/v1/reservations", d.coopKey, map[string]any{"product_id": d.productID, "units": 1, "stream_date": tomorrow()})
}

func TestReservationListsAndIfMatch(t *testing.T) {
	d := newDealEnv(t, 1000, false)
	var mine []string
	for i := 0; i < 5; i++ {
		mine = append(mine, d.must(201, "POST", "/v1/reservations", d.mcnKey, map[string]any{"product_id": d.productID, "units": 1 + i, "stream_date": tomorrow()}).body["id"].(string))
	}
	other := d.must(201, "POST", "/v1/reservations", d.mcn2Key, map[string]any{"product_id": d.productID, "units": 10, "stream_date": tomorrow()}).body["id"].(string)
	// Newest first, two per page, only the caller's own.
	var seen []string
	cursor := ""
	for pages := 0; pages < 5; pages++ {
		r := d.must(200, "GET", "/v1/reservations?limit=2&cursor="+cursor, d.mcnKey, nil)
		for _, it := range r.body["items"].([]any) {
			seen = append(seen, it.(map[string]any)["id"].(string))
		}
		cursor, _ = r.body["next_cursor"].(string)
		if cursor == "" {
			break
		}
	}
	want := slices.Clone(mine)
	slices.Reverse(want)
	if !slices.Equal(seen, want) {
		t.Errorf("pages %v, want %v", seen, want)
	}
	if r := d.must(200, "GET", "/v1/reservations", d.coopKey, nil); len(r.body["items"].([]any)) != 6 {
		t.Errorf("the supplier sees %d reservations, want 6", len(r.body["items"].([]any)))
	}
	d.must(404, "GET", "/v1/reservations/"+other, d.mcnKey, nil)
	d.must(200, "GET", "/v1/reservations/"+other, d.admin, nil)
	// Status filter.
	d.must(200, "POST", "/v1/reservations/"+mine[0]+":confirm", d.coopKey, nil, "If-Match", `"1"`)
	r := d.must(200, "GET", "/v1/reservations?status=confirmed", d.coopKey, nil)
	if items := r.body["items"].([]any); len(items) != 1 || items[0].(map[string]any)["id"] != mine[0] {
		t.Errorf("status=confirmed: %s", r.raw)
	}
	r = d.must(200, "GET", "/v1/reservations?status=held&product_id="+d.productID, d.mcnKey, nil)
	if len(r.body["items"].([]any)) != 4 {
		t.Errorf("status=held: %s", r.raw)
	}
	for _, q := range []string{"status=lost", "cursor=zzz", "limit=many"} {
		if r := d.do("GET", "/v1/reservations?"+q, d.mcnKey, nil); r.status != 400 {
			t.Errorf("%s: %d", q, r.status)
		}
	}
	// A stale If-Match is 412 and changes nothing.
	r = d.do("POST", "/v1/reservations/"+mine[1]+":cancel", d.mcnKey, nil, "If-Match", `"7"`)
	if r.status != 412 {
		t.Fatalf("stale If-Match: %d %s", r.status, r.raw)
	}
	if got := d.must(200, "GET", "/v1/reservations/"+mine[1], d.mcnKey, nil); got.body["status"] != "held" || got.header.Get("ETag") != `"1"` {
		t.Errorf("after 412: %s %s", got.body["status"], got.header.Get("ETag"))
	}
}

func TestReservationExpires(t *testing.T) {
	d := newDealEnv(t, 100, false)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go d.store.RunDeals(ctx, store.DealTimers{SweepEvery: 100 * time.Millisecond, OrphanGrace: time.Hour})
	hold := time.Now().Add(1500 * time.Millisecond).UTC().Format(time.RFC3339Nano)
	r := d.must(201, "POST", "/v1/reservations", d.mcnKey, map[string]any{"product_id": d.productID, "units": 60, "stream_date": tomorrow(), "hold_until": hold})
	id := r.body["id"].(string)
	if _, b, _ := d.stock(t); b != 60 {
		t.Fatalf("booked %d", b)
	}
	if !eventually(t, 10*time.Second, func() bool {
		_, b, _ := d.stock(t)
		return b == 0
	}) {
		t.Fatal("the expired hold's units were not released")
	}
	got := d.must(200, "GET", "/v1/reservations/"+id, d.mcnKey, nil)
	if got.body["status"] != "expired" || got.body["expired_at"] == nil {
		t.Errorf("after expiry: %s", got.raw)
	}
	if r := d.do("POST", "/v1/reservations/"+id+":confirm", d.coopKey, nil); r.status != 409 {
		t.Errorf("confirming an expired hold: %d", r.status)
	}
	trail := d.must(200, "GET", "/v1/reservations/"+id+"/audit", d.mcnKey, nil).body["items"].([]any)
	if last := trail[len(trail)-1].(map[string]any); last["actor"] != "system" || last["after"] != "expired" {
		t.Errorf("trail ends with %v", last)
	}
}

func TestSampleRequests(t *testing.T) {
	d := newDealEnv(t, 100, true)
	body := map[string]any{"product_id": d.productID, "ship_to_region": "330106", "note": "给主播试吃"}
	r := d.must(201, "POST", "/v1/sample-requests", d.mcnKey, body)
	id := r.body["id"].(string)
	if r.body["status"] != "requested" {
		t.Fatalf("created: %s", r.raw)
	}
	for _, bad := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"product_id": d.productID, "ship_to_region": "999999"}, "ship_to_region"},
		{map[string]any{"product_id": "prd_nope", "ship_to_region": "330106"}, "product_id"},
	} {
		if r := d.do("POST", "/v1/sample-requests", d.mcnKey, bad.body); r.status != 400 || !slices.Contains(fieldsOf(r), bad.field) {
			t.Errorf("%v: %d %s", bad.body, r.status, r.raw)
		}
	}
	steps := []struct {
		key, action string
		body        any
		status      int
		want        string
	}{
		{d.mcnKey, ":accept", nil, 403, ""},
		{d.coopKey, ":ship", map[string]any{"tracking_no": "SF1"}, 409, ""},
		{d.coopKey, ":decline", map[string]any{}, 400, ""},
		{d.coopKey, ":accept", nil, 200, "accepted"},
		{d.coopKey, ":ship", map[string]any{}, 400, ""},
		{d.coopKey, ":ship", map[string]any{"tracking_no": "SF9988"}, 200, "shipped"},
		{d.mcn2Key, ":receive", nil, 404, ""},
		{d.mcnKey, ":receive", nil, 200, "received"},
	}
	for i, st := range steps {
		r := d.do("POST", "/v1/sample-requests/"+id+st.action, st.key, st.body)
		if r.status != st.status || st.want != "" && r.body["status"] != st.want {
			t.Fatalf("step %d %s: %d %s", i, st.action, r.status, r.raw)
		}
	}
	// A product without samples answers 409 naming product_id.
	p := product("NO-SAMPLES")
	p["sample_available"] = false
	other := d.must(201, "POST", "/v1/products", d.coopKey, p).body["id"].(string)
	r = d.do("POST", "/v1/sample-requests", d.mcnKey, map[string]any{"product_id": other, "ship_to_region": "330106"})
	if r.status != 409 || !slices.Contains(fieldsOf(r), "product_id") {
		t.Errorf("no samples: %d %s", r.status, r.raw)
	}
	if r := d.must(200, "GET", "/v1/sample-requests?status=received", d.coopKey, nil); len(r.body["items"].([]any)) != 1 {
		t.Errorf("supplier's list: %s", r.raw)
	}
	if r := d.must(200, "GET", "/v1/sample-requests", d.mcn2Key, nil); len(r.body["items"].([]any)) != 0 {
		t.Errorf("another mcn's list: %s", r.raw)
	}
	trail := d.must(200, "GET", "/v1/sample-requests/"+id+"/audit", d.coopKey, nil).body["items"].([]any)
	if len(trail) != 4 {
		t.Errorf("trail has %d entries, want 4", len(trail))
	}
}
