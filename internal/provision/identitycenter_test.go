package provision

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/warden-iam/warden/awsfake"
	"github.com/warden-iam/warden/internal/awsapi"
	"github.com/warden-iam/warden/internal/scim"
	"github.com/warden-iam/warden/internal/store"
)

// newICEnv serves an organization with Identity Center; assignment
// operations take 40 ms.
func newICEnv(t *testing.T) (*awsfake.Server, *Provisioner, *awsfake.OrgTruth) {
	t.Helper()
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	truth := awsfake.OrgEstate{Accounts: 3, Seed: 6, PerAccount: awsfake.Estate{Users: 1},
		IdentityCenter: &awsfake.IdentityCenterEstate{Users: 10, Groups: 2, PermissionSets: 3}}.Build()
	// A permission set referring to a customer managed policy no account has.
	for _, ps := range truth.IdentityCenter.PermissionSets {
		if ps.Name == "PowerUserAccess" {
			ps.CustomerManagedPolicies = []awsfake.PolicyRef{{Name: "team-boundary", Path: "/"}}
		}
	}
	srv := awsfake.NewServer(awsfake.Options{AssignmentDelay: 40 * time.Millisecond})
	t.Cleanup(srv.Close)
	_, ic := connectIC(t, srv, truth)
	ctx := context.Background()
	ic.Poll = 10 * time.Millisecond
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return srv, &Provisioner{AccountID: "111111111111", ConnectionID: "t", Audit: st, Records: st, IC: ic}, truth
}

// connectIC installs truth in srv and finds its Identity Center through
// the SDK, as warden does; the session serves the other clients.
func connectIC(t *testing.T, srv *awsfake.Server, truth *awsfake.OrgTruth) (*awsapi.Session, *IdentityCenter) {
	t.Helper()
	c := truth.Install(srv)
	ctx := context.Background()
	sess, err := awsapi.Load(ctx, awsapi.Options{Region: "us-east-1", Endpoint: srv.URL(), IAMRate: 100000, IdentityCenterRate: 100000, MaxBackoff: time.Millisecond,
		Credentials: credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, "")})
	if err != nil {
		t.Fatal(err)
	}
	sso, ids := sess.IdentityCenter("")
	ic, err := FindIdentityCenter(ctx, sso, ids)
	if err != nil {
		t.Fatal(err)
	}
	return sess, ic
}

func apply(t *testing.T, p *Provisioner, a Action) (*Result, error) {
	t.Helper()
	pl, err := p.Plan(context.Background(), a)
	if err != nil {
		t.Fatalf("plan %s: %v", a.Kind, err)
	}
	return p.Apply(context.Background(), pl)
}

func replayIsNoOp(t *testing.T, p *Provisioner, a Action) {
	t.Helper()
	pl, err := p.Plan(context.Background(), a)
	if err != nil || len(pl.Steps) != 0 {
		t.Errorf("replaying %s: %v, %v; want nothing to do", a.Kind, pl, err)
	}
}

func TestIdentityCenterJoinerMoverLeaver(t *testing.T) {
	srv, p, truth := newICEnv(t)
	account := truth.Members[1].ID
	steps := []Action{
		{Kind: CreateSSOUser, User: "dana@example.com", DisplayName: "Dana Scully", GivenName: "Dana", FamilyName: "Scully", Email: "dana@example.com"},
		{Kind: CreateSSOGroup, Group: "investigators", Description: "X files"},
		{Kind: AddSSOUserToGroup, User: "dana@example.com", Group: "investigators"},
		{Kind: AssignPermissionSet, Group: "investigators", PermissionSet: "ReadOnlyAccess", Account: account},
		{Kind: AssignPermissionSet, User: "dana@example.com", PermissionSet: "AdministratorAccess", Account: account},
	}
	for _, a := range steps {
		if _, err := apply(t, p, a); err != nil {
			t.Fatalf("%s: %v", a.Kind, err)
		}
		replayIsNoOp(t, p, a)
	}
	ic := srv.IdentityCenter()
	var dana string
	for id, u := range ic.Users {
		if u.UserName == "dana@example.com" {
			dana = id
		}
	}
	n := 0
	for _, as := range ic.Assignments {
		if as.AccountID == account && (as.PrincipalID == dana || ic.Groups[as.PrincipalID] != nil && ic.Groups[as.PrincipalID].DisplayName == "investigators") {
			n++
			ps := ic.PermissionSets[as.PermissionSetARN]
			if _, ok := srv.Account(account).IAM.Roles[awsfake.ReservedRoleName(ps, account)]; !ok {
				t.Errorf("no reserved role for %s in %s", ps.Name, account)
			}
		}
	}
	if n != 2 {
		t.Fatalf("%d assignments for dana and her group, want 2", n)
	}
	// The mover leaves the group; the leaver is deleted with her assignments.
	for _, a := range []Action{
		{Kind: RemoveSSOUserFromGroup, User: "dana@example.com", Group: "investigators"},
		{Kind: UnassignPermissionSet, Group: "investigators", PermissionSet: "ReadOnlyAccess", Account: account},
		{Kind: DeleteSSOUser, User: "dana@example.com"},
		{Kind: DeleteSSOGroup, Group: "investigators"},
	} {
		res, err := apply(t, p, a)
		if err != nil {
			t.Fatalf("%s: %v", a.Kind, err)
		}
		if a.Kind == DeleteSSOUser && (len(res.Done) != 2 || res.Done[0].Step.Call != "sso:DeleteAccountAssignment") {
			t.Errorf("deleting dana made %v, want her assignment removed first", res.Done)
		}
		replayIsNoOp(t, p, a)
	}
	ic = srv.IdentityCenter()
	if ic.Users[dana] != nil {
		t.Error("dana still exists")
	}
	for _, as := range ic.Assignments {
		if as.PrincipalID == dana {
			t.Errorf("assignment of a deleted user remains: %+v", as)
		}
	}
	if calls := srv.Calls(); calls["sso:DescribeAccountAssignmentCreationStatus"] == 0 || calls["sso:DescribeAccountAssignmentDeletionStatus"] == 0 {
		t.Errorf("assignment status was never followed: %v", calls)
	}
}

func TestFailedAssignmentReportsAWSReason(t *testing.T) {
	_, p, truth := newICEnv(t)
	_, err := apply(t, p, Action{Kind: AssignPermissionSet, User: mustUserName(truth), PermissionSet: "PowerUserAccess", Account: truth.Members[0].ID})
	var ae *ApplyError
	if !errors.As(err, &ae) || !strings.Contains(err.Error(), "Not supported policy") || !strings.Contains(err.Error(), "team-boundary") {
		t.Fatalf("assignment needing a missing policy: %v, want AWS's failure reason", err)
	}
}

// mustUserName returns the first enabled Identity Center user by name.
func mustUserName(truth *awsfake.OrgTruth) string {
	name := ""
	for _, u := range truth.IdentityCenter.Users {
		if u.Status == "ENABLED" && (name == "" || u.UserName < name) {
			name = u.UserName
		}
	}
	return name
}

func TestDeactivateSSOUserThroughSCIM(t *testing.T) {
	srv, p, truth := newICEnv(t)
	user := mustUserName(truth)
	var id string
	for uid, u := range truth.IdentityCenter.Users {
		if u.UserName == user {
			id = uid
		}
	}
	if _, err := p.Plan(context.Background(), Action{Kind: DeactivateSSOUser, User: user}); err == nil || !strings.Contains(err.Error(), "identity_center.scim") {
		t.Fatalf("without SCIM: %v, want the fix naming identity_center.scim", err)
	}
	client, err := scim.New(srv.SCIMURL(), truth.IdentityCenter.SCIMToken, nil)
	if err != nil {
		t.Fatal(err)
	}
	p.SCIM = client
	for _, step := range []struct {
		kind Kind
		want string
	}{{DeactivateSSOUser, "DISABLED"}, {ReactivateSSOUser, "ENABLED"}} {
		a := Action{Kind: step.kind, User: user}
		pl, err := p.Plan(context.Background(), a)
		if err != nil || len(pl.Steps) != 1 || pl.Steps[0].Params["via"] != "SCIM" {
			t.Fatalf("plan %s: %+v, %v", step.kind, pl, err)
		}
		if _, err := p.Apply(context.Background(), pl); err != nil {
			t.Fatal(err)
		}
		if got := srv.IdentityCenter().Users[id].Status; got != step.want {
			t.Errorf("after %s the Identity Store says %s, want %s", step.kind, got, step.want)
		}
		replayIsNoOp(t, p, a)
	}
}

// TestGoneSSOPrincipalIsToldFromUnknownName: delete-sso-user and
// delete-sso-group of a misspelt name say there is no such principal; of one
// warden deleted, when it did.
func TestGoneSSOPrincipalIsToldFromUnknownName(t *testing.T) {
	_, p, _ := newICEnv(t)
	noOp := func(a Action, want string) {
		t.Helper()
		pl, err := p.Plan(context.Background(), a)
		if err != nil || len(pl.Steps) != 0 || !strings.Contains(pl.NoOp, want) || strings.Contains(pl.NoOp, "already deleted") {
			t.Errorf("plan %s %s: %v, %v; want a no-op saying %q", a.Kind, a.User+a.Group, pl, err, want)
		}
	}
	noOp(Action{Kind: DeleteSSOUser, User: "nobody@example.com"}, "no such Identity Center user nobody@example.com")
	noOp(Action{Kind: DeleteSSOGroup, Group: "no-such-group"}, "no such Identity Center group no-such-group")
	for _, a := range []Action{
		{Kind: CreateSSOUser, User: "temp@example.com", DisplayName: "T", GivenName: "T", FamilyName: "P"},
		{Kind: CreateSSOGroup, Group: "temps"},
		{Kind: DeleteSSOUser, User: "temp@example.com"},
		{Kind: DeleteSSOGroup, Group: "temps"},
	} {
		if _, err := apply(t, p, a); err != nil {
			t.Fatal(err)
		}
	}
	noOp(Action{Kind: DeleteSSOUser, User: "temp@example.com"}, "Identity Center user temp@example.com was deleted by warden on ")
	noOp(Action{Kind: DeleteSSOGroup, Group: "temps"}, "Identity Center group temps was deleted by warden on ")
}

// TestDeleteSSOUserRemovesMembershipsExplicitly: delete-sso-user plans the
// removal of each assignment and each group membership, then the user; the
// memberships go by DeleteGroupMembership, not by trusting DeleteUser.
func TestDeleteSSOUserRemovesMembershipsExplicitly(t *testing.T) {
	srv, p, truth := newICEnv(t)
	account := truth.Members[0].ID
	for _, a := range []Action{
		{Kind: CreateSSOUser, User: "eve@example.com", DisplayName: "Eve", GivenName: "Eve", FamilyName: "E"},
		{Kind: CreateSSOGroup, Group: "g1"},
		{Kind: CreateSSOGroup, Group: "g2"},
		{Kind: AddSSOUserToGroup, User: "eve@example.com", Group: "g1"},
		{Kind: AddSSOUserToGroup, User: "eve@example.com", Group: "g2"},
		{Kind: AssignPermissionSet, User: "eve@example.com", PermissionSet: "ReadOnlyAccess", Account: account},
	} {
		if _, err := apply(t, p, a); err != nil {
			t.Fatalf("%s: %v", a.Kind, err)
		}
	}
	ic := srv.IdentityCenter()
	groups := map[string]bool{}
	for id, g := range ic.Groups {
		if g.DisplayName == "g1" || g.DisplayName == "g2" {
			groups[id] = true
		}
	}
	pl, err := p.Plan(context.Background(), Action{Kind: DeleteSSOUser, User: "eve@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	var calls []string
	for _, s := range pl.Steps {
		calls = append(calls, s.Call)
		if s.Call == "identitystore:DeleteGroupMembership" {
			if !groups[s.Params["GroupId"]] || s.Params["MembershipId"] == "" {
				t.Errorf("membership step %v names no group of eve's", s)
			}
			delete(groups, s.Params["GroupId"])
		}
	}
	want := "sso:DeleteAccountAssignment identitystore:DeleteGroupMembership identitystore:DeleteGroupMembership identitystore:DeleteUser"
	if strings.Join(calls, " ") != want || len(groups) != 0 {
		t.Fatalf("plan = %v, want %s with one membership step per group", calls, want)
	}
	srv.ResetCalls()
	if _, err := p.Apply(context.Background(), pl); err != nil {
		t.Fatal(err)
	}
	if n := srv.Calls()["identitystore:DeleteGroupMembership"]; n != 2 {
		t.Errorf("DeleteGroupMembership calls = %d, want 2", n)
	}
	for _, g := range srv.IdentityCenter().Groups {
		if (g.DisplayName == "g1" || g.DisplayName == "g2") && len(g.Members) != 0 {
			t.Errorf("group %s still has members %v", g.DisplayName, g.Members)
		}
	}
}

// TestDeleteSSOUserCreatedInTheSameBatchIsRefused: the plan cannot list
// what a user not yet made holds, so it says so instead of guessing.
func TestDeleteSSOUserCreatedInTheSameBatchIsRefused(t *testing.T) {
	srv, p, _ := newICEnv(t)
	srv.ResetCalls()
	_, err := p.PlanAll(context.Background(), []Action{
		{Kind: CreateSSOUser, User: "brief@example.com", DisplayName: "B", GivenName: "B", FamilyName: "C"},
		{Kind: DeleteSSOUser, User: "brief@example.com"},
	})
	if err == nil || !strings.Contains(err.Error(), "created by an earlier action of this batch") {
		t.Fatalf("create then delete in one batch: %v", err)
	}
	for call := range srv.Calls() {
		if !strings.Contains(call, "Get") && !strings.Contains(call, "List") && !strings.Contains(call, "Describe") {
			t.Errorf("planning made %s", call)
		}
	}
}
