// Package server is the HTTP JSON API of `warden serve`: the same answers
// as the CLI's `-o json` (it calls the same application packages), sync
// status and triggers through the scheduler, provisioning, an OpenAPI 3.1
// document generated from the routes by huma, bearer tokens with a read or
// admin scope, and safe defaults (bounded bodies and pages, timeouts,
// loopback unless TLS). It holds no logic of its own.
package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"sync"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"github.com/warden-iam/warden/internal/config"
	"github.com/warden-iam/warden/internal/metrics"
	"github.com/warden-iam/warden/internal/render"
	"github.com/warden-iam/warden/internal/store"
)

// Config is what a Server answers from.
type Config struct {
	// Store gives the read answers, the audit log and (when it has them)
	// the idempotency keys.
	Store *store.DB
	// Tokens checks bearer tokens; required.
	Tokens Verifier
	// Syncs is the scheduler; nil answers the sync routes 503.
	Syncs Syncs
	// Connections are warden.yaml's: listed, and used by plan, apply and
	// SCIM push.
	Connections []config.Connection
	// Logger gets one line per request; nil discards.
	Logger *slog.Logger
	// Metrics, when set, counts requests and is served at /metrics.
	Metrics *metrics.Metrics
	// UI is mounted at "/" without the bearer check (it has its own
	// sign-in); nil is a short page pointing at the OpenAPI document.
	UI http.Handler
	// Idempotency keeps apply's Idempotency-Key answers; nil uses Store's
	// when it has them (see Idempotency).
	Idempotency Idempotency
	Version     string
	// Now is the clock of findings' ages and the rate limiter; nil is
	// time.Now.
	Now func() time.Time
	// AuthFailureRate and AuthFailureBurst bound failed authentications per
	// client address (per second, and at once); defaults 1 and 10. Past
	// them a client is answered 429 with Retry-After.
	AuthFailureRate  float64
	AuthFailureBurst int
}

// Server answers the API.
type Server struct {
	c        Config
	api      huma.API
	mux      *http.ServeMux
	handler  http.Handler
	failures *failureLimiter
	prov     *Provisioning
}

// maxBody bounds a request's body.
const maxBody = 1 << 20

// Page sizes of listings.
const (
	defaultLimit = 100
	maxLimit     = 1000
)

var setErrorModel sync.Once

// New builds a Server from c.
func New(c Config) (*Server, error) {
	if c.Store == nil {
		return nil, errors.New("server.New: no Store: open the database first")
	}
	if c.Tokens == nil {
		return nil, errors.New("server.New: no Tokens: every route but /healthz needs a token verifier")
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Idempotency == nil {
		c.Idempotency = storeIdempotency(c.Store)
	}
	setErrorModel.Do(func() { huma.NewError = newHumaError })
	s := &Server{c: c, mux: http.NewServeMux(), failures: newFailureLimiter(c.AuthFailureRate, c.AuthFailureBurst, c.Now),
		prov: &Provisioning{Store: c.Store, Connections: c.Connections, Logger: c.Logger}}
	cfg := huma.DefaultConfig("warden", c.Version)
	cfg.CreateHooks = nil // no $schema key in answers: they are the CLI's documents
	cfg.DocsPath, cfg.SchemasPath = "", ""
	cfg.OpenAPIPath = "/api/v1/openapi"
	cfg.Info.Description = "The HTTP JSON API of `warden serve`. Every route but /healthz needs `Authorization: Bearer <token>`; " +
		"GET needs a read or admin token, every other method an admin token. Errors are {\"error\", \"fix\"}."
	cfg.Components.SecuritySchemes = map[string]*huma.SecurityScheme{"bearer": {Type: "http", Scheme: "bearer"}}
	cfg.Security = []map[string][]string{{"bearer": {}}}
	reg := huma.NewMapRegistry("#/components/schemas/", schemaName)
	cfg.Components.Schemas = reg
	reg.RegisterTypeAlias(reflect.TypeOf(json.RawMessage{}), reflect.TypeOf((*any)(nil)).Elem())
	for t, alias := range aliases {
		reg.RegisterTypeAlias(t, alias)
	}
	s.api = humago.New(s.mux, cfg)
	s.api.UseMiddleware(func(ctx huma.Context, next func(huma.Context)) {
		r, _ := humago.Unwrap(ctx)
		setRoute(r, ctx.Operation().Path)
		next(ctx)
	})
	s.routes()
	s.documentPlainRoutes(reg, c.Metrics != nil)
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		setRoute(r, "/healthz")
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	s.mux.HandleFunc("GET /readyz", s.readyz)
	if c.Metrics != nil {
		mh := c.Metrics.Handler()
		s.mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
			setRoute(r, "/metrics")
			mh.ServeHTTP(w, r)
		})
	}
	ui := c.UI
	if ui == nil {
		ui = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/" {
				writeError(w, fail(http.StatusNotFound, "no page "+r.URL.Path, fixFor(http.StatusNotFound)))
				return
			}
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			fmt.Fprintln(w, "warden serve: the API is under /api/v1, described by /api/v1/openapi.json (send `Authorization: Bearer <token>`).")
		})
	}
	s.mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if needsToken(r.URL.Path) {
			setRoute(r, metrics.Unmatched)
			writeError(w, fail(http.StatusNotFound, "no route "+r.Method+" "+r.URL.Path, fixFor(http.StatusNotFound)))
			return
		}
		setRoute(r, "/")
		ui.ServeHTTP(w, r)
	}))
	var h http.Handler = s.authenticate(limitBody(s.mux))
	h = logRequests(c.Logger, h)
	if c.Metrics != nil {
		h = c.Metrics.Middleware(h)
	}
	s.handler = h
	return s, nil
}

// Handler is the whole service: API, /healthz, /readyz, /metrics and the UI.
func (s *Server) Handler() http.Handler { return s.handler }

// OpenAPI is the OpenAPI 3.1 document served at /api/v1/openapi.json.
func (s *Server) OpenAPI() ([]byte, error) { return json.Marshal(s.api.OpenAPI()) }

// limitBody bounds every request body (huma bounds its own too, with 413).
func limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > maxBody {
			writeError(w, fail(http.StatusRequestEntityTooLarge, fmt.Sprintf("the body has %d bytes", r.ContentLength), fixFor(http.StatusRequestEntityTooLarge)))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		next.ServeHTTP(w, r)
	})
}

// Readiness is the answer of /readyz.
type Readiness struct {
	// Ready is true when the database answers and the scheduler runs.
	Ready bool `json:"ready"`
	// Database is "ok" or why the database did not answer.
	Database string `json:"database"`
	// Scheduler is "ok", "no scheduler" or "not running".
	Scheduler string `json:"scheduler"`
}

// documentPlainRoutes adds /healthz, /readyz and (when served) /metrics to
// the OpenAPI document: they are plain handlers, outside huma's routing,
// so that a probe or a scraper never depends on it.
func (s *Server) documentPlainRoutes(reg huma.Registry, withMetrics bool) {
	text := func(desc string) map[string]*huma.MediaType {
		return map[string]*huma.MediaType{"text/plain": {Schema: &huma.Schema{Type: huma.TypeString, Description: desc}}}
	}
	doc := s.api.OpenAPI()
	doc.AddOperation(&huma.Operation{OperationID: "healthz", Method: http.MethodGet, Path: "/healthz",
		Summary: "Alive: answers ok while the process serves (no token needed)", Security: []map[string][]string{},
		Responses: map[string]*huma.Response{"200": {Description: "The process is alive", Content: text("ok and a newline")}}})
	ready := &huma.MediaType{Schema: reg.Schema(reflect.TypeOf(Readiness{}), true, "Readiness")}
	doc.AddOperation(&huma.Operation{OperationID: "readyz", Method: http.MethodGet, Path: "/readyz",
		Summary: "Ready: the database answers and the scheduler runs",
		Responses: map[string]*huma.Response{
			"200": {Description: "Ready", Content: map[string]*huma.MediaType{"application/json": ready}},
			"503": {Description: "Not ready: the fields say which part is not", Content: map[string]*huma.MediaType{"application/json": ready}},
		}})
	if withMetrics {
		doc.AddOperation(&huma.Operation{OperationID: "metrics", Method: http.MethodGet, Path: "/metrics",
			Summary:   "Prometheus metrics (text exposition format)",
			Responses: map[string]*huma.Response{"200": {Description: "The metrics", Content: text("Prometheus text exposition format 0.0.4")}}})
	}
}

// readyz answers 200 when the database answers and the scheduler runs.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	setRoute(r, "/readyz")
	c := Readiness{Ready: true, Database: "ok", Scheduler: "ok"}
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	if _, err := s.c.Store.Connections(ctx); err != nil {
		c.Ready, c.Database = false, err.Error()
	}
	switch {
	case s.c.Syncs == nil:
		c.Ready, c.Scheduler = false, "no scheduler"
	case !s.c.Syncs.Healthy():
		c.Ready, c.Scheduler = false, "not running"
	}
	w.Header().Set("Content-Type", "application/json")
	if !c.Ready {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	_ = json.NewEncoder(w).Encode(c)
}

// document is an answer: the bytes the CLI's `-o json` prints for the
// same value.
type document struct {
	ContentType string `header:"Content-Type"`
	Body        []byte
}

// encode is v as the CLI's render.JSON writes it.
func encode(v any) (*document, error) {
	var b bytes.Buffer
	if err := render.JSON(&b, v); err != nil {
		return nil, fmt.Errorf("encode the answer: %w", err)
	}
	return &document{ContentType: "application/json", Body: b.Bytes()}, nil
}

// register adds a JSON route whose answer is a value of the type of
// sample (its schema in the OpenAPI document), written as the CLI writes
// it. Routes with a body take it as I.Body.
func register[I any](s *Server, op huma.Operation, sample any, h func(ctx context.Context, in *I) (any, error)) {
	status := op.DefaultStatus
	if status == 0 {
		status = http.StatusOK
	}
	schema := schemaOf(s.api.OpenAPI().Components.Schemas, sample, op.OperationID+"Answer")
	op.Responses = map[string]*huma.Response{fmt.Sprint(status): {Description: http.StatusText(status),
		Content: map[string]*huma.MediaType{"application/json": {Schema: schema}}}}
	op.Errors = append([]int{http.StatusUnauthorized, http.StatusTooManyRequests}, op.Errors...)
	if op.Method != http.MethodGet {
		op.Errors = append(op.Errors, http.StatusForbidden, http.StatusRequestEntityTooLarge)
	}
	op.MaxBodyBytes = maxBody
	huma.Register(s.api, op, func(ctx context.Context, in *I) (*document, error) {
		v, err := h(ctx, in)
		if err != nil {
			return nil, err
		}
		if d, ok := v.(*document); ok {
			return d, nil
		}
		return encode(v)
	})
}
