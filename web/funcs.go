package web

import (
	"fmt"
	"html/template"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/livematch/livematch/engine"
)

// funcs are the template functions shared by every page.
func funcs() template.FuncMap {
	return template.FuncMap{
		"money": func(v float64) string { return "¥" + strconv.FormatFloat(v, 'f', 2, 64) },
		"pct": func(v float64) string {
			return strconv.FormatFloat(math.Round(v*1000)/10, 'f', -1, 64) + "%"
		},
		"num":   func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) },
		"fixed": func(digits int, v float64) string { return strconv.FormatFloat(v, 'f', digits, 64) },
		// width is a share (0..1) as an SVG width in percent.
		"width": func(v float64) string {
			return strconv.FormatFloat(math.Max(0, math.Min(1, v))*100, 'f', 1, 64) + "%"
		},
		"add":  func(a, b int) int { return a + b },
		"dict": dict,
		"deref": func(p *float64) float64 {
			if p == nil {
				return 0
			}
			return *p
		},
		"facetOrder": func() []string { return []string{"category", "certification", "poverty_relief", "province"} },
		"join":       strings.Join,
		"seq": func(from, to int) []int {
			var out []int
			for i := from; i <= to; i++ {
				out = append(out, i)
			}
			return out
		},
		"str":            func(v any) string { return fmt.Sprint(v) },
		"date":           func(t time.Time) string { return t.In(chinaTime).Format("2006-01-02 15:04") },
		"categories":     engine.Categories,
		"certTypes":      engine.CertTypes,
		"factors":        engine.Factors,
		"hostFactors":    engine.HostFactors,
		"orgKinds":       engine.OrgKinds,
		"languageLevels": func() []string { return []string{"native", "fluent", "business", "conversational"} },
		"months":         func() []int { return []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12} },
		"gradeList":      func() []string { return []string{"A", "B", "C"} },
		"statusList":     func() []string { return []string{"approved", "pending", "suspended"} },
		// safeHighlight marks up a highlight the API produced: HTML-escaped
		// apart from <em> tags, which are all it keeps.
		"safeHighlight": safeHighlight,
	}
}

// dict makes a map of key, value pairs, so that a template block, which
// takes one argument, can be given several: {{template "input" (dict "F"
// $f "Name" "price_min" "Label" ($.T "profile.price_min"))}}. A key the
// block reads and the map lacks is empty.
func dict(kv ...any) (map[string]any, error) {
	if len(kv)%2 != 0 {
		return nil, fmt.Errorf("dict: %d arguments, want key, value pairs", len(kv))
	}
	m := make(map[string]any, len(kv)/2)
	for i := 0; i < len(kv); i += 2 {
		k, ok := kv[i].(string)
		if !ok {
			return nil, fmt.Errorf("dict: key %v is not a string", kv[i])
		}
		m[k] = kv[i+1]
	}
	return m, nil
}

// safeHighlight re-escapes s and lets through only <em> and </em>, so that
// whatever the API sent, nothing but emphasis reaches the page.
func safeHighlight(s string) template.HTML {
	var b strings.Builder
	for s != "" {
		switch {
		case strings.HasPrefix(s, "<em>"):
			b.WriteString("<em>")
			s = s[4:]
		case strings.HasPrefix(s, "</em>"):
			b.WriteString("</em>")
			s = s[5:]
		default:
			i := strings.IndexByte(s[1:], '<')
			end := len(s)
			if i >= 0 {
				end = i + 1
			}
			b.WriteString(template.HTMLEscapeString(unescapeEntities(s[:end])))
			s = s[end:]
		}
	}
	return template.HTML(b.String()) // #nosec: every byte but <em> and </em> is escaped above
}

// unescapeEntities undoes the API's escaping of &, <, >, " and ' so that
// escaping again does not double it.
func unescapeEntities(s string) string {
	r := strings.NewReplacer("&lt;", "<", "&gt;", ">", "&quot;", `"`, "&#34;", `"`, "&#39;", "'", "&amp;", "&")
	return r.Replace(s)
}

// Cat names a category code in the page's language.
func (v *view) Cat(code string) string {
	if c, ok := engine.CategoryByCode(code); ok {
		return v.Name(c.NameZh, c.NameEn)
	}
	return code
}

// Cert names a certification type in the page's language.
func (v *view) Cert(code string) string {
	if c, ok := engine.CertTypeByCode(code); ok {
		return v.Name(c.NameZh, c.NameEn)
	}
	return code
}

// Kind names an org kind in the page's language.
func (v *view) Kind(k engine.OrgKind) string { return v.T("kind." + string(k)) }

// OrgName is the signed-in org's name in the page's language.
func (v *view) OrgName() string {
	if v.Org == nil {
		return ""
	}
	return v.Name(v.Org.NameZh, v.Org.NameEn)
}

// Is reports whether the signed-in org is of one of the kinds named.
func (v *view) Is(kinds ...string) bool {
	if v.Org == nil {
		return false
	}
	for _, k := range kinds {
		if string(v.Org.Kind) == k || k == "supplier" && v.Org.Kind.IsSupplier() {
			return true
		}
	}
	return false
}
