package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// planCalls decodes `plan -o json` into each plan's calls and no-op note.
func planCalls(t *testing.T, out string) (calls []string, noOp string) {
	t.Helper()
	var plans []struct {
		NoOp  string `json:"no_op"`
		Steps []struct {
			Call string `json:"call"`
		} `json:"steps"`
	}
	if err := json.Unmarshal([]byte(out), &plans); err != nil || len(plans) != 1 {
		t.Fatalf("plan -o json: %v\n%s", err, out)
	}
	for _, s := range plans[0].Steps {
		calls = append(calls, s.Call)
	}
	return calls, plans[0].NoOp
}

// TestPlanAndRepeatReactivate: plan reads the deactivation apply recorded,
// and a reactivation already done is a no-op, exit 0.
func TestPlanAndRepeatReactivate(t *testing.T) {
	useFakeAWS(t, "--users", "2")
	db := filepath.Join(t.TempDir(), "w.db")
	if _, errOut, code := runIn(t, db, "apply", "create-user", "--user", "leaver1", "--console-password"); code != 0 {
		t.Fatalf("create-user exited %d: %s", code, errOut)
	}
	if _, errOut, code := runIn(t, db, "apply", "deactivate-user", "--user", "leaver1", "--yes"); code != 0 {
		t.Fatalf("deactivate-user exited %d: %s", code, errOut)
	}
	out, errOut, code := runIn(t, db, "plan", "reactivate-user", "--user", "leaver1", "-o", "json")
	if code != 0 {
		t.Fatalf("plan reactivate-user exited %d: %s", code, errOut)
	}
	if calls, _ := planCalls(t, out); strings.Join(calls, " ") != "iam:CreateLoginProfile" {
		t.Fatalf("plan reactivate-user = %v, want the console password restored", calls)
	}
	if _, errOut, code := runIn(t, db, "apply", "reactivate-user", "--user", "leaver1"); code != 0 {
		t.Fatalf("apply reactivate-user exited %d: %s", code, errOut)
	}
	out, errOut, code = runIn(t, db, "apply", "reactivate-user", "--user", "leaver1")
	if code != 0 || !strings.Contains(out, "reactivated already") {
		t.Fatalf("second apply reactivate-user exited %d (%s):\n%s", code, errOut, out)
	}
	out, _, code = runIn(t, db, "plan", "reactivate-user", "--user", "leaver1", "-o", "json")
	if calls, noOp := planCalls(t, out); code != 0 || len(calls) != 0 || noOp == "" {
		t.Errorf("plan after reactivation exited %d: %v %q, want a no-op", code, calls, noOp)
	}
}

// TestDeleteMisspeltUser: a name never seen says "no such user", and a
// user this database deleted says so, in plan and apply alike.
func TestDeleteMisspeltUser(t *testing.T) {
	useFakeAWS(t, "--users", "2")
	db := filepath.Join(t.TempDir(), "w.db")
	out, errOut, code := runIn(t, db, "apply", "delete-user", "--user", "nosuchuser", "--yes")
	if code != 0 || !strings.Contains(out, "no such user nosuchuser") || strings.Contains(out+errOut, "already deleted") {
		t.Errorf("delete-user of a misspelt name exited %d (%s):\n%s", code, errOut, out)
	}
	if _, errOut, code := runIn(t, db, "apply", "create-user", "--user", "temp1"); code != 0 {
		t.Fatalf("create-user exited %d: %s", code, errOut)
	}
	if _, errOut, code := runIn(t, db, "apply", "delete-user", "--user", "temp1", "--yes"); code != 0 {
		t.Fatalf("delete-user exited %d: %s", code, errOut)
	}
	out, errOut, code = runIn(t, db, "plan", "delete-user", "--user", "temp1", "-o", "json")
	if calls, noOp := planCalls(t, out); code != 0 || len(calls) != 0 || !strings.Contains(noOp, "was deleted by warden") {
		t.Errorf("plan delete-user of a user warden deleted exited %d (%s): %v %q", code, errOut, calls, noOp)
	}
}
