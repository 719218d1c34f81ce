package web

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/livematch/livematch/engine"
)

// Reservations and sample requests: each side's list with the actions its
// side may take in each state, a reservation's own page with its audit
// trail, the reserve and sample forms on a demand profile's matches and on
// a product's page. Every rule (who may do what and from which state, the
// stock check, the hold's limit, the fields' limits) is the API's: these
// handlers send what was typed, under the version the user saw, and show
// the answer. Which buttons a row offers is asked of the engine's
// transition tables, so that the page never offers what the API refuses.

// dealRole are the orgs that take part in deals: the MCN and the supplier.
var dealRole = []engine.OrgKind{engine.OrgMCN, engine.OrgFactory, engine.OrgCooperative, engine.OrgImporter}

func (s *Server) dealRoutes() {
	m := s.mux
	m.Handle("GET /console/reservations", s.page(dealRole, s.reservationList))
	m.Handle("POST /console/reservations/new", s.page(mcnRole, s.reserve))
	m.Handle("GET /console/reservations/{id}", s.page(dealRole, s.reservationPage))
	m.Handle("POST /console/reservations/{id}/{action}", s.page(dealRole, s.reservationAct))
	m.Handle("GET /console/samples", s.page(dealRole, s.sampleList))
	m.Handle("POST /console/samples/new", s.page(mcnRole, s.requestSample))
	m.Handle("POST /console/samples/{id}/{action}", s.page(dealRole, s.sampleAct))
	// A listed product's page, for every role (search results and matches
	// link here); the MCN reserves and asks for samples from it.
	m.Handle("GET /console/search/{id}", s.page(anyRole, s.offerShow))
}

// reservation is a reservation as the API returns it.
type reservation struct {
	dealHead
	Units         int64      `json:"units"`
	StreamDate    time.Time  `json:"stream_date"`
	ProfileID     string     `json:"profile_id"`
	HostID        string     `json:"host_id"`
	Note          string     `json:"note"`
	ExpiresAt     time.Time  `json:"expires_at"`
	TrackingNo    string     `json:"tracking_no"`
	UnitsSold     *int64     `json:"units_sold"`
	UnitsReturned *int64     `json:"units_returned"`
	Rating        int        `json:"rating"`
	ResultNote    string     `json:"result_note"`
	CancelledBy   string     `json:"cancelled_by"`
	CancelReason  string     `json:"cancel_reason"`
	ConfirmedAt   *time.Time `json:"confirmed_at"`
	ShippedAt     *time.Time `json:"shipped_at"`
	CompletedAt   *time.Time `json:"completed_at"`
	CancelledAt   *time.Time `json:"cancelled_at"`
	ExpiredAt     *time.Time `json:"expired_at"`
}

// dealHead is what reservations and sample requests share, as the API
// returns them.
type dealHead struct {
	ID             string    `json:"id"`
	Status         string    `json:"status"`
	ProductID      string    `json:"product_id"`
	ProductSKU     string    `json:"product_sku"`
	ProductTitleZh string    `json:"product_title_zh"`
	ProductTitleEn string    `json:"product_title_en"`
	SupplierOrgID  string    `json:"supplier_org_id"`
	MCNOrgID       string    `json:"mcn_org_id"`
	Version        int64     `json:"version"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
	dealParties
}

// dealParties are the two orgs of a deal, by name when the API names them.
type dealParties struct {
	SupplierNameZh string `json:"supplier_org_name_zh"`
	SupplierNameEn string `json:"supplier_org_name_en"`
	MCNNameZh      string `json:"mcn_org_name_zh"`
	MCNNameEn      string `json:"mcn_org_name_en"`
}

// Sold and Returned are the reported result's units (0 before it).
func (r reservation) Sold() int64 { return deref64(r.UnitsSold) }

// Returned is the reported result's units returned.
func (r reservation) Returned() int64 { return deref64(r.UnitsReturned) }

func deref64(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

// sampleRequest is a sample request as the API returns it.
type sampleRequest struct {
	dealHead
	HostID        string     `json:"host_id"`
	ShipToRegion  string     `json:"ship_to_region"`
	Note          string     `json:"note"`
	DeclineReason string     `json:"decline_reason"`
	TrackingNo    string     `json:"tracking_no"`
	AcceptedAt    *time.Time `json:"accepted_at"`
	DeclinedAt    *time.Time `json:"declined_at"`
	ShippedAt     *time.Time `json:"shipped_at"`
	ReceivedAt    *time.Time `json:"received_at"`
}

// dealChange is an entry of a deal's audit trail.
type dealChange struct {
	Version int64     `json:"version"`
	At      time.Time `json:"at"`
	Actor   string    `json:"actor"`
	Party   string    `json:"party"`
	Action  string    `json:"action"`
	Before  string    `json:"before"`
	After   string    `json:"after"`
}

// dealSide is the caller's side of a deal ("" when it is neither).
func dealSide(me *engine.Org, mcnOrg, supplierOrg string) engine.Party {
	switch me.ID {
	case mcnOrg:
		return engine.PartyMCN
	case supplierOrg:
		return engine.PartySupplier
	}
	return ""
}

// The actions a list row offers, in the order of its buttons.
var (
	reservationActionOrder = []engine.ReservationAction{engine.ReserveConfirm, engine.ReserveShip, engine.ReserveResult, engine.ReserveCancel}
	sampleActionOrder      = []engine.SampleAction{engine.SampleAccept, engine.SampleShip, engine.SampleReceive, engine.SampleDecline}
)

// allowed reports whether an engine transition error still allows the
// action: only the role check (forbidden) and the state check (conflict)
// refuse it; bad input of the action is for the user to fix.
func allowed(err error) bool {
	return err == nil || !engine.IsKind(err, engine.KindForbidden) && !engine.IsKind(err, engine.KindConflict)
}

// reservationActions are the actions side may take on r at now, by the
// engine's transition table (a hold past its expiry offers none).
func reservationActions(r reservation, side engine.Party, now time.Time) []string {
	if side == "" {
		return nil
	}
	cur := engine.Reservation{Status: engine.ReservationStatus(r.Status), ExpiresAt: r.ExpiresAt, Units: r.Units}
	var out []string
	for _, a := range reservationActionOrder {
		if _, err := engine.ApplyReservation(cur, engine.ReservationChange{Action: a, By: side}, now); allowed(err) {
			out = append(out, string(a))
		}
	}
	return out
}

// sampleActions are the actions side may take on a sample request.
func sampleActions(r sampleRequest, side engine.Party, now time.Time) []string {
	if side == "" {
		return nil
	}
	cur := engine.SampleRequest{Status: engine.SampleStatus(r.Status)}
	var out []string
	for _, a := range sampleActionOrder {
		if _, err := engine.ApplySample(cur, engine.SampleChange{Action: a, By: side}, now); allowed(err) {
			out = append(out, string(a))
		}
	}
	return out
}

// dealState is where a deals list stands (its status filter, product and
// page) and which page an action came from ("list" or "page", a
// reservation's own page). Action forms carry it, so that the page shown
// after an action is the one the user acted on.
type dealState struct {
	Status, ProductID, Cursor, Trail, From string
}

// postedState reads a deals list's state from an action form.
func postedState(rq *request) dealState {
	f := rq.r.PostFormValue
	st := dealState{Status: f("list_status"), ProductID: f("list_product"), Cursor: f("cursor"), Trail: f("trail"), From: "list"}
	if f("from") == "page" {
		st.From = "page"
	}
	return st
}

// query is the list's address query for st.
func (st dealState) query(withPage bool) url.Values {
	q := url.Values{}
	if st.Status != "" {
		q.Set("status", st.Status)
	}
	if st.ProductID != "" {
		q.Set("product_id", st.ProductID)
	}
	if withPage && st.Cursor != "" {
		q.Set("cursor", st.Cursor)
		if st.Trail != "" {
			q.Set("trail", st.Trail)
		}
	}
	return q
}

// listURL is the list page at st.
func (st dealState) listURL(path string) string {
	if q := st.query(true); len(q) > 0 {
		return path + "?" + q.Encode()
	}
	return path
}

// dealEdit is a row's failed action: which action, what was typed with
// the API's messages by field, and a message for the row (a state
// conflict or a stale version).
type dealEdit struct {
	ID      string
	Action  string
	Form    *Form
	Message string
	Detail  string // the API's own words, beside Message
}

// dealRow is what a deal's row (or its own page's action panel) shows
// besides the deal: the caller's side, what it may do, a failed action
// and the message of a done one.
type dealRow struct {
	V       *view
	Side    string
	Actions []string
	Edit    *dealEdit
	Done    string
	State   dealState
	// The deal's two orgs, set with V (ResRow, SmpRow).
	parties             dealParties
	mcnOrg, supplierOrg string
}

// Counterparty names the deal's other org.
func (d dealRow) Counterparty() string {
	return d.V.counterparty(d.Side, d.parties, d.mcnOrg, d.supplierOrg)
}

// CounterpartyKind says what the other org is (supplier or MCN).
func (d dealRow) CounterpartyKind() string {
	if d.Side == string(engine.PartyMCN) {
		return d.V.T("deals.party.supplier")
	}
	return d.V.T("deals.party.mcn")
}

// Can reports whether the row offers an action.
func (d dealRow) Can(action string) bool { return slices.Contains(d.Actions, action) }

// Val is what the action's field held when it failed ("" otherwise).
func (d dealRow) Val(action, field string) string {
	if d.Edit == nil || d.Edit.Action != action || d.Edit.Form == nil {
		return ""
	}
	return d.Edit.Form.V(field)
}

// Err is the API's message for a field of the failed action.
func (d dealRow) Err(action, field string) string {
	if d.Edit == nil || d.Edit.Action != action || d.Edit.Form == nil {
		return ""
	}
	return d.Edit.Form.E(field)
}

// Open reports whether the action's panel is shown open: it failed.
func (d dealRow) Open(action string) bool { return d.Edit != nil && d.Edit.Action == action }

// Other is the API's messages of the failed action that name no field
// the action's form shows.
func (d dealRow) Other(fields ...string) string {
	if d.Edit == nil || d.Edit.Form == nil {
		return ""
	}
	return d.V.OtherErrors(d.Edit.Form, fields...)
}

// counterparty names the other org of a deal.
func (v *view) counterparty(side string, p dealParties, mcnOrg, supplierOrg string) string {
	if side == string(engine.PartyMCN) {
		if n := v.Name(p.SupplierNameZh, p.SupplierNameEn); n != "" {
			return n
		}
		return v.T("deals.org", supplierOrg)
	}
	if n := v.Name(p.MCNNameZh, p.MCNNameEn); n != "" {
		return n
	}
	return v.T("deals.org", mcnOrg)
}

// resRow is a reservation's row, for the "res-row" block.
type resRow struct {
	dealRow
	R reservation
}

// ResRow prepares a reservation's row for the "res-row" block.
func (v *view) ResRow(r resRow) resRow {
	r.V, r.parties, r.mcnOrg, r.supplierOrg = v, r.R.dealParties, r.R.MCNOrgID, r.R.SupplierOrgID
	return r
}

// smpRow is a sample request's row, for the "smp-row" block.
type smpRow struct {
	dealRow
	S smpView
}

// smpView is a sample request with its region named.
type smpView struct {
	sampleRequest
	Region string
}

// SmpRow prepares a sample request's row for the "smp-row" block.
func (v *view) SmpRow(r smpRow) smpRow {
	r.V, r.parties, r.mcnOrg, r.supplierOrg = v, r.S.dealParties, r.S.MCNOrgID, r.S.SupplierOrgID
	return r
}

// Day shows a stream date: the day in China time, with the time when it
// is not midnight.
func (v *view) Day(t time.Time) string {
	c := t.In(chinaTime)
	if c.Hour() == 0 && c.Minute() == 0 {
		return c.Format(time.DateOnly)
	}
	return c.Format("2006-01-02 15:04")
}

// Left says how long until t ("" once it has passed).
func (v *view) Left(t time.Time) string {
	d := t.Sub(v.rq.s.cfg.Now())
	switch {
	case d <= 0:
		return v.T("deals.left.none")
	case d >= 24*time.Hour:
		return v.T("deals.left.days", int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour))
	case d >= time.Hour:
		return v.T("deals.left.hours", int(d/time.Hour))
	default:
		return v.T("deals.left.minutes", max(1, int(d/time.Minute)))
	}
}

// filterLink is one status of a list's filter.
type filterLink struct {
	Value, Label, Href string
	On                 bool
}

// statusLinks are the status filter's links of a list at st.
func statusLinks(rq *request, path, prefix string, statuses []string, st dealState) []filterLink {
	all := st
	all.Status, all.Cursor, all.Trail = "", "", ""
	out := []filterLink{{Label: rq.T("deals.all"), Href: all.listURL(path), On: st.Status == ""}}
	for _, s := range statuses {
		one := all
		one.Status = s
		out = append(out, filterLink{Value: s, Label: rq.T(prefix + s), Href: one.listURL(path), On: st.Status == s})
	}
	return out
}

// dealListPage is the data of the reservations and samples lists.
type dealListPage struct {
	Res     []resRow
	Smp     []smpRow
	Filter  []filterLink
	State   dealState
	Product *product // the product the list is narrowed to
	Pager   pager
}

// loadDeals reads one page of a deals list at st from the API.
func loadDeals[T any](rq *request, apiPath, pagePath string, st dealState) ([]T, pager, *apiResult) {
	q := st.query(false)
	q.Set("limit", "20")
	if st.Cursor != "" {
		q.Set("cursor", st.Cursor)
	}
	res := rq.call(http.MethodGet, apiPath, q, nil, 0)
	if !res.OK() {
		return nil, pager{}, res
	}
	var page struct {
		Items      []T    `json:"items"`
		NextCursor string `json:"next_cursor"`
	}
	if err := res.decode(&page); err != nil {
		return nil, pager{}, decodeFailure(rq, err)
	}
	// The pager links to the list, also when the page is shown after an
	// action's POST.
	at, r, u := *rq, *rq.r, *rq.r.URL
	u.Path, u.RawPath = pagePath, ""
	r.URL = &u
	at.r = &r
	p, _ := pages(&at, st.query(false), st.Cursor, st.Trail, page.NextCursor, len(page.Items))
	return page.Items, p, res
}

// decodeFailure logs an API answer the console could not read and
// answers it as an internal error.
func decodeFailure(rq *request, err error) *apiResult {
	rq.s.log.Error("console: decoding an API answer failed", "path", rq.r.URL.Path, "err", err)
	return &apiResult{Status: http.StatusInternalServerError, Problem: &problem{Status: 500}}
}

// narrowedTo reads the product a list is narrowed to (nil when none or
// unreadable: the list still shows).
func narrowedTo(rq *request, id string) *product {
	if id == "" {
		return nil
	}
	var p product
	res := rq.call(http.MethodGet, "/v1/products/"+url.PathEscape(id), nil, nil, 0)
	if !res.OK() || res.decode(&p) != nil {
		return nil
	}
	return &p
}

func reservationStatuses() []string {
	var out []string
	for _, s := range engine.ReservationStatuses() {
		out = append(out, string(s))
	}
	return out
}

func sampleStatuses() []string {
	var out []string
	for _, s := range engine.SampleStatuses() {
		out = append(out, string(s))
	}
	return out
}

// --- reservations ---

func (s *Server) reservationList(w http.ResponseWriter, rq *request) {
	q := rq.r.URL.Query()
	st := dealState{Status: q.Get("status"), ProductID: q.Get("product_id"), Cursor: q.Get("cursor"), Trail: q.Get("trail"), From: "list"}
	s.renderReservations(w, rq, http.StatusOK, st, nil)
}

// resRowOf makes a reservation's row for the caller.
func (s *Server) resRowOf(rq *request, r reservation, st dealState) resRow {
	side := dealSide(rq.se.org, r.MCNOrgID, r.SupplierOrgID)
	return resRow{dealRow: dealRow{Side: string(side), Actions: reservationActions(r, side, s.cfg.Now()), State: st}, R: r}
}

// renderReservations renders the list at st; edit is a row's failed
// action (no JavaScript).
func (s *Server) renderReservations(w http.ResponseWriter, rq *request, status int, st dealState, edit *dealEdit) {
	items, pg, res := loadDeals[reservation](rq, "/v1/reservations", "/console/reservations", st)
	if !res.OK() {
		rq.failAPI(w, res)
		return
	}
	data := dealListPage{State: st, Pager: pg, Product: narrowedTo(rq, st.ProductID),
		Filter: statusLinks(rq, "/console/reservations", "reservations.status.", reservationStatuses(), st)}
	for _, r := range items {
		row := s.resRowOf(rq, r, st)
		if edit != nil && edit.ID == r.ID {
			row.Edit = edit
		}
		data.Res = append(data.Res, row)
	}
	rq.render(w, status, "reservations", rq.T("reservations.title"), data)
}

// resPage is a reservation's own page.
type resPage struct {
	Row        resRow
	Audit      []dealChange
	AuditError string
	// The MCN's demand profile and host the reservation is for, named
	// ("" when none, or not the caller's to read).
	ProfileName, HostName string
}

func (s *Server) reservationPage(w http.ResponseWriter, rq *request) {
	s.renderReservation(w, rq, http.StatusOK, rq.r.PathValue("id"), nil)
}

// renderReservation renders a reservation's page, read afresh, with a
// failed action's state.
func (s *Server) renderReservation(w http.ResponseWriter, rq *request, status int, id string, edit *dealEdit) {
	r, _, ok := loadOne[reservation](w, rq, "/v1/reservations/"+url.PathEscape(id))
	if !ok {
		return
	}
	data := resPage{Row: s.resRowOf(rq, r, dealState{From: "page"})}
	data.Row.Edit = edit
	if data.Row.Side == string(engine.PartyMCN) {
		data.ProfileName = nameOf(rq, "/v1/demand-profiles/", r.ProfileID)
		data.HostName = nameOf(rq, "/v1/hosts/", r.HostID)
	}
	var trail struct {
		Items []dealChange `json:"items"`
	}
	if res := rq.call(http.MethodGet, "/v1/reservations/"+url.PathEscape(id)+"/audit", nil, nil, 0); !res.OK() || res.decode(&trail) != nil {
		data.AuditError = rq.apiMessage(res)
	}
	data.Audit = trail.Items
	rq.render(w, status, "reservation", rq.Name(r.ProductTitleZh, r.ProductTitleEn), data)
}

// nameOf reads the name of an API object ("" when id is "" or it cannot
// be read).
func nameOf(rq *request, collection, id string) string {
	if id == "" {
		return ""
	}
	var o struct {
		Name string `json:"name"`
	}
	if res := rq.call(http.MethodGet, collection+url.PathEscape(id), nil, nil, 0); !res.OK() || res.decode(&o) != nil {
		return ""
	}
	return o.Name
}

// resultFields are the fields of a reservation's result.
var resultFields = []field{{"units_sold", kNumber}, {"units_returned", kNumber}, {"rating", kNumber}, {"note", kText}}

// reservationAct takes one action on a reservation, under the version the
// page showed. htmx gets the row back; without JavaScript a success goes
// back to the page it came from, and a failure shows that page again
// with the message by the field (or the row) and what was typed.
func (s *Server) reservationAct(w http.ResponseWriter, rq *request) {
	id, action := rq.r.PathValue("id"), rq.r.PathValue("action")
	vals, version := postedForm(rq, "list_status", "list_product", "cursor", "trail", "from")
	st := postedState(rq)
	base := "/v1/reservations/" + url.PathEscape(id)
	var path string
	var body any
	switch action {
	case string(engine.ReserveConfirm), string(engine.ReserveCancel):
		path = base + ":" + action
	case string(engine.ReserveShip):
		path, body = base+":ship", map[string]any{"tracking_no": strings.TrimSpace(vals.Get("tracking_no"))}
	case string(engine.ReserveResult):
		path, body = base+"/result", jsonOf(vals, resultFields)
	default:
		rq.fail(w, http.StatusNotFound, rq.T("error.not_found"))
		return
	}
	htmx := rq.r.Header.Get("HX-Request") == "true"
	res := rq.call(http.MethodPost, path, nil, body, version)
	switch {
	case res.OK():
		var r reservation
		if err := res.decode(&r); err != nil {
			rq.failErr(w, fmt.Errorf("decoding the reservation: %w", err))
			return
		}
		if !htmx {
			rq.flash("reservations.done." + action)
			if st.From == "page" {
				rq.redirect(w, "/console/reservations/"+url.PathEscape(id))
				return
			}
			rq.redirect(w, st.listURL("/console/reservations"))
			return
		}
		row := s.resRowOf(rq, r, st)
		row.Done = rq.T("reservations.done." + action)
		rq.renderBlock(w, http.StatusOK, "reservations", "res-row-only", "", row)
	case res.Status == http.StatusBadRequest || res.Status == http.StatusConflict || res.Status == http.StatusPreconditionFailed:
		cur, _, got := loadOneQuiet[reservation](rq, base)
		if !got.OK() {
			s.failFragment(w, rq, htmx, got)
			return
		}
		edit := s.dealEditOf(rq, id, action, vals, res, "reservations.status."+cur.Status)
		switch {
		case htmx:
			row := s.resRowOf(rq, cur, st)
			row.Edit = edit
			// htmx logs a 4xx as a script error: the message is in the row.
			rq.renderBlock(w, http.StatusOK, "reservations", "res-row-only", "", row)
		case st.From == "page":
			s.renderReservation(w, rq, res.Status, id, edit)
		default:
			s.renderReservations(w, rq, res.Status, st, edit)
		}
	default:
		s.failFragment(w, rq, htmx, res)
	}
}

// loadOneQuiet reads one API object, leaving the error page to the
// caller.
func loadOneQuiet[T any](rq *request, path string) (T, []byte, *apiResult) {
	var v T
	res := rq.call(http.MethodGet, path, nil, nil, 0)
	if res.OK() {
		if err := res.decode(&v); err != nil {
			return v, nil, decodeFailure(rq, err)
		}
	}
	return v, res.Body, res
}

// dealEditOf describes a failed action: 412 (the deal changed since the
// page was loaded) and a 409 naming the state say what the deal is now
// (statusKey names its state); other messages go by their fields.
func (s *Server) dealEditOf(rq *request, id, action string, vals url.Values, res *apiResult, statusKey string) *dealEdit {
	edit := &dealEdit{ID: id, Action: action, Form: newForm(vals)}
	errs := res.Problem.fieldErrors()
	switch {
	case res.Status == http.StatusPreconditionFailed:
		edit.Message = rq.T("deals.stale", rq.T(statusKey))
	case res.Status == http.StatusConflict && errs["status"] != "":
		edit.Message = rq.T("deals.conflict", rq.T(statusKey))
		edit.Detail = res.Problem.Detail
	default:
		edit.Form.withProblem(res.Problem)
		if len(edit.Form.Errors) == 0 {
			edit.Message = rq.apiMessage(res)
		}
	}
	return edit
}

// --- creating a reservation or a sample request ---

// reserveState is the state of a reserve form: the product and demand
// profile it is for, what is typed, the API's messages; Done is the
// reservation made (htmx shows it in place of the form).
type reserveState struct {
	ProductID string
	ProfileID string
	Form      *Form
	Done      *reservation
}

// sampleState is the state of a sample request form.
type sampleState struct {
	ProductID string
	Form      *Form
	Region    string // ship_to_region, named
	Done      *sampleRequest
}

// dealBox is a deal form for its block: the view and the form's state.
type dealBox struct {
	V *view
	R *reserveState
	S *sampleState
}

// ReserveBox prepares a reserve form for the "reserve-form" block.
func (v *view) ReserveBox(r *reserveState) dealBox { return dealBox{V: v, R: r} }

// SampleBox prepares a sample request form for the "sample-form" block.
func (v *view) SampleBox(s *sampleState) dealBox { return dealBox{V: v, S: s} }

// Default hold of a new reservation's form (the API's default, 48 h).
const defaultHoldDays = "2"

// newReserve is a blank reserve form for a product.
func newReserve(productID, profileID, streamDate string) *reserveState {
	return &reserveState{ProductID: productID, ProfileID: profileID,
		Form: newForm(url.Values{"stream_date": {streamDate}, "hold": {defaultHoldDays}, "hold_unit": {"days"}})}
}

// newSample is a blank sample request form: the samples go to the MCN's
// own region unless changed.
func (s *Server) newSample(rq *request, productID string) *sampleState {
	code := rq.se.org.RegionCode
	return &sampleState{ProductID: productID, Form: newForm(url.Values{"ship_to_region": {code}}), Region: s.regionName(rq, code)}
}

// ReserveFor is the reserve form of a product matched on a demand
// profile's page: for the profile, its stream date the default (the
// typed one, while unsaved values are previewed).
func (v *view) ReserveFor(p product) *reserveState {
	id, date := "", ""
	if pp, ok := v.Data.(*profilePage); ok {
		id, date = pp.ID, pp.Form.V("stream_date")
	} else if v.rq.r.Method == http.MethodPost {
		id, date = v.rq.r.PathValue("id"), v.rq.r.PostFormValue("stream_date")
		if id == "new" {
			id = ""
		}
	}
	date, _, _ = strings.Cut(strings.TrimSpace(date), "T")
	return newReserve(p.ID, id, date)
}

// SampleFor is the sample request form of a matched product.
func (v *view) SampleFor(p product) *sampleState { return v.rq.s.newSample(v.rq, p.ID) }

// holdUntil turns the typed hold (a whole number of hours or days) into
// the API's hold_until; ok is false when the number is no whole number.
func (s *Server) holdUntil(n, unit string) (string, bool) {
	n = strings.TrimSpace(n)
	if n == "" {
		return "", true
	}
	k, err := strconv.Atoi(n)
	if err != nil {
		return "", false
	}
	d := time.Duration(k) * time.Hour
	if unit == "days" {
		d *= 24
	}
	return s.cfg.Now().Add(d).UTC().Format(time.RFC3339), true
}

// reserve makes a reservation from a reserve form. htmx gets the form
// back (with the API's messages) or the confirmation; without JavaScript
// a success goes to the reservations list, a failure shows the product's
// page with the form as typed.
func (s *Server) reserve(w http.ResponseWriter, rq *request) {
	vals, _ := postedForm(rq)
	rs := &reserveState{ProductID: strings.TrimSpace(vals.Get("product_id")), ProfileID: strings.TrimSpace(vals.Get("profile_id")), Form: newForm(vals)}
	htmx := rq.r.Header.Get("HX-Request") == "true"
	status := http.StatusBadRequest
	if until, ok := s.holdUntil(vals.Get("hold"), vals.Get("hold_unit")); !ok {
		rs.Form.Errors["hold"] = rq.T("reserve.hold.number")
	} else {
		body := map[string]any{"product_id": rs.ProductID, "units": number(vals.Get("units")), "stream_date": strings.TrimSpace(vals.Get("stream_date"))}
		if body["units"] == "" {
			delete(body, "units")
		}
		for _, k := range []string{"profile_id", "note"} {
			if v := strings.TrimSpace(vals.Get(k)); v != "" {
				body[k] = v
			}
		}
		if until != "" {
			body["hold_until"] = until
		}
		res := rq.call(http.MethodPost, "/v1/reservations", nil, body, 0)
		switch {
		case res.OK():
			var r reservation
			if err := res.decode(&r); err != nil {
				rq.failErr(w, fmt.Errorf("decoding the reservation: %w", err))
				return
			}
			if !htmx {
				rq.flash("reservations.created")
				rq.redirect(w, "/console/reservations")
				return
			}
			rs.Done = &r
			rq.renderBlock(w, http.StatusOK, "reservations", "reserve-only", "", rs)
			return
		case res.Status == http.StatusBadRequest || res.Status == http.StatusConflict:
			status = res.Status
			rs.Form.withProblem(res.Problem)
			if m, ok := rs.Form.Errors["hold_until"]; ok { // the form's field is the hold
				rs.Form.Errors["hold"] = m
				delete(rs.Form.Errors, "hold_until")
			}
			if res.Status == http.StatusConflict && res.Problem.Available != nil {
				rs.Form.Errors["units"] = rq.T("reserve.short", *res.Problem.Available)
			}
		default:
			s.failFragment(w, rq, htmx, res)
			return
		}
	}
	if htmx {
		rq.renderBlock(w, http.StatusOK, "reservations", "reserve-only", "", rs)
		return
	}
	s.renderOffer(w, rq, status, rs.ProductID, func(o *offerPage) {
		o.Reserve = rs
	})
}

// requestSample asks for a sample from a sample form, as reserve does.
func (s *Server) requestSample(w http.ResponseWriter, rq *request) {
	vals, _ := postedForm(rq)
	ss := &sampleState{ProductID: strings.TrimSpace(vals.Get("product_id")), Form: newForm(vals), Region: s.regionName(rq, vals.Get("ship_to_region"))}
	htmx := rq.r.Header.Get("HX-Request") == "true"
	body := map[string]any{"product_id": ss.ProductID, "ship_to_region": strings.TrimSpace(vals.Get("ship_to_region"))}
	if v := strings.TrimSpace(vals.Get("note")); v != "" {
		body["note"] = v
	}
	res := rq.call(http.MethodPost, "/v1/sample-requests", nil, body, 0)
	switch {
	case res.OK():
		var r sampleRequest
		if err := res.decode(&r); err != nil {
			rq.failErr(w, fmt.Errorf("decoding the sample request: %w", err))
			return
		}
		if !htmx {
			rq.flash("samples.created")
			rq.redirect(w, "/console/samples")
			return
		}
		ss.Done = &r
	case res.Status == http.StatusBadRequest || res.Status == http.StatusConflict:
		ss.Form.withProblem(res.Problem)
		if !htmx {
			s.renderOffer(w, rq, res.Status, ss.ProductID, func(o *offerPage) {
				o.Sample = ss
			})
			return
		}
	default:
		s.failFragment(w, rq, htmx, res)
		return
	}
	rq.renderBlock(w, http.StatusOK, "samples", "sample-only", "", ss)
}

// --- sample requests ---

func (s *Server) sampleList(w http.ResponseWriter, rq *request) {
	q := rq.r.URL.Query()
	st := dealState{Status: q.Get("status"), ProductID: q.Get("product_id"), Cursor: q.Get("cursor"), Trail: q.Get("trail"), From: "list"}
	s.renderSamples(w, rq, http.StatusOK, st, nil)
}

// smpRowOf makes a sample request's row for the caller.
func (s *Server) smpRowOf(rq *request, r sampleRequest, st dealState) smpRow {
	side := dealSide(rq.se.org, r.MCNOrgID, r.SupplierOrgID)
	return smpRow{dealRow: dealRow{Side: string(side), Actions: sampleActions(r, side, s.cfg.Now()), State: st},
		S: smpView{sampleRequest: r, Region: s.regionName(rq, r.ShipToRegion)}}
}

// renderSamples renders the sample requests at st, with a row's failed
// action.
func (s *Server) renderSamples(w http.ResponseWriter, rq *request, status int, st dealState, edit *dealEdit) {
	items, pg, res := loadDeals[sampleRequest](rq, "/v1/sample-requests", "/console/samples", st)
	if !res.OK() {
		rq.failAPI(w, res)
		return
	}
	data := dealListPage{State: st, Pager: pg, Product: narrowedTo(rq, st.ProductID),
		Filter: statusLinks(rq, "/console/samples", "samples.status.", sampleStatuses(), st)}
	for _, r := range items {
		row := s.smpRowOf(rq, r, st)
		if edit != nil && edit.ID == r.ID {
			row.Edit = edit
		}
		data.Smp = append(data.Smp, row)
	}
	rq.render(w, status, "samples", rq.T("samples.title"), data)
}

// sampleAct takes one action on a sample request, as reservationAct.
func (s *Server) sampleAct(w http.ResponseWriter, rq *request) {
	id, action := rq.r.PathValue("id"), rq.r.PathValue("action")
	vals, version := postedForm(rq, "list_status", "list_product", "cursor", "trail", "from")
	st := postedState(rq)
	base := "/v1/sample-requests/" + url.PathEscape(id)
	var body any
	switch action {
	case string(engine.SampleAccept), string(engine.SampleReceive):
	case string(engine.SampleDecline):
		body = map[string]any{"reason": strings.TrimSpace(vals.Get("reason"))}
	case string(engine.SampleShip):
		body = map[string]any{"tracking_no": strings.TrimSpace(vals.Get("tracking_no"))}
	default:
		rq.fail(w, http.StatusNotFound, rq.T("error.not_found"))
		return
	}
	htmx := rq.r.Header.Get("HX-Request") == "true"
	res := rq.call(http.MethodPost, base+":"+action, nil, body, version)
	switch {
	case res.OK():
		var r sampleRequest
		if err := res.decode(&r); err != nil {
			rq.failErr(w, fmt.Errorf("decoding the sample request: %w", err))
			return
		}
		if !htmx {
			rq.flash("samples.done." + action)
			rq.redirect(w, st.listURL("/console/samples"))
			return
		}
		row := s.smpRowOf(rq, r, st)
		row.Done = rq.T("samples.done." + action)
		rq.renderBlock(w, http.StatusOK, "samples", "smp-row-only", "", row)
	case res.Status == http.StatusBadRequest || res.Status == http.StatusConflict || res.Status == http.StatusPreconditionFailed:
		cur, _, got := loadOneQuiet[sampleRequest](rq, base)
		if !got.OK() {
			s.failFragment(w, rq, htmx, got)
			return
		}
		edit := s.dealEditOf(rq, id, action, vals, res, "samples.status."+cur.Status)
		if !htmx {
			s.renderSamples(w, rq, res.Status, st, edit)
			return
		}
		row := s.smpRowOf(rq, cur, st)
		row.Edit = edit
		rq.renderBlock(w, http.StatusOK, "samples", "smp-row-only", "", row)
	default:
		s.failFragment(w, rq, htmx, res)
	}
}

// --- a listed product's page ---

// offerPage is a listed product's page: what it is, its stock, and for
// an MCN the reserve and sample forms.
type offerPage struct {
	Product  product
	Own      bool   // the signed-in supplier's own product
	ShipFrom string // the region of ship_from, named
	Reserve  *reserveState
	Sample   *sampleState
	// ProfileID is the demand profile the MCN came from (for the way back).
	ProfileID string
}

func (s *Server) offerShow(w http.ResponseWriter, rq *request) {
	s.renderOffer(w, rq, http.StatusOK, rq.r.PathValue("id"), nil)
}

// renderOffer renders a product's page; change sets a form's state.
func (s *Server) renderOffer(w http.ResponseWriter, rq *request, status int, id string, change func(*offerPage)) {
	p, _, res := loadOneQuiet[product](rq, "/v1/products/"+url.PathEscape(id))
	if !res.OK() {
		rq.failAPI(w, res)
		return
	}
	q := rq.r.URL.Query()
	data := &offerPage{Product: p, Own: p.OrgID == rq.se.org.ID, ShipFrom: s.regionName(rq, p.ShipFrom), ProfileID: q.Get("profile_id")}
	if rq.se.org.Kind == engine.OrgMCN {
		date := q.Get("stream_date")
		data.Reserve = newReserve(p.ID, data.ProfileID, date)
		if p.SampleAvailable {
			data.Sample = s.newSample(rq, p.ID)
		}
	}
	if change != nil {
		change(data)
		if data.Reserve != nil && data.Reserve.ProfileID != "" {
			data.ProfileID = data.Reserve.ProfileID
		}
	}
	rq.render(w, status, "offer", rq.Name(p.TitleZh, p.TitleEn), data)
}

// Free is the units of a product still available: its stock less the
// units held and confirmed.
func (p product) Free() int64 {
	if p.Available != nil {
		return *p.Available
	}
	return max(0, p.Stock-p.Booked)
}

// OtherErrors joins the API's messages for the fields a form does not
// show (product_id, profile_id…), with its summary when it names none.
func (v *view) OtherErrors(f *Form, shown ...string) string {
	if f == nil {
		return ""
	}
	var msgs []string
	for _, e := range f.AllErrors() {
		if !slices.Contains(shown, e.Field) {
			msgs = append(msgs, e.Field+": "+e.Message)
		}
	}
	if len(msgs) == 0 && len(f.Errors) == 0 && f.Problem != "" {
		msgs = append(msgs, f.Problem)
	}
	return strings.Join(msgs, "; ")
}
