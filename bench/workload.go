package main

import (
	"math/rand/v2"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/livematch/livematch/engine"
	"github.com/livematch/livematch/fixtures"
)

// workload is everything one benchmark run sends: the catalogue, demand
// profiles and search queries, all derived from one seed.
type workload struct {
	cat      fixtures.Catalogue
	profiles []benchProfile
	queries  []benchQuery
	now      time.Time // the clock the profiles were prepared with
}

// benchProfile is one demand profile, as the API body and as the prepared
// engine profile (the same thing).
type benchProfile struct {
	kind string // "zh", "en", "mixed", "one-char", "browse"
	p    *engine.DemandProfile
	// same says the formula is the same in every system: no keywords, text
	// and logistics weights 0, no fair share, so PostgreSQL's SQL formula
	// must give the same top 20 as livematch's engine.
	same bool
}

// benchQuery is one product search.
type benchQuery struct {
	kind     string // "zh", "en", "mixed", "one-char"
	q        string
	category string
}

// oneChar are one-character queries MCN staff type: tea, rice, oil, wine,
// fish, dates, pear, peach, honey, noodles.
var oneChar = []string{"茶", "米", "油", "酒", "鱼", "枣", "梨", "桃", "蜜", "面"}

// provinces are audience provinces of typical live streams.
var provinces = []string{"110000", "310000", "440000", "330000", "320000", "510000", "420000", "370000"}

// makeWorkload generates the catalogue (fixtures.Generate, as `matchd seed`
// does) and nProfiles profiles and nQueries queries drawn from the
// catalogue's own bilingual tags, so that they find what live streams look
// for.
func makeWorkload(seed int64, nProducts, nProfiles, nQueries int, regions *fixtures.Regions, now time.Time) (*workload, error) {
	w := &workload{cat: fixtures.Generate(seed, max(20, nProducts/500), nProducts, regions), now: now}
	rng := rand.New(rand.NewPCG(uint64(seed), 0x6c6d))
	if len(w.cat.Products) == 0 {
		return w, nil
	}
	pick := func() *engine.Product { return &w.cat.Products[rng.IntN(len(w.cat.Products))].Product }
	for len(w.profiles) < nProfiles {
		bp := makeProfile(rng, pick(), now)
		if err := engine.PrepareProfile(bp.p, regions, now); err != nil {
			return nil, err
		}
		w.profiles = append(w.profiles, bp)
	}
	for len(w.queries) < nQueries {
		kind, q := keywords(rng, pick())
		bq := benchQuery{kind: kind, q: q}
		if rng.IntN(4) == 0 {
			bq.category = pick().Category
		}
		w.queries = append(w.queries, bq)
	}
	return w, nil
}

// tagsOf splits a product's tags into Chinese and other-language ones.
func tagsOf(p *engine.Product) (zh, en []string) {
	for _, t := range p.Tags {
		if strings.IndexFunc(t, func(r rune) bool { return unicode.Is(unicode.Han, r) }) >= 0 {
			zh = append(zh, t)
		} else {
			en = append(en, t)
		}
	}
	return zh, en
}

// keywords draws search words from p's tags: Chinese, English, both, or one
// Chinese character.
func keywords(rng *rand.Rand, p *engine.Product) (kind, q string) {
	zh, en := tagsOf(p)
	switch n := rng.IntN(20); {
	case n < 9 && len(zh) > 0:
		return "zh", zh[rng.IntN(min(2, len(zh)))]
	case n < 13 && len(en) > 0:
		return "en", en[rng.IntN(min(2, len(en)))]
	case n < 17 && len(zh) > 0 && len(en) > 0:
		return "mixed", zh[0] + " " + en[0]
	default:
		return "one-char", oneChar[rng.IntN(len(oneChar))]
	}
}

// makeProfile builds a profile around product p, the kind of thing an MCN
// would be looking for when p is what it ends up streaming. One in six is a
// category browse without keywords whose formula every system can compute.
func makeProfile(rng *rand.Rand, p *engine.Product, now time.Time) benchProfile {
	dp := &engine.DemandProfile{Name: "bench " + p.Category, OrgID: "bench", Weights: engine.Weights{}}
	bp := benchProfile{p: dp}
	price := p.EffectivePrice()
	if rng.IntN(6) == 0 {
		bp.kind, bp.same = "browse", true
		dp.Categories = []string{p.Category}
		lo, hi := roundCNY(price*0.5), roundCNY(price*2)
		dp.PriceMin, dp.PriceMax = &lo, &hi
		dp.Weights["text"], dp.Weights["logistics"] = 0, 0
	} else {
		bp.kind, dp.Keywords = keywords(rng, p)
		if rng.IntN(10) < 7 {
			dp.Categories = []string{p.Category}
		}
		if rng.IntN(2) == 0 {
			lo, hi := roundCNY(price*0.5), roundCNY(price*2)
			dp.PriceMin, dp.PriceMax = &lo, &hi
		}
		if rng.IntN(2) == 0 {
			n := 1 + rng.IntN(2)
			for _, j := range rng.Perm(len(provinces))[:n] {
				dp.AudienceRegions = append(dp.AudienceRegions, provinces[j])
			}
		}
		if rng.IntN(5) == 0 {
			dp.PovertyReliefMinShare = 0.3
		}
	}
	if rng.IntN(2) == 0 {
		dp.MinCommissionRate = []float64{0.05, 0.08, 0.1, 0.15}[rng.IntN(4)]
	}
	if rng.IntN(3) == 0 {
		dp.MinStock = 100
	}
	dp.ExpectedUnits = int64(500 * (1 + rng.IntN(10)))
	if types := certTypes(p); len(types) > 0 && rng.IntN(5) < 2 {
		dp.PreferredCerts = []string{types[rng.IntN(len(types))]}
	}
	if rng.IntN(10) < 7 {
		// noon China time, 7 to 45 days ahead: far from any day boundary
		day := now.In(cst).AddDate(0, 0, 7+rng.IntN(39))
		dp.StreamDate = time.Date(day.Year(), day.Month(), day.Day(), 12, 0, 0, 0, cst)
	}
	if rng.IntN(10) < 3 {
		dp.Weights["poverty_relief"] = 2
		dp.Weights["price"] = 1.5
	}
	return bp
}

// cst is China Standard Time.
var cst = time.FixedZone("CST", 8*3600)

func roundCNY(x float64) float64 { return float64(int64(x*10+0.5)) / 10 }

// certTypes lists the distinct certificate types p holds.
func certTypes(p *engine.Product) []string {
	var out []string
	for _, c := range p.Certifications {
		if !slices.Contains(out, c.Type) {
			out = append(out, c.Type)
		}
	}
	return out
}

// profileBody is the API body of POST /v1/match/products for p.
func profileBody(p *engine.DemandProfile) map[string]any {
	b := map[string]any{"name": p.Name, "keywords": p.Keywords}
	if len(p.Categories) > 0 {
		b["categories"] = p.Categories
	}
	if p.PriceMin != nil {
		b["price_min"] = *p.PriceMin
	}
	if p.PriceMax != nil {
		b["price_max"] = *p.PriceMax
	}
	if p.MinCommissionRate > 0 {
		b["min_commission_rate"] = p.MinCommissionRate
	}
	if p.MinStock > 0 {
		b["min_stock"] = p.MinStock
	}
	if p.ExpectedUnits > 0 {
		b["expected_units"] = p.ExpectedUnits
	}
	if len(p.PreferredCerts) > 0 {
		b["preferred_certifications"] = p.PreferredCerts
	}
	if len(p.RequiredCerts) > 0 {
		b["required_certifications"] = p.RequiredCerts
	}
	if len(p.AudienceRegions) > 0 {
		b["audience_regions"] = p.AudienceRegions
	}
	if !p.StreamDate.IsZero() {
		b["stream_date"] = p.StreamDate.Format(time.RFC3339)
	}
	if p.PovertyReliefMinShare > 0 {
		b["poverty_relief_min_share"] = p.PovertyReliefMinShare
	}
	if len(p.Weights) > 0 {
		b["weights"] = p.Weights
	}
	return b
}
