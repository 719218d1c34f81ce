package main

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// pfHan reports whether s holds Chinese characters.
var pfHan = regexp.MustCompile(`\p{Han}`)

// pfMatch is what a console page shows of one match.
type pfMatch struct {
	ID      string   `json:"id"`
	Score   string   `json:"score"`
	Factors []string `json:"factors"` // data-factor of each bar
	Reasons []string `json:"reasons"`
	Fvals   []string `json:"fvals"`
}

// pfMatchesJS reads the matches block of a page.
const pfMatchesJS = `JSON.stringify(Array.from(document.querySelectorAll("#matches li.match")).map(function(li){
  return {id: li.dataset.id, score: (li.querySelector(".score .sv")||{}).textContent||"",
    factors: Array.from(li.querySelectorAll("li.factor")).map(function(f){return f.dataset.factor}),
    reasons: Array.from(li.querySelectorAll("li.factor .reason")).map(function(f){return f.textContent.trim()}),
    fvals: Array.from(li.querySelectorAll("li.factor .fval")).map(function(f){return f.textContent.trim()})};
}))`

// pfMatches reads the matches the page shows.
func pfMatches(b *browser) []pfMatch {
	b.t.Helper()
	var out []pfMatch
	if err := json.Unmarshal([]byte(get(b, chromedp.Evaluate[string](pfMatchesJS))), &out); err != nil {
		b.t.Fatal(err)
	}
	return out
}

// pfScrollTo scrolls the element matching sel to the top of the window.
func pfScrollTo(b *browser, sel string) {
	b.t.Helper()
	get(b, chromedp.Evaluate[bool](`(function(){document.querySelector(`+strconv.Quote(sel)+`).scrollIntoView();return true})()`))
}

// pfCheck ticks a checkbox.
func pfCheck(b *browser, sel string) {
	b.t.Helper()
	get(b, chromedp.Evaluate[bool](`(function(){var e=document.querySelector(`+strconv.Quote(sel)+`);e.checked=true;return true})()`))
}

// pfReasons is the reasons of the API's first match in one language.
func pfReasons(t *testing.T, env *consoleEnv, path, key, lang string) (string, []string) {
	t.Helper()
	st, body := call(t, env.m, "GET", path, key, "")
	if st != http.StatusOK {
		t.Fatalf("GET %s: %d %v", path, st, body)
	}
	items, _ := body["items"].([]any)
	if len(items) == 0 {
		t.Fatalf("GET %s: no matches", path)
	}
	first := items[0].(map[string]any)
	var out []string
	for _, f := range first["factors"].([]any) {
		out = append(out, strings.TrimSpace(f.(map[string]any)["reason_"+lang].(string)))
	}
	inner, _ := first["product"].(map[string]any)
	if inner == nil {
		inner, _ = first["host"].(map[string]any)
	}
	return inner["id"].(string), out
}

// pfOpenNew opens a form with weight sliders from its list's "new" button
// (list, button and form are an address and selectors): it has a slider
// per factor.
func pfOpenNew(b *browser, list, button, form string, factors int) {
	b.t.Helper()
	b.open(list)
	b.click(button)
	b.waitFor(form)
	if n := b.count(form + ` input[type=range][name^="weights."]`); n != factors {
		b.t.Fatalf("%s: %d weight sliders, want one per factor (%d)", form, n, factors)
	}
}

// pfCheckFirst reads the matches the page shows: there are some, and the
// first is the API's first (GET path as key) with its reasons in lang.
func pfCheckFirst(t *testing.T, env *consoleEnv, b *browser, path, key, lang string) []pfMatch {
	t.Helper()
	shown := pfMatches(b)
	if len(shown) == 0 {
		t.Fatalf("%s: no matches shown", b.location())
	}
	firstID, reasons := pfReasons(t, env, path, key, lang)
	if shown[0].ID != firstID || strings.Join(shown[0].Reasons, "|") != strings.Join(reasons, "|") {
		t.Errorf("%s: first match %s %q, the API's %s %q", b.location(), shown[0].ID, shown[0].Reasons, firstID, reasons)
	}
	return shown
}

// pfPreview moves weight sliders (selector, value, …) and returns the
// matches previewed for the unsaved weights, failing if the page reloaded.
func pfPreview(b *browser, moves ...string) []pfMatch {
	b.t.Helper()
	get(b, chromedp.Evaluate[bool](`window.__noReload = 1, true`))
	for i := 0; i+1 < len(moves); i += 2 {
		b.slide(moves[i], moves[i+1])
	}
	b.waitFor("#matches #preview-note")
	if get(b, chromedp.Evaluate[int](`window.__noReload || 0`)) != 1 {
		b.t.Fatal("moving a slider reloaded the page")
	}
	return pfMatches(b)
}

// pfPhoneMatches opens a page with matches on a phone in Chinese and in
// English: nothing is wider than the screen; screenshots shot-390-zh and
// shot-390-en show the matches.
func pfPhoneMatches(p *browser, path, shot string) {
	p.t.Helper()
	for _, lang := range []string{"zh", "en"} {
		p.open(path + "?lang=" + lang)
		p.waitFor("#matches li.match")
		p.checkFits(shot + "-390-" + lang)
		pfScrollTo(p, "#matches")
		p.screenshot(shot + "-390-" + lang)
	}
}

// TestConsoleProfiles builds a demand profile through the form (with bad
// values first), reads its explained matches in Chinese and English,
// re-ranks them by moving weight sliders without a page reload, saves the
// weights, meets a stale save, and checks that other roles are kept out.
func TestConsoleProfiles(t *testing.T) {
	env := newConsoleEnv(t)
	key := env.keys["mcn"]
	b := signedIn(t, env, key)

	pfOpenNew(b, "/console/profiles", "#profile-new", "#profile-form", 10)
	for _, name := range []string{"name", "keywords", "categories", "price_min", "price_max", "min_commission_rate",
		"expected_units", "min_stock", "required_certifications", "preferred_certifications", "audience_regions",
		"target_markets", "stream_date", "poverty_relief_min_share", "status"} {
		if b.count(`#profile-form [name="`+name+`"]`) == 0 {
			t.Errorf("the profile form has no field %s", name)
		}
	}
	if n := b.count("#profile-form .badge.spyb"); n != 8 {
		t.Errorf("%d 三品一标 marks, want 4 types in both certificate lists (8)", n)
	}
	// Every input has a label.
	if unlabelled := get(b, chromedp.Evaluate[string](`Array.from(document.querySelectorAll("#profile-form input:not([type=hidden]), #profile-form select")).filter(function(e){return !e.id || !document.querySelector('label[for="'+e.id+'"]')}).map(function(e){return e.name}).join(",")`)); unlabelled != "" {
		t.Errorf("inputs without a label: %s", unlabelled)
	}

	// A price that is no number: the API's message by the field, the rest kept.
	b.setValue("#name", "双十二 助农专场")
	b.setValue("#keywords", "脐橙")
	pfCheck(b, "#cat-fresh_fruit")
	pfCheck(b, "#pc-green_food")
	b.setValue("#price_min", "abc")
	b.setValue("#price_max", "80")
	b.setValue("#expected_units", "2000")
	b.setValue("#audience_regions", "310000")
	b.setValue("#target_markets", "CN")
	b.setValue("#stream_date", time.Now().AddDate(0, 1, 0).Format("2006-01-02")+"T20:00")
	b.slide("#w-poverty_relief", "2")
	b.screenshot("profile-form-1280-zh")
	b.click("#save")
	b.waitFor("#price_min-error")
	if msg := b.text("#price_min-error"); msg == "" {
		t.Fatal("no message by price_min")
	}
	if got := get(b, chromedp.Evaluate[string](`document.querySelector("#price_min").getAttribute("aria-invalid")||""`)); got != "true" {
		t.Errorf("price_min is not marked invalid")
	}
	kept := map[string]string{"#name": "双十二 助农专场", "#keywords": "脐橙", "#price_min": "abc", "#price_max": "80",
		"#expected_units": "2000", "#audience_regions": "310000", "#target_markets": "CN", "#w-poverty_relief": "2"}
	for sel, want := range kept {
		if got := b.value(sel); got != want {
			t.Errorf("after a bad price, %s is %q, want %q", sel, got, want)
		}
	}
	if !get(b, chromedp.Evaluate[bool](`document.querySelector("#cat-fresh_fruit").checked && document.querySelector("#pc-green_food").checked`)) {
		t.Error("after a bad price, the ticked category and certificate are lost")
	}
	if b.count("#form-errors") == 0 {
		t.Error("no error summary at the top of the form")
	}

	// A commission rate above 1: its message by its field.
	b.setValue("#price_min", "10")
	b.setValue("#min_commission_rate", "2")
	b.click("#save")
	b.waitFor("#min_commission_rate-error")
	if msg := b.text("#min_commission_rate-error"); !strings.Contains(msg, "1") {
		t.Errorf("min_commission_rate message: %q", msg)
	}
	if b.value("#price_min") != "10" || b.value("#min_commission_rate") != "2" || b.value("#w-poverty_relief") != "2" {
		t.Errorf("typed values lost after a bad commission rate")
	}

	// Good values: stored, and the page shows the explained matches.
	b.setValue("#min_commission_rate", "0.05")
	b.click("#save")
	b.waitFor(".flash")
	loc := b.location()
	m := regexp.MustCompile(`/console/profiles/([^/?#]+)$`).FindStringSubmatch(loc)
	if m == nil || m[1] == "new" {
		t.Fatalf("after saving, the browser is at %s", loc)
	}
	id := m[1]
	st, stored := call(t, env.m, "GET", "/v1/demand-profiles/"+id, key, "")
	if st != http.StatusOK {
		t.Fatalf("stored profile: %d %v", st, stored)
	}
	if stored["keywords"] != "脐橙" || stored["price_min"] != 10.0 || stored["price_max"] != 80.0 ||
		stored["min_commission_rate"] != 0.05 || stored["expected_units"] != 2000.0 || stored["name"] != "双十二 助农专场" {
		t.Errorf("stored profile: %v", stored)
	}
	if cats, _ := stored["categories"].([]any); len(cats) != 1 || cats[0] != "fresh_fruit" {
		t.Errorf("stored categories: %v", stored["categories"])
	}
	if w := stored["weights"].(map[string]any); w["poverty_relief"] != 2.0 || w["text"] != 1.0 {
		t.Errorf("stored weights: %v", w)
	}
	if sd, _ := stored["stream_date"].(string); !strings.HasSuffix(sd, "T12:00:00Z") {
		t.Errorf("stream date %q is not 20:00 China time", sd)
	}
	// The list shows it.
	b.open("/console/profiles")
	if b.count(`#profiles tr[data-id="`+id+`"]`) != 1 {
		t.Errorf("the list has no row for profile %s", id)
	}
	b.open("/console/profiles/" + id)
	b.waitFor("#matches li.match")
	apiMatches := "/v1/demand-profiles/" + id + "/matches?limit=20"
	matches := pfCheckFirst(t, env, b, apiMatches, key, "zh")
	for _, mt := range matches {
		if _, err := strconv.ParseFloat(mt.Score, 64); err != nil {
			t.Errorf("match %s has no score (%q)", mt.ID, mt.Score)
		}
		if len(mt.Factors) != 10 || len(mt.Reasons) != 10 {
			t.Errorf("match %s has %d factor bars, %d reasons; want 10", mt.ID, len(mt.Factors), len(mt.Reasons))
		}
		for i, r := range mt.Reasons {
			if r == "" || !pfHan.MatchString(r) {
				t.Errorf("match %s factor %s: reason %q is not Chinese", mt.ID, mt.Factors[i], r)
			}
		}
	}
	if b.count("#matches-summary") != 1 {
		t.Error("no summary of candidates and time")
	}
	b.screenshot("profile-matches-1280-zh")

	// English: the API's English reasons.
	b.open("/console/profiles/" + id + "?lang=en")
	b.waitFor("#matches li.match")
	pfCheckFirst(t, env, b, apiMatches, key, "en")
	if !strings.Contains(b.text("h2#matches-title"), "Matching") {
		t.Errorf("the English page's matches title: %q", b.text("h2#matches-title"))
	}
	b.screenshot("profile-matches-1280-en")
	b.open("/console/profiles/" + id + "?lang=zh")
	b.waitFor("#matches li.match")

	// Moving sliders re-ranks without a page reload, and is not stored.
	before := pfMatches(b)
	after := pfPreview(b, "#w-text", "0", "#w-price", "0", "#w-commission", "5")
	if len(after) == 0 {
		t.Fatal("no matches after moving sliders")
	}
	fv := func(ms []pfMatch, factor string) string {
		for i, f := range ms[0].Factors {
			if f == factor {
				return ms[0].Fvals[i]
			}
		}
		return ""
	}
	if !strings.Contains(fv(after, "commission"), "× 5") || !strings.Contains(fv(after, "text"), "× 0") {
		t.Errorf("the bars do not show the new weights: commission %q, text %q", fv(after, "commission"), fv(after, "text"))
	}
	order := func(ms []pfMatch) string {
		var ids []string
		for _, m := range ms {
			ids = append(ids, m.ID+"="+m.Score)
		}
		return strings.Join(ids, ",")
	}
	if order(before) == order(after) {
		t.Errorf("the matches did not change with the weights: %s", order(after))
	}
	if _, body := call(t, env.m, "GET", "/v1/demand-profiles/"+id, key, ""); body["weights"].(map[string]any)["commission"] != 1.0 {
		t.Errorf("a preview stored the weights: %v", body["weights"])
	}
	b.screenshot("profile-preview-1280-zh")

	// Saving stores the weights.
	b.click("#save")
	b.waitFor(".flash")
	if get(b, chromedp.Evaluate[int](`window.__noReload || 0`)) == 1 {
		t.Error("saving did not load the saved page")
	}
	_, body := call(t, env.m, "GET", "/v1/demand-profiles/"+id, key, "")
	w := body["weights"].(map[string]any)
	if w["commission"] != 5.0 || w["text"] != 0.0 || w["price"] != 0.0 || w["poverty_relief"] != 2.0 {
		t.Errorf("saved weights: %v", w)
	}
	if b.value("#w-commission") != "5" {
		t.Errorf("the saved page's commission slider is at %q", b.value("#w-commission"))
	}

	// A stale save: someone else saved first; the typed values stay.
	version := body["version"].(float64)
	body["name"] = "改名了"
	for _, k := range []string{"id", "org_id", "version", "created_at", "updated_at"} {
		delete(body, k)
	}
	raw, _ := json.Marshal(body)
	if st, res := pfCallIfMatch(t, env, "PUT", "/v1/demand-profiles/"+id, key, string(raw), int64(version)); st != http.StatusOK {
		t.Fatalf("PUT behind the form's back: %d %v", st, res)
	}
	b.setValue("#keywords", "脐橙 赣南")
	b.click("#save")
	b.waitFor("#stale")
	if b.value("#keywords") != "脐橙 赣南" {
		t.Errorf("after a stale save, keywords are %q", b.value("#keywords"))
	}
	b.click("#save") // saving again, knowingly, overwrites
	b.waitFor(".flash")
	if _, body := call(t, env.m, "GET", "/v1/demand-profiles/"+id, key, ""); body["keywords"] != "脐橙 赣南" {
		t.Errorf("the second save stored keywords %v", body["keywords"])
	}

	// Phone width, both languages.
	p := phone(t, env, key)
	pfPhoneMatches(p, "/console/profiles/"+id, "profile-matches")
	p.open("/console/profiles/new")
	p.screenshot("profile-form-390-en")
	p.open("/console/profiles/new?lang=zh")
	p.screenshot("profile-form-390-zh")
	b.open("/console/profiles/new?lang=en")
	b.screenshot("profile-form-1280-en")
	b.open("/console/profiles/new?lang=zh")

	// Deleting.
	checkDelete(t, env, b, "/console/profiles/"+id, "#delete", ".flash", "/v1/demand-profiles/"+id, key)

	// Other roles are kept out.
	checkStatus(t, env, env.keys["factory"], http.StatusForbidden, "/console/profiles", "/console/profiles/new", "/console/hosts")
	b.signOut()
	b.signIn(env.keys["factory"])
	b.open("/console/profiles")
	b.waitFor("#error-message")
}

// pfCallIfMatch is call with an If-Match header.
func pfCallIfMatch(t *testing.T, env *consoleEnv, method, path, key, body string, version int64) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, env.base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("If-Match", `"`+strconv.FormatInt(version, 10)+`"`)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var v map[string]any
	_ = json.NewDecoder(res.Body).Decode(&v)
	return res.StatusCode, v
}
