package store

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/livematch/livematch/engine"
)

// TestIDLookupsUseAnIndex checks that the query FerretDB's SQLite backend
// runs for a lookup by _id is answered from an index, not a table scan.
func TestIDLookupsUseAnIndex(t *testing.T) {
	if testEmbedded == nil {
		t.Log("MONGODB_URI is set: a real MongoDB indexes _id itself")
		return
	}
	s := mustOpen(t)
	if _, err := s.UpsertProduct(context.Background(), product("org_i", "I-1", 1), 0, nil); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(testEmbedded.dir, s.dbName+".sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT table_name FROM _ferretdb_collections`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	rows.Close()
	if len(tables) < 5 {
		t.Fatalf("collections: %v", tables)
	}
	for _, tbl := range tables {
		var id, parent, notused int
		var detail string
		q := fmt.Sprintf(`EXPLAIN QUERY PLAN SELECT _ferretdb_sjson FROM %q WHERE _ferretdb_sjson->'$._id' = ?`, tbl)
		if err := db.QueryRow(q, `"x"`).Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(detail, "USING INDEX") {
			t.Errorf("%s: lookup by _id plans %q", tbl, detail)
		}
	}
}

// BenchmarkBulkUpsert measures bulk writes of 500 new products into a
// growing collection.
func BenchmarkBulkUpsert(b *testing.B) {
	ctx := context.Background()
	s := mustOpen(b)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		ps := make([]*engine.Product, 500)
		for j := range ps {
			ps[j] = product("org_b", fmt.Sprintf("B-%d-%d", i, j), 1)
		}
		if _, err := s.BulkUpsertProducts(ctx, ps, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*500)/b.Elapsed().Seconds(), "products/s")
}
