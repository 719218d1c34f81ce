package indexer

import (
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/width"

	"github.com/livematch/livematch/engine"
)

// Highlighting marks, in the text of a page's hits, the words a search
// found. The words are the analysed terms the search looked up, never a
// second interpretation of the query: each field's text is folded and
// analysed as it was for the index; for each term of the query, the
// alternatives (the words typed, else their glossary expansions) whose
// tokens the field holds are the ones found there, and every token whose
// term is one of their marks (see queryBuilder.tokens) is marked by its
// byte offsets (Bleve's tokens carry them); overlapping and adjacent marks
// (or marks apart by white space only) merge into one <em> span, and
// everything else is HTML-escaped. Only the page's hits are highlighted,
// and only their fields that may hold a mark (highlighter.mayHold). When
// every token of the query is Han or an ASCII word (the usual case), Han
// tokens are found as substrings, exactly where the analyzer would put
// them, and only the rest of a field is analysed: a long Chinese
// description costs a scan, not an analysis (highlighter.fast; the tests
// compare both ways).

// tagSeparator joins a product's tags in its highlights.
const tagSeparator = " · "

// highlighter is a search's query plan as highlighting reads it, with what
// a cheap test needs to skip a text that cannot hold any mark. Tokens are
// numbered (ids) so that a field's tokens are looked up without
// allocating. It is read-only once made.
type highlighter struct {
	ids   map[string]int32 // every token of every alternative
	terms [][]hlAlt        // by query term, its alternatives
	// han are the marks made of Han characters only, which a text holds as
	// they are (its folded text).
	han []string
	// latin are prefixes of the marks made of ASCII letters and digits that
	// a text holding the mark holds too (lowercased and width-folded) where
	// a word starts: stemming only rewrites the end of a word (see
	// latinPrefix).
	latin []string
	// always says that some mark is of neither kind: every text is
	// analysed, whole (the tests set it for the reference).
	always bool
	// untested says that there are too many marks to test one by one:
	// mayHold passes every text.
	untested bool
	// fast says that every token of the plan is made of Han characters
	// only or is an ASCII word. A text's Han tokens are then exactly its Han
	// characters and the pairs of adjacent ones (the analyzer's unigrams and
	// bigrams, which no other filter changes), found as substrings, and only
	// the rest of the text, if it holds letters or digits, is analysed.
	fast      bool
	tokens    []string // by id
	hanTokens []int32  // ids of the tokens made of Han characters only
	anyASCII  bool     // some token is an ASCII word
}

// hlAlt is a textAlt with its tokens and marks as ids.
type hlAlt struct {
	tokens, marks []int32
	typed         bool // the words typed, not a glossary expansion
}

// maxTestedTerms bounds the marks highlighter.mayHold tests one by one.
const maxTestedTerms = 64

// newHighlighter makes the highlighter of a search's plan; nil for a plan
// without text.
func newHighlighter(plan [][]textAlt) *highlighter {
	if len(plan) == 0 {
		return nil
	}
	h := &highlighter{ids: map[string]int32{}, terms: make([][]hlAlt, 0, len(plan)), fast: true}
	id := func(tok string) int32 {
		n, ok := h.ids[tok]
		if ok {
			return n
		}
		n = int32(len(h.ids))
		h.ids[tok] = n
		h.tokens = append(h.tokens, tok)
		switch {
		case isHanTerm(tok):
			h.hanTokens = append(h.hanTokens, n)
		case isASCIIWord(tok):
			h.anyASCII = true
		default:
			h.fast = false
		}
		return n
	}
	marks := map[string]bool{}
	for _, alts := range plan {
		term := make([]hlAlt, 0, len(alts))
		for _, a := range alts {
			ha := hlAlt{tokens: make([]int32, len(a.tokens)), marks: make([]int32, len(a.marks)), typed: a.boost == boostOriginal}
			for i, tok := range a.tokens {
				ha.tokens[i] = id(tok)
			}
			for i, m := range a.marks {
				ha.marks[i] = id(m)
				if marks[m] {
					continue
				}
				marks[m] = true
				switch {
				case isHanTerm(m):
					h.han = append(h.han, m)
				case isASCIIWord(m):
					h.latin = append(h.latin, latinPrefix(m))
				default:
					h.always = true
				}
			}
			term = append(term, ha)
		}
		h.terms = append(h.terms, term)
	}
	if len(marks) == 0 {
		return nil
	}
	h.untested = len(marks) > maxTestedTerms
	return h
}

// isHanTerm reports whether term is made of Han characters only.
func isHanTerm(term string) bool {
	for _, r := range term {
		if !isHanRune(r) {
			return false
		}
	}
	return term != ""
}

// isHanRune is isHan, quicker for the runes text is mostly made of.
func isHanRune(r rune) bool {
	switch {
	case r < 0x2E80:
		return false
	case r >= 0x4E00 && r <= 0x9FFF:
		return true
	}
	return isHan(r)
}

// isASCIIWord reports whether term is made of ASCII lower-case letters,
// digits and the joiners a token keeps (2.5, o'neil).
func isASCIIWord(term string) bool {
	for i := 0; i < len(term); i++ {
		c := term[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '\'' || c == '_') {
			return false
		}
	}
	return term != ""
}

// latinPrefix returns the part of an English stem that every word stemming
// to it begins with: all but its last letter (hoping → hope, happy →
// happi, possibly → possibl), or all but two when the stem ends in ble or
// ie (sensibility → sensible, dying → die), at least one letter.
func latinPrefix(stem string) string {
	cut := 1
	if strings.HasSuffix(stem, "ble") || strings.HasSuffix(stem, "ie") {
		cut = 2
	}
	return stem[:max(len(stem)-cut, 1)]
}

// mayHold reports whether the folded text may hold a token of h's terms:
// false only when it cannot, so that the text need not be analysed.
func (h *highlighter) mayHold(folded string) bool {
	if h.always || h.untested {
		return true
	}
	for _, t := range h.han {
		if strings.Contains(folded, t) {
			return true
		}
	}
	if len(h.latin) == 0 {
		return false
	}
	low := folded
	if strings.Contains(low, "\xef\xbc") || strings.Contains(low, "\xef\xbd") {
		low = width.Fold.String(low) // full-width letters, as cjk_width folds them
	}
	low = strings.ToLower(low)
	for _, p := range h.latin {
		if hasWordStart(low, p) {
			return true
		}
	}
	return false
}

// hasWordStart reports whether p occurs in s where a token may start: not
// right after an ASCII letter or digit (the word segmenter never splits
// between those).
func hasWordStart(s, p string) bool {
	for i := 0; ; {
		j := strings.Index(s[i:], p)
		if j < 0 {
			return false
		}
		j += i
		if j == 0 || !isASCIIAlnum(s[j-1]) {
			return true
		}
		i = j + 1
	}
}

func isASCIIAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// highlightPer is how many hits one core highlights at least before the
// work of a page is spread over more.
const highlightPer = 4

// highlightHits sets the highlights of a page's hits, on every core; with a
// nil h it leaves them nil.
func (v *vocab) highlightHits(h *highlighter, hits []engine.ProductHit) {
	if h == nil {
		return
	}
	_ = spread(len(hits), highlightPer, func(i int) error {
		hits[i].Highlights = v.highlight(h, hits[i].Product)
		return nil
	})
}

// highlight returns the highlights of p's text fields holding one of the
// words found, by field name (see engine.ProductHit.Highlights); nil when
// none does.
func (v *vocab) highlight(h *highlighter, p *engine.Product) map[string]string {
	var out map[string]string
	set := func(field, s string) {
		if out == nil {
			out = make(map[string]string, 2)
		}
		out[field] = s
	}
	m := newMarker(h)
	var b strings.Builder
	for _, f := range [...]struct{ name, text string }{
		{fTitleZh, p.TitleZh}, {fTitleEn, p.TitleEn}, {fDescZh, p.DescriptionZh}, {fDescEn, p.DescriptionEn},
	} {
		b.Reset()
		if v.markText(&b, m, f.text) {
			set(f.name, b.String())
		}
	}
	// Each tag is analysed on its own, as indexed.
	b.Reset()
	found := false
	for i, tag := range p.Tags {
		if i > 0 {
			b.WriteString(tagSeparator)
		}
		if v.markText(&b, m, tag) {
			found = true
		} else {
			escapeTo(&b, tag)
		}
	}
	if found {
		set(fTags, b.String())
	}
	return out
}

// marker is the scratch space of highlighting one product's fields.
type marker struct {
	h       *highlighter
	present []bool   // by token id: the field holds it
	marked  []bool   // by token id: a mark of an alternative found in the field
	found   []tokHit // the field's analysed tokens that are the plan's
	blank   []byte   // the field with its Han characters blanked (fast)
}

// tokHit is a token of a field: its id and byte offsets.
type tokHit struct {
	id         int32
	start, end int
}

func newMarker(h *highlighter) *marker {
	return &marker{h: h, present: make([]bool, len(h.ids)), marked: make([]bool, len(h.ids))}
}

// choose sets m.marked to the marks of the alternatives found in a field
// whose tokens are m.present: for each query term, the words typed when the
// field holds all of their tokens, else every glossary expansion it holds
// all the tokens of (脐橙 marks 脐橙 in 赣南脐橙, not the expansion 赣南脐橙). It
// reports whether any is marked.
func (m *marker) choose() bool {
	clear(m.marked)
	holds := func(a hlAlt) bool {
		for _, t := range a.tokens {
			if !m.present[t] {
				return false
			}
		}
		return true
	}
	some := false
	for _, alts := range m.h.terms {
		for _, typed := range [...]bool{true, false} {
			found := false
			for _, a := range alts {
				if a.typed == typed && holds(a) {
					found = true
					for _, t := range a.marks {
						m.marked[t] = true
					}
				}
			}
			if found {
				some = true
				break
			}
		}
	}
	return some
}

// markText writes text to b, HTML-escaped, with the words found (see
// marker.choose) wrapped in <em>…</em>, and reports whether there were any.
// It writes nothing when there were none.
func (v *vocab) markText(b *strings.Builder, m *marker, text string) bool {
	if text == "" {
		return false
	}
	folded := v.simplify(text)
	if !m.h.mayHold(folded) {
		return false
	}
	fm := foldMapOf(v.simplify, text, folded)
	if fm != nil && fm.pieces {
		folded = fm.text
	}
	clear(m.present)
	m.found = m.found[:0]
	fast := m.h.fast && !m.h.always
	if fast {
		for _, id := range m.h.hanTokens {
			m.present[id] = m.present[id] || strings.Contains(folded, m.h.tokens[id])
		}
		if m.h.anyASCII {
			if rest, ok := m.blankHan(folded); ok {
				m.analyse(v, rest)
			}
		}
	} else {
		m.analyse(v, folded)
	}
	if !m.choose() {
		return false
	}
	var spans []span
	add := func(start, end int) {
		if s, ok := fm.span(text, start, end); ok {
			spans = append(spans, s)
		}
	}
	for _, t := range m.found {
		if m.marked[t.id] {
			add(t.start, t.end)
		}
	}
	if fast {
		for _, id := range m.h.hanTokens {
			if !m.marked[id] {
				continue
			}
			tok := m.h.tokens[id]
			_, first := utf8.DecodeRuneInString(tok)
			for at := 0; ; {
				j := strings.Index(folded[at:], tok)
				if j < 0 {
					break
				}
				add(at+j, at+j+len(tok))
				at += j + first // overlapping occurrences too (茶茶 in 茶茶茶)
			}
		}
	}
	if len(spans) == 0 {
		return false
	}
	at := 0
	for _, s := range mergeSpans(text, spans) {
		escapeTo(b, text[at:s.start])
		b.WriteString("<em>")
		escapeTo(b, text[s.start:s.end])
		b.WriteString("</em>")
		at = s.end
	}
	escapeTo(b, text[at:])
	return true
}

// analyse records the tokens of text that are the plan's.
func (m *marker) analyse(v *vocab, text string) {
	for _, t := range v.analyzer.Analyze([]byte(text)) {
		if id, ok := m.h.ids[string(t.Term)]; ok {
			m.present[id] = true
			m.found = append(m.found, tokHit{id, t.Start, t.End})
		}
	}
}

// blankHan returns text with each Han character replaced by as many spaces
// as it has bytes, so that the other words keep their offsets and analyse
// as they do in the whole text (a Han character and a space both end a
// word), and reports whether anything is left that may be a word: a letter
// or digit outside Han.
func (m *marker) blankHan(text string) (string, bool) {
	m.blank = append(m.blank[:0], text...)
	words := false
	for i, r := range text {
		switch {
		case isHanRune(r):
			for k := i; k < i+utf8.RuneLen(r); k++ {
				m.blank[k] = ' '
			}
		case r < utf8.RuneSelf:
			words = words || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
		default:
			words = words || unicode.IsLetter(r) || unicode.IsNumber(r)
		}
	}
	return string(m.blank), words
}

// span is a byte range [start, end) of a text.
type span struct{ start, end int }

// mergeSpans sorts the spans of text and merges those that overlap, touch
// or stand apart by white space only (navel oranges is one span).
func mergeSpans(text string, spans []span) []span {
	slices.SortFunc(spans, func(a, b span) int { return a.start - b.start })
	out := spans[:1]
	for _, s := range spans[1:] {
		last := &out[len(out)-1]
		if s.start <= last.end || strings.TrimSpace(text[last.end:s.start]) == "" {
			last.end = max(last.end, s.end)
			continue
		}
		out = append(out, s)
	}
	return out
}

// foldMap maps byte offsets of a folded text (traditional characters
// simplified) back to the original text, one unit (a rune of the original)
// at a time: unit i is folded[i]:folded[i+1] in the folded text and
// orig[i]:orig[i+1] in the original. A nil *foldMap maps a text that
// folding left as it was.
type foldMap struct {
	folded, orig []int
	// pieces says that the folded text is text, folded rune by rune.
	pieces bool
	text   string
}

// foldMapOf maps folded, text folded as the index folded it (simplify:
// Glossary.Simplify), back to text. A traditional character and its
// simplified one may differ in length (a character beyond the BMP folds to
// one inside it), so offsets are mapped by rune, not by byte.
func foldMapOf(simplify func(string) string, text, folded string) *foldMap {
	if folded == text {
		return nil
	}
	if utf8.RuneCountInString(folded) == utf8.RuneCountInString(text) {
		// Rune for rune, as Glossary.Simplify folds.
		return &foldMap{folded: runeBounds(folded), orig: runeBounds(text)}
	}
	// A folding that changes the number of runes: fold each rune alone,
	// so that every piece of the folded text maps to its rune.
	fm := &foldMap{folded: make([]int, 0, len(text)+1), orig: make([]int, 0, len(text)+1), pieces: true}
	var b strings.Builder
	b.Grow(len(folded))
	for i := 0; i < len(text); {
		_, w := utf8.DecodeRuneInString(text[i:])
		fm.folded, fm.orig = append(fm.folded, b.Len()), append(fm.orig, i)
		b.WriteString(simplify(text[i : i+w]))
		i += w
	}
	fm.folded, fm.orig = append(fm.folded, b.Len()), append(fm.orig, len(text))
	fm.text = b.String()
	return fm
}

// runeBounds returns the byte offsets at which the runes of s start (an
// invalid byte counting as one rune, as range does) and len(s).
func runeBounds(s string) []int {
	out := make([]int, 0, len(s)+1)
	for i := range s {
		out = append(out, i)
	}
	return append(out, len(s))
}

// span maps the byte range [start, end) of the folded text to text, the
// original: the units it touches, whole. ok is false for an empty range.
func (fm *foldMap) span(text string, start, end int) (s span, ok bool) {
	if fm != nil {
		n := len(fm.folded) - 1
		i := sort.SearchInts(fm.folded, start+1) - 1 // the unit holding start
		j := sort.SearchInts(fm.folded, end)         // the first unit boundary at or after end
		start, end = fm.orig[min(max(i, 0), n)], fm.orig[min(j, n)]
	}
	// Keep the range inside text and on rune boundaries.
	start, end = min(max(start, 0), len(text)), min(max(end, 0), len(text))
	for start > 0 && start < len(text) && !utf8.RuneStart(text[start]) {
		start--
	}
	for end < len(text) && !utf8.RuneStart(text[end]) {
		end++
	}
	return span{start, end}, start < end
}

// escapeTo writes s to b with the characters HTML gives a meaning (< > &
// ' ") escaped, as html.EscapeString does.
func escapeTo(b *strings.Builder, s string) {
	for {
		i := strings.IndexAny(s, `<>&'"`)
		if i < 0 {
			b.WriteString(s)
			return
		}
		b.WriteString(s[:i])
		switch s[i] {
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		case '\'':
			b.WriteString("&#39;")
		default:
			b.WriteString("&#34;")
		}
		s = s[i+1:]
	}
}
