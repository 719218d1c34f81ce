package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/livematch/livematch/api"
	"github.com/livematch/livematch/engine"
	"github.com/livematch/livematch/fixtures"
	"github.com/livematch/livematch/indexer"
	"github.com/livematch/livematch/store"
	"github.com/livematch/livematch/web"
)

var errHelp = errors.New("help requested")

// Config is matchd's configuration, from flags with environment fallbacks.
type Config struct {
	Addr           string
	DataDir        string
	MongoURI       string
	EmbeddedAddr   string
	Database       string
	AdminKey       string
	Demo           bool
	ReviewRequired bool
	ReliefExtra    []string
	LogLevel       slog.Level
	LogFormat      string
	RateLimit      float64
	QueryTimeout   time.Duration
	// OrphanGrace is the age at which a stock booking whose reservation was
	// never stored (a crash in between) is released.
	OrphanGrace time.Duration
	MaxQueries  int
	PprofAddr   string

	// import
	ImportOrg  string
	ImportFile string
	// seed: 0 loads the demo catalogue, more generates that many products
	SeedProducts int
}

// Main wires matchd's parts together. Tests run it on 127.0.0.1:0.
type Main struct {
	Config  Config
	Command string
	Stdout  io.Writer
	Stderr  io.Writer

	log      *slog.Logger
	lock     *os.File
	embedded *store.Embedded
	store    *store.Store
	regions  *fixtures.Regions
	gloss    *fixtures.Glossary
	index    *indexer.Index
	hosts    *indexer.HostIndex
	follower *indexer.Follower
	api      *api.Server
	console  *web.Server
	http     *http.Server
	pprof    *http.Server // --pprof-addr; nil when off
	ln       net.Listener

	ready    atomic.Bool
	cancel   context.CancelFunc // stops bootstrap and follower
	bg       sync.WaitGroup
	closeMu  sync.Mutex
	closed   bool
	adminKey string // generated on first start, printed once
}

// NewMain returns a Main writing to the process's stdout and stderr.
func NewMain() *Main {
	return &Main{Stdout: os.Stdout, Stderr: os.Stderr}
}

func envOr(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

func envBool(name string, def bool) bool {
	if v, ok := os.LookupEnv(name); ok {
		if b, err := strconv.ParseBool(v); err == nil {
			return b
		}
	}
	return def
}

// ParseFlags reads the subcommand and flags.
func (m *Main) ParseFlags(args []string) error {
	m.Command = "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		m.Command, args = args[0], args[1:]
	}
	switch m.Command {
	case "serve", "import", "reindex", "seed", "healthcheck":
	default:
		return fmt.Errorf("unknown command %q (want serve, import, reindex, seed or healthcheck)", m.Command)
	}
	fs := flag.NewFlagSet("matchd "+m.Command, flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	c := &m.Config
	fs.StringVar(&c.Addr, "addr", envOr("MATCHD_ADDR", "127.0.0.1:8080"), "HTTP listen address (env MATCHD_ADDR)")
	fs.StringVar(&c.DataDir, "data", envOr("MATCHD_DATA_DIR", "./data"), "directory of the embedded database and the index (env MATCHD_DATA_DIR)")
	fs.StringVar(&c.MongoURI, "mongodb-uri", envOr("MONGODB_URI", ""), "MongoDB URI; empty starts an embedded FerretDB (env MONGODB_URI)")
	fs.StringVar(&c.EmbeddedAddr, "embedded-addr", envOr("MATCHD_EMBEDDED_ADDR", "127.0.0.1:0"), "address of the embedded FerretDB's MongoDB wire listener, e.g. for mongosh (env MATCHD_EMBEDDED_ADDR)")
	fs.StringVar(&c.Database, "db-name", envOr("MATCHD_DB_NAME", "livematch"), "database name (env MATCHD_DB_NAME)")
	fs.StringVar(&c.AdminKey, "admin-key", envOr("MATCHD_ADMIN_KEY", ""), "admin API key; empty generates one on first start and prints it once (env MATCHD_ADMIN_KEY)")
	fs.BoolVar(&c.Demo, "demo", envBool("MATCHD_DEMO", true), "load the demo catalogue into an empty database (env MATCHD_DEMO)")
	fs.BoolVar(&c.ReviewRequired, "review-required", envBool("MATCHD_REVIEW_REQUIRED", false), "new and changed products wait for admin review (env MATCHD_REVIEW_REQUIRED)")
	relief := fs.String("relief-extra", envOr("MATCHD_RELIEF_EXTRA", ""), "comma-separated region codes of paired-assistance regions that also count as poverty relief (env MATCHD_RELIEF_EXTRA)")
	level := fs.String("log-level", envOr("MATCHD_LOG_LEVEL", "info"), "log level: debug, info, warn, error (env MATCHD_LOG_LEVEL)")
	fs.StringVar(&c.LogFormat, "log-format", envOr("MATCHD_LOG_FORMAT", "text"), "log format: text or json (env MATCHD_LOG_FORMAT)")
	rl := fs.String("rate-limit", envOr("MATCHD_RATE_LIMIT", "100"), "requests per second per API key; negative disables (env MATCHD_RATE_LIMIT)")
	fs.StringVar(&c.PprofAddr, "pprof-addr", envOr("MATCHD_PPROF_ADDR", ""), "serve Go's pprof profiles on this address, e.g. 127.0.0.1:6060; empty: off (env MATCHD_PPROF_ADDR)")
	qt := fs.String("query-timeout", envOr("MATCHD_QUERY_TIMEOUT", "5s"), "time bound of one search or match; longer ones answer 503 (env MATCHD_QUERY_TIMEOUT)")
	og := fs.String("orphan-grace", envOr("MATCHD_ORPHAN_GRACE", "15s"), "age at which a stock booking whose reservation was never stored (a crash in between) is released; the first check runs this long after the start (env MATCHD_ORPHAN_GRACE)")
	mq := fs.String("max-queries", envOr("MATCHD_MAX_QUERIES", "0"), "searches and matches run at once; others wait their turn within --query-timeout; 0: one per core (env MATCHD_MAX_QUERIES)")
	if m.Command == "import" {
		fs.StringVar(&c.ImportOrg, "org", "", "id of the org that owns the imported products (required)")
	}
	if m.Command == "seed" {
		fs.IntVar(&c.SeedProducts, "products", 0, "generate this many products (with orgs in proportion) instead of the demo catalogue")
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelp
		}
		return err
	}
	if err := c.LogLevel.UnmarshalText([]byte(*level)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return fmt.Errorf("--log-format must be text or json")
	}
	var err error
	if c.RateLimit, err = strconv.ParseFloat(*rl, 64); err != nil {
		return fmt.Errorf("--rate-limit: %w", err)
	}
	if c.OrphanGrace, err = time.ParseDuration(*og); err != nil || c.OrphanGrace <= 0 {
		return fmt.Errorf("--orphan-grace must be a positive duration such as 15s")
	}
	if c.QueryTimeout, err = time.ParseDuration(*qt); err != nil || c.QueryTimeout <= 0 {
		return fmt.Errorf("--query-timeout must be a positive duration such as 5s")
	}
	if c.MaxQueries, err = strconv.Atoi(*mq); err != nil || c.MaxQueries < 0 {
		return fmt.Errorf("--max-queries must be a whole number, 0 for one per core")
	}
	for _, code := range strings.Split(*relief, ",") {
		if code = strings.TrimSpace(code); code != "" {
			c.ReliefExtra = append(c.ReliefExtra, code)
		}
	}
	switch {
	case m.Command == "import" && (c.ImportOrg == "" || fs.NArg() != 1):
		return fmt.Errorf("usage: matchd import --org ORG_ID FILE.ndjson")
	case m.Command == "import":
		c.ImportFile = fs.Arg(0)
	case fs.NArg() > 0:
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	return nil
}

// Run starts the command. For serve it returns once the HTTP server is
// listening; the database, demo data and index come up in the background
// (/readyz tells when), retrying while the database is unreachable.
func (m *Main) Run(ctx context.Context) error {
	m.log = slog.New(m.logHandler(m.Config.LogLevel))
	if m.Command == "healthcheck" {
		return m.runHealthcheck(ctx)
	}
	if err := m.openCommon(ctx); err != nil {
		return err
	}
	switch m.Command {
	case "import":
		return m.runImport(ctx)
	case "reindex":
		return m.runReindex(ctx)
	case "seed":
		return m.runSeed(ctx)
	default:
		return m.runServe(ctx)
	}
}

// logHandler returns a handler in the configured format at the given level.
func (m *Main) logHandler(level slog.Level) slog.Handler {
	opts := &slog.HandlerOptions{Level: level}
	if m.Config.LogFormat == "json" {
		return slog.NewJSONHandler(m.Stderr, opts)
	}
	return slog.NewTextHandler(m.Stderr, opts)
}

// openCommon takes the data directory lock, loads reference data and opens
// the database (starting the embedded one if no URI is set).
func (m *Main) openCommon(ctx context.Context) error {
	c := &m.Config
	if err := os.MkdirAll(c.DataDir, 0o750); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	lock, err := os.OpenFile(filepath.Join(c.DataDir, "LOCK"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = lock.Close()
		return fmt.Errorf("another matchd is using %s (stop it first, or use POST /v1/products:bulk on the running server)", c.DataDir)
	}
	m.lock = lock
	if m.regions, err = fixtures.LoadRegions(c.ReliefExtra); err != nil {
		return fmt.Errorf("--relief-extra: %w", err)
	}
	uri := c.MongoURI
	if uri == "" {
		// FerretDB logs every connection and failed command; keep only its
		// errors unless debugging.
		flevel := max(c.LogLevel, slog.LevelError)
		if c.LogLevel <= slog.LevelDebug {
			flevel = slog.LevelDebug
		}
		flog := slog.New(m.logHandler(flevel))
		m.embedded, err = store.StartEmbedded(ctx, filepath.Join(c.DataDir, "db"), c.EmbeddedAddr, flog.With("component", "ferretdb").WithGroup("ferretdb"))
		if err != nil {
			return err
		}
		uri = m.embedded.URI()
		m.log.Info("embedded FerretDB started", "dir", filepath.Join(c.DataDir, "db"), "uri", uri)
	}
	m.store, err = store.Open(ctx, uri, store.Options{Database: c.Database, Logger: m.log, Embedded: m.embedded})
	return err
}

// waitInit initialises the store, retrying while the database is unreachable.
func (m *Main) waitInit(ctx context.Context) error {
	for attempt := 0; ; attempt++ {
		err := m.store.Init(ctx)
		if err == nil || !engine.IsKind(err, engine.KindUnavailable) {
			return err
		}
		if attempt == 0 || attempt%10 == 0 {
			m.log.Warn("database unreachable; retrying", "err", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

func (m *Main) indexPath() string { return filepath.Join(m.Config.DataDir, "index") }

// openIndex opens the index; a corrupt one is moved aside and a fresh one
// created (the follower's catch-up then rebuilds it from the database).
func (m *Main) openIndex() error {
	cfg := indexer.Config{Path: m.indexPath(), Glossary: m.gloss, Logger: m.log.With("component", "indexer")}
	idx, err := indexer.Open(cfg)
	if errors.Is(err, indexer.ErrCorrupt) {
		aside := fmt.Sprintf("%s.corrupt-%d", m.indexPath(), time.Now().UnixNano())
		m.log.Error("the index is corrupt; moving it aside and rebuilding", "err", err, "moved_to", aside)
		if rerr := os.Rename(m.indexPath(), aside); rerr != nil {
			return fmt.Errorf("moving the corrupt index aside: %w", rerr)
		}
		idx, err = indexer.Open(cfg)
	}
	if err != nil {
		return err
	}
	m.index = idx
	// Restoring the catalogue allocated and dropped a lot (decoded stored
	// records or snapshot chunks): give that back to the OS now rather than
	// over the next minutes.
	debug.FreeOSMemory()
	return nil
}

func (m *Main) runServe(ctx context.Context) error {
	var err error
	if m.gloss, err = fixtures.LoadGlossary(); err != nil {
		return err
	}
	if err := m.openIndex(); err != nil {
		return err
	}
	m.follower = indexer.NewFollower(m.index, m.store, m.log.With("component", "follower"))
	if m.hosts, err = indexer.NewHostIndex(m.gloss); err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	m.api = api.New(api.Config{
		Store: m.store, Index: m.index, Hosts: m.hosts, Regions: m.regions, Geo: m.regions, Logger: m.log.With("component", "api"),
		Registry: reg, ReviewRequired: m.Config.ReviewRequired, RateLimit: m.Config.RateLimit,
		QueryTimeout: m.Config.QueryTimeout, MaxQueries: m.Config.MaxQueries, Started: m.ready.Load,
		IndexStatus: func(ctx context.Context) (api.IndexStatus, error) {
			st, err := m.follower.Status(ctx)
			return api.IndexStatus{Documents: st.Documents, AppliedSeq: st.AppliedSeq, HeadSeq: st.HeadSeq, Lag: st.Lag, Ready: st.CaughtUp}, err
		},
	})
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "livematch_index_checkpoint", Help: "Last change-feed seq stored in the index."},
		func() float64 { return float64(m.index.Checkpoint()) }))
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "livematch_index_pending_changes", Help: "Published changes waiting to be indexed."},
		func() float64 {
			if f := m.store.Feed(); f != nil {
				return float64(f.Pending())
			}
			return 0
		}))

	m.console, err = web.New(web.Config{API: m.api.Handler(), Auth: m.api, Sessions: m.store, Regions: m.regions,
		Logger: m.log.With("component", "console")})
	if err != nil {
		return fmt.Errorf("console: %w", err)
	}

	m.ln, err = net.Listen("tcp", m.Config.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	m.http = &http.Server{
		Handler:           rootHandler(m.api.Handler(), m.console.Handler()),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(m.log.Handler(), slog.LevelWarn),
	}
	m.bg.Add(1)
	go func() {
		defer m.bg.Done()
		if err := m.http.Serve(m.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.log.Error("http server failed", "err", err)
		}
	}()
	m.log.Info("listening", "addr", "http://"+m.Addr())
	if c := m.Config.PprofAddr; c != "" {
		if err := m.servePprof(c); err != nil {
			return err
		}
	}

	bctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	m.cancel = cancel
	m.bg.Add(1)
	go func() {
		defer m.bg.Done()
		m.bootstrap(bctx)
	}()
	return nil
}

// rootHandler sends / and /console/ to the web console and everything
// else to the JSON API.
func rootHandler(apiH, consoleH http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := r.URL.Path; p == "/" || p == "/console" || strings.HasPrefix(p, "/console/") {
			consoleH.ServeHTTP(w, r)
			return
		}
		apiH.ServeHTTP(w, r)
	})
}

// bootstrap brings the database, admin key, demo data and index up, then
// follows the change feed until ctx ends.
func (m *Main) bootstrap(ctx context.Context) {
	for {
		err := m.bootstrapOnce(ctx)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return
		}
		m.log.Error("start-up failed; retrying", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(2 * time.Second):
		}
	}
	m.ready.Store(true)
	m.printBanner()
	m.bg.Add(1)
	go func() {
		defer m.bg.Done()
		m.refreshOrgs(ctx)
	}()
	m.bg.Add(1)
	go func() {
		defer m.bg.Done()
		m.heartbeat(ctx)
	}()
	m.bg.Add(1)
	go func() { // expire due holds, repair what a crash left (docs/deals.md)
		defer m.bg.Done()
		m.store.RunDeals(ctx, store.DealTimers{OrphanGrace: m.Config.OrphanGrace})
	}()
	if err := m.follower.Run(ctx); err != nil {
		m.log.Error("index follower stopped", "err", err)
	}
}

func (m *Main) bootstrapOnce(ctx context.Context) error {
	if err := m.waitInit(ctx); err != nil {
		return err
	}
	_, key, err := api.EnsureAdmin(ctx, m.store, m.regions, m.Config.AdminKey)
	if err != nil {
		return fmt.Errorf("admin: %w", err)
	}
	if key != "" {
		m.adminKey = key
	}
	if m.Config.Demo {
		if err := m.seedIfEmpty(ctx); err != nil {
			return fmt.Errorf("demo data: %w", err)
		}
	}
	start := time.Now()
	if err := m.follower.CatchUp(ctx, nil); err != nil {
		return fmt.Errorf("index catch-up: %w", err)
	}
	// Matching reads suppliers from memory: load the org directory.
	if err := m.api.RefreshOrgs(ctx); err != nil {
		return fmt.Errorf("loading orgs: %w", err)
	}
	// The host catalogue is small and kept in memory: fill it from a sweep.
	if err := m.store.ScanHosts(ctx, m.hosts.Put); err != nil {
		return fmt.Errorf("loading hosts: %w", err)
	}
	m.log.Info("index ready", "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// refreshOrgs reloads the org directory every 30 s until ctx ends, so that
// org changes made through other replicas reach matching.
func (m *Main) refreshOrgs(ctx context.Context) {
	every(ctx, 30*time.Second, func() {
		if err := m.api.RefreshOrgs(ctx); err != nil && ctx.Err() == nil {
			m.log.Warn("refreshing the org directory failed", "err", err)
		}
	})
}

// servePprof serves net/http/pprof's handlers on addr (operators profile a
// live server with go tool pprof http://addr/debug/pprof/heap).
func (m *Main) servePprof(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("--pprof-addr: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	m.pprof = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	m.bg.Add(1)
	go func() {
		defer m.bg.Done()
		if err := m.pprof.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.log.Error("pprof server failed", "err", err)
		}
	}()
	m.log.Info("pprof listening", "addr", "http://"+ln.Addr().String()+"/debug/pprof/")
	return nil
}

// heartbeat pings the database every half second until ctx ends and tells
// the API whether it answers (trusted API keys are used only while it does).
func (m *Main) heartbeat(ctx context.Context) {
	every(ctx, 500*time.Millisecond, func() {
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		err := m.store.Ping(pctx)
		cancel()
		if ctx.Err() == nil {
			m.api.SetDatabaseUp(err == nil)
		}
	})
}

// every calls fn every d until ctx ends.
func every(ctx context.Context, d time.Duration, fn func()) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fn()
		}
	}
}

func (m *Main) printBanner() {
	w := m.Stdout
	fmt.Fprintf(w, "\nlivematch is ready on http://%s\n", m.Addr())
	switch {
	case m.adminKey != "":
		fmt.Fprintf(w, "  admin API key (shown only this once; keep it): %s\n", m.adminKey)
	case m.Config.AdminKey != "":
		fmt.Fprintf(w, "  admin API key: the one in MATCHD_ADMIN_KEY / --admin-key\n")
	default:
		fmt.Fprintf(w, "  admin API key: printed at the first start (lost it? restart with MATCHD_ADMIN_KEY=<new key>)\n")
	}
	if _, err := os.Stat(m.demoKeysPath()); err == nil {
		fmt.Fprintf(w, "  demo org keys: %s\n", m.demoKeysPath())
	}
	key := "$KEY"
	if m.adminKey != "" {
		key = m.adminKey
	}
	fmt.Fprintf(w, "  try: curl -H 'Authorization: Bearer %s' 'http://%s/v1/products?q=kiwi'\n", key, m.Addr())
	fmt.Fprintf(w, "  API description: http://%s/openapi.json   health: /healthz /readyz   metrics: /metrics\n\n", m.Addr())
}

// Addr returns the address the server listens on (useful with port 0).
func (m *Main) Addr() string {
	if m.ln == nil {
		return m.Config.Addr
	}
	return m.ln.Addr().String()
}

// Ready reports whether start-up has finished.
func (m *Main) Ready() bool { return m.ready.Load() }

// Close shuts down gracefully: in-flight requests finish, the follower
// applies what is pending, then the index, database and lock are released.
func (m *Main) Close() error {
	m.closeMu.Lock()
	defer m.closeMu.Unlock()
	if m.closed {
		return nil
	}
	m.closed = true
	var errs []error
	if m.pprof != nil {
		_ = m.pprof.Close()
	}
	if m.http != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		if err := m.http.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("http shutdown: %w", err))
		}
		if m.console != nil {
			if err := m.console.Close(ctx); err != nil {
				errs = append(errs, err)
			}
		}
		cancel()
	}
	if m.cancel != nil {
		m.cancel()
	}
	m.bg.Wait()
	if m.index != nil {
		if err := m.index.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	if m.store != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = m.store.Close(ctx)
		cancel()
	}
	if m.embedded != nil {
		if err := m.embedded.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	if m.lock != nil {
		_ = syscall.Flock(int(m.lock.Fd()), syscall.LOCK_UN)
		_ = m.lock.Close()
	}
	return errors.Join(errs...)
}
