package metrics

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Unmatched is the route label of a request no route matched (a 404 of
// the mux, or a handler that set no route).
const Unmatched = "unmatched"

// methods are the HTTP methods counted by name; any other is "other", so a
// client cannot grow the metric with made-up methods.
var methods = map[string]bool{
	http.MethodGet: true, http.MethodHead: true, http.MethodPost: true, http.MethodPut: true,
	http.MethodPatch: true, http.MethodDelete: true, http.MethodOptions: true,
}

// routeKey is the context key of a request's *routeLabel.
type routeKey struct{}

// routeLabel is the route a handler named with SetRoute.
type routeLabel struct{ route string }

// SetRoute names the route of a request that Middleware is measuring, for
// handlers not routed by http.ServeMux (whose pattern Middleware reads by
// itself). route must be a pattern, "/api/v1/resources/{id}", never the
// request's path, so that the label's values stay few. Outside Middleware
// it does nothing.
func SetRoute(r *http.Request, route string) {
	if l, ok := r.Context().Value(routeKey{}).(*routeLabel); ok {
		l.route = route
	}
}

// Middleware records every request next answers: a count by route, method
// and status, and its duration by route and method. The route is the one
// a handler set with SetRoute, else the pattern of the http.ServeMux route
// that matched (without its method, which is a label of its own), else
// Unmatched: never the raw path.
func (m *Metrics) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		started := time.Now()
		label := &routeLabel{}
		r = r.WithContext(context.WithValue(r.Context(), routeKey{}, label))
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			// A handler that panics answered 500 if it answered nothing;
			// net/http recovers the panic itself.
			p := recover()
			status := sw.status
			if status == 0 {
				status = http.StatusOK
				if p != nil {
					status = http.StatusInternalServerError
				}
			}
			m.observeRequest(routeOf(r, label), r.Method, status, time.Since(started))
			if p != nil {
				panic(p)
			}
		}()
		next.ServeHTTP(sw, r)
	})
}

// observeRequest counts one request.
func (m *Metrics) observeRequest(route, method string, status int, took time.Duration) {
	if !methods[method] {
		method = "other"
	}
	m.httpRequests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.httpDuration.WithLabelValues(route, method).Observe(took.Seconds())
}

// routeOf is the route label of r once it was answered.
func routeOf(r *http.Request, label *routeLabel) string {
	if label.route != "" {
		return label.route
	}
	if r.Pattern == "" {
		return Unmatched
	}
	// "GET /api/v1/connections/{id}" → "/api/v1/connections/{id}".
	if _, path, ok := strings.Cut(r.Pattern, " "); ok {
		return strings.TrimLeft(path, " \t")
	}
	return r.Pattern
}

// statusWriter remembers the status code of a response. It passes Flush
// on (server-sent events need it) and unwraps for http.ResponseController.
type statusWriter struct {
	http.ResponseWriter
	status int // 0 until the header is written
}

// WriteHeader implements http.ResponseWriter.
func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code // 1xx informational headers are not the answer
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

// Flush implements http.Flusher when the underlying writer can flush.
func (w *statusWriter) Flush() {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap returns the underlying writer, for http.ResponseController.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
