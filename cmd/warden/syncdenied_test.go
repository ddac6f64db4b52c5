package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/warden-iam/warden/awsfake"
)

// readFix is the fix of a read AWS refused to the emulator's caller: the
// read policy, which `warden setup policy --for read` prints.
func readFix(action string) string {
	return "attach to arn:aws:iam::123456789012:user/warden-admin the policy `warden setup policy --for read` prints: it allows " +
		action + " and every other call a sync makes"
}

// checkReadPolicyAllows asserts the policy the fix names does allow action.
func checkReadPolicyAllows(t *testing.T, action string) {
	t.Helper()
	out, stderr, code := runIn(t, "", "setup", "policy", "--for", "read")
	if code != exitOK || !strings.Contains(out, `"`+action+`"`) {
		t.Errorf("setup policy --for read exited %d (%s) and does not allow %s:\n%s", code, stderr, action, out)
	}
}

// TestSyncPermissionMissingNamesTheReadPolicy: a sync AWS refuses its
// first read (iam:GetAccountAuthorizationDetails) exits 4 with the fix
// naming the read policy, which allows that action.
func TestSyncPermissionMissingNamesTheReadPolicy(t *testing.T) {
	const action = "iam:GetAccountAuthorizationDetails"
	useFaultyAWS(t, map[string]awsfake.ActionFault{action: denied(action)})
	_, stderr, code := runIn(t, filepath.Join(t.TempDir(), "w.db"), "sync")
	if code != exitAuth || !strings.Contains(stderr, "warden: AWS denied "+action+" to arn:aws:iam::123456789012:user/warden-admin (AccessDenied)\n") ||
		!strings.Contains(stderr, "\nfix: "+readFix(action)+"\n") {
		t.Errorf("sync exited %d:\n%s\nwant exit 4 and the fix %q", code, stderr, readFix(action))
	}
	checkReadPolicyAllows(t, action)
}

// TestSyncPartRefusedNamesTheReadPolicy: one user's access keys refused
// (a per-entity read) makes the sync partial, and the failed part's fix in
// the snapshot's errors is the same read-policy fix.
func TestSyncPartRefusedNamesTheReadPolicy(t *testing.T) {
	const action = "iam:ListAccessKeys"
	var user string
	for name := range (awsfake.Estate{Users: 3, Groups: 2, Seed: 3}).Build().IAM.Users { // useFaultyAWS's account
		if user == "" || name < user {
			user = name
		}
	}
	f := denied(action)
	f.Param, f.Value = "UserName", user
	useFaultyAWS(t, map[string]awsfake.ActionFault{action: f})
	out, stderr, code := runIn(t, filepath.Join(t.TempDir(), "w.db"), "sync", "-o", "json")
	var got struct {
		Snapshot struct {
			Status string `json:"status"`
			Errors []struct {
				Source  string `json:"source"`
				Message string `json:"message"`
				Fix     string `json:"fix"`
			} `json:"errors"`
		} `json:"snapshot"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil || code != exitPartial || got.Snapshot.Status != "partial" {
		t.Fatalf("sync exited %d (%s): %v\n%s", code, stderr, err, out)
	}
	if len(got.Snapshot.Errors) != 1 || got.Snapshot.Errors[0].Source != "access_keys" || !strings.Contains(got.Snapshot.Errors[0].Message, user) ||
		got.Snapshot.Errors[0].Fix != readFix(action) {
		t.Errorf("failed parts %+v; want access_keys of %s with the fix %q", got.Snapshot.Errors, user, readFix(action))
	}
}

// TestSyncIdentityCenterPartRefusedNamesTheReadPolicy: Identity Center
// refusing a per-permission-set read (AccessDeniedException, JSON
// protocol) stores each failed part with the read policy's fix.
func TestSyncIdentityCenterPartRefusedNamesTheReadPolicy(t *testing.T) {
	const action = "sso:GetPermissionsBoundaryForPermissionSet"
	const who = "arn:aws:iam::111111111111:user/warden-admin"
	_, truth := useFaultyOrg(t, awsfake.Options{ActionFaults: map[string]awsfake.ActionFault{action: {Code: "AccessDeniedException",
		Message: "User: " + who + " is not authorized to perform: " + action}}})
	out, stderr, code := runIn(t, filepath.Join(t.TempDir(), "w.db"), "sync", "--identity-center", "-o", "json")
	var got struct {
		Snapshot struct {
			Errors []struct {
				Source string `json:"source"`
				Fix    string `json:"fix"`
			} `json:"errors"`
		} `json:"snapshot"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil || code != exitPartial {
		t.Fatalf("sync exited %d (%s): %v\n%s", code, stderr, err, out)
	}
	want := "attach to " + who + " the policy `warden setup policy --for read` prints: it allows " + action + " and every other call a sync makes"
	if len(got.Snapshot.Errors) != len(truth.IdentityCenter.PermissionSets) {
		t.Errorf("%d failed parts for %d permission sets: %+v", len(got.Snapshot.Errors), len(truth.IdentityCenter.PermissionSets), got.Snapshot.Errors)
	}
	for _, e := range got.Snapshot.Errors {
		if e.Source != "identity_center" || e.Fix != want {
			t.Errorf("failed part %+v; want identity_center with the fix %q", e, want)
		}
	}
	checkReadPolicyAllows(t, action)
}
