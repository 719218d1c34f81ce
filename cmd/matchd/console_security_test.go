package main

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// TestConsoleSessionAndCSRF checks the session cookie, CSRF protection on
// writes, sign-out, the security headers and the redirect of /, over plain
// HTTP as an attacker's page or script would send it.
func TestConsoleSessionAndCSRF(t *testing.T) {
	env := newConsoleEnv(t)
	c := httpClient(t)

	res, err := c.Get(env.base + "/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusFound || res.Header.Get("Location") != "/console/" {
		t.Errorf("GET / = %d → %q, want 302 → /console/", res.StatusCode, res.Header.Get("Location"))
	}
	// Signed out, a page sends the browser to sign in and back.
	res, _ = c.Get(env.base + "/console/search?q=tea")
	res.Body.Close()
	if loc := res.Header.Get("Location"); res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/console/login?next=") {
		t.Errorf("signed-out page: %d → %q", res.StatusCode, loc)
	}

	// A wrong key: the form again with a message; never a 500.
	for _, key := range []string{"lm_wrong", "", strings.Repeat("x", 5000), "lm_\x00\u202e"} {
		st, body := postForm(t, env, c, "/console/login", url.Values{"api_key": {key}})
		if st >= 500 || st == http.StatusSeeOther || !strings.Contains(body, `id="login-error"`) {
			t.Errorf("wrong key %.20q: %d, message shown: %v", key, st, strings.Contains(body, `id="login-error"`))
		}
	}

	// The session cookie: HttpOnly, SameSite=Strict, and not the key.
	setCookie := formSignIn(t, env, c, env.keys["mcn"])
	for _, want := range []string{"lm_session=", "HttpOnly", "SameSite=Strict", "Path=/"} {
		if !strings.Contains(setCookie, want) {
			t.Errorf("session cookie %q lacks %s", setCookie, want)
		}
	}
	if strings.Contains(setCookie, env.keys["mcn"]) || strings.Contains(setCookie, strings.TrimPrefix(env.keys["mcn"], "lm_")) {
		t.Errorf("the session cookie holds the key")
	}

	// Every console page carries the CSP and framing headers.
	res, _ = c.Get(env.base + "/console/search")
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	csp := res.Header.Get("Content-Security-Policy")
	for _, want := range []string{"script-src 'self'", "frame-ancestors 'none'", "default-src 'self'", "style-src 'self'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %s", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("CSP allows inline or eval: %q", csp)
	}
	if regexp.MustCompile(`<script>|<script [^>]*>[^<]|\sstyle="|\son[a-z]+="`).Match(body) {
		t.Errorf("the page has inline script, style or event handlers")
	}
	token := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindSubmatch(body)
	if token == nil {
		t.Fatal("no CSRF token in the page")
	}

	// A state-changing form posted cross-site with the valid session and no
	// token: 403 and nothing stored. Likewise with no token from this site,
	// and with the token but from another site.
	profiles := func() int {
		_, v := call(t, env.m, "GET", "/v1/demand-profiles", env.keys["mcn"], "")
		return len(v["items"].([]any))
	}
	before := profiles()
	form := url.Values{"name": {"CSRF 测试"}, "keywords": {"脐橙"}}
	for _, tc := range []struct {
		name, origin, site, token string
	}{
		{"cross-site, no token", "https://evil.example", "cross-site", ""},
		{"same-site, no token", env.base, "same-origin", ""},
		{"cross-site, with token", "https://evil.example", "cross-site", string(token[1])},
		{"no origin headers, wrong token", "", "", "forged"},
	} {
		f := url.Values{}
		for k, v := range form {
			f[k] = v
		}
		if tc.token != "" {
			f.Set("csrf_token", tc.token)
		}
		req, _ := http.NewRequest("POST", env.base+"/console/profiles/new", strings.NewReader(f.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if tc.origin != "" {
			req.Header.Set("Origin", tc.origin)
			req.Header.Set("Sec-Fetch-Site", tc.site)
		}
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", tc.name, res.StatusCode)
		}
	}
	if after := profiles(); after != before {
		t.Errorf("a forged form stored a profile: %d → %d", before, after)
	}
	// The same form with the token from this site is accepted.
	f := url.Values{"csrf_token": {string(token[1])}, "name": {"CSRF 对照"}, "keywords": {"脐橙"}}
	req, _ := http.NewRequest("POST", env.base+"/console/profiles/new", strings.NewReader(f.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", env.base)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	res, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther || profiles() != before+1 {
		t.Errorf("the genuine form: %d, profiles %d → %d", res.StatusCode, before, profiles())
	}

	// Signing out ends the session on the server: the old cookie no longer
	// opens a page.
	old := regexp.MustCompile(`lm_session=([^;]+)`).FindStringSubmatch(setCookie)[1]
	postForm(t, env, c, "/console/logout", url.Values{"csrf_token": {string(token[1])}})
	replay, _ := http.NewRequest("GET", env.base+"/console/search", nil)
	replay.AddCookie(&http.Cookie{Name: "lm_session", Value: old})
	res, err = http.DefaultTransport.RoundTrip(replay)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		t.Errorf("the signed-out session still opens pages: %d", res.StatusCode)
	}
}

// TestConsoleRoles opens every console page as every role: a role's own
// pages answer 200, the others 403.
func TestConsoleRoles(t *testing.T) {
	env := newConsoleEnv(t)
	allow := map[string][]string{
		"/console/":                  {"admin", "cooperative", "factory", "importer", "mcn", "crossborder_firm"},
		"/console/search":            {"admin", "cooperative", "factory", "importer", "mcn", "crossborder_firm"},
		"/console/account":           {"admin", "cooperative", "factory", "importer", "mcn", "crossborder_firm"},
		"/console/profiles":          {"mcn"},
		"/console/profiles/new":      {"mcn"},
		"/console/hosts":             {"mcn"},
		"/console/products":          {"cooperative", "factory", "importer"},
		"/console/products/new":      {"cooperative", "factory", "importer"},
		"/console/import":            {"cooperative", "factory", "importer"},
		"/console/host-requests":     {"crossborder_firm", "importer"},
		"/console/host-requests/new": {"crossborder_firm", "importer"},
		"/console/review":            {"admin"},
		"/console/orgs":              {"admin"},
	}
	for _, role := range []string{"admin", "cooperative", "factory", "importer", "mcn", "crossborder_firm"} {
		c := httpClient(t)
		formSignIn(t, env, c, env.keys[role])
		for page, roles := range allow {
			res, err := c.Get(env.base + page)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			want := http.StatusForbidden
			for _, r := range roles {
				if r == role {
					want = http.StatusOK
				}
			}
			if res.StatusCode != want {
				t.Errorf("%s opening %s: %d, want %d", role, page, res.StatusCode, want)
			}
			// The menu offers only the role's own pages.
			if want == http.StatusOK && page != "/console/" && page != "/console/account" && !strings.Contains(page, "/new") &&
				!strings.Contains(string(body), `href="`+page+`"`) {
				t.Errorf("%s's menu lacks %s", role, page)
			}
		}
		res, _ := c.Get(env.base + "/console/")
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		for page, roles := range allow {
			listed := strings.Contains(string(body), `href="`+page+`"`)
			allowed := false
			for _, r := range roles {
				allowed = allowed || r == role
			}
			if listed && !allowed {
				t.Errorf("%s's home links to %s, which it may not open", role, page)
			}
		}
	}
}
