package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/warden-iam/warden/awsfake"
)

// useFaultyAWS serves an emulated account whose calls fail as faults says
// and points the AWS environment at it; it returns the account's group
// names, sorted.
func useFaultyAWS(t *testing.T, faults map[string]awsfake.ActionFault) []string {
	t.Helper()
	isolateAWSConfig(t)
	srv := awsfake.NewServer(awsfake.Options{ActionFaults: faults})
	t.Cleanup(srv.Close)
	acct := awsfake.Estate{Users: 3, Groups: 2, Seed: 3}.Build()
	c := srv.AddAccount(acct)
	for k, v := range map[string]string{"AWS_ACCESS_KEY_ID": c.AccessKeyID, "AWS_SECRET_ACCESS_KEY": c.SecretAccessKey,
		"AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": srv.URL()} {
		t.Setenv(k, v)
	}
	var groups []string
	for g := range acct.IAM.Groups {
		groups = append(groups, g)
	}
	sort.Strings(groups)
	return groups
}

// denied is the AccessDenied IAM answers a call its caller lacks the
// permission for (HTTP 403, the action named in the message).
func denied(action string) awsfake.ActionFault {
	return awsfake.ActionFault{Status: 403, Code: "AccessDenied",
		Message: "User: arn:aws:iam::123456789012:user/warden-admin is not authorized to perform: " + action +
			" on resource: arn:aws:iam::123456789012:group/x because no identity-based policy allows the " + action + " action"}
}

// TestApplyPermissionMissing: an IAM permission AWS refuses mid-apply exits
// 4 naming the action and the policy to grant, and still shows what was
// done and the console password made before it (JSON and table).
func TestApplyPermissionMissing(t *testing.T) {
	groups := useFaultyAWS(t, map[string]awsfake.ActionFault{"iam:AddUserToGroup": denied("iam:AddUserToGroup")})
	db := filepath.Join(t.TempDir(), "w.db")

	out, stderr, code := runIn(t, db, "apply", "create-user", "--user", "newbie", "--console-password", "--groups", groups[0], "--yes", "-o", "json")
	var results []struct {
		Done []struct {
			Step struct {
				Call string `json:"call"`
			} `json:"step"`
		} `json:"done"`
		Secrets []struct {
			What, Value string
		} `json:"secrets"`
		Failed *struct {
			Step struct {
				Call string `json:"call"`
			} `json:"step"`
		} `json:"failed"`
	}
	if err := json.Unmarshal([]byte(out), &results); err != nil || len(results) != 1 {
		t.Fatalf("apply exited %d (%s): %v\n%s", code, stderr, err, out)
	}
	r := results[0]
	if len(r.Done) != 2 || r.Done[0].Step.Call != "iam:CreateUser" || r.Done[1].Step.Call != "iam:CreateLoginProfile" ||
		len(r.Secrets) != 1 || r.Secrets[0].Value == "" || r.Failed == nil || r.Failed.Step.Call != "iam:AddUserToGroup" {
		t.Errorf("apply result:\n%s", out)
	}
	checkPermissionError(t, code, stderr, "iam:AddUserToGroup")
	if !strings.Contains(stderr, "iam:CreateUser, iam:CreateLoginProfile") {
		t.Errorf("the message does not say what was done:\n%s", stderr)
	}

	// As a table: the password made before the refused call is shown.
	out, stderr, code = runIn(t, db, "apply", "create-user", "--user", "newbie2", "--console-password", "--groups", groups[0], "--yes")
	checkPermissionError(t, code, stderr, "iam:AddUserToGroup")
	if !strings.Contains(out, "console password of user newbie2") {
		t.Errorf("the table does not show the password:\n%s", out)
	}
}

// TestApplyIdentityCenterPermissionMissing: an Identity Center call AWS
// refuses (AccessDeniedException, JSON protocol) exits 4 the same way,
// after the group created before it is shown as done.
func TestApplyIdentityCenterPermissionMissing(t *testing.T) {
	_, truth := useFaultyOrg(t, awsfake.Options{ActionFaults: map[string]awsfake.ActionFault{"sso:CreateAccountAssignment": {Code: "AccessDeniedException",
		Message: "User: arn:aws:iam::111111111111:user/warden-admin is not authorized to perform: sso:CreateAccountAssignment"}}})
	db := filepath.Join(t.TempDir(), "w.db")
	changes := filepath.Join(t.TempDir(), "ic.yaml")
	os.WriteFile(changes, []byte("actions:\n  - action: create-sso-group\n    group: auditors\n  - action: assign-permission-set\n"+
		"    group: auditors\n    permission_set: ReadOnlyAccess\n    account: \""+truth.Members[0].ID+"\"\n"), 0o600)
	out, stderr, code := runIn(t, db, "apply", "-f", changes, "--yes")
	checkPermissionError(t, code, stderr, "sso:CreateAccountAssignment")
	if !strings.Contains(stderr, "action 2 of 2") || !strings.Contains(out, "auditors") {
		t.Errorf("the report does not show the group made before the refusal:\n%s\n%s", out, stderr)
	}
}

// useFaultyOrg serves an emulated organization with Identity Center,
// faulty as o says, and points the AWS environment at it.
func useFaultyOrg(t *testing.T, o awsfake.Options) (*awsfake.Server, *awsfake.OrgTruth) {
	t.Helper()
	isolateAWSConfig(t)
	srv := awsfake.NewServer(o)
	t.Cleanup(srv.Close)
	truth := awsfake.OrgEstate{Accounts: 1, Seed: 2, PerAccount: awsfake.Estate{Users: 1},
		IdentityCenter: &awsfake.IdentityCenterEstate{Users: 4, Groups: 1, PermissionSets: 2}}.Build()
	c := truth.Install(srv)
	for k, v := range map[string]string{"AWS_ACCESS_KEY_ID": c.AccessKeyID, "AWS_SECRET_ACCESS_KEY": c.SecretAccessKey,
		"AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": srv.URL()} {
		t.Setenv(k, v)
	}
	return srv, truth
}

// TestSCIMTokenRefusedInPlanAndApply: Identity Center's SCIM endpoint
// refusing the token, in plan (a wrong token) or mid-apply (revoked), exits
// 4 with the fix for the token, not as a usage error or exit 1.
func TestSCIMTokenRefusedInPlanAndApply(t *testing.T) {
	srv, truth := useFaultyOrg(t, awsfake.Options{})
	var user string
	for _, u := range truth.IdentityCenter.Users {
		if user == "" || u.UserName < user {
			user = u.UserName
		}
	}
	db := filepath.Join(t.TempDir(), "w.db")
	args := []string{"deactivate-sso-user", "--user", user, "--scim-endpoint", srv.SCIMURL()}

	t.Setenv("WARDEN_SCIM_TOKEN", "not-the-token")
	_, stderr, code := runIn(t, db, append([]string{"plan"}, args...)...)
	if code != exitAuth || !strings.Contains(stderr, "warden: the SCIM endpoint refused the token (401)") || !strings.Contains(stderr, "fix: generate a new access token") {
		t.Errorf("plan with a wrong SCIM token exited %d:\n%s", code, stderr)
	}

	// The token works for the plan's read, then is refused at the write.
	t.Setenv("WARDEN_SCIM_TOKEN", truth.IdentityCenter.SCIMToken)
	srv.SetOptions(awsfake.Options{SCIM: awsfake.SCIMOptions{UnauthorizedAfter: 1}})
	_, stderr, code = runIn(t, db, append([]string{"apply", "--yes"}, args...)...)
	if code != exitAuth || !strings.Contains(stderr, "stopped at scim:PatchUser: the SCIM endpoint refused the token (401)") ||
		!strings.Contains(stderr, "fix: generate a new access token") || !strings.Contains(stderr, "run the same command again") {
		t.Errorf("apply with the token revoked exited %d:\n%s", code, stderr)
	}
}

// TestPlanPermissionMissing: a read plan needs and AWS refuses exits 4
// naming the action and the provisioning policy.
func TestPlanPermissionMissing(t *testing.T) {
	useFaultyAWS(t, map[string]awsfake.ActionFault{"iam:GetUser": denied("iam:GetUser")})
	db := filepath.Join(t.TempDir(), "w.db")
	out, stderr, code := runIn(t, db, "plan", "create-user", "--user", "newbie")
	if out != "" {
		t.Errorf("a refused plan printed %q", out)
	}
	checkPermissionError(t, code, stderr, "iam:GetUser")
}

// checkPermissionError asserts exit 4, a problem naming action and a fix
// naming the policy to grant.
func checkPermissionError(t *testing.T, code int, stderr, action string) {
	t.Helper()
	if code != exitAuth {
		t.Errorf("exit code %d, want %d\n%s", code, exitAuth, stderr)
	}
	var problem, fix string
	for _, line := range strings.Split(stderr, "\n") {
		if p, ok := strings.CutPrefix(line, "warden: "); ok {
			problem = p
		}
		if f, ok := strings.CutPrefix(line, "fix: "); ok {
			fix = f
		}
	}
	if !strings.Contains(problem, "AWS denied "+action) {
		t.Errorf("the problem does not name %s:\n%s", action, stderr)
	}
	if !strings.Contains(fix, action) || !strings.Contains(fix, "`warden setup policy --for provision`") {
		t.Errorf("the fix does not name %s and the policy to grant:\n%s", action, stderr)
	}
}
