// Package engine holds livematch's domain: organisations, products, regions
// and the fixed vocabularies, the validation rules that guard them, and (as
// matching grows) gates, factor scoring, explanations and fair re-ranking.
//
// # Design principles
//
//   - Pure: no I/O, no database, HTTP or index imports, no struct tags. Every
//     adapter (store, indexer, api) depends on engine, never the reverse.
//   - Errors are data: one *Error type with a closed Kind enum, an Op, a
//     client-safe message, the offending fields and a wrapped cause. The api
//     package maps each Kind to exactly one HTTP status.
//   - Derived facts are derived here and never taken from input: a product's
//     province comes from its ship-from region and its poverty-relief status
//     from its owning org's region, resolved through a RegionBook.
//   - Collaborators (region tables, clocks) are passed in; no package state
//     changes after start.
package engine
