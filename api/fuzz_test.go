package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/livematch/livematch/engine"
)

// productSeeds are request bodies that exercise the decoder's branches.
var productSeeds = []string{
	`{"sku":"A","title_zh":"猕猴桃","category":"fresh_fruit","price_cny":10,"stock":1}`,
	`{"sku":"A","title_zh":"x","category":"tea","price_cny":1,"stock":1,"certifications":["organic",{"type":"green_food","expires_at":"2027-01-01T00:00:00Z"}]}`,
	`{"sku":"A","certifications":[1,null,{"type":1}]}`,
	`{"sku":"A","price_cny":1e400}`,
	`{"sku":"A","stock":-9223372036854775809}`,
	`{"sku":"A","sku":"B"}`,
	`{"sku":"\u0000"}`,
	"{\"sku\":\"\xff\xfe\"}",
	`[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]`,
	`{"tags":{"a":1}}`,
	`{} {}`,
	`{"available_months":[0,13,1,1]}`,
	`{"sku":"A","title_zh":"t","category":"tea","price_cny":1,"stock":1,"ship_from":"1"}`,
}

// FuzzDecodeProduct checks the product decoder and validator on arbitrary
// bodies: never a panic, and every failure is a client error naming a field.
func FuzzDecodeProduct(f *testing.F) {
	for _, s := range productSeeds {
		f.Add([]byte(s))
	}
	loadRef(f)
	owner := &engine.Org{ID: "org_x", Kind: engine.OrgCooperative, RegionCode: "360732", PovertyRelief: true}
	f.Fuzz(func(t *testing.T, body []byte) {
		var in productIn
		err := decodeBytes(body, &in)
		if err == nil {
			_, err = prepareProduct(&in, owner, regions)
		}
		if err == nil {
			return
		}
		var e *engine.Error
		if !asEngineError(err, &e) || e.Kind != engine.KindInvalid || len(e.Fields) == 0 {
			t.Fatalf("body %q: error %v is not a client error naming a field", body, err)
		}
		for _, fe := range e.Fields {
			if fe.Field == "" || fe.Message == "" {
				t.Fatalf("body %q: empty field error %+v", body, fe)
			}
		}
	})
}

// FuzzDecodeOrg does the same for org bodies.
func FuzzDecodeOrg(f *testing.F) {
	for _, s := range []string{
		`{"kind":"mcn","name_zh":"x","region_code":"310101"}`,
		`{"kind":"cooperative","name_zh":"x","region_code":"360732","countries":["CN","my"],"grade":"A"}`,
		`{"kind":1}`, `{"poverty_relief":true}`, `null`, `{"countries":null}`,
	} {
		f.Add([]byte(s))
	}
	loadRef(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		var in orgIn
		err := decodeBytes(body, &in)
		if err == nil {
			err = engine.PrepareOrg(in.toEngine(), regions)
		}
		if err != nil && engine.KindOf(err) != engine.KindInvalid {
			t.Fatalf("body %q: %v", body, err)
		}
	})
}

// FuzzBulkLines feeds arbitrary NDJSON to the line decoder used by bulk
// import: every line either decodes or is rejected with a named field.
func FuzzBulkLines(f *testing.F) {
	for i := 0; i+1 < len(productSeeds); i += 2 {
		f.Add([]byte(productSeeds[i] + "\n\n" + productSeeds[i+1]))
	}
	loadRef(f)
	owner := &engine.Org{ID: "org_x", Kind: engine.OrgFactory, RegionCode: "330782"}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, line := range bytes.Split(body, []byte("\n")) {
			if len(bytes.TrimSpace(line)) == 0 {
				continue
			}
			var in productIn
			err := decodeBytes(line, &in)
			if err == nil {
				_, err = prepareProduct(&in, owner, regions)
			}
			if err != nil {
				le := lineErr(1, in.SKU, err)
				if len(le.Errors) == 0 || le.Errors[0].Field == "" {
					t.Fatalf("line %q: unnamed error %v", line, err)
				}
				if _, jerr := json.Marshal(le); jerr != nil {
					t.Fatalf("line %q: error not renderable: %v", line, jerr)
				}
			}
		}
	})
}

// FuzzSearchParams sends arbitrary query strings to product search on the
// real server (handler in process): never a 5xx, never a panic.
func FuzzSearchParams(f *testing.F) {
	for _, s := range []string{
		"q=kiwi", "q=%E8%8C%B6&category=tea&in_stock=true", "price_min=10&price_max=5", "limit=1000000&cursor=zzz",
		"q=title_zh:%E7%99%BD%E8%8C%B6+AND+*&province=360000", "poverty_relief=maybe&certification=organic",
		"q=" + strings.Repeat("%E7%8C%95", 300), "q=%00%ff&org_id=%00",
	} {
		f.Add(s)
	}
	e := newEnv(f)
	h := e.server.Handler()
	f.Fuzz(func(t *testing.T, raw string) {
		req, err := http.NewRequest("GET", "/v1/products?"+raw, nil)
		if err != nil {
			return // not a request a client could send
		}
		req.Header.Set("Authorization", "Bearer "+e.admin)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%q: %d %s", raw, rec.Code, rec.Body)
		}
	})
}

// FuzzMatchBody sends arbitrary bodies to the unsaved product and host
// matching endpoints: never a 5xx, never a panic.
func FuzzMatchBody(f *testing.F) {
	for _, s := range []string{
		`{"keywords":"脐橙 orange","price_min":10,"price_max":60,"poverty_relief_min_share":0.3}`,
		`{"keywords":"","weights":{"text":0}}`, `{"stream_date":"2026-12-12"}`,
		`{"title":"t","languages":[{"code":"ms","min_level":"fluent"}],"target_markets":["MY"]}`,
		`{"keywords":"` + strings.Repeat("茶", 600) + `"}`, `[]`, `{"weights":{"bio":1e308}}`,
	} {
		f.Add([]byte(s))
	}
	e := newEnv(f)
	h := e.server.Handler()
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, path := range []string{"/v1/match/products", "/v1/match/hosts"} {
			req := httptest.NewRequest("POST", path, bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+e.admin)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code >= 500 {
				t.Fatalf("%s %q: %d %s", path, body, rec.Code, rec.Body)
			}
		}
	})
}

// FuzzDecodeReservation feeds arbitrary bodies to the reservation decoder:
// each is accepted as a held reservation with whole positive units, a
// stream date not before today and a hold within 7 days, or rejected with a
// client error naming its fields, never with anything else.
func FuzzDecodeReservation(f *testing.F) {
	for _, s := range []string{
		`{"product_id":"prd_x","units":30,"stream_date":"2026-12-12"}`,
		`{"product_id":"prd_x","units":1,"stream_date":"2026-12-12T20:00:00+08:00","hold_until":"2026-12-09T18:00:00+08:00","note":"周六"}`,
		`{"product_id":"prd_x","units":2.5,"stream_date":"2026-12-12"}`, `{"units":"3"}`, `{"units":-1,"stream_date":"yesterday"}`,
		`{"product_id":"","units":0,"hold_until":"2030-01-01T00:00:00Z"}`, `null`, `[]`, `{"units":1e99}`,
	} {
		f.Add([]byte(s))
	}
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body []byte) {
		var in reservationIn
		err := decodeBytes(body, &in)
		var r *engine.Reservation
		if err == nil {
			r, err = prepareReservation(&in, now)
		}
		if err == nil {
			if r.Status != engine.ReservationHeld || r.Units < 1 || r.ProductID == "" || r.StreamDate.IsZero() ||
				!r.ExpiresAt.After(now) || r.ExpiresAt.Sub(now) > engine.MaxHold {
				t.Fatalf("body %q accepted as %+v", body, r)
			}
			return
		}
		var e *engine.Error
		if !asEngineError(err, &e) || e.Kind != engine.KindInvalid || len(e.Fields) == 0 {
			t.Fatalf("body %q: error %v is not a client error naming a field", body, err)
		}
		seen := map[string]bool{}
		for _, fe := range e.Fields {
			if fe.Field == "" || fe.Message == "" || seen[fe.Field] {
				t.Fatalf("body %q: empty or repeated field error %+v", body, e.Fields)
			}
			seen[fe.Field] = true
		}
	})
}
