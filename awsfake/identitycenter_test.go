package awsfake

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	istypes "github.com/aws/aws-sdk-go-v2/service/identitystore/types"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	ssotypes "github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"
)

func icOrg() OrgEstate {
	return OrgEstate{Accounts: 6, Seed: 3, PerAccount: Estate{Users: 2},
		IdentityCenter: &IdentityCenterEstate{Users: 230, Groups: 12, PermissionSets: 8}}
}

func TestIdentityCenterThroughSDK(t *testing.T) {
	srv := NewServer(Options{})
	defer srv.Close()
	truth := icOrg().Build()
	cfg := sdkConfig(srv, truth.Install(srv))
	ctx := context.Background()
	sso, ids := ssoadmin.NewFromConfig(cfg), identitystore.NewFromConfig(cfg)
	ic := truth.IdentityCenter

	inst, err := sso.ListInstances(ctx, &ssoadmin.ListInstancesInput{})
	if err != nil || len(inst.Instances) != 1 || aws.ToString(inst.Instances[0].IdentityStoreId) != ic.IdentityStoreID {
		t.Fatalf("ListInstances = %+v, %v", inst, err)
	}
	// Users page by 100 and carry their status.
	users, disabled := 0, 0
	p := identitystore.NewListUsersPaginator(ids, &identitystore.ListUsersInput{IdentityStoreId: aws.String(ic.IdentityStoreID)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Users) > 100 {
			t.Fatalf("a page of %d users", len(page.Users))
		}
		for _, u := range page.Users {
			users++
			want := ic.Users[aws.ToString(u.UserId)]
			if aws.ToString(u.UserName) != want.UserName || string(u.UserStatus) != want.Status || aws.ToString(u.Emails[0].Value) != want.Email {
				t.Fatalf("user %+v, want %+v", u, want)
			}
			if u.UserStatus == istypes.UserStatusDisabled {
				disabled++
			}
		}
	}
	if users != 230 || disabled == 0 {
		t.Errorf("listed %d users (%d disabled), want 230 with some disabled", users, disabled)
	}
	for gid, g := range ic.Groups {
		m, err := ids.ListGroupMemberships(ctx, &identitystore.ListGroupMembershipsInput{IdentityStoreId: aws.String(ic.IdentityStoreID), GroupId: aws.String(gid)})
		if err != nil || len(m.GroupMemberships) != len(g.Members) {
			t.Fatalf("memberships of %s: %d, %v; want %d", g.DisplayName, len(m.GroupMemberships), err, len(g.Members))
		}
		if id := m.GroupMemberships[0].MemberId.(*istypes.MemberIdMemberUserId).Value; id != g.Members[0] {
			t.Errorf("first member %s, want %s", id, g.Members[0])
		}
	}

	// Permission sets, provisioning and assignments agree with the truth.
	pairs := 0
	for arn, ps := range ic.PermissionSets {
		accts, err := sso.ListAccountsForProvisionedPermissionSet(ctx, &ssoadmin.ListAccountsForProvisionedPermissionSetInput{InstanceArn: aws.String(ic.InstanceARN), PermissionSetArn: aws.String(arn)})
		if err != nil {
			t.Fatal(err)
		}
		for _, acct := range accts.AccountIds {
			pairs++
			as, err := sso.ListAccountAssignments(ctx, &ssoadmin.ListAccountAssignmentsInput{InstanceArn: aws.String(ic.InstanceARN), AccountId: aws.String(acct), PermissionSetArn: aws.String(arn)})
			if err != nil || len(as.AccountAssignments) == 0 {
				t.Fatalf("assignments of %s in %s: %+v, %v", ps.Name, acct, as, err)
			}
			if _, ok := srv.Account(acct).IAM.Roles[ReservedRoleName(ps, acct)]; !ok {
				t.Errorf("no reserved role for %s in %s", ps.Name, acct)
			}
		}
		_, err = sso.GetPermissionsBoundaryForPermissionSet(ctx, &ssoadmin.GetPermissionsBoundaryForPermissionSetInput{InstanceArn: aws.String(ic.InstanceARN), PermissionSetArn: aws.String(arn)})
		var nf *ssotypes.ResourceNotFoundException
		if hasBoundary := ps.BoundaryManagedPolicyARN != ""; hasBoundary == errors.As(err, &nf) {
			t.Errorf("boundary of %s: %v (has one: %v)", ps.Name, err, hasBoundary)
		}
	}
	if pairs != len(ic.ProvisionedPairs()) {
		t.Errorf("%d provisioned pairs listed, want %d", pairs, len(ic.ProvisionedPairs()))
	}

	// Errors: a wrong store, MaxResults over 100, a member account.
	_, err = ids.ListUsers(ctx, &identitystore.ListUsersInput{IdentityStoreId: aws.String("d-0000000000")})
	var rnf *istypes.ResourceNotFoundException
	if !errors.As(err, &rnf) {
		t.Errorf("wrong identity store: %v", err)
	}
	_, err = ids.ListUsers(ctx, &identitystore.ListUsersInput{IdentityStoreId: aws.String(ic.IdentityStoreID), MaxResults: aws.Int32(101)})
	var ve *istypes.ValidationException
	if !errors.As(err, &ve) {
		t.Errorf("MaxResults 101: %v, want ValidationException", err)
	}
	member := ssoadmin.NewFromConfig(sdkConfig(srv, srv.AddAccount(truth.Members[0])))
	_, err = member.ListPermissionSets(ctx, &ssoadmin.ListPermissionSetsInput{InstanceArn: aws.String(ic.InstanceARN)})
	var ade *ssotypes.AccessDeniedException
	if !errors.As(err, &ade) {
		t.Errorf("member account: %v, want AccessDeniedException", err)
	}
}

func TestAssignmentOperationsAreAsynchronousAndLimited(t *testing.T) {
	srv := NewServer(Options{AssignmentDelay: time.Hour})
	defer srv.Close()
	truth := OrgEstate{Accounts: 12, Seed: 3, PerAccount: Estate{Users: 1},
		IdentityCenter: &IdentityCenterEstate{Users: 3, Groups: 1, PermissionSets: 1}}.Build()
	cfg := sdkConfig(srv, truth.Install(srv))
	sso := ssoadmin.NewFromConfig(cfg)
	ic := truth.IdentityCenter
	var ps, user string
	for arn := range ic.PermissionSets {
		ps = arn
	}
	for id := range ic.Users {
		user = id
	}
	ctx := context.Background()
	for i := 0; i < 11; i++ {
		out, err := sso.CreateAccountAssignment(ctx, &ssoadmin.CreateAccountAssignmentInput{InstanceArn: aws.String(ic.InstanceARN),
			TargetId: aws.String(truth.Members[i].ID), TargetType: ssotypes.TargetTypeAwsAccount, PermissionSetArn: aws.String(ps),
			PrincipalType: ssotypes.PrincipalTypeUser, PrincipalId: aws.String(user)})
		if i < 10 {
			if err != nil || out.AccountAssignmentCreationStatus.Status != ssotypes.StatusValuesInProgress {
				t.Fatalf("operation %d: %+v, %v; want IN_PROGRESS", i, out, err)
			}
			continue
		}
		var ce *ssotypes.ConflictException
		if !errors.As(err, &ce) {
			t.Errorf("the 11th outstanding operation: %v, want ConflictException", err)
		}
	}
}
