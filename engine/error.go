package engine

import (
	"errors"
	"fmt"
	"strings"
)

// Kind classifies an error so that adapters can react to it without reading
// its message. The api package maps every Kind to exactly one HTTP status.
type Kind uint8

// The kinds of error the domain knows.
const (
	KindInternal        Kind = iota // unexpected failure; details are logged, not shown
	KindInvalid                     // the input breaks a rule; Fields names the offenders
	KindUnauthenticated             // no or unknown credentials
	KindForbidden                   // credentials valid but the role may not do this
	KindNotFound                    // no such object (or not visible to the caller)
	KindConflict                    // the object exists already or clashes with another
	KindPrecondition                // If-Match named a version that is no longer current
	KindTooLarge                    // the request body exceeds the limit
	KindRateLimited                 // the caller sent too many requests
	KindUnavailable                 // a dependency (the database) cannot be reached
)

// Kinds lists every Kind, for exhaustive tests of mappings.
func Kinds() []Kind {
	return []Kind{KindInternal, KindInvalid, KindUnauthenticated, KindForbidden,
		KindNotFound, KindConflict, KindPrecondition, KindTooLarge, KindRateLimited, KindUnavailable}
}

// String returns the kind's name.
func (k Kind) String() string {
	switch k {
	case KindInvalid:
		return "invalid"
	case KindUnauthenticated:
		return "unauthenticated"
	case KindForbidden:
		return "forbidden"
	case KindNotFound:
		return "not_found"
	case KindConflict:
		return "conflict"
	case KindPrecondition:
		return "precondition_failed"
	case KindTooLarge:
		return "too_large"
	case KindRateLimited:
		return "rate_limited"
	case KindUnavailable:
		return "unavailable"
	default:
		return "internal"
	}
}

// FieldError names one offending input field (JSON path, e.g. "certifications[1].type")
// and says what is wrong with it.
type FieldError struct {
	Field   string
	Message string
}

// Error is the one error type of the domain: a Kind, the operation that failed,
// a message safe to show to clients, offending fields, and a wrapped cause.
type Error struct {
	Kind   Kind
	Op     string
	Msg    string
	Fields []FieldError
	Err    error
}

// Error implements error.
func (e *Error) Error() string {
	var b strings.Builder
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteString(": ")
	}
	b.WriteString(e.Kind.String())
	if e.Msg != "" {
		b.WriteString(": ")
		b.WriteString(e.Msg)
	}
	for _, f := range e.Fields {
		fmt.Fprintf(&b, "; %s: %s", f.Field, f.Message)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf builds an *Error of the given kind with a formatted client-safe message.
func Errorf(kind Kind, op, format string, args ...any) *Error {
	return &Error{Kind: kind, Op: op, Msg: fmt.Sprintf(format, args...)}
}

// Wrap builds an *Error of the given kind around a cause. The cause's text is
// not shown to clients; msg is.
func Wrap(kind Kind, op, msg string, err error) *Error {
	return &Error{Kind: kind, Op: op, Msg: msg, Err: err}
}

// KindOf returns the Kind of the first *Error in err's chain, or KindInternal
// when there is none (and for nil, which callers should not ask about).
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}

// IsKind reports whether err's chain holds an *Error of the given kind.
func IsKind(err error, kind Kind) bool {
	var e *Error
	return errors.As(err, &e) && e.Kind == kind
}

// Problems collects field errors during validation.
type Problems struct {
	Fields []FieldError
}

// Add records that field is wrong, with a formatted message.
func (p *Problems) Add(field, format string, args ...any) {
	p.Fields = append(p.Fields, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// Err returns an *Error of KindInvalid naming every recorded field, or nil if none.
func (p *Problems) Err(op string) error {
	if len(p.Fields) == 0 {
		return nil
	}
	return &Error{Kind: KindInvalid, Op: op, Msg: "the request has invalid fields", Fields: p.Fields}
}

// InvalidField returns an *Error of KindInvalid naming one field.
func InvalidField(op, field, message string) *Error {
	return &Error{Kind: KindInvalid, Op: op, Msg: "the request has invalid fields",
		Fields: []FieldError{{Field: field, Message: message}}}
}
