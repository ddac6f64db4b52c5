package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/warden-iam/warden/internal/store"
	"github.com/warden-iam/warden/internal/tokens"
)

// TestTokenCommands creates, lists and revokes tokens with the CLI, on a
// SQLite file: create prints the secret once on stdout (with -o json as
// the documented keys), which then verifies against the same database;
// list and revoke never print it, the database file never holds it, and
// each change is in the audit log with the OS user as actor.
func TestTokenCommands(t *testing.T) {
	t.Setenv("WARDEN_CONFIG", "")
	t.Setenv("WARDEN_DB", "")
	db := filepath.Join(t.TempDir(), "w.db")
	secretForm := regexp.MustCompile(`^wdn_[A-Za-z0-9_-]{43}$`)

	out, errOut, code := runIn(t, db, "token", "create", "grafana", "--scope", "read", "--expires", "90d")
	if code != 0 {
		t.Fatalf("token create exited %d: %s", code, errOut)
	}
	grafana := strings.TrimSuffix(out, "\n")
	if !secretForm.MatchString(grafana) || strings.Count(out, "\n") != 1 {
		t.Fatalf("token create printed %q, want one line: the token", out)
	}
	if !strings.Contains(errOut, "shown only now") || strings.Contains(errOut, grafana) {
		t.Errorf("token create's stderr %q: want it to say the token is shown only now, without the token", errOut)
	}
	before := time.Now().UTC().Truncate(time.Second)
	out, errOut, code = runIn(t, db, "token", "create", "ops", "--scope", "admin", "-o", "json")
	if code != 0 {
		t.Fatalf("token create -o json exited %d: %s", code, errOut)
	}
	var created map[string]any
	if err := json.Unmarshal([]byte(out), &created); err != nil {
		t.Fatalf("token create -o json printed %q: %v", out, err)
	}
	ops, _ := created["token"].(string)
	if !secretForm.MatchString(ops) || created["name"] != "ops" || created["scope"] != "admin" || created["expires"] != nil || len(created) != 5 {
		t.Fatalf("token create -o json = %v; want {name, scope, created, expires: null, token}", created)
	}
	if c, err := time.Parse(time.RFC3339, created["created"].(string)); err != nil || c.Before(before) || c.After(time.Now()) {
		t.Errorf("created %v (%v), want now", created["created"], err)
	}

	// The secrets verify against the database the CLI wrote.
	st, err := store.OpenSQLite(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	svc := tokens.New(st, tokens.Options{})
	for sec, want := range map[string]tokens.Token{grafana: {Name: "grafana", Scope: tokens.ScopeRead}, ops: {Name: "ops", Scope: tokens.ScopeAdmin}} {
		if tok, err := svc.Verify(context.Background(), sec); err != nil || tok.Name != want.Name || tok.Scope != want.Scope {
			t.Errorf("Verify(secret of %s) = %+v, %v", want.Name, tok, err)
		}
	}
	svc.Wait()
	st.Close()

	out, errOut, code = runIn(t, db, "token", "list")
	if code != 0 {
		t.Fatalf("token list exited %d: %s", code, errOut)
	}
	for _, want := range []string{"grafana", "ops", "read", "admin", "never"} {
		if !strings.Contains(out, want) {
			t.Errorf("token list does not show %q:\n%s", want, out)
		}
	}
	out, _, code = runIn(t, db, "token", "revoke", "grafana")
	if code != 0 || !strings.Contains(out, "Revoked token grafana") {
		t.Fatalf("token revoke exited %d: %s", code, out)
	}
	if out, _, code = runIn(t, db, "token", "revoke", "ops", "-o", "json"); code != 0 {
		t.Fatalf("token revoke -o json exited %d", code)
	}
	var revoked tokens.Token
	if err := json.Unmarshal([]byte(out), &revoked); err != nil || revoked.Name != "ops" || revoked.Revoked == nil {
		t.Fatalf("token revoke -o json = %s (%v)", out, err)
	}
	// The name is free again.
	if _, errOut, code := runIn(t, db, "token", "create", "grafana", "--scope", "admin"); code != 0 {
		t.Fatalf("create grafana again after revoking it: exit %d: %s", code, errOut)
	}
	out, _, code = runIn(t, db, "token", "list", "-o", "json")
	var list []map[string]any
	if err := json.Unmarshal([]byte(out), &list); err != nil || code != 0 {
		t.Fatalf("token list -o json = %s (%v, exit %d)", out, err, code)
	}
	if len(list) != 3 || list[0]["name"] != "grafana" || list[0]["revoked"] == nil || list[1]["revoked"] != nil || list[2]["revoked"] == nil || list[0]["expires"] == nil {
		t.Fatalf("token list -o json = %v; want grafana revoked, grafana live, ops revoked", list)
	}
	for _, tok := range list {
		for _, k := range []string{"name", "scope", "created", "expires", "last_used", "revoked"} {
			if _, ok := tok[k]; !ok {
				t.Errorf("token list -o json: %v has no %s", tok, k)
			}
		}
		if len(tok) != 6 {
			t.Errorf("token list -o json: %v has keys beyond the six documented (never a hash)", tok)
		}
	}
	tableOut, _, _ := runIn(t, db, "token", "list")
	if !strings.Contains(tableOut, "revoked ") {
		t.Errorf("token list does not mark the revoked tokens:\n%s", tableOut)
	}
	for _, printed := range []string{out, tableOut} {
		for _, sec := range []string{grafana, ops} {
			if strings.Contains(printed, sec) {
				t.Fatal("token list printed a token")
			}
			h := sha256.Sum256([]byte(sec))
			if strings.Contains(printed, string(h[:])) || strings.Contains(printed, hex.EncodeToString(h[:])) {
				t.Fatal("token list printed a token's hash")
			}
		}
	}

	out, _, code = runIn(t, db, "audit", "-o", "json")
	var audit []store.AuditRecord
	if err := json.Unmarshal([]byte(out), &audit); err != nil || code != 0 {
		t.Fatalf("audit = %s (%v)", out, err)
	}
	var actions []string
	for i := len(audit) - 1; i >= 0; i-- {
		r := audit[i]
		actions = append(actions, r.Action+" "+r.Target+" "+r.Result)
		if !strings.HasPrefix(r.Actor, "os-user:") {
			t.Errorf("audit record %+v: actor %q, want the OS user", r, r.Actor)
		}
	}
	if want := "create-token token grafana ok,create-token token ops ok,revoke-token token grafana ok,revoke-token token ops ok,create-token token grafana ok"; strings.Join(actions, ",") != want {
		t.Errorf("audit log %q, want %q", strings.Join(actions, ","), want)
	}
	if strings.Contains(out, grafana) || strings.Contains(out, ops) {
		t.Fatal("the audit log holds a token")
	}

	raw, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	if wal, err := os.ReadFile(db + "-wal"); err == nil {
		raw = append(raw, wal...)
	}
	for _, sec := range []string{grafana, ops} {
		if bytes.Contains(raw, []byte(sec)) || bytes.Contains(raw, []byte(strings.TrimPrefix(sec, tokens.SecretPrefix))) {
			t.Fatal("the database file holds a token")
		}
	}
}

// TestTokenCommandErrors: each bad command line exits 2 with a problem and
// a fix, and stores nothing; a missing database for list exits 5.
func TestTokenCommandErrors(t *testing.T) {
	t.Setenv("WARDEN_CONFIG", "")
	t.Setenv("WARDEN_DB", "")
	dir := t.TempDir()
	db := filepath.Join(dir, "w.db")
	if _, errOut, code := runIn(t, db, "token", "create", "ci", "--scope", "read"); code != 0 {
		t.Fatalf("token create ci: exit %d: %s", code, errOut)
	}
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"token", "create", "x", "--scope", "write"}, exitUsage, `unknown token scope "write"`},
		{[]string{"token", "create", "x"}, exitUsage, "needs --scope"},
		{[]string{"token", "create", "ci", "--scope", "admin"}, exitUsage, "already has this name"},
		{[]string{"token", "create", "Bad Name", "--scope", "read"}, exitUsage, "bad token name"},
		{[]string{"token", "create", "env", "--scope", "read"}, exitUsage, "WARDEN_API_TOKEN"},
		{[]string{"token", "create", "x", "--scope", "read", "--expires", "soon"}, exitUsage, "--expires"},
		{[]string{"token", "create", "x", "--scope", "read", "--expires", "0d"}, exitUsage, "--expires"},
		{[]string{"token", "create", "--scope", "read"}, exitUsage, "takes the token's NAME"},
		{[]string{"token", "revoke", "nobody"}, exitUsage, "no live token"},
		{[]string{"token", "list", "extra"}, exitUsage, "takes no arguments"},
		{[]string{"token", "lst"}, exitUsage, "did you mean list"},
		{[]string{"--db", filepath.Join(dir, "missing.db"), "token", "list"}, exitStore, "no database at"},
	} {
		_, errOut, code := runIn(t, db, c.args...)
		if code != c.code || !strings.Contains(errOut, c.want) || !strings.Contains(errOut, "fix: ") {
			t.Errorf("warden %s: exit %d, stderr %q; want exit %d, %q and a fix", strings.Join(c.args, " "), code, errOut, c.code, c.want)
		}
	}
	out, _, _ := runIn(t, db, "token", "list", "-o", "json")
	var list []tokens.Token
	if err := json.Unmarshal([]byte(out), &list); err != nil || len(list) != 1 || list[0].Name != "ci" || list[0].Revoked != nil {
		t.Errorf("tokens after the refused commands: %s (%v); want ci alone, live", out, err)
	}
}

// TestTokenCommandsPostgres runs create, list and revoke on PostgreSQL,
// where replicas of warden serve share the tokens.
func TestTokenCommandsPostgres(t *testing.T) {
	t.Setenv("WARDEN_CONFIG", "")
	t.Setenv("WARDEN_DB", "")
	url := pgTestDatabase(t)
	if url == "" {
		t.Skip("skipped: PostgreSQL: WARDEN_TEST_POSTGRES is not set")
	}
	out, errOut, code := runIn(t, url, "token", "create", "ci", "--scope", "admin", "--expires", "1y")
	if code != 0 {
		t.Fatalf("token create on PostgreSQL: exit %d: %s", code, errOut)
	}
	secret := strings.TrimSpace(out)
	st, err := store.OpenPostgres(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	svc := tokens.New(st, tokens.Options{})
	defer svc.Wait() // before the store closes
	if tok, err := svc.Verify(context.Background(), secret); err != nil || tok.Name != "ci" || tok.Scope != tokens.ScopeAdmin {
		t.Fatalf("Verify on PostgreSQL = %+v, %v", tok, err)
	}
	if _, errOut, code := runIn(t, url, "token", "revoke", "ci"); code != 0 {
		t.Fatalf("token revoke on PostgreSQL: exit %d: %s", code, errOut)
	}
	if _, err := svc.Verify(context.Background(), secret); err == nil {
		t.Error("a token revoked with the CLI still verifies")
	}
	out, _, _ = runIn(t, url, "token", "list", "-o", "json")
	if strings.Contains(out, secret) || !strings.Contains(out, `"revoked": "`) {
		t.Errorf("token list on PostgreSQL: %s", out)
	}
}
