package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestConsoleTour walks the main page of every role on the demo data as a
// new user would, in Chinese, in English and at phone width, checking that
// each shows what it is for. With LM_SCREENSHOTS=docs/console it takes the
// pictures of docs/console.md and the README.
func TestConsoleTour(t *testing.T) {
	env := newConsoleEnv(t)
	// A small import with a bad line, a host request and a product waiting
	// for review, so that those pages have something to show.
	if st, _ := call(t, env.m, "POST", "/v1/host-requests", env.keys["crossborder_firm"], `{"title":"马来西亚茶叶直播 Tea to Malaysia","categories":["tea"],
		"target_markets":["MY"],"languages":[{"code":"zh","min_level":"fluent"},{"code":"ms","min_level":"conversational"}],
		"budget_cny_per_hour":1000,"require_certified":true,"notes":"懂茶文化"}`); st != 201 {
		t.Fatalf("host request: %d", st)
	}
	_, found := call(t, env.m, "GET", "/v1/products?org_id="+env.orgs["factory"]+"&limit=1", env.admin, "")
	pending := found["items"].([]any)[0].(map[string]any)["id"].(string)
	if st, _ := call(t, env.m, "PATCH", "/v1/products/"+pending+"/review", env.admin, `{"review_status":"pending"}`); st != 200 {
		t.Fatalf("to pending: %d", st)
	}
	ndjson := filepath.Join(t.TempDir(), "oranges.ndjson")
	lines := `{"sku":"TOUR-1","title_zh":"赣南脐橙 礼盒 8斤","title_en":"Gannan navel oranges gift box 4 kg","category":"fresh_fruit","price_cny":59.9,"stock":800,"tags":["礼盒"]}
{"sku":"TOUR-2","title_zh":"兴国红薯 5斤","category":"vegetables","price_cny":19.9,"stock":300}
{"sku":"TOUR-3","title_zh":"坏行：价格写成了文字","category":"vegetables","price_cny":"九块九","stock":10}
{"sku":"TOUR-4","title_zh":"坏行：没有这个类目","category":"drones","price_cny":9.9,"stock":10}
`
	if err := os.WriteFile(ndjson, []byte(lines), 0o600); err != nil {
		t.Fatal(err)
	}

	type stop struct {
		path, shot string
		wantSel    string // an element the page must show, with items
		wantText   string
	}
	tours := []struct {
		role   string
		width  int
		stops  []stop
		before func(b *browser)
	}{
		{role: "mcn", width: 1280, stops: []stop{
			{"/console/", "home-mcn", ".cards a", "选品需求"},
			{"/console/search?q=脐橙&in_stock=true", "search", "#results [data-id] em", "脐橙"},
			{"/console/search?q=kiwi", "search-kiwi", "#results [data-id]", "猕猴桃"},
			{"/console/profiles", "profiles", "#profiles [data-id]", "助农专场"},
			{"@first-profile", "profile-matches", "#matches [data-id] .factor", "来自国家级脱贫县"},
			{"@first-profile?lang=en", "profile-matches-en", "#matches [data-id] .factor", "former national poverty county"},
			{"/console/hosts", "hosts", "#hosts [data-id]", ""},
			{"/console/reservations?lang=zh", "reservations", "#reservations [data-id]", "兴国县"},
			{"@first-reservation", "reservation", "#audit", ""},
			{"/console/samples", "samples", "#samples [data-id]", ""},
		}},
		{role: "cooperative", width: 1280, stops: []stop{
			{"/console/products", "products", "#products [data-id]", "脐橙"},
			{"@first-product", "product", "#buyers [data-id] .factor", "谁想要"},
			{"/console/products/new", "product-form", "#price_cny", "上架"},
			{"@import", "import", "#import-errors", "TOUR-3"},
			{"/console/reservations", "reservations-supplier", "#reservations [data-id]", ""},
		}},
		{role: "crossborder_firm", width: 1280, stops: []stop{
			{"/console/host-requests", "host-requests", "#host-requests [data-id]", "马来西亚"},
			{"@first-request", "host-matches", "#matches [data-id] .factor", "Aisyah"},
		}},
		{role: "admin", width: 1280, stops: []stop{
			{"/console/review", "review", "#review-queue [data-id]", "通过"},
			{"/console/orgs", "orgs", "#org-list [data-id]", "兴国县"},
			{"/console/orgs/" + env.orgs["cooperative"], "org", "#audit", "审计记录"},
		}},
		{role: "mcn", width: 390, stops: []stop{
			{"/console/search?q=猕猴桃", "phone-search", "#results [data-id]", "猕猴桃"},
			{"@first-profile", "phone-profile", "#matches [data-id] .factor", "脱贫县"},
		}},
	}
	for _, tour := range tours {
		b := newBrowser(t, env, tour.width, 900)
		b.signIn(env.keys[tour.role])
		for _, s := range tour.stops {
			path := s.path
			switch {
			case strings.HasPrefix(path, "@first-profile"):
				b.open("/console/profiles")
				path = get(b, evalString(`document.querySelector("#profiles [data-id] a").getAttribute("href")`)) + strings.TrimPrefix(path, "@first-profile")
			case path == "@first-product":
				b.open("/console/products?q=脐橙")
				path = get(b, evalString(`document.querySelector("#products [data-id] a").getAttribute("href")`))
			case path == "@first-reservation":
				b.open("/console/reservations")
				path = get(b, evalString(`document.querySelector("#reservations [data-id] a").getAttribute("href")`))
			case path == "@first-request":
				b.open("/console/host-requests")
				path = get(b, evalString(`document.querySelector("#host-requests [data-id] a").getAttribute("href")`))
			case path == "@import":
				b.open("/console/import")
				b.do(uploadFile("#file", ndjson))
				b.click("#import-submit")
				b.waitFor("#import-errors")
				path = ""
			}
			if path != "" {
				b.open(path)
			}
			b.waitFor(s.wantSel)
			if s.wantText != "" {
				b.waitText("main", s.wantText)
			}
			if s.shot == "profile-matches" || s.shot == "phone-profile" {
				b.do(scrollTo("#matches"))
			}
			b.screenshot(s.shot)
		}
	}
	// The sign-in page, as a new user first sees it.
	b := newBrowser(t, env, 1280, 720)
	b.open("/console/")
	b.waitFor("#api_key")
	b.screenshot("login")
}

// uploadFile puts a file into a file input.
func uploadFile(sel, path string) chromedp.Action[chromedp.Void] {
	return chromedp.SetUploadFiles(chromedp.CSS(sel), []string{path})
}

// scrollTo scrolls the element matching sel into view.
func scrollTo(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Evaluate[bool](`(function(){document.querySelector(`+strconv.Quote(sel)+`).scrollIntoView();return true})()`)(ctx, t)
		return err
	})
}
