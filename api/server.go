// Package api is livematch's HTTP adapter: the Gin router, API-key auth with
// roles and ownership, strict request decoding, RFC 9457 problem+json errors
// (one mapping from engine error kinds to statuses), the OpenAPI document and
// Prometheus metrics. Handlers bind, call and render; search lives in the
// indexer, rules in the engine, persistence in the store.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/livematch/livematch/engine"
	"github.com/livematch/livematch/indexer"
	"github.com/livematch/livematch/store"
)

// Index is what the API needs from the search index (see indexer.Index).
type Index interface {
	// Search runs a product search; bad parameters are KindInvalid.
	Search(ctx context.Context, q engine.ProductQuery) (engine.ProductPage, error)
	// MatchEach streams a demand profile's candidates (see indexer.Index.MatchEach).
	MatchEach(ctx context.Context, q indexer.MatchQuery, begin func(textMax float64) indexer.Sink) (indexer.MatchStats, error)
	// Product is a product's full record as indexed.
	Product(id string) (*engine.Product, bool)
	// Products reads several full records at once (see indexer.Index.Products).
	Products(ids []string) []*engine.Product
	// TextRelevance is one product's text relevance for a profile's match
	// query and the best relevance among the query's candidates.
	TextRelevance(ctx context.Context, q indexer.MatchQuery, id string) (text, textMax float64, matched bool, err error)
	// ReviewQueue lists the live products with the given review status,
	// oldest change first.
	ReviewQueue(status engine.ReviewStatus) []*engine.Product
}

// IndexStatus reports how far the index is along the change feed.
type IndexStatus struct {
	Documents  uint64 `json:"documents"`
	AppliedSeq int64  `json:"last_seq_applied"`
	HeadSeq    int64  `json:"head_seq"`
	Lag        int64  `json:"lag"`
	Ready      bool   `json:"ready"`
}

// Regions resolves and searches administrative divisions.
type Regions interface {
	engine.RegionBook
	// Search returns divisions whose name (either language) or code matches q.
	Search(q string, limit int) []engine.Region
}

// Config holds the server's collaborators and limits.
type Config struct {
	Store       *store.Store
	Index       Index
	IndexStatus func(ctx context.Context) (IndexStatus, error)
	Regions     Regions
	// Hosts is the in-memory host catalogue with its bio index; the caller
	// fills it at start-up (ScanHosts) and the server keeps it in step.
	Hosts *indexer.HostIndex
	// Geo measures distances for the logistics factor (nil: neutral).
	Geo    engine.Geo
	Logger *slog.Logger
	Now    func() time.Time
	// Registry receives the server's metrics; /metrics serves it.
	Registry *prometheus.Registry
	// ReviewRequired makes new and changed products start pending review.
	ReviewRequired bool
	// MaxBodyBytes limits JSON bodies (default 1 MiB); MaxBulkBytes the
	// NDJSON bulk body (default 32 MiB).
	MaxBodyBytes int64
	MaxBulkBytes int64
	// RequestTimeout bounds each request's work (default 10s).
	RequestTimeout time.Duration
	// KeyCacheTTL is how long a verified API key is trusted without
	// reading the database again (default 10s; a rotation through this
	// server takes effect at once).
	KeyCacheTTL time.Duration
	// QueryTimeout bounds the index and engine work of one search or match
	// (default 5s); a query that runs out answers 503 with Retry-After.
	QueryTimeout time.Duration
	// MaxQueries is how many searches and matches run at once (default
	// GOMAXPROCS: a large match already uses every core); the others wait
	// for a turn, in arrival order, within their time bound.
	MaxQueries int
	// RateLimit is the sustained requests per second per API key (default
	// 100) and RateBurst the burst (default 200). Negative disables.
	RateLimit float64
	RateBurst int
	// Started, if set, reports whether start-up has finished; until then
	// every /v1 route answers 503 with Retry-After.
	Started func() bool
}

// Server serves the livematch HTTP API.
type Server struct {
	cfg     Config
	store   *store.Store
	index   Index
	regions Regions
	log     *slog.Logger
	now     func() time.Time
	limiter *limiter
	keys    *keyCache
	dbDown  atomic.Bool // see SetDatabaseUp
	orgs    *orgCache
	hosts   *indexer.HostIndex
	zones   *zoneCache
	metrics *metrics
	engine  *gin.Engine
	slots   chan struct{} // one per running search or match
}

// New builds the server and its routes.
func New(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	if cfg.MaxBulkBytes <= 0 {
		cfg.MaxBulkBytes = 32 << 20
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = 10 * time.Second
	}
	if cfg.KeyCacheTTL <= 0 {
		cfg.KeyCacheTTL = 10 * time.Second
	}
	if cfg.QueryTimeout <= 0 {
		cfg.QueryTimeout = 5 * time.Second
	}
	if cfg.MaxQueries <= 0 {
		cfg.MaxQueries = runtime.GOMAXPROCS(0)
	}
	if cfg.RateLimit == 0 {
		cfg.RateLimit = 100
	}
	if cfg.RateBurst <= 0 {
		cfg.RateBurst = 200
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	s := &Server{cfg: cfg, store: cfg.Store, index: cfg.Index, regions: cfg.Regions, log: cfg.Logger, now: cfg.Now,
		limiter: newLimiter(cfg.RateLimit, cfg.RateBurst, cfg.Now), orgs: newOrgCache(cfg.Store),
		keys:  newKeyCache(cfg.KeyCacheTTL, cfg.Now),
		hosts: cfg.Hosts, zones: &zoneCache{zones: map[string]*time.Location{}},
		slots: make(chan struct{}, cfg.MaxQueries)}
	if s.hosts == nil {
		s.hosts, _ = indexer.NewHostIndex(nil) // an empty, in-memory index never fails
	}
	s.metrics = newMetrics(cfg.Registry)
	s.engine = s.routes()
	return s
}

// Handler returns the HTTP handler.
func (s *Server) Handler() http.Handler { return s.engine }

// Routes lists every registered route as "METHOD path" (for tests that must
// cover every route).
func (s *Server) Routes() []gin.RouteInfo { return s.engine.Routes() }

func (s *Server) routes() *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	// No proxy is trusted: the client IP is the peer address. Put the
	// trusted proxies here when deploying behind a load balancer.
	_ = r.SetTrustedProxies(nil)
	r.HandleMethodNotAllowed = true
	r.ContextWithFallback = true
	r.Use(s.recoverer, s.observe, s.timeout)
	r.NoRoute(func(c *gin.Context) { s.fail(c, engine.Errorf(engine.KindNotFound, "api", "no such route")) })
	r.NoMethod(func(c *gin.Context) {
		s.fail(c, engine.InvalidField("api", "method", c.Request.Method+" is not allowed here"))
	})

	r.GET("/healthz", s.healthz)
	r.GET("/readyz", s.readyz)
	r.GET("/metrics", s.metricsHandler())
	r.GET("/openapi.json", s.openapi)

	v1 := r.Group("/v1", s.gate)
	meta := v1.Group("/meta")
	meta.GET("/categories", s.metaCategories)
	meta.GET("/certifications", s.metaCertifications)
	meta.GET("/regions", s.metaRegions)

	a := v1.Group("", s.authenticate, s.rateLimit)
	a.POST("/orgs", s.requireKind(engine.OrgAdmin), s.createOrg)
	a.GET("/orgs", s.requireKind(engine.OrgAdmin), s.listOrgs)
	a.GET("/orgs/:id", s.getOrg)
	a.PATCH("/orgs/:id", s.requireKind(engine.OrgAdmin), s.patchOrg)
	a.POST("/orgs/:id/keys", s.rotateKey)
	a.GET("/orgs/:id/audit", s.orgAudit)

	supplier := s.requireKind(engine.OrgFactory, engine.OrgCooperative, engine.OrgImporter)
	a.POST("/products", supplier, s.upsertProduct)
	a.POST(`/products\:bulk`, supplier, s.bulkProducts)
	a.GET("/products", s.searchProducts)
	a.GET("/products/:id", s.getProduct)
	a.PUT("/products/:id", supplier, s.putProduct)
	a.DELETE("/products/:id", supplier, s.deleteProduct)
	a.PATCH("/products/:id/stock", supplier, s.patchStock)
	a.PATCH("/products/:id/review", s.requireKind(engine.OrgAdmin), s.patchReview)

	mcn := s.requireKind(engine.OrgMCN)
	a.POST("/demand-profiles", mcn, s.createProfile)
	a.GET("/demand-profiles", s.requireKind(engine.OrgMCN, engine.OrgAdmin), s.listProfiles)
	a.GET("/demand-profiles/:id", s.getProfile)
	a.PUT("/demand-profiles/:id", mcn, s.putProfile)
	a.DELETE("/demand-profiles/:id", mcn, s.deleteProfile)
	a.GET("/demand-profiles/:id/matches", s.profileMatches)
	a.POST("/match/products", s.requireKind(engine.OrgMCN, engine.OrgAdmin), s.adHocProductMatch)
	a.GET("/products/:id/buyers", supplier, s.productBuyers)

	a.POST("/hosts", mcn, s.createHost)
	a.GET("/hosts", s.listHosts)
	a.GET("/hosts/:id", s.getHost)
	a.PUT("/hosts/:id", mcn, s.putHost)
	a.DELETE("/hosts/:id", mcn, s.deleteHost)
	requester := s.requireKind(engine.OrgCrossborderFirm, engine.OrgImporter)
	a.POST("/host-requests", requester, s.createHostRequest)
	a.GET("/host-requests", s.requireKind(engine.OrgCrossborderFirm, engine.OrgImporter, engine.OrgAdmin), s.listHostRequests)
	a.GET("/host-requests/:id", s.getHostRequest)
	a.PUT("/host-requests/:id", requester, s.putHostRequest)
	a.DELETE("/host-requests/:id", requester, s.deleteHostRequest)
	a.GET("/host-requests/:id/matches", s.hostRequestMatches)
	a.POST("/match/hosts", s.requireKind(engine.OrgCrossborderFirm, engine.OrgImporter, engine.OrgAdmin), s.adHocHostMatch)

	a.POST("/reservations", mcn, s.createReservation)
	a.GET("/reservations", listDeals(s, reservationDeals()))
	a.GET("/reservations/:id", getDeal(s, reservationDeals()))
	a.POST("/reservations/:id", s.reservationAction)
	a.POST("/reservations/:id/result", mcn, s.reservationResult)
	a.GET("/reservations/:id/audit", dealAudit(s, reservationDeals()))
	a.POST("/sample-requests", mcn, s.createSampleRequest)
	a.GET("/sample-requests", listDeals(s, sampleDeals()))
	a.GET("/sample-requests/:id", getDeal(s, sampleDeals()))
	a.POST("/sample-requests/:id", s.sampleAction)
	a.GET("/sample-requests/:id/audit", dealAudit(s, sampleDeals()))

	a.GET("/index/status", s.requireKind(engine.OrgAdmin), s.indexStatus)
	a.GET("/review/queue", s.requireKind(engine.OrgAdmin), s.reviewQueue)
	return r
}

// recoverer turns a panic into a logged 500 problem.
func (s *Server) recoverer(c *gin.Context) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.fail(c, engine.Errorf(engine.KindInternal, "api.recover", "panic: %v", v))
		}
	}()
	c.Next()
}

// gate answers 503 until start-up has finished.
func (s *Server) gate(c *gin.Context) {
	if s.cfg.Started != nil && !s.cfg.Started() {
		s.fail(c, engine.Errorf(engine.KindUnavailable, "api.gate", "the service is starting; try again shortly"))
		return
	}
	c.Next()
}

// timeout bounds the request's context.
func (s *Server) timeout(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), s.cfg.RequestTimeout)
	defer cancel()
	c.Request = c.Request.WithContext(ctx)
	c.Next()
}

// bounded returns ctx limited to the query time bound.
func (s *Server) bounded(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.cfg.QueryTimeout)
}

// query bounds ctx like bounded and waits for one of the MaxQueries turns
// to run a search or match; release ends the turn. Queries beyond what the
// cores can run at once would only share them, each taking longer, with a
// working set of its own (a match holds a score per product of the
// catalogue while it runs): waiting in line answers sooner on the whole and
// bounds memory. A query still waiting when its time bound runs out is
// KindUnavailable (503 with Retry-After).
func (s *Server) query(ctx context.Context) (qctx context.Context, release func(), err error) {
	ctx, cancel := s.bounded(ctx)
	select {
	case s.slots <- struct{}{}:
	default:
		s.metrics.queued.Inc()
		start := time.Now()
		select {
		case s.slots <- struct{}{}:
		case <-ctx.Done():
			cancel()
			s.metrics.queued.Dec()
			return nil, nil, engine.Wrap(engine.KindUnavailable, "api.query", "no turn to run the query came in time (too many searches and matches at once); try again", ctx.Err())
		}
		s.metrics.queued.Dec()
		s.metrics.queueWait.Observe(time.Since(start).Seconds())
	}
	return ctx, func() { <-s.slots; cancel() }, nil
}

// bind decodes the JSON body strictly into v, within the body limit.
func (s *Server) bind(c *gin.Context, v any) error {
	return decodeJSON(http.MaxBytesReader(c.Writer, c.Request.Body, s.cfg.MaxBodyBytes), v)
}

// bindIfMatch binds the body (see bind) and reads If-Match; on failure it
// renders the problem and reports false.
func (s *Server) bindIfMatch(c *gin.Context, v any) (int64, bool) {
	err := s.bind(c, v)
	var ifv int64
	if err == nil {
		ifv, err = ifMatch(c)
	}
	if err != nil {
		s.fail(c, err)
		return 0, false
	}
	return ifv, true
}
