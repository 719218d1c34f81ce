package indexer

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/width"
)

// Caps on the text part of a query, so that hostile input cannot explode the
// number of clauses: at most maxQueryRunes of q are read, at most maxTerms
// terms are kept, each with at most maxExpansions synonyms, and each
// alternative contributes at most maxTokens tokens.
const (
	maxQueryRunes = 256
	maxTerms      = 16
	maxExpansions = 12
	maxTokens     = 32
	maxPhrase     = 3
)

// Boosts of a term's alternatives: the words the user typed rank above their
// glossary expansions.
const (
	boostOriginal  = 4.0
	boostExpansion = 1.0
	boostPiece     = 0.5 // a two-character piece of a longer Chinese phrase (matching only)
)

// term is one conjunct of a text query: the words as typed (normalised) and
// its glossary expansions.
type term struct {
	text       string
	expansions []string
}

// normalizeQuery makes q valid UTF-8, cuts it to maxQueryRunes, folds full
// width forms and traditional characters, and lowercases it.
func normalizeQuery(q string, simplify func(string) string) string {
	q = strings.ToValidUTF8(q, " ")
	if utf8.RuneCountInString(q) > maxQueryRunes {
		q = string([]rune(q)[:maxQueryRunes])
	}
	q = width.Fold.String(q)
	q = simplify(q)
	return strings.ToLower(q)
}

// splitWords splits q into words: runs of letters, digits and marks, where
// an apostrophe, hyphen, period or underscore between two such runes (not
// Han) stays inside the word (farmer's, t-shirt, 2.5).
func splitWords(q string) []string {
	rs := []rune(q)
	var words []string
	start := -1
	for i, r := range rs {
		switch {
		case isWordRune(r):
			if start < 0 {
				start = i
			}
		case isJoiner(r) && start >= 0 && i+1 < len(rs) && isWordRune(rs[i+1]) &&
			!isHan(rs[i-1]) && !isHan(rs[i+1]):
			// stays inside the word
		default:
			if start >= 0 {
				words = append(words, string(rs[start:i]))
				start = -1
			}
		}
	}
	if start >= 0 {
		words = append(words, string(rs[start:]))
	}
	return words
}

// splitScripts splits a word where it changes between Han and other
// scripts (kiwi猕猴桃 → kiwi, 猕猴桃). It returns nil if the word has one script.
func splitScripts(w string) []string {
	var parts []string
	start := 0
	prev := -1 // -1 unknown, 0 other, 1 Han
	for i, r := range w {
		h := 0
		if isHan(r) {
			h = 1
		}
		if isWordRune(r) {
			if prev >= 0 && h != prev {
				parts = append(parts, w[start:i])
				start = i
			}
			prev = h
		}
	}
	if len(parts) == 0 {
		return nil
	}
	return append(parts, w[start:])
}

func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.IsMark(r)
}

func isJoiner(r rune) bool {
	return r == '\'' || r == '’' || r == '-' || r == '.' || r == '_'
}

func isHan(r rune) bool { return unicode.Is(unicode.Han, r) }

// parseTerms turns the normalised query into at most maxTerms distinct
// terms: a word mixing Han and other scripts is split unless the glossary
// knows it (T恤), leading words that form a glossary phrase are grouped
// (navel orange), and each term carries up to maxExpansions glossary synonyms.
func parseTerms(q string, g Glossary) []term {
	var words []string
	for _, w := range splitWords(q) {
		if len(words) >= maxTerms*maxPhrase {
			break
		}
		if parts := splitScripts(w); parts != nil && len(g.Expand(w)) == 0 {
			words = append(words, parts...)
		} else {
			words = append(words, w)
		}
	}
	var terms []term
	seen := map[string]bool{}
	for i := 0; i < len(words) && len(terms) < maxTerms; {
		n := 1
		if w := words[i:min(len(words), i+maxPhrase)]; len(w) > 1 {
			n = min(max(g.LongestPhrase(w), 1), len(w))
		}
		text := strings.Join(words[i:i+n], " ")
		i += n
		if seen[text] {
			continue
		}
		seen[text] = true
		t := term{text: text}
		have := map[string]bool{text: true}
		for _, e := range g.Expand(text) {
			if len(t.expansions) == maxExpansions {
				break
			}
			e = strings.ToLower(strings.TrimSpace(g.Simplify(e)))
			if e == "" || have[e] {
				continue
			}
			have[e] = true
			t.expansions = append(t.expansions, e)
		}
		terms = append(terms, t)
	}
	return terms
}
