package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/livematch/livematch/api"
	"github.com/livematch/livematch/engine"
	"github.com/livematch/livematch/fixtures"
	"github.com/livematch/livematch/indexer"
	"github.com/livematch/livematch/store"
)

func (m *Main) demoKeysPath() string { return filepath.Join(m.Config.DataDir, "demo-keys.json") }

// demoKey is one line of demo-keys.json.
type demoKey struct {
	OrgID  string `json:"org_id"`
	Kind   string `json:"kind"`
	Name   string `json:"name"`
	APIKey string `json:"api_key"`
}

// seedIfEmpty loads the demo catalogue when the database has no products.
func (m *Main) seedIfEmpty(ctx context.Context) error {
	n, err := m.store.CountProducts(ctx)
	if err != nil || n > 0 {
		return err
	}
	return m.seed(ctx)
}

// seed loads the demo catalogue. Orgs have fixed ids, so seeding twice
// leaves existing orgs (and their keys) alone and upserts products by sku.
// Keys of newly created demo orgs are written to demo-keys.json.
func (m *Main) seed(ctx context.Context) error {
	cat := fixtures.Demo(m.regions)
	if n := m.Config.SeedProducts; n > 0 {
		cat = fixtures.Generate(1, max(20, n/500), n, m.regions)
	}
	orgs := make([]*engine.Org, len(cat.Orgs))
	var keys []demoKey
	for i := range cat.Orgs {
		o := cat.Orgs[i]
		o.ID = fmt.Sprintf("org_demo_%02d", i+1)
		if err := engine.PrepareOrg(&o, m.regions); err != nil {
			return fmt.Errorf("demo org %d: %w", i, err)
		}
		existing, err := m.store.GetOrg(ctx, o.ID)
		switch {
		case err == nil:
			orgs[i] = existing
			continue
		case !engine.IsKind(err, engine.KindNotFound):
			return err
		}
		if err := m.store.CreateOrg(ctx, &o); err != nil {
			return err
		}
		key, err := api.IssueKey(ctx, m.store, o.ID)
		if err != nil {
			return err
		}
		orgs[i] = &o
		keys = append(keys, demoKey{OrgID: o.ID, Kind: string(o.Kind), Name: o.NameZh + " / " + o.NameEn, APIKey: key})
	}
	var batch []*engine.Product
	for _, dp := range cat.Products {
		p := dp.Product
		owner := orgs[dp.OrgIndex]
		if err := engine.PrepareProduct(&p, owner, m.regions); err != nil {
			return fmt.Errorf("demo product %s: %w", p.SKU, err)
		}
		batch = append(batch, &p)
	}
	for start := 0; start < len(batch); start += 500 {
		res, err := m.store.BulkUpsertProducts(ctx, batch[start:min(start+500, len(batch))], nil)
		if err != nil {
			return err
		}
		for _, r := range res {
			if r.Err != nil {
				return r.Err
			}
		}
	}
	if err := m.seedHosts(ctx, cat, orgs); err != nil {
		return err
	}
	if err := m.seedProfiles(ctx, cat, orgs); err != nil {
		return err
	}
	if err := m.seedDeals(ctx, cat, orgs, batch); err != nil {
		return err
	}
	if len(keys) > 0 {
		b, _ := json.MarshalIndent(keys, "", "  ")
		if err := os.WriteFile(m.demoKeysPath(), append(b, '\n'), 0o600); err != nil {
			return err
		}
	}
	m.log.Info("demo catalogue loaded", "orgs", len(orgs), "products", len(batch), "keys", m.demoKeysPath())
	return nil
}

// seedHosts adds the demo hosts to the demo MCNs, unless there are hosts.
func (m *Main) seedHosts(ctx context.Context, cat fixtures.Catalogue, orgs []*engine.Org) error {
	n := 0
	if err := m.store.ScanHosts(ctx, func(*engine.Host) error { n++; return nil }); err != nil || n > 0 {
		return err
	}
	for _, dh := range fixtures.DemoHosts(cat, time.Now()) {
		h := dh.Host
		h.OrgID = orgs[dh.OrgIndex].ID
		if err := engine.PrepareHost(&h); err != nil {
			return fmt.Errorf("demo host %s: %w", h.Name, err)
		}
		if _, err := m.store.CreateHost(ctx, &h); err != nil {
			return err
		}
	}
	return nil
}

// seedProfiles adds the demo demand profiles to the demo MCNs, unless
// there are profiles.
func (m *Main) seedProfiles(ctx context.Context, cat fixtures.Catalogue, orgs []*engine.Org) error {
	n := 0
	if err := m.store.ScanProfiles(ctx, func(*engine.DemandProfile) error { n++; return nil }); err != nil || n > 0 {
		return err
	}
	now := time.Now()
	for _, dp := range fixtures.DemoProfiles(cat, now) {
		p := dp.Profile
		if err := engine.PrepareProfile(&p, m.regions, now); err != nil {
			return fmt.Errorf("demo profile %s: %w", p.Name, err)
		}
		p.OrgID = orgs[dp.OrgIndex].ID
		if err := m.store.CreateProfile(ctx, &p); err != nil {
			return err
		}
	}
	return nil
}

// seedDeals adds the demo reservations and sample requests, unless there
// are reservations. The units are booked in the stock ledger like any
// reservation's.
func (m *Main) seedDeals(ctx context.Context, cat fixtures.Catalogue, orgs []*engine.Org, products []*engine.Product) error {
	if rs, err := m.store.ListReservations(ctx, store.DealFilter{Limit: 1}); err != nil || len(rs) > 0 {
		return err
	}
	now := time.Now()
	deals, samples := fixtures.DemoDeals(cat, now)
	for _, dd := range deals {
		p, err := m.store.GetProduct(ctx, products[dd.ProductIndex].ID)
		if err != nil {
			return err
		}
		r := &engine.Reservation{ProductID: p.ID, Units: dd.Units, StreamDate: dd.StreamDate, Note: dd.Note}
		if err := engine.PrepareReservation(r, now); err != nil {
			return fmt.Errorf("demo reservation: %w", err)
		}
		r.SupplierOrgID, r.MCNOrgID = p.OrgID, orgs[dd.MCNIndex].ID
		r.ProductSKU, r.ProductTitleZh, r.ProductTitleEn = p.SKU, p.TitleZh, p.TitleEn
		got, err := m.store.CreateReservation(ctx, p, r)
		if err != nil {
			return fmt.Errorf("demo reservation: %w", err)
		}
		for _, step := range dd.Steps {
			actor := store.Actor{OrgID: got.SupplierOrgID, Party: step.By}
			if step.By == engine.PartyMCN {
				actor.OrgID = got.MCNOrgID
			}
			if _, err := m.store.ChangeReservation(ctx, got.ID, 0, actor, step); err != nil {
				return fmt.Errorf("demo reservation %s: %w", step.Action, err)
			}
		}
	}
	for _, ds := range samples {
		p := products[ds.ProductIndex]
		r := &engine.SampleRequest{ProductID: p.ID, SupplierOrgID: p.OrgID, MCNOrgID: orgs[ds.MCNIndex].ID, ShipToRegion: ds.ShipTo,
			Note: ds.Note, ProductSKU: p.SKU, ProductTitleZh: p.TitleZh, ProductTitleEn: p.TitleEn}
		if err := engine.PrepareSampleRequest(r, p.SampleAvailable, m.regions); err != nil {
			return fmt.Errorf("demo sample request: %w", err)
		}
		got, err := m.store.CreateSampleRequest(ctx, r)
		if err != nil {
			return err
		}
		for _, step := range ds.Steps {
			if _, err := m.store.ChangeSampleRequest(ctx, got.ID, 0, store.Actor{OrgID: got.SupplierOrgID, Party: step.By}, step); err != nil {
				return fmt.Errorf("demo sample request %s: %w", step.Action, err)
			}
		}
	}
	return nil
}

func (m *Main) runSeed(ctx context.Context) error {
	if err := m.waitInit(ctx); err != nil {
		return err
	}
	start := time.Now()
	if err := m.seed(ctx); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "loaded in %s; ", time.Since(start).Round(time.Millisecond))
	fmt.Fprintf(m.Stdout, "demo catalogue loaded; org keys in %s; the index catches up at the next start\n", m.demoKeysPath())
	return nil
}

func (m *Main) runImport(ctx context.Context) error {
	if err := m.waitInit(ctx); err != nil {
		return err
	}
	org, err := m.store.GetOrg(ctx, m.Config.ImportOrg)
	if err != nil {
		return fmt.Errorf("--org %s: %w", m.Config.ImportOrg, err)
	}
	if !org.Kind.IsSupplier() {
		return fmt.Errorf("--org %s is a %s; only factories, cooperatives and importers list products", org.ID, org.Kind)
	}
	f, err := os.Open(m.Config.ImportFile)
	if err != nil {
		return err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	bar := progressbar.NewOptions64(info.Size(), progressbar.OptionSetWriter(m.Stderr),
		progressbar.OptionSetDescription("importing"), progressbar.OptionShowBytes(true),
		progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish())
	r := progressbar.NewReader(f, bar)
	start := time.Now()
	res, err := api.ImportProducts(ctx, api.ImportConfig{Store: m.store, Regions: m.regions, ReviewRequired: m.Config.ReviewRequired}, &r, org, nil)
	_ = bar.Finish()
	took := time.Since(start)
	fmt.Fprintf(m.Stdout, "accepted %d, rejected %d in %s (%.0f lines/s)\n", res.Accepted, res.Rejected,
		took.Round(time.Millisecond), float64(res.Accepted+res.Rejected)/took.Seconds())
	for i, e := range res.Errors {
		if i == 20 {
			fmt.Fprintf(m.Stdout, "… and %d more rejected lines\n", len(res.Errors)-20)
			break
		}
		for _, f := range e.Errors {
			fmt.Fprintf(m.Stdout, "line %d %s: %s: %s\n", e.Line, e.SKU, f.Field, f.Message)
		}
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(m.Stdout, "the search index picks the products up when matchd serve starts")
	return nil
}

func (m *Main) runReindex(ctx context.Context) error {
	if err := m.waitInit(ctx); err != nil {
		return err
	}
	var err error
	if m.gloss, err = fixtures.LoadGlossary(); err != nil {
		return err
	}
	mark := m.store.Feed().Watermark()
	total, err := m.store.CountProducts(ctx)
	if err != nil {
		return err
	}
	bar := progressbar.NewOptions64(total, progressbar.OptionSetWriter(m.Stderr),
		progressbar.OptionSetDescription("reindexing"), progressbar.OptionShowCount(), progressbar.OptionShowIts(),
		progressbar.OptionThrottle(100*time.Millisecond))
	scan := func(ctx context.Context, fn func(indexer.Change) error) error {
		return m.store.ScanProducts(ctx, 0, func(c store.ProductChange) error {
			if c.Deleted {
				return nil
			}
			return fn(indexer.Change{Seq: c.Seq, ID: c.ID, Product: c.Product})
		})
	}
	start := time.Now()
	idx, err := indexer.Rebuild(ctx, indexer.Config{Path: m.indexPath(), Glossary: m.gloss, Logger: m.log},
		scan, indexer.RebuildOptions{Checkpoint: mark, Progress: func(n int) { _ = bar.Set(n) }})
	_ = bar.Finish()
	if err != nil {
		return err
	}
	m.index = idx
	n, _ := idx.DocCount()
	took := time.Since(start)
	fmt.Fprintf(m.Stdout, "\nreindexed %d products in %s (%.0f/s); checkpoint %d\n", n, took.Round(time.Millisecond), float64(n)/took.Seconds(), mark)
	return nil
}

// runHealthcheck asks a running server's /healthz (for container health
// checks, where no curl is installed).
func (m *Main) runHealthcheck(ctx context.Context) error {
	addr := m.Config.Addr
	if host, port, err := net.SplitHostPort(addr); err == nil && (host == "" || host == "0.0.0.0" || host == "::") {
		addr = net.JoinHostPort("127.0.0.1", port)
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/healthz", nil)
	if err != nil {
		return err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("healthz answered %d", res.StatusCode)
	}
	return nil
}
