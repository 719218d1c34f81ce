package engine

import (
	"math"
	"slices"
	"strings"
	"time"
)

// ProfileStatus is whether a demand profile takes part in matching.
type ProfileStatus string

// Profile states.
const (
	ProfileOpen   ProfileStatus = "open"
	ProfileClosed ProfileStatus = "closed"
)

// Valid reports whether s is a known profile state.
func (s ProfileStatus) Valid() bool { return s == ProfileOpen || s == ProfileClosed }

// Factor names one scoring factor of a product match. The names are the keys
// of DemandProfile.Weights and the "name" of each factor in a match.
type Factor string

// The ten factors of a product match, in the order Factors returns them.
const (
	FactorText          Factor = "text"
	FactorPrice         Factor = "price"
	FactorCommission    Factor = "commission"
	FactorStock         Factor = "stock"
	FactorPovertyRelief Factor = "poverty_relief"
	FactorCertification Factor = "certification"
	FactorSeasonality   Factor = "seasonality"
	FactorLogistics     Factor = "logistics"
	FactorGrade         Factor = "grade"
	FactorLeadTime      Factor = "lead_time"
)

// numFactors is the number of factors; factorList holds them in order.
const numFactors = 10

var factorList = [numFactors]Factor{FactorText, FactorPrice, FactorCommission, FactorStock,
	FactorPovertyRelief, FactorCertification, FactorSeasonality, FactorLogistics, FactorGrade, FactorLeadTime}

// Factors returns the ten factors in their fixed order (a fresh copy).
func Factors() []Factor { return append([]Factor(nil), factorList[:]...) }

func factorIndex(name string) int {
	for i, f := range factorList {
		if string(f) == name {
			return i
		}
	}
	return -1
}

// Weights gives each factor a weight, keyed by factor name. A factor that is
// missing weighs 1; a weight of 0 switches the factor off.
type Weights map[string]float64

// Of returns the weight of factor f (1 when w has no entry for it).
func (w Weights) Of(f Factor) float64 {
	if v, ok := w[string(f)]; ok {
		return v
	}
	return 1
}

// DemandProfile is what an MCN's live stream needs: the products it looks
// for, hard limits (categories, price band, commission floor, stock floor,
// required certificates, season and lead time on the stream date) and
// preferences (keywords, preferred certificates, audience regions, factor
// weights, a minimum share of poverty-relief suppliers in the top results).
type DemandProfile struct {
	ID       string
	OrgID    string
	Name     string
	Keywords string

	Categories        []string
	PriceMin          *float64 // on Product.EffectivePrice, inclusive
	PriceMax          *float64 // on Product.EffectivePrice, inclusive
	MinCommissionRate float64  // 0..1
	ExpectedUnits     int64
	MinStock          int64
	RequiredCerts     []string
	PreferredCerts    []string
	AudienceRegions   []string  // six-digit region codes
	TargetMarkets     []string  // ISO 3166-1 alpha-2
	StreamDate        time.Time // zero: none

	PovertyReliefMinShare float64 // 0..1
	Weights               Weights
	Status                ProfileStatus // default open

	Version   int64
	Seq       int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Limits on demand-profile fields.
const (
	MaxProfileNameLen = 200
	MaxKeywordsLen    = 500
	MaxProfileList    = 50 // items in each list field
)

// A stream date must not lie in the past when a profile is prepared: the
// lead-time gate would exclude every product from a stream already begun.

// PrepareProfile validates and normalises a demand profile: it trims text,
// defaults the status to open, drops duplicate list items, upper-cases target
// markets and resolves audience regions through regions to their current
// codes (with a nil book, audience regions are only checked to be six
// digits). now is the clock: a stream date before now is
// invalid.
//
// It returns an *Error of KindInvalid naming every bad field by its JSON name
// (name, keywords, categories[i], price_min, price_max, min_commission_rate,
// expected_units, min_stock, required_certifications[i],
// preferred_certifications[i], audience_regions[i], target_markets[i],
// stream_date, poverty_relief_min_share, weights.<factor>, weights, status);
// a list with more than MaxProfileList items is named without an index.
func PrepareProfile(p *DemandProfile, regions RegionBook, now time.Time) error {
	const op = "engine.PrepareProfile"
	var pr Problems

	p.Name = strings.TrimSpace(p.Name)
	checkText(&pr, "name", p.Name, 1, MaxProfileNameLen)
	p.Keywords = strings.TrimSpace(p.Keywords)
	checkText(&pr, "keywords", p.Keywords, 0, MaxKeywordsLen)

	p.Categories = prepareList(&pr, "categories", p.Categories, func(s string) (string, string) {
		if _, ok := CategoryByCode(s); !ok {
			return s, "unknown category (see /v1/meta/categories)"
		}
		return s, ""
	})

	if p.PriceMin != nil {
		checkRange(&pr, "price_min", *p.PriceMin, 0, MaxPriceCNY)
	}
	if p.PriceMax != nil {
		checkRange(&pr, "price_max", *p.PriceMax, 0, MaxPriceCNY)
	}
	if p.PriceMin != nil && p.PriceMax != nil && *p.PriceMin > *p.PriceMax {
		pr.Add("price_min", "must not be greater than price_max")
	}
	checkRange(&pr, "min_commission_rate", p.MinCommissionRate, 0, 1)
	if p.ExpectedUnits < 0 || p.ExpectedUnits > MaxStock {
		pr.Add("expected_units", "must be between 0 and %d", MaxStock)
	}
	if p.MinStock < 0 || p.MinStock > MaxStock {
		pr.Add("min_stock", "must be between 0 and %d", MaxStock)
	}

	certCheck := func(s string) (string, string) {
		if _, ok := CertTypeByCode(s); !ok {
			return s, "unknown certification type (see /v1/meta/certifications)"
		}
		return s, ""
	}
	p.RequiredCerts = prepareList(&pr, "required_certifications", p.RequiredCerts, certCheck)
	p.PreferredCerts = prepareList(&pr, "preferred_certifications", p.PreferredCerts, certCheck)

	p.AudienceRegions = prepareList(&pr, "audience_regions", p.AudienceRegions, func(s string) (string, string) {
		if regions == nil {
			if len(s) == 6 && strings.Trim(s, "0123456789") == "" {
				return s, ""
			}
		} else if r, ok := regions.Region(s); ok {
			return r.Code, ""
		}
		return s, "must be a six-digit GB/T 2260 region code (see /v1/meta/regions)"
	})
	p.TargetMarkets = prepareList(&pr, "target_markets", p.TargetMarkets, func(s string) (string, string) {
		s = strings.ToUpper(s)
		if !ValidCountry(s) {
			return s, "must be an ISO 3166-1 alpha-2 code such as CN or MY"
		}
		return s, ""
	})

	if !p.StreamDate.IsZero() && p.StreamDate.Before(now) {
		pr.Add("stream_date", "must not lie in the past")
	}
	checkRange(&pr, "poverty_relief_min_share", p.PovertyReliefMinShare, 0, 1)

	checkWeights(&pr, p.Weights, factorList[:])

	if p.Status == "" {
		p.Status = ProfileOpen
	} else if !p.Status.Valid() {
		pr.Add("status", "must be open or closed")
	}
	return pr.Err(op)
}

// prepareList trims every item of a list field, normalises and checks it
// with check (which returns the normalised item and a message when the item
// is bad), reports bad items by their input index, and returns the list
// without duplicates (first occurrence kept).
func prepareList(pr *Problems, field string, list []string, check func(string) (string, string)) []string {
	if len(list) > MaxProfileList {
		pr.Add(field, "at most %d items", MaxProfileList)
	}
	out := list[:0:0]
	for i, s := range list {
		s, msg := check(strings.TrimSpace(s))
		if msg != "" {
			pr.Add(indexed(field, i), "%s: %q", msg, clip(s))
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	if list == nil {
		return nil
	}
	return out
}

// checkWeights reports names that are not among factors and weights that
// are negative or not finite (field weights.<name>), and a weight map that
// switches every factor off (field weights).
func checkWeights(pr *Problems, w Weights, factors []Factor) {
	names := make([]string, 0, len(w))
	for name := range w {
		names = append(names, name)
	}
	slices.Sort(names) // report in a stable order
	for _, name := range names {
		v := w[name]
		switch {
		case !slices.Contains(factors, Factor(name)):
			known := make([]string, len(factors))
			for i, f := range factors {
				known[i] = string(f)
			}
			pr.Add("weights."+clip(name), "unknown factor (one of %s)", strings.Join(known, ", "))
		case math.IsNaN(v) || math.IsInf(v, 0) || v < 0:
			pr.Add("weights."+name, "must be a finite number of at least 0")
		}
	}
	for _, f := range factors {
		if w.Of(f) != 0 {
			return
		}
	}
	pr.Add("weights", "at least one factor must weigh more than 0")
}
