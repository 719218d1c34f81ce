package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/livematch/livematch/engine"
)

// profileIn is a demand profile as clients send it.
type profileIn struct {
	Name                  string             `json:"name"`
	Keywords              string             `json:"keywords"`
	Categories            []string           `json:"categories"`
	PriceMin              *float64           `json:"price_min"`
	PriceMax              *float64           `json:"price_max"`
	MinCommissionRate     float64            `json:"min_commission_rate"`
	ExpectedUnits         int64              `json:"expected_units"`
	MinStock              int64              `json:"min_stock"`
	RequiredCerts         []string           `json:"required_certifications"`
	PreferredCerts        []string           `json:"preferred_certifications"`
	AudienceRegions       []string           `json:"audience_regions"`
	TargetMarkets         []string           `json:"target_markets"`
	StreamDate            string             `json:"stream_date"`
	PovertyReliefMinShare float64            `json:"poverty_relief_min_share"`
	Weights               map[string]float64 `json:"weights"`
	Status                string             `json:"status"`
}

// toEngine converts the input; stream_date is RFC 3339 or a plain date
// (midnight China time).
func (in *profileIn) toEngine() (*engine.DemandProfile, []engine.FieldError) {
	var pr engine.Problems
	p := &engine.DemandProfile{Name: in.Name, Keywords: in.Keywords, Categories: in.Categories, PriceMin: in.PriceMin,
		PriceMax: in.PriceMax, MinCommissionRate: in.MinCommissionRate, ExpectedUnits: in.ExpectedUnits,
		MinStock: in.MinStock, RequiredCerts: in.RequiredCerts, PreferredCerts: in.PreferredCerts,
		AudienceRegions: in.AudienceRegions, TargetMarkets: in.TargetMarkets,
		PovertyReliefMinShare: in.PovertyReliefMinShare, Weights: engine.Weights(in.Weights),
		Status: engine.ProfileStatus(in.Status)}
	if s := strings.TrimSpace(in.StreamDate); s != "" {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t, err = time.ParseInLocation(time.DateOnly, s, chinaTime)
		}
		if err != nil {
			pr.Add("stream_date", "must be an RFC 3339 time such as 2026-12-12T20:00:00+08:00 or a date such as 2026-12-12")
		} else {
			p.StreamDate = t.UTC()
		}
	}
	return p, pr.Fields
}

// chinaTime is China Standard Time, for plain dates.
var chinaTime = time.FixedZone("CST", 8*3600)

type profileOut struct {
	ID                    string             `json:"id"`
	OrgID                 string             `json:"org_id"`
	Name                  string             `json:"name"`
	Keywords              string             `json:"keywords"`
	Categories            []string           `json:"categories"`
	PriceMin              *float64           `json:"price_min,omitempty"`
	PriceMax              *float64           `json:"price_max,omitempty"`
	MinCommissionRate     float64            `json:"min_commission_rate"`
	ExpectedUnits         int64              `json:"expected_units"`
	MinStock              int64              `json:"min_stock"`
	RequiredCerts         []string           `json:"required_certifications"`
	PreferredCerts        []string           `json:"preferred_certifications"`
	AudienceRegions       []string           `json:"audience_regions"`
	TargetMarkets         []string           `json:"target_markets"`
	StreamDate            *time.Time         `json:"stream_date,omitempty"`
	PovertyReliefMinShare float64            `json:"poverty_relief_min_share"`
	Weights               map[string]float64 `json:"weights"`
	Status                string             `json:"status"`
	Version               int64              `json:"version,omitempty"`
	CreatedAt             *time.Time         `json:"created_at,omitempty"`
	UpdatedAt             *time.Time         `json:"updated_at,omitempty"`
}

func profileOutOf(p *engine.DemandProfile) profileOut {
	out := profileOut{ID: p.ID, OrgID: p.OrgID, Name: p.Name, Keywords: p.Keywords, Categories: nonNil(p.Categories),
		PriceMin: p.PriceMin, PriceMax: p.PriceMax, MinCommissionRate: p.MinCommissionRate, ExpectedUnits: p.ExpectedUnits,
		MinStock: p.MinStock, RequiredCerts: nonNil(p.RequiredCerts), PreferredCerts: nonNil(p.PreferredCerts),
		AudienceRegions: nonNil(p.AudienceRegions), TargetMarkets: nonNil(p.TargetMarkets),
		PovertyReliefMinShare: p.PovertyReliefMinShare, Weights: map[string]float64{}, Status: string(p.Status),
		Version: p.Version}
	for _, f := range engine.Factors() { // effective weights, all ten
		out.Weights[string(f)] = p.Weights.Of(f)
	}
	if !p.StreamDate.IsZero() {
		t := p.StreamDate
		out.StreamDate = &t
	}
	if !p.CreatedAt.IsZero() {
		c, u := p.CreatedAt, p.UpdatedAt
		out.CreatedAt, out.UpdatedAt = &c, &u
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// prepareProfile converts and validates a profile input for its owner.
func (s *Server) prepareProfile(in *profileIn, owner *engine.Org) (*engine.DemandProfile, error) {
	p, fields := in.toEngine()
	err := engine.PrepareProfile(p, s.regions, s.now())
	if e, ok := asInvalid(err); ok {
		fields = append(fields, e.Fields...)
	} else if err != nil {
		return nil, err
	}
	if len(fields) > 0 {
		return nil, &engine.Error{Kind: engine.KindInvalid, Op: "api.profile", Msg: "the demand profile has invalid fields", Fields: fields}
	}
	p.OrgID = owner.ID
	return p, nil
}

func (s *Server) createProfile(c *gin.Context) {
	var in profileIn
	if err := s.bind(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	p, err := s.prepareProfile(&in, caller(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	if err := s.store.CreateProfile(c.Request.Context(), p); err != nil {
		s.fail(c, err)
		return
	}
	setETag(c, p.Version)
	c.Header("Location", "/v1/demand-profiles/"+p.ID)
	c.JSON(http.StatusCreated, profileOutOf(p))
}

// ownProfile loads a profile the caller owns (admins may read any); another
// org's profile answers 404.
func (s *Server) ownProfile(c *gin.Context) (*engine.DemandProfile, bool) {
	p, err := s.store.GetProfile(c.Request.Context(), c.Param("id"))
	me := caller(c)
	if err == nil && p.OrgID != me.ID && (me.Kind != engine.OrgAdmin || c.Request.Method != http.MethodGet) {
		err = engine.Errorf(engine.KindNotFound, "api.profile", "no demand profile %q", clipID(c.Param("id")))
	}
	if err != nil {
		s.fail(c, err)
		return nil, false
	}
	return p, true
}

func (s *Server) getProfile(c *gin.Context) {
	p, ok := s.ownProfile(c)
	if !ok {
		return
	}
	setETag(c, p.Version)
	c.JSON(http.StatusOK, profileOutOf(p))
}

func (s *Server) listProfiles(c *gin.Context) {
	me := caller(c)
	pg, err := pageParams(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	items := []profileOut{}
	err = s.store.ScanProfiles(c.Request.Context(), func(p *engine.DemandProfile) error {
		if p.OrgID == me.ID || me.Kind == engine.OrgAdmin {
			items = append(items, profileOutOf(p))
		}
		return nil
	})
	if err != nil {
		s.fail(c, err)
		return
	}
	items, next := cut(pg, items, func(p profileOut) string { return p.ID })
	c.JSON(http.StatusOK, gin.H{"items": items, "next_cursor": next})
}

func (s *Server) putProfile(c *gin.Context) {
	cur, ok := s.ownProfile(c)
	if !ok {
		return
	}
	var in profileIn
	ifv, ok := s.bindIfMatch(c, &in)
	if !ok {
		return
	}
	p, err := s.prepareProfile(&in, caller(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	after, err := s.store.UpdateProfile(c.Request.Context(), cur.ID, ifv, false, func(dst *engine.DemandProfile) error {
		*dst = *p
		return nil
	})
	if err != nil {
		s.fail(c, err)
		return
	}
	setETag(c, after.Version)
	c.JSON(http.StatusOK, profileOutOf(after))
}

func (s *Server) deleteProfile(c *gin.Context) {
	cur, ok := s.ownProfile(c)
	if !ok {
		return
	}
	ifv, err := ifMatch(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	if _, err := s.store.UpdateProfile(c.Request.Context(), cur.ID, ifv, true, nil); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
