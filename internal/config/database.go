package config

import (
	"net/url"
	"strings"
)

// checkDatabase checks the database key: a file path, or a PostgreSQL URL
// without a password. Its messages never repeat the value, which could
// hold a password.
func checkDatabase(r *reporter, p, v string) {
	l := strings.ToLower(v)
	switch {
	case strings.TrimSpace(v) == "":
		r.add(p, "is empty; give a SQLite file such as warden.db or a URL such as postgres://warden@db.example.com:5432/warden, or remove the key")
	case strings.HasPrefix(l, "postgres://") || strings.HasPrefix(l, "postgresql://"):
		u, err := url.Parse(v)
		if err != nil {
			r.add(p, "is not a valid PostgreSQL URL; write it as postgres://USER@HOST:5432/DATABASE (percent-encode special characters)")
			return
		}
		if _, ok := u.User.Password(); ok || u.Query().Has("password") || u.Query().Has("sslpassword") {
			r.add(p, "is refused: it holds a password, and secrets are never written in warden.yaml; remove it from the URL and give it in PGPASSWORD or ~/.pgpass (or pass the whole URL in WARDEN_DB)")
		}
	case strings.Contains(l, "://"):
		r.add(p, "is a URL of a kind warden does not store in; use postgres://USER@HOST:5432/DATABASE, or a SQLite file's path")
	case strings.Contains(l, "password="):
		r.add(p, "is refused: it holds a password, and secrets are never written in warden.yaml; write a postgres:// URL without it and give the password in PGPASSWORD or ~/.pgpass")
	}
}
