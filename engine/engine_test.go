package engine

import (
	"errors"
	"slices"
	"testing"
	"time"
)

// regionMap is a small in-memory RegionBook.
type regionMap map[string]Region

func (m regionMap) Region(code string) (Region, bool) {
	r, ok := m[code]
	return r, ok
}

var _ RegionBook = regionMap(nil)

var testRegions = regionMap{
	"360732": {Code: "360732", NameZh: "兴国县", Level: LevelCounty, ProvinceCode: "360000", CityCode: "360700", PovertyRelief: true},
	"310101": {Code: "310101", NameZh: "黄浦区", Level: LevelCounty, ProvinceCode: "310000", CityCode: "310100"},
	"360000": {Code: "360000", NameZh: "江西省", Level: LevelProvince, ProvinceCode: "360000"},
	"532600": {Code: "532601", NameZh: "文山市", Level: LevelCounty, ProvinceCode: "530000", PovertyRelief: true}, // an old code resolving to its successor
}

func fieldNames(err error) []string {
	var e *Error
	if !errors.As(err, &e) {
		return nil
	}
	var out []string
	for _, f := range e.Fields {
		out = append(out, f.Field)
	}
	return out
}

func TestPrepareOrg(t *testing.T) {
	cases := []struct {
		name       string
		org        Org
		wantFields []string
		relief     bool
		province   string
		code       string
	}{
		{"relief county", Org{Kind: OrgCooperative, NameZh: "合作社", RegionCode: "360732"}, nil, true, "360000", "360732"},
		{"city district", Org{Kind: OrgMCN, NameEn: "MCN", RegionCode: "310101"}, nil, false, "310000", "310101"},
		{"province", Org{Kind: OrgFactory, NameZh: "厂", RegionCode: "360000"}, nil, false, "360000", "360000"},
		{"successor code", Org{Kind: OrgCooperative, NameZh: "社", RegionCode: "532600"}, nil, true, "530000", "532601"},
		{"everything wrong", Org{Kind: "shop", RegionCode: "1", Grade: "D", Status: "gone", Countries: []string{"cn", "XX", "MY"}},
			[]string{"kind", "name_zh", "grade", "status", "countries[1]", "region_code"}, false, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.org
			err := PrepareOrg(&o, testRegions)
			if got := fieldNames(err); !slices.Equal(got, tc.wantFields) {
				t.Fatalf("fields %v, want %v (err %v)", got, tc.wantFields, err)
			}
			if err != nil {
				if KindOf(err) != KindInvalid {
					t.Fatalf("kind %v", KindOf(err))
				}
				return
			}
			if o.PovertyRelief != tc.relief || o.ProvinceCode != tc.province || o.RegionCode != tc.code {
				t.Fatalf("derived relief %v province %s code %s", o.PovertyRelief, o.ProvinceCode, o.RegionCode)
			}
			if o.Grade != GradeB || o.Status != OrgApproved {
				t.Fatalf("defaults: grade %s status %s", o.Grade, o.Status)
			}
		})
	}
}

func TestPovertyReliefIsNeverTakenFromInput(t *testing.T) {
	o := Org{Kind: OrgFactory, NameZh: "厂", RegionCode: "310101", PovertyRelief: true}
	if err := PrepareOrg(&o, testRegions); err != nil || o.PovertyRelief {
		t.Fatalf("relief %v err %v", o.PovertyRelief, err)
	}
	owner := &Org{ID: "o1", RegionCode: "310101", PovertyRelief: false}
	p := validProduct()
	p.PovertyRelief = true
	if err := PrepareProduct(&p, owner, testRegions); err != nil || p.PovertyRelief {
		t.Fatalf("product relief %v err %v", p.PovertyRelief, err)
	}
}

func validProduct() Product {
	return Product{SKU: " GN-1 ", TitleZh: "赣南脐橙", Category: "fresh_fruit", PriceCNY: 39.9, LivePriceCNY: 29.9,
		CommissionRate: 0.2, Stock: 10, ShipFrom: "360732", AvailableMonths: []int{11, 12},
		Certifications: []Certification{{Type: "green_food"}}}
}

func TestPrepareProduct(t *testing.T) {
	owner := &Org{ID: "org_1", Kind: OrgCooperative, RegionCode: "360732", PovertyRelief: true}
	cases := []struct {
		name   string
		mutate func(*Product)
		fields []string
	}{
		{"valid", func(*Product) {}, nil},
		{"ship_from defaults to the org's region", func(p *Product) { p.ShipFrom = "" }, nil},
		{"no sku", func(p *Product) { p.SKU = "  " }, []string{"sku"}},
		{"control char in sku", func(p *Product) { p.SKU = "a\tb" }, []string{"sku"}},
		{"no title", func(p *Product) { p.TitleZh = "" }, []string{"title_zh"}},
		{"bad utf8", func(p *Product) { p.TitleEn = "\xff" }, []string{"title_en"}},
		{"unknown category", func(p *Product) { p.Category = "x" }, []string{"category"}},
		{"price zero", func(p *Product) { p.PriceCNY = 0 }, []string{"price_cny"}},
		{"negative live price", func(p *Product) { p.LivePriceCNY = -1 }, []string{"live_price_cny"}},
		{"commission NaN-like", func(p *Product) { p.CommissionRate = 2 }, []string{"commission_rate"}},
		{"negative stock", func(p *Product) { p.Stock = -1 }, []string{"stock"}},
		{"moq", func(p *Product) { p.MOQ = -3 }, []string{"moq"}},
		{"lead time", func(p *Product) { p.LeadTimeDays = 400 }, []string{"lead_time_days"}},
		{"months", func(p *Product) { p.AvailableMonths = []int{0, 3, 3} }, []string{"available_months[0]", "available_months[2]"}},
		{"certificate type", func(p *Product) { p.Certifications = []Certification{{Type: "organic"}, {Type: "nope"}} }, []string{"certifications[1].type"}},
		{"country", func(p *Product) { p.OriginCountry = "ZZ" }, []string{"origin_country"}},
		{"region", func(p *Product) { p.ShipFrom = "000000" }, []string{"ship_from"}},
		{"tags", func(p *Product) { p.Tags = []string{"ok", ""} }, []string{"tags[1]"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := validProduct()
			tc.mutate(&p)
			err := PrepareProduct(&p, owner, testRegions)
			if got := fieldNames(err); !slices.Equal(got, tc.fields) {
				t.Fatalf("fields %v, want %v", got, tc.fields)
			}
			if err == nil && (p.SKU != "GN-1" || p.OrgID != "org_1" || !p.PovertyRelief || p.ProvinceCode != "360000" || p.MOQ != 1 || p.OriginCountry != "CN") {
				t.Fatalf("normalised product: %+v", p)
			}
		})
	}
}

func TestCertificatesAndPrice(t *testing.T) {
	now := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	p := validProduct()
	p.Certifications = []Certification{
		{Type: "organic", ExpiresAt: now.Add(-time.Hour)},
		{Type: "green_food", ExpiresAt: now.Add(time.Hour)},
		{Type: "geo_indication"},
		{Type: "green_food"},
	}
	if got := p.ValidCerts(now); !slices.Equal(got, []string{"green_food", "geo_indication"}) {
		t.Fatalf("valid certs %v", got)
	}
	if p.EffectivePrice() != 29.9 {
		t.Fatalf("effective price %v", p.EffectivePrice())
	}
	p.LivePriceCNY = 0
	if p.EffectivePrice() != 39.9 {
		t.Fatalf("effective price without live price %v", p.EffectivePrice())
	}
}

func TestErrorKinds(t *testing.T) {
	seen := map[string]bool{}
	for _, k := range Kinds() {
		if seen[k.String()] {
			t.Fatalf("duplicate kind name %s", k)
		}
		seen[k.String()] = true
	}
	base := errors.New("boom")
	err := Wrap(KindUnavailable, "store.Get", "the database is unavailable", base)
	if !IsKind(err, KindUnavailable) || KindOf(err) != KindUnavailable || !errors.Is(err, base) {
		t.Fatalf("wrap: %v", err)
	}
	if KindOf(base) != KindInternal || IsKind(base, KindInternal) {
		t.Fatal("plain errors are internal but carry no kind")
	}
}

func TestValidCountry(t *testing.T) {
	for code, want := range map[string]bool{"CN": true, "MY": true, "NZ": true, "US": true, "cn": false, "ZZ": false, "EU": false, "CHN": false, "": false, "001": false} {
		if got := ValidCountry(code); got != want {
			t.Errorf("ValidCountry(%q) = %v", code, got)
		}
	}
}
