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

// BenchmarkBulkUpsert measures BulkUpsertProducts with chunks of 1000, the
// largest POST /v1/products:bulk chunk: "new" writes 1000 products that do
// not exist yet (into a growing collection), "existing" re-upserts the same
// 1000 products every iteration (each becomes a replacement), "mixed"
// alternates 500 of those with 500 new ones.
func BenchmarkBulkUpsert(b *testing.B) {
	const chunk = 1000
	ctx := context.Background()
	run := func(b *testing.B, s *Store, ps func(i int) []*engine.Product) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			res, err := s.BulkUpsertProducts(ctx, ps(i), nil)
			if err != nil {
				b.Fatal(err)
			}
			for j, r := range res {
				if r.Err != nil {
					b.Fatalf("item %d: %v", j, r.Err)
				}
			}
			s.Feed().Drain() // as the indexer would
		}
		b.ReportMetric(float64(b.N*chunk)/b.Elapsed().Seconds(), "products/s")
	}
	makeChunk := func(prefix string) []*engine.Product {
		ps := make([]*engine.Product, chunk)
		for j := range ps {
			ps[j] = product("org_b", fmt.Sprintf("%s-%d", prefix, j), int64(j))
		}
		return ps
	}
	b.Run("new", func(b *testing.B) {
		s := mustOpen(b)
		run(b, s, func(i int) []*engine.Product { return makeChunk(fmt.Sprintf("N%d", i)) })
	})
	b.Run("existing", func(b *testing.B) {
		s := mustOpen(b)
		if _, err := s.BulkUpsertProducts(ctx, makeChunk("E"), nil); err != nil {
			b.Fatal(err)
		}
		run(b, s, func(int) []*engine.Product { return makeChunk("E") })
	})
	b.Run("mixed", func(b *testing.B) {
		s := mustOpen(b)
		if _, err := s.BulkUpsertProducts(ctx, makeChunk("E"), nil); err != nil {
			b.Fatal(err)
		}
		run(b, s, func(i int) []*engine.Product {
			ps := makeChunk("E")
			for j := 1; j < chunk; j += 2 {
				ps[j] = product("org_b", fmt.Sprintf("M%d-%d", i, j), int64(j))
			}
			return ps
		})
	})
}
