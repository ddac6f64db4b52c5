package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/warden-iam/warden/awsfake"
)

// The planted organization of the effective-access findings (the estate
// of internal/findings' escalation_test.go): account A, under the root,
// holds the administrators and the planted escalation paths; account B
// sits in an OU whose SCP denies iam:*, so its AdministratorAccess holder
// bob is not an administrator.
const (
	pMgmt       = "111111111111"
	pA          = "200000000000"
	pB          = "200000000001"
	pExternalID = "findings-cli-test-external-id"
	pAdmin      = "arn:aws:iam::aws:policy/AdministratorAccess"
	pPowerUser  = "arn:aws:iam::aws:policy/PowerUserAccess"
)

var pCreated = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func pARN(account, kind, name string) string {
	return "arn:aws:iam::" + account + ":" + kind + "/" + name
}

func pDoc(statements ...string) string {
	return `{"Version":"2012-10-17","Statement":[` + strings.Join(statements, ",") + "]}"
}

func pAllow(sid, action, resource string) string {
	return `{"Sid":"` + sid + `","Effect":"Allow","Action":"` + action + `","Resource":"` + resource + `"}`
}

func pTrust(kind, principal string) string {
	return pDoc(`{"Effect":"Allow","Principal":{"` + kind + `":"` + principal + `"},"Action":"sts:AssumeRole"}`)
}

func pID(prefix, account, name string) string {
	s := fmt.Sprintf("%X", name)
	for len(s) < 11 {
		s += "0"
	}
	return prefix + account[:6] + s[:11]
}

func pUser(a *awsfake.Account, name string, attached []string, inline map[string]string, boundary string, groups ...string) {
	a.IAM.Users[name] = &awsfake.User{Name: name, ID: pID("AIDA", a.ID, name), Path: "/", ARN: pARN(a.ID, "user", name),
		CreatedAt: pCreated, AttachedPolicies: attached, InlinePolicies: inline, PermissionsBoundary: boundary, Groups: groups}
	for _, g := range groups {
		a.IAM.Groups[g].Members = append(a.IAM.Groups[g].Members, name)
	}
}

func pRole(a *awsfake.Account, name, trust string, attached []string, inline map[string]string) {
	a.IAM.Roles[name] = &awsfake.Role{Name: name, ID: pID("AROA", a.ID, name), Path: "/", ARN: pARN(a.ID, "role", name),
		CreatedAt: pCreated, MaxSessionDuration: 3600, AssumeRolePolicy: trust, AttachedPolicies: attached, InlinePolicies: inline}
}

func pInline(name, doc string) map[string]string { return map[string]string{name: doc} }

// plantedEscalationTruth builds the organization.
func plantedEscalationTruth() *awsfake.OrgTruth {
	t := awsfake.OrgEstate{Accounts: 2, OUs: 1, Seed: 11, ExternalID: pExternalID}.Build()
	o := t.Organization
	var ou string
	for id := range o.OUs {
		ou = id
	}
	o.Accounts[pA].ParentID = o.Root.ID
	o.Accounts[pB].ParentID = ou
	o.Policies["p-denyiam0001"] = &awsfake.OrgPolicy{ID: "p-denyiam0001", ARN: "arn:aws:organizations::" + pMgmt + ":policy/" + o.ID + "/service_control_policy/p-denyiam0001",
		Name: "deny-iam", Type: "SERVICE_CONTROL_POLICY", Content: pDoc(`{"Sid":"NoIAM","Effect":"Deny","Action":"iam:*","Resource":"*"}`), Targets: []string{ou}}

	a, b := t.Members[0], t.Members[1]
	ann := pARN(pA, "user", "ann")
	pUser(a, "ann", []string{pAdmin}, nil, "")
	pRole(a, "admin-role", pTrust("AWS", ann), []string{pAdmin}, nil)
	pRole(a, "lambda-admin", pTrust("Service", "lambda.amazonaws.com"), []string{pAdmin}, nil)
	pUser(a, "pow", []string{pPowerUser}, nil, "")
	pUser(a, "ned", nil, nil, "")
	pUser(a, "pat", nil, pInline("pass-only", pDoc(pAllow("PassOnly", "iam:PassRole", pARN(pA, "role", "lambda-admin")))), "")
	pUser(b, "bob", []string{pAdmin}, nil, "")
	pUser(a, "kim", nil, pInline("keys", pDoc(pAllow("AnnKeys", "iam:CreateAccessKey", ann))), "")
	pUser(a, "mo", nil, pInline("keys-mfa", pDoc(`{"Sid":"AnnKeysWithMFA","Effect":"Allow","Action":"iam:CreateAccessKey","Resource":"`+ann+`","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}`)), "")
	pUser(a, "sam", nil, pInline("self-attach", pDoc(pAllow("AttachSelf", "iam:AttachUserPolicy", pARN(pA, "user", "${aws:username}")))), "")
	a.IAM.Groups["devs"] = &awsfake.Group{Name: "devs", ID: pID("AGPA", pA, "devs"), Path: "/", ARN: pARN(pA, "group", "devs"), CreatedAt: pCreated}
	pUser(a, "gus", nil, pInline("group-put", pDoc(pAllow("PutDevs", "iam:PutGroupPolicy", pARN(pA, "group", "devs")))), "", "devs")
	bnd := pARN(pA, "policy", "bea-boundary")
	a.IAM.Policies[bnd] = &awsfake.ManagedPolicy{Name: "bea-boundary", ID: "ANPABEABOUNDARY000001", Path: "/", ARN: bnd,
		CreatedAt: pCreated, UpdatedAt: pCreated, DefaultVersionID: "v1", IsAttachable: true,
		Versions: []*awsfake.PolicyVersion{{ID: "v1", CreatedAt: pCreated, Document: pDoc(pAllow("S3", "s3:*", "*"),
			pAllow("DropBoundary", "iam:DeleteUserPermissionsBoundary", pARN(pA, "user", "bea")))}}}
	pUser(a, "bea", []string{pAdmin}, nil, bnd)
	pUser(a, "tom", nil, pInline("trust", pDoc(pAllow("RewriteTrust", "iam:UpdateAssumeRolePolicy", pARN(pA, "role", "admin-role")))), "")
	pUser(a, "pia", nil, pInline("pass", pDoc(pAllow("PassLambdaAdmin", "iam:PassRole", pARN(pA, "role", "lambda-admin")),
		pAllow("Lambda", "lambda:*", "*"))), "")
	pUser(a, "cal", nil, pInline("assume-ops", pDoc(pAllow("AssumeOps", "sts:AssumeRole", pARN(pA, "role", "ops")))), "")
	pRole(a, "ops", pTrust("AWS", pARN(pA, "user", "cal")), nil, pInline("login", pDoc(pAllow("AnnLogin", "iam:CreateLoginProfile", ann))))
	pUser(a, "ari", nil, pInline("plain", pDoc(pAllow("AssumePlain", "sts:AssumeRole", pARN(pA, "role", "plain")),
		pAllow("AttachPlain", "iam:AttachRolePolicy", pARN(pA, "role", "plain")))), "")
	pRole(a, "plain", pTrust("AWS", pARN(pA, "user", "ari")), nil, nil)
	return t
}

// syncedEscalationOrg serves the planted organization from the emulator
// and syncs it with `warden sync --organization`.
func syncedEscalationOrg(t *testing.T) string {
	t.Helper()
	isolateAWSConfig(t)
	srv := awsfake.NewServer(awsfake.Options{})
	t.Cleanup(srv.Close)
	creds := plantedEscalationTruth().Install(srv)
	for k, v := range map[string]string{"AWS_ACCESS_KEY_ID": creds.AccessKeyID, "AWS_SECRET_ACCESS_KEY": creds.SecretAccessKey,
		"AWS_SESSION_TOKEN": creds.SessionToken, "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": srv.URL()} {
		t.Setenv(k, v)
	}
	t.Setenv("WARDEN_CONFIG", "")
	db := filepath.Join(t.TempDir(), "w.db")
	if _, errOut, code := runIn(t, db, "sync", "--organization", "--member-external-id", pExternalID); code != 0 {
		t.Fatalf("sync exited %d: %s", code, errOut)
	}
	return db
}

type cliRef struct {
	ID        string `json:"id"`
	Type      string `json:"type"`
	Name      string `json:"name"`
	AccountID string `json:"account_id"`
}

type cliStep struct {
	Principal   cliRef   `json:"principal"`
	Actions     []string `json:"actions"`
	Target      cliRef   `json:"target"`
	Gains       string   `json:"gains"`
	Decision    string   `json:"decision"`
	Explanation []struct {
		Kind, Policy, Statement, Effect string
	} `json:"explanation"`
}

type cliFindings struct {
	Admins              []json.RawMessage `json:"admins"`
	EffectiveAdminsRead *bool             `json:"effective_admins_read"`
	EffectiveAdmins     []struct {
		Principal        cliRef `json:"principal"`
		AccountID        string `json:"account_id"`
		Path             string `json:"path"`
		Decision         string `json:"decision"`
		HoldsAdminPolicy bool   `json:"holds_admin_policy"`
		Explanation      []struct {
			Kind, Policy, Effect string
		} `json:"explanation"`
	} `json:"effective_admins"`
	EscalationPathsRead *bool `json:"escalation_paths_read"`
	EscalationPaths     []struct {
		Principal cliRef `json:"principal"`
		Admin     cliRef `json:"admin"`
		Decision  string `json:"decision"`
		AllowedIf []struct {
			Requires []json.RawMessage `json:"requires"`
		} `json:"allowed_if"`
		Steps []cliStep `json:"steps"`
	} `json:"escalation_paths"`
}

func findingsJSON(t *testing.T, db string, args ...string) (cliFindings, map[string]json.RawMessage) {
	t.Helper()
	out, errOut, code := runIn(t, db, append(append([]string{"findings"}, args...), "-o", "json")...)
	if code != 0 {
		t.Fatalf("findings %v exited %d: %s", args, code, errOut)
	}
	var f cliFindings
	var keys map[string]json.RawMessage
	if err := json.Unmarshal([]byte(out), &f); err != nil {
		t.Fatalf("findings -o json: %v\n%s", err, out)
	}
	if err := json.Unmarshal([]byte(out), &keys); err != nil {
		t.Fatal(err)
	}
	return f, keys
}

// TestFindingsEffectiveAdminsAndEscalationPaths runs `warden findings` on
// the planted organization and compares the effective administrators and
// the escalation paths to the ground truth written here: by default the
// administrators are decided and the paths are not (escalation_paths_read
// false, never silently empty), --escalation finds every planted path,
// shortest first, each step citing the statement that allows it, and
// --effective=false says the administrators were not computed; the older
// keys stay.
func TestFindingsEffectiveAdminsAndEscalationPaths(t *testing.T) {
	db := syncedEscalationOrg(t)
	f, keys := findingsJSON(t, db)
	for _, k := range []string{"stale_after_days", "top_holders", "admins", "stale_keys", "console_without_mfa", "outside_trust", "sso_admins",
		"unused_after_days", "inactive_users", "unused_keys", "unused_roles", "activity_read", "activity_from", "inactive_sso_users", "unused_assignments",
		"effective_admins_read", "effective_admins", "escalation_paths_read", "escalation_paths"} {
		if _, ok := keys[k]; !ok {
			t.Errorf("findings -o json has no key %q", k)
		}
	}
	var got []string
	for _, a := range f.EffectiveAdmins {
		cites := false
		for _, e := range a.Explanation {
			cites = cites || e.Kind == "identity" && e.Policy == "AdministratorAccess" && e.Effect == "Allow"
		}
		got = append(got, fmt.Sprintf("%s %s %s %s %s holds=%v cites=%v", a.Principal.Type, a.AccountID, a.Principal.Name, a.Path, a.Decision, a.HoldsAdminPolicy, cites))
	}
	want := []string{
		"iam_role 200000000000 OrganizationAccountAccessRole direct allowed holds=true cites=true",
		"iam_role 200000000000 admin-role direct allowed holds=true cites=true",
		"iam_role 200000000000 lambda-admin direct allowed holds=true cites=true",
		"iam_user 200000000000 ann direct allowed holds=true cites=true",
	}
	if f.EffectiveAdminsRead == nil || !*f.EffectiveAdminsRead || strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("effective admins (read %v):\n%s\nwant:\n%s", f.EffectiveAdminsRead, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The older rule is kept: bea (boundary) and bob, B's role (SCP) hold
	// AdministratorAccess without being administrators.
	if len(f.Admins) != 7 {
		t.Errorf("admins (holders of an administrator policy): %d, want 7", len(f.Admins))
	}
	if f.EscalationPathsRead == nil || *f.EscalationPathsRead || len(f.EscalationPaths) != 0 {
		t.Errorf("escalation paths without --escalation: read %v, %d paths; want read false and none", f.EscalationPathsRead, len(f.EscalationPaths))
	}
	table, errOut, code := runIn(t, db, "findings")
	if code != 0 || !strings.Contains(table, "Effective administrators (4)") || !strings.Contains(table, "Privilege escalation paths: not computed (use --escalation)") ||
		!strings.Contains(table, "Administrators (7)") {
		t.Errorf("findings (table) exited %d: %s%s", code, table, errOut)
	}

	f, _ = findingsJSON(t, db, "--escalation")
	type step struct{ who, actions, target, sid string }
	wantPaths := []struct {
		who, admin, decision string
		steps                []step
	}{
		{"ops", "ann", "allowed", []step{{"ops", "iam:CreateLoginProfile", "ann", "AnnLogin"}}},
		{"bea", "bea", "allowed", []step{{"bea", "iam:DeleteUserPermissionsBoundary", "bea", "DropBoundary"}}},
		{"gus", "gus", "allowed", []step{{"gus", "iam:PutGroupPolicy", "devs", "PutDevs"}}},
		{"kim", "ann", "allowed", []step{{"kim", "iam:CreateAccessKey", "ann", "AnnKeys"}}},
		{"pia", "lambda-admin", "allowed", []step{{"pia", "iam:PassRole lambda:CreateFunction lambda:InvokeFunction", "lambda-admin", "PassLambdaAdmin"}}},
		{"sam", "sam", "allowed", []step{{"sam", "iam:AttachUserPolicy", "sam", "AttachSelf"}}},
		{"tom", "admin-role", "allowed", []step{{"tom", "iam:UpdateAssumeRolePolicy", "admin-role", "RewriteTrust"}}},
		{"mo", "ann", "allowed_if", []step{{"mo", "iam:CreateAccessKey", "ann", "AnnKeysWithMFA"}}},
		{"ari", "plain", "allowed", []step{{"ari", "iam:AttachRolePolicy", "plain", "AttachPlain"}, {"ari", "sts:AssumeRole", "plain", "#1"}}},
		{"cal", "ann", "allowed", []step{{"cal", "sts:AssumeRole", "ops", "#1"}, {"ops", "iam:CreateLoginProfile", "ann", "AnnLogin"}}},
	}
	if f.EscalationPathsRead == nil || !*f.EscalationPathsRead || len(f.EscalationPaths) != len(wantPaths) {
		for _, p := range f.EscalationPaths {
			t.Logf("got path %s → %s (%d steps)", p.Principal.Name, p.Admin.Name, len(p.Steps))
		}
		t.Fatalf("--escalation: read %v, %d paths, want read true and %d", f.EscalationPathsRead, len(f.EscalationPaths), len(wantPaths))
	}
	for i, w := range wantPaths {
		p := f.EscalationPaths[i]
		if p.Principal.Name != w.who || p.Admin.Name != w.admin || p.Decision != w.decision || len(p.Steps) != len(w.steps) {
			t.Errorf("path %d: %s → %s %s in %d steps, want %s → %s %s in %d", i, p.Principal.Name, p.Admin.Name, p.Decision, len(p.Steps),
				w.who, w.admin, w.decision, len(w.steps))
			continue
		}
		for j, ws := range w.steps {
			st := p.Steps[j]
			cited := false
			for _, e := range st.Explanation {
				cited = cited || e.Statement == ws.sid && e.Effect == "Allow"
			}
			if st.Principal.Name != ws.who || strings.Join(st.Actions, " ") != ws.actions || st.Target.Name != ws.target || !cited {
				t.Errorf("%s step %d: %s %v on %s citing %+v, want %s %s on %s citing %s", w.who, j, st.Principal.Name, st.Actions, st.Target.Name,
					st.Explanation, ws.who, ws.actions, ws.target, ws.sid)
			}
		}
	}
	if mo := f.EscalationPaths[7]; len(mo.AllowedIf) != 1 || len(mo.AllowedIf[0].Requires) != 1 {
		t.Errorf("mo's path allowed_if %+v, want one condition (MFA)", mo.AllowedIf)
	}
	table, errOut, code = runIn(t, db, "findings", "--escalation", "--limit", "0")
	if code != 0 {
		t.Fatalf("findings --escalation exited %d: %s", code, errOut)
	}
	_, paths, _ := strings.Cut(table, "Privilege escalation paths (10), shortest first")
	for _, want := range []string{"User kim", "iam:CreateAccessKey", "AnnKeys", "User cal", "sts:AssumeRole", "ops", "AnnLogin", "aws:MultiFactorAuthPresent"} {
		if !strings.Contains(paths, want) {
			t.Errorf("the escalation paths table lacks %q:\n%s", want, paths)
		}
	}
	if strings.Index(paths, "User kim") > strings.Index(paths, "User cal") {
		t.Errorf("the escalation paths table is not shortest first:\n%s", paths)
	}

	f, _ = findingsJSON(t, db, "--effective=false")
	if f.EffectiveAdminsRead == nil || *f.EffectiveAdminsRead || len(f.EffectiveAdmins) != 0 || len(f.Admins) != 7 {
		t.Errorf("--effective=false: effective_admins_read %v, %d effective admins, %d admins; want false, 0, 7", f.EffectiveAdminsRead, len(f.EffectiveAdmins), len(f.Admins))
	}
	if table, _, _ := runIn(t, db, "findings", "--effective=false"); !strings.Contains(table, "Effective administrators: not computed (use --effective)") {
		t.Errorf("--effective=false table does not say the administrators were not computed:\n%s", table)
	}
}
