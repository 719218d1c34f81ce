package engine

import (
	"slices"
	"strings"
	"time"

	"golang.org/x/text/language"
)

// LanguageLevel is how well a host speaks a language.
type LanguageLevel string

// Language levels, strongest first.
const (
	LevelNative         LanguageLevel = "native"
	LevelFluent         LanguageLevel = "fluent"
	LevelBusiness       LanguageLevel = "business"
	LevelConversational LanguageLevel = "conversational"
)

// Rank orders the levels: native 4, fluent 3, business 2, conversational 1,
// anything else 0.
func (l LanguageLevel) Rank() int {
	switch l {
	case LevelNative:
		return 4
	case LevelFluent:
		return 3
	case LevelBusiness:
		return 2
	case LevelConversational:
		return 1
	}
	return 0
}

// Valid reports whether l is a known level.
func (l LanguageLevel) Valid() bool { return l.Rank() > 0 }

// HostLanguage is a language a host speaks: an ISO 639-1 code (lower case)
// and the level.
type HostLanguage struct {
	Code  string
	Level LanguageLevel
}

// HostCertification is a host's platform certification (主播认证). Level is
// junior, intermediate or senior; a zero ExpiresAt never expires.
type HostCertification struct {
	Level     string
	ExpiresAt time.Time
}

// Host is a live-stream host offered by an MCN for cross-border streams.
type Host struct {
	ID    string
	OrgID string
	Name  string

	Languages     []HostLanguage
	Markets       []string // ISO 3166-1 alpha-2 codes of markets the host has sold in
	Categories    []string // category codes the host knows
	Certification *HostCertification

	Followers      int64
	AvgViewers     int64
	ConversionRate float64 // 0..1
	Rating         float64 // 0..5; 0 = unrated
	HourlyRateCNY  float64 // >= 0

	// Timezone is an IANA name such as Asia/Shanghai. The engine only checks
	// its spelling; whether the zone exists is checked by the caller (the
	// engine does no I/O), and offsets come from HostMatchParams.UTCOffset.
	Timezone       string
	AvailableDates []string // civil dates YYYY-MM-DD, sorted, no duplicates

	BioZh string
	BioEn string

	Version   int64
	Seq       int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Limits on host and host-request fields.
const (
	MaxHostNameLen      = 100
	MaxHostLanguages    = 10
	MaxHostDates        = 366
	MaxHostAudience     = 10_000_000_000
	MaxHourlyRateCNY    = 1_000_000
	MaxHostBioLen       = 2000
	MaxHostTimezoneLen  = 64
	MaxHostRequestTitle = 200
	MaxHostNotesLen     = 2000
)

// hostCertLevels are the certification levels, lowest first; never modified.
var hostCertLevels = [...]string{"junior", "intermediate", "senior"}

// dateLayout is the layout of civil dates (YYYY-MM-DD).
const dateLayout = "2006-01-02"

// ValidLanguage reports whether code is an ISO 639-1 language code, written
// in lower case (en, zh, ms).
func ValidLanguage(code string) bool {
	if len(code) != 2 || code[0] < 'a' || code[0] > 'z' || code[1] < 'a' || code[1] > 'z' {
		return false
	}
	b, err := language.ParseBase(code)
	return err == nil && b.String() == code
}

// validDate reports whether s is a civil date written YYYY-MM-DD.
func validDate(s string) bool {
	if len(s) != len(dateLayout) {
		return false
	}
	_, err := time.Parse(dateLayout, s)
	return err == nil
}

// PrepareHost validates a host as submitted by its MCN and normalises it:
// text is trimmed, language codes are lower-cased, markets upper-cased,
// duplicate markets, categories and dates dropped, and the dates sorted.
//
// It returns an *Error of KindInvalid naming every bad field by its JSON
// name: name (required, at most 100 characters); languages (1 to 10) with
// languages[i].code (an ISO 639-1 code, each code once) and
// languages[i].level (native, fluent, business or conversational);
// markets[i] (ISO 3166-1 alpha-2); categories[i] (the category vocabulary);
// certification.level (junior, intermediate or senior); followers and
// avg_viewers (0 to 1e10); conversion_rate (0 to 1); rating (0 to 5);
// hourly_rate_cny (0 to 1e6); timezone (the spelling of an IANA name);
// available_dates (at most 366) with available_dates[i] (YYYY-MM-DD); bio_zh
// and bio_en (at most 2000 characters). NaN and infinities are out of every
// range. A list with too many items is named without an index.
func PrepareHost(h *Host) error {
	const op = "engine.PrepareHost"
	var pr Problems

	h.Name = strings.TrimSpace(h.Name)
	checkText(&pr, "name", h.Name, 1, MaxHostNameLen)

	switch n := len(h.Languages); {
	case n == 0:
		pr.Add("languages", "at least one language is required")
	case n > MaxHostLanguages:
		pr.Add("languages", "at most %d languages", MaxHostLanguages)
	}
	for i := range h.Languages {
		l := &h.Languages[i]
		f := indexed("languages", i)
		l.Code = strings.ToLower(strings.TrimSpace(l.Code))
		switch {
		case !ValidLanguage(l.Code):
			pr.Add(f+".code", "must be an ISO 639-1 language code such as zh, en or ms: %q", clip(l.Code))
		case slices.ContainsFunc(h.Languages[:i], func(o HostLanguage) bool { return o.Code == l.Code }):
			pr.Add(f+".code", "language %q is listed twice", l.Code)
		}
		if !l.Level.Valid() {
			pr.Add(f+".level", "must be native, fluent, business or conversational")
		}
	}

	h.Markets = prepareList(&pr, "markets", h.Markets, checkMarket)
	h.Categories = prepareList(&pr, "categories", h.Categories, checkCategory)

	if c := h.Certification; c != nil {
		c.Level = strings.TrimSpace(c.Level)
		if !slices.Contains(hostCertLevels[:], c.Level) {
			pr.Add("certification.level", "must be junior, intermediate or senior")
		}
	}

	if h.Followers < 0 || h.Followers > MaxHostAudience {
		pr.Add("followers", "must be between 0 and %d", int64(MaxHostAudience))
	}
	if h.AvgViewers < 0 || h.AvgViewers > MaxHostAudience {
		pr.Add("avg_viewers", "must be between 0 and %d", int64(MaxHostAudience))
	}
	checkRange(&pr, "conversion_rate", h.ConversionRate, 0, 1)
	checkRange(&pr, "rating", h.Rating, 0, 5)
	checkRange(&pr, "hourly_rate_cny", h.HourlyRateCNY, 0, MaxHourlyRateCNY)

	h.Timezone = strings.TrimSpace(h.Timezone)
	if h.Timezone != "" && !timezoneSpelling(h.Timezone) {
		pr.Add("timezone", "must be an IANA time zone name such as Asia/Shanghai")
	}

	if len(h.AvailableDates) > MaxHostDates {
		pr.Add("available_dates", "at most %d dates", MaxHostDates)
	}
	for i, d := range h.AvailableDates {
		d = strings.TrimSpace(d)
		h.AvailableDates[i] = d
		if !validDate(d) {
			pr.Add(indexed("available_dates", i), "must be a date written YYYY-MM-DD: %q", clip(d))
		}
	}
	if h.AvailableDates != nil {
		h.AvailableDates = slices.Compact(slices.Sorted(slices.Values(h.AvailableDates)))
	}

	h.BioZh = strings.TrimSpace(h.BioZh)
	h.BioEn = strings.TrimSpace(h.BioEn)
	checkText(&pr, "bio_zh", h.BioZh, 0, MaxHostBioLen)
	checkText(&pr, "bio_en", h.BioEn, 0, MaxHostBioLen)
	return pr.Err(op)
}

// timezoneSpelling reports whether s is spelt like an IANA time zone name
// (letters, digits and _ + - / only, not starting or ending with /).
func timezoneSpelling(s string) bool {
	if len(s) > MaxHostTimezoneLen || s[0] == '/' || s[len(s)-1] == '/' || strings.Contains(s, "//") {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '+', r == '-', r == '/':
		default:
			return false
		}
	}
	return true
}

func checkMarket(s string) (string, string) {
	s = strings.ToUpper(s)
	if !ValidCountry(s) {
		return s, "must be an ISO 3166-1 alpha-2 code such as MY or US"
	}
	return s, ""
}

func checkCategory(s string) (string, string) {
	if _, ok := CategoryByCode(s); !ok {
		return s, "unknown category (see /v1/meta/categories)"
	}
	return s, ""
}

// LanguageNeed is a language a host request requires, at a minimum level.
type LanguageNeed struct {
	Code     string
	MinLevel LanguageLevel
}

// HostRequest is what a cross-border firm (or importer) looks for in a host:
// hard limits (languages at a minimum level, certification, a date, a
// budget) and preferences (categories, target markets, notes matched against
// bios, factor weights).
type HostRequest struct {
	ID    string
	OrgID string
	Title string

	Categories    []string
	TargetMarkets []string
	Languages     []LanguageNeed

	Date             string  // YYYY-MM-DD; "" = any date
	BudgetCNYPerHour float64 // 0 = no budget limit
	RequireCertified bool
	Notes            string

	Weights Weights       // by host factor name (HostFactors); missing = 1
	Status  ProfileStatus // open (default) or closed

	Version   int64
	Seq       int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// PrepareHostRequest validates and normalises a host request: it trims
// text, lower-cases language codes, upper-cases target markets, drops
// duplicate categories and markets, and defaults the status to open. now is
// the clock: a date before today in China time (UTC+8) is invalid.
//
// It returns an *Error of KindInvalid naming every bad field by its JSON
// name: title (required, at most 200 characters); categories[i];
// target_markets[i]; languages (at most 10) with languages[i].code (ISO
// 639-1, each code once) and languages[i].min_level; date (YYYY-MM-DD, today
// or later); budget_cny_per_hour (0 to 1e6); notes (at most 2000
// characters); weights.<name> (unknown host factor, negative or not finite)
// and weights (every factor switched off); status (open or closed).
func PrepareHostRequest(r *HostRequest, now time.Time) error {
	const op = "engine.PrepareHostRequest"
	var pr Problems

	r.Title = strings.TrimSpace(r.Title)
	checkText(&pr, "title", r.Title, 1, MaxHostRequestTitle)

	r.Categories = prepareList(&pr, "categories", r.Categories, checkCategory)
	r.TargetMarkets = prepareList(&pr, "target_markets", r.TargetMarkets, checkMarket)

	if len(r.Languages) > MaxHostLanguages {
		pr.Add("languages", "at most %d languages", MaxHostLanguages)
	}
	for i := range r.Languages {
		l := &r.Languages[i]
		f := indexed("languages", i)
		l.Code = strings.ToLower(strings.TrimSpace(l.Code))
		switch {
		case !ValidLanguage(l.Code):
			pr.Add(f+".code", "must be an ISO 639-1 language code such as zh, en or ms: %q", clip(l.Code))
		case slices.ContainsFunc(r.Languages[:i], func(o LanguageNeed) bool { return o.Code == l.Code }):
			pr.Add(f+".code", "language %q is listed twice", l.Code)
		}
		if !l.MinLevel.Valid() {
			pr.Add(f+".min_level", "must be native, fluent, business or conversational")
		}
	}

	r.Date = strings.TrimSpace(r.Date)
	if r.Date != "" {
		switch today := now.In(cst).Format(dateLayout); {
		case !validDate(r.Date):
			pr.Add("date", "must be a date written YYYY-MM-DD: %q", clip(r.Date))
		case r.Date < today:
			pr.Add("date", "must not lie before today (%s, China time)", today)
		}
	}
	checkRange(&pr, "budget_cny_per_hour", r.BudgetCNYPerHour, 0, MaxHourlyRateCNY)
	r.Notes = strings.TrimSpace(r.Notes)
	checkText(&pr, "notes", r.Notes, 0, MaxHostNotesLen)

	checkWeights(&pr, r.Weights, hostFactorList[:])

	if r.Status == "" {
		r.Status = ProfileOpen
	} else if !r.Status.Valid() {
		pr.Add("status", "must be open or closed")
	}
	return pr.Err(op)
}
