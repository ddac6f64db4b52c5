package config

import (
	"strings"
	"testing"
)

func TestDatabaseKey(t *testing.T) {
	const rest = "connections:\n  - id: a\n"
	for _, c := range []struct {
		value, want string // want "" means valid
	}{
		{"warden.db", ""},
		{"/var/lib/warden/warden.db", ""},
		{"postgres://warden@db.example.com:5432/warden?sslmode=require", ""},
		{"postgresql:///warden", ""},
		{`""`, "is empty"},
		{"postgres://warden:hunter22@db/warden", "is refused: it holds a password"},
		{"postgres://db/warden?user=w&password=hunter22", "is refused: it holds a password"},
		{"postgres://db:port/warden%zz", "is not a valid PostgreSQL URL"},
		{"mysql://db/warden", "is a URL of a kind warden does not store in"},
		{"host=db password=hunter22", "is refused: it holds a password"},
	} {
		f, err := Parse([]byte("version: 1\ndatabase: "+c.value+"\n"+rest), "warden.yaml")
		switch {
		case c.want == "" && err != nil:
			t.Errorf("database: %s: %v", c.value, err)
		case c.want == "" && f.Database != strings.Trim(c.value, `"`):
			t.Errorf("database: %s read as %q", c.value, f.Database)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), "warden.yaml:2:1: database "+c.want)):
			t.Errorf("database: %s: error %v, want warden.yaml:2:1: database %s", c.value, err, c.want)
		case c.want != "" && strings.Contains(err.Error(), "hunter22"):
			t.Errorf("database: %s: the error repeats the password: %v", c.value, err)
		}
	}
}
