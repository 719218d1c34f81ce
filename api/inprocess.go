package api

import (
	"context"
	"crypto/subtle"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/livematch/livematch/engine"
	"github.com/livematch/livematch/store"
)

// Credential is what a signed-in web console session keeps instead of the
// API key: the key's one-way lookup id and hash, as the database stores
// them. It cannot be turned back into the key, and it stops working when
// the key is rotated or revoked.
type Credential struct {
	KeyID   string
	KeyHash []byte
}

// CredentialOf derives the credential of an API key (one way).
func CredentialOf(key string) Credential {
	r := keyRecord("", key)
	return Credential{KeyID: r.ID, KeyHash: r.Hash}
}

type credentialKey struct{}

// WithCredential returns ctx carrying cred. A request served by Handler in
// process with that context and no Authorization header is authenticated as
// cred's org, exactly as if it carried the key: the same checks, roles,
// rate limits and errors. Requests from the network cannot carry it.
func WithCredential(ctx context.Context, cred Credential) context.Context {
	return context.WithValue(ctx, credentialKey{}, cred)
}

func credentialFrom(ctx context.Context) (Credential, bool) {
	c, ok := ctx.Value(credentialKey{}).(Credential)
	return c, ok && c.KeyID != ""
}

// SignIn checks an API key and returns its credential and org. A wrong or
// revoked key is KindUnauthenticated; an unreachable database
// KindUnavailable.
func (s *Server) SignIn(ctx context.Context, key string) (Credential, *engine.Org, error) {
	if key == "" || len(key) > 200 {
		return Credential{}, nil, engine.Errorf(engine.KindUnauthenticated, "api.SignIn", "the API key is not valid")
	}
	cred := CredentialOf(key)
	org, err := s.Verify(ctx, cred)
	return cred, org, err
}

// Verify checks that cred is still its org's current key and returns the
// org (see SignIn for the errors).
func (s *Server) Verify(ctx context.Context, cred Credential) (*engine.Org, error) {
	return s.resolve(ctx, store.KeyRecord{ID: cred.KeyID, Hash: cred.KeyHash})
}

// resolve finds the org of a key record (id and hash), from the key cache
// while the database is up, else from the database.
func (s *Server) resolve(ctx context.Context, want store.KeyRecord) (*engine.Org, error) {
	const op = "api.authenticate"
	// Trusted keys skip the database only while it is up, so that an
	// outage answers 503 rather than serving callers it cannot check.
	if orgID, ok := s.keys.get(want); ok && !s.dbDown.Load() {
		if org, err := s.orgs.get(ctx, orgID); err == nil && org != nil {
			return org, nil
		}
	}
	rec, org, err := s.store.KeyByID(ctx, want.ID)
	if engine.IsKind(err, engine.KindNotFound) || (err == nil && subtle.ConstantTimeCompare(rec.Hash, want.Hash) != 1) {
		return nil, engine.Errorf(engine.KindUnauthenticated, op, "the API key is not valid")
	}
	if err != nil {
		return nil, err
	}
	s.keys.put(rec)
	return org, nil
}

// reviewQueue lists the products waiting for review, oldest change first
// (GET /v1/review/queue, admin). Each item carries review_flags (the
// automatic screening's findings; empty until a screening rule fires).
func (s *Server) reviewQueue(c *gin.Context) {
	var p engine.Problems
	limit, err := limitParam(c)
	if err != nil {
		p.Add("limit", "must be a whole number from 1 to 100")
	}
	off := 0
	if v := c.Query("cursor"); v != "" {
		var ok bool
		if off, ok = decodeCursor(v); !ok {
			p.Add("cursor", "is not a cursor from this API")
		}
	}
	if err := p.Err("api.reviewQueue"); err != nil {
		s.fail(c, err)
		return
	}
	// The index lists the candidates; each one on the page is read again
	// from the database, so that a decision just taken (which the index
	// learns a moment later) never shows a decided product as waiting.
	all := s.index.ReviewQueue(engine.ReviewPending)
	out := reviewQueueOut{Items: []reviewItemOut{}}
	i := off
	for ; i < len(all) && len(out.Items) < limit; i++ {
		p, err := s.store.GetProduct(c.Request.Context(), all[i].ID)
		if engine.IsKind(err, engine.KindNotFound) {
			continue
		}
		if err != nil {
			s.fail(c, err)
			return
		}
		if p.ReviewStatus == engine.ReviewPending {
			out.Items = append(out.Items, reviewItemOut{productOut: s.productOut(p), ReviewFlags: []reviewFlagOut{}})
		}
	}
	if i < len(all) && i <= maxOffset {
		out.NextCursor = encodeCursor(i)
	}
	c.JSON(http.StatusOK, out)
}

type reviewQueueOut struct {
	Items      []reviewItemOut `json:"items"`
	NextCursor string          `json:"next_cursor"`
}

type reviewItemOut struct {
	productOut
	ReviewFlags []reviewFlagOut `json:"review_flags"`
}

// reviewFlagOut is one finding of the automatic screening.
type reviewFlagOut struct {
	Code      string `json:"code"`
	Severity  string `json:"severity"`
	Field     string `json:"field"`
	MessageZh string `json:"message_zh"`
	MessageEn string `json:"message_en"`
}
