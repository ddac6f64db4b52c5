package awsfake

import (
	"context"
	"errors"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

func smallOrg() OrgEstate {
	return OrgEstate{Accounts: 45, SCPs: 4, PerAccount: Estate{Users: 3, Groups: 2, Roles: 2, Policies: 1},
		ExternalID: "warden-test-external-id-0123456789", MissingRole: []int{1}, WrongExternalID: []int{2}, Suspended: []int{3}, Seed: 9}
}

func orgClient(srv *Server, c Credentials) *organizations.Client {
	return organizations.NewFromConfig(sdkConfig(srv, c))
}

func TestOrgEstateIsDeterministic(t *testing.T) {
	a, b := smallOrg().Build(), smallOrg().Build()
	if a.Organization.ID != b.Organization.ID || len(a.Organization.OUs) != len(b.Organization.OUs) ||
		strings.Join(sortedKeys(a.Organization.OUs), ",") != strings.Join(sortedKeys(b.Organization.OUs), ",") {
		t.Fatal("two builds of one OrgEstate differ")
	}
	if len(a.Members) != 45 || len(a.Organization.Accounts) != 46 {
		t.Fatalf("members = %d, org accounts = %d; want 45 and 46", len(a.Members), len(a.Organization.Accounts))
	}
	for i, m := range a.Members {
		_, has := m.IAM.Roles[DefaultMemberRoleName]
		if has == (i == 1) {
			t.Errorf("member %d: has role = %v", i, has)
		}
		if parent := a.Organization.Accounts[m.ID].ParentID; a.Organization.nodeType(parent) == "" {
			t.Errorf("member %d sits in unknown parent %s", i, parent)
		}
	}
	if a.Organization.Accounts[a.Members[3].ID].Status != "SUSPENDED" {
		t.Error("member 3 is not suspended")
	}
}

// TestOrganizationsListingsThroughSDK pages every listing with the SDK's
// paginators, with empty first pages, and rebuilds the tree.
func TestOrganizationsListingsThroughSDK(t *testing.T) {
	srv := NewServer(Options{OrgEmptyPages: true})
	defer srv.Close()
	truth := smallOrg().Build()
	client := orgClient(srv, truth.Install(srv))
	ctx := context.Background()

	desc, err := client.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(desc.Organization.Id) != truth.Organization.ID || aws.ToString(desc.Organization.MasterAccountId) != "111111111111" {
		t.Fatalf("DescribeOrganization = %+v", desc.Organization)
	}
	roots, err := client.ListRoots(ctx, &organizations.ListRootsInput{})
	if err != nil || len(roots.Roots) != 1 || roots.Roots[0].PolicyTypes[0].Status != orgtypes.PolicyTypeStatusEnabled {
		t.Fatalf("ListRoots = %+v, %v", roots, err)
	}
	// Walk the tree top-down.
	accounts := map[string]string{}
	queue := []string{aws.ToString(roots.Roots[0].Id)}
	ous := 0
	for len(queue) > 0 {
		parent := queue[0]
		queue = queue[1:]
		p := organizations.NewListOrganizationalUnitsForParentPaginator(client, &organizations.ListOrganizationalUnitsForParentInput{ParentId: &parent, MaxResults: aws.Int32(20)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, ou := range page.OrganizationalUnits {
				queue = append(queue, aws.ToString(ou.Id))
				ous++
			}
		}
		ap := organizations.NewListAccountsForParentPaginator(client, &organizations.ListAccountsForParentInput{ParentId: &parent, MaxResults: aws.Int32(7)})
		for ap.HasMorePages() {
			page, err := ap.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range page.Accounts {
				accounts[aws.ToString(a.Id)] = parent
				want := truth.Organization.Accounts[aws.ToString(a.Id)]
				if string(a.Status) != want.Status || !a.JoinedTimestamp.Equal(want.JoinedAt) || aws.ToString(a.Email) != want.Email {
					t.Errorf("account %s = %+v, want %+v", aws.ToString(a.Id), a, want)
				}
			}
		}
	}
	if ous != len(truth.Organization.OUs) || len(accounts) != len(truth.Organization.Accounts) {
		t.Fatalf("walk found %d OUs and %d accounts, want %d and %d", ous, len(accounts), len(truth.Organization.OUs), len(truth.Organization.Accounts))
	}
	for id, parent := range accounts {
		if truth.Organization.Accounts[id].ParentID != parent {
			t.Errorf("account %s listed under %s", id, parent)
		}
	}
	// SCPs: documents and targets.
	var policies []orgtypes.PolicySummary
	pp := organizations.NewListPoliciesPaginator(client, &organizations.ListPoliciesInput{Filter: orgtypes.PolicyTypeServiceControlPolicy})
	for pp.HasMorePages() {
		page, err := pp.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		policies = append(policies, page.Policies...)
	}
	if len(policies) != 5 {
		t.Fatalf("ListPolicies = %d policies, want 5", len(policies))
	}
	for _, p := range policies {
		d, err := client.DescribePolicy(ctx, &organizations.DescribePolicyInput{PolicyId: p.Id})
		want := truth.Organization.Policies[aws.ToString(p.Id)]
		if err != nil || aws.ToString(d.Policy.Content) != want.Content || p.AwsManaged != want.AWSManaged {
			t.Fatalf("DescribePolicy %s = %+v, %v", aws.ToString(p.Id), d, err)
		}
		var targets []string
		tp := organizations.NewListTargetsForPolicyPaginator(client, &organizations.ListTargetsForPolicyInput{PolicyId: p.Id})
		for tp.HasMorePages() {
			page, err := tp.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, tg := range page.Targets {
				targets = append(targets, aws.ToString(tg.TargetId))
			}
		}
		wantTargets := append([]string(nil), want.Targets...)
		sort.Strings(wantTargets)
		if strings.Join(targets, ",") != strings.Join(wantTargets, ",") {
			t.Errorf("targets of %s = %v, want %v", want.Name, targets, wantTargets)
		}
	}
	tags, err := client.ListTagsForResource(ctx, &organizations.ListTagsForResourceInput{ResourceId: aws.String(truth.Members[0].ID)})
	if err != nil || len(tags.Tags) != 2 {
		t.Fatalf("ListTagsForResource = %+v, %v", tags, err)
	}
}

func TestOrganizationsErrors(t *testing.T) {
	srv := NewServer(Options{})
	defer srv.Close()
	truth := smallOrg().Build()
	truth.Install(srv)
	loner := srv.AddAccount(Estate{AccountID: "999999999999", Users: 1}.Build())
	member := srv.AddAccount(truth.Members[0]) // a fresh key for member 0
	ctx := context.Background()

	_, err := orgClient(srv, loner).DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	var notInUse *orgtypes.AWSOrganizationsNotInUseException
	if !errors.As(err, &notInUse) {
		t.Errorf("outside any organization: %v, want AWSOrganizationsNotInUseException", err)
	}
	mc := orgClient(srv, member)
	if _, err := mc.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{}); err != nil {
		t.Errorf("a member may describe its organization: %v", err)
	}
	_, err = mc.ListRoots(ctx, &organizations.ListRootsInput{})
	var denied *orgtypes.AccessDeniedException
	if !errors.As(err, &denied) {
		t.Errorf("member ListRoots: %v, want AccessDeniedException", err)
	}
	mgmt := orgClient(srv, srv.AddAccount(truth.Management))
	_, err = mgmt.ListAccountsForParent(ctx, &organizations.ListAccountsForParentInput{ParentId: aws.String("ou-zzzz-zzzzzzzz")})
	var noParent *orgtypes.ParentNotFoundException
	if !errors.As(err, &noParent) {
		t.Errorf("unknown parent: %v, want ParentNotFoundException", err)
	}
	_, err = mgmt.ListAccounts(ctx, &organizations.ListAccountsInput{MaxResults: aws.Int32(21)})
	if apiCode(err) != "InvalidInputException" {
		t.Errorf("MaxResults 21: %v, want InvalidInputException", err)
	}
	_, err = mgmt.DescribePolicy(ctx, &organizations.DescribePolicyInput{PolicyId: aws.String("p-zzzzzzzz")})
	var noPolicy *orgtypes.PolicyNotFoundException
	if !errors.As(err, &noPolicy) {
		t.Errorf("unknown policy: %v, want PolicyNotFoundException", err)
	}

	// Throttled Organizations calls answer TooManyRequestsException, which
	// the SDK retries.
	srv.SetOptions(Options{AccountFaults: map[string]Faults{"111111111111": {ThrottleFraction: 1}}})
	_, err = mgmt.ListRoots(ctx, &organizations.ListRootsInput{})
	var tooMany *orgtypes.TooManyRequestsException
	if !errors.As(err, &tooMany) {
		t.Errorf("throttled: %v, want TooManyRequestsException", err)
	}
	if n := srv.CallsFor("111111111111")["organizations:ListRoots"]; n != 3 {
		t.Errorf("ListRoots attempts = %d, want the SDK's 3 (it retries TooManyRequestsException)", n)
	}
}

func TestAssumeRole(t *testing.T) {
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	clock := now
	srv := NewServer(Options{Now: func() time.Time { return clock }})
	defer srv.Close()
	e := smallOrg()
	truth := e.Build()
	base := sdkConfig(srv, truth.Install(srv))
	stsc := sts.NewFromConfig(base)
	ctx := context.Background()
	role := func(i int) string { return "arn:aws:iam::" + truth.Members[i].ID + ":role/" + DefaultMemberRoleName }

	out, err := stsc.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(role(0)), RoleSessionName: aws.String("warden"), ExternalId: aws.String(e.ExternalID)})
	if err != nil {
		t.Fatal(err)
	}
	if want := "arn:aws:sts::" + truth.Members[0].ID + ":assumed-role/" + DefaultMemberRoleName + "/warden"; aws.ToString(out.AssumedRoleUser.Arn) != want {
		t.Errorf("assumed ARN = %s, want %s", aws.ToString(out.AssumedRoleUser.Arn), want)
	}
	if !out.Credentials.Expiration.Equal(now.Add(time.Hour)) {
		t.Errorf("expiration = %v, want an hour from now", out.Credentials.Expiration)
	}
	// The role's credentials act in the member account.
	cfg := base.Copy()
	cfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(stsc, role(0), func(o *stscreds.AssumeRoleOptions) {
		o.ExternalID = aws.String(e.ExternalID)
	}))
	id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(id.Account) != truth.Members[0].ID {
		t.Fatalf("GetCallerIdentity as the member role = %+v, %v", id, err)
	}
	users, err := iam.NewFromConfig(cfg).ListUsers(ctx, &iam.ListUsersInput{})
	if err != nil || len(users.Users) != len(truth.Members[0].IAM.Users) {
		t.Fatalf("ListUsers in the member = %d users, %v; want %d", len(users.Users), err, len(truth.Members[0].IAM.Users))
	}

	denied := []struct {
		name       string
		role       string
		externalID *string
	}{
		{"missing role", role(1), aws.String(e.ExternalID)},
		{"trust wants another ExternalId", role(2), aws.String(e.ExternalID)},
		{"no ExternalId", role(0), nil},
		{"wrong ExternalId", role(0), aws.String("guessed-external-id")},
		{"account outside the emulator", "arn:aws:iam::555555555555:role/" + DefaultMemberRoleName, aws.String(e.ExternalID)},
	}
	for _, d := range denied {
		_, err := stsc.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(d.role), RoleSessionName: aws.String("warden"), ExternalId: d.externalID})
		if apiCode(err) != "AccessDenied" || !strings.Contains(err.Error(), "is not authorized to perform: sts:AssumeRole on resource: "+d.role) {
			t.Errorf("%s: %v, want AWS's AccessDenied", d.name, err)
		}
	}
	if _, err := stsc.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(role(0)), RoleSessionName: aws.String("bad name!"), ExternalId: aws.String(e.ExternalID)}); apiCode(err) != "ValidationError" {
		t.Errorf("bad session name: %v, want ValidationError", err)
	}
	if _, err := stsc.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(role(0)), RoleSessionName: aws.String("warden"), ExternalId: aws.String(e.ExternalID), DurationSeconds: aws.Int32(7200)}); apiCode(err) != "ValidationError" {
		t.Errorf("duration over the role's maximum: %v, want ValidationError", err)
	}

	// Temporary credentials expire.
	static := Credentials{AccessKeyID: aws.ToString(out.Credentials.AccessKeyId), SecretAccessKey: aws.ToString(out.Credentials.SecretAccessKey), SessionToken: aws.ToString(out.Credentials.SessionToken)}
	clock = now.Add(61 * time.Minute)
	_, err = iamClient(srv, static).ListUsers(ctx, &iam.ListUsersInput{})
	if apiCode(err) != "ExpiredToken" {
		t.Errorf("expired credentials: %v, want ExpiredToken", err)
	}
}

func TestTrustPolicyEvaluation(t *testing.T) {
	user := caller{account: "111111111111", arn: "arn:aws:iam::111111111111:user/alice"}
	assumed := caller{account: "111111111111", arn: "arn:aws:sts::111111111111:assumed-role/ci/s", roleARN: "arn:aws:iam::111111111111:role/ci"}
	cases := []struct {
		name string
		doc  string
		ctx  trustContext
		want bool
	}{
		{"account root", `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"sts:AssumeRole"}]}`, trustContext{caller: user}, true},
		{"bare account id", `{"Statement":{"Effect":"Allow","Principal":{"AWS":"111111111111"},"Action":"sts:*"}}`, trustContext{caller: user}, true},
		{"other account", `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"222222222222"},"Action":"sts:AssumeRole"}]}`, trustContext{caller: user}, false},
		{"user arn", `{"Statement":[{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::111111111111:user/alice"]},"Action":["sts:AssumeRole"]}]}`, trustContext{caller: user}, true},
		{"role arn for its session", `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:role/ci"},"Action":"sts:AssumeRole"}]}`, trustContext{caller: assumed}, true},
		{"service only", `{"Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`, trustContext{caller: user}, false},
		{"other action", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRoleWithSAML"}]}`, trustContext{caller: user}, false},
		{"external id matches", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"abc"}}}]}`, trustContext{caller: user, externalID: "abc"}, true},
		{"external id missing", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"abc"}}}]}`, trustContext{caller: user}, false},
		{"external id like", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Condition":{"StringLike":{"sts:ExternalId":"a*"}}}]}`, trustContext{caller: user, externalID: "abc"}, true},
		{"deny wins", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"},{"Effect":"Deny","Principal":{"AWS":"111111111111"},"Action":"*"}]}`, trustContext{caller: user}, false},
		{"unknown condition is not satisfied", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-1"}}}]}`, trustContext{caller: user}, false},
		{"not json", `{`, trustContext{caller: user}, false},
	}
	for _, c := range cases {
		if got := trustAllows(c.doc, c.ctx); got != c.want {
			t.Errorf("%s: trustAllows = %v, want %v", c.name, got, c.want)
		}
	}
}
