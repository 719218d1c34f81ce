package web

import (
	"net"
	"net/http"
	"strings"

	"golang.org/x/time/rate"

	"github.com/livematch/livematch/engine"
)

// loginPage is the sign-in form's data.
type loginPage struct {
	Next  string
	Error string
}

// safeNext keeps a post-sign-in destination only when it is a console path.
func safeNext(next string) string {
	if strings.HasPrefix(next, "/console/") && !strings.HasPrefix(next, "//") && !strings.ContainsAny(next, "\\\r\n") &&
		!strings.HasPrefix(next, "/console/login") && !strings.HasPrefix(next, "/console/logout") {
		return next
	}
	return "/console/"
}

func (s *Server) loginForm(w http.ResponseWriter, rq *request) {
	if se, err := s.loadSession(rq.ctx(), rq.r); err == nil && se != nil {
		http.Redirect(w, rq.r, safeNext(rq.r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	rq.render(w, http.StatusOK, "login", rq.T("login.title"), loginPage{Next: safeNext(rq.r.URL.Query().Get("next"))})
}

func (s *Server) login(w http.ResponseWriter, rq *request) {
	next := safeNext(rq.r.PostFormValue("next"))
	if !s.allowSignIn(rq.r) {
		w.Header().Set("Retry-After", "1")
		rq.render(w, http.StatusTooManyRequests, "login", rq.T("login.title"), loginPage{Next: next, Error: rq.T("error.rate_limited")})
		return
	}
	key := strings.TrimSpace(rq.r.PostFormValue("api_key"))
	cred, org, err := s.cfg.Auth.SignIn(rq.ctx(), key)
	switch {
	case engine.IsKind(err, engine.KindUnauthenticated):
		rq.render(w, http.StatusUnauthorized, "login", rq.T("login.title"), loginPage{Next: next, Error: rq.T("login.wrong_key")})
		return
	case err != nil:
		rq.failErr(w, err)
		return
	}
	if err := s.startSession(rq.ctx(), w, rq.r, cred, org); err != nil {
		rq.failErr(w, err)
		return
	}
	s.log.Info("console sign-in", "org", org.ID, "kind", org.Kind)
	http.Redirect(w, rq.r, next, http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, rq *request) {
	if err := s.endSession(rq.ctx(), w, rq.r); err != nil {
		rq.failErr(w, err)
		return
	}
	rq.flash("login.signed_out")
	http.Redirect(w, rq.r, "/console/login", http.StatusSeeOther)
}

// allowSignIn limits sign-in attempts per client address.
func (s *Server) allowSignIn(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	s.signInMu.Lock()
	defer s.signInMu.Unlock()
	if len(s.signIns) > 10000 { // bounded: start over rather than grow
		s.signIns = map[string]*rate.Limiter{}
	}
	l := s.signIns[host]
	if l == nil {
		l = rate.NewLimiter(rate.Limit(s.cfg.SignInRate), 10)
		s.signIns[host] = l
	}
	return l.AllowN(s.cfg.Now(), 1)
}
