package provision

import (
	"context"
	"errors"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/warden-iam/warden/awsfake"
	"github.com/warden-iam/warden/internal/awsapi"
	"github.com/warden-iam/warden/internal/store"
)

const acct = "123456789012"

type env struct {
	srv *awsfake.Server
	p   *Provisioner
	st  *store.DB
}

// newEnv serves a generated account in which user "leaver" has every kind
// of dependency AWS makes DeleteUser wait for.
func newEnv(t *testing.T, o awsfake.Options) *env {
	t.Helper()
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	truth := awsfake.Estate{AccountID: acct, Users: 6, Groups: 4, Roles: 2, Policies: 3, Seed: 8}.Build()
	now := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	groups := slices.Sorted(maps.Keys(truth.IAM.Groups))
	u := &awsfake.User{Name: "leaver", ID: "AIDALEAVER0000000001", Path: "/", ARN: "arn:aws:iam::" + acct + ":user/leaver", CreatedAt: now,
		Groups: groups[:2], AttachedPolicies: []string{"arn:aws:iam::aws:policy/ReadOnlyAccess", "arn:aws:iam::aws:policy/SecurityAudit"},
		InlinePolicies: map[string]string{"s3": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`},
		LoginProfile:   &awsfake.LoginProfile{CreatedAt: now, PasswordLastChanged: now, Password: "Old-password-1!"},
		AccessKeys: []*awsfake.AccessKey{{ID: "AKIALEAVER0000000001", Secret: "s1", Status: "Active", CreatedAt: now},
			{ID: "AKIALEAVER0000000002", Secret: "s2", Status: "Inactive", CreatedAt: now}},
		MFADevices:          []*awsfake.MFADevice{{SerialNumber: "arn:aws:iam::" + acct + ":mfa/leaver", Virtual: true, EnabledAt: now}},
		SigningCertificates: []string{"CERTLEAVER00000000000000001"}, SSHPublicKeys: []string{"APKALEAVER0000000001"}, ServiceCredentials: []string{"ACCALEAVER0000000001"}}
	truth.IAM.Users[u.Name] = u
	for _, g := range u.Groups {
		truth.IAM.Groups[g].Members = append(truth.IAM.Groups[g].Members, u.Name)
	}
	srv := awsfake.NewServer(o)
	t.Cleanup(srv.Close)
	c := srv.AddAccount(truth)
	sess, err := awsapi.Load(context.Background(), awsapi.Options{Region: "us-east-1", Endpoint: srv.URL(), MaxBackoff: time.Millisecond, IAMRate: 100000,
		Credentials: credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, "")})
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return &env{srv: srv, st: st, p: &Provisioner{IAM: sess.IAM(acct), AccountID: acct, ConnectionID: "test", Actor: "arn:aws:iam::" + acct + ":user/warden-admin",
		Audit: st, Records: st, DeleteBackoff: 5 * time.Millisecond}}
}

// run plans and applies an action and fails the test on error.
func (e *env) run(t *testing.T, a Action) *Result {
	t.Helper()
	pl, err := e.p.Plan(context.Background(), a)
	if err != nil {
		t.Fatalf("plan %s: %v", a.Kind, err)
	}
	res, err := e.p.Apply(context.Background(), pl)
	if err != nil {
		t.Fatalf("apply %s: %v", a.Kind, err)
	}
	return res
}

// stepCalls lists the AWS calls of a plan's steps, in order.
func stepCalls(pl *Plan) []string {
	calls := make([]string, len(pl.Steps))
	for i, s := range pl.Steps {
		calls[i] = s.Call
	}
	return calls
}

// noOp asserts that replaying an action plans nothing.
func (e *env) noOp(t *testing.T, a Action) {
	t.Helper()
	pl, err := e.p.Plan(context.Background(), a)
	if err != nil {
		t.Fatalf("replan %s: %v", a.Kind, err)
	}
	if len(pl.Steps) != 0 || pl.NoOp == "" {
		t.Errorf("replaying %s plans %v, want nothing", a.Kind, pl.Steps)
	}
}

func TestDeleteUserTearsDownEveryDependency(t *testing.T) {
	e := newEnv(t, awsfake.Options{DeleteConflictWindow: 200 * time.Millisecond})
	e.p.DeleteBackoff = 20 * time.Millisecond
	ctx := context.Background()
	// A bare DeleteUser fails as in AWS.
	_, err := e.p.IAM.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("leaver")})
	if errorCode(err) != "DeleteConflict" {
		t.Fatalf("bare DeleteUser: %v, want DeleteConflict", err)
	}
	pl, err := e.p.Plan(ctx, Action{Kind: DeleteUser, User: "leaver"})
	if err != nil {
		t.Fatal(err)
	}
	calls := stepCalls(pl)
	want := []string{"iam:DeleteLoginProfile", "iam:DeleteAccessKey", "iam:DeleteAccessKey", "iam:DeleteSigningCertificate", "iam:DeleteSSHPublicKey",
		"iam:DeleteServiceSpecificCredential", "iam:DeactivateMFADevice", "iam:DeleteVirtualMFADevice", "iam:RemoveUserFromGroup", "iam:RemoveUserFromGroup",
		"iam:DetachUserPolicy", "iam:DetachUserPolicy", "iam:DeleteUserPolicy", "iam:DeleteUser"}
	if strings.Join(calls, " ") != strings.Join(want, " ") {
		t.Fatalf("plan = %v\nwant %v", calls, want)
	}
	if _, err := e.p.Apply(ctx, pl); err != nil {
		t.Fatalf("apply: %v", err)
	}
	if _, ok := e.srv.Account(acct).IAM.Users["leaver"]; ok {
		t.Fatal("the user still exists")
	}
	// The DeleteConflict window made DeleteUser retry.
	if n := e.srv.Calls()["iam:DeleteUser"]; n < 3 {
		t.Errorf("DeleteUser calls = %d, want the bare one plus retries through the conflict window", n)
	}
	e.noOp(t, Action{Kind: DeleteUser, User: "leaver"})

	recs, err := e.st.Audit(ctx, "test", 0)
	if err != nil || len(recs) != len(want) {
		t.Fatalf("audit = %d records (%v), want %d", len(recs), err, len(want))
	}
	for _, r := range recs {
		if r.Result != "ok" || r.RequestID == "" || r.Actor == "" || r.Target != "user leaver in account "+acct {
			t.Errorf("audit record %+v", r)
		}
	}
}

func TestInterruptedDeleteConverges(t *testing.T) {
	e := newEnv(t, awsfake.Options{})
	ctx := context.Background()
	pl, err := e.p.Plan(ctx, Action{Kind: DeleteUser, User: "leaver"})
	if err != nil {
		t.Fatal(err)
	}
	half := *pl
	half.Steps = pl.Steps[:len(pl.Steps)/2] // the process died halfway
	if _, err := e.p.Apply(ctx, &half); err != nil {
		t.Fatal(err)
	}
	rest, err := e.p.Plan(ctx, Action{Kind: DeleteUser, User: "leaver"})
	if err != nil {
		t.Fatal(err)
	}
	if len(rest.Steps) != len(pl.Steps)-len(half.Steps) {
		t.Errorf("the re-run plans %d steps, want the %d left", len(rest.Steps), len(pl.Steps)-len(half.Steps))
	}
	if _, err := e.p.Apply(ctx, rest); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.srv.Account(acct).IAM.Users["leaver"]; ok {
		t.Error("the user still exists")
	}
}

func TestDeactivateThenReactivateRestoresPriorState(t *testing.T) {
	e := newEnv(t, awsfake.Options{})
	before := e.srv.Account(acct).IAM.Users["leaver"]
	res := e.run(t, Action{Kind: DeactivateUser, User: "leaver", DenyAll: true})
	if len(res.Secrets) != 0 {
		t.Error("deactivation returned a secret")
	}
	off := e.srv.Account(acct).IAM.Users["leaver"]
	if off.LoginProfile != nil || off.AccessKeys[0].Status != "Inactive" || !slices.Contains(off.AttachedPolicies, DenyAllPolicyARN) {
		t.Fatalf("after deactivation: profile %v, key %s, policies %v", off.LoginProfile, off.AccessKeys[0].Status, off.AttachedPolicies)
	}
	e.noOp(t, Action{Kind: DeactivateUser, User: "leaver", DenyAll: true})

	res = e.run(t, Action{Kind: ReactivateUser, User: "leaver"})
	after := e.srv.Account(acct).IAM.Users["leaver"]
	if after.LoginProfile == nil || !after.LoginProfile.PasswordResetRequired || len(res.Secrets) != 1 || res.Secrets[0].Value == "" ||
		after.LoginProfile.Password != res.Secrets[0].Value {
		t.Fatalf("reactivation: profile %+v, secrets %d; want a new password, reset required, returned once", after.LoginProfile, len(res.Secrets))
	}
	for i, k := range after.AccessKeys {
		if k.Status != before.AccessKeys[i].Status {
			t.Errorf("key %s is %s, was %s before deactivation", k.ID, k.Status, before.AccessKeys[i].Status)
		}
	}
	if strings.Join(after.AttachedPolicies, ",") != strings.Join(before.AttachedPolicies, ",") {
		t.Errorf("policies %v, were %v", after.AttachedPolicies, before.AttachedPolicies)
	}
	// The password is nowhere in the audit log.
	recs, _ := e.st.Audit(context.Background(), "test", 0)
	for _, r := range recs {
		if strings.Contains(r.Detail+r.Target+r.Call, res.Secrets[0].Value) {
			t.Fatal("the generated password reached the audit log")
		}
	}
	// Reactivating again is a no-op.
	e.noOp(t, Action{Kind: ReactivateUser, User: "leaver"})
}

func TestJoinerAndMoverActionsAreIdempotent(t *testing.T) {
	e := newEnv(t, awsfake.Options{})
	groups := []string{}
	for g := range e.srv.Account(acct).IAM.Groups {
		groups = append(groups, g)
	}
	slices.Sort(groups)
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iam:*","Resource":"*"}]}`
	actions := []Action{
		{Kind: CreateUser, User: "joiner", Path: "/staff/", Tags: map[string]string{"email": "joiner@example.com"}, ConsolePassword: true,
			Groups: groups[:1], Policies: []string{"arn:aws:iam::aws:policy/ReadOnlyAccess"}},
		{Kind: AddToGroup, User: "joiner", Group: groups[1]},
		{Kind: RemoveFromGroup, User: "joiner", Group: groups[0]},
		{Kind: AttachPolicy, Group: groups[1], PolicyARN: "arn:aws:iam::aws:policy/SecurityAudit"},
		{Kind: DetachPolicy, User: "joiner", PolicyARN: "arn:aws:iam::aws:policy/ReadOnlyAccess"},
		{Kind: PutInlinePolicy, User: "joiner", PolicyName: "no-iam", Document: doc},
		{Kind: DeleteInlinePolicy, User: "joiner", PolicyName: "no-iam"},
	}
	for _, a := range actions {
		res := e.run(t, a)
		if len(res.Done) == 0 {
			t.Errorf("%s did nothing", a.Kind)
		}
		e.noOp(t, a)
	}
	u := e.srv.Account(acct).IAM.Users["joiner"]
	if u == nil || u.Path != "/staff/" || u.LoginProfile == nil || !u.LoginProfile.PasswordResetRequired ||
		strings.Join(u.Groups, ",") != groups[1] || len(u.AttachedPolicies) != 0 || len(u.InlinePolicies) != 0 {
		t.Fatalf("joiner = %+v", u)
	}
	if !slices.Contains(e.srv.Account(acct).IAM.Groups[groups[1]].AttachedPolicies, "arn:aws:iam::aws:policy/SecurityAudit") {
		t.Error("the group policy was not attached")
	}
}

func TestBadInputFailsBeforeAnyCall(t *testing.T) {
	e := newEnv(t, awsfake.Options{})
	e.srv.ResetCalls()
	huge := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"` + strings.Repeat("x", 3000) + `"}]}`
	for _, a := range []Action{
		{Kind: PutInlinePolicy, User: "leaver", PolicyName: "big", Document: huge},
		{Kind: PutInlinePolicy, User: "leaver", PolicyName: "bad", Document: `{"Statement": [`},
		{Kind: AttachPolicy, User: "leaver", PolicyARN: "ReadOnlyAccess"},
		{Kind: AttachPolicy, User: "leaver", Group: "also", PolicyARN: "arn:aws:iam::aws:policy/ReadOnlyAccess"},
		{Kind: "promote-user", User: "leaver"},
		{Kind: CreateUser, User: "bad name!"},
	} {
		if _, err := e.p.Plan(context.Background(), a); err == nil {
			t.Errorf("%+v was accepted", a)
		}
	}
	if n := e.srv.TotalCalls(); n != 0 {
		t.Errorf("%d calls were made for invalid actions", n)
	}
}

func TestQuotaFailureSaysWhatWasDone(t *testing.T) {
	e := newEnv(t, awsfake.Options{})
	var arns []string
	for _, p := range awsfake.AWSManagedPolicies() {
		arns = append(arns, p.ARN)
	}
	pl, err := e.p.Plan(context.Background(), Action{Kind: CreateUser, User: "greedy", Policies: arns[:11]})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.p.Apply(context.Background(), pl)
	var ae *ApplyError
	if !errors.As(err, &ae) || errorCode(err) != "LimitExceeded" || len(ae.Done) != 11 || !strings.Contains(err.Error(), "Run the same action again") {
		t.Fatalf("attaching 11 policies: %v", err)
	}
	recs, _ := e.st.Audit(context.Background(), "test", 1)
	if len(recs) != 1 || recs[0].Result != "failed" || !strings.Contains(recs[0].Detail, "LimitExceeded") {
		t.Errorf("last audit record = %+v", recs)
	}
}

func TestNewPassword(t *testing.T) {
	seen := map[string]bool{}
	for range 20 {
		pw, err := NewPassword()
		if err != nil || len(pw) != 20 || seen[pw] {
			t.Fatalf("NewPassword = %q, %v", pw, err)
		}
		seen[pw] = true
		for _, set := range passwordAlphabets {
			if !strings.ContainsAny(pw, set) {
				t.Errorf("%q lacks a character of %q", pw, set)
			}
		}
	}
}

// TestSecretSurvivesALaterFailure fails a batch after a console password
// was made: the password is still returned, in the failing action's result
// (one action) and in the earlier action's (a batch).
func TestSecretSurvivesALaterFailure(t *testing.T) {
	e := newEnv(t, awsfake.Options{})
	ctx := context.Background()
	var arns []string
	for _, p := range awsfake.AWSManagedPolicies() {
		arns = append(arns, p.ARN)
	}
	// One action: CreateUser and CreateLoginProfile succeed, the 11th
	// AttachUserPolicy is over IAM's quota.
	pl, err := e.p.Plan(ctx, Action{Kind: CreateUser, User: "newbie1", ConsolePassword: true, Policies: arns[:11]})
	if err != nil {
		t.Fatal(err)
	}
	results, err := e.p.ApplyAll(ctx, []*Plan{pl})
	var be *BatchError
	if !errors.As(err, &be) || be.Index != 0 || errorCode(err) != "LimitExceeded" {
		t.Fatalf("apply: %v, want LimitExceeded at action 1", err)
	}
	u := e.srv.Account(acct).IAM.Users["newbie1"]
	if len(results) != 1 || len(results[0].Secrets) != 1 || u.LoginProfile == nil || results[0].Secrets[0].Value != u.LoginProfile.Password {
		t.Fatalf("results %+v: want the password AWS holds, returned despite the failure", results)
	}
	if f := results[0].Failed; f == nil || f.Step.Call != "iam:AttachUserPolicy" || !strings.Contains(f.Error, "LimitExceeded") {
		t.Errorf("failed = %+v, want the 11th AttachUserPolicy", results[0].Failed)
	}
	// A batch whose second action fails keeps the first action's secret.
	p1, err := e.p.Plan(ctx, Action{Kind: CreateUser, User: "newbie2", ConsolePassword: true})
	if err != nil {
		t.Fatal(err)
	}
	p2, err := e.p.Plan(ctx, Action{Kind: CreateUser, User: "newbie3", Policies: arns[:11]})
	if err != nil {
		t.Fatal(err)
	}
	results, err = e.p.ApplyAll(ctx, []*Plan{p1, p2})
	if !errors.As(err, &be) || be.Index != 1 || !strings.HasPrefix(err.Error(), "action 2 of 2: ") {
		t.Fatalf("batch: %v, want a failure of action 2", err)
	}
	u = e.srv.Account(acct).IAM.Users["newbie2"]
	if len(results) != 2 || len(results[0].Secrets) != 1 || u.LoginProfile == nil || results[0].Secrets[0].Value != u.LoginProfile.Password ||
		results[0].Failed != nil || results[1].Failed == nil {
		t.Fatalf("batch results %+v", results)
	}
}
