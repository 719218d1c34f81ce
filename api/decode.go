package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"

	"github.com/livematch/livematch/engine"
)

// decodeJSON reads one JSON value from body into v strictly: unknown fields,
// trailing data and wrong types are KindInvalid errors naming the field; a
// body over the limit is KindTooLarge.
func decodeJSON(body io.Reader, v any) error {
	const op = "api.decode"
	data, err := io.ReadAll(body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return engine.Errorf(engine.KindTooLarge, op, "the body is larger than %d bytes", mbe.Limit)
		}
		return engine.Wrap(engine.KindInvalid, op, "the body could not be read", err)
	}
	return decodeBytes(data, v)
}

// decodeBytes is decodeJSON for a body already read.
func decodeBytes(data []byte, v any) error {
	const op = "api.decode"
	if len(bytes.TrimSpace(data)) == 0 {
		return engine.InvalidField(op, "body", "a JSON object is required")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(op, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return engine.InvalidField(op, "body", "trailing data after the JSON value")
	}
	return nil
}

var unknownField = regexp.MustCompile(`^json: unknown field "(.*)"$`)

// jsonError turns an encoding/json error into a KindInvalid *engine.Error
// naming the offending field. encoding/json has no error type for unknown
// fields, so that one message is matched; all others are matched by type.
func jsonError(op string, err error) error {
	var (
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
		fe  fieldErr
	)
	field, msg := "body", "malformed JSON"
	switch {
	case errors.As(err, &fe):
		field, msg = fe.field, fe.msg
	case errors.As(err, &syn):
		msg = fmt.Sprintf("malformed JSON at byte %d: %s", syn.Offset, syn.Error())
	case errors.As(err, &typ):
		field = jsonPath(typ.Field)
		if field == "" {
			field = "body"
		}
		msg = fmt.Sprintf("must be %s, not %s", describeType(typ.Type.Kind().String()), typ.Value)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		msg = "the JSON value is incomplete"
	default:
		if m := unknownField.FindStringSubmatch(err.Error()); m != nil && m[1] != "" {
			field, msg = m[1], "unknown field"
		} else if m != nil {
			msg = `unknown field "" (empty name)`
		} else {
			msg = err.Error()
		}
	}
	return &engine.Error{Kind: engine.KindInvalid, Op: op, Msg: "the request body is not valid",
		Fields: []engine.FieldError{{Field: field, Message: msg}}, Err: err}
}

// fieldErr is returned by custom unmarshalers to name a field.
type fieldErr struct{ field, msg string }

func (e fieldErr) Error() string { return e.field + ": " + e.msg }

// jsonPath rewrites encoding/json's "a.0.b" into "a[0].b".
func jsonPath(p string) string {
	parts := strings.Split(p, ".")
	var b strings.Builder
	for i, part := range parts {
		if part != "" && strings.Trim(part, "0123456789") == "" && i > 0 {
			b.WriteString("[" + part + "]")
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(part)
	}
	return b.String()
}

func describeType(kind string) string {
	switch kind {
	case "float32", "float64":
		return "a number"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "a whole number in range"
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "slice", "array":
		return "an array"
	case "struct", "map":
		return "an object"
	default:
		return kind
	}
}

// asEngineError is errors.As for *engine.Error.
func asEngineError(err error, target **engine.Error) bool { return errors.As(err, target) }

// asInvalid returns err's *engine.Error if it is of KindInvalid.
func asInvalid(err error) (*engine.Error, bool) {
	var e *engine.Error
	if errors.As(err, &e) && e.Kind == engine.KindInvalid {
		return e, true
	}
	return nil, false
}
