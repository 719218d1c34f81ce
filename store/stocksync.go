package store

import (
	"context"
	"sync"
	"time"

	"github.com/livematch/livematch/engine"
)

// The product document's stock and booked units follow its stock ledger.
// Every ledger append marks the product dirty; a background loop (started
// by Init) writes the ledger's state into the product document and
// publishes the change on the feed, so that search's in_stock, the
// min_stock gate and the stock factor see `available` within the index's
// normal lag, without a reindex. Bursts on one product (a flash sale)
// coalesce into one product write per pass. The document's version is not
// bumped: booked units are derived, like poverty_relief, and a supplier
// editing a title must not get 412 because an MCN reserved meanwhile.
//
// The ledger stays the truth: a lost sync (a crash) leaves the document
// behind until the product's next ledger entry or SyncStock call, and the
// start-up reconciliation (ReconcileDeals) syncs every product with active
// reservations.

// stockSyncDelay lets a burst of bookings on one product coalesce.
const stockSyncDelay = 20 * time.Millisecond

type stockSync struct {
	mu    sync.Mutex
	dirty map[string]struct{} // ledger keys
	wake  chan struct{}
}

// stockChanged marks a ledger key dirty and wakes the loop.
func (s *Store) stockChanged(key string) {
	s.sync.mu.Lock()
	if s.sync.dirty == nil {
		s.sync.dirty = map[string]struct{}{}
	}
	s.sync.dirty[key] = struct{}{}
	s.sync.mu.Unlock()
	select {
	case s.sync.wake <- struct{}{}:
	default:
	}
}

// runStockSync is the background loop; it stops when the store closes.
func (s *Store) runStockSync() {
	defer s.bg.Done()
	for {
		select {
		case <-s.closing:
			return
		case <-s.sync.wake:
		}
		select {
		case <-s.closing:
			return
		case <-time.After(stockSyncDelay):
		}
		s.sync.mu.Lock()
		keys := s.sync.dirty
		s.sync.dirty = nil
		s.sync.mu.Unlock()
		for key := range keys {
			ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
			err := s.SyncStock(ctx, key)
			cancel()
			if err != nil && !engine.IsKind(err, engine.KindNotFound) {
				s.log.Warn("stock sync failed; retrying", "ledger", key, "err", err)
				go func() { // retry later, unless closing
					select {
					case <-s.closing:
					case <-time.After(time.Second):
						s.stockChanged(key)
					}
				}()
			}
		}
	}
}

// SyncStock writes the state of the stock ledger key into its product's
// document (stock, booked) and publishes the change, when they differ. A
// product deleted or listed anew since (another ledger key) is left alone.
func (s *Store) SyncStock(ctx context.Context, key string) error {
	const op = "store.SyncStock"
	id := productOfKey(key)
	defer s.locks.lock(id)()
	for attempt := 0; attempt < maxAttempts; attempt++ {
		backoff(ctx, attempt)
		d, err := s.getProductDoc(ctx, id)
		if err != nil {
			return err
		}
		if d.Deleted || LedgerKey(d.toEngine()) != key {
			return nil
		}
		l, n, err := s.StockLedger(ctx, key, d.Stock)
		if err != nil {
			return err
		}
		if n == 0 || d.Ledger && d.Stock == l.Stock && d.Booked == l.Booked {
			return nil
		}
		seq, err := s.reserveProducts(ctx, 1)
		if err != nil {
			return err
		}
		nd := *d
		if l.Stock != d.Stock && d.Ledger {
			// Shipping took units out of stock: a change of the stock a
			// supplier sees, so If-Match must notice it (bookings alone
			// are derived, like poverty_relief, and leave the version).
			nd.Version, nd.UpdatedAt = d.Version+1, s.stamp()
		}
		nd.Seq, nd.Stock, nd.Booked, nd.Ledger = seq, l.Stock, l.Booked, true
		ok, err := s.writeProduct(ctx, nd, d.Version)
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
	}
	return engine.Errorf(engine.KindConflict, op, "the product is being changed concurrently")
}

// FreshStock sets p's Stock and Booked from its stock ledger, when it has
// one: exact as of now, where the document follows within a moment.
func (s *Store) FreshStock(ctx context.Context, p *engine.Product) error {
	l, n, err := s.StockLedger(ctx, LedgerKey(p), p.Stock)
	if err != nil {
		return err
	}
	if n > 0 {
		p.Stock, p.Booked = l.Stock, l.Booked
	}
	return nil
}

// freshDoc brings a stored product document's stock and booked units up to
// its ledger's (the document follows the ledger only within a moment), so
// that a write compares against, and carries over, what the ledger says.
func (s *Store) freshDoc(ctx context.Context, d *productDoc) error {
	if !d.Ledger || d.Deleted {
		return nil
	}
	l, n, err := s.StockLedger(ctx, LedgerKey(d.toEngine()), d.Stock)
	if err == nil && n > 0 {
		d.Stock, d.Booked = l.Stock, l.Booked
	}
	return err
}

// stockThroughLedger carries the server-owned stock fields from the stored
// document old (made fresh by freshDoc) over to p, a new state of the same
// live product, and takes a change of stock through the ledger: lowering it
// below the booked units answers KindConflict naming stock. It reports
// whether the product now has a ledger.
func (s *Store) stockThroughLedger(ctx context.Context, old *productDoc, p *engine.Product) (bool, error) {
	p.Booked = old.Booked
	if p.Stock == old.Stock {
		return old.Ledger, nil
	}
	res, err := s.SetStock(ctx, LedgerKey(old.toEngine()), old.Stock, p.Stock, BookingEntry{Actor: old.OrgID})
	if err != nil {
		return old.Ledger, err
	}
	p.Stock, p.Booked = res.Ledger.Stock, res.Ledger.Booked
	return true, nil
}
