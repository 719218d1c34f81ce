package main

import (
	"fmt"
	"strings"
	"testing"
)

// rolePages are the pages each role opens from its menu.
var rolePages = map[string][]string{
	"admin":            {"/console/", "/console/search?q=茶", "/console/review", "/console/orgs", "/console/account"},
	"cooperative":      {"/console/", "/console/search?q=kiwi", "/console/products", "/console/products/new", "/console/import"},
	"importer":         {"/console/", "/console/products", "/console/host-requests", "/console/host-requests/new"},
	"mcn":              {"/console/", "/console/search?q=脐橙&in_stock=true", "/console/profiles", "/console/profiles/new", "/console/hosts"},
	"crossborder_firm": {"/console/", "/console/host-requests", "/console/host-requests/new"},
}

// TestConsolePhoneAndKeyboard opens every role's pages at 390 px: nothing
// is wider than the screen, every form control has a label, and every page
// loads without a script error or a request leaving matchd (checked by the
// browser harness).
func TestConsolePhoneAndKeyboard(t *testing.T) {
	env := newConsoleEnv(t)
	for role, pages := range rolePages {
		t.Run(role, func(t *testing.T) {
			b := phone(t, env, env.keys[role])
			for _, p := range pages {
				b.open(p)
				b.checkFits(role + strings.ReplaceAll(p, "/", "_"))
				unlabelled := get(b, evalString(`Array.from(document.querySelectorAll("input,select,textarea")).filter(function(e){
					if (e.type === "hidden" || e.closest("[hidden]")) return false;
					if (e.getAttribute("aria-label") || e.closest("label")) return false;
					return !(e.id && document.querySelector('label[for="' + e.id + '"]'));
				}).map(function(e){return e.name || e.id || e.outerHTML.slice(0,60)}).join(", ")`))
				if unlabelled != "" {
					t.Errorf("%s: controls without a label: %s", p, unlabelled)
				}
			}
			// The keyboard reaches the menu: Tab from the top lands on the
			// skip link, then the brand.
			b.open(pages[0])
			b.do(keyTab(), keyTab())
			if f := get(b, evalString(`document.activeElement && (document.activeElement.className || document.activeElement.tagName)`)); f == "" || f == "BODY" {
				t.Errorf("Tab does not move the focus into the page (%q)", f)
			}
		})
	}
}

// TestConsoleLanguage switches to English with the visible switch, checks
// that it is remembered across pages and sign-ins, and that ?lang= works.
func TestConsoleLanguage(t *testing.T) {
	env := newConsoleEnv(t)
	b := signedIn(t, env, env.keys["cooperative"])
	b.open("/console/")
	if lang := get(b, evalString(`document.documentElement.lang`)); lang != "zh-CN" {
		t.Errorf("default language %q, want zh-CN", lang)
	}
	zhMenu := b.text("nav.menu")
	if !strings.Contains(zhMenu, "商品搜索") {
		t.Errorf("Chinese menu: %q", zhMenu)
	}
	b.click("#lang-switch")
	b.waitText("nav.menu", "Search")
	b.open("/console/products")
	if menu := b.text("nav.menu"); !strings.Contains(menu, "My products") || strings.Contains(menu, "商品搜索") {
		t.Errorf("English not remembered on the next page: %q", menu)
	}
	if lang := get(b, evalString(`document.documentElement.lang`)); lang != "en" {
		t.Errorf("lang attribute %q, want en", lang)
	}
	b.signOut()
	if txt := b.text("main"); !strings.Contains(txt, "Sign in") {
		t.Errorf("sign-in page not in English after signing out: %q", txt)
	}
	b.signIn(env.keys["cooperative"])
	b.open("/console/search?q=kiwi&lang=zh")
	if menu := b.text("nav.menu"); !strings.Contains(menu, "商品搜索") {
		t.Errorf("?lang=zh: %q", menu)
	}
	b.open("/console/")
	if menu := b.text("nav.menu"); !strings.Contains(menu, "商品搜索") {
		t.Errorf("?lang=zh not remembered: %q", menu)
	}
}

// TestConsoleEscapesText lists a product whose title is markup: the search
// page shows it as text (a script would also break the CSP, which the
// browser harness reports as a page error).
func TestConsoleEscapesText(t *testing.T) {
	env := newConsoleEnv(t)
	title := `<script>alert(1)</script><img src=x onerror=alert(2)> 脐橙测试`
	body := fmt.Sprintf(`{"sku":"XSS-1","title_zh":%q,"category":"fresh_fruit","price_cny":10,"stock":5}`, title)
	if st, v := call(t, env.m, "POST", "/v1/products", env.keys["cooperative"], body); st != 201 {
		t.Fatalf("product: %d %v", st, v)
	}
	b := signedIn(t, env, env.keys["mcn"])
	b.open("/console/search?q=脐橙测试")
	b.waitText("#results", "alert(1)")
	if n := b.count("#results img, #results script"); n != 0 {
		t.Errorf("the title became markup: %d elements", n)
	}
	if !strings.Contains(b.text("#results"), "<script>alert(1)</script>") {
		t.Errorf("the title is not shown as text: %q", b.text("#results"))
	}
}
