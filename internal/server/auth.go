package server

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/warden-iam/warden/internal/metrics"
	"github.com/warden-iam/warden/internal/tokens"
)

// Verifier checks a bearer token: *tokens.Service is one.
type Verifier interface {
	// Verify returns the live token of secret, or an error wrapping
	// tokens.ErrInvalid.
	Verify(ctx context.Context, secret string) (tokens.Token, error)
}

// allows reports whether a token of scope have may do what needs want: an
// admin token may do everything, a read token only read.
func allows(have, want tokens.Scope) bool {
	switch have {
	case tokens.ScopeAdmin:
		return true
	case tokens.ScopeRead:
		return want == tokens.ScopeRead
	}
	return false
}

// tokenKey is the context key of the request's verified token.
type tokenKey struct{}

// tokenOf is the verified token of a request that passed authenticate.
func tokenOf(ctx context.Context) tokens.Token {
	t, _ := ctx.Value(tokenKey{}).(tokens.Token)
	return t
}

// needsToken reports whether a path is behind the bearer check: the API,
// /readyz and /metrics; not /healthz and not the web UI (which has its own
// sign-in).
func needsToken(path string) bool {
	return path == "/api" || strings.HasPrefix(path, "/api/") || path == "/readyz" || path == "/metrics"
}

// authenticate lets through requests that carry a live bearer token of
// enough scope (read for GET and HEAD and the policy simulator's POST,
// which reads and changes nothing; admin for anything else) and answers
// 401, 403, or 429 once an address has failed too often.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !needsToken(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		// A request refused here is still counted under its route.
		setRoute(r, s.routeOf(r))
		addr := clientAddr(r)
		if wait, limited := s.failures.limited(addr); limited {
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
			writeError(w, fail(http.StatusTooManyRequests, "too many failed authentications from "+addr,
				"wait "+w.Header().Get("Retry-After")+"s, then send a valid token: `warden token create NAME --scope read` makes one"))
			return
		}
		secret, ok := bearer(r)
		if !ok {
			s.failures.fail(addr)
			unauthorized(w, "no bearer token: the request has no `Authorization: Bearer <token>` header")
			return
		}
		tok, err := s.c.Tokens.Verify(r.Context(), secret)
		if err != nil {
			if !errors.Is(err, tokens.ErrInvalid) {
				s.c.Logger.Error("verify token", "err", err)
				writeError(w, fail(http.StatusServiceUnavailable, "cannot check the token: "+err.Error(),
					"check the database is reachable (GET /readyz), then try again"))
				return
			}
			s.failures.fail(addr)
			unauthorized(w, "the bearer token is "+tokens.ErrInvalid.Error())
			return
		}
		if info := infoOf(r.Context()); info != nil {
			info.token = tok.Name
		}
		want := tokens.ScopeRead
		if r.Method != http.MethodGet && r.Method != http.MethodHead && r.URL.Path != PolicyEvalPath {
			want = tokens.ScopeAdmin
		}
		if !allows(tok.Scope, want) {
			writeError(w, fail(http.StatusForbidden, "token "+strconv.Quote(tok.Name)+" has scope "+string(tok.Scope)+"; "+r.Method+" needs "+string(want),
				"use a token of scope admin for writes: `warden token create NAME --scope admin`"))
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), tokenKey{}, tok)))
	})
}

// routeOf is the pattern of the route r would take (without its method),
// or metrics.Unmatched.
func (s *Server) routeOf(r *http.Request) string {
	_, pattern := s.mux.Handler(r)
	if _, path, ok := strings.Cut(pattern, " "); ok {
		pattern = path
	}
	if pattern == "" || pattern == "/" {
		return metrics.Unmatched
	}
	return pattern
}

// bearer is the token of the request's Authorization header.
func bearer(r *http.Request) (string, bool) {
	scheme, secret, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	secret = strings.TrimSpace(secret)
	return secret, secret != ""
}

// unauthorized answers 401 with the challenge of a bearer token.
func unauthorized(w http.ResponseWriter, problem string) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="warden"`)
	writeError(w, fail(http.StatusUnauthorized, problem,
		"send `Authorization: Bearer <token>` with a live token: `warden token create NAME --scope read` makes one (`warden token list` shows which exist)"))
}

// writeError answers e as JSON.
func writeError(w http.ResponseWriter, e *Error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.Status)
	_ = json.NewEncoder(w).Encode(e)
}

// clientAddr is the address a request came from, without its port.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// failureLimiter bounds failed authentications per client address: a
// token bucket each, refilled at rate per second up to burst.
type failureLimiter struct {
	rate  rate.Limit
	burst int
	now   func() time.Time

	mu    sync.Mutex
	addrs map[string]*rate.Limiter
}

// maxAddrs is how many addresses the limiter remembers before it forgets
// those whose bucket is full again.
const maxAddrs = 4096

func newFailureLimiter(perSecond float64, burst int, now func() time.Time) *failureLimiter {
	if perSecond <= 0 {
		perSecond = 1
	}
	if burst <= 0 {
		burst = 10
	}
	return &failureLimiter{rate: rate.Limit(perSecond), burst: burst, now: now, addrs: map[string]*rate.Limiter{}}
}

// limited reports whether addr has used up its failures, and how long
// until it may try again.
func (l *failureLimiter) limited(addr string) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	lim, ok := l.addrs[addr]
	if !ok {
		return 0, false
	}
	now := l.now()
	if lim.TokensAt(now) >= 1 {
		return 0, false
	}
	wait := time.Duration((1 - lim.TokensAt(now)) / float64(l.rate) * float64(time.Second))
	return max(wait, time.Second), true
}

// fail counts one failed authentication of addr.
func (l *failureLimiter) fail(addr string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	lim, ok := l.addrs[addr]
	if !ok {
		if len(l.addrs) >= maxAddrs {
			for a, other := range l.addrs {
				if other.TokensAt(now) >= float64(l.burst) {
					delete(l.addrs, a)
				}
			}
		}
		lim = rate.NewLimiter(l.rate, l.burst)
		l.addrs[addr] = lim
	}
	lim.AllowN(now, 1)
}
