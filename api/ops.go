package api

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/livematch/livematch/engine"
)

func (s *Server) healthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

// readyz answers 200 when the database answers and the index has caught up
// with the change feed, else 503 with the reason.
func (s *Server) readyz(c *gin.Context) {
	// A probe wants a quick answer: give the checks two seconds.
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	checks := gin.H{}
	ready := s.cfg.Started == nil || s.cfg.Started()
	if !ready {
		checks["startup"] = "in progress"
	}
	dbUp := s.store.Ping(ctx) == nil
	s.SetDatabaseUp(dbUp)
	if !dbUp {
		checks["database"] = "unavailable"
		ready = false
	} else {
		checks["database"] = "ok"
	}
	if s.cfg.IndexStatus != nil && dbUp { // the index status asks the database too
		st, err := s.cfg.IndexStatus(ctx)
		switch {
		case err != nil:
			checks["index"] = "unknown"
			ready = false
		case !st.Ready:
			checks["index"] = "catching up, lag " + strconv.FormatInt(st.Lag, 10)
			ready = false
		default:
			checks["index"] = "ok"
		}
	}
	if !ready {
		c.Header("Retry-After", "2")
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "not ready", "checks": checks})
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready", "checks": checks})
}

func (s *Server) indexStatus(c *gin.Context) {
	if s.cfg.IndexStatus == nil {
		s.fail(c, engine.Errorf(engine.KindUnavailable, "api.indexStatus", "no index"))
		return
	}
	st, err := s.cfg.IndexStatus(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, st)
}

// metrics holds the server's Prometheus instruments.
type metrics struct {
	requests  *prometheus.CounterVec
	latency   *prometheus.HistogramVec
	queued    prometheus.Gauge
	queueWait prometheus.Histogram
	// reservations counts new reservations by outcome (held: booked;
	// refused: did not fit the available units) and their units.
	reservations     *prometheus.CounterVec
	reservationUnits *prometheus.CounterVec
}

func newMetrics(reg *prometheus.Registry) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "livematch_http_requests_total", Help: "HTTP requests by route, method and status.",
		}, []string{"route", "method", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "livematch_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "method"}),
		queued: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "livematch_queries_waiting", Help: "Searches and matches waiting for a turn (see --max-queries).",
		}),
		queueWait: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "livematch_query_wait_seconds", Help: "How long searches and matches that had to wait for a turn waited.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}),
		reservations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "livematch_reservations_total", Help: "New reservations by outcome: held (booked) or refused (more than available).",
		}, []string{"outcome"}),
		reservationUnits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "livematch_reservation_units_total", Help: "Units asked for by new reservations, by outcome: held (booked) or refused.",
		}, []string{"outcome"}),
	}
	reg.MustRegister(m.requests, m.latency, m.queued, m.queueWait, m.reservations, m.reservationUnits,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// observe records each request's route, status and latency, and logs it.
func (s *Server) observe(c *gin.Context) {
	start := time.Now()
	c.Next()
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	status := c.Writer.Status()
	d := time.Since(start)
	s.metrics.requests.WithLabelValues(route, c.Request.Method, strconv.Itoa(status)).Inc()
	s.metrics.latency.WithLabelValues(route, c.Request.Method).Observe(d.Seconds())
	level := slog.LevelDebug
	if status >= 500 {
		level = slog.LevelWarn
	}
	s.log.LogAttrs(c.Request.Context(), level, "request", slog.String("method", c.Request.Method),
		slog.String("route", route), slog.Int("status", status), slog.Duration("took", d))
}

func (s *Server) metricsHandler() gin.HandlerFunc {
	h := promhttp.HandlerFor(s.cfg.Registry, promhttp.HandlerOpts{})
	return gin.WrapH(h)
}
