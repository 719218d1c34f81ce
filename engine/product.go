package engine

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/language"
)

// ReviewStatus is a product's review state (商品审核).
type ReviewStatus string

// Review states.
const (
	ReviewPending  ReviewStatus = "pending"
	ReviewApproved ReviewStatus = "approved"
	ReviewRejected ReviewStatus = "rejected"
)

// Valid reports whether s is a known review state.
func (s ReviewStatus) Valid() bool {
	return s == ReviewPending || s == ReviewApproved || s == ReviewRejected
}

// Certification is a certificate a product holds. Only Type is required; an
// expired certificate (ExpiresAt before the time of use) counts for nothing.
type Certification struct {
	Type      string
	Number    string
	Issuer    string
	ExpiresAt time.Time // zero: does not expire
}

// ValidAt reports whether the certificate is in force at t.
func (c Certification) ValidAt(t time.Time) bool {
	return c.ExpiresAt.IsZero() || c.ExpiresAt.After(t)
}

// Product is a listed product with everything search and matching need.
type Product struct {
	ID             string
	OrgID          string
	SKU            string
	TitleZh        string
	TitleEn        string
	DescriptionZh  string
	DescriptionEn  string
	Category       string
	Tags           []string
	PriceCNY       float64
	LivePriceCNY   float64 // 0: no live price
	CommissionRate float64 // 0..1
	Stock          int64
	// Booked is the units held and confirmed by reservations (derived from
	// the stock ledger, never from input); see Available.
	Booked          int64
	MOQ             int64
	LeadTimeDays    int
	ShipFrom        string // region code
	ColdChain       bool
	ShelfLifeDays   int   // 0: not perishable / unknown
	AvailableMonths []int // 1..12; empty: all year
	Certifications  []Certification
	OriginCountry   string
	ExportReady     bool
	SampleAvailable bool

	ReviewStatus ReviewStatus

	// Derived: the province of ShipFrom, and the owning org's poverty-relief
	// status (from the org's region, never from input).
	ProvinceCode  string
	PovertyRelief bool

	Version   int64
	Seq       int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Available is what can still be reserved: Stock minus Booked, never
// below 0. Search's in_stock, the min_stock gate and the stock factor use it.
func (p *Product) Available() int64 { return Available(p.Stock, p.Booked) }

// EffectivePrice is the price used for bands and price fit: the live price
// when set, else the list price.
func (p *Product) EffectivePrice() float64 {
	if p.LivePriceCNY > 0 {
		return p.LivePriceCNY
	}
	return p.PriceCNY
}

// ValidCerts returns the types of the certificates in force at t, without duplicates.
func (p *Product) ValidCerts(t time.Time) []string {
	out := make([]string, 0, len(p.Certifications))
	for _, c := range p.Certifications {
		if c.ValidAt(t) && !contains(out, c.Type) {
			out = append(out, c.Type)
		}
	}
	return out
}

// Limits on product fields.
const (
	MaxSKULen       = 64
	MaxTitleLen     = 200
	MaxDescLen      = 5000
	MaxTags         = 30
	MaxTagLen       = 50
	MaxPriceCNY     = 10_000_000
	MaxStock        = 1_000_000_000
	MaxLeadTimeDays = 365
	MaxShelfLife    = 3650
	MaxCerts        = 20
)

// PrepareProduct validates a product as submitted by its owner, normalises it
// (trims text, sorts nothing, fills defaults) and derives ProvinceCode from
// ShipFrom. The owner's poverty-relief status is copied from owner. It returns
// an *Error of KindInvalid naming every bad field.
func PrepareProduct(p *Product, owner *Org, regions RegionBook) error {
	const op = "engine.PrepareProduct"
	var pr Problems
	p.SKU = strings.TrimSpace(p.SKU)
	switch {
	case p.SKU == "":
		pr.Add("sku", "is required")
	case utf8.RuneCountInString(p.SKU) > MaxSKULen:
		pr.Add("sku", "at most %d characters", MaxSKULen)
	case strings.ContainsFunc(p.SKU, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		pr.Add("sku", "must not contain control characters")
	}
	p.TitleZh = strings.TrimSpace(p.TitleZh)
	p.TitleEn = strings.TrimSpace(p.TitleEn)
	checkText(&pr, "title_zh", p.TitleZh, 0, MaxTitleLen)
	checkText(&pr, "title_en", p.TitleEn, 0, MaxTitleLen)
	if p.TitleZh == "" && p.TitleEn == "" {
		pr.Add("title_zh", "title_zh or title_en is required")
	}
	checkText(&pr, "description_zh", p.DescriptionZh, 0, MaxDescLen)
	checkText(&pr, "description_en", p.DescriptionEn, 0, MaxDescLen)
	if _, ok := CategoryByCode(p.Category); !ok {
		pr.Add("category", "unknown category %q (see /v1/meta/categories)", clip(p.Category))
	}
	if len(p.Tags) > MaxTags {
		pr.Add("tags", "at most %d tags", MaxTags)
	}
	for i, t := range p.Tags {
		p.Tags[i] = strings.TrimSpace(t)
		checkText(&pr, indexed("tags", i), p.Tags[i], 1, MaxTagLen)
	}
	checkRange(&pr, "price_cny", p.PriceCNY, 0.01, MaxPriceCNY)
	if p.LivePriceCNY != 0 {
		checkRange(&pr, "live_price_cny", p.LivePriceCNY, 0.01, MaxPriceCNY)
	}
	checkRange(&pr, "commission_rate", p.CommissionRate, 0, 1)
	if p.Stock < 0 || p.Stock > MaxStock {
		pr.Add("stock", "must be between 0 and %d", MaxStock)
	}
	if p.MOQ == 0 {
		p.MOQ = 1
	}
	if p.MOQ < 1 || p.MOQ > MaxStock {
		pr.Add("moq", "must be between 1 and %d", MaxStock)
	}
	if p.LeadTimeDays < 0 || p.LeadTimeDays > MaxLeadTimeDays {
		pr.Add("lead_time_days", "must be between 0 and %d", MaxLeadTimeDays)
	}
	if p.ShelfLifeDays < 0 || p.ShelfLifeDays > MaxShelfLife {
		pr.Add("shelf_life_days", "must be between 0 and %d", MaxShelfLife)
	}
	seen := map[int]bool{}
	for i, m := range p.AvailableMonths {
		if m < 1 || m > 12 {
			pr.Add(indexed("available_months", i), "must be a month from 1 to 12")
		} else if seen[m] {
			pr.Add(indexed("available_months", i), "month %d is listed twice", m)
		}
		seen[m] = true
	}
	if len(p.Certifications) > MaxCerts {
		pr.Add("certifications", "at most %d certifications", MaxCerts)
	}
	for i, c := range p.Certifications {
		f := indexed("certifications", i)
		if _, ok := CertTypeByCode(c.Type); !ok {
			pr.Add(f+".type", "unknown certification type %q (see /v1/meta/certifications)", clip(c.Type))
		}
		checkText(&pr, f+".number", c.Number, 0, 100)
		checkText(&pr, f+".issuer", c.Issuer, 0, 200)
	}
	if p.OriginCountry == "" {
		p.OriginCountry = "CN"
	}
	p.OriginCountry = strings.ToUpper(p.OriginCountry)
	if !ValidCountry(p.OriginCountry) {
		pr.Add("origin_country", "must be an ISO 3166-1 alpha-2 code such as CN or NZ")
	}
	if p.ShipFrom == "" && owner != nil {
		p.ShipFrom = owner.RegionCode
	}
	if r, ok := regions.Region(p.ShipFrom); ok {
		p.ShipFrom = r.Code
		p.ProvinceCode = r.ProvinceCode
	} else {
		pr.Add("ship_from", "must be a six-digit GB/T 2260 region code (see /v1/meta/regions)")
	}
	if p.ReviewStatus == "" {
		p.ReviewStatus = ReviewApproved
	} else if !p.ReviewStatus.Valid() {
		pr.Add("review_status", "must be pending, approved or rejected")
	}
	if owner != nil {
		p.OrgID = owner.ID
		p.PovertyRelief = owner.PovertyRelief
	}
	return pr.Err(op)
}

// ValidCountry reports whether s is an ISO 3166-1 alpha-2 country code.
func ValidCountry(s string) bool {
	if len(s) != 2 || s[0] < 'A' || s[0] > 'Z' || s[1] < 'A' || s[1] > 'Z' {
		return false
	}
	r, err := language.ParseRegion(s)
	return err == nil && r.IsCountry() && r.String() == s
}

func checkText(p *Problems, field, s string, minRunes, maxRunes int) {
	if !utf8.ValidString(s) {
		p.Add(field, "must be valid UTF-8")
		return
	}
	if strings.ContainsRune(s, 0) {
		p.Add(field, "must not contain NUL characters")
		return
	}
	n := utf8.RuneCountInString(s)
	if n < minRunes {
		p.Add(field, "is required")
	} else if n > maxRunes {
		p.Add(field, "at most %d characters", maxRunes)
	}
}

func checkRange(p *Problems, field string, v, lo, hi float64) {
	if !(v >= lo && v <= hi) { // also catches NaN
		p.Add(field, "must be between %g and %g", lo, hi)
	}
}

func indexed(field string, i int) string { return fmt.Sprintf("%s[%d]", field, i) }

func clip(s string) string {
	if utf8.RuneCountInString(s) > 40 {
		return string([]rune(s)[:40]) + "…"
	}
	return s
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
