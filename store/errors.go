package store

import (
	"context"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/topology"

	"github.com/livematch/livematch/engine"
)

// classify translates a driver error into an *engine.Error by type, never by
// message text. A nil error stays nil.
func classify(op string, err error) error {
	if err == nil {
		return nil
	}
	var ee *engine.Error
	if errors.As(err, &ee) {
		return err
	}
	var (
		sel  topology.ServerSelectionError
		pool driver.RetryablePoolError
	)
	switch {
	case errors.Is(err, mongo.ErrNoDocuments):
		return engine.Wrap(engine.KindNotFound, op, "not found", err)
	case mongo.IsDuplicateKeyError(err):
		return engine.Wrap(engine.KindConflict, op, "an object with the same key exists", err)
	case errors.As(err, &sel), mongo.IsNetworkError(err), errors.Is(err, mongo.ErrClientDisconnected),
		// The driver cleared its connection pool after another operation
		// lost its connection (the database went away under it).
		errors.As(err, &pool) && pool.Retryable():
		return engine.Wrap(engine.KindUnavailable, op, "the database is unavailable", err)
	case mongo.IsTimeout(err), errors.Is(err, context.DeadlineExceeded):
		return engine.Wrap(engine.KindUnavailable, op, "the database did not answer in time; try again", err)
	case errors.Is(err, context.Canceled):
		return engine.Wrap(engine.KindUnavailable, op, "the request was cancelled", err)
	case serverGone(err):
		return engine.Wrap(engine.KindUnavailable, op, "the database failed to answer; try again", err)
	default:
		return fmt.Errorf("%s: %w", op, err)
	}
}

// serverGone reports whether err is a server error saying the database, not
// the request, failed: it is shutting down, stepping down, unreachable, or hit
// an internal fault (FerretDB answers InternalError when its backend closes
// under a running command). The request may succeed when retried.
func serverGone(err error) bool {
	var se mongo.ServerError
	if !errors.As(err, &se) {
		return false
	}
	for _, c := range [...]int{
		1,     // InternalError
		6,     // HostUnreachable
		7,     // HostNotFound
		89,    // NetworkTimeout
		91,    // ShutdownInProgress
		189,   // PrimarySteppedDown
		262,   // ExceededTimeLimit
		9001,  // SocketException
		10107, // NotWritablePrimary
		11600, // InterruptedAtShutdown
		11602, // InterruptedDueToReplStateChange
		13435, // NotPrimaryNoSecondaryOk
		13436, // NotPrimaryOrSecondary
	} {
		if se.HasErrorCode(c) {
			return true
		}
	}
	return false
}
