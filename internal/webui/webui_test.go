package webui

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/warden-iam/warden/awsfake"
	"github.com/warden-iam/warden/internal/awsapi"
	"github.com/warden-iam/warden/internal/config"
	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/schedule"
	"github.com/warden-iam/warden/internal/server"
	"github.com/warden-iam/warden/internal/store"
	"github.com/warden-iam/warden/internal/syncjob"
	"github.com/warden-iam/warden/internal/tokens"
)

// stack is the UI on a real store synced from awsfake, with a read token.
type stack struct {
	st      *store.DB
	fake    *awsfake.Server
	org     *awsfake.OrgTruth
	truth   *awsfake.Account // the management account
	ssoUser *awsfake.SSOUser // its display name is xssName
	ui      *UI
	http    *httptest.Server
	read    string
	snap    int64 // the latest snapshot
	first   int64 // the one before, without user between-snapshots
}

func isolateAWS(tb testing.TB) {
	for _, k := range []string{"AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL",
		"AWS_ENDPOINT_URL_IAM", "AWS_ENDPOINT_URL_STS", "AWS_RETRY_MODE", "AWS_MAX_ATTEMPTS"} {
		tb.Setenv(k, "")
	}
	dir := tb.TempDir()
	tb.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	tb.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	tb.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

// xssName is put into an Identity Center display name: shown, it must be
// text, and nothing of it may run.
const xssName = `<script>window.__xss=1</script>"><img src=x onerror="window.__xss=2">`

func newStack(t testing.TB, estate awsfake.Estate) *stack {
	t.Helper()
	isolateAWS(t)
	fake := awsfake.NewServer(awsfake.Options{})
	t.Cleanup(fake.Close)
	org := awsfake.OrgEstate{Accounts: 2, Seed: 5, PerAccount: estate,
		IdentityCenter: &awsfake.IdentityCenterEstate{Users: 6, Groups: 2, PermissionSets: 3}}.Build()
	s := &stack{fake: fake, org: org, truth: org.Management}
	for _, u := range org.IdentityCenter.Users {
		if s.ssoUser == nil || u.UserName < s.ssoUser.UserName {
			s.ssoUser = u
		}
	}
	s.ssoUser.DisplayName = xssName
	creds := org.Install(fake)
	t.Setenv("AWS_ACCESS_KEY_ID", creds.AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", creds.SecretAccessKey)
	conn := config.Connection{ID: "prod", Name: "Production", Region: "us-east-1", Endpoint: fake.URL(),
		Credentials:    config.Credentials{Source: config.SourceEnvironment},
		Organization:   config.Organization{Enabled: true},
		IdentityCenter: config.IdentityCenter{Enabled: true},
		Sync:           config.SyncParts{IAMRate: 100000, AccessKeys: true, CredentialReport: true}}
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "warden.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	s.st = st
	target, err := syncjob.FromConnection(conn)
	if err != nil {
		t.Fatal(err)
	}
	res, err := syncjob.Run(ctx, st, target, syncjob.Options{})
	if err != nil {
		t.Fatalf("sync: %v", err)
	}
	s.first = res.Snapshot.ID
	// A change between two snapshots, for the diff.
	sess, err := awsapi.Load(ctx, awsapi.Options{Region: "us-east-1", Endpoint: fake.URL()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sess.IAM(s.truth.ID).CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("between-snapshots")}); err != nil {
		t.Fatal(err)
	}
	if res, err = syncjob.Run(ctx, st, target, syncjob.Options{}); err != nil {
		t.Fatalf("second sync: %v", err)
	}
	s.snap = res.Snapshot.ID
	svc := tokens.New(st, tokens.Options{})
	if s.read, _, err = svc.Create(ctx, "grafana", tokens.ScopeRead, 0); err != nil {
		t.Fatal(err)
	}
	sched, err := schedule.New(schedule.Options{Store: st, Connections: []schedule.Connection{{Target: target}}})
	if err != nil {
		t.Fatal(err)
	}
	sctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sched.Run(sctx) }()
	t.Cleanup(func() { stop(); <-done })
	if s.ui, err = New(Config{Store: st, Tokens: svc, Syncs: sched, Connections: []config.Connection{conn},
		Provisioning: &server.Provisioning{Store: st, Connections: []config.Connection{conn}}}); err != nil {
		t.Fatal(err)
	}
	s.http = httptest.NewServer(s.ui)
	t.Cleanup(s.http.Close)
	return s
}

// client is a browser-like client: a cookie jar, redirects followed.
func client(t testing.TB) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar}
}

func get(t testing.TB, c *http.Client, u string) (int, string, *http.Response) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp
}

var small = awsfake.Estate{Users: 12, Groups: 4, Roles: 5, Policies: 6, Seed: 3}

func TestSignInAndPrincipalPage(t *testing.T) {
	s := newStack(t, small)
	c := client(t)
	// Signed out: every page sends to the sign-in form.
	code, body, resp := get(t, c, s.http.URL+"/search?q=x")
	if code != 200 || !strings.Contains(body, `name="token"`) || resp.Request.URL.Path != "/signin" {
		t.Fatalf("signed out: %d at %s", code, resp.Request.URL)
	}
	if got := resp.Header.Get("Content-Security-Policy"); !strings.Contains(got, "script-src 'self'") || strings.Contains(got, "unsafe-inline") {
		t.Errorf("CSP %q", got)
	}
	// A wrong token is refused.
	r, err := c.PostForm(s.http.URL+"/signin", signinForm(t, c, s.http.URL, "wdn_wrong", "/"))
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusUnauthorized {
		t.Errorf("wrong token: %d", r.StatusCode)
	}
	// The read token signs in, to the page asked for.
	r, err = c.PostForm(s.http.URL+"/signin", signinForm(t, c, s.http.URL, s.read, "/search?q=x"))
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != 200 || r.Request.URL.Path != "/search" {
		t.Fatalf("sign-in: %d at %s", r.StatusCode, r.Request.URL)
	}
	u, _ := url.Parse(s.http.URL)
	var sc *http.Cookie
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == cookieName {
			sc = ck
		}
	}
	if sc == nil {
		t.Fatal("no session cookie")
	}
	// Search finds a real user of the snapshot, by a part of its name.
	users, err := s.st.Resources(context.Background(), s.snap, store.ResourceFilter{Type: model.TypeIAMUser, AccountID: s.truth.ID})
	if err != nil || len(users) == 0 {
		t.Fatalf("users: %v %d", err, len(users))
	}
	want := users[0]
	for _, u := range users {
		if tu := s.truth.IAM.Users[u.Name]; tu != nil && len(tu.Groups) > 0 {
			want = u
			break
		}
	}
	code, body, _ = get(t, c, s.http.URL+"/search?fragment=1&q="+url.QueryEscape(want.Name[1:len(want.Name)-1]))
	if code != 200 || !strings.Contains(body, ">"+want.Name+"<") {
		t.Fatalf("search %q: %d %s", want.Name, code, body)
	}
	// The principal page draws the user and each of its groups.
	code, body, _ = get(t, c, s.http.URL+"/principal?c=prod&id="+url.QueryEscape(want.ID))
	if code != 200 || !strings.Contains(body, `data-node="`+want.ID+`"`) {
		t.Fatalf("principal: %d %s", code, body)
	}
	tu := s.truth.IAM.Users[want.Name]
	if tu == nil || len(tu.Groups) == 0 {
		t.Fatalf("ground truth has no user %s in a group", want.Name)
	}
	for _, g := range tu.Groups {
		if !strings.Contains(body, ">"+g+"<") {
			t.Errorf("principal page lacks group %s", g)
		}
	}
	// A write without the CSRF token is refused.
	r, err = c.PostForm(s.http.URL+"/signout", url.Values{})
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusForbidden {
		t.Errorf("sign-out without CSRF: %d", r.StatusCode)
	}
}

func TestSignInLinkWorksOnce(t *testing.T) {
	s := newStack(t, small)
	link, err := s.ui.SignInLink(s.http.URL)
	if err != nil {
		t.Fatal(err)
	}
	c := client(t)
	code, body, resp := get(t, c, link)
	if code != 200 || resp.Request.URL.Path != "/" || !strings.Contains(body, "Overview") {
		t.Fatalf("link: %d at %s", code, resp.Request.URL)
	}
	code, _, _ = get(t, client(t), link)
	if code != http.StatusUnauthorized {
		t.Errorf("second use of the link: %d, want 401", code)
	}
	if _, err := s.ui.SignInLink("not a url"); err == nil {
		t.Error("SignInLink accepted a relative base")
	}
}

func TestFindingsCSVAndChanges(t *testing.T) {
	s := newStack(t, small)
	c := client(t)
	r, err := c.PostForm(s.http.URL+"/signin", signinForm(t, c, s.http.URL, s.read, "/"))
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	// Ground truth: the users of the management account with a console
	// password and no MFA device.
	var noMFA []string
	for name, u := range s.truth.IAM.Users {
		if u.LoginProfile != nil && len(u.MFADevices) == 0 {
			noMFA = append(noMFA, name)
		}
	}
	code, body, resp := get(t, c, s.http.URL+"/findings.csv?c=prod&account="+s.truth.ID)
	if code != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("csv: %d %s", code, resp.Header.Get("Content-Type"))
	}
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, row := range rows[1:] {
		if row[5] != s.truth.ID {
			t.Errorf("account filter: row of account %s", row[5])
		}
		if row[0] == "console-without-mfa" {
			got[row[4]] = true
		}
	}
	if len(got) != len(noMFA) {
		t.Errorf("console-without-mfa rows %v, ground truth %v", got, noMFA)
	}
	for _, n := range noMFA {
		if !got[n] {
			t.Errorf("console-without-mfa lacks %s", n)
		}
	}
	code, body, _ = get(t, c, s.http.URL+"/findings?c=prod&severity=medium")
	if code != 200 || strings.Contains(body, "<td>high</td>") {
		t.Errorf("findings filtered to medium: %d", code)
	}
	// The diff of the two snapshots names the user made between them.
	code, body, _ = get(t, c, fmt.Sprintf("%s/changes?c=prod&from=%d&to=%d", s.http.URL, s.first, s.snap))
	if code != 200 || !strings.Contains(body, "between-snapshots") {
		t.Errorf("changes: %d\n%s", code, body)
	}
	code, body, _ = get(t, c, fmt.Sprintf("%s/changes?c=prod&from=%d&to=%d", s.http.URL, s.snap, s.snap))
	if code != 200 || !strings.Contains(body, "Pick two different snapshots") {
		t.Errorf("changes of one snapshot: %d", code)
	}
}
