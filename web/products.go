package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The supplier pages: the org's own products, the product form, the quick
// stock edit and "who wants this" (the demand profiles a product fits).
// Every rule lives in the API; these handlers only shape its answers.

// prodFields are the product form's fields, named and typed as the API's
// JSON. The CSV import converts its cells with the same list.
var prodFields = []field{
	{"sku", kText}, {"title_zh", kText}, {"title_en", kText},
	{"description_zh", kText}, {"description_en", kText},
	{"category", kText}, {"tags", kList},
	{"price_cny", kNumber}, {"live_price_cny", kNumber}, {"commission_rate", kNumber},
	{"stock", kNumber}, {"moq", kNumber}, {"lead_time_days", kNumber},
	{"ship_from", kText}, {"cold_chain", kBool}, {"shelf_life_days", kNumber},
	{"available_months", kIntMulti},
	{"origin_country", kText}, {"export_ready", kBool}, {"sample_available", kBool},
}

// prodCertParts are the fields of one certificate row
// (certifications.type, certifications.number, …).
var prodCertParts = []field{{"type", kText}, {"number", kText}, {"issuer", kText}, {"expires_at", kDate}}

// productJSON turns form values (or a CSV row made into form values) into
// the API's product object.
func productJSON(v url.Values) map[string]any {
	m := jsonOf(v, prodFields)
	m["certifications"] = rows(v, "certifications", "type", prodCertParts)
	return m
}

// productValues turns a product as the API returns it into form values.
func productValues(raw []byte) url.Values {
	obj := decodeObject(raw)
	v := valuesOf(obj, prodFields)
	certs, _ := obj["certifications"].([]any)
	for _, c := range certs {
		m, ok := c.(map[string]any)
		if !ok {
			continue
		}
		v.Add("certifications.type", scalar(m["type"]))
		v.Add("certifications.number", scalar(m["number"]))
		v.Add("certifications.issuer", scalar(m["issuer"]))
		v.Add("certifications.expires_at", localDate(scalar(m["expires_at"])))
	}
	return v
}

func (s *Server) productRoutes() {
	m := s.mux
	m.Handle("GET /console/products", s.page(supplierRole, s.productList))
	m.Handle("GET /console/products/new", s.page(supplierRole, s.productNew))
	m.Handle("POST /console/products/new", s.page(supplierRole, s.productCreate))
	m.Handle("GET /console/products/{id}", s.page(supplierRole, s.productPage))
	m.Handle("POST /console/products/{id}", s.page(supplierRole, s.productSave))
	m.Handle("POST /console/products/{id}/stock", s.page(supplierRole, s.productStock))
	m.Handle("POST /console/products/{id}/delete", s.page(supplierRole, s.productDelete))
	s.importRoutes()
}

// listState is where the list stands (its search and page), carried by the
// rows' stock forms so that a page rendered after a failed edit is the same.
type listState struct {
	Q, Cursor, Trail string
}

// stockEdit is the state of one quick stock form.
type stockEdit struct {
	ID      string
	Value   string // what the box shows: the stock, or what the user typed
	Version int64  // the version the next submit applies to
	Error   string // the API's message for a bad value
	Stale   bool   // the product changed since the form was loaded
	Current int64  // its stock now (when Stale)
	Saved   bool
	// Facts is the product after a saved edit: its stock, booked and
	// available units, shown afresh beside the form.
	Facts *product
	From  string // "list" or "product": which page the form is on
	List  listState
}

// prodListPage is the products list's data.
type prodListPage struct {
	Items []product
	Total int
	Pager pager
	First int
	List  listState
	Edit  *stockEdit // the row whose stock edit failed (no JavaScript)
}

// StockEdit is the stock form of a row: the failed edit for its product,
// else the product's stock and version.
func (p prodListPage) StockEdit(pr product) stockEdit {
	if p.Edit != nil && p.Edit.ID == pr.ID {
		return *p.Edit
	}
	return stockEdit{ID: pr.ID, Value: strconv.FormatInt(pr.Stock, 10), Version: pr.Version, From: "list", List: p.List}
}

// prodRow is a list row: the view (for texts), the product and its stock
// form, for the "prod-row" block.
type prodRow struct {
	V *view
	P product
	E stockEdit
}

// ProdRow prepares a products list row for the "prod-row" block.
func (v *view) ProdRow(p product, e stockEdit) prodRow { return prodRow{V: v, P: p, E: e} }

// prodStockBox is the stock form for the "prod-stock" block.
type prodStockBox struct {
	V *view
	E stockEdit
}

// ProdStock prepares a stock form for the "prod-stock" block.
func (v *view) ProdStock(e stockEdit) prodStockBox { return prodStockBox{V: v, E: e} }

// PF prepares an input of the product form for the shared "input" block:
// its label comes from products.f.<name>, its hint (if any) from
// products.h.<name>, its message includes those for its elements
// (tags[2]). mode is "decimal" or "numeric" (the keyboard on phones),
// "readonly", or "".
func (v *view) PF(f *Form, name, mode string) map[string]any {
	in := map[string]any{"F": f, "Name": name, "Label": v.T("products.f." + name), "Err": formErr(f, name)}
	if k := "products.h." + name; v.rq.s.msgs.has(k) {
		in["Hint"] = v.T(k)
	}
	if mode == "readonly" {
		in["Readonly"] = true
	} else {
		in["Mode"] = mode
	}
	return in
}

func (s *Server) productList(w http.ResponseWriter, rq *request) {
	q := rq.r.URL.Query()
	s.renderList(w, rq, http.StatusOK, listState{Q: strings.TrimSpace(q.Get("q")), Cursor: q.Get("cursor"), Trail: q.Get("trail")}, nil)
}

// renderList renders the org's products at st, with edit as the state of a
// failed stock edit.
func (s *Server) renderList(w http.ResponseWriter, rq *request, status int, st listState, edit *stockEdit) {
	q := url.Values{"org_id": {rq.se.org.ID}, "limit": {"20"}}
	cur := url.Values{}
	if st.Q != "" {
		q.Set("q", st.Q)
		cur.Set("q", st.Q)
	}
	if st.Cursor != "" {
		q.Set("cursor", st.Cursor)
	}
	res := rq.call(http.MethodGet, "/v1/products", q, nil, 0)
	if !res.OK() {
		rq.failAPI(w, res)
		return
	}
	var out searchResult
	if err := res.decode(&out); err != nil {
		rq.failErr(w, err)
		return
	}
	data := prodListPage{Items: out.Items, Total: out.Total, List: st, Edit: edit}
	data.Pager, data.First = pages(rq, cur, st.Cursor, st.Trail, out.NextCursor, len(out.Items))
	rq.render(w, status, "products", rq.T("products.title"), data)
}

// prodBuyer is one open demand profile that fits the product.
type prodBuyer struct {
	Profile struct {
		ID            string     `json:"id"`
		Name          string     `json:"name"`
		Keywords      string     `json:"keywords"`
		Categories    []string   `json:"categories"`
		ExpectedUnits int64      `json:"expected_units"`
		TargetMarkets []string   `json:"target_markets"`
		StreamDate    *time.Time `json:"stream_date"`
	} `json:"profile"`
	Score   float64  `json:"score"`
	Factors []factor `json:"factors"`
}

// prodPage is the product page's (and the new product form's) data.
type prodPage struct {
	New     bool
	Product product
	Form    *Form
	Version int64 // the version the form was loaded at
	// Stale is set when the product changed while the form was open:
	// NewVersion is the current one, to overwrite it on purpose.
	Stale       bool
	NewVersion  int64
	DeleteStale bool
	// DeleteRefused is the API's reason for refusing a delete (the
	// product has reservations).
	DeleteRefused string
	Stock         stockEdit
	ShipFrom      string // the region of ship_from, named
	Buyers        []prodBuyer
	Excluded      map[string]int
	BuyersError   string
}

func (s *Server) productNew(w http.ResponseWriter, rq *request) {
	f := newForm(url.Values{"moq": {"1"}, "origin_country": {"CN"}, "ship_from": {rq.se.org.RegionCode}})
	rq.render(w, http.StatusOK, "product", rq.T("products.new"), &prodPage{New: true, Form: f})
}

// postedProduct reads the product form's submission and the version it
// was loaded at, with empty certificate rows dropped so that row i is the
// API's certifications[i].
func postedProduct(rq *request) (url.Values, int64) {
	v, version := postedForm(rq, "overwrite_version")
	compactRows(v, "certifications", "type", []string{"number", "issuer", "expires_at"})
	return v, version
}

func (s *Server) productCreate(w http.ResponseWriter, rq *request) {
	v, _ := postedProduct(rq)
	res := rq.call(http.MethodPost, "/v1/products", nil, productJSON(v), 0)
	switch {
	case res.OK():
		var p product
		if err := res.decode(&p); err != nil {
			rq.failErr(w, err)
			return
		}
		if res.Status == http.StatusCreated {
			rq.flash("products.created")
		} else {
			rq.flash("products.upserted")
		}
		rq.redirect(w, "/console/products/"+url.PathEscape(p.ID))
	case res.Status == http.StatusBadRequest || res.Status == http.StatusRequestEntityTooLarge:
		f := newForm(v).withProblem(res.Problem)
		rq.render(w, res.Status, "product", rq.T("products.new"), &prodPage{New: true, Form: f, ShipFrom: s.regionName(rq, v.Get("ship_from"))})
	default:
		rq.failAPI(w, res)
	}
}

// loadProduct reads one of the org's products. The API shows any approved
// product to every org; these pages are for the org's own, so another
// org's product is not found here, as the API's writes would answer.
func (rq *request) loadProduct(id string) (product, []byte, *apiResult) {
	var p product
	res := rq.call(http.MethodGet, "/v1/products/"+url.PathEscape(id), nil, nil, 0)
	if res.OK() {
		if err := res.decode(&p); err != nil {
			res.Status, res.Problem = http.StatusInternalServerError, &problem{Detail: err.Error()}
		} else if p.OrgID != rq.se.org.ID {
			res.Status, res.Problem = http.StatusNotFound, &problem{Status: http.StatusNotFound}
		}
	}
	return p, res.Body, res
}

// productPageData loads the product and who wants it. A product of another
// org answers the API's 404.
func (s *Server) productPageData(rq *request, id string) (*prodPage, *apiResult) {
	p, raw, res := rq.loadProduct(id)
	if !res.OK() {
		return nil, res
	}
	data := &prodPage{Product: p, Form: newForm(productValues(raw)), Version: p.Version, ShipFrom: s.regionName(rq, p.ShipFrom),
		Stock: stockEdit{ID: p.ID, Value: strconv.FormatInt(p.Stock, 10), Version: p.Version, From: "product"}}
	br := rq.call(http.MethodGet, "/v1/products/"+url.PathEscape(id)+"/buyers", url.Values{"limit": {"10"}}, nil, 0)
	var out struct {
		Items    []prodBuyer    `json:"items"`
		Excluded map[string]int `json:"excluded"`
	}
	if !br.OK() || br.decode(&out) != nil {
		data.BuyersError = rq.apiMessage(br)
	} else {
		data.Buyers, data.Excluded = out.Items, out.Excluded
	}
	return data, res
}

func (s *Server) productPage(w http.ResponseWriter, rq *request) {
	data, res := s.productPageData(rq, rq.r.PathValue("id"))
	if data == nil {
		rq.failAPI(w, res)
		return
	}
	s.renderProduct(w, rq, http.StatusOK, data)
}

func (s *Server) renderProduct(w http.ResponseWriter, rq *request, status int, data *prodPage) {
	rq.render(w, status, "product", rq.Name(data.Product.TitleZh, data.Product.TitleEn), data)
}

func (s *Server) productSave(w http.ResponseWriter, rq *request) {
	id := rq.r.PathValue("id")
	v, version := postedProduct(rq)
	if ov, err := strconv.ParseInt(rq.r.PostFormValue("overwrite_version"), 10, 64); err == nil && ov > 0 {
		version = ov // the user chose to overwrite the newer version with the form
	}
	res := rq.call(http.MethodPut, "/v1/products/"+url.PathEscape(id), nil, productJSON(v), version)
	// After a success: the page, not the form's #edit.
	// A 409 names stock: below the units held and confirmed.
	if !rq.afterWrite(w, res, "form.saved", "/console/products/"+url.PathEscape(id)+"#main",
		http.StatusBadRequest, http.StatusConflict, http.StatusPreconditionFailed, http.StatusRequestEntityTooLarge) {
		return
	}
	s.reshowProduct(w, rq, id, res.Status, func(data *prodPage) {
		// Everything typed stays; the version stays the one the form was
		// loaded at, so that only a deliberate overwrite replaces the newer one.
		data.Form = newForm(v)
		data.Version = version
		data.ShipFrom = s.regionName(rq, v.Get("ship_from"))
		if res.Status == http.StatusPreconditionFailed {
			data.Stale, data.NewVersion = true, data.Product.Version
		} else {
			data.Form.withProblem(res.Problem)
		}
	})
}

// reshowProduct renders the product page again, read afresh, after a
// write that answered status; change sets what the write's answer shows.
func (s *Server) reshowProduct(w http.ResponseWriter, rq *request, id string, status int, change func(*prodPage)) {
	data, cur := s.productPageData(rq, id)
	if data == nil {
		rq.failAPI(w, cur)
		return
	}
	change(data)
	s.renderProduct(w, rq, status, data)
}

func (s *Server) productDelete(w http.ResponseWriter, rq *request) {
	id := rq.r.PathValue("id")
	_, version := postedForm(rq)
	res := rq.call(http.MethodDelete, "/v1/products/"+url.PathEscape(id), nil, nil, version)
	if !rq.afterWrite(w, res, "products.deleted", "/console/products", http.StatusPreconditionFailed, http.StatusConflict) {
		return
	}
	s.reshowProduct(w, rq, id, res.Status, func(data *prodPage) {
		if res.Status == http.StatusConflict { // it has reservations
			data.DeleteRefused = rq.apiMessage(res)
			return
		}
		data.DeleteStale = true
	})
}

// productStock is the quick stock edit, from the list or the product page.
// htmx gets the row (or the product page's stock box) back; without
// JavaScript the page is rendered again with the message, or after a
// success the browser is sent back to it.
func (s *Server) productStock(w http.ResponseWriter, rq *request) {
	id := rq.r.PathValue("id")
	raw := strings.TrimSpace(rq.r.PostFormValue("stock"))
	version, _ := strconv.ParseInt(rq.r.PostFormValue("version"), 10, 64)
	e := stockEdit{ID: id, Value: raw, Version: version, From: "list",
		List: listState{Q: rq.r.PostFormValue("q"), Cursor: rq.r.PostFormValue("cursor"), Trail: rq.r.PostFormValue("trail")}}
	if rq.r.PostFormValue("from") == "product" {
		e.From = "product"
	}
	htmx := rq.r.Header.Get("HX-Request") == "true"
	res := rq.call(http.MethodPatch, "/v1/products/"+url.PathEscape(id)+"/stock", nil, map[string]any{"stock": number(raw)}, version)
	var p product
	switch {
	case res.OK():
		if err := res.decode(&p); err != nil {
			rq.failErr(w, err)
			return
		}
		if !htmx {
			rq.flash("products.stock.saved")
			rq.redirect(w, e.back())
			return
		}
		e.Value, e.Version, e.Saved, e.Facts = strconv.FormatInt(p.Stock, 10), p.Version, true, &p
	case res.Status == http.StatusPreconditionFailed, res.Status == http.StatusBadRequest, res.Status == http.StatusConflict:
		// 409: below the units held and confirmed; said by the box.
		var cur *apiResult
		p, _, cur = rq.loadProduct(id)
		if !cur.OK() {
			s.failFragment(w, rq, htmx, cur)
			return
		}
		if res.Status == http.StatusPreconditionFailed {
			// Keep what was typed; the next submit applies it to the
			// version that is current now.
			e.Stale, e.Current, e.Version = true, p.Stock, p.Version
		} else {
			e.Error = res.Problem.fieldErrors()["stock"]
			if e.Error == "" {
				e.Error = rq.apiMessage(res)
			}
		}
		if !htmx {
			if e.From == "product" {
				s.reshowProduct(w, rq, id, res.Status, func(data *prodPage) { data.Stock = e })
				return
			}
			s.renderList(w, rq, res.Status, e.List, &e)
			return
		}
	default:
		s.failFragment(w, rq, htmx, res)
		return
	}
	// htmx logs every 4xx answer as a script error, so fragments carrying
	// a message answer 200; the message is in the fragment.
	if e.From == "product" {
		rq.renderBlock(w, http.StatusOK, "product", "prod-stock-only", "", prodStockBox{E: e})
		return
	}
	rq.renderBlock(w, http.StatusOK, "products", "prod-row-only", "", prodRow{P: p, E: e})
}

// back is the page a stock form came from.
func (e stockEdit) back() string {
	if e.From == "product" {
		return "/console/products/" + url.PathEscape(e.ID)
	}
	q := url.Values{}
	if e.List.Q != "" {
		q.Set("q", e.List.Q)
	}
	if e.List.Cursor != "" {
		q.Set("cursor", e.List.Cursor)
	}
	if e.List.Trail != "" {
		q.Set("trail", e.List.Trail)
	}
	if len(q) == 0 {
		return "/console/products"
	}
	return "/console/products?" + q.Encode()
}

// failFragment shows an API failure: the error page, or for htmx its
// message in place of the page's main content.
func (s *Server) failFragment(w http.ResponseWriter, rq *request, htmx bool, res *apiResult) {
	if !htmx {
		rq.failAPI(w, res)
		return
	}
	w.Header().Set("HX-Retarget", "main")
	w.Header().Set("HX-Reswap", "innerHTML")
	rq.renderBlock(w, http.StatusOK, "error", "content", rq.T("error.title"), errorPage{Status: res.Status, Message: rq.apiMessage(res)})
}

// regionName names a region code ("" when it names none).
func (s *Server) regionName(rq *request, code string) string {
	if s.cfg.Regions == nil || code == "" {
		return ""
	}
	r, ok := s.cfg.Regions.Region(strings.TrimSpace(code))
	if !ok {
		return ""
	}
	if rq.lang == langEn && r.NameEn != "" {
		return r.NameEn
	}
	return r.NameZh
}

// PFErr is the API's message for a field of the product form and its
// elements (available_months[1]).
func (v *view) PFErr(f *Form, name string) string { return formErr(f, name) }

func formErr(f *Form, name string) string {
	if f == nil {
		return ""
	}
	var msgs []string
	if m := f.E(name); m != "" {
		msgs = append(msgs, m)
	}
	for _, e := range f.AllErrors() {
		if strings.HasPrefix(e.Field, name+"[") {
			msgs = append(msgs, e.Field+": "+e.Message)
		}
	}
	return strings.Join(msgs, "; ")
}
