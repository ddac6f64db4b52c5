package server

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/warden-iam/warden/internal/metrics"
)

// requestInfo is what the request log line says beyond the request
// itself, filled in as the request is answered.
type requestInfo struct {
	route string // the route's pattern, never the path
	token string // the token's name, never the token
}

type infoKey struct{}

// infoOf is the *requestInfo of a request under logRequests; nil outside.
func infoOf(ctx context.Context) *requestInfo {
	i, _ := ctx.Value(infoKey{}).(*requestInfo)
	return i
}

// setRoute names the route of a request, for its log line and metrics.
func setRoute(r *http.Request, route string) {
	if i := infoOf(r.Context()); i != nil {
		i.route = route
	}
	metrics.SetRoute(r, route)
}

// logRequests writes one log line per request: method, route pattern,
// status, duration and the token's name (never the token, never the
// query).
func logRequests(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		started := time.Now()
		info := &requestInfo{}
		r = r.WithContext(context.WithValue(r.Context(), infoKey{}, info))
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		status := sw.status
		if status == 0 {
			status = http.StatusOK
		}
		route := info.route
		if route == "" {
			route = metrics.Unmatched
		}
		log.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("method", r.Method), slog.String("route", route), slog.Int("status", status),
			slog.Duration("duration", time.Since(started)), slog.String("token", info.token))
	})
}

// statusWriter remembers a response's status; it unwraps for
// http.ResponseController (flushes and deadlines of the event stream).
type statusWriter struct {
	http.ResponseWriter
	status int
}

// WriteHeader implements http.ResponseWriter.
func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write implements http.ResponseWriter.
func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Flush implements http.Flusher.
func (w *statusWriter) Flush() {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap returns the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
