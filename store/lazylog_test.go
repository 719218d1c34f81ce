package store

import (
	"bytes"
	"context"
	"log/slog"
	"testing"
)

// countingValue counts how often the handler resolved it.
type countingValue struct{ n *int }

func (c countingValue) LogValue() slog.Value { *c.n++; return slog.StringValue("doc") }

func TestLazyAttrs(t *testing.T) {
	cases := []struct {
		name  string
		build func(*slog.Logger, slog.Value) *slog.Logger
	}{
		{"attrs", func(l *slog.Logger, v slog.Value) *slog.Logger { return l.With("args", v) }},
		{"group then attrs", func(l *slog.Logger, v slog.Value) *slog.Logger {
			return l.WithGroup("ferretdb").With("args", v).With("n", 2)
		}},
		{"attrs then group", func(l *slog.Logger, v slog.Value) *slog.Logger {
			return l.With("args", v).WithGroup("g").With("n", 2)
		}},
		{"empty group and no attrs", func(l *slog.Logger, v slog.Value) *slog.Logger {
			return l.WithGroup("").With().With("args", v)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			opts := &slog.HandlerOptions{Level: slog.LevelInfo, ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
				if a.Key == slog.TimeKey {
					return slog.Attr{}
				}
				return a
			}}
			var direct, lazy bytes.Buffer
			var nDirect, nLazy int
			d := tc.build(slog.New(slog.NewTextHandler(&direct, opts)), slog.AnyValue(countingValue{&nDirect}))
			l := tc.build(slog.New(&lazyAttrs{h: slog.NewTextHandler(&lazy, opts)}), slog.AnyValue(countingValue{&nLazy}))
			d.Debug("hidden")
			l.Debug("hidden")
			if nLazy != 0 || lazy.Len() != 0 {
				t.Fatalf("a disabled record resolved its attributes %d times and wrote %q", nLazy, lazy.String())
			}
			if nDirect == 0 {
				t.Fatalf("the text handler no longer resolves attributes in With: the wrapper is not needed")
			}
			d.Warn("shown", "k", "v")
			l.Warn("shown", "k", "v")
			if lazy.String() != direct.String() {
				t.Fatalf("lazy wrote %q, the handler itself %q", lazy.String(), direct.String())
			}
			if !l.Enabled(context.Background(), slog.LevelWarn) || l.Enabled(context.Background(), slog.LevelDebug) {
				t.Fatal("Enabled does not follow the wrapped handler")
			}
		})
	}
}
