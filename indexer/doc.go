// Package indexer keeps livematch's index of products: a Bleve index (Chinese
// and English analysis, stored records) and, derived from it, an in-memory
// catalogue that answers search with filters and facets and streams the
// candidates of matching; bilingual query expansion through the glossary,
// change-feed application and rebuilds.
//
// # Design principles
//
//   - The index is derived data. MongoDB is the system of record; the index
//     can always be rebuilt from a full sweep (Rebuild) and is kept in step by
//     the change feed (Apply). The feed checkpoint is written inside the same
//     Bleve batch as the documents (Batch.SetInternal), so content and
//     checkpoint move together.
//   - One analyzer for every text field, Chinese and English alike: unicode
//     tokenizer, cjk_width, lowercase, English possessive and stop words,
//     cjk_bigram with unigrams, snowball English stemming. Unigrams let a
//     one-character query (茶) find 白茶; bigrams keep longer queries precise
//     (猕猴桃 needs 猕猴 and 猴桃, not just 桃). Traditional characters are folded
//     to simplified in Go (Glossary.Simplify) on both the indexed text and the
//     query, because a custom char filter would need Bleve's global registry.
//   - User text never reaches Bleve's query-string syntax. A query is split
//     into words, leading English words are grouped into glossary phrases,
//     every term becomes a disjunction of itself (boosted) and its glossary
//     expansions, each alternative requires all of its tokens in one field,
//     and the terms are conjoined. Filter values are exact keyword terms.
//     Clause counts are capped so that hostile input cannot explode.
//   - Certificates expire while the index stands still, so nothing about
//     validity is decided at index time. Each certificate type's latest
//     expiry is indexed as a number (cert_exp.<type>) for the certification
//     filter, a range query from Now; and as a keyword "type@expiry-ms" (or
//     "type" when it never expires) for the facet, whose terms are summed
//     per type for expiries after Now. Filters and facets therefore agree
//     with engine.Product.ValidCerts at any clock, without re-indexing.
//   - Each product is also kept as a stored, non-indexed JSON blob, from which
//     the in-memory catalogue is rebuilt on open, so a restart needs no
//     database sweep (a clean Close also leaves a snapshot of the catalogue,
//     which loads faster still). Bleve internal storage is not used for this
//     because scorch copies and re-persists every internal key on every batch.
//   - The catalogue holds, by document number, the attributes that filters,
//     facets, gates and factors read, in columns; postings of titles and tags
//     with boosted term frequencies (BM25); and roaring bitmaps of the
//     description tokens (descriptions are searched, not matched). Search and
//     matching read only the catalogue, then fetch the few full records a page
//     shows from Bleve's stored fields. Bleve's own search of the same index
//     (with the same query plan) is the reference the tests compare against.
//   - Highlights are computed for the page's hits only, from the terms the
//     search looked up (the words typed, else the glossary expansions found
//     in a field): each field is folded and analysed again, its matching
//     tokens marked by their byte offsets (mapped back to the original text
//     by rune when folding changed lengths) and the rest HTML-escaped. A
//     cheap test skips the fields that cannot hold a term, and Han tokens
//     are found as substrings (where the analyzer puts them), so that a page
//     costs a few short analyses whatever the length of its descriptions.
//   - Nothing is global: the analyzer is configured by name on the index's own
//     mapping; clocks, loggers and the glossary are passed in.
package indexer
