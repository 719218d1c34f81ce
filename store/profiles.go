package store

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/livematch/livematch/engine"
)

const collProfiles = "demand_profiles"

type profileDoc struct {
	ID                    string             `bson:"_id"`
	OrgID                 string             `bson:"org_id"`
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
	Version               int64              `bson:"version"`
	Seq                   int64              `bson:"seq"`
	Deleted               bool               `bson:"deleted,omitempty"`
	CreatedAt             time.Time          `bson:"created_at"`
	UpdatedAt             time.Time          `bson:"updated_at"`
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func toProfileDoc(p *engine.DemandProfile) profileDoc {
	w := map[string]float64{}
	for k, v := range p.Weights {
		w[k] = v
	}
	return profileDoc{ID: p.ID, OrgID: p.OrgID, Name: p.Name, Keywords: p.Keywords, Categories: nonNil(p.Categories),
		PriceMin: p.PriceMin, PriceMax: p.PriceMax, MinCommissionRate: p.MinCommissionRate, ExpectedUnits: p.ExpectedUnits,
		MinStock: p.MinStock, RequiredCerts: nonNil(p.RequiredCerts), PreferredCerts: nonNil(p.PreferredCerts),
		AudienceRegions: nonNil(p.AudienceRegions), TargetMarkets: nonNil(p.TargetMarkets), StreamDate: p.StreamDate,
		PovertyReliefMinShare: p.PovertyReliefMinShare, Weights: w, Status: string(p.Status), Version: p.Version,
		Seq: p.Seq, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt}
}

func (d *profileDoc) toEngine() *engine.DemandProfile {
	p := &engine.DemandProfile{ID: d.ID, OrgID: d.OrgID, Name: d.Name, Keywords: d.Keywords, Categories: d.Categories,
		PriceMin: d.PriceMin, PriceMax: d.PriceMax, MinCommissionRate: d.MinCommissionRate, ExpectedUnits: d.ExpectedUnits,
		MinStock: d.MinStock, RequiredCerts: d.RequiredCerts, PreferredCerts: d.PreferredCerts,
		AudienceRegions: d.AudienceRegions, TargetMarkets: d.TargetMarkets, PovertyReliefMinShare: d.PovertyReliefMinShare,
		Weights: engine.Weights(d.Weights), Status: engine.ProfileStatus(d.Status), Version: d.Version, Seq: d.Seq,
		CreatedAt: d.CreatedAt.UTC(), UpdatedAt: d.UpdatedAt.UTC()}
	if !d.StreamDate.IsZero() {
		p.StreamDate = d.StreamDate.UTC()
	}
	return p
}

// CreateProfile stores a new demand profile, assigning ID, Version 1, Seq
// and times.
func (s *Store) CreateProfile(ctx context.Context, p *engine.DemandProfile) error {
	const op = "store.CreateProfile"
	p.ID = NewID("dp")
	now := s.stamp()
	p.Version, p.CreatedAt, p.UpdatedAt = 1, now, now
	seq, err := s.allocSeq(ctx, collProfiles, 1)
	if err != nil {
		return err
	}
	p.Seq = seq
	_, err = s.profiles.InsertOne(ctx, toProfileDoc(p))
	return classify(op, err)
}

// GetProfile returns a live demand profile, or KindNotFound.
func (s *Store) GetProfile(ctx context.Context, id string) (*engine.DemandProfile, error) {
	const op = "store.GetProfile"
	var d profileDoc
	if err := s.profiles.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d); err != nil {
		return nil, classify(op, err)
	}
	if d.Deleted {
		return nil, engine.Errorf(engine.KindNotFound, op, "not found")
	}
	return d.toEngine(), nil
}

// UpdateProfile reads the live profile, applies fn and writes it back if
// nobody changed it in between (ifVersion > 0 demands that version). With
// del the profile becomes a tombstone. It returns the profile after.
func (s *Store) UpdateProfile(ctx context.Context, id string, ifVersion int64, del bool, fn func(*engine.DemandProfile) error) (*engine.DemandProfile, error) {
	const op = "store.UpdateProfile"
	defer s.locks.lock(id)()
	for attempt := 0; attempt < maxAttempts; attempt++ {
		backoff(ctx, attempt)
		cur, err := s.GetProfile(ctx, id)
		if err != nil {
			return nil, err
		}
		if ifVersion > 0 && cur.Version != ifVersion {
			return nil, engine.Errorf(engine.KindPrecondition, op, "version %d is not current (current is %d)", ifVersion, cur.Version)
		}
		prev, created := cur.Version, cur.CreatedAt
		if fn != nil {
			if err := fn(cur); err != nil {
				return nil, err
			}
		}
		seq, err := s.allocSeq(ctx, collProfiles, 1)
		if err != nil {
			return nil, err
		}
		cur.ID, cur.CreatedAt, cur.Version, cur.Seq, cur.UpdatedAt = id, created, prev+1, seq, s.stamp()
		d := toProfileDoc(cur)
		d.Deleted = del
		res, err := s.profiles.ReplaceOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "version", Value: prev}}, d)
		if err != nil {
			return nil, classify(op, err)
		}
		if res.MatchedCount == 1 {
			return cur, nil
		}
		if ifVersion > 0 {
			return nil, engine.Errorf(engine.KindPrecondition, op, "version %d is not current", ifVersion)
		}
	}
	return nil, engine.Errorf(engine.KindConflict, op, "the profile is being changed concurrently; try again")
}

// ScanProfiles calls fn for every live demand profile (a full sweep; the
// collection is small: one document per MCN stream plan).
func (s *Store) ScanProfiles(ctx context.Context, fn func(*engine.DemandProfile) error) error {
	const op = "store.ScanProfiles"
	cur, err := s.profiles.Find(ctx, bson.D{})
	if err != nil {
		return classify(op, err)
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		var d profileDoc
		if err := cur.Decode(&d); err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		if d.Deleted {
			continue
		}
		if err := fn(d.toEngine()); err != nil {
			return err
		}
	}
	return classify(op, cur.Err())
}
