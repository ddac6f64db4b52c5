package main

import (
	"context"
	"database/sql"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/store"
)

// The database's own robustness (issue 10, items 15-19), seen from the CLI.

func TestDemoRefusesARealDatabase(t *testing.T) {
	db := filepath.Join(t.TempDir(), "real.db")
	writeSnapshot(t, db, &model.Graph{})
	stdout, stderr, code := runIn(t, db, "demo", "--users", "5")
	assertFailure(t, stdout, stderr, code, exitUsage, "holds data the demo did not write (1 snapshot not made by the demo)")
	st, err := store.OpenSQLiteReadOnly(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if snaps, err := st.Snapshots(context.Background(), ""); err != nil || len(snaps) != 1 {
		t.Errorf("after the refused demo the real database holds %d snapshots (%v), want its 1", len(snaps), err)
	}
}

func TestDemoRefusesADemoDatabaseWithAuditRecords(t *testing.T) {
	db := filepath.Join(t.TempDir(), "demo.db")
	if _, stderr, code := runIn(t, db, "demo", "--users", "5"); code != 0 {
		t.Fatalf("demo exited %d: %s", code, stderr)
	}
	st, err := store.OpenSQLite(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.AppendAudit(context.Background(), store.AuditRecord{Action: "create-user", Call: "iam:CreateUser", Result: "ok"}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	stdout, stderr, code := runIn(t, db, "demo", "--users", "5")
	assertFailure(t, stdout, stderr, code, exitUsage, "1 audit record")
}

func TestDatabaseFileIsOwnerOnly(t *testing.T) {
	db := filepath.Join(t.TempDir(), "demo.db")
	if _, stderr, code := runIn(t, db, "demo", "--users", "5"); code != 0 {
		t.Fatalf("demo exited %d: %s", code, stderr)
	}
	info, err := os.Stat(db)
	if err != nil {
		t.Fatal(err)
	}
	if mode := info.Mode().Perm(); mode != 0o600 {
		t.Errorf("database created with mode %o, want 600", mode)
	}
}

func TestReadCommandLeavesAnEmptyFileAlone(t *testing.T) {
	db := filepath.Join(t.TempDir(), "empty.db")
	if err := os.WriteFile(db, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"show", "users"}, {"snapshots"}, {"audit"}, {"sync", "status"}} {
		stdout, stderr, code := runIn(t, db, args...)
		assertFailure(t, stdout, stderr, code, exitStore, "is not a warden database: it is an empty file")
	}
	if info, err := os.Stat(db); err != nil || info.Size() != 0 {
		t.Errorf("a read command wrote the empty file (size %d, %v)", info.Size(), err)
	}
}

func TestNewerDatabaseSaysUpgradeWarden(t *testing.T) {
	db := filepath.Join(t.TempDir(), "new.db")
	writeSnapshot(t, db, &model.Graph{})
	raw, err := sql.Open("sqlite", db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`UPDATE warden_meta SET value='99' WHERE key='schema_version'`); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	for _, args := range [][]string{{"show", "users"}, {"demo", "--users", "5"}} {
		stdout, stderr, code := runIn(t, db, args...)
		assertFailure(t, stdout, stderr, code, exitStore, "made by a newer warden")
		if strings.Contains(stderr, "not a warden database") || !strings.Contains(stderr, "fix: upgrade warden") {
			t.Errorf("warden %s on a newer database:\n%s", strings.Join(args, " "), stderr)
		}
	}
}

func TestSyncFindsACorruptDatabaseBeforeCallingAWS(t *testing.T) {
	db := filepath.Join(t.TempDir(), "w.db")
	writeSnapshot(t, db, demoGraph(t))
	data, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	const page = 4096
	if len(data) < 4*page {
		t.Fatalf("database is only %d bytes", len(data))
	}
	for i := 2 * page; i < len(data); i++ {
		data[i] ^= 0x5a
	}
	if err := os.WriteFile(db, data, 0o600); err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int64
	aws := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		calls.Add(1)
		http.Error(w, "no", http.StatusInternalServerError)
	}))
	defer aws.Close()
	isolateAWSConfig(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEEXAMPLE00")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret-for-a-test-only")
	t.Setenv("AWS_REGION", "us-east-1")
	stdout, stderr, code := runIn(t, db, "sync", "--endpoint", aws.URL)
	assertFailure(t, stdout, stderr, code, exitStore, "is damaged")
	if n := calls.Load(); n != 0 {
		t.Errorf("sync made %d AWS calls before noticing the database is corrupt, want 0", n)
	}
}

// demoGraph is the demo database's latest graph: enough rows to span many
// pages of the file.
func demoGraph(t *testing.T) *model.Graph {
	t.Helper()
	st, err := store.OpenSQLiteReadOnly(context.Background(), demoDBPath(t))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	snap, err := st.LatestSnapshot(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	g, err := st.Graph(context.Background(), snap.ID)
	if err != nil {
		t.Fatal(err)
	}
	return g
}
