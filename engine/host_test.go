package engine

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"
)

// hostNow is the clock of the host tests: 1 December 2026, 10:00 China time.
var hostNow = time.Date(2026, 12, 1, 10, 0, 0, 0, cst)

// validHost is a host that PrepareHost accepts.
func validHost() Host {
	return Host{
		ID: "h_lily", OrgID: "o_mcn", Name: "Lily 王",
		Languages:      []HostLanguage{{"zh", LevelNative}, {"en", LevelFluent}},
		Markets:        []string{"US", "MY"},
		Categories:     []string{"beauty", "fresh_fruit"},
		Certification:  &HostCertification{Level: "senior", ExpiresAt: time.Date(2027, 6, 30, 0, 0, 0, 0, time.UTC)},
		Followers:      120000,
		AvgViewers:     3000,
		ConversionRate: 0.035,
		Rating:         4.7,
		HourlyRateCNY:  800,
		Timezone:       "Asia/Shanghai",
		AvailableDates: []string{"2026-12-10", "2026-12-12"},
		BioZh:          "美妆主播",
		BioEn:          "Beauty host",
	}
}

func TestLanguageLevel(t *testing.T) {
	for _, c := range []struct {
		l    LanguageLevel
		rank int
	}{{LevelNative, 4}, {LevelFluent, 3}, {LevelBusiness, 2}, {LevelConversational, 1}, {"", 0}, {"Native", 0}, {"expert", 0}} {
		if got := c.l.Rank(); got != c.rank {
			t.Errorf("%q.Rank() = %d, want %d", c.l, got, c.rank)
		}
		if c.l.Valid() != (c.rank > 0) {
			t.Errorf("%q.Valid() = %v", c.l, c.l.Valid())
		}
	}
}

func TestValidLanguage(t *testing.T) {
	for code, want := range map[string]bool{
		"zh": true, "en": true, "ms": true, "ta": true, "tl": true, "id": true, "ar": true,
		"EN": false, "eng": false, "zz": false, "qa": false, "": false, "e": false, "z1": false, "en-US": false, " en": false,
	} {
		if got := ValidLanguage(code); got != want {
			t.Errorf("ValidLanguage(%q) = %v, want %v", code, got, want)
		}
	}
}

func TestPrepareHost(t *testing.T) {
	long := func(n int) string { return strings.Repeat("好", n) }
	manyDates := func(n int) []string {
		out := make([]string, n)
		d := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		for i := range out {
			out[i] = d.AddDate(0, 0, i).Format(dateLayout)
		}
		return out
	}
	cases := []struct {
		name   string
		mutate func(*Host)
		want   []string
	}{
		{"valid", func(h *Host) {}, nil},
		{"minimal", func(h *Host) {
			*h = Host{Name: "x", Languages: []HostLanguage{{"en", LevelConversational}}}
		}, nil},
		{"name required", func(h *Host) { h.Name = "  " }, []string{"name"}},
		{"name 100 runes", func(h *Host) { h.Name = long(100) }, nil},
		{"name 101 runes", func(h *Host) { h.Name = long(101) }, []string{"name"}},
		{"name not UTF-8", func(h *Host) { h.Name = "\xff" }, []string{"name"}},
		{"no languages", func(h *Host) { h.Languages = nil }, []string{"languages"}},
		{"ten languages", func(h *Host) {
			h.Languages = nil
			for _, c := range []string{"zh", "en", "ms", "ta", "th", "vi", "id", "ja", "ko", "fr"} {
				h.Languages = append(h.Languages, HostLanguage{c, LevelBusiness})
			}
		}, nil},
		{"eleven languages", func(h *Host) {
			h.Languages = nil
			for _, c := range []string{"zh", "en", "ms", "ta", "th", "vi", "id", "ja", "ko", "fr", "de"} {
				h.Languages = append(h.Languages, HostLanguage{c, LevelBusiness})
			}
		}, []string{"languages"}},
		{"unknown language", func(h *Host) { h.Languages[1].Code = "xx" }, []string{"languages[1].code"}},
		{"three-letter code", func(h *Host) { h.Languages[1].Code = "eng" }, []string{"languages[1].code"}},
		{"empty code", func(h *Host) { h.Languages[0].Code = "" }, []string{"languages[0].code"}},
		{"upper-case code is normalised", func(h *Host) { h.Languages[1].Code = " EN " }, nil},
		{"duplicate code", func(h *Host) { h.Languages[1].Code = "ZH" }, []string{"languages[1].code"}},
		{"unknown level", func(h *Host) { h.Languages[0].Level = "expert" }, []string{"languages[0].level"}},
		{"missing level", func(h *Host) { h.Languages[1].Level = "" }, []string{"languages[1].level"}},
		{"bad market", func(h *Host) { h.Markets = []string{"MY", "XX", "EU"} }, []string{"markets[1]", "markets[2]"}},
		{"lower-case market is normalised", func(h *Host) { h.Markets = []string{"my"} }, nil},
		{"bad category", func(h *Host) { h.Categories = []string{"tea", "cars"} }, []string{"categories[1]"}},
		{"no certification", func(h *Host) { h.Certification = nil }, nil},
		{"certification level", func(h *Host) { h.Certification.Level = "gold" }, []string{"certification.level"}},
		{"certification levels", func(h *Host) { h.Certification.Level = "junior" }, nil},
		{"certification without expiry", func(h *Host) { h.Certification = &HostCertification{Level: "intermediate"} }, nil},
		{"negative followers", func(h *Host) { h.Followers = -1 }, []string{"followers"}},
		{"too many followers", func(h *Host) { h.Followers = MaxHostAudience + 1 }, []string{"followers"}},
		{"most followers", func(h *Host) { h.Followers, h.AvgViewers = MaxHostAudience, MaxHostAudience }, nil},
		{"negative viewers", func(h *Host) { h.AvgViewers = -5 }, []string{"avg_viewers"}},
		{"too many viewers", func(h *Host) { h.AvgViewers = MaxHostAudience + 1 }, []string{"avg_viewers"}},
		{"conversion above 1", func(h *Host) { h.ConversionRate = 1.01 }, []string{"conversion_rate"}},
		{"conversion negative", func(h *Host) { h.ConversionRate = -0.1 }, []string{"conversion_rate"}},
		{"conversion NaN", func(h *Host) { h.ConversionRate = math.NaN() }, []string{"conversion_rate"}},
		{"conversion bounds", func(h *Host) { h.ConversionRate = 1 }, nil},
		{"rating above 5", func(h *Host) { h.Rating = 5.01 }, []string{"rating"}},
		{"rating negative", func(h *Host) { h.Rating = -1 }, []string{"rating"}},
		{"rating infinite", func(h *Host) { h.Rating = math.Inf(1) }, []string{"rating"}},
		{"rating 0 and 5", func(h *Host) { h.Rating = 0 }, nil},
		{"rate negative", func(h *Host) { h.HourlyRateCNY = -1 }, []string{"hourly_rate_cny"}},
		{"rate too high", func(h *Host) { h.HourlyRateCNY = 1e6 + 1 }, []string{"hourly_rate_cny"}},
		{"rate NaN", func(h *Host) { h.HourlyRateCNY = math.NaN() }, []string{"hourly_rate_cny"}},
		{"rate -Inf", func(h *Host) { h.HourlyRateCNY = math.Inf(-1) }, []string{"hourly_rate_cny"}},
		{"rate free", func(h *Host) { h.HourlyRateCNY = 0 }, nil},
		{"timezone spelling", func(h *Host) { h.Timezone = "Asia/Shang hai" }, []string{"timezone"}},
		{"timezone slashes", func(h *Host) { h.Timezone = "/etc/passwd" }, []string{"timezone"}},
		{"timezone too long", func(h *Host) { h.Timezone = strings.Repeat("A", 65) }, []string{"timezone"}},
		{"timezone names", func(h *Host) { h.Timezone = "America/Argentina/Buenos_Aires" }, nil},
		{"timezone Etc", func(h *Host) { h.Timezone = "Etc/GMT-8" }, nil},
		{"no timezone", func(h *Host) { h.Timezone = "" }, nil},
		{"bad dates", func(h *Host) { h.AvailableDates = []string{"2026-12-12", "2026-02-30", "2026/12/12", "2026-1-2", ""} }, []string{"available_dates[1]", "available_dates[2]", "available_dates[3]", "available_dates[4]"}},
		{"366 dates", func(h *Host) { h.AvailableDates = manyDates(366) }, nil},
		{"367 dates", func(h *Host) { h.AvailableDates = manyDates(367) }, []string{"available_dates"}},
		{"bio_zh too long", func(h *Host) { h.BioZh = long(2001) }, []string{"bio_zh"}},
		{"bio_en too long", func(h *Host) { h.BioEn = strings.Repeat("a", 2001) }, []string{"bio_en"}},
		{"bios at the limit", func(h *Host) { h.BioZh, h.BioEn = long(2000), strings.Repeat("a", 2000) }, nil},
		{"bio with NUL", func(h *Host) { h.BioEn = "a\x00b" }, []string{"bio_en"}},
		{"everything wrong", func(h *Host) {
			h.Name = ""
			h.Languages = []HostLanguage{{"??", "??"}}
			h.Certification.Level = ""
			h.Rating = 6
		}, []string{"name", "languages[0].code", "languages[0].level", "certification.level", "rating"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := validHost()
			c.mutate(&h)
			err := PrepareHost(&h)
			got := fieldNames(err)
			if !slices.Equal(got, c.want) {
				t.Fatalf("fields %v, want %v (%v)", got, c.want, err)
			}
			if err != nil && !IsKind(err, KindInvalid) {
				t.Fatalf("kind %v", KindOf(err))
			}
		})
	}
}

func TestPrepareHostNormalises(t *testing.T) {
	h := validHost()
	h.Name = "  Lily 王 "
	h.Languages = []HostLanguage{{" ZH", LevelNative}, {"Ms", LevelConversational}}
	h.Markets = []string{"my", " US", "MY"}
	h.Categories = []string{"tea", " tea "}
	h.AvailableDates = []string{"2026-12-12", " 2026-12-10", "2026-12-12", "2026-11-30"}
	h.Certification.Level = " senior "
	h.Timezone = " Asia/Kuala_Lumpur "
	if err := PrepareHost(&h); err != nil {
		t.Fatal(err)
	}
	if h.Name != "Lily 王" || h.Languages[0].Code != "zh" || h.Languages[1].Code != "ms" ||
		!slices.Equal(h.Markets, []string{"MY", "US"}) || !slices.Equal(h.Categories, []string{"tea"}) ||
		!slices.Equal(h.AvailableDates, []string{"2026-11-30", "2026-12-10", "2026-12-12"}) ||
		h.Certification.Level != "senior" || h.Timezone != "Asia/Kuala_Lumpur" {
		t.Fatalf("not normalised: %+v", h)
	}
}

// validRequest is the Malaysian tea request of the API documentation.
func validRequest() HostRequest {
	return HostRequest{
		ID: "hr_tea", OrgID: "o_firm", Title: "Export tea to Malaysia",
		Categories: []string{"tea"}, TargetMarkets: []string{"MY"},
		Languages:        []LanguageNeed{{"zh", LevelFluent}, {"ms", LevelConversational}},
		Date:             "2026-12-12",
		BudgetCNYPerHour: 1000,
		RequireCertified: true,
		Notes:            "懂茶文化",
	}
}

func TestPrepareHostRequest(t *testing.T) {
	cases := []struct {
		name   string
		now    time.Time
		mutate func(*HostRequest)
		want   []string
	}{
		{"valid", hostNow, func(r *HostRequest) {}, nil},
		{"minimal", hostNow, func(r *HostRequest) { *r = HostRequest{Title: "t"} }, nil},
		{"title required", hostNow, func(r *HostRequest) { r.Title = " " }, []string{"title"}},
		{"title 200", hostNow, func(r *HostRequest) { r.Title = strings.Repeat("茶", 200) }, nil},
		{"title 201", hostNow, func(r *HostRequest) { r.Title = strings.Repeat("茶", 201) }, []string{"title"}},
		{"bad category", hostNow, func(r *HostRequest) { r.Categories = []string{"tea", "tee"} }, []string{"categories[1]"}},
		{"too many categories", hostNow, func(r *HostRequest) { r.Categories = slices.Repeat([]string{"tea"}, MaxProfileList+1) }, []string{"categories"}},
		{"bad market", hostNow, func(r *HostRequest) { r.TargetMarkets = []string{"my", "ZZ"} }, []string{"target_markets[1]"}},
		{"bad language", hostNow, func(r *HostRequest) { r.Languages[0].Code = "chinese" }, []string{"languages[0].code"}},
		{"bad level", hostNow, func(r *HostRequest) { r.Languages[1].MinLevel = "good" }, []string{"languages[1].min_level"}},
		{"missing level", hostNow, func(r *HostRequest) { r.Languages[1].MinLevel = "" }, []string{"languages[1].min_level"}},
		{"duplicate language", hostNow, func(r *HostRequest) { r.Languages[1].Code = "ZH" }, []string{"languages[1].code"}},
		{"no languages", hostNow, func(r *HostRequest) { r.Languages = nil }, nil},
		{"eleven languages", hostNow, func(r *HostRequest) {
			r.Languages = nil
			for _, c := range []string{"zh", "en", "ms", "ta", "th", "vi", "id", "ja", "ko", "fr", "de"} {
				r.Languages = append(r.Languages, LanguageNeed{c, LevelBusiness})
			}
		}, []string{"languages"}},
		{"any date", hostNow, func(r *HostRequest) { r.Date = "" }, nil},
		{"bad date", hostNow, func(r *HostRequest) { r.Date = "2026-13-01" }, []string{"date"}},
		{"date with time", hostNow, func(r *HostRequest) { r.Date = "2026-12-12T20:00:00+08:00" }, []string{"date"}},
		{"today", hostNow, func(r *HostRequest) { r.Date = "2026-12-01" }, nil},
		{"yesterday", hostNow, func(r *HostRequest) { r.Date = "2026-11-30" }, []string{"date"}},
		{"last year", hostNow, func(r *HostRequest) { r.Date = "2025-12-12" }, []string{"date"}},
		// 17:00 UTC on 1 December is already 2 December in China.
		{"yesterday in China time", time.Date(2026, 12, 1, 17, 0, 0, 0, time.UTC), func(r *HostRequest) { r.Date = "2026-12-01" }, []string{"date"}},
		{"today in China time", time.Date(2026, 12, 1, 17, 0, 0, 0, time.UTC), func(r *HostRequest) { r.Date = "2026-12-02" }, nil},
		{"budget negative", hostNow, func(r *HostRequest) { r.BudgetCNYPerHour = -1 }, []string{"budget_cny_per_hour"}},
		{"budget too high", hostNow, func(r *HostRequest) { r.BudgetCNYPerHour = 1e6 + 0.5 }, []string{"budget_cny_per_hour"}},
		{"budget NaN", hostNow, func(r *HostRequest) { r.BudgetCNYPerHour = math.NaN() }, []string{"budget_cny_per_hour"}},
		{"no budget", hostNow, func(r *HostRequest) { r.BudgetCNYPerHour = 0 }, nil},
		{"notes too long", hostNow, func(r *HostRequest) { r.Notes = strings.Repeat("茶", 2001) }, []string{"notes"}},
		{"weights", hostNow, func(r *HostRequest) { r.Weights = Weights{"language": 2, "bio": 0, "timezone": 0.5} }, nil},
		{"product factor weight", hostNow, func(r *HostRequest) { r.Weights = Weights{"text": 1} }, []string{"weights.text"}},
		{"negative weight", hostNow, func(r *HostRequest) { r.Weights = Weights{"bio": -1} }, []string{"weights.bio"}},
		{"NaN and Inf weights", hostNow, func(r *HostRequest) { r.Weights = Weights{"rating": math.NaN(), "audience": math.Inf(1)} }, []string{"weights.audience", "weights.rating"}},
		{"all weights zero", hostNow, func(r *HostRequest) {
			r.Weights = Weights{}
			for _, f := range HostFactors() {
				r.Weights[string(f)] = 0
			}
		}, []string{"weights"}},
		{"closed", hostNow, func(r *HostRequest) { r.Status = ProfileClosed }, nil},
		{"bad status", hostNow, func(r *HostRequest) { r.Status = "paused" }, []string{"status"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := validRequest()
			c.mutate(&r)
			err := PrepareHostRequest(&r, c.now)
			got := fieldNames(err)
			if !slices.Equal(got, c.want) {
				t.Fatalf("fields %v, want %v (%v)", got, c.want, err)
			}
			if err != nil && !IsKind(err, KindInvalid) {
				t.Fatalf("kind %v", KindOf(err))
			}
		})
	}
}

func TestPrepareHostRequestNormalises(t *testing.T) {
	r := HostRequest{Title: " tea ", Categories: []string{"tea", "tea"}, TargetMarkets: []string{"my", "MY", " sg"},
		Languages: []LanguageNeed{{"ZH", LevelFluent}}, Date: " 2026-12-12 ", Notes: " 懂茶 "}
	if err := PrepareHostRequest(&r, hostNow); err != nil {
		t.Fatal(err)
	}
	if r.Title != "tea" || !slices.Equal(r.Categories, []string{"tea"}) || !slices.Equal(r.TargetMarkets, []string{"MY", "SG"}) ||
		r.Languages[0].Code != "zh" || r.Date != "2026-12-12" || r.Notes != "懂茶" || r.Status != ProfileOpen {
		t.Fatalf("not normalised: %+v", r)
	}
}
