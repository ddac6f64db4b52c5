package provision

import (
	"context"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/warden-iam/warden/awsfake"
	"github.com/warden-iam/warden/internal/store"
)

// writes counts the calls that change something (neither Get, List nor
// Describe).
func writes(calls map[string]int64) []string {
	var out []string
	for c, n := range calls {
		_, action, _ := strings.Cut(c, ":")
		if n > 0 && !strings.HasPrefix(action, "Get") && !strings.HasPrefix(action, "List") && !strings.HasPrefix(action, "Describe") {
			out = append(out, c)
		}
	}
	sort.Strings(out)
	return out
}

// groups and roles list the account's IAM groups and roles, sorted.
func (e *env) groups() []string { return slices.Sorted(maps.Keys(e.srv.Account(acct).IAM.Groups)) }
func (e *env) roles() []string  { return slices.Sorted(maps.Keys(e.srv.Account(acct).IAM.Roles)) }

// TestMissingReferenceFailsBeforeAnyWrite: a group or policy an action (or
// a later action of the batch) names that does not exist fails the plan,
// naming it, and nothing is written.
func TestMissingReferenceFailsBeforeAnyWrite(t *testing.T) {
	e := newEnv(t, awsfake.Options{})
	ctx := context.Background()
	g := e.groups()[0]
	for _, tt := range []struct {
		name    string
		actions []Action
		want    string
	}{
		{"create-user with a missing group", []Action{{Kind: CreateUser, User: "newguy", ConsolePassword: true, Groups: []string{g, "no-such-group"}}},
			"group no-such-group does not exist"},
		{"create-user with a missing policy", []Action{{Kind: CreateUser, User: "newguy", Policies: []string{"arn:aws:iam::aws:policy/NoSuchPolicy"}}},
			"policy arn:aws:iam::aws:policy/NoSuchPolicy does not exist"},
		{"create-user with a missing boundary", []Action{{Kind: CreateUser, User: "newguy", PermissionsBoundary: "arn:aws:iam::" + acct + ":policy/nope"}},
			"policy arn:aws:iam::" + acct + ":policy/nope does not exist"},
		{"attach a missing policy", []Action{{Kind: AttachPolicy, Group: g, PolicyARN: "arn:aws:iam::aws:policy/NoSuchPolicy"}},
			"does not exist"},
		{"a batch whose second action names a missing group", []Action{{Kind: CreateUser, User: "newguy", ConsolePassword: true},
			{Kind: AddToGroup, User: "newguy", Group: "no-such-group"}}, "action 2 of 2: "},
		{"a policy on a missing role", []Action{{Kind: AttachPolicy, Role: "no-such-role", PolicyARN: "arn:aws:iam::aws:policy/ReadOnlyAccess"}},
			"role no-such-role does not exist"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e.srv.ResetCalls()
			_, err := e.p.PlanAll(ctx, tt.actions)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("plan: %v, want %q", err, tt.want)
			}
			if w := writes(e.srv.Calls()); len(w) != 0 {
				t.Errorf("planning wrote %v", w)
			}
		})
	}
	if _, ok := e.srv.Account(acct).IAM.Users["newguy"]; ok {
		t.Error("a half-made user exists")
	}
}

// TestBatchPlansOnEarlierActionsState: each action of a batch is planned on
// the state the earlier ones will have produced.
func TestBatchPlansOnEarlierActionsState(t *testing.T) {
	e := newEnv(t, awsfake.Options{})
	ctx := context.Background()
	g := e.groups()
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iam:*","Resource":"*"}]}`
	batch := []Action{
		{Kind: CreateUser, User: "fresh", ConsolePassword: true, Groups: []string{g[0]}},
		{Kind: AddToGroup, User: "fresh", Group: g[1]},
		{Kind: AddToGroup, User: "fresh", Group: g[0]}, // done by the first action
		{Kind: RemoveFromGroup, User: "fresh", Group: g[0]},
		{Kind: AttachPolicy, User: "fresh", PolicyARN: "arn:aws:iam::aws:policy/ReadOnlyAccess"},
		{Kind: PutInlinePolicy, User: "fresh", PolicyName: "no-iam", Document: doc},
		{Kind: PutInlinePolicy, User: "fresh", PolicyName: "no-iam", Document: doc}, // the same document again
		{Kind: DeactivateUser, User: "fresh"},
		{Kind: AddToGroup, User: "leaver", Group: g[0]}, // already a member in AWS
		{Kind: RemoveFromGroup, User: "leaver", Group: g[0]},
		{Kind: RemoveFromGroup, User: "leaver", Group: g[0]}, // removed by the one before
	}
	e.srv.ResetCalls()
	plans, err := e.p.PlanAll(ctx, batch)
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	if w := writes(e.srv.Calls()); len(w) != 0 {
		t.Errorf("planning wrote %v", w)
	}
	var got []string
	for _, pl := range plans {
		var calls []string
		for _, s := range pl.Steps {
			calls = append(calls, strings.TrimPrefix(s.Call, "iam:"))
		}
		got = append(got, strings.Join(calls, ","))
	}
	want := []string{"CreateUser,CreateLoginProfile,AddUserToGroup", "AddUserToGroup", "", "RemoveUserFromGroup", "AttachUserPolicy",
		"PutUserPolicy", "", "DeleteLoginProfile", "", "RemoveUserFromGroup", ""}
	if strings.Join(got, " | ") != strings.Join(want, " | ") {
		t.Fatalf("plans:\n got %q\nwant %q", got, want)
	}
	if _, err := e.p.ApplyAll(ctx, plans); err != nil {
		t.Fatalf("apply: %v", err)
	}
	u := e.srv.Account(acct).IAM.Users["fresh"]
	if u == nil || strings.Join(u.Groups, ",") != g[1] || u.LoginProfile != nil || len(u.AttachedPolicies) != 1 || u.InlinePolicies["no-iam"] == "" {
		t.Fatalf("fresh = %+v", u)
	}
	if slices.Contains(e.srv.Account(acct).IAM.Users["leaver"].Groups, g[0]) {
		t.Error("leaver is still in the group")
	}
	// Planned again from AWS: the user exists, and only what the state
	// after the batch lacks is planned.
	plans, err = e.p.PlanAll(ctx, batch[4:7])
	if err != nil {
		t.Fatal(err)
	}
	for _, pl := range plans {
		if len(pl.Steps) != 0 {
			t.Errorf("replanned %s: %v", pl.Action.Kind, pl.Steps)
		}
	}
}

// newOrgICEnv is newICEnv with the organization's accounts checked.
func newOrgICEnv(t *testing.T) (*awsfake.Server, *Provisioner, *awsfake.OrgTruth) {
	t.Helper()
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	truth := awsfake.OrgEstate{Accounts: 2, Seed: 6, PerAccount: awsfake.Estate{Users: 1},
		IdentityCenter: &awsfake.IdentityCenterEstate{Users: 3, Groups: 1, PermissionSets: 2}}.Build()
	srv := awsfake.NewServer(awsfake.Options{})
	t.Cleanup(srv.Close)
	sess, ic := connectIC(t, srv, truth)
	ic.Poll = time.Millisecond
	return srv, &Provisioner{AccountID: truth.Management.ID, ConnectionID: "t", IC: ic, Org: sess.Organizations()}, truth
}

func TestMissingAssignmentReferencesFailBeforeAnyWrite(t *testing.T) {
	srv, p, truth := newOrgICEnv(t)
	ctx := context.Background()
	var psARN string
	for arn := range truth.IdentityCenter.PermissionSets {
		psARN = arn
	}
	group := ""
	for _, g := range truth.IdentityCenter.Groups {
		group = g.DisplayName
	}
	member := truth.Members[0].ID
	for _, tt := range []struct {
		a    Action
		want string
	}{
		{Action{Kind: AssignPermissionSet, Group: group, PermissionSet: psARN, Account: "999999999999"}, "account 999999999999 is not in the organization"},
		{Action{Kind: AssignPermissionSet, Group: group, PermissionSet: psARN[:len(psARN)-4] + "ffff", Account: member}, "no permission set"},
		{Action{Kind: AssignPermissionSet, Group: group, PermissionSet: "NoSuchSet", Account: member}, `no permission set named "NoSuchSet"`},
	} {
		srv.ResetCalls()
		_, err := p.PlanAll(ctx, []Action{{Kind: CreateSSOGroup, Group: "fresh"}, tt.a})
		var be *BatchError
		if !errors.As(err, &be) || be.Index != 1 || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: %v, want %q at action 2", tt.a, err, tt.want)
		}
		if w := writes(srv.Calls()); len(w) != 0 {
			t.Errorf("planning wrote %v", w)
		}
	}
	// A real account and permission set plan fine.
	if _, err := p.PlanAll(ctx, []Action{{Kind: AssignPermissionSet, Group: group, PermissionSet: psARN, Account: member}}); err != nil {
		t.Fatalf("a valid assignment: %v", err)
	}
}

// TestIdentityCenterBatchOnEarlierActions: a user and group created by
// earlier actions are joined and assigned by later ones, planned at once.
func TestIdentityCenterBatchOnEarlierActions(t *testing.T) {
	srv, p, truth := newOrgICEnv(t)
	ctx := context.Background()
	member := truth.Members[0].ID
	batch := []Action{
		{Kind: CreateSSOUser, User: "eve@example.com", DisplayName: "Eve", GivenName: "Eve", FamilyName: "Moneypenny"},
		{Kind: CreateSSOGroup, Group: "secretaries"},
		{Kind: AddSSOUserToGroup, User: "eve@example.com", Group: "secretaries"},
		{Kind: AssignPermissionSet, Group: "secretaries", PermissionSet: "ReadOnlyAccess", Account: member},
	}
	plans, err := p.PlanAll(ctx, batch)
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	for _, pl := range plans {
		if len(pl.Steps) != 1 {
			t.Fatalf("%s plans %v, want one call", pl.Action.Kind, pl.Steps)
		}
	}
	if _, err := p.ApplyAll(ctx, plans); err != nil {
		t.Fatalf("apply: %v", err)
	}
	ic := srv.IdentityCenter()
	var uid, gid string
	for id, u := range ic.Users {
		if u.UserName == "eve@example.com" {
			uid = id
		}
	}
	for id, g := range ic.Groups {
		if g.DisplayName == "secretaries" {
			gid = id
		}
	}
	found := false
	for _, as := range ic.Assignments {
		found = found || (as.PrincipalID == gid && as.AccountID == member)
	}
	if uid == "" || gid == "" || !found {
		t.Fatalf("user %q, group %q, assignment %v", uid, gid, found)
	}
	for _, a := range batch {
		replayIsNoOp(t, p, a)
	}
}

// TestCreateUserConvergesAnExistingUser: create-user on a user that exists
// brings it to what the action declares, and plans nothing once it is.
func TestCreateUserConvergesAnExistingUser(t *testing.T) {
	e := newEnv(t, awsfake.Options{})
	ctx := context.Background()
	g := e.groups()[0]
	if _, err := e.p.IAM.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("k3"), Tags: []types.Tag{{Key: aws.String("keep"), Value: aws.String("me")}}}); err != nil {
		t.Fatal(err)
	}
	boundary := "arn:aws:iam::aws:policy/PowerUserAccess"
	a := Action{Kind: CreateUser, User: "k3", ConsolePassword: true, Path: "/other/", Tags: map[string]string{"team": "x"},
		PermissionsBoundary: boundary, Groups: []string{g}, Policies: []string{"arn:aws:iam::aws:policy/ReadOnlyAccess"}}
	pl, err := e.p.Plan(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	var calls []string
	for _, s := range pl.Steps {
		calls = append(calls, s.String())
	}
	want := []string{"iam:UpdateUser NewPath=/other/ UserName=k3", "iam:TagUser Tag.team=x UserName=k3",
		"iam:PutUserPermissionsBoundary PermissionsBoundary=" + boundary + " UserName=k3",
		"iam:CreateLoginProfile Password=(generated, shown once) PasswordResetRequired=true UserName=k3",
		"iam:AddUserToGroup GroupName=" + g + " UserName=k3", "iam:AttachUserPolicy PolicyArn=arn:aws:iam::aws:policy/ReadOnlyAccess UserName=k3"}
	if strings.Join(calls, "\n") != strings.Join(want, "\n") {
		t.Fatalf("plan:\n%s\nwant:\n%s", strings.Join(calls, "\n"), strings.Join(want, "\n"))
	}
	res, err := e.p.Apply(ctx, pl)
	if err != nil {
		t.Fatal(err)
	}
	u := e.srv.Account(acct).IAM.Users["k3"]
	tags := map[string]string{}
	for _, t := range u.Tags {
		tags[t.Key] = t.Value
	}
	if u.Path != "/other/" || u.ARN != "arn:aws:iam::"+acct+":user/other/k3" || u.PermissionsBoundary != boundary || tags["team"] != "x" || tags["keep"] != "me" ||
		u.LoginProfile == nil || !u.LoginProfile.PasswordResetRequired || len(res.Secrets) != 1 || res.Secrets[0].Value != u.LoginProfile.Password ||
		strings.Join(u.Groups, ",") != g || strings.Join(u.AttachedPolicies, ",") != "arn:aws:iam::aws:policy/ReadOnlyAccess" {
		t.Fatalf("k3 = %+v, tags %v", u, tags)
	}
	e.noOp(t, a)
}

// TestCreateUserKilledHalfwayFinishes: a run that stopped after CreateUser
// is finished by the next one, and the call in flight when it stopped is
// in the audit log as started.
func TestCreateUserKilledHalfwayFinishes(t *testing.T) {
	e := newEnv(t, awsfake.Options{})
	ctx := context.Background()
	a := Action{Kind: CreateUser, User: "k4", ConsolePassword: true}
	pl, err := e.p.Plan(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	// The process dies once CreateLoginProfile is made, before its record
	// is completed: the intent record stays.
	dying := &dyingAudit{DB: e.st, srv: e.srv, call: "iam:CreateLoginProfile"}
	e.p.Audit = dying
	half := *pl
	half.Steps = pl.Steps[:2]
	if _, err := e.p.Apply(ctx, &half); err == nil {
		t.Fatal("the dying audit log did not stop the apply")
	}
	if dying.callsAtStart != 0 || dying.callsAtFinish != 1 {
		t.Errorf("CreateLoginProfile calls when its record was started %d, finished %d; want 0 and 1", dying.callsAtStart, dying.callsAtFinish)
	}
	recs, err := e.st.Audit(ctx, "test", 0)
	if err != nil || len(recs) != 2 || recs[0].Call != "iam:CreateLoginProfile" || recs[0].Result != "started" || recs[1].Result != "ok" {
		t.Fatalf("audit = %+v, %v; want CreateUser ok and CreateLoginProfile started", recs, err)
	}
	e.p.Audit = e.st
	e.noOp(t, a) // the call in flight had taken effect

	// Killed between CreateUser and CreateLoginProfile: the re-run makes
	// the login profile.
	b := Action{Kind: CreateUser, User: "k5", ConsolePassword: true}
	pl, err = e.p.Plan(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	half = *pl
	half.Steps = pl.Steps[:1]
	if _, err := e.p.Apply(ctx, &half); err != nil {
		t.Fatal(err)
	}
	res := e.run(t, b)
	if len(res.Done) != 1 || res.Done[0].Step.Call != "iam:CreateLoginProfile" || len(res.Secrets) != 1 ||
		e.srv.Account(acct).IAM.Users["k5"].LoginProfile == nil {
		t.Fatalf("re-run did %+v", res.Done)
	}
	e.noOp(t, b)
}

// dyingAudit is an audit log whose process "dies" after making call:
// completing its record fails.
type dyingAudit struct {
	*store.DB
	srv                         *awsfake.Server
	call                        string
	started                     int64
	callsAtStart, callsAtFinish int64
}

func (d *dyingAudit) StartAudit(ctx context.Context, r store.AuditRecord) (int64, error) {
	id, err := d.DB.StartAudit(ctx, r)
	if r.Call == d.call {
		d.started, d.callsAtStart = id, d.srv.Calls()[d.call]
	}
	return id, err
}

func (d *dyingAudit) FinishAudit(ctx context.Context, id int64, result, requestID, detail string, outcome map[string]string) error {
	if id == d.started {
		d.callsAtFinish = d.srv.Calls()[d.call]
		return errors.New("killed")
	}
	return d.DB.FinishAudit(ctx, id, result, requestID, detail, outcome)
}

// TestInlinePolicyChangeAndAdminGrants: replacing an inline document shows
// the statements removed and added; granting administrator access asks for
// confirmation as a destructive action does.
func TestInlinePolicyChangeAndAdminGrants(t *testing.T) {
	e := newEnv(t, awsfake.Options{})
	ctx := context.Background()
	old := `{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}`
	added := `{"Action":"s3:PutObject","Effect":"Allow","Resource":"arn:aws:s3:::b/*"}`
	pl, err := e.p.Plan(ctx, Action{Kind: PutInlinePolicy, User: "leaver", PolicyName: "s3",
		Document: `{"Version":"2012-10-17","Statement":` + added + `}`})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`- {"Action":"s3:GetObject","Effect":"Allow","Resource":"*"}`, "+ " + added}
	if strings.Join(pl.Changes, "\n") != strings.Join(want, "\n") || pl.Confirm != "" {
		t.Fatalf("changes %q, confirm %q; want %q and none (old %s)", pl.Changes, pl.Confirm, want, old)
	}
	// A customer managed policy allowing everything.
	_, err = e.p.IAM.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("god"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	g := e.groups()[0]
	for _, tt := range []struct {
		a     Action
		admin bool
	}{
		{Action{Kind: AttachPolicy, Group: g, PolicyARN: AdministratorAccessARN}, true},
		{Action{Kind: AttachPolicy, Group: g, PolicyARN: "arn:aws:iam::" + acct + ":policy/god"}, true},
		{Action{Kind: AttachPolicy, Group: g, PolicyARN: "arn:aws:iam::aws:policy/ReadOnlyAccess"}, false},
		{Action{Kind: CreateUser, User: "boss", Policies: []string{"arn:aws:iam::" + acct + ":policy/god"}}, true},
		{Action{Kind: PutInlinePolicy, Role: e.roles()[0], PolicyName: "all", Document: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*:*","Resource":["*"]}]}`}, true},
		{Action{Kind: PutInlinePolicy, Role: e.roles()[0], PolicyName: "all", Document: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}]}`}, false},
	} {
		pl, err := e.p.Plan(ctx, tt.a)
		if err != nil {
			t.Fatalf("%+v: %v", tt.a, err)
		}
		if got := strings.Contains(pl.Confirm, "administrator access"); got != tt.admin {
			t.Errorf("%s %s: confirm %q, want admin %v", tt.a.Kind, tt.a.Target(), pl.Confirm, tt.admin)
		}
	}
	// Destructive actions ask too.
	pl, err = e.p.Plan(ctx, Action{Kind: RemoveFromGroup, User: "leaver", Group: e.srv.Account(acct).IAM.Users["leaver"].Groups[0]})
	if err != nil || pl.Confirm == "" {
		t.Errorf("remove-from-group: confirm %q, %v", pl.Confirm, err)
	}
}

func TestAssigningAnAdminPermissionSetAsksConfirmation(t *testing.T) {
	_, p, truth := newOrgICEnv(t)
	ctx := context.Background()
	for _, tt := range []struct {
		ps    string
		admin bool
	}{{"AdministratorAccess", true}, {"ReadOnlyAccess", false}} {
		plans, err := p.PlanAll(ctx, []Action{{Kind: CreateSSOGroup, Group: "new"},
			{Kind: AssignPermissionSet, Group: "new", PermissionSet: tt.ps, Account: truth.Members[0].ID}})
		if err != nil {
			t.Fatal(err)
		}
		pl := plans[1]
		if got := strings.Contains(pl.Confirm, "administrator access"); got != tt.admin || len(pl.Steps) != 1 {
			t.Errorf("%s: confirm %q, steps %d; want admin %v", tt.ps, pl.Confirm, len(pl.Steps), tt.admin)
		}
	}
}

// TestAuditSaysWhatEachCallActedOn: a record holds the call's parameters
// (which key UpdateAccessKey changed) and what it reported (the user made).
func TestAuditSaysWhatEachCallActedOn(t *testing.T) {
	e := newEnv(t, awsfake.Options{})
	ctx := context.Background()
	e.run(t, Action{Kind: DeactivateUser, User: "leaver"})
	e.run(t, Action{Kind: CreateUser, User: "made"})
	recs, err := e.st.Audit(ctx, "test", 0)
	if err != nil {
		t.Fatal(err)
	}
	var key, made *store.AuditRecord
	for i, r := range recs {
		switch r.Call {
		case "iam:UpdateAccessKey":
			key = &recs[i]
		case "iam:CreateUser":
			made = &recs[i]
		}
	}
	if key == nil || key.Params["AccessKeyId"] != "AKIALEAVER0000000001" || key.Params["Status"] != "Inactive" || key.Params["UserName"] != "leaver" {
		t.Errorf("UpdateAccessKey record = %+v", key)
	}
	u := e.srv.Account(acct).IAM.Users["made"]
	if made == nil || made.Outcome["UserId"] != u.ID || made.Outcome["Arn"] != u.ARN {
		t.Errorf("CreateUser record = %+v, want the new user's id %s", made, u.ID)
	}
}

// TestAuditRecordsAssignmentOperations: an assignment's record names it and
// holds the operation's own request id and final status, failed ones too.
func TestAuditRecordsAssignmentOperations(t *testing.T) {
	srv, p, truth := newICEnv(t)
	st := p.Audit.(*store.DB)
	ctx := context.Background()
	account := truth.Members[0].ID
	user := mustUserName(truth)
	if _, err := apply(t, p, Action{Kind: AssignPermissionSet, User: user, PermissionSet: "ReadOnlyAccess", Account: account}); err != nil {
		t.Fatal(err)
	}
	if _, err := apply(t, p, Action{Kind: AssignPermissionSet, User: user, PermissionSet: "PowerUserAccess", Account: account}); err == nil {
		t.Fatal("the assignment needing a missing policy succeeded")
	}
	recs, err := st.Audit(ctx, "t", 0)
	if err != nil || len(recs) != 2 {
		t.Fatalf("audit = %+v, %v", recs, err)
	}
	failed, ok := recs[0], recs[1]
	ic := srv.IdentityCenter()
	var ro string
	for arn, ps := range ic.PermissionSets {
		if ps.Name == "ReadOnlyAccess" {
			ro = arn
		}
	}
	if ok.Result != "ok" || ok.Params["PermissionSetArn"] != ro || ok.Params["TargetId"] != account || ok.Params["PrincipalType"] != "USER" ||
		ok.Outcome["OperationStatus"] != "SUCCEEDED" || ok.Outcome["OperationRequestId"] == "" || ok.Outcome["OperationRequestId"] == ok.RequestID || ok.RequestID == "" {
		t.Errorf("successful assignment record = %+v", ok)
	}
	if failed.Result != "failed" || failed.Outcome["OperationStatus"] != "FAILED" || !strings.Contains(failed.Outcome["FailureReason"], "team-boundary") ||
		failed.Outcome["OperationRequestId"] == "" {
		t.Errorf("failed assignment record = %+v", failed)
	}
}

// TestMalformedPolicyDocumentsAreRefused: documents IAM would answer
// MalformedPolicyDocument for are refused before any call, with the reason.
func TestMalformedPolicyDocumentsAreRefused(t *testing.T) {
	e := newEnv(t, awsfake.Options{})
	e.srv.ResetCalls()
	for _, tt := range []struct{ doc, want string }{
		{`{"Version":"2012-10-17","Statement":[{"Effect":"Perhaps","Action":"s3:*","Resource":"*"}]}`, `Effect "Perhaps"; it must be "Allow" or "Deny"`},
		{`{"Version":"2012-10-17","Statement":"nope"}`, `statement 1 is "nope", not an object`},
		{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Resource":"*"}]}`, "has no Action (nor NotAction)"},
		{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*"}]}`, "has no Resource (nor NotResource)"},
		{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","NotAction":"iam:*","Resource":"*"}]}`, "both Action and NotAction"},
		{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"},{"Action":"s3:*","Resource":"*"}]}`, "statement 2 has no Effect"},
		{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":3,"Resource":"*"}]}`, "Action 3; it must be a string or a list of strings"},
		{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}]}`, "names no principal"},
		{`{"Version":"2020-01-01","Statement":[]}`, "Version"},
		{`{"Version":"2012-10-17","Statement":[]}`, "Statement is empty"},
		{`{"Version":"2012-10-17","Statment":[]}`, `has "Statment"`},
		{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":"x"}]}`, "Condition"},
		{`[1]`, "not a JSON object"},
	} {
		_, err := e.p.Plan(context.Background(), Action{Kind: PutInlinePolicy, User: "leaver", PolicyName: "p", Document: tt.doc})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.doc, err, tt.want)
		}
	}
	if n := e.srv.TotalCalls(); n != 0 {
		t.Errorf("%d calls were made for malformed documents", n)
	}
	// Well-formed variants pass.
	for _, doc := range []string{
		`{"Statement":{"Effect":"Deny","NotAction":["iam:*"],"NotResource":"arn:aws:s3:::b"}}`,
		"\ufeff" + `{"Version":"2012-10-17","Id":"x","Statement":[{"Sid":"a","Effect":"Allow","Action":["s3:GetObject"],"Resource":["*"],"Condition":{"Bool":{"aws:SecureTransport":"true"}}}]}`,
	} {
		if err := (Action{Kind: PutInlinePolicy, User: "leaver", PolicyName: "p", Document: doc}).Validate(); err != nil {
			t.Errorf("%s: %v", doc, err)
		}
	}
}

// TestChangesFileProblemsInWardensWords: every problem of a changes file is
// reported with file:line:col and the key's path, in warden's words.
func TestChangesFileProblemsInWardensWords(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	bad := write("bad.yaml", `actions:
  - action: create-user
    user: alice
    groups: {a: b}
    polices: [x]
    console_password: "yes please"
  - just a string
  - action: add-to-group
    user: bob
    group: "no such!"
`)
	_, err := LoadBatch(bad)
	var ce *ChangesError
	if !errors.As(err, &ce) {
		t.Fatalf("LoadBatch: %v", err)
	}
	want := []string{
		bad + `:4:13: actions[0].groups must be a list (items on lines starting with "- ", or [a, b]), not a mapping`,
		bad + `:5:5: actions[0].polices is not a known key; did you mean "policies"?`,
		bad + `:6:23: actions[0].console_password must be true or false, not "yes please"`,
		bad + `:7:5: actions[1] must be a mapping of keys (action: create-user, user: alice, …), not a single value`,
		bad + `:8:5: actions[2] add-to-group: group "no such!" is not an IAM name: use 1 to 64 letters, digits and +=,.@_-`,
	}
	if strings.Join(ce.Problems, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(ce.Problems, "\n"), strings.Join(want, "\n"))
	}
	for _, yamlWord := range []string{"provision.Action", "!!seq", "!!map", "unmarshal"} {
		if strings.Contains(err.Error(), yamlWord) {
			t.Errorf("the message speaks yaml.v3: %s", err)
		}
	}
	// Syntax errors and other shapes.
	for body, msg := range map[string]string{
		"actions:\n  - action: create-user\n\tuser: x\n": ".yaml:2: is not valid YAML from this line: found a tab character",
		"":                       "the file is empty",
		"actions: []\n":          "actions is empty",
		"action: create-user\n":  "action is not a known key; a changes file has only actions:",
		"actions: create-user\n": "actions must be a list of actions",
	} {
		_, err := LoadBatch(write("x.yaml", body))
		if err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("%q: %v, want %q", body, err, msg)
		}
	}
	// The flags' names with underscores: document_file (relative to the
	// changes file, byte order mark dropped) and boundary.
	write("doc.json", "\ufeff"+`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`)
	good := write("good.yaml", `actions:
  - action: put-inline-policy
    user: alice
    policy_name: read
    document_file: doc.json
  - action: create-user
    user: bob
    boundary: arn:aws:iam::aws:policy/PowerUserAccess
    groups: engineers
    tags: {team: data}
`)
	list, err := LoadBatch(good)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || !strings.HasPrefix(list[0].Document, `{"Version"`) || list[1].PermissionsBoundary != "arn:aws:iam::aws:policy/PowerUserAccess" ||
		strings.Join(list[1].Groups, ",") != "engineers" || list[1].Tags["team"] != "data" {
		t.Errorf("decoded %+v", list)
	}
	_, err = LoadBatch(write("missing.yaml", "actions:\n  - action: put-inline-policy\n    user: a\n    policy_name: p\n    document_file: nope.json\n"))
	if err == nil || !strings.Contains(err.Error(), ":5:20: actions[0].document_file cannot be read") {
		t.Errorf("missing document_file: %v", err)
	}
}

// TestSecretShownWhenAddUserToGroupFails is the case: CreateUser and
// CreateLoginProfile succeed, AddUserToGroup fails (here AWS answers 500
// every time); the password is still returned, and the audit log holds
// the failure.
func TestSecretShownWhenAddUserToGroupFails(t *testing.T) {
	e := newEnv(t, awsfake.Options{ActionFaults: map[string]awsfake.ActionFault{"iam:AddUserToGroup": {Status: 500}}})
	ctx := context.Background()
	plans, err := e.p.PlanAll(ctx, []Action{{Kind: CreateUser, User: "newbie1", ConsolePassword: true, Groups: e.groups()[:1]}})
	if err != nil {
		t.Fatal(err)
	}
	results, err := e.p.ApplyAll(ctx, plans)
	u := e.srv.Account(acct).IAM.Users["newbie1"]
	if err == nil || len(results) != 1 || len(results[0].Secrets) != 1 || u == nil || u.LoginProfile == nil ||
		results[0].Secrets[0].Value != u.LoginProfile.Password || results[0].Failed == nil || results[0].Failed.Step.Call != "iam:AddUserToGroup" {
		t.Fatalf("apply: %v, results %+v", err, results)
	}
	recs, _ := e.st.Audit(ctx, "test", 1)
	if len(recs) != 1 || recs[0].Call != "iam:AddUserToGroup" || recs[0].Result != "failed" || strings.Contains(recs[0].Detail, u.LoginProfile.Password) {
		t.Errorf("last audit record %+v", recs)
	}
}

func TestIdentityCenterActionOnAPrincipalOfTheSameBatch(t *testing.T) {
	srv, p, _ := newOrgICEnv(t)
	srv.ResetCalls()
	_, err := p.PlanAll(context.Background(), []Action{{Kind: CreateSSOGroup, Group: "brief"}, {Kind: DeleteSSOGroup, Group: "brief"}})
	if err == nil || !strings.Contains(err.Error(), "action 2 of 2") || !strings.Contains(err.Error(), "created by an earlier action of this batch") {
		t.Errorf("create then delete in one batch: %v", err)
	}
	if w := writes(srv.Calls()); len(w) != 0 {
		t.Errorf("planning wrote %v", w)
	}
}

// TestCreateThenDeleteInOneBatch: a user created by an earlier action is
// planned for deletion from what that action gives it.
func TestCreateThenDeleteInOneBatch(t *testing.T) {
	e := newEnv(t, awsfake.Options{})
	ctx := context.Background()
	g := e.groups()[0]
	plans, err := e.p.PlanAll(ctx, []Action{{Kind: CreateUser, User: "brief", ConsolePassword: true, Groups: []string{g}}, {Kind: DeleteUser, User: "brief"}})
	if err != nil {
		t.Fatal(err)
	}
	calls := stepCalls(plans[1])
	if strings.Join(calls, " ") != "iam:DeleteLoginProfile iam:RemoveUserFromGroup iam:DeleteUser" {
		t.Fatalf("delete plans %v", calls)
	}
	if _, err := e.p.ApplyAll(ctx, plans); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.srv.Account(acct).IAM.Users["brief"]; ok {
		t.Error("brief still exists")
	}
}

// TestBatchReadsEachReferenceOnce: a group and a policy that several
// actions of a batch name are each read once in the run, and a missing
// one is remembered as missing.
func TestBatchReadsEachReferenceOnce(t *testing.T) {
	e := newEnv(t, awsfake.Options{})
	ctx := context.Background()
	gs := e.groups()
	policy := "arn:aws:iam::aws:policy/ReadOnlyAccess"
	e.srv.ResetCalls()
	_, err := e.p.PlanAll(ctx, []Action{
		{Kind: CreateUser, User: "newguy", Groups: []string{gs[0]}, Policies: []string{policy}},
		{Kind: AddToGroup, User: "leaver", Group: gs[0]},
		{Kind: AttachPolicy, Group: gs[1], PolicyARN: policy},
	})
	if err != nil {
		t.Fatal(err)
	}
	calls := e.srv.Calls()
	if n := calls["iam:GetPolicy"]; n != 1 {
		t.Errorf("GetPolicy called %d times for one policy named twice, want 1", n)
	}
	if n := calls["iam:GetGroup"]; n != 1 {
		t.Errorf("GetGroup called %d times for one group named twice, want 1", n)
	}
	e.srv.ResetCalls()
	_, err = e.p.PlanAll(ctx, []Action{
		{Kind: AttachPolicy, Group: gs[1], PolicyARN: policy},
		{Kind: AttachPolicy, Group: gs[2], PolicyARN: policy},
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := e.srv.Calls()["iam:GetPolicy"]; n != 1 {
		t.Errorf("a second batch read the policy %d times, want 1 (the run's memory is the batch's)", n)
	}
}
