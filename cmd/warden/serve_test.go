package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// serveToken is the admin token the serve tests give in WARDEN_API_TOKEN.
const serveToken = "wdn_serve_test_token_0123456789abcdef"

// startServe runs `warden serve` in this process on a free loopback port
// with a connection of the fake AWS synced every second, and returns its
// base URL, its stderr, and a function that stops it (as SIGTERM does)
// and returns its exit code.
func startServe(t *testing.T, db string, extra ...string) (base string, stderr *lockedBuffer, stop func() int) {
	t.Helper()
	useFakeAWS(t, "--users", "12")
	t.Setenv("WARDEN_API_TOKEN", serveToken)
	t.Setenv("WARDEN_API_TOKEN_SCOPE", "admin")
	cfg := filepath.Join(t.TempDir(), "warden.yaml")
	if err := os.WriteFile(cfg, []byte("version: 1\nconnections:\n  - id: prod\n    schedule:\n      every: 1s\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stderr = &lockedBuffer{}
	code := make(chan int, 1)
	args := append([]string{"--db", db, "--config", cfg, "serve", "--listen", "127.0.0.1:0", "--grace", "0s"}, extra...)
	go func() { code <- run(ctx, args, io.Discard, stderr) }()
	listening := regexp.MustCompile(`url=(http://127\.0\.0\.1:\d+)`)
	deadline := time.Now().Add(30 * time.Second)
	for base == "" {
		select {
		case c := <-code:
			cancel()
			t.Fatalf("warden serve exited with %d before listening:\n%s", c, stderr)
		default:
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("warden serve did not log its address in 30 s:\n%s", stderr)
		}
		if m := listening.FindStringSubmatch(stderr.String()); m != nil {
			base = m[1]
		}
		time.Sleep(20 * time.Millisecond)
	}
	stopped := false
	var exit int
	stop = func() int {
		if !stopped {
			cancel()
			select {
			case exit = <-code:
			case <-time.After(60 * time.Second):
				t.Fatalf("warden serve did not stop within 60 s:\n%s", stderr)
			}
			stopped = true
		}
		return exit
	}
	t.Cleanup(func() { stop() })
	return base, stderr, stop
}

// call makes one request to the service with the token given ("" for
// none) and returns the status and body.
func call(t *testing.T, method, url, token string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body
}

// TestServeEndToEnd runs `warden serve` against the fake AWS and checks
// through real HTTP what a deployment relies on: health without a token,
// everything else behind it, the schedule storing a snapshot per slot,
// a manual trigger followed to its end over server-sent events, the
// metrics of both, the token kept out of the log, and a clean stop with
// exit 0.
func TestServeEndToEnd(t *testing.T) {
	db := filepath.Join(t.TempDir(), "warden.db")
	base, stderr, stop := startServe(t, db)

	if code, body := call(t, "GET", base+"/healthz", ""); code != 200 {
		t.Errorf("GET /healthz without a token = %d %s, want 200", code, body)
	}
	for _, path := range []string{"/api/v1/connections", "/metrics", "/readyz", "/api/v1/openapi.json"} {
		code, body := call(t, "GET", base+path, "")
		var e struct{ Error, Fix string }
		if code != 401 || json.Unmarshal(body, &e) != nil || e.Error == "" || e.Fix == "" {
			t.Errorf("GET %s without a token = %d %s, want 401 with {error, fix}", path, code, body)
		}
	}
	if code, body := call(t, "GET", base+"/readyz", serveToken); code != 200 {
		t.Errorf("GET /readyz = %d %s, want 200 (database reachable, scheduler running)", code, body)
	}

	// The schedule (every second) stores snapshots, each for its slot.
	var snaps []struct {
		ID   int64      `json:"id"`
		Slot *time.Time `json:"slot"`
	}
	deadline := time.Now().Add(60 * time.Second)
	for len(snaps) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("no two scheduled snapshots in 60 s:\n%s", stderr)
		}
		time.Sleep(200 * time.Millisecond)
		code, body := call(t, "GET", base+"/api/v1/connections/prod/snapshots", serveToken)
		if code != 200 {
			t.Fatalf("GET snapshots = %d %s", code, body)
		}
		snaps = snaps[:0]
		if err := json.Unmarshal(body, &snaps); err != nil {
			t.Fatalf("snapshots: %v\n%s", err, body)
		}
	}
	for _, s := range snaps {
		if s.Slot == nil {
			t.Errorf("snapshot %d was stored by the schedule without its slot", s.ID)
		}
	}

	// A manual trigger, followed to its end.
	events, err := http.NewRequest("GET", base+"/api/v1/sync/prod/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	events.Header.Set("Authorization", "Bearer "+serveToken)
	var trigger struct {
		ID      string `json:"id"`
		Trigger string `json:"trigger"`
		Actor   string `json:"actor"`
	}
	// Scheduled runs come every second: the trigger waits for a gap
	// between two (on a loaded machine a sync can take about a second).
	for until := time.Now().Add(30 * time.Second); ; {
		code, body := call(t, "POST", base+"/api/v1/sync/prod", serveToken)
		if code == http.StatusConflict && time.Now().Before(until) {
			time.Sleep(50 * time.Millisecond) // a scheduled sync is running
			continue
		}
		if code != http.StatusAccepted {
			t.Fatalf("POST /api/v1/sync/prod = %d %s, want 202", code, body)
		}
		if err := json.Unmarshal(body, &trigger); err != nil {
			t.Fatal(err)
		}
		break
	}
	if trigger.Trigger != "manual" || trigger.Actor != "env" {
		t.Errorf("trigger = %+v, want a manual run by the token named env", trigger)
	}
	resp, err := http.DefaultClient.Do(events)
	if err != nil {
		t.Fatal(err)
	}
	ended := waitEnd(t, resp.Body, trigger.ID)
	resp.Body.Close()
	if ended != "complete" {
		t.Errorf("the manual run ended %q, want complete", ended)
	}

	code, body := call(t, "GET", base+"/metrics", serveToken)
	for _, want := range []string{`warden_syncs_total{connection="prod",result="complete"}`, `warden_findings{connection="prod",rule="admins"}`,
		`warden_http_requests_total{method="POST",route="/api/v1/sync/{connection}",status="202"}`} {
		if code != 200 || !strings.Contains(string(body), want) {
			t.Errorf("GET /metrics = %d, no %s in:\n%s", code, want, body)
		}
	}

	if c := stop(); c != 0 {
		t.Errorf("warden serve exited %d when stopped, want 0:\n%s", c, stderr)
	}
	if strings.Contains(stderr.String(), serveToken) {
		t.Errorf("the token reached the log:\n%s", stderr)
	}
	for _, want := range []string{"listening", `route=/api/v1/sync/{connection}`, "token=env", "stopped"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("the log has no %q:\n%s", want, stderr)
		}
	}
}

// waitEnd reads a server-sent event stream until the end event of run id
// and returns that run's result.
func waitEnd(t *testing.T, r io.Reader, id string) string {
	t.Helper()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	event := ""
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event:"):
			event = strings.TrimSpace(strings.TrimPrefix(line, "event:"))
		case strings.HasPrefix(line, "data:") && event == "end":
			var e struct {
				Run struct {
					ID     string `json:"id"`
					Result string `json:"result"`
				} `json:"run"`
			}
			if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "data:")), &e); err != nil {
				t.Fatalf("end event %q: %v", line, err)
			}
			if e.Run.ID == id {
				return e.Run.Result
			}
		}
	}
	t.Fatalf("the event stream ended without the end of run %s (%v)", id, sc.Err())
	return ""
}

// TestServeRefusesUnsafeListen checks `warden serve` will not serve plain
// HTTP on an address other than loopback unless told, and says why.
func TestServeRefusesUnsafeListen(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "warden.yaml")
	if err := os.WriteFile(cfg, []byte("version: 1\nconnections:\n  - id: prod\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(t.TempDir(), "warden.db")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"serve", "--listen", "0.0.0.0:0"}, "--insecure-http"},
		{[]string{"serve", "--log-format", "xml"}, "--log-format"},
		{[]string{"serve", "--grace", "-1s"}, "--grace"},
	} {
		_, stderr, code := warden(t, append([]string{"--db", db, "--config", cfg}, tc.args...)...)
		if code != exitUsage || !strings.Contains(stderr, tc.want) || !strings.Contains(stderr, "fix:") {
			t.Errorf("warden %v: exit %d, stderr %q; want exit %d naming %s with a fix", tc.args, code, stderr, exitUsage, tc.want)
		}
	}
	if _, err := os.Stat(db); err == nil {
		t.Errorf("a refused serve created %s", db)
	}
	_, stderr, code := warden(t, "--db", db, "--config", filepath.Join(t.TempDir(), "none.yaml"), "serve")
	if code != exitUsage || !strings.Contains(stderr, "none.yaml") {
		t.Errorf("serve without its connections file: exit %d, %q", code, stderr)
	}
}
