package syncer

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	istypes "github.com/aws/aws-sdk-go-v2/service/identitystore/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	ssotypes "github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/warden-iam/warden/awsfake"
	"github.com/warden-iam/warden/internal/awsapi"
	"github.com/warden-iam/warden/internal/model"
)

// builtOrg records what TestOrganizationEstateBuiltThroughCalls made,
// by name, as the calls answered it: the test's own ground truth.
type builtOrg struct {
	ouParent       map[string]string   // OU name → parent OU name ("Root")
	accountParent  map[string]string   // account name → parent OU name
	accountID      map[string]string   // account name → id
	scpTargets     map[string][]string // customer SCP name → target names
	users          []string
	groupMembers   map[string][]string // group → user names
	psPolicies     map[string][]string // permission set → AWS managed policy ARNs
	psInline       map[string]string   // permission set → inline policy
	assignments    []string            // "ps|account|USER or GROUP|name"
	iamUsers       map[string][]string // account name → IAM user names made there
	memberPolicies map[string]string   // account name → customer managed policy made there
}

// callsSDKConfig is an SDK config on the emulator, with the standard
// retryer, as a user's tool has it.
func callsSDKConfig(t *testing.T, endpoint string, c awsfake.Credentials) aws.Config {
	t.Helper()
	cfg, err := config.LoadDefaultConfig(context.Background(), config.WithRegion("us-east-1"), config.WithBaseEndpoint(endpoint),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken)))
	if err != nil {
		t.Fatal(err)
	}
	cfg.HTTPClient = awsapi.BufferedBodyClient(cfg.HTTPClient)
	return cfg
}

// must fails the test on err, naming the call.
func mustCall[T any](t *testing.T, what string) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return v
	}
}

// TestOrganizationEstateBuiltThroughCalls builds an organization estate
// from one empty account through the SDK alone, as a user's tool would:
// the organization, OUs, accounts (waiting on DescribeCreateAccountStatus),
// moves, SCPs and a tag policy, IAM in the management and member accounts
// (through the member role Organizations created), Identity Store users,
// groups and memberships, permission sets with policies, assignments and a
// re-provisioning. It then syncs it in organization and Identity Center
// mode and compares the snapshot exactly with the emulator's state, and
// that state with what the calls made.
func TestOrganizationEstateBuiltThroughCalls(t *testing.T) {
	isolateAWS(t)
	ctx := context.Background()
	srv := awsfake.NewServer(awsfake.Options{})
	t.Cleanup(srv.Close)
	const mgmtID = "111111111111"
	creds := srv.AddAccount(awsfake.NewAccount(mgmtID))
	cfg := callsSDKConfig(t, srv.URL(), creds)
	org := organizations.NewFromConfig(cfg)
	b := builtOrg{ouParent: map[string]string{}, accountParent: map[string]string{}, accountID: map[string]string{}, scpTargets: map[string][]string{},
		groupMembers: map[string][]string{}, psPolicies: map[string][]string{}, psInline: map[string]string{}, iamUsers: map[string][]string{},
		memberPolicies: map[string]string{}}

	// The organization and its tree.
	mustCall[*organizations.CreateOrganizationOutput](t, "CreateOrganization")(org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{FeatureSet: orgtypes.OrganizationFeatureSetAll}))
	rootID := aws.ToString(mustCall[*organizations.ListRootsOutput](t, "ListRoots")(org.ListRoots(ctx, &organizations.ListRootsInput{})).Roots[0].Id)
	idOf := map[string]string{"Root": rootID}
	for _, ou := range []struct{ name, parent string }{{"Prod", "Root"}, {"Dev", "Root"}, {"Payments", "Prod"}} {
		out := mustCall[*organizations.CreateOrganizationalUnitOutput](t, "CreateOrganizationalUnit "+ou.name)(org.CreateOrganizationalUnit(ctx,
			&organizations.CreateOrganizationalUnitInput{ParentId: aws.String(idOf[ou.parent]), Name: aws.String(ou.name)}))
		idOf[ou.name] = aws.ToString(out.OrganizationalUnit.Id)
		b.ouParent[ou.name] = ou.parent
	}
	for _, a := range []struct{ name, ou string }{{"payments-prod", "Payments"}, {"web-prod", "Prod"}, {"sandbox", "Dev"}, {"shared", "Root"}} {
		started := mustCall[*organizations.CreateAccountOutput](t, "CreateAccount "+a.name)(org.CreateAccount(ctx, &organizations.CreateAccountInput{
			AccountName: aws.String(a.name), Email: aws.String("aws+" + a.name + "@example.com"),
			Tags: []orgtypes.Tag{{Key: aws.String("team"), Value: aws.String(strings.Split(a.name, "-")[0])}}}))
		var status *orgtypes.CreateAccountStatus
		for i := 0; i < 10; i++ {
			status = mustCall[*organizations.DescribeCreateAccountStatusOutput](t, "DescribeCreateAccountStatus")(org.DescribeCreateAccountStatus(ctx,
				&organizations.DescribeCreateAccountStatusInput{CreateAccountRequestId: started.CreateAccountStatus.Id})).CreateAccountStatus
			if status.State != orgtypes.CreateAccountStateInProgress {
				break
			}
		}
		if status.State != orgtypes.CreateAccountStateSucceeded {
			t.Fatalf("account %s: %+v", a.name, status)
		}
		id := aws.ToString(status.AccountId)
		b.accountID[a.name], idOf[a.name] = id, id
		b.accountParent[a.name] = a.ou
		if a.ou != "Root" {
			mustCall[*organizations.MoveAccountOutput](t, "MoveAccount "+a.name)(org.MoveAccount(ctx, &organizations.MoveAccountInput{AccountId: aws.String(id),
				SourceParentId: aws.String(rootID), DestinationParentId: aws.String(idOf[a.ou])}))
		}
	}

	// Policies: two SCPs, and a tag policy once its type is enabled.
	for _, p := range []struct {
		name, action string
		targets      []string
	}{{"deny-leave-org", "organizations:LeaveOrganization", []string{"Root"}}, {"protect-payments", "s3:DeleteBucket", []string{"Payments", "web-prod"}}} {
		doc := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"%s","Resource":"*"}]}`, p.action)
		out := mustCall[*organizations.CreatePolicyOutput](t, "CreatePolicy "+p.name)(org.CreatePolicy(ctx, &organizations.CreatePolicyInput{Name: aws.String(p.name),
			Description: aws.String("guardrail " + p.name), Type: orgtypes.PolicyTypeServiceControlPolicy, Content: aws.String(doc)}))
		for _, tgt := range p.targets {
			mustCall[*organizations.AttachPolicyOutput](t, "AttachPolicy "+p.name)(org.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: out.Policy.PolicySummary.Id, TargetId: aws.String(idOf[tgt])}))
		}
		b.scpTargets[p.name] = p.targets
	}
	mustCall[*organizations.EnablePolicyTypeOutput](t, "EnablePolicyType")(org.EnablePolicyType(ctx, &organizations.EnablePolicyTypeInput{RootId: aws.String(rootID), PolicyType: orgtypes.PolicyTypeTagPolicy}))
	tagPolicy := mustCall[*organizations.CreatePolicyOutput](t, "CreatePolicy tags")(org.CreatePolicy(ctx, &organizations.CreatePolicyInput{Name: aws.String("team-tag"), Description: aws.String(""),
		Type: orgtypes.PolicyTypeTagPolicy, Content: aws.String(`{"tags":{"team":{"tag_key":{"@@assign":"team"}}}}`)}))
	mustCall[*organizations.AttachPolicyOutput](t, "AttachPolicy tags")(org.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: tagPolicy.Policy.PolicySummary.Id, TargetId: aws.String(rootID)}))

	// IAM: in the management account with its own credentials, in two
	// members through the role Organizations created.
	iamOf := map[string]*iam.Client{"management": iam.NewFromConfig(cfg)}
	stsc := sts.NewFromConfig(cfg)
	for _, name := range []string{"payments-prod", "sandbox"} {
		mcfg := cfg.Copy()
		mcfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(stsc, "arn:aws:iam::"+b.accountID[name]+":role/"+awsfake.DefaultMemberRoleName))
		iamOf[name] = iam.NewFromConfig(mcfg)
	}
	readS3 := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`
	for _, acct := range []string{"management", "payments-prod", "sandbox"} {
		c := iamOf[acct]
		pol := mustCall[*iam.CreatePolicyOutput](t, "iam CreatePolicy in "+acct)(c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("read-s3"), PolicyDocument: aws.String(readS3)}))
		b.memberPolicies[acct] = aws.ToString(pol.Policy.Arn)
		mustCall[*iam.CreateGroupOutput](t, "CreateGroup in "+acct)(c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("readers")}))
		mustCall[*iam.AttachGroupPolicyOutput](t, "AttachGroupPolicy in "+acct)(c.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String("readers"), PolicyArn: pol.Policy.Arn}))
		for _, u := range []string{"alice", "bob"} {
			mustCall[*iam.CreateUserOutput](t, "CreateUser in "+acct)(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(u)}))
			mustCall[*iam.AddUserToGroupOutput](t, "AddUserToGroup in "+acct)(c.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("readers"), UserName: aws.String(u)}))
			b.iamUsers[acct] = append(b.iamUsers[acct], u)
		}
	}

	// Identity Center: enabled in the console (the emulator's stand-in),
	// then built through the API.
	if _, err := srv.EnableIdentityCenter(); err != nil {
		t.Fatal(err)
	}
	sso := ssoadmin.NewFromConfig(cfg)
	is := identitystore.NewFromConfig(cfg)
	inst := mustCall[*ssoadmin.ListInstancesOutput](t, "ListInstances")(sso.ListInstances(ctx, &ssoadmin.ListInstancesInput{})).Instances[0]
	userID, groupID := map[string]string{}, map[string]string{}
	for _, u := range []string{"carol", "dave", "erin"} {
		out := mustCall[*identitystore.CreateUserOutput](t, "identitystore CreateUser "+u)(is.CreateUser(ctx, &identitystore.CreateUserInput{IdentityStoreId: inst.IdentityStoreId,
			UserName: aws.String(u + "@example.com"), DisplayName: aws.String(strings.ToUpper(u[:1]) + u[1:]),
			Name:   &istypes.Name{GivenName: aws.String(strings.ToUpper(u[:1]) + u[1:]), FamilyName: aws.String("Example")},
			Emails: []istypes.Email{{Value: aws.String(u + "@example.com"), Type: aws.String("work"), Primary: true}}}))
		userID[u] = aws.ToString(out.UserId)
		b.users = append(b.users, u+"@example.com")
	}
	for g, members := range map[string][]string{"platform-admins": {"carol"}, "developers": {"carol", "dave"}} {
		out := mustCall[*identitystore.CreateGroupOutput](t, "identitystore CreateGroup "+g)(is.CreateGroup(ctx, &identitystore.CreateGroupInput{IdentityStoreId: inst.IdentityStoreId,
			DisplayName: aws.String(g), Description: aws.String("the " + g)}))
		groupID[g] = aws.ToString(out.GroupId)
		for _, m := range members {
			mustCall[*identitystore.CreateGroupMembershipOutput](t, "CreateGroupMembership")(is.CreateGroupMembership(ctx, &identitystore.CreateGroupMembershipInput{IdentityStoreId: inst.IdentityStoreId,
				GroupId: out.GroupId, MemberId: &istypes.MemberIdMemberUserId{Value: userID[m]}}))
			b.groupMembers[g] = append(b.groupMembers[g], m+"@example.com")
		}
	}
	psARN := map[string]*string{}
	for _, ps := range []struct {
		name, session string
		managed       []string
	}{{"AdministratorAccess", "PT1H", []string{"arn:aws:iam::aws:policy/AdministratorAccess"}}, {"Developer", "PT8H", []string{"arn:aws:iam::aws:policy/ReadOnlyAccess"}}} {
		out := mustCall[*ssoadmin.CreatePermissionSetOutput](t, "CreatePermissionSet "+ps.name)(sso.CreatePermissionSet(ctx, &ssoadmin.CreatePermissionSetInput{InstanceArn: inst.InstanceArn,
			Name: aws.String(ps.name), SessionDuration: aws.String(ps.session), Description: aws.String("access for " + ps.name),
			Tags: []ssotypes.Tag{{Key: aws.String("owner"), Value: aws.String("platform")}}}))
		psARN[ps.name] = out.PermissionSet.PermissionSetArn
		for _, arn := range ps.managed {
			mustCall[*ssoadmin.AttachManagedPolicyToPermissionSetOutput](t, "AttachManagedPolicyToPermissionSet")(sso.AttachManagedPolicyToPermissionSet(ctx,
				&ssoadmin.AttachManagedPolicyToPermissionSetInput{InstanceArn: inst.InstanceArn, PermissionSetArn: out.PermissionSet.PermissionSetArn, ManagedPolicyArn: aws.String(arn)}))
		}
		b.psPolicies[ps.name] = ps.managed
	}
	inline := `{"Version":"2012-10-17","Statement":[{"Sid":"NoIAMUsers","Effect":"Deny","Action":"iam:CreateUser","Resource":"*"}]}`
	mustCall[*ssoadmin.PutInlinePolicyToPermissionSetOutput](t, "PutInlinePolicyToPermissionSet")(sso.PutInlinePolicyToPermissionSet(ctx, &ssoadmin.PutInlinePolicyToPermissionSetInput{
		InstanceArn: inst.InstanceArn, PermissionSetArn: psARN["Developer"], InlinePolicy: aws.String(inline)}))
	b.psInline["Developer"] = inline
	for _, a := range []struct{ ps, account, kind, principal string }{
		{"AdministratorAccess", "payments-prod", "GROUP", "platform-admins"}, {"AdministratorAccess", "sandbox", "GROUP", "platform-admins"},
		{"Developer", "sandbox", "GROUP", "developers"}, {"Developer", "web-prod", "USER", "erin"}, {"Developer", "payments-prod", "GROUP", "platform-admins"},
	} {
		principal := groupID[a.principal]
		if a.kind == "USER" {
			principal = userID[a.principal]
		}
		out := mustCall[*ssoadmin.CreateAccountAssignmentOutput](t, "CreateAccountAssignment")(sso.CreateAccountAssignment(ctx, &ssoadmin.CreateAccountAssignmentInput{
			InstanceArn: inst.InstanceArn, PermissionSetArn: psARN[a.ps], TargetId: aws.String(b.accountID[a.account]), TargetType: ssotypes.TargetTypeAwsAccount,
			PrincipalType: ssotypes.PrincipalType(a.kind), PrincipalId: aws.String(principal)}))
		st := mustCall[*ssoadmin.DescribeAccountAssignmentCreationStatusOutput](t, "DescribeAccountAssignmentCreationStatus")(sso.DescribeAccountAssignmentCreationStatus(ctx,
			&ssoadmin.DescribeAccountAssignmentCreationStatusInput{InstanceArn: inst.InstanceArn, AccountAssignmentCreationRequestId: out.AccountAssignmentCreationStatus.RequestId}))
		if st.AccountAssignmentCreationStatus.Status != ssotypes.StatusValuesSucceeded {
			t.Fatalf("assignment %+v: %+v", a, st.AccountAssignmentCreationStatus)
		}
		name := a.principal
		if a.kind == "USER" {
			name += "@example.com"
		}
		b.assignments = append(b.assignments, a.ps+"|"+a.account+"|"+a.kind+"|"+name)
	}
	// A policy attached after the assignments reaches the roles only once
	// the permission set is provisioned again.
	mustCall[*ssoadmin.AttachManagedPolicyToPermissionSetOutput](t, "AttachManagedPolicyToPermissionSet later")(sso.AttachManagedPolicyToPermissionSet(ctx,
		&ssoadmin.AttachManagedPolicyToPermissionSetInput{InstanceArn: inst.InstanceArn, PermissionSetArn: psARN["Developer"], ManagedPolicyArn: aws.String("arn:aws:iam::aws:policy/SecurityAudit")}))
	b.psPolicies["Developer"] = append(b.psPolicies["Developer"], "arn:aws:iam::aws:policy/SecurityAudit")
	prov := mustCall[*ssoadmin.ProvisionPermissionSetOutput](t, "ProvisionPermissionSet")(sso.ProvisionPermissionSet(ctx, &ssoadmin.ProvisionPermissionSetInput{
		InstanceArn: inst.InstanceArn, PermissionSetArn: psARN["Developer"], TargetType: ssotypes.ProvisionTargetTypeAllProvisionedAccounts}))
	pst := mustCall[*ssoadmin.DescribePermissionSetProvisioningStatusOutput](t, "DescribePermissionSetProvisioningStatus")(sso.DescribePermissionSetProvisioningStatus(ctx,
		&ssoadmin.DescribePermissionSetProvisioningStatusInput{InstanceArn: inst.InstanceArn, ProvisionPermissionSetRequestId: prov.PermissionSetProvisioningStatus.RequestId}))
	if pst.PermissionSetProvisioningStatus.Status != ssotypes.StatusValuesSucceeded {
		t.Fatalf("provisioning: %+v", pst.PermissionSetProvisioningStatus)
	}

	// Sync it all.
	o := orgSyncOptions()
	o.IdentityCenter = &IdentityCenterOptions{}
	st := newOrgEnvStore(t)
	snap, err := Sync(ctx, newSession(t, srv.URL(), creds), st, o)
	if err != nil {
		t.Fatal(err)
	}
	if snap.Status != model.StatusComplete || len(snap.Errors) != 0 || snap.Accounts.Read != 5 {
		t.Fatalf("snapshot %s, accounts %+v, errors %+v; want complete, all 5 accounts read", snap.Status, snap.Accounts, snap.Errors)
	}

	// The snapshot equals the emulator's state exactly. SCPs are what
	// warden reads of the policies: the tag policy is left out of the
	// expected graph (but the enabled type is on the root).
	orgState := srv.Organization()
	for id, p := range orgState.Policies {
		if p.Type != "SERVICE_CONTROL_POLICY" {
			delete(orgState.Policies, id)
		}
	}
	truth := &awsfake.OrgTruth{Organization: orgState, Management: srv.Account(mgmtID), IdentityCenter: srv.IdentityCenter()}
	read := map[string]bool{mgmtID: true}
	for _, id := range callsSortedValues(b.accountID) {
		truth.Members = append(truth.Members, srv.Account(id))
		read[id] = true
	}
	want := expectedOrgGraph(t, truth, read, expectedIdentityCenter(t, truth.IdentityCenter, false))
	addReservedRoleLinks(want, truth.IdentityCenter, read)
	checkGraph(t, st, snap.ID, want)

	// And the emulator's state is what the calls made.
	got, err := st.Graph(ctx, snap.ID)
	if err != nil {
		t.Fatal(err)
	}
	checkBuiltOrg(t, got, b, mgmtID)
}

// checkBuilt compares the synced graph with what the calls made, by name.
func checkBuiltOrg(t *testing.T, g *model.Graph, b builtOrg, mgmtID string) {
	t.Helper()
	byID := map[string]model.Resource{}
	names := map[model.ResourceType][]string{}
	for _, r := range g.Resources {
		byID[r.ID] = r
		names[r.Type] = append(names[r.Type], r.Name)
	}
	grants := map[string][]string{} // entitlement → principal names
	for _, gr := range g.Grants {
		if gr.Provenance == model.ViaDirect {
			grants[gr.EntitlementID] = append(grants[gr.EntitlementID], byID[gr.PrincipalID].Name)
		}
	}
	nameOf := func(id string) string {
		if r, ok := byID[id]; ok {
			return r.Name
		}
		return "?" + id
	}
	sameSet := func(what string, got, want []string) {
		t.Helper()
		got, want = slices.Clone(got), slices.Clone(want)
		sort.Strings(got)
		sort.Strings(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s = %v, the calls made %v", what, got, want)
		}
	}
	accountName := map[string]string{mgmtID: "management"}
	for name, id := range b.accountID {
		accountName[id] = name
	}
	var ous, accounts []string
	for _, r := range g.Resources {
		switch r.Type {
		case model.TypeOrgUnit:
			ous = append(ous, r.Name)
			if b.ouParent[r.Name] != nameOf(r.ParentID) {
				t.Errorf("OU %s is under %s, the calls put it under %s", r.Name, nameOf(r.ParentID), b.ouParent[r.Name])
			}
		case model.TypeAccount:
			if r.AccountID == mgmtID {
				continue
			}
			accounts = append(accounts, r.Name)
			if b.accountParent[r.Name] != nameOf(r.ParentID) || r.Account.Org.Email != "aws+"+r.Name+"@example.com" || r.Tags["team"] == "" {
				t.Errorf("account %s: parent %s, e-mail %s, tags %v; the calls made parent %s", r.Name, nameOf(r.ParentID), r.Account.Org.Email, r.Tags, b.accountParent[r.Name])
			}
		case model.TypeSCP:
			if want, ok := b.scpTargets[r.Name]; ok {
				sameSet("targets of SCP "+r.Name, grants[model.EntitlementID(r.ID, model.EntAttached)], want)
			}
		case model.TypeIAMUser:
			if !slices.Contains(b.iamUsers[accountName[r.AccountID]], r.Name) {
				t.Errorf("IAM user %s in %s was not made by the calls", r.Name, accountName[r.AccountID])
			}
		case model.TypeSSOGroup:
			sameSet("members of "+r.Name, grants[model.EntitlementID(r.ID, model.EntMember)], b.groupMembers[r.Name])
		case model.TypePermissionSet:
			sameSet("managed policies of "+r.Name, r.PermissionSet.ManagedPolicies, b.psPolicies[r.Name])
			if (r.PermissionSet.InlinePolicy != "") != (b.psInline[r.Name] != "") {
				t.Errorf("inline policy of %s = %q", r.Name, r.PermissionSet.InlinePolicy)
			}
		}
	}
	sameSet("OUs", ous, callsKeys(b.ouParent))
	sameSet("member accounts", accounts, callsKeys(b.accountParent))
	sameSet("Identity Store users", names[model.TypeSSOUser], b.users)
	sameSet("Identity Store groups", names[model.TypeSSOGroup], callsKeys(b.groupMembers))
	sameSet("permission sets", names[model.TypePermissionSet], callsKeys(b.psPolicies))
	var assignments []string
	for _, gr := range g.Grants {
		ps, ent, ok := strings.Cut(gr.EntitlementID, "#")
		if !ok || byID[ps].Type != model.TypePermissionSet || gr.Provenance != model.ViaDirect {
			continue
		}
		kind := "USER"
		if byID[gr.PrincipalID].Type == model.TypeSSOGroup {
			kind = "GROUP"
		}
		assignments = append(assignments, byID[ps].Name+"|"+accountName[strings.TrimPrefix(ent, "account:")]+"|"+kind+"|"+nameOf(gr.PrincipalID))
	}
	sameSet("assignments", assignments, b.assignments)
	var iamUsers []string
	for _, r := range g.Resources {
		if r.Type == model.TypeIAMUser {
			iamUsers = append(iamUsers, accountName[r.AccountID]+"/"+r.Name)
		}
	}
	var wantUsers []string
	for acct, us := range b.iamUsers {
		for _, u := range us {
			wantUsers = append(wantUsers, acct+"/"+u)
		}
	}
	sameSet("IAM users", iamUsers, wantUsers)
	// The reserved role of the re-provisioned permission set holds the
	// policy attached after the assignment.
	for _, r := range g.Resources {
		if r.Type == model.TypeIAMRole && strings.HasPrefix(r.Name, "AWSReservedSSO_Developer_") {
			if !slices.Contains(grants["arn:aws:iam::aws:policy/SecurityAudit#"+model.EntAttached], r.Name) {
				t.Errorf("reserved role %s in %s lacks SecurityAudit, attached before ProvisionPermissionSet", r.Name, accountName[r.AccountID])
			}
		}
	}
}

func callsKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func callsSortedValues(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}
