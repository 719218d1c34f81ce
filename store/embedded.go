package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
	_ "modernc.org/sqlite" // the driver FerretDB uses, for IndexIDs
)

// Embedded is an in-process FerretDB serving the MongoDB wire protocol on a
// loopback port over SQLite files in a directory.
type Embedded struct {
	dir    string
	uri    string
	cancel context.CancelFunc
	done   chan struct{}
}

// StartEmbedded starts FerretDB with the sqlite handler over the files in dir
// (created if missing), listening on addr ("" means 127.0.0.1 on a free
// port). Close stops it.
func StartEmbedded(ctx context.Context, dir, addr string, logger *slog.Logger) (*Embedded, error) {
	const op = "store.StartEmbedded"
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	if err := os.MkdirAll(abs, 0o750); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: cmp.Or(addr, "127.0.0.1:0")},
		Handler:   "sqlite",
		SQLiteURL: "file:" + abs + "/",
		Logger:    slog.New(&lazyAttrs{h: logger.Handler()}),
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	e := &Embedded{dir: abs, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(e.done)
		_ = f.Run(runCtx) // returns nil when runCtx is cancelled
	}()
	// MongoDBURI blocks until the listener is up.
	uriCh := make(chan string, 1)
	go func() { uriCh <- f.MongoDBURI() }()
	select {
	case e.uri = <-uriCh:
	case <-time.After(30 * time.Second):
		cancel()
		return nil, fmt.Errorf("%s: %w", op, errors.New("FerretDB did not start listening within 30s"))
	}
	return e, nil
}

// URI returns the mongodb:// URI of the embedded server.
func (e *Embedded) URI() string { return e.uri }

// Close stops the server and waits for it to release its files.
func (e *Embedded) Close() error {
	e.cancel()
	<-e.done
	return nil
}

// IndexIDs works around FerretDB 1.24's SQLite backend, which looks
// documents up by _id with the expression _ferretdb_sjson->'$._id' but
// indexes _ferretdb_sjson->"_id", so SQLite never uses the index and every
// lookup by _id scans and parses the whole table. It adds an index on the
// exact expression to every collection table of the database (idempotent;
// SQLite maintains it on every write FerretDB makes). Collections created
// later need another call; Store.Init makes it for its collections.
func (e *Embedded) IndexIDs(ctx context.Context, database string) error {
	const op = "store.Embedded.IndexIDs"
	path := filepath.Join(e.dir, database+".sqlite")
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil // no collection yet
	}
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT table_name FROM _ferretdb_collections`)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	var tables []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			rows.Close()
			return fmt.Errorf("%s: %w", op, err)
		}
		tables = append(tables, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	for _, t := range tables {
		q := fmt.Sprintf(`CREATE INDEX IF NOT EXISTS %q ON %q (_ferretdb_sjson->'$._id')`, t+"_livematch_id", t)
		if _, err := db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("%s: %s: %w", op, t, err)
		}
	}
	return nil
}
