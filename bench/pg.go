package main

// The PostgreSQL 15 baseline: a throwaway server in a temporary directory, a
// products table loaded with COPY, and livematch's gates and weighted score
// computed in one parameterised SQL statement per demand profile.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/livematch/livematch/engine"
)

// errPGUnsupported is returned by pgServer.Match for a profile the SQL
// baseline cannot score like livematch: audience regions with a logistics
// weight above 0 (livematch scores them by province-capital distances, which
// the baseline does not model). Callers set the logistics weight to 0 for
// such profiles.
var errPGUnsupported = errors.New("postgres baseline: audience regions need logistics weight 0 (distances are not modelled in SQL)")

// pgRow is one product as the PostgreSQL baseline stores it.
type pgRow struct {
	ID            string // livematch product id, used as the primary key; ties are broken by ID ascending
	Title         string // TitleZh + " " + TitleEn + " " + strings.Join(Tags, " ")
	Category      string
	Price         float64 // list price, CNY
	LivePrice     float64 // 0 = none
	Commission    float64 // 0..1
	Stock         int64
	LeadTimeDays  int
	Months        []int // available months 1..12; empty = all year
	Certs         []pgCert
	Approved      bool   // product review status approved
	SupplierOK    bool   // supplier org known and active
	PovertyRelief bool   // supplier is a poverty-relief supplier
	Grade         string // "A", "B", "C" or "" (ungraded counts as B)
	// Perishable is a shelf life of 1..15 days without cold chain: livematch
	// halves the logistics factor of such products (0.35 instead of the
	// neutral 0.7). Leave it false only when the logistics weight is 0.
	Perishable bool
}

// pgCert is one certificate of a pgRow.
type pgCert struct {
	Type      string
	ExpiresAt time.Time // zero = never expires; valid at t iff zero or ExpiresAt.After(t)
}

// pgHit is one match answered by PostgreSQL: the product id and its score.
type pgHit struct {
	ID    string
	Score float64
}

// newPGRow converts a product and its owning org (nil = unknown) to the row
// the baseline stores, deriving the fields exactly as engine.Gate and
// engine.Score read them.
func newPGRow(pr *engine.Product, supplier *engine.Org) pgRow {
	r := pgRow{
		ID:           pr.ID,
		Title:        pr.TitleZh + " " + pr.TitleEn + " " + strings.Join(pr.Tags, " "),
		Category:     pr.Category,
		Price:        pr.PriceCNY,
		LivePrice:    pr.LivePriceCNY,
		Commission:   pr.CommissionRate,
		Stock:        pr.Stock,
		LeadTimeDays: pr.LeadTimeDays,
		Months:       slices.Clone(pr.AvailableMonths),
		Approved:     pr.ReviewStatus == engine.ReviewApproved,
		Perishable:   pr.ShelfLifeDays >= 1 && pr.ShelfLifeDays <= 15 && !pr.ColdChain,
		Grade:        "?", // unknown supplier: grade factor 0 (and the supplier gate fails)
	}
	for _, c := range pr.Certifications {
		r.Certs = append(r.Certs, pgCert{Type: c.Type, ExpiresAt: c.ExpiresAt})
	}
	if s := supplier; s != nil {
		r.SupplierOK = s.Status == engine.OrgApproved && (s.ID == "" || pr.OrgID == "" || s.ID == pr.OrgID)
		r.PovertyRelief = s.PovertyRelief
		r.Grade = string(s.Grade)
	}
	return r
}

// pgServer is a PostgreSQL 15 server that the benchmark runs on loopback in a temporary directory.
type pgServer struct {
	pool     *pgxpool.Pool
	binDir   string   // directory of initdb, pg_ctl and postgres
	dataDir  string   // the cluster, inside the caller's dir
	wrap     []string // command prefix that runs a program as the postgres user (empty when not root)
	port     int
	version  string // server_version
	logf     func(format string, args ...any)
	certs    []string // certificate type codes of engine.CertTypes(), one cu_<code> column each
	matchSQL string   // pgMatchSQL for certs
	running  bool     // pg_ctl start succeeded and stop has not run yet
}

// Tuning of the benchmark server (2 cores, 24 GiB of memory). fsync stays on;
// synchronous_commit is off (a crash may lose the last commits, never
// corrupts), wal_level minimal lets CREATE INDEX skip WAL, jit is off because
// it only adds compile time to short queries, and every execution of a
// prepared statement is planned for its parameters (force_custom_plan) so
// that the optional conditions of the match query fold away and the
// planner sees the actual category, price band and tsquery.
const pgTuning = `
listen_addresses = '127.0.0.1'
max_connections = 40
shared_buffers = 1GB
effective_cache_size = 16GB
work_mem = 64MB
maintenance_work_mem = 1GB
max_wal_size = 16GB
min_wal_size = 1GB
checkpoint_timeout = 30min
wal_level = minimal
max_wal_senders = 0
synchronous_commit = off
jit = off
random_page_cost = 1.1
effective_io_concurrency = 200
max_parallel_workers = 2
max_parallel_workers_per_gather = 2
max_parallel_maintenance_workers = 1
plan_cache_mode = force_custom_plan
logging_collector = off
log_min_messages = warning
`

// pgTuningSummary is pgTuning in one line, for the report.
const pgTuningSummary = "shared_buffers=1GB work_mem=64MB maintenance_work_mem=1GB effective_cache_size=16GB " +
	"max_wal_size=16GB wal_level=minimal fsync=on synchronous_commit=off jit=off random_page_cost=1.1 " +
	"max_parallel_workers=2 plan_cache_mode=force_custom_plan; pool 16 conns; loopback TCP"

// pgPoolSize is the number of pooled connections: one per concurrent client.
const pgPoolSize = 16

// pgCopyChunk is the number of rows per COPY; pgCopyConns COPYs run at once
// (the machine has 2 cores).
const (
	pgCopyChunk = 10_000
	pgCopyConns = 2
)

// startPostgres finds (or installs) PostgreSQL 15, runs initdb in dir (a
// fresh empty dir the caller owns and removes), starts the server on
// 127.0.0.1 at a free port with its unix socket in dir, tuned as pgTuning
// says, and connects a pool of pgPoolSize connections. As root, initdb and
// postgres run as the postgres user (dir is chowned to it). logf receives
// progress lines.
func startPostgres(ctx context.Context, dir string, logf func(format string, args ...any)) (*pgServer, error) {
	if logf == nil {
		logf = func(string, ...any) {}
	}
	binDir, err := pgFindBin(ctx, logf)
	if err != nil {
		return nil, err
	}
	dir, err = filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("postgres dir: %w", err)
	}
	s := &pgServer{binDir: binDir, dataDir: filepath.Join(dir, "data"), logf: logf}
	var spyb []string
	for _, t := range engine.CertTypes() {
		if t.Code == "" || strings.Trim(t.Code, "abcdefghijklmnopqrstuvwxyz0123456789_") != "" {
			return nil, fmt.Errorf("certificate type %q cannot name a column", t.Code)
		}
		s.certs = append(s.certs, t.Code)
		if t.SanPinYiBiao {
			spyb = append(spyb, t.Code)
		}
	}
	s.matchSQL = pgMatchSQL(s.certs, spyb)
	sockDir := filepath.Join(dir, "sock")
	if err := os.Mkdir(sockDir, 0o700); err != nil {
		return nil, fmt.Errorf("postgres socket dir: %w", err)
	}
	if os.Geteuid() == 0 {
		if s.wrap, err = pgRunAsPostgres(ctx, dir, sockDir); err != nil {
			return nil, err
		}
	}

	logf("postgres: initdb in %s", s.dataDir)
	if out, err := s.command(ctx, "initdb", "-D", s.dataDir, "-U", "postgres", "-A", "trust",
		"-E", "UTF8", "--no-locale", "--no-sync").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("initdb: %w: %s", err, pgLastLines(out, 5))
	}
	conf := pgTuning
	// A unix socket path is limited to 107 bytes; the benchmark connects
	// over TCP anyway, so a dir too deep just goes without a socket.
	if len(sockDir)+len("/.s.PGSQL.65535") < 100 {
		conf += "unix_socket_directories = '" + strings.ReplaceAll(sockDir, "'", "''") + "'\n"
	} else {
		conf += "unix_socket_directories = ''\n"
	}
	f, err := os.OpenFile(filepath.Join(s.dataDir, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return nil, fmt.Errorf("postgres config: %w", err)
	}
	_, err = f.WriteString("\n# livematch benchmark\n" + conf)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("postgres config: %w", err)
	}

	logPath := filepath.Join(dir, "postgres.log")
	for attempt := 1; ; attempt++ {
		if s.port, err = pgFreePort(); err != nil {
			return nil, err
		}
		out, err := s.command(ctx, "pg_ctl", "-D", s.dataDir, "-l", logPath, "-w", "-t", "120",
			"-o", "-p "+strconv.Itoa(s.port), "start").CombinedOutput()
		if err == nil {
			break
		}
		logText, _ := os.ReadFile(logPath)
		if attempt < 3 && strings.Contains(string(logText), "could not bind") {
			logf("postgres: port %d taken, retrying", s.port)
			continue
		}
		s.running = true // pg_ctl may have given up waiting on a server that did start
		_ = s.stop()
		return nil, fmt.Errorf("pg_ctl start: %w: %s %s", err, pgLastLines(out, 3), pgLastLines(logText, 5))
	}
	s.running = true
	logf("postgres: listening on 127.0.0.1:%d", s.port)

	if err := s.connect(ctx); err != nil {
		_ = s.stop()
		return nil, err
	}
	return s, nil
}

// connect opens the pool and reads the server version.
func (s *pgServer) connect(ctx context.Context) error {
	cfg, err := pgxpool.ParseConfig(fmt.Sprintf(
		"host=127.0.0.1 port=%d user=postgres dbname=postgres sslmode=disable application_name=livematch-bench", s.port))
	if err != nil {
		return fmt.Errorf("postgres pool config: %w", err)
	}
	cfg.MaxConns = pgPoolSize
	cfg.MinConns = pgPoolSize
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("postgres pool: %w", err)
	}
	if err := pool.QueryRow(ctx, "SHOW server_version").Scan(&s.version); err != nil {
		pool.Close()
		return fmt.Errorf("postgres version: %w", err)
	}
	s.pool = pool
	return nil
}

// pgFindBin returns the directory of the PostgreSQL 15 programs: Debian's
// /usr/lib/postgresql/15/bin, else a pg_ctl on PATH whose postgres is 15,
// else it installs postgresql-15 with apt-get (via sudo -n when not root).
func pgFindBin(ctx context.Context, logf func(format string, args ...any)) (string, error) {
	const debianBin = "/usr/lib/postgresql/15/bin"
	find := func() string {
		if pgIsVersion15(ctx, debianBin) {
			return debianBin
		}
		if p, err := exec.LookPath("pg_ctl"); err == nil {
			if real, err := filepath.EvalSymlinks(p); err == nil && pgIsVersion15(ctx, filepath.Dir(real)) {
				return filepath.Dir(real)
			}
		}
		return ""
	}
	if dir := find(); dir != "" {
		return dir, nil
	}
	logf("postgres: PostgreSQL 15 not found, installing postgresql-15 with apt-get")
	var prefix []string
	if os.Geteuid() != 0 {
		prefix = []string{"sudo", "-n"}
	}
	apt := func(args ...string) error {
		argv := append(slices.Clone(prefix), "apt-get")
		argv = append(argv, args...)
		cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("%s: %w: %s", strings.Join(argv, " "), err, pgLastLines(out, 3))
		}
		return nil
	}
	err := apt("install", "-y", "postgresql-15")
	if err != nil {
		// A fresh machine may have no package lists yet.
		logf("postgres: %v; running apt-get update", err)
		if uerr := apt("update"); uerr != nil {
			return "", fmt.Errorf("install postgresql-15: %w", errors.Join(err, uerr))
		}
		if err = apt("install", "-y", "postgresql-15"); err != nil {
			return "", fmt.Errorf("install postgresql-15: %w", err)
		}
	}
	if dir := find(); dir != "" {
		return dir, nil
	}
	return "", fmt.Errorf("postgresql-15 installed but no PostgreSQL 15 programs in %s or on PATH", debianBin)
}

// pgIsVersion15 reports whether dir holds initdb, pg_ctl and a postgres
// that says it is version 15.
func pgIsVersion15(ctx context.Context, dir string) bool {
	for _, name := range []string{"initdb", "pg_ctl"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			return false
		}
	}
	out, err := exec.CommandContext(ctx, filepath.Join(dir, "postgres"), "--version").Output()
	return err == nil && strings.Contains(string(out), "(PostgreSQL) 15.")
}

// pgRunAsPostgres prepares running the server as the unprivileged postgres
// user (postgres refuses to run as root): it chowns dir and sockDir to it,
// checks that it can write there and returns the command prefix.
func pgRunAsPostgres(ctx context.Context, dir, sockDir string) ([]string, error) {
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("postgres must not run as root and there is no postgres user: %w", err)
	}
	uid, err := strconv.Atoi(u.Uid)
	if err != nil {
		return nil, fmt.Errorf("postgres uid %q: %w", u.Uid, err)
	}
	gid, err := strconv.Atoi(u.Gid)
	if err != nil {
		return nil, fmt.Errorf("postgres gid %q: %w", u.Gid, err)
	}
	for _, d := range []string{dir, sockDir} {
		if err := os.Chown(d, uid, gid); err != nil {
			return nil, fmt.Errorf("chown %s to postgres: %w", d, err)
		}
	}
	var wrap []string
	switch {
	case pgHave("runuser"):
		wrap = []string{"runuser", "-u", "postgres", "--"}
	case pgHave("setpriv"):
		wrap = []string{"setpriv", "--reuid=" + u.Uid, "--regid=" + u.Gid, "--init-groups", "--"}
	default:
		return nil, errors.New("running as root but neither runuser nor setpriv is available to drop to the postgres user")
	}
	argv := append(slices.Clone(wrap), "test", "-w", dir)
	if err := exec.CommandContext(ctx, argv[0], argv[1:]...).Run(); err != nil {
		return nil, fmt.Errorf("the postgres user cannot write %s (are its parent directories searchable by others?): %w", dir, err)
	}
	return wrap, nil
}

// pgHave reports whether a program is on PATH.
func pgHave(name string) bool {
	_, err := exec.LookPath(name)
	return err == nil
}

// pgFreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func pgFreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := l.Close(); err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	return port, nil
}

// command returns a command that runs the PostgreSQL program name as the
// postgres user when the benchmark is root.
func (s *pgServer) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	argv := append(slices.Clone(s.wrap), filepath.Join(s.binDir, name))
	argv = append(argv, args...)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	// pg_ctl leaves the server running; never wait on pipes it might hold.
	cmd.WaitDelay = 10 * time.Second
	return cmd
}

// pgLastLines returns the last n non-empty lines of out, joined by " | ".
func pgLastLines(out []byte, n int) string {
	lines := strings.FieldsFunc(strings.TrimSpace(string(out)), func(r rune) bool { return r == '\n' || r == '\r' })
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

// Settings describes version and non-default settings for the report, one short line.
func (s *pgServer) Settings() string {
	return "PostgreSQL " + s.version + "; " + pgTuningSummary
}

// Close stops the server (pg_ctl stop -m fast) and closes the pool; later
// calls do nothing. Call PeakRSS before Close.
func (s *pgServer) Close() error {
	if s.pool != nil {
		s.pool.Close()
		s.pool = nil
	}
	return s.stop()
}

// stop runs pg_ctl stop -m fast once the server was started.
func (s *pgServer) stop() error {
	if !s.running {
		return nil
	}
	s.running = false
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if out, err := s.command(ctx, "pg_ctl", "-D", s.dataDir, "-m", "fast", "-w", "stop").CombinedOutput(); err != nil {
		return fmt.Errorf("pg_ctl stop: %w: %s", err, pgLastLines(out, 3))
	}
	s.logf("postgres: stopped")
	return nil
}

// PeakRSS returns the sum of VmHWM over the postgres processes (read
// /proc/<pid>/status of the postmaster and its children) in bytes, best
// effort: 0 when it cannot tell. Shared buffers count once for every process
// that touched them, so the sum overstates the memory used; processes that
// already exited (e.g. the loading backends) are not counted.
func (s *pgServer) PeakRSS() int64 {
	pidText, err := os.ReadFile(filepath.Join(s.dataDir, "postmaster.pid"))
	if err != nil {
		return 0
	}
	first, _, _ := strings.Cut(string(pidText), "\n")
	postmaster, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil {
		return 0
	}
	total := pgVmHWM(postmaster)
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return total
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == postmaster {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces and parentheses.
		i := strings.LastIndexByte(string(stat), ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(string(stat[i+1:]))
		if len(fields) >= 2 && fields[1] == strconv.Itoa(postmaster) {
			total += pgVmHWM(pid)
		}
	}
	return total
}

// pgVmHWM returns the peak resident set size of a process in bytes (0 when unknown).
func pgVmHWM(pid int) int64 {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				return 0
			}
			return kb * 1024
		}
	}
	return 0
}

// The products table. Derived columns are filled by the client while it
// streams the COPY (so their cost counts in the COPY time):
//   - eff_price: live price when set, else list price (gates and price fit).
//   - month_mask (bit m-1 for month m) and has_months for the season gate;
//     season[m] is the seasonality factor when the as-of month is m, computed
//     with livematch's circular-run formula (pgSeason): it depends only on
//     the row and the month, so the query just picks season[@month].
//   - certificates, as times in Unix nanoseconds (pgNanos: max int64 =
//     never expires) so that "valid as of t" is exactly until > t, as
//     Certification.ValidAt, each type counted once as the engine does:
//     cu_<code> is the latest expiry of type <code> (min int64 when not
//     held), one column per type of engine.CertTypes(), and cert_until the
//     latest expiry of every distinct type held, sorted, so that the number
//     of types valid as of t is cardinality − width_bucket(t, cert_until)
//     (a binary search). Columns instead of a jsonb or parallel arrays
//     unnested per row: the preferred and required types become plain
//     column comparisons that planning folds away for the types the profile
//     does not name; the unnest + aggregate version cost ~2 µs a row, more
//     than all other factors together.
//   - tsv: the bigram tsvector, built by the client (pgTSVector) and sent in
//     binary. That is faster than COPYing the token string into a column
//     with tsv GENERATED ALWAYS AS (to_tsvector('simple', tokens)) STORED:
//     measured at 100k rows on one connection, 0.69 s against 1.8 s (no
//     text-search parser on the server, no second copy of the tokens in the
//     table). The tsvectors are identical: the lexemes are exactly those
//     to_tsvector('simple', ...) makes from the space-joined tokens (lower-case
//     letters and digits only), with positions 1, 2, ... in token order.
//
// id uses the C collation so that ties sort by byte order, as Go compares ids.
const pgSchemaTemplate = `
DROP TABLE IF EXISTS products;
CREATE TABLE products (
	id             text COLLATE "C" NOT NULL,
	title          text NOT NULL,
	category       text NOT NULL,
	price          float8 NOT NULL,
	live_price     float8 NOT NULL,
	eff_price      float8 NOT NULL,
	commission     float8 NOT NULL,
	stock          int8 NOT NULL,
	lead_days      int4 NOT NULL,
	has_months     bool NOT NULL,
	month_mask     int4 NOT NULL,
	season         float8[] NOT NULL,
	cert_until     int8[] NOT NULL,
	approved       bool NOT NULL,
	supplier_ok    bool NOT NULL,
	poverty_relief bool NOT NULL,
	perishable     bool NOT NULL,
	grade          text NOT NULL,
	tsv            tsvector NOT NULL{{CERT_COLUMNS}}
)`

// pgSchemaSQL returns the DDL of the products table for the certificate
// type codes certs (each a safe identifier part: a-z, 0-9, _).
func pgSchemaSQL(certs []string) string {
	var b strings.Builder
	for _, c := range certs {
		fmt.Fprintf(&b, ",\n\tcu_%s int8 NOT NULL", c)
	}
	return strings.Replace(pgSchemaTemplate, "{{CERT_COLUMNS}}", b.String(), 1)
}

// pgCopyColumns returns the columns that Load COPYs, in pgCopySource order.
func pgCopyColumns(certs []string) []string {
	cols := []string{"id", "title", "category", "price", "live_price", "eff_price", "commission", "stock",
		"lead_days", "has_months", "month_mask", "season", "cert_until", "approved",
		"supplier_ok", "poverty_relief", "perishable", "grade", "tsv"}
	for _, c := range certs {
		cols = append(cols, "cu_"+c)
	}
	return cols
}

// pgIndexSQL holds the index builds, in two lists that run side by side on
// two connections: the GIN build (the longest, single-threaded in 15) and
// the b-trees.
func pgIndexSQL() [2][]string {
	return [2][]string{
		{`CREATE INDEX products_tsv ON products USING gin (tsv)`},
		{
			`CREATE UNIQUE INDEX products_pkey ON products (id)`,
			`CREATE INDEX products_category ON products (category)`,
			`CREATE INDEX products_eff_price ON products (eff_price)`,
			`CREATE INDEX products_commission ON products (commission)`,
			`CREATE INDEX products_stock ON products (stock)`,
		},
	}
}

// Load creates the products table, loads rows with COPY (pgx CopyFrom, in
// chunks of pgCopyChunk rows, 2 connections in parallel), then builds the
// indexes (two at a time), declares the primary key and runs VACUUM
// (ANALYZE) so that statistics and the visibility map are fresh. It returns
// the time the COPY took and the time the index builds + vacuum/analyze
// took.
func (s *pgServer) Load(ctx context.Context, rows []pgRow) (copyTime, indexTime time.Duration, err error) {
	if _, err := s.pool.Exec(ctx, pgSchemaSQL(s.certs)); err != nil {
		return 0, 0, fmt.Errorf("create products table: %w", err)
	}

	start := time.Now()
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	chunks := make(chan []pgRow)
	errs := make([]error, pgCopyConns)
	cols := pgCopyColumns(s.certs)
	var wg sync.WaitGroup
	for w := range pgCopyConns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			src := &pgCopySource{certs: s.certs}
			for chunk := range chunks {
				src.reset(chunk)
				if _, err := s.pool.CopyFrom(cctx, pgx.Identifier{"products"}, cols, src); err != nil {
					errs[w] = fmt.Errorf("copy products: %w", err)
					cancel()
					return
				}
			}
		}()
	}
send:
	for i := 0; i < len(rows); i += pgCopyChunk {
		select {
		case chunks <- rows[i:min(i+pgCopyChunk, len(rows))]:
		case <-cctx.Done():
			break send
		}
	}
	close(chunks)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return 0, 0, err
	}
	if err := ctx.Err(); err != nil {
		return 0, 0, fmt.Errorf("copy products: %w", err)
	}
	copyTime = time.Since(start)
	s.logf("postgres: copied %d rows in %v (%.0f rows/s)", len(rows), copyTime.Round(time.Millisecond),
		float64(len(rows))/copyTime.Seconds())

	start = time.Now()
	lists := pgIndexSQL()
	for i, list := range lists {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, stmt := range list {
				if _, err := s.pool.Exec(cctx, stmt); err != nil {
					errs[i] = fmt.Errorf("%s: %w", stmt, err)
					cancel()
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return copyTime, 0, err
	}
	for _, stmt := range []string{
		`ALTER TABLE products ADD CONSTRAINT products_pkey PRIMARY KEY USING INDEX products_pkey`,
		`VACUUM (ANALYZE) products`,
	} {
		if _, err := s.pool.Exec(ctx, stmt); err != nil {
			return copyTime, 0, fmt.Errorf("%s: %w", stmt, err)
		}
	}
	indexTime = time.Since(start)
	s.logf("postgres: indexes + vacuum analyze in %v", indexTime.Round(time.Millisecond))
	return copyTime, indexTime, nil
}

// pgCopySource streams pgRows to CopyFrom, deriving the stored columns.
type pgCopySource struct {
	certs []string // certificate type codes, in column order
	rows  []pgRow
	i     int
}

// reset points the source at a new chunk.
func (c *pgCopySource) reset(rows []pgRow) { c.rows, c.i = rows, 0 }

// Next advances to the next row.
func (c *pgCopySource) Next() bool {
	c.i++
	return c.i <= len(c.rows)
}

// Values returns the current row's columns in pgCopyColumns order.
func (c *pgCopySource) Values() ([]any, error) {
	r := &c.rows[c.i-1]
	eff := r.Price
	if r.LivePrice > 0 {
		eff = r.LivePrice
	}
	mask := int32(0)
	for _, m := range r.Months {
		if m >= 1 && m <= 12 {
			mask |= 1 << (m - 1)
		}
	}
	season := pgSeason(r.Months)
	until, byType := pgCertColumns(r.Certs, c.certs)
	vals := make([]any, 0, 19+len(byType))
	vals = append(vals, r.ID, r.Title, r.Category, r.Price, r.LivePrice, eff, r.Commission, r.Stock,
		int32(r.LeadTimeDays), len(r.Months) > 0, mask, season[:], until, r.Approved,
		r.SupplierOK, r.PovertyRelief, r.Perishable, r.Grade, pgTSVector(pgTokens(r.Title)))
	for _, u := range byType {
		vals = append(vals, u)
	}
	return vals, nil
}

// Err reports no error: the rows are in memory.
func (c *pgCopySource) Err() error { return nil }

// pgCertColumns returns the certificate columns of a row: the latest expiry
// (pgNanos) of every distinct type held, sorted ascending, and the latest
// expiry of each type in codes (math.MinInt64 when not held).
func pgCertColumns(certs []pgCert, codes []string) (until, byType []int64) {
	latest := make(map[string]int64, len(certs))
	for _, c := range certs {
		ns := pgNanos(c.ExpiresAt)
		if old, ok := latest[c.Type]; !ok || ns > old {
			latest[c.Type] = ns
		}
	}
	until = make([]int64, 0, len(latest))
	for _, ns := range latest {
		until = append(until, ns)
	}
	slices.Sort(until)
	byType = make([]int64, len(codes))
	for i, code := range codes {
		ns, ok := latest[code]
		if !ok {
			ns = math.MinInt64
		}
		byType[i] = ns
	}
	return until, byType
}

// pgNanos maps an expiry (or as-of) time to Unix nanoseconds for exact
// comparison in SQL: zero (never expires) and anything from 2262 on map to
// max int64, anything before 1678 to min int64 + 1 (UnixNano's range; min
// int64 itself marks a type not held).
func pgNanos(t time.Time) int64 {
	switch {
	case t.IsZero() || t.Year() >= 2262:
		return math.MaxInt64
	case t.Year() <= 1677:
		return math.MinInt64 + 1
	}
	return t.UnixNano()
}

// pgSeason returns, for each as-of month m (index m-1), livematch's
// seasonality factor of a product available in months: 0.8 all year (no
// months, or all twelve); out of season 0; else the as-of month lies in a
// circular run (December runs on into January) of length L at position d:
// 0.8 for L ≤ 2, else 1 − 0.4·|d−c|/c with c = (L−1)/2. It mirrors
// engine's scorer.seasonality operation for operation so that the floats
// agree bit for bit.
func pgSeason(months []int) [12]float64 {
	var set [13]bool
	n := 0
	for _, m := range months {
		if m >= 1 && m <= 12 && !set[m] {
			set[m] = true
			n++
		}
	}
	var out [12]float64
	for m := 1; m <= 12; m++ {
		if n == 0 || n == 12 {
			out[m-1] = 0.8
			continue
		}
		if !set[m] {
			continue
		}
		back, fwd := 0, 0
		for back < 11 && set[pgWrapMonth(m-back-1)] {
			back++
		}
		for fwd < 11 && set[pgWrapMonth(m+fwd+1)] {
			fwd++
		}
		run := back + fwd + 1
		v := 0.8
		if run > 2 {
			centre := float64(run-1) / 2
			v = 1 - (1-0.6)*math.Abs(float64(back)-centre)/centre
		}
		out[m-1] = min(1, max(0, v))
	}
	return out
}

// pgWrapMonth maps any integer onto a month 1..12 (0 is December, 13 January).
func pgWrapMonth(m int) int { return ((m-1)%12+12)%12 + 1 }

// Limits of PostgreSQL's text search: a lexeme has at most pgMaxLexeme
// bytes, a position is at most pgMaxPos and a lexeme keeps at most
// pgMaxPositions positions.
const (
	pgMaxLexeme    = 2047
	pgMaxPos       = 16383
	pgMaxPositions = 255
)

// pgTokens splits text into the baseline's search tokens, in order of
// appearance: every run of Han characters gives each character (a unigram,
// so one-character queries such as 茶 work) and each adjacent pair (a
// bigram); any other run of letters and digits (combining marks included)
// gives one lower-cased word. Everything else, invalid UTF-8 too, separates
// tokens. Words longer than PostgreSQL's lexeme limit are dropped
// (to_tsvector drops them too). Tokens are substrings of s where they can be.
func pgTokens(s string) []string {
	out := make([]string, 0, len(s)/3+1)
	wordStart := -1 // byte offset of the word being read, or -1
	prevHan := -1   // byte offset of the previous rune when it was Han, or -1
	flush := func(end int) {
		if wordStart >= 0 {
			if w := strings.ToLower(s[wordStart:end]); len(w) <= pgMaxLexeme {
				out = append(out, w)
			}
			wordStart = -1
		}
	}
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case unicode.Is(unicode.Han, r):
			flush(i)
			out = append(out, s[i:i+size])
			if prevHan >= 0 {
				out = append(out, s[prevHan:i+size])
			}
			prevHan = i
			i += size
			continue
		case r != utf8.RuneError && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			if wordStart < 0 {
				wordStart = i
			}
		case wordStart >= 0 && unicode.In(r, unicode.Mn, unicode.Mc):
			// A combining mark continues its word ("café" in NFD).
		default:
			flush(i)
		}
		prevHan = -1
		i += size
	}
	flush(len(s))
	return out
}

// pgTSVector builds the tsvector of pgTokens' output as
// to_tsvector('simple', strings.Join(tokens, " ")) does: lexemes sorted by
// bytes, each with the ascending 1-based positions of its occurrences (at
// most pgMaxPositions, none past pgMaxPos), weight D. Empty and over-long
// tokens are skipped.
func pgTSVector(tokens []string) pgtype.TSVector {
	idx := make([]int, 0, len(tokens))
	for i, t := range tokens {
		if t != "" && len(t) <= pgMaxLexeme {
			idx = append(idx, i)
		}
	}
	slices.SortFunc(idx, func(a, b int) int {
		if c := strings.Compare(tokens[a], tokens[b]); c != 0 {
			return c
		}
		return a - b // the occurrences of a lexeme in position order
	})
	positions := make([]pgtype.TSVectorPosition, 0, len(idx))
	v := pgtype.TSVector{Valid: true, Lexemes: make([]pgtype.TSVectorLexeme, 0, len(idx))}
	for j := 0; j < len(idx); {
		word, start := tokens[idx[j]], len(positions)
		for ; j < len(idx) && tokens[idx[j]] == word; j++ {
			if pos := idx[j] + 1; pos <= pgMaxPos && len(positions)-start < pgMaxPositions {
				positions = append(positions, pgtype.TSVectorPosition{Position: uint16(pos)})
			}
		}
		v.Lexemes = append(v.Lexemes, pgtype.TSVectorLexeme{Word: word, Positions: positions[start:len(positions):len(positions)]})
	}
	return v
}

// pgTSQuery builds the text of a tsquery that matches any of the tokens
// ('a' | 'b' | ...), each distinct non-empty token once, quoted: inside the
// quotes a quote is doubled and a backslash escaped, so that no character
// (& | ! : * ( ) < >) is read as an operator. It returns "" without tokens.
// The query casts this text to tsquery (…::text::tsquery) instead of calling
// to_tsquery('simple', …): the cast takes the lexemes verbatim, exactly as
// pgTSVector stored them, whereas to_tsquery would run each through the
// text-search parser again. User text is never part of the SQL: the tsquery
// text is a parameter.
func pgTSQuery(tokens []string) string {
	var b strings.Builder
	seen := make(map[string]bool, len(tokens))
	for _, t := range tokens {
		if t == "" || seen[t] || len(t) > pgMaxLexeme || !utf8.ValidString(t) || strings.ContainsRune(t, 0) {
			continue
		}
		seen[t] = true
		if b.Len() > 0 {
			b.WriteString(" | ")
		}
		b.WriteByte('\'')
		for _, r := range t {
			switch r {
			case '\'':
				b.WriteString("''")
			case '\\':
				b.WriteString(`\\`)
			default:
				b.WriteRune(r)
			}
		}
		b.WriteByte('\'')
	}
	return b.String()
}

// pgAsOf returns the as-of date of a profile: its stream date when set, else now.
func pgAsOf(p *engine.DemandProfile, now time.Time) time.Time {
	if !p.StreamDate.IsZero() {
		return p.StreamDate
	}
	return now
}

// pgCSTMonth returns the month (1..12) of t in China Standard Time (UTC+8).
func pgCSTMonth(t time.Time) int {
	return int(t.In(time.FixedZone("CST", 8*3600)).Month())
}

// pgStreamDays returns the days from now to the profile's stream date (24 h
// each, fractional, as the engine's lead-time gate and factor use them) and
// whether the profile has a stream date.
func pgStreamDays(p *engine.DemandProfile, now time.Time) (float64, bool) {
	if p.StreamDate.IsZero() {
		return 0, false
	}
	return p.StreamDate.Sub(now).Hours() / 24, true
}

// pgScaledWeights returns the factor weights in engine.Factors() order as
// the engine uses them: Weights.Of (missing 1), negative, NaN and infinite
// weights as 0, each divided by the largest; and their sum (0 when every
// weight is 0, and then the score is 0).
func pgScaledWeights(w engine.Weights) (scaled [10]float64, sum float64) {
	factors := engine.Factors()
	var raw [10]float64
	maxW := 0.0
	for i, f := range factors[:len(raw)] {
		x := w.Of(f)
		if !(x > 0) || math.IsInf(x, 0) {
			x = 0
		}
		raw[i] = x
		maxW = max(maxW, x)
	}
	if maxW > 0 {
		for i, x := range raw {
			scaled[i] = x / maxW
			sum += scaled[i]
		}
	}
	return scaled, sum
}

// pgPriceBand returns how the price factor's band part is computed: mode 1
// with both ends and hi > lo (1 − 0.5·(price−lo)/(hi−lo)), mode 2 with only
// a cap hi > 0 (1 − 0.5·price/hi), else mode 0 (1).
func pgPriceBand(p *engine.DemandProfile) (mode int32, lo, hi float64) {
	switch {
	case p.PriceMin != nil && p.PriceMax != nil && *p.PriceMax > *p.PriceMin:
		return 1, *p.PriceMin, *p.PriceMax
	case p.PriceMin == nil && p.PriceMax != nil && *p.PriceMax > 0:
		return 2, 0, *p.PriceMax
	}
	return 0, 0, 0
}

// pgMatchLimit normalises a limit as engine.Match does: <= 0 means 20, at most 100.
func pgMatchLimit(limit int) int {
	if limit <= 0 {
		limit = engine.DefaultMatchLimit
	}
	return min(limit, engine.MaxMatchLimit)
}

// pgMatchArgs computes the parameters of the match query for a profile, or
// errPGUnsupported for audience regions with a logistics weight above 0 or
// a certificate type outside certs (the codes of engine.CertTypes(), which
// PrepareProfile enforces).
func pgMatchArgs(p *engine.DemandProfile, now time.Time, limit int, certs []string) (pgx.StrictNamedArgs, error) {
	w, wsum := pgScaledWeights(p.Weights)
	factors := engine.Factors()
	if len(p.AudienceRegions) > 0 && w[slices.Index(factors, engine.FactorLogistics)] > 0 {
		return nil, errPGUnsupported
	}
	for _, c := range slices.Concat(p.RequiredCerts, p.PreferredCerts) {
		if !slices.Contains(certs, c) {
			return nil, fmt.Errorf("%w: certificate type %q is not in engine.CertTypes()", errPGUnsupported, c)
		}
	}
	asOf := pgAsOf(p, now)
	month := pgCSTMonth(asOf)
	var tsq *string // nil: no text condition
	if q := pgTSQuery(pgTokens(p.Keywords)); q != "" {
		tsq = &q
	}
	var streamDays *float64
	if d, ok := pgStreamDays(p, now); ok {
		streamDays = &d
	}
	mode, lo, hi := pgPriceBand(p)
	categories := p.Categories
	if categories == nil {
		categories = []string{}
	}
	args := pgx.StrictNamedArgs{
		"tsq":            tsq,
		"rank":           tsq != nil && w[slices.Index(factors, engine.FactorText)] > 0,
		"categories":     categories,
		"price_min":      p.PriceMin,
		"price_max":      p.PriceMax,
		"band_mode":      mode,
		"band_lo":        lo,
		"band_hi":        hi,
		"min_commission": p.MinCommissionRate,
		"min_stock":      max(p.MinStock, 1),
		"expected":       p.ExpectedUnits,
		"as_of":          min(pgNanos(asOf), math.MaxInt64-1), // certificates that never expire stay valid
		"month":          int32(month),
		"month_bit":      int32(1) << (month - 1),
		"stream_days":    streamDays,
		"n_preferred":    float64(len(p.PreferredCerts)),
		"wsum":           wsum,
		"lim":            int64(pgMatchLimit(limit)),
	}
	for _, c := range certs {
		args["pref_"+c] = slices.Contains(p.PreferredCerts, c)
		args["req_"+c] = slices.Contains(p.RequiredCerts, c)
	}
	for i, f := range factors[:len(w)] {
		args["w_"+string(f)] = w[i]
	}
	return args, nil
}

// pgMatchSQL returns the match query for the certificate type codes certs
// (spyb: the 三品一标 ones): one statement, prepared once per connection
// and planned for each execution's parameters
// (plan_cache_mode=force_custom_plan), so that the optional conditions and
// the certificate types the profile does not name fold away. Every factor
// is computed in float8 with the same operations, in the same order, as
// engine/factors.go, and each is clamped to [0,1] as the engine's unit()
// does; the score is Σ w·v / Σ w rounded half away from zero to 4 decimals
// like math.Round (y − floor(y) is exact), so scores agree with
// engine.Score bit for bit except for text (ts_rank here, BM25 in
// livematch). Candidates are ranked by score desc, id asc.
//
// Text: with tokens, rank/max(rank) over the gated candidates (a window
// max), else 1. Logistics: the neutral 0.7, halved for perishable rows (no
// distances; see errPGUnsupported). Certificates: see pgSchemaTemplate.
//
// Plans at 100k rows (EXPLAIN ANALYZE), all in shared buffers:
//   - fresh_fruit, ¥20–80: a BitmapAnd of products_category (12k rows) and
//     products_eff_price (39k) feeds a bitmap heap scan (8k rows) that
//     applies the other gates as a filter (4.3k pass); the scores are
//     computed on the scan's output and a top-N heapsort keeps 20 (~17 ms).
//   - the same with keywords 猕猴桃: products_tsv (the OR of 猕 猴 桃 猕猴
//     猴桃, 4.8k rows) joins the BitmapAnd; a WindowAgg takes max(ts_rank)
//     before the score (~9 ms).
//   - keywords without category or price (橙子 orange): a bitmap scan of
//     products_tsv alone, 8.3k rows, 4.1k pass (~15 ms); a commission
//     floor alone (0.3): a bitmap scan of products_commission.
//   - no category, price band or keywords: a parallel sequential scan (2
//     workers; there is no selective condition to use) scores every row
//     that passes (78k), each worker keeps its top 20 and a Gather Merge
//     takes the best: ~85 ms, against ~17 ms for the first plan.
const pgMatchTemplate = `
WITH cand AS (
	SELECT p.id, p.price, p.live_price, p.eff_price, p.commission, p.stock, p.poverty_relief,
	       p.season[@month::int4] AS season, p.perishable, p.grade,
	       greatest(p.lead_days, 0)::float8 AS lead,
	       (CASE WHEN cardinality(p.cert_until) = 0 THEN 0
	             ELSE cardinality(p.cert_until) - width_bucket(@as_of::int8, p.cert_until) END)::float8 AS valid,
	       ({{SPYB}})::float8 AS spyb,
	       ({{PREFERRED}})::float8 AS preferred,
	       CASE WHEN @rank::bool THEN ts_rank(p.tsv, @tsq::text::tsquery)::float8 ELSE 0::float8 END AS trank
	FROM products p
	WHERE p.approved AND p.supplier_ok
	  AND (cardinality(@categories::text[]) = 0 OR p.category = ANY (@categories::text[]))
	  AND (@price_min::float8 IS NULL OR p.eff_price >= @price_min::float8)
	  AND (@price_max::float8 IS NULL OR p.eff_price <= @price_max::float8)
	  AND p.commission >= @min_commission::float8
	  AND p.stock >= @min_stock::int8{{REQUIRED}}
	  AND (NOT p.has_months OR (p.month_mask & @month_bit::int4) <> 0)
	  AND (@stream_days::float8 IS NULL OR greatest(p.lead_days, 0)::float8 <= @stream_days::float8)
	  AND (@tsq::text IS NULL OR p.tsv @@ @tsq::text::tsquery)
),
factors AS (
	SELECT id,
	       CASE WHEN @tsq::text IS NULL THEN 1::float8
	            WHEN max(trank) OVER () > 0 THEN least(1::float8, greatest(0::float8, trank / max(trank) OVER ()))
	            ELSE 0::float8 END AS v_text,
	       least(1::float8, greatest(0::float8,
	           0.7::float8 * least(1::float8, greatest(0::float8, CASE @band_mode::int4
	               WHEN 1 THEN 1::float8 - 0.5::float8 * (eff_price - @band_lo::float8) / (@band_hi::float8 - @band_lo::float8)
	               WHEN 2 THEN 1::float8 - 0.5::float8 * eff_price / @band_hi::float8
	               ELSE 1::float8 END))
	           + 0.3::float8 * least(1::float8, CASE WHEN live_price > 0 AND price > 0 AND live_price < price
	               THEN 1::float8 - live_price / price ELSE 0::float8 END / 0.3::float8))) AS v_price,
	       least(1::float8, greatest(0::float8, CASE
	           WHEN NOT (commission >= @min_commission::float8) THEN 0::float8
	           WHEN NOT (@min_commission::float8 > 0) THEN commission / 0.4::float8
	           WHEN @min_commission::float8 >= 0.4::float8 THEN 1::float8
	           ELSE greatest(0.1::float8, (commission - @min_commission::float8) / (0.4::float8 - @min_commission::float8))
	           END)) AS v_commission,
	       CASE WHEN @expected::int8 > 0 THEN least(1::float8, stock::float8 / @expected::int8::float8)
	            WHEN stock > 0 THEN 1::float8 ELSE 0::float8 END AS v_stock,
	       CASE WHEN poverty_relief THEN 1::float8 ELSE 0::float8 END AS v_poverty,
	       least(1::float8, greatest(0::float8, CASE WHEN @n_preferred::float8 > 0
	           THEN 0.7::float8 * preferred / @n_preferred::float8 + 0.3::float8 * least(1::float8, spyb / 2::float8)
	           ELSE 0.7::float8 * least(1::float8, spyb / 2::float8) + CASE WHEN valid > 0 THEN 0.3::float8 ELSE 0::float8 END
	           END)) AS v_cert,
	       season AS v_season,
	       CASE WHEN perishable THEN 0.7::float8 * 0.5::float8 ELSE 0.7::float8 END AS v_logistics,
	       CASE grade WHEN 'A' THEN 1::float8 WHEN 'B' THEN 0.6::float8 WHEN 'C' THEN 0.3::float8
	                  WHEN '' THEN 0.6::float8 ELSE 0::float8 END AS v_grade,
	       least(1::float8, greatest(0::float8, CASE
	           WHEN @stream_days::float8 IS NULL THEN greatest(0::float8, 1::float8 - lead / 30::float8)
	           WHEN @stream_days::float8 - lead >= 0
	               THEN greatest(0.1::float8, least(1::float8, (@stream_days::float8 - lead) / 14::float8))
	           ELSE 0::float8 END)) AS v_lead
	FROM cand
),
scaled AS (
	SELECT id,
	       CASE WHEN @wsum::float8 > 0 THEN least(1::float8, greatest(0::float8, (
	           @w_text::float8 * v_text + @w_price::float8 * v_price + @w_commission::float8 * v_commission
	           + @w_stock::float8 * v_stock + @w_poverty_relief::float8 * v_poverty + @w_certification::float8 * v_cert
	           + @w_seasonality::float8 * v_season + @w_logistics::float8 * v_logistics + @w_grade::float8 * v_grade
	           + @w_lead_time::float8 * v_lead) / @wsum::float8)) * 10000::float8
	       ELSE 0::float8 END AS y
	FROM factors
)
SELECT id, CASE WHEN y - floor(y) >= 0.5::float8 THEN ceil(y) ELSE floor(y) END / 10000::float8 AS score
FROM scaled
ORDER BY score DESC, id
LIMIT @lim::int8`

// pgMatchSQL fills pgMatchTemplate for the certificate type codes certs
// (safe identifier parts, checked by startPostgres) and the 三品一标 codes
// spyb: the count of 三品一标 types valid as of, the count of preferred
// types valid as of (@pref_<code> says whether the profile prefers a type)
// and one gate per type (@req_<code>: the profile requires it).
func pgMatchSQL(certs, spyb []string) string {
	valid := func(c string) string { return "p.cu_" + c + " > @as_of::int8" }
	spybTerms := []string{"0"}
	for _, c := range spyb {
		spybTerms = append(spybTerms, "("+valid(c)+")::int4")
	}
	prefTerms := []string{"0"}
	var req strings.Builder
	for _, c := range certs {
		prefTerms = append(prefTerms, "CASE WHEN @pref_"+c+"::bool AND "+valid(c)+" THEN 1 ELSE 0 END")
		req.WriteString("\n\t  AND (NOT @req_" + c + "::bool OR " + valid(c) + ")")
	}
	return strings.NewReplacer(
		"{{SPYB}}", strings.Join(spybTerms, " + "),
		"{{PREFERRED}}", strings.Join(prefTerms, "\n\t        + "),
		"{{REQUIRED}}", req.String(),
	).Replace(pgMatchTemplate)
}

// Match answers a demand profile: the same gates and the same weighted
// formula as livematch's engine (see pgMatchSQL), top limit rows (<= 0: 20,
// at most 100, as engine.Match) by score desc then id asc. Keywords without
// any token (only punctuation) count as no keywords. PovertyReliefMinShare
// (fair re-ranking) is not applied. Profiles with audience regions need
// logistics weight 0 (else errPGUnsupported).
func (s *pgServer) Match(ctx context.Context, p *engine.DemandProfile, now time.Time, limit int) ([]pgHit, error) {
	args, err := pgMatchArgs(p, now, limit, s.certs)
	if err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, s.matchSQL, args)
	if err != nil {
		return nil, fmt.Errorf("postgres match: %w", err)
	}
	hits, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (pgHit, error) {
		var h pgHit
		err := r.Scan(&h.ID, &h.Score)
		return h, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres match: %w", err)
	}
	return hits, nil
}

// pgSearchSQL ranks the approved rows whose tsvector matches any token.
// Unlike livematch's search it does not count all hits (a count(*) over()
// would have to visit every match); the benchmark compares the page only.
const pgSearchSQL = `
SELECT id FROM products
WHERE approved AND tsv @@ @tsq::text::tsquery
ORDER BY ts_rank(tsv, @tsq::text::tsquery) DESC, id
LIMIT @lim::int8`

// pgSearchAllSQL answers a query without tokens: no text condition, so
// every approved row ranks 0 and they come in id order.
const pgSearchAllSQL = `SELECT id FROM products WHERE approved ORDER BY id LIMIT @lim::int8`

// Search answers a free-text product search: approved rows whose bigram
// tsvector matches any token of q, ranked by ts_rank desc then id asc,
// limit rows (a query without tokens has no text condition). It returns no
// total, while livematch's search does (see pgSearchSQL).
func (s *pgServer) Search(ctx context.Context, q string, limit int) ([]string, error) {
	if limit <= 0 {
		return nil, nil
	}
	sql, args := pgSearchAllSQL, pgx.StrictNamedArgs{"lim": int64(limit)}
	if tsq := pgTSQuery(pgTokens(q)); tsq != "" {
		sql, args["tsq"] = pgSearchSQL, tsq
	}
	rows, err := s.pool.Query(ctx, sql, args)
	if err != nil {
		return nil, fmt.Errorf("postgres search: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("postgres search: %w", err)
	}
	return ids, nil
}
