package web

import (
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
	hostEditor().routes(s, mcnRole) // new, {id}, {id}/delete

	m.Handle("GET /console/host-requests", s.page(requestRole, s.hreqList))
	hreqEditor().routes(s, requestRole)
	// The preview of unsaved values (also /console/host-requests/new/preview).
	m.Handle("POST /console/host-requests/{id}/preview", s.page(requestRole, s.hreqPreview))
}

// hostEditor is the flow of the host's form. The API shows hosts to every
// org (they are offered to cross-border firms); an MCN edits only its own.
// A created host leads back to the list.
func hostEditor() *editor {
	return &editor{api: "/v1/hosts", console: "/console/hosts", page: "host", lists: hostLists[:],
		blank: url.Values{"timezone": {"Asia/Shanghai"}, "languages.code": {"zh"}, "languages.level": {"native"}},
		body:  hostBody,
		values: func(obj map[string]any) url.Values {
			v := valuesOf(obj, hostFields())
			hostRowValues(v, obj, "languages", []string{"code", "level"})
			return v
		},
		data: func(_ *request, id string, version int64, f *Form, stale bool) any {
			p := &hostPage{ID: id, Version: version, New: id == "", Stale: stale, Form: f, Action: "/console/hosts/new"}
			if id != "" {
				p.Action = "/console/hosts/" + url.PathEscape(id)
			}
			return p
		},
		titleField: "name", own: true, listAfterCreate: true,
		newKey: "hosts.new", editKey: "hosts.edit", createdKey: "hosts.created",
		deletedKey: "hosts.deleted", staleDeleteKey: "hosts.stale_delete"}
}

// hreqEditor is the flow of the host request's form.
func hreqEditor() *editor {
	return &editor{api: "/v1/host-requests", console: "/console/host-requests", page: "host_request", lists: hreqLists[:],
		blank: url.Values{"status": {string(engine.ProfileOpen)}},
		body:  hreqBody,
		values: func(obj map[string]any) url.Values {
			v := valuesOf(obj, hreqFields())
			hostRowValues(v, obj, "languages", []string{"code", "min_level"})
			return v
		},
		data:       hreqData,
		titleField: "title",
		newKey:     "hreq.new", editKey: "hreq.edit", createdKey: "hreq.created",
		deletedKey: "hreq.deleted", staleDeleteKey: "hreq.stale_delete"}
}

// hreqData is the host request form's data; an existing request's page
// shows its stored host matches beside the form.
func hreqData(rq *request, id string, version int64, f *Form, stale bool) any {
	p := &hreqPage{ID: id, Version: version, New: id == "", Form: f, Stale: stale, Weights: pfSliders(f, engine.HostFactors()),
		Action: "/console/host-requests/new", PreviewURL: "/console/host-requests/new/preview"}
	if id != "" {
		p.Action = "/console/host-requests/" + url.PathEscape(id)
		p.PreviewURL = p.Action + "/preview"
		p.stored(rq, "/v1/host-requests/"+url.PathEscape(id)+"/matches", hreqLists[:])
	}
	return p
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

// hostPage is the host form's data.
type hostPage struct {
	ID      string
	Version int64
	New     bool
	Stale   bool
	Form    *Form
	Action  string
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
	matchBlock[hostMatch]
}

// HostLang names a language code in the page's language (zh → 中文).
func (v *view) HostLang(code string) string {
	tag, err := language.Parse(code)
	if err != nil {
		return code
	}
	return v.displayName(code, tag, display.Chinese.Tags(), display.English.Tags())
}

// HostMarket names a country code in the page's language (MY → 马来西亚).
func (v *view) HostMarket(code string) string {
	r, err := language.ParseRegion(code)
	if err != nil {
		return code
	}
	return v.displayName(code, r, display.Chinese.Regions(), display.English.Regions())
}

// displayName names x (a parsed code) with the namer of the page's
// language; code when it has no name.
func (v *view) displayName(code string, x any, zh, en display.Namer) string {
	namer := zh
	if v.En() {
		namer = en
	}
	if n := namer.Name(x); n != "" {
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
	if data, ok := loadList[hostInfo](w, rq, "/v1/hosts", 50); ok {
		rq.render(w, http.StatusOK, "hosts", rq.T("hosts.title"), data)
	}
}

// --- host requests ---

func (s *Server) hreqList(w http.ResponseWriter, rq *request) {
	if data, ok := loadList[hostRequest](w, rq, "/v1/host-requests", 20); ok {
		rq.render(w, http.StatusOK, "host_requests", rq.T("hreq.title"), data)
	}
}

// hreqPreview matches the form's current values without storing them
// (POST /v1/match/hosts) and answers the matches block alone, always 200
// so that htmx swaps it, messages included.
func (s *Server) hreqPreview(w http.ResponseWriter, rq *request) {
	vals, _ := postedForm(rq)
	var mb matchBlock[hostMatch]
	mb.preview(rq, "/v1/match/hosts", hreqBody(vals), hreqLists[:])
	rq.renderBlock(w, http.StatusOK, "host_request", "hostmatches", rq.T("hreq.matches"), &mb)
}
