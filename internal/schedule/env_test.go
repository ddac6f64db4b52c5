package schedule

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/warden-iam/warden/awsfake"
	"github.com/warden-iam/warden/internal/awsapi"
	"github.com/warden-iam/warden/internal/collect"
	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/pgtest"
	"github.com/warden-iam/warden/internal/store"
	"github.com/warden-iam/warden/internal/syncjob"
)

// fakeAWS is an emulator holding one generated account.
type fakeAWS struct {
	srv   *awsfake.Server
	truth *awsfake.Account
	creds awsfake.Credentials
}

// newFakeAWS starts an emulator of a small account with latency per call,
// and keeps the machine's AWS settings out of the test.
func newFakeAWS(t *testing.T, users int, latency time.Duration) *fakeAWS {
	t.Helper()
	return newFakeAWSWith(t, users, awsfake.Options{Latency: latency, Seed: 7})
}

// newFakeAWSWith is newFakeAWS with the emulator's options.
func newFakeAWSWith(t *testing.T, users int, o awsfake.Options) *fakeAWS {
	t.Helper()
	for _, k := range []string{"AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
		"AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_IAM", "AWS_ENDPOINT_URL_STS", "AWS_RETRY_MODE", "AWS_MAX_ATTEMPTS"} {
		t.Setenv(k, "")
	}
	dir := t.TempDir()
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	f := &fakeAWS{srv: awsfake.NewServer(o)}
	t.Cleanup(f.srv.Close)
	f.truth = awsfake.Estate{Users: users, Groups: users/5 + 1, Roles: users/2 + 1, Policies: users/5 + 1, Seed: 7}.Build()
	f.creds = f.srv.AddAccount(f.truth)
	return f
}

// target is connection id on the emulator, with the emulator's
// credentials.
func (f *fakeAWS) target(id string) syncjob.Target {
	return f.targetWith(id, f.creds)
}

// targetWith is target with other credentials.
func (f *fakeAWS) targetWith(id string, c awsfake.Credentials) syncjob.Target {
	return syncjob.Target{ID: id, Name: "connection " + id,
		AWS: awsapi.Options{Region: "us-east-1", Endpoint: f.srv.URL(),
			Credentials: credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken),
			IAMRate:     100000, OrganizationsRate: 100000, IdentityCenterRate: 100000, MaxBackoff: 5 * time.Millisecond},
		IAM: collect.IAMOptions{ReportPoll: 10 * time.Millisecond}}
}

// sqliteStore opens a new SQLite store.
func sqliteStore(t *testing.T) *store.DB {
	t.Helper()
	st, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "warden.db"))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// pgTestDatabase creates a database of its own on the server of
// WARDEN_TEST_POSTGRES, dropped when t ends, and returns its URL; "" when
// that is not set.
func pgTestDatabase(t *testing.T) string {
	t.Helper()
	return pgtest.Database(t)
}

// observed is one SyncFinished call.
type observed struct {
	connection string
	result     string
	snapshot   int64
}

// recorder is an Observer that remembers what it was told.
type recorder struct {
	mu    sync.Mutex
	calls []observed
}

// SyncFinished records the call.
func (r *recorder) SyncFinished(connection string, took time.Duration, result string, snap *model.Snapshot) {
	r.mu.Lock()
	defer r.mu.Unlock()
	o := observed{connection: connection, result: result}
	if snap != nil {
		o.snapshot = snap.ID
	}
	r.calls = append(r.calls, o)
}

// all is every call so far.
func (r *recorder) all() []observed {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]observed(nil), r.calls...)
}

// start runs s until the test ends (or stop is called) and returns stop,
// which cancels Run's context and waits for Run to return.
func start(t *testing.T, s *Scheduler) (stop func() time.Duration) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	deadline := time.Now().Add(5 * time.Second)
	for !s.Healthy() {
		if time.Now().After(deadline) {
			t.Fatal("the scheduler did not start")
		}
		time.Sleep(time.Millisecond)
	}
	var once sync.Once
	stop = func() time.Duration {
		var took time.Duration
		once.Do(func() {
			begin := time.Now()
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run returned %v, want nil", err)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("Run did not return within 30 s of its context's end")
			}
			took = time.Since(begin)
		})
		return took
	}
	t.Cleanup(func() { stop() })
	return stop
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// slotsOf counts a connection's snapshots per slot, and those without one.
func slotsOf(t *testing.T, st store.Store, id string) (map[time.Time]int, int) {
	t.Helper()
	snaps, err := st.Snapshots(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	out, none := map[time.Time]int{}, 0
	for _, s := range snaps {
		if s.Slot == nil {
			none++
			continue
		}
		out[s.Slot.UTC()]++
	}
	return out, none
}
