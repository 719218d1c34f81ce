package web

import (
	"time"

	"github.com/livematch/livematch/engine"
)

// Decoded API objects: only what the pages show. The API's JSON is the
// contract (shared/docs/api.md); these mirror it.

// certification is a product's certificate as the API returns it.
type certification struct {
	Type      string     `json:"type"`
	Number    string     `json:"number"`
	Issuer    string     `json:"issuer"`
	ExpiresAt *time.Time `json:"expires_at"`
	Valid     bool       `json:"valid"`
}

// product is a product as the API returns it.
type product struct {
	ID              string            `json:"id"`
	OrgID           string            `json:"org_id"`
	SKU             string            `json:"sku"`
	TitleZh         string            `json:"title_zh"`
	TitleEn         string            `json:"title_en"`
	DescriptionZh   string            `json:"description_zh"`
	DescriptionEn   string            `json:"description_en"`
	Category        string            `json:"category"`
	Tags            []string          `json:"tags"`
	PriceCNY        float64           `json:"price_cny"`
	LivePriceCNY    *float64          `json:"live_price_cny"`
	CommissionRate  float64           `json:"commission_rate"`
	Stock           int64             `json:"stock"`
	Booked          int64             `json:"booked"`
	Available       *int64            `json:"available"`
	MOQ             int64             `json:"moq"`
	LeadTimeDays    int               `json:"lead_time_days"`
	ShipFrom        string            `json:"ship_from"`
	ColdChain       bool              `json:"cold_chain"`
	ShelfLifeDays   int               `json:"shelf_life_days"`
	AvailableMonths []int             `json:"available_months"`
	Certifications  []certification   `json:"certifications"`
	OriginCountry   string            `json:"origin_country"`
	ExportReady     bool              `json:"export_ready"`
	SampleAvailable bool              `json:"sample_available"`
	ReviewStatus    string            `json:"review_status"`
	ReviewNote      string            `json:"review_note"`
	ReviewFlags     []reviewFlag      `json:"review_flags"`
	PovertyRelief   bool              `json:"poverty_relief"`
	Province        string            `json:"province"`
	ProvinceZh      string            `json:"province_name_zh"`
	ProvinceEn      string            `json:"province_name_en"`
	Highlights      map[string]string `json:"highlights"`
	Version         int64             `json:"version"`
	CreatedAt       time.Time         `json:"created_at"`
	UpdatedAt       time.Time         `json:"updated_at"`
}

// reviewFlag is a finding of the automatic screening.
type reviewFlag struct {
	Code      string `json:"code"`
	Severity  string `json:"severity"`
	Field     string `json:"field"`
	MessageZh string `json:"message_zh"`
	MessageEn string `json:"message_en"`
}

// org is an org as the API returns it.
type org struct {
	ID            string         `json:"id"`
	Kind          engine.OrgKind `json:"kind"`
	NameZh        string         `json:"name_zh"`
	NameEn        string         `json:"name_en"`
	RegionCode    string         `json:"region_code"`
	RegionNameZh  string         `json:"region_name_zh"`
	RegionNameEn  string         `json:"region_name_en"`
	Province      string         `json:"province"`
	ProvinceZh    string         `json:"province_name_zh"`
	ProvinceEn    string         `json:"province_name_en"`
	PovertyRelief bool           `json:"poverty_relief"`
	Countries     []string       `json:"countries"`
	Grade         string         `json:"grade"`
	Status        string         `json:"status"`
	Version       int64          `json:"version"`
	CreatedAt     time.Time      `json:"created_at"`
	UpdatedAt     time.Time      `json:"updated_at"`
	APIKey        string         `json:"api_key"`
}

// factor is one factor of a match's explanation.
type factor struct {
	Name         string  `json:"name"`
	Value        float64 `json:"value"`
	Weight       float64 `json:"weight"`
	Contribution float64 `json:"contribution"`
	ReasonZh     string  `json:"reason_zh"`
	ReasonEn     string  `json:"reason_en"`
}

// factorView is a factor as a bar of value × weight: the track is the
// factor's weight against the heaviest factor's, the fill its value times
// that, so a bar's length is proportional to its contribution
// (value × weight ÷ Σ weights) and bars compare across factors.
type factorView struct {
	Name, Label, Reason         string
	Value, Weight, Contribution float64
	Share, Fill                 float64
}

// Factors prepares a match's factors for the "factors" block, with labels
// and reasons in the page's language.
func (v *view) Factors(fs []factor) []factorView {
	heaviest := 0.0
	for _, f := range fs {
		heaviest = max(heaviest, f.Weight)
	}
	out := make([]factorView, len(fs))
	for i, f := range fs {
		fv := factorView{Name: f.Name, Label: v.T("factor." + f.Name), Reason: v.Name(f.ReasonZh, f.ReasonEn),
			Value: f.Value, Weight: f.Weight, Contribution: f.Contribution}
		if heaviest > 0 {
			fv.Share = f.Weight / heaviest
			fv.Fill = f.Value * f.Weight / heaviest
		}
		out[i] = fv
	}
	return out
}

// Excluded lists a match's exclusion counts with labels, largest first.
func (v *view) Excluded(m map[string]int) []excludedView {
	out := make([]excludedView, 0, len(m))
	for k, n := range m {
		if n > 0 {
			out = append(out, excludedView{Reason: k, Label: v.T("excluded." + k), Count: n})
		}
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && (out[j].Count > out[j-1].Count || out[j].Count == out[j-1].Count && out[j].Reason < out[j-1].Reason); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// excludedView is one gate's count of removed candidates.
type excludedView struct {
	Reason, Label string
	Count         int
}
