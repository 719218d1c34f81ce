package web

import (
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Form is a form's submitted (or loaded) values and the API's messages for
// its fields. Field names are the API's JSON field names; nested fields use
// dots (weights.text) and repeated rows repeat the name
// (certifications.type, certifications.number, …).
type Form struct {
	Values url.Values
	Errors map[string]string
	// Problem is the API's summary of what was wrong ("" when nothing was).
	Problem string
}

func newForm(v url.Values) *Form {
	if v == nil {
		v = url.Values{}
	}
	return &Form{Values: v, Errors: map[string]string{}}
}

// V is a field's value.
func (f *Form) V(name string) string { return f.Values.Get(name) }

// At is the i-th value of a repeated field ("" past the end).
func (f *Form) At(name string, i int) string {
	if vs := f.Values[name]; i < len(vs) {
		return vs[i]
	}
	return ""
}

// Has reports whether a multi-valued field holds v (checked boxes, selected
// options).
func (f *Form) Has(name, v string) bool {
	for _, x := range f.Values[name] {
		if x == v {
			return true
		}
	}
	return false
}

// Checked reports whether a checkbox field is on.
func (f *Form) Checked(name string) bool {
	v := f.V(name)
	return v == "true" || v == "on" || v == "1"
}

// E is the API's message for a field ("" when it has none).
func (f *Form) E(name string) string { return f.Errors[name] }

// Ei is the message for a field of the i-th row: rows are sent in order,
// so row i is the API's element [i] (certifications[0].number).
func (f *Form) Ei(list string, i int, field string) string {
	key := list + "[" + strconv.Itoa(i) + "]"
	if field != "" {
		key += "." + field
	}
	return f.Errors[key]
}

// Rows lists row indices for a repeated group: one per submitted row plus
// extra empty ones.
func (f *Form) Rows(name string, extra int) []int {
	n := len(f.Values[name]) + extra
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// AllErrors lists every field error, sorted by field, for the summary.
func (f *Form) AllErrors() []problemField {
	out := make([]problemField, 0, len(f.Errors))
	for k, v := range f.Errors {
		out = append(out, problemField{Field: k, Message: v})
	}
	sortFields(out)
	return out
}

func sortFields(fs []problemField) {
	for i := 1; i < len(fs); i++ {
		for j := i; j > 0 && fs[j].Field < fs[j-1].Field; j-- {
			fs[j], fs[j-1] = fs[j-1], fs[j]
		}
	}
}

// withProblem records the API's problem on the form.
func (f *Form) withProblem(p *problem) *Form {
	if p != nil {
		f.Errors = p.fieldErrors()
		f.Problem = p.Detail
	}
	return f
}

// kind says how a form field becomes JSON.
type kind int

const (
	kText     kind = iota // a string; empty is left out
	kNumber               // a JSON number; text that is no number is sent as text for the API to name
	kBool                 // a checkbox: true when on, false when absent
	kList                 // comma-separated text → array of strings
	kMulti                // repeated values (checkboxes, multi-select) → array of strings
	kIntMulti             // repeated values → array of numbers
	kIntList              // comma-separated text → array of numbers
	kDate                 // a date (yyyy-mm-dd) → RFC 3339 at midnight China time
	kDateTime             // datetime-local → RFC 3339 in China time
	kDateText             // a date kept as text (yyyy-mm-dd)
)

// field is a form field and its kind.
type field struct {
	name string
	kind kind
}

// listSeparators split list fields: ASCII and full-width commas, the
// enumeration comma, semicolons and bars (as used in CSV cells).
func splitList(s string) []string {
	parts := strings.FieldsFunc(s, func(r rune) bool {
		return r == ',' || r == '，' || r == '、' || r == ';' || r == '；' || r == '|' || r == '\n'
	})
	out := []string{}
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// number converts text to a JSON number when it is one; otherwise the text
// goes to the API as is, so that its message names the field.
func number(s string) any {
	s = strings.TrimSpace(s)
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return json.Number(strconv.FormatFloat(f, 'f', -1, 64))
	}
	return s
}

// chinaTime is China Standard Time, for dates typed in the console.
var chinaTime = time.FixedZone("CST", 8*3600)

// jsonOf converts form values to a JSON object by the fields' kinds.
// Nested names (weights.text) become nested objects.
func jsonOf(v url.Values, fields []field) map[string]any {
	out := map[string]any{}
	for _, f := range fields {
		raw := strings.TrimSpace(v.Get(f.name))
		var val any
		switch f.kind {
		case kText:
			if raw == "" {
				continue
			}
			val = raw
		case kNumber:
			if raw == "" {
				continue
			}
			val = number(raw)
		case kBool:
			val = raw == "true" || raw == "on" || raw == "1"
		case kList:
			val = splitList(raw)
		case kMulti:
			vals := []string{}
			for _, x := range v[f.name] {
				if x = strings.TrimSpace(x); x != "" {
					vals = append(vals, x)
				}
			}
			val = vals
		case kIntMulti, kIntList:
			src := v[f.name]
			if f.kind == kIntList {
				src = splitList(raw)
			}
			vals := []any{}
			for _, x := range src {
				if x = strings.TrimSpace(x); x != "" {
					vals = append(vals, number(x))
				}
			}
			val = vals
		case kDate:
			if raw == "" {
				continue
			}
			val = dateTime(raw)
		case kDateTime:
			if raw == "" {
				continue
			}
			val = dateTime(raw)
		case kDateText:
			if raw == "" {
				continue
			}
			val = raw
		}
		setPath(out, f.name, val)
	}
	return out
}

// dateTime turns a typed date or datetime-local into RFC 3339 China time;
// anything else goes as typed for the API to judge.
func dateTime(s string) string {
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", time.DateOnly} {
		if t, err := time.ParseInLocation(layout, s, chinaTime); err == nil {
			return t.Format(time.RFC3339)
		}
	}
	return s
}

// setPath sets a dotted name in a nested object.
func setPath(m map[string]any, name string, val any) {
	head, rest, nested := strings.Cut(name, ".")
	if !nested {
		m[name] = val
		return
	}
	sub, ok := m[head].(map[string]any)
	if !ok {
		sub = map[string]any{}
		m[head] = sub
	}
	setPath(sub, rest, val)
}

// rows reads a repeated group of fields (e.g. certifications.type with
// .number and .expires_at) as one object per row whose key field is set.
func rows(v url.Values, group, key string, parts []field) []map[string]any {
	out := []map[string]any{}
	keys := v[group+"."+key]
	for i, k := range keys {
		if strings.TrimSpace(k) == "" {
			continue
		}
		row := url.Values{}
		for _, p := range parts {
			if vs := v[group+"."+p.name]; i < len(vs) {
				row.Set(p.name, vs[i])
			}
		}
		out = append(out, jsonOf(row, parts))
	}
	return out
}

// compactRows keeps only the rows of a group whose key field is set, so
// that row i of the form is element [i] of what was sent.
func compactRows(v url.Values, group, key string, parts []string) {
	keys := v[group+"."+key]
	kept := map[string][]string{}
	for i, k := range keys {
		if strings.TrimSpace(k) == "" {
			continue
		}
		for _, p := range append([]string{key}, parts...) {
			val := ""
			if vs := v[group+"."+p]; i < len(vs) {
				val = vs[i]
			}
			kept[p] = append(kept[p], val)
		}
	}
	for _, p := range append([]string{key}, parts...) {
		if len(kept[p]) == 0 {
			v.Del(group + "." + p)
		} else {
			v[group+"."+p] = kept[p]
		}
	}
}

// valuesOf turns a decoded API object back into form values by the
// fields' kinds (the inverse of jsonOf, for editing).
func valuesOf(obj map[string]any, fields []field) url.Values {
	out := url.Values{}
	for _, f := range fields {
		val, ok := lookupPath(obj, f.name)
		if !ok || val == nil {
			continue
		}
		switch f.kind {
		case kList, kIntList:
			var parts []string
			for _, x := range asSlice(val) {
				parts = append(parts, scalar(x))
			}
			out.Set(f.name, strings.Join(parts, ", "))
		case kMulti, kIntMulti:
			for _, x := range asSlice(val) {
				out.Add(f.name, scalar(x))
			}
		case kBool:
			if b, _ := val.(bool); b {
				out.Set(f.name, "true")
			}
		case kDate:
			out.Set(f.name, localDate(scalar(val)))
		case kDateTime:
			out.Set(f.name, localDateTime(scalar(val)))
		default:
			out.Set(f.name, scalar(val))
		}
	}
	return out
}

func lookupPath(m map[string]any, name string) (any, bool) {
	head, rest, nested := strings.Cut(name, ".")
	v, ok := m[head]
	if !ok || !nested {
		return v, ok
	}
	sub, ok := v.(map[string]any)
	if !ok {
		return nil, false
	}
	return lookupPath(sub, rest)
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}

// scalar formats a decoded JSON scalar for a form field.
func scalar(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	case nil:
		return ""
	}
	raw, _ := json.Marshal(v)
	return string(raw)
}

// localDate shows an RFC 3339 time as a China-time date (yyyy-mm-dd).
func localDate(s string) string {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.In(chinaTime).Format(time.DateOnly)
	}
	return s
}

// localDateTime shows an RFC 3339 time as datetime-local in China time.
func localDateTime(s string) string {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.In(chinaTime).Format("2006-01-02T15:04")
	}
	return s
}

// decodeObject decodes a JSON object keeping numbers exact.
func decodeObject(raw []byte) map[string]any {
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return m
}
