package web

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// FuzzImportChunks: any uploaded file, CSV or NDJSON, is cut into chunks
// without panicking; every CSV chunk line is a JSON object, and every line
// number names a line of the file, in order.
func FuzzImportChunks(f *testing.F) {
	f.Add([]byte("sku,title_zh,category,price_cny,stock,tags,certifications\nA1,兴国红薯,vegetables,9.9,100,礼盒|助农,green_food:LB-1:2027-10-31|geo_indication\n"), true)
	f.Add([]byte("sku,price_cny\n\"A,1\",\"9\n9\"\n,,\nB2\n"), true)
	f.Add([]byte("{\"sku\":\"A1\"}\n\n{bad\n"), false)
	f.Add([]byte("\xef\xbb\xbf\xc4\xe3\xba\xc3,x\n1,2\n"), true)
	f.Fuzz(func(t *testing.T, data []byte, asCSV bool) {
		lines := countLines(data)
		js := newJobs(time.Now)
		job, err := js.start("org_fuzz", "f", "csv", lines)
		if err != nil {
			t.Fatal(err)
		}
		var src chunkSource
		if asCSV {
			src = newCSVChunks(job, data)
		} else {
			src = newNDJSONChunks(data)
		}
		prev := 0
		for n := 0; ; n++ {
			if n > len(data)+2 {
				t.Fatalf("more chunks than the file has bytes")
			}
			body, lineOf, _, ok := src.next()
			if !ok {
				break
			}
			for _, l := range lineOf {
				if l <= prev || l > lines+1 {
					t.Fatalf("line %d after %d in a file of %d lines", l, prev, lines)
				}
				prev = l
			}
			if asCSV {
				for _, ln := range bytes.Split(bytes.TrimRight(body, "\n"), []byte("\n")) {
					if len(ln) > 0 && !json.Valid(ln) {
						t.Fatalf("chunk line is not JSON: %q", ln)
					}
				}
			}
		}
	})
}
