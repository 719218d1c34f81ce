package main

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// hsItems lists the items of a JSON list answer.
func hsItems(t *testing.T, env *consoleEnv, path, key string) []map[string]any {
	t.Helper()
	st, body := call(t, env.m, "GET", path, key, "")
	if st != http.StatusOK {
		t.Fatalf("GET %s: %d %v", path, st, body)
	}
	var out []map[string]any
	for _, it := range body["items"].([]any) {
		out = append(out, it.(map[string]any))
	}
	return out
}

// TestConsoleHosts lists an MCN's demo hosts with languages, levels and an
// expired certification, adds a host through the form (a bad value first)
// and edits it; a cross-border firm posts a host request and reads its
// explained host matches in both languages, re-ranked by a slider without
// a reload.
func TestConsoleHosts(t *testing.T) {
	env := newConsoleEnv(t)

	// The MCN that manages a host whose certification has expired.
	all := hsItems(t, env, "/v1/hosts?limit=100", env.admin)
	if len(all) == 0 {
		t.Fatal("the demo has no hosts")
	}
	owner := all[0]["org_id"].(string)
	for _, h := range all {
		if c, _ := h["certification"].(map[string]any); c != nil && c["valid"] == false {
			owner = h["org_id"].(string)
			break
		}
	}
	mcnKey := env.keyOf[owner]
	if mcnKey == "" {
		t.Fatalf("no demo key for the hosts' MCN %s", owner)
	}
	mine := hsItems(t, env, "/v1/hosts?limit=100", mcnKey)

	b := signedIn(t, env, mcnKey)
	b.open("/console/hosts")
	if n := b.count("#hosts tr[data-id]"); n != len(mine) {
		t.Fatalf("the host list shows %d hosts, the API %d", n, len(mine))
	}
	levelZh := map[string]string{"native": "母语", "fluent": "流利", "business": "商务", "conversational": "日常会话"}
	expired := 0
	for _, h := range mine {
		row := `#hosts tr[data-id="` + h["id"].(string) + `"]`
		text := b.text(row)
		for _, l := range h["languages"].([]any) {
			lang := l.(map[string]any)
			chip := row + ` .lang[data-lang="` + lang["code"].(string) + `"][data-level="` + lang["level"].(string) + `"]`
			if b.count(chip) != 1 {
				t.Errorf("host %s: no chip for %v", h["name"], lang)
				continue
			}
			if got := b.text(chip); !strings.HasSuffix(got, "·"+levelZh[lang["level"].(string)]) {
				t.Errorf("host %s: language chip %q", h["name"], got)
			}
		}
		for _, m := range h["markets"].([]any) {
			if b.count(row+` .chip[title="`+m.(string)+`"]`) != 1 {
				t.Errorf("host %s: market %s not shown", h["name"], m)
			}
		}
		if c, _ := h["certification"].(map[string]any); c != nil && c["valid"] == false {
			expired++
			if b.count(row+" .expired") != 1 {
				t.Errorf("host %s: the expired certification is not flagged: %s", h["name"], text)
			}
		}
		if !strings.Contains(text, h["name"].(string)) {
			t.Errorf("host row %q lacks the name %v", text, h["name"])
		}
	}
	if b.count("#hosts .lang") > 0 && !strings.Contains(b.text("#hosts"), "中文·母语") {
		t.Logf("no native Chinese speaker among this MCN's hosts")
	}
	b.screenshot("hosts-1280-zh")
	b.open("/console/hosts?lang=en")
	if !strings.Contains(b.text("#hosts"), "native") {
		t.Errorf("the English host list has no English levels: %s", b.text("#hosts"))
	}
	if expired > 0 && !strings.Contains(b.text("#hosts .expired"), "expired") {
		t.Errorf("the English expiry flag: %q", b.text("#hosts .expired"))
	}
	b.screenshot("hosts-1280-en")
	b.open("/console/hosts?lang=zh")

	// Adding a host: a bad rating and a bad language code first.
	b.click("#host-new")
	b.waitFor("#host-form")
	if b.value("#lang-code-0") != "zh" {
		t.Errorf("the first language row is %q, want zh", b.value("#lang-code-0"))
	}
	day := time.Now().AddDate(0, 0, 9).Format(time.DateOnly)
	b.setValue("#name", "Nur 林")
	b.setValue("#lang-code-1", "m1")
	b.choose("#lang-level-1", "fluent")
	b.setValue("#markets", "MY, SG")
	pfCheck(b, "#cat-tea")
	b.choose("#cert_level", "senior")
	b.setValue("#cert_expires_at", time.Now().AddDate(1, 0, 0).Format(time.DateOnly))
	b.setValue("#followers", "5000")
	b.setValue("#rating", "9")
	b.setValue("#hourly_rate_cny", "500")
	b.setValue("#timezone", "Asia/Kuala_Lumpur")
	b.setValue("#available_dates", day)
	b.setValue("#bio_zh", "懂茶文化的马来西亚主播")
	b.click("#save")
	b.waitFor("#rating-error")
	if got := b.text("#languages .lrow:nth-child(2) .ferr"); got == "" {
		t.Error("no message by the bad language code")
	}
	for sel, want := range map[string]string{"#name": "Nur 林", "#markets": "MY, SG", "#rating": "9", "#lang-code-1": "m1",
		"#lang-level-1": "fluent", "#cert_level": "senior", "#available_dates": day, "#timezone": "Asia/Kuala_Lumpur"} {
		if got := b.value(sel); got != want {
			t.Errorf("after bad values, %s is %q, want %q", sel, got, want)
		}
	}
	b.screenshot("host-form-1280-zh")
	b.setValue("#lang-code-1", "ms")
	b.setValue("#rating", "4.5")
	b.click("#save")
	b.waitFor(".flash")
	var added map[string]any
	for _, h := range hsItems(t, env, "/v1/hosts?limit=100", mcnKey) {
		if h["name"] == "Nur 林" {
			added = h
		}
	}
	if added == nil {
		t.Fatal("the new host is not stored")
	}
	if langs := added["languages"].([]any); len(langs) != 2 || langs[1].(map[string]any)["code"] != "ms" ||
		langs[1].(map[string]any)["level"] != "fluent" || added["rating"] != 4.5 || added["timezone"] != "Asia/Kuala_Lumpur" {
		t.Errorf("stored host: %v", added)
	}
	if c, _ := added["certification"].(map[string]any); c == nil || c["level"] != "senior" || c["valid"] != true {
		t.Errorf("stored certification: %v", added["certification"])
	}
	hostID := added["id"].(string)
	if b.count(`#hosts tr[data-id="`+hostID+`"]`) != 1 {
		t.Error("the new host is not listed")
	}
	// Editing it.
	b.open("/console/hosts/" + hostID)
	if b.value("#lang-code-1") != "ms" || b.value("#lang-level-1") != "fluent" || b.value("#cert_level") != "senior" {
		t.Errorf("the edit form is not prefilled: %q %q %q", b.value("#lang-code-1"), b.value("#lang-level-1"), b.value("#cert_level"))
	}
	b.setValue("#hourly_rate_cny", "550")
	b.click("#save")
	b.waitFor(".flash")
	if _, h := call(t, env.m, "GET", "/v1/hosts/"+hostID, mcnKey, ""); h["hourly_rate_cny"] != 550.0 {
		t.Errorf("edited rate: %v", h["hourly_rate_cny"])
	}
	// An MCN has no host requests.
	b.open("/console/host-requests")
	b.waitFor("#error-message")

	// A cross-border firm looks for a tea host for Malaysia.
	firm := env.keys["crossborder_firm"]
	f := signedIn(t, env, firm)
	pfOpenNew(f, "/console/host-requests", "#hreq-new", "#hreq-form", 8)
	f.setValue("#title", "福建白茶出口马来西亚")
	pfCheck(f, "#cat-tea")
	f.setValue("#target_markets", "MY")
	f.setValue("#lang-code-0", "zh")
	f.choose("#lang-level-0", "fluent")
	f.setValue("#lang-code-1", "ms")
	f.choose("#lang-level-1", "conversational")
	f.setValue("#budget_cny_per_hour", "abc")
	f.setValue("#notes", "懂茶文化")
	f.click("#save")
	f.waitFor("#budget_cny_per_hour-error")
	if f.value("#title") != "福建白茶出口马来西亚" || f.value("#lang-code-1") != "ms" || f.value("#lang-level-1") != "conversational" {
		t.Error("typed values lost after a bad budget")
	}
	f.setValue("#budget_cny_per_hour", "1000")
	f.click("#save")
	f.waitFor(".flash")
	m := regexp.MustCompile(`/console/host-requests/([^/?#]+)$`).FindStringSubmatch(f.location())
	if m == nil || m[1] == "new" {
		t.Fatalf("after posting, the browser is at %s", f.location())
	}
	reqID := m[1]
	_, stored := call(t, env.m, "GET", "/v1/host-requests/"+reqID, firm, "")
	if langs, _ := stored["languages"].([]any); len(langs) != 2 || langs[0].(map[string]any)["min_level"] != "fluent" ||
		langs[1].(map[string]any)["code"] != "ms" || stored["budget_cny_per_hour"] != 1000.0 || stored["notes"] != "懂茶文化" {
		t.Errorf("stored request: %v", stored)
	}
	f.waitFor("#matches li.match")
	apiMatches := "/v1/host-requests/" + reqID + "/matches"
	shown := pfCheckFirst(t, env, f, apiMatches, firm, "zh")
	if n := len(hsItems(t, env, apiMatches, firm)); len(shown) != n {
		t.Fatalf("%d host matches shown, the API has %d", len(shown), n)
	}
	for _, mt := range shown {
		if len(mt.Factors) != 8 {
			t.Errorf("host match %s has %d bars, want 8", mt.ID, len(mt.Factors))
		}
		for _, r := range mt.Reasons {
			if !pfHan.MatchString(r) {
				t.Errorf("host match %s: reason %q is not Chinese", mt.ID, r)
			}
		}
	}
	if f.count("#matches .lang") == 0 || f.count("#matches .rate") == 0 {
		t.Error("host matches show no languages or rate")
	}
	f.screenshot("host-matches-1280-zh")
	f.open("/console/host-requests/" + reqID + "?lang=en")
	f.waitFor("#matches li.match")
	pfCheckFirst(t, env, f, apiMatches, firm, "en")
	f.screenshot("host-matches-1280-en")

	// A slider re-ranks the hosts without a reload.
	after := pfPreview(f, "#w-rating", "5", "#w-language", "0")
	if len(after) == 0 || !strings.Contains(strings.Join(after[0].Fvals, "|"), "× 5") {
		t.Errorf("the host bars do not show the new weight: %v", after)
	}
	f.open("/console/host-requests?lang=zh")
	if f.count(`#host-requests tr[data-id="`+reqID+`"]`) != 1 {
		t.Error("the request is not listed")
	}

	// Phone width.
	p := phone(t, env, firm)
	pfPhoneMatches(p, "/console/host-requests/"+reqID, "host-matches")
	p.signOut()
	p.signIn(mcnKey)
	p.open("/console/hosts")
	p.checkFits("hosts-390-en")
	p.screenshot("hosts-390-en")
}
