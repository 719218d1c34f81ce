package web

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/text/message"
	"golang.org/x/time/rate"

	"github.com/livematch/livematch/engine"
)

//go:embed templates/*.html assets messages/*.json
var files embed.FS

// Config holds the console's collaborators and limits.
type Config struct {
	// API is the JSON API's handler, called in process.
	API http.Handler
	// Auth checks keys and session credentials.
	Auth Authenticator
	// Sessions stores sign-in sessions.
	Sessions Sessions
	// Regions names region codes (reference data, read only).
	Regions engine.RegionBook
	Logger  *slog.Logger
	Now     func() time.Time
	// SessionTTL is how long a sign-in lasts (default 12 h).
	SessionTTL time.Duration
	// MaxBodyBytes limits form bodies (default 1 MiB, as the API's JSON
	// bodies); MaxImportBytes an uploaded import file (default 32 MiB, as
	// the API's bulk body).
	MaxBodyBytes   int64
	MaxImportBytes int64
	// SignInRate is the sign-in attempts per second per client address
	// (default 1, burst 10).
	SignInRate float64
}

// Server serves the console under /console/ (and redirects / there).
type Server struct {
	cfg      Config
	log      *slog.Logger
	msgs     *messages
	pages    map[string]*template.Template
	mux      *http.ServeMux
	cop      *http.CrossOriginProtection
	jobs     *jobs
	bg       sync.WaitGroup // running imports
	signInMu sync.Mutex
	signIns  map[string]*rate.Limiter
}

// New builds the console. It fails only if its embedded templates or
// messages are broken.
func New(cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 12 * time.Hour
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	if cfg.MaxImportBytes <= 0 {
		cfg.MaxImportBytes = 32 << 20
	}
	if cfg.SignInRate <= 0 {
		cfg.SignInRate = 1
	}
	msgs, err := loadMessages(files)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: cfg.Logger, msgs: msgs, mux: http.NewServeMux(), cop: http.NewCrossOriginProtection(),
		jobs: newJobs(cfg.Now), signIns: map[string]*rate.Limiter{}}
	if s.pages, err = parsePages(files); err != nil {
		return nil, err
	}
	s.routes()
	return s, nil
}

// Close waits until the running imports have finished or ctx ends (each
// accepted line is in the database as soon as its chunk is answered; an
// import cut short by shutdown keeps what it stored).
func (s *Server) Close(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		s.bg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("console: imports still running at shutdown: %w", ctx.Err())
	}
}

// Handler serves / (a redirect), /console/ and its assets.
func (s *Server) Handler() http.Handler { return s.mux }

// Routes lists the console's route patterns (for tests that visit them all).
func (s *Server) Routes() []string { return slices.Clone(routePatterns) }

// parsePages parses each page template with the shared layout and partials.
func parsePages(fsys fs.FS) (map[string]*template.Template, error) {
	base, err := template.New("").Funcs(funcs()).ParseFS(fsys, "templates/_*.html")
	if err != nil {
		return nil, err
	}
	names, err := fs.Glob(fsys, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		short := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if strings.HasPrefix(short, "_") {
			continue
		}
		t, err := template.Must(base.Clone()).ParseFS(fsys, n)
		if err != nil {
			return nil, err
		}
		pages[short] = t
	}
	return pages, nil
}

// All roles, and the supplier roles.
var (
	anyRole      = []engine.OrgKind{engine.OrgAdmin, engine.OrgFactory, engine.OrgCooperative, engine.OrgImporter, engine.OrgMCN, engine.OrgCrossborderFirm}
	supplierRole = []engine.OrgKind{engine.OrgFactory, engine.OrgCooperative, engine.OrgImporter}
	mcnRole      = []engine.OrgKind{engine.OrgMCN}
	requestRole  = []engine.OrgKind{engine.OrgCrossborderFirm, engine.OrgImporter}
	adminRole    = []engine.OrgKind{engine.OrgAdmin}
)

// routePatterns are the console's pages (GET), for tests.
var routePatterns = []string{
	"/console/", "/console/login", "/console/search",
	"/console/profiles", "/console/profiles/new",
	"/console/products", "/console/products/new", "/console/import",
	"/console/hosts", "/console/host-requests", "/console/host-requests/new",
	"/console/review", "/console/orgs", "/console/account",
	"/console/reservations", "/console/samples",
}

func (s *Server) routes() {
	m := s.mux
	m.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/console/", http.StatusFound)
	})
	assets, _ := fs.Sub(files, "assets")
	m.Handle("GET /console/assets/", s.secure(http.StripPrefix("/console/assets/", assetHandler(assets))))
	m.Handle("GET /console/login", s.public(s.loginForm))
	m.Handle("POST /console/login", s.public(s.login))
	m.Handle("GET /console/logout", s.public(s.logout))
	m.Handle("POST /console/logout", s.public(s.logout))
	m.Handle("GET /console/{$}", s.page(anyRole, s.home))
	m.Handle("GET /console/search", s.page(anyRole, s.search))
	s.productRoutes()
	s.profileRoutes()
	s.hostRoutes()
	s.adminRoutes()
	s.dealRoutes()
	m.Handle("/console/", s.page(anyRole, func(w http.ResponseWriter, rq *request) {
		rq.fail(w, http.StatusNotFound, rq.T("error.not_found"))
	}))
}

// assetHandler serves the embedded assets with long caching (they change
// only with the binary) and the right content types.
func assetHandler(fsys fs.FS) http.Handler {
	fsrv := http.FileServerFS(fsys)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") || r.URL.Path == "" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=3600")
		fsrv.ServeHTTP(w, r)
	})
}

// csp allows only this origin's scripts, styles and images; no inline
// script or style, no framing, forms post only here.
const csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"

// secure sets the security headers every console response carries.
func (s *Server) secure(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", csp)
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "same-origin")
		h.ServeHTTP(w, r)
	})
}

// request is one console request with its language and session.
type request struct {
	s    *Server
	r    *http.Request
	w    http.ResponseWriter
	lang string
	p    *message.Printer
	se   *session // nil on public pages when signed out
}

// T translates a catalogue key in the page's language.
func (rq *request) T(key string, args ...any) string { return rq.p.Sprintf(key, args...) }

// handler is a console page's handler.
type handler func(w http.ResponseWriter, rq *request)

// public wraps a page that needs no session (sign-in, sign-out): security
// headers, language, cross-origin protection on writes.
func (s *Server) public(h handler) http.Handler {
	return s.secure(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rq := s.newRequest(w, r)
		w.Header().Set("Cache-Control", "no-store")
		if err := s.cop.Check(r); err != nil {
			rq.fail(w, http.StatusForbidden, rq.T("error.csrf"))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
		h(w, rq)
	}))
}

// page wraps a page for the given roles: a session is required (else the
// sign-in form, coming back here after), another role's page answers 403,
// and a write must pass the cross-origin check and carry the CSRF token.
func (s *Server) page(roles []engine.OrgKind, h handler) http.Handler {
	return s.pageLimit(roles, 0, h)
}

// pageLimit is page with a body limit of its own (0: MaxBodyBytes).
func (s *Server) pageLimit(roles []engine.OrgKind, limit int64, h handler) http.Handler {
	if limit <= 0 {
		limit = s.cfg.MaxBodyBytes
	}
	return s.secure(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rq := s.newRequest(w, r)
		w.Header().Set("Cache-Control", "no-store")
		se, err := s.loadSession(r.Context(), r)
		if err != nil {
			rq.failErr(w, err)
			return
		}
		if se == nil {
			if r.Method != http.MethodGet {
				rq.fail(w, http.StatusUnauthorized, rq.T("error.signed_out"))
				return
			}
			if r.Header.Get("HX-Request") == "true" {
				w.Header().Set("HX-Redirect", "/console/login")
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			http.Redirect(w, r, "/console/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		rq.se = se
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			r.Body = http.MaxBytesReader(w, r.Body, limit)
			if err := s.cop.Check(r); err != nil || !validCSRF(se, csrfFrom(r, limit)) {
				rq.fail(w, http.StatusForbidden, rq.T("error.csrf"))
				return
			}
		}
		if !slices.Contains(roles, se.org.Kind) {
			rq.fail(w, http.StatusForbidden, rq.T("error.forbidden"))
			return
		}
		h(w, rq)
	}))
}

// csrfFrom reads the CSRF token of a write: the X-CSRF-Token header (htmx
// requests) or the form field csrf_token.
func csrfFrom(r *http.Request, limit int64) string {
	if v := r.Header.Get("X-CSRF-Token"); v != "" {
		return v
	}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		if err := r.ParseMultipartForm(min(limit, 8<<20)); err != nil {
			return ""
		}
	}
	return r.PostFormValue("csrf_token")
}

func (s *Server) newRequest(w http.ResponseWriter, r *http.Request) *request {
	lang := requestLang(w, r, isTLS(r))
	return &request{s: s, r: r, w: w, lang: lang, p: s.msgs.printer(lang)}
}

// view is what every template gets: the page's data plus the layout's.
type view struct {
	rq        *request
	Title     string
	Lang      string
	OtherLang string
	LangURL   string
	Path      string
	Org       *engine.Org
	CSRF      string
	Menu      []menuItem
	Flash     string
	Data      any
}

// T translates a catalogue key in the page's language.
func (v *view) T(key string, args ...any) string { return v.rq.T(key, args...) }

// En reports whether the page is in English.
func (v *view) En() bool { return v.Lang == langEn }

// Name picks the text of the page's language, falling back to the other.
func (v *view) Name(zh, en string) string { return pickName(v.Lang, zh, en) }

// Name picks the text of the page's language, falling back to the other.
func (rq *request) Name(zh, en string) string { return pickName(rq.lang, zh, en) }

// pickName picks the text of lang, falling back to the other language's.
func pickName(lang, zh, en string) string {
	if lang == langEn && en != "" || zh == "" {
		return en
	}
	return zh
}

func (rq *request) view(title string, data any) *view {
	v := &view{rq: rq, Title: title, Lang: rq.lang, OtherLang: langEn, Path: rq.r.URL.Path, Data: data}
	if rq.lang == langEn {
		v.OtherLang = langZh
	}
	v.LangURL = langURL(rq.r.URL, v.OtherLang)
	if rq.se != nil {
		v.Org, v.CSRF = rq.se.org, rq.se.csrf
		v.Menu = menuFor(rq.se.org.Kind, rq.r.URL.Path)
	}
	if c, err := rq.r.Cookie("lm_flash"); err == nil {
		if msg := c.Value; rq.s.msgs.has(msg) {
			v.Flash = rq.T(msg)
		}
		http.SetCookie(rq.w, &http.Cookie{Name: "lm_flash", Path: "/console/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	}
	return v
}

// render executes a page template (the whole page, or for htmx requests
// that ask for a fragment, that block alone).
func (rq *request) render(w http.ResponseWriter, status int, page, title string, data any) {
	rq.renderBlock(w, status, page, "layout", title, data)
}

// renderBlock executes one named block of a page template.
func (rq *request) renderBlock(w http.ResponseWriter, status int, page, block, title string, data any) {
	t, ok := rq.s.pages[page]
	if !ok {
		rq.s.log.Error("no such page template", "page", page)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, block, rq.view(title, data)); err != nil {
		rq.s.log.Error("rendering failed", "page", page, "block", block, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

// flash leaves a one-time message (a catalogue key) for the next page.
func (rq *request) flash(key string) {
	http.SetCookie(rq.w, &http.Cookie{Name: "lm_flash", Value: key, Path: "/console/", HttpOnly: true,
		Secure: isTLS(rq.r), SameSite: http.SameSiteStrictMode, MaxAge: 60})
}

// redirect sends the browser to a console path after a write (303), or
// tells htmx to go there.
func (rq *request) redirect(w http.ResponseWriter, to string) {
	if rq.r.Header.Get("HX-Request") == "true" {
		w.Header().Set("HX-Redirect", to)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	http.Redirect(w, rq.r, to, http.StatusSeeOther)
}

// errorPage is the data of the error page.
type errorPage struct {
	Status  int
	Message string
}

// fail renders the error page with a message.
func (rq *request) fail(w http.ResponseWriter, status int, msg string) {
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "2")
	}
	rq.render(w, status, "error", rq.T("error.title"), errorPage{Status: status, Message: msg})
}

// failErr renders an error from the store or the session checks.
func (rq *request) failErr(w http.ResponseWriter, err error) {
	var e *engine.Error
	switch {
	case errors.As(err, &e) && e.Kind == engine.KindUnavailable:
		rq.fail(w, http.StatusServiceUnavailable, rq.T("error.unavailable"))
	default:
		rq.s.log.Error("console request failed", "path", rq.r.URL.Path, "err", err)
		rq.fail(w, http.StatusInternalServerError, rq.T("error.internal"))
	}
}

// ctx is the request's context.
func (rq *request) ctx() context.Context { return rq.r.Context() }

// menuItem is an entry of the navigation menu.
type menuItem struct {
	Key    string
	Path   string
	Active bool
}

// menuFor lists the pages a role may open, in menu order. Pages of later
// issues (complaints, webhooks, events) take their place here.
func menuFor(kind engine.OrgKind, current string) []menuItem {
	all := []struct {
		key, path string
		roles     []engine.OrgKind
	}{
		{"nav.home", "/console/", anyRole},
		{"nav.search", "/console/search", anyRole},
		{"nav.profiles", "/console/profiles", mcnRole},
		{"nav.hosts", "/console/hosts", mcnRole},
		{"nav.products", "/console/products", supplierRole},
		{"nav.import", "/console/import", supplierRole},
		{"nav.host_requests", "/console/host-requests", requestRole},
		{"nav.reservations", "/console/reservations", dealRole},
		{"nav.samples", "/console/samples", dealRole},
		{"nav.review", "/console/review", adminRole},
		{"nav.orgs", "/console/orgs", adminRole},
		{"nav.account", "/console/account", anyRole},
	}
	var out []menuItem
	for _, it := range all {
		if slices.Contains(it.roles, kind) {
			active := current == it.path || it.path != "/console/" && strings.HasPrefix(current, it.path+"/")
			out = append(out, menuItem{Key: it.key, Path: it.path, Active: active})
		}
	}
	return out
}

// home is each role's start page.
func (s *Server) home(w http.ResponseWriter, rq *request) {
	rq.render(w, http.StatusOK, "home", rq.T("home.title"), nil)
}

// provinceName names a region code in the page's language.
func (s *Server) provinceName(rq *request, code string) string {
	if s.cfg.Regions == nil {
		return code
	}
	r, ok := s.cfg.Regions.Region(code)
	if !ok {
		return code
	}
	if rq.lang == langEn && r.NameEn != "" {
		return r.NameEn
	}
	return r.NameZh
}
