package main

import (
	"context"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/livematch/livematch/api"
	"github.com/livematch/livematch/engine"
	"github.com/livematch/livematch/fixtures"
	"github.com/livematch/livematch/indexer"
	"github.com/livematch/livematch/store"
)

// inproc is livematch opened inside the benchmark process on a stopped
// matchd's data directory: the same database, index and API server, called
// without HTTP.
type inproc struct {
	emb    *store.Embedded
	st     *store.Store
	idx    *indexer.Index
	srv    *api.Server
	opened time.Duration // opening the index (catalogue restored)
}

// openInproc opens the data directory of a stopped matchd.
func openInproc(ctx context.Context, data string, regions *fixtures.Regions, gloss *fixtures.Glossary, now time.Time) (*inproc, error) {
	quiet := slog.New(slog.DiscardHandler)
	emb, err := store.StartEmbedded(ctx, filepath.Join(data, "db"), "127.0.0.1:0", quiet)
	if err != nil {
		return nil, err
	}
	ip := &inproc{emb: emb}
	if ip.st, err = store.Open(ctx, emb.URI(), store.Options{Database: "livematch", Logger: quiet, Embedded: emb}); err != nil {
		ip.close(ctx)
		return nil, err
	}
	start := time.Now()
	clock := func() time.Time { return now }
	if ip.idx, err = indexer.Open(indexer.Config{Path: filepath.Join(data, "index"), Glossary: gloss, Logger: quiet, Now: clock}); err != nil {
		ip.close(ctx)
		return nil, err
	}
	ip.opened = time.Since(start)
	hosts, err := indexer.NewHostIndex(gloss)
	if err != nil {
		ip.close(ctx)
		return nil, err
	}
	ip.srv = api.New(api.Config{Store: ip.st, Index: ip.idx, Hosts: hosts, Regions: regions, Geo: regions, Logger: quiet, RateLimit: -1, Now: clock})
	if err := ip.srv.RefreshOrgs(ctx); err != nil {
		ip.close(ctx)
		return nil, err
	}
	return ip, nil
}

func (ip *inproc) close(ctx context.Context) {
	if ip.idx != nil {
		_ = ip.idx.Close()
	}
	if ip.st != nil {
		_ = ip.st.Close(ctx)
	}
	_ = ip.emb.Close()
}

// match runs livematch's whole match path for p: index candidates, engine
// gates, factors, explanations, fair share.
func (ip *inproc) match(ctx context.Context, p *engine.DemandProfile, limit int) ([]string, []float64, error) {
	res, err := ip.srv.MatchProfile(ctx, p, limit)
	if err != nil {
		return nil, nil, err
	}
	ids, scores := make([]string, len(res.Items)), make([]float64, len(res.Items))
	for i, it := range res.Items {
		ids[i], scores[i] = it.Product.ID, it.Score
	}
	return ids, scores, nil
}

// plain runs the plain Bleve query of p.
func (ip *inproc) plain(ctx context.Context, p *engine.DemandProfile, now time.Time, limit int) ([]string, error) {
	return ip.idx.PlainMatch(ctx, api.CandidateQuery(p, now), limit)
}

// search runs a product search as GET /v1/products does.
func (ip *inproc) search(ctx context.Context, q benchQuery) (engine.ProductPage, error) {
	return ip.idx.Search(ctx, engine.ProductQuery{Q: q.q, Category: q.category, Limit: 20})
}
