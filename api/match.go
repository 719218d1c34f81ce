package api

import (
	"cmp"
	"context"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/livematch/livematch/engine"
	"github.com/livematch/livematch/indexer"
)

type factorOut struct {
	Name         string  `json:"name"`
	Value        float64 `json:"value"`
	Weight       float64 `json:"weight"`
	Contribution float64 `json:"contribution"`
	ReasonZh     string  `json:"reason_zh"`
	ReasonEn     string  `json:"reason_en"`
}

func factorsOut(fs []engine.FactorScore) []factorOut {
	out := make([]factorOut, len(fs))
	for i, f := range fs {
		out[i] = factorOut{Name: string(f.Name), Value: f.Value, Weight: f.Weight, Contribution: f.Contribution, ReasonZh: f.ReasonZh, ReasonEn: f.ReasonEn}
	}
	return out
}

type productMatchOut struct {
	Product productOut  `json:"product"`
	Score   float64     `json:"score"`
	Factors []factorOut `json:"factors"`
}

type matchOut struct {
	Items      []productMatchOut `json:"items"`
	Excluded   map[string]int    `json:"excluded"`
	Candidates uint64            `json:"candidates"`
	TookMS     int64             `json:"took_ms"`
}

// matchParams are the engine parameters every product match uses, so that
// a profile's matches and a product's buyers score alike.
func (s *Server) matchParams(limit int, textMax float64) engine.MatchParams {
	return engine.MatchParams{Now: s.now(), Regions: s.regions, Geo: s.cfg.Geo, Limit: limit, TextMax: textMax}
}

// candidateQuery is the index query of a profile's candidates.
func (s *Server) candidateQuery(p *engine.DemandProfile) indexer.MatchQuery {
	return CandidateQuery(p, s.now())
}

// CandidateQuery is the index query of a profile's candidates at now: its
// keywords and the gates the index evaluates.
func CandidateQuery(p *engine.DemandProfile, now time.Time) indexer.MatchQuery {
	q := indexer.MatchQuery{
		Keywords: p.Keywords, Categories: p.Categories, PriceMin: p.PriceMin, PriceMax: p.PriceMax,
		MinCommission: p.MinCommissionRate, MinStock: p.MinStock, RequiredCerts: p.RequiredCerts,
		CertsAt: asOf(p, now),
	}
	q.Month, q.MaxLeadDays, q.Dated = engine.Schedule(p, now)
	return q
}

// asOf is the date gates and certificates are judged on: the stream date
// when set, else now.
func asOf(p *engine.DemandProfile, now time.Time) time.Time {
	if !p.StreamDate.IsZero() {
		return p.StreamDate
	}
	return now
}

// MatchProfile matches a prepared profile as its matches endpoint does,
// without HTTP (for tools and benchmarks): the index streams every product
// that matches the keywords and passes the gates it evaluates, with its text
// relevance; the engine's Matcher adds the suppliers' gates, scores, keeps
// the best and explains them, with fair re-ranking. The items carry the
// full products. Excluded adds the index's and the engine's exclusion
// counts; Candidates is how many passed the index.
func (s *Server) MatchProfile(ctx context.Context, p *engine.DemandProfile, limit int) (engine.MatchResult, error) {
	ctx, release, err := s.query(ctx)
	if err != nil {
		return engine.MatchResult{}, err
	}
	defer release()
	var (
		mu     sync.Mutex
		sinks  []*matchSink
		orgErr error
	)
	st, err := s.index.MatchEach(ctx, s.candidateQuery(p), func(textMax float64) indexer.Sink {
		k := &matchSink{m: engine.NewMatcher(p, s.matchParams(limit, textMax)), suppliers: map[string]*engine.Org{},
			org: func(id string) *engine.Org {
				// The org directory is in memory (a miss reads the database
				// once); an unknown supplier is nil, which the engine's gate
				// excludes.
				org, err := s.orgs.get(ctx, id)
				if err != nil {
					mu.Lock()
					orgErr = cmp.Or(orgErr, err)
					mu.Unlock()
				}
				return org
			}}
		sinks = append(sinks, k) // begin is called sequentially
		return k
	})
	if err == nil {
		err = orgErr
	}
	if err != nil {
		return engine.MatchResult{}, err
	}
	matchers := make([]*engine.Matcher, len(sinks))
	for i, k := range sinks {
		matchers[i] = k.m
	}
	m := matchers[0]
	for _, o := range matchers[1:] {
		m.Merge(o)
	}
	res := m.Result()
	for reason, n := range st.Excluded {
		res.Excluded[reason] += n
	}
	res.Candidates = int(st.Total)
	// The engine kept what matching reads; the answer shows whole products.
	ids := make([]string, len(res.Items))
	for i, it := range res.Items {
		ids[i] = it.Product.ID
	}
	for i, full := range s.index.Products(ids) {
		if full != nil {
			res.Items[i].Product = full
		}
	}
	return res, nil
}

// matchSink feeds one part of a streamed match to an engine.Matcher, with
// the suppliers looked up once per part.
type matchSink struct {
	m         *engine.Matcher
	suppliers map[string]*engine.Org
	org       func(id string) *engine.Org
	lastID    string
	last      *engine.Org
}

func (k *matchSink) supplier(id string) *engine.Org {
	if id == k.lastID && k.last != nil {
		return k.last // neighbours in the catalogue often share a supplier
	}
	org, seen := k.suppliers[id]
	if !seen {
		org = k.org(id)
		k.suppliers[id] = org
	}
	k.lastID, k.last = id, org
	return org
}

// Skip implements indexer.Sink with engine.Matcher.Skip.
func (k *matchSink) Skip(p *engine.Product, text float64) bool {
	return k.m.Skip(engine.Candidate{Product: p, Supplier: k.supplier(p.OrgID), Text: text})
}

// Add implements indexer.Sink with engine.Matcher.Add.
func (k *matchSink) Add(p *engine.Product, text float64) {
	k.m.Add(engine.Candidate{Product: p, Supplier: k.supplier(p.OrgID), Text: text})
}

// matchProducts answers a profile's matches (MatchProfile, rendered).
func (s *Server) matchProducts(ctx context.Context, p *engine.DemandProfile, limit int) (matchOut, error) {
	start := time.Now()
	res, err := s.MatchProfile(ctx, p, limit)
	if err != nil {
		return matchOut{}, err
	}
	out := matchOut{Items: make([]productMatchOut, 0, len(res.Items)), Excluded: map[string]int{}, Candidates: uint64(res.Candidates)}
	for _, reason := range engine.GateOrder() {
		if n := res.Excluded[reason]; n > 0 {
			out.Excluded[reason] = n
		}
	}
	for _, m := range res.Items {
		out.Items = append(out.Items, productMatchOut{Product: s.productOut(m.Product), Score: m.Score, Factors: factorsOut(m.Factors)})
	}
	out.TookMS = time.Since(start).Milliseconds()
	return out, nil
}

func (s *Server) profileMatches(c *gin.Context) {
	p, ok := s.ownProfile(c)
	if !ok {
		return
	}
	s.renderProductMatches(c, p)
}

func (s *Server) adHocProductMatch(c *gin.Context) {
	var in profileIn
	if err := s.bind(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	if in.Name == "" {
		in.Name = "ad hoc"
	}
	p, err := s.prepareProfile(&in, caller(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	s.renderProductMatches(c, p)
}

// renderProductMatches answers a profile's matches, ?limit= applied.
func (s *Server) renderProductMatches(c *gin.Context, p *engine.DemandProfile) {
	limit, err := limitParam(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	out, err := s.matchProducts(c.Request.Context(), p, limit)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}

type buyerOut struct {
	Profile profileOut  `json:"profile"`
	Score   float64     `json:"score"`
	Factors []factorOut `json:"factors"`
}

// productBuyers lists the open demand profiles the product fits best,
// scored exactly as each profile's own matches score it.
func (s *Server) productBuyers(c *gin.Context) {
	prod, ok := s.ownProduct(c)
	if !ok {
		return
	}
	limit, err := limitParam(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	ctx, cancel := s.bounded(c.Request.Context())
	defer cancel()
	start := time.Now()
	owner, err := s.orgs.get(ctx, prod.OrgID)
	if err != nil {
		s.fail(c, err)
		return
	}
	params := s.matchParams(limit, 0)
	type scored struct {
		p *engine.DemandProfile
		m engine.ProductMatch
	}
	var hits []scored
	excluded := map[string]int{}
	err = s.store.ScanProfiles(ctx, func(p *engine.DemandProfile) error {
		if p.Status != engine.ProfileOpen {
			return nil
		}
		cand := engine.Candidate{Product: prod, Supplier: owner}
		if reason := engine.Gate(p, cand, params.Now); reason != "" {
			excluded[reason]++
			return nil
		}
		// The text factor is relative to the best of the profile's
		// candidates, exactly as in the profile's own matches.
		text, textMax, matched, err := s.index.TextRelevance(ctx, s.candidateQuery(p), prod.ID)
		if err != nil {
			return err
		}
		if !matched {
			excluded["keywords"]++
			return nil
		}
		cand.Text = text
		pp := params
		pp.TextMax = textMax
		hits = append(hits, scored{p, engine.Score(p, cand, pp)})
		return nil
	})
	if err != nil {
		s.fail(c, err)
		return
	}
	sort.Slice(hits, func(i, j int) bool {
		if hits[i].m.Score != hits[j].m.Score {
			return hits[i].m.Score > hits[j].m.Score
		}
		return hits[i].p.ID < hits[j].p.ID
	})
	items := make([]buyerOut, 0, min(limit, len(hits)))
	for _, h := range hits[:min(limit, len(hits))] {
		items = append(items, buyerOut{Profile: profileOutOf(h.p), Score: h.m.Score, Factors: factorsOut(h.m.Factors)})
	}
	c.Header("X-Took-Ms", strconv.FormatInt(time.Since(start).Milliseconds(), 10))
	c.JSON(http.StatusOK, gin.H{"items": items, "excluded": excluded, "took_ms": time.Since(start).Milliseconds()})
}
