package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
)

// Embedded is an in-process FerretDB serving the MongoDB wire protocol on a
// loopback port over SQLite files in a directory.
type Embedded struct {
	uri    string
	cancel context.CancelFunc
	done   chan struct{}
}

// StartEmbedded starts FerretDB with the sqlite handler over the files in dir
// (created if missing), listening on 127.0.0.1 on a free port. Close stops it.
func StartEmbedded(ctx context.Context, dir string, logger *slog.Logger) (*Embedded, error) {
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
		Listener:  ferretdb.ListenerConfig{TCP: "127.0.0.1:0"},
		Handler:   "sqlite",
		SQLiteURL: "file:" + abs + "/",
		Logger:    logger,
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	e := &Embedded{cancel: cancel, done: make(chan struct{})}
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
