package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/warden-iam/warden/internal/store"
)

// TestSyncRefusesAConnectionAnotherSyncHolds: while another process holds
// the sync lock of a connection, `warden sync` of it stores nothing and
// says who holds it; once released, the sync runs.
func TestSyncRefusesAConnectionAnotherSyncHolds(t *testing.T) {
	useFakeAWS(t, "--users", "3")
	t.Setenv("WARDEN_CONFIG", "")
	db := filepath.Join(t.TempDir(), "w.db")
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	release, err := st.LockSync(ctx, "", "pid 4242 on host elsewhere")
	if err != nil {
		t.Fatal(err)
	}
	_, errOut, code := runIn(t, db, "sync")
	if code != exitError || !strings.Contains(errOut, "pid 4242 on host elsewhere") || !strings.Contains(errOut, "fix: wait for it") {
		t.Fatalf("sync while locked exited %d:\n%s", code, errOut)
	}
	if _, err := st.LatestSnapshot(ctx, ""); err == nil {
		t.Fatal("a sync refused by the lock stored a snapshot")
	}
	release()
	if _, errOut, code := runIn(t, db, "sync"); code != 0 {
		t.Fatalf("sync after release exited %d:\n%s", code, errOut)
	}
}
