package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver"

	"github.com/livematch/livematch/engine"
)

// poolCleared stands for the driver's unexported poolClearedError ("connection
// pool for … was cleared because another operation failed with: …"), which
// it answers to operations waiting for a connection when another one lost
// its connection: TestDatabaseOutage met it as a 500 in CI.
type poolCleared struct{}

func (poolCleared) Error() string {
	return "connection pool for 127.0.0.1:1 was cleared because another operation failed with: EOF"
}
func (poolCleared) Retryable() bool { return true }

var _ driver.RetryablePoolError = poolCleared{}

func TestClassify(t *testing.T) {
	tests := []struct {
		name string
		err  error
		kind engine.Kind
		ok   bool // false: not an *engine.Error (an internal fault)
	}{
		{"no documents", mongo.ErrNoDocuments, engine.KindNotFound, true},
		{"duplicate key", mongo.WriteException{WriteErrors: []mongo.WriteError{{Code: 11000}}}, engine.KindConflict, true},
		{"deadline", fmt.Errorf("find: %w", context.DeadlineExceeded), engine.KindUnavailable, true},
		{"cancelled", context.Canceled, engine.KindUnavailable, true},
		{"internal error while shutting down", mongo.CommandError{Code: 1, Name: "InternalError", Message: "context canceled"}, engine.KindUnavailable, true},
		{"shutdown in progress", mongo.CommandError{Code: 91, Name: "ShutdownInProgress"}, engine.KindUnavailable, true},
		{"not primary", mongo.WriteException{WriteConcernError: &mongo.WriteConcernError{Code: 10107}}, engine.KindUnavailable, true},
		{"connection pool cleared", fmt.Errorf("find: %w", poolCleared{}), engine.KindUnavailable, true},
		{"bad value", mongo.CommandError{Code: 2, Name: "BadValue"}, 0, false},
		{"plain error", errors.New("boom"), 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := classify("op", tt.err)
			var ee *engine.Error
			if got := errors.As(err, &ee); got != tt.ok {
				t.Fatalf("classify(%v) = %v: engine error %v, want %v", tt.err, err, got, tt.ok)
			}
			if tt.ok && ee.Kind != tt.kind {
				t.Errorf("classify(%v) kind = %v, want %v", tt.err, ee.Kind, tt.kind)
			}
			if !strings.Contains(err.Error(), tt.err.Error()) {
				t.Errorf("classify(%v) = %v: lost the cause", tt.err, err)
			}
		})
	}
	if classify("op", nil) != nil {
		t.Error("classify(nil) is not nil")
	}
}
