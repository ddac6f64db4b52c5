package webui

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/warden-iam/warden/internal/tokens"
)

// cookieName is the session cookie.
const cookieName = "warden_session"

// preCookieName is the pre-session cookie of the sign-in form: its value,
// signed with the process's key, is the form's CSRF token (login CSRF: a
// site cannot sign a visitor in to a session of its choosing).
const preCookieName = "warden_signin"

// preLifetime is how long a sign-in form stays usable.
const preLifetime = time.Hour

// linkLifetime is how long a sign-in link stays usable (once).
const linkLifetime = 5 * time.Minute

// session is a signed-in visitor: the token it signed in with (by name and
// scope, never its secret) and its CSRF token.
type session struct {
	id      string
	token   string
	scope   tokens.Scope
	csrf    string
	expires time.Time
}

// admin reports whether the session may write.
func (s *session) admin() bool { return s.scope == tokens.ScopeAdmin }

// checkCSRF reports whether the request carries the session's CSRF token
// (form field "csrf" or header X-CSRF-Token).
func (s *session) checkCSRF(r *http.Request) bool {
	got := r.Header.Get("X-CSRF-Token")
	if got == "" {
		got = r.PostFormValue("csrf")
	}
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(s.csrf)) == 1
}

// link is a one-time sign-in link not yet used.
type link struct {
	token   string
	scope   tokens.Scope
	expires time.Time
}

// sessions are kept in memory: a restart signs everyone out.
type sessions struct {
	mu       sync.Mutex
	now      func() time.Time
	lifetime time.Duration
	byID     map[string]*session
	links    map[string]link
	// key signs the sign-in form's CSRF tokens; it lives as long as the
	// process, as the sessions do.
	key []byte
}

func newSessions(now func() time.Time, lifetime time.Duration) *sessions {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return &sessions{now: now, lifetime: lifetime, byID: map[string]*session{}, links: map[string]link{}, key: key}
}

// signinToken is the sign-in form's CSRF token of a pre-session cookie
// value: an HMAC, so a cookie planted by another site (a sibling
// subdomain) is of no use without the token only this process can make.
func (ss *sessions) signinToken(pre string) string {
	m := hmac.New(sha256.New, ss.key)
	m.Write([]byte("warden sign-in\x00" + pre))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// preSession returns the sign-in form's CSRF token, setting a fresh
// pre-session cookie (HttpOnly, SameSite=Strict, Secure under TLS) unless
// the request carries one.
func (u *UI) preSession(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(preCookieName); err == nil && len(c.Value) == 43 {
		return u.sessions.signinToken(c.Value)
	}
	pre := random()
	http.SetCookie(w, &http.Cookie{Name: preCookieName, Value: pre, Path: "/signin", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil, MaxAge: int(preLifetime / time.Second)})
	return u.sessions.signinToken(pre)
}

// checkSignin reports whether a sign-in POST carries the form's CSRF
// token matching its pre-session cookie (double submit, signed).
func (u *UI) checkSignin(r *http.Request) bool {
	c, err := r.Cookie(preCookieName)
	got := r.PostFormValue("csrf")
	if err != nil || c.Value == "" || got == "" {
		return false
	}
	return hmac.Equal([]byte(got), []byte(u.sessions.signinToken(c.Value)))
}

// random is 32 random bytes, URL-safe.
func random() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func (ss *sessions) create(name string, scope tokens.Scope) *session {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	now := ss.now()
	for id, s := range ss.byID {
		if now.After(s.expires) {
			delete(ss.byID, id)
		}
	}
	s := &session{id: random(), token: name, scope: scope, csrf: random(), expires: now.Add(ss.lifetime)}
	ss.byID[s.id] = s
	return s
}

func (ss *sessions) fromRequest(r *http.Request) *session {
	c, err := r.Cookie(cookieName)
	if err != nil {
		return nil
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	s := ss.byID[c.Value]
	if s == nil || ss.now().After(s.expires) {
		return nil
	}
	return s
}

func (ss *sessions) remove(id string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	delete(ss.byID, id)
}

// addLink records a one-time sign-in secret.
func (ss *sessions) addLink(name string, scope tokens.Scope) string {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	now := ss.now()
	for k, l := range ss.links {
		if now.After(l.expires) {
			delete(ss.links, k)
		}
	}
	secret := random()
	ss.links[secret] = link{token: name, scope: scope, expires: now.Add(linkLifetime)}
	return secret
}

// useLink spends a one-time secret: it works once, before it expires.
func (ss *sessions) useLink(secret string) (link, bool) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	l, ok := ss.links[secret]
	delete(ss.links, secret)
	if !ok || ss.now().After(l.expires) {
		return link{}, false
	}
	return l, true
}

// SignInLink returns a URL under base (e.g. "http://127.0.0.1:8080") that
// signs its first visitor in with admin scope, within 5 minutes; then it is
// dead. `warden demo --serve` prints one.
func (u *UI) SignInLink(base string) (string, error) {
	b, err := url.Parse(base)
	if err != nil || b.Scheme == "" || b.Host == "" {
		return "", errors.New("webui: SignInLink needs an absolute base URL such as http://127.0.0.1:8080")
	}
	secret := u.sessions.addLink("sign-in-link", tokens.ScopeAdmin)
	return strings.TrimSuffix(b.String(), "/") + "/signin/link?s=" + secret, nil
}

func (u *UI) setCookie(w http.ResponseWriter, r *http.Request, s *session) {
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: s.id, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil, Expires: s.expires})
}

// safeNext is a local path to go to after sign-in, or "/".
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	return next
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

func (u *UI) signIn(w http.ResponseWriter, r *http.Request) {
	next := safeNext(r.FormValue("next"))
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		u.render(w, r, nil, http.StatusOK, "signin.html", page{Title: "Sign in", Next: next, CSRF: u.preSession(w, r)})
	case http.MethodPost:
		if !u.checkSignin(r) {
			u.c.Logger.Info("web UI sign-in refused: no or wrong sign-in form token", "client", r.RemoteAddr)
			u.render(w, r, nil, http.StatusForbidden, "signin.html", page{Title: "Sign in", Next: next, CSRF: u.preSession(w, r),
				Error: "This sign-in did not come from warden's own sign-in form (its CSRF token is missing, wrong or expired): sign in again below."})
			return
		}
		secret := strings.TrimSpace(r.PostFormValue("token"))
		t, err := u.c.Tokens.Verify(r.Context(), secret)
		if err != nil {
			u.c.Logger.Info("web UI sign-in refused", "client", r.RemoteAddr)
			u.render(w, r, nil, http.StatusUnauthorized, "signin.html", page{Title: "Sign in", Next: next, CSRF: u.preSession(w, r),
				Error: "That token is unknown, expired or revoked. Create one with `warden token create NAME --scope read`."})
			return
		}
		s := u.sessions.create(t.Name, t.Scope)
		u.setCookie(w, r, s)
		http.SetCookie(w, &http.Cookie{Name: preCookieName, Value: "", Path: "/signin", HttpOnly: true, SameSite: http.SameSiteStrictMode, MaxAge: -1})
		http.Redirect(w, r, next, http.StatusSeeOther)
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "sign in with GET or POST", http.StatusMethodNotAllowed)
	}
}

func (u *UI) signInLink(w http.ResponseWriter, r *http.Request) {
	l, ok := u.sessions.useLink(r.URL.Query().Get("s"))
	if !ok {
		u.render(w, r, nil, http.StatusUnauthorized, "signin.html", page{Title: "Sign in", Next: "/", CSRF: u.preSession(w, r),
			Error: "That sign-in link was already used or has expired. Sign in with an API token."})
		return
	}
	s := u.sessions.create(l.token, l.scope)
	u.setCookie(w, r, s)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (u *UI) signOut(w http.ResponseWriter, r *http.Request, s *session) {
	if r.Method != http.MethodPost {
		http.Error(w, "sign out with the Sign out button (POST)", http.StatusMethodNotAllowed)
		return
	}
	u.sessions.remove(s.id)
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode, MaxAge: -1})
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
}
