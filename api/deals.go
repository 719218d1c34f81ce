package api

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/livematch/livematch/engine"
	"github.com/livematch/livematch/store"
)

// Reservations and sample requests: an MCN holds units of a product for a
// stream or asks for a sample; the supplier confirms, ships, and the MCN
// reports. The rules are engine's (reservation.go, sample.go); the atomic
// booking is the store's ledger (docs/deals.md).

type reservationIn struct {
	ProductID  string `json:"product_id"`
	Units      *int64 `json:"units"`
	StreamDate string `json:"stream_date"`
	ProfileID  string `json:"profile_id"`
	HostID     string `json:"host_id"`
	HoldUntil  string `json:"hold_until"`
	Note       string `json:"note"`
}

type reservationOut struct {
	ID             string `json:"id"`
	Status         string `json:"status"`
	ProductID      string `json:"product_id"`
	ProductSKU     string `json:"product_sku"`
	ProductTitleZh string `json:"product_title_zh"`
	ProductTitleEn string `json:"product_title_en"`
	SupplierOrgID  string `json:"supplier_org_id"`
	MCNOrgID       string `json:"mcn_org_id"`
	dealParties
	Units         int64      `json:"units"`
	StreamDate    time.Time  `json:"stream_date"`
	ProfileID     string     `json:"profile_id,omitempty"`
	HostID        string     `json:"host_id,omitempty"`
	Note          string     `json:"note,omitempty"`
	ExpiresAt     time.Time  `json:"expires_at"`
	TrackingNo    string     `json:"tracking_no,omitempty"`
	UnitsSold     *int64     `json:"units_sold,omitempty"`
	UnitsReturned *int64     `json:"units_returned,omitempty"`
	Rating        int        `json:"rating,omitempty"`
	ResultNote    string     `json:"result_note,omitempty"`
	CancelledBy   string     `json:"cancelled_by,omitempty"`
	CancelReason  string     `json:"cancel_reason,omitempty"`
	Version       int64      `json:"version"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
	ConfirmedAt   *time.Time `json:"confirmed_at,omitempty"`
	ShippedAt     *time.Time `json:"shipped_at,omitempty"`
	CompletedAt   *time.Time `json:"completed_at,omitempty"`
	CancelledAt   *time.Time `json:"cancelled_at,omitempty"`
	ExpiredAt     *time.Time `json:"expired_at,omitempty"`
}

// dealParties names both orgs of a deal in both languages, so that lists
// can show who the other side is.
type dealParties struct {
	SupplierNameZh string `json:"supplier_org_name_zh"`
	SupplierNameEn string `json:"supplier_org_name_en"`
	MCNNameZh      string `json:"mcn_org_name_zh"`
	MCNNameEn      string `json:"mcn_org_name_en"`
}

// parties looks the two orgs up in the org directory (a gone org keeps an
// empty name).
func (s *Server) parties(ctx context.Context, supplier, mcn string) dealParties {
	var p dealParties
	if o, err := s.orgs.get(ctx, supplier); err == nil && o != nil {
		p.SupplierNameZh, p.SupplierNameEn = o.NameZh, o.NameEn
	}
	if o, err := s.orgs.get(ctx, mcn); err == nil && o != nil {
		p.MCNNameZh, p.MCNNameEn = o.NameZh, o.NameEn
	}
	return p
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func (s *Server) reservationOut(ctx context.Context, r *engine.Reservation) reservationOut {
	out := reservationOut{dealParties: s.parties(ctx, r.SupplierOrgID, r.MCNOrgID), ID: r.ID, Status: string(r.Status), ProductID: r.ProductID, ProductSKU: r.ProductSKU,
		ProductTitleZh: r.ProductTitleZh, ProductTitleEn: r.ProductTitleEn, SupplierOrgID: r.SupplierOrgID,
		MCNOrgID: r.MCNOrgID, Units: r.Units, StreamDate: r.StreamDate, ProfileID: r.ProfileID, HostID: r.HostID,
		Note: r.Note, ExpiresAt: r.ExpiresAt, TrackingNo: r.TrackingNo, Rating: r.Rating, ResultNote: r.ResultNote,
		CancelledBy: string(r.CancelledBy), CancelReason: r.CancelReason, Version: r.Version, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
		ConfirmedAt: timePtr(r.ConfirmedAt), ShippedAt: timePtr(r.ShippedAt), CompletedAt: timePtr(r.CompletedAt),
		CancelledAt: timePtr(r.CancelledAt), ExpiredAt: timePtr(r.ExpiredAt)}
	if r.Status == engine.ReservationCompleted {
		sold, ret := r.UnitsSold, r.UnitsReturned
		out.UnitsSold, out.UnitsReturned = &sold, &ret
	}
	return out
}

// dealProduct loads the product a new reservation or sample request is
// for: one the caller may see (approved, or its own). Anything else is a
// 400 naming product_id: the id is the caller's input.
func (s *Server) dealProduct(c *gin.Context, op, id string) (*engine.Product, error) {
	id = strings.TrimSpace(id)
	if id == "" {
		return nil, engine.InvalidField(op, "product_id", "is required")
	}
	p, err := s.store.GetProduct(c.Request.Context(), id)
	if engine.IsKind(err, engine.KindNotFound) || err == nil && p.ReviewStatus != engine.ReviewApproved {
		return nil, engine.InvalidField(op, "product_id", "no product "+clipID(id)+" is listed")
	}
	return p, err
}

// ownRef checks an optional profile or host id of a new deal: it must be
// the caller's own.
func (s *Server) ownRef(c *gin.Context, op, field, id string) error {
	if id == "" {
		return nil
	}
	var owner string
	var err error
	switch field {
	case "profile_id":
		var p *engine.DemandProfile
		if p, err = s.store.GetProfile(c.Request.Context(), id); err == nil {
			owner = p.OrgID
		}
	case "host_id":
		var h *engine.Host
		if h, err = s.store.GetHost(c.Request.Context(), id); err == nil {
			owner = h.OrgID
		}
	}
	if engine.IsKind(err, engine.KindNotFound) || err == nil && owner != caller(c).ID {
		return engine.InvalidField(op, field, "is not one of yours")
	}
	return err
}

// prepareReservation turns the input into a held reservation as of now, or
// a KindInvalid error naming every bad field once.
func prepareReservation(in *reservationIn, now time.Time) (*engine.Reservation, error) {
	const op = "api.prepareReservation"
	var pr engine.Problems
	r := &engine.Reservation{ProductID: in.ProductID, ProfileID: in.ProfileID, HostID: in.HostID, Note: in.Note}
	if in.Units == nil {
		pr.Add("units", "is required")
	} else {
		r.Units = *in.Units
	}
	if v := strings.TrimSpace(in.StreamDate); v != "" {
		t, err := parseTimeOrDate(v)
		if err != nil {
			pr.Add("stream_date", "must be a date such as 2026-12-12 or an RFC 3339 time")
		}
		r.StreamDate = t
	}
	if v := strings.TrimSpace(in.HoldUntil); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			pr.Add("hold_until", "must be an RFC 3339 time such as 2026-12-10T18:00:00+08:00")
		} else {
			r.ExpiresAt = t.UTC()
		}
	}
	err := engine.PrepareReservation(r, now)
	if in.Units == nil {
		// PrepareReservation also names units; keep one message.
		if e, ok := asInvalid(err); ok {
			e.Fields = dropField(e.Fields, "units")
		}
	}
	fields := pr.Fields
	if e, ok := asInvalid(err); ok {
		fields = append(fields, e.Fields...)
	} else if err != nil {
		return nil, err
	}
	if len(fields) > 0 {
		return nil, (&engine.Problems{Fields: dedupeFields(fields)}).Err(op)
	}
	return r, nil
}

func (s *Server) createReservation(c *gin.Context) {
	const op = "api.createReservation"
	var in reservationIn
	if err := s.bind(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	r, err := prepareReservation(&in, s.now())
	if err != nil {
		s.fail(c, err)
		return
	}
	p, err := s.dealProduct(c, op, r.ProductID)
	if err == nil {
		err = s.ownRef(c, op, "profile_id", r.ProfileID)
	}
	if err == nil {
		err = s.ownRef(c, op, "host_id", r.HostID)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	r.ProductID, r.SupplierOrgID, r.MCNOrgID = p.ID, p.OrgID, caller(c).ID
	r.ProductSKU, r.ProductTitleZh, r.ProductTitleEn = p.SKU, p.TitleZh, p.TitleEn
	got, err := s.store.CreateReservation(c.Request.Context(), p, r)
	var short *engine.Shortage
	switch {
	case err == nil:
		s.metrics.reservations.WithLabelValues("held").Inc()
		s.metrics.reservationUnits.WithLabelValues("held").Add(float64(r.Units))
	case errors.As(err, &short):
		s.metrics.reservations.WithLabelValues("refused").Inc()
		s.metrics.reservationUnits.WithLabelValues("refused").Add(float64(r.Units))
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	setETag(c, got.Version)
	c.Header("Location", "/v1/reservations/"+got.ID)
	c.JSON(http.StatusCreated, s.reservationOut(c.Request.Context(), got))
}

// dropField removes every problem naming field.
func dropField(fs []engine.FieldError, field string) []engine.FieldError {
	out := fs[:0]
	for _, f := range fs {
		if f.Field != field {
			out = append(out, f)
		}
	}
	return out
}

// dedupeFields keeps the first problem of each field.
func dedupeFields(fs []engine.FieldError) []engine.FieldError {
	seen := map[string]bool{}
	var out []engine.FieldError
	for _, f := range fs {
		if !seen[f.Field] {
			seen[f.Field] = true
			out = append(out, f)
		}
	}
	return out
}

// partyOf says which side of a deal the caller is on; ok is false for an
// org that is neither (admin sees, but does not act).
func partyOf(me *engine.Org, mcnOrg, supplierOrg string) (engine.Party, bool) {
	switch me.ID {
	case mcnOrg:
		return engine.PartyMCN, true
	case supplierOrg:
		return engine.PartySupplier, true
	}
	return "", false
}

type shipIn struct {
	TrackingNo string `json:"tracking_no"`
}

type cancelIn struct {
	Reason string `json:"reason"`
}

type resultIn struct {
	UnitsSold     *int64 `json:"units_sold"`
	UnitsReturned *int64 `json:"units_returned"`
	Rating        int    `json:"rating"`
	Note          string `json:"note"`
}

// bindOptional binds a body that may be empty.
func (s *Server) bindOptional(c *gin.Context, v any) error {
	if c.Request.ContentLength == 0 {
		return nil
	}
	return s.bind(c, v)
}

// reservationAction serves POST /v1/reservations/{id}:{action}.
func (s *Server) reservationAction(c *gin.Context) {
	const op = "api.reservationAction"
	id, action, ok := strings.Cut(c.Param("id"), ":")
	if !ok {
		s.fail(c, engine.InvalidField(op, "action", "add :confirm, :cancel or :ship to the reservation's path"))
		return
	}
	ch := engine.ReservationChange{Action: engine.ReservationAction(action)}
	var err error
	switch ch.Action {
	case engine.ReserveConfirm:
		err = s.bindOptional(c, &struct{}{})
	case engine.ReserveCancel:
		var in cancelIn
		err = s.bindOptional(c, &in)
		ch.Note = in.Reason
	case engine.ReserveShip:
		var in shipIn
		err = s.bindOptional(c, &in)
		ch.TrackingNo = in.TrackingNo
	default:
		err = engine.InvalidField(op, "action", "must be confirm, cancel or ship (the result is posted to /result)")
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	s.changeReservation(c, id, ch)
}

func (s *Server) reservationResult(c *gin.Context) {
	const op = "api.reservationResult"
	var in resultIn
	if err := s.bind(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	var pr engine.Problems
	if in.UnitsSold == nil {
		pr.Add("units_sold", "is required")
	}
	if in.UnitsReturned == nil {
		pr.Add("units_returned", "is required")
	}
	if err := pr.Err(op); err != nil {
		s.fail(c, err)
		return
	}
	s.changeReservation(c, c.Param("id"), engine.ReservationChange{Action: engine.ReserveResult,
		UnitsSold: *in.UnitsSold, UnitsReturned: *in.UnitsReturned, Rating: in.Rating, Note: in.Note})
}

func (s *Server) changeReservation(c *gin.Context, id string, ch engine.ReservationChange) {
	actOnDeal(s, c, reservationDeals(), id, func(ctx context.Context, id string, ifv int64, a store.Actor) (*engine.Reservation, error) {
		return s.store.ChangeReservation(ctx, id, ifv, a, ch)
	})
}

// dealList reads the list parameters shared by reservations and samples:
// status (one of statuses), product_id, limit and cursor. The caller's
// side decides whose objects are listed.
func dealList(c *gin.Context, statuses []string) (store.DealFilter, error) {
	const op = "api.dealList"
	pg, err := pageParams(c)
	var pr engine.Problems
	if e, ok := asInvalid(err); ok {
		pr.Fields = append(pr.Fields, e.Fields...)
	}
	f := store.DealFilter{Status: c.Query("status"), ProductID: c.Query("product_id"), Before: pg.after, Limit: pg.limit + 1}
	if f.Status != "" && !slices.Contains(statuses, f.Status) {
		pr.Add("status", "must be one of %s", strings.Join(statuses, ", "))
	}
	if pg.after != "" && !store.ValidDealCursor(pg.after) {
		pr.Add("cursor", "is not a cursor from this API")
	}
	if len(f.ProductID) > engine.MaxDealIDLen {
		pr.Add("product_id", "is too long")
	}
	me := caller(c)
	switch me.Kind {
	case engine.OrgAdmin:
	case engine.OrgMCN:
		f.MCNOrgID = me.ID
	default:
		f.SupplierOrgID = me.ID
	}
	return f, pr.Err(op)
}

// nextCursor trims a page fetched with one extra item and returns the
// cursor of the next page.
func nextCursor[T any](items []T, limit int, id func(T) string) ([]T, string) {
	if len(items) <= limit {
		return items, ""
	}
	items = items[:limit]
	return items, base64.RawURLEncoding.EncodeToString([]byte("k:" + id(items[len(items)-1])))
}

// --- sample requests ---

type sampleIn struct {
	ProductID    string `json:"product_id"`
	HostID       string `json:"host_id"`
	ShipToRegion string `json:"ship_to_region"`
	Note         string `json:"note"`
}

type sampleOut struct {
	ID             string `json:"id"`
	Status         string `json:"status"`
	ProductID      string `json:"product_id"`
	ProductSKU     string `json:"product_sku"`
	ProductTitleZh string `json:"product_title_zh"`
	ProductTitleEn string `json:"product_title_en"`
	SupplierOrgID  string `json:"supplier_org_id"`
	MCNOrgID       string `json:"mcn_org_id"`
	dealParties
	HostID        string     `json:"host_id,omitempty"`
	ShipToRegion  string     `json:"ship_to_region"`
	Note          string     `json:"note,omitempty"`
	DeclineReason string     `json:"decline_reason,omitempty"`
	TrackingNo    string     `json:"tracking_no,omitempty"`
	Version       int64      `json:"version"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
	AcceptedAt    *time.Time `json:"accepted_at,omitempty"`
	DeclinedAt    *time.Time `json:"declined_at,omitempty"`
	ShippedAt     *time.Time `json:"shipped_at,omitempty"`
	ReceivedAt    *time.Time `json:"received_at,omitempty"`
}

func (s *Server) sampleOut(ctx context.Context, r *engine.SampleRequest) sampleOut {
	return sampleOut{dealParties: s.parties(ctx, r.SupplierOrgID, r.MCNOrgID), ID: r.ID, Status: string(r.Status), ProductID: r.ProductID, ProductSKU: r.ProductSKU,
		ProductTitleZh: r.ProductTitleZh, ProductTitleEn: r.ProductTitleEn, SupplierOrgID: r.SupplierOrgID,
		MCNOrgID: r.MCNOrgID, HostID: r.HostID, ShipToRegion: r.ShipToRegion, Note: r.Note,
		DeclineReason: r.DeclineReason, TrackingNo: r.TrackingNo, Version: r.Version, CreatedAt: r.CreatedAt,
		UpdatedAt: r.UpdatedAt, AcceptedAt: timePtr(r.AcceptedAt), DeclinedAt: timePtr(r.DeclinedAt),
		ShippedAt: timePtr(r.ShippedAt), ReceivedAt: timePtr(r.ReceivedAt)}
}

func (s *Server) createSampleRequest(c *gin.Context) {
	const op = "api.createSampleRequest"
	var in sampleIn
	if err := s.bind(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	p, err := s.dealProduct(c, op, in.ProductID)
	if err == nil {
		err = s.ownRef(c, op, "host_id", strings.TrimSpace(in.HostID))
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	r := &engine.SampleRequest{ProductID: p.ID, SupplierOrgID: p.OrgID, MCNOrgID: caller(c).ID, HostID: in.HostID,
		ShipToRegion: in.ShipToRegion, Note: in.Note, ProductSKU: p.SKU, ProductTitleZh: p.TitleZh, ProductTitleEn: p.TitleEn}
	if err := engine.PrepareSampleRequest(r, p.SampleAvailable, s.regions); err != nil {
		s.fail(c, err)
		return
	}
	got, err := s.store.CreateSampleRequest(c.Request.Context(), r)
	if err != nil {
		s.fail(c, err)
		return
	}
	setETag(c, got.Version)
	c.Header("Location", "/v1/sample-requests/"+got.ID)
	c.JSON(http.StatusCreated, s.sampleOut(c.Request.Context(), got))
}

type declineIn struct {
	Reason string `json:"reason"`
}

// sampleAction serves POST /v1/sample-requests/{id}:{action}.
func (s *Server) sampleAction(c *gin.Context) {
	const op = "api.sampleAction"
	id, action, ok := strings.Cut(c.Param("id"), ":")
	if !ok {
		s.fail(c, engine.InvalidField(op, "action", "add :accept, :decline, :ship or :receive to the sample request's path"))
		return
	}
	ch := engine.SampleChange{Action: engine.SampleAction(action)}
	var err error
	switch ch.Action {
	case engine.SampleAccept, engine.SampleReceive:
		err = s.bindOptional(c, &struct{}{})
	case engine.SampleDecline:
		var in declineIn
		err = s.bindOptional(c, &in)
		ch.Reason = in.Reason
	case engine.SampleShip:
		var in shipIn
		err = s.bindOptional(c, &in)
		ch.TrackingNo = in.TrackingNo
	default:
		err = engine.InvalidField(op, "action", "must be accept, decline, ship or receive")
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	actOnDeal(s, c, sampleDeals(), id, func(ctx context.Context, id string, ifv int64, a store.Actor) (*engine.SampleRequest, error) {
		return s.store.ChangeSampleRequest(ctx, id, ifv, a, ch)
	})
}

// --- what reservations and sample requests share ---

// dealMeta is what the shared handlers need of a deal object.
type dealMeta struct {
	id, mcn, supplier string
	version           int64
	createdAt         time.Time
}

// dealKind describes one kind of deal object to the handlers that
// reservations and sample requests share.
type dealKind[T any] struct {
	what     string // for messages
	first    string // the state it is created in
	statuses []string
	get      func(*store.Store, context.Context, string) (T, error)
	list     func(*store.Store, context.Context, store.DealFilter) ([]T, error)
	history  func(*store.Store, context.Context, string) ([]store.DealChange, error)
	meta     func(T) dealMeta
	out      func(*Server, context.Context, T) any
}

// names returns states as strings.
func names[T ~string](xs []T) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = string(x)
	}
	return out
}

func reservationDeals() dealKind[*engine.Reservation] {
	return dealKind[*engine.Reservation]{what: "reservation", first: string(engine.ReservationHeld), statuses: names(engine.ReservationStatuses()),
		get: (*store.Store).GetReservation, list: (*store.Store).ListReservations, history: (*store.Store).ReservationHistory,
		meta: func(r *engine.Reservation) dealMeta {
			return dealMeta{r.ID, r.MCNOrgID, r.SupplierOrgID, r.Version, r.CreatedAt}
		},
		out: func(s *Server, ctx context.Context, r *engine.Reservation) any { return s.reservationOut(ctx, r) }}
}

func sampleDeals() dealKind[*engine.SampleRequest] {
	return dealKind[*engine.SampleRequest]{what: "sample request", first: string(engine.SampleRequested), statuses: names(engine.SampleStatuses()),
		get: (*store.Store).GetSampleRequest, list: (*store.Store).ListSampleRequests, history: (*store.Store).SampleHistory,
		meta: func(r *engine.SampleRequest) dealMeta {
			return dealMeta{r.ID, r.MCNOrgID, r.SupplierOrgID, r.Version, r.CreatedAt}
		},
		out: func(s *Server, ctx context.Context, r *engine.SampleRequest) any { return s.sampleOut(ctx, r) }}
}

// visibleDeal loads a deal object the caller may see: its MCN, its
// supplier, or admin. Anyone else gets 404 (its existence is not revealed).
func visibleDeal[T any](s *Server, c *gin.Context, k dealKind[T], id string) (T, dealMeta, bool) {
	obj, err := k.get(s.store, c.Request.Context(), id)
	var m dealMeta
	if err == nil {
		m = k.meta(obj)
		if me := caller(c); me.Kind != engine.OrgAdmin && me.ID != m.mcn && me.ID != m.supplier {
			err = engine.Errorf(engine.KindNotFound, "api.deal", "no %s %q", k.what, clipID(id))
		}
	}
	if err != nil {
		s.fail(c, err)
		return obj, m, false
	}
	return obj, m, true
}

// actOnDeal applies change to the deal object id as the caller's side of
// it, honouring If-Match, and answers with the object after the change.
// Admin sees deals but does not act on them (403); others get 404.
func actOnDeal[T any](s *Server, c *gin.Context, k dealKind[T], id string,
	change func(ctx context.Context, id string, ifVersion int64, actor store.Actor) (T, error)) {
	ifv, err := ifMatch(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	_, m, ok := visibleDeal(s, c, k, id)
	if !ok {
		return
	}
	me := caller(c)
	party, ok := partyOf(me, m.mcn, m.supplier)
	if !ok {
		s.fail(c, engine.Errorf(engine.KindForbidden, "api.actOnDeal", "only the MCN and the supplier act on a %s", k.what))
		return
	}
	got, err := change(c.Request.Context(), m.id, ifv, store.Actor{OrgID: me.ID, Party: party})
	if err != nil {
		s.fail(c, err)
		return
	}
	setETag(c, k.meta(got).version)
	c.JSON(http.StatusOK, k.out(s, c.Request.Context(), got))
}

// getDeal serves GET …/{id}.
func getDeal[T any](s *Server, k dealKind[T]) gin.HandlerFunc {
	return func(c *gin.Context) {
		obj, m, ok := visibleDeal(s, c, k, c.Param("id"))
		if !ok {
			return
		}
		setETag(c, m.version)
		c.JSON(http.StatusOK, k.out(s, c.Request.Context(), obj))
	}
}

// listDeals serves the lists: the caller's own, newest first.
func listDeals[T any](s *Server, k dealKind[T]) gin.HandlerFunc {
	return func(c *gin.Context) {
		f, err := dealList(c, k.statuses)
		if err != nil {
			s.fail(c, err)
			return
		}
		objs, err := k.list(s.store, c.Request.Context(), f)
		if err != nil {
			s.fail(c, err)
			return
		}
		objs, next := nextCursor(objs, f.Limit-1, func(o T) string { return k.meta(o).id })
		items := make([]any, len(objs))
		for i, o := range objs {
			items[i] = k.out(s, c.Request.Context(), o)
		}
		c.JSON(http.StatusOK, gin.H{"items": items, "next_cursor": next})
	}
}

type dealChangeOut struct {
	Version int64     `json:"version"`
	At      time.Time `json:"at"`
	Actor   string    `json:"actor"`
	Party   string    `json:"party"`
	Action  string    `json:"action"`
	Before  string    `json:"before"`
	After   string    `json:"after"`
}

// dealAudit serves …/{id}/audit: the creation, then every change with who
// made it.
func dealAudit[T any](s *Server, k dealKind[T]) gin.HandlerFunc {
	return func(c *gin.Context) {
		_, m, ok := visibleDeal(s, c, k, c.Param("id"))
		if !ok {
			return
		}
		changes, err := k.history(s.store, c.Request.Context(), m.id)
		if err != nil {
			s.fail(c, err)
			return
		}
		out := []dealChangeOut{{Version: 1, At: m.createdAt, Actor: m.mcn, Party: string(engine.PartyMCN), Action: "create", After: k.first}}
		for _, ch := range changes {
			out = append(out, dealChangeOut{Version: ch.Version, At: ch.At, Actor: ch.Actor, Party: string(ch.Party),
				Action: ch.Action, Before: ch.From, After: ch.To})
		}
		c.JSON(http.StatusOK, gin.H{"items": out})
	}
}
