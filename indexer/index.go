package indexer

import (
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/index/scorch"
	index "github.com/blevesearch/bleve_index_api"
	bolt "go.etcd.io/bbolt"

	"github.com/livematch/livematch/engine"
)

// Glossary is what the indexer needs from the bilingual glossary
// (implemented by fixtures.Glossary).
type Glossary interface {
	// Simplify folds traditional Chinese characters to simplified ones.
	Simplify(s string) string
	// Expand returns the cross-language synonyms of a term, best first,
	// excluding the term itself.
	Expand(term string) []string
	// LongestPhrase reports how many leading words (1..3) form one glossary
	// phrase; 0 or 1 means a single word.
	LongestPhrase(words []string) int
}

// Config configures an Index.
type Config struct {
	// Path is the directory of the Bleve index; "" keeps it in memory (tests).
	Path string
	// Glossary folds and expands query terms; nil means no folding and no
	// expansion.
	Glossary Glossary
	// Logger receives operational messages; nil discards them.
	Logger *slog.Logger
	// Now is the clock against which certificate expiry is judged in filters
	// and facets; nil means time.Now.
	Now func() time.Time
}

// ErrCorrupt reports that the index at Config.Path exists but cannot be used
// as it is (unreadable, damaged, or written with another schema). The caller
// should move the directory aside and Rebuild. Test for it with errors.Is.
var ErrCorrupt = errors.New("index is corrupt or incompatible")

// Keys of Bleve internal storage.
const (
	keyCheckpoint = "lm:checkpoint"
	keySchema     = "lm:schema"
	keyTombstones = "lm:tombstones"
	keySnapshot   = "lm:snapshot" // nonce of the valid catalogue snapshot
)

// Index is the product index with its in-memory catalogue. It is safe for
// concurrent use; writes (Apply) are serialised.
type Index struct {
	path     string
	idx      bleve.Index
	analyzer analysis.Analyzer
	opts     options
	gloss    Glossary
	log      *slog.Logger
	now      func() time.Time

	applyMu sync.Mutex // serialises Apply; guards tombstones
	// tombstones maps deleted ids to the sequence number of their delete,
	// for deletes above the checkpoint (older ones are covered by it).
	tombstones map[string]int64

	mu  sync.RWMutex // guards cat
	cat catalog

	vocab   *vocab
	scorers sync.Pool // *textScorer
	passing sync.Pool // *[]passed

	checkpoint atomic.Int64
	tombCount  atomic.Int64
	closed     atomic.Bool
	lastApply  atomic.Int64 // Unix nanoseconds of the last successful Apply
	loadTime   time.Duration
}

// Status describes the state of an Index.
type Status struct {
	Path       string        // index directory; "" when in memory
	DocCount   uint64        // documents in the Bleve index
	Products   int           // products in the catalogue (equals DocCount when healthy)
	Checkpoint int64         // last change-feed sequence number stored
	Tombstones int           // deletes remembered above the checkpoint
	LoadTime   time.Duration // how long restoring the catalogue took on open
	LastApply  time.Time     // when Apply last succeeded; zero if never since open
	Closed     bool
}

// Open opens the index at cfg.Path, creating it if the directory does not
// exist (or is empty), and restores the catalogue from it. It returns an
// error wrapping ErrCorrupt if an index exists there but cannot be used, and
// one of KindUnavailable if another process holds the index.
func Open(cfg Config) (*Index, error) {
	return open(cfg, defaultOptions())
}

func open(cfg Config, o options) (*Index, error) {
	const op = "indexer.Open"
	x := &Index{
		path:       cfg.Path,
		opts:       o,
		gloss:      cfg.Glossary,
		log:        cfg.Logger,
		now:        cfg.Now,
		tombstones: map[string]int64{},
	}
	x.scorers.New = func() any { return &textScorer{} }
	x.passing.New = func() any { return new([]passed) }
	if x.gloss == nil {
		x.gloss = noGlossary{}
	}
	if x.log == nil {
		x.log = slog.New(slog.DiscardHandler)
	}
	if x.now == nil {
		x.now = time.Now
	}

	fresh, err := x.openBleve()
	if err != nil {
		return nil, err
	}
	if fresh {
		if err := x.idx.SetInternal([]byte(keySchema), []byte(schemaVersion)); err != nil {
			_ = x.idx.Close()
			return nil, engine.Wrap(engine.KindInternal, op, "cannot initialise the index", err)
		}
	}
	a := x.idx.Mapping().AnalyzerNamed(o.analyzer())
	if a == nil {
		_ = x.idx.Close()
		return nil, engine.Wrap(engine.KindInternal, op, "the index cannot be used; rebuild it",
			fmt.Errorf("%w: analyzer %q missing", ErrCorrupt, o.analyzer()))
	}
	x.analyzer = a
	x.vocab = newVocab(a, x.gloss.Simplify)
	if err := x.load(); err != nil {
		_ = x.idx.Close()
		return nil, engine.Wrap(engine.KindInternal, op, "the index cannot be used; rebuild it",
			fmt.Errorf("%w: %s: %w", ErrCorrupt, cfg.Path, err))
	}
	x.log.Info("index opened", "path", cfg.Path, "products", x.cat.live(),
		"checkpoint", x.checkpoint.Load(), "load_time", x.loadTime, "fresh", fresh)
	return x, nil
}

// openBleve opens or creates the Bleve index and reports whether it is new.
func (x *Index) openBleve() (fresh bool, err error) {
	const op = "indexer.Open"
	if x.path == "" {
		m, err := newMapping(x.opts)
		if err != nil {
			return false, engine.Wrap(engine.KindInternal, op, "bad index mapping", err)
		}
		x.idx, err = bleve.NewUsing("", m, scorch.Name, scorch.Name, nil)
		if err != nil {
			return false, engine.Wrap(engine.KindInternal, op, "cannot create the in-memory index", err)
		}
		return true, nil
	}
	entries, err := os.ReadDir(x.path)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return false, engine.Wrap(engine.KindUnavailable, op, "cannot read the index directory", err)
	case len(entries) == 0:
		if err := os.Remove(x.path); err != nil {
			return false, engine.Wrap(engine.KindUnavailable, op, "cannot prepare the index directory", err)
		}
	default:
		x.idx, err = openExisting(x.path, x.opts.boltTimeout)
		if errors.Is(err, bolt.ErrTimeout) {
			return false, engine.Wrap(engine.KindUnavailable, op, "the index is in use by another process", err)
		}
		if err != nil {
			return false, engine.Wrap(engine.KindInternal, op, "the index cannot be opened; rebuild it",
				fmt.Errorf("%w: %s: %w", ErrCorrupt, x.path, err))
		}
		return false, nil
	}
	if err := os.MkdirAll(filepath.Dir(x.path), 0o755); err != nil {
		return false, engine.Wrap(engine.KindUnavailable, op, "cannot create the index directory", err)
	}
	m, err := newMapping(x.opts)
	if err != nil {
		return false, engine.Wrap(engine.KindInternal, op, "bad index mapping", err)
	}
	x.idx, err = bleve.NewUsing(x.path, m, scorch.Name, scorch.Name,
		map[string]any{"bolt_timeout": x.opts.boltTimeout.String()})
	if err != nil {
		return false, engine.Wrap(engine.KindUnavailable, op, "cannot create the index", err)
	}
	return true, nil
}

// openExisting opens the Bleve index at path. Damaged segment files can make
// Bleve panic while it loads them; the panic is returned as an error (the
// damaged index may keep a file handle until the process exits).
func openExisting(path string, boltTimeout time.Duration) (idx bleve.Index, err error) {
	defer func() {
		if r := recover(); r != nil {
			idx, err = nil, fmt.Errorf("panic while opening: %v", r)
		}
	}()
	return bleve.OpenUsing(path, map[string]any{"bolt_timeout": boltTimeout.String()})
}

// load checks the schema, reads the checkpoint and tombstones and restores
// the catalogue from the stored records.
func (x *Index) load() (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic while loading: %v", r)
		}
	}()
	start := time.Now()
	r, err := x.idx.Advanced()
	if err != nil {
		return err
	}
	rd, err := r.Reader()
	if err != nil {
		return err
	}
	defer func() { _ = rd.Close() }()

	if err := verifySegments(rd); err != nil {
		return err
	}
	schema, err := rd.GetInternal([]byte(keySchema))
	if err != nil {
		return err
	}
	if string(schema) != schemaVersion {
		return fmt.Errorf("schema %q, want %q", schema, schemaVersion)
	}
	cp, err := rd.GetInternal([]byte(keyCheckpoint))
	if err != nil {
		return err
	}
	switch len(cp) {
	case 0:
	case 8:
		x.checkpoint.Store(int64(binary.BigEndian.Uint64(cp)))
	default:
		return fmt.Errorf("bad checkpoint value (%d bytes)", len(cp))
	}
	tomb, err := rd.GetInternal([]byte(keyTombstones))
	if err != nil {
		return err
	}
	if len(tomb) > 0 {
		if err := json.Unmarshal(tomb, &x.tombstones); err != nil {
			return fmt.Errorf("tombstones: %w", err)
		}
	}
	x.tombCount.Store(int64(len(x.tombstones)))

	// A clean Close left the catalogue in a snapshot: use it if it
	// describes exactly this index.
	if n, err := rd.DocCount(); err == nil && x.path != "" {
		if ok, err := x.loadSnapshot(n); ok {
			x.loadTime = time.Since(start)
			return nil
		} else if err != nil {
			x.log.Warn("catalogue snapshot not used; reading the stored records", "err", err)
		}
	}

	ids, err := rd.DocIDReaderAll()
	if err != nil {
		return err
	}
	defer func() { _ = ids.Close() }()

	// This goroutine reads the stored records in bounded batches, one
	// worker per core decodes and analyses them, and one goroutine adds
	// them to the catalogue (docnums in the order added): the records of a
	// large index never sit in memory all at once.
	type doc struct {
		id   string
		src  []byte
		p    *engine.Product
		seq  int64
		text docText
		err  error
	}
	const batchSize = 256
	workers := runtime.GOMAXPROCS(0)
	todo := make(chan []doc, 2*workers)
	done := make(chan []doc, 2*workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for b := range todo {
				for i := range b {
					var rec record
					if err := json.Unmarshal(b[i].src, &rec); err != nil {
						b[i].err = fmt.Errorf("document %q: %w", b[i].id, err)
						continue
					}
					p := rec.Product.product()
					p.ID = b[i].id
					b[i].p, b[i].seq, b[i].src = p, rec.Seq, nil
					b[i].text = x.vocab.analyse(p)
				}
				done <- b
			}
		})
	}
	var addErr error
	added := make(chan struct{})
	go func() {
		defer close(added)
		for b := range done {
			for i := range b {
				if b[i].err != nil {
					addErr = cmp.Or(addErr, b[i].err)
					continue
				}
				x.cat.put(x.vocab, b[i].p, b[i].seq, b[i].text)
			}
		}
	}()
	readErr := func() error {
		defer func() {
			close(todo)
			wg.Wait()
			close(done)
			<-added
		}()
		cur := make([]doc, 0, batchSize)
		for {
			iid, err := ids.Next()
			if err != nil {
				return err
			}
			if iid == nil {
				break
			}
			id, err := rd.ExternalID(iid)
			if err != nil {
				return err
			}
			d, err := rd.Document(id)
			if err != nil {
				return fmt.Errorf("document %q: %w", id, err)
			}
			var src []byte
			if d != nil {
				d.VisitFields(func(f index.Field) {
					if f.Name() == fSource {
						src = f.Value() // a copy, owned by us
					}
				})
			}
			if src == nil {
				return fmt.Errorf("document %q has no stored record", id)
			}
			cur = append(cur, doc{id: id, src: src})
			if len(cur) == batchSize {
				todo <- cur
				cur = make([]doc, 0, batchSize)
			}
		}
		if len(cur) > 0 {
			todo <- cur
		}
		return nil
	}()
	if err := cmp.Or(readErr, addErr); err != nil {
		return err
	}
	x.loadTime = time.Since(start)
	return nil
}

// Close closes the index. Later calls on it return errors of KindUnavailable.
func (x *Index) Close() error {
	if x.closed.Swap(true) {
		return nil
	}
	x.applyMu.Lock()
	defer x.applyMu.Unlock()
	if x.path != "" {
		if err := x.saveSnapshot(); err != nil {
			x.log.Warn("catalogue snapshot not written; the next start reads the stored records", "err", err)
		}
	}
	if err := x.idx.Close(); err != nil {
		return engine.Wrap(engine.KindInternal, "indexer.Close", "cannot close the index", err)
	}
	return nil
}

// Checkpoint returns the last change-feed checkpoint stored in the index
// (0 for a new index). It never goes backwards while the index is open.
func (x *Index) Checkpoint() int64 { return x.checkpoint.Load() }

// DocCount returns the number of documents in the Bleve index. It returns
// an error of KindUnavailable if the index is closed.
func (x *Index) DocCount() (uint64, error) {
	const op = "indexer.DocCount"
	if x.closed.Load() {
		return 0, errClosed(op)
	}
	n, err := x.idx.DocCount()
	if err != nil {
		return 0, x.bleveErr(op, "cannot count documents", err)
	}
	return n, nil
}

// Product returns the product with the given id as last indexed, read from
// its stored record (a fresh copy on each call), and whether the catalogue
// has it.
func (x *Index) Product(id string) (*engine.Product, bool) {
	if x.closed.Load() {
		return nil, false
	}
	x.mu.RLock()
	_, ok := x.cat.byID[id]
	x.mu.RUnlock()
	if !ok {
		return nil, false
	}
	d, err := x.idx.Document(id)
	if err != nil || d == nil {
		return nil, false
	}
	var src []byte
	d.VisitFields(func(f index.Field) {
		if f.Name() == fSource {
			src = f.Value()
		}
	})
	return x.hitProduct(id, string(src))
}

// Products reads the full records of ids as Product does, on every core;
// the result is parallel to ids, nil where Product finds nothing.
func (x *Index) Products(ids []string) []*engine.Product {
	out := make([]*engine.Product, len(ids))
	_ = spread(len(ids), 1, func(i int) error {
		out[i], _ = x.Product(ids[i])
		return nil
	})
	return out
}

// Status reports document counts, the checkpoint and load statistics.
func (x *Index) Status() Status {
	s := Status{
		Path:       x.path,
		Checkpoint: x.checkpoint.Load(),
		LoadTime:   x.loadTime,
		Closed:     x.closed.Load(),
	}
	if !s.Closed {
		s.DocCount, _ = x.idx.DocCount()
	}
	if t := x.lastApply.Load(); t != 0 {
		s.LastApply = time.Unix(0, t)
	}
	x.mu.RLock()
	s.Products = x.cat.live()
	x.mu.RUnlock()
	s.Tombstones = int(x.tombCount.Load())
	return s
}

func errClosed(op string) error {
	return engine.Errorf(engine.KindUnavailable, op, "the index is closed")
}

// bleveErr classifies an error from Bleve.
func (x *Index) bleveErr(op, msg string, err error) error {
	if errors.Is(err, bleve.ErrorIndexClosed) || x.closed.Load() {
		return engine.Wrap(engine.KindUnavailable, op, "the index is closed", err)
	}
	if e := ctxErr(op, err); e != nil {
		return e
	}
	return engine.Wrap(engine.KindInternal, op, msg, err)
}

// ctxErr classifies an error caused by the caller's context: a query that
// ran out of its time bound or a caller that went away is KindUnavailable
// (the caller may retry or narrow the query), never an internal failure. It
// returns nil for any other error.
func ctxErr(op string, err error) error {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return engine.Wrap(engine.KindUnavailable, op, "the query took longer than allowed; narrow it or try again", err)
	case errors.Is(err, context.Canceled):
		return engine.Wrap(engine.KindUnavailable, op, "the request was cancelled", err)
	}
	return nil
}

// noGlossary folds nothing and expands nothing.
type noGlossary struct{}

func (noGlossary) Simplify(s string) string     { return s }
func (noGlossary) Expand(string) []string       { return nil }
func (noGlossary) LongestPhrase(w []string) int { return min(len(w), 1) }

// verifySegments checks every persisted segment of the snapshot against the
// CRC-32 its writer stored in the footer (computed over everything before
// it). Bleve maps segments without checking them, so damage inside term or
// posting data would otherwise go unnoticed and make searches silently miss
// documents.
func verifySegments(rd index.IndexReader) error {
	snap, ok := rd.(*scorch.IndexSnapshot)
	if !ok {
		return nil
	}
	type persisted interface {
		Path() string
		CRC() uint32
	}
	for _, ss := range snap.Segments() {
		seg, ok := ss.Segment().(persisted)
		if !ok {
			continue // in memory, nothing on disk to check
		}
		if err := checkCRC(seg.Path(), seg.CRC()); err != nil {
			return err
		}
	}
	return nil
}

// checkCRC reports whether the CRC-32 (IEEE) of the file at path, footer CRC
// excluded, equals want.
func checkCRC(path string, want uint32) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("segment %s: %w", filepath.Base(path), err)
	}
	defer func() { _ = f.Close() }()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("segment %s: %w", filepath.Base(path), err)
	}
	if fi.Size() < 4 {
		return fmt.Errorf("segment %s: %d bytes, too short", filepath.Base(path), fi.Size())
	}
	h := crc32.NewIEEE()
	if _, err := io.Copy(h, io.LimitReader(f, fi.Size()-4)); err != nil {
		return fmt.Errorf("segment %s: %w", filepath.Base(path), err)
	}
	if got := h.Sum32(); got != want {
		return fmt.Errorf("segment %s: checksum %08x, footer says %08x", filepath.Base(path), got, want)
	}
	return nil
}
