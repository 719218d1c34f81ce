// Package store is livematch's system of record: MongoDB persistence through
// the official v2 driver, and an embedded FerretDB launcher so that the same
// code path runs against an in-process database by default.
//
// # Design principles
//
//   - Every accepted write is in MongoDB before the caller hears of it. The
//     search index is derived data fed from here.
//   - The change feed is a per-collection, monotonically increasing seq
//     stamped on every write, allocated from a counter document with
//     findOneAndUpdate + $inc. Deletes are tombstones that carry a seq too,
//     so the feed sees them. In process, writes are published to a Feed
//     together with a watermark: the highest seq below which every reserved
//     seq has either been written or has failed. A follower that stores that
//     watermark as its checkpoint never skips a write, even when concurrent
//     writers finish out of order; after a crash it replays seq > checkpoint.
//   - Hot paths never filter on anything but _id: FerretDB's SQLite backend
//     pushes down only {_id: ...} equality and would scan for anything else.
//     Product ids are derived from (org_id, sku), so upsert by sku is a
//     lookup by _id. Full sweeps are for start-up and rebuilds only.
//   - Optimistic concurrency: every object carries a version; writes replace
//     the document only if the version is still the one that was read.
//   - bson documents and driver errors never leave this package: documents
//     map to engine types here, and driver errors become *engine.Error with
//     KindNotFound, KindConflict, KindPrecondition or KindUnavailable.
package store
