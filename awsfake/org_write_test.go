package awsfake

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

// testClock is a clock a test moves by hand.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// wantCode fails the test unless err is the API error code, with the
// Organizations Reason when reason is not "".
func wantCode(t *testing.T, what string, err error, code, reason string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code {
		t.Errorf("%s: %v, want %s", what, err, code)
		return
	}
	if reason == "" {
		return
	}
	var got string
	var ii *orgtypes.InvalidInputException
	var cv *orgtypes.ConstraintViolationException
	switch {
	case errors.As(err, &ii):
		got = string(ii.Reason)
	case errors.As(err, &cv):
		got = string(cv.Reason)
	}
	if got != reason {
		t.Errorf("%s: reason %q, want %q", what, got, reason)
	}
}

// TestOrganizationsWritesFromNothing builds an organization from an account
// that is in none, through the SDK, and checks each write's answer, its
// effect on the reads and AWS's errors on the way.
func TestOrganizationsWritesFromNothing(t *testing.T) {
	clock := &testClock{now: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	srv := NewServer(Options{AccountCreationDelay: time.Minute, Now: clock.Now})
	defer srv.Close()
	creds := srv.AddAccount(Estate{AccountID: "111111111111"}.Build())
	loner := srv.AddAccount(Estate{AccountID: "999999999999"}.Build())
	org := orgClient(srv, creds)
	ctx := context.Background()

	_, err := org.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	wantCode(t, "DescribeOrganization before any organization", err, "AWSOrganizationsNotInUseException", "")
	_, err = org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{FeatureSet: "PARTIAL"})
	wantCode(t, "CreateOrganization with an unknown feature set", err, "InvalidInputException", "INVALID_ENUM")

	created, err := org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{})
	if err != nil {
		t.Fatal(err)
	}
	o := created.Organization
	if aws.ToString(o.MasterAccountId) != "111111111111" || o.FeatureSet != orgtypes.OrganizationFeatureSetAll ||
		!strings.HasPrefix(aws.ToString(o.Id), "o-") {
		t.Errorf("created organization = %+v", o)
	}
	_, err = org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{})
	wantCode(t, "a second CreateOrganization", err, "AlreadyInOrganizationException", "")
	_, err = orgClient(srv, loner).CreateAccount(ctx, &organizations.CreateAccountInput{Email: aws.String("x@example.com"), AccountName: aws.String("x")})
	wantCode(t, "CreateAccount from an account outside the organization", err, "AWSOrganizationsNotInUseException", "")

	roots, err := org.ListRoots(ctx, &organizations.ListRootsInput{})
	if err != nil || len(roots.Roots) != 1 {
		t.Fatalf("ListRoots: %+v, %v", roots, err)
	}
	root := roots.Roots[0]
	rootID := aws.ToString(root.Id)
	if len(root.PolicyTypes) != 1 || root.PolicyTypes[0].Type != orgtypes.PolicyTypeServiceControlPolicy {
		t.Errorf("root policy types = %+v, want service control policies enabled, as CreateOrganization documents", root.PolicyTypes)
	}

	// OUs.
	prod, err := org.CreateOrganizationalUnit(ctx, &organizations.CreateOrganizationalUnitInput{ParentId: aws.String(rootID), Name: aws.String("Prod")})
	if err != nil {
		t.Fatal(err)
	}
	prodID := aws.ToString(prod.OrganizationalUnit.Id)
	if !orgIDPatterns["OrganizationalUnitId"].MatchString(prodID) || !strings.HasPrefix(prodID, "ou-"+rootID[2:]+"-") {
		t.Errorf("OU id %s does not have AWS's shape", prodID)
	}
	_, err = org.CreateOrganizationalUnit(ctx, &organizations.CreateOrganizationalUnitInput{ParentId: aws.String(rootID), Name: aws.String("Prod")})
	wantCode(t, "a second OU of the same name", err, "DuplicateOrganizationalUnitException", "")
	_, err = org.CreateOrganizationalUnit(ctx, &organizations.CreateOrganizationalUnitInput{ParentId: aws.String("ou-zzzz-zzzzzzzz"), Name: aws.String("X")})
	wantCode(t, "an OU under a parent that does not exist", err, "ParentNotFoundException", "")
	parent := prodID
	for depth := 2; depth <= 5; depth++ {
		out, err := org.CreateOrganizationalUnit(ctx, &organizations.CreateOrganizationalUnitInput{ParentId: aws.String(parent), Name: aws.String("deep")})
		if err != nil {
			t.Fatalf("OU at depth %d: %v", depth, err)
		}
		parent = aws.ToString(out.OrganizationalUnit.Id)
	}
	_, err = org.CreateOrganizationalUnit(ctx, &organizations.CreateOrganizationalUnitInput{ParentId: aws.String(parent), Name: aws.String("deep")})
	wantCode(t, "a sixth level of OUs", err, "ConstraintViolationException", "OU_DEPTH_LIMIT_EXCEEDED")
	_, err = org.DeleteOrganizationalUnit(ctx, &organizations.DeleteOrganizationalUnitInput{OrganizationalUnitId: aws.String(prodID)})
	wantCode(t, "deleting an OU that holds OUs", err, "OrganizationalUnitNotEmptyException", "")

	// CreateAccount: invalid input is refused at once; a valid request is
	// IN_PROGRESS until the delay has passed.
	for _, c := range []struct {
		name   string
		in     organizations.CreateAccountInput
		reason string
	}{
		{"a malformed e-mail", organizations.CreateAccountInput{Email: aws.String("not-an-email"), AccountName: aws.String("a")}, "INVALID_PATTERN"},
		{"a long account name", organizations.CreateAccountInput{Email: aws.String("a@example.com"), AccountName: aws.String(strings.Repeat("a", 51))}, "MAX_LENGTH_EXCEEDED"},
		{"a bad role name", organizations.CreateAccountInput{Email: aws.String("a@example.com"), AccountName: aws.String("a"), RoleName: aws.String("no spaces")}, "INVALID_ROLE_NAME"},
	} {
		_, err := org.CreateAccount(ctx, &c.in)
		wantCode(t, "CreateAccount with "+c.name, err, "InvalidInputException", c.reason)
	}
	started, err := org.CreateAccount(ctx, &organizations.CreateAccountInput{Email: aws.String("dev@example.com"), AccountName: aws.String("dev"),
		RoleName: aws.String("Admin"), Tags: []orgtypes.Tag{{Key: aws.String("env"), Value: aws.String("dev")}}})
	if err != nil {
		t.Fatal(err)
	}
	req := started.CreateAccountStatus
	if req.State != orgtypes.CreateAccountStateInProgress || !orgIDPatterns["CreateAccountRequestId"].MatchString(aws.ToString(req.Id)) {
		t.Fatalf("CreateAccount answered %+v, want IN_PROGRESS with a car- id", req)
	}
	status := func() *orgtypes.CreateAccountStatus {
		t.Helper()
		out, err := org.DescribeCreateAccountStatus(ctx, &organizations.DescribeCreateAccountStatusInput{CreateAccountRequestId: req.Id})
		if err != nil {
			t.Fatal(err)
		}
		return out.CreateAccountStatus
	}
	if st := status(); st.State != orgtypes.CreateAccountStateInProgress || st.AccountId != nil {
		t.Errorf("before the delay: %+v, want IN_PROGRESS without an account", st)
	}
	if accts, _ := org.ListAccounts(ctx, &organizations.ListAccountsInput{}); len(accts.Accounts) != 1 {
		t.Errorf("an account in progress is listed: %d accounts", len(accts.Accounts))
	}
	clock.Advance(time.Minute)
	st := status()
	newID := aws.ToString(st.AccountId)
	if st.State != orgtypes.CreateAccountStateSucceeded || !orgIDPatterns["AccountId"].MatchString(newID) || st.CompletedTimestamp == nil {
		t.Fatalf("after the delay: %+v, want SUCCEEDED with the account id", st)
	}
	_, err = org.DescribeCreateAccountStatus(ctx, &organizations.DescribeCreateAccountStatusInput{CreateAccountRequestId: aws.String("car-00000000")})
	wantCode(t, "an unknown create account request", err, "CreateAccountStatusNotFoundException", "")

	// The same e-mail again fails asynchronously, as AWS reports it.
	again, err := org.CreateAccount(ctx, &organizations.CreateAccountInput{Email: aws.String("DEV@example.com"), AccountName: aws.String("dev2")})
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute)
	failed, err := org.DescribeCreateAccountStatus(ctx, &organizations.DescribeCreateAccountStatusInput{CreateAccountRequestId: again.CreateAccountStatus.Id})
	if err != nil || failed.CreateAccountStatus.State != orgtypes.CreateAccountStateFailed ||
		failed.CreateAccountStatus.FailureReason != orgtypes.CreateAccountFailureReasonEmailAlreadyExists {
		t.Errorf("a second account with the e-mail: %+v, %v; want FAILED EMAIL_ALREADY_EXISTS", failed, err)
	}
	list, err := org.ListCreateAccountStatus(ctx, &organizations.ListCreateAccountStatusInput{States: []orgtypes.CreateAccountState{orgtypes.CreateAccountStateSucceeded}})
	if err != nil || len(list.CreateAccountStatuses) != 1 || aws.ToString(list.CreateAccountStatuses[0].AccountId) != newID {
		t.Errorf("ListCreateAccountStatus SUCCEEDED = %+v, %v", list, err)
	}

	// The new account: in the root, tagged, FullAWSAccess attached, an
	// empty IAM but for the member role, which the management account
	// may assume.
	acct, err := org.DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: aws.String(newID)})
	if err != nil || aws.ToString(acct.Account.Name) != "dev" || acct.Account.JoinedMethod != orgtypes.AccountJoinedMethodCreated {
		t.Fatalf("DescribeAccount = %+v, %v", acct, err)
	}
	iamState := srv.Account(newID).IAM
	if len(iamState.Users)+len(iamState.Groups)+len(iamState.Policies) != 0 || len(iamState.Roles) != 1 {
		t.Errorf("the new account's IAM holds %d users, %d groups, %d policies, roles %v; want only the member role",
			len(iamState.Users), len(iamState.Groups), len(iamState.Policies), sortedKeys(iamState.Roles))
	}
	role := iamState.Roles["Admin"]
	if role == nil || !slices.Equal(role.AttachedPolicies, []string{"arn:aws:iam::aws:policy/AdministratorAccess"}) {
		t.Fatalf("member role = %+v, want Admin with AdministratorAccess", role)
	}
	stsc := sts.NewFromConfig(sdkConfig(srv, creds))
	if _, err := stsc.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(role.ARN), RoleSessionName: aws.String("test")}); err != nil {
		t.Errorf("the management account cannot assume the member role: %v", err)
	}
	if _, err := sts.NewFromConfig(sdkConfig(srv, loner)).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(role.ARN), RoleSessionName: aws.String("test")}); err == nil {
		t.Error("an account outside the organization assumed the member role")
	}
	assumed, err := stsc.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(role.ARN), RoleSessionName: aws.String("member")})
	if err != nil {
		t.Fatal(err)
	}
	member := orgClient(srv, Credentials{AccessKeyID: aws.ToString(assumed.Credentials.AccessKeyId),
		SecretAccessKey: aws.ToString(assumed.Credentials.SecretAccessKey), SessionToken: aws.ToString(assumed.Credentials.SessionToken)})
	if _, err := member.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{}); err != nil {
		t.Errorf("a member cannot describe its organization: %v", err)
	}
	_, err = member.CreateOrganizationalUnit(ctx, &organizations.CreateOrganizationalUnitInput{ParentId: aws.String(rootID), Name: aws.String("Mine")})
	wantCode(t, "CreateOrganizationalUnit from a member account", err, "AccessDeniedException", "")
	tags, err := org.ListTagsForResource(ctx, &organizations.ListTagsForResourceInput{ResourceId: aws.String(newID)})
	if err != nil || len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "env" {
		t.Errorf("tags of the new account = %+v, %v", tags, err)
	}

	// MoveAccount checks the source parent.
	_, err = org.MoveAccount(ctx, &organizations.MoveAccountInput{AccountId: aws.String(newID), SourceParentId: aws.String(prodID), DestinationParentId: aws.String(rootID)})
	wantCode(t, "MoveAccount from a parent the account is not in", err, "SourceParentNotFoundException", "")
	_, err = org.MoveAccount(ctx, &organizations.MoveAccountInput{AccountId: aws.String(newID), SourceParentId: aws.String(rootID), DestinationParentId: aws.String("ou-zzzz-zzzzzzzz")})
	wantCode(t, "MoveAccount to an OU that does not exist", err, "DestinationParentNotFoundException", "")
	_, err = org.MoveAccount(ctx, &organizations.MoveAccountInput{AccountId: aws.String("123123123123"), SourceParentId: aws.String(rootID), DestinationParentId: aws.String(prodID)})
	wantCode(t, "MoveAccount of an account not in the organization", err, "AccountNotFoundException", "")
	if _, err := org.MoveAccount(ctx, &organizations.MoveAccountInput{AccountId: aws.String(newID), SourceParentId: aws.String(rootID), DestinationParentId: aws.String(prodID)}); err != nil {
		t.Fatal(err)
	}
	if p, err := org.ListParents(ctx, &organizations.ListParentsInput{ChildId: aws.String(newID)}); err != nil || aws.ToString(p.Parents[0].Id) != prodID {
		t.Errorf("ListParents after the move = %+v, %v", p, err)
	}

	// Policies.
	_, err = org.CreatePolicy(ctx, &organizations.CreatePolicyInput{Name: aws.String("bad"), Description: aws.String(""), Type: orgtypes.PolicyTypeServiceControlPolicy,
		Content: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Perhaps","Action":"*","Resource":"*"}]}`)})
	wantCode(t, "CreatePolicy with Effect Perhaps", err, "MalformedPolicyDocumentException", "")
	_, err = org.CreatePolicy(ctx, &organizations.CreatePolicyInput{Name: aws.String("bad"), Description: aws.String(""), Type: orgtypes.PolicyTypeServiceControlPolicy,
		Content: aws.String(`{"Version":"2012-10-17","Statement":"nope"}`)})
	wantCode(t, "CreatePolicy with Statement nope", err, "MalformedPolicyDocumentException", "")
	scpDoc := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:DeleteBucket","Resource":"*"}]}`
	scp, err := org.CreatePolicy(ctx, &organizations.CreatePolicyInput{Name: aws.String("no-delete"), Description: aws.String("guardrail"),
		Type: orgtypes.PolicyTypeServiceControlPolicy, Content: aws.String(scpDoc)})
	if err != nil {
		t.Fatal(err)
	}
	scpID := scp.Policy.PolicySummary.Id
	_, err = org.CreatePolicy(ctx, &organizations.CreatePolicyInput{Name: aws.String("no-delete"), Description: aws.String(""),
		Type: orgtypes.PolicyTypeServiceControlPolicy, Content: aws.String(scpDoc)})
	wantCode(t, "a second policy of the same name", err, "DuplicatePolicyException", "")
	tagPolicy, err := org.CreatePolicy(ctx, &organizations.CreatePolicyInput{Name: aws.String("tags"), Description: aws.String(""),
		Type: orgtypes.PolicyTypeTagPolicy, Content: aws.String(`{"tags":{"env":{"tag_key":{"@@assign":"env"}}}}`)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = org.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: tagPolicy.Policy.PolicySummary.Id, TargetId: aws.String(prodID)})
	wantCode(t, "attaching a tag policy before the type is enabled", err, "PolicyTypeNotEnabledException", "")
	_, err = org.EnablePolicyType(ctx, &organizations.EnablePolicyTypeInput{RootId: aws.String(rootID), PolicyType: orgtypes.PolicyTypeServiceControlPolicy})
	wantCode(t, "enabling SCPs again", err, "PolicyTypeAlreadyEnabledException", "")
	en, err := org.EnablePolicyType(ctx, &organizations.EnablePolicyTypeInput{RootId: aws.String(rootID), PolicyType: orgtypes.PolicyTypeTagPolicy})
	if err != nil || len(en.Root.PolicyTypes) != 2 {
		t.Fatalf("EnablePolicyType TAG_POLICY = %+v, %v", en, err)
	}
	if _, err := org.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: tagPolicy.Policy.PolicySummary.Id, TargetId: aws.String(prodID)}); err != nil {
		t.Errorf("attaching the tag policy once enabled: %v", err)
	}
	if _, err := org.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: scpID, TargetId: aws.String(newID)}); err != nil {
		t.Fatal(err)
	}
	_, err = org.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: scpID, TargetId: aws.String(newID)})
	wantCode(t, "attaching a policy twice", err, "DuplicatePolicyAttachmentException", "")
	_, err = org.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: scpID, TargetId: aws.String("ou-zzzz-zzzzzzzz")})
	wantCode(t, "attaching to a target that does not exist", err, "TargetNotFoundException", "")
	_, err = org.DeletePolicy(ctx, &organizations.DeletePolicyInput{PolicyId: scpID})
	wantCode(t, "deleting an attached policy", err, "PolicyInUseException", "")
	_, err = org.DeletePolicy(ctx, &organizations.DeletePolicyInput{PolicyId: aws.String(FullAWSAccessID)})
	wantCode(t, "deleting FullAWSAccess", err, "InvalidInputException", "IMMUTABLE_POLICY")
	_, err = org.DetachPolicy(ctx, &organizations.DetachPolicyInput{PolicyId: aws.String(FullAWSAccessID), TargetId: aws.String(prodID)})
	wantCode(t, "detaching the last SCP of an OU", err, "ConstraintViolationException", "MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED")
	for _, target := range []string{rootID, prodID, newID, "111111111111"} {
		out, err := org.ListPoliciesForTarget(ctx, &organizations.ListPoliciesForTargetInput{TargetId: aws.String(target), Filter: orgtypes.PolicyTypeServiceControlPolicy})
		if err != nil || len(out.Policies) == 0 || aws.ToString(out.Policies[0].Id) != FullAWSAccessID {
			t.Errorf("SCPs of %s = %+v, %v; want FullAWSAccess attached as AWS attaches it", target, out, err)
		}
	}
	if _, err := org.DetachPolicy(ctx, &organizations.DetachPolicyInput{PolicyId: scpID, TargetId: aws.String(newID)}); err != nil {
		t.Fatal(err)
	}
	_, err = org.DetachPolicy(ctx, &organizations.DetachPolicyInput{PolicyId: scpID, TargetId: aws.String(newID)})
	wantCode(t, "detaching a policy not attached", err, "PolicyNotAttachedException", "")
	if _, err := org.DeletePolicy(ctx, &organizations.DeletePolicyInput{PolicyId: scpID}); err != nil {
		t.Errorf("deleting a detached policy: %v", err)
	}
	_, err = org.DescribePolicy(ctx, &organizations.DescribePolicyInput{PolicyId: scpID})
	wantCode(t, "describing a deleted policy", err, "PolicyNotFoundException", "")

	// At most five SCPs on one target, FullAWSAccess included.
	for i := 1; i <= 5; i++ {
		p, err := org.CreatePolicy(ctx, &organizations.CreatePolicyInput{Name: aws.String(fmt.Sprintf("limit-%d", i)), Description: aws.String(""),
			Type: orgtypes.PolicyTypeServiceControlPolicy, Content: aws.String(scpDoc)})
		if err != nil {
			t.Fatal(err)
		}
		_, err = org.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: p.Policy.PolicySummary.Id, TargetId: aws.String(newID)})
		if i < 5 && err != nil {
			t.Fatalf("SCP %d of the account: %v", i+1, err)
		}
		if i == 5 {
			wantCode(t, "a sixth SCP on one account", err, "ConstraintViolationException", "MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED")
		}
	}

	// Trusted access, as Terraform's aws_organizations_organization reads
	// and sets it.
	_, err = org.EnableAWSServiceAccess(ctx, &organizations.EnableAWSServiceAccessInput{ServicePrincipal: aws.String("not-a-service")})
	wantCode(t, "trusting a principal that is no service", err, "InvalidInputException", "UNRECOGNIZED_SERVICE_PRINCIPAL")
	for i := 0; i < 2; i++ {
		if _, err := org.EnableAWSServiceAccess(ctx, &organizations.EnableAWSServiceAccessInput{ServicePrincipal: aws.String("sso.amazonaws.com")}); err != nil {
			t.Fatal(err)
		}
	}
	access, err := org.ListAWSServiceAccessForOrganization(ctx, &organizations.ListAWSServiceAccessForOrganizationInput{})
	if err != nil || len(access.EnabledServicePrincipals) != 1 || aws.ToString(access.EnabledServicePrincipals[0].ServicePrincipal) != "sso.amazonaws.com" {
		t.Errorf("trusted services = %+v, %v; want sso.amazonaws.com once", access, err)
	}
	if _, err := org.DisableAWSServiceAccess(ctx, &organizations.DisableAWSServiceAccessInput{ServicePrincipal: aws.String("sso.amazonaws.com")}); err != nil {
		t.Fatal(err)
	}
	if access, _ := org.ListAWSServiceAccessForOrganization(ctx, &organizations.ListAWSServiceAccessForOrganizationInput{}); len(access.EnabledServicePrincipals) != 0 {
		t.Errorf("after DisableAWSServiceAccess: %+v", access.EnabledServicePrincipals)
	}

	// CloseAccount: asynchronous, never the management account.
	_, err = org.CloseAccount(ctx, &organizations.CloseAccountInput{AccountId: aws.String("111111111111")})
	wantCode(t, "closing the management account", err, "ConstraintViolationException", "CANNOT_CLOSE_MANAGEMENT_ACCOUNT")
	if _, err := org.CloseAccount(ctx, &organizations.CloseAccountInput{AccountId: aws.String(newID)}); err != nil {
		t.Fatal(err)
	}
	accountStatus := func() orgtypes.AccountStatus {
		t.Helper()
		out, err := org.DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: aws.String(newID)})
		if err != nil {
			t.Fatal(err)
		}
		return out.Account.Status
	}
	if st := accountStatus(); st != orgtypes.AccountStatusPendingClosure {
		t.Errorf("right after CloseAccount: %s, want PENDING_CLOSURE", st)
	}
	clock.Advance(time.Minute)
	if st := accountStatus(); st != orgtypes.AccountStatusSuspended {
		t.Errorf("once closed: %s, want SUSPENDED", st)
	}
	_, err = org.CloseAccount(ctx, &organizations.CloseAccountInput{AccountId: aws.String(newID)})
	wantCode(t, "closing a closed account", err, "AccountAlreadyClosedException", "")

	// A member may not write; the organization cannot be deleted while it
	// has members.
	_, err = org.DeleteOrganization(ctx, &organizations.DeleteOrganizationInput{})
	wantCode(t, "DeleteOrganization with members", err, "OrganizationNotEmptyException", "")
}

// TestOrganizationConsolidatedBillingHasNoPolicies checks that an
// organization of consolidated billing alone enables no policy type and
// refuses policies, as CreateOrganization documents.
func TestOrganizationConsolidatedBillingHasNoPolicies(t *testing.T) {
	srv := NewServer(Options{})
	defer srv.Close()
	org := orgClient(srv, srv.AddAccount(NewAccount("111111111111")))
	ctx := context.Background()
	if _, err := org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{FeatureSet: orgtypes.OrganizationFeatureSetConsolidatedBilling}); err != nil {
		t.Fatal(err)
	}
	roots, err := org.ListRoots(ctx, &organizations.ListRootsInput{})
	if err != nil || len(roots.Roots[0].PolicyTypes) != 0 {
		t.Fatalf("ListRoots = %+v, %v; want no policy type enabled", roots, err)
	}
	_, err = org.EnablePolicyType(ctx, &organizations.EnablePolicyTypeInput{RootId: roots.Roots[0].Id, PolicyType: orgtypes.PolicyTypeServiceControlPolicy})
	wantCode(t, "EnablePolicyType without all features", err, "PolicyTypeNotAvailableForOrganizationException", "")
	_, err = org.CreatePolicy(ctx, &organizations.CreatePolicyInput{Name: aws.String("p"), Description: aws.String(""), Type: orgtypes.PolicyTypeServiceControlPolicy,
		Content: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*"}]}`)})
	wantCode(t, "CreatePolicy without all features", err, "PolicyTypeNotAvailableForOrganizationException", "")
	if _, err := org.DeleteOrganization(ctx, &organizations.DeleteOrganizationInput{}); err != nil {
		t.Errorf("deleting an organization of the management account alone: %v", err)
	}
	_, err = org.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	wantCode(t, "DescribeOrganization after DeleteOrganization", err, "AWSOrganizationsNotInUseException", "")
}

// TestOrganizationsTagResourceMerges checks TagResource's merge: a key
// already there (compared exactly) takes the new value, others are added,
// UntagResource drops the keys named, and 50 tags are the most.
func TestOrganizationsTagResourceMerges(t *testing.T) {
	srv := NewServer(Options{})
	defer srv.Close()
	org := orgClient(srv, srv.AddAccount(NewAccount("111111111111")))
	ctx := context.Background()
	if _, err := org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{}); err != nil {
		t.Fatal(err)
	}
	roots, err := org.ListRoots(ctx, &organizations.ListRootsInput{})
	if err != nil {
		t.Fatal(err)
	}
	root := roots.Roots[0].Id
	tag := func(kv ...string) error {
		var tags []orgtypes.Tag
		for i := 0; i+1 < len(kv); i += 2 {
			tags = append(tags, orgtypes.Tag{Key: aws.String(kv[i]), Value: aws.String(kv[i+1])})
		}
		_, err := org.TagResource(ctx, &organizations.TagResourceInput{ResourceId: root, Tags: tags})
		return err
	}
	list := func() string {
		out, err := org.ListTagsForResource(ctx, &organizations.ListTagsForResourceInput{ResourceId: root})
		if err != nil {
			t.Fatal(err)
		}
		var kv []string
		for _, tg := range out.Tags {
			kv = append(kv, aws.ToString(tg.Key)+"="+aws.ToString(tg.Value))
		}
		slices.Sort(kv)
		return strings.Join(kv, ",")
	}
	if err := tag("a", "1", "b", "2"); err != nil {
		t.Fatal(err)
	}
	if err := tag("b", "3", "B", "4", "c", "5"); err != nil {
		t.Fatal(err)
	}
	if got, want := list(), "B=4,a=1,b=3,c=5"; got != want {
		t.Errorf("tags after two TagResource = %s, want %s", got, want)
	}
	if _, err := org.UntagResource(ctx, &organizations.UntagResourceInput{ResourceId: root, TagKeys: []string{"b", "zz"}}); err != nil {
		t.Fatal(err)
	}
	if got, want := list(), "B=4,a=1,c=5"; got != want {
		t.Errorf("tags after UntagResource = %s, want %s", got, want)
	}
	var many []string
	for i := range 48 {
		many = append(many, fmt.Sprintf("k%d", i), "v")
	}
	wantCode(t, "TagResource past 50 tags", tag(many...), "ConstraintViolationException", "MAX_TAG_LIMIT_EXCEEDED")
	if got, want := list(), "B=4,a=1,c=5"; got != want {
		t.Errorf("tags after a refused TagResource = %s, want %s (unchanged)", got, want)
	}
	// An AWS managed policy has no tags to read and none to write.
	full := aws.String("p-FullAWSAccess")
	if out, err := org.ListTagsForResource(ctx, &organizations.ListTagsForResourceInput{ResourceId: full}); err != nil || len(out.Tags) != 0 {
		t.Errorf("tags of FullAWSAccess = %+v, %v; want none", out, err)
	}
	_, err = org.TagResource(ctx, &organizations.TagResourceInput{ResourceId: full, Tags: []orgtypes.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
	wantCode(t, "TagResource of an AWS managed policy", err, "TargetNotFoundException", "")
}

// TestServerCreateOrganization: Server.CreateOrganization makes the
// account the management account of an organization of all features, as
// CreateOrganization through the API does, and refuses what it refuses.
func TestServerCreateOrganization(t *testing.T) {
	srv := NewHandler(Options{})
	if _, err := srv.CreateOrganization("111111111111"); err == nil {
		t.Error("an organization was created for an account the emulator does not hold")
	}
	srv.AddAccount(NewAccount("111111111111"))
	o, err := srv.CreateOrganization("111111111111")
	if err != nil || o.ManagementAccountID != "111111111111" || o.FeatureSet != "ALL" || len(o.Accounts) != 1 ||
		!slices.Equal(o.Root.PolicyTypes, []string{"SERVICE_CONTROL_POLICY"}) {
		t.Fatalf("CreateOrganization = %+v, %v; want an organization of all features managed by 111111111111", o, err)
	}
	if _, err := srv.CreateOrganization("111111111111"); err == nil || !strings.Contains(err.Error(), "AlreadyInOrganizationException") {
		t.Errorf("a second CreateOrganization: %v; want AlreadyInOrganizationException", err)
	}
}

// TestRemoveAccountFromOrganization: the management account never leaves,
// a CREATED account only once it can stand alone, an INVITED one at once;
// a removed account is no longer listed, keeps no policy attachment, can
// no longer read the organization, and keeps its IAM.
func TestRemoveAccountFromOrganization(t *testing.T) {
	srv := NewServer(Options{})
	defer srv.Close()
	truth := smallOrg().Build()
	var created, invited *OrgAccount
	for _, m := range truth.Members {
		a := truth.Organization.Accounts[m.ID]
		if a.Status != "ACTIVE" {
			continue
		}
		if a.JoinedMethod == "CREATED" && created == nil {
			created = a
		}
		if a.JoinedMethod == "INVITED" && invited == nil {
			invited = a
		}
	}
	if created == nil || invited == nil {
		t.Fatal("the estate has no active CREATED and INVITED members")
	}
	org := orgClient(srv, srv.AddAccount(truth.Management))
	var invitedCreds Credentials
	for _, m := range truth.Members {
		if c := srv.AddAccount(m); m.ID == invited.ID {
			invitedCreds = c
		}
	}
	srv.SetOrganization(truth.Organization)
	ctx := context.Background()
	remove := func(id string) error {
		_, err := org.RemoveAccountFromOrganization(ctx, &organizations.RemoveAccountFromOrganizationInput{AccountId: aws.String(id)})
		return err
	}
	wantCode(t, "removing the management account", remove(truth.Organization.ManagementAccountID), "ConstraintViolationException", "ACCOUNT_CANNOT_LEAVE_ORGANIZATION")
	wantCode(t, "removing a created account", remove(created.ID), "ConstraintViolationException", "ACCOUNT_CANNOT_LEAVE_WITHOUT_PHONE_VERIFICATION")
	wantCode(t, "removing an unknown account", remove("123123123123"), "AccountNotFoundException", "")
	if err := remove(invited.ID); err != nil {
		t.Fatalf("removing an invited account: %v", err)
	}
	_, err := org.DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: aws.String(invited.ID)})
	wantCode(t, "describing the removed account", err, "AccountNotFoundException", "")
	pages := organizations.NewListAccountsPaginator(org, &organizations.ListAccountsInput{})
	n := 0
	for pages.HasMorePages() {
		p, err := pages.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range p.Accounts {
			if aws.ToString(a.Id) == invited.ID {
				t.Errorf("ListAccounts still lists the removed account")
			}
			n++
		}
	}
	if n != len(truth.Organization.Accounts)-1 {
		t.Errorf("ListAccounts lists %d accounts, want %d", n, len(truth.Organization.Accounts)-1)
	}
	for _, p := range srv.org.Policies {
		if slices.Contains(p.Targets, invited.ID) {
			t.Errorf("policy %s is still attached to the removed account", p.Name)
		}
	}
	_, err = orgClient(srv, invitedCreds).DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	wantCode(t, "the removed account reads the organization", err, "AWSOrganizationsNotInUseException", "")
	if a := srv.Account(invited.ID); a == nil || len(a.IAM.Users) == 0 {
		t.Error("the removed account lost its IAM")
	}
	srv.mu.Lock()
	srv.org.Accounts[created.ID].Standalone = true
	srv.mu.Unlock()
	if err := remove(created.ID); err != nil {
		t.Errorf("removing a created account that can stand alone: %v", err)
	}
}
