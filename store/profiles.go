package store

import (
	"context"
	"time"

	"github.com/livematch/livematch/engine"
)

const collProfiles = "demand_profiles"

type profileDoc struct {
	Meta                  docMeta            `bson:",inline"`
	Name                  string             `bson:"name"`
	Keywords              string             `bson:"keywords"`
	Categories            []string           `bson:"categories"`
	PriceMin              *float64           `bson:"price_min,omitempty"`
	PriceMax              *float64           `bson:"price_max,omitempty"`
	MinCommissionRate     float64            `bson:"min_commission_rate"`
	ExpectedUnits         int64              `bson:"expected_units"`
	MinStock              int64              `bson:"min_stock"`
	RequiredCerts         []string           `bson:"required_certifications"`
	PreferredCerts        []string           `bson:"preferred_certifications"`
	AudienceRegions       []string           `bson:"audience_regions"`
	TargetMarkets         []string           `bson:"target_markets"`
	StreamDate            time.Time          `bson:"stream_date,omitempty"`
	PovertyReliefMinShare float64            `bson:"poverty_relief_min_share"`
	Weights               map[string]float64 `bson:"weights"`
	Status                string             `bson:"status"`
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func weightsDoc(w map[string]float64) map[string]float64 {
	out := make(map[string]float64, len(w))
	for k, v := range w {
		out[k] = v
	}
	return out
}

func toProfileDoc(p *engine.DemandProfile, m docMeta) profileDoc {
	return profileDoc{Meta: m, Name: p.Name, Keywords: p.Keywords, Categories: nonNil(p.Categories),
		PriceMin: p.PriceMin, PriceMax: p.PriceMax, MinCommissionRate: p.MinCommissionRate, ExpectedUnits: p.ExpectedUnits,
		MinStock: p.MinStock, RequiredCerts: nonNil(p.RequiredCerts), PreferredCerts: nonNil(p.PreferredCerts),
		AudienceRegions: nonNil(p.AudienceRegions), TargetMarkets: nonNil(p.TargetMarkets), StreamDate: p.StreamDate,
		PovertyReliefMinShare: p.PovertyReliefMinShare, Weights: weightsDoc(p.Weights), Status: string(p.Status)}
}

func (d *profileDoc) toEngine() *engine.DemandProfile {
	m := d.Meta
	p := &engine.DemandProfile{ID: m.ID, OrgID: m.OrgID, Name: d.Name, Keywords: d.Keywords, Categories: d.Categories,
		PriceMin: d.PriceMin, PriceMax: d.PriceMax, MinCommissionRate: d.MinCommissionRate, ExpectedUnits: d.ExpectedUnits,
		MinStock: d.MinStock, RequiredCerts: d.RequiredCerts, PreferredCerts: d.PreferredCerts,
		AudienceRegions: d.AudienceRegions, TargetMarkets: d.TargetMarkets, PovertyReliefMinShare: d.PovertyReliefMinShare,
		Weights: engine.Weights(d.Weights), Status: engine.ProfileStatus(d.Status), Version: m.Version, Seq: m.Seq,
		CreatedAt: m.CreatedAt.UTC(), UpdatedAt: m.UpdatedAt.UTC()}
	if !d.StreamDate.IsZero() {
		p.StreamDate = d.StreamDate.UTC()
	}
	return p
}

func (s *Store) profileColl() versioned[engine.DemandProfile, profileDoc] {
	return versioned[engine.DemandProfile, profileDoc]{s: s, coll: s.profiles, prefix: "dp", name: "Profile",
		toDoc: toProfileDoc, fromDoc: (*profileDoc).toEngine, meta: func(d *profileDoc) *docMeta { return &d.Meta }}
}

// CreateProfile stores a new demand profile owned by p.OrgID, setting ID,
// Version 1, Seq and times on p.
func (s *Store) CreateProfile(ctx context.Context, p *engine.DemandProfile) error {
	stored, err := s.profileColl().create(ctx, p.OrgID, p)
	if err != nil {
		return err
	}
	*p = *stored
	return nil
}

// GetProfile returns a live demand profile, or KindNotFound.
func (s *Store) GetProfile(ctx context.Context, id string) (*engine.DemandProfile, error) {
	return s.profileColl().get(ctx, id)
}

// UpdateProfile reads the live profile, applies fn and writes it back if
// nobody changed it in between (ifVersion > 0 demands that version). With
// del the profile becomes a tombstone. It returns the profile after.
func (s *Store) UpdateProfile(ctx context.Context, id string, ifVersion int64, del bool, fn func(*engine.DemandProfile) error) (*engine.DemandProfile, error) {
	return s.profileColl().update(ctx, id, ifVersion, del, fn)
}

// ScanProfiles calls fn for every live demand profile (a full sweep; the
// collection is small: one document per MCN stream plan).
func (s *Store) ScanProfiles(ctx context.Context, fn func(*engine.DemandProfile) error) error {
	return s.profileColl().scan(ctx, fn)
}
