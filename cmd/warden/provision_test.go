package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/warden-iam/warden/awsfake"
)

func TestPlanApplyAudit(t *testing.T) {
	useFakeAWS(t, "--users", "5")
	db := filepath.Join(t.TempDir(), "w.db")

	out, errOut, code := runIn(t, db, "plan", "create-user", "--user", "newbie", "--console-password", "--tag", "email=newbie@example.com", "-o", "json")
	var plans []struct {
		Steps []struct {
			Call string `json:"call"`
		} `json:"steps"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &plans) != nil || len(plans) != 1 || len(plans[0].Steps) != 2 ||
		plans[0].Steps[0].Call != "iam:CreateUser" || plans[0].Steps[1].Call != "iam:CreateLoginProfile" {
		t.Fatalf("plan exited %d (%s):\n%s", code, errOut, out)
	}

	out, errOut, code = runIn(t, db, "apply", "create-user", "--user", "newbie", "--console-password", "-o", "json")
	var results []struct {
		Done    []json.RawMessage `json:"done"`
		Secrets []struct {
			Value string `json:"value"`
		} `json:"secrets"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &results) != nil || len(results[0].Done) != 2 || len(results[0].Secrets) != 1 {
		t.Fatalf("apply exited %d (%s):\n%s", code, errOut, out)
	}
	password := results[0].Secrets[0].Value

	// Again: nothing to do.
	out, _, code = runIn(t, db, "apply", "create-user", "--user", "newbie", "--console-password")
	if code != 0 || !strings.Contains(out, "already exists") {
		t.Errorf("second apply exited %d:\n%s", code, out)
	}
	// Destructive without a terminal needs --yes.
	_, stderr, code := runIn(t, db, "apply", "delete-user", "--user", "newbie")
	if code != exitUsage || !strings.Contains(stderr, "warden: delete-user of user newbie") || !strings.Contains(stderr, "--yes") {
		t.Errorf("destructive apply without --yes exited %d:\n%s", code, stderr)
	}
	if _, errOut, code := runIn(t, db, "apply", "delete-user", "--user", "newbie", "--yes"); code != 0 {
		t.Fatalf("apply delete-user --yes exited %d: %s", code, errOut)
	}
	// A changes file; a bad one names the problem and its position.
	changes := filepath.Join(t.TempDir(), "changes.yaml")
	os.WriteFile(changes, []byte("actions:\n  - action: create-user\n    user: batch1\n  - action: add-to-group\n    user: batch1\n    group: \"no such!\"\n"), 0o600)
	_, stderr, code = runIn(t, db, "apply", "-f", changes, "--yes")
	assertFailure(t, "", stderr, code, exitUsage, "actions[1]")

	out, _, code = runIn(t, db, "audit", "-o", "json")
	var recs []struct {
		Action, Call, Result, RequestID, Actor string
	}
	if code != 0 || json.Unmarshal([]byte(out), &recs) != nil || len(recs) < 5 {
		t.Fatalf("audit exited %d:\n%s", code, out)
	}
	if strings.Contains(out, password) {
		t.Error("the generated password is in the audit log")
	}
	data, _ := os.ReadFile(db)
	if strings.Contains(string(data), password) {
		t.Error("the generated password is in the database file")
	}
}

func TestApplyIdentityCenterActions(t *testing.T) {
	useFakeAWS(t, "--accounts", "2", "--users", "2", "--identity-center-users", "10")
	db := filepath.Join(t.TempDir(), "w.db")
	changes := filepath.Join(t.TempDir(), "ic.yaml")
	os.WriteFile(changes, []byte(`actions:
  - action: create-sso-group
    group: auditors
  - action: assign-permission-set
    group: auditors
    permission_set: ReadOnlyAccess
    account: "200000000001"
`), 0o600)
	out, errOut, code := runIn(t, db, "apply", "-f", changes, "-o", "json")
	var results []struct {
		Done []struct {
			Step struct {
				Call string `json:"call"`
			} `json:"step"`
		} `json:"done"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &results) != nil || len(results) != 2 ||
		len(results[1].Done) != 1 || results[1].Done[0].Step.Call != "sso:CreateAccountAssignment" {
		t.Fatalf("apply exited %d (%s):\n%s", code, errOut, out)
	}
	// Unassigning is destructive; the plan shows it.
	out, _, code = runIn(t, db, "plan", "unassign-permission-set", "--group", "auditors", "--permission-set", "ReadOnlyAccess", "--account", "200000000001")
	if code != 0 || !strings.Contains(out, "sso:DeleteAccountAssignment") {
		t.Errorf("plan unassign exited %d:\n%s", code, out)
	}
}

// TestBatchInterruptedAndRerunConverges refuses a batch naming a missing
// group before any write, fixes the cause, and runs the same file again.
func TestBatchInterruptedAndRerunConverges(t *testing.T) {
	useFakeAWS(t, "--users", "3")
	db := filepath.Join(t.TempDir(), "w.db")
	changes := filepath.Join(t.TempDir(), "batch.yaml")
	write := func(group string) {
		os.WriteFile(changes, []byte(`actions:
  - action: create-user
    user: batchy
    console_password: true
  - action: add-to-group
    user: batchy
    group: `+group+`
  - action: attach-policy
    user: batchy
    policy_arn: arn:aws:iam::aws:policy/ReadOnlyAccess
`), 0o600)
	}
	write("no-such-group")
	_, stderr, code := runIn(t, db, "apply", "-f", changes, "--yes")
	if code == 0 || !strings.Contains(stderr, "action 2 of 3") {
		t.Fatalf("the batch with a missing group exited %d:\n%s", code, stderr)
	}
	// The operator corrects the file to an existing group and runs it again.
	write(firstGroup(t, db))
	out, stderr, code := runIn(t, db, "apply", "-f", changes, "--yes", "-o", "json")
	var results []struct {
		Plan struct {
			NoOp string `json:"no_op"`
		} `json:"plan"`
		Done []json.RawMessage `json:"done"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &results) != nil || len(results) != 3 {
		t.Fatalf("re-run exited %d (%s):\n%s", code, stderr, out)
	}
	// The first run was refused at its plan, before any write: the re-run
	// does everything.
	if len(results[0].Done) != 2 || len(results[1].Done) != 1 || len(results[2].Done) != 1 {
		t.Errorf("re-run: every action should be done: %s", out)
	}
	// The snapshot was brought up to date: access shows the change without a sync.
	if !strings.Contains(stderr, "records the changes") {
		t.Errorf("apply did not update the snapshot:\n%s", stderr)
	}
	out, _, code = runIn(t, db, "access", "batchy")
	if code != 0 || !strings.Contains(out, "ReadOnlyAccess") {
		t.Errorf("access batchy after apply exited %d:\n%s", code, out)
	}
}

// firstGroup syncs and returns the name of a group of the emulated account.
func firstGroup(t *testing.T, db string) string {
	t.Helper()
	if _, errOut, code := runIn(t, db, "sync"); code != 0 {
		t.Fatalf("sync exited %d: %s", code, errOut)
	}
	out, _, _ := runIn(t, db, "show", "groups", "-o", "json")
	var groups []struct {
		Name string `json:"name"`
	}
	if err := json.Unmarshal([]byte(out), &groups); err != nil || len(groups) == 0 {
		t.Fatalf("show groups: %v\n%s", err, out)
	}
	return groups[0].Name
}

// TestApplyShowsPasswordWhenALaterCallFails: the password made before a
// failing call is printed (table and JSON) and the exit code reports the
// failure.
func TestApplyShowsPasswordWhenALaterCallFails(t *testing.T) {
	useFakeAWS(t, "--users", "2")
	db := filepath.Join(t.TempDir(), "w.db")
	var arns []string
	for _, p := range awsfake.AWSManagedPolicies()[:11] {
		arns = append(arns, p.ARN)
	}
	// One action, the 11th policy over IAM's quota.
	out, stderr, code := runIn(t, db, "apply", "create-user", "--user", "newbie1", "--console-password", "--policies", strings.Join(arns, ","), "--yes", "-o", "json")
	var results []struct {
		Done    []json.RawMessage `json:"done"`
		Secrets []struct {
			What, Value string
		} `json:"secrets"`
		Failed *struct {
			Step struct {
				Call string `json:"call"`
			} `json:"step"`
			Error string `json:"error"`
		} `json:"failed"`
	}
	if code != exitError || json.Unmarshal([]byte(out), &results) != nil || len(results) != 1 || len(results[0].Secrets) != 1 ||
		results[0].Secrets[0].Value == "" || results[0].Failed == nil || results[0].Failed.Step.Call != "iam:AttachUserPolicy" {
		t.Fatalf("apply exited %d (%s):\n%s", code, stderr, out)
	}
	if !strings.Contains(stderr, "warden: action 1 of 1") || !strings.Contains(stderr, "\nfix: ") {
		t.Errorf("stderr:\n%s", stderr)
	}
	// A changes file whose second action fails, as a table.
	changes := filepath.Join(t.TempDir(), "changes.yaml")
	os.WriteFile(changes, []byte("actions:\n  - action: create-user\n    user: newbie2\n    console_password: true\n  - action: create-user\n    user: newbie3\n    policies: ["+strings.Join(arns, ", ")+"]\n"), 0o600)
	out, stderr, code = runIn(t, db, "apply", "-f", changes, "--yes")
	if code != exitError || !strings.Contains(out, "console password of user newbie2") || !strings.Contains(stderr, "action 2 of 2") {
		t.Fatalf("batch exited %d (%s):\n%s", code, stderr, out)
	}
}

// TestApplyChecksNamesBeforeAnyWrite: a missing group fails the plan with
// a fix, exit 2, and no user is half made.
func TestApplyChecksNamesBeforeAnyWrite(t *testing.T) {
	useFakeAWS(t, "--users", "2")
	db := filepath.Join(t.TempDir(), "w.db")
	out, stderr, code := runIn(t, db, "apply", "create-user", "--user", "newguy", "--console-password", "--groups", "no-such-group")
	assertFailure(t, out, stderr, code, exitUsage, "group no-such-group does not exist")
	out, _, code = runIn(t, db, "plan", "delete-user", "--user", "newguy")
	if code != 0 || !strings.Contains(out, "no such user newguy") {
		t.Errorf("after the refused apply, plan delete-user exited %d:\n%s", code, out)
	}
	out, _, _ = runIn(t, db, "audit", "-o", "json")
	if strings.TrimSpace(out) != "[]" {
		t.Errorf("the refused apply left audit records: %s", out)
	}
}

// TestPlanFileOnEarlierActions: plan -f plans an action on the state the
// earlier ones produce.
func TestPlanFileOnEarlierActions(t *testing.T) {
	useFakeAWS(t, "--users", "2")
	db := filepath.Join(t.TempDir(), "w.db")
	group := firstGroup(t, db)
	changes := filepath.Join(t.TempDir(), "changes.yaml")
	os.WriteFile(changes, []byte("actions:\n  - action: create-user\n    user: k9\n  - action: add-to-group\n    user: k9\n    group: "+group+"\n"), 0o600)
	out, stderr, code := runIn(t, db, "plan", "-f", changes, "-o", "json")
	var plans []struct {
		Steps []struct {
			Call string `json:"call"`
		} `json:"steps"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &plans) != nil || len(plans) != 2 || len(plans[1].Steps) != 1 || plans[1].Steps[0].Call != "iam:AddUserToGroup" {
		t.Fatalf("plan -f exited %d (%s):\n%s", code, stderr, out)
	}
	if _, stderr, code := runIn(t, db, "apply", "-f", changes); code != 0 {
		t.Fatalf("apply -f exited %d: %s", code, stderr)
	}
}

// TestPlanCreateUserOnExistingUser: the plan of create-user on a user that
// exists shows what converging it takes, not "nothing to do".
func TestPlanCreateUserOnExistingUser(t *testing.T) {
	useFakeAWS(t, "--users", "2")
	db := filepath.Join(t.TempDir(), "w.db")
	if _, stderr, code := runIn(t, db, "apply", "create-user", "--user", "k3"); code != 0 {
		t.Fatalf("apply exited %d: %s", code, stderr)
	}
	out, stderr, code := runIn(t, db, "plan", "create-user", "--user", "k3", "--console-password", "--path", "/other/", "--tag", "team=x")
	if code != 0 || !strings.Contains(out, "iam:UpdateUser") || !strings.Contains(out, "NewPath=/other/") || !strings.Contains(out, "iam:TagUser") ||
		!strings.Contains(out, "iam:CreateLoginProfile") || strings.Contains(out, "nothing to do") {
		t.Fatalf("plan exited %d (%s):\n%s", code, stderr, out)
	}
	if _, stderr, code := runIn(t, db, "apply", "create-user", "--user", "k3", "--console-password", "--path", "/other/", "--tag", "team=x"); code != 0 {
		t.Fatalf("apply exited %d: %s", code, stderr)
	}
	out, _, code = runIn(t, db, "plan", "create-user", "--user", "k3", "--console-password", "--path", "/other/", "--tag", "team=x")
	if code != 0 || !strings.Contains(out, "nothing to do") {
		t.Errorf("converged user: plan exited %d:\n%s", code, out)
	}
	// The audit log says what each call acted on.
	out, _, code = runIn(t, db, "audit", "-o", "json")
	var recs []struct {
		Call    string            `json:"call"`
		Params  map[string]string `json:"params"`
		Outcome map[string]string `json:"outcome"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &recs) != nil {
		t.Fatalf("audit exited %d:\n%s", code, out)
	}
	seen := map[string]bool{}
	for _, r := range recs {
		seen[r.Call] = r.Params != nil && r.Outcome != nil
		if r.Call == "iam:UpdateUser" && r.Params["NewPath"] != "/other/" {
			t.Errorf("UpdateUser record %+v", r)
		}
		if r.Call == "iam:CreateUser" && r.Outcome["UserId"] == "" {
			t.Errorf("CreateUser record %+v", r)
		}
	}
	if !seen["iam:UpdateUser"] || !seen["iam:CreateUser"] {
		t.Errorf("audit records: %s", out)
	}
	out, _, _ = runIn(t, db, "audit")
	if !strings.Contains(out, "NewPath=/other/ UserName=k3") {
		t.Errorf("audit table:\n%s", out)
	}
}

// TestAdminGrantNeedsConfirmation: attaching AdministratorAccess needs
// --yes without a terminal, as a destructive action does; replacing an
// inline document shows the statements removed and added.
func TestAdminGrantNeedsConfirmation(t *testing.T) {
	useFakeAWS(t, "--users", "2")
	db := filepath.Join(t.TempDir(), "w.db")
	group := firstGroup(t, db)
	out, stderr, code := runIn(t, db, "apply", "attach-policy", "--group", group, "--policy-arn", "arn:aws:iam::aws:policy/AdministratorAccess")
	if code != exitUsage || !strings.Contains(stderr, "\nwarden: attach-policy of group "+group) || !strings.Contains(stderr, "grants administrator access") ||
		!strings.Contains(stderr, "\nfix: ") || out != "" {
		t.Errorf("admin attach without --yes exited %d:\n%s", code, stderr)
	}
	if _, stderr, code := runIn(t, db, "apply", "attach-policy", "--group", group, "--policy-arn", "arn:aws:iam::aws:policy/AdministratorAccess", "--yes"); code != 0 {
		t.Fatalf("with --yes: exit %d: %s", code, stderr)
	}
	dir := t.TempDir()
	first, second := filepath.Join(dir, "a.json"), filepath.Join(dir, "b.json")
	os.WriteFile(first, []byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`), 0o600)
	os.WriteFile(second, []byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"*"}]}`), 0o600)
	if _, stderr, code := runIn(t, db, "apply", "put-inline-policy", "--group", group, "--policy-name", "p", "--document-file", first); code != 0 {
		t.Fatalf("put: exit %d: %s", code, stderr)
	}
	out, stderr, code = runIn(t, db, "plan", "put-inline-policy", "--group", group, "--policy-name", "p", "--document-file", second)
	if code != 0 || !regexp.MustCompile(`statement removed +\{"Action":"s3:GetObject"`).MatchString(out) ||
		!regexp.MustCompile(`statement added +\{"Action":"s3:PutObject"`).MatchString(out) {
		t.Errorf("plan exited %d (%s):\n%s", code, stderr, out)
	}
}

// TestPolicyDocumentFileChecks: a malformed document is refused before any
// call; one with a byte order mark is accepted, and sent without it.
func TestPolicyDocumentFileChecks(t *testing.T) {
	useFakeAWS(t, "--users", "2")
	db := filepath.Join(t.TempDir(), "w.db")
	group := firstGroup(t, db)
	dir := t.TempDir()
	bad, bom := filepath.Join(dir, "bad.json"), filepath.Join(dir, "bom.json")
	os.WriteFile(bad, []byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Perhaps","Action":"s3:*","Resource":"*"}]}`), 0o600)
	os.WriteFile(bom, []byte("\ufeff"+`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`), 0o600)
	out, stderr, code := runIn(t, db, "apply", "put-inline-policy", "--group", group, "--policy-name", "p", "--document-file", bad)
	assertFailure(t, out, stderr, code, exitUsage, `Effect "Perhaps"; it must be "Allow" or "Deny"`)
	if _, stderr, code := runIn(t, db, "apply", "put-inline-policy", "--group", group, "--policy-name", "p", "--document-file", bom); code != 0 {
		t.Fatalf("a document with a BOM: exit %d: %s", code, stderr)
	}
	out, _, code = runIn(t, db, "plan", "put-inline-policy", "--group", group, "--policy-name", "p", "--document-file", bom)
	if code != 0 || !strings.Contains(out, "already has inline policy p with this document") {
		t.Errorf("replan exited %d:\n%s", code, out)
	}
}

// TestChangesFileErrorsInWardensWords: a changes file's problems are
// reported with file:line:col and a fix, in warden's words.
func TestChangesFileErrorsInWardensWords(t *testing.T) {
	useFakeAWS(t, "--users", "2")
	db := filepath.Join(t.TempDir(), "w.db")
	changes := filepath.Join(t.TempDir(), "changes.yaml")
	os.WriteFile(changes, []byte("actions:\n  - action: create-user\n    user: a\n    groups: {x: y}\n"), 0o600)
	out, stderr, code := runIn(t, db, "plan", "-f", changes)
	assertFailure(t, out, stderr, code, exitUsage, changes+":4:13: actions[0].groups must be a list")
	if strings.Contains(stderr, "provision.Action") || strings.Contains(stderr, "!!") {
		t.Errorf("yaml.v3's words: %s", stderr)
	}
}

// TestPlanAndApplyJSONKeepEveryKey: plan's steps is [] (never null) and
// apply's plan.no_op is always present.
func TestPlanAndApplyJSONKeepEveryKey(t *testing.T) {
	useFakeAWS(t, "--users", "2")
	db := filepath.Join(t.TempDir(), "w.db")
	out, stderr, code := runIn(t, db, "plan", "delete-user", "--user", "nobody", "-o", "json")
	var plans []map[string]json.RawMessage
	if code != 0 || json.Unmarshal([]byte(out), &plans) != nil || len(plans) != 1 {
		t.Fatalf("plan exited %d (%s):\n%s", code, stderr, out)
	}
	for _, k := range []string{"action", "target", "steps", "no_op", "changes", "confirm"} {
		if _, ok := plans[0][k]; !ok {
			t.Errorf("plan document lacks %q: %s", k, out)
		}
	}
	if string(plans[0]["steps"]) != "[]" {
		t.Errorf("steps = %s, want []", plans[0]["steps"])
	}
	out, stderr, code = runIn(t, db, "apply", "create-user", "--user", "fresh", "-o", "json")
	var results []struct {
		Plan map[string]json.RawMessage `json:"plan"`
		Done []map[string]json.RawMessage
	}
	if code != 0 || json.Unmarshal([]byte(out), &results) != nil || len(results) != 1 {
		t.Fatalf("apply exited %d (%s):\n%s", code, stderr, out)
	}
	if v, ok := results[0].Plan["no_op"]; !ok || string(v) != "null" {
		t.Errorf("apply's plan.no_op = %s (present %v), want null", v, ok)
	}
	if _, ok := results[0].Done[0]["request_id"]; !ok {
		t.Errorf("done[0] lacks request_id: %s", out)
	}
	out, _, _ = runIn(t, db, "audit", "-o", "json")
	var recs []map[string]json.RawMessage
	if json.Unmarshal([]byte(out), &recs) != nil || len(recs) == 0 {
		t.Fatalf("audit:\n%s", out)
	}
	for _, k := range []string{"id", "at", "connection_id", "actor", "action", "target", "call", "result", "request_id", "detail", "params", "outcome"} {
		if _, ok := recs[0][k]; !ok {
			t.Errorf("audit record lacks %q: %s", k, out)
		}
	}
}
