package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/warden-iam/warden/internal/config"
	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/store"
)

// assertFailure checks an error report: the exit code, one "warden:" line
// holding wantProblem, and a "fix:" line.
func assertFailure(t *testing.T, stdout, stderr string, code, wantCode int, wantProblem string) {
	t.Helper()
	if code != wantCode {
		t.Errorf("exit code %d, want %d\nstderr:\n%s", code, wantCode, stderr)
	}
	if !strings.HasPrefix(stderr, "warden: ") || !strings.Contains(stderr, wantProblem) {
		t.Errorf("stderr = %q, want a \"warden: \" line containing %q", stderr, wantProblem)
	}
	if !strings.Contains(stderr, "\nfix: ") {
		t.Errorf("stderr = %q, want a fix: line", stderr)
	}
	if strings.Contains(stderr, "goroutine ") || strings.Contains(stderr, "panic") {
		t.Errorf("stderr holds a stack trace:\n%s", stderr)
	}
	if stdout != "" && wantCode != exitPartial {
		t.Errorf("a failing command printed on stdout: %q", stdout)
	}
}

func TestUsageErrors(t *testing.T) {
	db := demoDBPath(t)
	tests := []struct {
		args    []string
		problem string
	}{
		{[]string{"access", "no-such-principal-anywhere"}, `no user, group or role matches "no-such-principal-anywhere"`},
		{[]string{"access"}, "takes one PRINCIPAL"},
		{[]string{"show", "users", "-o", "yaml"}, `unknown output format "yaml"`},
		{[]string{"show", "users", "--log-level", "loud"}, `unknown log level "loud"`},
		{[]string{"show", "users", "--bogus"}, "unknown flag: --bogus"},
		{[]string{"show"}, "show needs what to list"},
		{[]string{"show", "userz"}, `unknown command "userz"`},
		{[]string{"sycn"}, `unknown command "sycn" for "warden" (did you mean sync?)`},
		{[]string{"export", "--format", "xml"}, `unknown export format "xml"`},
		{[]string{"demo", "--users", "0"}, "--users must be at least 1"},
		{[]string{"snapshots", "extra"}, `unknown command "extra" for "warden snapshots"`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			stdout, stderr, code := runIn(t, db, tt.args...)
			assertFailure(t, stdout, stderr, code, exitUsage, tt.problem)
		})
	}
}

func TestAmbiguousPrincipal(t *testing.T) {
	db := filepath.Join(t.TempDir(), "w.db")
	writeSnapshot(t, db, &model.Graph{Resources: []model.Resource{
		{ID: "arn:aws:iam::111111111111:user/ops", Type: model.TypeIAMUser, AccountID: "111111111111", Name: "ops", ARN: "arn:aws:iam::111111111111:user/ops", User: &model.UserAttrs{}},
		{ID: "arn:aws:iam::111111111111:role/ops", Type: model.TypeIAMRole, AccountID: "111111111111", Name: "ops", ARN: "arn:aws:iam::111111111111:role/ops", Role: &model.RoleAttrs{}},
	}})
	stdout, stderr, code := runIn(t, db, "access", "ops")
	assertFailure(t, stdout, stderr, code, exitUsage, `"ops" matches 2 principals`)
	for _, arn := range []string{"arn:aws:iam::111111111111:user/ops", "arn:aws:iam::111111111111:role/ops"} {
		if !strings.Contains(stderr, arn) {
			t.Errorf("ambiguity report lacks candidate %s:\n%s", arn, stderr)
		}
	}
	if out, errOut, code := runIn(t, db, "access", "arn:aws:iam::111111111111:role/ops"); code != 0 || !strings.Contains(out, "Role ops") {
		t.Errorf("access by ARN exited %d:\n%s%s", code, out, errOut)
	}
}

// writeSnapshot stores g as a complete snapshot of the default connection.
func writeSnapshot(t *testing.T, path string, g *model.Graph) {
	t.Helper()
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Now()
	snap := &model.Snapshot{ConnectionID: "default", StartedAt: now, FinishedAt: now, Status: model.StatusComplete}
	if _, err := st.WriteSnapshot(ctx, snap, g); err != nil {
		t.Fatal(err)
	}
}

func TestStoreErrors(t *testing.T) {
	dir := t.TempDir()

	foreign := filepath.Join(dir, "foreign.db")
	db, err := sql.Open("sqlite", foreign)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL); INSERT INTO invoices VALUES (1, 9.5)`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	garbage := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(garbage, []byte(strings.Repeat("not a database\n", 100)), 0o600); err != nil {
		t.Fatal(err)
	}

	empty := filepath.Join(dir, "empty.db")
	st, err := store.OpenSQLite(context.Background(), empty)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()

	tests := []struct {
		name    string
		db      string
		args    []string
		problem string
	}{
		{"foreign sqlite file", foreign, []string{"show", "users"}, "is not a warden database"},
		{"foreign file to demo", foreign, []string{"demo", "--users", "5"}, "is not a warden database"},
		{"not a database", garbage, []string{"show", "users"}, garbage},
		{"no snapshot", empty, []string{"show", "users"}, "no snapshot yet"},
		{"no snapshot for access", empty, []string{"access", "alice"}, "no snapshot yet"},
		{"no snapshot for export", empty, []string{"export"}, "no snapshot yet"},
		{"missing file", filepath.Join(dir, "missing.db"), []string{"show", "keys"}, "no database at"},
		{"missing file for snapshots", filepath.Join(dir, "missing.db"), []string{"snapshots"}, "no database at"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := runIn(t, tt.db, tt.args...)
			assertFailure(t, stdout, stderr, code, exitStore, tt.problem)
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "missing.db")); err == nil {
		t.Error("a read command created the missing database file")
	}
	if data, err := os.ReadFile(garbage); err != nil || !strings.HasPrefix(string(data), "not a database") {
		t.Error("a failed command changed the file it could not read")
	}
}

func TestDBFromEnvironment(t *testing.T) {
	t.Setenv("WARDEN_DB", demoDBPath(t))
	var out, errOut strings.Builder
	if code := run(context.Background(), []string{"snapshots"}, &out, &errOut); code != 0 {
		t.Fatalf("snapshots with WARDEN_DB exited %d: %s", code, errOut.String())
	}
	// --db wins over the environment.
	code := run(context.Background(), []string{"--db", filepath.Join(t.TempDir(), "none.db"), "snapshots"}, &out, &errOut)
	if code != exitStore {
		t.Errorf("--db of a missing file with WARDEN_DB set exited %d, want %d", code, exitStore)
	}
}

func TestHelpListsExitCodes(t *testing.T) {
	out, _, code := runIn(t, "", "--help")
	if code != 0 {
		t.Fatalf("--help exited %d", code)
	}
	for _, want := range []string{"Exit codes:", "2  usage", "5  database", "demo", "fake-aws"} {
		if !strings.Contains(out, want) {
			t.Errorf("--help lacks %q", want)
		}
	}
}

// TestFlagsCheckedAsConfigIs: the flags that describe a connection take the
// ranges warden.yaml takes (internal/config says them once), a number that
// does not parse names the flag and what it takes, and nothing is read
// before the flags are right.
func TestFlagsCheckedAsConfigIs(t *testing.T) {
	isolateAWSConfig(t)
	t.Setenv("WARDEN_CONFIG", "")
	db := filepath.Join(t.TempDir(), "never-written.db")
	tests := []struct {
		args    []string
		problem string
	}{
		{[]string{"sync", "--concurrency", "0"}, "--concurrency " + config.ConcurrencyProblem(0)},
		{[]string{"sync", "--concurrency", "-1"}, "--concurrency must be between 1 and 256 accounts at a time, not -1"},
		{[]string{"sync", "--concurrency", "257"}, "--concurrency must be between 1 and 256"},
		{[]string{"sync", "--iam-rate", "0"}, "--iam-rate " + config.IAMRateProblem(0)},
		{[]string{"sync", "--iam-rate", "-1"}, "--iam-rate must be between 1 and 1000 calls per second, not -1"},
		{[]string{"sync", "--iam-rate", "1000000"}, "--iam-rate must be between 1 and 1000 calls per second, not 1e+06"},
		{[]string{"sync", "--iam-rate", "NaN"}, "--iam-rate must be between 1 and 1000 calls per second, not NaN"},
		{[]string{"sync", "--iam-rate", "Inf"}, "--iam-rate must be between 1 and 1000 calls per second, not +Inf"},
		{[]string{"sync", "--iam-rate", "0.001"}, "--iam-rate must be between 1 and 1000 calls per second, not 0.001"},
		{[]string{"sync", "--concurrency", "abc"}, `--concurrency takes a whole number, not "abc"`},
		{[]string{"sync", "--iam-rate", "fast"}, `--iam-rate takes a number, not "fast"`},
		{[]string{"findings", "--top", "1.5"}, `--top takes a whole number, not "1.5"`},
		{[]string{"fake-aws", "--latency", "-1s"}, "--latency must not be negative, got -1s"},
		{[]string{"fake-aws", "--latency", "soon"}, `--latency takes a duration such as 500ms, 2s or 1m, not "soon"`},
		{[]string{"fake-aws", "--throttle-fraction", "NaN"}, "--throttle-fraction must be between 0 and 1, got NaN"},
		{[]string{"access", ""}, "access takes a PRINCIPAL, got an empty one"},
		{[]string{"access", "  "}, "access takes a PRINCIPAL, got an empty one"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			stdout, stderr, code := runIn(t, db, tt.args...)
			assertFailure(t, stdout, stderr, code, exitUsage, tt.problem)
			if strings.Contains(stderr, "strconv") || strings.Contains(stderr, "time: ") {
				t.Errorf("stderr speaks Go's parser's words:\n%s", stderr)
			}
		})
	}
	if _, err := os.Stat(db); err == nil {
		t.Errorf("a refused command line created the database %s", db)
	}
	// The same value in warden.yaml is refused in the same words.
	_, err := config.Parse([]byte("version: 1\nconnections:\n  - id: a\n    sync:\n      iam_rate: 0\n"), "w.yaml")
	if err == nil || !strings.Contains(err.Error(), config.IAMRateProblem(0)) {
		t.Errorf("warden.yaml with iam_rate 0: %v; want %q", err, config.IAMRateProblem(0))
	}
}

// TestEveryErrorHasAFittingFix: errors no specific rule explains still get
// a fix line, and only the network's failures are blamed on the network.
func TestEveryErrorHasAFittingFix(t *testing.T) {
	db := demoDBPath(t)
	dir := t.TempDir()

	// export into a directory that does not exist: a fix, and no file.
	missing := filepath.Join(dir, "nonexistent", "x.json")
	stdout, stderr, code := runIn(t, db, "export", "--out", missing)
	assertFailure(t, stdout, stderr, code, exitError, "cannot write --out "+missing)
	if !strings.Contains(stderr, "its directory must exist") {
		t.Errorf("export --out into a missing directory: %s", stderr)
	}
	// A successful export replaces the file whole, mode 0600, and leaves no
	// temporary file beside it.
	file := filepath.Join(dir, "x.csv")
	os.WriteFile(file, []byte(strings.Repeat("old content\n", 100000)), 0o644)
	if _, stderr, code := runIn(t, db, "export", "--format", "csv", "--out", file); code != 0 {
		t.Fatalf("export --out exited %d: %s", code, stderr)
	}
	if b, _ := os.ReadFile(file); !strings.HasPrefix(string(b), "account_id,") || strings.Contains(string(b), "old content") {
		t.Errorf("export did not replace the file whole: %.100s", b)
	}
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("export file mode = %v (%v), want 0600", fi.Mode().Perm(), err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("export left files beside its output: %v", entries)
	}

	// An empty SCIM source is the source's fault, not the network's.
	t.Setenv("WARDEN_SCIM_TOKEN", "token-for-a-push-that-never-starts")
	empty := filepath.Join(dir, "empty.csv")
	os.WriteFile(empty, []byte("external_id,user_name,given_name,family_name\n"), 0o600)
	stdout, stderr, code = runIn(t, filepath.Join(dir, "scim.db"), "scim", "push", "--endpoint", "http://127.0.0.1:1/tenant/scim/v2", "--source", empty)
	if code == 0 || !strings.Contains(stderr, "no people") || !strings.Contains(stderr, "\nfix: ") || strings.Contains(stderr, "network") {
		t.Errorf("scim push of an empty source exited %d:\n%s", code, stderr)
	}

	// The rule itself.
	for _, tt := range []struct {
		err     error
		network bool
	}{
		{&net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}, true},
		{&net.DNSError{Name: "scim.nowhere.example", Err: "no such host"}, true},
		{fmt.Errorf("push: %w", context.DeadlineExceeded), true},
		{errors.New("the source has no people"), false},
		{errors.New(`leaver policy "fire": use deactivate or delete`), false},
	} {
		_, _, fix := explain(tt.err)
		if fix == "" || strings.Contains(fix, "network") != tt.network {
			t.Errorf("explain(%v) fix = %q; network fix wanted: %v", tt.err, fix, tt.network)
		}
		// SCIM names a DNS failure's fix more closely; never the network
		// for what is not.
		if ce := scimProblem(tt.err).(*cliError); ce.fix == "" || (!tt.network && strings.Contains(ce.fix, "network")) {
			t.Errorf("scimProblem(%v) fix = %q; network fix wanted: %v", tt.err, ce.fix, tt.network)
		}
	}
}
