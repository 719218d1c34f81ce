package store

import (
	"context"
	"log/slog"
	"slices"
)

// lazyAttrs is a slog.Handler that keeps the attributes and groups of
// Logger.With and WithGroup until a record is actually handled. FerretDB
// calls With on every SQL statement, with the statement's arguments (whole
// documents as JSON), only to log at debug level; a text or JSON handler
// formats those attributes at once, which cost about a tenth of the
// server's CPU while bulk-loading. Here the cost is a slice append unless
// the record is enabled.
type lazyAttrs struct {
	h   slog.Handler
	ops []lazyOp
}

// lazyOp is one deferred WithAttrs (attrs) or WithGroup (group).
type lazyOp struct {
	group string
	attrs []slog.Attr
}

// Enabled reports whether the wrapped handler handles level.
func (l *lazyAttrs) Enabled(ctx context.Context, level slog.Level) bool {
	return l.h.Enabled(ctx, level)
}

// Handle applies the deferred attributes and groups, then handles r.
func (l *lazyAttrs) Handle(ctx context.Context, r slog.Record) error {
	h := l.h
	for _, op := range l.ops {
		if op.attrs != nil {
			h = h.WithAttrs(op.attrs)
		} else {
			h = h.WithGroup(op.group)
		}
	}
	return h.Handle(ctx, r)
}

// WithAttrs defers attrs to Handle.
func (l *lazyAttrs) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return l
	}
	return &lazyAttrs{h: l.h, ops: append(slices.Clip(l.ops), lazyOp{attrs: attrs})}
}

// WithGroup defers the group to Handle.
func (l *lazyAttrs) WithGroup(name string) slog.Handler {
	if name == "" {
		return l
	}
	return &lazyAttrs{h: l.h, ops: append(slices.Clip(l.ops), lazyOp{group: name})}
}
