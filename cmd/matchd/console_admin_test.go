package main

import (
	"fmt"
	"strings"
	"testing"
)

// TestConsoleAdmin: the operator approves a product waiting for review,
// admits an org through the form (a bad region code is shown by its field
// with the other values kept), grades it, rotates its key (the org's open
// session ends) and reads the audit trail.
func TestConsoleAdmin(t *testing.T) {
	env := newConsoleEnv(t)

	// A product goes back to review (through the API, as a later screening
	// would put it there).
	st, found := call(t, env.m, "GET", "/v1/products?org_id="+env.orgs["cooperative"]+"&limit=1", env.admin, "")
	if st != 200 || len(found["items"].([]any)) == 0 {
		t.Fatalf("no cooperative product: %d %v", st, found)
	}
	prod := found["items"].([]any)[0].(map[string]any)
	pid := prod["id"].(string)
	st, _ = call(t, env.m, "PATCH", "/v1/products/"+pid+"/review", env.admin, `{"review_status":"pending"}`)
	if st != 200 {
		t.Fatalf("to pending: %d", st)
	}

	b := signedIn(t, env, env.admin)
	b.open("/console/review")
	b.waitFor(`#review-queue [data-id="` + pid + `"]`)
	b.screenshot("review")
	b.typeInto(`#note-`+pid, "资料齐全，准予上架")
	b.click(`[data-id="` + pid + `"] button.approve`)
	b.waitFor(".flash")
	if n := b.count(`#review-queue [data-id="` + pid + `"]`); n != 0 {
		t.Errorf("the approved product is still in the queue")
	}
	st, got := call(t, env.m, "GET", "/v1/products/"+pid, env.admin, "")
	if st != 200 || got["review_status"] != "approved" {
		t.Fatalf("after approval: %d %v", st, got["review_status"])
	}

	// Admission with a bad region code: the message by the field, the
	// other values kept.
	b.open("/console/orgs")
	b.choose("#kind", "cooperative")
	b.typeInto("#name_zh", "石阡县苔茶专业合作社")
	b.typeInto("#name_en", "Shiqian Tea Cooperative")
	b.typeInto("#region_code", "999999")
	b.click("#org-submit")
	b.waitFor("#region_code-error")
	if v := b.value("#name_zh"); v != "石阡县苔茶专业合作社" {
		t.Errorf("name_zh after a bad region code = %q", v)
	}
	if msg := b.text("#region_code-error"); !strings.Contains(msg, "region") {
		t.Errorf("region message: %q", msg)
	}
	b.screenshot("orgs-error")
	b.setValue("#region_code", "520627") // 石阡县, a former poverty county
	b.click("#org-submit")
	b.waitFor("#new-key")
	key := strings.TrimSpace(b.text("#new-key"))
	if !strings.HasPrefix(key, "lm_") {
		t.Fatalf("new key: %q", key)
	}
	if got := b.text("#org-relief"); !strings.Contains(got, "是") {
		t.Errorf("poverty relief not derived for 520627: %q", got)
	}
	orgID := get(b, evalString(`document.querySelector("h1[data-id]").dataset.id`))
	b.screenshot("org")

	// The new org signs in with its key in its own browser.
	ob := signedIn(t, env, key)
	ob.open("/console/products")
	if strings.Contains(ob.location(), "/console/login") {
		t.Fatal("the new org is not signed in")
	}

	// Grade and suspension, then key rotation: the org's session ends.
	b.open("/console/orgs/" + orgID)
	b.choose("#grade", "A")
	b.click("#org-save")
	b.waitFor(".flash")
	if g := b.text("#org-grade"); g != "A" {
		t.Errorf("grade after saving: %q", g)
	}
	// Another admin suspends the org meanwhile: saving the open form says
	// so, shows the current values, and saving again applies the choice.
	if st, _ := call(t, env.m, "PATCH", "/v1/orgs/"+orgID, env.admin, `{"status":"suspended"}`); st != 200 {
		t.Fatalf("suspend through the API: %d", st)
	}
	b.choose("#grade", "C")
	b.click("#org-save")
	b.waitFor("#form-errors")
	if s := b.text("#org-status"); !strings.Contains(s, "暂停") {
		t.Errorf("the stale form does not show the current status: %q", s)
	}
	if v := b.value("#grade"); v != "C" {
		t.Errorf("the chosen grade was not kept: %q", v)
	}
	b.choose("#status", "approved")
	b.click("#org-save")
	b.waitFor(".flash")
	if _, o := call(t, env.m, "GET", "/v1/orgs/"+orgID, env.admin, ""); o["grade"] != "C" || o["status"] != "approved" {
		t.Errorf("after saving again: grade %v, status %v", o["grade"], o["status"])
	}
	b.click("#rotate-key")
	b.waitFor("#new-key")
	rotated := strings.TrimSpace(b.text("#new-key"))
	if rotated == key || !strings.HasPrefix(rotated, "lm_") {
		t.Fatalf("rotated key %q (old %q)", rotated, key)
	}
	ob.open("/console/products")
	if !strings.Contains(ob.location(), "/console/login") {
		t.Errorf("the org's session survived the key rotation: %s", ob.location())
	}
	if st, _ := call(t, env.m, "GET", "/v1/orgs/"+orgID, key, ""); st != 401 {
		t.Errorf("old key after rotation: %d", st)
	}
	ob.signIn(rotated)

	// The audit trail shows the admission, the grade and the rotation.
	b.open("/console/orgs/" + orgID)
	audit := b.text("#audit")
	for _, want := range []string{"准入", "grade: B → A", "grade: A → C", "更换密钥"} {
		if !strings.Contains(audit, want) {
			t.Errorf("audit trail lacks %q:\n%s", want, audit)
		}
	}
	b.open("/console/orgs/" + env.orgs["cooperative"])
	if !strings.Contains(b.text("#audit"), "资料齐全") {
		t.Errorf("the review note is not in the supplier's audit trail: %s", b.text("#audit"))
	}
	_ = fmt.Sprint
}
