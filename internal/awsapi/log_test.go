package awsapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/warden-iam/warden/awsfake"
	"github.com/warden-iam/warden/internal/awsapi"
	"github.com/warden-iam/warden/internal/collect"
	"github.com/warden-iam/warden/internal/store"
	"github.com/warden-iam/warden/internal/syncer"
)

// isolateAWS keeps the machine's AWS settings out of a test.
func isolateAWS(t *testing.T) {
	t.Helper()
	for _, k := range []string{"AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
		"AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_IAM", "AWS_ENDPOINT_URL_STS", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_RETRY_MODE", "AWS_MAX_ATTEMPTS",
		"AWS_EC2_METADATA_SERVICE_ENDPOINT"} {
		t.Setenv(k, "")
	}
	dir := t.TempDir()
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

// syncBuffer is a bytes.Buffer safe for the handler's concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestDebugLogsEveryCall: an organization sync with Identity Center at
// debug level logs one record per AWS call, as many per action as the
// emulator served, each naming the service, action, account, region,
// duration, attempts and HTTP status, and none carrying a secret key or
// session token (member accounts are read with assumed-role credentials).
func TestDebugLogsEveryCall(t *testing.T) {
	isolateAWS(t)
	ctx := context.Background()
	srv := awsfake.NewServer(awsfake.Options{})
	t.Cleanup(srv.Close)
	const externalID = "log-test-external-id-000000000000"
	truth := awsfake.OrgEstate{Accounts: 2, Seed: 3, ExternalID: externalID,
		PerAccount:     awsfake.Estate{Users: 3, Groups: 2, Roles: 2, Policies: 2},
		IdentityCenter: &awsfake.IdentityCenterEstate{Users: 5, Groups: 2, PermissionSets: 2}}.Build()
	creds := truth.Install(srv)

	var out syncBuffer
	log := slog.New(slog.NewJSONHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug}))
	sess, err := awsapi.Load(ctx, awsapi.Options{Region: "eu-west-1", Endpoint: srv.URL(), Logger: log, MaxBackoff: time.Millisecond,
		Credentials: credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, "")})
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "warden.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	o := syncer.Options{IAM: collect.IAMOptions{AccessKeys: true, ReportPoll: 10 * time.Millisecond}, Logger: log,
		Organization: &syncer.OrganizationOptions{ExternalID: externalID}, IdentityCenter: &syncer.IdentityCenterOptions{}}
	if _, err := syncer.Sync(ctx, sess, st, o); err != nil {
		t.Fatal(err)
	}

	logged := map[string]int64{}
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("not a JSON record: %q", line)
		}
		if rec["msg"] != "aws call" {
			continue
		}
		action, _ := rec["action"].(string)
		logged[action]++
		for _, k := range []string{"service", "action", "account", "region", "duration", "attempts", "status", "error"} {
			if _, ok := rec[k]; !ok {
				t.Errorf("record of %s has no %q: %s", action, k, line)
			}
		}
		// No faults: every call takes one attempt; a call AWS answers with
		// an error (no permissions boundary on a permission set) has its
		// status and code.
		if ok := rec["error"] == "" && rec["status"] == float64(200) || rec["error"] != "" && rec["status"] == float64(400); rec["level"] != "DEBUG" || rec["attempts"] != float64(1) || !ok {
			t.Errorf("record of a clean call: %s", line)
		}
		if acct, _ := rec["account"].(string); len(acct) != 12 {
			t.Errorf("record of %s names account %q, want the account it acted in: %s", action, acct, line)
		}
		if svc, _ := rec["service"].(string); svc == "" || rec["region"] != "eu-west-1" {
			t.Errorf("record of %s: service %q, region %v: %s", action, svc, rec["region"], line)
		}
	}
	served := srv.Calls()
	if len(logged) != len(served) {
		t.Errorf("logged actions %v, emulator served %v", logged, served)
	}
	for action, n := range served {
		if logged[action] != n {
			t.Errorf("%s: %d records, emulator served %d calls", action, logged[action], n)
		}
	}
	if served["sts:AssumeRole"] == 0 || served["identitystore:ListUsers"] == 0 {
		t.Fatalf("the sync did not assume member roles or read Identity Center: %v", served)
	}
	text := out.String()
	for _, secret := range []string{creds.SecretAccessKey, "fake-secret-", "fake-session-token-", "SecretAccessKey", "SessionToken"} {
		if strings.Contains(text, secret) {
			t.Errorf("the debug log contains %q", secret)
		}
	}
}

// TestSDKWarningsGoToDebug: the SDK's own warnings, here the instance
// metadata client's "falling back to IMDSv1" when the metadata service
// refuses a token, reach warden's logger at debug level only, never stderr
// unasked: at warden's default level they are not shown.
func TestSDKWarningsGoToDebug(t *testing.T) {
	isolateAWS(t)
	imds := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodPut: // IMDSv2 token: refused, as by an old proxy
			http.Error(w, "forbidden", http.StatusForbidden)
		case r.URL.Path == "/latest/meta-data/iam/security-credentials/":
			w.Write([]byte("instance-role"))
		case r.URL.Path == "/latest/meta-data/iam/security-credentials/instance-role":
			exp := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
			w.Write([]byte(`{"Code":"Success","AccessKeyId":"ASIAEXAMPLE","SecretAccessKey":"imds-secret","Token":"imds-token","Expiration":"` + exp + `"}`))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(imds.Close)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "false")
	t.Setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.URL)
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		w.Write([]byte(`<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>arn:aws:sts::111122223333:assumed-role/instance-role/i-1</Arn><UserId>AROAEXAMPLE:i-1</UserId><Account>111122223333</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></GetCallerIdentityResponse>`))
	}))
	t.Cleanup(api.Close)

	for _, level := range []slog.Level{slog.LevelDebug, slog.LevelWarn} {
		var out syncBuffer
		log := slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: level}))
		sess, err := awsapi.Load(context.Background(), awsapi.Options{Endpoint: api.URL, Logger: log})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := sess.CallerIdentity(context.Background()); err != nil {
			t.Fatalf("CallerIdentity with instance credentials: %v", err)
		}
		got := out.String()
		switch level {
		case slog.LevelDebug:
			if !strings.Contains(got, "falling back to IMDSv1") || !strings.Contains(got, "level=DEBUG") || strings.Contains(got, " level=WARN") {
				t.Errorf("at debug, the SDK's warning should be a debug record; log:\n%s", got)
			}
		default:
			if got != "" {
				t.Errorf("at warn, nothing should be logged; log:\n%s", got)
			}
		}
		if strings.Contains(got, "imds-secret") || strings.Contains(got, "imds-token") {
			t.Errorf("instance credentials reached the log:\n%s", got)
		}
	}
}
