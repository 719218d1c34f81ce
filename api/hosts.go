package api

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/livematch/livematch/engine"
)

type hostLanguageIO struct {
	Code  string `json:"code"`
	Level string `json:"level"`
}

type hostCertIn struct {
	Level     string `json:"level"`
	ExpiresAt string `json:"expires_at"`
}

type hostIn struct {
	Name           string           `json:"name"`
	Languages      []hostLanguageIO `json:"languages"`
	Markets        []string         `json:"markets"`
	Categories     []string         `json:"categories"`
	Certification  *hostCertIn      `json:"certification"`
	Followers      int64            `json:"followers"`
	AvgViewers     int64            `json:"avg_viewers"`
	ConversionRate float64          `json:"conversion_rate"`
	Rating         float64          `json:"rating"`
	HourlyRateCNY  float64          `json:"hourly_rate_cny"`
	Timezone       string           `json:"timezone"`
	AvailableDates []string         `json:"available_dates"`
	BioZh          string           `json:"bio_zh"`
	BioEn          string           `json:"bio_en"`
}

// toEngine converts the input; the time zone and certificate expiry are
// checked here because the engine does no I/O (time zones need tzdata).
func (in *hostIn) toEngine(zones *zoneCache) (*engine.Host, []engine.FieldError) {
	var pr engine.Problems
	h := &engine.Host{Name: in.Name, Markets: in.Markets, Categories: in.Categories, Followers: in.Followers,
		AvgViewers: in.AvgViewers, ConversionRate: in.ConversionRate, Rating: in.Rating, HourlyRateCNY: in.HourlyRateCNY,
		Timezone: strings.TrimSpace(in.Timezone), AvailableDates: in.AvailableDates, BioZh: in.BioZh, BioEn: in.BioEn}
	for _, l := range in.Languages {
		h.Languages = append(h.Languages, engine.HostLanguage{Code: l.Code, Level: engine.LanguageLevel(l.Level)})
	}
	if in.Certification != nil {
		c := &engine.HostCertification{Level: in.Certification.Level}
		if s := strings.TrimSpace(in.Certification.ExpiresAt); s != "" {
			t, err := parseTimeOrDate(s)
			if err != nil {
				pr.Add("certification.expires_at", "must be an RFC 3339 time or a date such as 2027-06-30")
			}
			c.ExpiresAt = t
		}
		h.Certification = c
	}
	if h.Timezone == "" {
		h.Timezone = "Asia/Shanghai"
	}
	if _, ok := zones.offset(h.Timezone, time.Now()); !ok {
		pr.Add("timezone", "must be an IANA time zone such as Asia/Shanghai or Asia/Kuala_Lumpur")
	}
	return h, pr.Fields
}

// parseTimeOrDate reads RFC 3339 or a plain date (midnight China time).
func parseTimeOrDate(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t, err = time.ParseInLocation(time.DateOnly, s, chinaTime)
	}
	return t.UTC(), err
}

type hostCertOut struct {
	Level     string     `json:"level"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	Valid     bool       `json:"valid"`
}

type hostOut struct {
	ID             string           `json:"id"`
	OrgID          string           `json:"org_id"`
	Name           string           `json:"name"`
	Languages      []hostLanguageIO `json:"languages"`
	Markets        []string         `json:"markets"`
	Categories     []string         `json:"categories"`
	Certification  *hostCertOut     `json:"certification"`
	Followers      int64            `json:"followers"`
	AvgViewers     int64            `json:"avg_viewers"`
	ConversionRate float64          `json:"conversion_rate"`
	Rating         float64          `json:"rating"`
	HourlyRateCNY  float64          `json:"hourly_rate_cny"`
	Timezone       string           `json:"timezone"`
	AvailableDates []string         `json:"available_dates"`
	BioZh          string           `json:"bio_zh"`
	BioEn          string           `json:"bio_en"`
	Version        int64            `json:"version"`
	CreatedAt      time.Time        `json:"created_at"`
	UpdatedAt      time.Time        `json:"updated_at"`
}

func (s *Server) hostOut(h *engine.Host) hostOut {
	out := hostOut{ID: h.ID, OrgID: h.OrgID, Name: h.Name, Markets: nonNil(h.Markets), Categories: nonNil(h.Categories),
		Followers: h.Followers, AvgViewers: h.AvgViewers, ConversionRate: h.ConversionRate, Rating: h.Rating,
		HourlyRateCNY: h.HourlyRateCNY, Timezone: h.Timezone, AvailableDates: nonNil(h.AvailableDates), BioZh: h.BioZh,
		BioEn: h.BioEn, Version: h.Version, CreatedAt: h.CreatedAt, UpdatedAt: h.UpdatedAt, Languages: []hostLanguageIO{}}
	for _, l := range h.Languages {
		out.Languages = append(out.Languages, hostLanguageIO{Code: l.Code, Level: string(l.Level)})
	}
	if c := h.Certification; c != nil {
		co := &hostCertOut{Level: c.Level, Valid: c.ExpiresAt.IsZero() || c.ExpiresAt.After(s.now())}
		if !c.ExpiresAt.IsZero() {
			t := c.ExpiresAt
			co.ExpiresAt = &t
		}
		out.Certification = co
	}
	return out
}

// zoneCache resolves IANA time zones once each.
type zoneCache struct {
	mu    sync.Mutex
	zones map[string]*time.Location // nil: unknown
}

func (z *zoneCache) offset(name string, t time.Time) (float64, bool) {
	if name == "" || len(name) > 64 {
		return 0, false
	}
	z.mu.Lock()
	loc, seen := z.zones[name]
	z.mu.Unlock()
	if !seen {
		l, err := time.LoadLocation(name)
		if err != nil || strings.EqualFold(name, "local") {
			l = nil
		}
		z.mu.Lock()
		if len(z.zones) < 10000 {
			z.zones[name] = l
		}
		z.mu.Unlock()
		loc = l
	}
	if loc == nil {
		return 0, false
	}
	_, off := t.In(loc).Zone()
	return float64(off) / 3600, true
}

func (s *Server) prepareHost(in *hostIn, owner *engine.Org) (*engine.Host, error) {
	h, fields := in.toEngine(s.zones)
	if e, ok := asInvalid(engine.PrepareHost(h)); ok {
		fields = append(fields, e.Fields...)
	}
	if len(fields) > 0 {
		return nil, &engine.Error{Kind: engine.KindInvalid, Op: "api.host", Msg: "the host has invalid fields", Fields: fields}
	}
	h.OrgID = owner.ID
	return h, nil
}

func (s *Server) createHost(c *gin.Context) {
	var in hostIn
	if err := s.bind(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	h, err := s.prepareHost(&in, caller(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	stored, err := s.store.CreateHost(c.Request.Context(), h)
	if err != nil {
		s.fail(c, err)
		return
	}
	if err := s.hosts.Put(stored); err != nil {
		s.fail(c, err)
		return
	}
	setETag(c, stored.Version)
	c.Header("Location", "/v1/hosts/"+stored.ID)
	c.JSON(http.StatusCreated, s.hostOut(stored))
}

// getHost shows a host to any org: hosts are offered to cross-border firms.
func (s *Server) getHost(c *gin.Context) {
	h, err := s.store.GetHost(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	setETag(c, h.Version)
	c.JSON(http.StatusOK, s.hostOut(h))
}

func (s *Server) listHosts(c *gin.Context) {
	me := caller(c)
	pg, err := pageParams(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	var mine []*engine.Host
	for _, h := range s.hosts.Hosts() {
		if me.Kind != engine.OrgMCN || h.OrgID == me.ID {
			mine = append(mine, h)
		}
	}
	mine, next := cut(pg, mine, func(h *engine.Host) string { return h.ID })
	items := make([]hostOut, len(mine))
	for i, h := range mine {
		items[i] = s.hostOut(h)
	}
	c.JSON(http.StatusOK, gin.H{"items": items, "next_cursor": next})
}

func (s *Server) ownHost(c *gin.Context) (*engine.Host, bool) {
	h, err := s.store.GetHost(c.Request.Context(), c.Param("id"))
	if err == nil && h.OrgID != caller(c).ID {
		err = engine.Errorf(engine.KindNotFound, "api.host", "no host %q", clipID(c.Param("id")))
	}
	if err != nil {
		s.fail(c, err)
		return nil, false
	}
	return h, true
}

func (s *Server) putHost(c *gin.Context) {
	cur, ok := s.ownHost(c)
	if !ok {
		return
	}
	var in hostIn
	ifv, ok := s.bindIfMatch(c, &in)
	if !ok {
		return
	}
	h, err := s.prepareHost(&in, caller(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	after, err := s.store.UpdateHost(c.Request.Context(), cur.ID, ifv, false, func(dst *engine.Host) error { *dst = *h; return nil })
	if err == nil {
		err = s.hosts.Put(after)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	setETag(c, after.Version)
	c.JSON(http.StatusOK, s.hostOut(after))
}

func (s *Server) deleteHost(c *gin.Context) {
	cur, ok := s.ownHost(c)
	if !ok {
		return
	}
	ifv, err := ifMatch(c)
	if err == nil {
		_, err = s.store.UpdateHost(c.Request.Context(), cur.ID, ifv, true, nil)
	}
	if err == nil {
		err = s.hosts.Delete(cur.ID)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// --- host requests ---

type languageNeedIO struct {
	Code     string `json:"code"`
	MinLevel string `json:"min_level"`
}

type hostRequestIn struct {
	Title            string             `json:"title"`
	Categories       []string           `json:"categories"`
	TargetMarkets    []string           `json:"target_markets"`
	Languages        []languageNeedIO   `json:"languages"`
	Date             string             `json:"date"`
	BudgetCNYPerHour float64            `json:"budget_cny_per_hour"`
	RequireCertified bool               `json:"require_certified"`
	Notes            string             `json:"notes"`
	Weights          map[string]float64 `json:"weights"`
	Status           string             `json:"status"`
}

func (in *hostRequestIn) toEngine() *engine.HostRequest {
	r := &engine.HostRequest{Title: in.Title, Categories: in.Categories, TargetMarkets: in.TargetMarkets,
		Date: strings.TrimSpace(in.Date), BudgetCNYPerHour: in.BudgetCNYPerHour, RequireCertified: in.RequireCertified,
		Notes: in.Notes, Weights: engine.Weights(in.Weights), Status: engine.ProfileStatus(in.Status)}
	for _, l := range in.Languages {
		r.Languages = append(r.Languages, engine.LanguageNeed{Code: l.Code, MinLevel: engine.LanguageLevel(l.MinLevel)})
	}
	return r
}

type hostRequestOut struct {
	ID               string             `json:"id,omitempty"`
	OrgID            string             `json:"org_id"`
	Title            string             `json:"title"`
	Categories       []string           `json:"categories"`
	TargetMarkets    []string           `json:"target_markets"`
	Languages        []languageNeedIO   `json:"languages"`
	Date             string             `json:"date,omitempty"`
	BudgetCNYPerHour float64            `json:"budget_cny_per_hour"`
	RequireCertified bool               `json:"require_certified"`
	Notes            string             `json:"notes"`
	Weights          map[string]float64 `json:"weights"`
	Status           string             `json:"status"`
	Version          int64              `json:"version,omitempty"`
	CreatedAt        *time.Time         `json:"created_at,omitempty"`
	UpdatedAt        *time.Time         `json:"updated_at,omitempty"`
}

func hostRequestOutOf(r *engine.HostRequest) hostRequestOut {
	out := hostRequestOut{ID: r.ID, OrgID: r.OrgID, Title: r.Title, Categories: nonNil(r.Categories),
		TargetMarkets: nonNil(r.TargetMarkets), Date: r.Date, BudgetCNYPerHour: r.BudgetCNYPerHour,
		RequireCertified: r.RequireCertified, Notes: r.Notes, Weights: map[string]float64{}, Status: string(r.Status),
		Version: r.Version, Languages: []languageNeedIO{}}
	for _, l := range r.Languages {
		out.Languages = append(out.Languages, languageNeedIO{Code: l.Code, MinLevel: string(l.MinLevel)})
	}
	for _, f := range engine.HostFactors() {
		out.Weights[string(f)] = r.Weights.Of(f)
	}
	if !r.CreatedAt.IsZero() {
		c, u := r.CreatedAt, r.UpdatedAt
		out.CreatedAt, out.UpdatedAt = &c, &u
	}
	return out
}

func (s *Server) prepareHostRequest(in *hostRequestIn, owner *engine.Org) (*engine.HostRequest, error) {
	r := in.toEngine()
	if err := engine.PrepareHostRequest(r, s.now()); err != nil {
		return nil, err
	}
	r.OrgID = owner.ID
	return r, nil
}

func (s *Server) createHostRequest(c *gin.Context) {
	var in hostRequestIn
	if err := s.bind(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	r, err := s.prepareHostRequest(&in, caller(c))
	if err == nil {
		r, err = s.store.CreateHostRequest(c.Request.Context(), r)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	setETag(c, r.Version)
	c.Header("Location", "/v1/host-requests/"+r.ID)
	c.JSON(http.StatusCreated, hostRequestOutOf(r))
}

func (s *Server) ownHostRequest(c *gin.Context) (*engine.HostRequest, bool) {
	r, err := s.store.GetHostRequest(c.Request.Context(), c.Param("id"))
	me := caller(c)
	if err == nil && r.OrgID != me.ID && (me.Kind != engine.OrgAdmin || c.Request.Method != http.MethodGet) {
		err = engine.Errorf(engine.KindNotFound, "api.hostRequest", "no host request %q", clipID(c.Param("id")))
	}
	if err != nil {
		s.fail(c, err)
		return nil, false
	}
	return r, true
}

func (s *Server) getHostRequest(c *gin.Context) {
	r, ok := s.ownHostRequest(c)
	if !ok {
		return
	}
	setETag(c, r.Version)
	c.JSON(http.StatusOK, hostRequestOutOf(r))
}

func (s *Server) listHostRequests(c *gin.Context) {
	me := caller(c)
	pg, err := pageParams(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	items := []hostRequestOut{}
	err = s.store.ScanHostRequests(c.Request.Context(), func(r *engine.HostRequest) error {
		if r.OrgID == me.ID || me.Kind == engine.OrgAdmin {
			items = append(items, hostRequestOutOf(r))
		}
		return nil
	})
	if err != nil {
		s.fail(c, err)
		return
	}
	items, next := cut(pg, items, func(r hostRequestOut) string { return r.ID })
	c.JSON(http.StatusOK, gin.H{"items": items, "next_cursor": next})
}

func (s *Server) putHostRequest(c *gin.Context) {
	cur, ok := s.ownHostRequest(c)
	if !ok {
		return
	}
	var in hostRequestIn
	ifv, ok := s.bindIfMatch(c, &in)
	if !ok {
		return
	}
	r, err := s.prepareHostRequest(&in, caller(c))
	if err == nil {
		r, err = s.store.UpdateHostRequest(c.Request.Context(), cur.ID, ifv, false, func(dst *engine.HostRequest) error { *dst = *r; return nil })
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	setETag(c, r.Version)
	c.JSON(http.StatusOK, hostRequestOutOf(r))
}

func (s *Server) deleteHostRequest(c *gin.Context) {
	cur, ok := s.ownHostRequest(c)
	if !ok {
		return
	}
	ifv, err := ifMatch(c)
	if err == nil {
		_, err = s.store.UpdateHostRequest(c.Request.Context(), cur.ID, ifv, true, nil)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// --- host matching ---

type hostMatchOut struct {
	Host    hostOut     `json:"host"`
	Score   float64     `json:"score"`
	Factors []factorOut `json:"factors"`
}

type hostMatchesOut struct {
	Items      []hostMatchOut `json:"items"`
	Excluded   map[string]int `json:"excluded"`
	Candidates int            `json:"candidates"`
	TookMS     int64          `json:"took_ms"`
}

// matchHosts scores every host against the request: bio relevance from the
// host index (the request's notes and categories, both languages), gates,
// factors and explanations from the engine.
func (s *Server) matchHosts(ctx context.Context, r *engine.HostRequest, limit int) (hostMatchesOut, error) {
	start := time.Now()
	text := r.Notes
	for _, code := range r.Categories {
		if cat, ok := engine.CategoryByCode(code); ok {
			text += " " + cat.NameZh + " " + cat.NameEn
		}
	}
	ctx, cancel := s.bounded(ctx)
	defer cancel()
	bios, err := s.hosts.BioScores(ctx, text)
	if err != nil {
		return hostMatchesOut{}, err
	}
	hosts := s.hosts.Hosts()
	cands := make([]engine.HostCandidate, len(hosts))
	bioMax := 0.0
	for i, h := range hosts {
		cands[i] = engine.HostCandidate{Host: h, Bio: bios[h.ID]}
		bioMax = max(bioMax, bios[h.ID])
	}
	res := engine.MatchHosts(r, cands, engine.HostMatchParams{Now: s.now(), Limit: limit, BioMax: bioMax, UTCOffset: s.zones.offset})
	out := hostMatchesOut{Items: make([]hostMatchOut, 0, len(res.Items)), Excluded: res.Excluded, Candidates: len(hosts)}
	for _, m := range res.Items {
		out.Items = append(out.Items, hostMatchOut{Host: s.hostOut(m.Host), Score: m.Score, Factors: factorsOut(m.Factors)})
	}
	out.TookMS = time.Since(start).Milliseconds()
	return out, nil
}

func (s *Server) hostRequestMatches(c *gin.Context) {
	r, ok := s.ownHostRequest(c)
	if !ok {
		return
	}
	s.renderHostMatches(c, r)
}

func (s *Server) adHocHostMatch(c *gin.Context) {
	var in hostRequestIn
	if err := s.bind(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	if in.Title == "" {
		in.Title = "ad hoc"
	}
	r, err := s.prepareHostRequest(&in, caller(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	s.renderHostMatches(c, r)
}

func (s *Server) renderHostMatches(c *gin.Context, r *engine.HostRequest) {
	limit, err := limitParam(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	out, err := s.matchHosts(c.Request.Context(), r, limit)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}
