package store

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/warden-iam/warden/internal/pgtest"
)

// backends are the store's back-ends, in the order the contract tests run
// them.
var backends = []string{"sqlite", "postgres"}

// pgSkip is the message of a PostgreSQL test on a machine without a server.
const pgSkip = "skipped: PostgreSQL: WARDEN_TEST_POSTGRES is not set; .ci/run sets it (apt-get install postgresql)"

// eachBackend runs fn as one subtest per back-end, each on a new, empty
// store: "sqlite" on a file in t.TempDir, "postgres" on a database of its
// own created on the server of WARDEN_TEST_POSTGRES (and dropped after),
// skipped with a message when that is not set.
func eachBackend(t *testing.T, fn func(t *testing.T, st *DB)) {
	t.Helper()
	for _, name := range backends {
		t.Run(name, func(t *testing.T) { fn(t, openBackend(t, name)) })
	}
}

// openBackend opens a new, empty store of the named back-end ("sqlite" or
// "postgres") for t, closed (and for PostgreSQL dropped) when t ends; the
// PostgreSQL one skips t when WARDEN_TEST_POSTGRES is not set.
func openBackend(t *testing.T, name string) *DB {
	t.Helper()
	ctx := context.Background()
	var st *DB
	var err error
	switch name {
	case "sqlite":
		st, err = OpenSQLite(ctx, filepath.Join(t.TempDir(), "warden.db"))
	case "postgres":
		st, err = OpenPostgres(ctx, pgTestDatabase(t))
	default:
		t.Fatalf("no back-end %q (have %v)", name, backends)
	}
	if err != nil {
		t.Fatalf("open %s store: %v", name, err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// pgTestURL is the URL of the test server, or "" when there is none.
func pgTestURL() string {
	u := os.Getenv("WARDEN_TEST_POSTGRES")
	if !IsPostgresURL(u) {
		return ""
	}
	return u
}

// pgTestConfig parses the test server's URL.
func pgTestConfig(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("WARDEN_TEST_POSTGRES=%s: %v", MaskDSN(raw), MaskDSN(err.Error()))
	}
	return u
}

// pgURLWith is u with the given user, password and (unless "") database.
func pgURLWith(u *url.URL, user, password, database string) string {
	c := *u
	c.User = url.UserPassword(user, password)
	if database != "" {
		c.Path = "/" + database
	}
	return c.String()
}

// pgTestDatabase creates a database of its own for t on the test server
// (skipping t when there is none) and returns its URL; the database is
// dropped, whoever is still connected, when t ends.
func pgTestDatabase(t *testing.T) string {
	t.Helper()
	u := pgtest.Database(t)
	if u == "" {
		t.Skip(pgSkip)
	}
	return u
}
