package findings

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/warden-iam/warden/awsfake"
	"github.com/warden-iam/warden/internal/awsapi"
	"github.com/warden-iam/warden/internal/collect"
	"github.com/warden-iam/warden/internal/effective"
	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/policy"
	"github.com/warden-iam/warden/internal/store"
	"github.com/warden-iam/warden/internal/syncer"
)

// The planted organization of the effective-access findings: account A
// (under the root) holds administrators and the planted escalation paths;
// account B sits in an OU whose SCP denies iam:*, so its
// AdministratorAccess holders are not administrators.
const (
	eMgmt       = "111111111111"
	eA          = "200000000000"
	eB          = "200000000001"
	eExternalID = "findings-test-external-id"
	eAdmin      = "arn:aws:iam::aws:policy/AdministratorAccess"
	ePowerUser  = "arn:aws:iam::aws:policy/PowerUserAccess"
)

var eCreated = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func eARN(account, kind, name string) string {
	return "arn:aws:iam::" + account + ":" + kind + "/" + name
}

func eDoc(statements ...string) string {
	out := `{"Version":"2012-10-17","Statement":[`
	for i, s := range statements {
		if i > 0 {
			out += ","
		}
		out += s
	}
	return out + "]}"
}

func eAllow(sid, action, resource string) string {
	return `{"Sid":"` + sid + `","Effect":"Allow","Action":"` + action + `","Resource":"` + resource + `"}`
}

func eTrust(kind, principal string) string {
	return eDoc(`{"Effect":"Allow","Principal":{"` + kind + `":"` + principal + `"},"Action":"sts:AssumeRole"}`)
}

func eID(prefix, account, name string) string {
	s := fmt.Sprintf("%X", name)
	for len(s) < 11 {
		s += "0"
	}
	return prefix + account[:6] + s[:11]
}

func eUser(a *awsfake.Account, name string, attached []string, inline map[string]string, boundary string, groups ...string) {
	a.IAM.Users[name] = &awsfake.User{Name: name, ID: eID("AIDA", a.ID, name), Path: "/", ARN: eARN(a.ID, "user", name),
		CreatedAt: eCreated, AttachedPolicies: attached, InlinePolicies: inline, PermissionsBoundary: boundary, Groups: groups}
	for _, g := range groups {
		a.IAM.Groups[g].Members = append(a.IAM.Groups[g].Members, name)
	}
}

func eRole(a *awsfake.Account, name, trust string, attached []string, inline map[string]string) {
	a.IAM.Roles[name] = &awsfake.Role{Name: name, ID: eID("AROA", a.ID, name), Path: "/", ARN: eARN(a.ID, "role", name),
		CreatedAt: eCreated, MaxSessionDuration: 3600, AssumeRolePolicy: trust, AttachedPolicies: attached, InlinePolicies: inline}
}

func inline(name, doc string) map[string]string { return map[string]string{name: doc} }

// escalationTruth plants the organization.
func escalationTruth() *awsfake.OrgTruth {
	t := awsfake.OrgEstate{Accounts: 2, OUs: 1, Seed: 11, ExternalID: eExternalID}.Build()
	o := t.Organization
	var ou string
	for id := range o.OUs {
		ou = id
	}
	o.Accounts[eA].ParentID = o.Root.ID
	o.Accounts[eB].ParentID = ou
	o.Policies["p-denyiam0001"] = &awsfake.OrgPolicy{ID: "p-denyiam0001", ARN: "arn:aws:organizations::" + eMgmt + ":policy/" + o.ID + "/service_control_policy/p-denyiam0001",
		Name: "deny-iam", Type: "SERVICE_CONTROL_POLICY", Content: eDoc(`{"Sid":"NoIAM","Effect":"Deny","Action":"iam:*","Resource":"*"}`), Targets: []string{ou}}

	a, b := t.Members[0], t.Members[1]
	ann := eARN(eA, "user", "ann")
	// Administrators.
	eUser(a, "ann", []string{eAdmin}, nil, "")
	eRole(a, "admin-role", eTrust("AWS", ann), []string{eAdmin}, nil)
	eRole(a, "lambda-admin", eTrust("Service", "lambda.amazonaws.com"), []string{eAdmin}, nil)
	// Not administrators, and no way up.
	eUser(a, "pow", []string{ePowerUser}, nil, "")
	eUser(a, "ned", nil, nil, "")
	eUser(a, "pat", nil, inline("pass-only", eDoc(eAllow("PassOnly", "iam:PassRole", eARN(eA, "role", "lambda-admin")))), "")
	eUser(b, "bob", []string{eAdmin}, nil, "")
	// One step up.
	eUser(a, "kim", nil, inline("keys", eDoc(eAllow("AnnKeys", "iam:CreateAccessKey", ann))), "")
	eUser(a, "mo", nil, inline("keys-mfa", eDoc(`{"Sid":"AnnKeysWithMFA","Effect":"Allow","Action":"iam:CreateAccessKey","Resource":"`+ann+`","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}`)), "")
	eUser(a, "sam", nil, inline("self-attach", eDoc(eAllow("AttachSelf", "iam:AttachUserPolicy", eARN(eA, "user", "${aws:username}")))), "")
	a.IAM.Groups["devs"] = &awsfake.Group{Name: "devs", ID: eID("AGPA", eA, "devs"), Path: "/", ARN: eARN(eA, "group", "devs"), CreatedAt: eCreated}
	eUser(a, "gus", nil, inline("group-put", eDoc(eAllow("PutDevs", "iam:PutGroupPolicy", eARN(eA, "group", "devs")))), "", "devs")
	bnd := eARN(eA, "policy", "bea-boundary")
	a.IAM.Policies[bnd] = &awsfake.ManagedPolicy{Name: "bea-boundary", ID: "ANPABEABOUNDARY000001", Path: "/", ARN: bnd,
		CreatedAt: eCreated, UpdatedAt: eCreated, DefaultVersionID: "v1", IsAttachable: true,
		Versions: []*awsfake.PolicyVersion{{ID: "v1", CreatedAt: eCreated, Document: eDoc(eAllow("S3", "s3:*", "*"),
			eAllow("DropBoundary", "iam:DeleteUserPermissionsBoundary", eARN(eA, "user", "bea")))}}}
	eUser(a, "bea", []string{eAdmin}, nil, bnd)
	eUser(a, "tom", nil, inline("trust", eDoc(eAllow("RewriteTrust", "iam:UpdateAssumeRolePolicy", eARN(eA, "role", "admin-role")))), "")
	eUser(a, "pia", nil, inline("pass", eDoc(eAllow("PassLambdaAdmin", "iam:PassRole", eARN(eA, "role", "lambda-admin")),
		eAllow("Lambda", "lambda:*", "*"))), "")
	// Two steps up.
	eUser(a, "cal", nil, inline("assume-ops", eDoc(eAllow("AssumeOps", "sts:AssumeRole", eARN(eA, "role", "ops")))), "")
	eRole(a, "ops", eTrust("AWS", eARN(eA, "user", "cal")), nil, inline("login", eDoc(eAllow("AnnLogin", "iam:CreateLoginProfile", ann))))
	eUser(a, "ari", nil, inline("plain", eDoc(eAllow("AssumePlain", "sts:AssumeRole", eARN(eA, "role", "plain")),
		eAllow("AttachPlain", "iam:AttachRolePolicy", eARN(eA, "role", "plain")))), "")
	eRole(a, "plain", eTrust("AWS", eARN(eA, "user", "ari")), nil, nil)
	return t
}

var escalationEstate struct {
	once sync.Once
	dir  string
	st   *store.DB
	snap int64
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if escalationEstate.st != nil {
		escalationEstate.st.Close()
	}
	if escalationEstate.dir != "" {
		os.RemoveAll(escalationEstate.dir)
	}
	os.Exit(code)
}

// escalationSnapshot syncs the planted organization from the emulator
// through the real SDK into a SQLite store (once per process) and opens
// it for effective-access questions.
func escalationSnapshot(t *testing.T) (*effective.Snapshot, *model.Graph) {
	t.Helper()
	ctx := context.Background()
	e := &escalationEstate
	e.once.Do(func() {
		for _, k := range []string{"AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
			"AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_IAM", "AWS_ENDPOINT_URL_STS", "AWS_RETRY_MODE", "AWS_MAX_ATTEMPTS"} {
			os.Setenv(k, "")
		}
		if e.dir, e.err = os.MkdirTemp("", "findings-escalation-"); e.err != nil {
			return
		}
		os.Setenv("AWS_CONFIG_FILE", filepath.Join(e.dir, "config"))
		os.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(e.dir, "credentials"))
		os.Setenv("AWS_EC2_METADATA_DISABLED", "true")
		srv := awsfake.NewServer(awsfake.Options{})
		defer srv.Close()
		creds := escalationTruth().Install(srv)
		sess, err := awsapi.Load(ctx, awsapi.Options{Region: "us-east-1", Endpoint: srv.URL(),
			Credentials: credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken)})
		if err != nil {
			e.err = err
			return
		}
		if e.st, e.err = store.OpenSQLite(ctx, filepath.Join(e.dir, "warden.db")); e.err != nil {
			return
		}
		snap, err := syncer.Sync(ctx, sess, e.st, syncer.Options{IAM: collect.IAMOptions{ReportPoll: 10 * time.Millisecond},
			Organization: &syncer.OrganizationOptions{ExternalID: eExternalID}})
		if err != nil {
			e.err = err
			return
		}
		if snap.Status != model.StatusComplete {
			e.err = fmt.Errorf("sync is %s: %+v", snap.Status, snap.Errors)
			return
		}
		e.snap = snap.ID
	})
	if e.err != nil {
		t.Fatalf("sync the planted organization: %v", e.err)
	}
	s, err := effective.Load(ctx, e.st, e.snap)
	if err != nil {
		t.Fatal(err)
	}
	g, err := e.st.Graph(ctx, e.snap)
	if err != nil {
		t.Fatal(err)
	}
	return s, g
}

// TestEscalationPaths checks the planted paths against the ground truth
// written here: for each principal with a way up, the administrator it
// ends as (roles before users, then by name), each step's principal, actions, target and the statement (Sid)
// that allows it, shortest first; and that no one else has a path.
func TestEscalationPaths(t *testing.T) {
	s, g := escalationSnapshot(t)
	ctx := context.Background()
	admins, err := EffectiveAdmins(ctx, s, g)
	if err != nil {
		t.Fatal(err)
	}
	paths, err := EscalationPaths(ctx, s, g, admins)
	if err != nil {
		t.Fatal(err)
	}
	type step struct{ who, actions, target, sid string }
	want := []struct {
		who, admin string
		decision   policy.Decision
		steps      []step
	}{
		{"ops", "ann", policy.Allowed, []step{{"ops", "iam:CreateLoginProfile", "ann", "AnnLogin"}}},
		{"bea", "bea", policy.Allowed, []step{{"bea", "iam:DeleteUserPermissionsBoundary", "bea", "DropBoundary"}}},
		{"gus", "gus", policy.Allowed, []step{{"gus", "iam:PutGroupPolicy", "devs", "PutDevs"}}},
		{"kim", "ann", policy.Allowed, []step{{"kim", "iam:CreateAccessKey", "ann", "AnnKeys"}}},
		{"pia", "lambda-admin", policy.Allowed, []step{{"pia", "iam:PassRole lambda:CreateFunction lambda:InvokeFunction", "lambda-admin", "PassLambdaAdmin"}}},
		{"sam", "sam", policy.Allowed, []step{{"sam", "iam:AttachUserPolicy", "sam", "AttachSelf"}}},
		{"tom", "admin-role", policy.Allowed, []step{{"tom", "iam:UpdateAssumeRolePolicy", "admin-role", "RewriteTrust"}}},
		{"mo", "ann", policy.Conditional, []step{{"mo", "iam:CreateAccessKey", "ann", "AnnKeysWithMFA"}}},
		{"ari", "plain", policy.Allowed, []step{{"ari", "iam:AttachRolePolicy", "plain", "AttachPlain"}, {"ari", "sts:AssumeRole", "plain", "#1"}}},
		{"cal", "ann", policy.Allowed, []step{{"cal", "sts:AssumeRole", "ops", "#1"}, {"ops", "iam:CreateLoginProfile", "ann", "AnnLogin"}}},
	}
	if len(paths) != len(want) {
		for _, p := range paths {
			t.Logf("got path %s → %s (%d steps)", p.Principal.Name, p.Admin.Name, len(p.Steps))
		}
		t.Fatalf("%d paths, want %d", len(paths), len(want))
	}
	for i, w := range want {
		p := paths[i]
		if p.Principal.Name != w.who || p.Admin.Name != w.admin || p.Decision != w.decision || len(p.Steps) != len(w.steps) {
			t.Errorf("path %d: %s → %s %s in %d steps, want %s → %s %s in %d", i, p.Principal.Name, p.Admin.Name, p.Decision, len(p.Steps),
				w.who, w.admin, w.decision, len(w.steps))
			continue
		}
		for j, ws := range w.steps {
			st := p.Steps[j]
			if st.Principal.Name != ws.who || strings.Join(st.Actions, " ") != ws.actions || st.Target.Name != ws.target {
				t.Errorf("%s step %d: %s %v on %s, want %s %s on %s", w.who, j, st.Principal.Name, st.Actions, st.Target.Name, ws.who, ws.actions, ws.target)
			}
			cited := false
			for _, e := range st.Explanation {
				cited = cited || (e.Statement == ws.sid && e.Effect == "Allow" && (e.Kind == "identity" || e.Kind == "resource" || e.Kind == "boundary"))
			}
			if !cited {
				t.Errorf("%s step %d does not cite statement %s: %+v", w.who, j, ws.sid, st.Explanation)
			}
		}
	}
	mo := paths[7]
	if len(mo.AllowedIf) != 1 || len(mo.AllowedIf[0].Requires) != 1 || mo.AllowedIf[0].Requires[0].String() != "aws:MultiFactorAuthPresent Bool true" {
		t.Errorf("mo's path allowed_if %+v, want aws:MultiFactorAuthPresent Bool true", mo.AllowedIf)
	}
	// Administrators have no path; nor those with no way up (pat may pass
	// lambda-admin but create no function; PowerUserAccess excludes iam:*;
	// bob's SCP denies iam:*).
	for _, p := range paths {
		switch p.Principal.Name {
		case "ann", "admin-role", "lambda-admin", "OrganizationAccountAccessRole", "pow", "ned", "pat", "bob", "plain":
			t.Errorf("%s has a path: %+v", p.Principal.Name, p)
		}
	}
}

// TestEffectiveAdmins checks the effective administrators of the planted
// organization against the ground truth written here, and the separate
// "holds an administrator policy" fact.
func TestEffectiveAdmins(t *testing.T) {
	s, g := escalationSnapshot(t)
	admins, err := EffectiveAdmins(context.Background(), s, g)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range admins {
		got = append(got, fmt.Sprintf("%s %s %s %s holds=%v", a.Principal.Type, a.AccountID, a.Principal.Name, a.Decision, a.HoldsAdminPolicy))
		if len(a.Explanation) == 0 {
			t.Errorf("%s: no explanation", a.Principal.Name)
		}
	}
	want := []string{
		"iam_role 200000000000 OrganizationAccountAccessRole allowed holds=true",
		"iam_role 200000000000 admin-role allowed holds=true",
		"iam_role 200000000000 lambda-admin allowed holds=true",
		"iam_user 200000000000 ann allowed holds=true",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("effective admins:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Holding AdministratorAccess is not enough: bea's boundary, bob's and
	// B's role's SCP stop them.
	var holds []string
	for _, a := range Admins(g) {
		holds = append(holds, a.AccountID+" "+a.Name)
	}
	wantHolds := "200000000000 OrganizationAccountAccessRole,200000000001 OrganizationAccountAccessRole,200000000000 admin-role,200000000000 lambda-admin,200000000000 ann,200000000000 bea,200000000001 bob"
	if strings.Join(holds, ",") != wantHolds {
		t.Errorf("holders of an admin policy: %s, want %s", strings.Join(holds, ","), wantHolds)
	}
}
