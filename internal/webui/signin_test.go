package webui

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestSignInNeedsItsFormToken: login CSRF. A sign-in POST is accepted
// only with the form's token matching the pre-session cookie (signed
// double submit): not without it, not without the cookie, not with a
// cookie and field an attacker chose alike, not with another visitor's.
func TestSignInNeedsItsFormToken(t *testing.T) {
	s := newStack(t, small)
	base := s.http.URL
	hasSession := func(c *http.Client) bool {
		u, _ := url.Parse(base)
		for _, ck := range c.Jar.Cookies(u) {
			if ck.Name == cookieName {
				return true
			}
		}
		return false
	}
	// The pre-session cookie: HttpOnly, SameSite=Strict, for /signin only.
	_, _, resp := get(t, client(t), base+"/signin")
	sc := resp.Header.Get("Set-Cookie")
	for _, want := range []string{preCookieName + "=", "HttpOnly", "SameSite=Strict", "Path=/signin"} {
		if !strings.Contains(sc, want) {
			t.Errorf("the sign-in form's cookie %q lacks %s", sc, want)
		}
	}

	// Without the form's token: refused, no session, the form again.
	c := client(t)
	form := signinForm(t, c, base, s.read, "/")
	noToken := url.Values{"token": {s.read}, "next": {"/"}}
	code, body := post(t, c, base+"/signin", noToken)
	if code != http.StatusForbidden || !strings.Contains(body, "CSRF token is missing") || hasSession(c) {
		t.Errorf("sign-in without the form's token: %d, session %v", code, hasSession(c))
	}
	// Without the pre-session cookie (another browser posting the field).
	if code, _ := post(t, client(t), base+"/signin", form); code != http.StatusForbidden {
		t.Errorf("sign-in without the pre-session cookie: %d", code)
	}
	// An attacker's own cookie and the same value as the field.
	forger := client(t)
	u, _ := url.Parse(base + "/signin")
	forger.Jar.SetCookies(u, []*http.Cookie{{Name: preCookieName, Value: strings.Repeat("A", 43), Path: "/signin"}})
	if code, _ := post(t, forger, base+"/signin", url.Values{"csrf": {strings.Repeat("A", 43)}, "token": {s.read}, "next": {"/"}}); code != http.StatusForbidden || hasSession(forger) {
		t.Errorf("sign-in with a planted cookie and field alike: %d", code)
	}
	// Another visitor's token with this visitor's cookie.
	other := client(t)
	_ = signinForm(t, other, base, s.read, "/")
	if code, _ := post(t, other, base+"/signin", form); code != http.StatusForbidden || hasSession(other) {
		t.Errorf("sign-in with another visitor's form token: %d", code)
	}
	// The form as served: signed in, the pre-session cookie cleared.
	code, _ = post(t, c, base+"/signin", form)
	if code != http.StatusOK || !hasSession(c) {
		t.Fatalf("sign-in through the form: %d, session %v", code, hasSession(c))
	}
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == preCookieName {
			t.Errorf("the pre-session cookie outlives the sign-in")
		}
	}
}
