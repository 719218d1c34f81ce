package engine

// Term is an entry of a fixed vocabulary with names in both languages.
type Term struct {
	Code   string
	NameZh string
	NameEn string
}

// Category is a product category. Fresh marks perishable categories, which
// logistics scoring treats with care.
type Category struct {
	Term
	Fresh bool
}

// categories is the fixed category vocabulary, in display order; never modified.
var categories = [...]Category{
	{Term{"fresh_fruit", "新鲜水果", "Fresh fruit"}, true},
	{Term{"vegetables", "蔬菜", "Vegetables"}, true},
	{Term{"grain_oil", "粮油米面", "Grain, rice and oil"}, false},
	{Term{"tea", "茶叶", "Tea"}, false},
	{Term{"meat_poultry", "肉禽蛋", "Meat, poultry and eggs"}, true},
	{Term{"seafood", "水产海鲜", "Seafood"}, true},
	{Term{"dairy", "乳品", "Dairy"}, true},
	{Term{"dried_goods", "干货特产", "Dried goods and local specialties"}, false},
	{Term{"snacks", "休闲零食", "Snacks"}, false},
	{Term{"liquor", "酒水饮料", "Wine, spirits and drinks"}, false},
	{Term{"health_food", "滋补保健", "Health foods"}, false},
	{Term{"beauty", "美妆护肤", "Beauty and skin care"}, false},
	{Term{"personal_care", "个护清洁", "Personal care"}, false},
	{Term{"apparel", "服饰", "Apparel"}, false},
	{Term{"shoes_bags", "鞋包", "Shoes and bags"}, false},
	{Term{"home", "家居家纺", "Home and textiles"}, false},
	{Term{"kitchenware", "厨具", "Kitchenware"}, false},
	{Term{"appliances", "家用电器", "Home appliances"}, false},
	{Term{"electronics", "数码电子", "Electronics"}, false},
	{Term{"maternal_baby", "母婴", "Mother and baby"}, false},
	{Term{"toys", "玩具", "Toys"}, false},
	{Term{"handicrafts", "手工艺品", "Handicrafts"}, false},
}

// CertType is a certification type. SanPinYiBiao marks the four state marks
// for farm produce (三品一标).
type CertType struct {
	Term
	SanPinYiBiao bool
}

// certTypes is the fixed certification vocabulary, in display order; never modified.
var certTypes = [...]CertType{
	{Term{"pollution_free", "无公害农产品", "Pollution-free farm produce"}, true},
	{Term{"green_food", "绿色食品", "Green food"}, true},
	{Term{"organic", "有机产品", "Organic"}, true},
	{Term{"geo_indication", "农产品地理标志", "Geographical indication"}, true},
	{Term{"sc_license", "食品生产许可(SC)", "Food production licence (SC)"}, false},
	{Term{"haccp", "HACCP认证", "HACCP"}, false},
	{Term{"iso9001", "ISO 9001质量管理体系", "ISO 9001"}, false},
	{Term{"iso22000", "ISO 22000食品安全管理体系", "ISO 22000"}, false},
	{Term{"ccc", "中国强制性产品认证(3C)", "China Compulsory Certificate (CCC)"}, false},
	{Term{"halal", "清真认证", "Halal"}, false},
	{Term{"fda", "美国FDA注册", "US FDA registration"}, false},
	{Term{"ce", "欧盟CE认证", "EU CE marking"}, false},
}

// CategoryByCode returns the category with the given code.
func CategoryByCode(code string) (Category, bool) {
	for _, c := range categories {
		if c.Code == code {
			return c, true
		}
	}
	return Category{}, false
}

// CertTypeByCode returns the certification type with the given code.
func CertTypeByCode(code string) (CertType, bool) {
	for _, c := range certTypes {
		if c.Code == code {
			return c, true
		}
	}
	return CertType{}, false
}

// Categories returns the category vocabulary in display order (a fresh copy).
func Categories() []Category { return append([]Category(nil), categories[:]...) }

// CertTypes returns the certification vocabulary in display order (a fresh copy).
func CertTypes() []CertType { return append([]CertType(nil), certTypes[:]...) }
