package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/warden-iam/warden/awsfake"
	"github.com/warden-iam/warden/internal/awsapi"
	"github.com/warden-iam/warden/internal/config"
	"github.com/warden-iam/warden/internal/schedule"
	"github.com/warden-iam/warden/internal/store"
	"github.com/warden-iam/warden/internal/syncer"
	"github.com/warden-iam/warden/internal/syncjob"
	"github.com/warden-iam/warden/internal/tokens"
)

const testAccount = "111122223333"

// env is a service on a real store synced from awsfake, with a read and
// an admin token, served over real HTTP.
type env struct {
	fake        *awsfake.Server
	truth       *awsfake.Account
	st          *store.DB
	conn        config.Connection
	srv         *Server
	http        *httptest.Server
	read, admin string
	logs        *syncBuffer
	syncs       *testSyncs
	firstSnap   int64
	latestSnap  int64
}

// syncBuffer is a log sink safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

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

func newEnv(t testing.TB, estate awsfake.Estate, c Config) *env {
	t.Helper()
	isolateAWS(t)
	e := &env{fake: awsfake.NewServer(awsfake.Options{}), logs: &syncBuffer{}}
	t.Cleanup(e.fake.Close)
	e.truth = estate.Build()
	creds := e.fake.AddAccount(e.truth)
	t.Setenv("AWS_ACCESS_KEY_ID", creds.AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", creds.SecretAccessKey)
	e.conn = config.Connection{ID: "prod", Name: "Production", Region: "us-east-1", Endpoint: e.fake.URL(),
		Credentials: config.Credentials{Source: config.SourceEnvironment}, Sync: config.SyncParts{IAMRate: 100000, AccessKeys: true}}
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "warden.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e.st = st
	e.syncs = &testSyncs{st: st, conns: map[string]config.Connection{"prod": e.conn}}
	e.firstSnap = e.sync(t)
	ctx = context.Background()
	// A change between the two snapshots, for the diff.
	sess, err := awsapi.Load(ctx, awsapi.Options{Region: "us-east-1", Endpoint: e.fake.URL()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sess.IAM(testAccount).CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("between-snapshots")}); err != nil {
		t.Fatal(err)
	}
	e.latestSnap = e.sync(t)
	svc := tokens.New(st, tokens.Options{})
	t.Cleanup(svc.Wait) // before the store closes
	if e.read, _, err = svc.Create(ctx, "grafana", tokens.ScopeRead, 0); err != nil {
		t.Fatal(err)
	}
	if e.admin, _, err = svc.Create(ctx, "ops", tokens.ScopeAdmin, 0); err != nil {
		t.Fatal(err)
	}
	c.Store, c.Tokens, c.Connections = st, svc, []config.Connection{e.conn}
	if c.Syncs == nil {
		c.Syncs = e.syncs
	}
	c.Logger = slog.New(slog.NewTextHandler(e.logs, nil))
	c.Version = "test"
	if e.srv, err = New(c); err != nil {
		t.Fatal(err)
	}
	e.http = httptest.NewServer(e.srv.Handler())
	t.Cleanup(e.http.Close)
	return e
}

// sync runs a real sync of the connection and returns its snapshot.
func (e *env) sync(t testing.TB) int64 {
	t.Helper()
	target, err := syncjob.FromConnection(e.conn)
	if err != nil {
		t.Fatal(err)
	}
	res, err := syncjob.Run(context.Background(), e.st, target, syncjob.Options{})
	if err != nil {
		t.Fatalf("sync: %v", err)
	}
	return res.Snapshot.ID
}

// do sends a request with token (none when "") and returns the status,
// headers and body.
func (e *env) do(t testing.TB, method, path, token string, body []byte, header ...string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, e.http.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := e.http.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

// testSyncs is a scheduler double whose Trigger runs a real sync
// (syncjob.Run against awsfake) in the background and publishes its
// events.
type testSyncs struct {
	st    *store.DB
	conns map[string]config.Connection

	mu      sync.Mutex
	running map[string]*schedule.Run
	runs    map[string][]schedule.Run
	subs    map[string][]chan schedule.Event
	// gate, when set, holds every triggered sync until it is closed.
	gate chan struct{}
	n    int
}

func (s *testSyncs) Statuses() []schedule.Status {
	var ids []string
	for id := range s.conns {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	out := []schedule.Status{}
	for _, id := range ids {
		st, _ := s.Status(id)
		out = append(out, st)
	}
	return out
}

func (s *testSyncs) Status(c string) (schedule.Status, error) {
	if _, ok := s.conns[c]; !ok {
		return schedule.Status{}, schedule.ErrUnknownConnection
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st := schedule.Status{Connection: c, Running: s.running[c]}
	if rs := s.runs[c]; len(rs) > 0 {
		last := rs[0]
		st.Last = &last
	}
	return st, nil
}

func (s *testSyncs) Runs(c string, limit int) ([]schedule.Run, error) {
	if _, ok := s.conns[c]; !ok {
		return nil, schedule.ErrUnknownConnection
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rs := s.runs[c]
	return append([]schedule.Run(nil), rs[:min(limit, len(rs))]...), nil
}

func (s *testSyncs) Healthy() bool { return true }

func (s *testSyncs) Subscribe(c string) (<-chan schedule.Event, func(), error) {
	if _, ok := s.conns[c]; !ok {
		return nil, nil, schedule.ErrUnknownConnection
	}
	ch := make(chan schedule.Event, 1024)
	s.mu.Lock()
	if s.subs == nil {
		s.subs = map[string][]chan schedule.Event{}
	}
	s.subs[c] = append(s.subs[c], ch)
	s.mu.Unlock()
	return ch, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		list := s.subs[c]
		for i, x := range list {
			if x == ch {
				s.subs[c] = append(list[:i], list[i+1:]...)
			}
		}
	}, nil
}

func (s *testSyncs) publish(c string, e schedule.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ch := range s.subs[c] {
		select {
		case ch <- e:
		default:
		}
	}
}

func (s *testSyncs) Trigger(ctx context.Context, c, actor string) (schedule.Run, error) {
	conn, ok := s.conns[c]
	if !ok {
		return schedule.Run{}, schedule.ErrUnknownConnection
	}
	s.mu.Lock()
	if s.running == nil {
		s.running, s.runs = map[string]*schedule.Run{}, map[string][]schedule.Run{}
	}
	if s.running[c] != nil {
		s.mu.Unlock()
		return schedule.Run{}, schedule.ErrRunning
	}
	s.n++
	run := schedule.Run{ID: fmt.Sprint(s.n), Connection: c, Trigger: schedule.TriggerManual, Actor: actor, Started: time.Now().UTC(), Result: schedule.ResultRunning}
	s.running[c] = &run
	gate := s.gate
	s.mu.Unlock()
	go func() {
		if gate != nil {
			<-gate
		}
		s.publish(c, schedule.Event{Run: run})
		target, err := syncjob.FromConnection(conn)
		var res *syncjob.Result
		if err == nil {
			res, err = syncjob.Run(ctx, s.st, target, syncjob.Options{Progress: func(ev syncer.Event) {
				s.publish(c, schedule.Event{Run: run, Progress: &schedule.Progress{Stage: ev.Stage, Account: ev.AccountID, Done: ev.Done, Total: ev.Total}})
			}})
		}
		end := run
		now := time.Now().UTC()
		end.Finished, end.Result = &now, schedule.ResultComplete
		if err != nil {
			end.Result, end.Error = schedule.ResultFailed, err.Error()
		} else {
			end.SnapshotID = res.Snapshot.ID
		}
		s.mu.Lock()
		delete(s.running, c)
		s.runs[c] = append([]schedule.Run{end}, s.runs[c]...)
		s.mu.Unlock()
		s.publish(c, schedule.Event{Run: end})
	}()
	return run, nil
}

// jsonOf decodes b.
func jsonOf(t testing.TB, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, b)
	}
	return v
}

type time0 = time.Time

var fixedNow = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

func sleep() { time.Sleep(10 * time.Millisecond) }
