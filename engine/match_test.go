package engine

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// testGeo knows distances between a few provinces, by the first two digits
// of the region codes.
type testGeo map[[2]string]float64

func (g testGeo) Distance(from, to string) (float64, bool) {
	if len(from) < 2 || len(to) < 2 {
		return 0, false
	}
	if from[:2] == to[:2] {
		return 0, true
	}
	km, ok := g[[2]string{from[:2], to[:2]}]
	return km, ok
}

var geo = testGeo{{"36", "31"}: 1100, {"44", "31"}: 1200, {"65", "31"}: 3300, {"36", "44"}: 600, {"44", "36"}: 600}

var _ Geo = geo

// streamDate is 17 days after matchNow: 2026-12-12 10:00 in Shanghai.
var streamDate = matchNow.Add(17 * 24 * time.Hour)

// factorProfile is the prepared profile of the factor and gate tests.
func factorProfile(tb testing.TB) DemandProfile {
	tb.Helper()
	p := DemandProfile{
		Name: "双十二 助农专场", Keywords: "脐橙", Categories: []string{"fresh_fruit", "tea"},
		PriceMin: ptr(10.0), PriceMax: ptr(60.0), MinCommissionRate: 0.1, ExpectedUnits: 2000, MinStock: 500,
		RequiredCerts: []string{"green_food"}, PreferredCerts: []string{"green_food", "organic"},
		AudienceRegions: []string{"310000"}, StreamDate: streamDate,
	}
	if err := PrepareProfile(&p, matchRegions, matchNow); err != nil {
		tb.Fatal(err)
	}
	return p
}

// gnOrange is a candidate that passes every gate of factorProfile.
func gnOrange() Candidate {
	sup := &Org{ID: "org_gn", Kind: OrgCooperative, NameZh: "兴国合作社", RegionCode: "360732", Grade: GradeA,
		Status: OrgApproved, ProvinceCode: "360000", PovertyRelief: true}
	pr := &Product{ID: "p_gn", OrgID: "org_gn", TitleZh: "赣南脐橙", Category: "fresh_fruit", PriceCNY: 40, LivePriceCNY: 28,
		CommissionRate: 0.25, Stock: 5000, LeadTimeDays: 3, ShipFrom: "360732", ProvinceCode: "360000", ShelfLifeDays: 30,
		AvailableMonths: []int{11, 12, 1, 2}, Certifications: []Certification{{Type: "green_food"}, {Type: "geo_indication"}},
		ReviewStatus: ReviewApproved, PovertyRelief: true}
	return Candidate{Product: pr, Supplier: sup, Text: 4}
}

func testParams() MatchParams {
	return MatchParams{Now: matchNow, Regions: matchRegions, Geo: geo}
}

func TestGates(t *testing.T) {
	cases := []struct {
		name  string
		mutP  func(*DemandProfile)
		mutC  func(*Candidate)
		want  string
		clock time.Time // zero: matchNow
	}{
		{"passes", nil, nil, "", time.Time{}},
		{"pending review", nil, func(c *Candidate) { c.Product.ReviewStatus = ReviewPending }, ExcludedNotApproved, time.Time{}},
		{"rejected", nil, func(c *Candidate) { c.Product.ReviewStatus = ReviewRejected }, ExcludedNotApproved, time.Time{}},
		{"no product", nil, func(c *Candidate) { c.Product = nil }, ExcludedNotApproved, time.Time{}},
		{"no supplier", nil, func(c *Candidate) { c.Supplier = nil }, ExcludedSupplier, time.Time{}},
		{"supplier suspended", nil, func(c *Candidate) { c.Supplier.Status = OrgSuspended }, ExcludedSupplier, time.Time{}},
		{"supplier pending", nil, func(c *Candidate) { c.Supplier.Status = OrgPending }, ExcludedSupplier, time.Time{}},
		{"supplier not the owner", nil, func(c *Candidate) { c.Supplier.ID = "org_other" }, ExcludedSupplier, time.Time{}},
		{"wrong category", nil, func(c *Candidate) { c.Product.Category = "beauty" }, ExcludedCategory, time.Time{}},
		{"any category", func(p *DemandProfile) { p.Categories = nil }, func(c *Candidate) { c.Product.Category = "beauty" }, "", time.Time{}},
		{"below the band", nil, func(c *Candidate) { c.Product.LivePriceCNY = 9.99 }, ExcludedPrice, time.Time{}},
		{"above the band", nil, func(c *Candidate) { c.Product.LivePriceCNY, c.Product.PriceCNY = 0, 60.01 }, ExcludedPrice, time.Time{}},
		{"band is inclusive", nil, func(c *Candidate) { c.Product.LivePriceCNY = 60 }, "", time.Time{}},
		{"live price decides", nil, func(c *Candidate) { c.Product.PriceCNY, c.Product.LivePriceCNY = 100, 59 }, "", time.Time{}},
		{"NaN price", nil, func(c *Candidate) { c.Product.PriceCNY, c.Product.LivePriceCNY = math.NaN(), 0 }, ExcludedPrice, time.Time{}},
		{"commission below floor", nil, func(c *Candidate) { c.Product.CommissionRate = 0.099 }, ExcludedCommission, time.Time{}},
		{"commission at floor", nil, func(c *Candidate) { c.Product.CommissionRate = 0.1 }, "", time.Time{}},
		{"stock below floor", nil, func(c *Candidate) { c.Product.Stock = 499 }, ExcludedStock, time.Time{}},
		{"available below floor: reservations hold the rest", nil, func(c *Candidate) { c.Product.Stock, c.Product.Booked = 5000, 4501 }, ExcludedStock, time.Time{}},
		{"stock at floor", nil, func(c *Candidate) { c.Product.Stock = 500 }, "", time.Time{}},
		{"no stock without floor", func(p *DemandProfile) { p.MinStock = 0 }, func(c *Candidate) { c.Product.Stock = 0 }, ExcludedStock, time.Time{}},
		{"required certificate missing", nil, func(c *Candidate) { c.Product.Certifications = []Certification{{Type: "organic"}} }, ExcludedCertification, time.Time{}},
		{"required certificate expires before the stream", nil, func(c *Candidate) {
			c.Product.Certifications = []Certification{{Type: "green_food", ExpiresAt: matchNow.AddDate(0, 0, 5)}}
		}, ExcludedCertification, time.Time{}},
		{"required certificate expires after the stream", nil, func(c *Candidate) {
			c.Product.Certifications = []Certification{{Type: "green_food", ExpiresAt: streamDate.AddDate(0, 0, 1)}}
		}, "", time.Time{}},
		{"out of season on the stream date", nil, func(c *Candidate) { c.Product.AvailableMonths = []int{6, 7, 8} }, ExcludedSeason, time.Time{}},
		{"in season on the stream date, not today", nil, func(c *Candidate) { c.Product.AvailableMonths = []int{12} }, "", time.Time{}},
		{"season without stream date uses today", func(p *DemandProfile) { p.StreamDate = time.Time{} },
			func(c *Candidate) { c.Product.AvailableMonths = []int{12} }, ExcludedSeason, time.Time{}},
		{"season in Shanghai time", func(p *DemandProfile) { p.StreamDate = time.Date(2026, 11, 30, 20, 0, 0, 0, time.UTC) }, // 1 Dec 04:00 CST
			func(c *Candidate) { c.Product.AvailableMonths = []int{12} }, "", time.Time{}},
		{"season in Shanghai time, not UTC", func(p *DemandProfile) { p.StreamDate = time.Date(2026, 11, 30, 20, 0, 0, 0, time.UTC) },
			func(c *Candidate) { c.Product.AvailableMonths = []int{11} }, ExcludedSeason, time.Time{}},
		{"lead time past the stream", nil, func(c *Candidate) { c.Product.LeadTimeDays = 18 }, ExcludedLeadTime, time.Time{}},
		{"lead time just in time", nil, func(c *Candidate) { c.Product.LeadTimeDays = 17 }, "", time.Time{}},
		{"lead time against a later clock", nil, nil, ExcludedLeadTime, streamDate.Add(-2 * 24 * time.Hour)},
		{"no stream date, no lead-time gate", func(p *DemandProfile) { p.StreamDate = time.Time{} },
			func(c *Candidate) { c.Product.LeadTimeDays = 300; c.Product.AvailableMonths = nil }, "", time.Time{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := factorProfile(t)
			c := gnOrange()
			if tc.mutP != nil {
				tc.mutP(&p)
			}
			if tc.mutC != nil {
				tc.mutC(&c)
			}
			clock := matchNow
			if !tc.clock.IsZero() {
				clock = tc.clock
			}
			if got := Gate(&p, c, clock); got != tc.want {
				t.Fatalf("Gate = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestGateOrder starts from a candidate that fails every gate and repairs one
// failure at a time: Gate must name them in GateOrder.
func TestGateOrder(t *testing.T) {
	want := []string{ExcludedNotApproved, ExcludedSupplier, ExcludedCategory, ExcludedPrice, ExcludedCommission,
		ExcludedStock, ExcludedCertification, ExcludedSeason, ExcludedLeadTime}
	if got := GateOrder(); !slices.Equal(got, want) {
		t.Fatalf("GateOrder() = %v", got)
	}
	p := factorProfile(t)
	c := gnOrange()
	pr := c.Product
	good := *pr
	sup := c.Supplier
	*pr = Product{ID: "p_bad", OrgID: "org_gn", ReviewStatus: ReviewPending, Category: "beauty", PriceCNY: 100,
		CommissionRate: 0, Stock: 1, AvailableMonths: []int{6}, LeadTimeDays: 30}
	c.Supplier = nil
	repairs := []func(){
		func() { pr.ReviewStatus = ReviewApproved },
		func() { c.Supplier = sup },
		func() { pr.Category = good.Category },
		func() { pr.PriceCNY = good.PriceCNY },
		func() { pr.CommissionRate = good.CommissionRate },
		func() { pr.Stock = good.Stock },
		func() { pr.Certifications = good.Certifications },
		func() { pr.AvailableMonths = good.AvailableMonths },
		func() { pr.LeadTimeDays = good.LeadTimeDays },
	}
	for i, reason := range want {
		if got := Gate(&p, c, matchNow); got != reason {
			t.Fatalf("step %d: Gate = %q, want %q", i, got, reason)
		}
		repairs[i]()
	}
	if got := Gate(&p, c, matchNow); got != "" {
		t.Fatalf("repaired candidate fails %q", got)
	}
}

func factorOf(tb testing.TB, m ProductMatch, f Factor) FactorScore {
	tb.Helper()
	for _, fs := range m.Factors {
		if fs.Name == f {
			return fs
		}
	}
	tb.Fatalf("no factor %s in %+v", f, m.Factors)
	return FactorScore{}
}

func TestFactors(t *testing.T) {
	type tcase struct {
		name   string
		factor Factor
		mutP   func(*DemandProfile)
		mutC   func(*Candidate)
		mutM   func(*MatchParams)
		want   float64
		zh, en string // substrings of the reasons
	}
	months := func(m ...int) func(*Candidate) { return func(c *Candidate) { c.Product.AvailableMonths = m } }
	streamOn := func(d time.Time) func(*DemandProfile) { return func(p *DemandProfile) { p.StreamDate = d } }
	cst := time.FixedZone("CST", 8*3600)
	cases := []tcase{
		// text
		{"text: relevance 4 with half 2", FactorText, nil, nil, nil, 0.6667, "关键词相关度66.7%（BM25得分4）", "66.7% keyword relevance (BM25 score 4)"},
		{"text: relevance equal to half", FactorText, nil, func(c *Candidate) { c.Text = 2 }, nil, 0.5, "", ""},
		{"text: custom half", FactorText, nil, func(c *Candidate) { c.Text = 6 }, func(m *MatchParams) { m.TextHalf = 6 }, 0.5, "", ""},
		{"text: no match", FactorText, nil, func(c *Candidate) { c.Text = 0 }, nil, 0, "无文本匹配", "No keyword matches"},
		{"text: negative relevance", FactorText, nil, func(c *Candidate) { c.Text = -3 }, nil, 0, "", ""},
		{"text: NaN relevance", FactorText, nil, func(c *Candidate) { c.Text = math.NaN() }, nil, 0, "", ""},
		{"text: no keywords", FactorText, func(p *DemandProfile) { p.Keywords = "  " }, func(c *Candidate) { c.Text = 0 }, nil, 1,
			"未设关键词：所有商品均符合", "No keywords: every product qualifies"},
		// price
		{"price: band and 30% discount", FactorPrice, nil, nil, nil, 0.874, "处于10–60元区间的36%位置", "Price ¥28 (list ¥40, 30% off), at 36% of the ¥10–60 band"},
		{"price: cheapest in band, no live price", FactorPrice, nil, func(c *Candidate) { c.Product.PriceCNY, c.Product.LivePriceCNY = 10, 0 }, nil, 0.7, "到手价10元", "Price ¥10, at 0%"},
		{"price: dearest in band", FactorPrice, nil, func(c *Candidate) { c.Product.PriceCNY, c.Product.LivePriceCNY = 60, 0 }, nil, 0.35, "", ""},
		{"price: discount above 30% is capped", FactorPrice, nil, func(c *Candidate) { c.Product.PriceCNY = 100 }, nil, 0.874, "直降72%", "72% off"},
		{"price: live above list is no discount", FactorPrice, nil, func(c *Candidate) { c.Product.PriceCNY = 20 }, nil, 0.574, "无折扣", "no discount"},
		{"price: one-price band", FactorPrice, func(p *DemandProfile) { p.PriceMin, p.PriceMax = ptr(28.0), ptr(28.0) },
			func(c *Candidate) { c.Product.PriceCNY = 28 }, nil, 0.7, "符合28元定价", "matches the ¥28 price point"},
		{"price: only a cap", FactorPrice, func(p *DemandProfile) { p.PriceMin = nil }, func(c *Candidate) { c.Product.PriceCNY = 28 }, nil,
			0.7 * (1 - 0.5*28/60.0), "为上限60元的46.7%", "46.7% of the ¥60 cap"},
		{"price: only a floor", FactorPrice, func(p *DemandProfile) { p.PriceMax = nil }, func(c *Candidate) { c.Product.PriceCNY = 28 }, nil, 0.7, "未设价格上限", "no price cap"},
		{"price: no band, 15% off", FactorPrice, func(p *DemandProfile) { p.PriceMin, p.PriceMax = nil, nil },
			func(c *Candidate) { c.Product.PriceCNY, c.Product.LivePriceCNY = 40, 34 }, nil, 0.85, "直降15%", "15% off"},
		// commission
		{"commission: above the floor", FactorCommission, nil, nil, nil, 0.5, "佣金25%（下限10%）", "25% commission (floor 10%)"},
		{"commission: at the floor earns 0.1", FactorCommission, nil, func(c *Candidate) { c.Product.CommissionRate = 0.1 }, nil, 0.1, "", ""},
		{"commission: just above the floor earns 0.1", FactorCommission, nil, func(c *Candidate) { c.Product.CommissionRate = 0.11 }, nil, 0.1, "", ""},
		{"commission: 40% and more earn 1", FactorCommission, nil, func(c *Candidate) { c.Product.CommissionRate = 0.6 }, nil, 1, "", ""},
		{"commission: no floor", FactorCommission, func(p *DemandProfile) { p.MinCommissionRate = 0 }, func(c *Candidate) { c.Product.CommissionRate = 0.2 }, nil,
			0.5, "佣金20%", "20% commission"},
		{"commission: none without floor", FactorCommission, func(p *DemandProfile) { p.MinCommissionRate = 0 }, func(c *Candidate) { c.Product.CommissionRate = 0 }, nil, 0, "", ""},
		{"commission: floor above 40%", FactorCommission, func(p *DemandProfile) { p.MinCommissionRate = 0.5 }, func(c *Candidate) { c.Product.CommissionRate = 0.5 }, nil, 1, "", ""},
		{"commission: below the floor", FactorCommission, nil, func(c *Candidate) { c.Product.CommissionRate = 0.05 }, nil, 0, "", ""},
		// stock
		{"stock: covers expected", FactorStock, nil, nil, nil, 1, "库存5000件，可覆盖预计销量2000件", "5000 in stock covers the expected 2000 units"},
		{"stock: half of expected", FactorStock, nil, func(c *Candidate) { c.Product.Stock = 1000 }, nil, 0.5, "仅覆盖预计销量2000件的50%", "covers 50% of the expected 2000 units"},
		{"stock: no expected units", FactorStock, func(p *DemandProfile) { p.ExpectedUnits = 0 }, func(c *Candidate) { c.Product.Stock = 3 }, nil, 1, "库存3件", "3 in stock"},
		{"stock: none", FactorStock, func(p *DemandProfile) { p.ExpectedUnits = 0 }, func(c *Candidate) { c.Product.Stock = 0 }, nil, 0, "", ""},
		{"stock: reservations count against it", FactorStock, nil, func(c *Candidate) { c.Product.Stock, c.Product.Booked = 3000, 2000 }, nil, 0.5,
			"可订1000件（库存3000件，已预订2000件），仅覆盖预计销量2000件的50%", "1000 available (3000 in stock, 2000 reserved) covers 50% of the expected 2000 units"},
		{"stock: fully booked", FactorStock, func(p *DemandProfile) { p.ExpectedUnits = 0 }, func(c *Candidate) { c.Product.Stock, c.Product.Booked = 40, 40 }, nil, 0, "可订0件", "0 available"},
		// poverty relief
		{"poverty relief: relief county", FactorPovertyRelief, nil, nil, nil, 1, "来自国家级脱贫县兴国县", "From Xingguo County, a former national poverty county"},
		{"poverty relief: paired-assistance city", FactorPovertyRelief, nil, func(c *Candidate) { c.Supplier.RegionCode = "360700" }, nil, 1,
			"来自帮扶地区赣州市", "From Ganzhou, a poverty-relief region"},
		{"poverty relief: never from the product", FactorPovertyRelief, nil, func(c *Candidate) {
			c.Supplier.PovertyRelief, c.Supplier.RegionCode = false, "310101"
		}, nil, 0, "黄浦区不属于脱贫地区", "Huangpu District, is not a poverty-relief region"},
		{"poverty relief: no region book names the code", FactorPovertyRelief, nil, nil, func(m *MatchParams) { m.Regions = nil }, 1, "360732", "360732"},
		// certification
		{"certification: one of two preferred, two 三品一标", FactorCertification, nil, nil, nil, 0.65,
			"持有1/2项优选认证（绿色食品），三品一标2项", "Holds 1 of 2 preferred certificates (Green food); 2 三品一标"},
		{"certification: both preferred", FactorCertification, nil, func(c *Candidate) {
			c.Product.Certifications = append(c.Product.Certifications, Certification{Type: "organic"})
		}, nil, 1, "持有2/2项优选认证", ""},
		{"certification: expired counts for nothing", FactorCertification, nil, func(c *Candidate) {
			c.Product.Certifications = []Certification{{Type: "green_food"}, {Type: "organic", ExpiresAt: streamDate.Add(-time.Hour)}}
		}, nil, 0.35 + 0.15, "持有1/2项优选认证", ""},
		{"certification: valid today, expired on the stream date", FactorCertification, nil, func(c *Candidate) {
			c.Product.Certifications = []Certification{{Type: "organic", ExpiresAt: matchNow.AddDate(0, 0, 7)}}
		}, nil, 0, "持有0/2项优选认证，三品一标0项", "Holds 0 of 2 preferred certificates; 0 三品一标 farm-produce marks"},
		{"certification: a type counts once", FactorCertification, func(p *DemandProfile) { p.PreferredCerts = nil }, func(c *Candidate) {
			c.Product.Certifications = []Certification{{Type: "green_food"}, {Type: "green_food", Number: "2"}}
		}, nil, 0.7*0.5 + 0.3, "有效认证1项（绿色食品），其中三品一标1项", "1 valid certificate (Green food)"},
		{"certification: none preferred, two 三品一标", FactorCertification, func(p *DemandProfile) { p.PreferredCerts = nil }, nil, nil, 1, "", ""},
		{"certification: none preferred, only HACCP", FactorCertification, func(p *DemandProfile) { p.PreferredCerts = nil },
			func(c *Candidate) { c.Product.Certifications = []Certification{{Type: "haccp"}} }, nil, 0.3, "HACCP认证", "HACCP"},
		{"certification: none at all", FactorCertification, func(p *DemandProfile) { p.PreferredCerts = nil },
			func(c *Candidate) { c.Product.Certifications = nil }, nil, 0, "无有效认证", "No valid certificates"},
		// seasonality
		{"seasonality: all year", FactorSeasonality, nil, months(), nil, 0.8, "全年供应", "Available all year"},
		{"seasonality: twelve months is all year", FactorSeasonality, nil, months(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12), nil, 0.8, "全年供应", ""},
		{"seasonality: second month of four, wrapping", FactorSeasonality, nil, nil, nil, 1 - 0.4*0.5/1.5,
			"12月当季（上市期11月至次年2月），正值盛季", "December is in season (Nov–Feb), the height of the season"},
		{"seasonality: second month of five", FactorSeasonality, nil, months(11, 12, 1, 2, 3), nil, 0.8, "季节前段", "early in the season"},
		{"seasonality: first month", FactorSeasonality, streamOn(time.Date(2026, 11, 20, 12, 0, 0, 0, cst)), nil, nil, 0.6, "", ""},
		{"seasonality: last month", FactorSeasonality, streamOn(time.Date(2027, 2, 20, 12, 0, 0, 0, cst)), nil, nil, 0.6, "", "late in the season"},
		{"seasonality: centre of three", FactorSeasonality, nil, months(11, 12, 1), nil, 1, "正值盛季", "the height of the season"},
		{"seasonality: centre of three across new year", FactorSeasonality, streamOn(time.Date(2027, 1, 10, 12, 0, 0, 0, cst)), months(12, 1, 2), nil, 1, "", ""},
		{"seasonality: edge of three", FactorSeasonality, nil, months(10, 11, 12), nil, 0.6, "10月至12月", "Oct–Dec"},
		{"seasonality: one month", FactorSeasonality, nil, months(12), nil, 0.8, "短季供应", "a short season"},
		{"seasonality: two months", FactorSeasonality, nil, months(12, 1), nil, 0.8, "", ""},
		{"seasonality: the run holding the month", FactorSeasonality, nil, months(3, 4, 5, 6, 7, 11, 12, 1), nil, 1, "", ""},
		{"seasonality: out of season", FactorSeasonality, nil, months(6, 7), nil, 0, "12月不在上市期", "December is out of season"},
		// logistics
		{"logistics: one audience region", FactorLogistics, nil, nil, nil, 1 - 1100/3000.0, "从江西省发往上海市约1100公里", "About 1100 km from Jiangxi to Shanghai"},
		{"logistics: same province", FactorLogistics, func(p *DemandProfile) { p.AudienceRegions = []string{"360700"} }, nil, nil, 1, "约0公里", ""},
		{"logistics: mean over regions", FactorLogistics, func(p *DemandProfile) { p.AudienceRegions = []string{"310000", "440000"} }, nil, nil,
			((1 - 1100/3000.0) + (1 - 600/3000.0)) / 2, "发往2个受众地区，平均约850公里", "About 850 km on average from Jiangxi to 2 audience regions"},
		{"logistics: unknown distances are left out", FactorLogistics, func(p *DemandProfile) { p.AudienceRegions = []string{"310000", "650000"} }, nil, nil,
			1 - 1100/3000.0, "", ""},
		{"logistics: beyond 3000 km", FactorLogistics, nil, func(c *Candidate) { c.Product.ShipFrom = "650000"; c.Product.ProvinceCode = "650000" }, nil, 0, "", "3300 km"},
		{"logistics: no audience regions", FactorLogistics, func(p *DemandProfile) { p.AudienceRegions = nil }, nil, nil, 0.7,
			"未指定受众地区", "No audience regions: logistics scored neutral"},
		{"logistics: no Geo", FactorLogistics, nil, nil, func(m *MatchParams) { m.Geo = nil }, 0.7, "物流按中性计", "neutral"},
		{"logistics: no known distance", FactorLogistics, func(p *DemandProfile) { p.AudienceRegions = []string{"650000"} }, nil, nil, 0.7, "距离未知", "Distance unknown"},
		{"logistics: perishable without cold chain", FactorLogistics, nil, func(c *Candidate) { c.Product.ShelfLifeDays = 7 }, nil, (1 - 1100/3000.0) / 2,
			"保质期7天且无冷链，得分减半", "a 7-day shelf life without cold chain halves the score"},
		{"logistics: perishable, neutral", FactorLogistics, func(p *DemandProfile) { p.AudienceRegions = nil }, func(c *Candidate) { c.Product.ShelfLifeDays = 15 }, nil, 0.35, "", ""},
		{"logistics: 16 days is not perishable", FactorLogistics, nil, func(c *Candidate) { c.Product.ShelfLifeDays = 16 }, nil, 1 - 1100/3000.0, "", ""},
		{"logistics: cold chain", FactorLogistics, nil, func(c *Candidate) { c.Product.ShelfLifeDays, c.Product.ColdChain = 7, true }, nil, 1 - 1100/3000.0,
			"冷链配送", "ships by cold chain"},
		// grade
		{"grade A", FactorGrade, nil, nil, nil, 1, "A级供应商", "Grade A supplier"},
		{"grade B", FactorGrade, nil, func(c *Candidate) { c.Supplier.Grade = GradeB }, nil, 0.6, "B级供应商", "Grade B supplier"},
		{"grade C", FactorGrade, nil, func(c *Candidate) { c.Supplier.Grade = GradeC }, nil, 0.3, "C级供应商", "Grade C supplier"},
		{"ungraded counts as B", FactorGrade, nil, func(c *Candidate) { c.Supplier.Grade = "" }, nil, 0.6, "按B级计", "counted as grade B"},
		// lead time
		{"lead time: two weeks of slack", FactorLeadTime, nil, nil, nil, 1, "备货期3天，距直播17天，余量14天", "Ships in 3 days; 17 days to the stream leave 14 days' slack"},
		{"lead time: one week of slack", FactorLeadTime, nil, func(c *Candidate) { c.Product.LeadTimeDays = 10 }, nil, 0.5, "余量7天", ""},
		{"lead time: no slack earns 0.1", FactorLeadTime, nil, func(c *Candidate) { c.Product.LeadTimeDays = 17 }, nil, 0.1, "余量0天", ""},
		{"lead time: late", FactorLeadTime, nil, func(c *Candidate) { c.Product.LeadTimeDays = 20 }, nil, 0, "来不及", "only 17 days away"},
		{"lead time: no stream date", FactorLeadTime, streamOn(time.Time{}), func(c *Candidate) { c.Product.LeadTimeDays = 15 }, nil, 0.5,
			"备货期15天（未设直播日期）", "Ships in 15 days (no stream date)"},
		{"lead time: no stream date, immediate", FactorLeadTime, streamOn(time.Time{}), func(c *Candidate) { c.Product.LeadTimeDays = 0 }, nil, 1, "", ""},
		{"lead time: no stream date, a month", FactorLeadTime, streamOn(time.Time{}), func(c *Candidate) { c.Product.LeadTimeDays = 45 }, nil, 0, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := factorProfile(t)
			c := gnOrange()
			params := testParams()
			if tc.mutP != nil {
				tc.mutP(&p)
			}
			if tc.mutC != nil {
				tc.mutC(&c)
			}
			if tc.mutM != nil {
				tc.mutM(&params)
			}
			m := Score(&p, c, params)
			fs := factorOf(t, m, tc.factor)
			if math.Abs(fs.Value-tc.want) > 0.00006 {
				t.Errorf("value %v, want %.4f", fs.Value, tc.want)
			}
			if !strings.Contains(fs.ReasonZh, tc.zh) || !strings.Contains(fs.ReasonEn, tc.en) {
				t.Errorf("reasons %q / %q, want %q / %q", fs.ReasonZh, fs.ReasonEn, tc.zh, tc.en)
			}
			if fs.ReasonZh == "" || fs.ReasonEn == "" {
				t.Errorf("empty reason")
			}
			checkMatch(t, m)
		})
	}
}

// checkMatch checks the invariants of a scored match.
func checkMatch(tb testing.TB, m ProductMatch) {
	tb.Helper()
	if len(m.Factors) != numFactors {
		tb.Fatalf("%d factors", len(m.Factors))
	}
	if !(m.Score >= 0 && m.Score <= 1) {
		tb.Fatalf("score %v outside [0,1]", m.Score)
	}
	sum := 0.0
	for i, f := range m.Factors {
		if f.Name != factorList[i] {
			tb.Fatalf("factor %d is %s", i, f.Name)
		}
		if !(f.Value >= 0 && f.Value <= 1) || !(f.Contribution >= 0 && f.Contribution <= 1) {
			tb.Fatalf("factor %s: value %v contribution %v", f.Name, f.Value, f.Contribution)
		}
		if f.Weight == 0 && f.Contribution != 0 {
			tb.Fatalf("factor %s is off but contributes %v", f.Name, f.Contribution)
		}
		sum += f.Contribution
	}
	if math.Abs(sum-m.Score) > 0.001 {
		tb.Fatalf("contributions sum to %v, score %v", sum, m.Score)
	}
}

func TestScore(t *testing.T) {
	p := factorProfile(t)
	m := Score(&p, gnOrange(), testParams())
	checkMatch(t, m)
	// The values of TestFactors, equally weighted.
	want := (2.0/3 + 0.874 + 0.5 + 1 + 1 + 0.65 + (1 - 0.4*0.5/1.5) + (1 - 1100/3000.0) + 1 + 1) / 10
	if math.Abs(m.Score-want) > 0.00005 {
		t.Fatalf("score %v, want %.5f", m.Score, want)
	}
	for _, f := range m.Factors {
		if f.Weight != 1 || math.Abs(f.Contribution-f.Value/10) > 0.0001 {
			t.Errorf("%s: weight %v contribution %v value %v", f.Name, f.Weight, f.Contribution, f.Value)
		}
	}
	if m.Product == nil || m.Supplier == nil || m.Product.ID != "p_gn" {
		t.Fatalf("match does not carry its product and supplier")
	}
}

func TestWeights(t *testing.T) {
	base := factorProfile(t)
	params := testParams()
	c := gnOrange()
	full := Score(&base, c, params)

	t.Run("zero switches a factor off", func(t *testing.T) {
		p := base
		p.Weights = Weights{"text": 0}
		m := Score(&p, c, params)
		checkMatch(t, m)
		text := factorOf(t, m, FactorText)
		if text.Weight != 0 || text.Contribution != 0 || text.Value != factorOf(t, full, FactorText).Value {
			t.Fatalf("text factor %+v", text)
		}
		want := 0.0
		for _, f := range full.Factors[1:] {
			want += f.Value
		}
		if want /= 9; math.Abs(m.Score-want) > 0.0001 {
			t.Fatalf("score %v, want %v", m.Score, want)
		}
	})
	t.Run("only one factor on", func(t *testing.T) {
		p := base
		p.Weights = Weights{}
		for _, f := range Factors() {
			p.Weights[string(f)] = 0
		}
		p.Weights["grade"] = 3
		c := gnOrange()
		c.Supplier.Grade = GradeC
		m := Score(&p, c, params)
		checkMatch(t, m)
		if m.Score != 0.3 || factorOf(t, m, FactorGrade).Contribution != 0.3 {
			t.Fatalf("score %v", m.Score)
		}
	})
	t.Run("double weight", func(t *testing.T) {
		p := base
		p.Weights = Weights{"poverty_relief": 2}
		m := Score(&p, c, params)
		checkMatch(t, m)
		pr := factorOf(t, m, FactorPovertyRelief)
		if pr.Weight != 2 || math.Abs(pr.Contribution-2.0/11) > 0.0001 {
			t.Fatalf("poverty relief %+v", pr)
		}
	})
	t.Run("all off scores 0", func(t *testing.T) {
		p := base
		p.Weights = Weights{}
		for _, f := range Factors() {
			p.Weights[string(f)] = 0
		}
		m := Score(&p, c, params)
		checkMatch(t, m)
		if m.Score != 0 {
			t.Fatalf("score %v", m.Score)
		}
	})
	t.Run("huge and invalid weights", func(t *testing.T) {
		p := base
		p.Weights = Weights{"text": math.MaxFloat64, "price": math.MaxFloat64, "grade": math.NaN(), "stock": -4, "lead_time": math.Inf(1)}
		m := Score(&p, c, params)
		checkMatch(t, m)
		want := (factorOf(t, full, FactorText).Value + factorOf(t, full, FactorPrice).Value) / 2
		if math.Abs(m.Score-want) > 0.0001 {
			t.Fatalf("score %v, want %v", m.Score, want)
		}
	})
}

// synthCandidates builds n deterministic, varied candidates without
// fixtures: 500 suppliers (a quarter of them poverty-relief), products over a
// few categories, regions, prices, seasons and certificates.
func synthCandidates(n int, seed uint64) []Candidate {
	rng := rand.New(rand.NewPCG(seed, 42))
	regions := []string{"360732", "360700", "310101", "440000", "650000", "532601"}
	cats := []string{"fresh_fruit", "tea", "snacks", "grain_oil"}
	certs := []string{"green_food", "organic", "geo_indication", "pollution_free", "haccp", "sc_license"}
	grades := []Grade{GradeA, GradeB, GradeB, GradeC}
	orgs := make([]Org, 500)
	for i := range orgs {
		o := &orgs[i]
		o.ID = fmt.Sprintf("org_%03d", i)
		o.RegionCode = regions[rng.IntN(len(regions))]
		o.PovertyRelief = i%4 == 0
		o.Grade = grades[rng.IntN(len(grades))]
		o.Status = OrgApproved
		if i%50 == 7 {
			o.Status = OrgSuspended
		}
	}
	products := make([]Product, n)
	cands := make([]Candidate, n)
	for i := range products {
		o := &orgs[rng.IntN(len(orgs))]
		pr := &products[i]
		pr.ID = fmt.Sprintf("p_%07d", (i*7919)%n) // ids unrelated to input order
		pr.OrgID = o.ID
		pr.Category = cats[rng.IntN(len(cats))]
		pr.PriceCNY = float64(5+rng.IntN(100)) + 0.9
		if rng.IntN(2) == 0 {
			pr.LivePriceCNY = math.Round(pr.PriceCNY*(0.6+0.4*rng.Float64())*10) / 10
		}
		pr.CommissionRate = float64(rng.IntN(9)) * 0.05
		pr.Stock = int64(rng.IntN(6000))
		pr.LeadTimeDays = rng.IntN(20)
		pr.ShipFrom = o.RegionCode
		pr.ShelfLifeDays = []int{0, 7, 30, 365}[rng.IntN(4)]
		pr.ColdChain = rng.IntN(3) == 0
		if rng.IntN(2) == 0 {
			start := 1 + rng.IntN(12)
			for m := range 2 + rng.IntN(6) {
				pr.AvailableMonths = append(pr.AvailableMonths, wrapMonth(start+m))
			}
		}
		for _, c := range certs {
			if rng.IntN(3) == 0 {
				cert := Certification{Type: c}
				if rng.IntN(5) == 0 {
					cert.ExpiresAt = matchNow.AddDate(0, 0, rng.IntN(40)-10)
				}
				pr.Certifications = append(pr.Certifications, cert)
			}
		}
		pr.ReviewStatus = ReviewApproved
		if rng.IntN(30) == 0 {
			pr.ReviewStatus = ReviewPending
		}
		pr.PovertyRelief = o.PovertyRelief
		cands[i] = Candidate{Product: pr, Supplier: o, Text: math.Round(rng.Float64()*80) / 10}
	}
	return cands
}

// naiveMatch is Match done the slow, obvious way: explain every candidate
// that passes, sort them all, re-rank with FairTopK.
func naiveMatch(p *DemandProfile, cands []Candidate, params MatchParams) MatchResult {
	res := MatchResult{Excluded: map[string]int{}, Candidates: len(cands)}
	var all []ProductMatch
	for _, c := range cands {
		if g := Gate(p, c, params.Now); g != "" {
			res.Excluded[g]++
			continue
		}
		all = append(all, Score(p, c, params))
	}
	slices.SortStableFunc(all, func(a, b ProductMatch) int {
		switch {
		case a.Score != b.Score:
			if a.Score > b.Score {
				return -1
			}
			return 1
		default:
			return strings.Compare(a.Product.ID, b.Product.ID)
		}
	})
	k := params.Limit
	if k <= 0 {
		k = 20
	}
	k = min(k, 100)
	for _, i := range FairTopK(all, k, p.PovertyReliefMinShare) {
		res.Items = append(res.Items, all[i])
	}
	return res
}

func matchProfile(tb testing.TB, share float64) DemandProfile {
	tb.Helper()
	p := DemandProfile{Name: "bench", Keywords: "橙", Categories: []string{"fresh_fruit", "tea", "snacks"},
		PriceMin: ptr(8.0), PriceMax: ptr(90.0), MinCommissionRate: 0.05, ExpectedUnits: 2000, MinStock: 100,
		PreferredCerts: []string{"green_food", "organic"}, AudienceRegions: []string{"310000", "440000"},
		StreamDate: streamDate, PovertyReliefMinShare: share, Weights: Weights{"poverty_relief": 2}}
	if err := PrepareProfile(&p, matchRegions, matchNow); err != nil {
		tb.Fatal(err)
	}
	return p
}

func TestMatchAgreesWithNaive(t *testing.T) {
	for _, tc := range []struct {
		n, limit int
		share    float64
		geo      Geo
	}{
		{0, 20, 0.3, geo}, {1, 20, 0.3, geo}, {50, 5, 0, geo}, {500, 20, 0.3, geo}, {2000, 100, 0.5, geo},
		{2000, 200, 1, nil}, {3000, 0, 0.3, geo}, {3000, 10, 0.9, geo},
	} {
		t.Run(fmt.Sprintf("n=%d limit=%d share=%v", tc.n, tc.limit, tc.share), func(t *testing.T) {
			p := matchProfile(t, tc.share)
			cands := synthCandidates(tc.n, uint64(tc.n))
			params := MatchParams{Now: matchNow, Regions: matchRegions, Geo: tc.geo, Limit: tc.limit}
			got := Match(&p, cands, params)
			want := naiveMatch(&p, cands, params)
			if len(got.Items) != len(want.Items) {
				t.Fatalf("%d items, want %d", len(got.Items), len(want.Items))
			}
			for i := range want.Items {
				if !reflect.DeepEqual(got.Items[i], want.Items[i]) {
					t.Fatalf("item %d:\n got %s %v\nwant %s %v", i, got.Items[i].Product.ID, got.Items[i].Score,
						want.Items[i].Product.ID, want.Items[i].Score)
				}
				checkMatch(t, got.Items[i])
			}
			if !reflect.DeepEqual(got.Excluded, want.Excluded) || got.Candidates != tc.n {
				t.Fatalf("excluded %v candidates %d, want %v", got.Excluded, got.Candidates, want.Excluded)
			}
			if tc.n >= 500 && len(got.Items) == 0 {
				t.Fatal("no items")
			}

			// Streamed through a Matcher with one scratch product that is
			// scribbled over after every Add: the same result.
			m := NewMatcher(&p, params)
			var scratch Product
			var certs []Certification
			var months []int
			for _, c := range cands {
				scratch = *c.Product
				certs = append(certs[:0], c.Product.Certifications...)
				months = append(months[:0], c.Product.AvailableMonths...)
				scratch.Certifications, scratch.AvailableMonths = certs, months
				if c.Product.Certifications == nil { // keep nil and empty apart for DeepEqual
					scratch.Certifications = nil
				}
				if c.Product.AvailableMonths == nil {
					scratch.AvailableMonths = nil
				}
				c.Product = &scratch
				m.Add(c)
				scratch.ID, scratch.PriceCNY = "scribbled", -1
				for i := range certs {
					certs[i].Type = "scribbled"
				}
				for i := range months {
					months[i] = 13
				}
			}
			streamed := m.Result()
			if !reflect.DeepEqual(streamed, got) {
				t.Fatalf("streamed result differs:\n got %+v\nwant %+v", streamed.Items, got.Items)
			}

			// Offered to Skip first (as a streaming caller does, with a
			// product lacking what Skip may go without) wherever the
			// product passes its gates: the same result, with skipped
			// candidates.
			sm := NewMatcher(&p, params)
			skipped := 0
			for _, c := range cands {
				if g := Gate(&p, c, params.Now); g == "" || g == ExcludedSupplier {
					slim := *c.Product
					slim.ID, slim.Category, slim.ProvinceCode, slim.ReviewStatus, slim.Certifications = "", "", "", "", nil
					if sm.Skip(Candidate{Product: &slim, Supplier: c.Supplier, Text: c.Text}) {
						if g != "" {
							t.Fatalf("%s skipped, though its supplier fails the gate", c.Product.ID)
						}
						skipped++
						continue
					}
				}
				sm.Add(c)
			}
			if res := sm.Result(); !reflect.DeepEqual(res, got) {
				t.Fatalf("result with Skip differs:\n got %+v\nwant %+v", res.Items, got.Items)
			}
			t.Logf("%d of %d candidates skipped", skipped, tc.n)
			if tc.n >= 3000 && skipped < tc.n/10 {
				t.Errorf("only %d of %d candidates skipped", skipped, tc.n)
			}

			// Split over three Matchers and merged: the same result.
			parts := []*Matcher{NewMatcher(&p, params), NewMatcher(&p, params), NewMatcher(&p, params)}
			for i, c := range cands {
				parts[(i*7)%3].Add(c)
			}
			parts[0].Merge(parts[1])
			parts[0].Merge(parts[2])
			if merged := parts[0].Result(); !reflect.DeepEqual(merged, got) {
				t.Fatalf("merged result differs:\n got %+v\nwant %+v", merged.Items, got.Items)
			}
		})
	}
}

func TestMatch(t *testing.T) {
	p := factorProfile(t)
	params := testParams()
	good := gnOrange()
	mk := func(id string, mut func(*Product)) Candidate {
		c := gnOrange()
		c.Product.ID = id
		if mut != nil {
			mut(c.Product)
		}
		return c
	}
	cands := []Candidate{
		mk("p3", nil), mk("p1", nil), mk("p2", nil), // identical but for the id: ties
		mk("p_low", func(pr *Product) { pr.Stock = 1000 }),
		mk("x_pending", func(pr *Product) { pr.ReviewStatus = ReviewPending }),
		mk("x_stock", func(pr *Product) { pr.Stock = 10 }),
		mk("x_stock2", func(pr *Product) { pr.Stock = 0 }),
		mk("x_season", func(pr *Product) { pr.AvailableMonths = []int{7} }),
		{Product: good.Product, Supplier: nil},
	}
	res := Match(&p, cands, params)
	var ids []string
	for _, it := range res.Items {
		ids = append(ids, it.Product.ID)
	}
	if !slices.Equal(ids, []string{"p1", "p2", "p3", "p_low"}) {
		t.Fatalf("order %v", ids)
	}
	wantEx := map[string]int{ExcludedNotApproved: 1, ExcludedStock: 2, ExcludedSeason: 1, ExcludedSupplier: 1}
	if !reflect.DeepEqual(res.Excluded, wantEx) || res.Candidates != len(cands) {
		t.Fatalf("excluded %v candidates %d", res.Excluded, res.Candidates)
	}
	for _, it := range res.Items {
		if !reflect.DeepEqual(it, Score(&p, Candidate{Product: it.Product, Supplier: it.Supplier, Text: 4}, params)) {
			t.Fatalf("Match and Score disagree on %s", it.Product.ID)
		}
	}

	t.Run("deterministic and independent of input order", func(t *testing.T) {
		mp := matchProfile(t, 0.3)
		cs := synthCandidates(3000, 7)
		a := Match(&mp, cs, params)
		b := Match(&mp, cs, params)
		rev := slices.Clone(cs)
		slices.Reverse(rev)
		c := Match(&mp, rev, params)
		if !reflect.DeepEqual(a, b) || !reflect.DeepEqual(a, c) {
			t.Fatal("Match is not deterministic")
		}
	})
	t.Run("limit", func(t *testing.T) {
		mp := matchProfile(t, 0)
		cs := synthCandidates(5000, 3)
		for _, tc := range []struct{ limit, want int }{{0, 20}, {-1, 20}, {7, 7}, {100, 100}, {1000, 100}} {
			pm := params
			pm.Limit = tc.limit
			if got := len(Match(&mp, cs, pm).Items); got != tc.want {
				t.Errorf("limit %d: %d items, want %d", tc.limit, got, tc.want)
			}
		}
	})
	t.Run("empty", func(t *testing.T) {
		res := Match(&p, nil, params)
		if len(res.Items) != 0 || res.Excluded == nil || len(res.Excluded) != 0 || res.Candidates != 0 {
			t.Fatalf("%+v", res)
		}
	})
	t.Run("fair share lifts relief suppliers", func(t *testing.T) {
		fp := factorProfile(t)
		fp.PovertyReliefMinShare = 0.3
		var cs []Candidate
		for i := range 30 {
			c := mk(fmt.Sprintf("p%02d", i), nil)
			if i >= 25 { // the relief suppliers score lowest: grade C
				c.Supplier.PovertyRelief, c.Supplier.Grade = true, GradeC
			} else {
				c.Supplier.PovertyRelief = false
			}
			cs = append(cs, c)
		}
		pm := params
		pm.Limit = 10
		res := Match(&fp, cs, pm)
		relief := 0
		for _, it := range res.Items {
			if it.Supplier.PovertyRelief {
				relief++
			}
		}
		if len(res.Items) != 10 || relief < 3 {
			t.Fatalf("%d items, %d relief", len(res.Items), relief)
		}
	})
}

// FuzzScore scores a product and profile built from the fuzz arguments: no
// panic, the score in [0,1] and equal to the sum of contributions, every
// value in [0,1].
func FuzzScore(f *testing.F) {
	f.Add(39.9, 29.9, 0.2, 0.1, int64(5000), int64(2000), 3, 30, 4.0, 10.0, 60.0, uint16(0b1100000000011), 1.0, 2.0, 0.0, uint8(3), int64(17*24), false)
	f.Add(0.0, -1.0, 2.0, -0.5, int64(-5), int64(0), -3, 7, math.NaN(), math.Inf(1), -1.0, uint16(0xffff), math.NaN(), -1.0, math.MaxFloat64, uint8(255), int64(-100), true)
	f.Add(1e7, 1e7, 1.0, 1.0, int64(math.MaxInt64), int64(1), 365, 0, 1e300, 0.0, 0.0, uint16(1), 0.0, 0.0, 0.0, uint8(0), int64(0), false)
	f.Fuzz(func(t *testing.T, price, live, rate, floor float64, stock, expected int64, lead, shelf int, text, lo, hi float64,
		months uint16, w1, w2, w3 float64, certs uint8, streamHours int64, coldChain bool) {
		pr := &Product{ID: "p", OrgID: "o", Category: "fresh_fruit", PriceCNY: price, LivePriceCNY: live, CommissionRate: rate,
			Stock: stock, LeadTimeDays: lead, ShelfLifeDays: shelf, ShipFrom: "360732", ColdChain: coldChain, ReviewStatus: ReviewApproved}
		for m := 1; m <= 12; m++ {
			if months&(1<<m) != 0 {
				pr.AvailableMonths = append(pr.AvailableMonths, m)
			}
		}
		types := CertTypes()
		for i := range 8 {
			if certs&(1<<i) != 0 {
				c := Certification{Type: types[i%len(types)].Code}
				if i%3 == 2 {
					c.ExpiresAt = matchNow.Add(time.Duration(streamHours) * time.Hour / 2)
				}
				pr.Certifications = append(pr.Certifications, c)
			}
		}
		grades := []Grade{GradeA, GradeB, GradeC, "", "Z"}
		sup := &Org{ID: "o", Status: OrgApproved, RegionCode: "360732", PovertyRelief: months&1 != 0, Grade: grades[int(certs)%len(grades)]}
		p := &DemandProfile{Name: "f", MinCommissionRate: floor, ExpectedUnits: expected, MinStock: expected / 2,
			PreferredCerts: []string{"organic", "green_food"}[:int(certs)%3], AudienceRegions: []string{"310000", "650000"}[:int(certs)%3%2+1],
			Weights: Weights{"text": w1, "price": w2, "logistics": w3}, PovertyReliefMinShare: floor}
		if certs&1 == 0 {
			p.Keywords = "橙"
		}
		if lo >= 0 {
			p.PriceMin = &lo
		}
		if hi >= 0 {
			p.PriceMax = &hi
		}
		if streamHours != 0 {
			p.StreamDate = matchNow.Add(time.Duration(streamHours%(24*3650)) * time.Hour)
		}
		c := Candidate{Product: pr, Supplier: sup, Text: text}
		params := MatchParams{Now: matchNow, Regions: matchRegions, Geo: geo, TextHalf: w2}
		m := Score(p, c, params)
		checkMatch(t, m)
		_ = Gate(p, c, matchNow)
		res := Match(p, []Candidate{c, c}, params)
		for _, it := range res.Items {
			checkMatch(t, it)
		}
	})
}

func TestCertIndex(t *testing.T) {
	if factorList[certIndex] != FactorCertification {
		t.Fatalf("certIndex %d is %s", certIndex, factorList[certIndex])
	}
	for _, ct := range CertTypes() {
		if isSanPinYiBiao(ct.Code) != ct.SanPinYiBiao {
			t.Errorf("isSanPinYiBiao(%s)", ct.Code)
		}
	}
}
