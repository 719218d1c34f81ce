package indexer

import (
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/blevesearch/bleve/v2/document"
	index "github.com/blevesearch/bleve_index_api"
)

// fieldTerms is what Bleve indexes of one document: per field name and
// array position, the terms with their frequencies, and the analysed
// lengths.
func fieldTerms(doc *document.Document) map[string]string {
	out := map[string]string{}
	doc.VisitFields(func(f index.Field) {
		if !f.Options().IsIndexed() {
			return
		}
		f.Analyze()
		freqs := f.AnalyzedTokenFrequencies()
		terms := make([]string, 0, len(freqs))
		for term, tf := range freqs {
			terms = append(terms, fmt.Sprintf("%s×%d", term, tf.Frequency()))
		}
		slices.Sort(terms)
		out[fmt.Sprint(f.Name(), f.ArrayPositions())] = fmt.Sprint(f.AnalyzedLength(), terms)
	})
	return out
}

// Apply analyses each text once and lets Bleve replay the token streams:
// what Bleve indexes must be exactly what its own mapping and analysis of
// the same document give, field by field, and the catalogue's text exactly
// what analysing the product gives.
func TestPrepareIndexesWhatBleveWould(t *testing.T) {
	ps, _ := catalogueFixture(t, 300)
	// Edge cases: traditional characters, an empty description, a tag
	// repeating the title, no tags.
	ps[0].TitleZh, ps[0].Tags = "臺灣烏龍茶 高山茶", []string{"臺灣烏龍茶 高山茶", "茶"}
	ps[1].DescriptionZh, ps[1].DescriptionEn, ps[1].Tags = "", "", nil
	x := mustOpen(t, testConfig(t, ""), defaultOptions())
	us := make([]*update, len(ps))
	for i, p := range ps {
		us[i] = &update{p: p, seq: int64(i + 1)}
	}
	if err := x.prepare(us); err != nil {
		t.Fatal(err)
	}
	replayed := 0
	for i, u := range us {
		d, err := newIndexDoc(u.p, u.seq, x.gloss.Simplify)
		if err != nil {
			t.Fatal(err)
		}
		own := document.NewDocument(u.p.ID)
		if err := x.idx.Mapping().MapDocument(own, d); err != nil {
			t.Fatal(err)
		}
		want, got := fieldTerms(own), fieldTerms(u.doc)
		if !maps.Equal(want, got) {
			t.Fatalf("product %d: Bleve would index\n%v\nprepared\n%v", i, want, got)
		}
		for _, f := range u.doc.Fields {
			if tf, ok := f.(*document.TextField); ok {
				if _, ok := tf.Analyzer().(replay); ok {
					replayed++
				}
			}
		}
		if a := x.vocab.analyse(u.p); fmt.Sprint(a) != fmt.Sprint(u.text) {
			t.Fatalf("product %d: the catalogue's text is\n%v\nanalysing it gives\n%v", i, u.text, a)
		}
	}
	if replayed < 4*len(us) {
		t.Fatalf("only %d text fields of %d products replay their analysis", replayed, len(us))
	}
}
