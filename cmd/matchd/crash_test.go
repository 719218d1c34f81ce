package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/livematch/livematch/store"
)

// TestCrashRecovery builds the real matchd binary, bulk-imports products into
// it in the background, kills it with SIGKILL at seeded random moments,
// restarts it on the same data directory and checks that every product whose
// batch was acknowledged is in the database and searchable, that the index
// holds exactly what the database holds, and that the index reaches lag 0.
// One round corrupts the index while matchd is down (it must be moved aside
// and rebuilt), one deletes it and kills matchd again during the rebuild.
// CRASH_SEED=<n> replays a run.
func TestCrashRecovery(t *testing.T) {
	testStart := time.Now()
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("CRASH_SEED"); v != "" {
		var err error
		if seed, err = strconv.ParseUint(v, 10, 64); err != nil {
			t.Fatalf("CRASH_SEED: %v", err)
		}
	}
	t.Logf("seed %d (CRASH_SEED=%d replays this run)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))

	bin, buildTook := crashBuild(t)
	dir := t.TempDir()
	cs := &crashState{
		t: t, bin: bin, dir: dir,
		client:    &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}},
		attempted: map[string]string{},
		acked:     map[string]bool{},
		present:   map[string]bool{},
		known:     map[string]string{},
	}
	t.Cleanup(cs.client.CloseIdleConnections)

	p := cs.start()
	cs.createOrg(p)

	// Five plain crash rounds, one that corrupts the index while matchd is
	// down and one that deletes it, in a seeded order.
	plan := []string{"crash", "crash", "crash", "crash", "crash", "corrupt", "delete"}
	rng.Shuffle(len(plan), func(i, j int) { plan[i], plan[j] = plan[j], plan[i] })
	var maxReady time.Duration
	for round, kind := range plan {
		round++
		delay := time.Duration(50+rng.IntN(751)) * time.Millisecond
		sent, acked, reposted := cs.load(p, round, delay)
		if err := p.wait(10 * time.Second); err != nil {
			t.Fatalf("round %d: matchd did not exit after SIGKILL: %v", round, err)
		}
		note := ""
		asideBefore := cs.asideCount()
		switch kind {
		case "corrupt":
			note = cs.corruptIndex(rng)
		case "delete":
			if err := os.RemoveAll(filepath.Join(dir, "index")); err != nil {
				t.Fatal(err)
			}
			// Kill it again while it rebuilds the index from the database
			// (or just after, on a fast machine), then let it finish.
			q := cs.spawn()
			kd := time.Duration(rng.IntN(600)) * time.Millisecond
			time.Sleep(kd)
			wasReady := q.ready()
			q.kill()
			if err := q.wait(10 * time.Second); err != nil {
				t.Fatalf("round %d: matchd did not exit after SIGKILL: %v", round, err)
			}
			note = fmt.Sprintf("index deleted; killed again %v into the rebuild (ready then: %v)", kd, wasReady)
		}
		p = cs.start()
		maxReady = max(maxReady, p.readyAfter)
		switch n := cs.asideCount(); {
		case kind == "corrupt" && n != asideBefore+1:
			t.Fatalf("round %d: %d index.corrupt-* directories, want %d (the corrupt index was not moved aside); output:\n%s",
				round, n, asideBefore+1, p.out.String())
		case kind == "crash" && n != asideBefore:
			// Bleve persists a batch and its checkpoint atomically: a kill
			// costs at most a catch-up, never the index.
			t.Errorf("round %d: a kill -9 left an index that had to be moved aside; output:\n%s", round, p.out.String())
		}
		vstart := time.Now()
		cs.verify(p, round, kind != "crash" || round == len(plan), rng)
		t.Logf("round %d (%s): killed after %v: %d new batches sent, %d acknowledged, %d re-posts; restart to ready %v; "+
			"%d products in the database, verified in %v. %s",
			round, kind, delay, sent, acked, reposted, p.readyAfter.Round(time.Millisecond), len(cs.present),
			time.Since(vstart).Round(time.Millisecond), note)
		if t.Failed() {
			t.FailNow()
		}
	}
	t.Logf("summary: seed %d, %d rounds, %d batches sent, %d acknowledged (%d products), %d products in the database, "+
		"%d products read by id and %d listed by search over all checks, max restart-to-ready %v, build %v, total %v",
		seed, len(plan), cs.batchesSent, cs.batchesAcked, len(cs.acked), len(cs.present), cs.reads, cs.listed,
		maxReady.Round(time.Millisecond), buildTook.Round(time.Millisecond), time.Since(testStart).Round(time.Millisecond))
}

const crashAdminKey = "lm_crash_test_admin_key"

// crashState is what the crash test knows across rounds.
type crashState struct {
	t      *testing.T
	bin    string
	dir    string
	client *http.Client
	orgID  string
	key    string

	attempted map[string]string // product id -> sku of every product ever sent
	acked     map[string]bool   // ids of products whose batch was acknowledged
	present   map[string]bool   // ids found in the database at the last check
	known     map[string]string // id -> "v<version> s<stock>" in the database, "" if absent
	tokens    []string          // search tokens of acknowledged batches

	batchesSent, batchesAcked int
	reads, listed             int // products read by id, and listed by search, over all checks
}

// crashBuild builds this package's binary into a temporary directory.
func crashBuild(t *testing.T) (string, time.Duration) {
	t.Helper()
	start := time.Now()
	bin := filepath.Join(t.TempDir(), "matchd")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./")
	cmd.Dir = "." // the package directory: tests run in it
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin, time.Since(start)
}

// crashProc is one running matchd subprocess.
type crashProc struct {
	cmd        *exec.Cmd
	base       string
	out        *syncBuffer
	exited     chan struct{}
	err        error // of Wait, once exited is closed
	readyAfter time.Duration
}

// spawn starts matchd on a free loopback port without waiting for it.
func (cs *crashState) spawn() *crashProc {
	t := cs.t
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	p := &crashProc{base: "http://" + addr, out: &syncBuffer{}, exited: make(chan struct{})}
	p.cmd = exec.Command(cs.bin, "serve", "--addr", addr, "--data", cs.dir, "--admin-key", crashAdminKey,
		"--demo=false", "--review-required=false", "--log-level", "warn", "--rate-limit", "-1",
		"--embedded-addr", "127.0.0.1:0", "--db-name", "livematch")
	p.cmd.Env = append(os.Environ(), "MONGODB_URI=") // always the embedded database over dir
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		p.kill()
		_ = p.wait(10 * time.Second)
	})
	return p
}

// start spawns matchd and waits until /readyz answers 200 (at most 60 s).
// A start that loses its port to another process is retried.
func (cs *crashState) start() *crashProc {
	t := cs.t
	t.Helper()
	for attempt := 0; ; attempt++ {
		began := time.Now()
		p := cs.spawn()
		if cs.waitReady(p, began.Add(60*time.Second), attempt < 2) {
			p.readyAfter = time.Since(began)
			return p
		}
	}
}

// waitReady polls /readyz until deadline; it returns false if matchd exited
// because its port was taken (and retry is allowed).
func (cs *crashState) waitReady(p *crashProc, deadline time.Time, retry bool) bool {
	t := cs.t
	t.Helper()
	for !p.ready() {
		select {
		case <-p.exited:
			if retry && strings.Contains(p.out.String(), "address already in use") {
				return false
			}
			t.Fatalf("matchd exited before it was ready (%v); output:\n%s", p.err, p.out.String())
		case <-time.After(25 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("matchd not ready in 60 s; output:\n%s", p.out.String())
		}
	}
	return true
}

func (p *crashProc) ready() bool {
	c := http.Client{Timeout: 2 * time.Second}
	res, err := c.Get(p.base + "/readyz")
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, res.Body)
	_ = res.Body.Close()
	return res.StatusCode == http.StatusOK
}

// kill sends SIGKILL (a no-op once the process has exited).
func (p *crashProc) kill() {
	select {
	case <-p.exited:
	default:
		_ = p.cmd.Process.Kill()
	}
}

func (p *crashProc) wait(d time.Duration) error {
	select {
	case <-p.exited:
		return nil
	case <-time.After(d):
		return errors.New("timed out")
	}
}

// do sends a request and returns the status and body.
func (cs *crashState) do(ctx context.Context, p *crashProc, method, path, key string, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, p.base+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	res, err := cs.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	return res.StatusCode, raw, err
}

// getJSON GETs path and decodes a 200 answer into v.
func (cs *crashState) getJSON(p *crashProc, path, key string, v any) {
	t := cs.t
	t.Helper()
	st, raw, err := cs.do(context.Background(), p, "GET", path, key, nil)
	if err != nil || st != http.StatusOK {
		t.Fatalf("GET %s: %d %v %s", path, st, err, raw)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}

func (cs *crashState) createOrg(p *crashProc) {
	t := cs.t
	st, raw, err := cs.do(context.Background(), p, "POST", "/v1/orgs", crashAdminKey,
		[]byte(`{"kind":"cooperative","name_zh":"兴国县崩溃测试合作社","name_en":"Crash test co-op","region_code":"360732"}`))
	var org struct {
		ID     string `json:"id"`
		APIKey string `json:"api_key"`
	}
	if err != nil || st != http.StatusCreated || json.Unmarshal(raw, &org) != nil || org.APIKey == "" {
		t.Fatalf("create org: %d %v %s", st, err, raw)
	}
	cs.orgID, cs.key = org.ID, org.APIKey
}

// Each loader posts batches of crashBatch new products. After
// crashMaxBatches new batches in a round (so that search paging, capped at
// offset 10000, can list everything) the loaders re-post their last batch
// (updates of the same products) until the kill, so that writes are always
// in flight when it comes.
const (
	crashBatch      = 50
	crashLoaders    = 2
	crashMaxBatches = 12
	crashSample     = 300 // products of earlier rounds re-read by id after a plain crash round
)

// load runs crashLoaders goroutines bulk-importing into p, kills p with
// SIGKILL after delay, and records what was sent and acknowledged.
func (cs *crashState) load(p *crashProc, round int, delay time.Duration) (sent, acked, reposted int) {
	t := cs.t
	type batch struct {
		token string
		skus  []string
		ok    bool
	}
	var (
		mu       sync.Mutex
		batches  []*batch
		failures []string
		budget   atomic.Int64
		reposts  atomic.Int64
		wg       sync.WaitGroup
	)
	budget.Store(crashMaxBatches)
	ctx, cancel := context.WithCancel(context.Background())
	for w := range crashLoaders {
		wg.Go(func() {
			var last *batch
			for n := 0; ctx.Err() == nil; n++ {
				b := last
				if budget.Add(-1) < 0 && last != nil {
					reposts.Add(1)
				} else {
					b = &batch{token: fmt.Sprintf("zqr%dw%db%d", round, w, n)}
					for i := range crashBatch {
						b.skus = append(b.skus, fmt.Sprintf("CR-%d-%d-%d-%d", round, w, n, i))
					}
					mu.Lock()
					batches = append(batches, b)
					mu.Unlock()
				}
				body := crashBody(b.token, b.skus, 100+n) // a re-post changes the stock
				st, raw, err := cs.do(ctx, p, "POST", "/v1/products:bulk", cs.key, body)
				if err != nil {
					return // killed: this batch is in flight, unacknowledged
				}
				var res struct {
					Accepted int `json:"accepted"`
					Rejected int `json:"rejected"`
				}
				if st == http.StatusOK && json.Unmarshal(raw, &res) == nil && res.Accepted == crashBatch && res.Rejected == 0 {
					mu.Lock()
					b.ok = true
					mu.Unlock()
					last = b
					continue
				}
				mu.Lock()
				failures = append(failures, fmt.Sprintf("batch %s: %d %s", b.token, st, raw))
				mu.Unlock()
				return
			}
		})
	}
	time.Sleep(delay)
	p.kill()
	wg.Wait() // the requests in flight fail once the process is gone
	cancel()
	for _, f := range failures {
		t.Errorf("round %d: a bulk import was answered but not fully accepted: %s", round, f)
	}
	for _, b := range batches {
		sent++
		for _, sku := range b.skus {
			cs.attempted[store.ProductID(cs.orgID, sku)] = sku
		}
		if b.ok {
			acked++
			cs.tokens = append(cs.tokens, b.token)
			for _, sku := range b.skus {
				cs.acked[store.ProductID(cs.orgID, sku)] = true
			}
		}
	}
	cs.batchesSent += sent
	cs.batchesAcked += acked
	return sent, acked, int(reposts.Load())
}

// crashBody renders one NDJSON batch.
func crashBody(token string, skus []string, stock int) []byte {
	var body bytes.Buffer
	for i, sku := range skus {
		line, _ := json.Marshal(map[string]any{
			"sku": sku, "title_zh": "崩溃测试 赣南脐橙 第" + strconv.Itoa(i) + "箱",
			"title_en": "crash test navel oranges " + token, "category": "fresh_fruit",
			"tags": []string{"礼盒"}, "price_cny": 10 + i, "stock": stock + i, "ship_from": "360732",
		})
		body.Write(append(line, '\n'))
	}
	return body.Bytes()
}

// verify checks, after a restart, that the index reaches lag 0, that every
// acknowledged product is in the database, and that search lists exactly the
// products of the database, each at its version and stock there. A full
// check re-reads every product by id; otherwise only this round's products
// and a sample of earlier ones are read.
func (cs *crashState) verify(p *crashProc, round int, full bool, rng *rand.Rand) {
	t := cs.t
	t.Helper()

	// (1) The index catches up: lag 0.
	var status struct {
		Documents int   `json:"documents"`
		Applied   int64 `json:"last_seq_applied"`
		Head      int64 `json:"head_seq"`
		Lag       int64 `json:"lag"`
		Ready     bool  `json:"ready"`
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		cs.getJSON(p, "/v1/index/status", crashAdminKey, &status)
		if status.Lag == 0 && status.Ready {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("round %d: index lag still %+v after 30 s", round, status)
		}
		time.Sleep(50 * time.Millisecond)
	}

	// (2) The database, read by id: every product sent in this round, and
	// every earlier one on a full check (else a seeded sample of them; they
	// do not change after their round). Acknowledged products must be there;
	// the others (in flight at the kill) may or may not be, but must not
	// change their minds later.
	var ids, older []string
	for id := range cs.attempted {
		if _, seen := cs.known[id]; seen {
			older = append(older, id)
		} else {
			ids = append(ids, id)
		}
	}
	slices.Sort(older)
	if !full && len(older) > crashSample {
		rng.Shuffle(len(older), func(i, j int) { older[i], older[j] = older[j], older[i] })
		older = older[:crashSample]
	}
	ids = append(ids, older...)
	got := map[string]string{} // id -> state in the database, "" when absent
	var (
		mu   sync.Mutex
		errs []string
		next atomic.Int64
		wg   sync.WaitGroup
	)
	for range 4 {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(ids) {
					return
				}
				id := ids[i]
				st, raw, err := cs.do(context.Background(), p, "GET", "/v1/products/"+id, cs.key, nil)
				var prod struct {
					SKU     string `json:"sku"`
					Version int64  `json:"version"`
					Stock   int64  `json:"stock"`
				}
				mu.Lock()
				switch {
				case err != nil:
					errs = append(errs, fmt.Sprintf("GET %s: %v", id, err))
				case st == http.StatusOK && json.Unmarshal(raw, &prod) == nil && prod.SKU == cs.attempted[id]:
					got[id] = fmt.Sprintf("v%d s%d", prod.Version, prod.Stock)
				case st == http.StatusNotFound:
					got[id] = ""
				default:
					errs = append(errs, fmt.Sprintf("GET %s (sku %s): %d %s", id, cs.attempted[id], st, raw))
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	cs.reads += len(ids)
	for _, e := range errs[:min(len(errs), 5)] {
		t.Errorf("round %d: %s", round, e)
	}
	if len(errs) > 0 {
		t.FailNow()
	}
	var lost []string
	for id, state := range got {
		before, seen := cs.known[id]
		switch {
		case state == "" && cs.acked[id]:
			lost = append(lost, cs.attempted[id])
		case seen && state != before:
			t.Errorf("round %d: product %s was %q in the database after an earlier restart and is %q now (\"\" = absent)",
				round, cs.attempted[id], before, state)
		}
		cs.known[id] = state
	}
	if len(lost) > 0 {
		slices.Sort(lost)
		t.Errorf("round %d: %d acknowledged products are missing from the database, e.g. %v", round, len(lost), lost[:min(len(lost), 5)])
	}
	present := map[string]bool{}
	for id, state := range cs.known {
		if state != "" {
			present[id] = true
		}
	}
	cs.present = present

	// (3) Search lists exactly the database's products of the org.
	listed := map[string]bool{}
	cursor := ""
	for page := 0; ; page++ {
		if page > 200 {
			t.Fatalf("round %d: paging did not end", round)
		}
		var res struct {
			Items []struct {
				ID      string `json:"id"`
				SKU     string `json:"sku"`
				Version int64  `json:"version"`
				Stock   int64  `json:"stock"`
			} `json:"items"`
			NextCursor string `json:"next_cursor"`
			Total      int    `json:"total"`
		}
		q := url.Values{"org_id": {cs.orgID}, "limit": {"100"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		cs.getJSON(p, "/v1/products?"+q.Encode(), cs.key, &res)
		if res.Total != len(present) {
			t.Fatalf("round %d: search total %d, but the database holds %d products of the org (acknowledged %d)",
				round, res.Total, len(present), len(cs.acked))
		}
		for _, it := range res.Items {
			if listed[it.ID] {
				t.Fatalf("round %d: search listed %s twice", round, it.SKU)
			}
			listed[it.ID] = true
			switch got := fmt.Sprintf("v%d s%d", it.Version, it.Stock); {
			case !present[it.ID]:
				t.Errorf("round %d: search lists %s (%s), which is not in the database", round, it.ID, it.SKU)
			case got != cs.known[it.ID]:
				t.Errorf("round %d: search has %s at %s, the database at %s", round, it.SKU, got, cs.known[it.ID])
			}
		}
		if cursor = res.NextCursor; cursor == "" {
			break
		}
	}
	if len(listed) != len(present) {
		var missing []string
		for id := range present {
			if !listed[id] {
				missing = append(missing, cs.attempted[id])
			}
		}
		slices.Sort(missing)
		t.Errorf("round %d: search lists %d products, the database holds %d; not listed e.g. %v",
			round, len(listed), len(present), missing[:min(len(missing), 5)])
	}
	if status.Documents != len(present) {
		t.Errorf("round %d: the index has %d documents, the database %d products", round, status.Documents, len(present))
	}
	cs.listed += len(listed)

	// (4) Full-text search finds a random acknowledged batch by its token.
	if len(cs.tokens) > 0 {
		tok := cs.tokens[rng.IntN(len(cs.tokens))]
		var res struct {
			Total int `json:"total"`
		}
		cs.getJSON(p, "/v1/products?"+url.Values{"q": {tok}, "org_id": {cs.orgID}, "limit": {"1"}}.Encode(), cs.key, &res)
		if res.Total != crashBatch {
			t.Errorf("round %d: q=%s finds %d products, want %d", round, tok, res.Total, crashBatch)
		}
	}
}

func (cs *crashState) asideCount() int {
	m, _ := filepath.Glob(filepath.Join(cs.dir, "index.corrupt-*"))
	return len(m)
}

// corruptIndex damages the stopped matchd's index in one of several seeded
// ways and says which.
func (cs *crashState) corruptIndex(rng *rand.Rand) string {
	t := cs.t
	t.Helper()
	idx := filepath.Join(cs.dir, "index")
	var files []string
	_ = filepath.WalkDir(idx, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			files = append(files, path)
		}
		return nil
	})
	pick := func(suffix string) string {
		var c []string
		for _, f := range files {
			if strings.HasSuffix(f, suffix) {
				c = append(c, f)
			}
		}
		if len(c) == 0 {
			return ""
		}
		slices.Sort(c)
		return c[rng.IntN(len(c))]
	}
	how := rng.IntN(5)
	target := ""
	switch how {
	case 0:
		if target = pick("index_meta.json"); target != "" {
			crashWriteFile(t, target, []byte("garbage"))
		}
	case 1: // both bolt meta pages
		if target = pick("root.bolt"); target != "" {
			crashGarble(t, target, 8192, rng)
		}
	case 2:
		if target = pick("root.bolt"); target != "" {
			crashGarble(t, target, -1, rng)
		}
	case 3: // every segment, since some may be leftovers no snapshot uses
		for _, f := range files {
			if strings.HasSuffix(f, ".zap") {
				crashTruncateHalf(t, f)
				target = filepath.Join(filepath.Dir(f), "*.zap")
			}
		}
	case 4: // a few bytes inside each segment's term and posting data
		for _, f := range files {
			if strings.HasSuffix(f, ".zap") {
				crashFlipMiddle(t, f)
				target = filepath.Join(filepath.Dir(f), "*.zap")
			}
		}
	}
	if target == "" { // no such file: damage the metadata
		target = filepath.Join(idx, "index_meta.json")
		crashWriteFile(t, target, []byte("garbage"))
		how = 0
	}
	what := []string{"overwrote", "garbled the first 8 KiB of", "garbled", "truncated", "flipped 8 bytes mid-file in"}[how]
	rel, _ := filepath.Rel(cs.dir, target)
	return fmt.Sprintf("%s %s", what, rel)
}

func crashWriteFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// crashFlipMiddle inverts 8 bytes in the middle of the file: Bleve maps
// such a segment without complaint, only its checksum tells.
func crashFlipMiddle(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := len(b) / 2; i < len(b)/2+8 && i < len(b); i++ {
		b[i] ^= 0xff
	}
	crashWriteFile(t, path, b)
}

func crashTruncateHalf(t *testing.T, path string) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, fi.Size()/2); err != nil {
		t.Fatal(err)
	}
}

// crashGarble overwrites the first n bytes of a file (all if n < 0) with
// random bytes, keeping its size.
func crashGarble(t *testing.T, path string, n int64, rng *rand.Rand) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if n < 0 || n > fi.Size() {
		n = fi.Size()
	}
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
}
