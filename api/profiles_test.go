package api

import (
	"encoding/json"

	"math"
	"slices"
	"testing"
	"time"

	"github.com/livematch/livematch/engine"
	"github.com/livematch/livematch/store"
)

func TestProfileLifecycle(t *testing.T) {
	e := newEnv(t, envOpts{now: func() time.Time { return matchClock }})
	_, mcn := e.newOrg(engine.OrgMCN, "310101")
	_, otherMCN := e.newOrg(engine.OrgMCN, "330106")
	_, coop := e.newOrg(engine.OrgCooperative, "360732")

	body := map[string]any{"name": "双十二 助农专场", "keywords": "脐橙 有机 orange", "categories": []string{"fresh_fruit"},
		"price_min": 10, "price_max": 60, "min_commission_rate": 0.1, "expected_units": 2000, "min_stock": 500,
		"preferred_certifications": []string{"green_food", "organic"}, "audience_regions": []string{"310000"},
		"target_markets": []string{"cn"}, "stream_date": "2026-12-12T20:00:00+08:00", "poverty_relief_min_share": 0.3,
		"weights": map[string]float64{"poverty_relief": 2, "grade": 0}}
	r := e.must(201, "POST", "/v1/demand-profiles", mcn, body)
	id, created := r.body["id"].(string), r.body["created_at"]
	w := r.body["weights"].(map[string]any)
	if len(w) != 10 || w["poverty_relief"] != 2.0 || w["grade"] != 0.0 || w["text"] != 1.0 || r.body["status"] != "open" ||
		r.header.Get("ETag") != `"1"` || slices.Compare(toStrings(r.body["target_markets"]), []string{"CN"}) != 0 {
		t.Fatalf("create: %s", r.raw)
	}
	if got := r.body["stream_date"].(string); got != "2026-12-12T12:00:00Z" {
		t.Errorf("stream_date %s", got)
	}
	e.must(403, "POST", "/v1/demand-profiles", coop, body)
	e.must(404, "GET", "/v1/demand-profiles/"+id, otherMCN, nil)
	e.must(404, "PUT", "/v1/demand-profiles/"+id, otherMCN, body)
	e.must(404, "DELETE", "/v1/demand-profiles/"+id, otherMCN, nil)
	e.must(404, "GET", "/v1/demand-profiles/"+id+"/matches", otherMCN, nil)
	e.must(200, "GET", "/v1/demand-profiles/"+id, e.admin, nil)

	list := e.must(200, "GET", "/v1/demand-profiles", mcn, nil)
	if n := len(list.body["items"].([]any)); n != 1 {
		t.Fatalf("own list has %d", n)
	}
	if n := len(e.must(200, "GET", "/v1/demand-profiles", otherMCN, nil).body["items"].([]any)); n != 0 {
		t.Fatalf("other MCN sees %d profiles", n)
	}

	body["name"] = "双十二 助农专场 (改)"
	e.must(412, "PUT", "/v1/demand-profiles/"+id, mcn, body, "If-Match", `"9"`)
	r = e.must(200, "PUT", "/v1/demand-profiles/"+id, mcn, body, "If-Match", `"1"`)
	if r.body["version"] != 2.0 || r.body["name"] != "双十二 助农专场 (改)" || r.body["created_at"] != created {
		t.Fatalf("put: %s", r.raw)
	}
	e.must(200, "GET", "/v1/demand-profiles/"+id+"/matches", mcn, nil)
	e.must(204, "DELETE", "/v1/demand-profiles/"+id, mcn, nil)
	e.must(404, "GET", "/v1/demand-profiles/"+id, mcn, nil)
}

func toStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

func TestProfileValidation(t *testing.T) {
	e := newEnv(t, envOpts{now: func() time.Time { return matchClock }})
	_, mcn := e.newOrg(engine.OrgMCN, "310101")
	base := func() map[string]any { return map[string]any{"name": "p", "keywords": "kiwi"} }
	with := func(kv ...any) map[string]any {
		b := base()
		for i := 0; i+1 < len(kv); i += 2 {
			b[kv[i].(string)] = kv[i+1]
		}
		return b
	}
	cases := []struct {
		name  string
		body  any
		field string
	}{
		{"price_min above price_max", with("price_min", 60, "price_max", 10), "price_min"},
		{"share above 1", with("poverty_relief_min_share", 1.5), "poverty_relief_min_share"},
		{"negative share", with("poverty_relief_min_share", -0.1), "poverty_relief_min_share"},
		{"unknown required certification", with("required_certifications", []string{"iso9999"}), "required_certifications[0]"},
		{"unknown preferred certification", with("preferred_certifications", []string{"organic", "x"}), "preferred_certifications[1]"},
		{"unknown weight", with("weights", map[string]float64{"vibes": 1}), "weights.vibes"},
		{"negative weight", with("weights", map[string]float64{"price": -1}), "weights.price"},
		{"all weights zero", with("weights", map[string]float64{"text": 0, "price": 0, "commission": 0, "stock": 0, "poverty_relief": 0,
			"certification": 0, "seasonality": 0, "logistics": 0, "grade": 0, "lead_time": 0}), "weights"},
		{"bad date", with("stream_date", "12/12/2026"), "stream_date"},
		{"past date", with("stream_date", "2026-01-01"), "stream_date"},
		{"unknown category", with("categories", []string{"spaceships"}), "categories[0]"},
		{"unknown region", with("audience_regions", []string{"999999"}), "audience_regions[0]"},
		{"bad market", with("target_markets", []string{"Malaysia"}), "target_markets[0]"},
		{"commission floor above 1", with("min_commission_rate", 2), "min_commission_rate"},
		{"negative min stock", with("min_stock", -5), "min_stock"},
		{"no name", with("name", ""), "name"},
		{"unknown field", with("budget", 5), "budget"},
		{"wrong type", with("weights", []int{1}), "weights"},
		{"bad status", with("status", "archived"), "status"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("POST", "/v1/demand-profiles", mcn, tc.body)
			if r.status != 400 || !slices.Contains(fieldsOf(r), tc.field) {
				t.Fatalf("status %d, fields %v lack %q: %s", r.status, fieldsOf(r), tc.field, r.raw)
			}
			// The unsaved match endpoint validates the same way (a name is
			// optional there).
			if tc.field == "name" {
				return
			}
			r = e.do("POST", "/v1/match/products", mcn, tc.body)
			if r.status != 400 || !slices.Contains(fieldsOf(r), tc.field) {
				t.Fatalf("match: status %d, fields %v lack %q", r.status, fieldsOf(r), tc.field)
			}
		})
	}
}

// matchItems returns the skus of a match answer in order, and their scores.
func matchItems(r resp, skuOf map[string]string) ([]string, map[string]float64) {
	var skus []string
	scores := map[string]float64{}
	for _, it := range r.body["items"].([]any) {
		m := it.(map[string]any)
		sku := skuOf[m["product"].(map[string]any)["id"].(string)]
		skus = append(skus, sku)
		scores[sku] = m["score"].(float64)
	}
	return skus, scores
}

func TestMatchesExplainedAndReproducible(t *testing.T) {
	e := newEnv(t, envOpts{now: func() time.Time { return matchClock }})
	mcn, skuOf, keys := loadMatchFixture(t, e)
	profile := map[string]any{"name": "kiwi stream", "keywords": "kiwi 猕猴桃", "categories": []string{"fresh_fruit"},
		"audience_regions": []string{"310000"}, "stream_date": "2026-12-01T20:00:00+08:00"}
	r := e.must(201, "POST", "/v1/demand-profiles", mcn, profile)
	id := r.body["id"].(string)
	stored := e.must(200, "GET", "/v1/demand-profiles/"+id+"/matches", mcn, nil)
	adhoc := e.must(200, "POST", "/v1/match/products", mcn, profile)
	s1, sc1 := matchItems(stored, skuOf)
	s2, sc2 := matchItems(adhoc, skuOf)
	if len(s1) < 3 || !slices.Equal(s1, s2) {
		t.Fatalf("stored %v vs unsaved %v", s1, s2)
	}
	for sku, v := range sc1 {
		if sc2[sku] != v {
			t.Errorf("%s: %v vs %v", sku, v, sc2[sku])
		}
	}
	for i := 1; i < len(s1); i++ {
		if sc1[s1[i-1]] < sc1[s1[i]] {
			t.Errorf("not sorted by score: %v", sc1)
		}
	}
	if _, ok := stored.body["took_ms"]; !ok {
		t.Error("no took_ms")
	}

	// The supplier sees the same score for the profile among its buyers.
	zzKiwi := store.ProductID(orgOf(t, e, keys["zhouzhi"]), "ZZ-KIWI")
	b := e.must(200, "GET", "/v1/products/"+zzKiwi+"/buyers", keys["zhouzhi"], nil)
	items := b.body["items"].([]any)
	if len(items) != 1 {
		t.Fatalf("buyers: %s", b.raw)
	}
	if got := items[0].(map[string]any)["score"].(float64); math.Abs(got-sc1["ZZ-KIWI"]) > 1e-9 {
		t.Errorf("buyers score %v, matches score %v", got, sc1["ZZ-KIWI"])
	}
	// Another org may not ask for this product's buyers.
	e.must(404, "GET", "/v1/products/"+zzKiwi+"/buyers", keys["cangxi"], nil)

	// Stock changes reach matching: sold out, the product drops out.
	e.must(200, "PATCH", "/v1/products/"+zzKiwi+"/stock", keys["zhouzhi"], map[string]any{"stock": 0})
	if !eventually(t, 5*time.Second, func() bool {
		s, _ := matchItems(e.must(200, "GET", "/v1/demand-profiles/"+id+"/matches", mcn, nil), skuOf)
		return !slices.Contains(s, "ZZ-KIWI")
	}) {
		t.Fatal("sold-out product still matched")
	}
	// And its buyers list is empty now.
	if n := len(e.must(200, "GET", "/v1/products/"+zzKiwi+"/buyers", keys["zhouzhi"], nil).body["items"].([]any)); n != 0 {
		t.Errorf("sold-out product has %d buyers", n)
	}
}

func TestWeightChangesOrder(t *testing.T) {
	e := newEnv(t, envOpts{now: func() time.Time { return matchClock }})
	mcn, skuOf, _ := loadMatchFixture(t, e)
	order := func(weights map[string]float64) []string {
		s, _ := matchItems(e.must(200, "POST", "/v1/match/products", mcn, map[string]any{
			"name": "w", "keywords": "kiwi", "categories": []string{"fresh_fruit"}, "weights": weights}), skuOf)
		return s
	}
	only := func(f string) map[string]float64 {
		w := map[string]float64{}
		for _, name := range engine.Factors() {
			w[string(name)] = 0
		}
		w[f] = 1
		return w
	}
	neutral := order(nil)
	relief := order(map[string]float64{"poverty_relief": 5})
	commission := order(only("commission"))
	grade := order(only("grade"))
	if slices.Equal(neutral, commission) || slices.Equal(commission, grade) {
		t.Fatalf("weights changed nothing: %v / %v / %v", neutral, commission, grade)
	}
	// Ranked by grade alone, the importer (grade A) leads.
	if len(grade) == 0 || grade[0] != "PD-KIWI-NZ" {
		t.Errorf("grade-only order %v", grade)
	}
	// With poverty relief dominant, the importer's kiwis rank below every
	// relief cooperative's.
	if pi := slices.Index(relief, "PD-KIWI-NZ"); pi >= 0 {
		for _, s := range []string{"ZZ-KIWI", "CX-KIWI"} {
			if p := slices.Index(relief, s); p < 0 || p > pi {
				t.Errorf("%s not above PD-KIWI-NZ in %v", s, relief)
			}
		}
	}
	// Ranked by commission alone, the highest commission (CX-KIWI, 22%) leads.
	if len(commission) == 0 || commission[0] != "CX-KIWI" {
		t.Errorf("commission-weighted order %v", commission)
	}
}

// orgOf returns the org id of an API key.
func orgOf(t *testing.T, e *env, key string) string {
	t.Helper()
	// The org behind a key is the one GET /v1/orgs/{id} answers for it.
	var id string
	all := e.must(200, "GET", "/v1/orgs?limit=100", e.admin, nil)
	for _, o := range all.body["items"].([]any) {
		oid := o.(map[string]any)["id"].(string)
		if e.do("GET", "/v1/orgs/"+oid, key, nil).status == 200 {
			id = oid
		}
	}
	if id == "" {
		t.Fatal("no org for key")
	}
	return id
}

// FuzzDecodeProfile checks the demand-profile decoder and validator on
// arbitrary bodies: never a panic, and every failure names a field.
func FuzzDecodeProfile(f *testing.F) {
	for _, s := range []string{
		`{"name":"p","keywords":"kiwi","price_min":10,"price_max":60,"weights":{"text":2}}`,
		`{"name":"p","stream_date":"2026-12-12","poverty_relief_min_share":0.3,"audience_regions":["310000"]}`,
		`{"weights":{"":1,"price":-1,"text":1e309}}`, `{"stream_date":"x"}`, `{"categories":[1]}`, `{"price_min":-0}`,
	} {
		f.Add([]byte(s))
	}
	loadRef(f)
	s := &Server{regions: regions, now: func() time.Time { return matchClock }}
	owner := &engine.Org{ID: "org_m", Kind: engine.OrgMCN}
	f.Fuzz(func(t *testing.T, body []byte) {
		var in profileIn
		err := decodeBytes(body, &in)
		if err == nil {
			var p *engine.DemandProfile
			p, err = s.prepareProfile(&in, owner)
			if err == nil {
				// A valid profile scores any product within the contract.
				prod := &engine.Product{ID: "p", OrgID: "org_s", Category: "fresh_fruit", PriceCNY: 20, Stock: 10, ReviewStatus: engine.ReviewApproved}
				m := engine.Score(p, engine.Candidate{Product: prod, Supplier: &engine.Org{ID: "org_s", Status: engine.OrgApproved}, Text: 1}, engine.MatchParams{Now: matchClock})
				if m.Score < 0 || m.Score > 1 || math.IsNaN(m.Score) {
					t.Fatalf("score %v for %s", m.Score, body)
				}
			}
		}
		if err == nil {
			return
		}
		e, ok := asInvalid(err)
		if !ok || len(e.Fields) == 0 {
			t.Fatalf("body %q: %v", body, err)
		}
		if _, jerr := json.Marshal(e.Fields); jerr != nil {
			t.Fatal(jerr)
		}
	})
}
