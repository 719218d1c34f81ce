package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The supplier pages of the console: the product form with the API's
// messages by their fields, the quick stock edit with its version check,
// "who wants this", and the bulk import with its progress and line errors.

// prodAPIMessage posts body to the API as key and returns its message for
// field, so that tests compare the page with what the API really says.
func prodAPIMessage(t *testing.T, env *consoleEnv, method, path, key, body, field string) string {
	t.Helper()
	st, out := call(t, env.m, method, path, key, body)
	if st != http.StatusBadRequest {
		t.Fatalf("%s %s: %d, want 400: %v", method, path, st, out)
	}
	errs, _ := out["errors"].([]any)
	for _, e := range errs {
		if m, _ := e.(map[string]any); m["field"] == field {
			return m["message"].(string)
		}
	}
	t.Fatalf("the API names no %s: %v", field, out)
	return ""
}

// prodWaitStored polls the API until a search of org's products for q finds n.
func prodWaitStored(t *testing.T, env *consoleEnv, key, org, q string, n int) []any {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		st, out := call(t, env.m, "GET", "/v1/products?limit=100&org_id="+org+"&q="+q, key, "")
		items, _ := out["items"].([]any)
		if st == 200 && len(items) == n {
			return items
		}
		if time.Now().After(deadline) {
			t.Fatalf("search %q of %s: %d, %d items, want %d", q, org, st, len(items), n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// prodGetPage reads a console page with c.
func prodGetPage(t *testing.T, c *http.Client, u string) string {
	t.Helper()
	res, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		t.Fatalf("GET %s: %d", u, res.StatusCode)
	}
	return string(raw)
}

func TestConsoleProducts(t *testing.T) {
	env := newConsoleEnv(t)
	coop := env.keys["cooperative"]
	b := signedIn(t, env, coop)

	// The form with a bad price: the API's message by price_cny, all else kept.
	b.open("/console/products/new")
	b.typeInto("#sku", "LUMINA-ORANGE-5KG")
	b.typeInto("#title_zh", "赣南脐橙 露米娜礼盒 5斤装")
	b.typeInto("#title_en", "Lumina navel oranges 2.5 kg")
	b.setValue("#category", "fresh_fruit")
	b.typeInto("#tags", "礼盒, gift box")
	b.typeInto("#price_cny", "-5")
	b.typeInto("#commission_rate", "0.2")
	b.typeInto("#stock", "300")
	b.click("#month-11")
	b.click("#month-12")
	b.setValue("#cert-type-0", "green_food")
	b.typeInto("#cert-number-0", "LB-18-2311120456A")
	b.setValue("#cert-expires-0", "2030-10-31")
	b.click("#product-submit")
	b.waitFor("#price_cny-error")
	want := prodAPIMessage(t, env, "POST", "/v1/products", coop,
		`{"sku":"X","title_zh":"脐橙","category":"fresh_fruit","price_cny":-5,"stock":1}`, "price_cny")
	if got := b.text("#price_cny-error"); !strings.Contains(got, want) {
		t.Errorf("price_cny message %q, want the API's %q", got, want)
	}
	if got := get(b, evalString(`document.querySelector("#price_cny").getAttribute("aria-invalid")||""`)); got != "true" {
		t.Errorf("price_cny aria-invalid = %q", got)
	}
	if n := b.count("#form-errors"); n != 1 {
		t.Errorf("no error summary at the top of the form")
	}
	kept := map[string]string{"#sku": "LUMINA-ORANGE-5KG", "#title_zh": "赣南脐橙 露米娜礼盒 5斤装", "#title_en": "Lumina navel oranges 2.5 kg",
		"#category": "fresh_fruit", "#tags": "礼盒, gift box", "#price_cny": "-5", "#commission_rate": "0.2", "#stock": "300",
		"#cert-type-0": "green_food", "#cert-number-0": "LB-18-2311120456A", "#cert-expires-0": "2030-10-31"}
	for sel, v := range kept {
		if got := b.value(sel); got != v {
			t.Errorf("%s = %q after the bad price, want %q kept", sel, got, v)
		}
	}
	for _, sel := range []string{"#month-11", "#month-12"} {
		if !get(b, chromedp.Evaluate[bool](`document.querySelector("`+sel+`").checked`)) {
			t.Errorf("%s is no longer ticked", sel)
		}
	}
	b.screenshot("product-form-errors")

	// Fixed, the product is stored with everything typed.
	b.setValue("#price_cny", "39.9")
	b.click("#product-submit")
	b.waitGone("#product-form #price_cny-error")
	b.waitFor("#review-status")
	loc := b.location()
	i := strings.Index(loc, "/console/products/")
	id := strings.TrimSuffix(strings.SplitN(loc[i+len("/console/products/"):], "#", 2)[0], "/")
	st, p := call(t, env.m, "GET", "/v1/products/"+id, coop, "")
	if st != 200 {
		t.Fatalf("GET the new product %q: %d %v", id, st, p)
	}
	if p["price_cny"] != 39.9 || p["stock"] != 300.0 || p["title_en"] != "Lumina navel oranges 2.5 kg" || p["sku"] != "LUMINA-ORANGE-5KG" {
		t.Errorf("stored product: %v", p)
	}
	if months := fmt.Sprint(p["available_months"]); months != "[11 12]" {
		t.Errorf("available_months %s", months)
	}
	if tags := fmt.Sprint(p["tags"]); tags != "[礼盒 gift box]" {
		t.Errorf("tags %s", tags)
	}
	certs, _ := p["certifications"].([]any)
	if len(certs) != 1 || certs[0].(map[string]any)["number"] != "LB-18-2311120456A" || certs[0].(map[string]any)["type"] != "green_food" {
		t.Errorf("certifications %v", certs)
	}
	if got := b.value("#price_cny"); got != "39.9" {
		t.Errorf("the edit form shows price %q", got)
	}

	// The quick stock edit in the list.
	row := `#products tr[data-id="` + id + `"]`
	b.open("/console/products?q=lumina")
	b.waitFor(row)
	b.setValue(row+` input[name=stock]`, "450")
	b.click(row + ` button[type=submit]`)
	b.waitFor(row + ` .stockmsg.saved`)
	if _, p := call(t, env.m, "GET", "/v1/products/"+id, coop, ""); p["stock"] != 450.0 {
		t.Fatalf("stock after the quick edit: %v", p["stock"])
	}
	// Someone changes the stock meanwhile: the edit says so, keeps the
	// typed number and the next submit applies it.
	if st, out := call(t, env.m, "PATCH", "/v1/products/"+id+"/stock", coop, `{"stock":111}`); st != 200 {
		t.Fatalf("PATCH stock: %d %v", st, out)
	}
	_, cur := call(t, env.m, "GET", "/v1/products/"+id, coop, "")
	b.setValue(row+` input[name=stock]`, "777")
	b.click(row + ` button[type=submit]`)
	b.waitFor(row + ` .stockmsg.stale`)
	if msg := b.text(row + ` .stockmsg`); !strings.Contains(msg, "111") || !strings.Contains(msg, "777") {
		t.Errorf("stale message %q names neither the current stock nor the typed one", msg)
	}
	if v := b.value(row + ` input[name=stock]`); v != "777" {
		t.Errorf("the typed stock is gone: %q", v)
	}
	if v := b.value(row + ` input[name=version]`); v != strconv.Itoa(int(cur["version"].(float64))) {
		t.Errorf("version field %q, want the current %v", v, cur["version"])
	}
	if _, p := call(t, env.m, "GET", "/v1/products/"+id, coop, ""); p["stock"] != 111.0 {
		t.Fatalf("a stale edit overwrote the stock: %v", p["stock"])
	}
	b.screenshot("products-list-stale")
	b.click(row + ` button[type=submit]`)
	b.waitFor(row + ` .stockmsg.saved`)
	if _, p := call(t, env.m, "GET", "/v1/products/"+id, coop, ""); p["stock"] != 777.0 {
		t.Fatalf("the second submit did not apply: %v", p["stock"])
	}
	// A bad value: the API's message by the box, the value kept.
	wantStock := prodAPIMessage(t, env, "PATCH", "/v1/products/"+id+"/stock", coop, `{"stock":"abc"}`, "stock")
	b.setValue(row+` input[name=stock]`, "abc")
	b.click(row + ` button[type=submit]`)
	b.waitFor(row + ` .stockmsg.ferr`)
	if msg := b.text(row + ` .stockmsg`); !strings.Contains(msg, wantStock) {
		t.Errorf("bad stock message %q, want the API's %q", msg, wantStock)
	}
	if v := b.value(row + ` input[name=stock]`); v != "abc" {
		t.Errorf("the typed value is gone: %q", v)
	}
	b.open("/console/products")
	b.screenshot("products-list")

	// "Who wants this": a demand profile an MCN created through the API.
	st, prof := call(t, env.m, "POST", "/v1/demand-profiles", env.keys["mcn"],
		`{"name":"双十二 露米娜脐橙专场","keywords":"脐橙 lumina","categories":["fresh_fruit"],"stream_date":"2031-12-12T20:00:00+08:00"}`)
	if st != 201 {
		t.Fatalf("POST demand profile: %d %v", st, prof)
	}
	pid := prof["id"].(string)
	b.open("/console/products/" + id)
	buyer := `#buyers [data-id="` + pid + `"]`
	b.waitFor(buyer)
	if txt := b.text(buyer); !strings.Contains(txt, "双十二 露米娜脐橙专场") || !strings.Contains(txt, "脐橙 lumina") {
		t.Errorf("buyer shows %q", txt)
	}
	if n := b.count(buyer + ` .factor`); n < 5 {
		t.Errorf("the buyer has %d factor bars", n)
	}
	b.screenshot("product-buyers")
	b.open("/console/products/" + id + "?lang=en")
	b.waitFor(buyer)
	b.screenshot("product-buyers-en")
	b.open("/console/products/" + id + "?lang=zh")

	// Another org's product is the API's 404.
	st, other := call(t, env.m, "GET", "/v1/products?limit=1&org_id="+env.orgs["factory"], env.keys["factory"], "")
	if items, _ := other["items"].([]any); st == 200 && len(items) > 0 {
		b.open("/console/products/" + items[0].(map[string]any)["id"].(string))
		b.waitFor("#error-message")
	} else {
		t.Errorf("the factory has no products: %d %v", st, other)
	}

	// The whole form, edited while the product changed elsewhere: the page
	// says so, keeps what was typed, and overwrites only when asked to.
	b.open("/console/products/" + id)
	b.setValue("#title_en", "Lumina navel oranges, gift box")
	b.setValue("#commission_rate", "0.25")
	if st, out := call(t, env.m, "PATCH", "/v1/products/"+id+"/stock", coop, `{"stock":500}`); st != 200 {
		t.Fatalf("PATCH stock: %d %v", st, out)
	}
	b.click("#product-submit")
	b.waitFor("#stale")
	if v := b.value("#title_en"); v != "Lumina navel oranges, gift box" {
		t.Errorf("after a stale save the title is %q", v)
	}
	if _, p := call(t, env.m, "GET", "/v1/products/"+id, coop, ""); p["title_en"] != "Lumina navel oranges 2.5 kg" {
		t.Fatalf("a stale save was stored: %v", p["title_en"])
	}
	b.screenshot("product-stale")
	b.click("#overwrite")
	b.waitGone("#stale")
	b.waitFor("#review-status")
	if _, p := call(t, env.m, "GET", "/v1/products/"+id, coop, ""); p["title_en"] != "Lumina navel oranges, gift box" || p["commission_rate"] != 0.25 {
		t.Fatalf("the overwrite was not stored: %v", p)
	}

	// Without JavaScript the stock form posts a whole page: a stale edit
	// answers 412 with the message, the typed value and the new version.
	nojs := httpClient(t)
	formSignIn(t, env, nojs, coop)
	page := prodGetPage(t, nojs, env.base+"/console/products/"+id)
	token := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindStringSubmatch(page)
	if token == nil {
		t.Fatal("no CSRF token on the product page")
	}
	_, cur = call(t, env.m, "GET", "/v1/products/"+id, coop, "")
	st, body := postForm(t, env, nojs, "/console/products/"+id+"/stock",
		url.Values{"csrf_token": {token[1]}, "stock": {"612"}, "version": {"1"}, "from": {"product"}})
	if st != http.StatusPreconditionFailed || !strings.Contains(body, `value="612"`) ||
		!strings.Contains(body, fmt.Sprintf(`name="version" value="%d"`, int(cur["version"].(float64)))) || !strings.Contains(body, "stockmsg stale") {
		t.Errorf("stale stock edit without JavaScript: %d\n%s", st, body)
	}

	// The same from the list, with a bad value: 400, the list again with
	// the typed value and the API's message in the product's row.
	st, body = postForm(t, env, nojs, "/console/products/"+id+"/stock",
		url.Values{"csrf_token": {token[1]}, "stock": {"abc"}, "version": {"1"}, "from": {"list"}, "q": {"lumina"}})
	if i := strings.Index(body, `data-id="`+id+`"`); st != http.StatusBadRequest || i < 0 ||
		!strings.Contains(body[i:], `value="abc"`) || !strings.Contains(body[i:], wantStock) {
		t.Errorf("bad stock from the list without JavaScript: %d\n%s", st, body)
	}

	// The quick edit on the product page keeps the product form current:
	// saving the form afterwards is no stale write.
	b.open("/console/products/" + id)
	b.setValue(`#stockbox input[name=stock]`, "640")
	b.click(`#stockbox button[type=submit]`)
	b.waitFor(`#stockbox .stockmsg.saved`)
	if v := b.value("#stock"); v != "640" {
		t.Errorf("the form's stock after the quick edit: %q", v)
	}
	b.setValue("#title_en", "Lumina navel oranges, 2.5 kg gift box")
	b.click("#product-submit")
	b.waitFor("main > p.flash")
	if n := b.count("#stale"); n != 0 {
		t.Errorf("saving the form after a quick stock edit was taken as stale")
	}
	if _, p := call(t, env.m, "GET", "/v1/products/"+id, coop, ""); p["title_en"] != "Lumina navel oranges, 2.5 kg gift box" || p["stock"] != 640.0 {
		t.Errorf("after the quick edit and the form: %v %v", p["title_en"], p["stock"])
	}

	// On a phone, in English: nothing wider than the screen.
	p390 := phone(t, env, coop)
	for _, pg := range []struct{ path, shot string }{
		{"/console/products?lang=en", "products-list-390-en"},
		{"/console/products/" + id, "product-buyers-390-en"},
		{"/console/products/new", "product-form-390-en"},
		{"/console/products?lang=zh", "products-list-390"},
	} {
		p390.open(pg.path)
		p390.checkFits(pg.shot)
		p390.screenshot(pg.shot)
	}

	// Delete: back to the list with a message, and the API no longer has it.
	checkDelete(t, env, b, "/console/products/"+id, "#delete-product", "#products", "/v1/products/"+id, coop)

	// An MCN may not use the supplier pages.
	checkStatus(t, env, env.keys["mcn"], http.StatusForbidden, "/console/products", "/console/products/new", "/console/import")
}

func TestConsoleImport(t *testing.T) {
	env := newConsoleEnv(t)
	imp, org := env.keys["importer"], env.orgs["importer"]
	b := signedIn(t, env, imp)
	dir := t.TempDir()

	// NDJSON with a bad line (line 3) and a blank one.
	nd := filepath.Join(dir, "products.ndjson")
	lines := []string{
		`{"sku":"QZ-KIWI-1","title_zh":"新西兰奎兹猕猴桃 1","title_en":"Quiz kiwi 1","category":"fresh_fruit","price_cny":29.9,"stock":100,"origin_country":"NZ"}`,
		``,
		`{"sku":"QZ-KIWI-2","title_zh":"新西兰奎兹猕猴桃 2","category":"fresh_fruit","price_cny":"abc","stock":100}`,
		`{"sku":"QZ-KIWI-3","title_zh":"新西兰奎兹猕猴桃 3","title_en":"Quiz kiwi 3","category":"fresh_fruit","price_cny":19.9,"stock":50,"origin_country":"NZ"}`,
	}
	if err := os.WriteFile(nd, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	b.open("/console/import")
	b.screenshot("import-form")
	b.do(chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{nd}))
	b.click("#import-submit")
	b.waitFor("#import-progress")
	if max := get(b, evalString(`document.querySelector("#import-progress").getAttribute("max")`)); max != "4" {
		t.Errorf("progress max %q, want 4 lines", max)
	}
	b.waitFor(`#import-status[data-state=done]`)
	if v := get(b, evalString(`document.querySelector("#import-progress").getAttribute("value")`)); v != "4" {
		t.Errorf("progress value %q when done", v)
	}
	b.waitFor(`#import-errors tr[data-line="3"]`)
	if txt := b.text(`#import-errors tr[data-line="3"]`); !strings.Contains(txt, "price_cny") || !strings.Contains(txt, "QZ-KIWI-2") && !strings.Contains(txt, "3") {
		t.Errorf("line 3's error: %q", txt)
	}
	if n := b.count(`#import-errors tbody tr`); n != 1 {
		t.Errorf("%d error rows, want 1", n)
	}
	if s := b.text("#import-summary"); !strings.Contains(s, "2") || !strings.Contains(s, "1") {
		t.Errorf("summary %q", s)
	}
	prodWaitStored(t, env, imp, org, "quiz", 2)
	b.screenshot("import-result")

	// CSV: the header is line 1; lists split on |; certificates as type or
	// type:number:date; the bad row is named by its file line.
	csvPath := filepath.Join(dir, "products.csv")
	csvText := "sku,title_zh,title_en,category,price_cny,stock,available_months,certifications,cold_chain,tags\n" +
		"ZX-TEA-1,安吉白茶 泽西 1,Zexi white tea 1,tea,88,40,3|4|5,green_food:LB-18-2311120456A:2030-10-31|geo_indication,否,春茶;明前\n" +
		"ZX-TEA-2,安吉白茶 泽西 2,Zexi white tea 2,tea,66,-3,,,false,\n" +
		"ZX-TEA-3,\"安吉白茶 泽西 3, 礼盒\",Zexi white tea 3,tea,99,20,,organic,true,\n"
	if err := os.WriteFile(csvPath, []byte(csvText), 0o644); err != nil {
		t.Fatal(err)
	}
	b.open("/console/import")
	b.do(chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{csvPath}))
	b.click("#import-submit")
	b.waitFor("#import-progress")
	b.waitFor(`#import-status[data-state=done]`)
	b.waitFor(`#import-errors tr[data-line="3"]`)
	if txt := b.text(`#import-errors tr[data-line="3"]`); !strings.Contains(txt, "stock") || !strings.Contains(txt, "ZX-TEA-2") {
		t.Errorf("CSV line 3's error: %q", txt)
	}
	if n := b.count(`#import-errors tbody tr`); n != 1 {
		t.Errorf("%d CSV error rows, want 1: %s", n, b.text("#import-errors"))
	}
	items := prodWaitStored(t, env, imp, org, "zexi", 2)
	for _, it := range items {
		p := it.(map[string]any)
		if p["sku"] == "ZX-TEA-1" {
			if fmt.Sprint(p["available_months"]) != "[3 4 5]" || fmt.Sprint(p["tags"]) != "[春茶 明前]" || p["cold_chain"] != false {
				t.Errorf("ZX-TEA-1 stored as %v", p)
			}
			certs, _ := p["certifications"].([]any)
			if len(certs) != 2 || certs[0].(map[string]any)["number"] != "LB-18-2311120456A" || certs[1].(map[string]any)["type"] != "geo_indication" {
				t.Errorf("ZX-TEA-1 certifications %v", certs)
			}
		}
		if p["sku"] == "ZX-TEA-3" && (p["title_zh"] != "安吉白茶 泽西 3, 礼盒" || p["cold_chain"] != true) {
			t.Errorf("ZX-TEA-3 stored as %v", p)
		}
	}
	b.screenshot("import-result-csv")

	// Another org's job is not found.
	job := strings.TrimPrefix(b.location(), env.base)
	checkStatus(t, env, env.keys["cooperative"], http.StatusNotFound, job)

	// The result on a phone, in English.
	p390 := phone(t, env, imp)
	p390.open(job + "?lang=en")
	p390.waitFor("#import-errors")
	p390.checkFits("import-result-390-en")
	p390.screenshot("import-result-390-en")
	p390.open("/console/import")
	p390.screenshot("import-form-390-en")

	// A file over the limit: a clear message, not a 500.
	big := filepath.Join(dir, "big.ndjson")
	line := []byte(`{"sku":"BIG","title_zh":"大文件","category":"fresh_fruit","price_cny":1,"stock":1}` + "\n")
	if err := os.WriteFile(big, bytes.Repeat(line, (33<<20)/len(line)+1), 0o644); err != nil {
		t.Fatal(err)
	}
	b.open("/console/import")
	b.do(chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{big}))
	b.click("#import-submit")
	b.waitFor("#file-error")
	if msg := b.text("#file-error"); !strings.Contains(msg, "32 MiB") {
		t.Errorf("too large: %q", msg)
	}
	b.screenshot("import-too-large")
}
