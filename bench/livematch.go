package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/livematch/livematch/engine"
	"github.com/livematch/livematch/fixtures"
	"github.com/livematch/livematch/store"
)

// matchd is a livematch server the benchmark runs as a child process, as an
// operator would: its own binary, data directory, embedded FerretDB and
// Bleve index.
type matchd struct {
	bin, data, admin, base string
	cmd                    *exec.Cmd
	done                   chan error
	client                 *http.Client
	logf                   func(string, ...any)
}

// buildMatchd compiles ./cmd/matchd into dir.
func buildMatchd(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "matchd")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/matchd")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build ./cmd/matchd (run the benchmark from the repository root): %w", err)
	}
	return bin, nil
}

// freeAddr returns a loopback address with a free port.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// startMatchd starts the binary on data and waits until it answers
// /healthz (not until it is ready).
func startMatchd(ctx context.Context, bin, data, admin string, logf func(string, ...any)) (*matchd, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	logFile, err := os.OpenFile(filepath.Join(filepath.Dir(data), "matchd.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	m := &matchd{bin: bin, data: data, admin: admin, base: "http://" + addr, done: make(chan error, 1), logf: logf,
		client: &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
	args := []string{"serve", "--addr", addr, "--data", data, "--admin-key", admin, "--demo=false",
		"--rate-limit", "-1", "--log-level", "warn"}
	// BENCH_MATCHD_ARGS adds flags, e.g. --pprof-addr 127.0.0.1:6060 to profile it.
	args = append(args, strings.Fields(os.Getenv("BENCH_MATCHD_ARGS"))...)
	m.cmd = exec.Command(bin, args...)
	m.cmd.Stdout, m.cmd.Stderr = logFile, logFile
	if err := m.cmd.Start(); err != nil {
		logFile.Close()
		return nil, err
	}
	go func() { m.done <- m.cmd.Wait(); logFile.Close() }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if r, err := m.client.Get(m.base + "/healthz"); err == nil {
			r.Body.Close()
			return m, nil
		}
		select {
		case err := <-m.done:
			return nil, fmt.Errorf("matchd exited at start: %v (see %s)", err, logFile.Name())
		case <-ctx.Done():
			m.kill()
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			m.kill()
			return nil, errors.New("matchd did not listen within 60 s")
		}
	}
}

// waitReady polls /readyz until it answers 200.
func (m *matchd) waitReady(ctx context.Context, within time.Duration) error {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if r, err := m.client.Get(m.base + "/readyz"); err == nil {
			r.Body.Close()
			if r.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
	return fmt.Errorf("matchd not ready within %s", within)
}

// stop sends SIGTERM and waits for a clean exit.
func (m *matchd) stop() error {
	_ = m.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-m.done:
		return err
	case <-time.After(2 * time.Minute):
		m.kill()
		return errors.New("matchd did not stop within 2 minutes")
	}
}

func (m *matchd) kill() { _ = m.cmd.Process.Kill() }

// peakRSS is the process's peak resident set (VmHWM) in bytes.
func (m *matchd) peakRSS() int64 { return vmHWM(m.cmd.Process.Pid) }

// rssSplit is the process's resident set now: anonymous memory (the Go
// heap and stacks) and file-backed pages (the mapped index segments and
// the binary), which the kernel can drop and read again.
func (m *matchd) rssSplit() (anon, file int64) {
	return procStatus(m.cmd.Process.Pid, "RssAnon"), procStatus(m.cmd.Process.Pid, "RssFile")
}

// vmHWM reads a process's peak resident set size from /proc.
func vmHWM(pid int) int64 { return procStatus(pid, "VmHWM") }

// procStatus reads a size in kB from /proc/pid/status, in bytes (0 when
// unknown).
func procStatus(pid int, field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// call sends one API request and decodes a 2xx JSON answer into out (if
// not nil); any other status is an error quoting the body.
func (m *matchd) call(ctx context.Context, method, path, key string, body, out any) error {
	var rd io.Reader
	ctype := "application/json"
	switch b := body.(type) {
	case nil:
	case []byte:
		rd, ctype = bytes.NewReader(b), "application/x-ndjson"
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, m.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+key)
	if rd != nil {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := m.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, bytes.TrimSpace(raw[:min(len(raw), 300)]))
	}
	if out != nil {
		return json.Unmarshal(raw, out)
	}
	return nil
}

// ingestResult is what loading the catalogue through the API measured.
type ingestResult struct {
	orgs        []*engine.Org // as created, with ids
	keys        []string      // their API keys
	products    int
	orgTime     time.Duration // creating the orgs
	ackTime     time.Duration // from the first product POST to the last acknowledgment
	searchable  time.Duration // from the first product POST until the index had every product
	peakRSS     int64
	requestSize int
}

// ingest creates the catalogue's orgs and loads its products through
// POST /v1/products:bulk from `clients` uploaders, then waits until the
// index holds every product (lag 0).
func ingest(ctx context.Context, m *matchd, cat fixtures.Catalogue, regions *fixtures.Regions, clients, chunk int) (*ingestResult, error) {
	res := &ingestResult{orgs: make([]*engine.Org, len(cat.Orgs)), requestSize: chunk}
	keys := make([]string, len(cat.Orgs))
	start := time.Now()
	errs := make(chan error, len(cat.Orgs))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i := range cat.Orgs {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			o := cat.Orgs[i]
			body := map[string]any{"kind": string(o.Kind), "name_zh": o.NameZh, "name_en": o.NameEn,
				"region_code": o.RegionCode, "grade": string(o.Grade), "status": string(o.Status)}
			if len(o.Countries) > 0 {
				body["countries"] = o.Countries
			}
			var out struct {
				ID     string `json:"id"`
				APIKey string `json:"api_key"`
			}
			if err := m.call(ctx, "POST", "/v1/orgs", m.admin, body, &out); err != nil {
				errs <- fmt.Errorf("org %d: %w", i, err)
				return
			}
			o.ID = out.ID
			if err := engine.PrepareOrg(&o, regions); err != nil {
				errs <- err
				return
			}
			res.orgs[i], keys[i] = &o, out.APIKey
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, err
	}
	res.orgTime = time.Since(start)
	res.keys = keys

	// NDJSON chunks, one org each.
	byOrg := map[int][][]byte{}
	for _, cp := range cat.Products {
		line, err := json.Marshal(productLine(&cp.Product))
		if err != nil {
			return nil, err
		}
		byOrg[cp.OrgIndex] = append(byOrg[cp.OrgIndex], line)
	}
	type job struct {
		org   int
		lines [][]byte
	}
	jobs := make(chan job)
	perr := make(chan error, clients)
	start = time.Now()
	for range clients {
		wg.Go(func() {
			for j := range jobs {
				body := append(bytes.Join(j.lines, []byte("\n")), '\n')
				var out struct {
					Accepted int `json:"accepted"`
					Rejected int `json:"rejected"`
				}
				if err := m.call(ctx, "POST", "/v1/products:bulk", keys[j.org], body, &out); err != nil {
					perr <- err
					return
				}
				if out.Accepted != len(j.lines) {
					perr <- fmt.Errorf("bulk: %d of %d accepted", out.Accepted, len(j.lines))
					return
				}
			}
		})
	}
feed:
	for org := range len(cat.Orgs) {
		lines := byOrg[org]
		for len(lines) > 0 {
			n := min(chunk, len(lines))
			select {
			case jobs <- job{org, lines[:n]}:
			case err := <-perr:
				close(jobs)
				wg.Wait()
				return nil, err
			}
			lines = lines[n:]
			res.products += n
			if ctx.Err() != nil {
				break feed
			}
		}
	}
	close(jobs)
	wg.Wait()
	select {
	case err := <-perr:
		return nil, err
	default:
	}
	res.ackTime = time.Since(start)
	for {
		var st struct {
			Documents uint64 `json:"documents"`
			Lag       int64  `json:"lag"`
		}
		if err := m.call(ctx, "GET", "/v1/index/status", m.admin, nil, &st); err != nil {
			return nil, err
		}
		if st.Documents >= uint64(res.products) && st.Lag == 0 {
			break
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		time.Sleep(20 * time.Millisecond)
	}
	res.searchable = time.Since(start)
	res.peakRSS = m.peakRSS()
	return res, nil
}

// productLine is the API form of a catalogue product.
func productLine(p *engine.Product) map[string]any {
	certs := make([]map[string]any, 0, len(p.Certifications))
	for _, c := range p.Certifications {
		cm := map[string]any{"type": c.Type, "number": c.Number, "issuer": c.Issuer}
		if !c.ExpiresAt.IsZero() {
			cm["expires_at"] = c.ExpiresAt.Format(time.RFC3339)
		}
		certs = append(certs, cm)
	}
	line := map[string]any{"sku": p.SKU, "title_zh": p.TitleZh, "title_en": p.TitleEn,
		"description_zh": p.DescriptionZh, "description_en": p.DescriptionEn, "category": p.Category,
		"tags": p.Tags, "price_cny": p.PriceCNY, "commission_rate": p.CommissionRate, "stock": p.Stock,
		"moq": p.MOQ, "lead_time_days": p.LeadTimeDays, "ship_from": p.ShipFrom, "cold_chain": p.ColdChain,
		"shelf_life_days": p.ShelfLifeDays, "available_months": p.AvailableMonths, "certifications": certs,
		"origin_country": p.OriginCountry, "export_ready": p.ExportReady, "sample_available": p.SampleAvailable}
	if p.LivePriceCNY > 0 {
		line["live_price_cny"] = p.LivePriceCNY
	}
	return line
}

// productID is the id livematch gives a catalogue product once its org has one.
func productID(orgs []*engine.Org, cp fixtures.CatalogueProduct) string {
	return store.ProductID(orgs[cp.OrgIndex].ID, cp.Product.SKU)
}

// matchResp is the part of a match answer the benchmark reads.
type matchResp struct {
	Items []struct {
		Product struct {
			ID string `json:"id"`
		} `json:"product"`
		Score float64 `json:"score"`
	} `json:"items"`
}

// top returns the answer's product ids and scores.
func (r matchResp) top() ([]string, []float64) {
	ids, scores := make([]string, len(r.Items)), make([]float64, len(r.Items))
	for k, it := range r.Items {
		ids[k], scores[k] = it.Product.ID, it.Score
	}
	return ids, scores
}

// searchPath is the search request of q.
func searchPath(q benchQuery) string {
	v := url.Values{"q": {q.q}}
	if q.category != "" {
		v.Set("category", q.category)
	}
	return "/v1/products?" + v.Encode()
}
