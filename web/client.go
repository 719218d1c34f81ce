package web

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"

	"github.com/livematch/livematch/api"
)

// apiResult is the JSON API's answer to an in-process call.
type apiResult struct {
	Status  int
	Header  http.Header
	Body    []byte
	Problem *problem // the problem+json of a 4xx or 5xx answer
}

// problem is the API's RFC 9457 problem document.
type problem struct {
	Type   string         `json:"type"`
	Title  string         `json:"title"`
	Status int            `json:"status"`
	Detail string         `json:"detail"`
	Errors []problemField `json:"errors"`
	// Available is set on reservation conflicts.
	Available *int64 `json:"available"`
}

// problemField names one bad field.
type problemField struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// OK reports a 2xx answer.
func (a *apiResult) OK() bool { return a.Status >= 200 && a.Status < 300 }

// decode reads the JSON body into v.
func (a *apiResult) decode(v any) error { return json.Unmarshal(a.Body, v) }

// call sends a request to the JSON API in process, authenticated as the
// session's org; body, if not nil, is sent as JSON (or as is when it is
// a []byte, e.g. NDJSON). ifMatch, if not 0, is sent as If-Match.
func (rq *request) call(method, path string, query url.Values, body any, ifMatch int64) *apiResult {
	return rq.s.callAPI(rq, method, path, query, body, ifMatch)
}

func (s *Server) callAPI(rq *request, method, path string, query url.Values, body any, ifMatch int64) *apiResult {
	var rd io.Reader
	ctype := ""
	switch b := body.(type) {
	case nil:
	case []byte:
		rd, ctype = bytes.NewReader(b), "application/x-ndjson"
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			return &apiResult{Status: http.StatusInternalServerError, Problem: &problem{Status: 500, Detail: err.Error()}}
		}
		rd, ctype = bytes.NewReader(raw), "application/json"
	}
	target := path
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	req := httptest.NewRequestWithContext(api.WithCredential(rq.ctx(), rq.se.cred), method, target, rd)
	req.RemoteAddr = rq.r.RemoteAddr
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if ifMatch > 0 {
		req.Header.Set("If-Match", `"`+strconv.FormatInt(ifMatch, 10)+`"`)
	}
	rec := httptest.NewRecorder()
	s.cfg.API.ServeHTTP(rec, req)
	res := &apiResult{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
	if res.Status >= 400 {
		res.Problem = &problem{Status: res.Status}
		if strings.Contains(rec.Header().Get("Content-Type"), "json") {
			_ = json.Unmarshal(res.Body, res.Problem)
		}
	}
	return res
}

// fieldErrors maps a problem's fields to their messages (several messages
// for one field are joined).
func (p *problem) fieldErrors() map[string]string {
	out := map[string]string{}
	if p == nil {
		return out
	}
	for _, f := range p.Errors {
		if prev, ok := out[f.Field]; ok {
			out[f.Field] = prev + "; " + f.Message
		} else {
			out[f.Field] = f.Message
		}
	}
	return out
}

// failAPI renders the error page for an API answer that is not a form's
// field errors: 404, 403, 503 and the like, with the API's detail.
func (rq *request) failAPI(w http.ResponseWriter, res *apiResult) {
	rq.fail(w, res.Status, rq.apiMessage(res))
}

// apiMessage is a short message for a failed API answer, in the page's
// language where the console has one, else the API's detail (never that
// of a server error).
func (rq *request) apiMessage(res *apiResult) string {
	switch res.Status {
	case http.StatusNotFound:
		return rq.T("error.not_found")
	case http.StatusForbidden:
		return rq.T("error.forbidden")
	case http.StatusTooManyRequests:
		return rq.T("error.rate_limited")
	case http.StatusServiceUnavailable:
		return rq.T("error.unavailable")
	case http.StatusUnauthorized:
		return rq.T("error.signed_out")
	}
	if res.Status < 500 && res.Problem != nil && res.Problem.Detail != "" {
		return res.Problem.Detail
	}
	return rq.T("error.internal")
}
