package metrics

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/warden-iam/warden/awsfake"
	"github.com/warden-iam/warden/internal/awsapi"
	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/schedule"
)

// scrape serves m's handler and compares the named metrics it exposes
// with want, in the text exposition format.
func scrape(t *testing.T, m *Metrics, want string, names ...string) {
	t.Helper()
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	if err := testutil.ScrapeAndCompare(srv.URL, strings.NewReader(want), names...); err != nil {
		t.Error(err)
	}
}

var finished = time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC) // 1796198400

// TestSyncFinished: durations, results, failed accounts, resources by kind,
// last success and API calls after known syncs of two connections, one of
// which failed without a snapshot.
func TestSyncFinished(t *testing.T) {
	m := New()
	m.SyncFinished("prod", 90*time.Second, schedule.ResultPartial, &model.Snapshot{
		FinishedAt: finished,
		Accounts:   model.AccountTally{Planned: 200, Read: 197},
		Counts:     map[string]int{"aws.iam.user": 60000, "aws.iam.role": 800},
		APICalls:   map[string]int64{"iam:ListUsers": 400, "sso:ListPermissionSets": 3, "sts:AssumeRole": 199},
	})
	m.SyncFinished("prod", 2*time.Second, schedule.ResultFailed, nil)
	m.SyncFinished("dev", 45*time.Minute, schedule.ResultComplete, &model.Snapshot{
		FinishedAt: finished.Add(time.Hour),
		Accounts:   model.AccountTally{Planned: 1, Read: 1},
		Counts:     map[string]int{"aws.iam.user": 3},
		APICalls:   map[string]int64{"iam:ListUsers": 1},
	})
	scrape(t, m, `
# HELP warden_sync_duration_seconds Duration of the syncs the scheduler ran, whatever their result, by connection.
# TYPE warden_sync_duration_seconds histogram
warden_sync_duration_seconds_bucket{connection="dev",le="1"} 0
warden_sync_duration_seconds_bucket{connection="dev",le="5"} 0
warden_sync_duration_seconds_bucket{connection="dev",le="15"} 0
warden_sync_duration_seconds_bucket{connection="dev",le="30"} 0
warden_sync_duration_seconds_bucket{connection="dev",le="60"} 0
warden_sync_duration_seconds_bucket{connection="dev",le="120"} 0
warden_sync_duration_seconds_bucket{connection="dev",le="300"} 0
warden_sync_duration_seconds_bucket{connection="dev",le="600"} 0
warden_sync_duration_seconds_bucket{connection="dev",le="1200"} 0
warden_sync_duration_seconds_bucket{connection="dev",le="1800"} 0
warden_sync_duration_seconds_bucket{connection="dev",le="3600"} 1
warden_sync_duration_seconds_bucket{connection="dev",le="7200"} 1
warden_sync_duration_seconds_bucket{connection="dev",le="+Inf"} 1
warden_sync_duration_seconds_sum{connection="dev"} 2700
warden_sync_duration_seconds_count{connection="dev"} 1
warden_sync_duration_seconds_bucket{connection="prod",le="1"} 0
warden_sync_duration_seconds_bucket{connection="prod",le="5"} 1
warden_sync_duration_seconds_bucket{connection="prod",le="15"} 1
warden_sync_duration_seconds_bucket{connection="prod",le="30"} 1
warden_sync_duration_seconds_bucket{connection="prod",le="60"} 1
warden_sync_duration_seconds_bucket{connection="prod",le="120"} 2
warden_sync_duration_seconds_bucket{connection="prod",le="300"} 2
warden_sync_duration_seconds_bucket{connection="prod",le="600"} 2
warden_sync_duration_seconds_bucket{connection="prod",le="1200"} 2
warden_sync_duration_seconds_bucket{connection="prod",le="1800"} 2
warden_sync_duration_seconds_bucket{connection="prod",le="3600"} 2
warden_sync_duration_seconds_bucket{connection="prod",le="7200"} 2
warden_sync_duration_seconds_bucket{connection="prod",le="+Inf"} 2
warden_sync_duration_seconds_sum{connection="prod"} 92
warden_sync_duration_seconds_count{connection="prod"} 2
# HELP warden_syncs_total Syncs the scheduler ran, by connection and result (complete, partial, failed, cancelled).
# TYPE warden_syncs_total counter
warden_syncs_total{connection="dev",result="complete"} 1
warden_syncs_total{connection="prod",result="failed"} 1
warden_syncs_total{connection="prod",result="partial"} 1
# HELP warden_sync_failed_accounts Accounts the last sync that stored a snapshot set out to read and could not, by connection.
# TYPE warden_sync_failed_accounts gauge
warden_sync_failed_accounts{connection="dev"} 0
warden_sync_failed_accounts{connection="prod"} 3
# HELP warden_sync_last_success_timestamp_seconds When the last sync that stored a snapshot (complete or partial) finished, in Unix seconds, by connection.
# TYPE warden_sync_last_success_timestamp_seconds gauge
warden_sync_last_success_timestamp_seconds{connection="dev"} 1796202000
warden_sync_last_success_timestamp_seconds{connection="prod"} 1796198400
# HELP warden_resources Resources in the last snapshot a sync stored, by connection and kind.
# TYPE warden_resources gauge
warden_resources{connection="dev",kind="aws.iam.user"} 3
warden_resources{connection="prod",kind="aws.iam.role"} 800
warden_resources{connection="prod",kind="aws.iam.user"} 60000
# HELP warden_aws_calls_total AWS API requests the scheduler's syncs made, attempts included, by service and action, counted when each sync ends.
# TYPE warden_aws_calls_total counter
warden_aws_calls_total{action="AssumeRole",service="sts"} 199
warden_aws_calls_total{action="ListPermissionSets",service="sso"} 3
warden_aws_calls_total{action="ListUsers",service="iam"} 401
`, "warden_sync_duration_seconds", "warden_syncs_total", "warden_sync_failed_accounts",
		"warden_sync_last_success_timestamp_seconds", "warden_resources", "warden_aws_calls_total")

	// The next snapshot of prod replaces its resources: a kind gone from
	// the estate is gone from the metric; dev keeps its own.
	m.SyncFinished("prod", time.Minute, schedule.ResultComplete, &model.Snapshot{
		FinishedAt: finished.Add(2 * time.Hour),
		Accounts:   model.AccountTally{Planned: 200, Read: 200},
		Counts:     map[string]int{"aws.iam.user": 59999},
	})
	scrape(t, m, `
# HELP warden_resources Resources in the last snapshot a sync stored, by connection and kind.
# TYPE warden_resources gauge
warden_resources{connection="dev",kind="aws.iam.user"} 3
warden_resources{connection="prod",kind="aws.iam.user"} 59999
# HELP warden_sync_failed_accounts Accounts the last sync that stored a snapshot set out to read and could not, by connection.
# TYPE warden_sync_failed_accounts gauge
warden_sync_failed_accounts{connection="dev"} 0
warden_sync_failed_accounts{connection="prod"} 0
# HELP warden_sync_last_success_timestamp_seconds When the last sync that stored a snapshot (complete or partial) finished, in Unix seconds, by connection.
# TYPE warden_sync_last_success_timestamp_seconds gauge
warden_sync_last_success_timestamp_seconds{connection="dev"} 1796202000
warden_sync_last_success_timestamp_seconds{connection="prod"} 1796205600
`, "warden_resources", "warden_sync_failed_accounts", "warden_sync_last_success_timestamp_seconds")
}

// TestSetFindings: findings by rule are replaced a connection at a time.
func TestSetFindings(t *testing.T) {
	m := New()
	m.SetFindings("prod", map[string]int{"admin-user": 4, "stale-key": 17})
	m.SetFindings("dev", map[string]int{"stale-key": 1})
	m.SetFindings("prod", map[string]int{"stale-key": 16, "no-mfa": 2})
	scrape(t, m, `
# HELP warden_findings Findings on the last snapshot of a connection, by connection and rule.
# TYPE warden_findings gauge
warden_findings{connection="dev",rule="stale-key"} 1
warden_findings{connection="prod",rule="no-mfa"} 2
warden_findings{connection="prod",rule="stale-key"} 16
`, "warden_findings")
}

// TestAWSAttemptsThroughTheSDK: with the metrics as the observer of two
// sessions, real SDK calls against an emulated account that throttles
// every other call, and another that answers one action 500 every time,
// are counted as the emulator saw them: each throttle it injected, each
// attempt after a call's first as a retry, and, once the sessions' counts
// reach snapshots, every attempt as an AWS call.
func TestAWSAttemptsThroughTheSDK(t *testing.T) {
	for _, k := range []string{"AWS_PROFILE", "AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
		"AWS_ENDPOINT_URL", "AWS_RETRY_MODE", "AWS_MAX_ATTEMPTS"} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/config")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/credentials")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	const stormy, failing = "111111111111", "222222222222"
	srv := awsfake.NewServer(awsfake.Options{})
	defer srv.Close()
	creds := map[string]awsfake.Credentials{
		stormy:  srv.AddAccount(awsfake.Estate{AccountID: stormy, Users: 3}.Build()),
		failing: srv.AddAccount(awsfake.Estate{AccountID: failing, Users: 3}.Build()),
	}
	srv.SetOptions(awsfake.Options{
		AccountFaults: map[string]awsfake.Faults{stormy: {ThrottleEvery: 2}},
		ActionFaults:  map[string]awsfake.ActionFault{"iam:ListRoles": {}}, // a 500 every time
	})
	m := New()
	sessions := map[string]*awsapi.Session{}
	for account, c := range creds {
		s, err := awsapi.Load(context.Background(), awsapi.Options{Endpoint: srv.URL(), IAMRate: 1e6, MaxBackoff: time.Millisecond,
			Observer: m, Credentials: credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, "")})
		if err != nil {
			t.Fatal(err)
		}
		sessions[account] = s
	}
	const listings = 6
	for i := 0; i < listings; i++ {
		if _, err := sessions[stormy].IAM(stormy).ListUsers(context.Background(), &iam.ListUsersInput{}); err != nil {
			t.Fatalf("ListUsers %d: %v", i, err)
		}
	}
	if _, err := sessions[failing].IAM(failing).ListRoles(context.Background(), &iam.ListRolesInput{}); err == nil {
		t.Fatal("ListRoles passed a persistent fault")
	}

	storm, fails := srv.CallsFor(stormy), srv.CallsFor(failing)
	if fails["iam:ListRoles"] != awsapi.DefaultMaxServerErrors || storm["iam:ListUsers"] != 2*listings-1 {
		t.Fatalf("emulator saw %v and %v: not the faults this test means", storm, fails)
	}
	scrape(t, m, fmt.Sprintf(`
# HELP warden_aws_throttles_total AWS API attempts AWS answered with a throttling error, by service and action.
# TYPE warden_aws_throttles_total counter
warden_aws_throttles_total{action="ListUsers",service="iam"} %d
# HELP warden_aws_retries_total AWS API attempts that retried a call (every attempt after a call's first), by service and action.
# TYPE warden_aws_retries_total counter
warden_aws_retries_total{action="ListRoles",service="iam"} %d
warden_aws_retries_total{action="ListUsers",service="iam"} %d
`, srv.FaultsFor(stormy), fails["iam:ListRoles"]-1, storm["iam:ListUsers"]-listings), "warden_aws_throttles_total", "warden_aws_retries_total")

	for account, s := range sessions {
		m.SyncFinished(account, time.Second, schedule.ResultComplete, &model.Snapshot{APICalls: s.Calls()})
	}
	scrape(t, m, fmt.Sprintf(`
# HELP warden_aws_calls_total AWS API requests the scheduler's syncs made, attempts included, by service and action, counted when each sync ends.
# TYPE warden_aws_calls_total counter
warden_aws_calls_total{action="ListRoles",service="iam"} %d
warden_aws_calls_total{action="ListUsers",service="iam"} %d
`, srv.Calls()["iam:ListRoles"], srv.Calls()["iam:ListUsers"]), "warden_aws_calls_total")
}

// TestMiddleware: requests are counted by the mux's route pattern (never
// the path), method and status; requests no route matched as Unmatched;
// made-up methods as "other"; a route a handler names with SetRoute; and a
// server-sent event stream flushes through.
func TestMiddleware(t *testing.T) {
	m := New()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/resources/{id}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") == "missing" {
			http.Error(w, "no such resource", http.StatusNotFound)
			return
		}
		io.WriteString(w, "{}")
	})
	mux.HandleFunc("/api/v1/events", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		f, ok := w.(http.Flusher)
		if !ok {
			http.Error(w, "the middleware hid http.Flusher", http.StatusInternalServerError)
			return
		}
		io.WriteString(w, "data: {}\n\n")
		f.Flush()
	})
	mux.Handle("/ui/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		SetRoute(r, "/ui/{page}")
		w.WriteHeader(http.StatusNoContent)
	}))
	srv := httptest.NewServer(m.Middleware(mux))
	defer srv.Close()

	for _, req := range []struct {
		method, path string
		status       int
	}{
		{"GET", "/api/v1/resources/a", 200},
		{"GET", "/api/v1/resources/b", 200},
		{"GET", "/api/v1/resources/missing", 404},
		{"DELETE", "/api/v1/resources/a", 405},
		{"BREW", "/api/v1/resources/a", 405},
		{"GET", "/nowhere/1", 404},
		{"GET", "/nowhere/2", 404},
		{"GET", "/api/v1/events", 200},
		{"GET", "/ui/settings", 204},
	} {
		r, err := http.NewRequest(req.method, srv.URL+req.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := srv.Client().Do(r)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != req.status {
			t.Errorf("%s %s = %d, want %d", req.method, req.path, resp.StatusCode, req.status)
		}
		if req.path == "/api/v1/events" && string(body) != "data: {}\n\n" {
			t.Errorf("event stream body = %q", body)
		}
	}
	scrape(t, m, `
# HELP warden_http_requests_total HTTP requests answered, by route pattern, method and status code.
# TYPE warden_http_requests_total counter
warden_http_requests_total{method="DELETE",route="unmatched",status="405"} 1
warden_http_requests_total{method="GET",route="/api/v1/events",status="200"} 1
warden_http_requests_total{method="GET",route="/api/v1/resources/{id}",status="200"} 2
warden_http_requests_total{method="GET",route="/api/v1/resources/{id}",status="404"} 1
warden_http_requests_total{method="GET",route="/ui/{page}",status="204"} 1
warden_http_requests_total{method="GET",route="unmatched",status="404"} 2
warden_http_requests_total{method="other",route="unmatched",status="405"} 1
`, "warden_http_requests_total")
	if got := testutil.CollectAndCount(m.httpDuration, "warden_http_request_duration_seconds"); got != 6 {
		t.Errorf("duration histograms = %d, want 6 (one per route and method)", got)
	}
}
