package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"
)

// testLockSync takes a connection's sync lock twice: the second fails
// naming the first holder, a different connection is not held up, and
// after release the lock can be taken again.
func testLockSync(t *testing.T, st *DB) {
	ctx := context.Background()
	release, err := st.LockSync(ctx, "prod", "pid 101 on host alpha")
	if err != nil {
		t.Fatal(err)
	}
	_, err = st.LockSync(ctx, "prod", "pid 202 on host beta")
	if !errors.Is(err, ErrSyncLocked) {
		t.Fatalf("second lock of prod: %v, want ErrSyncLocked", err)
	}
	for _, want := range []string{"connection prod", "pid 101 on host alpha", " since 20", "wait for it to finish, or stop it"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	other, err := st.LockSync(ctx, "staging", "pid 202 on host beta")
	if err != nil {
		t.Fatalf("lock of another connection: %v", err)
	}
	defaultLock, err := st.LockSync(ctx, "", "pid 303 on host gamma")
	if err != nil {
		t.Fatalf("lock of the default connection: %v", err)
	}
	if _, err := st.LockSync(ctx, "default", "pid 404"); !errors.Is(err, ErrSyncLocked) || !strings.Contains(err.Error(), "pid 303 on host gamma") {
		t.Errorf("\"default\" is not the same lock as \"\": %v", err)
	}
	release()
	release() // a second release does nothing
	again, err := st.LockSync(ctx, "prod", "pid 202 on host beta")
	if err != nil {
		t.Fatalf("lock of prod after release: %v", err)
	}
	again()
	other()
	defaultLock()
}

func TestLockSync(t *testing.T) { eachBackend(t, testLockSync) }

// TestLockSyncPostgresWithoutSchema takes the lock on a server database
// warden has not migrated: LockSync needs nothing of the schema.
func TestLockSyncPostgresWithoutSchema(t *testing.T) {
	db, err := sql.Open("pgx", pgTestDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	st := &DB{db: db, path: "test server", d: postgres{}}
	defer st.Close()
	testLockSync(t, st)
}

func TestSyncLockPath(t *testing.T) {
	for id, want := range map[string]string{
		"default":   "/d/w.db.sync-lock.default",
		"prod-eu_1": "/d/w.db.sync-lock.prod-eu_1",
		"../x/y z":  "/d/w.db.sync-lock.%2E.%2Fx%2Fy%20z",
		"a.b":       "/d/w.db.sync-lock.a.b",
		"é":         "/d/w.db.sync-lock.%C3%A9",
	} {
		if got := syncLockPath("/d/w.db", id); got != want {
			t.Errorf("syncLockPath(%q) = %q, want %q", id, got, want)
		}
	}
}
