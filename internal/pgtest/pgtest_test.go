package pgtest

import (
	"context"
	"database/sql"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestDropEndsOpenSessions drops a database that a session of the same role
// is still using, and then it is gone from pg_database.
func TestDropEndsOpenSessions(t *testing.T) {
	admin := URL()
	if admin == "" {
		t.Skip("skipped: PostgreSQL: " + EnvVar + " is not set; .ci/run sets it (apt-get install postgresql)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	name := NewName()
	if _, err := db.ExecContext(ctx, `CREATE DATABASE `+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(admin)
	u.Path = "/" + name
	user, err := sql.Open("pgx", u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer user.Close()
	if err := user.PingContext(ctx); err != nil {
		t.Fatal(err)
	}
	if err := Drop(ctx, db, name); err != nil {
		t.Fatalf("Drop with a session open: %v", err)
	}
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM pg_database WHERE datname = $1`, name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("database %s still exists after Drop", name)
	}
	if err := Drop(ctx, db, name); err != nil {
		t.Errorf("Drop of a database already gone: %v", err)
	}
}

// TestURLAndRedacted: only postgres URLs count, and a password never shows.
func TestURLAndRedacted(t *testing.T) {
	for _, c := range []struct{ env, want string }{
		{"", ""},
		{"/tmp/warden.db", ""},
		{"postgres://u:p@h/db", "postgres://u:p@h/db"},
		{"postgresql://h/db", "postgresql://h/db"},
	} {
		t.Setenv(EnvVar, c.env)
		if got := URL(); got != c.want {
			t.Errorf("URL() with %q = %q, want %q", c.env, got, c.want)
		}
	}
	if got := Redacted("postgres://u:hunter2@h/db"); strings.Contains(got, "hunter2") || !strings.Contains(got, "u:xxxxx@h") {
		t.Errorf("Redacted = %q", got)
	}
	if got := Redacted("postgres://u:hunter2@h:bad/db"); strings.Contains(got, "hunter2") {
		t.Errorf("Redacted of a bad URL = %q", got)
	}
}
