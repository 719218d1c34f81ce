package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"time"

	"github.com/livematch/livematch/api"
	"github.com/livematch/livematch/engine"
	"github.com/livematch/livematch/store"
)

// sessionCookie holds the browser's session token.
const sessionCookie = "lm_session"

// Sessions stores console sessions (see store.Store).
type Sessions interface {
	// CreateSession stores a new session.
	CreateSession(ctx context.Context, se store.Session) error
	// GetSession returns a live session; KindNotFound when there is none.
	GetSession(ctx context.Context, id string) (store.Session, error)
	// DeleteSession removes a session; a missing one is no error.
	DeleteSession(ctx context.Context, id string) error
}

// Authenticator checks API keys and credentials (see api.Server).
type Authenticator interface {
	// SignIn checks a key: KindUnauthenticated when wrong or revoked.
	SignIn(ctx context.Context, key string) (api.Credential, *engine.Org, error)
	// Verify checks that a credential is still its org's current key.
	Verify(ctx context.Context, cred api.Credential) (*engine.Org, error)
}

// session is a signed-in browser.
type session struct {
	id    string // the stored id (derived from the token)
	cred  api.Credential
	csrf  string
	org   *engine.Org
	token string
}

// newToken returns a fresh random session token.
func newToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // never fails
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// sessionID derives the stored id of a token (one way).
func sessionID(token string) string {
	h := sha256.Sum256([]byte("livematch-session\x00" + token))
	return "ses_" + hex.EncodeToString(h[:16])
}

// csrfToken derives the session's CSRF token: only the holder of the
// session cookie (which scripts cannot read) can know it.
func csrfToken(token string) string {
	h := sha256.Sum256([]byte("livematch-csrf\x00" + token))
	return base64.RawURLEncoding.EncodeToString(h[:18])
}

// validCSRF compares a submitted token with the session's in constant time.
func validCSRF(se *session, got string) bool {
	return se != nil && got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(se.csrf)) == 1
}

// startSession stores a session for cred and sets its cookie.
func (s *Server) startSession(ctx context.Context, w http.ResponseWriter, r *http.Request, cred api.Credential, org *engine.Org) error {
	token := newToken()
	now := s.cfg.Now().UTC()
	err := s.cfg.Sessions.CreateSession(ctx, store.Session{ID: sessionID(token), OrgID: org.ID, KeyID: cred.KeyID,
		KeyHash: cred.KeyHash, CreatedAt: now, ExpiresAt: now.Add(s.cfg.SessionTTL)})
	if err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: token, Path: "/", HttpOnly: true,
		Secure: isTLS(r), SameSite: http.SameSiteStrictMode, MaxAge: int(s.cfg.SessionTTL / time.Second)})
	return nil
}

// loadSession returns the request's session, or nil when it has none, it
// expired, or its key was rotated (then it is deleted). Database failures
// are returned.
func (s *Server) loadSession(ctx context.Context, r *http.Request) (*session, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" || len(c.Value) > 100 {
		return nil, nil
	}
	id := sessionID(c.Value)
	st, err := s.cfg.Sessions.GetSession(ctx, id)
	if engine.IsKind(err, engine.KindNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	cred := api.Credential{KeyID: st.KeyID, KeyHash: st.KeyHash}
	org, err := s.cfg.Auth.Verify(ctx, cred)
	if engine.IsKind(err, engine.KindUnauthenticated) {
		_ = s.cfg.Sessions.DeleteSession(ctx, id)
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &session{id: id, cred: cred, csrf: csrfToken(c.Value), org: org, token: c.Value}, nil
}

// endSession deletes the session and clears its cookie.
func (s *Server) endSession(ctx context.Context, w http.ResponseWriter, r *http.Request) error {
	if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" && len(c.Value) <= 100 {
		if err := s.cfg.Sessions.DeleteSession(ctx, sessionID(c.Value)); err != nil {
			return err
		}
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", HttpOnly: true, Secure: isTLS(r),
		SameSite: http.SameSiteStrictMode, MaxAge: -1})
	return nil
}

// isTLS reports whether the browser reached us over TLS (directly, or
// through a proxy that says so; trusting the header only ever makes the
// cookie stricter).
func isTLS(r *http.Request) bool {
	return r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https"
}
