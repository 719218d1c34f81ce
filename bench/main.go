// Command bench measures livematch side by side with PostgreSQL 15 and plain
// Bleve on the same generated catalogue, demand profiles and search queries,
// and writes the figures as a Markdown report.
//
//	go run ./bench -products 1000000 -out docs/performance.md
//	go run ./bench -products 2000 -smoke        # correctness only (CI)
//
// livematch runs as its own process (the matchd binary, built first) with
// the embedded FerretDB and a Bleve index in a temporary directory; the
// catalogue goes in through POST /v1/products:bulk. PostgreSQL runs on
// loopback in a temporary directory (installed from Debian's packages when
// missing; without it the comparison is left out and the report says why).
// Last, a reservations phase (reserve.go, -reserve) serves the same data
// again and measures POST /v1/reservations on one hot product and across
// many, and checks that no stock is promised twice.
// See docs/performance.md for what each figure means.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/livematch/livematch/engine"
	"github.com/livematch/livematch/fixtures"
)

// notesMarker starts the hand-written part of the report file, which a new
// run keeps.
const notesMarker = "<!-- notes: kept by go run ./bench -->"

// config holds the command-line flags.
type config struct {
	products, profiles, queries int
	seed                        int64
	clients                     []int
	requests                    int // HTTP and PostgreSQL requests per concurrency level
	chunk, uploaders            int
	pg                          bool
	out, work                   string
	smoke, keep                 bool
	cpuProfile                  string
	reserve                     bool  // run the reservations phase
	reserveProducts             int   // products of its spread runs
	reserveRequests             int   // reservations per clients level
	reserveClients              []int // its clients levels
}

func parseFlags(args []string) (config, error) {
	var c config
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.IntVar(&c.products, "products", 100000, "catalogue size")
	fs.Int64Var(&c.seed, "seed", 1, "seed of the catalogue, profiles and queries")
	fs.IntVar(&c.profiles, "profiles", 300, "demand profiles")
	fs.IntVar(&c.queries, "queries", 300, "search queries")
	clients := fs.String("clients", "1,4,16", "concurrent clients of the HTTP and PostgreSQL runs")
	fs.IntVar(&c.requests, "requests", 600, "requests per concurrency level")
	fs.IntVar(&c.chunk, "chunk", 1000, "products per bulk request")
	fs.IntVar(&c.uploaders, "uploaders", 4, "concurrent bulk uploads")
	fs.BoolVar(&c.pg, "pg", true, "compare with PostgreSQL 15 (installed with apt-get when missing)")
	fs.StringVar(&c.out, "out", "", "write the Markdown report here (e.g. docs/performance.md)")
	fs.StringVar(&c.work, "work", "", "working directory (default: a new temporary one, removed at the end)")
	fs.BoolVar(&c.smoke, "smoke", false, "check correctness and exit non-zero on a failure (timings are reported, never judged)")
	fs.BoolVar(&c.keep, "keep", false, "keep the working directory")
	fs.StringVar(&c.cpuProfile, "cpuprofile", "", "write a CPU profile of in-process matching and search (five extra passes over the profiles and the queries, after the measured ones) to this file")
	fs.BoolVar(&c.reserve, "reserve", true, "measure POST /v1/reservations: one hot product, many products, and a contended correctness check")
	fs.IntVar(&c.reserveProducts, "reserve-products", 10000, "products of the reservations phase's spread runs")
	fs.IntVar(&c.reserveRequests, "reserve-requests", 3000, "reservations per clients level and kind (at most 400 with -smoke)")
	reserveClients := fs.String("reserve-clients", "16,64", "concurrent clients of the reservations phase")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	var err error
	if c.clients, err = positiveList("-clients", *clients); err != nil {
		return c, err
	}
	if c.reserveClients, err = positiveList("-reserve-clients", *reserveClients); err != nil {
		return c, err
	}
	if c.smoke {
		c.reserveRequests = min(c.reserveRequests, 400)
	}
	if c.products < 1 || c.profiles < 1 || c.queries < 1 || c.requests < 1 || c.chunk < 1 || c.uploaders < 1 ||
		c.reserveProducts < 1 || c.reserveRequests < 1 {
		return c, errors.New("-products, -profiles, -queries, -requests, -chunk, -uploaders, -reserve-products and -reserve-requests must be positive")
	}
	return c, nil
}

// positiveList parses a comma-separated list of positive numbers.
func positiveList(flagName, v string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%s: %q is not a positive number", flagName, f)
		}
		out = append(out, n)
	}
	return out, nil
}

func main() {
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := run(ctx, cfg)
	if rep != nil {
		md := rep.markdown()
		fmt.Println(md)
		if cfg.out != "" {
			// Hand-written notes below the marker survive a new run.
			if old, rerr := os.ReadFile(cfg.out); rerr == nil {
				if i := strings.Index(string(old), notesMarker); i >= 0 {
					md += "\n" + string(old[i:])
				}
			}
			if werr := os.WriteFile(cfg.out, []byte(md), 0o644); werr != nil {
				fmt.Fprintln(os.Stderr, "bench:", werr)
				os.Exit(1)
			}
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	if cfg.smoke && len(rep.failures) > 0 {
		fmt.Fprintf(os.Stderr, "bench: %d correctness checks failed:\n  %s\n", len(rep.failures), strings.Join(rep.failures, "\n  "))
		os.Exit(1)
	}
}

// logf prints a progress line to stderr.
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s  %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// run performs the whole benchmark and returns the report (also when a later
// step fails, with what was measured so far).
func run(ctx context.Context, cfg config) (*report, error) {
	rep := &report{cfg: cfg, started: time.Now(), cpus: runtime.NumCPU(), cpuModel: cpuModel()}
	work := cfg.work
	if work == "" {
		var err error
		if work, err = os.MkdirTemp("", "livematch-bench-"); err != nil {
			return nil, err
		}
		// PostgreSQL runs as its own user and must be able to enter it.
		if err := os.Chmod(work, 0o755); err != nil {
			return nil, err
		}
		if !cfg.keep {
			defer os.RemoveAll(work)
		}
	}
	regions, err := fixtures.LoadRegions(nil)
	if err != nil {
		return nil, err
	}
	gloss, err := fixtures.LoadGlossary()
	if err != nil {
		return nil, err
	}

	t0 := time.Now()
	w, err := makeWorkload(cfg.seed, cfg.products, cfg.profiles, cfg.queries, regions, time.Now())
	if err != nil {
		return nil, err
	}
	rep.generate = time.Since(t0)
	rep.orgs = len(w.cat.Orgs)
	logf("generated %d products, %d orgs, %d profiles, %d queries in %s", len(w.cat.Products), len(w.cat.Orgs), len(w.profiles), len(w.queries), rep.generate.Round(time.Millisecond))

	bin, err := buildMatchd(ctx, work)
	if err != nil {
		return nil, err
	}
	data := filepath.Join(work, "data")
	admin := randomKey()
	m, err := startMatchd(ctx, bin, data, admin, logf)
	if err != nil {
		return nil, err
	}
	defer func() {
		if m != nil {
			m.kill()
		}
	}()
	if err := m.waitReady(ctx, time.Minute); err != nil {
		return rep, err
	}

	// Ingest.
	logf("livematch: loading %d products through POST /v1/products:bulk (%d uploaders, %d per request)", cfg.products, cfg.uploaders, cfg.chunk)
	in, err := ingest(ctx, m, w.cat, regions, cfg.uploaders, cfg.chunk)
	if err != nil {
		return rep, fmt.Errorf("ingest: %w", err)
	}
	rep.ingest = in
	logf("livematch: %d orgs in %s; products acknowledged in %s, searchable after %s (%.0f/s end to end)", len(in.orgs), in.orgTime.Round(time.Millisecond),
		in.ackTime.Round(time.Millisecond), in.searchable.Round(time.Millisecond), float64(in.products)/in.searchable.Seconds())

	// A sample of answers before the restart, to compare after it.
	sample := w.profiles[:min(len(w.profiles), 20)]
	sampleTop := make([][]string, len(sample))
	sampleScore := make([][]float64, len(sample))
	for i, bp := range sample {
		var out matchResp
		if err := m.call(ctx, "POST", "/v1/match/products?limit=20", m.admin, profileBody(bp.p), &out); err != nil {
			rep.fail("match before restart: %v", err)
			continue
		}
		sampleTop[i], sampleScore[i] = out.top()
	}
	rep.rssLoaded = m.peakRSS()

	// Restart: serving is measured on the restarted server, once the
	// index is settled (right after a bulk load Bleve is still merging
	// segments in the background).
	if err := m.stop(); err != nil {
		return rep, fmt.Errorf("stopping matchd: %w", err)
	}
	t0 = time.Now()
	if m, err = startMatchd(ctx, bin, data, admin, logf); err != nil {
		return rep, err
	}
	if err := m.waitReady(ctx, 10*time.Minute); err != nil {
		return rep, err
	}
	rep.ready = time.Since(t0)
	rep.rssRestart = m.peakRSS()
	logf("livematch: ready %s after a restart (peak RSS %d MiB)", rep.ready.Round(time.Millisecond), rep.rssRestart>>20)
	for i, bp := range sample {
		var out matchResp
		if err := m.call(ctx, "POST", "/v1/match/products?limit=20", m.admin, profileBody(bp.p), &out); err != nil {
			rep.fail("match after restart: %v", err)
			continue
		}
		ids, scores := out.top()
		if sampleTop[i] != nil && !sameRanking(ids, scores, sampleTop[i], sampleScore[i]) {
			rep.fail("profile %d: top 20 differ after a restart: %v %v, before %v %v", i, ids, scores, sampleTop[i], sampleScore[i])
		}
	}

	// Matching and search over HTTP.
	httpTop := make([][]string, len(w.profiles))
	httpScore := make([][]float64, len(w.profiles))
	for _, c := range cfg.clients {
		l := measure(c, cfg.requests, func(i int) error {
			bp := w.profiles[i%len(w.profiles)]
			var out matchResp
			err := m.call(ctx, "POST", "/v1/match/products?limit=20", m.admin, profileBody(bp.p), &out)
			if err == nil && c == cfg.clients[0] && i < len(w.profiles) {
				httpTop[i], httpScore[i] = out.top()
			}
			return err
		})
		rep.httpMatch = append(rep.httpMatch, level{c, l})
		logf("livematch: match over HTTP, %d clients: %s", c, l)
		if l.errors > 0 {
			rep.fail("match over HTTP (%d clients): %d errors, first %v", c, l.errors, l.firstErr)
		}
	}
	hits := make([]int, len(w.queries))
	for _, c := range cfg.clients {
		l := measure(c, cfg.requests, func(i int) error {
			q := w.queries[i%len(w.queries)]
			var out struct {
				Total int `json:"total"`
			}
			err := m.call(ctx, "GET", searchPath(q)+"&limit=20", m.admin, nil, &out)
			if err == nil && i < len(w.queries) {
				hits[i] = out.Total
			}
			return err
		})
		rep.httpSearch = append(rep.httpSearch, level{c, l})
		logf("livematch: search over HTTP, %d clients: %s", c, l)
		if l.errors > 0 {
			rep.fail("search over HTTP (%d clients): %d errors, first %v", c, l.errors, l.firstErr)
		}
	}
	for i, q := range w.queries[:min(len(w.queries), cfg.requests)] {
		if q.kind != "one-char" && q.category == "" && hits[i] == 0 {
			rep.fail("search %q found nothing, though it is a tag of a catalogue product", q.q)
		}
	}
	rep.rssServing = m.peakRSS()
	rep.rssAnon, rep.rssFile = m.rssSplit()
	if err := m.stop(); err != nil {
		return rep, fmt.Errorf("stopping matchd: %w", err)
	}
	m = nil

	// The generated catalogue is not needed any more (PostgreSQL gets its
	// rows now; the reservations phase copies a few products): drop it, so
	// that the benchmark's own heap does not slow the code measured in
	// process below with garbage collection.
	var rows []pgRow
	if cfg.pg {
		rows = pgRows(w, in.orgs)
	}
	var reserveCat fixtures.Catalogue
	if cfg.reserve {
		reserveCat, err = reserveTemplates(w.cat)
		if err != nil {
			return rep, err
		}
	}
	w.cat.Products = nil
	runtime.GC()

	// In process: livematch's match path and plain Bleve on the same index.
	// In process the clock is the workload's, as for PostgreSQL, so that
	// time-dependent factors (lead time) are computed on the same instant.
	ip, err := openInproc(ctx, data, regions, gloss, w.now)
	if err != nil {
		return rep, fmt.Errorf("opening the data in process: %w", err)
	}
	closeInproc := sync.OnceFunc(func() { ip.close(context.Background()) })
	defer closeInproc()
	lmTop := make([][]string, len(w.profiles))
	lmScore := make([][]float64, len(w.profiles))
	for pass := range 2 { // the first pass warms caches
		l := measure(1, len(w.profiles), func(i int) error {
			ids, scores, err := ip.match(ctx, w.profiles[i].p, 20)
			lmTop[i], lmScore[i] = ids, scores
			return err
		})
		if pass == 1 {
			rep.inprocMatch = l
			logf("livematch: match in process: %s", l)
		}
	}
	if cfg.cpuProfile != "" {
		if err := profileMatches(ctx, cfg.cpuProfile, ip, w); err != nil {
			return rep, err
		}
	}
	for i := range w.profiles {
		if httpTop[i] != nil && !sameRanking(lmTop[i], lmScore[i], httpTop[i], httpScore[i]) {
			rep.fail("profile %d: top 20 in process differ from HTTP: %v %v vs %v %v", i, lmTop[i], lmScore[i], httpTop[i], httpScore[i])
		}
	}
	rep.inprocSearch = measure(1, len(w.queries), func(i int) error {
		_, err := ip.search(ctx, w.queries[i])
		return err
	})
	logf("livematch: search in process: %s", rep.inprocSearch)
	plainTop := make([][]string, len(w.profiles))
	rep.plainMatch = measure(1, len(w.profiles), func(i int) error {
		ids, err := ip.plain(ctx, w.profiles[i].p, w.now, 20)
		plainTop[i] = ids
		return err
	})
	logf("plain Bleve: match query in process: %s", rep.plainMatch)
	rep.plainOverlap = overlap(lmTop, plainTop, nil)

	// PostgreSQL.
	if cfg.pg {
		if err := runPostgres(ctx, rep, w, rows, work, lmTop, lmScore); err != nil {
			rep.pgSkipped = err.Error()
			logf("PostgreSQL left out: %v", err)
		}
	} else {
		rep.pgSkipped = "-pg=false"
	}

	// Reservations last: they add products and write to the database,
	// which must not change what the comparisons above saw. The same data
	// directory, served by matchd again.
	if cfg.reserve {
		closeInproc()
		if m, err = startMatchd(ctx, bin, data, admin, logf); err != nil {
			return rep, err
		}
		if err := m.waitReady(ctx, 10*time.Minute); err != nil {
			return rep, err
		}
		rr, err := runReservations(ctx, m, reserveCat, regions, cfg)
		if err != nil {
			rep.fail("reservations: %v", err)
		}
		if rr != nil {
			rr.judge(rep)
			rep.reserve = rr
		}
		if err := m.stop(); err != nil {
			return rep, fmt.Errorf("stopping matchd: %w", err)
		}
		m = nil
	}
	rep.finished = time.Now()
	return rep, nil
}

// runPostgres loads the same catalogue into PostgreSQL and runs the same
// profiles and queries.
func runPostgres(ctx context.Context, rep *report, w *workload, rows []pgRow, work string, lmTop [][]string, lmScore [][]float64) error {
	dir := filepath.Join(work, "pg")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	pg, err := startPostgres(ctx, dir, logf)
	if err != nil {
		return err
	}
	defer pg.Close()
	rep.pgSettings = pg.Settings()
	copyT, indexT, err := pg.Load(ctx, rows)
	if err != nil {
		return fmt.Errorf("load: %w", err)
	}
	rep.pgCopy, rep.pgIndex = copyT, indexT
	logf("PostgreSQL: %d rows copied in %s, indexed in %s", len(rows), copyT.Round(time.Millisecond), indexT.Round(time.Millisecond))

	// Profiles PostgreSQL can answer: logistics needs distances it lacks,
	// so it is switched off in the copies sent to it (and in the livematch
	// run compared for agreement only the `same` profiles count).
	pgTop := make([][]string, len(w.profiles))
	pgScore := make([][]float64, len(w.profiles))
	for _, c := range rep.cfg.clients {
		l := measure(c, rep.cfg.requests, func(i int) error {
			bp := w.profiles[i%len(w.profiles)]
			hits, err := pg.Match(ctx, pgProfile(bp.p), w.now, 20)
			if err == nil && c == rep.cfg.clients[0] && i < len(w.profiles) {
				ids, scores := make([]string, len(hits)), make([]float64, len(hits))
				for k, h := range hits {
					ids[k], scores[k] = h.ID, h.Score
				}
				pgTop[i], pgScore[i] = ids, scores
			}
			return err
		})
		rep.pgMatch = append(rep.pgMatch, level{c, l})
		logf("PostgreSQL: match, %d clients: %s", c, l)
		if l.errors > 0 {
			rep.fail("PostgreSQL match (%d clients): %d errors, first %v", c, l.errors, l.firstErr)
		}
	}
	for _, c := range rep.cfg.clients {
		l := measure(c, rep.cfg.requests, func(i int) error {
			q := w.queries[i%len(w.queries)]
			_, err := pg.Search(ctx, q.q, 20)
			return err
		})
		rep.pgSearch = append(rep.pgSearch, level{c, l})
		logf("PostgreSQL: search, %d clients: %s", c, l)
	}
	rep.pgRSS = pg.PeakRSS()
	same := func(i int) bool { return w.profiles[i].same }
	rep.pgOverlap = overlap(lmTop, pgTop, nil)
	rep.pgSameOverlap = overlap(lmTop, pgTop, same)
	for i, bp := range w.profiles {
		if !bp.same || pgTop[i] == nil {
			continue
		}
		rep.sameProfiles++
		if slices.Equal(lmTop[i], pgTop[i]) {
			rep.sameIdentical++
			continue
		}
		k := 0
		for k < min(len(lmTop[i]), len(pgTop[i])) && lmTop[i][k] == pgTop[i][k] {
			k++
		}
		msg := fmt.Sprintf("profile %d (%s): top 20 differ from position %d: livematch %v %v, PostgreSQL %v %v", i, bp.kind, k+1,
			lmTop[i][k:min(k+3, len(lmTop[i]))], lmScore[i][k:min(k+3, len(lmScore[i]))],
			pgTop[i][k:min(k+3, len(pgTop[i]))], pgScore[i][k:min(k+3, len(pgScore[i]))])
		logf("%s", msg)
		if rep.cfg.smoke {
			rep.fail("%s", msg)
		}
	}
	return nil
}

// sameRanking reports whether two top lists rank alike: at every position
// the same product, or scores within 2·10⁻⁴ (the clock moves between two
// runs, and a lead-time value with it, which may swap near-equal items).
func sameRanking(a []string, as []float64, b []string, bs []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] && math.Abs(as[i]-bs[i]) > 2e-4 {
			return false
		}
	}
	return true
}

// pgProfile is the copy of p sent to PostgreSQL: logistics switched off
// (no distances in SQL) and no fair share (no re-ranking in SQL).
func pgProfile(p *engine.DemandProfile) *engine.DemandProfile {
	c := *p
	c.Weights = engine.Weights{}
	for k, v := range p.Weights {
		c.Weights[k] = v
	}
	c.Weights["logistics"] = 0
	c.PovertyReliefMinShare = 0
	c.AudienceRegions = nil
	return &c
}

// pgRows converts the catalogue to PostgreSQL rows with livematch's ids.
// Every product counts as approved: livematch, run without
// --review-required, approves what the API accepts.
func pgRows(w *workload, orgs []*engine.Org) []pgRow {
	rows := make([]pgRow, len(w.cat.Products))
	for i, cp := range w.cat.Products {
		p := cp.Product
		p.ID, p.OrgID, p.ReviewStatus = productID(orgs, cp), orgs[cp.OrgIndex].ID, engine.ReviewApproved
		rows[i] = newPGRow(&p, orgs[cp.OrgIndex])
	}
	return rows
}

// overlap is the mean share of a's top lists found in b's (only where keep
// says so, when keep is set), over the lists both have.
func overlap(a, b [][]string, keep func(int) bool) float64 {
	sum, n := 0.0, 0
	for i := range a {
		if (keep != nil && !keep(i)) || a[i] == nil || b[i] == nil {
			continue
		}
		if len(a[i]) == 0 && len(b[i]) == 0 {
			sum, n = sum+1, n+1
			continue
		}
		common := 0
		for _, id := range a[i] {
			if slices.Contains(b[i], id) {
				common++
			}
		}
		sum += float64(common) / float64(max(len(a[i]), len(b[i])))
		n++
	}
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}

// randomKey makes an admin key for the benchmark's matchd.
func randomKey() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return "bench_" + hex.EncodeToString(b)
}

// cpuModel reads the processor's name from /proc/cpuinfo.
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "model name"); ok {
			return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
		}
	}
	return runtime.GOARCH
}

// profileMatches writes a CPU profile of five passes of in-process matching
// over the workload's profiles, then five of its searches, to path.
func profileMatches(ctx context.Context, path string, ip *inproc, w *workload) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := pprof.StartCPUProfile(f); err != nil {
		return err
	}
	defer pprof.StopCPUProfile()
	for range 5 {
		for _, bp := range w.profiles {
			if _, _, err := ip.match(ctx, bp.p, 20); err != nil {
				return err
			}
		}
	}
	for range 5 {
		for _, q := range w.queries {
			if _, err := ip.search(ctx, q); err != nil {
				return err
			}
		}
	}
	return nil
}
