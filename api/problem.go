package api

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/livematch/livematch/engine"
)

// statusOf is the one place where error kinds become HTTP statuses.
func statusOf(k engine.Kind) int {
	switch k {
	case engine.KindInvalid:
		return http.StatusBadRequest
	case engine.KindUnauthenticated:
		return http.StatusUnauthorized
	case engine.KindForbidden:
		return http.StatusForbidden
	case engine.KindNotFound:
		return http.StatusNotFound
	case engine.KindConflict:
		return http.StatusConflict
	case engine.KindPrecondition:
		return http.StatusPreconditionFailed
	case engine.KindTooLarge:
		return http.StatusRequestEntityTooLarge
	case engine.KindRateLimited:
		return http.StatusTooManyRequests
	case engine.KindUnavailable:
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

// problem is an RFC 9457 problem details document.
type problem struct {
	Type   string         `json:"type"`
	Title  string         `json:"title"`
	Status int            `json:"status"`
	Detail string         `json:"detail,omitempty"`
	Errors []problemField `json:"errors,omitempty"`
	// Available is the units of a product still available, on the 409 of a
	// reservation that does not fit.
	Available *int64 `json:"available,omitempty"`
}

type problemField struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// fail renders err as problem+json and aborts the request. Internal errors
// are logged with their cause and shown as "internal error".
func (s *Server) fail(c *gin.Context, err error) {
	var e *engine.Error
	if !errors.As(err, &e) {
		e = &engine.Error{Kind: engine.KindInternal, Err: err}
	}
	status := statusOf(e.Kind)
	p := problem{Type: "/problems/" + e.Kind.String(), Title: http.StatusText(status), Status: status, Detail: e.Msg}
	for _, f := range e.Fields {
		p.Errors = append(p.Errors, problemField{Field: f.Field, Message: f.Message})
	}
	var short *engine.Shortage
	if errors.As(err, &short) {
		av := short.Available
		p.Available = &av
	}
	switch e.Kind {
	case engine.KindInternal:
		s.log.ErrorContext(c.Request.Context(), "internal error", slog.String("path", c.FullPath()), slog.Any("err", err))
		p.Detail = "internal error"
	case engine.KindUnavailable:
		s.log.WarnContext(c.Request.Context(), "unavailable", slog.String("path", c.FullPath()), slog.Any("err", err))
		c.Header("Retry-After", "2")
	case engine.KindRateLimited:
		if c.Writer.Header().Get("Retry-After") == "" {
			c.Header("Retry-After", strconv.Itoa(1))
		}
	case engine.KindUnauthenticated:
		c.Header("WWW-Authenticate", `Bearer realm="livematch"`)
	}
	if p.Detail == "" {
		p.Detail = p.Title
	}
	c.Header("Content-Type", "application/problem+json")
	c.AbortWithStatusJSON(status, p) // keeps the Content-Type set above
}
