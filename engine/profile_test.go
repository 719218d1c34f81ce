package engine

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"
)

// matchNow is the clock of the matching tests: 2026-11-25 10:00 in Shanghai.
var matchNow = time.Date(2026, 11, 25, 2, 0, 0, 0, time.UTC)

// matchRegions is a small region book with names in both languages.
var matchRegions = regionMap{
	"360000": {Code: "360000", NameZh: "江西省", NameEn: "Jiangxi", Level: LevelProvince, ProvinceCode: "360000"},
	"360700": {Code: "360700", NameZh: "赣州市", NameEn: "Ganzhou", Level: LevelCity, ProvinceCode: "360000", CityCode: "360700"},
	"360732": {Code: "360732", NameZh: "兴国县", NameEn: "Xingguo County", Level: LevelCounty, ProvinceCode: "360000", CityCode: "360700", PovertyRelief: true},
	"310000": {Code: "310000", NameZh: "上海市", NameEn: "Shanghai", Level: LevelProvince, ProvinceCode: "310000"},
	"310101": {Code: "310101", NameZh: "黄浦区", NameEn: "Huangpu District", Level: LevelCounty, ProvinceCode: "310000", CityCode: "310100"},
	"440000": {Code: "440000", NameZh: "广东省", NameEn: "Guangdong", Level: LevelProvince, ProvinceCode: "440000"},
	"650000": {Code: "650000", NameZh: "新疆维吾尔自治区", NameEn: "Xinjiang", Level: LevelProvince, ProvinceCode: "650000"},
	"532600": {Code: "532601", NameZh: "文山市", NameEn: "Wenshan", Level: LevelCounty, ProvinceCode: "530000", PovertyRelief: true},
	"532601": {Code: "532601", NameZh: "文山市", NameEn: "Wenshan", Level: LevelCounty, ProvinceCode: "530000", PovertyRelief: true},
}

func ptr[T any](v T) *T { return &v }

func validProfile() DemandProfile {
	return DemandProfile{
		Name:              "  双十二 助农专场 ",
		Keywords:          " 脐橙 有机 orange ",
		Categories:        []string{"fresh_fruit", " fresh_fruit", "tea"},
		PriceMin:          ptr(10.0),
		PriceMax:          ptr(60.0),
		MinCommissionRate: 0.1,
		ExpectedUnits:     2000,
		MinStock:          500,
		RequiredCerts:     []string{"green_food"},
		PreferredCerts:    []string{"green_food", "organic", "organic"},
		AudienceRegions:   []string{"532600", "310000", "532601"},
		TargetMarkets:     []string{"cn", "MY", "CN"},
		StreamDate:        matchNow.Add(17 * 24 * time.Hour),
		Weights:           Weights{"poverty_relief": 2, "text": 0},

		PovertyReliefMinShare: 0.3,
	}
}

func TestPrepareProfileNormalises(t *testing.T) {
	p := validProfile()
	if err := PrepareProfile(&p, matchRegions, matchNow); err != nil {
		t.Fatal(err)
	}
	switch {
	case p.Name != "双十二 助农专场", p.Keywords != "脐橙 有机 orange":
		t.Errorf("text not trimmed: %q %q", p.Name, p.Keywords)
	case !slices.Equal(p.Categories, []string{"fresh_fruit", "tea"}):
		t.Errorf("categories %v", p.Categories)
	case !slices.Equal(p.PreferredCerts, []string{"green_food", "organic"}):
		t.Errorf("preferred %v", p.PreferredCerts)
	case !slices.Equal(p.AudienceRegions, []string{"532601", "310000"}):
		t.Errorf("audience regions %v (old codes resolve to current ones, then dedupe)", p.AudienceRegions)
	case !slices.Equal(p.TargetMarkets, []string{"CN", "MY"}):
		t.Errorf("markets %v", p.TargetMarkets)
	case p.Status != ProfileOpen:
		t.Errorf("status %q", p.Status)
	}

	// Normalising does not write into the caller's slices.
	in := []string{"tea", "tea", "fresh_fruit"}
	q := validProfile()
	q.Categories = in
	if err := PrepareProfile(&q, matchRegions, matchNow); err != nil || !slices.Equal(in, []string{"tea", "tea", "fresh_fruit"}) {
		t.Fatalf("input slice changed to %v (err %v)", in, err)
	}
}

func TestPrepareProfileValidation(t *testing.T) {
	many := func(s string, n int) []string { return slices.Repeat([]string{s}, n) }
	cases := []struct {
		name    string
		mutate  func(*DemandProfile)
		regions RegionBook
		fields  []string
	}{
		{"valid", func(*DemandProfile) {}, matchRegions, nil},
		{"minimal", func(p *DemandProfile) { *p = DemandProfile{Name: "x"} }, matchRegions, nil},
		{"name required", func(p *DemandProfile) { p.Name = "  " }, matchRegions, []string{"name"}},
		{"name 200 runes", func(p *DemandProfile) { p.Name = strings.Repeat("橙", 200) }, matchRegions, nil},
		{"name 201 runes", func(p *DemandProfile) { p.Name = strings.Repeat("橙", 201) }, matchRegions, []string{"name"}},
		{"name NUL", func(p *DemandProfile) { p.Name = "a\x00b" }, matchRegions, []string{"name"}},
		{"keywords 501 runes", func(p *DemandProfile) { p.Keywords = strings.Repeat("k", 501) }, matchRegions, []string{"keywords"}},
		{"keywords bad UTF-8", func(p *DemandProfile) { p.Keywords = "\xff橙" }, matchRegions, []string{"keywords"}},
		{"keywords NUL", func(p *DemandProfile) { p.Keywords = "橙\x00" }, matchRegions, []string{"keywords"}},
		{"unknown category", func(p *DemandProfile) { p.Categories = []string{"tea", "fruit"} }, matchRegions, []string{"categories[1]"}},
		{"51 categories", func(p *DemandProfile) { p.Categories = many("tea", 51) }, matchRegions, []string{"categories"}},
		{"50 categories", func(p *DemandProfile) { p.Categories = many("tea", 50) }, matchRegions, nil},
		{"price_min negative", func(p *DemandProfile) { p.PriceMin = ptr(-1.0) }, matchRegions, []string{"price_min"}},
		{"price_max too high", func(p *DemandProfile) { p.PriceMax = ptr(MaxPriceCNY + 1.0) }, matchRegions, []string{"price_max"}},
		{"price_max NaN", func(p *DemandProfile) { p.PriceMax = ptr(math.NaN()) }, matchRegions, []string{"price_max"}},
		{"price_min above price_max", func(p *DemandProfile) { p.PriceMin = ptr(70.0) }, matchRegions, []string{"price_min"}},
		{"price band of one price", func(p *DemandProfile) { p.PriceMin, p.PriceMax = ptr(20.0), ptr(20.0) }, matchRegions, nil},
		{"only price_max", func(p *DemandProfile) { p.PriceMin = nil }, matchRegions, nil},
		{"commission above 1", func(p *DemandProfile) { p.MinCommissionRate = 1.5 }, matchRegions, []string{"min_commission_rate"}},
		{"commission NaN", func(p *DemandProfile) { p.MinCommissionRate = math.NaN() }, matchRegions, []string{"min_commission_rate"}},
		{"expected_units negative", func(p *DemandProfile) { p.ExpectedUnits = -1 }, matchRegions, []string{"expected_units"}},
		{"expected_units too many", func(p *DemandProfile) { p.ExpectedUnits = MaxStock + 1 }, matchRegions, []string{"expected_units"}},
		{"min_stock negative", func(p *DemandProfile) { p.MinStock = -5 }, matchRegions, []string{"min_stock"}},
		{"min_stock too many", func(p *DemandProfile) { p.MinStock = MaxStock + 1 }, matchRegions, []string{"min_stock"}},
		{"required cert unknown", func(p *DemandProfile) { p.RequiredCerts = []string{"iso"} }, matchRegions, []string{"required_certifications[0]"}},
		{"preferred cert unknown", func(p *DemandProfile) { p.PreferredCerts = []string{"organic", "haccp", "bio"} }, matchRegions, []string{"preferred_certifications[2]"}},
		{"51 preferred certs", func(p *DemandProfile) { p.PreferredCerts = many("organic", 51) }, matchRegions, []string{"preferred_certifications"}},
		{"51 required certs", func(p *DemandProfile) { p.RequiredCerts = many("organic", 51) }, matchRegions, []string{"required_certifications"}},
		{"audience region unknown", func(p *DemandProfile) { p.AudienceRegions = []string{"310000", "999999"} }, matchRegions, []string{"audience_regions[1]"}},
		{"51 audience regions", func(p *DemandProfile) { p.AudienceRegions = many("310000", 51) }, matchRegions, []string{"audience_regions"}},
		{"no region book: six digits pass", func(p *DemandProfile) { p.AudienceRegions = []string{"310000"} }, nil, nil},
		{"no region book: short code", func(p *DemandProfile) { p.AudienceRegions = []string{"31"} }, nil, []string{"audience_regions[0]"}},
		{"target market unknown", func(p *DemandProfile) { p.TargetMarkets = []string{"my", "ZZ", "CHN"} }, matchRegions, []string{"target_markets[1]", "target_markets[2]"}},
		{"51 target markets", func(p *DemandProfile) { p.TargetMarkets = many("CN", 51) }, matchRegions, []string{"target_markets"}},
		{"stream date an hour ago", func(p *DemandProfile) { p.StreamDate = matchNow.Add(-time.Hour) }, matchRegions, []string{"stream_date"}},
		{"stream date 25h ago", func(p *DemandProfile) { p.StreamDate = matchNow.Add(-25 * time.Hour) }, matchRegions, []string{"stream_date"}},
		{"share above 1", func(p *DemandProfile) { p.PovertyReliefMinShare = 1.01 }, matchRegions, []string{"poverty_relief_min_share"}},
		{"share negative", func(p *DemandProfile) { p.PovertyReliefMinShare = -0.1 }, matchRegions, []string{"poverty_relief_min_share"}},
		{"unknown weight", func(p *DemandProfile) { p.Weights = Weights{"speed": 1} }, matchRegions, []string{"weights.speed"}},
		{"negative weight", func(p *DemandProfile) { p.Weights = Weights{"price": -1} }, matchRegions, []string{"weights.price"}},
		{"NaN and Inf weights", func(p *DemandProfile) { p.Weights = Weights{"text": math.NaN(), "grade": math.Inf(1)} },
			matchRegions, []string{"weights.grade", "weights.text"}},
		{"weights all zero", func(p *DemandProfile) {
			p.Weights = Weights{}
			for _, f := range Factors() {
				p.Weights[string(f)] = 0
			}
		}, matchRegions, []string{"weights"}},
		{"nine weights zero", func(p *DemandProfile) {
			p.Weights = Weights{}
			for _, f := range Factors()[1:] {
				p.Weights[string(f)] = 0
			}
		}, matchRegions, nil},
		{"status closed", func(p *DemandProfile) { p.Status = ProfileClosed }, matchRegions, nil},
		{"status unknown", func(p *DemandProfile) { p.Status = "paused" }, matchRegions, []string{"status"}},
		{"everything wrong, in field order", func(p *DemandProfile) {
			*p = DemandProfile{Keywords: "\x00", Categories: []string{"x"}, PriceMin: ptr(-1.0), MinCommissionRate: 2,
				ExpectedUnits: -1, MinStock: -1, RequiredCerts: []string{"x"}, PreferredCerts: []string{"y"},
				AudienceRegions: []string{"1"}, TargetMarkets: []string{"zz"}, StreamDate: matchNow.AddDate(-1, 0, 0),
				PovertyReliefMinShare: 2, Weights: Weights{"z": 1}, Status: "x"}
		}, matchRegions, []string{"name", "keywords", "categories[0]", "price_min", "min_commission_rate", "expected_units",
			"min_stock", "required_certifications[0]", "preferred_certifications[0]", "audience_regions[0]", "target_markets[0]",
			"stream_date", "poverty_relief_min_share", "weights.z", "status"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := validProfile()
			tc.mutate(&p)
			err := PrepareProfile(&p, tc.regions, matchNow)
			if got := fieldNames(err); !slices.Equal(got, tc.fields) {
				t.Fatalf("fields %v, want %v (err %v)", got, tc.fields, err)
			}
			if err != nil && KindOf(err) != KindInvalid {
				t.Fatalf("kind %v", KindOf(err))
			}
		})
	}
}

func TestWeightsOf(t *testing.T) {
	var none Weights
	w := Weights{"price": 0, "grade": 2.5}
	for _, tc := range []struct {
		w    Weights
		f    Factor
		want float64
	}{{none, FactorText, 1}, {w, FactorText, 1}, {w, FactorPrice, 0}, {w, FactorGrade, 2.5}} {
		if got := tc.w.Of(tc.f); got != tc.want {
			t.Errorf("%v.Of(%s) = %v, want %v", tc.w, tc.f, got, tc.want)
		}
	}
	want := []Factor{"text", "price", "commission", "stock", "poverty_relief", "certification", "seasonality", "logistics", "grade", "lead_time"}
	if got := Factors(); !slices.Equal(got, want) {
		t.Fatalf("Factors() = %v", got)
	}
}
