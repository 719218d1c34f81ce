package web

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"golang.org/x/text/language"
	"golang.org/x/text/language/display"

	"github.com/livematch/livematch/engine"
)

// An MCN's hosts (list and form), and the host requests of cross-border
// firms and importers with their explained host matches.

func (s *Server) hostRoutes() {
	m := s.mux
	m.Handle("GET /console/hosts", s.page(mcnRole, s.hostList))
	m.Handle("GET /console/hosts/new", s.page(mcnRole, s.hostNew))
	m.Handle("POST /console/hosts/new", s.page(mcnRole, s.hostCreate))
	m.Handle("GET /console/hosts/{id}", s.page(mcnRole, s.hostShow))
	m.Handle("POST /console/hosts/{id}", s.page(mcnRole, s.hostSave))
	m.Handle("POST /console/hosts/{id}/delete", s.page(mcnRole, s.hostDelete))

	m.Handle("GET /console/host-requests", s.page(requestRole, s.hreqList))
	m.Handle("GET /console/host-requests/new", s.page(requestRole, s.hreqNew))
	m.Handle("POST /console/host-requests/new", s.page(requestRole, s.hreqCreate))
	m.Handle("GET /console/host-requests/{id}", s.page(requestRole, s.hreqShow))
	m.Handle("POST /console/host-requests/{id}", s.page(requestRole, s.hreqSave))
	m.Handle("POST /console/host-requests/{id}/delete", s.page(requestRole, s.hreqDelete))
	// The preview of unsaved values (also /console/host-requests/new/preview).
	m.Handle("POST /console/host-requests/{id}/preview", s.page(requestRole, s.hreqPreview))
}

// hostFields are a host's form fields (the languages are rows, read
// apart).
func hostFields() []field {
	return []field{{"name", kText}, {"markets", kList}, {"categories", kMulti}, {"certification.level", kText},
		{"certification.expires_at", kDate}, {"followers", kNumber}, {"avg_viewers", kNumber},
		{"conversion_rate", kNumber}, {"rating", kNumber}, {"hourly_rate_cny", kNumber}, {"timezone", kText},
		{"available_dates", kList}, {"bio_zh", kText}, {"bio_en", kText}}
}

// hostLists are a host's list fields whose items the API names by index.
var hostLists = [...]string{"markets", "categories", "available_dates"}

// hreqFields are a host request's form fields, the weights one per host
// factor (the languages are rows, read apart).
func hreqFields() []field {
	fs := []field{{"title", kText}, {"categories", kMulti}, {"target_markets", kList}, {"date", kDateText},
		{"budget_cny_per_hour", kNumber}, {"require_certified", kBool}, {"notes", kText}, {"status", kText}}
	for _, f := range engine.HostFactors() {
		fs = append(fs, field{"weights." + string(f), kNumber})
	}
	return fs
}

// hreqLists are a request's list fields whose items the API names by index.
var hreqLists = [...]string{"categories", "target_markets"}

// hostBody is the API's JSON of a host form: the fields and the language
// rows (code and level), blank rows dropped.
func hostBody(v url.Values) map[string]any {
	compactRows(v, "languages", "code", []string{"level"})
	body := jsonOf(v, hostFields())
	body["languages"] = rows(v, "languages", "code", []field{{"code", kText}, {"level", kText}})
	return body
}

// hreqBody is the API's JSON of a host request form.
func hreqBody(v url.Values) map[string]any {
	compactRows(v, "languages", "code", []string{"min_level"})
	body := jsonOf(v, hreqFields())
	body["languages"] = rows(v, "languages", "code", []field{{"code", kText}, {"min_level", kText}})
	return body
}

// hostRowValues adds the rows of a decoded list of objects (languages) to
// form values: group.part for each part, one value per row.
func hostRowValues(v url.Values, obj map[string]any, group string, parts []string) {
	for _, it := range asSlice(obj[group]) {
		row, _ := it.(map[string]any)
		for _, p := range parts {
			v.Add(group+"."+p, scalar(row[p]))
		}
	}
}

// hostLanguage is a language a host speaks.
type hostLanguage struct {
	Code  string `json:"code"`
	Level string `json:"level"`
}

// hostCert is a host's certification; Valid is false once expired.
type hostCert struct {
	Level     string     `json:"level"`
	ExpiresAt *time.Time `json:"expires_at"`
	Valid     bool       `json:"valid"`
}

// hostInfo is a host as the API returns it.
type hostInfo struct {
	ID             string         `json:"id"`
	OrgID          string         `json:"org_id"`
	Name           string         `json:"name"`
	Languages      []hostLanguage `json:"languages"`
	Markets        []string       `json:"markets"`
	Categories     []string       `json:"categories"`
	Certification  *hostCert      `json:"certification"`
	Followers      int64          `json:"followers"`
	AvgViewers     int64          `json:"avg_viewers"`
	ConversionRate float64        `json:"conversion_rate"`
	Rating         float64        `json:"rating"`
	HourlyRateCNY  float64        `json:"hourly_rate_cny"`
	Timezone       string         `json:"timezone"`
	AvailableDates []string       `json:"available_dates"`
	BioZh          string         `json:"bio_zh"`
	BioEn          string         `json:"bio_en"`
	Version        int64          `json:"version"`
}

// hostDatesShown is how many available dates a list shows.
const hostDatesShown = 6

// SomeDates are the first available dates (a list shows these).
func (h hostInfo) SomeDates() []string {
	return h.AvailableDates[:min(len(h.AvailableDates), hostDatesShown)]
}

// MoreDates is how many available dates SomeDates leaves out.
func (h hostInfo) MoreDates() int { return max(0, len(h.AvailableDates)-hostDatesShown) }

// languageNeed is a language a request needs, at a minimum level.
type languageNeed struct {
	Code     string `json:"code"`
	MinLevel string `json:"min_level"`
}

// hostRequest is a host request as the API returns it.
type hostRequest struct {
	ID               string         `json:"id"`
	Title            string         `json:"title"`
	Categories       []string       `json:"categories"`
	TargetMarkets    []string       `json:"target_markets"`
	Languages        []languageNeed `json:"languages"`
	Date             string         `json:"date"`
	BudgetCNYPerHour float64        `json:"budget_cny_per_hour"`
	RequireCertified bool           `json:"require_certified"`
	Status           string         `json:"status"`
	Version          int64          `json:"version"`
}

// hostMatch is one explained host match.
type hostMatch struct {
	Host    hostInfo `json:"host"`
	Score   float64  `json:"score"`
	Factors []factor `json:"factors"`
}

// hostMatches is the API's answer to a host match.
type hostMatches struct {
	Items      []hostMatch    `json:"items"`
	Excluded   map[string]int `json:"excluded"`
	Candidates int64          `json:"candidates"`
	TookMS     int64          `json:"took_ms"`
}

// hostListPage is the host list's data.
type hostListPage struct {
	Items []hostInfo
	Pager pager
}

// hostPage is the host form's data.
type hostPage struct {
	ID      string
	Version int64
	New     bool
	Stale   bool
	Form    *Form
	Action  string
}

// hreqListPage is the host request list's data.
type hreqListPage struct {
	Items []hostRequest
	Pager pager
}

// hreqPage is a host request's form with its matches.
type hreqPage struct {
	ID      string
	Version int64
	New     bool
	Stale   bool
	Form    *Form
	Weights []weightSlider
	// Action is where the form saves; PreviewURL where htmx previews it.
	Action, PreviewURL string
	Matches            *hostMatches
	MatchForm          *Form
	MatchError         string
	Preview            bool
}

// HostLang names a language code in the page's language (zh → 中文).
func (v *view) HostLang(code string) string {
	tag, err := language.Parse(code)
	if err != nil {
		return code
	}
	namer := display.Chinese.Tags()
	if v.En() {
		namer = display.English.Tags()
	}
	if n := namer.Name(tag); n != "" {
		return n
	}
	return code
}

// HostMarket names a country code in the page's language (MY → 马来西亚).
func (v *view) HostMarket(code string) string {
	r, err := language.ParseRegion(code)
	if err != nil {
		return code
	}
	namer := display.Chinese.Regions()
	if v.En() {
		namer = display.English.Regions()
	}
	if n := namer.Name(r); n != "" {
		return n
	}
	return code
}

// HostCertLevels are the host certification levels, lowest first.
func (v *view) HostCertLevels() []string { return []string{"junior", "intermediate", "senior"} }

// HostCount shows a count of people the way each language reads it:
// 4.1万 in Chinese, 41,000 in English.
func (v *view) HostCount(n int64) string {
	if !v.En() {
		if n >= 10000 {
			return strconv.FormatFloat(math.Round(float64(n)/1000)/10, 'f', -1, 64) + "万"
		}
		return strconv.FormatInt(n, 10)
	}
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// HostSep is the separator of a list of names in the page's language.
func (v *view) HostSep() string {
	if v.En() {
		return ", "
	}
	return "、"
}

// HostDay shows a time as a China-time date.
func (v *view) HostDay(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.In(chinaTime).Format(time.DateOnly)
}

// --- hosts ---

func (s *Server) hostList(w http.ResponseWriter, rq *request) {
	in := rq.r.URL.Query()
	q := url.Values{"limit": {"50"}}
	cursor := in.Get("cursor")
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	res := rq.call(http.MethodGet, "/v1/hosts", q, nil, 0)
	if !res.OK() {
		rq.failAPI(w, res)
		return
	}
	var list struct {
		Items      []hostInfo `json:"items"`
		NextCursor string     `json:"next_cursor"`
	}
	if err := res.decode(&list); err != nil {
		rq.failErr(w, fmt.Errorf("decoding the hosts: %w", err))
		return
	}
	data := hostListPage{Items: list.Items}
	data.Pager, _ = pages(rq, url.Values{}, cursor, in.Get("trail"), list.NextCursor, len(list.Items))
	rq.render(w, http.StatusOK, "hosts", rq.T("hosts.title"), data)
}

func (s *Server) hostNew(w http.ResponseWriter, rq *request) {
	f := newForm(url.Values{"timezone": {"Asia/Shanghai"}, "languages.code": {"zh"}, "languages.level": {"native"}})
	rq.render(w, http.StatusOK, "host", rq.T("hosts.new"), &hostPage{New: true, Form: f, Action: "/console/hosts/new"})
}

func (s *Server) hostCreate(w http.ResponseWriter, rq *request) {
	vals := pfPosted(rq)
	res := rq.call(http.MethodPost, "/v1/hosts", nil, hostBody(vals), 0)
	if res.Status == http.StatusBadRequest {
		f := newForm(vals).withProblem(res.Problem)
		pfFoldErrors(f, hostLists[:])
		rq.render(w, http.StatusBadRequest, "host", rq.T("hosts.new"), &hostPage{New: true, Form: f, Action: "/console/hosts/new"})
		return
	}
	if !res.OK() {
		rq.failAPI(w, res)
		return
	}
	rq.flash("hosts.created")
	rq.redirect(w, "/console/hosts")
}

func (s *Server) hostShow(w http.ResponseWriter, rq *request) {
	id := rq.r.PathValue("id")
	res := rq.call(http.MethodGet, "/v1/hosts/"+url.PathEscape(id), nil, nil, 0)
	if !res.OK() {
		rq.failAPI(w, res)
		return
	}
	var h hostInfo
	if err := res.decode(&h); err != nil {
		rq.failErr(w, fmt.Errorf("decoding the host: %w", err))
		return
	}
	if rq.se.org.ID != h.OrgID { // another MCN's host: not ours to edit
		rq.fail(w, http.StatusNotFound, rq.T("error.not_found"))
		return
	}
	obj := decodeObject(res.Body)
	vals := valuesOf(obj, hostFields())
	hostRowValues(vals, obj, "languages", []string{"code", "level"})
	rq.render(w, http.StatusOK, "host", h.Name, &hostPage{ID: id, Version: h.Version, Form: newForm(vals),
		Action: "/console/hosts/" + url.PathEscape(id)})
}

func (s *Server) hostSave(w http.ResponseWriter, rq *request) {
	id := rq.r.PathValue("id")
	vals := pfPosted(rq)
	version := pfVersion(vals)
	vals.Del("version")
	res := rq.call(http.MethodPut, "/v1/hosts/"+url.PathEscape(id), nil, hostBody(vals), version)
	page := &hostPage{ID: id, Version: version, Action: "/console/hosts/" + url.PathEscape(id)}
	switch {
	case res.OK():
		rq.flash("form.saved")
		rq.redirect(w, "/console/hosts/"+url.PathEscape(id))
		return
	case res.Status == http.StatusBadRequest:
		page.Form = newForm(vals).withProblem(res.Problem)
		pfFoldErrors(page.Form, hostLists[:])
		rq.render(w, http.StatusBadRequest, "host", rq.T("hosts.edit"), page)
		return
	case res.Status == http.StatusPreconditionFailed:
		cur := rq.call(http.MethodGet, "/v1/hosts/"+url.PathEscape(id), nil, nil, 0)
		if !cur.OK() {
			rq.failAPI(w, cur)
			return
		}
		var h hostInfo
		_ = cur.decode(&h)
		page.Version, page.Stale, page.Form = h.Version, true, newForm(vals)
		rq.render(w, http.StatusPreconditionFailed, "host", rq.T("hosts.edit"), page)
		return
	}
	rq.failAPI(w, res)
}

func (s *Server) hostDelete(w http.ResponseWriter, rq *request) {
	id := rq.r.PathValue("id")
	res := rq.call(http.MethodDelete, "/v1/hosts/"+url.PathEscape(id), nil, nil, pfVersion(pfPosted(rq)))
	switch {
	case res.OK():
		rq.flash("hosts.deleted")
		rq.redirect(w, "/console/hosts")
	case res.Status == http.StatusPreconditionFailed:
		rq.flash("hosts.stale_delete")
		rq.redirect(w, "/console/hosts/"+url.PathEscape(id))
	default:
		rq.failAPI(w, res)
	}
}

// --- host requests ---

func (s *Server) hreqList(w http.ResponseWriter, rq *request) {
	in := rq.r.URL.Query()
	q := url.Values{"limit": {"20"}}
	cursor := in.Get("cursor")
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	res := rq.call(http.MethodGet, "/v1/host-requests", q, nil, 0)
	if !res.OK() {
		rq.failAPI(w, res)
		return
	}
	var list struct {
		Items      []hostRequest `json:"items"`
		NextCursor string        `json:"next_cursor"`
	}
	if err := res.decode(&list); err != nil {
		rq.failErr(w, fmt.Errorf("decoding the host requests: %w", err))
		return
	}
	data := hreqListPage{Items: list.Items}
	data.Pager, _ = pages(rq, url.Values{}, cursor, in.Get("trail"), list.NextCursor, len(list.Items))
	rq.render(w, http.StatusOK, "host_requests", rq.T("hreq.title"), data)
}

// newHreqPage is the data of the new-request form.
func newHreqPage(f *Form) *hreqPage {
	return &hreqPage{New: true, Form: f, Weights: pfSliders(f, engine.HostFactors()),
		Action: "/console/host-requests/new", PreviewURL: "/console/host-requests/new/preview"}
}

// editHreqPage is the data of an existing request's form.
func editHreqPage(id string, version int64, f *Form) *hreqPage {
	base := "/console/host-requests/" + url.PathEscape(id)
	return &hreqPage{ID: id, Version: version, Form: f, Weights: pfSliders(f, engine.HostFactors()),
		Action: base, PreviewURL: base + "/preview"}
}

func (s *Server) hreqNew(w http.ResponseWriter, rq *request) {
	f := newForm(url.Values{"status": {string(engine.ProfileOpen)}})
	rq.render(w, http.StatusOK, "host_request", rq.T("hreq.new"), newHreqPage(f))
}

func (s *Server) hreqCreate(w http.ResponseWriter, rq *request) {
	vals := pfPosted(rq)
	res := rq.call(http.MethodPost, "/v1/host-requests", nil, hreqBody(vals), 0)
	if res.Status == http.StatusBadRequest {
		f := newForm(vals).withProblem(res.Problem)
		pfFoldErrors(f, hreqLists[:])
		rq.render(w, http.StatusBadRequest, "host_request", rq.T("hreq.new"), newHreqPage(f))
		return
	}
	if !res.OK() {
		rq.failAPI(w, res)
		return
	}
	var r hostRequest
	if err := res.decode(&r); err != nil {
		rq.failErr(w, fmt.Errorf("decoding the created host request: %w", err))
		return
	}
	rq.flash("hreq.created")
	rq.redirect(w, "/console/host-requests/"+url.PathEscape(r.ID))
}

// hreqMatches fills the page's matches from an API answer.
func (s *Server) hreqMatches(rq *request, res *apiResult, p *hreqPage) {
	switch {
	case res.OK():
		var m hostMatches
		if err := res.decode(&m); err != nil {
			p.MatchError = rq.T("error.internal")
			return
		}
		p.Matches = &m
	case res.Status == http.StatusBadRequest:
		f := newForm(nil).withProblem(res.Problem)
		pfFoldErrors(f, hreqLists[:])
		p.MatchForm = f
	default:
		p.MatchError = pfAPIMessage(rq, res)
	}
}

// storedHostMatches fills the page's matches from the stored request.
func (s *Server) storedHostMatches(rq *request, id string, p *hreqPage) {
	res := rq.call(http.MethodGet, "/v1/host-requests/"+url.PathEscape(id)+"/matches", url.Values{"limit": {"20"}}, nil, 0)
	s.hreqMatches(rq, res, p)
}

func (s *Server) hreqShow(w http.ResponseWriter, rq *request) {
	id := rq.r.PathValue("id")
	res := rq.call(http.MethodGet, "/v1/host-requests/"+url.PathEscape(id), nil, nil, 0)
	if !res.OK() {
		rq.failAPI(w, res)
		return
	}
	var r hostRequest
	if err := res.decode(&r); err != nil {
		rq.failErr(w, fmt.Errorf("decoding the host request: %w", err))
		return
	}
	obj := decodeObject(res.Body)
	vals := valuesOf(obj, hreqFields())
	hostRowValues(vals, obj, "languages", []string{"code", "min_level"})
	data := editHreqPage(id, r.Version, newForm(vals))
	s.storedHostMatches(rq, id, data)
	rq.render(w, http.StatusOK, "host_request", r.Title, data)
}

func (s *Server) hreqSave(w http.ResponseWriter, rq *request) {
	id := rq.r.PathValue("id")
	vals := pfPosted(rq)
	version := pfVersion(vals)
	vals.Del("version")
	res := rq.call(http.MethodPut, "/v1/host-requests/"+url.PathEscape(id), nil, hreqBody(vals), version)
	switch {
	case res.OK():
		rq.flash("form.saved")
		rq.redirect(w, "/console/host-requests/"+url.PathEscape(id))
		return
	case res.Status == http.StatusBadRequest:
		f := newForm(vals).withProblem(res.Problem)
		pfFoldErrors(f, hreqLists[:])
		data := editHreqPage(id, version, f)
		s.storedHostMatches(rq, id, data)
		rq.render(w, http.StatusBadRequest, "host_request", rq.T("hreq.edit"), data)
		return
	case res.Status == http.StatusPreconditionFailed:
		cur := rq.call(http.MethodGet, "/v1/host-requests/"+url.PathEscape(id), nil, nil, 0)
		if !cur.OK() {
			rq.failAPI(w, cur)
			return
		}
		var r hostRequest
		_ = cur.decode(&r)
		data := editHreqPage(id, r.Version, newForm(vals))
		data.Stale = true
		s.storedHostMatches(rq, id, data)
		rq.render(w, http.StatusPreconditionFailed, "host_request", rq.T("hreq.edit"), data)
		return
	}
	rq.failAPI(w, res)
}

func (s *Server) hreqDelete(w http.ResponseWriter, rq *request) {
	id := rq.r.PathValue("id")
	res := rq.call(http.MethodDelete, "/v1/host-requests/"+url.PathEscape(id), nil, nil, pfVersion(pfPosted(rq)))
	switch {
	case res.OK():
		rq.flash("hreq.deleted")
		rq.redirect(w, "/console/host-requests")
	case res.Status == http.StatusPreconditionFailed:
		rq.flash("hreq.stale_delete")
		rq.redirect(w, "/console/host-requests/"+url.PathEscape(id))
	default:
		rq.failAPI(w, res)
	}
}

// hreqPreview matches the form's current values without storing them
// (POST /v1/match/hosts) and answers the matches block alone, always 200
// so that htmx swaps it, messages included.
func (s *Server) hreqPreview(w http.ResponseWriter, rq *request) {
	vals := pfPosted(rq)
	res := rq.call(http.MethodPost, "/v1/match/hosts", url.Values{"limit": {"20"}}, hreqBody(vals), 0)
	data := &hreqPage{Form: newForm(vals), Preview: true}
	s.hreqMatches(rq, res, data)
	rq.renderBlock(w, http.StatusOK, "host_request", "hostmatches", rq.T("hreq.matches"), data)
}
