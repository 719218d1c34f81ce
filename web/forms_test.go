package web

import (
	"encoding/json"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

func TestJSONOf(t *testing.T) {
	fields := []field{{"sku", kText}, {"price_cny", kNumber}, {"cold_chain", kBool}, {"tags", kList},
		{"categories", kMulti}, {"available_months", kIntMulti}, {"stream_date", kDateTime}, {"expires", kDate},
		{"weights.text", kNumber}, {"weights.price", kNumber}}
	cases := []struct {
		name string
		in   url.Values
		want string
	}{
		{"empty fields are left out; lists and checkboxes are sent", url.Values{"sku": {""}, "price_cny": {" "}},
			`{"available_months":[],"categories":[],"cold_chain":false,"tags":[]}`},
		{"numbers become numbers", url.Values{"price_cny": {" 39.90 "}, "weights.text": {"2"}},
			`{"available_months":[],"categories":[],"cold_chain":false,"price_cny":39.9,"tags":[],"weights":{"text":2}}`},
		{"text that is no number goes as text for the API to name", url.Values{"price_cny": {"abc"}},
			`{"available_months":[],"categories":[],"cold_chain":false,"price_cny":"abc","tags":[]}`},
		{"lists split on every comma and bar", url.Values{"tags": {"礼盒，gift box、 年货|new year ;x"}},
			`{"available_months":[],"categories":[],"cold_chain":false,"tags":["礼盒","gift box","年货","new year","x"]}`},
		{"checkbox on, repeated values", url.Values{"cold_chain": {"true"}, "categories": {"tea", " ", "fresh_fruit"}, "available_months": {"11", "x"}},
			`{"available_months":[11,"x"],"categories":["tea","fresh_fruit"],"cold_chain":true,"tags":[]}`},
		{"dates in China time", url.Values{"stream_date": {"2026-12-12T20:00"}, "expires": {"2027-10-31"}},
			`{"available_months":[],"categories":[],"cold_chain":false,"expires":"2027-10-31T00:00:00+08:00","stream_date":"2026-12-12T20:00:00+08:00","tags":[]}`},
		{"a bad date goes as typed", url.Values{"expires": {"31/10/2027"}},
			`{"available_months":[],"categories":[],"cold_chain":false,"expires":"31/10/2027","tags":[]}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			raw, err := json.Marshal(jsonOf(tc.in, fields))
			if err != nil {
				t.Fatal(err)
			}
			if string(raw) != tc.want {
				t.Errorf("got  %s\nwant %s", raw, tc.want)
			}
		})
	}
}

func TestValuesOfInvertsJSONOf(t *testing.T) {
	fields := []field{{"sku", kText}, {"price_cny", kNumber}, {"cold_chain", kBool}, {"tags", kList},
		{"categories", kMulti}, {"available_months", kIntMulti}, {"stream_date", kDateTime}, {"weights.text", kNumber}}
	in := url.Values{"sku": {"GN-1"}, "price_cny": {"39.9"}, "cold_chain": {"true"}, "tags": {"礼盒, gift box"},
		"categories": {"tea", "fresh_fruit"}, "available_months": {"11", "12"}, "stream_date": {"2026-12-12T20:00"},
		"weights.text": {"1.5"}}
	raw, _ := json.Marshal(jsonOf(in, fields))
	back := valuesOf(decodeObject(raw), fields)
	if !reflect.DeepEqual(back, in) {
		t.Errorf("round trip:\n got  %v\n want %v", back, in)
	}
}

func TestRows(t *testing.T) {
	v := url.Values{"certifications.type": {"green_food", "", "organic"}, "certifications.number": {"LB-1", "x", ""},
		"certifications.expires_at": {"2027-01-01", "", ""}}
	compactRows(v, "certifications", "type", []string{"number", "expires_at"})
	if got := v["certifications.number"]; !reflect.DeepEqual(got, []string{"LB-1", ""}) {
		t.Errorf("compacted numbers %q", got)
	}
	got := rows(v, "certifications", "type", []field{{"type", kText}, {"number", kText}, {"expires_at", kDate}})
	raw, _ := json.Marshal(got)
	want := `[{"expires_at":"2027-01-01T00:00:00+08:00","number":"LB-1","type":"green_food"},{"type":"organic"}]`
	if string(raw) != want {
		t.Errorf("rows %s, want %s", raw, want)
	}
}

func TestSafeHighlight(t *testing.T) {
	cases := []struct{ in, want string }{
		{"赣南<em>脐橙</em> 5斤装", "赣南<em>脐橙</em> 5斤装"},
		{"&lt;script&gt;alert(1)&lt;/script&gt; <em>茶</em>", "&lt;script&gt;alert(1)&lt;/script&gt; <em>茶</em>"},
		{"<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"},
		{"<em onclick=x>a</em>", "&lt;em onclick=x&gt;a</em>"},
		{"Tom &amp; Jerry's", "Tom &amp; Jerry&#39;s"},
		{"", ""},
	}
	for _, tc := range cases {
		if got := string(safeHighlight(tc.in)); got != tc.want {
			t.Errorf("safeHighlight(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"/console/search?q=茶": "/console/search?q=茶", "": "/console/", "//evil.example/console/": "/console/",
		"https://evil.example/": "/console/", "/console/login": "/console/", "/console/\\evil": "/console/",
		"/v1/orgs": "/console/",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzJSONOf: any form converts without panicking into JSON the API can
// read, and a number field is either a number or exactly the typed text.
func FuzzJSONOf(f *testing.F) {
	f.Add("39.9", "礼盒,gift", "2026-12-12T20:00", "11")
	f.Add("abc", "", "x", "")
	f.Add("1e400", "|||", "2026-13-45", "-1")
	f.Fuzz(func(t *testing.T, price, tags, date, month string) {
		fields := []field{{"price_cny", kNumber}, {"tags", kList}, {"stream_date", kDateTime}, {"available_months", kIntMulti}, {"weights.text", kNumber}}
		v := url.Values{"price_cny": {price}, "tags": {tags}, "stream_date": {date}, "available_months": {month}, "weights.text": {price}}
		out := jsonOf(v, fields)
		raw, err := json.Marshal(out)
		if err != nil {
			t.Fatalf("%v: %v", out, err)
		}
		var back map[string]any
		if err := json.Unmarshal(raw, &back); err != nil {
			t.Fatal(err)
		}
		if p, ok := back["price_cny"]; ok {
			// Text goes as typed (bytes that are not UTF-8 become U+FFFD,
			// as encoding/json writes them).
			if s, isText := p.(string); isText && s != jsonText(strings.TrimSpace(price)) {
				t.Errorf("price %q sent as %q", price, s)
			}
		}
	})
}

// FuzzSafeHighlight: whatever the API sends, only <em> and </em> survive
// as markup.
func FuzzSafeHighlight(f *testing.F) {
	f.Add("赣南<em>脐橙</em>")
	f.Add("<script>x</script><em>")
	f.Add("&lt;<em>&amp;</em>&#39;")
	f.Fuzz(func(t *testing.T, s string) {
		out := strings.ReplaceAll(strings.ReplaceAll(string(safeHighlight(s)), "<em>", ""), "</em>", "")
		if strings.ContainsAny(out, "<>\"") {
			t.Errorf("markup survived: %q → %q", s, out)
		}
	})
}

func TestDict(t *testing.T) {
	cases := []struct {
		name    string
		in      []any
		want    map[string]any
		wantErr bool
	}{
		{"pairs", []any{"Name", "price_min", "Required", true}, map[string]any{"Name": "price_min", "Required": true}, false},
		{"none", nil, map[string]any{}, false},
		{"odd", []any{"Name"}, nil, true},
		{"key not a string", []any{1, "x"}, nil, true},
	}
	for _, tc := range cases {
		got, err := dict(tc.in...)
		if (err != nil) != tc.wantErr || !tc.wantErr && !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: dict(%v) = %v, %v", tc.name, tc.in, got, err)
		}
	}
}

// jsonText is s as it reads after a trip through JSON.
func jsonText(s string) string {
	raw, _ := json.Marshal(s)
	var out string
	_ = json.Unmarshal(raw, &out)
	return out
}
