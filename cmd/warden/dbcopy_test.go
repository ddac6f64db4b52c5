package main

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/pgtest"
	"github.com/warden-iam/warden/internal/store"
)

// TestDBCopy copies the demo database into a new file (and, when a test
// server is set, into a new PostgreSQL database and back out of it), and
// checks the counts printed, every snapshot and the audit log read back
// from the copy, and the refusal of a second copy into the same target.
func TestDBCopy(t *testing.T) {
	src := demoDBPath(t)
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			to := filepath.Join(t.TempDir(), "copy.db")
			if name == "postgres" {
				if to = pgTestDatabase(t); to == "" {
					t.Skip("skipped: PostgreSQL: WARDEN_TEST_POSTGRES is not set; .ci/run sets it (apt-get install postgresql)")
				}
			}
			stdout, stderr, code := runIn(t, "", "db", "copy", "--from", src, "--to", to, "-o", "json")
			if code != 0 {
				t.Fatalf("db copy exited %d:\n%s", code, stderr)
			}
			var v dbCopyView
			if err := json.Unmarshal([]byte(stdout), &v); err != nil {
				t.Fatalf("db copy -o json: %v\n%s", err, stdout)
			}
			want := readStore(t, src)
			if v.Source != v.Target || v.Source.Snapshots != len(want.snaps) || v.Source.Snapshots == 0 || v.Source.Resources == 0 {
				t.Errorf("db copy printed %+v, want equal counts of %d snapshots", v, len(want.snaps))
			}
			if v.To != store.MaskDSN(to) || (store.IsPostgresURL(to) && strings.Contains(stdout+stderr, pgPassword(to))) {
				t.Errorf("db copy names the target %q, want %q (its password masked)", v.To, store.MaskDSN(to))
			}
			if got := readStore(t, to); got.json != want.json {
				t.Errorf("the copy reads back differently:\n got %s\nwant %s", got.json, want.json)
			}
			_, stderr, code = runIn(t, "", "db", "copy", "--from", src, "--to", to)
			assertFailure(t, "", stderr, code, exitUsage, "the target database is not empty")
			if store.IsPostgresURL(to) {
				back := filepath.Join(t.TempDir(), "back.db")
				if _, stderr, code := runIn(t, "", "db", "copy", "--from", to, "--to", back); code != 0 {
					t.Fatalf("db copy back out of PostgreSQL exited %d:\n%s", code, stderr)
				}
				if got := readStore(t, back); got.json != want.json {
					t.Errorf("the copy back out of PostgreSQL differs")
				}
			}
		})
	}
}

// TestDBCopyUsage checks the command line is refused before anything is
// opened when it is wrong.
func TestDBCopyUsage(t *testing.T) {
	db := filepath.Join(t.TempDir(), "w.db")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"db", "copy"}, "db copy needs --to"},
		{[]string{"db", "copy", "--from", db, "--to", db}, "--from and --to are the same database"},
		{[]string{"db", "copy", "--from", filepath.Join(filepath.Dir(db), "none.db"), "--to", db}, "no database at"},
	} {
		stdout, stderr, code := runIn(t, "", c.args...)
		want := exitUsage
		if c.want == "no database at" {
			want = exitStore
		}
		assertFailure(t, stdout, stderr, code, want, c.want)
	}
	if _, err := os.Stat(db); err == nil {
		t.Error("a refused copy created the target")
	}
}

// storeContent is everything of a store, as JSON, for comparison.
type storeContent struct {
	snaps []int64
	json  string
}

// readStore reads every connection's snapshots (metadata and graph) and
// audit log of the database at db.
func readStore(t *testing.T, db string) storeContent {
	t.Helper()
	ctx := context.Background()
	var st *store.DB
	var err error
	if store.IsPostgresURL(db) {
		st, err = store.OpenPostgres(ctx, db)
	} else {
		st, err = store.OpenSQLiteReadOnly(ctx, db)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	conns, err := st.Connections(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var c storeContent
	all := map[string]any{}
	for _, conn := range conns {
		eachSnapshot(t, st, conn, func(s model.Snapshot, g *model.Graph) {
			all[conn+"/"+s.StartedAt.Format(time.RFC3339Nano)] = []any{s, g}
			c.snaps = append(c.snaps, s.ID)
		})
		audit, err := st.Audit(ctx, conn, 0)
		if err != nil {
			t.Fatal(err)
		}
		all[conn+"/audit"] = audit
	}
	b, _ := json.Marshal(all)
	c.json = string(b)
	return c
}

// pgTestDatabase creates a database of its own on the server of
// WARDEN_TEST_POSTGRES, dropped when t ends, and returns its URL; "" when
// that is not set.
func pgTestDatabase(t *testing.T) string {
	t.Helper()
	return pgtest.Database(t)
}

// pgPassword is the password of a PostgreSQL URL.
func pgPassword(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	p, _ := u.User.Password()
	if p == "" {
		return "\x00no password"
	}
	return p
}

// TestDemoIntoPostgresHidesThePassword runs the demo into a PostgreSQL
// database named by --db with a password: nothing it prints holds the
// password, and the snapshots are there to read.
func TestDemoIntoPostgresHidesThePassword(t *testing.T) {
	db := pgTestDatabase(t)
	if db == "" {
		t.Skip("skipped: PostgreSQL: WARDEN_TEST_POSTGRES is not set; .ci/run sets it (apt-get install postgresql)")
	}
	t.Setenv("WARDEN_DB", "")
	stdout, stderr, code := runIn(t, db, "demo", "--users", "5")
	if code != 0 {
		t.Fatalf("demo exited %d:\n%s", code, stderr)
	}
	if strings.Contains(stdout+stderr, pgPassword(db)) {
		t.Errorf("demo printed the password:\n%s%s", stdout, stderr)
	}
	if !strings.Contains(stdout, store.MaskDSN(db)) {
		t.Errorf("demo does not name the database as %s:\n%s", store.MaskDSN(db), stdout)
	}
	// The demo syncs, changes the estate, and syncs again.
	if got := readStore(t, db); len(got.snaps) != 2 {
		t.Errorf("the demo database holds %d snapshots, want the demo's 2", len(got.snaps))
	}
}

// eachSnapshot calls fn with every snapshot of connection conn in st,
// newest first, and its whole graph.
func eachSnapshot(t *testing.T, st store.Store, conn string, fn func(model.Snapshot, *model.Graph)) {
	t.Helper()
	snaps, err := st.Snapshots(context.Background(), conn)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range snaps {
		g, err := st.Graph(context.Background(), s.ID)
		if err != nil {
			t.Fatal(err)
		}
		fn(s, g)
	}
}
