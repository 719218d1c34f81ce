package indexer

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/analysis/lang/cjk"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/mapping"
	index "github.com/blevesearch/bleve_index_api"

	"github.com/livematch/livematch/engine"
)

// schemaVersion names the mapping and document layout. An index written with
// another version is reported as ErrCorrupt so that the caller rebuilds it.
const schemaVersion = "products/4"

// Names of the analysis components configured on the mapping.
const (
	textAnalyzer    = "lm_text"
	bigramAnalyzer  = "cjk" // Bleve's built-in analyzer, for comparison only
	uniBigramFilter = "lm_cjk_bigram_unigram"
)

// Field names of indexDoc (its json tags).
const (
	fTitleZh  = "title_zh"
	fTitleEn  = "title_en"
	fDescZh   = "description_zh"
	fDescEn   = "description_en"
	fTags     = "tags"
	fCategory = "category"
	fProvince = "province"
	fPoverty  = "poverty_relief"
	fInStock  = "in_stock"
	fOrg      = "org_id"
	fReview   = "review_status"
	fPrice    = "price"
	fStock    = "stock"
	fComm     = "commission"
	fCertExp  = "cert_exp"
	fCerts    = "certs"
	fFacets   = "facets" // every facet's terms in one doc-values field, prefixed
	fSource   = "src"
	fAll      = "_all"
)

// textFields are the analysed fields a free-text query searches, with the
// boost a match in each earns. Never modified.
var textFields = [...]fieldBoost{
	{fTitleZh, 3}, {fTitleEn, 3}, {fTags, 2}, {fDescZh, 1}, {fDescEn, 1},
}

// neverExpires is the expiry (Unix milliseconds) indexed for a certificate
// without one: 9999-12-31.
const neverExpires = 253402300799000

// certExpField is the numeric field holding a certificate type's latest expiry.
func certExpField(certType string) string { return fCertExp + "." + certType }

// indexDoc is what Bleve indexes for a product. Text fields hold simplified
// Chinese (folded through the glossary); Src is the stored JSON record from
// which the catalogue is restored.
type indexDoc struct {
	TitleZh       string             `json:"title_zh"`
	TitleEn       string             `json:"title_en"`
	DescriptionZh string             `json:"description_zh"`
	DescriptionEn string             `json:"description_en"`
	Tags          []string           `json:"tags"`
	Category      string             `json:"category"`
	Province      string             `json:"province"`
	PovertyRelief string             `json:"poverty_relief"` // "true" | "false"
	InStock       string             `json:"in_stock"`       // "true" | "false"
	OrgID         string             `json:"org_id"`
	ReviewStatus  string             `json:"review_status"`
	Price         float64            `json:"price"`      // EffectivePrice
	Stock         float64            `json:"stock"`      // for the min_stock gate
	Commission    float64            `json:"commission"` // for the commission floor gate
	CertExp       map[string]float64 `json:"cert_exp"`   // type → latest expiry, Unix ms
	Certs         []string           `json:"certs"`      // "type" or "type@expiry-ms"
	Facets        []string           `json:"facets"`     // facetPrefix + value for each facet
	Src           string             `json:"src"`
}

// Prefixes of the facet terms in fFacets.
const (
	facetCategory = "c:"
	facetProvince = "p:"
	facetPoverty  = "r:"
	facetCert     = "x:"
)

// chain selects the analysis chain of the text fields. Only chainUniBigram
// is used in production; the others exist for the measurements in the tests.
type chain int

const (
	chainUniBigram chain = iota // unigrams + bigrams + English stemming
	chainBigram                 // Bleve's built-in cjk analyzer (bigrams only)
)

// options are knobs that tests and benchmarks turn; Open uses the defaults.
type options struct {
	chain       chain
	allField    bool          // index an _all composite field and query it instead of each field
	boltTimeout time.Duration // how long to wait for another process's lock
	// parallelFrom is the candidate count from which MatchEach streams
	// from several goroutines.
	parallelFrom int
}

func defaultOptions() options {
	return options{chain: chainUniBigram, boltTimeout: 5 * time.Second, parallelFrom: 20000}
}

func (o options) analyzer() string {
	if o.chain == chainBigram {
		return bigramAnalyzer
	}
	return textAnalyzer
}

// newMapping builds the index mapping: one analyzer for every text field,
// keyword fields for filters and facets, numeric fields for price and
// certificate expiry, and the stored source record.
func newMapping(o options) (*mapping.IndexMappingImpl, error) {
	im := bleve.NewIndexMapping()
	im.ScoringModel = index.BM25Scoring
	err := im.AddCustomTokenFilter(uniBigramFilter, map[string]any{
		"type":           cjk.BigramName,
		"output_unigram": true,
	})
	if err != nil {
		return nil, err
	}
	err = im.AddCustomAnalyzer(textAnalyzer, map[string]any{
		"type":      custom.Name,
		"tokenizer": unicode.Name,
		"token_filters": []any{
			cjk.WidthName,
			lowercase.Name,
			en.PossessiveName,
			en.StopName,
			uniBigramFilter,
			en.SnowballStemmerName,
		},
	})
	if err != nil {
		return nil, err
	}
	im.DefaultAnalyzer = o.analyzer()
	im.DefaultField = fAll

	doc := bleve.NewDocumentStaticMapping()
	for _, f := range textFields {
		fm := bleve.NewTextFieldMapping()
		fm.Analyzer = o.analyzer()
		fm.Store = false
		fm.IncludeTermVectors = false
		fm.DocValues = false
		fm.IncludeInAll = o.allField
		doc.AddFieldMappingsAt(f.name, fm)
	}
	for _, name := range []string{fCategory, fProvince, fPoverty, fInStock, fOrg, fReview, fCerts, fFacets} {
		fm := bleve.NewKeywordFieldMapping()
		fm.Analyzer = keyword.Name
		fm.Store = false
		fm.IncludeTermVectors = false
		fm.IncludeInAll = false
		// Filters read the inverted index; only the facets read doc
		// values, all from one field so that a hit costs one visit.
		fm.DocValues = name == fFacets
		doc.AddFieldMappingsAt(name, fm)
	}
	for _, name := range []string{fPrice, fStock, fComm} {
		num := bleve.NewNumericFieldMapping()
		num.Store = false
		num.IncludeInAll = false
		num.DocValues = name == fPrice // only price is sorted or faceted on
		doc.AddFieldMappingsAt(name, num)
	}

	certs := bleve.NewDocumentStaticMapping()
	for _, ct := range engine.CertTypes() {
		fm := bleve.NewNumericFieldMapping()
		fm.Store = false
		fm.IncludeInAll = false
		fm.DocValues = false // filters only; facets use certs
		certs.AddFieldMappingsAt(ct.Code, fm)
	}
	doc.AddSubDocumentMapping(fCertExp, certs)

	src := bleve.NewTextFieldMapping()
	src.Index = false
	src.Store = true
	src.IncludeTermVectors = false
	src.IncludeInAll = false
	src.DocValues = false
	doc.AddFieldMappingsAt(fSource, src)

	if !o.allField {
		doc.AddSubDocumentMapping(fAll, bleve.NewDocumentDisabledMapping())
	}
	im.DefaultMapping = doc
	if err := im.Validate(); err != nil {
		return nil, err
	}
	return im, nil
}

// record is the stored form of a product and the sequence number of the
// change that wrote it. Its JSON layout is part of the schema version.
type record struct {
	Seq     int64         `json:"seq"`
	Product productRecord `json:"product"`
}

// productRecord mirrors engine.Product with JSON names (engine carries no tags).
type productRecord struct {
	ID              string       `json:"id"`
	OrgID           string       `json:"org_id,omitempty"`
	SKU             string       `json:"sku,omitempty"`
	TitleZh         string       `json:"title_zh,omitempty"`
	TitleEn         string       `json:"title_en,omitempty"`
	DescriptionZh   string       `json:"description_zh,omitempty"`
	DescriptionEn   string       `json:"description_en,omitempty"`
	Category        string       `json:"category,omitempty"`
	Tags            []string     `json:"tags,omitempty"`
	PriceCNY        float64      `json:"price_cny,omitempty"`
	LivePriceCNY    float64      `json:"live_price_cny,omitempty"`
	CommissionRate  float64      `json:"commission_rate,omitempty"`
	Stock           int64        `json:"stock,omitempty"`
	Booked          int64        `json:"booked,omitempty"`
	MOQ             int64        `json:"moq,omitempty"`
	LeadTimeDays    int          `json:"lead_time_days,omitempty"`
	ShipFrom        string       `json:"ship_from,omitempty"`
	ColdChain       bool         `json:"cold_chain,omitempty"`
	ShelfLifeDays   int          `json:"shelf_life_days,omitempty"`
	AvailableMonths []int        `json:"available_months,omitempty"`
	Certifications  []certRecord `json:"certifications,omitempty"`
	OriginCountry   string       `json:"origin_country,omitempty"`
	ExportReady     bool         `json:"export_ready,omitempty"`
	SampleAvailable bool         `json:"sample_available,omitempty"`
	ReviewStatus    string       `json:"review_status,omitempty"`
	ProvinceCode    string       `json:"province_code,omitempty"`
	PovertyRelief   bool         `json:"poverty_relief,omitempty"`
	Version         int64        `json:"version,omitempty"`
	Seq             int64        `json:"seq,omitempty"`
	CreatedAt       time.Time    `json:"created_at,omitzero"`
	UpdatedAt       time.Time    `json:"updated_at,omitzero"`
}

type certRecord struct {
	Type      string    `json:"type"`
	Number    string    `json:"number,omitempty"`
	Issuer    string    `json:"issuer,omitempty"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}

func toRecord(p *engine.Product) productRecord {
	r := productRecord{
		ID: p.ID, OrgID: p.OrgID, SKU: p.SKU,
		TitleZh: p.TitleZh, TitleEn: p.TitleEn,
		DescriptionZh: p.DescriptionZh, DescriptionEn: p.DescriptionEn,
		Category: p.Category, Tags: p.Tags,
		PriceCNY: p.PriceCNY, LivePriceCNY: p.LivePriceCNY, CommissionRate: p.CommissionRate,
		Stock: p.Stock, Booked: p.Booked, MOQ: p.MOQ, LeadTimeDays: p.LeadTimeDays,
		ShipFrom: p.ShipFrom, ColdChain: p.ColdChain, ShelfLifeDays: p.ShelfLifeDays,
		AvailableMonths: p.AvailableMonths,
		OriginCountry:   p.OriginCountry, ExportReady: p.ExportReady, SampleAvailable: p.SampleAvailable,
		ReviewStatus: string(p.ReviewStatus), ProvinceCode: p.ProvinceCode, PovertyRelief: p.PovertyRelief,
		Version: p.Version, Seq: p.Seq, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt,
	}
	for _, c := range p.Certifications {
		r.Certifications = append(r.Certifications, certRecord(c))
	}
	return r
}

func (r *productRecord) product() *engine.Product {
	p := &engine.Product{
		ID: r.ID, OrgID: r.OrgID, SKU: r.SKU,
		TitleZh: r.TitleZh, TitleEn: r.TitleEn,
		DescriptionZh: r.DescriptionZh, DescriptionEn: r.DescriptionEn,
		Category: r.Category, Tags: r.Tags,
		PriceCNY: r.PriceCNY, LivePriceCNY: r.LivePriceCNY, CommissionRate: r.CommissionRate,
		Stock: r.Stock, Booked: r.Booked, MOQ: r.MOQ, LeadTimeDays: r.LeadTimeDays,
		ShipFrom: r.ShipFrom, ColdChain: r.ColdChain, ShelfLifeDays: r.ShelfLifeDays,
		AvailableMonths: r.AvailableMonths,
		OriginCountry:   r.OriginCountry, ExportReady: r.ExportReady, SampleAvailable: r.SampleAvailable,
		ReviewStatus: engine.ReviewStatus(r.ReviewStatus), ProvinceCode: r.ProvinceCode, PovertyRelief: r.PovertyRelief,
		Version: r.Version, Seq: r.Seq, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}
	for _, c := range r.Certifications {
		p.Certifications = append(p.Certifications, engine.Certification(c))
	}
	return p
}

// cloneProduct returns a deep copy of p, so that the catalogue never shares
// slices with the caller.
func cloneProduct(p *engine.Product) *engine.Product {
	c := *p
	c.Tags = append([]string(nil), p.Tags...)
	c.AvailableMonths = append([]int(nil), p.AvailableMonths...)
	c.Certifications = append([]engine.Certification(nil), p.Certifications...)
	return &c
}

// newIndexDoc builds the document Bleve indexes for p, written by the change
// with sequence number seq. simplify folds traditional Chinese.
func newIndexDoc(p *engine.Product, seq int64, simplify func(string) string) (*indexDoc, error) {
	src, err := json.Marshal(record{Seq: seq, Product: toRecord(p)})
	if err != nil {
		return nil, err
	}
	d := &indexDoc{
		TitleZh:       simplify(p.TitleZh),
		TitleEn:       simplify(p.TitleEn),
		DescriptionZh: simplify(p.DescriptionZh),
		DescriptionEn: simplify(p.DescriptionEn),
		Category:      p.Category,
		Province:      p.ProvinceCode,
		PovertyRelief: strconv.FormatBool(p.PovertyRelief),
		InStock:       strconv.FormatBool(p.Available() > 0),
		OrgID:         p.OrgID,
		ReviewStatus:  string(p.ReviewStatus),
		Price:         p.EffectivePrice(),
		Stock:         float64(p.Available()),
		Commission:    p.CommissionRate,
		Src:           string(src),
	}
	if len(p.Tags) > 0 {
		d.Tags = make([]string, len(p.Tags))
		for i, t := range p.Tags {
			d.Tags[i] = simplify(t)
		}
	}
	for _, c := range p.Certifications {
		if _, ok := engine.CertTypeByCode(c.Type); !ok {
			continue
		}
		exp := float64(neverExpires)
		if !c.ExpiresAt.IsZero() {
			exp = float64(c.ExpiresAt.UnixMilli())
		}
		if d.CertExp == nil {
			d.CertExp = make(map[string]float64, len(p.Certifications))
		}
		if old, ok := d.CertExp[c.Type]; !ok || exp > old {
			d.CertExp[c.Type] = exp
		}
	}
	for typ, exp := range d.CertExp {
		if exp == neverExpires {
			d.Certs = append(d.Certs, typ)
		} else {
			d.Certs = append(d.Certs, typ+"@"+strconv.FormatInt(int64(exp), 10))
		}
	}
	slices.Sort(d.Certs)
	d.Facets = append(d.Facets, facetCategory+d.Category, facetProvince+d.Province, facetPoverty+d.PovertyRelief)
	for _, c := range d.Certs {
		d.Facets = append(d.Facets, facetCert+c)
	}
	if math.IsNaN(d.Price) || math.IsInf(d.Price, 0) {
		d.Price = 0
	}
	return d, nil
}
