package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

func (s *Server) adminRoutes() {
	m := s.mux
	m.Handle("GET /console/review", s.page(adminRole, s.reviewQueue))
	m.Handle("POST /console/review/{id}", s.page(adminRole, s.reviewDecide))
	m.Handle("GET /console/orgs", s.page(adminRole, s.orgList))
	m.Handle("POST /console/orgs", s.page(adminRole, s.orgCreate))
	m.Handle("GET /console/orgs/{id}", s.page(adminRole, s.orgPage))
	m.Handle("POST /console/orgs/{id}", s.page(adminRole, s.orgUpdate))
	m.Handle("POST /console/orgs/{id}/keys", s.page(anyRole, s.orgRotateKey))
	m.Handle("GET /console/account", s.page(anyRole, s.account))
}

// reviewPage is the review queue's data.
type reviewPage struct {
	listPage[product]
	Orgs   map[string]org
	Errors map[string]string // by product id: why a decision failed
}

func (s *Server) reviewQueue(w http.ResponseWriter, rq *request) {
	s.renderReview(w, rq, http.StatusOK, nil)
}

func (s *Server) renderReview(w http.ResponseWriter, rq *request, status int, errs map[string]string) {
	list, ok := loadList[product](w, rq, "/v1/review/queue", 50)
	if !ok {
		return
	}
	data := reviewPage{listPage: list, Orgs: rq.orgsByID(list.Items), Errors: errs}
	rq.render(w, status, "review", rq.T("review.title"), data)
}

// orgsByID reads the orgs of the products (admin), for their names.
func (rq *request) orgsByID(items []product) map[string]org {
	out := map[string]org{}
	for _, p := range items {
		if _, ok := out[p.OrgID]; ok {
			continue
		}
		var o org
		if res := rq.call(http.MethodGet, "/v1/orgs/"+url.PathEscape(p.OrgID), nil, nil, 0); res.OK() && res.decode(&o) == nil {
			out[p.OrgID] = o
		}
	}
	return out
}

func (s *Server) reviewDecide(w http.ResponseWriter, rq *request) {
	id := rq.r.PathValue("id")
	version, _ := strconv.ParseInt(rq.r.PostFormValue("version"), 10, 64)
	body := map[string]any{"review_status": rq.r.PostFormValue("review_status"), "note": strings.TrimSpace(rq.r.PostFormValue("note"))}
	res := rq.call(http.MethodPatch, "/v1/products/"+url.PathEscape(id)+"/review", nil, body, version)
	if !rq.afterWrite(w, res, "review.done."+rq.r.PostFormValue("review_status"), "/console/review",
		http.StatusPreconditionFailed, http.StatusBadRequest) {
		return
	}
	if res.Status == http.StatusPreconditionFailed {
		s.renderReview(w, rq, http.StatusConflict, map[string]string{id: rq.T("review.stale")})
		return
	}
	msg := res.Problem.Detail
	for _, f := range res.Problem.Errors {
		msg = f.Field + ": " + f.Message
	}
	s.renderReview(w, rq, http.StatusBadRequest, map[string]string{id: msg})
}

// orgFields are the admission form's fields.
var orgFields = []field{{"kind", kText}, {"name_zh", kText}, {"name_en", kText}, {"region_code", kText},
	{"countries", kList}, {"grade", kText}, {"status", kText}}

// orgsPage is the org list's data, with the admission form.
type orgsPage struct {
	listPage[org]
	Form *Form
}

func (s *Server) orgList(w http.ResponseWriter, rq *request) {
	s.renderOrgs(w, rq, http.StatusOK, newForm(url.Values{"status": {"approved"}, "grade": {"B"}}))
}

func (s *Server) renderOrgs(w http.ResponseWriter, rq *request, status int, form *Form) {
	if list, ok := loadList[org](w, rq, "/v1/orgs", 50); ok {
		rq.render(w, status, "orgs", rq.T("orgs.title"), orgsPage{listPage: list, Form: form})
	}
}

func (s *Server) orgCreate(w http.ResponseWriter, rq *request) {
	_ = rq.r.ParseForm()
	form := newForm(rq.r.PostForm)
	res := rq.call(http.MethodPost, "/v1/orgs", nil, jsonOf(rq.r.PostForm, orgFields), 0)
	switch {
	case res.OK():
		var o org
		if err := res.decode(&o); err != nil {
			rq.failErr(w, err)
			return
		}
		// The key is shown in this answer only: never stored, never in a
		// redirect or a cookie.
		s.renderOrg(w, rq, http.StatusCreated, o.ID, o.APIKey, nil)
	case res.Status == http.StatusBadRequest:
		s.renderOrgs(w, rq, http.StatusBadRequest, form.withProblem(res.Problem))
	default:
		rq.failAPI(w, res)
	}
}

// audit is an entry of an org's audit trail.
type audit struct {
	At     string         `json:"at"`
	Actor  string         `json:"actor"`
	Action string         `json:"action"`
	Target string         `json:"target"`
	Before map[string]any `json:"before"`
	After  map[string]any `json:"after"`
}

// When is the entry's time in China time.
func (a audit) When() string {
	if t, err := time.Parse(time.RFC3339, a.At); err == nil {
		return t.In(chinaTime).Format("2006-01-02 15:04:05")
	}
	return a.At
}

// Change describes an audit entry's before → after in one line.
func (a audit) Change() string {
	var parts []string
	keys := map[string]bool{}
	for k := range a.Before {
		keys[k] = true
	}
	for k := range a.After {
		keys[k] = true
	}
	var names []string
	for k := range keys {
		names = append(names, k)
	}
	sortStrings(names)
	for _, k := range names {
		b, hasB := a.Before[k]
		af, hasA := a.After[k]
		switch {
		case hasB && hasA && scalar(b) != scalar(af):
			parts = append(parts, k+": "+scalar(b)+" → "+scalar(af))
		case hasA && !hasB:
			parts = append(parts, k+": "+scalar(af))
		case hasB && !hasA:
			parts = append(parts, k+": "+scalar(b)+" → –")
		}
	}
	return strings.Join(parts, "; ")
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// orgPage is an org's page data.
type orgPage struct {
	Org    org
	NewKey string // shown once, right after admission or rotation
	Audit  []audit
	Form   *Form
	Self   bool // the signed-in org itself (its session ends on rotation)
}

func (s *Server) orgPage(w http.ResponseWriter, rq *request) {
	s.renderOrg(w, rq, http.StatusOK, rq.r.PathValue("id"), "", nil)
}

func (s *Server) renderOrg(w http.ResponseWriter, rq *request, status int, id, newKey string, form *Form) {
	o, _, ok := loadOne[org](w, rq, "/v1/orgs/"+url.PathEscape(id))
	if !ok {
		return
	}
	data := orgPage{Org: o, NewKey: newKey}
	if form == nil {
		form = newForm(url.Values{"grade": {data.Org.Grade}, "status": {data.Org.Status},
			"version": {strconv.FormatInt(data.Org.Version, 10)}})
	}
	// The form always carries the version shown on the page: after a 412
	// the user sees the current values beside what they chose, and saving
	// again applies their choice to that version.
	form.Values.Set("version", strconv.FormatInt(data.Org.Version, 10))
	data.Form = form
	if ares := rq.call(http.MethodGet, "/v1/orgs/"+url.PathEscape(id)+"/audit", url.Values{"limit": {"100"}}, nil, 0); ares.OK() {
		var out struct {
			Items []audit `json:"items"`
		}
		if err := ares.decode(&out); err == nil {
			data.Audit = out.Items
		}
	}
	rq.render(w, status, "org", rq.Name(data.Org.NameZh, data.Org.NameEn), data)
}

func (s *Server) orgUpdate(w http.ResponseWriter, rq *request) {
	id := rq.r.PathValue("id")
	_ = rq.r.ParseForm()
	form := newForm(rq.r.PostForm)
	version, _ := strconv.ParseInt(form.V("version"), 10, 64)
	body := map[string]any{"grade": form.V("grade"), "status": form.V("status")}
	res := rq.call(http.MethodPatch, "/v1/orgs/"+url.PathEscape(id), nil, body, version)
	if !rq.afterWrite(w, res, "form.saved", "/console/orgs/"+url.PathEscape(id), http.StatusPreconditionFailed, http.StatusBadRequest) {
		return
	}
	if res.Status == http.StatusPreconditionFailed {
		form.Problem = rq.T("orgs.stale")
		s.renderOrg(w, rq, http.StatusConflict, id, "", form)
		return
	}
	s.renderOrg(w, rq, http.StatusBadRequest, id, "", form.withProblem(res.Problem))
}

func (s *Server) orgRotateKey(w http.ResponseWriter, rq *request) {
	id := rq.r.PathValue("id")
	res := rq.call(http.MethodPost, "/v1/orgs/"+url.PathEscape(id)+"/keys", nil, nil, 0)
	if !res.OK() {
		rq.failAPI(w, res)
		return
	}
	var out struct {
		APIKey string `json:"api_key"`
	}
	if err := res.decode(&out); err != nil {
		rq.failErr(w, err)
		return
	}
	if id == rq.se.org.ID {
		// The session was bound to the old key: it ends now. The new key
		// is shown once on this page; the user signs in with it.
		if err := s.endSession(rq.ctx(), w, rq.r); err != nil {
			rq.failErr(w, err)
			return
		}
		data := orgPage{NewKey: out.APIKey, Self: true}
		rq.se = nil
		rq.render(w, http.StatusCreated, "rotated", rq.T("account.rotated"), data)
		return
	}
	s.renderOrg(w, rq, http.StatusCreated, id, out.APIKey, nil)
}

// account is the signed-in org's own page: its details and key rotation.
func (s *Server) account(w http.ResponseWriter, rq *request) {
	if o, _, ok := loadOne[org](w, rq, "/v1/orgs/"+url.PathEscape(rq.se.org.ID)); ok {
		rq.render(w, http.StatusOK, "account", rq.T("account.title"), orgPage{Org: o, Self: true})
	}
}
