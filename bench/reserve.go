package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/livematch/livematch/engine"
	"github.com/livematch/livematch/fixtures"
	"github.com/livematch/livematch/store"
)

// The reservations phase: POST /v1/reservations against the running
// matchd, one unit per request, (a) all on one hot product (a live-stream
// flash sale) and (b) spread over many products, at each of the clients
// levels; then (c) a correctness check: many clients race for a product
// with little stock, and the product's booked units must equal the units
// the server accepted, never above its stock.

// Stocks of the phase's products.
const (
	hotStock    = 1_000_000
	spreadStock = 100_000
	checkStock  = 500
)

// reserveResult is what the reservations phase measured.
type reserveResult struct {
	products       int           // products it loaded (spread + hot + check)
	setup          time.Duration // creating its orgs and loading its products until indexed
	hot, spread    []level
	hotCPU         []time.Duration // matchd's CPU time per reservation, by level
	spreadCPU      []time.Duration
	hotBooked      int64 // the hot product's booked units after its runs
	hotAccepted    int64 // reservations the server accepted on it
	spreadAccepted int64
	spreadChecked  int // products whose booked units were compared
	spreadMismatch int // … and differed from the accepted units
	check          reserveCheck
	checkClients   int
	checkDuration  time.Duration
}

// reserveCheck is the outcome of the contended correctness check.
type reserveCheck struct {
	asked, accepted       int64 // units asked for, units accepted (201)
	acceptedN, refusedN   int   // reservations accepted, refused with 409
	badRefusals, failures int   // 409s without a sound `available`, other answers
	booked, stock, avail  int64 // the product afterwards (GET /v1/products/{id})
	listed                int64 // units of its held reservations (GET /v1/reservations)
}

// reserveTemplates returns the phase's orgs, a supplier and an MCN copied
// from the catalogue's and named apart from them, and the supplier's
// catalogue products as templates for the phase's own products.
func reserveTemplates(cat fixtures.Catalogue) (fixtures.Catalogue, error) {
	supIdx, mcnIdx := -1, -1
	for i, o := range cat.Orgs {
		switch {
		case o.Kind == engine.OrgMCN && mcnIdx < 0:
			mcnIdx = i
		case o.Kind == engine.OrgCooperative && supIdx < 0:
			supIdx = i
		}
	}
	if supIdx < 0 || mcnIdx < 0 {
		return fixtures.Catalogue{}, fmt.Errorf("reservations: the catalogue has no cooperative or no MCN to copy")
	}
	sup, mcn := cat.Orgs[supIdx], cat.Orgs[mcnIdx]
	sup.NameZh, sup.NameEn = sup.NameZh+"（预订压测）", sup.NameEn+" (reservation bench)"
	mcn.NameZh, mcn.NameEn = mcn.NameZh+"（预订压测）", mcn.NameEn+" (reservation bench)"
	out := fixtures.Catalogue{Orgs: []engine.Org{sup, mcn}}
	for _, cp := range cat.Products {
		if cp.OrgIndex == supIdx {
			out.Products = append(out.Products, fixtures.CatalogueProduct{Product: cp.Product})
		}
	}
	if len(out.Products) == 0 {
		return fixtures.Catalogue{}, fmt.Errorf("reservations: the catalogue's first cooperative has no products")
	}
	return out, nil
}

// runReservations runs the phase on m with the orgs and product templates
// of reserveTemplates.
func runReservations(ctx context.Context, m *matchd, tpl fixtures.Catalogue, regions *fixtures.Regions, cfg config) (*reserveResult, error) {
	res := &reserveResult{}
	// Index 0: the hot product, 1: the check product, then the spread.
	cat := fixtures.Catalogue{Orgs: tpl.Orgs}
	add := func(sku string, stock int64) {
		p := tpl.Products[len(cat.Products)%len(tpl.Products)].Product
		p.SKU, p.Stock = sku, stock
		cat.Products = append(cat.Products, fixtures.CatalogueProduct{OrgIndex: 0, Product: p})
	}
	add("RSV-HOT", hotStock)
	add("RSV-CHECK", checkStock)
	for i := range cfg.reserveProducts {
		add(fmt.Sprintf("RSV-%06d", i), spreadStock)
	}
	res.products = len(cat.Products)
	t0 := time.Now()
	in, err := ingest(ctx, m, cat, regions, cfg.uploaders, cfg.chunk)
	if err != nil {
		return nil, fmt.Errorf("loading the reservation products: %w", err)
	}
	res.setup = time.Since(t0)
	mcnKey := in.keys[1]
	ids := make([]string, len(cat.Products))
	for i, cp := range cat.Products {
		ids[i] = store.ProductID(in.orgs[0].ID, cp.Product.SKU)
	}
	logf("reservations: %d products loaded and indexed in %s", len(ids), res.setup.Round(time.Millisecond))
	date := time.Now().Add(72 * time.Hour).Format(time.DateOnly)

	// (a) one hot product.
	pid := m.cmd.Process.Pid
	for _, c := range cfg.reserveClients {
		var accepted atomic.Int64
		cpu0 := procCPU(pid)
		l := measure(c, cfg.reserveRequests, func(int) error {
			st, raw, err := m.do(ctx, "POST", "/v1/reservations", mcnKey, map[string]any{"product_id": ids[0], "units": 1, "stream_date": date})
			if err == nil && st != http.StatusCreated {
				err = fmt.Errorf("POST /v1/reservations: %d %s", st, clip(raw))
			}
			if err == nil {
				accepted.Add(1)
			}
			return err
		})
		res.hot = append(res.hot, level{c, l})
		res.hotCPU = append(res.hotCPU, (procCPU(pid)-cpu0)/time.Duration(cfg.reserveRequests))
		res.hotAccepted += accepted.Load()
		logf("reservations: one hot product, %d clients: %s; matchd CPU %s per reservation", c, l, ms(res.hotCPU[len(res.hotCPU)-1]))
	}
	// (b) spread: each request picks a product at random.
	var mu sync.Mutex
	perProduct := map[int]int64{}
	rng := rand.New(rand.NewPCG(uint64(cfg.seed), 0x7273))
	for _, c := range cfg.reserveClients {
		picks := make([]int, cfg.reserveRequests)
		for i := range picks {
			picks[i] = 2 + rng.IntN(len(ids)-2)
		}
		cpu0 := procCPU(pid)
		l := measure(c, cfg.reserveRequests, func(i int) error {
			k := picks[i]
			st, raw, err := m.do(ctx, "POST", "/v1/reservations", mcnKey, map[string]any{"product_id": ids[k], "units": 1, "stream_date": date})
			if err == nil && st != http.StatusCreated {
				err = fmt.Errorf("POST /v1/reservations: %d %s", st, clip(raw))
			}
			if err == nil {
				mu.Lock()
				perProduct[k]++
				mu.Unlock()
			}
			return err
		})
		res.spread = append(res.spread, level{c, l})
		res.spreadCPU = append(res.spreadCPU, (procCPU(pid)-cpu0)/time.Duration(cfg.reserveRequests))
		logf("reservations: %d products, %d clients: %s; matchd CPU %s per reservation", len(ids)-2, c, l, ms(res.spreadCPU[len(res.spreadCPU)-1]))
	}

	// Booked units as the products show them (exact: from the ledger).
	booked := func(id string) (stock, booked, avail int64, err error) {
		var p struct {
			Stock     int64 `json:"stock"`
			Booked    int64 `json:"booked"`
			Available int64 `json:"available"`
		}
		err = m.call(ctx, "GET", "/v1/products/"+id, m.admin, nil, &p)
		return p.Stock, p.Booked, p.Available, err
	}
	if _, res.hotBooked, _, err = booked(ids[0]); err != nil {
		return res, err
	}
	keys := make([]int, 0, len(perProduct))
	for k, n := range perProduct {
		keys = append(keys, k)
		res.spreadAccepted += n
	}
	var checked, mismatch atomic.Int64
	var firstErr error
	var emu sync.Mutex
	measure(16, len(keys), func(i int) error {
		k := keys[i]
		_, b, _, err := booked(ids[k])
		if err != nil {
			emu.Lock()
			firstErr = err
			emu.Unlock()
			return err
		}
		checked.Add(1)
		if b != perProduct[k] {
			mismatch.Add(1)
		}
		return nil
	})
	if firstErr != nil {
		return res, firstErr
	}
	res.spreadChecked, res.spreadMismatch = int(checked.Load()), int(mismatch.Load())

	// (c) the contended check: 64 clients (or the most of the levels) ask
	// for 1–10 units each until the product has run out (about twice its
	// stock in all).
	clients := 64
	for _, c := range cfg.reserveClients {
		clients = max(clients, c)
	}
	res.checkClients = clients
	t0 = time.Now()
	res.check, err = reserveCheckRun(ctx, m, mcnKey, ids[1], date, clients, cfg.seed)
	if err != nil {
		return res, err
	}
	res.checkDuration = time.Since(t0)
	ck := &res.check
	if ck.stock, ck.booked, ck.avail, err = booked(ids[1]); err != nil {
		return res, err
	}
	if ck.listed, err = listedUnits(ctx, m, mcnKey, ids[1]); err != nil {
		return res, err
	}
	logf("reservations: check with %d clients: %d units asked, %d accepted in %d reservations, %d refused; the product shows stock %d, booked %d, available %d; held reservations list %d units",
		clients, ck.asked, ck.accepted, ck.acceptedN, ck.refusedN, ck.stock, ck.booked, ck.avail, ck.listed)
	return res, nil
}

// reserveCheckRun races clients for product id (stock checkStock): each
// asks for 1–10 units at a time, over and over, until it has been refused
// three times.
func reserveCheckRun(ctx context.Context, m *matchd, key, id, date string, clients int, seed int64) (reserveCheck, error) {
	var mu sync.Mutex
	var ck reserveCheck
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(seed), uint64(c)))
			for refused := 0; refused < 3; {
				units := 1 + rng.Int64N(10)
				st, raw, err := m.do(ctx, "POST", "/v1/reservations", key, map[string]any{"product_id": id, "units": units, "stream_date": date})
				mu.Lock()
				ck.asked += units
				switch {
				case err != nil:
					ck.failures++
				case st == http.StatusCreated:
					ck.accepted += units
					ck.acceptedN++
				case st == http.StatusConflict:
					ck.refusedN++
					refused++
					var pr struct {
						Available *int64 `json:"available"`
					}
					if json.Unmarshal(raw, &pr) != nil || pr.Available == nil || *pr.Available < 0 || *pr.Available >= units {
						ck.badRefusals++
					}
				default:
					ck.failures++
				}
				mu.Unlock()
				if err != nil || st != http.StatusCreated && st != http.StatusConflict {
					return
				}
			}
		})
	}
	wg.Wait()
	return ck, ctx.Err()
}

// listedUnits sums the units of the held reservations of product id that
// GET /v1/reservations lists for the MCN (every page).
func listedUnits(ctx context.Context, m *matchd, key, id string) (int64, error) {
	var sum int64
	cursor := ""
	for {
		q := url.Values{"product_id": {id}, "status": {"held"}, "limit": {"100"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var page struct {
			Items []struct {
				Units int64 `json:"units"`
			} `json:"items"`
			NextCursor string `json:"next_cursor"`
		}
		if err := m.call(ctx, "GET", "/v1/reservations?"+q.Encode(), key, nil, &page); err != nil {
			return 0, err
		}
		for _, it := range page.Items {
			sum += it.Units
		}
		if page.NextCursor == "" {
			return sum, nil
		}
		cursor = page.NextCursor
	}
}

// judge records the phase's failed checks in rep.
func (r *reserveResult) judge(rep *report) {
	for _, lv := range r.hot {
		if lv.l.errors > 0 {
			rep.fail("reservations on one product (%d clients): %d errors, first %v", lv.clients, lv.l.errors, lv.l.firstErr)
		}
	}
	for _, lv := range r.spread {
		if lv.l.errors > 0 {
			rep.fail("reservations over %d products (%d clients): %d errors, first %v", r.products-2, lv.clients, lv.l.errors, lv.l.firstErr)
		}
	}
	if r.hotBooked != r.hotAccepted {
		rep.fail("the hot product shows %d units booked, but %d reservations of one unit were accepted", r.hotBooked, r.hotAccepted)
	}
	if r.spreadMismatch > 0 {
		rep.fail("%d of %d products show booked units other than the reservations accepted on them", r.spreadMismatch, r.spreadChecked)
	}
	ck := r.check
	switch {
	case ck.failures > 0:
		rep.fail("reservation check: %d answers other than 201 and 409", ck.failures)
	case ck.badRefusals > 0:
		rep.fail("reservation check: %d refusals without an `available` below the units asked", ck.badRefusals)
	case ck.accepted > ck.stock || ck.stock != checkStock:
		rep.fail("reservation check: %d units accepted of a stock of %d (product stock %d)", ck.accepted, checkStock, ck.stock)
	case ck.booked != ck.accepted || ck.listed != ck.accepted || ck.avail != ck.stock-ck.booked:
		rep.fail("reservation check: accepted %d units, the product shows booked %d available %d, the held reservations list %d",
			ck.accepted, ck.booked, ck.avail, ck.listed)
	case ck.refusedN == 0:
		rep.fail("reservation check: %d units asked of a stock of %d and nothing was refused", ck.asked, ck.stock)
	}
}

// do sends one API request and returns the status and body, whatever the
// status.
func (m *matchd) do(ctx context.Context, method, path, key string, body any) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, m.base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+key)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := m.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	return resp.StatusCode, raw, err
}

// procCPU is the CPU time (user and system) a process has used so far, 0
// when unknown.
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command (field 2) may hold spaces: count fields after its ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)        // utime, field 14
	st, _ := strconv.ParseInt(f[12], 10, 64)        // stime, field 15
	return time.Duration(ut+st) * time.Second / 100 // USER_HZ
}

func clip(raw []byte) []byte { return bytes.TrimSpace(raw[:min(len(raw), 300)]) }
