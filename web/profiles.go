package web

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/livematch/livematch/engine"
)

// The MCN's demand profiles: list, form (every API field, a weight slider
// per factor) and the explained matches, re-ranked while weights move.

func (s *Server) profileRoutes() {
	m := s.mux
	m.Handle("GET /console/profiles", s.page(mcnRole, s.profileList))
	m.Handle("GET /console/profiles/new", s.page(mcnRole, s.profileNew))
	m.Handle("POST /console/profiles/new", s.page(mcnRole, s.profileCreate))
	m.Handle("GET /console/profiles/{id}", s.page(mcnRole, s.profileShow))
	m.Handle("POST /console/profiles/{id}", s.page(mcnRole, s.profileSave))
	m.Handle("POST /console/profiles/{id}/delete", s.page(mcnRole, s.profileDelete))
	// The preview of unsaved values (also /console/profiles/new/preview).
	m.Handle("POST /console/profiles/{id}/preview", s.page(mcnRole, s.profilePreview))
}

// profileFields are the demand profile's form fields: the API's JSON
// fields, the weights one per factor.
func profileFields() []field {
	fs := []field{{"name", kText}, {"keywords", kText}, {"categories", kMulti}, {"price_min", kNumber},
		{"price_max", kNumber}, {"min_commission_rate", kNumber}, {"expected_units", kNumber}, {"min_stock", kNumber},
		{"required_certifications", kMulti}, {"preferred_certifications", kMulti}, {"audience_regions", kList},
		{"target_markets", kList}, {"stream_date", kDateTime}, {"poverty_relief_min_share", kNumber}, {"status", kText}}
	for _, f := range engine.Factors() {
		fs = append(fs, field{"weights." + string(f), kNumber})
	}
	return fs
}

// profileListFields are the profile's list fields whose items the API names
// by index (categories[2]); their messages are shown by the list's input.
var profileListFields = [...]string{"categories", "required_certifications", "preferred_certifications",
	"audience_regions", "target_markets"}

// demandProfile is a demand profile as the API returns it (what the list
// shows).
type demandProfile struct {
	ID                string             `json:"id"`
	Name              string             `json:"name"`
	Keywords          string             `json:"keywords"`
	Categories        []string           `json:"categories"`
	PriceMin          *float64           `json:"price_min"`
	PriceMax          *float64           `json:"price_max"`
	MinCommissionRate float64            `json:"min_commission_rate"`
	StreamDate        *time.Time         `json:"stream_date"`
	Status            string             `json:"status"`
	Weights           map[string]float64 `json:"weights"`
	Version           int64              `json:"version"`
	UpdatedAt         *time.Time         `json:"updated_at"`
}

// profileMatch is one explained product match.
type profileMatch struct {
	Product product  `json:"product"`
	Score   float64  `json:"score"`
	Factors []factor `json:"factors"`
}

// profileMatches is the API's answer to a product match.
type profileMatches struct {
	Items      []profileMatch `json:"items"`
	Excluded   map[string]int `json:"excluded"`
	Candidates int64          `json:"candidates"`
	TookMS     int64          `json:"took_ms"`
}

// profileListPage is the profile list's data.
type profileListPage struct {
	Items []demandProfile
	Pager pager
}

// weightSlider is one factor's weight slider.
type weightSlider struct {
	Name  string // factor name
	Value string // the slider's value
	Max   string // 5, or more when a stored weight is larger
}

// profilePage is the profile form's data, with its matches.
type profilePage struct {
	ID      string
	Version int64
	New     bool
	Form    *Form
	// Stale: the profile changed since the form was loaded (412); the
	// typed values are kept and Version is the current one.
	Stale   bool
	Weights []weightSlider
	// Action is where the form saves; PreviewURL where htmx previews it.
	Action, PreviewURL string
	pfMatchBlock
}

// pfMatchBlock is what the matches block shows: the matches, or why there
// are none.
type pfMatchBlock struct {
	Matches *profileMatches
	// MatchForm carries the API's messages when a preview's values are bad.
	MatchForm *Form
	// MatchError is a message when matching failed otherwise.
	MatchError string
	// Preview marks matches of unsaved values.
	Preview bool
}

// pfSliders builds the weight sliders of a form for factors (absent
// weights weigh 1, the API's default).
func pfSliders(f *Form, factors []engine.Factor) []weightSlider {
	out := make([]weightSlider, len(factors))
	for i, fc := range factors {
		v := strings.TrimSpace(f.V("weights." + string(fc)))
		if v == "" {
			v = "1"
		}
		top := 5.0
		if x, err := strconv.ParseFloat(v, 64); err == nil && x > top && !math.IsInf(x, 0) {
			top = math.Ceil(x)
		}
		out[i] = weightSlider{Name: string(fc), Value: v, Max: strconv.FormatFloat(top, 'f', -1, 64)}
	}
	return out
}

// pfFoldErrors moves the messages of list items (categories[1]) to the
// list's own field, where the form shows them.
func pfFoldErrors(f *Form, lists []string) {
	for _, l := range lists {
		var msgs []string
		for i := 0; i <= engine.MaxProfileList+1; i++ {
			k := l + "[" + strconv.Itoa(i) + "]"
			if m, ok := f.Errors[k]; ok {
				msgs = append(msgs, m)
				delete(f.Errors, k)
			}
		}
		if len(msgs) == 0 {
			continue
		}
		if prev := f.Errors[l]; prev != "" {
			msgs = append([]string{prev}, msgs...)
		}
		f.Errors[l] = strings.Join(msgs, "; ")
	}
}

// pfPosted is a write's submitted form values (a copy: the console's
// own fields, csrf_token and version, are not sent to the API anyway).
func pfPosted(rq *request) url.Values {
	_ = rq.r.ParseForm()
	out := url.Values{}
	for k, vs := range rq.r.PostForm {
		if k == "csrf_token" {
			continue
		}
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// pfVersion reads the hidden version field of an edit form.
func pfVersion(v url.Values) int64 {
	n, _ := strconv.ParseInt(strings.TrimSpace(v.Get("version")), 10, 64)
	return n
}

func (s *Server) profileList(w http.ResponseWriter, rq *request) {
	in := rq.r.URL.Query()
	q := url.Values{"limit": {"20"}}
	cursor := in.Get("cursor")
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	res := rq.call(http.MethodGet, "/v1/demand-profiles", q, nil, 0)
	if !res.OK() {
		rq.failAPI(w, res)
		return
	}
	var list struct {
		Items      []demandProfile `json:"items"`
		NextCursor string          `json:"next_cursor"`
	}
	if err := res.decode(&list); err != nil {
		rq.failErr(w, err)
		return
	}
	data := profileListPage{Items: list.Items}
	data.Pager, _ = pages(rq, url.Values{}, cursor, in.Get("trail"), list.NextCursor, len(list.Items))
	rq.render(w, http.StatusOK, "profiles", rq.T("profiles.title"), data)
}

// newProfilePage is the data of the new-profile form.
func newProfilePage(f *Form) *profilePage {
	return &profilePage{New: true, Form: f, Weights: pfSliders(f, engine.Factors()),
		Action: "/console/profiles/new", PreviewURL: "/console/profiles/new/preview"}
}

func (s *Server) profileNew(w http.ResponseWriter, rq *request) {
	f := newForm(url.Values{"status": {string(engine.ProfileOpen)}})
	rq.render(w, http.StatusOK, "profile", rq.T("profiles.new"), newProfilePage(f))
}

func (s *Server) profileCreate(w http.ResponseWriter, rq *request) {
	vals := pfPosted(rq)
	res := rq.call(http.MethodPost, "/v1/demand-profiles", nil, jsonOf(vals, profileFields()), 0)
	if res.Status == http.StatusBadRequest {
		f := newForm(vals).withProblem(res.Problem)
		pfFoldErrors(f, profileListFields[:])
		rq.render(w, http.StatusBadRequest, "profile", rq.T("profiles.new"), newProfilePage(f))
		return
	}
	if !res.OK() {
		rq.failAPI(w, res)
		return
	}
	var p demandProfile
	if err := res.decode(&p); err != nil {
		rq.failErr(w, fmt.Errorf("decoding the created profile: %w", err))
		return
	}
	rq.flash("profiles.created")
	rq.redirect(w, "/console/profiles/"+url.PathEscape(p.ID))
}

// loadProfile reads a profile as form values; false when it failed (the
// error page is written).
func (s *Server) loadProfile(w http.ResponseWriter, rq *request, id string) (url.Values, int64, bool) {
	res := rq.call(http.MethodGet, "/v1/demand-profiles/"+url.PathEscape(id), nil, nil, 0)
	if !res.OK() {
		rq.failAPI(w, res)
		return nil, 0, false
	}
	var p demandProfile
	if err := res.decode(&p); err != nil {
		rq.failErr(w, fmt.Errorf("decoding the profile: %w", err))
		return nil, 0, false
	}
	return valuesOf(decodeObject(res.Body), profileFields()), p.Version, true
}

// editProfilePage is the data of an existing profile's form.
func editProfilePage(id string, version int64, f *Form) *profilePage {
	base := "/console/profiles/" + url.PathEscape(id)
	return &profilePage{ID: id, Version: version, Form: f, Weights: pfSliders(f, engine.Factors()),
		Action: base, PreviewURL: base + "/preview"}
}

// storedMatches fills the page's matches from the stored profile.
func (s *Server) storedMatches(rq *request, id string, mb *pfMatchBlock) {
	res := rq.call(http.MethodGet, "/v1/demand-profiles/"+url.PathEscape(id)+"/matches", url.Values{"limit": {"20"}}, nil, 0)
	s.fillMatches(rq, res, mb)
}

// fillMatches reads a match answer into the block: the matches, the
// API's messages for bad values, or a message.
func (s *Server) fillMatches(rq *request, res *apiResult, mb *pfMatchBlock) {
	switch {
	case res.OK():
		var m profileMatches
		if err := res.decode(&m); err != nil {
			mb.MatchError = rq.T("error.internal")
			return
		}
		mb.Matches = &m
	case res.Status == http.StatusBadRequest:
		f := newForm(nil).withProblem(res.Problem)
		pfFoldErrors(f, profileListFields[:])
		mb.MatchForm = f
	default:
		mb.MatchError = pfAPIMessage(rq, res)
	}
}

// pfAPIMessage is the message for an API answer that is not a form's field
// errors.
func pfAPIMessage(rq *request, res *apiResult) string {
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

func (s *Server) profileShow(w http.ResponseWriter, rq *request) {
	id := rq.r.PathValue("id")
	vals, version, ok := s.loadProfile(w, rq, id)
	if !ok {
		return
	}
	data := editProfilePage(id, version, newForm(vals))
	s.storedMatches(rq, id, &data.pfMatchBlock)
	rq.render(w, http.StatusOK, "profile", profileTitle(rq, vals), data)
}

// profileTitle is an edit page's title: the profile's name.
func profileTitle(rq *request, v url.Values) string {
	if n := strings.TrimSpace(v.Get("name")); n != "" {
		return n
	}
	return rq.T("profiles.edit")
}

func (s *Server) profileSave(w http.ResponseWriter, rq *request) {
	id := rq.r.PathValue("id")
	vals := pfPosted(rq)
	version := pfVersion(vals)
	vals.Del("version")
	res := rq.call(http.MethodPut, "/v1/demand-profiles/"+url.PathEscape(id), nil, jsonOf(vals, profileFields()), version)
	switch {
	case res.OK():
		rq.flash("form.saved")
		rq.redirect(w, "/console/profiles/"+url.PathEscape(id))
		return
	case res.Status == http.StatusBadRequest:
		f := newForm(vals).withProblem(res.Problem)
		pfFoldErrors(f, profileListFields[:])
		data := editProfilePage(id, version, f)
		s.storedMatches(rq, id, &data.pfMatchBlock)
		rq.render(w, http.StatusBadRequest, "profile", rq.T("profiles.edit"), data)
		return
	case res.Status == http.StatusPreconditionFailed:
		// Someone saved first: keep what was typed, and take the current
		// version so that saving again overwrites knowingly.
		cur := rq.call(http.MethodGet, "/v1/demand-profiles/"+url.PathEscape(id), nil, nil, 0)
		if !cur.OK() {
			rq.failAPI(w, cur)
			return
		}
		var p demandProfile
		_ = cur.decode(&p)
		data := editProfilePage(id, p.Version, newForm(vals))
		data.Stale = true
		s.storedMatches(rq, id, &data.pfMatchBlock)
		rq.render(w, http.StatusPreconditionFailed, "profile", rq.T("profiles.edit"), data)
		return
	}
	rq.failAPI(w, res)
}

func (s *Server) profileDelete(w http.ResponseWriter, rq *request) {
	id := rq.r.PathValue("id")
	vals := pfPosted(rq)
	res := rq.call(http.MethodDelete, "/v1/demand-profiles/"+url.PathEscape(id), nil, nil, pfVersion(vals))
	switch {
	case res.OK():
		rq.flash("profiles.deleted")
		rq.redirect(w, "/console/profiles")
	case res.Status == http.StatusPreconditionFailed:
		rq.flash("profiles.stale_delete")
		rq.redirect(w, "/console/profiles/"+url.PathEscape(id))
	default:
		rq.failAPI(w, res)
	}
}

// profilePreview matches the form's current values without storing them
// (POST /v1/match/products) and answers the matches block alone. It
// always answers 200 so that htmx swaps the block, messages included.
func (s *Server) profilePreview(w http.ResponseWriter, rq *request) {
	vals := pfPosted(rq)
	res := rq.call(http.MethodPost, "/v1/match/products", url.Values{"limit": {"20"}}, jsonOf(vals, profileFields()), 0)
	data := &profilePage{Form: newForm(vals)}
	data.Preview = true
	s.fillMatches(rq, res, &data.pfMatchBlock)
	rq.renderBlock(w, http.StatusOK, "profile", "matches", rq.T("profiles.matches"), data)
}
