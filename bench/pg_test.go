package main

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/livematch/livematch/engine"
)

// pgTestCerts returns the certificate type codes and the 三品一标 ones.
func pgTestCerts() (codes, spyb []string) {
	for _, t := range engine.CertTypes() {
		codes = append(codes, t.Code)
		if t.SanPinYiBiao {
			spyb = append(spyb, t.Code)
		}
	}
	return codes, spyb
}

// TestPGTokens checks the tokeniser: Han unigrams and bigrams, lower-cased words, separators.
func TestPGTokens(t *testing.T) {
	long := strings.Repeat("x", pgMaxLexeme+1)
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"empty", "", []string{}},
		{"one Han character", "茶", []string{"茶"}},
		{"Han run: unigrams and bigrams", "猕猴桃", []string{"猕", "猴", "猕猴", "桃", "猴桃"}},
		{"two Han runs", "绿茶 红茶", []string{"绿", "茶", "绿茶", "红", "茶", "红茶"}},
		{"English lower-cased", "Kiwi FRUIT", []string{"kiwi", "fruit"}},
		{"letters and digits stay together", "Ipad2 5kg", []string{"ipad2", "5kg"}},
		{"punctuation separates", "Red-heart, kiwi!2.5", []string{"red", "heart", "kiwi", "2", "5"}},
		{"only punctuation", "!!! ,.; '\\ :&|", []string{}},
		{"mixed Han and Latin without spaces", "赣南脐橙Navel橙", []string{"赣", "南", "赣南", "脐", "南脐", "橙", "脐橙", "navel", "橙"}},
		{"Han run broken by punctuation", "猕猴，桃", []string{"猕", "猴", "猕猴", "桃"}},
		{"combining mark continues a word", "cafe\u0301 Ok", []string{"cafe\u0301", "ok"}},
		{"kana is a word, not Han", "ひらがなテスト", []string{"ひらがなテスト"}},
		{"invalid UTF-8 separates", "ab\xffCD", []string{"ab", "cd"}},
		{"over-long word dropped", "ok " + long + " fine", []string{"ok", "fine"}},
		{"quotes inside words split", "it's \"x\"", []string{"it", "s", "x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := pgTokens(tt.in)
			if !slices.Equal(got, tt.want) {
				t.Fatalf("pgTokens(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestPGTSVector checks the client-built tsvector: sorted lexemes, positions and their limits.
func TestPGTSVector(t *testing.T) {
	pos := func(ps ...uint16) []pgtype.TSVectorPosition {
		out := make([]pgtype.TSVectorPosition, len(ps))
		for i, p := range ps {
			out[i] = pgtype.TSVectorPosition{Position: p}
		}
		return out
	}
	tests := []struct {
		name   string
		tokens []string
		want   []pgtype.TSVectorLexeme
	}{
		{"empty", nil, []pgtype.TSVectorLexeme{}},
		{"sorted by bytes, positions 1-based", []string{"b", "a", "茶"},
			[]pgtype.TSVectorLexeme{{Word: "a", Positions: pos(2)}, {Word: "b", Positions: pos(1)}, {Word: "茶", Positions: pos(3)}}},
		{"repeated lexeme keeps every position in order", []string{"茶", "x", "茶", "茶"},
			[]pgtype.TSVectorLexeme{{Word: "x", Positions: pos(2)}, {Word: "茶", Positions: pos(1, 3, 4)}}},
		{"empty tokens skipped but counted", []string{"", "a"}, []pgtype.TSVectorLexeme{{Word: "a", Positions: pos(2)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := pgTSVector(tt.tokens)
			if !got.Valid {
				t.Fatal("not valid")
			}
			if len(got.Lexemes) != len(tt.want) {
				t.Fatalf("got %v, want %v", got.Lexemes, tt.want)
			}
			for i := range got.Lexemes {
				g, w := got.Lexemes[i], tt.want[i]
				if g.Word != w.Word || !slices.Equal(g.Positions, w.Positions) {
					t.Fatalf("lexeme %d: got %v, want %v", i, g, w)
				}
			}
		})
	}

	t.Run("position limits", func(t *testing.T) {
		tokens := make([]string, pgMaxPos+10)
		for i := range tokens {
			tokens[i] = "a"
		}
		tokens[pgMaxPos+5] = "late" // past the last position PostgreSQL stores
		got := pgTSVector(tokens)
		if len(got.Lexemes) != 2 || got.Lexemes[0].Word != "a" || len(got.Lexemes[0].Positions) != pgMaxPositions {
			t.Fatalf("a: want %d positions, got %+v", pgMaxPositions, got.Lexemes[0])
		}
		if got.Lexemes[1].Word != "late" || len(got.Lexemes[1].Positions) != 0 {
			t.Fatalf("late: want no position, got %+v", got.Lexemes[1])
		}
	})
}

// pgTestParseTSQuery parses the text pgTSQuery builds back into lexemes,
// failing on anything that is not 'lexeme' (' | ' 'lexeme')*: inside quotes
// a quote must be doubled and a backslash escapes the next character.
func pgTestParseTSQuery(t *testing.T, q string) []string {
	t.Helper()
	var out []string
	rs := []rune(q)
	for i := 0; i < len(rs); {
		if len(out) > 0 {
			if !strings.HasPrefix(string(rs[i:]), " | ") {
				t.Fatalf("%q: want ' | ' at rune %d", q, i)
			}
			i += 3
		}
		if i >= len(rs) || rs[i] != '\'' {
			t.Fatalf("%q: want an opening quote at rune %d", q, i)
		}
		i++
		var lex strings.Builder
		for {
			if i >= len(rs) {
				t.Fatalf("%q: unterminated lexeme", q)
			}
			r := rs[i]
			if r == '\\' {
				if i+1 >= len(rs) {
					t.Fatalf("%q: dangling backslash", q)
				}
				lex.WriteRune(rs[i+1])
				i += 2
				continue
			}
			if r == '\'' {
				if i+1 < len(rs) && rs[i+1] == '\'' {
					lex.WriteRune('\'')
					i += 2
					continue
				}
				i++
				break
			}
			lex.WriteRune(r)
			i++
		}
		if lex.Len() == 0 {
			t.Fatalf("%q: empty lexeme", q)
		}
		out = append(out, lex.String())
	}
	return out
}

// TestPGTSQuery checks the tsquery text: quoted lexemes, escaping, duplicates, and that it parses back.
func TestPGTSQuery(t *testing.T) {
	tests := []struct {
		name   string
		tokens []string
		want   string
	}{
		{"none", nil, ""},
		{"only empty tokens", []string{"", ""}, ""},
		{"one", []string{"茶"}, `'茶'`},
		{"OR of quoted lexemes, duplicates once", []string{"猕", "猴", "猕猴", "猕"}, `'猕' | '猴' | '猕猴'`},
		{"quote doubled", []string{"it's"}, `'it''s'`},
		{"backslash escaped", []string{`a\b`, `\`}, `'a\\b' | '\\'`},
		{"operators stay inside quotes", []string{"a:*", "b&c", "!d", "e|f", "(g)", "<->"}, `'a:*' | 'b&c' | '!d' | 'e|f' | '(g)' | '<->'`},
		{"injection attempt stays one lexeme", []string{"x') OR 1=1 --"}, `'x'') OR 1=1 --'`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := pgTSQuery(tt.tokens)
			if got != tt.want {
				t.Fatalf("pgTSQuery(%q) = %s, want %s", tt.tokens, got, tt.want)
			}
			var want []string
			for _, tok := range tt.tokens {
				if tok != "" && !slices.Contains(want, tok) {
					want = append(want, tok)
				}
			}
			if back := pgTestParseTSQuery(t, got); !slices.Equal(back, want) {
				t.Fatalf("parsed back %q, want %q", back, want)
			}
		})
	}

	t.Run("invalid tokens dropped", func(t *testing.T) {
		got := pgTSQuery([]string{"ok", "bad\xff", "nul\x00", strings.Repeat("y", pgMaxLexeme+1)})
		if got != `'ok'` {
			t.Fatalf("got %s, want 'ok'", got)
		}
	})

	t.Run("tokeniser output round-trips", func(t *testing.T) {
		tokens := pgTokens(`赣南脐橙 Navel "orange" it's a\b 100%!`)
		back := pgTestParseTSQuery(t, pgTSQuery(tokens))
		for _, tok := range tokens {
			if !slices.Contains(back, tok) {
				t.Fatalf("token %q lost: %q", tok, back)
			}
		}
	})
}

// TestPGAsOfMonthStreamDays checks the as-of date, the month in China Standard Time and the days to the stream.
func TestPGAsOfMonthStreamDays(t *testing.T) {
	now := time.Date(2026, 12, 31, 15, 59, 59, 0, time.UTC) // 23:59:59 on Dec 31 in CST
	stream := time.Date(2027, 1, 10, 3, 0, 0, 0, time.UTC)

	p := &engine.DemandProfile{}
	if got := pgAsOf(p, now); !got.Equal(now) {
		t.Fatalf("as of without stream date: %v, want now", got)
	}
	if d, ok := pgStreamDays(p, now); ok || d != 0 {
		t.Fatalf("stream days without stream date: %v %v", d, ok)
	}
	p.StreamDate = stream
	if got := pgAsOf(p, now); !got.Equal(stream) {
		t.Fatalf("as of with stream date: %v, want %v", got, stream)
	}
	d, ok := pgStreamDays(p, now)
	want := stream.Sub(now).Hours() / 24
	if !ok || d != want || math.Abs(d-(9+11.0/24+1.0/86400)) > 1e-9 {
		t.Fatalf("stream days: %v %v, want %v", d, ok, want)
	}

	months := []struct {
		t    time.Time
		want int
	}{
		{now, 12},
		{now.Add(time.Second), 1}, // midnight in CST
		{time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC), 7},
		{time.Date(2026, 6, 30, 16, 0, 0, 0, time.UTC), 7},
		{time.Date(2026, 6, 30, 23, 0, 0, 0, time.FixedZone("X", -5*3600)), 7},
	}
	for _, m := range months {
		if got := pgCSTMonth(m.t); got != m.want {
			t.Errorf("pgCSTMonth(%v) = %d, want %d", m.t, got, m.want)
		}
	}
}

// TestPGScaledWeights checks the weights as the engine scales them.
func TestPGScaledWeights(t *testing.T) {
	factors := engine.Factors()
	if len(factors) != 10 {
		t.Fatalf("the engine has %d factors; the SQL computes 10", len(factors))
	}
	at := func(f engine.Factor) int { return slices.Index(factors, f) }
	tests := []struct {
		name    string
		w       engine.Weights
		want    map[engine.Factor]float64 // others: wantRest
		rest    float64
		wantSum float64
	}{
		{"missing weights are 1", nil, nil, 1, 10},
		{"text and logistics off", engine.Weights{"text": 0, "logistics": 0},
			map[engine.Factor]float64{engine.FactorText: 0, engine.FactorLogistics: 0}, 1, 8},
		{"scaled by the largest", engine.Weights{"price": 4},
			map[engine.Factor]float64{engine.FactorPrice: 1}, 0.25, 1 + 9*0.25},
		{"negative, NaN and infinite count as 0",
			engine.Weights{"price": -1, "grade": math.NaN(), "stock": math.Inf(1), "commission": 2},
			map[engine.Factor]float64{engine.FactorPrice: 0, engine.FactorGrade: 0, engine.FactorStock: 0, engine.FactorCommission: 1},
			0.5, 1 + 6*0.5},
		{"every weight 0", engine.Weights{"text": 0, "price": 0, "commission": 0, "stock": 0, "poverty_relief": 0,
			"certification": 0, "seasonality": 0, "logistics": 0, "grade": 0, "lead_time": 0}, nil, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, sum := pgScaledWeights(tt.w)
			for _, f := range factors {
				want, ok := tt.want[f]
				if !ok {
					want = tt.rest
				}
				if got[at(f)] != want {
					t.Errorf("%s: %v, want %v", f, got[at(f)], want)
				}
			}
			if math.Abs(sum-tt.wantSum) > 1e-12 {
				t.Errorf("sum %v, want %v", sum, tt.wantSum)
			}
		})
	}
}

// TestPGSeason checks the seasonality values per as-of month, circular runs included.
func TestPGSeason(t *testing.T) {
	all := func(v float64) [12]float64 {
		var out [12]float64
		for i := range out {
			out[i] = v
		}
		return out
	}
	r := func(x float64) float64 { return math.Round(x*1e4) / 1e4 }
	tests := []struct {
		name   string
		months []int
		want   [12]float64 // rounded to 4 decimals
	}{
		{"all year when empty", nil, all(0.8)},
		{"all year when all twelve", []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, all(0.8)},
		{"run of two", []int{6, 7}, [12]float64{5: 0.8, 6: 0.8}},
		{"run of three: edges 0.6, centre 1", []int{4, 5, 6}, [12]float64{3: 0.6, 4: 1, 5: 0.6}},
		{"circular run Nov–Feb", []int{11, 12, 1, 2}, [12]float64{10: 0.6, 11: 0.8667, 0: 0.8667, 1: 0.6}},
		{"December into January, centred on January", []int{12, 1, 2}, [12]float64{11: 0.6, 0: 1, 1: 0.6}},
		{"duplicates and bad months ignored", []int{5, 5, 0, 13}, [12]float64{4: 0.8}},
		{"two separate runs", []int{1, 2, 3, 7}, [12]float64{0: 0.6, 1: 1, 2: 0.6, 6: 0.8}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := pgSeason(tt.months)
			for i := range got {
				if r(got[i]) != tt.want[i] {
					t.Fatalf("month %d: %v, want %v (all %v)", i+1, got[i], tt.want[i], got)
				}
			}
		})
	}
}

// TestPGSeasonMatchesEngine checks pgSeason against the engine's
// seasonality factor for every set of months and every as-of month.
func TestPGSeasonMatchesEngine(t *testing.T) {
	p := &engine.DemandProfile{}
	cst := time.FixedZone("CST", 8*3600)
	for mask := range 1 << 12 {
		var months []int
		for m := 1; m <= 12; m++ {
			if mask&(1<<(m-1)) != 0 {
				months = append(months, m)
			}
		}
		got := pgSeason(months)
		for m := 1; m <= 12; m++ {
			now := time.Date(2026, time.Month(m), 15, 12, 0, 0, 0, cst)
			c := engine.Candidate{Product: &engine.Product{AvailableMonths: months}}
			res := engine.Score(p, c, engine.MatchParams{Now: now})
			var want float64
			for _, f := range res.Factors {
				if f.Name == engine.FactorSeasonality {
					want = f.Value
				}
			}
			if math.Round(got[m-1]*1e4)/1e4 != want {
				t.Fatalf("months %v, as of month %d: %v, engine %v", months, m, got[m-1], want)
			}
		}
	}
}

// TestPGPriceBandAndLimit checks the price-band mode and the limit normalisation.
func TestPGPriceBandAndLimit(t *testing.T) {
	f := func(x float64) *float64 { return &x }
	tests := []struct {
		name     string
		lo, hi   *float64
		mode     int32
		wlo, whi float64
	}{
		{"no band", nil, nil, 0, 0, 0},
		{"both ends", f(20), f(80), 1, 20, 80},
		{"lo = hi", f(30), f(30), 0, 0, 0},
		{"only a cap", nil, f(60), 2, 0, 60},
		{"a zero cap", nil, f(0), 0, 0, 0},
		{"only a floor", f(10), nil, 0, 0, 0},
	}
	for _, tt := range tests {
		mode, lo, hi := pgPriceBand(&engine.DemandProfile{PriceMin: tt.lo, PriceMax: tt.hi})
		if mode != tt.mode || lo != tt.wlo || hi != tt.whi {
			t.Errorf("%s: got %d %v %v, want %d %v %v", tt.name, mode, lo, hi, tt.mode, tt.wlo, tt.whi)
		}
	}
	for in, want := range map[int]int{-1: 20, 0: 20, 5: 5, 100: 100, 1000: 100} {
		if got := pgMatchLimit(in); got != want {
			t.Errorf("pgMatchLimit(%d) = %d, want %d", in, got, want)
		}
	}
}

// TestPGCertColumnsAndNanos checks the certificate columns and the nanosecond expiry times.
func TestPGCertColumnsAndNanos(t *testing.T) {
	codes, _ := pgTestCerts()
	t1 := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	t2 := time.Date(2028, 1, 1, 0, 0, 0, 0, time.UTC)
	certs := []pgCert{
		{Type: "organic", ExpiresAt: t2},
		{Type: "green_food", ExpiresAt: t1},
		{Type: "green_food", ExpiresAt: t2}, // the later one counts
		{Type: "halal"},                     // never expires
		{Type: "made_up", ExpiresAt: t1},    // unknown types count as valid certificates
	}
	until, byType := pgCertColumns(certs, codes)
	wantUntil := []int64{t1.UnixNano(), t2.UnixNano(), t2.UnixNano(), math.MaxInt64}
	if !slices.Equal(until, wantUntil) {
		t.Fatalf("until %v, want %v", until, wantUntil)
	}
	for i, code := range codes {
		want := int64(math.MinInt64)
		switch code {
		case "organic", "green_food":
			want = t2.UnixNano()
		case "halal":
			want = math.MaxInt64
		}
		if byType[i] != want {
			t.Errorf("%s: %d, want %d", code, byType[i], want)
		}
	}

	if got := pgNanos(time.Time{}); got != math.MaxInt64 {
		t.Errorf("zero time: %d", got)
	}
	if got := pgNanos(time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)); got != math.MaxInt64 {
		t.Errorf("year 3000: %d", got)
	}
	if got := pgNanos(time.Date(1500, 1, 1, 0, 0, 0, 0, time.UTC)); got != math.MinInt64+1 {
		t.Errorf("year 1500: %d", got)
	}
	// Comparing nanoseconds is Certification.ValidAt to the nanosecond.
	at := t1.Add(-time.Nanosecond)
	for _, exp := range []time.Time{t1, t1.Add(-time.Nanosecond), t1.Add(-2 * time.Nanosecond)} {
		c := engine.Certification{ExpiresAt: exp}
		if got := pgNanos(exp) > pgNanos(at); got != c.ValidAt(at) {
			t.Errorf("expires %v at %v: %v, ValidAt %v", exp, at, got, c.ValidAt(at))
		}
	}
}

// TestPGCopySourceMatchesColumns checks that every COPY row has one value per column, and the derived ones.
func TestPGCopySourceMatchesColumns(t *testing.T) {
	codes, _ := pgTestCerts()
	rows := []pgRow{
		{ID: "p1", Title: "猕猴桃 Kiwi", Price: 30, LivePrice: 25, Months: []int{9, 10}, Certs: []pgCert{{Type: "organic"}}},
		{ID: "p2", Title: "", Price: 10},
	}
	src := &pgCopySource{certs: codes}
	src.reset(rows)
	cols := pgCopyColumns(codes)
	n := 0
	for src.Next() {
		vals, err := src.Values()
		if err != nil {
			t.Fatal(err)
		}
		if len(vals) != len(cols) {
			t.Fatalf("row %d: %d values for %d columns", n, len(vals), len(cols))
		}
		get := func(col string) any { return vals[slices.Index(cols, col)] }
		switch n {
		case 0:
			if get("eff_price") != 25.0 || get("month_mask") != int32(1<<8|1<<9) || get("has_months") != true {
				t.Fatalf("row 0: eff_price %v month_mask %v has_months %v", get("eff_price"), get("month_mask"), get("has_months"))
			}
			if get("cu_organic") != int64(math.MaxInt64) || get("cu_green_food") != int64(math.MinInt64) {
				t.Fatalf("row 0: cu_organic %v cu_green_food %v", get("cu_organic"), get("cu_green_food"))
			}
			if tsv := get("tsv").(pgtype.TSVector); len(tsv.Lexemes) != 6 {
				t.Fatalf("row 0: tsv %v", tsv)
			}
		case 1:
			if get("eff_price") != 10.0 || get("has_months") != false {
				t.Fatalf("row 1: eff_price %v has_months %v", get("eff_price"), get("has_months"))
			}
		}
		n++
	}
	if n != len(rows) || src.Err() != nil {
		t.Fatalf("%d rows, err %v", n, src.Err())
	}
	schema := pgSchemaSQL(codes)
	for _, c := range cols {
		if !strings.Contains(schema, "\t"+c+" ") {
			t.Errorf("column %s missing from the schema", c)
		}
	}
}

// TestNewPGRow checks the conversion of a product and its supplier to a row.
func TestNewPGRow(t *testing.T) {
	pr := &engine.Product{ID: "p1", OrgID: "o1", TitleZh: "赣南脐橙", TitleEn: "Navel oranges", Tags: []string{"橙子", "fruit"},
		Category: "fresh_fruit", PriceCNY: 40, LivePriceCNY: 28, CommissionRate: 0.2, Stock: 10, LeadTimeDays: 3,
		AvailableMonths: []int{11, 12}, ShelfLifeDays: 10, ReviewStatus: engine.ReviewApproved,
		Certifications: []engine.Certification{{Type: "green_food"}}}
	org := &engine.Org{ID: "o1", Status: engine.OrgApproved, Grade: engine.GradeA, PovertyRelief: true}

	r := newPGRow(pr, org)
	if r.Title != "赣南脐橙 Navel oranges 橙子 fruit" || !r.Approved || !r.SupplierOK || !r.PovertyRelief || r.Grade != "A" ||
		!r.Perishable || len(r.Certs) != 1 || r.LivePrice != 28 {
		t.Fatalf("row %+v", r)
	}
	cases := []struct {
		name  string
		edit  func(p *engine.Product, o *engine.Org)
		check func(r pgRow) bool
	}{
		{"cold chain is not perishable", func(p *engine.Product, o *engine.Org) { p.ColdChain = true }, func(r pgRow) bool { return !r.Perishable }},
		{"long shelf life is not perishable", func(p *engine.Product, o *engine.Org) { p.ShelfLifeDays = 16 }, func(r pgRow) bool { return !r.Perishable }},
		{"suspended supplier", func(p *engine.Product, o *engine.Org) { o.Status = engine.OrgSuspended }, func(r pgRow) bool { return !r.SupplierOK }},
		{"supplier not the owner", func(p *engine.Product, o *engine.Org) { o.ID = "o2" }, func(r pgRow) bool { return !r.SupplierOK }},
		{"pending review", func(p *engine.Product, o *engine.Org) { p.ReviewStatus = engine.ReviewPending }, func(r pgRow) bool { return !r.Approved }},
		{"ungraded", func(p *engine.Product, o *engine.Org) { o.Grade = "" }, func(r pgRow) bool { return r.Grade == "" }},
	}
	for _, c := range cases {
		p2, o2 := *pr, *org
		c.edit(&p2, &o2)
		if r := newPGRow(&p2, &o2); !c.check(r) {
			t.Errorf("%s: row %+v", c.name, r)
		}
	}
	if r := newPGRow(pr, nil); r.SupplierOK || r.PovertyRelief || r.Grade == "" || r.Grade == "B" {
		t.Errorf("unknown supplier: row %+v", r)
	}
}

// TestPGMatchArgs checks the match parameters and that they fit the match query exactly.
func TestPGMatchArgs(t *testing.T) {
	codes, spyb := pgTestCerts()
	now := time.Date(2026, 11, 20, 3, 0, 0, 0, time.UTC)
	lo, hi := 20.0, 80.0
	p := &engine.DemandProfile{Keywords: "猕猴桃 Kiwi", Categories: []string{"fresh_fruit"}, PriceMin: &lo, PriceMax: &hi,
		MinCommissionRate: 0.1, MinStock: 0, ExpectedUnits: 500, RequiredCerts: []string{"organic"},
		PreferredCerts: []string{"green_food", "organic"}, StreamDate: now.Add(36 * time.Hour),
		Weights: engine.Weights{"text": 0, "price": 2}}

	args, err := pgMatchArgs(p, now, 0, codes)
	if err != nil {
		t.Fatal(err)
	}
	tsq := args["tsq"].(*string)
	if tsq == nil || *tsq != `'猕' | '猴' | '猕猴' | '桃' | '猴桃' | 'kiwi'` {
		t.Fatalf("tsq %v", tsq)
	}
	checks := map[string]any{
		"rank":        false, // text weight 0: no ts_rank
		"as_of":       p.StreamDate.UnixNano(),
		"month":       int32(11),
		"month_bit":   int32(1 << 10),
		"min_stock":   int64(1),
		"expected":    int64(500),
		"band_mode":   int32(1),
		"band_lo":     20.0,
		"band_hi":     80.0,
		"n_preferred": 2.0,
		"lim":         int64(20),
		"w_price":     1.0,
		"w_grade":     0.5,
		"w_text":      0.0,
		"wsum":        1 + 8*0.5,

		"req_organic":     true,
		"req_green_food":  false,
		"pref_green_food": true,
		"pref_organic":    true,
		"pref_halal":      false,
	}
	for k, want := range checks {
		if got := args[k]; got != want {
			t.Errorf("%s = %v (%T), want %v (%T)", k, got, got, want, want)
		}
	}
	if d := args["stream_days"].(*float64); d == nil || *d != 1.5 {
		t.Errorf("stream_days %v", d)
	}

	// The query and the arguments agree: strict rewriting fails on a
	// placeholder without an argument or an argument without a placeholder.
	sql := pgMatchSQL(codes, spyb)
	if _, _, err := args.RewriteQuery(context.Background(), nil, sql, nil); err != nil {
		t.Fatalf("match query and arguments disagree: %v", err)
	}
	for _, c := range codes {
		if !strings.Contains(sql, "@req_"+c+"::bool") || !strings.Contains(sql, "@pref_"+c+"::bool") {
			t.Errorf("query lacks the %s certificate terms", c)
		}
	}
	for _, c := range spyb {
		if !strings.Contains(sql, "(p.cu_"+c+" > @as_of::int8)::int4") {
			t.Errorf("query does not count %s as 三品一标", c)
		}
	}

	// No keywords, no stream date, text weight on.
	q := &engine.DemandProfile{Keywords: " !!! "}
	args, err = pgMatchArgs(q, now, 500, codes)
	if err != nil {
		t.Fatal(err)
	}
	if args["tsq"].(*string) != nil || args["stream_days"].(*float64) != nil || args["rank"] != false ||
		args["as_of"] != now.UnixNano() || args["lim"] != int64(100) || args["wsum"] != 10.0 {
		t.Errorf("args %v", args)
	}
	q.Keywords = "茶"
	if args, _ = pgMatchArgs(q, now, 5, codes); args["rank"] != true {
		t.Errorf("rank %v, want true with keywords and a text weight", args["rank"])
	}

	// Audience regions need logistics weight 0; unknown certificate types are refused.
	r := &engine.DemandProfile{AudienceRegions: []string{"310000"}}
	if _, err := pgMatchArgs(r, now, 5, codes); !errors.Is(err, errPGUnsupported) {
		t.Errorf("audience regions with logistics: %v", err)
	}
	r.Weights = engine.Weights{"logistics": 0}
	if _, err := pgMatchArgs(r, now, 5, codes); err != nil {
		t.Errorf("audience regions without logistics: %v", err)
	}
	r.PreferredCerts = []string{"made_up"}
	if _, err := pgMatchArgs(r, now, 5, codes); !errors.Is(err, errPGUnsupported) {
		t.Errorf("unknown certificate type: %v", err)
	}
}

// TestPGSearchSQLArgs checks that the search queries and their arguments fit.
func TestPGSearchSQLArgs(t *testing.T) {
	args := pgx.StrictNamedArgs{"tsq": pgTSQuery(pgTokens("茶")), "lim": int64(5)}
	if _, _, err := args.RewriteQuery(context.Background(), nil, pgSearchSQL, nil); err != nil {
		t.Errorf("search query: %v", err)
	}
	delete(args, "tsq")
	if _, _, err := args.RewriteQuery(context.Background(), nil, pgSearchAllSQL, nil); err != nil {
		t.Errorf("search-all query: %v", err)
	}
	if _, _, err := args.RewriteQuery(context.Background(), nil, pgSearchSQL, nil); err == nil {
		t.Error("strict rewriting accepted a missing argument")
	}
}

// TestPGLastLines checks the error-output trimming.
func TestPGLastLines(t *testing.T) {
	if got := pgLastLines([]byte("a\n\nb\r\nc\n"), 2); got != "b | c" {
		t.Errorf("got %q", got)
	}
	if got := pgLastLines(nil, 3); got != "" {
		t.Errorf("got %q", got)
	}
}
