package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// The web console's browser tests drive a real headless Chromium against a
// real matchd (embedded FerretDB, demo data). A missing browser is a
// failure, never a skip: findChromium installs Debian's package when it
// can (as root with apt-get), as .ci/run does.

// consoleEnv is a running matchd with its demo keys, for console tests.
type consoleEnv struct {
	m     *Main
	base  string // http://127.0.0.1:port
	admin string
	keys  map[string]string // demo org kind → a key of that kind
	orgs  map[string]string // demo org kind → that org's id
	keyOf map[string]string // demo org id → its key (every demo org)
}

// newConsoleEnv starts matchd with the demo catalogue on a fresh data
// directory.
func newConsoleEnv(t *testing.T, extra ...string) *consoleEnv {
	t.Helper()
	dir := t.TempDir()
	m, _ := startMain(t, dir, extra...)
	t.Cleanup(func() { _ = m.Close() })
	raw, err := os.ReadFile(m.demoKeysPath())
	if err != nil {
		t.Fatalf("demo keys: %v", err)
	}
	var keys []demoKey
	if err := json.Unmarshal(raw, &keys); err != nil {
		t.Fatal(err)
	}
	env := &consoleEnv{m: m, base: "http://" + m.Addr(), admin: "lm_test_admin_key",
		keys: map[string]string{}, orgs: map[string]string{}, keyOf: map[string]string{}}
	for _, k := range keys {
		if _, ok := env.keys[k.Kind]; !ok {
			env.keys[k.Kind], env.orgs[k.Kind] = k.APIKey, k.OrgID
		}
		env.keyOf[k.OrgID] = k.APIKey
	}
	env.keys["admin"], env.orgs["admin"] = env.admin, "org_admin"
	env.keyOf["org_admin"] = env.admin
	for _, kind := range []string{"admin", "cooperative", "factory", "importer", "mcn", "crossborder_firm"} {
		if env.keys[kind] == "" {
			t.Fatalf("the demo data has no %s org", kind)
		}
	}
	return env
}

// chromiumOnce finds (or installs) Chromium once per test binary.
var chromiumOnce = sync.OnceValues(func() (string, error) {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	if os.Geteuid() == 0 {
		if _, err := exec.LookPath("apt-get"); err == nil {
			out, err := exec.Command("sh", "-c", "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk").CombinedOutput()
			if err != nil {
				return "", fmt.Errorf("installing chromium: %v\n%s", err, out)
			}
			if p, err := exec.LookPath("chromium"); err == nil {
				return p, nil
			}
		}
	}
	return "", fmt.Errorf("no Chromium found: install Debian's package chromium (apt-get install chromium)")
})

// browser is a headless Chromium tab that records every request it makes
// and every script error or console error of the pages.
type browser struct {
	t    *testing.T
	ctx  context.Context
	base string

	mu       sync.Mutex
	requests []string
	errors   []string
}

// newBrowser opens a browser for env at the given window width.
func newBrowser(t *testing.T, env *consoleEnv, width, height int) *browser {
	t.Helper()
	path, err := chromiumOnce()
	if err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-quic", true), chromedp.Flag("lang", "zh-CN"),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(width, height))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelC(); cancelA() })
	b := &browser{t: t, ctx: ctx, base: env.base}
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("starting chromium: %v", err)
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(int64(width), int64(height))); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*network.EventRequestWillBeSent); ok {
			b.mu.Lock()
			b.requests = append(b.requests, e.Request.URL)
			b.mu.Unlock()
		}
	}); err != nil {
		t.Fatal(err)
	}
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			// A page answered with 4xx (a form with bad fields, a page
			// of another role) is logged as a failed load; that is the
			// page speaking, not a script error. A failed asset is not.
			pageStatus := m.Source == "network" && strings.Contains(m.Text, "status of 4") && !strings.Contains(m.URL, "/assets/")
			if (m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleException) && !pageStatus {
				b.mu.Lock()
				b.errors = append(b.errors, fmt.Sprintf("%s: %s (%s)", m.Type, m.Text, m.URL))
				b.mu.Unlock()
			}
		}
	}()
	t.Cleanup(b.assertClean)
	return b
}

// signedIn opens a browser 1280 px wide signed in with key.
func signedIn(t *testing.T, env *consoleEnv, key string) *browser {
	t.Helper()
	b := newBrowser(t, env, 1280, 900)
	b.signIn(key)
	return b
}

// phone opens a browser as wide as a phone (390 px) signed in with key.
func phone(t *testing.T, env *consoleEnv, key string) *browser {
	t.Helper()
	b := newBrowser(t, env, 390, 844)
	b.signIn(key)
	return b
}

// checkFits fails the test when the page is wider than the window (a
// pixel's rounding aside), with a screenshot overflow-<name>.
func (b *browser) checkFits(name string) {
	b.t.Helper()
	if over := get(b, evalInt(`document.documentElement.scrollWidth - window.innerWidth`)); over > 1 {
		b.screenshot("overflow-" + name)
		b.t.Errorf("%s is %d px wider than the window", b.location(), over)
	}
}

// timed bounds one browser step, so that a page that never shows what a
// test waits for fails the test instead of hanging it.
func (b *browser) timed() (context.Context, context.CancelFunc) {
	return context.WithTimeout(b.ctx, 30*time.Second)
}

// do runs browser steps, failing the test on error.
func (b *browser) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := b.timed()
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("browser: %v", err)
	}
}

// get runs one browser action that returns a value.
func get[T any](b *browser, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := b.timed()
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.t.Fatalf("browser: %v", err)
	}
	return v
}

// open navigates to a console path and waits for the page's main element.
func (b *browser) open(path string) {
	b.t.Helper()
	b.do(chromedp.Navigate(b.base+path), chromedp.WaitReady(chromedp.CSS("main")))
}

// click clicks the element matching a CSS selector.
func (b *browser) click(sel string) {
	b.t.Helper()
	b.do(chromedp.Click(chromedp.CSS(sel)))
}

// typeInto types keys into the element matching sel.
func (b *browser) typeInto(sel, keys string) {
	b.t.Helper()
	b.do(chromedp.SendKeys(chromedp.CSS(sel), keys))
}

// setValue replaces the value of a form control.
func (b *browser) setValue(sel, v string) {
	b.t.Helper()
	b.do(chromedp.SetValue(chromedp.CSS(sel), v))
}

// waitFor waits until an element matching sel is in the page.
func (b *browser) waitFor(sel string) {
	b.t.Helper()
	b.do(chromedp.WaitReady(chromedp.CSS(sel)))
}

// signIn signs in with key through the form.
func (b *browser) signIn(key string) {
	b.t.Helper()
	b.open("/console/login")
	b.typeInto("#api_key", key)
	b.click("#login-submit")
	b.waitFor("main")
	b.waitGone("#api_key")
}

// waitGone waits until nothing matches sel.
func (b *browser) waitGone(sel string) {
	b.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for b.count(sel) > 0 {
		if time.Now().After(deadline) {
			b.t.Fatalf("%s is still there on %s: %s", sel, b.location(), b.text("main"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// signOut uses the menu's sign-out button.
func (b *browser) signOut() {
	b.t.Helper()
	b.click("#logout")
	b.waitFor("#api_key")
}

// location is the current address.
func (b *browser) location() string {
	b.t.Helper()
	return get(b, chromedp.Location())
}

// text is the visible text of the first element matching sel.
func (b *browser) text(sel string) string {
	b.t.Helper()
	return get(b, chromedp.Text(chromedp.CSS(sel)))
}

// count is the number of elements matching sel.
func (b *browser) count(sel string) int {
	b.t.Helper()
	var n int
	n = get(b, chromedp.Evaluate[int]("document.querySelectorAll("+strconv.Quote(sel)+").length"))
	return n
}

// value is the value of the form control matching sel.
// It reads in one script, so that a node swapped out by htmx between
// finding and reading it cannot fail the read ("" when there is none).
func (b *browser) value(sel string) string {
	b.t.Helper()
	return get(b, chromedp.Evaluate[string]("(function(){var e=document.querySelector("+strconv.Quote(sel)+");return e?String(e.value):''})()"))
}

// waitText waits until the element matching sel contains want.
func (b *browser) waitText(sel, want string) {
	b.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		s := get(b, chromedp.Evaluate[string]("(function(){var e=document.querySelector("+strconv.Quote(sel)+");return e?e.innerText:''})()"))
		if strings.Contains(s, want) {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("%q never showed %q (last: %q)", sel, want, s)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// screenshot saves a PNG of the window to $LM_SCREENSHOTS/name.png when
// that variable names a directory (docs/console.md's pictures come from
// here); with LM_SCREENSHOTS_FULL set, of the whole page.
func (b *browser) screenshot(name string) {
	b.t.Helper()
	dir := os.Getenv("LM_SCREENSHOTS")
	if dir == "" {
		return
	}
	shot := chromedp.CaptureScreenshot() // the window, as a user sees it first
	if os.Getenv("LM_SCREENSHOTS_FULL") != "" {
		shot = chromedp.FullScreenshot(100) // the whole page, for reviewing it
	}
	png := get(b, shot)
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// assertClean checks that no request left matchd and no page had a script
// error (CSP violations included).
func (b *browser) assertClean() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, u := range b.requests {
		if !strings.HasPrefix(u, b.base+"/") && !strings.HasPrefix(u, "data:") && u != b.base {
			b.t.Errorf("a request left matchd: %s", u)
		}
	}
	for _, e := range b.errors {
		b.t.Errorf("page error: %s", e)
	}
}

// httpClient is a cookie-keeping client for console requests outside the
// browser (CSRF and cookie checks).
func httpClient(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// formSignIn signs c in through the form (same-origin) and returns the
// session cookie's Set-Cookie header.
func formSignIn(t *testing.T, env *consoleEnv, c *http.Client, key string) string {
	t.Helper()
	req, _ := http.NewRequest("POST", env.base+"/console/login", strings.NewReader(url.Values{"api_key": {key}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", env.base)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in: %d", res.StatusCode)
	}
	return res.Header.Get("Set-Cookie")
}

// choose chooses an option of a <select> and fires its change event.
func (b *browser) choose(sel, v string) {
	b.t.Helper()
	b.setFiring(sel, v, "change")
}

// slide moves a range input to v and fires input and change, as a
// dragged slider does.
func (b *browser) slide(sel, v string) {
	b.t.Helper()
	b.setFiring(sel, v, "input", "change")
}

// setFiring sets a form control's value and fires events on it, failing
// when the control did not take the value (no such option, out of range).
func (b *browser) setFiring(sel, v string, events ...string) {
	b.t.Helper()
	js := `(function(){var e=document.querySelector(` + strconv.Quote(sel) + `);e.value=` + strconv.Quote(v) + `;`
	for _, ev := range events {
		js += `e.dispatchEvent(new Event(` + strconv.Quote(ev) + `,{bubbles:true}));`
	}
	js += `return e.value})()`
	if got := get(b, chromedp.Evaluate[string](js)); got != v {
		b.t.Fatalf("%s: value %q, want %q", sel, got, v)
	}
}

// checkStatus opens console paths signed in with key, outside the
// browser, and checks each answer's status.
func checkStatus(t *testing.T, env *consoleEnv, key string, want int, paths ...string) {
	t.Helper()
	c := httpClient(t)
	formSignIn(t, env, c, key)
	for _, p := range paths {
		res, err := c.Get(env.base + p)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != want {
			t.Errorf("GET %s: %d, want %d", p, res.StatusCode, want)
		}
	}
}

// checkDelete deletes what a console page shows with its delete button:
// the browser lands on a page with landing (a selector), and the API no
// longer has apiPath (for key).
func checkDelete(t *testing.T, env *consoleEnv, b *browser, page, button, landing, apiPath, key string) {
	t.Helper()
	b.open(page)
	b.click(button)
	b.waitFor(landing)
	if st, _ := call(t, env.m, "GET", apiPath, key, ""); st != http.StatusNotFound {
		t.Errorf("GET %s after deleting it: %d, want 404", apiPath, st)
	}
}

// postForm posts a form to a console path with c from this site, as a
// browser without JavaScript does, and returns the answer's status and
// body.
func postForm(t *testing.T, env *consoleEnv, c *http.Client, path string, form url.Values) (int, string) {
	t.Helper()
	req, err := http.NewRequest("POST", env.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", env.base)
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}

// evalString evaluates a script expression that yields a string.
func evalString(expr string) chromedp.Action[string] { return chromedp.Evaluate[string](expr) }

// evalInt evaluates a script expression that yields a whole number.
func evalInt(expr string) chromedp.Action[int] { return chromedp.Evaluate[int](expr) }

// keyTab presses Tab.
func keyTab() chromedp.Action[chromedp.Void] { return chromedp.KeyEvent("\t") }
