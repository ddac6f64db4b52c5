// Package pgtest gives tests a PostgreSQL database of their own on the
// server named by WARDEN_TEST_POSTGRES, and drops it again even when the
// server's autovacuum is working in it.
//
// It imports nothing of warden's, so every package's tests, the store's
// own included, can use it.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

// EnvVar is the environment variable holding the test server's URL; .ci/run
// sets it to a role with CREATEDB (not a superuser).
const EnvVar = "WARDEN_TEST_POSTGRES"

// URL is the test server's URL from EnvVar, or "" when it is unset or not a
// postgres:// or postgresql:// URL.
func URL() string {
	u := os.Getenv(EnvVar)
	if !strings.HasPrefix(u, "postgres://") && !strings.HasPrefix(u, "postgresql://") {
		return ""
	}
	return u
}

// Redacted is raw with any password replaced by "xxxxx", for messages.
func Redacted(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(a URL that does not parse)"
	}
	return u.Redacted()
}

// Database creates a database of its own for t on the test server and
// returns its URL (the server's URL with the database's name as its path),
// or "" when there is no test server. The database is dropped when t ends,
// whoever is still connected to it; a failure to drop it fails t.
func Database(t testing.TB) string {
	t.Helper()
	admin := URL()
	if admin == "" {
		return ""
	}
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("%s=%s does not parse as a URL", EnvVar, Redacted(admin))
	}
	db, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatalf("connect to %s: %v", Redacted(admin), err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	name := NewName()
	if _, err := db.ExecContext(ctx, `CREATE DATABASE `+pgx.Identifier{name}.Sanitize()); err != nil {
		db.Close()
		t.Fatalf("create a test database on %s (the role needs CREATEDB): %v", Redacted(admin), err)
	}
	t.Cleanup(func() {
		defer db.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		if err := Drop(ctx, db, name); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	return u.String()
}

// NewName is a new random database name, "warden_test_" and 12 hex digits.
func NewName() string {
	b := make([]byte, 6)
	rand.Read(b)
	return "warden_test_" + hex.EncodeToString(b)
}

// Drop drops the database name through db, ending the sessions still
// connected to it.
//
// DROP DATABASE ... WITH (FORCE) refuses, for a role that is not a
// superuser, while an autovacuum worker is in the database ("must be a
// member of the role whose process is being terminated", SQLSTATE 42501):
// the worker belongs to no role. A plain DROP DATABASE asks autovacuum to
// leave by itself, so on that error Drop ends its own role's sessions and
// drops without FORCE, and retries while the database is still in use
// (55006), until ctx ends.
func Drop(ctx context.Context, db *sql.DB, name string) error {
	id := pgx.Identifier{name}.Sanitize()
	for {
		_, err := db.ExecContext(ctx, `DROP DATABASE IF EXISTS `+id+` WITH (FORCE)`)
		if err == nil {
			return nil
		}
		if sqlState(err) == "42501" {
			if _, terr := db.ExecContext(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
				WHERE datname = $1 AND usename = current_user AND pid <> pg_backend_pid()`, name); terr != nil {
				return fmt.Errorf("%w; and ending this role's sessions in it: %v", err, terr)
			}
			if _, err = db.ExecContext(ctx, `DROP DATABASE IF EXISTS `+id); err == nil {
				return nil
			}
		}
		if s := sqlState(err); s != "42501" && s != "55006" {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (gave up: %v)", err, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// sqlState is err's SQLSTATE, or "" when it is not a server error.
func sqlState(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}
