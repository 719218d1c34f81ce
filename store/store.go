package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"

	"github.com/livematch/livematch/engine"
)

// Collection names.
const (
	collOrgs     = "orgs"
	collProducts = "products"
	collKeys     = "keys"
	collCounters = "counters"
	collAudit    = "audit"
)

// Options configures Open.
type Options struct {
	// Database is the database name; default "livematch".
	Database string
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Logger receives operational messages; default discards.
	Logger *slog.Logger
	// Timeout bounds server selection and each operation that has no
	// deadline of its own; default 5s.
	Timeout time.Duration
	// Embedded, when the database is the embedded FerretDB, lets Init add
	// the _id indexes its SQLite backend lacks (see Embedded.IndexIDs).
	Embedded *Embedded
}

// Store persists livematch's objects in MongoDB. It is safe for concurrent use.
type Store struct {
	client   *mongo.Client
	db       *mongo.Database
	orgs     *mongo.Collection
	products *mongo.Collection
	keys     *mongo.Collection
	counters *mongo.Collection
	audit    *mongo.Collection
	profiles *mongo.Collection
	sessions *mongo.Collection
	now      func() time.Time
	log      *slog.Logger
	timeout  time.Duration
	embedded *Embedded
	dbName   string
	feed     *Feed
	locks    *stripes
	seqMu    sync.Mutex
	closing  chan struct{} // closed by Close: background work stops
	bg       sync.WaitGroup
	closed   sync.Once

	// The stock ledger (ledger.go).
	ledger      *mongo.Collection
	ledgerHeads *mongo.Collection // each product's hint of its ledger's head
	// ledgerAttempts bounds the appends of one ledger operation.
	ledgerAttempts int
	// ledgerState holds the heads this process knows and the ledger
	// operations waiting for the next group commit (ledger.go).
	ledgerState ledgerState
	// sync carries ledger changes into product documents (stocksync.go).
	sync stockSync
	// deals are the reservations' and sample requests' collections and
	// the expiry schedule (deals.go).
	deals dealState
	// background starts the background loops once (Init).
	background sync.Once

	// beforeAppend, when set (tests only), runs between reading a ledger's
	// head and inserting the next entry.
	beforeAppend func(productID string, head int64)
}

// Open connects to the MongoDB at uri and prepares the collections and
// indexes. It does not fail when the database is unreachable: the driver
// keeps trying, and calls answer KindUnavailable until it is back (see Ping).
// Call Init once the database answers, before serving writes.
func Open(ctx context.Context, uri string, opts Options) (*Store, error) {
	const op = "store.Open"
	if opts.Database == "" {
		opts.Database = "livematch"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 5 * time.Second
	}
	co := options.Client().ApplyURI(uri).
		SetServerSelectionTimeout(opts.Timeout).
		SetConnectTimeout(opts.Timeout).
		SetTimeout(opts.Timeout).
		SetWriteConcern(writeconcern.Majority()).
		SetAppName("matchd")
	client, err := mongo.Connect(co)
	if err != nil {
		return nil, engine.Wrap(engine.KindInvalid, op, "bad MongoDB URI", err)
	}
	db := client.Database(opts.Database)
	s := &Store{
		client: client, db: db,
		orgs: db.Collection(collOrgs), products: db.Collection(collProducts),
		keys: db.Collection(collKeys), counters: db.Collection(collCounters), audit: db.Collection(collAudit),
		profiles: db.Collection(collProfiles), sessions: db.Collection(collSessions),
		ledger: db.Collection(collLedger), ledgerHeads: db.Collection(collLedgerHeads), ledgerAttempts: defaultLedgerAttempts,
		now: opts.Now, log: opts.Logger, timeout: opts.Timeout, locks: &stripes{}, closing: make(chan struct{}), embedded: opts.Embedded, dbName: opts.Database,
	}
	s.sync.wake = make(chan struct{}, 1)
	s.deals = newDealState(db)
	return s, nil
}

// Init creates indexes and reads the current products seq to start the
// feed's watermark. It answers KindUnavailable while the database is down.
func (s *Store) Init(ctx context.Context) error {
	const op = "store.Init"
	for _, ix := range []struct {
		coll  *mongo.Collection
		model mongo.IndexModel
	}{
		{s.products, mongo.IndexModel{Keys: bson.D{{Key: "org_id", Value: 1}, {Key: "sku", Value: 1}}, Options: options.Index().SetUnique(true).SetName("org_sku")}},
		{s.products, mongo.IndexModel{Keys: bson.D{{Key: "seq", Value: 1}}, Options: options.Index().SetName("seq")}},
		{s.orgs, mongo.IndexModel{Keys: bson.D{{Key: "seq", Value: 1}}, Options: options.Index().SetName("seq")}},
		{s.audit, mongo.IndexModel{Keys: bson.D{{Key: "org_id", Value: 1}, {Key: "at", Value: 1}}, Options: options.Index().SetName("org_at")}},
		// One entry per operation (kind, product, reference): see ledger.go.
		{s.ledger, mongo.IndexModel{Keys: bson.D{{Key: "op", Value: 1}}, Options: options.Index().SetUnique(true).SetName("op")}},
		{s.ledger, mongo.IndexModel{Keys: bson.D{{Key: "kind", Value: 1}, {Key: "at", Value: 1}}, Options: options.Index().SetName("kind_at")}},
		{s.deals.reservations, mongo.IndexModel{Keys: bson.D{{Key: "mcn_org_id", Value: 1}, {Key: "_id", Value: -1}}, Options: options.Index().SetName("mcn")}},
		{s.deals.reservations, mongo.IndexModel{Keys: bson.D{{Key: "supplier_org_id", Value: 1}, {Key: "_id", Value: -1}}, Options: options.Index().SetName("supplier")}},
		{s.deals.reservations, mongo.IndexModel{Keys: bson.D{{Key: "status", Value: 1}, {Key: "expires_at", Value: 1}}, Options: options.Index().SetName("status_expires")}},
		{s.deals.reservations, mongo.IndexModel{Keys: bson.D{{Key: "settled", Value: 1}}, Options: options.Index().SetName("settled")}},
		{s.deals.samples, mongo.IndexModel{Keys: bson.D{{Key: "mcn_org_id", Value: 1}, {Key: "_id", Value: -1}}, Options: options.Index().SetName("mcn")}},
		{s.deals.samples, mongo.IndexModel{Keys: bson.D{{Key: "supplier_org_id", Value: 1}, {Key: "_id", Value: -1}}, Options: options.Index().SetName("supplier")}},
	} {
		if err := ensureIndex(ctx, ix.coll, ix.model); err != nil {
			return classify(op, err)
		}
	}
	if s.embedded != nil {
		// Create every collection now so that IndexIDs covers them all.
		names, err := s.db.ListCollectionNames(ctx, bson.D{})
		if err != nil {
			return classify(op, err)
		}
		for _, c := range []string{collOrgs, collProducts, collKeys, collCounters, collAudit, collProfiles, collHosts, collHostRequests, collSessions, collLedger, collLedgerHeads, collReservations, collSamples, collDealLog} {
			if !slices.Contains(names, c) {
				if err := s.db.CreateCollection(ctx, c); err != nil && !isAlreadyExists(err) {
					return classify(op, err)
				}
			}
		}
		if err := s.embedded.IndexIDs(ctx, s.dbName); err != nil {
			return err
		}
	}
	cur, err := s.currentSeq(ctx, collProducts)
	if err != nil {
		return err
	}
	if s.feed == nil {
		s.feed = NewFeed(cur)
	}
	s.background.Do(func() {
		s.bg.Add(1)
		go s.runStockSync()
	})
	return nil
}

// isAlreadyExists reports a createCollection race (NamespaceExists).
func isAlreadyExists(err error) bool {
	var ce mongo.CommandError
	return errors.As(err, &ce) && ce.Code == 48
}

// ensureIndex creates an index unless one of that name exists. Indexes are
// created one per command: FerretDB 1.24 panics on a createIndexes command
// naming several indexes that all exist already.
func ensureIndex(ctx context.Context, coll *mongo.Collection, model mongo.IndexModel) error {
	specs, err := coll.Indexes().ListSpecifications(ctx)
	var ce mongo.CommandError
	if errors.As(err, &ce) && ce.Code == 26 { // NamespaceNotFound: no collection yet
		err = nil
	}
	if err != nil {
		return err
	}
	var name string
	if model.Options != nil {
		var o options.IndexOptions
		for _, set := range model.Options.List() {
			if err := set(&o); err != nil {
				return err
			}
		}
		if o.Name != nil {
			name = *o.Name
		}
	}
	for _, sp := range specs {
		if sp.Name == name {
			return nil
		}
	}
	_, err = coll.Indexes().CreateOne(ctx, model)
	return err
}

// Feed returns the in-process change feed of products (nil before Init).
func (s *Store) Feed() *Feed { return s.feed }

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	return classify("store.Ping", s.client.Ping(ctx, nil))
}

// Close disconnects from the database.
func (s *Store) Close(ctx context.Context) error {
	s.closed.Do(func() { close(s.closing) })
	s.bg.Wait()
	return s.client.Disconnect(ctx)
}

// Drop deletes the whole database (tests and demos only).
func (s *Store) Drop(ctx context.Context) error {
	s.forgetLedgerHeads()
	return classify("store.Drop", s.db.Drop(ctx))
}

func (s *Store) stamp() time.Time { return s.now().UTC().Truncate(time.Millisecond) }

// currentSeq returns the last seq allocated in a collection (0 if none).
func (s *Store) currentSeq(ctx context.Context, coll string) (int64, error) {
	var d struct {
		Seq int64 `bson:"seq"`
	}
	err := s.counters.FindOne(ctx, bson.D{{Key: "_id", Value: coll}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return 0, nil
	}
	return d.Seq, classify("store.currentSeq", err)
}

// allocSeq reserves n consecutive seqs in a collection and returns the last.
func (s *Store) allocSeq(ctx context.Context, coll string, n int64) (int64, error) {
	var d struct {
		Seq int64 `bson:"seq"`
	}
	s.seqMu.Lock()
	defer s.seqMu.Unlock()
	err := s.counters.FindOneAndUpdate(ctx,
		bson.D{{Key: "_id", Value: coll}},
		bson.D{{Key: "$inc", Value: bson.D{{Key: "seq", Value: n}}}},
		options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After),
	).Decode(&d)
	if err != nil {
		return 0, classify("store.allocSeq", err)
	}
	return d.Seq, nil
}

// reserveProducts allocates n product seqs and registers them with the feed.
// The caller must call feed.finish for each of them.
func (s *Store) reserveProducts(ctx context.Context, n int64) (first int64, err error) {
	if err := s.feed.waitRoom(ctx); err != nil {
		return 0, err
	}
	tok := s.feed.beginReserve()
	last, err := s.allocSeq(ctx, collProducts, n)
	if err != nil {
		s.feed.endReserve(tok, 1, 0)
		return 0, err
	}
	s.feed.endReserve(tok, last-n+1, last)
	return last - n + 1, nil
}

var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// NewID returns a random id with the given prefix, e.g. "org_k3j…".
func NewID(prefix string) string {
	var b [10]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return prefix + "_" + idEncoding.EncodeToString(b[:])
}

// ProductID derives a product's id from its org and sku, so that upsert by
// sku is a lookup by _id.
func ProductID(orgID, sku string) string {
	h := sha256.Sum256([]byte(orgID + "\x00" + sku))
	return "prd_" + idEncoding.EncodeToString(h[:12])
}

// --- orgs ---

// CreateOrg stores a new org, assigning ID (unless set), Version 1 and times.
func (s *Store) CreateOrg(ctx context.Context, o *engine.Org) error {
	const op = "store.CreateOrg"
	if o.ID == "" {
		o.ID = NewID("org")
	}
	now := s.stamp()
	o.Version, o.CreatedAt, o.UpdatedAt = 1, now, now
	seq, err := s.allocSeq(ctx, collOrgs, 1)
	if err != nil {
		return err
	}
	o.Seq = seq
	_, err = s.orgs.InsertOne(ctx, toOrgDoc(o))
	return classify(op, err)
}

// GetOrg returns the org with the given id, or KindNotFound.
func (s *Store) GetOrg(ctx context.Context, id string) (*engine.Org, error) {
	o, _, err := s.getOrgDoc(ctx, id)
	return o, err
}

func (s *Store) getOrgDoc(ctx context.Context, id string) (*engine.Org, *orgDoc, error) {
	var d orgDoc
	if err := s.orgs.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d); err != nil {
		return nil, nil, classify("store.GetOrg", err)
	}
	return d.toEngine(), &d, nil
}

// UpdateOrg reads the org, applies fn, and writes it back if nobody changed it
// in between. ifVersion > 0 demands that the stored version equals it
// (KindPrecondition otherwise). It returns the org before and after.
func (s *Store) UpdateOrg(ctx context.Context, id string, ifVersion int64, fn func(*engine.Org) error) (before, after *engine.Org, err error) {
	const op = "store.UpdateOrg"
	defer s.locks.lock(id)()
	for attempt := 0; attempt < maxAttempts; attempt++ {
		backoff(ctx, attempt)
		cur, doc, err := s.getOrgDoc(ctx, id)
		if err != nil {
			return nil, nil, err
		}
		if ifVersion > 0 && cur.Version != ifVersion {
			return nil, nil, engine.Errorf(engine.KindPrecondition, op, "version %d is not current (current is %d)", ifVersion, cur.Version)
		}
		before = doc.toEngine()
		if err := fn(cur); err != nil {
			return nil, nil, err
		}
		seq, err := s.allocSeq(ctx, collOrgs, 1)
		if err != nil {
			return nil, nil, err
		}
		cur.Version, cur.Seq, cur.UpdatedAt = before.Version+1, seq, s.stamp()
		nd := toOrgDoc(cur)
		nd.KeyID = doc.KeyID
		res, err := s.orgs.ReplaceOne(ctx, s.casFilter(id, before.Version), nd)
		if err != nil {
			return nil, nil, classify(op, err)
		}
		if res.MatchedCount == 1 {
			return before, cur, nil
		}
	}
	return nil, nil, engine.Errorf(engine.KindConflict, op, "the org is being changed concurrently; try again")
}

// ScanOrgs calls fn for every org (a full sweep: start-up and admin lists).
func (s *Store) ScanOrgs(ctx context.Context, fn func(*engine.Org) error) error {
	const op = "store.ScanOrgs"
	cur, err := s.orgs.Find(ctx, bson.D{})
	if err != nil {
		return classify(op, err)
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		var d orgDoc
		if err := cur.Decode(&d); err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		if err := fn(d.toEngine()); err != nil {
			return err
		}
	}
	return classify(op, cur.Err())
}

// --- keys ---

// KeyRecord is a stored API key: its lookup id, owner and hash.
type KeyRecord struct {
	ID    string
	OrgID string
	Hash  []byte
}

// SetOrgKey makes k the org's only valid key: it stores k, points the org at
// it and deletes the org's previous key, in that order, so that a crash in
// between leaves at worst the old key still listed but no longer current.
func (s *Store) SetOrgKey(ctx context.Context, k KeyRecord) error {
	const op = "store.SetOrgKey"
	_, err := s.keys.ReplaceOne(ctx, bson.D{{Key: "_id", Value: k.ID}},
		keyDoc{ID: k.ID, OrgID: k.OrgID, Hash: k.Hash, CreatedAt: s.stamp()}, options.Replace().SetUpsert(true))
	if err != nil {
		return classify(op, err)
	}
	var old string
	defer s.locks.lock(k.OrgID)()
	for attempt := 0; ; attempt++ {
		backoff(ctx, attempt)
		_, doc, err := s.getOrgDoc(ctx, k.OrgID)
		if err != nil {
			return err
		}
		old = doc.KeyID
		res, err := s.orgs.UpdateOne(ctx, s.casFilter(k.OrgID, doc.Version),
			bson.D{{Key: "$set", Value: bson.D{{Key: "key_id", Value: k.ID}}}})
		if err != nil {
			return classify(op, err)
		}
		if res.MatchedCount == 1 {
			break
		}
		if attempt == maxAttempts {
			return engine.Errorf(engine.KindConflict, op, "the org is being changed concurrently; try again")
		}
	}
	if old != "" && old != k.ID {
		if _, err := s.keys.DeleteOne(ctx, bson.D{{Key: "_id", Value: old}}); err != nil {
			return classify(op, err)
		}
	}
	return nil
}

// KeyByID returns the key with the given lookup id, but only if it is still
// its org's current key; otherwise KindNotFound. It also returns the org.
func (s *Store) KeyByID(ctx context.Context, id string) (KeyRecord, *engine.Org, error) {
	const op = "store.KeyByID"
	var d keyDoc
	if err := s.keys.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d); err != nil {
		return KeyRecord{}, nil, classify(op, err)
	}
	org, od, err := s.getOrgDoc(ctx, d.OrgID)
	if err != nil {
		return KeyRecord{}, nil, err
	}
	if od.KeyID != d.ID {
		return KeyRecord{}, nil, engine.Errorf(engine.KindNotFound, op, "key revoked")
	}
	return KeyRecord{ID: d.ID, OrgID: d.OrgID, Hash: d.Hash}, org, nil
}

// --- audit ---

// AuditEntry records one admin action on an org or its products.
type AuditEntry struct {
	OrgID  string
	At     time.Time
	Actor  string // org id of the admin
	Action string // e.g. "org.update", "product.review"
	Target string // id of the changed object
	Before map[string]any
	After  map[string]any
}

// AddAudit appends an entry to the audit trail.
func (s *Store) AddAudit(ctx context.Context, e AuditEntry) error {
	if e.At.IsZero() {
		e.At = s.stamp()
	}
	_, err := s.audit.InsertOne(ctx, auditDoc{ID: NewID("aud"), OrgID: e.OrgID, At: e.At, Actor: e.Actor,
		Action: e.Action, Target: e.Target, Before: e.Before, After: e.After})
	return classify("store.AddAudit", err)
}

// Audit returns an org's audit trail, oldest first.
func (s *Store) Audit(ctx context.Context, orgID string, limit int) ([]AuditEntry, error) {
	const op = "store.Audit"
	cur, err := s.audit.Find(ctx, bson.D{{Key: "org_id", Value: orgID}},
		options.Find().SetSort(bson.D{{Key: "at", Value: 1}, {Key: "_id", Value: 1}}).SetLimit(int64(limit)))
	if err != nil {
		return nil, classify(op, err)
	}
	var docs []auditDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, classify(op, err)
	}
	out := make([]AuditEntry, len(docs))
	for i, d := range docs {
		out[i] = AuditEntry{OrgID: d.OrgID, At: d.At.UTC(), Actor: d.Actor, Action: d.Action, Target: d.Target, Before: d.Before, After: d.After}
	}
	return out, nil
}

// OrgHasKey reports whether the org has a current API key.
func (s *Store) OrgHasKey(ctx context.Context, orgID string) (bool, error) {
	_, d, err := s.getOrgDoc(ctx, orgID)
	if err != nil {
		return false, err
	}
	return d.KeyID != "", nil
}
