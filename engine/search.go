package engine

// ProductQuery is a product search: free text plus filters, as clients send it
// to GET /v1/products. Nil pointers and empty strings mean "no filter".
type ProductQuery struct {
	Q             string   // free text, Chinese and/or English
	Category      string   // category code
	Certification string   // certification type in force now
	Province      string   // six-digit province code of ShipFrom
	PovertyRelief *bool    // derived supplier status
	PriceMin      *float64 // on EffectivePrice, inclusive
	PriceMax      *float64 // on EffectivePrice, inclusive
	CommissionMin *float64 // on CommissionRate (0..1), inclusive
	InStock       *bool    // Available() > 0: stock not all held by reservations
	OrgID         string   // only this org's products
	// OnlyVisible limits results to approved products (what other orgs see).
	OnlyVisible bool
	Limit       int
	Offset      int
}

// FacetCount is one value of a facet and how many hits carry it.
type FacetCount struct {
	Value string
	Count int
}

// Facet names returned by product search.
const (
	FacetCategory      = "category"
	FacetCertification = "certification"
	FacetProvince      = "province"
	FacetPovertyRelief = "poverty_relief"
)

// ProductHit is one search result: the product and its text relevance score
// (0 when the query had no text).
type ProductHit struct {
	Product *Product
	Score   float64
	// Highlights maps each text field in which the query's words were found
	// (title_zh, title_en, tags, description_zh, description_en) to that
	// field's text, HTML-escaped, with the words found wrapped in <em> and
	// </em>; the tags come joined with " · ". Nil when the query had no text.
	Highlights map[string]string
}

// ProductPage is one page of search results with the total hit count and
// facet counts over all hits (not just the page).
type ProductPage struct {
	Hits   []ProductHit
	Total  uint64
	Facets map[string][]FacetCount
}
