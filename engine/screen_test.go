package engine

import (
	"slices"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// testSimplify folds the few traditional characters the tests use.
func testSimplify(r rune) rune {
	switch r {
	case '後':
		return '后'
	case '極':
		return '极'
	case '療':
		return '疗'
	}
	return r
}

func termRule(code string, terms, exceptions []string) ScreenRule {
	return ScreenRule{Code: code, Severity: SeverityBlock, Check: CheckTerms, Fields: []string{AllTextFields},
		Terms: terms, Exceptions: exceptions, MessageZh: "“{match}”", MessageEn: "{match}"}
}

func mustScreener(tb testing.TB, rules ...ScreenRule) *Screener {
	tb.Helper()
	s, err := NewScreener(rules, testSimplify)
	if err != nil {
		tb.Fatalf("NewScreener: %v", err)
	}
	return s
}

func TestNewScreenerInvalid(t *testing.T) {
	ok := termRule("ok", []string{"最"}, []string{"最近"})
	cases := []struct {
		name   string
		rules  []ScreenRule
		fields string // the problem fields, comma-separated
	}{
		{"valid", []ScreenRule{ok}, ""},
		{"no rules is valid", nil, ""},
		{"bad code", []ScreenRule{termRule("Bad-Code", []string{"x"}, nil)}, "rules[0].code"},
		{"duplicate code", []ScreenRule{ok, ok}, "rules[1].code"},
		{"bad severity", []ScreenRule{{Code: "a", Severity: "stop", Check: CheckCommissionAbove, Limit: 0.9, MessageZh: "x", MessageEn: "x"}}, "rules[0].severity"},
		{"unknown check", []ScreenRule{{Code: "a", Severity: SeverityWarn, Check: "magic", MessageZh: "x", MessageEn: "x"}}, "rules[0].check"},
		{"missing messages", []ScreenRule{{Code: "a", Severity: SeverityWarn, Check: CheckLivePriceAboveList}}, "rules[0].message_zh,rules[0].message_en"},
		{"unknown placeholder", []ScreenRule{{Code: "a", Severity: SeverityWarn, Check: CheckLivePriceAboveList, MessageZh: "{match}", MessageEn: "{price}"}}, "rules[0].message_zh"},
		{"unknown field", []ScreenRule{{Code: "a", Severity: SeverityBlock, Check: CheckTerms, Fields: []string{"sku"}, Terms: []string{"x"}, MessageZh: "x", MessageEn: "x"}}, "rules[0].fields[0]"},
		{"no fields, no terms", []ScreenRule{{Code: "a", Severity: SeverityBlock, Check: CheckTerms, MessageZh: "x", MessageEn: "x"}}, "rules[0].fields,rules[0].terms"},
		{"term of punctuation only", []ScreenRule{termRule("a", []string{"x", "!!"}, nil)}, "rules[0].terms[1]"},
		{"exception equal to a term", []ScreenRule{termRule("a", []string{"No.1"}, []string{"no 1"})}, "rules[0].exceptions[0]"},
		{"dead exception", []ScreenRule{termRule("a", []string{"最"}, []string{"特级"})}, "rules[0].exceptions[0]"},
		{"terms on a price rule", []ScreenRule{{Code: "a", Severity: SeverityBlock, Check: CheckLivePriceAboveList, Terms: []string{"x"}, MessageZh: "x", MessageEn: "x"}}, "rules[0].terms"},
		{"limit out of range", []ScreenRule{{Code: "a", Severity: SeverityBlock, Check: CheckCommissionAbove, Limit: 1.5, MessageZh: "x", MessageEn: "x"}}, "rules[0].limit"},
		{"limit on another check", []ScreenRule{{Code: "a", Severity: SeverityBlock, Check: CheckLivePriceAboveList, Limit: 0.5, MessageZh: "x", MessageEn: "x"}}, "rules[0].limit"},
		{"no cert types", []ScreenRule{{Code: "a", Severity: SeverityWarn, Check: CheckCertExpired, MessageZh: "x", MessageEn: "x"}}, "rules[0].cert_types"},
		{"unknown cert type", []ScreenRule{{Code: "a", Severity: SeverityWarn, Check: CheckCertExpired, CertTypes: []string{"gold"}, MessageZh: "x", MessageEn: "x"}}, "rules[0].cert_types[0]"},
		{"bad format", []ScreenRule{{Code: "a", Severity: SeverityWarn, Check: CheckCertNumberFormat, CertTypes: []string{"organic"},
			CertFormats: map[string][]string{"organic": {"(unclosed"}}, MessageZh: "x", MessageEn: "x"}}, "rules[0].cert_formats.organic[0]"},
		{"format for a type not checked", []ScreenRule{{Code: "a", Severity: SeverityWarn, Check: CheckCertNumberFormat, CertTypes: []string{"organic"},
			CertFormats: map[string][]string{"organic": {`\d+`}, "green_food": {`LB.*`}}, MessageZh: "x", MessageEn: "x"}}, "rules[0].cert_formats.green_food"},
		{"formats on another check", []ScreenRule{{Code: "a", Severity: SeverityWarn, Check: CheckCertExpired, CertTypes: []string{"*"},
			CertFormats: map[string][]string{"organic": {`\d+`}}, MessageZh: "x", MessageEn: "x"}}, "rules[0].cert_formats"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := NewScreener(tc.rules, nil)
			if got := strings.Join(fieldNames(err), ","); got != tc.fields {
				t.Fatalf("fields %q, want %q (%v)", got, tc.fields, err)
			}
			if tc.fields != "" && (!IsKind(err, KindInvalid) || s != nil) {
				t.Fatalf("kind %v, screener %v", KindOf(err), s)
			}
			if tc.fields == "" && len(s.Codes()) != len(tc.rules) {
				t.Fatalf("codes %v", s.Codes())
			}
		})
	}
}

func TestScreenNormalize(t *testing.T) {
	s := mustScreener(t)
	cases := []struct{ in, want string }{
		{"最 低 价", "最低价"},
		{"最\u200b低\ufe0f价", "最低价"}, // zero-width space, variation selector
		{"ＢＥＳＴ　１００％", "best100%"},  // full width, ideographic space
		{"𝐁𝐞𝐬𝐭 bést", "bestbest"},  // mathematical bold, combining accent
		{"bеѕt", "best"},           // Cyrillic е and ѕ
		{"最後 極品 治療", "最后极品治疗"},     // traditional, with the test table
		{"No. 1!", "no1"},          // punctuation
		{"#1 ‰ %", "#1‰%"},         // kept symbols
		{"第壹 １〇〇％", "第一100%"},      // formal one, circled zero
		{"㎏ ﬁ ①", "kgfi1"},         // compatibility forms
		{"a\xffb", "ab"},           // invalid UTF-8 is removed
		{"", ""},
	}
	var nt normText
	for _, tc := range cases {
		s.normalize(&nt, tc.in)
		if got := string(nt.b); got != tc.want {
			t.Errorf("normalize(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if len(nt.src) != len(nt.b) || len(nt.gap) != len(nt.b)+1 {
			t.Errorf("normalize(%q): %d bytes, %d offsets, %d gaps", tc.in, len(nt.b), len(nt.src), len(nt.gap))
		}
	}
}

func TestScreenBoundaries(t *testing.T) {
	s := mustScreener(t, termRule("abs", []string{"best", "No.1", "100%", "最"}, []string{"best before", "最近"}))
	cases := []struct {
		text, match string // match "": no flag
	}{
		{"the best", "best"},
		{"bestow", ""},
		{"Bestway", ""},
		{"B-E-S-T", "B-E-S-T"},
		{"全网best价", "best"},
		{"best4you", ""}, // a digit continues the word
		{"No.12", ""},
		{"No.1!", "No.1"},
		{"casino 1", ""}, // "no1" inside a word
		{"1100%", ""},
		{"含量100%", "100%"},
		{"100%pure", "100%"},
		{"best before", ""},
		{"best before, best", "best"}, // the second is not covered
		{"最近", ""},
		{"最近最", "最"},
	}
	for _, tc := range cases {
		flags := s.Screen(&Product{TitleEn: tc.text}, time.Time{})
		switch {
		case tc.match == "" && flags != nil:
			t.Errorf("%q: flags %v, want none", tc.text, flags)
		case tc.match != "" && (len(flags) != 1 || flags[0].Match != tc.match):
			t.Errorf("%q: flags %v, want %q", tc.text, flags, tc.match)
		}
	}
}

func TestScreenSpans(t *testing.T) {
	s := mustScreener(t, termRule("abs", []string{"最低价", "best"}, nil),
		ScreenRule{Code: "med", Severity: SeverityWarn, Check: CheckTerms, Fields: []string{FieldDescriptionZh, FieldTags},
			Terms: []string{"治疗"}, MessageZh: "“{match}”", MessageEn: "{match}"})
	p := &Product{
		TitleZh:       "今日 最\u200b低 价！最低价",
		TitleEn:       "ＢＥＳＴ",
		DescriptionZh: "可治療", // traditional: folded by testSimplify, reported as written
		Tags:          []string{"ok", "治疗", "best"},
		DescriptionEn: "治疗", // med does not apply to description_en
	}
	want := []ReviewFlag{
		{Code: "abs", Severity: SeverityBlock, Field: "title_zh", Match: "最\u200b低 价", Start: 7, End: 20},
		{Code: "abs", Severity: SeverityBlock, Field: "title_en", Match: "ＢＥＳＴ", Start: 0, End: 12},
		{Code: "abs", Severity: SeverityBlock, Field: "tags[2]", Match: "best", Start: 0, End: 4},
		{Code: "med", Severity: SeverityWarn, Field: "description_zh", Match: "治療", Start: 3, End: 9},
		{Code: "med", Severity: SeverityWarn, Field: "tags[1]", Match: "治疗", Start: 0, End: 6},
	}
	got := s.Screen(p, time.Time{})
	if len(got) != len(want) {
		t.Fatalf("flags %v, want %v", got, want)
	}
	for i := range want {
		w := want[i]
		w.MessageZh, w.MessageEn = "“"+w.Match+"”", w.Match
		if got[i] != w {
			t.Errorf("flag %d = %+v, want %+v", i, got[i], w)
		}
	}
	if s.Screen(nil, time.Time{}) != nil || s.Screen(&Product{}, time.Time{}) != nil {
		t.Error("nil or empty product flagged")
	}
}

// TestScreenMatchesNaive checks the automaton, boundaries and exception
// cover against a direct search of the normalised text, on random texts
// over a small alphabet.
func TestScreenMatchesNaive(t *testing.T) {
	terms := []string{"最", "最好", "好", "best", "be", "st", "1", "b1"}
	exceptions := []string{"最好吃", "最近", "best be", "好st", "1b1"}
	rapid.Check(t, func(t *rapid.T) {
		rule := termRule("r", rapid.SliceOfNDistinct(rapid.SampledFrom(terms), 1, -1, rapid.ID[string]).Draw(t, "terms"), nil)
		for _, e := range rapid.SliceOfNDistinct(rapid.SampledFrom(exceptions), 0, -1, rapid.ID[string]).Draw(t, "exceptions") {
			if slices.ContainsFunc(rule.Terms, func(term string) bool { return strings.Contains(strings.ReplaceAll(e, " ", ""), term) }) &&
				!slices.Contains(rule.Terms, strings.ReplaceAll(e, " ", "")) {
				rule.Exceptions = append(rule.Exceptions, e)
			}
		}
		s, err := NewScreener([]ScreenRule{rule}, nil)
		if err != nil {
			t.Fatalf("NewScreener: %v", err)
		}
		parts := rapid.SliceOfN(rapid.SampledFrom([]string{"最", "好", "近", "吃", "最好", "好st", "1b1", "best", "be", "st", "b1", "b", "e", "s", "t", "1", " ", "-", "X"}), 0, 12).Draw(t, "text")
		text := strings.Join(parts, "")
		var got string
		if flags := s.Screen(&Product{TitleEn: text}, time.Time{}); len(flags) == 1 {
			got = flags[0].Match
		} else if len(flags) > 1 {
			t.Fatalf("flags %v", flags)
		}
		if want := naiveScreenMatch(s, rule, text); got != want {
			t.Fatalf("text %q rule %v/%v: got %q, want %q", text, rule.Terms, rule.Exceptions, got, want)
		}
	})
}

// TestScreenCover checks prepareCover and covered against a direct search,
// on random matches of three rules.
func TestScreenCover(t *testing.T) {
	hit := rapid.Custom(func(t *rapid.T) ruleHit {
		start := rapid.Int32Range(0, 20).Draw(t, "start")
		return ruleHit{rule: rapid.Int32Range(0, 2).Draw(t, "rule"), start: start, end: start + rapid.Int32Range(1, 6).Draw(t, "len")}
	})
	rapid.Check(t, func(t *rapid.T) {
		exc := rapid.SliceOfN(hit, 0, 12).Draw(t, "exceptions")
		h := hit.Draw(t, "term")
		want := slices.ContainsFunc(exc, func(e ruleHit) bool { return e.rule == h.rule && e.start <= h.start && e.end >= h.end })
		prepared := slices.Clone(exc)
		prepareCover(prepared)
		if got := covered(prepared, h); got != want {
			t.Fatalf("covered(%v, %v) = %v, want %v", exc, h, got, want)
		}
	})
}

// naiveScreenMatch finds the flagged text of a single terms rule by brute force.
func naiveScreenMatch(s *Screener, rule ScreenRule, text string) string {
	var nt normText
	s.normalize(&nt, text)
	norm := string(nt.b)
	type hit struct{ start, end int }
	find := func(phrases []string) []hit {
		var out []hit
		for _, ph := range phrases {
			var pn normText
			s.normalize(&pn, ph)
			p := string(pn.b)
			first, last := []rune(p)[0], []rune(p)[len([]rune(p))-1]
			for i := 0; i+len(p) <= len(norm); i++ {
				if norm[i:i+len(p)] != p {
					continue
				}
				if isWordRune(first) && !nt.boundary(i) || isWordRune(last) && !nt.boundary(i+len(p)) {
					continue
				}
				out = append(out, hit{i, i + len(p)})
			}
		}
		return out
	}
	exc := find(rule.Exceptions)
	best := hit{-1, -1}
	for _, h := range find(rule.Terms) {
		if slices.ContainsFunc(exc, func(e hit) bool { return e.start <= h.start && e.end >= h.end }) {
			continue
		}
		if best.start < 0 || h.start < best.start || h.start == best.start && h.end > best.end {
			best = h
		}
	}
	if best.start < 0 {
		return ""
	}
	start, end := nt.origSpan(text, best.start, best.end)
	return text[start:end]
}
