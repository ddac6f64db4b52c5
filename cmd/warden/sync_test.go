package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a bytes.Buffer safe to read while a command writes it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startFakeAWS runs `warden fake-aws` on a free port until the test ends and
// returns the environment it printed.
func startFakeAWS(t *testing.T, args ...string) map[string]string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append([]string{"fake-aws", "--listen", "127.0.0.1:0"}, args...), &out, &errOut)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("fake-aws exited %d after interrupt: %s", code, errOut.String())
			}
		case <-time.After(10 * time.Second):
			t.Error("fake-aws did not stop after its context ended")
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(out.String(), "AWS_ENDPOINT_URL=") {
		select {
		case code := <-done:
			t.Fatalf("fake-aws exited %d before serving: %s", code, errOut.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("fake-aws printed no endpoint in 30s: %s", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	text := out.String()
	if !strings.Contains(text, "work only against it") {
		t.Errorf("fake-aws does not say its credentials are the emulator's own:\n%s", text)
	}
	env := make(map[string]string)
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		if kv, ok := strings.CutPrefix(sc.Text(), "export "); ok {
			k, v, _ := strings.Cut(kv, "=")
			env[k] = v
		}
	}
	return env
}

// isolateAWSConfig keeps the machine's AWS configuration out of a test.
func isolateAWSConfig(t *testing.T) {
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_CONFIG_FILE":                        filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE":            filepath.Join(dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED":              "true",
		"AWS_PROFILE":                            "",
		"AWS_DEFAULT_PROFILE":                    "",
		"AWS_ACCESS_KEY_ID":                      "",
		"AWS_SECRET_ACCESS_KEY":                  "",
		"AWS_SESSION_TOKEN":                      "",
		"AWS_ENDPOINT_URL":                       "",
		"AWS_ENDPOINT_URL_IAM":                   "",
		"AWS_ENDPOINT_URL_STS":                   "",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI":     "",
		"AWS_WEB_IDENTITY_TOKEN_FILE":            "",
	} {
		t.Setenv(k, v)
	}
}

func TestSyncAgainstFakeAWS(t *testing.T) {
	isolateAWSConfig(t)
	env := startFakeAWS(t, "--users", "40", "--seed", "7")
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "AWS_ENDPOINT_URL"} {
		if env[k] == "" {
			t.Fatalf("fake-aws printed no %s: %v", k, env)
		}
		t.Setenv(k, env[k])
	}
	if tok := env["AWS_SESSION_TOKEN"]; tok != "" {
		t.Setenv("AWS_SESSION_TOKEN", tok)
	}
	db := filepath.Join(t.TempDir(), "w.db")
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"--db", db, "sync", "-o", "json"}, &out, &errOut)
	if code != 0 {
		t.Fatalf("sync against fake-aws exited %d: %s", code, errOut.String())
	}
	if strings.Contains(out.String(), env["AWS_SECRET_ACCESS_KEY"]) || strings.Contains(errOut.String(), env["AWS_SECRET_ACCESS_KEY"]) {
		t.Error("sync printed the secret access key it signed with")
	}
	var sum struct {
		Snapshot struct {
			Status   string           `json:"status"`
			Counts   map[string]int   `json:"counts"`
			APICalls map[string]int64 `json:"api_calls"`
		} `json:"snapshot"`
		DB string `json:"db"`
	}
	if err := json.Unmarshal(out.Bytes(), &sum); err != nil {
		t.Fatalf("sync -o json: %v\n%s", err, out.String())
	}
	if sum.Snapshot.Status != "complete" || sum.Snapshot.Counts["iam_user"] != 40 || sum.DB != db {
		t.Errorf("sync summary = %+v, want a complete snapshot of 40 users in %s", sum, db)
	}
	if sum.Snapshot.APICalls["iam:GetAccountAuthorizationDetails"] == 0 {
		t.Errorf("sync summary API calls = %v, want GetAccountAuthorizationDetails among them", sum.Snapshot.APICalls)
	}

	// The table form, with --progress, reports progress on stderr.
	out.Reset()
	errOut.Reset()
	if code := run(context.Background(), []string{"--db", db, "--progress", "sync", "--no-access-keys"}, &out, &errOut); code != 0 {
		t.Fatalf("second sync exited %d: %s", code, errOut.String())
	}
	for _, want := range []string{"Resources", "iam_user", "API calls"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("sync table lacks %q:\n%s", want, out.String())
		}
	}
	if errOut.Len() == 0 {
		t.Error("sync --progress reported nothing on stderr")
	}
	var snaps []json.RawMessage
	out.Reset()
	run(context.Background(), []string{"--db", db, "snapshots", "-o", "json"}, &out, io.Discard)
	if err := json.Unmarshal(out.Bytes(), &snaps); err != nil || len(snaps) != 2 {
		t.Errorf("snapshots after two syncs = %s (err %v), want two", out.String(), err)
	}
}

func TestSyncWithoutCredentials(t *testing.T) {
	isolateAWSConfig(t)
	env := startFakeAWS(t, "--users", "5")
	db := filepath.Join(t.TempDir(), "w.db")
	stdout, stderr, code := runIn(t, db, "sync", "--endpoint", env["AWS_ENDPOINT_URL"], "--region", "us-east-1")
	assertFailure(t, stdout, stderr, code, exitAuth, "")
	if !strings.Contains(strings.ToLower(stderr), "credential") {
		t.Errorf("no-credentials report does not mention credentials:\n%s", stderr)
	}
}

func TestSyncWithRefusedCredentials(t *testing.T) {
	isolateAWSConfig(t)
	env := startFakeAWS(t, "--users", "5")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAUNKNOWNKEY000000")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "not-a-secret-the-emulator-knows")
	db := filepath.Join(t.TempDir(), "w.db")
	stdout, stderr, code := runIn(t, db, "sync", "--endpoint", env["AWS_ENDPOINT_URL"], "--region", "us-east-1")
	assertFailure(t, stdout, stderr, code, exitAuth, "")
	if strings.Contains(stderr, "not-a-secret-the-emulator-knows") {
		t.Error("the error repeats the secret access key")
	}
}
