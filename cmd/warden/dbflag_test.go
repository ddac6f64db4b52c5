package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/warden-iam/warden/internal/store"
)

// TestDatabasePrecedence checks where the database comes from: --db, else
// WARDEN_DB, else database: in the connections file, else warden.db.
func TestDatabasePrecedence(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "warden.yaml")
	yaml := "version: 1\ndatabase: from-config.db\nconnections:\n  - id: a\n"
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, flag, env, config, want string
	}{
		{"default", "", "", "", "warden.db"},
		{"config", "", "", cfg, "from-config.db"},
		{"env over config", "", "from-env.db", cfg, "from-env.db"},
		{"flag over env", "from-flag.db", "from-env.db", cfg, "from-flag.db"},
		{"url is masked", "postgres://w:hunter22@db/warden", "", "", "postgres://w:xxxxx@db/warden"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("WARDEN_DB", c.env)
			t.Setenv("WARDEN_CONFIG", "")
			a := newApp(io.Discard, io.Discard)
			a.dbFlag, a.configFlag = "warden.db", c.config
			if c.flag != "" {
				a.dbFlag, a.dbSet = c.flag, true
			}
			if got := a.dbPath(); got != c.want {
				t.Errorf("dbPath() = %q, want %q", got, c.want)
			}
			if c.flag != "" && a.dbSecret(a.dbPath()) != c.flag {
				t.Errorf("dbSecret(dbPath()) = %q, want the URL as given", a.dbSecret(a.dbPath()))
			}
		})
	}
}

// TestDatabaseFromABrokenConfig checks a read command says the connections
// file is broken rather than reading some other database.
func TestDatabaseFromABrokenConfig(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "warden.yaml")
	if err := os.WriteFile(cfg, []byte("version: 1\ndatabase: postgres://w:hunter22@db/warden\nconnections:\n  - id: a\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("WARDEN_DB", "")
	stdout, stderr, code := runIn(t, "", "--config", cfg, "snapshots")
	assertFailure(t, stdout, stderr, code, exitUsage, "database is refused: it holds a password")
	if strings.Contains(stderr, "hunter22") {
		t.Errorf("the error repeats the password:\n%s", stderr)
	}
}

// TestPostgresURLNeverPrinted opens a server that is not there with a
// password in --db and in WARDEN_DB: the error names the masked URL.
func TestPostgresURLNeverPrinted(t *testing.T) {
	const url = "postgres://warden:hunter22@127.0.0.1:1/warden?sslmode=disable&connect_timeout=5"
	for _, args := range [][]string{{"--db", url, "snapshots"}, {"snapshots"}, {"--db", url, "show", "users"}} {
		t.Setenv("WARDEN_DB", url)
		stdout, stderr, code := runIn(t, "", args...)
		assertFailure(t, stdout, stderr, code, exitStore, "cannot reach PostgreSQL at postgres://warden:xxxxx@127.0.0.1:1/warden")
		if strings.Contains(stdout+stderr, "hunter22") {
			t.Errorf("warden %s printed the password:\n%s%s", strings.Join(args, " "), stdout, stderr)
		}
	}
}

// TestLockSyncNamesTheHolder takes a connection's sync lock twice through
// the CLI's helper: the second is refused naming this process.
func TestLockSyncNamesTheHolder(t *testing.T) {
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	a := newApp(io.Discard, io.Discard)
	release, err := a.lockSync(ctx, st, "prod")
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	_, err = a.lockSync(ctx, st, "prod")
	code, problem, fix := explain(err)
	if code != exitError || !strings.Contains(problem, "connection prod is being synced by "+store.SyncHolder()) || !strings.HasPrefix(fix, "wait for it to finish, or stop it") {
		t.Errorf("second lock: exit %d, problem %q, fix %q", code, problem, fix)
	}
}
