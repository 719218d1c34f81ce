package web

import (
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
	profileEditor().routes(s, mcnRole) // new, {id}, {id}/delete
	// The preview of unsaved values (also /console/profiles/new/preview).
	m.Handle("POST /console/profiles/{id}/preview", s.page(mcnRole, s.profilePreview))
}

// profileEditor is the flow of the demand profile's form.
func profileEditor() *editor {
	return &editor{api: "/v1/demand-profiles", console: "/console/profiles", page: "profile", lists: profileListFields[:],
		blank:      url.Values{"status": {string(engine.ProfileOpen)}},
		body:       func(v url.Values) map[string]any { return jsonOf(v, profileFields()) },
		values:     func(obj map[string]any) url.Values { return valuesOf(obj, profileFields()) },
		data:       profileData,
		titleField: "name",
		newKey:     "profiles.new", editKey: "profiles.edit", createdKey: "profiles.created",
		deletedKey: "profiles.deleted", staleDeleteKey: "profiles.stale_delete"}
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
	matchBlock[profileMatch]
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

func (s *Server) profileList(w http.ResponseWriter, rq *request) {
	if data, ok := loadList[demandProfile](w, rq, "/v1/demand-profiles", 20); ok {
		rq.render(w, http.StatusOK, "profiles", rq.T("profiles.title"), data)
	}
}

// profileData is the profile form's data; an existing profile's page
// shows its stored matches beside the form.
func profileData(rq *request, id string, version int64, f *Form, stale bool) any {
	p := &profilePage{ID: id, Version: version, New: id == "", Form: f, Stale: stale, Weights: pfSliders(f, engine.Factors()),
		Action: "/console/profiles/new", PreviewURL: "/console/profiles/new/preview"}
	if id != "" {
		p.Action = "/console/profiles/" + url.PathEscape(id)
		p.PreviewURL = p.Action + "/preview"
		p.stored(rq, "/v1/demand-profiles/"+url.PathEscape(id)+"/matches", profileListFields[:])
	}
	return p
}

// profilePreview matches the form's current values without storing them
// (POST /v1/match/products) and answers the matches block alone. It
// always answers 200 so that htmx swaps the block, messages included.
func (s *Server) profilePreview(w http.ResponseWriter, rq *request) {
	vals, _ := postedForm(rq)
	var mb matchBlock[profileMatch]
	mb.preview(rq, "/v1/match/products", jsonOf(vals, profileFields()), profileListFields[:])
	rq.renderBlock(w, http.StatusOK, "profile", "matches", rq.T("profiles.matches"), &mb)
}
