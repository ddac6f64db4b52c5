package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadsUseTheSoleConnectionOfTheFile: with a connections file of one
// connection, `show` and `access` read that connection's snapshot without
// --connection; with two, they read --connection's (default "default").
func TestReadsUseTheSoleConnectionOfTheFile(t *testing.T) {
	useFakeAWS(t, "--users", "3")
	dir := t.TempDir()
	db, cfg := filepath.Join(dir, "w.db"), filepath.Join(dir, "warden.yaml")
	if err := os.WriteFile(cfg, []byte("version: 1\nconnections:\n  - id: prod\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("WARDEN_CONFIG", cfg)
	if _, errOut, code := runIn(t, db, "sync"); code != 0 {
		t.Fatalf("sync exited %d: %s", code, errOut)
	}
	out, errOut, code := runIn(t, db, "show", "users")
	if code != 0 || !strings.Contains(out, "NAME") {
		t.Fatalf("show users with one connection in the file exited %d:\n%s%s", code, out, errOut)
	}
	if _, errOut, code := runIn(t, db, "snapshots"); code != 0 {
		t.Fatalf("snapshots exited %d: %s", code, errOut)
	}
	// Two connections: no guess; the default connection has no snapshot.
	if err := os.WriteFile(cfg, []byte("version: 1\nconnections:\n  - id: prod\n  - id: dev\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, errOut, code := runIn(t, db, "show", "users"); code != exitStore || !strings.Contains(errOut, `connection "default"`) {
		t.Fatalf("show users with two connections exited %d: %s", code, errOut)
	}
	if _, errOut, code := runIn(t, db, "--connection", "prod", "show", "users"); code != 0 {
		t.Fatalf("show users --connection prod exited %d: %s", code, errOut)
	}
}
