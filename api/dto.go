package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/livematch/livematch/engine"
)

// --- orgs ---

type orgIn struct {
	Kind       string   `json:"kind"`
	NameZh     string   `json:"name_zh"`
	NameEn     string   `json:"name_en"`
	RegionCode string   `json:"region_code"`
	Countries  []string `json:"countries"`
	Grade      string   `json:"grade"`
	Status     string   `json:"status"`
}

func (in *orgIn) toEngine() *engine.Org {
	return &engine.Org{Kind: engine.OrgKind(in.Kind), NameZh: in.NameZh, NameEn: in.NameEn, RegionCode: in.RegionCode,
		Countries: in.Countries, Grade: engine.Grade(in.Grade), Status: engine.OrgStatus(in.Status)}
}

type orgPatchIn struct {
	Grade  *string `json:"grade"`
	Status *string `json:"status"`
}

type orgOut struct {
	ID            string    `json:"id"`
	Kind          string    `json:"kind"`
	NameZh        string    `json:"name_zh"`
	NameEn        string    `json:"name_en"`
	RegionCode    string    `json:"region_code"`
	RegionNameZh  string    `json:"region_name_zh,omitempty"`
	RegionNameEn  string    `json:"region_name_en,omitempty"`
	Province      string    `json:"province"`
	ProvinceZh    string    `json:"province_name_zh,omitempty"`
	ProvinceEn    string    `json:"province_name_en,omitempty"`
	PovertyRelief bool      `json:"poverty_relief"`
	Countries     []string  `json:"countries"`
	Grade         string    `json:"grade"`
	Status        string    `json:"status"`
	Version       int64     `json:"version"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
	APIKey        string    `json:"api_key,omitempty"`
}

func (s *Server) orgOut(o *engine.Org) orgOut {
	out := orgOut{ID: o.ID, Kind: string(o.Kind), NameZh: o.NameZh, NameEn: o.NameEn, RegionCode: o.RegionCode,
		Province: o.ProvinceCode, PovertyRelief: o.PovertyRelief, Countries: o.Countries, Grade: string(o.Grade),
		Status: string(o.Status), Version: o.Version, CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt}
	if out.Countries == nil {
		out.Countries = []string{}
	}
	if r, ok := s.regions.Region(o.RegionCode); ok {
		out.RegionNameZh, out.RegionNameEn = r.NameZh, r.NameEn
	}
	if r, ok := s.regions.Region(o.ProvinceCode); ok {
		out.ProvinceZh, out.ProvinceEn = r.NameZh, r.NameEn
	}
	return out
}

// --- products ---

type productIn struct {
	SKU             string            `json:"sku"`
	TitleZh         string            `json:"title_zh"`
	TitleEn         string            `json:"title_en"`
	DescriptionZh   string            `json:"description_zh"`
	DescriptionEn   string            `json:"description_en"`
	Category        string            `json:"category"`
	Tags            []string          `json:"tags"`
	PriceCNY        *float64          `json:"price_cny"`
	LivePriceCNY    *float64          `json:"live_price_cny"`
	CommissionRate  *float64          `json:"commission_rate"`
	Stock           *int64            `json:"stock"`
	MOQ             int64             `json:"moq"`
	LeadTimeDays    int               `json:"lead_time_days"`
	ShipFrom        string            `json:"ship_from"`
	ColdChain       bool              `json:"cold_chain"`
	ShelfLifeDays   int               `json:"shelf_life_days"`
	AvailableMonths []int             `json:"available_months"`
	Certifications  []json.RawMessage `json:"certifications"`
	OriginCountry   string            `json:"origin_country"`
	ExportReady     bool              `json:"export_ready"`
	SampleAvailable bool              `json:"sample_available"`
}

type certObj struct {
	Type      string `json:"type"`
	Number    string `json:"number"`
	Issuer    string `json:"issuer"`
	ExpiresAt string `json:"expires_at"`
}

// toEngine converts the input, reporting missing required fields and
// malformed certifications; engine.PrepareProduct checks the rest.
func (in *productIn) toEngine() (*engine.Product, []engine.FieldError) {
	var p engine.Problems
	out := &engine.Product{SKU: in.SKU, TitleZh: in.TitleZh, TitleEn: in.TitleEn, DescriptionZh: in.DescriptionZh,
		DescriptionEn: in.DescriptionEn, Category: in.Category, Tags: in.Tags, MOQ: in.MOQ, LeadTimeDays: in.LeadTimeDays,
		ShipFrom: in.ShipFrom, ColdChain: in.ColdChain, ShelfLifeDays: in.ShelfLifeDays, AvailableMonths: in.AvailableMonths,
		OriginCountry: in.OriginCountry, ExportReady: in.ExportReady, SampleAvailable: in.SampleAvailable}
	if in.PriceCNY == nil {
		p.Add("price_cny", "is required")
	} else {
		out.PriceCNY = *in.PriceCNY
	}
	if in.LivePriceCNY != nil {
		out.LivePriceCNY = *in.LivePriceCNY
		if *in.LivePriceCNY == 0 {
			p.Add("live_price_cny", "must be above 0 (leave it out for no live price)")
		}
	}
	if in.CommissionRate != nil {
		out.CommissionRate = *in.CommissionRate
	}
	if in.Stock == nil {
		p.Add("stock", "is required")
	} else {
		out.Stock = *in.Stock
	}
	for i, raw := range in.Certifications {
		field := "certifications[" + strconv.Itoa(i) + "]"
		c, err := parseCert(raw)
		if err != nil {
			p.Add(field, "%s", err.Error())
			continue
		}
		out.Certifications = append(out.Certifications, c)
	}
	return out, p.Fields
}

func parseCert(raw json.RawMessage) (engine.Certification, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		var t string
		if err := json.Unmarshal(raw, &t); err != nil {
			return engine.Certification{}, fmt.Errorf("must be a certification type or an object with a type")
		}
		return engine.Certification{Type: t}, nil
	}
	if len(raw) == 0 || raw[0] != '{' {
		return engine.Certification{}, fmt.Errorf("must be a certification type or an object with a type")
	}
	var o certObj
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&o); err != nil {
		if m := unknownField.FindStringSubmatch(err.Error()); m != nil {
			return engine.Certification{}, fmt.Errorf("unknown field %q (allowed: type, number, issuer, expires_at)", m[1])
		}
		return engine.Certification{}, fmt.Errorf("type, number, issuer and expires_at must be strings")
	}
	c := engine.Certification{Type: o.Type, Number: o.Number, Issuer: o.Issuer}
	if o.Type == "" {
		return c, fmt.Errorf("type is required")
	}
	if o.ExpiresAt != "" {
		t, err := time.Parse(time.RFC3339, o.ExpiresAt)
		if err != nil {
			return c, fmt.Errorf("expires_at must be an RFC 3339 time such as 2027-10-31T00:00:00Z")
		}
		c.ExpiresAt = t.UTC()
	}
	return c, nil
}

type certOut struct {
	Type      string     `json:"type"`
	Number    string     `json:"number,omitempty"`
	Issuer    string     `json:"issuer,omitempty"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	Valid     bool       `json:"valid"`
}

type productOut struct {
	ID              string    `json:"id"`
	OrgID           string    `json:"org_id"`
	SKU             string    `json:"sku"`
	TitleZh         string    `json:"title_zh"`
	TitleEn         string    `json:"title_en"`
	DescriptionZh   string    `json:"description_zh"`
	DescriptionEn   string    `json:"description_en"`
	Category        string    `json:"category"`
	Tags            []string  `json:"tags"`
	PriceCNY        float64   `json:"price_cny"`
	LivePriceCNY    *float64  `json:"live_price_cny,omitempty"`
	CommissionRate  float64   `json:"commission_rate"`
	Stock           int64     `json:"stock"`
	Booked          int64     `json:"booked"`
	Available       int64     `json:"available"`
	MOQ             int64     `json:"moq"`
	LeadTimeDays    int       `json:"lead_time_days"`
	ShipFrom        string    `json:"ship_from"`
	ColdChain       bool      `json:"cold_chain"`
	ShelfLifeDays   int       `json:"shelf_life_days"`
	AvailableMonths []int     `json:"available_months"`
	Certifications  []certOut `json:"certifications"`
	OriginCountry   string    `json:"origin_country"`
	ExportReady     bool      `json:"export_ready"`
	SampleAvailable bool      `json:"sample_available"`
	ReviewStatus    string    `json:"review_status"`
	PovertyRelief   bool      `json:"poverty_relief"`
	Province        string    `json:"province"`
	ProvinceZh      string    `json:"province_name_zh,omitempty"`
	ProvinceEn      string    `json:"province_name_en,omitempty"`
	Version         int64     `json:"version"`
	CreatedAt       time.Time `json:"created_at"`
	UpdatedAt       time.Time `json:"updated_at"`
}

func (s *Server) productOut(p *engine.Product) productOut {
	out := productOut{ID: p.ID, OrgID: p.OrgID, SKU: p.SKU, TitleZh: p.TitleZh, TitleEn: p.TitleEn,
		DescriptionZh: p.DescriptionZh, DescriptionEn: p.DescriptionEn, Category: p.Category, Tags: p.Tags,
		PriceCNY: p.PriceCNY, CommissionRate: p.CommissionRate, Stock: p.Stock, Booked: p.Booked, Available: p.Available(), MOQ: p.MOQ,
		LeadTimeDays: p.LeadTimeDays, ShipFrom: p.ShipFrom, ColdChain: p.ColdChain, ShelfLifeDays: p.ShelfLifeDays,
		AvailableMonths: p.AvailableMonths, OriginCountry: p.OriginCountry, ExportReady: p.ExportReady,
		SampleAvailable: p.SampleAvailable, ReviewStatus: string(p.ReviewStatus), PovertyRelief: p.PovertyRelief,
		Province: p.ProvinceCode, Version: p.Version, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt}
	if p.LivePriceCNY > 0 {
		lp := p.LivePriceCNY
		out.LivePriceCNY = &lp
	}
	if out.Tags == nil {
		out.Tags = []string{}
	}
	if out.AvailableMonths == nil {
		out.AvailableMonths = []int{}
	}
	now := s.now()
	out.Certifications = make([]certOut, len(p.Certifications))
	for i, c := range p.Certifications {
		co := certOut{Type: c.Type, Number: c.Number, Issuer: c.Issuer, Valid: c.ValidAt(now)}
		if !c.ExpiresAt.IsZero() {
			t := c.ExpiresAt
			co.ExpiresAt = &t
		}
		out.Certifications[i] = co
	}
	if r, ok := s.regions.Region(p.ProvinceCode); ok {
		out.ProvinceZh, out.ProvinceEn = r.NameZh, r.NameEn
	}
	return out
}
