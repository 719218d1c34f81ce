package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/livematch/livematch/store"
)

// Database outages and graceful shutdown, end to end: matchd in process over
// a FerretDB that the test stops and starts, and the real binary under load
// receiving SIGTERM.

const outageAdmin = "lm_test_admin_key"

// outageClientTimeout is far above the server's request timeout (10 s): a
// request that has not answered by then has hung.
const outageClientTimeout = 15 * time.Second

var outageClient = &http.Client{Timeout: outageClientTimeout}

// outageReply is one HTTP exchange.
type outageReply struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
	took   time.Duration
}

// outageDo makes one request; err is a transport error (including the
// client timeout).
func outageDo(client *http.Client, method, url, key, body string) (outageReply, error) {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		return outageReply{}, err
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	start := time.Now()
	res, err := client.Do(req)
	if err != nil {
		return outageReply{took: time.Since(start)}, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	r := outageReply{status: res.StatusCode, header: res.Header, raw: string(raw), took: time.Since(start)}
	if err != nil {
		return r, err
	}
	_ = json.Unmarshal(raw, &r.body)
	return r, nil
}

// outageCall is outageDo that fails the test on a transport error.
func outageCall(tb testing.TB, base, method, path, key, body string) outageReply {
	tb.Helper()
	r, err := outageDo(outageClient, method, base+path, key, body)
	if err != nil {
		tb.Fatalf("%s %s: no answer after %v: %v", method, path, r.took.Round(time.Millisecond), err)
	}
	return r
}

// outageFreeAddr returns 127.0.0.1:port for a port that was free a moment ago.
func outageFreeAddr(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		tb.Fatal(err)
	}
	return addr
}

// outageDB is an embedded FerretDB the test stops and starts on one
// directory and address.
type outageDB struct {
	tb   testing.TB
	dir  string
	addr string
	mu   sync.Mutex
	e    *store.Embedded
}

// newOutageDB prepares (without starting) a FerretDB on addr over a fresh
// directory; it is stopped at cleanup.
func newOutageDB(tb testing.TB, addr string) *outageDB {
	d := &outageDB{tb: tb, dir: tb.TempDir(), addr: addr}
	tb.Cleanup(d.stop)
	return d
}

// start starts FerretDB, retrying for a while if the port is not free yet.
func (d *outageDB) start() {
	d.tb.Helper()
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.e != nil {
		d.tb.Fatal("FerretDB is already running")
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		e, err := store.StartEmbedded(context.Background(), d.dir, d.addr, nil)
		if err == nil {
			d.e = e
			return
		}
		if time.Now().After(deadline) {
			d.tb.Fatalf("starting FerretDB on %s: %v", d.addr, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (d *outageDB) stop() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.e != nil {
		_ = d.e.Close()
		d.e = nil
	}
}

// outageStartMain is startMain without waiting for readiness; Close runs at
// cleanup.
func outageStartMain(tb testing.TB, dir string, extra ...string) (*Main, *syncBuffer) {
	tb.Helper()
	out := &syncBuffer{}
	m := NewMain()
	m.Stdout, m.Stderr = out, out
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--data", dir, "--log-level", "warn", "--admin-key", outageAdmin}, extra...)
	if err := m.ParseFlags(args); err != nil {
		tb.Fatal(err)
	}
	if err := m.Run(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = m.Close() })
	return m, out
}

// outageWaitStatus polls path until it answers want, within limit; it
// returns how long that took and the answer.
func outageWaitStatus(tb testing.TB, base, path string, want int, limit time.Duration) (time.Duration, outageReply) {
	tb.Helper()
	start := time.Now()
	var last outageReply
	for time.Since(start) < limit {
		r, err := outageDo(outageClient, "GET", base+path, "", "")
		if err != nil {
			tb.Fatalf("GET %s: no answer after %v: %v", path, r.took.Round(time.Millisecond), err)
		}
		if r.status == want {
			return time.Since(start), r
		}
		last = r
		time.Sleep(100 * time.Millisecond)
	}
	tb.Fatalf("GET %s did not answer %d within %v; last %d %s", path, want, limit, last.status, last.raw)
	return 0, last
}

// outageReq is one request of a batch.
type outageReq struct{ method, path, key, body string }

func (q outageReq) String() string { return q.method + " " + q.path }

// outageCallAll makes the requests concurrently (each may take the
// database's server-selection timeout while it is down) and fails the test
// if any got no answer within the client timeout.
func outageCallAll(tb testing.TB, base string, reqs []outageReq) []outageReply {
	tb.Helper()
	replies := make([]outageReply, len(reqs))
	errs := make([]error, len(reqs))
	var wg sync.WaitGroup
	for i, q := range reqs {
		wg.Go(func() { replies[i], errs[i] = outageDo(outageClient, q.method, base+q.path, q.key, q.body) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			tb.Fatalf("%s: no answer after %v: %v", reqs[i], replies[i].took.Round(time.Millisecond), err)
		}
	}
	return replies
}

// outageWant503 checks a 503 problem with Retry-After.
func outageWant503(tb testing.TB, what string, r outageReply) {
	tb.Helper()
	if r.status != http.StatusServiceUnavailable {
		tb.Errorf("%s: status %d, want 503; body %s", what, r.status, r.raw)
		return
	}
	if r.header.Get("Retry-After") == "" {
		tb.Errorf("%s: 503 without Retry-After", what)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		tb.Errorf("%s: Content-Type %q, want application/problem+json", what, ct)
	}
	if r.body["status"] != float64(503) || r.body["type"] == nil {
		tb.Errorf("%s: not a 503 problem document: %s", what, r.raw)
	}
}

// outageListProducts pages through GET /v1/products?org_id= and returns the
// products found (sku → id) and the reported total.
func outageListProducts(tb testing.TB, base, key, orgID string) (map[string]string, int) {
	tb.Helper()
	skus := map[string]string{}
	total := -1
	cursor := ""
	for range 1000 {
		path := "/v1/products?limit=100&org_id=" + orgID
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		r := outageCall(tb, base, "GET", path, key, "")
		if r.status != 200 {
			tb.Fatalf("GET %s: %d %s", path, r.status, r.raw)
		}
		if total < 0 {
			total = int(r.body["total"].(float64))
		}
		for _, it := range r.body["items"].([]any) {
			p := it.(map[string]any)
			skus[p["sku"].(string)] = p["id"].(string)
		}
		cursor, _ = r.body["next_cursor"].(string)
		if cursor == "" {
			return skus, total
		}
	}
	tb.Fatal("too many pages")
	return nil, 0
}

func outageCreateOrg(tb testing.TB, base, kind, region string) (id, key string) {
	tb.Helper()
	r := outageCall(tb, base, "POST", "/v1/orgs", outageAdmin,
		fmt.Sprintf(`{"kind":%q,"name_zh":"停机测试工厂","region_code":%q}`, kind, region))
	if r.status != 201 {
		tb.Fatalf("create org: %d %s", r.status, r.raw)
	}
	return r.body["id"].(string), r.body["api_key"].(string)
}

func outageProduct(sku, title string) string {
	return fmt.Sprintf(`{"sku":%q,"title_zh":%q,"category":"fresh_fruit","price_cny":19.9,"stock":100}`, sku, title)
}

func TestDatabaseOutage(t *testing.T) {
	t.Setenv("MONGODB_URI", "")
	db := newOutageDB(t, outageFreeAddr(t))
	db.start()
	m, out := startMain(t, t.TempDir(), "--mongodb-uri", "mongodb://"+db.addr+"/", "--demo=false", "--rate-limit", "-1")
	t.Cleanup(func() { _ = m.Close() }) // before the database stops
	base := "http://" + m.Addr()

	orgID, key := outageCreateOrg(t, base, "factory", "510824")
	r := outageCall(t, base, "POST", "/v1/products", key, outageProduct("OUT-1", "停机前的苍溪猕猴桃"))
	if r.status != 201 {
		t.Fatalf("product: %d %s", r.status, r.raw)
	}
	prodID := r.body["id"].(string)
	if r := outageCall(t, base, "GET", "/readyz", "", ""); r.status != 200 {
		t.Fatalf("readyz before the outage: %d %s", r.status, r.raw)
	}

	// Writers keep posting products of another org across the outage: each
	// write answers 2xx or 503, never 500, and never hangs.
	wOrg, wKey := outageCreateOrg(t, base, "importer", "310000")
	type attempt struct {
		sku    string
		status int
		retry  string
		err    error
		start  time.Time
	}
	const writers = 4
	var (
		stopWriters atomic.Bool
		writersWG   sync.WaitGroup
		attempts    = make([][]attempt, writers)
	)
	for w := range writers {
		writersWG.Go(func() {
			for i := 0; !stopWriters.Load(); i++ {
				sku := fmt.Sprintf("W-%d-%d", w, i)
				start := time.Now()
				r, err := outageDo(outageClient, "POST", base+"/v1/products", wKey, outageProduct(sku, "停机前后的写入"))
				attempts[w] = append(attempts[w], attempt{sku, r.status, r.header.Get("Retry-After"), err, start})
				if err != nil {
					return
				}
			}
		})
	}
	t.Cleanup(func() { stopWriters.Store(true); writersWG.Wait() })
	time.Sleep(300 * time.Millisecond)

	// The database goes away.
	stopAt := time.Now()
	db.stop()
	stoppedAt := time.Now()
	t.Logf("stopping FerretDB took %v", stoppedAt.Sub(stopAt).Round(time.Millisecond))

	// /readyz answers 503, and API calls answer 503 problems with
	// Retry-After, never 500, and never hang (outageCallAll fails on the
	// client timeout). Two rounds: the first, together with the first
	// readiness probe, meets connections broken by the outage, the second an
	// empty pool.
	// The service first notices (its heartbeat or a probe); from then on it
	// answers as below.
	if _, r := outageWaitStatus(t, base, "/readyz", 503, 30*time.Second); r.status != 503 {
		t.Fatalf("readyz never answered 503 after the database stopped")
	}
	for i := range 2 {
		reqs := []outageReq{
			{"GET", "/readyz", "", ""},
			{"GET", "/healthz", "", ""},
			{"GET", "/v1/orgs/" + orgID, key, ""},
			{"GET", "/v1/orgs/" + orgID, outageAdmin, ""},
			{"POST", "/v1/products", key, outageProduct(fmt.Sprintf("OUT-DOWN-%d", i), "停机中的写入")},
			{"GET", "/v1/products/" + prodID, key, ""},
			{"GET", "/v1/products?q=猕猴桃", key, ""},
			{"POST", "/v1/orgs", outageAdmin, `{"kind":"mcn","name_zh":"停机中的机构","region_code":"310000"}`},
		}
		if i > 0 {
			reqs = reqs[1:]
		}
		for j, r := range outageCallAll(t, base, reqs) {
			t.Logf("round %d: %s → %d in %v", i, reqs[j], r.status, r.took.Round(time.Millisecond))
			switch reqs[j].path {
			case "/healthz":
				if r.status != 200 {
					t.Errorf("healthz during the outage: %d", r.status)
				}
			case "/readyz":
				if r.status == 503 {
					t.Logf("the first readiness probe after the database stopped answered 503 in %v", r.took.Round(time.Millisecond))
				} else {
					// Not yet: poll (bounded) until it flips.
					_, r = outageWaitStatus(t, base, "/readyz", 503, 30*time.Second)
					t.Logf("readyz answered 503 %v after the database stopped", time.Since(stoppedAt).Round(time.Millisecond))
				}
				if r.header.Get("Retry-After") == "" {
					t.Errorf("readyz 503 without Retry-After: %s", r.raw)
				}
				if checks, _ := r.body["checks"].(map[string]any); checks["database"] != "unavailable" {
					t.Errorf("readyz during the outage does not blame the database: %s", r.raw)
				}
			default:
				outageWant503(t, fmt.Sprintf("round %d: %s", i, reqs[j]), r)
			}
		}
		if i == 0 {
			stopWriters.Store(true)
			writersWG.Wait()
		}
	}

	var all []attempt
	counts := map[int]int{}
	ackedAfterStop := 0
	for _, as := range attempts {
		all = append(all, as...)
		for _, a := range as {
			counts[a.status]++
			switch {
			case a.err != nil:
				t.Errorf("write %s across the outage: no answer: %v", a.sku, a.err)
			case a.status == 503 && a.retry == "":
				t.Errorf("write %s across the outage: 503 without Retry-After", a.sku)
			case a.status != 200 && a.status != 201 && a.status != 503:
				t.Errorf("write %s across the outage: status %d", a.sku, a.status)
			case a.status/100 == 2 && a.start.After(stoppedAt):
				// Sent when the database was already gone, yet acknowledged.
				// (A write in flight while FerretDB shut down may complete
				// during its shutdown; it must then be stored, see below.)
				ackedAfterStop++
			}
		}
	}
	t.Logf("writes across the outage: %d, by status %v; %d sent after the database stopped and acknowledged", len(all), counts, ackedAfterStop)
	if ackedAfterStop > 0 {
		t.Errorf("%d writes sent after the database stopped were acknowledged", ackedAfterStop)
	}

	// The database comes back on the same files and address: the service
	// recovers without a restart.
	db.start()
	rec, _ := outageWaitStatus(t, base, "/readyz", 200, 30*time.Second)
	t.Logf("readyz answered 200 %v after the database restarted", rec.Round(time.Millisecond))
	if !m.Ready() {
		t.Error("Main is not ready after recovery")
	}
	if r := outageCall(t, base, "GET", "/v1/orgs/"+orgID, key, ""); r.status != 200 {
		t.Errorf("org after recovery: %d %s", r.status, r.raw)
	}
	if r := outageCall(t, base, "GET", "/v1/products/"+prodID, key, ""); r.status != 200 || r.body["sku"] != "OUT-1" {
		t.Errorf("product after recovery: %d %s", r.status, r.raw)
	}
	r = outageCall(t, base, "POST", "/v1/products", key, outageProduct("OUT-2", "恢复后的写入"))
	if r.status != 201 {
		t.Fatalf("write after recovery: %d %s", r.status, r.raw)
	}
	// The write reaches search (the index follower survived the outage),
	// and the writes refused during the outage are not there.
	deadline := time.Now().Add(10 * time.Second)
	var skus map[string]string
	for {
		skus, _ = outageListProducts(t, base, key, orgID)
		if skus["OUT-2"] != "" || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if skus["OUT-1"] != prodID || skus["OUT-2"] == "" || len(skus) != 2 {
		t.Errorf("search after recovery: %v", skus)
	}

	// The writes across the outage: every acknowledged one is searchable
	// (the index only learns of stored writes), and for the refused ones the
	// database and the search agree.
	wSkus, _ := outageListProducts(t, base, wKey, wOrg)
	refusedStored := 0
	for _, a := range all {
		if a.status/100 == 2 {
			if wSkus[a.sku] == "" {
				t.Errorf("acknowledged write %s missing from search after recovery", a.sku)
			}
			continue
		}
		r := outageCall(t, base, "GET", "/v1/products/"+store.ProductID(wOrg, a.sku), wKey, "")
		stored := r.status == 200
		if stored {
			refusedStored++
		}
		switch {
		case r.status != 200 && r.status != 404:
			t.Errorf("GET %s after recovery: %d %s", a.sku, r.status, r.raw)
		case stored != (wSkus[a.sku] != ""):
			t.Errorf("write %s (answered %d): in the database %v, in search %v", a.sku, a.status, stored, wSkus[a.sku] != "")
		}
	}
	t.Logf("after recovery: %d in search; %d of the refused writes were stored all the same", len(wSkus), refusedStored)
	if t.Failed() {
		t.Logf("matchd output:\n%s", out.String())
	}
}

func TestStartsWhileDatabaseDown(t *testing.T) {
	t.Setenv("MONGODB_URI", "")
	addr := outageFreeAddr(t)  // nothing listens here yet
	db := newOutageDB(t, addr) // not started; stopped after matchd closes
	m, out := outageStartMain(t, t.TempDir(), "--mongodb-uri", "mongodb://"+addr+"/", "--demo=false")
	base := "http://" + m.Addr()

	// Up, not ready, and it says so; /v1 answers 503 with Retry-After.
	check := func(when string, reqs []outageReq) {
		t.Helper()
		if m.Ready() {
			t.Fatalf("%s: ready without a database", when)
		}
		for i, r := range outageCallAll(t, base, reqs) {
			t.Logf("%s: %s → %d in %v", when, reqs[i], r.status, r.took.Round(time.Millisecond))
			switch reqs[i].path {
			case "/healthz":
				if r.status != 200 {
					t.Errorf("%s: healthz %d", when, r.status)
				}
			case "/readyz":
				if r.status != 503 || r.header.Get("Retry-After") == "" {
					t.Errorf("%s: readyz %d Retry-After %q %s", when, r.status, r.header.Get("Retry-After"), r.raw)
				}
				if checks, _ := r.body["checks"].(map[string]any); checks["startup"] == nil || checks["database"] != "unavailable" {
					t.Errorf("%s: readyz checks %s", when, r.raw)
				}
			default:
				outageWant503(t, when+": "+reqs[i].String(), r)
			}
		}
	}
	api := []outageReq{
		{"GET", "/healthz", "", ""},
		{"GET", "/v1/orgs", outageAdmin, ""},
		{"POST", "/v1/orgs", outageAdmin, `{"kind":"factory","name_zh":"停机测试工厂","region_code":"510824"}`},
		{"GET", "/v1/products?q=kiwi", outageAdmin, ""},
		{"GET", "/v1/meta/categories", "", ""},
	}
	// readyz takes a while to answer: bootstrap keeps retrying meanwhile.
	check("at start", append([]outageReq{{"GET", "/readyz", "", ""}}, api...))
	check("later", api)
	// The first attempt gives up after the driver's server-selection
	// timeout; wait (bounded) for the retry to be reported.
	for deadline := time.Now().Add(20 * time.Second); !strings.Contains(out.String(), "database unreachable; retrying"); {
		if time.Now().After(deadline) {
			t.Errorf("no retry warning in the log:\n%s", out.String())
			break
		}
		time.Sleep(50 * time.Millisecond)
	}

	// The database appears: matchd becomes ready by itself and serves.
	db.start()
	took, _ := outageWaitStatus(t, base, "/readyz", 200, 30*time.Second)
	t.Logf("ready %v after the database started", took.Round(time.Millisecond))
	if !m.Ready() {
		t.Error("readyz 200 but Main not ready")
	}
	orgID, key := outageCreateOrg(t, base, "cooperative", "360732")
	if r := outageCall(t, base, "POST", "/v1/products", key, outageProduct("LATE-1", "迟到的数据库")); r.status != 201 {
		t.Fatalf("product: %d %s", r.status, r.raw)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		skus, _ := outageListProducts(t, base, key, orgID)
		if skus["LATE-1"] != "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("product not searchable: %v", skus)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if t.Failed() {
		t.Logf("matchd output:\n%s", out.String())
	}
}

// outageProc is the matchd binary running as a subprocess.
type outageProc struct {
	cmd    *exec.Cmd
	base   string
	stderr *syncBuffer
	done   chan struct{}
	err    error // from Wait, valid after done
}

// outageBuild builds the binary into a temporary directory (the test's
// working directory is this package's).
func outageBuild(tb testing.TB) string {
	tb.Helper()
	bin := filepath.Join(tb.TempDir(), "matchd")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		tb.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// outageStartBinary starts the binary over dir and waits for its ready
// banner; the process is killed at cleanup if still running.
func outageStartBinary(tb testing.TB, bin, dir string) *outageProc {
	tb.Helper()
	p := &outageProc{stderr: &syncBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--data", dir, "--demo=false",
		"--rate-limit", "-1", "--admin-key", outageAdmin, "--log-level", "warn")
	p.cmd.Stderr = p.stderr
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	addrCh := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "livematch is ready on "); ok {
				select {
				case addrCh <- a:
				default:
				}
			}
		}
		// Wait must not run before the pipe is drained.
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	tb.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
	select {
	case a := <-addrCh:
		p.base = a
	case <-p.done:
		tb.Fatalf("matchd exited before it was ready: %v\n%s", p.err, p.stderr.String())
	case <-time.After(60 * time.Second):
		tb.Fatalf("matchd not ready in 60 s:\n%s", p.stderr.String())
	}
	return p
}

// outageResult is what one load client saw.
type outageResult struct {
	acked     []string // skus answered 2xx
	bad       []string // non-2xx answers, and errors before shutdown began
	connErrs  int      // transport errors after shutdown began
	errTexts  []string
	errSkus   []string // the skus of those requests
	requests  int
	afterTerm int // 2xx answers to requests sent after SIGTERM was sent
	inFlight  int // 2xx answers to requests sent before SIGTERM, answered after
}

func TestGracefulShutdownUnderLoad(t *testing.T) {
	t.Setenv("MONGODB_URI", "")
	bin := outageBuild(t)
	dir := t.TempDir()
	p := outageStartBinary(t, bin, dir)
	orgID, key := outageCreateOrg(t, p.base, "factory", "330106")

	const clients = 8
	var (
		termAt  atomic.Int64 // UnixNano of SIGTERM; 0 before
		stop    atomic.Bool
		wg      sync.WaitGroup
		results = make([]outageResult, clients)
	)
	t.Cleanup(func() { stop.Store(true); wg.Wait() })
	for c := range clients {
		wg.Go(func() {
			res := &results[c]
			// One connection per client, kept alive, as a real client would.
			client := &http.Client{Timeout: outageClientTimeout, Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
			defer client.CloseIdleConnections()
			for i := 0; !stop.Load(); i++ {
				sku := fmt.Sprintf("LOAD-%d-%d", c, i)
				sentAfterTerm := termAt.Load() != 0
				r, err := outageDo(client, "POST", p.base+"/v1/products", key, outageProduct(sku, "负载测试商品 "+sku))
				res.requests++
				answeredAfterTerm := termAt.Load() != 0
				switch {
				case err != nil && answeredAfterTerm:
					// The server stopped taking connections: this client is done.
					res.connErrs++
					res.errTexts = append(res.errTexts, err.Error())
					res.errSkus = append(res.errSkus, sku)
					return
				case err != nil:
					res.bad = append(res.bad, fmt.Sprintf("%s: %v", sku, err))
					return
				case r.status >= 200 && r.status < 300:
					res.acked = append(res.acked, sku)
					if sentAfterTerm {
						res.afterTerm++
					} else if answeredAfterTerm {
						res.inFlight++
					}
				default:
					res.bad = append(res.bad, fmt.Sprintf("%s: %d %s", sku, r.status, r.raw))
				}
			}
		})
	}

	time.Sleep(time.Second)
	sigAt := time.Now()
	termAt.Store(sigAt.UnixNano())
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.done:
	case <-time.After(25 * time.Second):
		stop.Store(true)
		t.Fatalf("matchd did not exit within 25 s of SIGTERM:\n%s", p.stderr.String())
	}
	exitTook := time.Since(sigAt)
	var ee *exec.ExitError
	if p.err != nil && !errors.As(p.err, &ee) {
		t.Fatalf("wait: %v", p.err)
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("exit code %d after SIGTERM, want 0:\n%s", code, p.stderr.String())
	}
	stop.Store(true)
	waitDone := make(chan struct{})
	go func() { wg.Wait(); close(waitDone) }()
	select {
	case <-waitDone:
	case <-time.After(outageClientTimeout + 5*time.Second):
		t.Fatal("load clients did not finish")
	}

	var acked, errSkus []string
	var requests, connErrs, afterTerm, inFlight int
	errKinds := map[string]int{}
	for c, res := range results {
		acked = append(acked, res.acked...)
		requests += res.requests
		connErrs += res.connErrs
		afterTerm += res.afterTerm
		inFlight += res.inFlight
		errSkus = append(errSkus, res.errSkus...)
		for _, e := range res.errTexts {
			errKinds[e[strings.LastIndex(e, ": ")+2:]]++
		}
		for _, b := range res.bad {
			t.Errorf("client %d: %s", c, b)
		}
	}
	t.Logf("%d requests, %d acknowledged (%d in flight at SIGTERM and answered after it, %d sent after it), %d connection errors after SIGTERM %v; exit %v after SIGTERM",
		requests, len(acked), inFlight, afterTerm, connErrs, errKinds, exitTook.Round(time.Millisecond))
	if len(acked) < clients {
		t.Fatalf("only %d writes acknowledged under load", len(acked))
	}
	// A clean shutdown logs no errors. (The follower's "applying changes to
	// the index failed; will retry ... context canceled", logged when the
	// shutdown cancels a drain that the final drain then redoes, is a known
	// spurious message and is not counted here.)
	spurious := 0
	for line := range strings.Lines(p.stderr.String()) {
		switch {
		case !strings.Contains(line, "level=ERROR"):
		case strings.Contains(line, "applying changes to the index failed") && strings.Contains(line, "context canceled"):
			spurious++
		default:
			t.Errorf("error logged during the run: %s", line)
		}
	}
	t.Logf("follower's known spurious errors logged at shutdown: %d", spurious)

	// Nothing acknowledged is lost: after a restart on the same directory
	// every acknowledged product is in the database and in search.
	p2 := outageStartBinary(t, bin, dir)
	skus, total := outageListProducts(t, p2.base, key, orgID)
	missing := 0
	for _, sku := range acked {
		if skus[sku] == "" {
			missing++
			if missing <= 10 {
				t.Errorf("acknowledged product %s missing from search after restart", sku)
			}
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d acknowledged products missing", missing, len(acked))
	}
	// A request that met a connection error should not have been carried
	// out (an in-flight request is answered before the server closes).
	for _, sku := range errSkus {
		if skus[sku] != "" {
			t.Errorf("product %s is stored although its request got a connection error", sku)
		}
	}
	if total != len(skus) || total < len(acked) || total > requests {
		t.Errorf("search total %d, listed %d, acknowledged %d, attempted %d", total, len(skus), len(acked), requests)
	}
	for _, sku := range acked[:min(len(acked), 5)] {
		if r := outageCall(t, p2.base, "GET", "/v1/products/"+skus[sku], key, ""); r.status != 200 || r.body["sku"] != sku {
			t.Errorf("GET product %s after restart: %d %s", sku, r.status, r.raw)
		}
	}
	if err := p2.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p2.done:
		if code := p2.cmd.ProcessState.ExitCode(); code != 0 {
			t.Errorf("second run: exit code %d:\n%s", code, p2.stderr.String())
		}
	case <-time.After(25 * time.Second):
		t.Errorf("second run did not exit within 25 s of SIGTERM")
	}
}
