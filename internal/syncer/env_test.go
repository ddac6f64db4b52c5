package syncer

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/warden-iam/warden/awsfake"
	"github.com/warden-iam/warden/internal/awsapi"
	"github.com/warden-iam/warden/internal/collect"
	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/store"
)

// env is an emulator holding one generated account, a session on it
// (through a fault proxy when the test sets one up) and a SQLite store.
type env struct {
	srv    *awsfake.Server
	truth  *awsfake.Account
	creds  awsfake.Credentials
	sess   *awsapi.Session
	st     *store.DB
	dbPath string
	proxy  *faultProxy
}

// envOptions shape an env.
type envOptions struct {
	fake  awsfake.Options
	fault func(action string, n int) (status int, body string) // answer instead of the emulator when status != 0
}

// isolateAWS keeps the machine's AWS settings out of a test: the session
// must talk to the emulator only.
func isolateAWS(tb testing.TB) {
	tb.Helper()
	for _, k := range []string{"AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
		"AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_IAM", "AWS_ENDPOINT_URL_STS", "AWS_RETRY_MODE", "AWS_MAX_ATTEMPTS"} {
		tb.Setenv(k, "")
	}
	dir := tb.TempDir()
	tb.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	tb.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	tb.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

func newEnv(tb testing.TB, estate awsfake.Estate, o envOptions) *env {
	tb.Helper()
	isolateAWS(tb)
	e := &env{srv: awsfake.NewServer(o.fake)}
	tb.Cleanup(e.srv.Close)
	e.truth = estate.Build()
	e.creds = e.srv.AddAccount(e.truth)
	endpoint := e.srv.URL()
	if o.fault != nil {
		e.proxy = newFaultProxy(tb, endpoint, o.fault)
		endpoint = e.proxy.URL
	}
	e.sess = newSession(tb, endpoint, e.creds)
	e.dbPath = filepath.Join(tb.TempDir(), "warden.db")
	st, err := store.OpenSQLite(context.Background(), e.dbPath)
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	tb.Cleanup(func() { st.Close() })
	e.st = st
	return e
}

// newSession returns a session on endpoint with a limit high enough that
// the emulator, not the limiter, sets the pace, and short backoffs.
func newSession(tb testing.TB, endpoint string, c awsfake.Credentials) *awsapi.Session {
	tb.Helper()
	return newRoleSession(tb, endpoint, c, "", "")
}

// newRoleSession is newSession whose credentials are those of roleARN,
// assumed with c and externalID.
func newRoleSession(tb testing.TB, endpoint string, c awsfake.Credentials, roleARN, externalID string) *awsapi.Session {
	tb.Helper()
	sess, err := awsapi.Load(context.Background(), awsapi.Options{
		Region:             "us-east-1",
		Endpoint:           endpoint,
		Credentials:        credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken),
		RoleARN:            roleARN,
		ExternalID:         externalID,
		IAMRate:            100000,
		OrganizationsRate:  100000,
		IdentityCenterRate: 100000,
		MaxBackoff:         5 * time.Millisecond,
	})
	if err != nil {
		tb.Fatalf("load session: %v", err)
	}
	return sess
}

// syncOptions are the sync options of the tests: keys by ID, a short poll.
func syncOptions() Options {
	return Options{IAM: collect.IAMOptions{AccessKeys: true, ReportPoll: 10 * time.Millisecond}}
}

// faultProxy stands between the SDK and the emulator and can answer a call
// itself: refuse it, or cancel the sync when it arrives.
type faultProxy struct {
	*httptest.Server
	mu     sync.Mutex
	counts map[string]int
}

func newFaultProxy(tb testing.TB, target string, fault func(action string, n int) (int, string)) *faultProxy {
	tb.Helper()
	u, err := url.Parse(target)
	if err != nil {
		tb.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	p := &faultProxy{counts: map[string]int{}}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		form, _ := url.ParseQuery(string(body))
		action := form.Get("Action")
		p.mu.Lock()
		p.counts[action]++
		n := p.counts[action]
		p.mu.Unlock()
		if status, resp := fault(action, n); status != 0 {
			w.Header().Set("Content-Type", "text/xml")
			w.WriteHeader(status)
			io.WriteString(w, resp)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		rp.ServeHTTP(w, r)
	}))
	tb.Cleanup(p.Close)
	return p
}

// count returns how many calls of action went through the proxy.
func (p *faultProxy) count(action string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.counts[action]
}

// accessDenied is IAM's answer to a call the caller may not make.
func accessDenied(action string) string {
	return `<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>AccessDenied</Code>` +
		`<Message>User: arn:aws:iam::111122223333:user/auditor is not authorized to perform: iam:` + action + ` on resource: *</Message></Error>` +
		`<RequestId>proxy</RequestId></ErrorResponse>`
}

// iamCalls sums the emulator's IAM call counters.
func iamCalls(calls map[string]int64) int64 {
	var n int64
	for k, v := range calls {
		if strings.HasPrefix(k, "iam:") {
			n += v
		}
	}
	return n
}

// usersWithKeys counts the users of the truth holding any access key.
func usersWithKeys(truth *awsfake.Account) int {
	n := 0
	for _, u := range truth.IAM.Users {
		if len(u.AccessKeys) > 0 {
			n++
		}
	}
	return n
}

// mfaUsers counts the truth's assigned virtual MFA devices, and the users
// with MFA but no virtual device (whose devices only ListMFADevices shows).
func mfaUsers(truth *awsfake.Account) (virtual, hardwareOnly int) {
	for _, u := range truth.IAM.Users {
		v := 0
		for _, m := range u.MFADevices {
			if m.Virtual {
				v++
			}
		}
		virtual += v
		if v == 0 && len(u.MFADevices) > 0 {
			hardwareOnly++
		}
	}
	return virtual, hardwareOnly
}

// entities counts what GetAccountAuthorizationDetails pages over.
func entities(g *model.Graph) int {
	n := 0
	for _, r := range g.Resources {
		switch r.Type {
		case model.TypeIAMUser, model.TypeIAMGroup, model.TypeIAMRole, model.TypeIAMPolicy:
			n++
		}
	}
	return n
}

// staticCredentials are the SDK credentials of emulator credentials.
func staticCredentials(c awsfake.Credentials) credentials.StaticCredentialsProvider {
	return credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken)
}
