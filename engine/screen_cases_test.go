package engine_test

// Tests of the shipped screening rules (fixtures/data/screening_rules.json)
// through engine.Screener: the cases of engine/testdata/screen, table tests
// of the price and certificate rules, a fuzz test and a benchmark. They live
// in the external test package because the rules and the traditional →
// simplified table come from fixtures, which imports engine.

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/livematch/livematch/engine"
	"github.com/livematch/livematch/fixtures"
)

var screenNow = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

func shippedScreener(tb testing.TB) *engine.Screener {
	tb.Helper()
	g, err := fixtures.LoadGlossary()
	if err != nil {
		tb.Fatalf("LoadGlossary: %v", err)
	}
	s, err := fixtures.LoadScreener(g)
	if err != nil {
		tb.Fatalf("LoadScreener: %v", err)
	}
	return s
}

// screenCase is one line of a testdata/screen file.
type screenCase struct {
	line  int
	flag  bool   // + (the rule flags the field) or - (it flags nothing)
	field string // title_zh, title_en, description_zh, description_en, tags
	text  string
	match string // +: the flagged text, when given
}

func readScreenCases(tb testing.TB, path string) []screenCase {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var out []screenCase
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		sign, rest, _ := strings.Cut(line, " ")
		field, text, ok := strings.Cut(rest, ":")
		if (sign != "+" && sign != "-") || !ok {
			tb.Fatalf("%s:%d: want \"+ field: text [=> match]\" or \"- field: text\"", path, n)
		}
		c := screenCase{line: n, flag: sign == "+", field: strings.TrimSpace(field), text: strings.TrimSpace(text)}
		if t, m, ok := strings.Cut(c.text, " => "); ok {
			if !c.flag {
				tb.Fatalf("%s:%d: a negative case names no match", path, n)
			}
			c.text, c.match = strings.TrimSpace(t), strings.TrimSpace(m)
		}
		if !slices.Contains([]string{"title_zh", "title_en", "description_zh", "description_en", "tags"}, c.field) || c.text == "" {
			tb.Fatalf("%s:%d: unknown field %q or empty text", path, n, c.field)
		}
		out = append(out, c)
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}

func productWith(field, text string) *engine.Product {
	p := &engine.Product{}
	switch field {
	case "title_zh":
		p.TitleZh = text
	case "title_en":
		p.TitleEn = text
	case "description_zh":
		p.DescriptionZh = text
	case "description_en":
		p.DescriptionEn = text
	default:
		p.Tags = []string{text}
	}
	return p
}

// TestScreenCases runs the positive and negative cases of every text rule.
// Each text rule of the shipped file must have a case file with at least 8
// cases of each kind.
func TestScreenCases(t *testing.T) {
	s := shippedScreener(t)
	rules, err := fixtures.ScreeningRules()
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join("testdata", "screen", "*.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var textRules []string
	for _, r := range rules {
		if r.Check == engine.CheckTerms {
			textRules = append(textRules, r.Code)
		}
	}
	var covered []string
	for _, path := range files {
		code := strings.TrimSuffix(filepath.Base(path), ".txt")
		if !slices.Contains(textRules, code) {
			t.Errorf("%s: no text rule %q", path, code)
			continue
		}
		covered = append(covered, code)
		cases := readScreenCases(t, path)
		pos, neg := 0, 0
		for _, c := range cases {
			if c.flag {
				pos++
			} else {
				neg++
			}
			p := productWith(c.field, c.text)
			var got []engine.ReviewFlag
			for _, f := range s.Screen(p, screenNow) {
				if f.Code == code {
					got = append(got, f)
				}
			}
			wantField := c.field
			if wantField == "tags" {
				wantField = "tags[0]"
			}
			switch {
			case !c.flag && len(got) > 0:
				t.Errorf("%s:%d: %q flagged %v, want nothing", path, c.line, c.text, got)
			case c.flag && len(got) != 1:
				t.Errorf("%s:%d: %q gave %v, want one %s flag", path, c.line, c.text, got, code)
			case c.flag:
				f := got[0]
				if f.Field != wantField || f.Severity != engine.SeverityBlock {
					t.Errorf("%s:%d: %q flagged %s/%s, want %s/block", path, c.line, c.text, f.Field, f.Severity, wantField)
				}
				if text := fieldText(p, f.Field); f.Start < 0 || f.End > len(text) || f.Start >= f.End || text[f.Start:f.End] != f.Match {
					t.Errorf("%s:%d: span [%d:%d] does not hold %q in %q", path, c.line, f.Start, f.End, f.Match, text)
				}
				if c.match != "" && f.Match != c.match {
					t.Errorf("%s:%d: %q matched %q, want %q", path, c.line, c.text, f.Match, c.match)
				}
				if !strings.Contains(f.MessageZh, f.Match) || !strings.Contains(f.MessageEn, f.Match) || strings.Contains(f.MessageZh+f.MessageEn, "{") {
					t.Errorf("%s:%d: messages %q / %q do not quote %q", path, c.line, f.MessageZh, f.MessageEn, f.Match)
				}
			}
		}
		if pos < 8 || neg < 8 {
			t.Errorf("%s: %d positive and %d negative cases, want at least 8 of each", path, pos, neg)
		}
	}
	for _, code := range textRules {
		if !slices.Contains(covered, code) {
			t.Errorf("text rule %s has no testdata/screen/%s.txt", code, code)
		}
	}
}

// fieldText returns the text of a flagged text field ("tags[2]" included).
func fieldText(p *engine.Product, field string) string {
	switch field {
	case "title_zh":
		return p.TitleZh
	case "title_en":
		return p.TitleEn
	case "description_zh":
		return p.DescriptionZh
	case "description_en":
		return p.DescriptionEn
	}
	if rest, ok := strings.CutPrefix(field, "tags["); ok {
		if i, err := strconv.Atoi(strings.TrimSuffix(rest, "]")); err == nil && i >= 0 && i < len(p.Tags) {
			return p.Tags[i]
		}
	}
	return ""
}

// TestScreenPricesAndCerts covers the structural and certificate rules of
// the shipped file.
func TestScreenPricesAndCerts(t *testing.T) {
	s := shippedScreener(t)
	day := 24 * time.Hour
	cert := func(typ, number string, expires time.Time) engine.Certification {
		return engine.Certification{Type: typ, Number: number, ExpiresAt: expires}
	}
	cases := []struct {
		name string
		edit func(p *engine.Product)
		want []string // "code@field", in order
	}{
		{"clean", func(p *engine.Product) {}, nil},
		{"live price below list", func(p *engine.Product) { p.LivePriceCNY = 29.9 }, nil},
		{"live price equal to list", func(p *engine.Product) { p.LivePriceCNY = 39.90 }, nil},
		{"live price above list", func(p *engine.Product) { p.LivePriceCNY = 39.91 }, []string{"live_price_above_list@live_price_cny"}},
		{"no live price", func(p *engine.Product) { p.LivePriceCNY = 0 }, nil},
		{"commission 0.9 is allowed", func(p *engine.Product) { p.CommissionRate = 0.9 }, nil},
		{"commission above 0.9", func(p *engine.Product) { p.CommissionRate = 0.95 }, []string{"commission_too_high@commission_rate"}},
		{"commission 1", func(p *engine.Product) { p.CommissionRate = 1 }, []string{"commission_too_high@commission_rate"}},
		{"both prices", func(p *engine.Product) { p.CommissionRate = 0.91; p.LivePriceCNY = 50 },
			[]string{"live_price_above_list@live_price_cny", "commission_too_high@commission_rate"}},

		{"green food LB number", func(p *engine.Product) {
			p.Certifications = []engine.Certification{cert("green_food", "LB-15-1711196965A", time.Time{})}
		}, nil},
		{"green food LB, 11 digits, AA", func(p *engine.Product) {
			p.Certifications = []engine.Certification{cert("green_food", "LB-15-19012700330AA", time.Time{})}
		}, nil},
		{"green food full width and lower case", func(p *engine.Product) {
			p.Certifications = []engine.Certification{cert("green_food", " ｌｂ－１５－１７１１１９６９６５ａ ", time.Time{})}
		}, nil},
		{"green food GF code", func(p *engine.Product) {
			p.Certifications = []engine.Certification{cert("green_food", "GF420102150123", time.Time{})}
		}, nil},
		{"green food short number", func(p *engine.Product) {
			p.Certifications = []engine.Certification{cert("green_food", "LB-1", time.Time{})}
		},
			[]string{"cert_bad_number@certifications[0].number"}},
		{"green food without grade letter", func(p *engine.Product) {
			p.Certifications = []engine.Certification{cert("green_food", "LB-15-1711196965", time.Time{})}
		}, []string{"cert_bad_number@certifications[0].number"}},
		{"organic certificate", func(p *engine.Product) {
			p.Certifications = []engine.Certification{cert("organic", "227OP1900123", time.Time{})}
		}, nil},
		{"organic sub-certificate, 4-digit body", func(p *engine.Product) {
			p.Certifications = []engine.Certification{cert("organic", "0227OP2100045-1", time.Time{})}
		}, nil},
		{"organic foreign body", func(p *engine.Product) {
			p.Certifications = []engine.Certification{cert("organic", "F12OP2300001", time.Time{})}
		}, nil},
		{"organic code (17 digits)", func(p *engine.Product) {
			p.Certifications = []engine.Certification{cert("organic", "22721123456789012", time.Time{})}
		}, nil},
		{"organic made up", func(p *engine.Product) {
			p.Certifications = []engine.Certification{cert("organic", "ORG-2023-1", time.Time{})}
		},
			[]string{"cert_bad_number@certifications[0].number"}},
		{"GI registration", func(p *engine.Product) {
			p.Certifications = []engine.Certification{cert("geo_indication", "AGI01794", time.Time{})}
		}, nil},
		{"GI specification number", func(p *engine.Product) {
			p.Certifications = []engine.Certification{cert("geo_indication", "AGI2016-01-1794", time.Time{})}
		}, nil},
		{"GI wrong", func(p *engine.Product) {
			p.Certifications = []engine.Certification{cert("geo_indication", "GI-123", time.Time{})}
		},
			[]string{"cert_bad_number@certifications[0].number"}},
		{"pollution-free", func(p *engine.Product) {
			p.Certifications = []engine.Certification{cert("pollution_free", "WGH-36-01234", time.Time{})}
		}, nil},
		{"pollution-free wrong", func(p *engine.Product) {
			p.Certifications = []engine.Certification{cert("pollution_free", "12345", time.Time{})}
		},
			[]string{"cert_bad_number@certifications[0].number"}},
		{"other types are not format-checked", func(p *engine.Product) {
			p.Certifications = []engine.Certification{cert("haccp", "anything", time.Time{}), cert("sc_license", "", time.Time{})}
		}, nil},
		{"no number on 三品一标", func(p *engine.Product) {
			p.Certifications = []engine.Certification{cert("organic", "  ", time.Time{}), cert("geo_indication", "", time.Time{})}
		}, []string{"cert_no_number@certifications[0].number", "cert_no_number@certifications[1].number"}},
		{"expired", func(p *engine.Product) {
			p.Certifications = []engine.Certification{cert("green_food", "LB-15-1711196965A", screenNow.Add(-day))}
		}, []string{"cert_expired@certifications[0].expires_at"}},
		{"expires exactly now", func(p *engine.Product) {
			p.Certifications = []engine.Certification{cert("iso9001", "", screenNow)}
		}, []string{"cert_expired@certifications[0].expires_at"}},
		{"expires tomorrow", func(p *engine.Product) {
			p.Certifications = []engine.Certification{cert("green_food", "LB-15-1711196965A", screenNow.Add(day))}
		}, nil},
		{"blocks first, then warnings in rule order", func(p *engine.Product) {
			p.Certifications = []engine.Certification{cert("organic", "x", screenNow.Add(-day)), cert("green_food", "", time.Time{})}
			p.CommissionRate = 0.99
			p.TitleZh = "极品"
		}, []string{"ad_absolute@title_zh", "commission_too_high@commission_rate", "cert_no_number@certifications[1].number",
			"cert_bad_number@certifications[0].number", "cert_expired@certifications[0].expires_at"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := &engine.Product{TitleZh: "赣南脐橙 5kg", PriceCNY: 39.9, LivePriceCNY: 35, CommissionRate: 0.2}
			tc.edit(p)
			flags := s.Screen(p, screenNow)
			var got []string
			for _, f := range flags {
				got = append(got, f.Code+"@"+f.Field)
				if f.MessageZh == "" || f.MessageEn == "" || strings.Contains(f.MessageZh+f.MessageEn, "{") {
					t.Errorf("%s: messages %q / %q", f.Code, f.MessageZh, f.MessageEn)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("flags %v, want %v", got, tc.want)
			}
			if engine.Blocked(flags) != slices.ContainsFunc(flags, func(f engine.ReviewFlag) bool { return f.Severity == engine.SeverityBlock }) {
				t.Errorf("Blocked disagrees with the flags")
			}
		})
	}
}

// TestScreenMessages checks that placeholders are filled in both languages.
func TestScreenMessages(t *testing.T) {
	s := shippedScreener(t)
	p := &engine.Product{PriceCNY: 39.9, LivePriceCNY: 45, CommissionRate: 0.955, Certifications: []engine.Certification{
		{Type: "green_food", Number: "LB-1", ExpiresAt: time.Date(2026, 3, 31, 16, 0, 0, 0, time.UTC)},
	}}
	want := map[string][2]string{
		"live_price_above_list": {"直播价 45 元高于标价 39.9 元", "The live price (¥45) is above the list price (¥39.9)"},
		"commission_too_high":   {"佣金比例 95.5% 超过上限 90%", "The commission rate 95.5% is above the limit of 90%"},
		"cert_bad_number":       {"绿色食品证书编号“LB-1”不符合该类证书的编号格式", `The Green food certificate number "LB-1" does not fit the format of such certificates`},
		"cert_expired":          {"绿色食品证书已于 2026-04-01 过期", "The Green food certificate expired on 2026-04-01"},
	}
	flags := s.Screen(p, screenNow)
	if len(flags) != len(want) {
		t.Fatalf("flags %v, want %d", flags, len(want))
	}
	for _, f := range flags {
		if w := want[f.Code]; f.MessageZh != w[0] || f.MessageEn != w[1] {
			t.Errorf("%s: %q / %q, want %q / %q", f.Code, f.MessageZh, f.MessageEn, w[0], w[1])
		}
	}
}

// TestScreenDemoCatalogue screens a generated catalogue: its listings are
// written to be lawful, so no text or number rule may fire; only expired
// certificates (about one in twenty) are flagged.
func TestScreenDemoCatalogue(t *testing.T) {
	s := shippedScreener(t)
	regions, err := fixtures.LoadRegions(nil)
	if err != nil {
		t.Fatal(err)
	}
	cat := fixtures.Generate(7, 100, 3000, regions)
	expired := 0
	for i := range cat.Products {
		p := &cat.Products[i].Product
		for _, f := range s.Screen(p, fixtures.CertReference()) {
			if f.Code != "cert_expired" {
				t.Errorf("%s %q: %v", p.SKU, fieldText(p, f.Field), f)
				continue
			}
			expired++
		}
	}
	if expired == 0 {
		t.Error("no expired certificates flagged; the generator makes about 5%")
	}
}

// TestScreenConcurrent screens the same listings from several goroutines
// (run with -race): the answers equal those of one goroutine.
func TestScreenConcurrent(t *testing.T) {
	s := shippedScreener(t)
	var products []*engine.Product
	for _, path := range []string{"testdata/screen/ad_absolute.txt", "testdata/screen/medical_claim.txt"} {
		for _, c := range readScreenCases(t, path) {
			products = append(products, productWith(c.field, c.text))
		}
	}
	want := make([][]engine.ReviewFlag, len(products))
	for i, p := range products {
		want[i] = s.Screen(p, screenNow)
	}
	errs := make(chan string, 4)
	for range 4 {
		go func() {
			for i, p := range products {
				if got := s.Screen(p, screenNow); !slices.Equal(got, want[i]) {
					errs <- fmt.Sprintf("%q: %v, want %v", p.TitleZh+p.TitleEn+p.DescriptionZh+p.DescriptionEn, got, want[i])
					return
				}
			}
			errs <- ""
		}()
	}
	for range 4 {
		if e := <-errs; e != "" {
			t.Error(e)
		}
	}
}

var flagField = regexp.MustCompile(`^(title_zh|title_en|description_zh|description_en|live_price_cny|commission_rate|tags\[(\d+)\]|certifications\[(\d+)\]\.(number|expires_at))$`)

// FuzzScreen checks that Screen never panics, and that every flag names a
// known rule and a field the product has, with a span inside the text and
// at most one flag per rule and field.
func FuzzScreen(f *testing.F) {
	s := shippedScreener(f)
	for _, path := range []string{"testdata/screen/ad_absolute.txt", "testdata/screen/medical_claim.txt"} {
		for _, c := range readScreenCases(f, path) {
			f.Add(c.text, c.text, "LB-15-1711196965A", 39.9, 35.0, 0.2)
		}
	}
	f.Add("最\u200b好", "B\u0301EST", "", 1.0, 2.0, 0.95)
	f.Add("\xff最", "No.\xff1", "AGI", -1.0, 0.0, -0.5)
	codes := s.Codes()
	f.Fuzz(func(t *testing.T, zh, en, number string, price, live, rate float64) {
		p := &engine.Product{TitleZh: zh, TitleEn: en, DescriptionZh: en + zh, DescriptionEn: zh + en,
			Tags: []string{zh, en}, PriceCNY: price, LivePriceCNY: live, CommissionRate: rate,
			Certifications: []engine.Certification{{Type: "green_food", Number: number, ExpiresAt: screenNow.Add(time.Duration(live) * time.Hour)},
				{Type: "organic", Number: number}}}
		seen := map[string]bool{}
		for _, fl := range s.Screen(p, screenNow) {
			if !slices.Contains(codes, fl.Code) || !fl.Severity.Valid() {
				t.Fatalf("unknown rule or severity: %v", fl)
			}
			m := flagField.FindStringSubmatch(fl.Field)
			if m == nil {
				t.Fatalf("unknown field: %v", fl)
			}
			if m[2] != "" {
				if i, _ := strconv.Atoi(m[2]); i >= len(p.Tags) {
					t.Fatalf("no such tag: %v", fl)
				}
			}
			if m[3] != "" {
				if i, _ := strconv.Atoi(m[3]); i >= len(p.Certifications) {
					t.Fatalf("no such certificate: %v", fl)
				}
			}
			if fl.Match != "" {
				text := fieldText(p, fl.Field)
				if fl.Start < 0 || fl.End > len(text) || fl.Start >= fl.End || text[fl.Start:fl.End] != fl.Match {
					t.Fatalf("bad span: %v in %q", fl, text)
				}
			}
			key := fl.Code + "@" + fl.Field
			if seen[key] {
				t.Fatalf("two flags for %s", key)
			}
			seen[key] = true
		}
	})
}

// BenchmarkScreen screens a realistic listing with a traditional-character
// title, a long description, tags and certificates (one banned term).
func BenchmarkScreen(b *testing.B) {
	s := shippedScreener(b)
	p := &engine.Product{
		TitleZh:       "贛南臍橙 5kg 禮盒裝 現摘現發 特級果",
		TitleEn:       "Gannan navel oranges, 5 kg gift box, picked to order, grade extra",
		DescriptionZh: strings.Repeat("产自江西赣州兴国县，果园海拔三百米，昼夜温差大，果肉细嫩多汁，酸甜适中。最佳食用期7天，开封后最好冷藏。第一批果子今日开摘，", 6) + "全网最低价。",
		DescriptionEn: strings.Repeat("Grown in Xingguo County, Ganzhou, Jiangxi, on orchards 300 m up; juicy, sweet and slightly tart. Best before 14 days after picking; keep cool. ", 6),
		Tags:          []string{"助农", "礼盒", "gift box", "脐橙", "新鲜水果", "产地直发"},
		PriceCNY:      39.9, LivePriceCNY: 35, CommissionRate: 0.2,
		Certifications: []engine.Certification{
			{Type: "green_food", Number: "LB-15-1711196965A", ExpiresAt: screenNow.AddDate(1, 0, 0)},
			{Type: "geo_indication", Number: "AGI01794"},
		},
	}
	if flags := s.Screen(p, screenNow); len(flags) != 1 || flags[0].Code != "ad_absolute" || flags[0].Field != "description_zh" {
		b.Fatalf("flags %v, want one ad_absolute on description_zh", flags)
	}
	b.SetBytes(int64(len(p.TitleZh) + len(p.TitleEn) + len(p.DescriptionZh) + len(p.DescriptionEn)))
	b.ReportAllocs()
	for b.Loop() {
		s.Screen(p, screenNow)
	}
}
