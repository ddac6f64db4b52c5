package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/warden-iam/warden/awsfake"
	"github.com/warden-iam/warden/internal/provision"
	"github.com/warden-iam/warden/internal/schedule"
)

// TestAuth: no token and a bad one are 401, a read token may not write
// (403), an admin token may; failures past the burst are 429 with
// Retry-After, for every request of that address; /healthz is open.
func TestAuth(t *testing.T) {
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	clock := &now
	e := newEnv(t, smallEstate, Config{AuthFailureRate: 0.5, AuthFailureBurst: 3, Now: func() time.Time { return *clock }})
	if status, _, _ := e.do(t, "GET", "/healthz", "", nil); status != 200 {
		t.Errorf("/healthz: %d", status)
	}
	if status, _, _ := e.do(t, "GET", "/", "", nil); status != 200 {
		t.Errorf("/ (the UI, no token): %d", status)
	}
	if status, _, _ := e.do(t, "GET", "/api/v1/connections", e.read, nil); status != 200 {
		t.Errorf("read token GET: %d", status)
	}
	if status, _, _ := e.do(t, "GET", "/api/v1/connections", e.admin, nil); status != 200 {
		t.Errorf("admin token GET: %d", status)
	}
	if status, _, body := e.do(t, "POST", "/api/v1/plan", e.read, []byte(`{"actions":[{"action":"create-user","user":"x"}]}`)); status != 403 {
		t.Errorf("read token POST: %d %s", status, body)
	}
	if status, _, body := e.do(t, "POST", "/api/v1/plan", e.admin, []byte(`{"actions":[{"action":"create-user","user":"x"}]}`)); status != 200 {
		t.Errorf("admin token POST: %d %s", status, body)
	}
	for i := range 3 {
		token := "wrong-token-" + string(rune('a'+i))
		if i == 0 {
			token = ""
		}
		if status, h, _ := e.do(t, "GET", "/api/v1/findings", token, nil); status != 401 || !strings.HasPrefix(h.Get("WWW-Authenticate"), "Bearer") {
			t.Fatalf("failure %d: %d, want 401 with a Bearer challenge", i+1, status)
		}
	}
	// The burst is spent: even a good token from this address waits.
	status, h, body := e.do(t, "GET", "/api/v1/connections", e.read, nil)
	if status != 429 || h.Get("Retry-After") != "2" {
		t.Fatalf("after the burst: %d Retry-After %q %s, want 429 and 2", status, h.Get("Retry-After"), body)
	}
	validate(t, e.srv, "GET", "/api/v1/connections", status, body)
	*clock = now.Add(2 * time.Second) // one failure's worth refilled
	if status, _, _ := e.do(t, "GET", "/api/v1/connections", e.read, nil); status != 200 {
		t.Fatalf("after Retry-After: %d, want 200", status)
	}
	if strings.Contains(e.logs.String(), e.read) || strings.Contains(e.logs.String(), e.admin) || strings.Contains(e.logs.String(), "wrong-token") {
		t.Fatal("a token is in the log")
	}
}

// TestApplyIdempotencyKey: the first apply makes the AWS calls; its replay
// returns the same bytes and makes none; another body with the key is
// 422; the audit log names the token.
func TestApplyIdempotencyKey(t *testing.T) {
	e := newEnv(t, smallEstate, Config{})
	body := []byte(`{"connection":"prod","actions":[{"action":"create-user","user":"carol","groups":[]},{"action":"attach-policy","user":"carol","policy_arn":"arn:aws:iam::aws:policy/ReadOnlyAccess"}]}`)
	e.fake.ResetCalls()
	status, _, first := e.do(t, "POST", "/api/v1/apply", e.admin, body, "Idempotency-Key", "onboard-carol")
	if status != 200 {
		t.Fatalf("apply: %d %s", status, first)
	}
	calls := e.fake.Calls()
	if calls["iam:CreateUser"] != 1 || calls["iam:AttachUserPolicy"] != 1 {
		t.Fatalf("the apply made %v, want one CreateUser and one AttachUserPolicy", calls)
	}
	if e.fake.Account(testAccount).IAM.Users["carol"] == nil {
		t.Fatal("carol was not created in AWS")
	}
	before := e.fake.TotalCalls()
	status, _, replay := e.do(t, "POST", "/api/v1/apply", e.admin, body, "Idempotency-Key", "onboard-carol")
	if status != 200 || !bytes.Equal(replay, first) {
		t.Fatalf("replay: %d, body differs from the first:\n%s\n%s", status, replay, first)
	}
	if after := e.fake.TotalCalls(); after != before {
		t.Fatalf("the replay made %d AWS calls", after-before)
	}
	other := bytes.Replace(body, []byte("carol"), []byte("dave"), -1)
	if status, _, b := e.do(t, "POST", "/api/v1/apply", e.admin, other, "Idempotency-Key", "onboard-carol"); status != 422 {
		t.Fatalf("same key, other body: %d %s", status, b)
	}
	if status, _, b := e.do(t, "POST", "/api/v1/apply", e.admin, body); status != 400 {
		t.Fatalf("no key: %d %s", status, b)
	}
	if e.fake.TotalCalls() != before {
		t.Fatal("a refused apply made AWS calls")
	}
	recs, err := e.st.Audit(context.Background(), "prod", 0)
	if err != nil || len(recs) == 0 {
		t.Fatalf("audit: %v %v", recs, err)
	}
	for _, r := range recs {
		if r.Actor != "ops" {
			t.Errorf("audit record %s by %q, want the token's name ops", r.Call, r.Actor)
		}
	}
	// The refresh recorded the new user: the access answer knows carol.
	if status, _, b := e.do(t, "GET", "/api/v1/access/carol", e.read, nil); status != 200 || !bytes.Contains(b, []byte("ReadOnlyAccess")) {
		t.Errorf("access carol after apply: %d %.300s", status, b)
	}
	// A key still running answers 409.
	if _, _, err := e.st.ClaimIdempotencyKey(context.Background(), "ops", "busy", requestHash("prod", mustEncode(t, body)), time.Now()); err != nil {
		t.Fatal(err)
	}
	if status, _, b := e.do(t, "POST", "/api/v1/apply", e.admin, body, "Idempotency-Key", "busy"); status != 409 {
		t.Fatalf("key in progress: %d %s", status, b)
	}
}

// mustEncode is the canonical body apply hashes.
func mustEncode(t *testing.T, body []byte) []byte {
	var r ActionsRequest
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatal(err)
	}
	d, err := encode(r)
	if err != nil {
		t.Fatal(err)
	}
	return d.Body
}

// TestSyncEvents triggers a real sync and reads its events to the end.
func TestSyncEvents(t *testing.T) {
	e := newEnv(t, smallEstate, Config{})
	e.syncs.gate = make(chan struct{})
	req, _ := http.NewRequest("GET", e.http.URL+"/api/v1/sync/prod/events", nil)
	req.Header.Set("Authorization", "Bearer "+e.read)
	resp, err := e.http.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("events: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	status, _, body := e.do(t, "POST", "/api/v1/sync/prod", e.admin, nil)
	if status != 202 {
		t.Fatalf("trigger: %d %s", status, body)
	}
	var run schedule.Run
	_ = json.Unmarshal(body, &run)
	if run.Actor != "ops" || run.Result != schedule.ResultRunning {
		t.Errorf("run %+v: want actor ops, running", run)
	}
	if status, _, body := e.do(t, "POST", "/api/v1/sync/prod", e.admin, nil); status != 409 {
		t.Errorf("second trigger while running: %d %s", status, body)
	}
	close(e.syncs.gate)
	var names []string
	var last schedule.Event
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if name, ok := strings.CutPrefix(line, "event: "); ok {
			names = append(names, name)
		}
		if data, ok := strings.CutPrefix(line, "data: "); ok {
			if err := json.Unmarshal([]byte(data), &last); err != nil {
				t.Fatalf("event data is not an Event: %v", err)
			}
		}
	}
	if len(names) < 3 || names[0] != "start" || names[len(names)-1] != "end" || !contains(names, "progress") {
		t.Fatalf("events %v: want start, progress…, end", names)
	}
	if last.Run.Result != schedule.ResultComplete || last.Run.SnapshotID == 0 {
		t.Fatalf("end event %+v: want a complete run with its snapshot", last.Run)
	}
	snap, err := e.st.LatestSnapshot(context.Background(), "prod")
	if err != nil || snap.ID != last.Run.SnapshotID {
		t.Fatalf("latest snapshot %v (%v), want the run's %d", snap, err, last.Run.SnapshotID)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// TestSyncRoutesWithoutScheduler answer 503 with a fix.
func TestSyncRoutesWithoutScheduler(t *testing.T) {
	e := newEnv(t, smallEstate, Config{Syncs: nilSyncs()})
	e.srv.c.Syncs = nil
	status, _, body := e.do(t, "GET", "/api/v1/sync", e.read, nil)
	if status != 503 {
		t.Fatalf("%d %s", status, body)
	}
	validate(t, e.srv, "GET", "/api/v1/sync", status, body)
	if status, _, body := e.do(t, "GET", "/readyz", e.read, nil); status != 503 || !bytes.Contains(body, []byte(`"scheduler":"no scheduler"`)) {
		t.Fatalf("/readyz: %d %s", status, body)
	}
}

func nilSyncs() Syncs { return &testSyncs{} }

func TestCheckListen(t *testing.T) {
	for _, tc := range []struct {
		o    ListenOptions
		ok   bool
		insc bool
	}{
		{ListenOptions{Addr: "127.0.0.1:8080"}, true, false},
		{ListenOptions{Addr: "[::1]:8080"}, true, false},
		{ListenOptions{Addr: "localhost:0"}, true, false},
		{ListenOptions{Addr: "0.0.0.0:8080"}, false, true},
		{ListenOptions{Addr: ":8080"}, false, true},
		{ListenOptions{Addr: "10.0.0.5:8080"}, false, true},
		{ListenOptions{Addr: "0.0.0.0:8080", InsecureHTTP: true}, true, false},
		{ListenOptions{Addr: "0.0.0.0:8080", TLSCert: "c.pem", TLSKey: "k.pem"}, true, false},
		{ListenOptions{Addr: "0.0.0.0:8080", TLSCert: "c.pem"}, false, false},
		{ListenOptions{Addr: "8080"}, false, false},
	} {
		err := CheckListen(tc.o)
		if (err == nil) != tc.ok || errors.Is(err, ErrInsecureListen) != tc.insc {
			t.Errorf("CheckListen(%+v) = %v", tc.o, err)
		}
		if err != nil && !strings.Contains(err.Error(), "--") {
			t.Errorf("%v names no flag to fix it", err)
		}
	}
}

// TestServeStopsOnCancel: Serve answers on 127.0.0.1:0, lets a request in
// flight finish when ctx is cancelled, and returns nil.
func TestServeStopsOnCancel(t *testing.T) {
	release := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
		w.Write([]byte("done"))
	})
	ctx, cancel := context.WithCancel(context.Background())
	addrs := make(chan net.Addr, 1)
	served := make(chan error, 1)
	go func() { served <- Serve(ctx, ListenOptions{Addr: "127.0.0.1:0"}, h, func(a net.Addr) { addrs <- a }) }()
	addr := <-addrs
	got := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + addr.String() + "/")
		if err != nil {
			got <- err.Error()
			return
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		got <- b.String()
	}()
	time.Sleep(50 * time.Millisecond) // the request is in flight
	cancel()
	time.Sleep(50 * time.Millisecond)
	close(release)
	if s := <-got; s != "done" {
		t.Fatalf("the request in flight got %q", s)
	}
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("Serve returned %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return")
	}
	if _, err := net.DialTimeout("tcp", addr.String(), time.Second); err == nil {
		t.Fatal("still listening after shutdown")
	}
}

// TestEventStreamOutlivesWriteTimeout serves the API with Serve and a
// short write timeout: a sync's event stream lasts longer than it, and a
// stopped server ends the stream.
func TestEventStreamOutlivesWriteTimeout(t *testing.T) {
	e := newEnv(t, smallEstate, Config{})
	old := writeTimeout
	writeTimeout = 200 * time.Millisecond
	t.Cleanup(func() { writeTimeout = old })
	e.syncs.gate = make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	addrs := make(chan net.Addr, 1)
	served := make(chan error, 1)
	go func() {
		served <- Serve(ctx, ListenOptions{Addr: "127.0.0.1:0"}, e.srv.Handler(), func(a net.Addr) { addrs <- a })
	}()
	base := "http://" + (<-addrs).String()
	req, _ := http.NewRequest("GET", base+"/api/v1/sync/prod/events", nil)
	req.Header.Set("Authorization", "Bearer "+e.read)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	trig, _ := http.NewRequest("POST", base+"/api/v1/sync/prod", nil)
	trig.Header.Set("Authorization", "Bearer "+e.admin)
	if r, err := http.DefaultClient.Do(trig); err != nil || r.StatusCode != 202 {
		t.Fatalf("trigger: %v %v", r, err)
	}
	time.Sleep(3 * writeTimeout) // past the write deadline before the first event
	close(e.syncs.gate)
	var names []string
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if name, ok := strings.CutPrefix(sc.Text(), "event: "); ok {
			names = append(names, name)
		}
	}
	if len(names) < 2 || names[0] != "start" || names[len(names)-1] != "end" {
		t.Fatalf("events %v after the write timeout: want start … end", names)
	}
	waitIdle(t, e)
	// A stream open at shutdown ends, and Serve returns.
	resp2, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp2.Body.Close()
	cancel()
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return with a stream open")
	}
}

// TestApplySecretsAndPartialFailure: a generated console password is in
// the first answer only (the idempotency store keeps it redacted, so a
// replay says it was shown once); an apply that fails part way answers
// 502 with what each action begun did, the failed call included.
func TestApplySecretsAndPartialFailure(t *testing.T) {
	e := newEnv(t, smallEstate, Config{})
	body := []byte(`{"connection":"prod","actions":[{"action":"create-user","user":"erin","console_password":true}]}`)
	status, _, first := e.do(t, "POST", "/api/v1/apply", e.admin, body, "Idempotency-Key", "onboard-erin")
	if status != 200 {
		t.Fatalf("apply: %d %s", status, first)
	}
	var results []*provision.Result
	if err := json.Unmarshal(first, &results); err != nil || len(results) != 1 || len(results[0].Secrets) != 1 {
		t.Fatalf("apply answer: %v %s", err, first)
	}
	password := results[0].Secrets[0].Value
	if password == "" || password == SecretShownOnce {
		t.Fatalf("the first answer has no password: %s", first)
	}
	_, kept, err := e.st.ClaimIdempotencyKey(context.Background(), "ops", "onboard-erin", requestHash("prod", mustEncode(t, body)), time.Now())
	if err != nil || kept == nil {
		t.Fatalf("the kept answer: %+v %v", kept, err)
	}
	if bytes.Contains(kept.Body, []byte(password)) || !bytes.Contains(kept.Body, []byte(SecretShownOnce)) {
		t.Fatalf("the idempotency store keeps the password: %s", kept.Body)
	}
	status, _, replay := e.do(t, "POST", "/api/v1/apply", e.admin, body, "Idempotency-Key", "onboard-erin")
	if status != 200 || bytes.Contains(replay, []byte(password)) || !bytes.Contains(replay, []byte(SecretShownOnce)) {
		t.Fatalf("replay: %d %s", status, replay)
	}

	// AttachUserPolicy fails after CreateUser succeeded.
	e.fake.SetOptions(awsfake.Options{ActionFaults: map[string]awsfake.ActionFault{"iam:AttachUserPolicy": {Status: 500}}})
	body = []byte(`{"connection":"prod","actions":[{"action":"create-user","user":"frank","policies":["arn:aws:iam::aws:policy/ReadOnlyAccess"]}]}`)
	status, _, failed := e.do(t, "POST", "/api/v1/apply", e.admin, body, "Idempotency-Key", "onboard-frank")
	if status != 502 {
		t.Fatalf("apply with a failing call: %d %s", status, failed)
	}
	validate(t, e.srv, "POST", "/api/v1/apply", status, failed)
	var er Error
	if err := json.Unmarshal(failed, &er); err != nil || er.Problem == "" || er.Fix == "" || len(er.Results) != 1 {
		t.Fatalf("failed apply answer: %v %s", err, failed)
	}
	r := er.Results[0]
	if len(r.Done) == 0 || r.Done[0].Step.Call != "iam:CreateUser" || r.Failed == nil || r.Failed.Step.Call != "iam:AttachUserPolicy" {
		t.Errorf("failed apply results: done %+v, failed %+v; want CreateUser done and AttachUserPolicy failed", r.Done, r.Failed)
	}
	if e.fake.Account(testAccount).IAM.Users["frank"] == nil {
		t.Error("frank was not created before the failed call")
	}
}
