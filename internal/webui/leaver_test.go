package webui

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// signinForm is the sign-in form's fields as GET /signin gives them to
// client c (its CSRF token; the pre-session cookie goes to c's jar), with
// token and next filled in.
func signinForm(t testing.TB, c *http.Client, base, token, next string) url.Values {
	t.Helper()
	return url.Values{"csrf": {csrfOf(t, c, base+"/signin")}, "token": {token}, "next": {next}}
}

// signIn signs client c in with token through the sign-in form.
func signIn(t testing.TB, c *http.Client, base, token string) {
	t.Helper()
	r, err := c.PostForm(base+"/signin", signinForm(t, c, base, token, "/"))
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusOK || r.Request.URL.Path != "/" {
		t.Fatalf("sign-in: %d at %s", r.StatusCode, r.Request.URL)
	}
}

// csrfOf reads the session's CSRF token from a page.
func csrfOf(t testing.TB, c *http.Client, u string) string {
	t.Helper()
	_, body, _ := get(t, c, u)
	m := csrfField.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no CSRF field on %s", u)
	}
	return m[1]
}

func post(t testing.TB, c *http.Client, u string, v url.Values) (int, string) {
	t.Helper()
	r, err := c.PostForm(u, v)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := r.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return r.StatusCode, b.String()
}

// TestLeaverScopeCSRFAndChangedPlan: a read session gets no button and a
// 403 on the page and on a forged POST; an admin's POST without the CSRF
// token is refused; a confirmation naming another plan applies nothing.
func TestLeaverScopeCSRFAndChangedPlan(t *testing.T) {
	s := newStack(t, small)
	user, _ := leaverUsers(t, s)
	form := url.Values{"c": {"prod"}, "id": {user.ID}, "kind": {"delete-user"}}

	reader := client(t)
	signIn(t, reader, s.http.URL, s.read)
	_, body, _ := get(t, reader, s.http.URL+"/principal?c=prod&id="+url.QueryEscape(user.ID))
	if strings.Contains(body, `id="offboard"`) {
		t.Error("a read session sees the Offboard button")
	}
	if code, _, _ := get(t, reader, s.http.URL+"/leaver?c=prod&id="+url.QueryEscape(user.ID)); code != http.StatusForbidden {
		t.Errorf("GET /leaver as read: %d, want 403", code)
	}
	forged := url.Values{"csrf": {csrfOf(t, reader, s.http.URL+"/")}, "plan": {"x"}}
	for k, v := range form {
		forged[k] = v
	}
	if code, _ := post(t, reader, s.http.URL+"/leaver", forged); code != http.StatusForbidden {
		t.Errorf("POST /leaver as read, with its CSRF token: %d, want 403", code)
	}

	admin := client(t)
	signIn(t, admin, s.http.URL, adminToken(t, s, "ops-admin"))
	_, body, _ = get(t, admin, s.http.URL+"/principal?c=prod&id="+url.QueryEscape(user.ID))
	if !strings.Contains(body, `id="offboard"`) {
		t.Error("an admin session has no Offboard button")
	}
	code, body, _ := get(t, admin, s.http.URL+"/leaver?c=prod&id="+url.QueryEscape(user.ID))
	fp := regexp.MustCompile(`name="plan" value="([0-9a-f]+)"`).FindStringSubmatch(body)
	if code != http.StatusOK || fp == nil {
		t.Fatalf("GET /leaver as admin: %d, no plan fingerprint\n%s", code, body)
	}
	noCSRF := url.Values{"plan": {fp[1]}}
	for k, v := range form {
		noCSRF[k] = v
	}
	if code, _ := post(t, admin, s.http.URL+"/leaver", noCSRF); code != http.StatusForbidden {
		t.Errorf("POST /leaver without the CSRF token: %d, want 403", code)
	}
	changed := url.Values{"csrf": {csrfOf(t, admin, s.http.URL+"/")}, "plan": {"0123456789abcdef0123456789abcdef"}}
	for k, v := range form {
		changed[k] = v
	}
	code, body = post(t, admin, s.http.URL+"/leaver", changed)
	if code != http.StatusConflict || !strings.Contains(body, `id="plan-changed"`) || !strings.Contains(body, fp[1]) {
		t.Errorf("POST /leaver naming another plan: %d, want 409 with the current plan", code)
	}
	if a := s.fake.Account(s.truth.ID); a.IAM.Users[user.Name] == nil {
		t.Fatalf("user %s was deleted though no confirmation named its plan", user.Name)
	}
}
