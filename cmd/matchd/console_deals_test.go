package main

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The deals pages of the console: an MCN reserves from a demand profile's
// match (a reservation that does not fit says how many units are left and
// keeps what was typed), the supplier confirms and ships, the MCN reports
// the result; a stale or impossible action says what the reservation is
// now; a sample request goes requested → accepted → shipped → received;
// products show stock, booked and available units.

// dlChina is China Standard Time, the console's dates.
var dlChina = time.FixedZone("CST", 8*3600)

// dlCreate posts body to the API as key, wanting 201, and returns the id.
func dlCreate(t *testing.T, env *consoleEnv, path, key, body string) string {
	t.Helper()
	st, out := call(t, env.m, "POST", path, key, body)
	if st != http.StatusCreated {
		t.Fatalf("POST %s: %d %v", path, st, out)
	}
	return out["id"].(string)
}

// dlNewOrg admits a new org of the kind and returns its key.
func dlNewOrg(t *testing.T, env *consoleEnv, kind, region string) string {
	t.Helper()
	st, out := call(t, env.m, "POST", "/v1/orgs", env.admin,
		`{"kind":"`+kind+`","name_zh":"新星传媒","name_en":"Xinxing Media","region_code":"`+region+`"}`)
	if st != http.StatusCreated {
		t.Fatalf("POST /v1/orgs: %d %v", st, out)
	}
	return out["api_key"].(string)
}

// dlGet reads an API object as key.
func dlGet(t *testing.T, env *consoleEnv, path, key string) map[string]any {
	t.Helper()
	st, out := call(t, env.m, "GET", path, key, "")
	if st != http.StatusOK {
		t.Fatalf("GET %s: %d %v", path, st, out)
	}
	return out
}

// dlItems lists an API collection as key.
func dlItems(t *testing.T, env *consoleEnv, path, key string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, it := range dlGet(t, env, path, key)["items"].([]any) {
		out = append(out, it.(map[string]any))
	}
	return out
}

// dlWaitMatch waits until the profile's matches include the product (the
// index follows writes within about a second).
func dlWaitMatch(t *testing.T, env *consoleEnv, key, profile, product string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		for _, m := range dlItems(t, env, "/v1/demand-profiles/"+profile+"/matches?limit=20", key) {
			if m["product"].(map[string]any)["id"] == product {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("product %s never matched profile %s", product, profile)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// dlStatus checks a deal's status in the API.
func dlStatus(t *testing.T, env *consoleEnv, path, key, want string) map[string]any {
	t.Helper()
	got := dlGet(t, env, path, key)
	if got["status"] != want {
		t.Fatalf("%s is %v, want %s: %v", path, got["status"], want, got)
	}
	return got
}

// dlStock checks a product's stock, booked and available units in the API.
func dlStock(t *testing.T, env *consoleEnv, id, key string, stock, booked, available float64) {
	t.Helper()
	p := dlGet(t, env, "/v1/products/"+id, key)
	if p["stock"] != stock || p["booked"] != booked || p["available"] != available {
		t.Fatalf("product %s: stock %v booked %v available %v; want %v %v %v", id, p["stock"], p["booked"], p["available"], stock, booked, available)
	}
}

// dlFacts checks the stock figures a page shows.
func dlFacts(t *testing.T, b *browser, stock, booked, available string) {
	t.Helper()
	for sel, want := range map[string]string{"#stock-total": stock, "#stock-booked": booked, "#stock-available": available} {
		if got := strings.TrimSpace(b.text(sel)); got != want {
			t.Errorf("%s: %s shows %q, want %q", b.location(), sel, got, want)
		}
	}
}

// dlUnlabelled lists the page's visible form controls without a label.
func dlUnlabelled(b *browser) string {
	b.t.Helper()
	return get(b, evalString(`Array.from(document.querySelectorAll("input,select,textarea")).filter(function(e){
		if (e.type === "hidden") return false;
		if (e.getAttribute("aria-label") || e.closest("label")) return false;
		return !(e.id && document.querySelector('label[for="' + e.id + '"]'));
	}).map(function(e){return e.name || e.id}).join(", ")`))
}

// dlSwapped waits until sel is in the page and htmx has settled the
// content it swapped in (its new forms answer to htmx only from then on,
// some 20 ms later).
func dlSwapped(b *browser, sel string) {
	b.t.Helper()
	b.waitFor(sel)
	b.waitGone(".htmx-added, .htmx-settling, .htmx-swapping, .htmx-request")
}

// dlNoReload marks the page, so that dlStill can tell that what followed
// did not load another page.
func dlNoReload(b *browser) {
	b.t.Helper()
	b.do(evalSet(`window.__noReload = 1`))
}

// dlStill fails the test when the page was reloaded since dlNoReload.
func dlStill(b *browser, what string) {
	b.t.Helper()
	if get(b, evalInt(`window.__noReload || 0`)) != 1 {
		b.t.Errorf("%s reloaded the page", what)
	}
}

// dlToken reads the CSRF token of a console page with c.
func dlToken(t *testing.T, env *consoleEnv, c *http.Client, path string) string {
	t.Helper()
	m := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindStringSubmatch(prodGetPage(t, c, env.base+path))
	if m == nil {
		t.Fatalf("no CSRF token on %s", path)
	}
	return m[1]
}

func TestConsoleDeals(t *testing.T) {
	env := newConsoleEnv(t)
	// A new MCN, so that its lists hold only what this test makes (the
	// demo MCNs already have reservations in every state).
	coop, mcn := env.keys["cooperative"], dlNewOrg(t, env, "mcn", "330106")
	pid := dlCreate(t, env, "/v1/products", coop, `{"sku":"DEAL-WULING-5","title_zh":"雾岭脐橙 直播专供 5斤装","title_en":"Wuling navel oranges 2.5 kg",
		"category":"fresh_fruit","price_cny":49.9,"commission_rate":0.2,"stock":300,"sample_available":true,
		"description_zh":"雾岭山区果园直发，坏果包赔。","description_en":"Straight from the Wuling hill orchards."}`)
	day := time.Now().In(dlChina).AddDate(0, 1, 0).Format(time.DateOnly)
	prof := dlCreate(t, env, "/v1/demand-profiles", mcn, `{"name":"雾岭脐橙专场","keywords":"雾岭脐橙","categories":["fresh_fruit"],
		"expected_units":500,"stream_date":"`+day+`T20:00:00+08:00","weights":{"text":5}}`)
	dlWaitMatch(t, env, mcn, prof, pid)

	// The MCN reserves from the match: more than there is first.
	b := signedIn(t, env, mcn)
	b.open("/console/profiles/" + prof)
	match := `#matches li.match[data-id="` + pid + `"]`
	b.waitFor(match)
	if n := b.count(match + ` .deal-act.sample`); n != 1 {
		t.Errorf("the match of a product with samples offers %d sample forms", n)
	}
	b.click(match + ` summary.reserve-open`)
	if v := b.value("#sdate-" + pid); v != day {
		t.Errorf("the stream date defaults to %q, want the profile's %s", v, day)
	}
	if v := b.value("#hold-" + pid); v != "2" || b.value("#hold-unit-"+pid) != "days" {
		t.Errorf("the hold defaults to %q %q, want 2 days", v, b.value("#hold-unit-"+pid))
	}
	b.setValue("#units-"+pid, "500")
	b.setValue("#hold-"+pid, "3")
	b.choose("#hold-unit-"+pid, "days")
	b.setValue("#rnote-"+pid, "双十二专场，晚八点")
	dlNoReload(b)
	b.click("#reserve-" + pid + ` .reserve-submit`)
	dlSwapped(b, "#units-"+pid+"-error")
	if msg := b.text("#units-" + pid + "-error"); !strings.Contains(msg, "300") || !strings.Contains(msg, "仅剩") {
		t.Errorf("too many units: %q does not say that only 300 are available", msg)
	}
	for sel, want := range map[string]string{"#units-" + pid: "500", "#hold-" + pid: "3", "#hold-unit-" + pid: "days", "#rnote-" + pid: "双十二专场，晚八点", "#sdate-" + pid: day} {
		if got := b.value(sel); got != want {
			t.Errorf("after the refusal %s is %q, want %q kept", sel, got, want)
		}
	}
	if items := dlItems(t, env, "/v1/reservations", mcn); len(items) != 0 {
		t.Fatalf("a refused reservation was stored: %v", items)
	}
	b.screenshot("deals-reserve-short-1280-zh")

	// Within the stock: made, with a link to the list.
	b.setValue("#units-"+pid, "120")
	b.click("#reserve-" + pid + ` .reserve-submit`)
	dlSwapped(b, "#reserved-"+pid)
	dlStill(b, "reserving")
	if txt := b.text("#reserved-" + pid); !strings.Contains(txt, "120") {
		t.Errorf("the confirmation says %q", txt)
	}
	b.screenshot("deals-reserved-1280-zh")
	items := dlItems(t, env, "/v1/reservations", mcn)
	if len(items) != 1 {
		t.Fatalf("%d reservations, want 1", len(items))
	}
	r := items[0]
	rid := r["id"].(string)
	if r["status"] != "held" || r["units"] != 120.0 || r["product_id"] != pid || r["profile_id"] != prof || r["note"] != "双十二专场，晚八点" {
		t.Errorf("stored reservation: %v", r)
	}
	if sd, _ := time.Parse(time.RFC3339, r["stream_date"].(string)); sd.In(dlChina).Format(time.DateOnly) != day {
		t.Errorf("stream date %v, want %s", r["stream_date"], day)
	}
	created, _ := time.Parse(time.RFC3339, r["created_at"].(string))
	expires, _ := time.Parse(time.RFC3339, r["expires_at"].(string))
	if hold := expires.Sub(created); hold < 72*time.Hour-time.Minute || hold > 72*time.Hour+time.Minute {
		t.Errorf("held for %s, want 3 days", hold)
	}
	dlStock(t, env, pid, coop, 300, 120, 180)

	// The MCN's list: the reservation with its state and hold.
	row := `#reservations tr[data-id="` + rid + `"]`
	b.click("#reserved-" + pid + ` a.to-list`)
	b.waitFor(row)
	txt := b.text(row)
	for _, want := range []string{"雾岭脐橙", "120", day, "待确认", "保留至", "兴国县鑫源脐橙专业合作社"} { // the supplier by name
		if !strings.Contains(txt, want) {
			t.Errorf("the MCN's row lacks %q: %q", want, txt)
		}
	}
	if b.count(row+` .act-confirm`) != 0 || b.count(row+` .act-cancel`) != 1 {
		t.Errorf("the MCN's held row offers confirm %d, cancel %d; want only cancel", b.count(row+` .act-confirm`), b.count(row+` .act-cancel`))
	}
	if menu := b.text("nav.menu"); !strings.Contains(menu, "预订") || !strings.Contains(menu, "样品") {
		t.Errorf("the MCN's menu: %q", menu)
	}
	b.screenshot("deals-reservations-mcn-1280-zh")

	// The supplier confirms, then ships with a tracking number.
	s := signedIn(t, env, coop)
	s.open("/console/reservations")
	s.waitFor(row)
	if txt := s.text(row); !strings.Contains(txt, "新星传媒") {
		t.Errorf("the supplier's row does not name the MCN: %q", txt)
	}
	s.screenshot("deals-reservations-supplier-1280-zh")
	dlNoReload(s)
	s.click(row + ` button.act-confirm`)
	dlSwapped(s, row+`[data-status="confirmed"] .dealmsg.saved`)
	dlStatus(t, env, "/v1/reservations/"+rid, coop, "confirmed")
	if s.count(row+` button.act-confirm`) != 0 || s.count(row+` button.act-ship`) != 1 {
		t.Errorf("a confirmed row offers confirm %d, ship %d", s.count(row+` button.act-confirm`), s.count(row+` button.act-ship`))
	}
	s.setValue(row+` input[name=tracking_no]`, "SF1234567890")
	s.click(row + ` button.act-ship`)
	dlSwapped(s, row+`[data-status="shipped"]`)
	if got := dlStatus(t, env, "/v1/reservations/"+rid, coop, "shipped"); got["tracking_no"] != "SF1234567890" {
		t.Errorf("tracking number %v", got["tracking_no"])
	}
	if txt := s.text(row); !strings.Contains(txt, "SF1234567890") || !strings.Contains(txt, "已发货") {
		t.Errorf("the shipped row: %q", txt)
	}
	dlStill(s, "confirming and shipping")
	dlStock(t, env, pid, coop, 180, 0, 180)
	s.open("/console/products/" + pid)
	dlFacts(t, s, "180", "0", "180")

	// The MCN reports the result: more sold than reserved first.
	b.open("/console/reservations")
	b.waitFor(row + `[data-status="shipped"]`)
	dlNoReload(b)
	b.click(row + ` summary.act-result-open`)
	b.setValue("#sold-"+rid, "999")
	b.setValue("#returned-"+rid, "3")
	b.choose("#rating-"+rid, "5")
	b.setValue("#rnote-"+rid, "转化不错")
	b.click(row + ` button.act-result`)
	dlSwapped(b, "#sold-"+rid+"-error")
	if msg := b.text("#sold-" + rid + "-error"); !strings.Contains(msg, "120") {
		t.Errorf("units_sold message %q does not name the 120 reserved", msg)
	}
	for sel, want := range map[string]string{"#sold-" + rid: "999", "#returned-" + rid: "3", "#rating-" + rid: "5", "#rnote-" + rid: "转化不错"} {
		if got := b.value(sel); got != want {
			t.Errorf("after a bad result %s is %q, want %q kept", sel, got, want)
		}
	}
	dlStatus(t, env, "/v1/reservations/"+rid, mcn, "shipped")
	b.screenshot("deals-result-error-1280-zh")
	b.setValue("#sold-"+rid, "100")
	b.click(row + ` button.act-result`)
	dlSwapped(b, row+`[data-status="completed"]`)
	dlStill(b, "reporting the result")
	got := dlStatus(t, env, "/v1/reservations/"+rid, mcn, "completed")
	if got["units_sold"] != 100.0 || got["units_returned"] != 3.0 || got["rating"] != 5.0 || got["result_note"] != "转化不错" {
		t.Errorf("the stored result: %v", got)
	}
	if txt := b.text(row); !strings.Contains(txt, "售出 100 件") || !strings.Contains(txt, "5 星") {
		t.Errorf("the completed row: %q", txt)
	}

	// Its page: the facts and the audit trail, every step.
	b.open("/console/reservations/" + rid)
	if name := b.text("#res-profile"); name != "雾岭脐橙专场" {
		t.Errorf("the reservation's page names its profile %q", name)
	}
	if n := b.count(`#audit tbody tr`); n != 4 {
		t.Errorf("the audit trail has %d entries, want 4 (made, confirmed, shipped, result)", n)
	}
	if txt := b.text("#audit"); !strings.Contains(txt, "确认") || !strings.Contains(txt, "已发货 → 已完成") {
		t.Errorf("audit trail: %q", txt)
	}
	b.screenshot("deals-reservation-1280-zh")

	// A stale action: the MCN cancelled while the supplier's page was open.
	r2 := dlCreate(t, env, "/v1/reservations", mcn, `{"product_id":"`+pid+`","units":10,"stream_date":"`+day+`"}`)
	row2 := `#reservations tr[data-id="` + r2 + `"]`
	s.open("/console/reservations")
	s.waitFor(row2)
	if st, out := call(t, env.m, "POST", "/v1/reservations/"+r2+":cancel", mcn, ""); st != http.StatusOK {
		t.Fatalf("cancel: %d %v", st, out)
	}
	s.click(row2 + ` button.act-confirm`)
	dlSwapped(s, row2+` .dealmsg.ferr`)
	if msg := s.text(row2 + ` .dealmsg`); !strings.Contains(msg, "已取消") {
		t.Errorf("the stale confirm says %q, not that it is cancelled now", msg)
	}
	if s.count(row2+`[data-status="cancelled"]`) != 1 || s.count(row2+` button`) != 0 {
		t.Errorf("after the stale confirm the row is %q with %d buttons", get(s, evalString(`document.querySelector(`+strconv.Quote(row2)+`).dataset.status`)), s.count(row2+` button`))
	}
	dlStatus(t, env, "/v1/reservations/"+r2, coop, "cancelled")
	s.screenshot("deals-stale-1280-zh")

	// Without JavaScript: an action the state does not allow (ship a held
	// reservation) answers 409 with the state; a reservation too large
	// answers 409 with the units left, the typed values kept.
	r3 := dlCreate(t, env, "/v1/reservations", mcn, `{"product_id":"`+pid+`","units":20,"stream_date":"`+day+`"}`)
	nojs := httpClient(t)
	formSignIn(t, env, nojs, coop)
	token := dlToken(t, env, nojs, "/console/reservations")
	v3 := fmt.Sprint(dlGet(t, env, "/v1/reservations/"+r3, coop)["version"])
	st, body := postForm(t, env, nojs, "/console/reservations/"+r3+"/ship",
		url.Values{"csrf_token": {token}, "version": {v3}, "tracking_no": {"SF0000000001"}, "from": {"list"}})
	if i := strings.Index(body, `data-id="`+r3+`"`); st != http.StatusConflict || i < 0 || !strings.Contains(body[i:], "无法执行") || !strings.Contains(body[i:], "待确认") {
		t.Errorf("shipping a held reservation without JavaScript: %d\n%s", st, body)
	}
	dlStatus(t, env, "/v1/reservations/"+r3, coop, "held")
	mcnNoJS := httpClient(t)
	formSignIn(t, env, mcnNoJS, mcn)
	mtoken := dlToken(t, env, mcnNoJS, "/console/search/"+pid)
	st, body = postForm(t, env, mcnNoJS, "/console/reservations/new", url.Values{"csrf_token": {mtoken}, "product_id": {pid},
		"units": {"9999"}, "stream_date": {day}, "hold": {"12"}, "hold_unit": {"hours"}})
	if st != http.StatusConflict || !strings.Contains(body, "仅剩 160 件") || !strings.Contains(body, `value="9999"`) || !strings.Contains(body, `value="12"`) {
		t.Errorf("too large a reservation without JavaScript: %d\n%s", st, body)
	}
	// A hold that is no number is said by the field, and nothing is sent.
	st, body = postForm(t, env, mcnNoJS, "/console/reservations/new", url.Values{"csrf_token": {mtoken}, "product_id": {pid},
		"units": {"5"}, "stream_date": {day}, "hold": {"两天"}, "hold_unit": {"days"}})
	if st != http.StatusBadRequest || !strings.Contains(body, `id="hold-`+pid+`-error"`) {
		t.Errorf("a hold that is no number: %d\n%s", st, body)
	}
	if n := len(dlItems(t, env, "/v1/reservations", mcn)); n != 3 {
		t.Errorf("%d reservations after the refused ones, want 3", n)
	}

	// On a reservation's own page the actions post whole pages: the MCN
	// cancels r3 there, and is brought back to it with a message; a new
	// hold of 20 units takes its place.
	b.open("/console/reservations/" + r3)
	b.click(`summary.act-cancel-open`)
	b.click(`button.act-cancel`)
	b.waitFor(`main > p.flash`)
	if b.count(`.deal-page[data-status="cancelled"]`) != 1 || !strings.HasSuffix(b.location(), "/console/reservations/"+r3) {
		t.Errorf("after cancelling on its page: %s, %q", b.location(), b.text("#res-facts"))
	}
	dlStatus(t, env, "/v1/reservations/"+r3, mcn, "cancelled")
	dlCreate(t, env, "/v1/reservations", mcn, `{"product_id":"`+pid+`","units":20,"stream_date":"`+day+`"}`)

	// The supplier's product page: stock, booked and available; stock may
	// not go below what is booked, and a product with bookings is not
	// deleted; each is said where it was asked.
	s.open("/console/products/" + pid)
	dlFacts(t, s, "180", "20", "160")
	s.setValue(`#stockbox input[name=stock]`, "10")
	s.click(`#stockbox button[type=submit]`)
	dlSwapped(s, `#stockbox .stockmsg.ferr`)
	if msg := s.text(`#stockbox .stockmsg`); !strings.Contains(msg, "20") {
		t.Errorf("stock below the booked units: %q", msg)
	}
	if v := s.value(`#stockbox input[name=stock]`); v != "10" {
		t.Errorf("the typed stock is gone: %q", v)
	}
	s.setValue(`#stockbox input[name=stock]`, "200")
	s.click(`#stockbox button[type=submit]`)
	dlSwapped(s, `#stockbox .stockmsg.saved`)
	dlFacts(t, s, "200", "20", "180")
	dlStock(t, env, pid, coop, 200, 20, 180)
	s.click("#delete-product")
	s.waitFor("#delete-refused")
	dlStock(t, env, pid, coop, 200, 20, 180)
	s.screenshot("deals-product-supplier-1280-zh")

	// A sample: requested from the product's page, accepted, shipped, received.
	b.open("/console/search/" + pid)
	dlFacts(t, b, "200", "20", "180")
	region := b.value("#region-" + pid)
	if len(region) != 6 {
		t.Errorf("the ship-to region defaults to %q, want the MCN's region code", region)
	}
	b.setValue("#snote-"+pid, "寄给主播小雅，电话 138xxxx")
	b.screenshot("deals-offer-1280-zh")
	dlNoReload(b)
	b.click("#sample-" + pid + ` .sample-submit`)
	dlSwapped(b, "#sampled-"+pid)
	dlStill(b, "requesting a sample")
	smps := dlItems(t, env, "/v1/sample-requests", mcn)
	if len(smps) != 1 || smps[0]["status"] != "requested" || smps[0]["ship_to_region"] != region || smps[0]["product_id"] != pid {
		t.Fatalf("sample requests: %v", smps)
	}
	sid := smps[0]["id"].(string)
	srow := `#samples tr[data-id="` + sid + `"]`
	s.open("/console/samples")
	s.waitFor(srow)
	if s.count(srow+` button.act-accept`) != 1 || s.count(srow+` .act-decline-open`) != 1 {
		t.Errorf("a requested sample offers accept %d, decline %d", s.count(srow+` button.act-accept`), s.count(srow+` .act-decline-open`))
	}
	dlNoReload(s)
	s.click(srow + ` button.act-accept`)
	dlSwapped(s, srow+`[data-status="accepted"]`)
	dlStatus(t, env, "/v1/sample-requests/"+sid, coop, "accepted")
	// Shipping without a tracking number: the API's message by the field.
	s.click(srow + ` button.act-ship`)
	dlSwapped(s, "#strack-"+sid+"-error")
	if msg := s.text("#strack-" + sid + "-error"); !strings.Contains(msg, "required") {
		t.Errorf("shipping a sample without a tracking number: %q", msg)
	}
	s.setValue("#strack-"+sid, "YT9988776655")
	s.click(srow + ` button.act-ship`)
	dlSwapped(s, srow+`[data-status="shipped"]`)
	dlStill(s, "accepting and shipping a sample")
	if got := dlStatus(t, env, "/v1/sample-requests/"+sid, coop, "shipped"); got["tracking_no"] != "YT9988776655" {
		t.Errorf("sample tracking number %v", got["tracking_no"])
	}
	s.screenshot("deals-samples-supplier-1280-zh")
	b.open("/console/samples")
	b.waitFor(srow)
	dlNoReload(b)
	b.click(srow + ` button.act-receive`)
	dlSwapped(b, srow+`[data-status="received"]`)
	dlStill(b, "confirming receipt")
	dlStatus(t, env, "/v1/sample-requests/"+sid, mcn, "received")
	b.screenshot("deals-samples-mcn-1280-zh")

	// English, then Chinese again.
	b.open("/console/reservations?lang=en")
	b.waitFor(row)
	if menu := b.text("nav.menu"); !strings.Contains(menu, "Reservations") || !strings.Contains(menu, "Samples") {
		t.Errorf("the English menu: %q", menu)
	}
	if txt := b.text("#reservations"); !strings.Contains(txt, "Completed") || !strings.Contains(txt, "Stream date") || !strings.Contains(txt, "Held") {
		t.Errorf("the English list: %q", txt)
	}
	b.screenshot("deals-reservations-mcn-1280-en")
	b.open("/console/samples")
	if txt := b.text("#samples"); !strings.Contains(txt, "Received") {
		t.Errorf("the English samples list: %q", txt)
	}
	b.open("/console/search/" + pid)
	if txt := b.text("main"); !strings.Contains(txt, "Available") || !strings.Contains(txt, "Reserve stock") {
		t.Errorf("the English product page: %q", txt)
	}
	b.screenshot("deals-offer-1280-en")
	b.open("/console/reservations?lang=zh")
	if txt := b.text("#reservations"); !strings.Contains(txt, "已完成") || !strings.Contains(txt, "直播日期") {
		t.Errorf("back in Chinese: %q", txt)
	}
	// The status filter.
	b.click(`#status-filter a[data-status="completed"]`)
	b.waitFor(`#status-filter a.on[data-status="completed"]`)
	if n, done := b.count(`#reservations tr.deal`), b.count(`#reservations tr.deal[data-status="completed"]`); n != 1 || done != 1 {
		t.Errorf("filtered by completed: %d rows, %d completed", n, done)
	}

	// Pages by the API's cursor: 20 more holds push the first reservation
	// to page 2, and back.
	for i := 0; i < 20; i++ {
		dlCreate(t, env, "/v1/reservations", mcn, `{"product_id":"`+pid+`","units":1,"stream_date":"`+day+`"}`)
	}
	b.open("/console/reservations")
	if n := b.count(`#reservations tr.deal`); n != 20 || b.count(row) != 0 {
		t.Errorf("page 1 has %d rows (the first reservation among them: %v)", n, b.count(row) == 1)
	}
	b.click("#page-next")
	b.waitFor(row)
	if n := b.count(`#reservations tr.deal`); n != 4 { // 24 in all
		t.Errorf("page 2 has %d rows, want 4", n)
	}
	b.click("#page-prev")
	b.waitGone(row)
	// The old page may be gone before the new one is parsed: wait for the
	// pager below the table (a wait for the page, not a speed assertion).
	b.waitFor("#page-next")
	if n := b.count(`#reservations tr.deal`); n != 20 {
		t.Errorf("back on page 1: %d rows", n)
	}

	// At phone width, in both languages: nothing wider than the screen,
	// every control labelled.
	type shot struct{ path, name string }
	for _, who := range []struct {
		key   string
		pages []shot
	}{
		{mcn, []shot{{"/console/reservations", "reservations-mcn"}, {"/console/samples", "samples-mcn"}, {"/console/search/" + pid, "offer"},
			{"/console/reservations/" + rid, "reservation"}, {"/console/profiles/" + prof, "profile-match"}}},
		{coop, []shot{{"/console/reservations", "reservations-supplier"}, {"/console/samples", "samples-supplier"}, {"/console/products/" + pid, "product-supplier"}}},
	} {
		p := phone(t, env, who.key)
		for _, lang := range []string{"zh", "en"} {
			for _, sh := range who.pages {
				pg := sh.path
				p.open(pg + "?lang=" + lang)
				shot := "deals-" + sh.name + "-390-" + lang
				if strings.HasPrefix(pg, "/console/profiles/") {
					p.waitFor(match)
					p.click(match + ` summary.reserve-open`)
					pfScrollTo(p, match)
				}
				p.checkFits(shot)
				if u := dlUnlabelled(p); u != "" {
					t.Errorf("%s: controls without a label: %s", pg, u)
				}
				p.screenshot(shot)
			}
		}
	}
	b.open("/console/profiles/" + prof)
	b.waitFor(match)
	b.click(match + ` summary.reserve-open`)
	pfScrollTo(b, match)
	b.screenshot("deals-profile-match-1280-zh")

	// Other roles: a factory (a supplier) has the pages, a cross-border firm
	// and the operator do not; nobody else's deal is found.
	checkStatus(t, env, env.keys["factory"], http.StatusOK, "/console/reservations", "/console/samples")
	checkStatus(t, env, env.keys["factory"], http.StatusNotFound, "/console/reservations/"+rid)
	checkStatus(t, env, env.keys["crossborder_firm"], http.StatusForbidden, "/console/reservations", "/console/samples")
	checkStatus(t, env, env.admin, http.StatusForbidden, "/console/reservations")
}
