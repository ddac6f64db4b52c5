package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// useFakeAWS points the AWS SDK's environment at a fake-aws started with
// args and returns what it printed.
func useFakeAWS(t *testing.T, args ...string) map[string]string {
	t.Helper()
	isolateAWSConfig(t)
	env := startFakeAWS(t, args...)
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "AWS_ENDPOINT_URL"} {
		t.Setenv(k, env[k])
	}
	return env
}

type syncSummary struct {
	Snapshot struct {
		ConnectionID string         `json:"connection_id"`
		Status       string         `json:"status"`
		Counts       map[string]int `json:"counts"`
		Accounts     struct {
			Planned int `json:"planned"`
			Read    int `json:"read"`
		} `json:"accounts"`
		Errors []struct {
			AccountID string `json:"account_id"`
			Source    string `json:"source"`
			Message   string `json:"message"`
			Fix       string `json:"fix"`
		} `json:"errors"`
	} `json:"snapshot"`
}

// decodeSummaries reads the JSON summaries `sync -o json` printed, one per
// connection.
func decodeSummaries(t *testing.T, out string) []syncSummary {
	t.Helper()
	var list []syncSummary
	dec := json.NewDecoder(strings.NewReader(out))
	for dec.More() {
		var s syncSummary
		if err := dec.Decode(&s); err != nil {
			t.Fatalf("sync -o json printed %q: %v", out, err)
		}
		list = append(list, s)
	}
	return list
}

func TestSyncOrganizationFromCommandLine(t *testing.T) {
	useFakeAWS(t, "--accounts", "4", "--users", "6")
	db := filepath.Join(t.TempDir(), "w.db")
	out, errOut, code := runIn(t, db, "sync", "--organization", "--member-external-id", fakeAWSExternalID, "-o", "json")
	if code != 0 {
		t.Fatalf("sync --organization exited %d: %s", code, errOut)
	}
	s := decodeSummaries(t, out)[0].Snapshot
	if s.Status != "complete" || s.Accounts.Read != 5 || s.Counts["org_unit"] == 0 || s.Counts["scp"] != 5 || s.Counts["account"] != 5 {
		t.Errorf("organization sync summary = %+v; want 5 accounts read, OUs and 5 SCPs", s)
	}

	// The wrong ExternalId: every member fails, the management account is
	// read, the snapshot is partial (exit 3) and `sync status` says why.
	out, errOut, code = runIn(t, db, "sync", "--organization", "--member-external-id", "not-the-right-external-id", "-o", "json")
	if code != exitPartial {
		t.Fatalf("sync with a wrong ExternalId exited %d, want %d: %s", code, exitPartial, errOut)
	}
	s = decodeSummaries(t, out)[0].Snapshot
	if s.Accounts.Read != 1 || len(s.Errors) != 4 || s.Errors[0].Source != "assume_role" || !strings.Contains(s.Errors[0].Fix, "external_id") {
		t.Errorf("partial summary = %+v; want 4 assume_role failures with a fix", s)
	}
	out, _, code = runIn(t, db, "sync", "status")
	if code != exitPartial || !strings.Contains(out, "partial") || !strings.Contains(out, "cannot assume arn:aws:iam::200000000000:role/OrganizationAccountAccessRole") {
		t.Errorf("sync status exited %d:\n%s\nwant the partial snapshot's failures and exit 3", code, out)
	}
}

func TestSyncConnectionsFromConfigFile(t *testing.T) {
	env := useFakeAWS(t, "--accounts", "2", "--users", "3")
	dir := t.TempDir()
	cfg := filepath.Join(dir, "warden.yaml")
	t.Setenv("WARDEN_EXTERNAL_ID", fakeAWSExternalID)
	file := `version: 1
connections:
  - id: org
    endpoint: ` + env["AWS_ENDPOINT_URL"] + `
    organization:
      enabled: true
      external_id_env: WARDEN_EXTERNAL_ID
      exclude:
        accounts: ["200000000001"]
  - id: mgmt
    endpoint: ` + env["AWS_ENDPOINT_URL"] + `
    sync:
      access_keys: false
`
	if err := os.WriteFile(cfg, []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "w.db")
	out, errOut, code := runIn(t, db, "--config", cfg, "sync", "-o", "json")
	if code != 0 {
		t.Fatalf("sync of every connection exited %d: %s", code, errOut)
	}
	sums := decodeSummaries(t, out)
	if len(sums) != 2 || sums[0].Snapshot.ConnectionID != "org" || sums[0].Snapshot.Accounts.Read != 2 ||
		sums[1].Snapshot.ConnectionID != "mgmt" || sums[1].Snapshot.Accounts.Read != 1 {
		t.Fatalf("summaries = %+v; want org (2 accounts: the excluded one left out) and mgmt (1)", sums)
	}
	// One connection, by id; the two histories stay apart.
	if _, errOut, code := runIn(t, db, "--config", cfg, "--connection", "mgmt", "sync"); code != 0 {
		t.Fatalf("sync --connection mgmt exited %d: %s", code, errOut)
	}
	for conn, want := range map[string]int{"org": 1, "mgmt": 2} {
		out, _, _ := runIn(t, db, "--connection", conn, "snapshots", "-o", "json")
		var snaps []json.RawMessage
		if err := json.Unmarshal([]byte(out), &snaps); err != nil || len(snaps) != want {
			t.Errorf("connection %s has %d snapshots (%v), want %d", conn, len(snaps), err, want)
		}
	}
	out, _, code = runIn(t, db, "--config", cfg, "sync", "status", "-o", "json")
	var status []struct {
		Connection string `json:"connection"`
		Latest     *struct {
			Status string `json:"status"`
		} `json:"latest"`
	}
	if err := json.Unmarshal([]byte(out), &status); err != nil || code != 0 || len(status) != 2 || status[0].Latest.Status != "complete" {
		t.Errorf("sync status = %s (exit %d, %v)", out, code, err)
	}

	// Mistakes: an unknown connection, and flags that belong in the file.
	_, stderr, code := runIn(t, db, "--config", cfg, "--connection", "nope", "sync")
	assertFailure(t, "", stderr, code, exitUsage, `no connection "nope"`)
	_, stderr, code = runIn(t, db, "--config", cfg, "sync", "--organization")
	assertFailure(t, "", stderr, code, exitUsage, "connections come from")
}

func TestSetupCommands(t *testing.T) {
	db := filepath.Join(t.TempDir(), "unused.db")
	out, _, code := runIn(t, db, "setup", "policy", "--for", "read")
	var doc struct {
		Statement []struct {
			Action []string
		}
	}
	if code != 0 || json.Unmarshal([]byte(out), &doc) != nil {
		t.Fatalf("setup policy exited %d:\n%s", code, out)
	}
	actions := map[string]bool{}
	for _, st := range doc.Statement {
		for _, a := range st.Action {
			actions[a] = true
		}
	}
	for _, want := range []string{"iam:GetAccountAuthorizationDetails", "organizations:ListAccountsForParent", "sts:AssumeRole"} {
		if !actions[want] {
			t.Errorf("read policy lacks %s", want)
		}
	}
	if actions["iam:CreateUser"] {
		t.Error("read policy allows iam:CreateUser")
	}

	a, _, _ := runIn(t, db, "setup", "external-id")
	b, _, _ := runIn(t, db, "setup", "external-id", "-o", "json")
	var bj struct {
		ExternalID string `json:"external_id"`
	}
	if err := json.Unmarshal([]byte(b), &bj); err != nil || len(strings.TrimSpace(a)) < 32 || len(bj.ExternalID) < 32 || strings.TrimSpace(a) == bj.ExternalID {
		t.Errorf("external-id printed %q and %q; want two different ids of 32+ characters", a, b)
	}

	for _, kind := range []string{"cloudformation", "stackset"} {
		out, errOut, code := runIn(t, db, "setup", kind, "--trust-principal", "arn:aws:iam::111122223333:role/warden", "--external-id", bj.ExternalID)
		var tmpl map[string]any
		if code != 0 || json.Unmarshal([]byte(out), &tmpl) != nil || tmpl["Resources"] == nil {
			t.Errorf("setup %s exited %d (%s):\n%.300s", kind, code, errOut, out)
		}
	}
	_, stderr, code := runIn(t, db, "setup", "cloudformation", "--trust-principal", "someone")
	assertFailure(t, "", stderr, code, exitUsage, "trusted principal")
	_, stderr, code = runIn(t, db, "setup", "policy", "--for", "write")
	assertFailure(t, "", stderr, code, exitUsage, "--for")
}

func TestConfigValidate(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("version: 1\nconnections:\n  - id: Bad ID\n    organizaton: {}\n"), 0o600)
	_, stderr, code := runIn(t, "", "config", "validate", "--config", bad)
	if code != exitUsage || !strings.Contains(stderr, bad+":3:") || !strings.Contains(stderr, bad+":4:") || !strings.Contains(stderr, `"organization"`) {
		t.Errorf("validate of a bad file exited %d:\n%s\nwant each problem with its line, exit 2", code, stderr)
	}
	good := filepath.Join(dir, "good.yaml")
	example, _, _ := runIn(t, "", "config", "example")
	os.WriteFile(good, []byte(example), 0o600)
	out, stderr, code := runIn(t, "", "config", "validate", "--config", good, "-o", "json")
	var conns []map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &conns) != nil || len(conns) == 0 {
		t.Errorf("validate of the example exited %d: %s %s", code, out, stderr)
	}
	_, stderr, code = runIn(t, "", "config", "validate", "--config", filepath.Join(dir, "missing.yaml"))
	assertFailure(t, "", stderr, code, exitUsage, "no connections file")
}

func TestSyncIdentityCenterAndAccessOfAnSSOUser(t *testing.T) {
	useFakeAWS(t, "--accounts", "3", "--users", "4", "--identity-center-users", "40")
	db := filepath.Join(t.TempDir(), "w.db")
	out, errOut, code := runIn(t, db, "sync", "--organization", "--member-external-id", fakeAWSExternalID, "--identity-center", "-o", "json")
	if code != 0 {
		t.Fatalf("sync --identity-center exited %d: %s", code, errOut)
	}
	s := decodeSummaries(t, out)[0].Snapshot
	if s.Counts["sso_user"] != 40 || s.Counts["sso_group"] != 4 || s.Counts["permission_set"] != 6 {
		t.Fatalf("counts = %v, want 40 Identity Center users, 4 groups, 6 permission sets", s.Counts)
	}
	// Find a user holding a permission set, from the export.
	out, _, _ = runIn(t, db, "export", "--format", "json")
	var export struct {
		Graph struct {
			Resources []struct {
				ID, Type, Name string
			} `json:"resources"`
			Grants []struct {
				PrincipalID   string `json:"principal_id"`
				EntitlementID string `json:"entitlement_id"`
			} `json:"grants"`
		} `json:"graph"`
	}
	g := &export.Graph
	if err := json.Unmarshal([]byte(out), &export); err != nil {
		t.Fatalf("export: %v", err)
	}
	names := map[string]string{}
	for _, r := range g.Resources {
		if r.Type == "sso_user" {
			names[r.ID] = r.Name
		}
	}
	user := ""
	for _, gr := range g.Grants {
		if names[gr.PrincipalID] != "" && strings.Contains(gr.EntitlementID, "#account:") {
			user = names[gr.PrincipalID]
			break
		}
	}
	if user == "" {
		t.Fatal("no Identity Center user holds a permission set")
	}
	out, errOut, code = runIn(t, db, "access", user, "-o", "json")
	var acc struct {
		Principal struct {
			Type string `json:"type"`
		} `json:"principal"`
		Assignments []struct {
			AccountID string `json:"account_id"`
			Role      *struct {
				Name string `json:"name"`
			} `json:"role"`
			Policies []struct {
				Name string `json:"name"`
			} `json:"policies"`
		} `json:"assignments"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &acc) != nil || acc.Principal.Type != "sso_user" || len(acc.Assignments) == 0 {
		t.Fatalf("access %s exited %d (%s):\n%s", user, code, errOut, out)
	}
	for _, as := range acc.Assignments {
		if as.Role == nil || !strings.HasPrefix(as.Role.Name, "AWSReservedSSO_") || len(as.Policies) == 0 {
			t.Errorf("assignment in %s: role %+v, policies %v; want the reserved role and its policies", as.AccountID, as.Role, as.Policies)
		}
	}
	out, _, _ = runIn(t, db, "access", user)
	if !strings.Contains(out, "Permission sets by account") || !strings.Contains(out, "AWSReservedSSO_") {
		t.Errorf("access table:\n%s", out)
	}
}
