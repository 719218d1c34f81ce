package api

import (
	"slices"
	"testing"
	"time"

	"github.com/livematch/livematch/engine"
)

func lily() map[string]any {
	return map[string]any{
		"name": "Lily 王", "languages": []map[string]string{{"code": "zh", "level": "native"}, {"code": "en", "level": "fluent"}},
		"markets": []string{"US", "MY"}, "categories": []string{"beauty", "fresh_fruit"},
		"certification": map[string]any{"level": "senior", "expires_at": "2027-06-30T00:00:00Z"},
		"followers":     120000, "avg_viewers": 3000, "conversion_rate": 0.035, "rating": 4.7,
		"hourly_rate_cny": 800, "timezone": "Asia/Shanghai", "available_dates": []string{"2026-12-10", "2026-12-12"},
		"bio_zh": "美妆与生鲜双语主播", "bio_en": "Bilingual beauty and fresh fruit host",
	}
}

func TestHostLifecycle(t *testing.T) {
	e := newEnv(t, envOpts{now: func() time.Time { return matchClock }})
	_, mcn := e.newOrg(engine.OrgMCN, "310101")
	_, otherMCN := e.newOrg(engine.OrgMCN, "330106")
	_, firm := e.newOrg(engine.OrgCrossborderFirm, "440304")

	r := e.must(201, "POST", "/v1/hosts", mcn, lily())
	id := r.body["id"].(string)
	if r.body["certification"].(map[string]any)["valid"] != true || len(r.body["languages"].([]any)) != 2 {
		t.Fatalf("create: %s", r.raw)
	}
	e.must(403, "POST", "/v1/hosts", firm, lily())
	e.must(200, "GET", "/v1/hosts/"+id, firm, nil) // hosts are offered to every org
	e.must(404, "PUT", "/v1/hosts/"+id, otherMCN, lily())
	e.must(404, "DELETE", "/v1/hosts/"+id, otherMCN, nil)
	h := lily()
	h["rating"] = 4.9
	e.must(412, "PUT", "/v1/hosts/"+id, mcn, h, "If-Match", `"3"`)
	r = e.must(200, "PUT", "/v1/hosts/"+id, mcn, h, "If-Match", `"1"`)
	if r.body["rating"] != 4.9 || r.body["version"] != 2.0 {
		t.Fatalf("put: %s", r.raw)
	}
	if n := len(e.must(200, "GET", "/v1/hosts", otherMCN, nil).body["items"].([]any)); n != 0 {
		t.Errorf("another MCN lists %d hosts", n)
	}
	if n := len(e.must(200, "GET", "/v1/hosts", firm, nil).body["items"].([]any)); n != 1 {
		t.Errorf("a firm lists %d hosts", n)
	}

	// A host request, its matches, and the host gone after delete.
	req := map[string]any{"title": "Export tea to Malaysia", "categories": []string{"fresh_fruit"}, "target_markets": []string{"MY"},
		"languages": []map[string]string{{"code": "zh", "min_level": "fluent"}}, "date": "2026-12-12",
		"budget_cny_per_hour": 1000, "require_certified": true, "notes": "懂水果"}
	r = e.must(201, "POST", "/v1/host-requests", firm, req)
	rid := r.body["id"].(string)
	e.must(403, "POST", "/v1/host-requests", mcn, req)
	e.must(404, "GET", "/v1/host-requests/"+rid, mcn, nil)
	m := e.must(200, "GET", "/v1/host-requests/"+rid+"/matches", firm, nil)
	items := m.body["items"].([]any)
	if len(items) != 1 || items[0].(map[string]any)["host"].(map[string]any)["id"] != id {
		t.Fatalf("matches: %s", m.raw)
	}
	checkExplanationN(t, items[0].(map[string]any), len(engine.HostFactors()))
	e.must(204, "DELETE", "/v1/hosts/"+id, mcn, nil)
	m = e.must(200, "GET", "/v1/host-requests/"+rid+"/matches", firm, nil)
	if len(m.body["items"].([]any)) != 0 {
		t.Fatalf("deleted host still matched: %s", m.raw)
	}
	e.must(204, "DELETE", "/v1/host-requests/"+rid, firm, nil)
	e.must(404, "GET", "/v1/host-requests/"+rid, firm, nil)
}

// checkExplanationN checks a match's n factors, reasons and score sum.
func checkExplanationN(t *testing.T, m map[string]any, n int) {
	t.Helper()
	fs := m["factors"].([]any)
	if len(fs) != n {
		t.Errorf("%d factors, want %d", len(fs), n)
	}
	sum := 0.0
	for _, f := range fs {
		fm := f.(map[string]any)
		if fm["reason_zh"] == "" || fm["reason_en"] == "" {
			t.Errorf("factor without reasons: %v", fm)
		}
		sum += fm["contribution"].(float64)
	}
	if s := m["score"].(float64); s < 0 || s > 1 || sum-s > 0.001 || s-sum > 0.001 {
		t.Errorf("score %v, contributions %v", s, sum)
	}
}

func TestHostValidation(t *testing.T) {
	e := newEnv(t, envOpts{now: func() time.Time { return matchClock }})
	_, mcn := e.newOrg(engine.OrgMCN, "310101")
	_, firm := e.newOrg(engine.OrgCrossborderFirm, "440304")
	with := func(k string, v any) map[string]any { h := lily(); h[k] = v; return h }
	for _, tc := range []struct {
		name  string
		body  any
		field string
	}{
		{"bad language code", with("languages", []map[string]string{{"code": "xx", "level": "native"}}), "languages[0].code"},
		{"bad level", with("languages", []map[string]string{{"code": "zh", "level": "expert"}}), "languages[0].level"},
		{"bad market", with("markets", []string{"USA"}), "markets[0]"},
		{"rating above 5", with("rating", 7), "rating"},
		{"negative rate", with("hourly_rate_cny", -1), "hourly_rate_cny"},
		{"conversion above 1", with("conversion_rate", 1.2), "conversion_rate"},
		{"bad date", with("available_dates", []string{"2026-13-01"}), "available_dates[0]"},
		{"bad time zone", with("timezone", "Mars/Olympus"), "timezone"},
		{"bad certificate expiry", with("certification", map[string]any{"level": "senior", "expires_at": "soon"}), "certification.expires_at"},
		{"unknown field", with("age", 30), "age"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("POST", "/v1/hosts", mcn, tc.body)
			if r.status != 400 || !slices.Contains(fieldsOf(r), tc.field) {
				t.Fatalf("status %d fields %v lack %q: %s", r.status, fieldsOf(r), tc.field, r.raw)
			}
		})
	}
	req := func(k string, v any) map[string]any {
		b := map[string]any{"title": "t", "target_markets": []string{"MY"}, "languages": []map[string]string{{"code": "ms", "min_level": "conversational"}}}
		b[k] = v
		return b
	}
	for _, tc := range []struct {
		name  string
		body  any
		field string
	}{
		{"bad min level", req("languages", []map[string]string{{"code": "ms", "min_level": "some"}}), "languages[0].min_level"},
		{"bad language", req("languages", []map[string]string{{"code": "malay", "min_level": "fluent"}}), "languages[0].code"},
		{"bad market", req("target_markets", []string{"Malaysia"}), "target_markets[0]"},
		{"bad date", req("date", "12/12/2026"), "date"},
		{"past date", req("date", "2026-01-01"), "date"},
		{"negative budget", req("budget_cny_per_hour", -5), "budget_cny_per_hour"},
		{"unknown weight", req("weights", map[string]float64{"charm": 1}), "weights.charm"},
	} {
		t.Run("request "+tc.name, func(t *testing.T) {
			r := e.do("POST", "/v1/host-requests", firm, tc.body)
			if r.status != 400 || !slices.Contains(fieldsOf(r), tc.field) {
				t.Fatalf("status %d fields %v lack %q: %s", r.status, fieldsOf(r), tc.field, r.raw)
			}
		})
	}
}
