package awsfake

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	isdocument "github.com/aws/aws-sdk-go-v2/service/identitystore/document"
	istypes "github.com/aws/aws-sdk-go-v2/service/identitystore/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	ssotypes "github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"
)

// TestIdentityCenterWritesFromNothing enables Identity Center in a new
// organization and builds users, groups, memberships, a permission set and
// an assignment through the SDK, checking AWS's validation and errors, and
// that a permission set changed after provisioning reaches the account's
// role only when it is provisioned again.
func TestIdentityCenterWritesFromNothing(t *testing.T) {
	clock := &testClock{now: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	srv := NewServer(Options{Now: clock.Now, AssignmentDelay: time.Second})
	defer srv.Close()
	creds := srv.AddAccount(Estate{AccountID: "111111111111"}.Build())
	ctx := context.Background()
	cfg := sdkConfig(srv, creds)
	org := organizations.NewFromConfig(cfg)
	is := identitystore.NewFromConfig(cfg)
	sso := ssoadmin.NewFromConfig(cfg)

	if _, err := srv.EnableIdentityCenter(); err == nil {
		t.Error("Identity Center was enabled without an organization")
	}
	if out, err := sso.ListInstances(ctx, &ssoadmin.ListInstancesInput{}); err != nil || len(out.Instances) != 0 {
		t.Errorf("ListInstances in a new account = %+v, %v; want none, as AWS has", out, err)
	}
	if _, err := org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{}); err != nil {
		t.Fatal(err)
	}
	started, err := org.CreateAccount(ctx, &organizations.CreateAccountInput{Email: aws.String("dev@example.com"), AccountName: aws.String("dev")})
	if err != nil {
		t.Fatal(err)
	}
	st, err := org.DescribeCreateAccountStatus(ctx, &organizations.DescribeCreateAccountStatusInput{CreateAccountRequestId: started.CreateAccountStatus.Id})
	if err != nil || st.CreateAccountStatus.AccountId == nil {
		t.Fatalf("account creation: %+v, %v", st, err)
	}
	dev := aws.ToString(st.CreateAccountStatus.AccountId)
	if _, err := srv.EnableIdentityCenter(); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.EnableIdentityCenter(); err == nil {
		t.Error("Identity Center was enabled twice")
	}
	inst, err := sso.ListInstances(ctx, &ssoadmin.ListInstancesInput{})
	if err != nil || len(inst.Instances) != 1 {
		t.Fatalf("ListInstances = %+v, %v", inst, err)
	}
	instance, storeID := inst.Instances[0].InstanceArn, inst.Instances[0].IdentityStoreId

	// Identity Store.
	name := &istypes.Name{GivenName: aws.String("Ada"), FamilyName: aws.String("Lovelace")}
	_, err = is.CreateUser(ctx, &identitystore.CreateUserInput{IdentityStoreId: storeID, UserName: aws.String("ada"), Name: name})
	wantCode(t, "CreateUser without DisplayName", err, "ValidationException", "")
	_, err = is.CreateUser(ctx, &identitystore.CreateUserInput{IdentityStoreId: storeID, UserName: aws.String("Administrator"), DisplayName: aws.String("A"), Name: name})
	wantCode(t, "CreateUser with a reserved name", err, "ValidationException", "")
	_, err = is.CreateUser(ctx, &identitystore.CreateUserInput{IdentityStoreId: storeID, UserName: aws.String("has space"), DisplayName: aws.String("A"), Name: name})
	wantCode(t, "CreateUser with a space in the name", err, "ValidationException", "")
	user, err := is.CreateUser(ctx, &identitystore.CreateUserInput{IdentityStoreId: storeID, UserName: aws.String("ada"), DisplayName: aws.String("Ada Lovelace"),
		Name: name, Emails: []istypes.Email{{Value: aws.String("ada@example.com"), Type: aws.String("work"), Primary: true}}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = is.CreateUser(ctx, &identitystore.CreateUserInput{IdentityStoreId: storeID, UserName: aws.String("ADA"), DisplayName: aws.String("Other"), Name: name})
	var conflict *istypes.ConflictException
	if !errors.As(err, &conflict) || conflict.Reason != istypes.ConflictExceptionReasonUniquenessConstraintViolation {
		t.Errorf("a second user ADA: %v, want ConflictException UNIQUENESS_CONSTRAINT_VIOLATION", err)
	}
	group, err := is.CreateGroup(ctx, &identitystore.CreateGroupInput{IdentityStoreId: storeID, DisplayName: aws.String("engineers")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = is.CreateGroup(ctx, &identitystore.CreateGroupInput{IdentityStoreId: storeID, DisplayName: aws.String("Engineers")})
	wantCode(t, "a second group Engineers", err, "ConflictException", "")
	_, err = is.CreateGroup(ctx, &identitystore.CreateGroupInput{IdentityStoreId: storeID, DisplayName: aws.String("x"), Description: aws.String("")})
	wantCode(t, "CreateGroup with an empty Description", err, "ValidationException", "")
	member := &istypes.MemberIdMemberUserId{Value: aws.ToString(user.UserId)}
	ms, err := is.CreateGroupMembership(ctx, &identitystore.CreateGroupMembershipInput{IdentityStoreId: storeID, GroupId: group.GroupId, MemberId: member})
	if err != nil {
		t.Fatal(err)
	}
	_, err = is.CreateGroupMembership(ctx, &identitystore.CreateGroupMembershipInput{IdentityStoreId: storeID, GroupId: group.GroupId, MemberId: member})
	wantCode(t, "the same membership again", err, "ConflictException", "")
	_, err = is.CreateGroupMembership(ctx, &identitystore.CreateGroupMembershipInput{IdentityStoreId: storeID, GroupId: group.GroupId,
		MemberId: &istypes.MemberIdMemberUserId{Value: "00000000-0000-0000-0000-000000000000"}})
	var nf *istypes.ResourceNotFoundException
	if !errors.As(err, &nf) || nf.ResourceType != istypes.ResourceTypeUser {
		t.Errorf("a membership of an unknown user: %v, want ResourceNotFoundException of a USER", err)
	}
	_, err = is.DescribeGroup(ctx, &identitystore.DescribeGroupInput{IdentityStoreId: storeID, GroupId: aws.String("not-an-id")})
	wantCode(t, "DescribeGroup with a malformed id", err, "ValidationException", "")
	fm, err := is.ListGroupMembershipsForMember(ctx, &identitystore.ListGroupMembershipsForMemberInput{IdentityStoreId: storeID, MemberId: member})
	if err != nil || len(fm.GroupMemberships) != 1 || aws.ToString(fm.GroupMemberships[0].GroupId) != aws.ToString(group.GroupId) {
		t.Errorf("ListGroupMembershipsForMember = %+v, %v; want the one membership", fm, err)
	}
	op := func(path string, v any) istypes.AttributeOperation {
		o := istypes.AttributeOperation{AttributePath: aws.String(path)}
		if v != nil {
			o.AttributeValue = isdocument.NewLazyDocument(v)
		}
		return o
	}
	if _, err := is.UpdateUser(ctx, &identitystore.UpdateUserInput{IdentityStoreId: storeID, UserId: user.UserId,
		Operations: []istypes.AttributeOperation{op("displayName", "Ada King"), op("name.givenName", "Augusta")}}); err != nil {
		t.Fatal(err)
	}
	if du, err := is.DescribeUser(ctx, &identitystore.DescribeUserInput{IdentityStoreId: storeID, UserId: user.UserId}); err != nil ||
		aws.ToString(du.DisplayName) != "Ada King" || aws.ToString(du.Name.GivenName) != "Augusta" {
		t.Errorf("after UpdateUser: %+v, %v", du, err)
	}
	other, err := is.CreateUser(ctx, &identitystore.CreateUserInput{IdentityStoreId: storeID, UserName: aws.String("bob"), DisplayName: aws.String("Bob"), Name: name})
	if err != nil {
		t.Fatal(err)
	}
	_, err = is.UpdateUser(ctx, &identitystore.UpdateUserInput{IdentityStoreId: storeID, UserId: other.UserId,
		Operations: []istypes.AttributeOperation{op("displayName", "Bobby"), op("userName", "ADA")}})
	wantCode(t, "renaming a user to a name taken", err, "ConflictException", "")
	_, err = is.UpdateUser(ctx, &identitystore.UpdateUserInput{IdentityStoreId: storeID, UserId: other.UserId, Operations: []istypes.AttributeOperation{op("displayName", nil)}})
	wantCode(t, "removing a user's displayName", err, "ValidationException", "")
	if du, _ := is.DescribeUser(ctx, &identitystore.DescribeUserInput{IdentityStoreId: storeID, UserId: other.UserId}); aws.ToString(du.DisplayName) != "Bob" {
		t.Errorf("a refused update changed the user: displayName %q", aws.ToString(du.DisplayName))
	}
	if _, err := is.DeleteUser(ctx, &identitystore.DeleteUserInput{IdentityStoreId: storeID, UserId: other.UserId}); err != nil {
		t.Fatal(err)
	}
	if _, err := is.UpdateGroup(ctx, &identitystore.UpdateGroupInput{IdentityStoreId: storeID, GroupId: group.GroupId,
		Operations: []istypes.AttributeOperation{op("description", "the engineers")}}); err != nil {
		t.Fatal(err)
	}
	if dg, err := is.DescribeGroup(ctx, &identitystore.DescribeGroupInput{IdentityStoreId: storeID, GroupId: group.GroupId}); err != nil || aws.ToString(dg.Description) != "the engineers" {
		t.Errorf("after UpdateGroup: %+v, %v", dg, err)
	}
	dm, err := is.DescribeGroupMembership(ctx, &identitystore.DescribeGroupMembershipInput{IdentityStoreId: storeID, MembershipId: ms.MembershipId})
	if err != nil || aws.ToString(dm.GroupId) != aws.ToString(group.GroupId) {
		t.Errorf("DescribeGroupMembership = %+v, %v", dm, err)
	}

	// Permission sets.
	_, err = sso.CreatePermissionSet(ctx, &ssoadmin.CreatePermissionSetInput{InstanceArn: instance, Name: aws.String("no spaces allowed")})
	wantCode(t, "CreatePermissionSet with a bad name", err, "ValidationException", "")
	_, err = sso.CreatePermissionSet(ctx, &ssoadmin.CreatePermissionSetInput{InstanceArn: instance, Name: aws.String("Dev"), SessionDuration: aws.String("PT13H")})
	wantCode(t, "CreatePermissionSet of 13 hours", err, "ValidationException", "")
	created, err := sso.CreatePermissionSet(ctx, &ssoadmin.CreatePermissionSetInput{InstanceArn: instance, Name: aws.String("Dev"), SessionDuration: aws.String("PT4H"),
		Description: aws.String("developers"), Tags: []ssotypes.Tag{{Key: aws.String("team"), Value: aws.String("dev")}}})
	if err != nil {
		t.Fatal(err)
	}
	ps := created.PermissionSet.PermissionSetArn
	if !ssoPermissionSetARNRE.MatchString(aws.ToString(ps)) {
		t.Errorf("permission set ARN %s does not have AWS's shape", aws.ToString(ps))
	}
	_, err = sso.CreatePermissionSet(ctx, &ssoadmin.CreatePermissionSetInput{InstanceArn: instance, Name: aws.String("Dev")})
	wantCode(t, "a second permission set Dev", err, "ConflictException", "")
	readOnly := aws.String("arn:aws:iam::aws:policy/ReadOnlyAccess")
	if _, err := sso.AttachManagedPolicyToPermissionSet(ctx, &ssoadmin.AttachManagedPolicyToPermissionSetInput{InstanceArn: instance, PermissionSetArn: ps, ManagedPolicyArn: readOnly}); err != nil {
		t.Fatal(err)
	}
	_, err = sso.AttachManagedPolicyToPermissionSet(ctx, &ssoadmin.AttachManagedPolicyToPermissionSetInput{InstanceArn: instance, PermissionSetArn: ps, ManagedPolicyArn: readOnly})
	wantCode(t, "attaching a managed policy twice", err, "ConflictException", "")
	_, err = sso.AttachManagedPolicyToPermissionSet(ctx, &ssoadmin.AttachManagedPolicyToPermissionSetInput{InstanceArn: instance, PermissionSetArn: ps,
		ManagedPolicyArn: aws.String("arn:aws:iam::111111111111:policy/mine")})
	wantCode(t, "attaching a customer policy as an AWS managed one", err, "ValidationException", "")
	for _, bad := range []string{`{"Version":"2012-10-17","Statement":[{"Effect":"Perhaps","Action":"*","Resource":"*"}]}`, `{"Statement":"nope"}`, `not json`} {
		_, err = sso.PutInlinePolicyToPermissionSet(ctx, &ssoadmin.PutInlinePolicyToPermissionSetInput{InstanceArn: instance, PermissionSetArn: ps, InlinePolicy: aws.String(bad)})
		wantCode(t, "PutInlinePolicyToPermissionSet "+bad, err, "ValidationException", "")
	}
	inline := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iam:*","Resource":"*"}]}`
	if _, err := sso.PutInlinePolicyToPermissionSet(ctx, &ssoadmin.PutInlinePolicyToPermissionSetInput{InstanceArn: instance, PermissionSetArn: ps, InlinePolicy: aws.String(inline)}); err != nil {
		t.Fatal(err)
	}

	// The assignment provisions the permission set as it is.
	as, err := sso.CreateAccountAssignment(ctx, &ssoadmin.CreateAccountAssignmentInput{InstanceArn: instance, PermissionSetArn: ps, TargetId: aws.String(dev),
		TargetType: ssotypes.TargetTypeAwsAccount, PrincipalType: ssotypes.PrincipalTypeGroup, PrincipalId: group.GroupId})
	if err != nil || as.AccountAssignmentCreationStatus.Status != ssotypes.StatusValuesInProgress {
		t.Fatalf("CreateAccountAssignment = %+v, %v", as, err)
	}
	clock.Advance(time.Second)
	done, err := sso.DescribeAccountAssignmentCreationStatus(ctx, &ssoadmin.DescribeAccountAssignmentCreationStatusInput{InstanceArn: instance,
		AccountAssignmentCreationRequestId: as.AccountAssignmentCreationStatus.RequestId})
	if err != nil || done.AccountAssignmentCreationStatus.Status != ssotypes.StatusValuesSucceeded {
		t.Fatalf("assignment status = %+v, %v", done, err)
	}
	psNow := srv.IdentityCenter().PermissionSets[aws.ToString(ps)]
	roleName := ReservedRoleName(psNow, dev)
	role := func() *Role {
		t.Helper()
		r := srv.Account(dev).IAM.Roles[roleName]
		if r == nil {
			t.Fatalf("no reserved role %s in %s", roleName, dev)
		}
		return r
	}
	if r := role(); !slices.Equal(r.AttachedPolicies, []string{*readOnly}) || r.InlinePolicies["AwsSSOInlinePolicy"] != inline || r.MaxSessionDuration != 4*3600 {
		t.Errorf("reserved role = %+v", r)
	}

	// A change reaches the role only when provisioned again.
	power := "arn:aws:iam::aws:policy/PowerUserAccess"
	if _, err := sso.AttachManagedPolicyToPermissionSet(ctx, &ssoadmin.AttachManagedPolicyToPermissionSetInput{InstanceArn: instance, PermissionSetArn: ps, ManagedPolicyArn: aws.String(power)}); err != nil {
		t.Fatal(err)
	}
	if r := role(); len(r.AttachedPolicies) != 1 {
		t.Errorf("the role changed before ProvisionPermissionSet: %v", r.AttachedPolicies)
	}
	provisioned := func(status ssotypes.ProvisioningStatus) []string {
		t.Helper()
		out, err := sso.ListPermissionSetsProvisionedToAccount(ctx, &ssoadmin.ListPermissionSetsProvisionedToAccountInput{InstanceArn: instance,
			AccountId: aws.String(dev), ProvisioningStatus: status})
		if err != nil {
			t.Fatal(err)
		}
		return out.PermissionSets
	}
	if got := provisioned(ssotypes.ProvisioningStatusLatestPermissionSetNotProvisioned); !slices.Equal(got, []string{aws.ToString(ps)}) {
		t.Errorf("not-latest permission sets = %v, want the changed one", got)
	}
	prov, err := sso.ProvisionPermissionSet(ctx, &ssoadmin.ProvisionPermissionSetInput{InstanceArn: instance, PermissionSetArn: ps, TargetType: ssotypes.ProvisionTargetTypeAllProvisionedAccounts})
	if err != nil || prov.PermissionSetProvisioningStatus.Status != ssotypes.StatusValuesInProgress {
		t.Fatalf("ProvisionPermissionSet = %+v, %v", prov, err)
	}
	_, err = sso.ProvisionPermissionSet(ctx, &ssoadmin.ProvisionPermissionSetInput{InstanceArn: instance, PermissionSetArn: ps, TargetType: ssotypes.ProvisionTargetTypeAllProvisionedAccounts})
	wantCode(t, "provisioning while a provisioning is in progress", err, "ConflictException", "")
	clock.Advance(time.Second)
	ds, err := sso.DescribePermissionSetProvisioningStatus(ctx, &ssoadmin.DescribePermissionSetProvisioningStatusInput{InstanceArn: instance,
		ProvisionPermissionSetRequestId: prov.PermissionSetProvisioningStatus.RequestId})
	if err != nil || ds.PermissionSetProvisioningStatus.Status != ssotypes.StatusValuesSucceeded {
		t.Fatalf("provisioning status = %+v, %v", ds, err)
	}
	if r := role(); !slices.Equal(r.AttachedPolicies, []string{*readOnly, power}) {
		t.Errorf("after provisioning the role has %v", r.AttachedPolicies)
	}
	if got := provisioned(ssotypes.ProvisioningStatusLatestPermissionSetProvisioned); !slices.Equal(got, []string{aws.ToString(ps)}) {
		t.Errorf("latest permission sets = %v, want the provisioned one", got)
	}

	// Undo: a provisioned permission set cannot be deleted until its
	// assignments are.
	_, err = sso.DeletePermissionSet(ctx, &ssoadmin.DeletePermissionSetInput{InstanceArn: instance, PermissionSetArn: ps})
	wantCode(t, "deleting a provisioned permission set", err, "ConflictException", "")
	del, err := sso.DeleteAccountAssignment(ctx, &ssoadmin.DeleteAccountAssignmentInput{InstanceArn: instance, PermissionSetArn: ps, TargetId: aws.String(dev),
		TargetType: ssotypes.TargetTypeAwsAccount, PrincipalType: ssotypes.PrincipalTypeGroup, PrincipalId: group.GroupId})
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Second)
	if _, err := sso.DescribeAccountAssignmentDeletionStatus(ctx, &ssoadmin.DescribeAccountAssignmentDeletionStatusInput{InstanceArn: instance,
		AccountAssignmentDeletionRequestId: del.AccountAssignmentDeletionStatus.RequestId}); err != nil {
		t.Fatal(err)
	}
	if _, err := sso.DeletePermissionSet(ctx, &ssoadmin.DeletePermissionSetInput{InstanceArn: instance, PermissionSetArn: ps}); err != nil {
		t.Errorf("deleting an unassigned permission set: %v", err)
	}
	if _, err := is.DeleteGroupMembership(ctx, &identitystore.DeleteGroupMembershipInput{IdentityStoreId: storeID, MembershipId: ms.MembershipId}); err != nil {
		t.Fatal(err)
	}
	if _, err := is.DeleteGroup(ctx, &identitystore.DeleteGroupInput{IdentityStoreId: storeID, GroupId: group.GroupId}); err != nil {
		t.Fatal(err)
	}
	if _, err := is.DeleteUser(ctx, &identitystore.DeleteUserInput{IdentityStoreId: storeID, UserId: user.UserId}); err != nil {
		t.Fatal(err)
	}
	if ic := srv.IdentityCenter(); len(ic.Users)+len(ic.Groups)+len(ic.PermissionSets)+len(ic.Assignments) != 0 {
		t.Errorf("after undoing everything: %d users, %d groups, %d permission sets, %d assignments", len(ic.Users), len(ic.Groups), len(ic.PermissionSets), len(ic.Assignments))
	}
}

// TestPermissionSetPolicyQuota checks that AWS and customer managed
// policies share one quota of 20 a permission set, whichever is attached
// last, and that a detached one frees its place.
func TestPermissionSetPolicyQuota(t *testing.T) {
	srv := NewServer(Options{})
	defer srv.Close()
	cfg := sdkConfig(srv, srv.AddAccount(NewAccount("111111111111")))
	ctx := context.Background()
	if _, err := organizations.NewFromConfig(cfg).CreateOrganization(ctx, &organizations.CreateOrganizationInput{}); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.EnableIdentityCenter(); err != nil {
		t.Fatal(err)
	}
	sso := ssoadmin.NewFromConfig(cfg)
	inst, err := sso.ListInstances(ctx, &ssoadmin.ListInstancesInput{})
	if err != nil {
		t.Fatal(err)
	}
	instance := inst.Instances[0].InstanceArn
	ps, err := sso.CreatePermissionSet(ctx, &ssoadmin.CreatePermissionSetInput{InstanceArn: instance, Name: aws.String("Quota")})
	if err != nil {
		t.Fatal(err)
	}
	arn := ps.PermissionSet.PermissionSetArn
	customer := func(i int) *ssotypes.CustomerManagedPolicyReference {
		return &ssotypes.CustomerManagedPolicyReference{Name: aws.String(fmt.Sprintf("p%d", i))}
	}
	for i := range 10 {
		if _, err := sso.AttachManagedPolicyToPermissionSet(ctx, &ssoadmin.AttachManagedPolicyToPermissionSetInput{InstanceArn: instance, PermissionSetArn: arn,
			ManagedPolicyArn: aws.String(fmt.Sprintf("arn:aws:iam::aws:policy/P%d", i))}); err != nil {
			t.Fatal(err)
		}
		if _, err := sso.AttachCustomerManagedPolicyReferenceToPermissionSet(ctx, &ssoadmin.AttachCustomerManagedPolicyReferenceToPermissionSetInput{
			InstanceArn: instance, PermissionSetArn: arn, CustomerManagedPolicyReference: customer(i)}); err != nil {
			t.Fatal(err)
		}
	}
	_, err = sso.AttachManagedPolicyToPermissionSet(ctx, &ssoadmin.AttachManagedPolicyToPermissionSetInput{InstanceArn: instance, PermissionSetArn: arn,
		ManagedPolicyArn: aws.String("arn:aws:iam::aws:policy/P20")})
	wantCode(t, "a 21st policy, AWS managed", err, "ServiceQuotaExceededException", "")
	_, err = sso.AttachCustomerManagedPolicyReferenceToPermissionSet(ctx, &ssoadmin.AttachCustomerManagedPolicyReferenceToPermissionSetInput{
		InstanceArn: instance, PermissionSetArn: arn, CustomerManagedPolicyReference: customer(20)})
	wantCode(t, "a 21st policy, customer managed", err, "ServiceQuotaExceededException", "")
	if _, err := sso.DetachCustomerManagedPolicyReferenceFromPermissionSet(ctx, &ssoadmin.DetachCustomerManagedPolicyReferenceFromPermissionSetInput{
		InstanceArn: instance, PermissionSetArn: arn, CustomerManagedPolicyReference: customer(0)}); err != nil {
		t.Fatal(err)
	}
	if _, err := sso.AttachManagedPolicyToPermissionSet(ctx, &ssoadmin.AttachManagedPolicyToPermissionSetInput{InstanceArn: instance, PermissionSetArn: arn,
		ManagedPolicyArn: aws.String("arn:aws:iam::aws:policy/P20")}); err != nil {
		t.Errorf("attaching a 20th policy after a detach: %v", err)
	}
}
