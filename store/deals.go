package store

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/livematch/livematch/engine"
)

// Reservations and sample requests (see docs/deals.md).
//
// A reservation's units are booked in the product's stock ledger first
// (the atomic step that never overbooks), then the reservation document is
// inserted. Every later change of a reservation or sample request is
// decided by inserting entry "<id>:<version>" into deal_log under the
// unique _id index, as the ledger does, and not by a compare-and-swap
// update (which FerretDB does not make atomic across clients): of two
// servers that confirm and cancel the same hold at once, exactly one
// inserts the next version; the other reads again and answers from the new
// state (409 or 412). The log entry carries the whole new state, so a
// reader that finds an entry beyond the document's version rolls the
// document forward; it is also the object's audit trail (who, what, when).
//
// A reservation that leaves the booking states (cancelled, expired,
// shipped) is "unsettled" until its units are released or shipped in the
// ledger, under the op key of its id (so it happens once however many
// servers try); whoever advances it settles it, and reads, the expiry
// sweep and the start-up reconciliation settle what a crash left.
const (
	collReservations = "reservations"
	collSamples      = "sample_requests"
	collDealLog      = "deal_log"
)

// Deal object kinds in the log.
const (
	dealReservation = "reservation"
	dealSample      = "sample"
)

type reservationDoc struct {
	ID             string    `bson:"_id"`
	ProductID      string    `bson:"product_id"`
	LedgerKey      string    `bson:"ledger_key"`
	ProductSKU     string    `bson:"product_sku"`
	ProductTitleZh string    `bson:"product_title_zh"`
	ProductTitleEn string    `bson:"product_title_en"`
	SupplierOrgID  string    `bson:"supplier_org_id"`
	MCNOrgID       string    `bson:"mcn_org_id"`
	Units          int64     `bson:"units"`
	StreamDate     time.Time `bson:"stream_date"`
	ProfileID      string    `bson:"profile_id,omitempty"`
	HostID         string    `bson:"host_id,omitempty"`
	Note           string    `bson:"note,omitempty"`
	Status         string    `bson:"status"`
	ExpiresAt      time.Time `bson:"expires_at"`
	TrackingNo     string    `bson:"tracking_no,omitempty"`
	UnitsSold      int64     `bson:"units_sold"`
	UnitsReturned  int64     `bson:"units_returned"`
	Rating         int       `bson:"rating,omitempty"`
	ResultNote     string    `bson:"result_note,omitempty"`
	CancelledBy    string    `bson:"cancelled_by,omitempty"`
	CancelReason   string    `bson:"cancel_reason,omitempty"`
	Settled        bool      `bson:"settled"`
	Version        int64     `bson:"version"`
	CreatedAt      time.Time `bson:"created_at"`
	UpdatedAt      time.Time `bson:"updated_at"`
	ConfirmedAt    time.Time `bson:"confirmed_at,omitzero"`
	ShippedAt      time.Time `bson:"shipped_at,omitzero"`
	CompletedAt    time.Time `bson:"completed_at,omitzero"`
	CancelledAt    time.Time `bson:"cancelled_at,omitzero"`
	ExpiredAt      time.Time `bson:"expired_at,omitzero"`
}

func toReservationDoc(r *engine.Reservation, key string) reservationDoc {
	return reservationDoc{ID: r.ID, ProductID: r.ProductID, LedgerKey: key, ProductSKU: r.ProductSKU,
		ProductTitleZh: r.ProductTitleZh, ProductTitleEn: r.ProductTitleEn, SupplierOrgID: r.SupplierOrgID,
		MCNOrgID: r.MCNOrgID, Units: r.Units, StreamDate: r.StreamDate, ProfileID: r.ProfileID, HostID: r.HostID,
		Note: r.Note, Status: string(r.Status), ExpiresAt: r.ExpiresAt, TrackingNo: r.TrackingNo,
		UnitsSold: r.UnitsSold, UnitsReturned: r.UnitsReturned, Rating: r.Rating, ResultNote: r.ResultNote,
		CancelledBy: string(r.CancelledBy), CancelReason: r.CancelReason, Version: r.Version, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
		ConfirmedAt: r.ConfirmedAt, ShippedAt: r.ShippedAt, CompletedAt: r.CompletedAt, CancelledAt: r.CancelledAt,
		ExpiredAt: r.ExpiredAt}
}

func (d *reservationDoc) toEngine() *engine.Reservation {
	utc := func(t time.Time) time.Time {
		if t.IsZero() {
			return time.Time{}
		}
		return t.UTC()
	}
	return &engine.Reservation{ID: d.ID, ProductID: d.ProductID, ProductSKU: d.ProductSKU, ProductTitleZh: d.ProductTitleZh,
		ProductTitleEn: d.ProductTitleEn, SupplierOrgID: d.SupplierOrgID, MCNOrgID: d.MCNOrgID, Units: d.Units,
		StreamDate: utc(d.StreamDate), ProfileID: d.ProfileID, HostID: d.HostID, Note: d.Note,
		Status: engine.ReservationStatus(d.Status), ExpiresAt: utc(d.ExpiresAt), TrackingNo: d.TrackingNo,
		UnitsSold: d.UnitsSold, UnitsReturned: d.UnitsReturned, Rating: d.Rating, ResultNote: d.ResultNote,
		CancelledBy: engine.Party(d.CancelledBy), CancelReason: d.CancelReason, Version: d.Version, CreatedAt: utc(d.CreatedAt), UpdatedAt: utc(d.UpdatedAt),
		ConfirmedAt: utc(d.ConfirmedAt), ShippedAt: utc(d.ShippedAt), CompletedAt: utc(d.CompletedAt),
		CancelledAt: utc(d.CancelledAt), ExpiredAt: utc(d.ExpiredAt)}
}

type sampleDoc struct {
	ID             string    `bson:"_id"`
	ProductID      string    `bson:"product_id"`
	ProductSKU     string    `bson:"product_sku"`
	ProductTitleZh string    `bson:"product_title_zh"`
	ProductTitleEn string    `bson:"product_title_en"`
	SupplierOrgID  string    `bson:"supplier_org_id"`
	MCNOrgID       string    `bson:"mcn_org_id"`
	HostID         string    `bson:"host_id,omitempty"`
	ShipToRegion   string    `bson:"ship_to_region"`
	Note           string    `bson:"note,omitempty"`
	Status         string    `bson:"status"`
	DeclineReason  string    `bson:"decline_reason,omitempty"`
	TrackingNo     string    `bson:"tracking_no,omitempty"`
	Version        int64     `bson:"version"`
	CreatedAt      time.Time `bson:"created_at"`
	UpdatedAt      time.Time `bson:"updated_at"`
	AcceptedAt     time.Time `bson:"accepted_at,omitzero"`
	DeclinedAt     time.Time `bson:"declined_at,omitzero"`
	ShippedAt      time.Time `bson:"shipped_at,omitzero"`
	ReceivedAt     time.Time `bson:"received_at,omitzero"`
}

func toSampleDoc(r *engine.SampleRequest) sampleDoc {
	return sampleDoc{ID: r.ID, ProductID: r.ProductID, ProductSKU: r.ProductSKU, ProductTitleZh: r.ProductTitleZh,
		ProductTitleEn: r.ProductTitleEn, SupplierOrgID: r.SupplierOrgID, MCNOrgID: r.MCNOrgID, HostID: r.HostID,
		ShipToRegion: r.ShipToRegion, Note: r.Note, Status: string(r.Status), DeclineReason: r.DeclineReason,
		TrackingNo: r.TrackingNo, Version: r.Version, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
		AcceptedAt: r.AcceptedAt, DeclinedAt: r.DeclinedAt, ShippedAt: r.ShippedAt, ReceivedAt: r.ReceivedAt}
}

func (d *sampleDoc) toEngine() *engine.SampleRequest {
	utc := func(t time.Time) time.Time {
		if t.IsZero() {
			return time.Time{}
		}
		return t.UTC()
	}
	return &engine.SampleRequest{ID: d.ID, ProductID: d.ProductID, ProductSKU: d.ProductSKU, ProductTitleZh: d.ProductTitleZh,
		ProductTitleEn: d.ProductTitleEn, SupplierOrgID: d.SupplierOrgID, MCNOrgID: d.MCNOrgID, HostID: d.HostID,
		ShipToRegion: d.ShipToRegion, Note: d.Note, Status: engine.SampleStatus(d.Status), DeclineReason: d.DeclineReason,
		TrackingNo: d.TrackingNo, Version: d.Version, CreatedAt: utc(d.CreatedAt), UpdatedAt: utc(d.UpdatedAt),
		AcceptedAt: utc(d.AcceptedAt), DeclinedAt: utc(d.DeclinedAt), ShippedAt: utc(d.ShippedAt), ReceivedAt: utc(d.ReceivedAt)}
}

// dealLogDoc is one change of a reservation or sample request.
type dealLogDoc struct {
	ID      string    `bson:"_id"` // "<object id>:<version>"
	Object  string    `bson:"object"`
	Kind    string    `bson:"kind"`
	Version int64     `bson:"version"`
	Action  string    `bson:"action"`
	Actor   string    `bson:"actor"` // org id, or "system"
	Party   string    `bson:"party"`
	From    string    `bson:"from"`
	To      string    `bson:"to"`
	At      time.Time `bson:"at"`
	State   bson.Raw  `bson:"state"` // the object's document after the change
}

// DealChange is one entry of a reservation's or sample request's trail.
type DealChange struct {
	Version int64
	Action  string
	Actor   string // org id, or "system"
	Party   engine.Party
	From    string // state before ("" for the creation)
	To      string
	At      time.Time
}

// Actor is who changes a deal object: the org and its side.
type Actor struct {
	OrgID string
	Party engine.Party
}

// dealState holds the deal collections and the expiry schedule.
type dealState struct {
	reservations *mongo.Collection
	samples      *mongo.Collection
	log          *mongo.Collection

	mu  sync.Mutex
	due map[string]time.Time // held reservations known to this process → expires_at
	// unsettled are reservations whose ledger effect failed here (the
	// database timed out): the sweep retries them.
	unsettled map[string]struct{}
}

func newDealState(db *mongo.Database) dealState {
	return dealState{reservations: db.Collection(collReservations), samples: db.Collection(collSamples),
		log: db.Collection(collDealLog), due: map[string]time.Time{}, unsettled: map[string]struct{}{}}
}

// NewDealID returns a new id for a reservation or sample request: the
// prefix, the creation time in milliseconds (hex, so that ids sort by
// creation) and 40 random bits.
func NewDealID(prefix string, now time.Time) string {
	var b [5]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s_%011x%s", prefix, now.UnixMilli(), idEncoding.EncodeToString(b[:]))
}

// chain is the versioned-by-log access to one deal collection.
type chain[D any] struct {
	s    *Store
	kind string
	coll *mongo.Collection
	// version and setVersion read and write a document's version.
	version func(*D) int64
}

func logID(id string, version int64) string { return id + ":" + strconv.FormatInt(version, 10) }

// read returns the object's current document: the stored one rolled
// forward by any log entries beyond its version (a writer that stopped
// between its log entry and its document write). rolled reports that.
func (c chain[D]) read(ctx context.Context, op, id string) (d *D, rolled bool, err error) {
	d = new(D)
	if err := c.coll.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(d); err != nil {
		return nil, false, classify(op, err)
	}
	for {
		var e dealLogDoc
		err := c.s.deals.log.FindOne(ctx, bson.D{{Key: "_id", Value: logID(id, c.version(d)+1)}}).Decode(&e)
		if errors.Is(err, mongo.ErrNoDocuments) {
			return d, rolled, nil
		}
		if err != nil {
			return nil, false, classify(op, err)
		}
		next := new(D)
		if err := bson.Unmarshal(e.State, next); err != nil {
			return nil, false, fmt.Errorf("%s: log entry %s: %w", op, e.ID, err)
		}
		d, rolled = next, true
	}
}

// current is read with the document repaired when it was behind its log.
func (c chain[D]) current(ctx context.Context, op, id string) (*D, error) {
	d, rolled, err := c.read(ctx, op, id)
	if err == nil && rolled {
		err = c.write(ctx, op, id, d)
	}
	return d, err
}

// write stores d (version v) over older versions of the document. On the
// embedded FerretDB the filter is the _id alone (see casFilter); a lost
// race leaves the document behind the log, which read rolls forward.
//
// On the embedded FerretDB, whose filtered replace is not atomic, the write
// holds the document's stripe lock and first reads the stored version, so
// that within one process a late writer never puts an older version back
// over a newer one (between processes the log stays the arbiter).
func (c chain[D]) write(ctx context.Context, op, id string, d *D) error {
	return c.put(ctx, op, id, d, false)
}

// put replaces the stored document with d when the stored version is
// older than d's (same: when it is d's own version, to update it in place).
func (c chain[D]) put(ctx context.Context, op, id string, d *D, same bool) error {
	v := c.version(d)
	var cond any = bson.D{{Key: "$lt", Value: v}}
	if same {
		cond = v
	}
	if c.s.embedded == nil { // atomic on MongoDB: the filter is the check
		_, err := c.coll.ReplaceOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "version", Value: cond}}, d)
		return classify(op, err)
	}
	f := bson.D{{Key: "_id", Value: id}}
	defer c.s.locks.lock(id)()
	stored := new(D)
	if err := c.coll.FindOne(ctx, f).Decode(stored); err != nil {
		return classify(op, err)
	}
	if sv := c.version(stored); same && sv != v || !same && sv >= v {
		return nil
	}
	_, err := c.coll.ReplaceOne(ctx, f, d)
	return classify(op, err)
}

// advance applies step to the current document and records the result as
// the next version: the log insert decides between racing writers. With
// ifVersion > 0 a stale version answers KindPrecondition. step returns the
// next document and its log entry (Action, Actor, Party, From, To).
func (c chain[D]) advance(ctx context.Context, op, id string, ifVersion int64,
	step func(cur *D) (*D, dealLogDoc, error)) (*D, error) {
	for attempt := 0; attempt < maxAttempts; attempt++ {
		backoff(ctx, attempt)
		cur, _, err := c.read(ctx, op, id)
		if err != nil {
			return nil, err
		}
		v := c.version(cur)
		if ifVersion > 0 && v != ifVersion {
			return nil, engine.Errorf(engine.KindPrecondition, op, "version %d is not current (current is %d)", ifVersion, v)
		}
		next, e, err := step(cur)
		if err != nil {
			return nil, err
		}
		raw, err := bson.Marshal(next)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		e.ID, e.Object, e.Kind, e.Version, e.State = logID(id, v+1), id, c.kind, v+1, raw
		_, err = c.s.deals.log.InsertOne(ctx, e)
		if mongo.IsDuplicateKeyError(err) { // another writer took version v+1
			if ifVersion > 0 {
				return nil, engine.Errorf(engine.KindPrecondition, op, "version %d is not current", ifVersion)
			}
			continue
		}
		if err != nil {
			return nil, classify(op, err)
		}
		if err := c.write(ctx, op, id, next); err != nil {
			// The log entry decides; the document follows on the next read.
			c.s.log.Warn("deal document not written; the log has it", "id", id, "err", err)
		}
		return next, nil
	}
	return nil, engine.Errorf(engine.KindConflict, op, "the object is being changed concurrently; try again")
}

// history returns the object's log entries, oldest first, by _id lookups.
func (c chain[D]) history(ctx context.Context, op, id string) ([]DealChange, error) {
	var out []DealChange
	for v := int64(2); ; v++ {
		var e dealLogDoc
		err := c.s.deals.log.FindOne(ctx, bson.D{{Key: "_id", Value: logID(id, v)}}).Decode(&e)
		if errors.Is(err, mongo.ErrNoDocuments) {
			return out, nil
		}
		if err != nil {
			return nil, classify(op, err)
		}
		out = append(out, DealChange{Version: e.Version, Action: e.Action, Actor: e.Actor, Party: engine.Party(e.Party),
			From: e.From, To: e.To, At: e.At.UTC()})
	}
}

func (s *Store) reservationChain() chain[reservationDoc] {
	return chain[reservationDoc]{s: s, kind: dealReservation, coll: s.deals.reservations,
		version: func(d *reservationDoc) int64 { return d.Version }}
}

func (s *Store) sampleChain() chain[sampleDoc] {
	return chain[sampleDoc]{s: s, kind: dealSample, coll: s.deals.samples,
		version: func(d *sampleDoc) int64 { return d.Version }}
}

// --- reservations ---

// CreateReservation books r.Units of product p in its stock ledger and
// stores r (prepared by engine.PrepareReservation, with ID, product and
// org fields set) as held, version 1. A booking that does not fit answers
// KindConflict naming units with an *engine.Shortage cause. Nothing is
// stored then.
func (s *Store) CreateReservation(ctx context.Context, p *engine.Product, r *engine.Reservation) (*engine.Reservation, error) {
	const op = "store.CreateReservation"
	key := LedgerKey(p)
	now := s.stamp()
	if r.ID == "" {
		r.ID = NewDealID("rsv", now)
	}
	r.Version, r.CreatedAt, r.UpdatedAt, r.Status = 1, now, now, engine.ReservationHeld
	if _, err := s.Book(ctx, key, p.Stock, r.Units, BookingEntry{Ref: r.ID, Actor: r.MCNOrgID}); err != nil {
		return nil, err
	}
	d := toReservationDoc(r, key)
	d.Settled = true
	if err := s.insertGrouped(ctx, s.deals.reservations, d); err != nil {
		// Not stored (or not known to be): give the units back unless the
		// document is there after all. What this misses (a crash, the
		// database gone) the reconciliation releases (ReconcileDeals).
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.timeout)
		defer cancel()
		if n, cerr := s.deals.reservations.CountDocuments(rctx, bson.D{{Key: "_id", Value: r.ID}}); cerr == nil && n == 0 {
			if _, rerr := s.Release(rctx, key, r.Units, BookingEntry{Ref: r.ID, Actor: "system"}); rerr != nil {
				s.log.Warn("booking of an unstored reservation not released; reconciliation will", "id", r.ID, "err", rerr)
			}
		}
		return nil, classify(op, err)
	}
	s.schedule(r.ID, r.ExpiresAt)
	return d.toEngine(), nil
}

// GetReservation returns a reservation as of now (rolled forward, settled,
// and a hold past its expires_at recorded as expired), or KindNotFound.
func (s *Store) GetReservation(ctx context.Context, id string) (*engine.Reservation, error) {
	const op = "store.GetReservation"
	d, err := s.reservationChain().current(ctx, op, id)
	if err != nil {
		return nil, err
	}
	if err := s.settle(ctx, d); err != nil {
		return nil, err
	}
	r := d.toEngine()
	if r.StatusAt(s.now()) != r.Status { // due: expire it now rather than show it
		if nr, err := s.ChangeReservation(ctx, id, 0, Actor{OrgID: "system", Party: engine.PartySystem},
			engine.ReservationChange{Action: engine.ReserveExpire, By: engine.PartySystem}); err == nil {
			return nr, nil
		}
		r.Status = r.StatusAt(s.now())
	}
	return r, nil
}

// ChangeReservation applies a change (engine.ApplyReservation) by actor,
// recording it as the next version, and settles its effect on the stock
// ledger (units released or shipped). ifVersion > 0 demands that version.
func (s *Store) ChangeReservation(ctx context.Context, id string, ifVersion int64, actor Actor, ch engine.ReservationChange) (*engine.Reservation, error) {
	const op = "store.ChangeReservation"
	ch.By = actor.Party
	d, err := s.reservationChain().advance(ctx, op, id, ifVersion, func(cur *reservationDoc) (*reservationDoc, dealLogDoc, error) {
		now := s.stamp()
		r := cur.toEngine()
		next, err := engine.ApplyReservation(*r, ch, now)
		if err != nil {
			return nil, dealLogDoc{}, err
		}
		next.Version, next.UpdatedAt = r.Version+1, now
		nd := toReservationDoc(&next, cur.LedgerKey)
		release, ship := engine.LedgerEffect(r.Status, next.Status, r.Units)
		nd.Settled = cur.Settled && release == 0 && ship == 0
		return &nd, dealLogDoc{Action: string(ch.Action), Actor: actor.OrgID, Party: string(actor.Party),
			From: string(r.Status), To: string(next.Status), At: now}, nil
	})
	if err != nil {
		return nil, err
	}
	if err := s.settle(ctx, d); err != nil {
		// The change is recorded; its units move when the sweep retries.
		s.deals.mu.Lock()
		s.deals.unsettled[id] = struct{}{}
		s.deals.mu.Unlock()
		return nil, err
	}
	s.unschedule(id, d)
	return d.toEngine(), nil
}

// settle applies an unsettled reservation's ledger effect (idempotent by
// the op key of its id) and marks the document settled.
func (s *Store) settle(ctx context.Context, d *reservationDoc) error {
	const op = "store.settle"
	if d.Settled {
		return nil
	}
	entry := BookingEntry{Ref: d.ID, Actor: "system"}
	var err error
	switch engine.ReservationStatus(d.Status) {
	case engine.ReservationShipped, engine.ReservationCompleted:
		_, err = s.Ship(ctx, d.LedgerKey, d.Units, entry)
	case engine.ReservationCancelled, engine.ReservationExpired:
		_, err = s.Release(ctx, d.LedgerKey, d.Units, entry)
	}
	if err != nil {
		return err
	}
	// Mark this version settled, unless a newer one is stored meanwhile
	// (which carries its own settled flag).
	settled := *d
	settled.Settled = true
	if err := s.reservationChain().put(ctx, op, d.ID, &settled, true); err != nil {
		return err
	}
	d.Settled = true
	s.deals.mu.Lock()
	delete(s.deals.unsettled, d.ID)
	s.deals.mu.Unlock()
	return nil
}

// ReservationHistory returns a reservation's changes after its creation,
// oldest first.
func (s *Store) ReservationHistory(ctx context.Context, id string) ([]DealChange, error) {
	return s.reservationChain().history(ctx, "store.ReservationHistory", id)
}

// DealFilter selects a list of reservations or sample requests.
type DealFilter struct {
	MCNOrgID      string // "" : any
	SupplierOrgID string // "" : any
	Status        string // "" : any
	ProductID     string // "" : any
	Before        string // list ids below this (the cursor), newest first
	Limit         int
}

// ListReservations returns reservations newest first, with each hold past
// its expires_at shown (and filtered) as expired.
func (s *Store) ListReservations(ctx context.Context, f DealFilter) ([]*engine.Reservation, error) {
	const op = "store.ListReservations"
	now := s.now()
	if f.Limit <= 0 {
		f.Limit = 20
	}
	q := dealQuery(f)
	switch engine.ReservationStatus(f.Status) {
	case "":
	case engine.ReservationHeld:
		q = append(q, bson.E{Key: "status", Value: f.Status}, bson.E{Key: "expires_at", Value: bson.D{{Key: "$gt", Value: now}}})
	case engine.ReservationExpired:
		q = append(q, bson.E{Key: "$or", Value: bson.A{
			bson.D{{Key: "status", Value: f.Status}},
			bson.D{{Key: "status", Value: string(engine.ReservationHeld)}, {Key: "expires_at", Value: bson.D{{Key: "$lte", Value: now}}}},
		}})
	default:
		q = append(q, bson.E{Key: "status", Value: f.Status})
	}
	// A document behind its log (a writer stopped, or lost a race, between
	// its log entry and its document write) is read anew, and left out
	// when its current state no longer passes the status filter; the next
	// documents fill its place.
	var out []*engine.Reservation
	for {
		var docs []reservationDoc
		if err := s.findDeals(ctx, op, s.deals.reservations, q, f.Limit, &docs); err != nil {
			return nil, err
		}
		for i := range docs {
			r := docs[i].toEngine()
			var e dealLogDoc
			err := s.deals.log.FindOne(ctx, bson.D{{Key: "_id", Value: logID(r.ID, r.Version+1)}}).Decode(&e)
			switch {
			case err == nil:
				if r, err = s.GetReservation(ctx, r.ID); err != nil {
					return nil, err
				}
			case !errors.Is(err, mongo.ErrNoDocuments):
				return nil, classify(op, err)
			}
			r.Status = r.StatusAt(now)
			if f.Status == "" || string(r.Status) == f.Status {
				out = append(out, r)
			}
		}
		if len(docs) < f.Limit || len(out) >= f.Limit {
			return out[:min(len(out), f.Limit)], nil
		}
		q = setBefore(q, docs[len(docs)-1].ID)
	}
}

// setBefore sets (or replaces) the query's _id bound.
func setBefore(q bson.D, id string) bson.D {
	out := bson.D{}
	for _, e := range q {
		if e.Key != "_id" {
			out = append(out, e)
		}
	}
	return append(out, bson.E{Key: "_id", Value: bson.D{{Key: "$lt", Value: id}}})
}

func dealQuery(f DealFilter) bson.D {
	q := bson.D{}
	if f.MCNOrgID != "" {
		q = append(q, bson.E{Key: "mcn_org_id", Value: f.MCNOrgID})
	}
	if f.SupplierOrgID != "" {
		q = append(q, bson.E{Key: "supplier_org_id", Value: f.SupplierOrgID})
	}
	if f.ProductID != "" {
		q = append(q, bson.E{Key: "product_id", Value: f.ProductID})
	}
	if f.Before != "" {
		q = append(q, bson.E{Key: "_id", Value: bson.D{{Key: "$lt", Value: f.Before}}})
	}
	return q
}

func (s *Store) findDeals(ctx context.Context, op string, coll *mongo.Collection, q bson.D, limit int, out any) error {
	if limit <= 0 {
		limit = 20
	}
	cur, err := coll.Find(ctx, q, options.Find().SetSort(bson.D{{Key: "_id", Value: -1}}).SetLimit(int64(limit)))
	if err != nil {
		return classify(op, err)
	}
	return classify(op, cur.All(ctx, out))
}

// schedule remembers a held reservation's expiry for the sweep.
func (s *Store) schedule(id string, at time.Time) {
	s.deals.mu.Lock()
	s.deals.due[id] = at
	s.deals.mu.Unlock()
}

// unschedule forgets a reservation that is no longer held.
func (s *Store) unschedule(id string, d *reservationDoc) {
	if engine.ReservationStatus(d.Status) == engine.ReservationHeld {
		return
	}
	s.deals.mu.Lock()
	delete(s.deals.due, id)
	s.deals.mu.Unlock()
}

// SweepExpired expires the held reservations known to this process whose
// hold has run out, at most limit of them per call, and reports how many
// it recorded. Other servers may sweep the same ones: the log decides, and
// the units are released once (the ledger's op key).
func (s *Store) SweepExpired(ctx context.Context, limit int) (int, error) {
	now := s.now()
	var ids, retry []string
	s.deals.mu.Lock()
	for id := range s.deals.unsettled {
		retry = append(retry, id)
	}
	for id, at := range s.deals.due {
		if !now.Before(at) {
			ids = append(ids, id)
			if len(ids) >= limit {
				break
			}
		}
	}
	s.deals.mu.Unlock()
	for _, id := range retry { // a read settles it (and forgets it)
		if _, err := s.GetReservation(ctx, id); err != nil && !engine.IsKind(err, engine.KindNotFound) {
			return 0, err
		}
	}
	n := 0
	for _, id := range ids {
		r, err := s.ChangeReservation(ctx, id, 0, Actor{OrgID: "system", Party: engine.PartySystem},
			engine.ReservationChange{Action: engine.ReserveExpire})
		switch {
		case err == nil && r.Status == engine.ReservationExpired:
			n++
		case err == nil, engine.IsKind(err, engine.KindConflict), engine.IsKind(err, engine.KindNotFound):
			// Confirmed or cancelled meanwhile, or expired by another server.
			s.deals.mu.Lock()
			delete(s.deals.due, id)
			s.deals.mu.Unlock()
			if err == nil || engine.IsKind(err, engine.KindConflict) {
				if _, gerr := s.GetReservation(ctx, id); gerr != nil { // settle what another server left
					return n, gerr
				}
			}
		default:
			return n, err
		}
	}
	return n, nil
}

// ScheduleHeld reads the expiry of every held reservation into this
// process's schedule, so that holds made through other servers (or before
// a restart) expire here too. It reads only ids and expiry times.
func (s *Store) ScheduleHeld(ctx context.Context) (int, error) {
	const op = "store.ScheduleHeld"
	cur, err := s.deals.reservations.Find(ctx, bson.D{{Key: "status", Value: string(engine.ReservationHeld)}},
		options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}, {Key: "expires_at", Value: 1}}))
	if err != nil {
		return 0, classify(op, err)
	}
	var held []struct {
		ID        string    `bson:"_id"`
		ExpiresAt time.Time `bson:"expires_at"`
	}
	if err := cur.All(ctx, &held); err != nil {
		return 0, classify(op, err)
	}
	s.deals.mu.Lock()
	for _, h := range held {
		s.deals.due[h.ID] = h.ExpiresAt.UTC()
	}
	s.deals.mu.Unlock()
	return len(held), nil
}

// ReconcileDeals brings the stored deals in line after a crash: it rolls
// forward and settles every reservation in a booking state or unsettled
// (and schedules the held ones for expiry), releases the bookings of
// reservations that were never stored (a crash between the booking and
// the insert, at least grace old), and syncs the products concerned. It
// reads every reservation once; the server runs it at start and every few
// minutes.
func (s *Store) ReconcileDeals(ctx context.Context, grace time.Duration) (ReconcileReport, error) {
	const op = "store.ReconcileDeals"
	var rep ReconcileReport
	cur, err := s.deals.reservations.Find(ctx, bson.D{{Key: "$or", Value: bson.A{
		bson.D{{Key: "status", Value: bson.D{{Key: "$in", Value: bson.A{string(engine.ReservationHeld), string(engine.ReservationConfirmed)}}}}},
		bson.D{{Key: "settled", Value: false}},
	}}}, options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return rep, classify(op, err)
	}
	var ids []struct {
		ID string `bson:"_id"`
	}
	if err := cur.All(ctx, &ids); err != nil {
		return rep, classify(op, err)
	}
	keys := map[string]struct{}{}
	for _, x := range ids {
		d, rolled, err := s.reservationChain().read(ctx, op, x.ID)
		if err != nil {
			return rep, err
		}
		if rolled {
			rep.RolledForward++
			if err := s.reservationChain().write(ctx, op, x.ID, d); err != nil {
				return rep, err
			}
		}
		if !d.Settled {
			rep.Settled++
			if err := s.settle(ctx, d); err != nil {
				return rep, err
			}
		}
		if engine.ReservationStatus(d.Status) == engine.ReservationHeld {
			s.schedule(d.ID, d.ExpiresAt.UTC())
		}
		keys[d.LedgerKey] = struct{}{}
	}
	// Bookings without a reservation, made since the last pass's cutoff: a
	// booking older than the grace either has its document by now or
	// never will, so each pass settles every booking up to its cutoff for
	// good and the next one starts there.
	cutoff := s.now().Add(-grace).UTC()
	var mark struct {
		At time.Time `bson:"at"`
	}
	err = s.counters.FindOne(ctx, bson.D{{Key: "_id", Value: reconcileMark}}).Decode(&mark)
	if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
		return rep, classify(op, err)
	}
	lc, err := s.ledger.Find(ctx, bson.D{{Key: "kind", Value: string(LedgerBook)},
		{Key: "at", Value: bson.D{{Key: "$gte", Value: mark.At}, {Key: "$lte", Value: cutoff}}}},
		options.Find().SetProjection(bson.D{{Key: "product_id", Value: 1}, {Key: "ref", Value: 1}, {Key: "units", Value: 1}}))
	if err != nil {
		return rep, classify(op, err)
	}
	var books []ledgerDoc
	if err := lc.All(ctx, &books); err != nil {
		return rep, classify(op, err)
	}
	for _, b := range books {
		if b.Ref == "" {
			continue
		}
		n, err := s.deals.reservations.CountDocuments(ctx, bson.D{{Key: "_id", Value: b.Ref}})
		if err != nil {
			return rep, classify(op, err)
		}
		if n > 0 {
			continue
		}
		res, err := s.Release(ctx, b.ProductID, b.Units, BookingEntry{Ref: b.Ref, Actor: "system"})
		if err != nil {
			return rep, err
		}
		if !res.Replayed {
			rep.OrphansReleased++
		}
		keys[b.ProductID] = struct{}{}
	}
	for key := range keys {
		if err := s.SyncStock(ctx, key); err != nil && !engine.IsKind(err, engine.KindNotFound) {
			return rep, err
		}
	}
	// Racing servers may lower the mark again (FerretDB's $max is not
	// atomic); that only costs the next pass some work.
	_, err = s.counters.UpdateOne(ctx, bson.D{{Key: "_id", Value: reconcileMark}},
		bson.D{{Key: "$max", Value: bson.D{{Key: "at", Value: cutoff}}}}, options.UpdateOne().SetUpsert(true))
	if err != nil && !mongo.IsDuplicateKeyError(err) {
		return rep, classify(op, err)
	}
	return rep, nil
}

// reconcileMark is the counters document holding the time up to which
// every booking has been checked for its reservation.
const reconcileMark = "deals_reconciled"

// ReconcileReport says what ReconcileDeals repaired.
type ReconcileReport struct {
	RolledForward   int // documents behind their log
	Settled         int // ledger effects applied late
	OrphansReleased int // bookings of reservations never stored
}

// --- sample requests ---

// CreateSampleRequest stores a sample request (prepared by
// engine.PrepareSampleRequest, with product and org fields set), version 1.
func (s *Store) CreateSampleRequest(ctx context.Context, r *engine.SampleRequest) (*engine.SampleRequest, error) {
	const op = "store.CreateSampleRequest"
	now := s.stamp()
	if r.ID == "" {
		r.ID = NewDealID("smp", now)
	}
	r.Version, r.CreatedAt, r.UpdatedAt, r.Status = 1, now, now, engine.SampleRequested
	d := toSampleDoc(r)
	if _, err := s.deals.samples.InsertOne(ctx, d); err != nil {
		return nil, classify(op, err)
	}
	return d.toEngine(), nil
}

// GetSampleRequest returns a sample request, or KindNotFound.
func (s *Store) GetSampleRequest(ctx context.Context, id string) (*engine.SampleRequest, error) {
	const op = "store.GetSampleRequest"
	d, err := s.sampleChain().current(ctx, op, id)
	if err != nil {
		return nil, err
	}
	return d.toEngine(), nil
}

// ChangeSampleRequest applies a change (engine.ApplySample) by actor as the
// next version; ifVersion > 0 demands that version.
func (s *Store) ChangeSampleRequest(ctx context.Context, id string, ifVersion int64, actor Actor, ch engine.SampleChange) (*engine.SampleRequest, error) {
	const op = "store.ChangeSampleRequest"
	ch.By = actor.Party
	d, err := s.sampleChain().advance(ctx, op, id, ifVersion, func(cur *sampleDoc) (*sampleDoc, dealLogDoc, error) {
		now := s.stamp()
		r := cur.toEngine()
		next, err := engine.ApplySample(*r, ch, now)
		if err != nil {
			return nil, dealLogDoc{}, err
		}
		next.Version, next.UpdatedAt = r.Version+1, now
		nd := toSampleDoc(&next)
		return &nd, dealLogDoc{Action: string(ch.Action), Actor: actor.OrgID, Party: string(actor.Party),
			From: string(r.Status), To: string(next.Status), At: now}, nil
	})
	if err != nil {
		return nil, err
	}
	return d.toEngine(), nil
}

// SampleHistory returns a sample request's changes after its creation.
func (s *Store) SampleHistory(ctx context.Context, id string) ([]DealChange, error) {
	return s.sampleChain().history(ctx, "store.SampleHistory", id)
}

// ListSampleRequests returns sample requests newest first.
func (s *Store) ListSampleRequests(ctx context.Context, f DealFilter) ([]*engine.SampleRequest, error) {
	const op = "store.ListSampleRequests"
	q := dealQuery(f)
	if f.Status != "" {
		q = append(q, bson.E{Key: "status", Value: f.Status})
	}
	var docs []sampleDoc
	if err := s.findDeals(ctx, op, s.deals.samples, q, f.Limit, &docs); err != nil {
		return nil, err
	}
	out := make([]*engine.SampleRequest, len(docs))
	for i := range docs {
		out[i] = docs[i].toEngine()
	}
	return out, nil
}

// ValidDealCursor reports whether s could be an id of this package's deals
// (a cursor is the last id of a page).
func ValidDealCursor(s string) bool {
	p, rest, ok := strings.Cut(s, "_")
	return ok && (p == "rsv" || p == "smp") && len(rest) > 0 && len(rest) < 64
}

// DealTimers paces the background work on deals (RunDeals).
type DealTimers struct {
	// SweepEvery is how often due holds are expired; default 1s.
	SweepEvery time.Duration
	// ReconcileEvery is how often ReconcileDeals runs; default 5m. The
	// first pass runs OrphanGrace after the start.
	ReconcileEvery time.Duration
	// ScheduleEvery is how often the held reservations of every server are
	// read into this one's expiry schedule (ScheduleHeld); default 30s. A
	// hold made through this server is scheduled at once.
	ScheduleEvery time.Duration
	// OrphanGrace is the age at which a booking without a reservation is
	// an orphan (its request can no longer finish); default 15s, above the
	// API's request timeout.
	OrphanGrace time.Duration
}

// RunDeals expires due holds and reconciles deals in the background until
// ctx ends. Every server runs it; every step is idempotent.
func (s *Store) RunDeals(ctx context.Context, t DealTimers) {
	if t.SweepEvery <= 0 {
		t.SweepEvery = time.Second
	}
	if t.ReconcileEvery <= 0 {
		t.ReconcileEvery = 5 * time.Minute
	}
	if t.OrphanGrace <= 0 {
		t.OrphanGrace = 15 * time.Second
	}
	if t.ScheduleEvery <= 0 {
		t.ScheduleEvery = 30 * time.Second
	}
	schedule := time.NewTimer(0)
	defer schedule.Stop()
	sweep := time.NewTicker(t.SweepEvery)
	defer sweep.Stop()
	reconcile := time.NewTimer(t.OrphanGrace)
	defer reconcile.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.closing:
			return
		case <-sweep.C:
			for {
				n, err := s.SweepExpired(ctx, 100)
				if err != nil {
					s.log.Warn("expiry sweep failed", "err", err)
				}
				if err != nil || n < 100 {
					break
				}
			}
		case <-schedule.C:
			if _, err := s.ScheduleHeld(ctx); err != nil {
				s.log.Warn("reading held reservations failed", "err", err)
			}
			schedule.Reset(t.ScheduleEvery)
		case <-reconcile.C:
			rep, err := s.ReconcileDeals(ctx, t.OrphanGrace)
			if err != nil {
				s.log.Warn("deal reconciliation failed", "err", err)
			} else if rep != (ReconcileReport{}) {
				s.log.Info("deals reconciled", "rolled_forward", rep.RolledForward, "settled", rep.Settled, "orphans_released", rep.OrphansReleased)
			}
			reconcile.Reset(t.ReconcileEvery)
		}
	}
}
