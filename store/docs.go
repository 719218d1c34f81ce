package store

import (
	"time"

	"github.com/livematch/livematch/engine"
)

type certDoc struct {
	Type      string    `bson:"type"`
	Number    string    `bson:"number,omitempty"`
	Issuer    string    `bson:"issuer,omitempty"`
	ExpiresAt time.Time `bson:"expires_at,omitempty"`
}

type productDoc struct {
	ID             string   `bson:"_id"`
	OrgID          string   `bson:"org_id"`
	SKU            string   `bson:"sku"`
	TitleZh        string   `bson:"title_zh"`
	TitleEn        string   `bson:"title_en"`
	DescriptionZh  string   `bson:"description_zh"`
	DescriptionEn  string   `bson:"description_en"`
	Category       string   `bson:"category"`
	Tags           []string `bson:"tags"`
	PriceCNY       float64  `bson:"price_cny"`
	LivePriceCNY   float64  `bson:"live_price_cny"`
	CommissionRate float64  `bson:"commission_rate"`
	Stock          int64    `bson:"stock"`
	// Booked follows the stock ledger (stocksync.go); Ledger says that the
	// product has one, so that its stock changes go through it.
	Booked          int64     `bson:"booked,omitempty"`
	Ledger          bool      `bson:"ledger,omitempty"`
	MOQ             int64     `bson:"moq"`
	LeadTimeDays    int       `bson:"lead_time_days"`
	ShipFrom        string    `bson:"ship_from"`
	ColdChain       bool      `bson:"cold_chain"`
	ShelfLifeDays   int       `bson:"shelf_life_days"`
	AvailableMonths []int     `bson:"available_months"`
	Certifications  []certDoc `bson:"certifications"`
	OriginCountry   string    `bson:"origin_country"`
	ExportReady     bool      `bson:"export_ready"`
	SampleAvailable bool      `bson:"sample_available"`
	ReviewStatus    string    `bson:"review_status"`
	ProvinceCode    string    `bson:"province_code"`
	PovertyRelief   bool      `bson:"poverty_relief"`
	Version         int64     `bson:"version"`
	Seq             int64     `bson:"seq"`
	Deleted         bool      `bson:"deleted,omitempty"`
	CreatedAt       time.Time `bson:"created_at"`
	UpdatedAt       time.Time `bson:"updated_at"`
}

func toProductDoc(p *engine.Product) productDoc {
	d := productDoc{
		ID: p.ID, OrgID: p.OrgID, SKU: p.SKU, TitleZh: p.TitleZh, TitleEn: p.TitleEn,
		DescriptionZh: p.DescriptionZh, DescriptionEn: p.DescriptionEn, Category: p.Category,
		Tags: p.Tags, PriceCNY: p.PriceCNY, LivePriceCNY: p.LivePriceCNY, CommissionRate: p.CommissionRate,
		Stock: p.Stock, Booked: p.Booked, MOQ: p.MOQ, LeadTimeDays: p.LeadTimeDays, ShipFrom: p.ShipFrom,
		ColdChain: p.ColdChain, ShelfLifeDays: p.ShelfLifeDays, AvailableMonths: p.AvailableMonths,
		OriginCountry: p.OriginCountry, ExportReady: p.ExportReady, SampleAvailable: p.SampleAvailable,
		ReviewStatus: string(p.ReviewStatus), ProvinceCode: p.ProvinceCode, PovertyRelief: p.PovertyRelief,
		Version: p.Version, Seq: p.Seq, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt,
	}
	if d.Tags == nil {
		d.Tags = []string{}
	}
	if d.AvailableMonths == nil {
		d.AvailableMonths = []int{}
	}
	d.Certifications = make([]certDoc, len(p.Certifications))
	for i, c := range p.Certifications {
		d.Certifications[i] = certDoc(c)
	}
	return d
}

func (d *productDoc) toEngine() *engine.Product {
	p := &engine.Product{
		ID: d.ID, OrgID: d.OrgID, SKU: d.SKU, TitleZh: d.TitleZh, TitleEn: d.TitleEn,
		DescriptionZh: d.DescriptionZh, DescriptionEn: d.DescriptionEn, Category: d.Category,
		Tags: d.Tags, PriceCNY: d.PriceCNY, LivePriceCNY: d.LivePriceCNY, CommissionRate: d.CommissionRate,
		Stock: d.Stock, Booked: d.Booked, MOQ: d.MOQ, LeadTimeDays: d.LeadTimeDays, ShipFrom: d.ShipFrom,
		ColdChain: d.ColdChain, ShelfLifeDays: d.ShelfLifeDays, AvailableMonths: d.AvailableMonths,
		OriginCountry: d.OriginCountry, ExportReady: d.ExportReady, SampleAvailable: d.SampleAvailable,
		ReviewStatus: engine.ReviewStatus(d.ReviewStatus), ProvinceCode: d.ProvinceCode, PovertyRelief: d.PovertyRelief,
		Version: d.Version, Seq: d.Seq, CreatedAt: d.CreatedAt.UTC(), UpdatedAt: d.UpdatedAt.UTC(),
	}
	if len(d.Certifications) > 0 {
		p.Certifications = make([]engine.Certification, len(d.Certifications))
		for i, c := range d.Certifications {
			c.ExpiresAt = c.ExpiresAt.UTC()
			p.Certifications[i] = engine.Certification(c)
		}
	}
	return p
}

type orgDoc struct {
	ID            string    `bson:"_id"`
	Kind          string    `bson:"kind"`
	NameZh        string    `bson:"name_zh"`
	NameEn        string    `bson:"name_en"`
	RegionCode    string    `bson:"region_code"`
	Countries     []string  `bson:"countries"`
	Grade         string    `bson:"grade"`
	Status        string    `bson:"status"`
	ProvinceCode  string    `bson:"province_code"`
	PovertyRelief bool      `bson:"poverty_relief"`
	KeyID         string    `bson:"key_id,omitempty"`
	Version       int64     `bson:"version"`
	Seq           int64     `bson:"seq"`
	CreatedAt     time.Time `bson:"created_at"`
	UpdatedAt     time.Time `bson:"updated_at"`
}

func toOrgDoc(o *engine.Org) orgDoc {
	d := orgDoc{ID: o.ID, Kind: string(o.Kind), NameZh: o.NameZh, NameEn: o.NameEn, RegionCode: o.RegionCode,
		Countries: o.Countries, Grade: string(o.Grade), Status: string(o.Status), ProvinceCode: o.ProvinceCode,
		PovertyRelief: o.PovertyRelief, Version: o.Version, Seq: o.Seq, CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt}
	if d.Countries == nil {
		d.Countries = []string{}
	}
	return d
}

func (d *orgDoc) toEngine() *engine.Org {
	return &engine.Org{ID: d.ID, Kind: engine.OrgKind(d.Kind), NameZh: d.NameZh, NameEn: d.NameEn,
		RegionCode: d.RegionCode, Countries: d.Countries, Grade: engine.Grade(d.Grade), Status: engine.OrgStatus(d.Status),
		ProvinceCode: d.ProvinceCode, PovertyRelief: d.PovertyRelief, Version: d.Version, Seq: d.Seq,
		CreatedAt: d.CreatedAt.UTC(), UpdatedAt: d.UpdatedAt.UTC()}
}

// keyDoc is an API key, stored only as a hash. _id is the key's lookup id
// (derived from the key by the caller), so authentication is one _id read.
type keyDoc struct {
	ID        string    `bson:"_id"`
	OrgID     string    `bson:"org_id"`
	Hash      []byte    `bson:"hash"`
	CreatedAt time.Time `bson:"created_at"`
}

type auditDoc struct {
	ID     string         `bson:"_id"`
	OrgID  string         `bson:"org_id"`
	At     time.Time      `bson:"at"`
	Actor  string         `bson:"actor"`
	Action string         `bson:"action"`
	Target string         `bson:"target"`
	Before map[string]any `bson:"before,omitempty"`
	After  map[string]any `bson:"after,omitempty"`
}
