package indexer

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/livematch/livematch/engine"
)

// ScanFunc sweeps the system of record, calling fn once for every live
// product (a Change with Deleted false and Seq the product's sequence
// number). It must stop and return fn's error when fn fails. fn may keep c.
type ScanFunc func(ctx context.Context, fn func(c Change) error) error

// RebuildOptions tune Rebuild.
type RebuildOptions struct {
	// Checkpoint is stored in the new index once the sweep is complete. It
	// must be the change feed's high-water mark read before the sweep began:
	// writes during the sweep then reach the index through the feed, and
	// their replays of what the sweep saw are ignored.
	Checkpoint int64
	// BatchSize is the number of changes per Bleve batch; 0 means 1000.
	BatchSize int
	// Progress, if set, is called after each batch with the number of
	// changes indexed so far.
	Progress func(n int)
	// BeforeSwap, if set, is called once the new index is complete and
	// before it replaces the directory at Config.Path. Close the Index open
	// on that path here (searches may continue on it until then). An error
	// aborts the rebuild and leaves the old index in place.
	BeforeSwap func() error
}

// Rebuild builds a fresh index from a full sweep and swaps it into
// cfg.Path. The new index is built in a temporary directory beside cfg.Path
// (so the old one keeps serving meanwhile), closed, then moved into place:
// the old directory is renamed aside, the new one renamed to cfg.Path, and
// the old one removed. Scanning and indexing overlap: one goroutine runs
// scan and fills batches while Bleve analyses the previous batch on its
// worker pool. Rebuild returns the new index, opened. With cfg.Path "" the
// index is built in memory and nothing is swapped.
func Rebuild(ctx context.Context, cfg Config, scan ScanFunc, ro RebuildOptions) (*Index, error) {
	return rebuild(ctx, cfg, scan, ro, defaultOptions())
}

func rebuild(ctx context.Context, cfg Config, scan ScanFunc, ro RebuildOptions, o options) (*Index, error) {
	const op = "indexer.Rebuild"
	if ro.BatchSize <= 0 {
		ro.BatchSize = 1000
	}
	build := cfg
	var tmp string
	if cfg.Path != "" {
		dir := filepath.Dir(cfg.Path)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, engine.Wrap(engine.KindUnavailable, op, "cannot create the index directory", err)
		}
		var err error
		tmp, err = os.MkdirTemp(dir, filepath.Base(cfg.Path)+".rebuild-*")
		if err != nil {
			return nil, engine.Wrap(engine.KindUnavailable, op, "cannot create a temporary directory", err)
		}
		build.Path = filepath.Join(tmp, "index")
	}
	cleanup := func() {
		if tmp != "" {
			_ = os.RemoveAll(tmp)
		}
	}

	start := time.Now()
	x, err := open(build, o)
	if err != nil {
		cleanup()
		return nil, err
	}
	n, err := x.fill(ctx, scan, ro)
	if err == nil {
		err = x.Apply(ctx, nil, ro.Checkpoint)
	}
	if cfg.Path == "" {
		if err != nil {
			_ = x.Close()
			return nil, err
		}
		return x, nil
	}
	if cerr := x.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		cleanup()
		return nil, err
	}
	x.log.Info("index rebuilt", "products", n, "took", time.Since(start), "checkpoint", ro.Checkpoint)
	if ro.BeforeSwap != nil {
		if err := ro.BeforeSwap(); err != nil {
			cleanup()
			return nil, fmt.Errorf("%s: before swap: %w", op, err)
		}
	}
	if err := swapDir(build.Path, cfg.Path); err != nil {
		cleanup()
		return nil, engine.Wrap(engine.KindUnavailable, op, "cannot move the new index into place", err)
	}
	cleanup()
	return open(cfg, o)
}

// fill runs scan in its own goroutine, cutting its changes into batches that
// it hands to Apply on this one, and returns how many changes were indexed.
func (x *Index) fill(ctx context.Context, scan ScanFunc, ro RebuildOptions) (int, error) {
	const op = "indexer.Rebuild"
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan []Change, 1)
	scanErr := make(chan error, 1)
	go func() {
		defer close(batches)
		send := func(b []Change) error {
			select {
			case batches <- b:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		buf := make([]Change, 0, ro.BatchSize)
		err := scan(ctx, func(c Change) error {
			buf = append(buf, c)
			if len(buf) < ro.BatchSize {
				return nil
			}
			b := buf
			buf = make([]Change, 0, ro.BatchSize)
			return send(b)
		})
		if err == nil && len(buf) > 0 {
			err = send(buf)
		}
		scanErr <- err
	}()

	n := 0
	var applyErr error
	for b := range batches {
		if applyErr != nil {
			continue // drain until the scanner notices the cancellation
		}
		if err := x.Apply(ctx, b, 0); err != nil {
			applyErr = err
			cancel()
			continue
		}
		n += len(b)
		if ro.Progress != nil {
			ro.Progress(n)
		}
	}
	if err := <-scanErr; applyErr == nil && err != nil {
		return n, fmt.Errorf("%s: scan: %w", op, err)
	}
	return n, applyErr
}

// swapDir moves the directory at from into place at to: an existing
// directory at to is renamed aside first, and removed once from is in place
// (or restored if that fails).
func swapDir(from, to string) error {
	var old string
	if _, err := os.Stat(to); err == nil {
		old = fmt.Sprintf("%s.old-%d", to, time.Now().UnixNano())
		if err := os.Rename(to, old); err != nil {
			return err
		}
	}
	if err := os.Rename(from, to); err != nil {
		if old != "" {
			_ = os.Rename(old, to)
		}
		return err
	}
	if d, err := os.Open(filepath.Dir(to)); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	if old != "" {
		return os.RemoveAll(old)
	}
	return nil
}
