package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestConsoleSignInAndSearch signs in through the form, searches in Chinese
// and English, and signs out.
func TestConsoleSignInAndSearch(t *testing.T) {
	env := newConsoleEnv(t)
	b := newBrowser(t, env, 1280, 900)

	// A wrong key: the form again with a message.
	b.open("/console/login")
	b.typeInto("#api_key", "lm_wrong")
	b.click("#login-submit")
	b.waitFor("#login-error")
	if got := b.text("#login-error"); got == "" {
		t.Fatal("no message for a wrong key")
	}

	b.signIn(env.keys["mcn"])
	b.screenshot("home-mcn")
	b.open("/console/search?q=" + "脐橙")
	if !strings.Contains(b.text("#results"), "脐橙") {
		t.Fatalf("search 脐橙: %s", b.text("#results"))
	}
	if n := b.count("#results em"); n == 0 {
		t.Errorf("no highlighted words for 脐橙")
	}
	b.screenshot("search")
	b.open("/console/search?q=kiwi")
	if res := b.text("#results"); !strings.Contains(res, "猕猴桃") {
		t.Fatalf("search kiwi found no 猕猴桃: %s", res)
	}
	// A filter refreshes the results in place and the address keeps it.
	b.open("/console/search?q=礼盒")
	b.do(evalSet(`window.__noReload = 1`))
	total := func() string {
		return get(b, evalString(`(document.querySelector("#total") || {}).innerText || ""`))
	}
	before := total()
	b.choose("#category", "tea")
	deadline := time.Now().Add(20 * time.Second)
	for total() == before {
		if time.Now().After(deadline) {
			t.Fatalf("choosing a category left the total at %q", before)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if b.count(`#results [data-id]`) == 0 || b.count(`#results [data-id]:not([data-category="tea"])`) > 0 {
		t.Errorf("after choosing tea: %d results, %d not tea", b.count(`#results [data-id]`), b.count(`#results [data-id]:not([data-category="tea"])`))
	}
	if get(b, evalInt(`window.__noReload || 0`)) != 1 {
		t.Errorf("the filter reloaded the page")
	}
	if loc := b.location(); !strings.Contains(loc, "category=tea") {
		t.Errorf("the address lost the filter: %s", loc)
	}

	// Pages: next and back again, with the filter kept.
	b.open("/console/search?category=fresh_fruit")
	first := get(b, evalString(`document.querySelector("#results [data-id]").dataset.id`))
	b.click("#page-next")
	b.waitFor(`ol.products[start="21"]`)
	if id := get(b, evalString(`document.querySelector("#results [data-id]").dataset.id`)); id == first {
		t.Errorf("page 2 starts with page 1's first product %s", id)
	}
	if v := b.value("#category"); v != "fresh_fruit" {
		t.Errorf("the filter was lost on page 2: %q", v)
	}
	b.click("#page-prev")
	b.waitFor(`ol.products[start="1"]`)
	if id := get(b, evalString(`document.querySelector("#results [data-id]").dataset.id`)); id != first {
		t.Errorf("back on page 1, the first product is %s, not %s", id, first)
	}
	b.signOut()
}

// evalSet runs a statement in the page.
func evalSet(js string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Evaluate[any](js)(ctx, t)
		return err
	})
}
