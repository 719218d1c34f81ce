package indexer

import (
	"context"
	"slices"
	"strings"
	"sync"

	"github.com/blevesearch/bleve/v2"

	"github.com/livematch/livematch/engine"
)

// Host text fields and their boosts.
const (
	hName  = "name"
	hBioZh = "bio_zh"
	hBioEn = "bio_en"
	hCats  = "categories"
)

var hostFields = [...]fieldBoost{{hName, 1}, {hBioZh, 2}, {hBioEn, 2}, {hCats, 1}}

// hostDoc is what Bleve indexes for a host.
type hostDoc struct {
	Name       string `json:"name"`
	BioZh      string `json:"bio_zh"`
	BioEn      string `json:"bio_en"`
	Categories string `json:"categories"` // category names in both languages
}

// HostIndex holds the hosts in memory with a Bleve index of their names,
// bios and categories, analysed like products (Chinese unigrams and
// bigrams, English stemming, traditional folded to simplified, glossary
// expansion of queries). It is derived data: the caller fills it from a
// database sweep at start-up and keeps it in step on every host write, so
// it never needs a checkpoint. Hosts number in the thousands, not millions.
// Safe for concurrent use.
type HostIndex struct {
	idx   bleve.Index
	qb    queryBuilder
	gloss Glossary

	mu    sync.RWMutex
	hosts map[string]*engine.Host
}

// NewHostIndex returns an empty in-memory host index.
func NewHostIndex(g Glossary) (*HostIndex, error) {
	const op = "indexer.NewHostIndex"
	if g == nil {
		g = noGlossary{}
	}
	im, err := newMapping(defaultOptions())
	if err != nil {
		return nil, engine.Wrap(engine.KindInternal, op, "bad host mapping", err)
	}
	doc := bleve.NewDocumentStaticMapping()
	for _, f := range hostFields {
		fm := bleve.NewTextFieldMapping()
		fm.Analyzer = textAnalyzer
		fm.Store, fm.IncludeTermVectors, fm.DocValues, fm.IncludeInAll = false, false, false, false
		doc.AddFieldMappingsAt(f.name, fm)
	}
	im.DefaultMapping = doc
	idx, err := bleve.NewMemOnly(im)
	if err != nil {
		return nil, engine.Wrap(engine.KindInternal, op, "cannot create the host index", err)
	}
	return &HostIndex{idx: idx, gloss: g, hosts: map[string]*engine.Host{},
		qb: queryBuilder{analyzer: idx.Mapping().AnalyzerNamed(textAnalyzer), gloss: g, fields: hostFields[:]}}, nil
}

// Put adds or replaces a host (keyed by ID). h must not be modified later.
func (x *HostIndex) Put(h *engine.Host) error {
	var cats []string
	for _, c := range h.Categories {
		if cat, ok := engine.CategoryByCode(c); ok {
			cats = append(cats, cat.NameZh, cat.NameEn)
		}
	}
	d := hostDoc{Name: x.gloss.Simplify(h.Name), BioZh: x.gloss.Simplify(h.BioZh), BioEn: x.gloss.Simplify(h.BioEn),
		Categories: strings.Join(cats, " ")}
	if err := x.idx.Index(h.ID, d); err != nil {
		return engine.Wrap(engine.KindInternal, "indexer.HostIndex.Put", "cannot index the host", err)
	}
	x.mu.Lock()
	x.hosts[h.ID] = h
	x.mu.Unlock()
	return nil
}

// Delete removes a host.
func (x *HostIndex) Delete(id string) error {
	if err := x.idx.Delete(id); err != nil {
		return engine.Wrap(engine.KindInternal, "indexer.HostIndex.Delete", "cannot delete the host", err)
	}
	x.mu.Lock()
	delete(x.hosts, id)
	x.mu.Unlock()
	return nil
}

// Host returns a host by id.
func (x *HostIndex) Host(id string) (*engine.Host, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	h, ok := x.hosts[id]
	return h, ok
}

// Hosts returns every host, sorted by id.
func (x *HostIndex) Hosts() []*engine.Host {
	x.mu.RLock()
	out := make([]*engine.Host, 0, len(x.hosts))
	for _, h := range x.hosts {
		out = append(out, h)
	}
	x.mu.RUnlock()
	slices.SortFunc(out, func(a, b *engine.Host) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// Len returns the number of hosts.
func (x *HostIndex) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.hosts)
}

// BioScores returns the raw relevance (BM25) of every host whose name, bio
// or categories match any term of text (in either language, through the
// glossary); hosts that match nothing are absent. Empty text: nil.
func (x *HostIndex) BioScores(ctx context.Context, text string) (map[string]float64, error) {
	const op = "indexer.HostIndex.BioScores"
	q, ok := x.qb.textQuery(text, false)
	if !ok {
		return nil, nil
	}
	n := x.Len()
	req := bleve.NewSearchRequestOptions(q, max(n, 1), 0, false)
	res, err := x.idx.SearchInContext(ctx, req)
	if err != nil {
		if e := ctxErr(op, err); e != nil {
			return nil, e
		}
		return nil, engine.Wrap(engine.KindInternal, op, "host search failed", err)
	}
	out := make(map[string]float64, len(res.Hits))
	for _, h := range res.Hits {
		out[h.ID] = h.Score
	}
	return out, nil
}
