package store

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/livematch/livematch/engine"
)

// collSessions holds the web console's sign-in sessions.
const collSessions = "sessions"

// Session is a web console sign-in. The browser holds a random token; the
// database holds only a one-way id derived from it, plus the signed-in key's
// lookup id and hash (never the key), so that rotating the key ends the
// session: the key id no longer resolves.
type Session struct {
	ID        string // derived from the browser's token; never the token itself
	OrgID     string
	KeyID     string
	KeyHash   []byte
	CreatedAt time.Time
	ExpiresAt time.Time
}

type sessionDoc struct {
	ID        string    `bson:"_id"`
	OrgID     string    `bson:"org_id"`
	KeyID     string    `bson:"key_id"`
	KeyHash   []byte    `bson:"key_hash"`
	CreatedAt time.Time `bson:"created_at"`
	ExpiresAt time.Time `bson:"expires_at"`
}

// CreateSession stores a new session. It is in the database when this
// returns without error.
func (s *Store) CreateSession(ctx context.Context, se Session) error {
	if se.CreatedAt.IsZero() {
		se.CreatedAt = s.stamp()
	}
	_, err := s.sessions.InsertOne(ctx, sessionDoc(se))
	return classify("store.CreateSession", err)
}

// GetSession returns the session with the given id; KindNotFound when there
// is none or it has expired (an expired one is deleted on the way).
func (s *Store) GetSession(ctx context.Context, id string) (Session, error) {
	const op = "store.GetSession"
	var d sessionDoc
	if err := s.sessions.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d); err != nil {
		return Session{}, classify(op, err)
	}
	if !s.now().Before(d.ExpiresAt) {
		_ = s.DeleteSession(ctx, id)
		return Session{}, engine.Errorf(engine.KindNotFound, op, "the session has expired")
	}
	d.CreatedAt, d.ExpiresAt = d.CreatedAt.UTC(), d.ExpiresAt.UTC()
	return Session(d), nil
}

// DeleteSession removes a session (signing out); a missing one is no error.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	_, err := s.sessions.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}})
	return classify("store.DeleteSession", err)
}
