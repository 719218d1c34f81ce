package engine

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/coregx/ahocorasick"
	"golang.org/x/text/unicode/norm"
)

// Severity says what a flag does: block holds the product for review.
type Severity string

// Severities.
const (
	SeverityBlock Severity = "block"
	SeverityWarn  Severity = "warn"
)

// Valid reports whether s is a known severity.
func (s Severity) Valid() bool { return s == SeverityBlock || s == SeverityWarn }

// ScreenCheck names how a rule is checked: against text, or by a built-in
// check of the product's numbers or certificates.
type ScreenCheck string

// Checks. Placeholders each check's messages may use are listed beside it;
// {match} is the flagged text as written, {cert} the certificate type's name
// in the message's language, {number} the certificate number, {expires} its
// expiry date (China time, 2006-01-02), {price} and {live_price} the prices
// in yuan, {rate} and {limit} percentages ("95%").
const (
	CheckTerms              ScreenCheck = "terms"                 // Terms and Exceptions in Fields; {match}
	CheckLivePriceAboveList ScreenCheck = "live_price_above_list" // live_price_cny > price_cny; {price} {live_price}
	CheckCommissionAbove    ScreenCheck = "commission_above"      // commission_rate > Limit; {rate} {limit}
	CheckCertNumberMissing  ScreenCheck = "cert_number_missing"   // blank number; {cert}
	CheckCertNumberFormat   ScreenCheck = "cert_number_format"    // number fits no format; {cert} {number}
	CheckCertExpired        ScreenCheck = "cert_expired"          // expired; {cert} {expires}
)

// The text fields screened, in flag order. Tags are screened one by one and
// flagged as "tags[i]".
const (
	FieldTitleZh       = "title_zh"
	FieldTitleEn       = "title_en"
	FieldDescriptionZh = "description_zh"
	FieldDescriptionEn = "description_en"
	FieldTags          = "tags"
	AllTextFields      = "*" // in ScreenRule.Fields: every text field
	AllCertTypes       = "*" // in ScreenRule.CertTypes: every certification type
)

// textFields lists the screened text fields in flag order; never modified.
var textFields = [...]string{FieldTitleZh, FieldTitleEn, FieldDescriptionZh, FieldDescriptionEn, FieldTags}

// ScreenRule is one screening rule, as data. Code, Severity, Check and both
// messages are required; the other fields belong to particular checks.
type ScreenRule struct {
	Code     string // lower-case letters, digits and _, unique among the rules
	Severity Severity
	Check    ScreenCheck

	// CheckTerms: the text fields the rule applies to (FieldTitleZh … FieldTags,
	// or AllTextFields), the terms it flags and the longer phrases that contain a
	// term but are allowed.
	Fields     []string
	Terms      []string
	Exceptions []string

	// CheckCommissionAbove: the highest commission rate allowed, in (0, 1].
	Limit float64

	// Certificate checks: the certification types the rule looks at (codes of
	// CertTypes(), or AllCertTypes), and for CheckCertNumberFormat the formats
	// of each type's numbers (RE2, matched against the whole number).
	CertTypes   []string
	CertFormats map[string][]string

	// Messages shown to the owner and the reviewer, with placeholders (see
	// the Check constants).
	MessageZh string
	MessageEn string
}

// ReviewFlag is one screening finding: a rule that fired on a field.
type ReviewFlag struct {
	Code      string
	Severity  Severity
	Field     string // JSON path: "title_zh", "tags[2]", "live_price_cny", "certifications[0].number"
	MessageZh string
	MessageEn string
	// Text rules: the flagged text as written (the first match in the field
	// that no exception covers) and its byte range [Start, End) in the field's
	// text, for highlighting. Empty and 0, 0 for other rules.
	Match      string
	Start, End int
}

// Blocked reports whether any flag has severity block: the product must be
// held for review.
func Blocked(flags []ReviewFlag) bool {
	for _, f := range flags {
		if f.Severity == SeverityBlock {
			return true
		}
	}
	return false
}

// Screener checks products against a fixed set of screening rules (商品审核,
// automatic part). Every product write is checked against rules kept as data (fixtures/data/screening_rules.json), and the
// answer carries one ReviewFlag per rule and field that fired. A "block" flag
// holds the product for an admin's review; a "warn" flag is shown to the
// owner and the reviewer and holds nothing.
//
// Text rules. A text rule (CheckTerms) lists terms and exceptions. Every text field of a
// product is normalised once and matched once against the terms and
// exceptions of all text rules together, with one Aho–Corasick automaton
// (github.com/coregx/ahocorasick, overlapping matches). Normalisation makes
// the usual tricks fail:
//
//   - compatibility forms are decomposed (NFKD, rune by rune): full-width
//     "ＢＥＳＴ" and "１００％", circled "①", mathematical bold letters,
//     CJK compatibility ideographs and ligatures become their plain forms;
//     accents and other combining marks are dropped ("bést" is "best");
//   - a few Cyrillic and Greek look-alikes of Latin letters ("bеѕt" with
//     Cyrillic е and ѕ), 壹 and 〇 are folded to their plain forms;
//   - traditional characters are folded to simplified ones with the
//     simplify function the screener was built with (fixtures passes the
//     CC-CEDICT table the search index uses): 極品 is 极品, 最後 is 最后;
//   - letters are lower-cased ("No.1" and "NO.1" are one);
//   - white space, punctuation, symbols, emoji, control and format
//     characters (zero-width spaces) are removed, except %, ‰ and #:
//     "最 低 价", "最*低*价", "B E S T" and "No. 1" match 最低价, best and
//     No.1.
//
// Because separators are removed, a term with a letter or digit at an end
// (best, No.1, 100%) must meet a word boundary there: the text begins or
// ends, a separator was removed, or the neighbour is not a letter or digit
// (a Chinese character is not). So "best" and "B E S T" match, "bestow" and
// "Model No.12" do not. Chinese terms need no boundary.
//
// Exceptions win over the terms they contain: a term's match is dropped when
// a match of an exception of the same rule covers it (最近 covers 最;
// "best before" covers best). A longer term is not covered by a shorter
// exception (最先进 stays flagged although 最先 is an exception). Each
// exception must contain one of its rule's terms, so none is dead.
//
// What is not caught: homophones and pinyin (醉低价, zui低价), letters or
// digits inserted between the characters of a term (最x低价), and claims
// made in images. Review by a person stays the last line.
//
// Other rules. CheckLivePriceAboveList: live_price_cny above price_cny (compared in
// fen). CheckCommissionAbove: commission_rate above the rule's Limit.
// CheckCertNumberMissing, CheckCertNumberFormat and CheckCertExpired look
// at certificates of the rule's CertTypes: a blank number, a number that
// fits none of the type's formats (RE2 expressions, matched whole against
// the number written in upper case without spaces, full-width forms folded),
// an ExpiresAt at or before now.
//
// Decisions of the shipped rules (each with its reason in the rules file):
// 最 followed by anything is a superlative (最 alone is a term) and the
// ordinary words that contain it are exceptions: time and sequence (最近,
// 最后, 最初, 最终, 最新), quantities and specifications (最少起订, 最低起订,
// 最高温度), consumer tips (最佳食用期, 最好冷藏). So 最后一批 ("the last
// batch") is not flagged: it states a sequence, not an absolute claim, and
// whether it is true is a false-advertising question no word list can
// answer. "best before" (and best by, best if used by) is date marking and
// an exception to best; "best by far" is a term of its own so it stays
// flagged. Grade words of national and trade standards (特级, 一级, 一等品)
// contain no term and pass. 100% is a term, with stated composition
// (100%纯棉, "100% juice") as exceptions. "treat" counts only with a
// disease as its object (a sweet treat, heat-treated milk pass), and
// "cured" is not a term (cured ham).
//
// Build a Screener once with NewScreener; it is read-only and safe for
// concurrent use.
type Screener struct {
	rules    []screenRule
	ac       *ahocorasick.Automaton // nil without text rules
	pats     []pattern              // by automaton pattern ID
	simplify func(rune) rune
}

// screenRule is a compiled rule.
type screenRule struct {
	ScreenRule
	fields    uint8           // bit i: textFields[i]
	certTypes map[string]bool // nil: all
	formats   map[string][]*regexp.Regexp
}

// pattern is a normalised term or exception and the rules it belongs to.
type pattern struct {
	owners             []owner
	wordStart, wordEnd bool // must meet a word boundary at that end
}

type owner struct {
	rule      int32
	exception bool
}

// placeholders lists the message placeholders each check may use; never modified.
var placeholders = map[ScreenCheck][]string{
	CheckTerms:              {"match"},
	CheckLivePriceAboveList: {"price", "live_price"},
	CheckCommissionAbove:    {"rate", "limit"},
	CheckCertNumberMissing:  {"cert"},
	CheckCertNumberFormat:   {"cert", "number"},
	CheckCertExpired:        {"cert", "expires"},
}

// NewScreener compiles rules. simplify folds a traditional Chinese character
// to its simplified form (nil: no folding); it must return its argument for
// every other rune. The rules are checked whole: the error is an *Error of
// KindInvalid naming every offending rule field ("rules[1].exceptions[3]").
func NewScreener(rules []ScreenRule, simplify func(rune) rune) (*Screener, error) {
	const op = "engine.NewScreener"
	s := &Screener{simplify: simplify, rules: make([]screenRule, len(rules))}
	var pr Problems
	seen := map[string]bool{}
	byPattern := map[string]int{}
	var patterns []string
	var nt normText
	for i, r := range rules {
		f := indexed("rules", i)
		cr := screenRule{ScreenRule: r}
		switch {
		case !validCode(r.Code):
			pr.Add(f+".code", "must be 1 to 64 lower-case letters, digits or _")
		case seen[r.Code]:
			pr.Add(f+".code", "%q is used twice", r.Code)
		}
		seen[r.Code] = true
		if !r.Severity.Valid() {
			pr.Add(f+".severity", "must be block or warn")
		}
		allowed, ok := placeholders[r.Check]
		if !ok {
			pr.Add(f+".check", "unknown check %q", clip(string(r.Check)))
		}
		for _, m := range []struct{ field, text string }{{"message_zh", r.MessageZh}, {"message_en", r.MessageEn}} {
			if strings.TrimSpace(m.text) == "" {
				pr.Add(f+"."+m.field, "is required")
			}
			for _, ph := range placeholdersIn(m.text) {
				if ok && !slices.Contains(allowed, ph) {
					pr.Add(f+"."+m.field, "placeholder {%s} is not known to check %s", ph, r.Check)
				}
			}
		}
		if r.Check != CheckTerms && (len(r.Fields) > 0 || len(r.Terms) > 0 || len(r.Exceptions) > 0) {
			pr.Add(f+".terms", "only a terms rule has fields, terms and exceptions")
		}
		if r.Check != CheckCommissionAbove && r.Limit != 0 {
			pr.Add(f+".limit", "only a commission_above rule has a limit")
		}
		isCert := r.Check == CheckCertNumberMissing || r.Check == CheckCertNumberFormat || r.Check == CheckCertExpired
		if !isCert && len(r.CertTypes) > 0 {
			pr.Add(f+".cert_types", "only a certificate rule has certificate types")
		}
		if r.Check != CheckCertNumberFormat && len(r.CertFormats) > 0 {
			pr.Add(f+".cert_formats", "only a cert_number_format rule has formats")
		}
		switch r.Check {
		case CheckTerms:
			s.compileTerms(&pr, f, int32(i), &cr, &nt, byPattern, &patterns)
		case CheckCommissionAbove:
			if !(r.Limit > 0 && r.Limit <= 1) {
				pr.Add(f+".limit", "must be in (0, 1]")
			}
		case CheckCertNumberMissing, CheckCertNumberFormat, CheckCertExpired:
			compileCerts(&pr, f, &cr)
		}
		s.rules[i] = cr
	}
	if err := pr.Err(op); err != nil {
		return nil, err
	}
	if len(patterns) > 0 {
		ac, err := ahocorasick.NewBuilder().AddStrings(patterns).Build()
		if err != nil {
			return nil, Wrap(KindInternal, op, "cannot build the term matcher", err)
		}
		s.ac = ac
	}
	return s, nil
}

// compileTerms checks a terms rule and adds its terms and exceptions to the
// pattern list.
func (s *Screener) compileTerms(pr *Problems, f string, ri int32, cr *screenRule, nt *normText, byPattern map[string]int, patterns *[]string) {
	if len(cr.Fields) == 0 {
		pr.Add(f+".fields", "name at least one text field or *")
	}
	for j, name := range cr.Fields {
		if name == AllTextFields {
			cr.fields = 1<<len(textFields) - 1
			continue
		}
		k := slices.Index(textFields[:], name)
		if k < 0 {
			pr.Add(indexed(f+".fields", j), "unknown text field %q", clip(name))
			continue
		}
		cr.fields |= 1 << k
	}
	if len(cr.Terms) == 0 {
		pr.Add(f+".terms", "name at least one term")
	}
	terms := make([]string, 0, len(cr.Terms))
	for j, t := range cr.Terms {
		n := s.normalizeTerm(nt, t)
		if n == "" {
			pr.Add(indexed(f+".terms", j), "has no letters or digits after normalisation")
			continue
		}
		terms = append(terms, n)
		s.addPattern(byPattern, patterns, n, owner{ri, false})
	}
	for j, e := range cr.Exceptions {
		n := s.normalizeTerm(nt, e)
		switch {
		case n == "":
			pr.Add(indexed(f+".exceptions", j), "has no letters or digits after normalisation")
			continue
		case slices.Contains(terms, n):
			pr.Add(indexed(f+".exceptions", j), "%q is also a term", clip(e))
			continue
		case !slices.ContainsFunc(terms, func(t string) bool { return strings.Contains(n, t) }):
			pr.Add(indexed(f+".exceptions", j), "%q contains none of the rule's terms", clip(e))
			continue
		}
		s.addPattern(byPattern, patterns, n, owner{ri, true})
	}
}

func (s *Screener) addPattern(byPattern map[string]int, patterns *[]string, n string, o owner) {
	id, ok := byPattern[n]
	if !ok {
		id = len(*patterns)
		byPattern[n] = id
		*patterns = append(*patterns, n)
		first, _ := utf8.DecodeRuneInString(n)
		last, _ := utf8.DecodeLastRuneInString(n)
		s.pats = append(s.pats, pattern{wordStart: isWordRune(first), wordEnd: isWordRune(last)})
	}
	if !slices.Contains(s.pats[id].owners, o) {
		s.pats[id].owners = append(s.pats[id].owners, o)
	}
}

// compileCerts checks a certificate rule's types and compiles its formats.
func compileCerts(pr *Problems, f string, cr *screenRule) {
	if len(cr.CertTypes) == 0 {
		pr.Add(f+".cert_types", "name at least one certification type or *")
	}
	for j, t := range cr.CertTypes {
		if t == AllCertTypes {
			cr.certTypes = nil
			break
		}
		if _, ok := CertTypeByCode(t); !ok {
			pr.Add(indexed(f+".cert_types", j), "unknown certification type %q", clip(t))
			continue
		}
		if cr.certTypes == nil {
			cr.certTypes = map[string]bool{}
		}
		cr.certTypes[t] = true
	}
	if cr.Check != CheckCertNumberFormat {
		return
	}
	if len(cr.CertFormats) == 0 {
		pr.Add(f+".cert_formats", "name the formats of at least one certification type")
	}
	cr.formats = make(map[string][]*regexp.Regexp, len(cr.CertFormats))
	types := make([]string, 0, len(cr.CertFormats))
	for t := range cr.CertFormats {
		types = append(types, t)
	}
	slices.Sort(types) // problems in a stable order
	for _, t := range types {
		ff := f + ".cert_formats." + t
		if _, ok := CertTypeByCode(t); !ok {
			pr.Add(ff, "unknown certification type %q", clip(t))
			continue
		}
		if cr.certTypes != nil && !cr.certTypes[t] {
			pr.Add(ff, "type %s is not in cert_types", t)
		}
		if len(cr.CertFormats[t]) == 0 {
			pr.Add(ff, "name at least one format")
		}
		for j, expr := range cr.CertFormats[t] {
			re, err := regexp.Compile(`^(?:` + expr + `)$`)
			if err != nil {
				pr.Add(indexed(ff, j), "is not a valid regular expression: %v", err)
				continue
			}
			cr.formats[t] = append(cr.formats[t], re)
		}
	}
}

func validCode(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}

// placeholdersIn returns the names of the {placeholders} in a message.
func placeholdersIn(msg string) []string {
	var out []string
	for {
		i := strings.IndexByte(msg, '{')
		if i < 0 {
			return out
		}
		j := strings.IndexByte(msg[i:], '}')
		if j < 0 {
			return out
		}
		out = append(out, msg[i+1:i+j])
		msg = msg[i+j+1:]
	}
}

// Codes returns the rule codes in rule order.
func (s *Screener) Codes() []string {
	out := make([]string, len(s.rules))
	for i, r := range s.rules {
		out[i] = r.Code
	}
	return out
}

// Screen checks p as of now and returns its flags, at most one per rule and
// field, blocks first, then in rule order, then in field order (titles,
// descriptions, tags, prices, certificates). It never fails: a product
// without findings gets nil. p is not modified.
func (s *Screener) Screen(p *Product, now time.Time) []ReviewFlag {
	if p == nil {
		return nil
	}
	var c screenCall
	texts := [...]string{p.TitleZh, p.TitleEn, p.DescriptionZh, p.DescriptionEn}
	if s.ac != nil {
		for k, text := range texts {
			s.screenText(&c, k, textFields[k], k, text)
		}
		for i, tag := range p.Tags {
			s.screenText(&c, len(texts), indexed(FieldTags, i), fieldOrderTags+i, tag)
		}
	}
	for ri := range s.rules {
		r := &s.rules[ri]
		switch r.Check {
		case CheckLivePriceAboveList:
			live, list := fen(p.LivePriceCNY), fen(p.PriceCNY)
			if p.LivePriceCNY > 0 && live > list {
				kv := []string{"price", money(p.PriceCNY), "live_price", money(p.LivePriceCNY)}
				c.add(r, ri, "live_price_cny", fieldOrderPrices, "", 0, 0, kv, kv)
			}
		case CheckCommissionAbove:
			if p.CommissionRate > r.Limit {
				kv := []string{"rate", percent(p.CommissionRate), "limit", percent(r.Limit)}
				c.add(r, ri, "commission_rate", fieldOrderPrices+1, "", 0, 0, kv, kv)
			}
		case CheckCertNumberMissing, CheckCertNumberFormat, CheckCertExpired:
			s.screenCerts(&c, r, ri, p.Certifications, now)
		}
	}
	slices.SortStableFunc(c.flags, func(a, b keyedFlag) int {
		if a.sev != b.sev {
			return a.sev - b.sev
		}
		if a.rule != b.rule {
			return a.rule - b.rule
		}
		if a.field != b.field {
			return a.field - b.field
		}
		return a.Start - b.Start
	})
	if len(c.flags) == 0 {
		return nil
	}
	out := make([]ReviewFlag, len(c.flags))
	for i, f := range c.flags {
		out[i] = f.ReviewFlag
	}
	return out
}

// Field order keys: text fields 0..3, tags from fieldOrderTags, then prices
// and certificates.
const (
	fieldOrderTags   = 16
	fieldOrderPrices = 1 << 20
	fieldOrderCerts  = 1 << 21
)

// screenCall holds one Screen call's scratch space and results.
type screenCall struct {
	nt    normText
	hits  []ruleHit
	exc   []ruleHit
	best  []ruleHit // by rule: the match to flag; start -1: none
	flags []keyedFlag
}

type keyedFlag struct {
	ReviewFlag
	sev, rule, field int
}

type ruleHit struct {
	rule       int32
	start, end int32 // in the normalised text
}

// add records a flag, filling the rule's message placeholders from zh and
// en (name, value pairs for each language's message).
func (c *screenCall) add(r *screenRule, ri int, field string, order int, match string, start, end int, zh, en []string) {
	sev := 1
	if r.Severity == SeverityBlock {
		sev = 0
	}
	c.flags = append(c.flags, keyedFlag{ReviewFlag: ReviewFlag{
		Code: r.Code, Severity: r.Severity, Field: field,
		MessageZh: fill(r.MessageZh, zh), MessageEn: fill(r.MessageEn, en),
		Match: match, Start: start, End: end,
	}, sev: sev, rule: ri, field: order})
}

// fill replaces {name} in msg for each name, value pair of kv.
func fill(msg string, kv []string) string {
	if len(kv) == 0 || !strings.Contains(msg, "{") {
		return msg
	}
	pairs := make([]string, 0, len(kv))
	for i := 0; i+1 < len(kv); i += 2 {
		pairs = append(pairs, "{"+kv[i]+"}", kv[i+1])
	}
	return strings.NewReplacer(pairs...).Replace(msg)
}

// screenText matches one text field against the text rules.
func (s *Screener) screenText(c *screenCall, kind int, field string, order int, text string) {
	if text == "" {
		return
	}
	nt := &c.nt
	s.normalize(nt, text)
	if len(nt.b) == 0 {
		return
	}
	c.hits, c.exc = c.hits[:0], c.exc[:0]
	for _, m := range s.ac.FindAllOverlapping(nt.b) {
		pt := &s.pats[m.PatternID]
		if pt.wordStart && !nt.boundary(m.Start) || pt.wordEnd && !nt.boundary(m.End) {
			continue
		}
		for _, o := range pt.owners {
			if s.rules[o.rule].fields&(1<<kind) == 0 {
				continue
			}
			h := ruleHit{o.rule, int32(m.Start), int32(m.End)}
			if o.exception {
				c.exc = append(c.exc, h)
			} else {
				c.hits = append(c.hits, h)
			}
		}
	}
	if len(c.hits) == 0 {
		return
	}
	prepareCover(c.exc)
	// The first uncovered match of each rule: leftmost, then longest.
	if c.best == nil {
		c.best = make([]ruleHit, len(s.rules))
	}
	for i := range c.best {
		c.best[i] = ruleHit{start: -1}
	}
	for _, h := range c.hits {
		if covered(c.exc, h) {
			continue
		}
		if b := c.best[h.rule]; b.start < 0 || h.start < b.start || h.start == b.start && h.end > b.end {
			c.best[h.rule] = h
		}
	}
	for ri, h := range c.best {
		if h.start < 0 {
			continue
		}
		start, end := nt.origSpan(text, int(h.start), int(h.end))
		match := text[start:end]
		kv := []string{"match", match}
		c.add(&s.rules[ri], ri, field, order, match, start, end, kv, kv)
	}
}

// prepareCover sorts exception matches by rule and start and replaces each
// end by the furthest end of its rule's matches so far, for covered.
func prepareCover(exc []ruleHit) {
	slices.SortFunc(exc, func(a, b ruleHit) int {
		if a.rule != b.rule {
			return int(a.rule - b.rule)
		}
		if a.start != b.start {
			return int(a.start - b.start)
		}
		return int(a.end - b.end)
	})
	for i := 1; i < len(exc); i++ {
		if exc[i].rule == exc[i-1].rule && exc[i-1].end > exc[i].end {
			exc[i].end = exc[i-1].end
		}
	}
}

// covered reports whether an exception of h's rule covers h: whether one
// starts at or before h and ends at or after it. exc has been through
// prepareCover.
func covered(exc []ruleHit, h ruleHit) bool {
	// The last exception of h's rule starting at or before h.start.
	i, _ := slices.BinarySearchFunc(exc, h, func(e, t ruleHit) int {
		if e.rule != t.rule {
			return int(e.rule - t.rule)
		}
		if e.start <= t.start {
			return -1
		}
		return 1
	})
	i--
	return i >= 0 && exc[i].rule == h.rule && exc[i].start <= h.start && exc[i].end >= h.end
}

// screenCerts applies a certificate rule to every certificate of its types.
func (s *Screener) screenCerts(c *screenCall, r *screenRule, ri int, certs []Certification, now time.Time) {
	for i, cert := range certs {
		if r.certTypes != nil && !r.certTypes[cert.Type] {
			continue
		}
		nameZh, nameEn := cert.Type, cert.Type
		if ct, ok := CertTypeByCode(cert.Type); ok {
			nameZh, nameEn = ct.NameZh, ct.NameEn
		}
		number := strings.TrimSpace(cert.Number)
		f := indexed("certifications", i)
		var field string
		var kv []string
		switch r.Check {
		case CheckCertNumberMissing:
			if number != "" {
				continue
			}
			field = f + ".number"
		case CheckCertNumberFormat:
			formats, ok := r.formats[cert.Type]
			if number == "" || !ok || fitsAny(formats, certNumberKey(number)) {
				continue
			}
			field, kv = f+".number", []string{"number", number}
		case CheckCertExpired:
			if cert.ExpiresAt.IsZero() || cert.ValidAt(now) {
				continue
			}
			field, kv = f+".expires_at", []string{"expires", cert.ExpiresAt.In(cst).Format(dateLayout)}
		}
		order := fieldOrderCerts + 2*i
		if r.Check == CheckCertExpired {
			order++
		}
		c.add(r, ri, field, order, "", 0, 0, append([]string{"cert", nameZh}, kv...), append([]string{"cert", nameEn}, kv...))
	}
}

func fitsAny(formats []*regexp.Regexp, s string) bool {
	for _, re := range formats {
		if re.MatchString(s) {
			return true
		}
	}
	return false
}

// certNumberKey is the form certificate numbers are checked in: full-width
// and other compatibility forms folded (NFKC), dashes unified to "-", white
// space removed, upper case.
func certNumberKey(s string) string {
	s = norm.NFKC.String(s)
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case unicode.IsSpace(r):
			continue
		case r == '‐' || r == '‑' || r == '‒' || r == '–' || r == '—' || r == '―' || r == '−' || r == '－':
			r = '-'
		}
		b.WriteRune(unicode.ToUpper(r))
	}
	return b.String()
}

// fen converts yuan to whole fen, so that 9.9 and 9.90 compare equal.
func fen(yuan float64) int64 { return int64(math.Round(yuan * 100)) }

func money(yuan float64) string { return strconv.FormatFloat(float64(fen(yuan))/100, 'f', -1, 64) }

func percent(rate float64) string {
	return strconv.FormatFloat(math.Round(rate*10000)/100, 'f', -1, 64) + "%"
}

// normText is a normalised text and the way back to the original.
type normText struct {
	b   []byte  // normalised text
	src []int32 // src[i]: offset in the original of the rune that produced b[i]
	gap []bool  // gap[i]: a removed character lies just before b[i]; len(b)+1 entries
}

// normalizeTerm normalises a term or exception of the rules.
func (s *Screener) normalizeTerm(nt *normText, term string) string {
	s.normalize(nt, term)
	return string(nt.b)
}

// normalize fills nt with text normalised for matching (see the package
// comment on screening), rune by rune so that every normalised byte maps
// back to the original rune it came from.
func (s *Screener) normalize(nt *normText, text string) {
	nt.b, nt.src, nt.gap = nt.b[:0], nt.src[:0], nt.gap[:0]
	gap := false
	emit := func(r rune, at int) {
		r = s.fold(r)
		if removed(r) {
			gap = true
			return
		}
		n := len(nt.b)
		nt.b = utf8.AppendRune(nt.b, r)
		for j := n; j < len(nt.b); j++ {
			nt.src = append(nt.src, int32(at))
			nt.gap = append(nt.gap, gap && j == n)
		}
		gap = false
	}
	if n := len(text) + 1; cap(nt.b) < n {
		nt.b, nt.src, nt.gap = make([]byte, 0, n), make([]int32, 0, n), make([]bool, 0, n)
	}
	for i := 0; i < len(text); {
		r, w := utf8.DecodeRuneInString(text[i:])
		if r < utf8.RuneSelf {
			emit(r, i)
			i += w
			continue
		}
		if r >= 0x4E00 && r <= 0x9FFF && r != '壹' && r != '弌' {
			// CJK unified ideographs: no decomposition, no case, never
			// removed; only traditional forms fold.
			if s.simplify != nil {
				r = s.simplify(r)
			}
			n := len(nt.b)
			nt.b = utf8.AppendRune(nt.b, r)
			for j := n; j < len(nt.b); j++ {
				nt.src = append(nt.src, int32(i))
				nt.gap = append(nt.gap, gap && j == n)
			}
			gap = false
			i += w
			continue
		}
		var d []byte
		if r != utf8.RuneError {
			d = norm.NFKD.PropertiesString(text[i:]).Decomposition()
		}
		if d == nil {
			emit(r, i)
		} else {
			for _, c := range string(d) {
				emit(c, i)
			}
		}
		i += w
	}
	nt.gap = append(nt.gap, gap)
}

// fold lower-cases r, folds look-alikes and traditional characters.
func (s *Screener) fold(r rune) rune {
	switch {
	case r >= 'A' && r <= 'Z':
		return r + 'a' - 'A'
	case r < utf8.RuneSelf:
		return r
	case r >= 0x3400 && s.simplify != nil:
		r = s.simplify(r)
	}
	r = unicode.ToLower(r)
	if l, ok := lookalike(r); ok {
		return l
	}
	return r
}

// lookalike folds the Cyrillic and Greek letters most used to disguise
// Latin ones, and the formal or circled forms of one and zero.
func lookalike(r rune) (rune, bool) {
	switch r {
	case 'а', 'α':
		return 'a', true
	case 'е', 'ε':
		return 'e', true
	case 'о', 'ο':
		return 'o', true
	case 'р', 'ρ':
		return 'p', true
	case 'с', 'ϲ':
		return 'c', true
	case 'у', 'γ':
		return 'y', true
	case 'х', 'χ':
		return 'x', true
	case 'ѕ':
		return 's', true
	case 'і', 'ι':
		return 'i', true
	case 'ј':
		return 'j', true
	case 'ԁ':
		return 'd', true
	case 'ӏ':
		return 'l', true
	case 'ν':
		return 'v', true
	case 'κ':
		return 'k', true
	case 'τ':
		return 't', true
	case 'υ':
		return 'u', true
	case 'ь':
		return 'b', true
	case 'ո':
		return 'n', true
	case '壹', '弌':
		return '一', true
	case '〇':
		return '0', true
	}
	return 0, false
}

// removed reports whether r is dropped before matching: white space,
// punctuation, symbols, marks, control, format and private-use characters,
// except %, ‰ and #, which terms use.
func removed(r rune) bool {
	if r < utf8.RuneSelf {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' || r == '%' || r == '#')
	}
	if r == '‰' {
		return false
	}
	if unicode.IsLetter(r) || unicode.IsDigit(r) {
		return false
	}
	return r == utf8.RuneError || unicode.IsSpace(r) ||
		unicode.In(r, unicode.P, unicode.S, unicode.Mn, unicode.Me, unicode.Cf, unicode.Cc, unicode.Co)
}

// isWordRune reports whether r is a letter or digit of an alphabetic script:
// terms ending in one must meet a word boundary. Chinese, Japanese and
// Korean characters are not.
func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r >= 'A' && r <= 'Z'
	}
	return (unicode.IsLetter(r) || unicode.IsDigit(r)) &&
		!unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul)
}

// boundary reports whether a word boundary lies at offset p of the
// normalised text.
func (nt *normText) boundary(p int) bool {
	if p <= 0 || p >= len(nt.b) || nt.gap[p] {
		return true
	}
	prev, _ := utf8.DecodeLastRune(nt.b[:p])
	next, _ := utf8.DecodeRune(nt.b[p:])
	return !isWordRune(prev) || !isWordRune(next)
}

// origSpan maps [start, end) of the normalised text to the original text:
// from the start of the first rune to the end of the last rune involved.
func (nt *normText) origSpan(text string, start, end int) (int, int) {
	s := int(nt.src[start])
	e := int(nt.src[end-1])
	_, w := utf8.DecodeRuneInString(text[e:])
	return s, e + w
}

// String implements fmt.Stringer for debugging output in tests.
func (f ReviewFlag) String() string {
	if f.Match != "" {
		return fmt.Sprintf("%s/%s@%s[%d:%d]%q", f.Code, f.Severity, f.Field, f.Start, f.End, f.Match)
	}
	return fmt.Sprintf("%s/%s@%s", f.Code, f.Severity, f.Field)
}
