package engine

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

// testZones stands in for the time-zone database (standard time).
var testZones = map[string]float64{
	"Asia/Shanghai": 8, "Asia/Kuala_Lumpur": 8, "Asia/Bangkok": 7, "Asia/Tokyo": 9, "Asia/Kolkata": 5.5,
	"America/New_York": -5, "America/Los_Angeles": -8, "Europe/London": 0, "Europe/Berlin": 1,
	"Pacific/Auckland": 13, "Bad/NaN": math.NaN(),
}

func testOffset(tz string, _ time.Time) (float64, bool) {
	h, ok := testZones[tz]
	return h, ok
}

func hostParams() HostMatchParams {
	return HostMatchParams{Now: hostNow, BioMax: 4, UTCOffset: testOffset}
}

// teaHost speaks Chinese natively, Malay conversationally and English
// fluently, sells tea in Malaysia and is certified: it passes validRequest.
func teaHost() *Host {
	return &Host{
		ID: "h_tea_my", Name: "阿明",
		Languages:      []HostLanguage{{"zh", LevelNative}, {"ms", LevelConversational}, {"en", LevelFluent}},
		Markets:        []string{"MY", "SG"},
		Categories:     []string{"tea", "dried_goods"},
		Certification:  &HostCertification{Level: "senior", ExpiresAt: time.Date(2027, 6, 30, 0, 0, 0, 0, time.UTC)},
		Followers:      120000,
		AvgViewers:     3000,
		ConversionRate: 0.035,
		Rating:         4.7,
		HourlyRateCNY:  800,
		Timezone:       "Asia/Kuala_Lumpur",
		AvailableDates: []string{"2026-12-10", "2026-12-12"},
	}
}

func hostFactorOf(tb testing.TB, m HostMatch, f Factor) FactorScore {
	tb.Helper()
	for _, fs := range m.Factors {
		if fs.Name == f {
			return fs
		}
	}
	tb.Fatalf("no factor %s", f)
	return FactorScore{}
}

// checkHostMatch checks the invariants of a scored host match.
func checkHostMatch(tb testing.TB, m HostMatch) {
	tb.Helper()
	if len(m.Factors) != numHostFactors {
		tb.Fatalf("%d factors", len(m.Factors))
	}
	if !(m.Score >= 0 && m.Score <= 1) {
		tb.Fatalf("score %v outside [0,1]", m.Score)
	}
	sum := 0.0
	for i, f := range m.Factors {
		if f.Name != hostFactorList[i] {
			tb.Fatalf("factor %d is %s", i, f.Name)
		}
		if !(f.Value >= 0 && f.Value <= 1) || !(f.Contribution >= 0 && f.Contribution <= 1) {
			tb.Fatalf("factor %s: value %v contribution %v", f.Name, f.Value, f.Contribution)
		}
		if f.Weight == 0 && f.Contribution != 0 {
			tb.Fatalf("factor %s is off but contributes %v", f.Name, f.Contribution)
		}
		if f.ReasonZh == "" || f.ReasonEn == "" {
			tb.Fatalf("factor %s has no reason", f.Name)
		}
		sum += f.Contribution
	}
	if math.Abs(sum-m.Score) > 0.001 {
		tb.Fatalf("contributions sum to %v, score %v", sum, m.Score)
	}
}

func TestHostFactorsAndGateOrder(t *testing.T) {
	want := []Factor{"language", "market", "category", "audience", "conversion", "rating", "bio", "timezone"}
	if got := HostFactors(); !slices.Equal(got, want) {
		t.Fatalf("HostFactors() = %v", got)
	}
	for i, f := range want {
		if hostFactorIndex(string(f)) != i || factorIndex(string(f)) >= 0 {
			t.Errorf("factor %s: host index %d, product index %d", f, hostFactorIndex(string(f)), factorIndex(string(f)))
		}
	}
	if got := HostGateOrder(); !slices.Equal(got, []string{"language_below_level", "not_certified", "unavailable", "over_budget"}) {
		t.Fatalf("HostGateOrder() = %v", got)
	}
	HostFactors()[0] = "x" // fresh copies
	HostGateOrder()[0] = "x"
	if hostFactorList[0] != HostFactorLanguage || hostGateOrder[0] != ExcludedLanguage {
		t.Fatal("the lists were changed through their copies")
	}
}

func TestHostGates(t *testing.T) {
	day := func(d int, h int) time.Time { return time.Date(2026, 12, d, h, 0, 0, 0, cst) }
	cases := []struct {
		name string
		req  func(*HostRequest)
		host func(*Host)
		want string
	}{
		{"passes", nil, nil, ""},
		{"lacks a language", nil, func(h *Host) { h.Languages = h.Languages[:1] }, ExcludedLanguage},
		{"lacks every language", nil, func(h *Host) { h.Languages = nil }, ExcludedLanguage},
		{"exact minimum passes", nil, func(h *Host) { h.Languages[0].Level = LevelFluent }, ""},
		{"one below fails", nil, func(h *Host) { h.Languages[0].Level = LevelBusiness }, ExcludedLanguage},
		{"native required, native passes", func(r *HostRequest) { r.Languages[0].MinLevel = LevelNative }, nil, ""},
		{"native required, fluent fails", func(r *HostRequest) { r.Languages[0].MinLevel = LevelNative }, func(h *Host) { h.Languages[0].Level = LevelFluent }, ExcludedLanguage},
		{"business required, conversational fails", func(r *HostRequest) { r.Languages[1].MinLevel = LevelBusiness }, nil, ExcludedLanguage},
		{"unknown host level fails", nil, func(h *Host) { h.Languages[1].Level = "" }, ExcludedLanguage},
		{"no languages required", func(r *HostRequest) { r.Languages = nil }, func(h *Host) { h.Languages = nil }, ""},
		{"not certified", nil, func(h *Host) { h.Certification = nil }, ExcludedNotCertified},
		{"certification not required", func(r *HostRequest) { r.RequireCertified = false }, func(h *Host) { h.Certification = nil }, ""},
		{"expired before the date", nil, func(h *Host) { h.Certification.ExpiresAt = day(5, 0) }, ExcludedNotCertified},
		{"expires during the date", nil, func(h *Host) { h.Certification.ExpiresAt = day(12, 23) }, ExcludedNotCertified},
		{"expires at the end of the date", nil, func(h *Host) { h.Certification.ExpiresAt = day(13, 0) }, ""},
		{"never expires", nil, func(h *Host) { h.Certification.ExpiresAt = time.Time{} }, ""},
		{"expired already, not required", func(r *HostRequest) { r.RequireCertified = false }, func(h *Host) { h.Certification.ExpiresAt = day(1, 0) }, ""},
		{"no date: in force now", func(r *HostRequest) { r.Date = "" }, func(h *Host) { h.Certification.ExpiresAt = day(1, 11) }, ""},
		{"no date: expired now", func(r *HostRequest) { r.Date = "" }, func(h *Host) { h.Certification.ExpiresAt = day(1, 9) }, ExcludedNotCertified},
		{"unavailable", func(r *HostRequest) { r.Date = "2026-12-11" }, nil, ExcludedUnavailable},
		{"no dates at all", nil, func(h *Host) { h.AvailableDates = nil }, ExcludedUnavailable},
		{"any date", func(r *HostRequest) { r.Date = "" }, func(h *Host) { h.AvailableDates = nil }, ""},
		{"over budget", nil, func(h *Host) { h.HourlyRateCNY = 1000.01 }, ExcludedOverBudget},
		{"at budget", nil, func(h *Host) { h.HourlyRateCNY = 1000 }, ""},
		{"NaN rate", nil, func(h *Host) { h.HourlyRateCNY = math.NaN() }, ExcludedOverBudget},
		{"no budget", func(r *HostRequest) { r.BudgetCNYPerHour = 0 }, func(h *Host) { h.HourlyRateCNY = 1e6 }, ""},
		{"order: language first", nil, func(h *Host) {
			h.Languages, h.Certification, h.AvailableDates, h.HourlyRateCNY = nil, nil, nil, 5000
		}, ExcludedLanguage},
		{"order: certification before date", nil, func(h *Host) { h.Certification, h.AvailableDates, h.HourlyRateCNY = nil, nil, 5000 }, ExcludedNotCertified},
		{"order: date before budget", nil, func(h *Host) { h.AvailableDates, h.HourlyRateCNY = nil, 5000 }, ExcludedUnavailable},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := validRequest()
			if c.req != nil {
				c.req(&r)
			}
			if err := PrepareHostRequest(&r, hostNow); err != nil {
				t.Fatal(err)
			}
			h := teaHost()
			if c.host != nil {
				c.host(h)
			}
			if got := HostGate(&r, h, hostNow); got != c.want {
				t.Fatalf("HostGate = %q, want %q", got, c.want)
			}
			res := MatchHosts(&r, []HostCandidate{{Host: h}}, hostParams())
			if c.want == "" && (len(res.Items) != 1 || len(res.Excluded) != 0) ||
				c.want != "" && (len(res.Items) != 0 || res.Excluded[c.want] != 1 || len(res.Excluded) != 1) {
				t.Fatalf("MatchHosts: %d items, excluded %v", len(res.Items), res.Excluded)
			}
		})
	}
	if got := HostGate(&HostRequest{}, nil, hostNow); got != "" {
		t.Fatalf("nil host with no requirements: %q", got)
	}
	if got := HostGate(&HostRequest{RequireCertified: true}, nil, hostNow); got != ExcludedNotCertified {
		t.Fatalf("nil host with certification required: %q", got)
	}
}

func TestHostFactors(t *testing.T) {
	type tc struct {
		name   string
		req    func(*HostRequest)
		host   func(*Host)
		params func(*HostMatchParams)
		bio    float64
		factor Factor
		want   float64
		zh, en string // substrings of the reasons
	}
	audience := func(f, a float64) float64 {
		return 0.7*min(1, math.Log10(1+f)/7) + 0.3*min(1, math.Log10(1+a)/5)
	}
	cases := []tc{
		// language
		{name: "language: depth and an extra", factor: HostFactorLanguage,
			// zh native for fluent: 0.6+0.4·1/1 = 1; ms at its minimum: 0.6; English is useful in MY.
			want: (1+0.6)/2 + 0.1,
			zh:   "马来语会话水平（要求会话），超出要求0级；另会英语（流利）", en: "Malay conversational (needs conversational), 0 levels above; also speaks English (fluent)"},
		{name: "language: native required", factor: HostFactorLanguage,
			req: func(r *HostRequest) {
				r.Languages = []LanguageNeed{{"zh", LevelNative}}
			},
			host: func(h *Host) { h.Languages = h.Languages[:1] }, want: 1, zh: "中文母语水平（要求母语），超出要求0级"},
		{name: "language: business to fluent", factor: HostFactorLanguage,
			req: func(r *HostRequest) {
				r.Languages = []LanguageNeed{{"en", LevelBusiness}}
				r.TargetMarkets = []string{"US"}
			},
			host: func(h *Host) { h.Languages = []HostLanguage{{"en", LevelFluent}} }, want: 0.6 + 0.4*1/2,
			en: "English fluent (needs business), 1 level above"},
		{name: "language: conversational to native", factor: HostFactorLanguage,
			req:  func(r *HostRequest) { r.Languages = []LanguageNeed{{"ms", LevelConversational}} },
			host: func(h *Host) { h.Languages = []HostLanguage{{"ms", LevelNative}} }, want: 1},
		{name: "language: zh and en are always useful, Malay only in MY", factor: HostFactorLanguage,
			req: func(r *HostRequest) { r.Languages = nil; r.TargetMarkets = []string{"JP"} }, want: 0.5 + 0.2,
			zh: "未要求语言；另会中文（母语）、英语（流利），每种加0.1"},
		{name: "language: market languages count", factor: HostFactorLanguage,
			req: func(r *HostRequest) { r.Languages = nil }, want: 0.5 + 0.3},
		{name: "language: no requirement, no useful language", factor: HostFactorLanguage,
			req:  func(r *HostRequest) { r.Languages = nil },
			host: func(h *Host) { h.Languages = []HostLanguage{{"fr", LevelNative}} }, want: 0.5, zh: "未要求语言", en: "No languages required"},
		{name: "language: capped at 1", factor: HostFactorLanguage,
			req: func(r *HostRequest) {
				r.Languages = []LanguageNeed{{"zh", LevelConversational}}
				r.TargetMarkets = []string{"SG", "MY", "TH", "IN"}
			},
			host: func(h *Host) {
				h.Languages = []HostLanguage{{"zh", LevelNative}, {"en", LevelFluent}, {"ms", LevelBusiness}, {"ta", LevelFluent}, {"th", LevelBusiness}, {"hi", LevelConversational}}
			}, want: 1},
		{name: "language: extras of unknown level or listed twice do not count", factor: HostFactorLanguage,
			req: func(r *HostRequest) { r.Languages = nil },
			host: func(h *Host) {
				h.Languages = []HostLanguage{{"en", ""}, {"ms", LevelFluent}, {"ms", LevelNative}}
			}, want: 0.6},
		{name: "language: below the minimum scores 0", factor: HostFactorLanguage,
			host: func(h *Host) { h.Languages = []HostLanguage{{"zh", LevelConversational}} }, want: 0,
			zh: "中文会话水平，低于要求的流利；不会马来语（要求会话）", en: "Chinese conversational, below the required fluent; No Malay (needs conversational)"},
		// market
		{name: "market: all", factor: HostFactorMarket, want: 1, zh: "在1/1个目标市场有带货经验（马来西亚）", en: "Has sold in 1 of 1 target market (Malaysia)"},
		{name: "market: half", factor: HostFactorMarket, req: func(r *HostRequest) { r.TargetMarkets = []string{"MY", "TH"} }, want: 0.5},
		{name: "market: none", factor: HostFactorMarket, req: func(r *HostRequest) { r.TargetMarkets = []string{"US", "TH", "JP"} }, want: 0,
			en: "Has not sold in any of the 3 target markets"},
		{name: "market: no targets", factor: HostFactorMarket, req: func(r *HostRequest) { r.TargetMarkets = nil }, want: 0.5,
			zh: "未指定目标市场"},
		// category
		{name: "category: all", factor: HostFactorCategory, want: 1, zh: "擅长1/1个所需品类（茶叶）", en: "Knows 1 of 1 categories asked for (Tea)"},
		{name: "category: a third", factor: HostFactorCategory, req: func(r *HostRequest) { r.Categories = []string{"tea", "beauty", "snacks"} }, want: 1.0 / 3},
		{name: "category: none", factor: HostFactorCategory, host: func(h *Host) { h.Categories = nil }, want: 0},
		{name: "category: none asked", factor: HostFactorCategory, req: func(r *HostRequest) { r.Categories = nil }, want: 0.5},
		// audience
		{name: "audience", factor: HostFactorAudience, want: audience(120000, 3000),
			zh: "粉丝12万，场均观看3000人", en: "120,000 followers, 3,000 average viewers"},
		{name: "audience: nobody", factor: HostFactorAudience, host: func(h *Host) { h.Followers, h.AvgViewers = 0, 0 }, want: 0},
		{name: "audience: negative counts as 0", factor: HostFactorAudience, host: func(h *Host) { h.Followers, h.AvgViewers = -10, -10 }, want: 0},
		{name: "audience: full", factor: HostFactorAudience, host: func(h *Host) { h.Followers, h.AvgViewers = 9_999_999, 99_999 }, want: 1},
		{name: "audience: beyond full", factor: HostFactorAudience, host: func(h *Host) { h.Followers, h.AvgViewers = MaxHostAudience, 1_000_000 }, want: 1,
			zh: "粉丝100亿"},
		{name: "audience: followers only", factor: HostFactorAudience, host: func(h *Host) { h.Followers, h.AvgViewers = 1000, 0 }, want: 0.7 * math.Log10(1001) / 7},
		// conversion
		{name: "conversion", factor: HostFactorConversion, want: 0.7, zh: "转化率3.5%", en: "3.5% conversion"},
		{name: "conversion: full", factor: HostFactorConversion, host: func(h *Host) { h.ConversionRate = 0.05 }, want: 1},
		{name: "conversion: beyond full", factor: HostFactorConversion, host: func(h *Host) { h.ConversionRate = 0.5 }, want: 1},
		{name: "conversion: none", factor: HostFactorConversion, host: func(h *Host) { h.ConversionRate = 0 }, want: 0},
		{name: "conversion: NaN", factor: HostFactorConversion, host: func(h *Host) { h.ConversionRate = math.NaN() }, want: 0},
		// rating
		{name: "rating", factor: HostFactorRating, want: 0.94, zh: "评分4.7/5", en: "Rated 4.7 of 5"},
		{name: "rating: top", factor: HostFactorRating, host: func(h *Host) { h.Rating = 5 }, want: 1},
		{name: "rating: unrated", factor: HostFactorRating, host: func(h *Host) { h.Rating = 0 }, want: 0.5, zh: "未评分", en: "Unrated"},
		{name: "rating: NaN is unrated", factor: HostFactorRating, host: func(h *Host) { h.Rating = math.NaN() }, want: 0.5},
		{name: "rating: above 5 capped", factor: HostFactorRating, host: func(h *Host) { h.Rating = 7 }, want: 1},
		// bio
		{name: "bio: share of the best", factor: HostFactorBio, bio: 1, want: 0.25, zh: "简介相关度为最佳匹配的25%", en: "Bio 25% as relevant as the best match"},
		{name: "bio: the best", factor: HostFactorBio, bio: 4, want: 1, en: "The most relevant bio"},
		{name: "bio: above the best is capped", factor: HostFactorBio, bio: 9, want: 1},
		{name: "bio: no match", factor: HostFactorBio, bio: 0, want: 0, zh: "简介与需求无文本匹配"},
		{name: "bio: negative", factor: HostFactorBio, bio: -3, want: 0},
		{name: "bio: NaN", factor: HostFactorBio, bio: math.NaN(), want: 0},
		{name: "bio: +Inf", factor: HostFactorBio, bio: math.Inf(1), want: 1},
		{name: "bio: no notes", factor: HostFactorBio, bio: 3, req: func(r *HostRequest) { r.Notes, r.Categories = "", nil },
			params: func(p *HostMatchParams) { p.BioMax = 0 }, want: 0.5, en: "No notes"},
		{name: "bio: notes no bio mentions", factor: HostFactorBio, params: func(p *HostMatchParams) { p.BioMax = 0 }, want: 0.5,
			en: "No host's bio mentions the notes or categories"},
		{name: "bio: infinite best is neutral", factor: HostFactorBio, bio: 3, params: func(p *HostMatchParams) { p.BioMax = math.Inf(1) }, want: 0.5},
		{name: "bio: NaN best is neutral", factor: HostFactorBio, bio: 3, params: func(p *HostMatchParams) { p.BioMax = math.NaN() }, want: 0.5},
		// timezone
		{name: "timezone: same offset", factor: HostFactorTimezone, want: 1,
			zh: "主播时区UTC+8，与马来西亚黄金时段（UTC+8）相差0小时", en: "Host on UTC+8, 0 h from prime time in Malaysia (UTC+8)"},
		{name: "timezone: one hour", factor: HostFactorTimezone, req: func(r *HostRequest) { r.TargetMarkets = []string{"TH"} }, want: 1 - 1.0/8},
		{name: "timezone: New York for the US", factor: HostFactorTimezone, req: func(r *HostRequest) { r.TargetMarkets = []string{"US"} },
			host: func(h *Host) { h.Timezone = "America/New_York" }, want: 1, zh: "UTC−5"},
		{name: "timezone: Shanghai for the US", factor: HostFactorTimezone, req: func(r *HostRequest) { r.TargetMarkets = []string{"US"} },
			host: func(h *Host) { h.Timezone = "Asia/Shanghai" }, want: 0, en: "Host on UTC+8, 11 h from prime time in the US (UTC−5)"},
		{name: "timezone: Los Angeles for the US", factor: HostFactorTimezone, req: func(r *HostRequest) { r.TargetMarkets = []string{"US"} },
			host: func(h *Host) { h.Timezone = "America/Los_Angeles" }, want: 1 - 3.0/8},
		{name: "timezone: eight hours off scores 0", factor: HostFactorTimezone, req: func(r *HostRequest) { r.TargetMarkets = []string{"DE"} },
			host: func(h *Host) { h.Timezone = "Asia/Tokyo" }, want: 0},
		{name: "timezone: half hours", factor: HostFactorTimezone, req: func(r *HostRequest) { r.TargetMarkets = []string{"CN"} },
			host: func(h *Host) { h.Timezone = "Asia/Kolkata" }, want: 1 - 2.5/8, zh: "UTC+5:30"},
		{name: "timezone: across the date line", factor: HostFactorTimezone, req: func(r *HostRequest) { r.TargetMarkets = []string{"US"} },
			host: func(h *Host) { h.Timezone = "Pacific/Auckland" }, want: 1 - 6.0/8},
		{name: "timezone: mean over markets", factor: HostFactorTimezone, req: func(r *HostRequest) { r.TargetMarkets = []string{"MY", "GB", "EG"} },
			host: func(h *Host) { h.Timezone = "Europe/Berlin" }, want: ((1 - 7.0/8) + (1 - 1.0/8)) / 2,
			zh: "与2个目标市场的黄金时段平均相差4小时"},
		{name: "timezone: unknown zone", factor: HostFactorTimezone, host: func(h *Host) { h.Timezone = "Mars/Olympus" }, want: 0.5, en: "Host time zone unknown"},
		{name: "timezone: NaN offset", factor: HostFactorTimezone, host: func(h *Host) { h.Timezone = "Bad/NaN" }, want: 0.5},
		{name: "timezone: no zone", factor: HostFactorTimezone, host: func(h *Host) { h.Timezone = "" }, want: 0.5},
		{name: "timezone: no resolver", factor: HostFactorTimezone, params: func(p *HostMatchParams) { p.UTCOffset = nil }, want: 0.5},
		{name: "timezone: no markets", factor: HostFactorTimezone, req: func(r *HostRequest) { r.TargetMarkets = nil }, want: 0.5, zh: "未指定目标市场"},
		{name: "timezone: unknown markets", factor: HostFactorTimezone, req: func(r *HostRequest) { r.TargetMarkets = []string{"EG"} }, want: 0.5, en: "Target markets' time zones unknown"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := validRequest()
			if c.req != nil {
				c.req(&r)
			}
			if err := PrepareHostRequest(&r, hostNow); err != nil {
				t.Fatal(err)
			}
			h := teaHost()
			if c.host != nil {
				c.host(h)
			}
			params := hostParams()
			if c.params != nil {
				c.params(&params)
			}
			m := ScoreHost(&r, HostCandidate{Host: h, Bio: c.bio}, params)
			checkHostMatch(t, m)
			f := hostFactorOf(t, m, c.factor)
			if math.Abs(f.Value-c.want) > 0.00005 {
				t.Fatalf("value %v, want %.5f (%s | %s)", f.Value, c.want, f.ReasonZh, f.ReasonEn)
			}
			if !strings.Contains(f.ReasonZh, c.zh) || !strings.Contains(f.ReasonEn, c.en) {
				t.Fatalf("reasons %q | %q, want %q | %q", f.ReasonZh, f.ReasonEn, c.zh, c.en)
			}
		})
	}
}

func TestScoreHost(t *testing.T) {
	r := validRequest()
	if err := PrepareHostRequest(&r, hostNow); err != nil {
		t.Fatal(err)
	}
	h := teaHost()
	m := ScoreHost(&r, HostCandidate{Host: h, Bio: 2}, hostParams())
	checkHostMatch(t, m)
	aud := 0.7*math.Log10(120001)/7 + 0.3*math.Log10(3001)/5
	want := (0.9 + 1 + 1 + aud + 0.7 + 0.94 + 0.5 + 1) / 8
	if math.Abs(m.Score-want) > 0.00005 {
		t.Fatalf("score %v, want %.5f", m.Score, want)
	}
	for _, f := range m.Factors {
		if f.Weight != 1 || math.Abs(f.Contribution-f.Value/8) > 0.0001 {
			t.Errorf("%s: weight %v contribution %v value %v", f.Name, f.Weight, f.Contribution, f.Value)
		}
	}
	if m.Host != h {
		t.Fatal("the match does not carry its host")
	}
	if e := ScoreHost(&r, HostCandidate{}, hostParams()); e.Host == nil {
		t.Fatal("nil host")
	} else {
		checkHostMatch(t, e)
	}
}

func TestHostWeights(t *testing.T) {
	base := validRequest()
	if err := PrepareHostRequest(&base, hostNow); err != nil {
		t.Fatal(err)
	}
	c := HostCandidate{Host: teaHost(), Bio: 1}
	params := hostParams()
	full := ScoreHost(&base, c, params)

	t.Run("zero switches a factor off", func(t *testing.T) {
		r := base
		r.Weights = Weights{"timezone": 0}
		m := ScoreHost(&r, c, params)
		checkHostMatch(t, m)
		tz := hostFactorOf(t, m, HostFactorTimezone)
		if tz.Weight != 0 || tz.Contribution != 0 || tz.Value != hostFactorOf(t, full, HostFactorTimezone).Value {
			t.Fatalf("timezone factor %+v", tz)
		}
		want := 0.0
		for _, f := range full.Factors[:7] {
			want += f.Value
		}
		if want /= 7; math.Abs(m.Score-want) > 0.0001 {
			t.Fatalf("score %v, want %v", m.Score, want)
		}
		// MatchHosts skips switched-off factors but gives the same figures.
		res := MatchHosts(&r, []HostCandidate{c}, params)
		if len(res.Items) != 1 || res.Items[0].Score != m.Score {
			t.Fatalf("MatchHosts %+v", res)
		}
	})
	t.Run("only one factor on", func(t *testing.T) {
		r := base
		r.Weights = Weights{}
		for _, f := range HostFactors() {
			r.Weights[string(f)] = 0
		}
		r.Weights["conversion"] = 3
		m := ScoreHost(&r, c, params)
		checkHostMatch(t, m)
		if m.Score != 0.7 || hostFactorOf(t, m, HostFactorConversion).Contribution != 0.7 {
			t.Fatalf("score %v", m.Score)
		}
	})
	t.Run("double weight", func(t *testing.T) {
		r := base
		r.Weights = Weights{"language": 2}
		m := ScoreHost(&r, c, params)
		checkHostMatch(t, m)
		l := hostFactorOf(t, m, HostFactorLanguage)
		if l.Weight != 2 || math.Abs(l.Contribution-2*0.9/9) > 0.0001 {
			t.Fatalf("language %+v", l)
		}
	})
	t.Run("all off scores 0", func(t *testing.T) {
		r := base
		r.Weights = Weights{}
		for _, f := range HostFactors() {
			r.Weights[string(f)] = 0
		}
		m := ScoreHost(&r, c, params)
		checkHostMatch(t, m)
		if m.Score != 0 {
			t.Fatalf("score %v", m.Score)
		}
	})
	t.Run("huge and invalid weights", func(t *testing.T) {
		r := base
		r.Weights = Weights{"rating": math.MaxFloat64, "conversion": math.MaxFloat64, "bio": math.NaN(), "market": -4, "audience": math.Inf(1)}
		m := ScoreHost(&r, c, params)
		checkHostMatch(t, m)
		if want := (0.94 + 0.7) / 2; math.Abs(m.Score-want) > 0.0001 {
			t.Fatalf("score %v, want %v", m.Score, want)
		}
	})
}

// malayTea is the Malaysian tea request of the API documentation, prepared.
func malayTea(tb testing.TB) HostRequest {
	tb.Helper()
	r := validRequest()
	if err := PrepareHostRequest(&r, hostNow); err != nil {
		tb.Fatal(err)
	}
	return r
}

func TestMatchHostsMalaysianTea(t *testing.T) {
	r := malayTea(t)
	malay := teaHost()
	english := teaHost()
	english.ID, english.Name = "h_en", "Emma"
	english.Languages = []HostLanguage{{"en", LevelNative}}
	chinese := teaHost()
	chinese.ID = "h_zh"
	chinese.Languages = []HostLanguage{{"zh", LevelNative}, {"en", LevelBusiness}}
	chinese.Timezone = "Asia/Shanghai"
	uncertified := teaHost()
	uncertified.ID, uncertified.Certification = "h_nocert", nil
	pricey := teaHost()
	pricey.ID, pricey.HourlyRateCNY = "h_pricey", 1500
	busy := teaHost()
	busy.ID, busy.AvailableDates = "h_busy", []string{"2026-12-11"}
	second := teaHost()
	second.ID = "h_tea_my2"
	second.Languages = []HostLanguage{{"zh", LevelFluent}, {"ms", LevelBusiness}}
	second.Markets = nil
	second.Timezone = "Asia/Bangkok"

	cands := []HostCandidate{{english, 2}, {chinese, 3}, {uncertified, 2}, {pricey, 2}, {busy, 2}, {second, 0.5}, {malay, 2}}
	res := MatchHosts(&r, cands, hostParams())
	if res.Candidates != len(cands) {
		t.Fatalf("candidates %d", res.Candidates)
	}
	wantExcl := map[string]int{ExcludedLanguage: 2, ExcludedNotCertified: 1, ExcludedOverBudget: 1, ExcludedUnavailable: 1}
	if fmt.Sprint(res.Excluded) != fmt.Sprint(wantExcl) {
		t.Fatalf("excluded %v", res.Excluded)
	}
	if len(res.Items) != 2 || res.Items[0].Host != malay || res.Items[1].Host != second {
		t.Fatalf("items %v", hostIDs(res.Items))
	}
	for _, it := range res.Items {
		checkHostMatch(t, it)
	}
	lang := hostFactorOf(t, res.Items[0], HostFactorLanguage)
	if !strings.Contains(lang.ReasonZh, "马来语会话水平（要求会话），超出要求0级") || !strings.Contains(lang.ReasonEn, "Malay conversational (needs conversational)") {
		t.Fatalf("language reasons %q | %q", lang.ReasonZh, lang.ReasonEn)
	}

	// Without the language gate, the English-only host, otherwise the same,
	// ranks below the Malay-speaking one: Chinese and Malay are useful in
	// Malaysia, so they earn the extras bonus.
	soft := r
	soft.Languages = nil
	res = MatchHosts(&soft, cands, hostParams())
	pos := func(h *Host) int { return slices.IndexFunc(res.Items, func(m HostMatch) bool { return m.Host == h }) }
	if pos(malay) < 0 || pos(english) < 0 || pos(malay) > pos(english) {
		t.Fatalf("items %v", hostIDs(res.Items))
	}
}

func TestMatchHostsUSBeauty(t *testing.T) {
	r := HostRequest{Title: "US beauty launch", Categories: []string{"beauty"}, TargetMarkets: []string{"US"},
		Languages: []LanguageNeed{{"en", LevelFluent}}, BudgetCNYPerHour: 2000, Notes: "skin care, K-beauty"}
	if err := PrepareHostRequest(&r, hostNow); err != nil {
		t.Fatal(err)
	}
	mk := func(id, tz string, markets ...string) *Host {
		h := &Host{ID: id, Name: id, Languages: []HostLanguage{{"en", LevelNative}, {"zh", LevelFluent}}, Markets: markets,
			Categories: []string{"beauty"}, Followers: 200000, AvgViewers: 5000, ConversionRate: 0.04, Rating: 4.6,
			HourlyRateCNY: 1500, Timezone: tz}
		if err := PrepareHost(h); err != nil {
			t.Fatal(err)
		}
		return h
	}
	ny := mk("h_ny", "America/New_York", "US")
	sh := mk("h_sh", "Asia/Shanghai", "US")
	la := mk("h_la", "America/Los_Angeles", "US")
	novice := mk("h_novice", "America/New_York")
	tea := mk("h_tea", "America/New_York", "US")
	tea.Categories = []string{"tea"}
	weak := mk("h_weak", "America/New_York", "US")
	weak.Languages = []HostLanguage{{"en", LevelBusiness}}
	res := MatchHosts(&r, []HostCandidate{{sh, 3}, {novice, 3}, {la, 3}, {tea, 3}, {weak, 3}, {ny, 3}}, HostMatchParams{Now: hostNow, BioMax: 3, UTCOffset: testOffset})
	// h_novice (never sold in the US) and h_sh (sold there, but 11 hours off
	// prime time) tie and are ordered by id; h_tea lacks the category.
	if got := hostIDs(res.Items); !slices.Equal(got, []string{"h_ny", "h_la", "h_novice", "h_sh", "h_tea"}) {
		t.Fatalf("items %v", got)
	}
	if res.Excluded[ExcludedLanguage] != 1 {
		t.Fatalf("excluded %v", res.Excluded)
	}
	if res.Items[0].Score <= res.Items[3].Score || hostFactorOf(t, res.Items[0], HostFactorTimezone).Value != 1 || hostFactorOf(t, res.Items[3], HostFactorTimezone).Value != 0 {
		t.Fatal("a New York host should fit the US better than a Shanghai host")
	}
}

func hostIDs(items []HostMatch) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.Host.ID
	}
	return out
}

func TestMatchHostsTiesAndDeterminism(t *testing.T) {
	r := malayTea(t)
	var cands []HostCandidate
	for _, id := range []string{"h_c", "h_a", "h_e", "h_b", "h_d"} {
		h := teaHost()
		h.ID = id
		cands = append(cands, HostCandidate{Host: h, Bio: 1})
	}
	params := hostParams()
	params.Limit = 3
	first := MatchHosts(&r, cands, params)
	if got := hostIDs(first.Items); !slices.Equal(got, []string{"h_a", "h_b", "h_c"}) {
		t.Fatalf("items %v", got)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		rng.Shuffle(len(cands), func(i, j int) { cands[i], cands[j] = cands[j], cands[i] })
		again := MatchHosts(&r, cands, params)
		if fmt.Sprint(hostIDs(again.Items)) != fmt.Sprint(hostIDs(first.Items)) || again.Items[0].Score != first.Items[0].Score {
			t.Fatalf("items %v", hostIDs(again.Items))
		}
	}
}

func TestMatchHostsLimitsAndNil(t *testing.T) {
	r := malayTea(t)
	r.Languages, r.RequireCertified, r.Date, r.BudgetCNYPerHour = nil, false, "", 0
	cands := synthHosts(300, 7)
	cands = append(cands, HostCandidate{}) // nil host: skipped
	for _, c := range []struct{ limit, want int }{{0, DefaultMatchLimit}, {-1, DefaultMatchLimit}, {1, 1}, {250, MaxMatchLimit}} {
		params := hostParams()
		params.Limit = c.limit
		res := MatchHosts(&r, cands, params)
		if len(res.Items) != c.want || res.Candidates != len(cands) || len(res.Excluded) != 0 {
			t.Fatalf("limit %d: %d items, %d candidates, excluded %v", c.limit, len(res.Items), res.Candidates, res.Excluded)
		}
	}
	if res := MatchHosts(&r, nil, hostParams()); len(res.Items) != 0 || res.Excluded == nil {
		t.Fatalf("no candidates: %+v", res)
	}
}

// synthHosts builds n deterministic, varied hosts.
func synthHosts(n int, seed uint64) []HostCandidate {
	rng := rand.New(rand.NewPCG(seed, 7))
	langs := []string{"zh", "en", "ms", "th", "vi", "id", "ja", "ko", "es", "fr"}
	levels := []LanguageLevel{LevelNative, LevelFluent, LevelBusiness, LevelConversational}
	markets := []string{"MY", "SG", "TH", "US", "GB", "JP", "ID", "VN", "AU", "DE"}
	cats := []string{"tea", "beauty", "fresh_fruit", "snacks", "apparel", "dried_goods"}
	zones := []string{"Asia/Shanghai", "Asia/Kuala_Lumpur", "Asia/Bangkok", "America/New_York", "Europe/London", "Asia/Tokyo", "Mars/Olympus", ""}
	certExp := []time.Time{{}, time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC), time.Date(2027, 12, 31, 0, 0, 0, 0, time.UTC)}
	pick := func(list []string, k int) []string {
		out := make([]string, 0, k)
		for len(out) < k {
			if s := list[rng.IntN(len(list))]; !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
		return out
	}
	out := make([]HostCandidate, n)
	for i := range out {
		h := &Host{ID: fmt.Sprintf("h%06d", rng.IntN(n*2)), Name: "host"}
		h.Languages = append(h.Languages, HostLanguage{"zh", levels[rng.IntN(4)]})
		for _, l := range pick(langs[1:], rng.IntN(3)) {
			h.Languages = append(h.Languages, HostLanguage{l, levels[rng.IntN(4)]})
		}
		h.Markets = pick(markets, rng.IntN(4))
		h.Categories = pick(cats, 1+rng.IntN(3))
		if rng.IntN(3) > 0 {
			h.Certification = &HostCertification{Level: "senior", ExpiresAt: certExp[rng.IntN(len(certExp))]}
		}
		h.Followers = int64(math.Pow(10, rng.Float64()*8))
		h.AvgViewers = h.Followers / int64(10+rng.IntN(200))
		h.ConversionRate = rng.Float64() * 0.08
		h.Rating = float64(rng.IntN(51)) / 10
		h.HourlyRateCNY = float64(100 * (1 + rng.IntN(20)))
		h.Timezone = zones[rng.IntN(len(zones))]
		for d := 8; d <= 16; d++ {
			if rng.IntN(2) == 0 {
				h.AvailableDates = append(h.AvailableDates, fmt.Sprintf("2026-12-%02d", d))
			}
		}
		out[i] = HostCandidate{Host: h, Bio: float64(rng.IntN(5))}
	}
	return out
}

// naiveMatchHosts is MatchHosts without heaps, pruning or caches.
func naiveMatchHosts(r *HostRequest, cands []HostCandidate, params HostMatchParams) []HostMatch {
	var all []HostMatch
	for _, c := range cands {
		if c.Host != nil && HostGate(r, c.Host, params.Now) == "" {
			all = append(all, ScoreHost(r, c, params))
		}
	}
	slices.SortStableFunc(all, func(a, b HostMatch) int {
		if a.Score != b.Score {
			if a.Score > b.Score {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Host.ID, b.Host.ID)
	})
	k := params.Limit
	if k <= 0 {
		k = DefaultMatchLimit
	}
	return all[:min(len(all), k, MaxMatchLimit)]
}

func TestMatchHostsAgreesWithNaive(t *testing.T) {
	cands := synthHosts(3000, 3)
	requests := map[string]func(*HostRequest){
		"malay tea": func(*HostRequest) {},
		"no gates":  func(r *HostRequest) { r.Languages, r.RequireCertified, r.Date, r.BudgetCNYPerHour = nil, false, "", 0 },
		"timezone heavy": func(r *HostRequest) {
			r.Weights = Weights{"timezone": 5, "language": 3}
			r.TargetMarkets = []string{"US", "GB"}
		},
		"language off": func(r *HostRequest) {
			r.Weights = Weights{"language": 0, "timezone": 0}
			r.Languages = []LanguageNeed{{"zh", LevelBusiness}}
		},
		"no markets": func(r *HostRequest) { r.TargetMarkets, r.Categories = nil, nil; r.RequireCertified = false },
		"english for jp": func(r *HostRequest) {
			r.Languages = []LanguageNeed{{"en", LevelConversational}}
			r.TargetMarkets = []string{"JP"}
		},
		"only audience": func(r *HostRequest) {
			r.Weights = Weights{"language": 0, "market": 0, "category": 0, "conversion": 0, "rating": 0, "bio": 0, "timezone": 0}
		},
		"no date cert":    func(r *HostRequest) { r.Date = "" },
		"strict language": func(r *HostRequest) { r.Languages = []LanguageNeed{{"zh", LevelNative}}; r.RequireCertified = false },
	}
	for name, mutate := range requests {
		for _, limit := range []int{1, 7, 20, 100} {
			t.Run(fmt.Sprintf("%s/%d", name, limit), func(t *testing.T) {
				r := malayTea(t)
				mutate(&r)
				params := hostParams()
				params.Limit = limit
				got := MatchHosts(&r, cands, params)
				want := naiveMatchHosts(&r, cands, params)
				if len(got.Items) != len(want) {
					t.Fatalf("%d items, want %d", len(got.Items), len(want))
				}
				for i := range want {
					if got.Items[i].Host != want[i].Host || got.Items[i].Score != want[i].Score {
						t.Fatalf("item %d: %s %v, want %s %v", i, got.Items[i].Host.ID, got.Items[i].Score, want[i].Host.ID, want[i].Score)
					}
					if fmt.Sprint(got.Items[i].Factors) != fmt.Sprint(want[i].Factors) {
						t.Fatalf("item %d: factors differ", i)
					}
				}
				counted := 0
				for _, c := range cands {
					if g := HostGate(&r, c.Host, hostNow); g != "" {
						counted++
						if got.Excluded[g] == 0 {
							t.Fatalf("reason %s not counted", g)
						}
					}
				}
				sum := 0
				for _, n := range got.Excluded {
					sum += n
				}
				if sum != counted || got.Candidates != len(cands) {
					t.Fatalf("excluded %v (%d), want %d", got.Excluded, sum, counted)
				}
			})
		}
	}
}

// TestMatchHostsAllocations checks that scanning allocates nothing per
// candidate: only the explained top items (and a fixed set-up) allocate.
func TestMatchHostsAllocations(t *testing.T) {
	r := malayTea(t)
	r.Languages = []LanguageNeed{{"zh", LevelBusiness}}
	r.BudgetCNYPerHour = 1500
	params := hostParams()
	small, large := synthHosts(1000, 1), synthHosts(20000, 1)
	allocs := func(cands []HostCandidate) float64 {
		return testing.AllocsPerRun(5, func() { MatchHosts(&r, cands, params) })
	}
	a, b := allocs(small), allocs(large)
	t.Logf("allocations: %v for 1000 candidates, %v for 20000", a, b)
	// One allocation per candidate would add 19,000; allow a little drift
	// (map growth, the race detector's bookkeeping) but not one per ten.
	if b-a > (20000-1000)/10 {
		t.Fatalf("%v allocations for 1000 candidates, %v for 20000", a, b)
	}
}

func TestMatchHostsResolvesEachZoneOnce(t *testing.T) {
	r := malayTea(t)
	r.Languages, r.RequireCertified, r.Date, r.BudgetCNYPerHour = nil, false, "", 0
	calls := map[string]int{}
	params := hostParams()
	params.UTCOffset = func(tz string, at time.Time) (float64, bool) {
		calls[tz]++
		return testOffset(tz, at)
	}
	res := MatchHosts(&r, synthHosts(2000, 5), params)
	if len(res.Items) != DefaultMatchLimit {
		t.Fatalf("%d items", len(res.Items))
	}
	for tz, n := range calls {
		if n != 1 || tz == "" {
			t.Fatalf("zone %q resolved %d times", tz, n)
		}
	}
	// The offset is taken at midday UTC on the request date, else now.
	var at []time.Time
	params.UTCOffset = func(tz string, t time.Time) (float64, bool) { at = append(at, t); return 8, true }
	r.Date = "2026-12-12"
	ScoreHost(&r, HostCandidate{Host: teaHost()}, params)
	r.Date = ""
	ScoreHost(&r, HostCandidate{Host: teaHost()}, params)
	if len(at) != 2 || !at[0].Equal(time.Date(2026, 12, 12, 12, 0, 0, 0, time.UTC)) || !at[1].Equal(hostNow) {
		t.Fatalf("offsets taken at %v", at)
	}
}

func TestHostHelpers(t *testing.T) {
	for in, want := range map[float64]string{8: "UTC+8", -5: "UTC−5", 0: "UTC+0", 5.5: "UTC+5:30", 5.75: "UTC+5:45", -3.5: "UTC−3:30"} {
		if got := utcLabel(in); got != want {
			t.Errorf("utcLabel(%v) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 120000: "120,000", 1234567: "1,234,567", -5: "-5"} {
		if got := countEn(in); got != want {
			t.Errorf("countEn(%d) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[int64]string{3000: "3000", 120000: "12万", 12345: "1.23万", 150_000_000: "1.5亿"} {
		if got := countZh(in); got != want {
			t.Errorf("countZh(%d) = %q, want %q", in, got, want)
		}
	}
	for _, c := range []struct{ a, b, want float64 }{{8, -5, 11}, {13, -5, 6}, {-5, 8, 11}, {0, 12, 12}, {12, -12, 0}, {5.5, 8, 2.5}} {
		if got := hoursApart(c.a, c.b); got != c.want {
			t.Errorf("hoursApart(%v, %v) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
	for _, m := range hostMarkets {
		if !ValidCountry(m.code) {
			t.Errorf("market %s", m.code)
		}
		for _, l := range m.langs {
			if !ValidLanguage(l) {
				t.Errorf("market %s language %s", m.code, l)
			}
			if zh, _ := languageName(l); zh == l {
				t.Errorf("language %s has no name", l)
			}
		}
	}
}

// FuzzScoreHost scores a host and request built from the fuzz arguments: no
// panic, the score in [0,1] and equal to the sum of contributions, every
// value in [0,1].
func FuzzScoreHost(f *testing.F) {
	f.Add(int64(120000), int64(3000), 0.035, 4.7, 800.0, 2.0, 4.0, 8.0, uint16(0x1234), uint8(3), 1.0, 2.0, 0.0, true, "2026-12-12")
	f.Add(int64(-5), int64(math.MaxInt64), math.NaN(), math.Inf(1), math.NaN(), math.Inf(1), math.NaN(), math.NaN(), uint16(0xffff), uint8(255), math.NaN(), -1.0, math.MaxFloat64, false, "")
	f.Add(int64(0), int64(0), 0.0, 0.0, 0.0, 0.0, 0.0, -13.5, uint16(0), uint8(0), 0.0, 0.0, 0.0, true, "2026-02-30")
	f.Add(int64(math.MaxInt64), int64(1), 1e300, -1e300, 1e7, -1.0, 1e-300, 1e300, uint16(0x8001), uint8(0x80), math.Inf(1), math.Inf(-1), 1.0, false, "xxxx")
	f.Fuzz(func(t *testing.T, followers, viewers int64, conv, rating, rate, bio, bioMax, offset float64,
		langBits uint16, marketBits uint8, w1, w2, w3 float64, certified bool, date string) {
		langs := []string{"zh", "en", "ms", "ta", "th", "ja", "fr", "ZH"}
		levels := []LanguageLevel{LevelNative, LevelFluent, LevelBusiness, LevelConversational, "", "x"}
		markets := []string{"MY", "US", "SG", "JP", "EG", "NZ", "IN", "my"}
		h := &Host{ID: "h", Followers: followers, AvgViewers: viewers, ConversionRate: conv, Rating: rating,
			HourlyRateCNY: rate, Timezone: "Fuzz/Zone", AvailableDates: []string{date, "2026-12-12"}}
		r := &HostRequest{Title: "f", BudgetCNYPerHour: rate / 2, RequireCertified: certified, Date: date,
			Weights: Weights{"language": w1, "timezone": w2, "bio": w3}}
		for i := range 8 {
			if langBits&(1<<i) != 0 {
				h.Languages = append(h.Languages, HostLanguage{langs[i], levels[int(langBits>>8)%len(levels)]})
			}
			if langBits&(1<<(i+8)) != 0 {
				r.Languages = append(r.Languages, LanguageNeed{langs[i], levels[i%len(levels)]})
			}
			if marketBits&(1<<i) != 0 {
				r.TargetMarkets = append(r.TargetMarkets, markets[i])
				h.Markets = append(h.Markets, markets[(i+int(langBits))%len(markets)])
			}
		}
		if certified {
			h.Certification = &HostCertification{Level: "junior", ExpiresAt: hostNow.Add(time.Duration(offset) * time.Hour)}
		}
		params := HostMatchParams{Now: hostNow, BioMax: bioMax, Limit: int(marketBits) - 5,
			UTCOffset: func(string, time.Time) (float64, bool) { return offset, langBits&1 == 0 }}
		c := HostCandidate{Host: h, Bio: bio}
		m := ScoreHost(r, c, params)
		checkHostMatch(t, m)
		_ = HostGate(r, h, hostNow)
		res := MatchHosts(r, []HostCandidate{c, c, {}}, params)
		for _, it := range res.Items {
			checkHostMatch(t, it)
		}
		_ = PrepareHostRequest(r, hostNow)
		_ = PrepareHost(h)
	})
}

// BenchmarkMatchHosts matches the Malaysian tea request (languages, a date,
// certification and a budget) against synthetic hosts, returning the top 20.
func BenchmarkMatchHosts(b *testing.B) {
	for _, n := range []int{10_000} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			r := malayTea(b)
			r.Languages = []LanguageNeed{{"zh", LevelBusiness}}
			r.TargetMarkets = []string{"MY", "SG"}
			r.BudgetCNYPerHour = 1500
			cands := synthHosts(n, 1)
			params := hostParams()
			params.Limit = 20
			passed := 0
			for _, c := range cands {
				if HostGate(&r, c.Host, hostNow) == "" {
					passed++
				}
			}
			b.ReportAllocs()
			for b.Loop() {
				res := MatchHosts(&r, cands, params)
				if len(res.Items) != 20 {
					b.Fatalf("%d items", len(res.Items))
				}
			}
			b.ReportMetric(float64(passed), "passing")
		})
	}
}

// BenchmarkScoreHost explains one host.
func BenchmarkScoreHost(b *testing.B) {
	r := malayTea(b)
	c := HostCandidate{Host: teaHost(), Bio: 2}
	params := hostParams()
	b.ReportAllocs()
	for b.Loop() {
		ScoreHost(&r, c, params)
	}
}
