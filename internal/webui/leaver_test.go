package webui

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/warden-iam/warden/internal/awsapi"
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
// token is refused; a confirmation of a plan AWS's state has moved from
// applies nothing and shows the new plan; deactivate-user, confirmed and
// followed on the run resource, leaves awsfake's user without access.
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
	// AWS's state moves after the plan was shown (a new access key): the
	// confirmation of the old plan applies nothing and shows the new one.
	sess, err := awsapi.Load(context.Background(), awsapi.Options{Region: "us-east-1", Endpoint: s.fake.URL()})
	if err != nil {
		t.Fatal(err)
	}
	key, err := sess.IAM(s.truth.ID).CreateAccessKey(context.Background(), &iam.CreateAccessKeyInput{UserName: aws.String(user.Name)})
	if err != nil {
		t.Fatal(err)
	}
	changed := url.Values{"csrf": {csrfOf(t, admin, s.http.URL+"/")}, "plan": {fp[1]}}
	for k, v := range form {
		changed[k] = v
	}
	code, body = post(t, admin, s.http.URL+"/leaver", changed)
	if code != http.StatusConflict || !strings.Contains(body, `id="plan-changed"`) || strings.Contains(body, `value="`+fp[1]+`"`) ||
		!strings.Contains(body, "AccessKeyId="+aws.ToString(key.AccessKey.AccessKeyId)) {
		t.Errorf("POST /leaver confirming a plan AWS's state has moved from: %d, want 409 with the new plan deleting key %s",
			code, aws.ToString(key.AccessKey.AccessKeyId))
	}
	if a := s.fake.Account(s.truth.ID); a.IAM.Users[user.Name] == nil {
		t.Fatalf("user %s was deleted though no confirmation named its plan", user.Name)
	}

	// deactivate-user through the form, followed on the run resource
	// (without JavaScript: the page refreshes itself until done).
	_, body, _ = get(t, admin, s.http.URL+"/leaver?c=prod&kind=deactivate-user&id="+url.QueryEscape(user.ID))
	fp = regexp.MustCompile(`name="plan" value="([0-9a-f]+)"`).FindStringSubmatch(body)
	if fp == nil || !strings.Contains(body, "iam:UpdateAccessKey") {
		t.Fatalf("the deactivate-user plan:\n%s", body)
	}
	deact := url.Values{"csrf": {csrfOf(t, admin, s.http.URL+"/")}, "plan": {fp[1]}, "c": {"prod"}, "id": {user.ID}, "kind": {"deactivate-user"}}
	r, err := admin.PostForm(s.http.URL+"/leaver", deact)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	runURL := r.Request.URL.String()
	if r.StatusCode != 200 || r.Request.URL.Path != "/leaver/run" {
		t.Fatalf("confirming deactivate-user: %d at %s", r.StatusCode, runURL)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		_, body, _ = get(t, admin, runURL+"&fragment=1")
		if strings.Contains(body, "data-done") {
			break
		}
		if !strings.Contains(body, "Applying") || time.Now().After(deadline) {
			t.Fatalf("the run did not finish:\n%s", body)
		}
	}
	if strings.Contains(body, `data-result="failed"`) || !strings.Contains(body, "every call succeeded") {
		t.Errorf("deactivate-user run:\n%s", body)
	}
	if _, page, _ := get(t, admin, runURL); strings.Contains(page, `http-equiv="refresh"`) {
		t.Error("a finished run's page still refreshes itself")
	}
	// Ground truth: still there, no password, every key inactive.
	u := s.fake.Account(s.truth.ID).IAM.Users[user.Name]
	if u == nil || u.LoginProfile != nil {
		t.Fatalf("after deactivate-user awsfake has %+v, want the user without a password", u)
	}
	for _, k := range u.AccessKeys {
		if k.Status != "Inactive" {
			t.Errorf("key %s is %s after deactivate-user", k.ID, k.Status)
		}
	}
	if !strings.Contains(body, "still in it") {
		t.Errorf("the run page does not say the deactivated user is still in the snapshot")
	}
}
