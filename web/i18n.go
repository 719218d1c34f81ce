package web

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/message/catalog"
)

// Languages of the console: Chinese first (the default), then English.
const (
	langZh = "zh"
	langEn = "en"
)

// langCookie remembers the chosen language.
const langCookie = "lm_lang"

// text is one message in both languages.
type text struct {
	Zh string `json:"zh"`
	En string `json:"en"`
}

// messages is the console's message catalogue: every key in both languages.
type messages struct {
	texts map[string]text
	cat   *catalog.Builder
}

// loadMessages reads every messages/*.json file of fsys: objects from key to
// {"zh": …, "en": …}. A key defined twice or missing a language is an error.
func loadMessages(fsys fs.FS) (*messages, error) {
	files, err := fs.Glob(fsys, "messages/*.json")
	if err != nil {
		return nil, err
	}
	m := &messages{texts: map[string]text{}, cat: catalog.NewBuilder(catalog.Fallback(language.Chinese))}
	for _, name := range files {
		raw, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		var part map[string]text
		if err := json.Unmarshal(raw, &part); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		for k, t := range part {
			if _, dup := m.texts[k]; dup {
				return nil, fmt.Errorf("%s: message %q is defined twice", name, k)
			}
			if strings.TrimSpace(t.Zh) == "" || strings.TrimSpace(t.En) == "" {
				return nil, fmt.Errorf("%s: message %q lacks a language", name, k)
			}
			m.texts[k] = t
			if err := m.cat.SetString(language.Chinese, k, t.Zh); err != nil {
				return nil, err
			}
			if err := m.cat.SetString(language.English, k, t.En); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}

// keys lists the catalogue's keys, sorted.
func (m *messages) keys() []string {
	out := make([]string, 0, len(m.texts))
	for k := range m.texts {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// has reports whether key is in the catalogue.
func (m *messages) has(key string) bool { _, ok := m.texts[key]; return ok }

// printer returns a printer for the language (zh or en).
func (m *messages) printer(lang string) *message.Printer {
	tag := language.Chinese
	if lang == langEn {
		tag = language.English
	}
	return message.NewPrinter(tag, message.Catalog(m.cat))
}

// requestLang picks the page's language: ?lang= (remembered in a cookie),
// else the cookie, else Chinese.
func requestLang(w http.ResponseWriter, r *http.Request, secure bool) string {
	if v := r.URL.Query().Get("lang"); v == langZh || v == langEn {
		http.SetCookie(w, &http.Cookie{Name: langCookie, Value: v, Path: "/", MaxAge: 365 * 24 * 3600,
			HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode})
		return v
	}
	if c, err := r.Cookie(langCookie); err == nil && (c.Value == langZh || c.Value == langEn) {
		return c.Value
	}
	return langZh
}

// langURL is the current page's address in the other language.
func langURL(u *url.URL, lang string) string {
	q := u.Query()
	q.Set("lang", lang)
	p := u.Path
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") {
		p = "/console/"
	}
	return p + "?" + q.Encode()
}
