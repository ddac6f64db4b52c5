package schedule

import (
	"context"
	"log/slog"
)

// quietHandler is the handler of a sync's own records (the session's and
// the syncer's): their Info records become Debug, so a sync writes one
// Info record, the scheduler's at its end; Warn and Error stay.
type quietHandler struct{ h slog.Handler }

// quiet is the logger of a sync's own records on l's handler.
func quiet(l *slog.Logger) *slog.Logger { return slog.New(quietHandler{l.Handler()}) }

// demote lowers Info (and anything between Info and Warn) to Debug.
func demote(l slog.Level) slog.Level {
	if l >= slog.LevelInfo && l < slog.LevelWarn {
		return slog.LevelDebug
	}
	return l
}

// Enabled reports whether the record, demoted, is written.
func (q quietHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return q.h.Enabled(ctx, demote(l))
}

// Handle writes the record demoted.
func (q quietHandler) Handle(ctx context.Context, r slog.Record) error {
	r.Level = demote(r.Level)
	return q.h.Handle(ctx, r)
}

// WithAttrs keeps the demotion.
func (q quietHandler) WithAttrs(as []slog.Attr) slog.Handler { return quietHandler{q.h.WithAttrs(as)} }

// WithGroup keeps the demotion.
func (q quietHandler) WithGroup(name string) slog.Handler { return quietHandler{q.h.WithGroup(name)} }
