package web

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestCSVProduct checks the CSV cells' conversion: the same as the product
// form's, lists split on | or ;, certificates as type or
// type:number:date, yes/no words, and unknown columns passed on for the API
// to name.
func TestCSVProduct(t *testing.T) {
	cases := []struct {
		name   string
		header string
		row    []string
		want   string
	}{
		{"plain", "sku,title_zh,category,price_cny,stock",
			[]string{"A-1", "赣南脐橙", "fresh_fruit", "39.9", "500"},
			`{"available_months":[],"certifications":[],"cold_chain":false,"export_ready":false,"sample_available":false,"category":"fresh_fruit","price_cny":39.9,"sku":"A-1","stock":500,"tags":[],"title_zh":"赣南脐橙"}`},
		{"lists and certificates", "sku,tags,available_months,certifications",
			[]string{"A-2", "礼盒|gift box;助农", "11|12;1", "geo_indication|green_food:LB-18-2311120456A:2027-10-31"},
			`{"available_months":[11,12,1],"certifications":[{"type":"geo_indication"},{"expires_at":"2027-10-31T00:00:00+08:00","number":"LB-18-2311120456A","type":"green_food"}],"cold_chain":false,"export_ready":false,"sample_available":false,"sku":"A-2","tags":["礼盒","gift box","助农"]}`},
		{"yes and no words", "sku,cold_chain,export_ready,sample_available",
			[]string{"A-3", "是", "FALSE", "1"},
			`{"available_months":[],"certifications":[],"cold_chain":true,"export_ready":false,"sample_available":true,"sku":"A-3","tags":[]}`},
		{"bad values go to the API as written", "sku,price_cny,cold_chain,colour",
			[]string{"A-4", "abc", "maybe", "red"},
			`{"available_months":[],"certifications":[],"cold_chain":"maybe","colour":"red","export_ready":false,"price_cny":"abc","sample_available":false,"sku":"A-4","tags":[]}`},
		{"empty cells are left out", "sku,title_en,live_price_cny,",
			[]string{"A-5", "", "", ""},
			`{"available_months":[],"certifications":[],"cold_chain":false,"export_ready":false,"sample_available":false,"sku":"A-5","tags":[]}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			raw, err := json.Marshal(csvProduct(strings.Split(c.header, ","), c.row))
			if err != nil {
				t.Fatal(err)
			}
			if !sameJSON(t, string(raw), c.want) {
				t.Errorf("got  %s\nwant %s", raw, c.want)
			}
		})
	}
}

// TestProductFormAndCSVAgree checks that a form submission and the same
// values in CSV make the same API object (one conversion for both).
func TestProductFormAndCSVAgree(t *testing.T) {
	form := url.Values{"sku": {"B-1"}, "title_zh": {"猕猴桃"}, "category": {"fresh_fruit"}, "tags": {"礼盒, 助农"},
		"price_cny": {"29.9"}, "stock": {"80"}, "available_months": {"9", "10"}, "cold_chain": {"true"},
		"certifications.type": {"organic"}, "certifications.number": {"ORG-1"}, "certifications.issuer": {""},
		"certifications.expires_at": {"2030-01-31"}}
	fromForm, _ := json.Marshal(productJSON(form))
	header := strings.Split("sku,title_zh,category,tags,price_cny,stock,available_months,cold_chain,certifications", ",")
	fromCSV, _ := json.Marshal(csvProduct(header, []string{"B-1", "猕猴桃", "fresh_fruit", "礼盒|助农", "29.9", "80", "9|10", "true", "organic:ORG-1:2030-01-31"}))
	if !sameJSON(t, string(fromForm), string(fromCSV)) {
		t.Errorf("form %s\ncsv  %s", fromForm, fromCSV)
	}
}

func sameJSON(t *testing.T, a, b string) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal([]byte(a), &x); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(b), &y); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprint(x) == fmt.Sprint(y)
}

// TestNDJSONChunks checks that chunks keep blank lines so that the API's
// line numbers plus the chunk's offset are the file's.
func TestNDJSONChunks(t *testing.T) {
	var b strings.Builder
	for i := 1; i <= 2500; i++ {
		if i%7 == 0 {
			b.WriteString("\n")
			continue
		}
		fmt.Fprintf(&b, "{\"sku\":\"L%d\"}\n", i)
	}
	b.WriteString(`{"sku":"last"}`) // no final newline
	c := newNDJSONChunks([]byte(b.String()))
	var sizes, firsts, lasts []int
	for {
		body, lineOf, last, ok := c.next()
		if !ok {
			break
		}
		if got := countLines(body); got != len(lineOf) {
			t.Errorf("chunk of %d lines maps %d", got, len(lineOf))
		}
		sizes, firsts, lasts = append(sizes, len(lineOf)), append(firsts, lineOf[0]), append(lasts, last)
		// Line k of the chunk is file line lineOf[k-1].
		for k, l := range strings.Split(strings.TrimSuffix(string(body), "\n"), "\n") {
			if want := fmt.Sprintf("{\"sku\":\"L%d\"}", lineOf[k]); l != "" && l != want && lineOf[k] != 2501 {
				t.Fatalf("chunk line %d is %q, want file line %d", k+1, l, lineOf[k])
			}
		}
	}
	if fmt.Sprint(sizes) != "[1000 1000 501]" || fmt.Sprint(firsts) != "[1 1001 2001]" || fmt.Sprint(lasts) != "[1000 2000 2501]" {
		t.Errorf("chunks %v from %v to %v", sizes, firsts, lasts)
	}
}

// TestCSVChunks checks that errors and products name the file's lines
// (the header is line 1; a quoted cell may span lines).
func TestCSVChunks(t *testing.T) {
	now := time.Now
	job := &importJob{now: now, total: 6}
	data := "sku,title_zh,price_cny,stock\n" +
		"C-1,脐橙,10,1\n" +
		"C-2,\"两行\n标题\",10,1\n" +
		"C-3,短行\n" +
		"C-4,脐橙,10,1\n"
	c := newCSVChunks(job, []byte("\xef\xbb\xbf"+data))
	if fmt.Sprint(c.header) != "[sku title_zh price_cny stock]" {
		t.Fatalf("header %q (the byte order mark must go)", c.header)
	}
	body, lineOf, _, ok := c.next()
	if !ok || fmt.Sprint(lineOf) != "[2 3 6]" {
		t.Fatalf("lines %v", lineOf)
	}
	if n := strings.Count(string(body), "\n"); n != 3 {
		t.Errorf("%d NDJSON lines", n)
	}
	if len(job.errs) != 1 || job.errs[0].Line != 5 || job.errs[0].SKU != "C-3" || job.errs[0].Key != "import.csv_cells" {
		t.Errorf("errors %+v", job.errs)
	}
	if _, _, _, ok := c.next(); ok {
		t.Error("a chunk after the end")
	}
}

func TestImportFormat(t *testing.T) {
	cases := []struct{ chosen, name, data, want string }{
		{"auto", "a.csv", "{", "csv"},
		{"auto", "a.jsonl", "sku", "ndjson"},
		{"", "upload", "\xef\xbb\xbf  {\"sku\":1}", "ndjson"},
		{"", "upload", "sku,title_zh", "csv"},
		{"ndjson", "a.csv", "sku", "ndjson"},
	}
	for _, c := range cases {
		if got := importFormat(c.chosen, c.name, []byte(c.data)); got != c.want {
			t.Errorf("importFormat(%q, %q, %q) = %q, want %q", c.chosen, c.name, c.data, got, c.want)
		}
	}
}

// TestJobs checks ownership, the per-org limit and forgetting.
func TestJobs(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	j := newJobs(func() time.Time { return now })
	var mine []*importJob
	for range importRunningMax {
		job, err := j.start("org_a", "f.csv", "csv", 10)
		if err != nil {
			t.Fatal(err)
		}
		mine = append(mine, job)
	}
	if _, err := j.start("org_a", "g.csv", "csv", 10); err != errImportBusy {
		t.Errorf("a fourth running import: %v", err)
	}
	if _, err := j.start("org_b", "g.csv", "csv", 10); err != nil {
		t.Errorf("another org's import: %v", err)
	}
	if _, ok := j.get(mine[0].id, "org_b"); ok {
		t.Error("another org sees the job")
	}
	if _, ok := j.get(mine[0].id, "org_a"); !ok {
		t.Error("the owner does not see the job")
	}
	mine[0].finish()
	if _, err := j.start("org_a", "h.csv", "csv", 10); err != nil {
		t.Errorf("after one finished: %v", err)
	}
	now = now.Add(importForget + time.Minute)
	if _, ok := j.get(mine[0].id, "org_a"); ok {
		t.Error("a job finished over an hour ago is still there")
	}
	if _, ok := j.get(mine[1].id, "org_a"); !ok {
		t.Error("a running job was forgotten")
	}
}

// TestImportKeepsFirstErrors checks that errors past the first
// importKeepErrors lines are counted, not kept.
func TestImportKeepsFirstErrors(t *testing.T) {
	job := &importJob{now: time.Now, total: 5000}
	for i := 1; i <= importKeepErrors+20; i++ {
		job.lineError(importError{Line: i, Field: "price_cny", Msg: "bad"}, importError{Line: i, Field: "stock", Msg: "bad"})
	}
	if job.errLines != importKeepErrors+20 || len(job.errs) != 2*importKeepErrors || job.rejected != importKeepErrors+20 {
		t.Errorf("%d lines, %d kept, %d rejected", job.errLines, len(job.errs), job.rejected)
	}
}
