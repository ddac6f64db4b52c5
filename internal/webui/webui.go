// Package webui is the web UI of `warden serve`: server-rendered pages
// (html/template, embedded), hand-written CSS and small scripts, and SVG
// path diagrams drawn in Go. It signs a visitor in with an API token (or a
// one-time sign-in link) into a session cookie, and reads the store the API
// reads. It is mounted at "/" by internal/server without the bearer check.
package webui

import (
	"context"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/warden-iam/warden/internal/config"
	"github.com/warden-iam/warden/internal/store"
	"github.com/warden-iam/warden/internal/tokens"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Verifier checks an API token (tokens.Service does).
type Verifier interface {
	// Verify returns the live token of secret, or an error wrapping
	// tokens.ErrInvalid.
	Verify(ctx context.Context, secret string) (tokens.Token, error)
}

// Config is what the UI answers from.
type Config struct {
	// Store is read for every page; required.
	Store *store.DB
	// Tokens checks the token a visitor signs in with; required.
	Tokens Verifier
	// Connections are warden.yaml's, listed on the overview.
	Connections []config.Connection
	// Syncs is the scheduler of the sync page; nil shows none.
	Syncs Syncs
	// Provisioning plans and applies the leaver flow (admin sessions);
	// nil offers none.
	Provisioning Provisioning
	// Logger gets sign-in failures (never a secret); nil discards.
	Logger *slog.Logger
	// SessionLifetime is how long a session lasts (0: 8 hours).
	SessionLifetime time.Duration
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

// UI is the web UI's handler.
type UI struct {
	c        Config
	tmpl     *template.Template
	static   http.Handler
	sessions *sessions
	index    searchIndex
	runs     leaverRuns
	counts   findingsCache
	reports  reportCache
	hcache   holdersCache
	assetc   assetCache
	whoCans  whoCanCache
	actCache activityCache
}

// New returns the UI of c.
func New(c Config) (*UI, error) {
	if c.Store == nil || c.Tokens == nil {
		return nil, errors.New("webui: Config.Store and Config.Tokens are required")
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.SessionLifetime == 0 {
		c.SessionLifetime = 8 * time.Hour
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	t, err := template.New("").Funcs(funcs).ParseFS(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, err
	}
	return &UI{c: c, tmpl: t, static: http.StripPrefix("/static/", http.FileServerFS(sub)),
		sessions: newSessions(c.Now, c.SessionLifetime)}, nil
}

// csp allows nothing from elsewhere, no inline script and no inline style.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// ServeHTTP answers every page of the UI.
func (u *UI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	switch r.URL.Path {
	case "/signin":
		u.signIn(w, r)
		return
	case "/signin/link":
		u.signInLink(w, r)
		return
	}
	if len(r.URL.Path) > len("/static/") && r.URL.Path[:len("/static/")] == "/static/" {
		u.static.ServeHTTP(w, r)
		return
	}
	s := u.sessions.fromRequest(r)
	if s == nil {
		http.Redirect(w, r, "/signin?next="+urlQueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		if !s.checkCSRF(r) {
			http.Error(w, "the form's CSRF token is missing or wrong: reload the page and try again", http.StatusForbidden)
			return
		}
	}
	switch r.URL.Path {
	case "/":
		u.overview(w, r, s)
	case "/search":
		u.search(w, r, s)
	case "/principal":
		u.principal(w, r, s)
	case "/account":
		u.accountPage(w, r, s)
	case "/policy":
		u.policyPage(w, r, s)
	case "/permission-set":
		u.permissionSetPage(w, r, s)
	case "/assets":
		u.assets(w, r, s)
	case "/assets/instances", "/assets/security-groups", "/assets/buckets", "/assets/keys-kms", "/assets/functions", "/assets/secrets":
		u.assetList(w, r, s)
	case "/asset":
		u.asset(w, r, s)
	case "/findings":
		u.findings(w, r, s, false)
	case "/findings.csv":
		u.findings(w, r, s, true)
	case "/changes":
		u.changes(w, r, s)
	case "/can":
		u.can(w, r, s)
	case "/who-can":
		u.whoCan(w, r, s, "")
	case "/who-can.csv":
		u.whoCan(w, r, s, "csv")
	case "/who-can.json":
		u.whoCan(w, r, s, "json")
	case "/simulator":
		u.simulator(w, r, s)
	case "/activity":
		u.activityPage(w, r, s, "")
	case "/activity.csv":
		u.activityPage(w, r, s, "csv")
	case "/activity-roles.csv":
		u.activityPage(w, r, s, "roles.csv")
	case "/activity.json":
		u.activityPage(w, r, s, "json")
	case "/sync":
		u.sync(w, r, s)
	case "/sync/events":
		u.syncEvents(w, r, s)
	case "/audit":
		u.audit(w, r, s)
	case "/leaver":
		u.leaver(w, r, s)
	case "/leaver/run":
		u.leaverRunPage(w, r, s)
	case "/signout":
		u.signOut(w, r, s)
	default:
		u.render(w, r, s, http.StatusNotFound, "error.html", page{Title: "Not found", Error: "There is no page " + r.URL.Path + "."})
	}
}
