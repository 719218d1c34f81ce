package store

import (
	"context"
	"time"

	"github.com/livematch/livematch/engine"
)

const (
	collHosts        = "hosts"
	collHostRequests = "host_requests"
)

type hostLanguageDoc struct {
	Code  string `bson:"code"`
	Level string `bson:"level"`
}

type hostDoc struct {
	Meta           docMeta           `bson:",inline"`
	Name           string            `bson:"name"`
	Languages      []hostLanguageDoc `bson:"languages"`
	Markets        []string          `bson:"markets"`
	Categories     []string          `bson:"categories"`
	CertLevel      string            `bson:"cert_level,omitempty"`
	CertExpiresAt  time.Time         `bson:"cert_expires_at,omitempty"`
	Certified      bool              `bson:"certified"`
	Followers      int64             `bson:"followers"`
	AvgViewers     int64             `bson:"avg_viewers"`
	ConversionRate float64           `bson:"conversion_rate"`
	Rating         float64           `bson:"rating"`
	HourlyRateCNY  float64           `bson:"hourly_rate_cny"`
	Timezone       string            `bson:"timezone"`
	AvailableDates []string          `bson:"available_dates"`
	BioZh          string            `bson:"bio_zh"`
	BioEn          string            `bson:"bio_en"`
}

func toHostDoc(h *engine.Host, m docMeta) hostDoc {
	d := hostDoc{Meta: m, Name: h.Name, Markets: nonNil(h.Markets), Categories: nonNil(h.Categories),
		Followers: h.Followers, AvgViewers: h.AvgViewers, ConversionRate: h.ConversionRate, Rating: h.Rating,
		HourlyRateCNY: h.HourlyRateCNY, Timezone: h.Timezone, AvailableDates: nonNil(h.AvailableDates),
		BioZh: h.BioZh, BioEn: h.BioEn, Languages: make([]hostLanguageDoc, len(h.Languages))}
	for i, l := range h.Languages {
		d.Languages[i] = hostLanguageDoc{Code: l.Code, Level: string(l.Level)}
	}
	if h.Certification != nil {
		d.Certified, d.CertLevel, d.CertExpiresAt = true, h.Certification.Level, h.Certification.ExpiresAt
	}
	return d
}

func (d *hostDoc) toEngine() *engine.Host {
	m := d.Meta
	h := &engine.Host{ID: m.ID, OrgID: m.OrgID, Name: d.Name, Markets: d.Markets, Categories: d.Categories,
		Followers: d.Followers, AvgViewers: d.AvgViewers, ConversionRate: d.ConversionRate, Rating: d.Rating,
		HourlyRateCNY: d.HourlyRateCNY, Timezone: d.Timezone, AvailableDates: d.AvailableDates, BioZh: d.BioZh,
		BioEn: d.BioEn, Version: m.Version, Seq: m.Seq, CreatedAt: m.CreatedAt.UTC(), UpdatedAt: m.UpdatedAt.UTC()}
	for _, l := range d.Languages {
		h.Languages = append(h.Languages, engine.HostLanguage{Code: l.Code, Level: engine.LanguageLevel(l.Level)})
	}
	if d.Certified {
		c := &engine.HostCertification{Level: d.CertLevel}
		if !d.CertExpiresAt.IsZero() {
			c.ExpiresAt = d.CertExpiresAt.UTC()
		}
		h.Certification = c
	}
	return h
}

func (s *Store) hostColl() versioned[engine.Host, hostDoc] {
	return versioned[engine.Host, hostDoc]{s: s, coll: s.db.Collection(collHosts), prefix: "host", name: "Host",
		toDoc: toHostDoc, fromDoc: (*hostDoc).toEngine, meta: func(d *hostDoc) *docMeta { return &d.Meta }}
}

// CreateHost stores a new host owned by h.OrgID and returns it as stored.
func (s *Store) CreateHost(ctx context.Context, h *engine.Host) (*engine.Host, error) {
	return s.hostColl().create(ctx, h.OrgID, h)
}

// GetHost returns a live host, or KindNotFound.
func (s *Store) GetHost(ctx context.Context, id string) (*engine.Host, error) {
	return s.hostColl().get(ctx, id)
}

// UpdateHost changes (or with del, deletes) a host under optimistic
// concurrency; ifVersion > 0 demands that version.
func (s *Store) UpdateHost(ctx context.Context, id string, ifVersion int64, del bool, fn func(*engine.Host) error) (*engine.Host, error) {
	return s.hostColl().update(ctx, id, ifVersion, del, fn)
}

// ScanHosts calls fn for every live host (start-up fills the host index).
func (s *Store) ScanHosts(ctx context.Context, fn func(*engine.Host) error) error {
	return s.hostColl().scan(ctx, fn)
}

type languageNeedDoc struct {
	Code     string `bson:"code"`
	MinLevel string `bson:"min_level"`
}

type hostRequestDoc struct {
	Meta             docMeta            `bson:",inline"`
	Title            string             `bson:"title"`
	Categories       []string           `bson:"categories"`
	TargetMarkets    []string           `bson:"target_markets"`
	Languages        []languageNeedDoc  `bson:"languages"`
	Date             string             `bson:"date"`
	BudgetCNYPerHour float64            `bson:"budget_cny_per_hour"`
	RequireCertified bool               `bson:"require_certified"`
	Notes            string             `bson:"notes"`
	Weights          map[string]float64 `bson:"weights"`
	Status           string             `bson:"status"`
}

func toHostRequestDoc(r *engine.HostRequest, m docMeta) hostRequestDoc {
	d := hostRequestDoc{Meta: m, Title: r.Title, Categories: nonNil(r.Categories), TargetMarkets: nonNil(r.TargetMarkets),
		Date: r.Date, BudgetCNYPerHour: r.BudgetCNYPerHour, RequireCertified: r.RequireCertified, Notes: r.Notes,
		Weights: weightsDoc(r.Weights), Status: string(r.Status), Languages: make([]languageNeedDoc, len(r.Languages))}
	for i, l := range r.Languages {
		d.Languages[i] = languageNeedDoc{Code: l.Code, MinLevel: string(l.MinLevel)}
	}
	return d
}

func (d *hostRequestDoc) toEngine() *engine.HostRequest {
	m := d.Meta
	r := &engine.HostRequest{ID: m.ID, OrgID: m.OrgID, Title: d.Title, Categories: d.Categories,
		TargetMarkets: d.TargetMarkets, Date: d.Date, BudgetCNYPerHour: d.BudgetCNYPerHour,
		RequireCertified: d.RequireCertified, Notes: d.Notes, Weights: engine.Weights(d.Weights),
		Status: engine.ProfileStatus(d.Status), Version: m.Version, Seq: m.Seq, CreatedAt: m.CreatedAt.UTC(),
		UpdatedAt: m.UpdatedAt.UTC()}
	for _, l := range d.Languages {
		r.Languages = append(r.Languages, engine.LanguageNeed{Code: l.Code, MinLevel: engine.LanguageLevel(l.MinLevel)})
	}
	return r
}

func (s *Store) hostRequestColl() versioned[engine.HostRequest, hostRequestDoc] {
	return versioned[engine.HostRequest, hostRequestDoc]{s: s, coll: s.db.Collection(collHostRequests), prefix: "hr",
		name: "HostRequest", toDoc: toHostRequestDoc, fromDoc: (*hostRequestDoc).toEngine,
		meta: func(d *hostRequestDoc) *docMeta { return &d.Meta }}
}

// CreateHostRequest stores a new host request owned by r.OrgID and returns
// it as stored.
func (s *Store) CreateHostRequest(ctx context.Context, r *engine.HostRequest) (*engine.HostRequest, error) {
	return s.hostRequestColl().create(ctx, r.OrgID, r)
}

// GetHostRequest returns a live host request, or KindNotFound.
func (s *Store) GetHostRequest(ctx context.Context, id string) (*engine.HostRequest, error) {
	return s.hostRequestColl().get(ctx, id)
}

// UpdateHostRequest changes (or with del, deletes) a host request under
// optimistic concurrency; ifVersion > 0 demands that version.
func (s *Store) UpdateHostRequest(ctx context.Context, id string, ifVersion int64, del bool, fn func(*engine.HostRequest) error) (*engine.HostRequest, error) {
	return s.hostRequestColl().update(ctx, id, ifVersion, del, fn)
}

// ScanHostRequests calls fn for every live host request.
func (s *Store) ScanHostRequests(ctx context.Context, fn func(*engine.HostRequest) error) error {
	return s.hostRequestColl().scan(ctx, fn)
}
