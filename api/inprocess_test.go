package api

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/livematch/livematch/engine"
)

// TestReviewQueue checks that a product an admin sets back to pending
// waits in the review queue, with its flags, and leaves it once approved;
// other orgs may not read the queue.
func TestReviewQueue(t *testing.T) {
	e := newEnv(t)
	_, coopKey := e.newOrg(engine.OrgCooperative, "360732")
	_, mcnKey := e.newOrg(engine.OrgMCN, "310101")
	id := e.must(201, "POST", "/v1/products", coopKey, product("REVIEW-1")).body["id"].(string)
	e.must(201, "POST", "/v1/products", coopKey, product("REVIEW-2")) // stays approved

	queued := func() map[string]any {
		items, _ := e.must(200, "GET", "/v1/review/queue", e.admin, nil).body["items"].([]any)
		for _, it := range items {
			if item := it.(map[string]any); item["id"] == id {
				return item
			}
		}
		return nil
	}
	if !eventually(t, 5*time.Second, func() bool { return e.index.Status().Products == 2 }) {
		t.Fatal("the products were not indexed")
	}
	if queued() != nil {
		t.Fatal("an approved product is in the review queue")
	}

	e.must(200, "PATCH", "/v1/products/"+id+"/review", e.admin, map[string]any{"review_status": "pending", "note": "复核证书"})
	var item map[string]any
	if !eventually(t, 5*time.Second, func() bool { item = queued(); return item != nil }) {
		t.Fatal("the pending product is not in the review queue")
	}
	if flags, ok := item["review_flags"].([]any); !ok || item["review_status"] != "pending" || item["sku"] != "REVIEW-1" {
		t.Errorf("queue item: review_flags %v (%v), item %v", flags, ok, item)
	}
	if items, _ := e.must(200, "GET", "/v1/review/queue", e.admin, nil).body["items"].([]any); len(items) != 1 {
		t.Errorf("the queue holds %d products, want 1", len(items))
	}

	for _, key := range []string{coopKey, mcnKey} {
		e.must(403, "GET", "/v1/review/queue", key, nil)
	}
	e.must(401, "GET", "/v1/review/queue", "", nil)

	e.must(200, "PATCH", "/v1/products/"+id+"/review", e.admin, map[string]any{"review_status": "approved"})
	if !eventually(t, 5*time.Second, func() bool { return queued() == nil }) {
		t.Fatal("the approved product is still in the review queue")
	}
}

// TestInProcessCredential checks the web console's way in: SignIn turns a
// key into a credential and its org, Verify checks a credential, a request
// served in process with WithCredential and no Authorization header is the
// credential's org, and a rotated key's credential stops working.
func TestInProcessCredential(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	coopID, coopKey := e.newOrg(engine.OrgCooperative, "360732")
	mcnID, mcnKey := e.newOrg(engine.OrgMCN, "310101")

	for _, key := range []string{"", "lm_wrong", coopKey + "x", strings.Repeat("k", 300)} {
		if _, _, err := e.server.SignIn(ctx, key); !engine.IsKind(err, engine.KindUnauthenticated) {
			t.Errorf("SignIn(%.12q): err %v, want KindUnauthenticated", key, err)
		}
	}
	cred, org, err := e.server.SignIn(ctx, coopKey)
	if err != nil || org.ID != coopID || org.Kind != engine.OrgCooperative {
		t.Fatalf("SignIn: org %v, err %v", org, err)
	}
	if want := CredentialOf(coopKey); cred.KeyID != want.KeyID || !bytes.Equal(cred.KeyHash, want.KeyHash) ||
		strings.Contains(cred.KeyID, coopKey) || bytes.Contains(cred.KeyHash, []byte(coopKey)) {
		t.Errorf("the credential is not the key's one-way credential")
	}
	if org, err := e.server.Verify(ctx, cred); err != nil || org.ID != coopID {
		t.Errorf("Verify: org %v, err %v", org, err)
	}
	if _, err := e.server.Verify(ctx, Credential{KeyID: cred.KeyID, KeyHash: []byte("forged")}); !engine.IsKind(err, engine.KindUnauthenticated) {
		t.Errorf("Verify of a forged hash: err %v, want KindUnauthenticated", err)
	}

	// serve sends a request in process, with a credential in its context
	// (unless nil) and a key in its header (unless empty).
	serve := func(method, path string, cred *Credential, key string, body any) (int, map[string]any) {
		t.Helper()
		var raw string
		if body != nil {
			b, err := json.Marshal(body)
			if err != nil {
				t.Fatal(err)
			}
			raw = string(b)
		}
		req := httptest.NewRequest(method, path, strings.NewReader(raw))
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		if cred != nil {
			req = req.WithContext(WithCredential(req.Context(), *cred))
		}
		rec := httptest.NewRecorder()
		e.server.Handler().ServeHTTP(rec, req)
		var out map[string]any
		_ = json.Unmarshal(rec.Body.Bytes(), &out)
		return rec.Code, out
	}

	for _, tc := range []struct {
		name   string
		cred   *Credential
		key    string
		status int
		org    string // the org_id of the product written
	}{
		{"the credential alone is its org", &cred, "", http.StatusCreated, coopID},
		{"neither credential nor key", nil, "", http.StatusUnauthorized, ""},
		{"a header wins over the credential", &cred, mcnKey, http.StatusForbidden, ""},
		{"an empty credential is none", &Credential{}, "", http.StatusUnauthorized, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, out := serve("POST", "/v1/products", tc.cred, tc.key, product("INPROC-1"))
			if status != tc.status || tc.org != "" && out["org_id"] != tc.org {
				t.Errorf("status %d, org_id %v; want %d, %q", status, out["org_id"], tc.status, tc.org)
			}
		})
	}
	if status, _ := serve("GET", "/v1/orgs/"+mcnID, &cred, "", nil); status != http.StatusForbidden && status != http.StatusNotFound {
		t.Errorf("the cooperative's credential read the MCN org: %d", status)
	}

	// A rotated key's credential stops verifying and authenticating.
	rotated := e.must(201, "POST", "/v1/orgs/"+coopID+"/keys", coopKey, nil).body["api_key"].(string)
	if _, err := e.server.Verify(ctx, cred); !engine.IsKind(err, engine.KindUnauthenticated) {
		t.Errorf("Verify after rotation: err %v, want KindUnauthenticated", err)
	}
	if status, _ := serve("GET", "/v1/products", &cred, "", nil); status != http.StatusUnauthorized {
		t.Errorf("the rotated key's credential answered %d, want 401", status)
	}
	fresh, org, err := e.server.SignIn(ctx, rotated)
	if err != nil || org.ID != coopID {
		t.Fatalf("SignIn with the new key: org %v, err %v", org, err)
	}
	if status, _ := serve("GET", "/v1/products", &fresh, "", nil); status != http.StatusOK {
		t.Errorf("the new key's credential answered %d, want 200", status)
	}
}
