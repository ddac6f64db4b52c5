package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The fake-aws organization's member accounts are 200000000000 + i, each
// with OrganizationAccountAccessRole (AdministratorAccess attached, as
// Organizations attaches it); its SCPs deny only <service>:Delete*.
const fakeMember0 = "200000000000"

// syncedOrg syncs a small fake-aws organization with Identity Center.
func syncedOrg(t *testing.T) string {
	t.Helper()
	useFakeAWS(t, "--accounts", "2", "--users", "3", "--identity-center-users", "4")
	t.Setenv("WARDEN_CONFIG", "")
	db := filepath.Join(t.TempDir(), "w.db")
	if _, errOut, code := runIn(t, db, "sync", "--organization", "--identity-center", "--member-external-id", fakeAWSExternalID); code != 0 {
		t.Fatalf("sync exited %d: %s", code, errOut)
	}
	return db
}

// requireKeys fails unless the JSON object m has every key.
func requireKeys(t *testing.T, what string, m map[string]any, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			t.Errorf("%s has no key %q: %v", what, k, m)
		}
	}
}

// TestCanCommand: `warden can` on the member role of the first member
// account, which holds AdministratorAccess and no SCP denies iam:CreateUser
// (the estate's SCPs deny only Delete* actions): allowed, with the
// AdministratorAccess statement; every documented key is present; the
// table says the decision; bad input exits 2 with a fix.
func TestCanCommand(t *testing.T) {
	db := syncedOrg(t)
	role := "arn:aws:iam::" + fakeMember0 + ":role/OrganizationAccountAccessRole"
	out, errOut, code := runIn(t, db, "can", role, "iam:CreateUser", "--context", "aws:SourceIp=10.0.0.1", "-o", "json")
	if code != 0 {
		t.Fatalf("can exited %d: %s", code, errOut)
	}
	var ans map[string]any
	if err := json.Unmarshal([]byte(out), &ans); err != nil {
		t.Fatalf("can -o json: %v\n%s", err, out)
	}
	requireKeys(t, "answer", ans, "snapshot", "principal", "action", "resource", "context", "decision", "cases")
	requireKeys(t, "principal", ans["principal"].(map[string]any), "id", "type", "name", "arn", "account_id")
	if ans["decision"] != "allowed" || ans["resource"] != "*" {
		t.Errorf("decision %v on %v, want allowed on *", ans["decision"], ans["resource"])
	}
	cases := ans["cases"].([]any)
	if len(cases) != 1 {
		t.Fatalf("cases %v, want 1", cases)
	}
	c := cases[0].(map[string]any)
	requireKeys(t, "case", c, "account_id", "permission_set", "via", "role", "decision", "explanation", "allowed_if", "notes")
	steps := c["explanation"].([]any)
	found := false
	for _, s := range steps {
		m := s.(map[string]any)
		requireKeys(t, "step", m, "kind", "policy", "via", "statement", "effect", "note")
		found = found || m["kind"] == "identity" && m["policy"] == "AdministratorAccess" && m["effect"] == "Allow"
	}
	if !found {
		t.Errorf("explanation %v does not name AdministratorAccess", steps)
	}
	table, errOut, code := runIn(t, db, "can", role, "iam:CreateUser")
	if code != 0 || !strings.Contains(table, "allowed") || !strings.Contains(table, "AdministratorAccess") {
		t.Errorf("can (table) exited %d: %s%s", code, table, errOut)
	}
	// --session-policy: a session policy allowing only s3:ListBucket
	// leaves AdministratorAccess nothing else; from a file and from stdin.
	sessionDoc := `{"Version":"2012-10-17","Statement":[{"Sid":"ListOnly","Effect":"Allow","Action":"s3:ListBucket","Resource":"*"}]}`
	file := filepath.Join(t.TempDir(), "session.json")
	if err := os.WriteFile(file, []byte(sessionDoc), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, how := range []string{"file", "stdin"} {
		var out, errOut string
		var code int
		if how == "file" {
			out, errOut, code = runIn(t, db, "can", role, "iam:CreateUser", "--session-policy", file, "-o", "json")
		} else {
			out, errOut, code = runStdin(t, sessionDoc, "--db", db, "can", role, "iam:CreateUser", "--session-policy", "-", "-o", "json")
		}
		var got struct {
			SessionPolicy bool   `json:"session_policy"`
			Decision      string `json:"decision"`
			Cases         []struct {
				Explanation []struct{ Kind, Note string }
			} `json:"cases"`
		}
		if code != 0 || json.Unmarshal([]byte(out), &got) != nil {
			t.Fatalf("can --session-policy (%s) exited %d: %s%s", how, code, out, errOut)
		}
		if !got.SessionPolicy || got.Decision != "implicit_deny" || len(got.Cases) != 1 || len(got.Cases[0].Explanation) != 1 || got.Cases[0].Explanation[0].Kind != "session" {
			t.Errorf("can --session-policy (%s): %s; want implicit_deny by the session policy", how, out)
		}
	}
	if out, errOut, code := runIn(t, db, "can", role, "s3:ListBucket", "--session-policy", file, "-o", "json"); code != 0 || !strings.Contains(out, `"decision": "allowed"`) {
		t.Errorf("can s3:ListBucket within the session policy exited %d: %s%s", code, out, errOut)
	}
	badFile := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(badFile, []byte(`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}]}`), 0o600)
	for _, bad := range [][]string{
		{"can", role, "s3:GetObject", "--session-policy", filepath.Join(t.TempDir(), "missing.json")},
		{"can", role, "s3:GetObject", "--session-policy", badFile},
	} {
		if _, errOut, code := runIn(t, db, bad...); code != exitUsage || !strings.Contains(errOut, "session policy") {
			t.Errorf("%v exited %d (want %d): %s", bad, code, exitUsage, errOut)
		}
	}
	for _, bad := range [][]string{
		{"can", "nobody-at-all", "s3:GetObject"},
		{"can", role, "GetObject"},
		{"can", role, "s3:GetObject", "--context", "novalue"},
		{"can", role},
	} {
		_, errOut, code := runIn(t, db, bad...)
		if code != exitUsage || !strings.Contains(errOut, "fix") && !strings.Contains(strings.ToLower(errOut), "give") {
			t.Errorf("%v exited %d (want %d): %s", bad, code, exitUsage, errOut)
		}
	}
}

// TestWhoCanCommand: `warden who-can iam:CreateUser '*' --account` the
// first member lists its OrganizationAccountAccessRole, directly allowed,
// and only principals of that account; keys as documented; bad input exits 2.
func TestWhoCanCommand(t *testing.T) {
	db := syncedOrg(t)
	out, errOut, code := runIn(t, db, "who-can", "iam:CreateUser", "*", "--account", fakeMember0, "-o", "json")
	if code != 0 {
		t.Fatalf("who-can exited %d: %s", code, errOut)
	}
	var ans map[string]any
	if err := json.Unmarshal([]byte(out), &ans); err != nil {
		t.Fatalf("who-can -o json: %v\n%s", err, out)
	}
	requireKeys(t, "answer", ans, "snapshot", "action", "resource", "account", "principals", "evaluated")
	found := false
	for _, p := range ans["principals"].([]any) {
		e := p.(map[string]any)
		requireKeys(t, "entry", e, "principal", "account_id", "decision", "path", "chain", "explanation", "allowed_if")
		if e["account_id"] != fakeMember0 {
			t.Errorf("entry of account %v listed under --account %s", e["account_id"], fakeMember0)
		}
		pr := e["principal"].(map[string]any)
		if pr["name"] == "OrganizationAccountAccessRole" && e["path"] == "direct" && e["decision"] == "allowed" {
			found = true
		}
		for _, h := range e["chain"].([]any) {
			requireKeys(t, "hop", h.(map[string]any), "role", "via", "decision", "explanation", "allowed_if")
		}
	}
	if !found {
		t.Errorf("OrganizationAccountAccessRole is not listed as directly allowed: %s", out)
	}
	table, errOut, code := runIn(t, db, "who-can", "iam:CreateUser", "*", "--account", fakeMember0)
	if code != 0 || !strings.Contains(table, "OrganizationAccountAccessRole") {
		t.Errorf("who-can (table) exited %d: %s%s", code, table, errOut)
	}
	for _, bad := range [][]string{
		{"who-can", "iam:CreateUser"},
		{"who-can", "CreateUser", "*"},
		{"who-can", "iam:CreateUser", "*", "--account", "12"},
	} {
		_, errOut, code := runIn(t, db, bad...)
		if code != exitUsage {
			t.Errorf("%v exited %d (want %d): %s", bad, code, exitUsage, errOut)
		}
	}
}
