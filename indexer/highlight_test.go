package indexer

import (
	"html"
	"strings"
	"testing"
)

// TestMarkText checks highlighting one text: offsets mapped back through
// foldings that change byte lengths or rune counts, merging, escaping,
// texts no term can be in, and which of a term's alternatives are marked.
func TestMarkText(t *testing.T) {
	x := mustOpen(t, testConfig(t, ""), defaultOptions())
	folds := map[string]func(string) string{
		"none": func(s string) string { return s },
		// 𠮷 (4 bytes) folds to 吉 (3 bytes): the same runes, fewer bytes.
		"shorter": strings.NewReplacer("𠮷", "吉", "臺", "台").Replace,
		// ㈱ folds to two runes: a folding rune by rune maps it back.
		"longer": strings.NewReplacer("㈱", "株式").Replace,
	}
	for _, tc := range []struct {
		name, fold, q, text string // fold "glossary": no folding, the test glossary
		want                string // "" when nothing is marked
	}{
		{"plain", "none", "茶", "安吉白茶", "安吉白<em>茶</em>"},
		{"bigrams merge into the word", "none", "猕猴桃", "红心猕猴桃 礼盒", "红心<em>猕猴桃</em> 礼盒"},
		{"a lone character of the query word is not marked", "none", "猕猴桃", "猕猴桃 水蜜桃", "<em>猕猴桃</em> 水蜜桃"},
		{"words apart by white space merge", "none", "navel orange", "Gannan navel  oranges", "Gannan <em>navel  oranges</em>"},
		{"words apart by punctuation do not", "none", "t-shirt", "Cotton T-shirt", "Cotton <em>T</em>-<em>shirt</em>"},
		{"full-width letters", "none", "kiwi", "Ｄｒｉｅｄ ＫＩＷＩ", "Ｄｒｉｅｄ <em>ＫＩＷＩ</em>"},
		{"escaped around and inside", "none", "script", `<script>alert("1")</script> & 'x'`,
			`&lt;<em>script</em>&gt;alert(&#34;1&#34;)&lt;/<em>script</em>&gt; &amp; &#39;x&#39;`},
		{"markup is never marked unless a word matches", "none", "茶", "<b>白茶</b>", "&lt;b&gt;白<em>茶</em>&lt;/b&gt;"},
		{"nothing to mark", "none", "茶", "<b>咖啡</b>", ""},
		{"a shorter folding maps bytes back by rune", "shorter", "吉祥", "𠮷祥如意 臺灣", "<em>𠮷祥</em>如意 臺灣"},
		{"after the shorter character", "shorter", "台湾", "𠮷祥 臺湾", "𠮷祥 <em>臺湾</em>"},
		{"a longer folding", "longer", "株式", "㈱会社 茶", "<em>㈱</em>会社 茶"},
		{"after the longer character", "longer", "茶", "㈱会社 茶", "㈱会社 <em>茶</em>"},
		{"invalid UTF-8 is left as it is", "none", "茶", "ab\xffcd 白茶", "ab\xffcd 白<em>茶</em>"},
		{"stems: a plural finds the singular", "none", "walnuts", "Organic walnut oil", "Organic <em>walnut</em> oil"},
		{"stems: dying → die", "none", "die", "dying plants", "<em>dying</em> plants"},
		{"stems: sensibility → sensibl", "none", "sensible", "for sensibility", "for <em>sensibility</em>"},
		{"a word inside another is not marked", "none", "tea", "steam teapot", ""},
		// With the glossary (kiwi: 猕猴桃, 奇异果, kiwifruit, kiwi fruit).
		{"glossary: the words typed are marked where they are found", "glossary", "kiwi", "kiwi fruit, kiwifruit", "<em>kiwi</em> fruit, kiwifruit"},
		{"glossary: else every expansion found", "glossary", "kiwi", "kiwifruit 猕猴桃, 桃", "<em>kiwifruit 猕猴桃</em>, 桃"},
		{"glossary: an expansion not all there is not marked", "glossary", "kiwi", "fruit 猕猴", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var g Glossary = noGlossary{}
			fold := folds[tc.fold]
			if tc.fold == "glossary" {
				g, fold = loadGlossary(t), folds["none"]
			}
			v := newVocab(x.analyzer, fold)
			h := newHighlighter(queryBuilder{analyzer: x.analyzer, gloss: g, fields: textFields[:]}.textPlan(tc.q, true))
			if h == nil {
				t.Fatalf("%q has no terms", tc.q)
			}
			for _, always := range []bool{false, true} {
				hh := *h
				hh.always = hh.always || always
				var b strings.Builder
				ok := v.markText(&b, newMarker(&hh), tc.text)
				if ok != (tc.want != "") || b.String() != tc.want {
					t.Errorf("always %v: %q → %v %q, want %q", always, tc.text, ok, b.String(), tc.want)
				}
			}
		})
	}
}

// TestHighlighterMayHold checks that the cheap test never skips a text that
// holds a term: English words whose stems are not prefixes of them, Han
// words, and the fixture's titles and descriptions against their own words.
func TestHighlighterMayHold(t *testing.T) {
	x := mustOpen(t, testConfig(t, ""), defaultOptions())
	words := []string{"dying", "lying", "tying", "skies", "hoping", "happily", "possibly", "sensibility",
		"relational", "generously", "organization", "hopping", "cries", "ugly", "early", "only", "gently",
		"singly", "idly", "news", "Farmer's", "T-shirts", "2.5kg", "oranges", "ＫＩＷＩ", "Ｗａｌｎｕｔｓ",
		"abilities", "conditional", "electricity", "hopefulness", "formality", "traditional", "goodness"}
	for _, p := range loadProducts(t) {
		for _, text := range []string{p.TitleZh, p.TitleEn, p.DescriptionZh, p.DescriptionEn} {
			words = append(words, strings.FieldsFunc(text, func(r rune) bool { return r == ' ' || r == ',' })...)
		}
	}
	for _, w := range append(words, genSentencesEn...) {
		plan := queryBuilder{analyzer: x.analyzer, gloss: noGlossary{}, fields: textFields[:]}.textPlan(w, true)
		h := newHighlighter(plan)
		if h == nil {
			continue // stop words only
		}
		for _, text := range []string{w, "Sold as " + w + ", fresh", "茶" + w + "。"} {
			folded := x.vocab.simplify(text)
			if !h.mayHold(folded) {
				t.Errorf("%q: the test skips %q", w, text)
			}
		}
	}
}

// TestQueryMarks checks which tokens of a query word highlighting marks:
// all but the single characters inside one of its bigrams.
func TestQueryMarks(t *testing.T) {
	x := mustOpen(t, testConfig(t, ""), defaultOptions())
	b := queryBuilder{analyzer: x.analyzer, gloss: noGlossary{}, fields: textFields[:]}
	for _, tc := range []struct{ text, toks, marks string }{
		{"猕猴桃", "猕 猕猴 猴 猴桃 桃", "猕猴 猴桃"},
		{"茶", "茶", "茶"},
		{"白茶abc", "白 白茶 茶 abc", "白茶 abc"},
		{"5斤装", "5 斤 斤装 装", "5 斤装"},
		{"t恤", "t 恤", "t 恤"},
		{"walnuts", "walnut", "walnut"},
		{"the of", "", ""},
	} {
		toks, marks := b.tokens(tc.text)
		if strings.Join(toks, " ") != tc.toks || strings.Join(marks, " ") != tc.marks {
			t.Errorf("%q: tokens %q marks %q, want %q and %q", tc.text, toks, marks, tc.toks, tc.marks)
		}
	}
}

// TestHighlightFastPath checks that finding Han tokens as substrings and
// analysing only the rest of a text marks exactly what analysing the whole
// text marks, on texts mixing scripts in awkward ways.
func TestHighlightFastPath(t *testing.T) {
	x := mustOpen(t, testConfig(t, ""), defaultOptions())
	g := loadGlossary(t)
	texts := []string{
		"猕猴桃 kiwi 奇异果kiwifruit", "カタカナ猕猴桃ひらがな茶", "猕\u200b猴桃", "猕\ufe00猴桃 茶\u0301",
		"ＫＩＷＩ５斤装 Ｔ恤", "\u212aiwi 茶", "🍵茶🍵tea☕", "茶茶茶 白茶白茶", "2.5kg猕猴桃 farmer's茶",
		"ab\xffcd 白茶 \xe8", "고구마 茶 tea", "walnuts核桃walnut", "green tea 绿茶绿 茶",
	}
	for _, p := range loadProducts(t) {
		texts = append(texts, p.TitleZh, p.TitleEn, p.DescriptionZh, p.DescriptionEn)
	}
	many := "猕猴桃 奇异果 核桃 脐橙 橙子 白茶 绿茶 乌龙茶 茶叶 大闸蟹 茶油 竹编 蜂蜜 walnut 农业 发展银行"
	for _, q := range []string{"茶", "猕猴桃", "kiwi", "kiwi 茶", "walnut 核桃", "绿茶", "t恤", "green tea", "5斤", many} {
		h := newHighlighter(queryBuilder{analyzer: x.analyzer, gloss: g, fields: textFields[:]}.textPlan(q, true))
		if h == nil || !h.fast {
			t.Fatalf("%q: no fast highlighter", q)
		}
		untested, full := *h, *h
		untested.untested, full.always = true, true
		for _, text := range texts {
			var slow strings.Builder
			okSlow := x.vocab.markText(&slow, newMarker(&full), text)
			for _, hh := range []*highlighter{h, &untested} {
				var fast strings.Builder
				okFast := x.vocab.markText(&fast, newMarker(hh), text)
				if okFast != okSlow || fast.String() != slow.String() {
					t.Errorf("%q in %q (untested %v): fast %v %q, analysed %v %q", q, text, hh.untested, okFast, fast.String(), okSlow, slow.String())
				}
			}
		}
	}
}

func TestEscapeTo(t *testing.T) {
	for _, s := range []string{"", "plain 白茶", `<script>alert("x")</script>`, "a&b'c\"d<e>f", "&&&", "<", "末尾>", "\xff<\xfe"} {
		var b strings.Builder
		escapeTo(&b, s)
		if want := html.EscapeString(s); b.String() != want {
			t.Errorf("%q → %q, want %q", s, b.String(), want)
		}
	}
}
