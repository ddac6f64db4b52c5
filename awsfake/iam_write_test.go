package awsfake

import (
	"context"
	"encoding/csv"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

const (
	s3Read  = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":"*"}]}`
	s3Write = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::b/*"}]}`
	ec2Only = `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}}`
)

// emptyAccount serves a NewAccount and returns an IAM client on it.
func emptyAccount(t *testing.T) (*Server, *iam.Client) {
	t.Helper()
	srv := NewServer(Options{})
	t.Cleanup(srv.Close)
	return srv, iamClient(srv, srv.AddAccount(NewAccount("210987654321")))
}

// mustError is the panic of must, which failOnMust turns into a test
// failure.
type mustError struct{ err error }

// must returns v, or stops the test (deferred failOnMust) on an error.
func must[T any](v T, err error) T {
	if err != nil {
		panic(mustError{err})
	}
	return v
}

// failOnMust fails the test on a must's error; defer it.
func failOnMust(t *testing.T) {
	if r := recover(); r != nil {
		if m, ok := r.(mustError); ok {
			t.Fatalf("call failed: %v", m.err)
		}
		panic(r)
	}
}

// TestEstateBuiltThroughSDK builds an estate with the calls users' tools
// make and checks that every read shows what was made:
// GetAccountAuthorizationDetails, the credential report, ListAccessKeys,
// the per-entity reads.
func TestEstateBuiltThroughSDK(t *testing.T) {
	defer failOnMust(t)
	srv, c := emptyAccount(t)
	ctx := context.Background()
	if out := must(c.GetAccountAuthorizationDetails(ctx, &iam.GetAccountAuthorizationDetailsInput{})); len(out.UserDetailList)+len(out.GroupDetailList)+len(out.RoleDetailList)+len(out.Policies) != 0 {
		t.Fatalf("a new account holds %v", out)
	}

	pol := must(c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("s3-read"), Path: aws.String("/teams/"),
		PolicyDocument: aws.String(s3Read), Description: aws.String("read buckets"), Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("data")}}})).Policy
	if *pol.Arn != "arn:aws:iam::210987654321:policy/teams/s3-read" || *pol.DefaultVersionId != "v1" || !pol.IsAttachable {
		t.Fatalf("CreatePolicy = %+v", pol)
	}
	v2 := must(c.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: pol.Arn, PolicyDocument: aws.String(s3Write), SetAsDefault: true})).PolicyVersion
	if *v2.VersionId != "v2" || !v2.IsDefaultVersion {
		t.Fatalf("CreatePolicyVersion = %+v", v2)
	}
	must(c.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: pol.Arn, PolicyDocument: aws.String(s3Read)}))

	must(c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("devs")}))
	must(c.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String("devs"), PolicyArn: pol.Arn}))
	must(c.PutGroupPolicy(ctx, &iam.PutGroupPolicyInput{GroupName: aws.String("devs"), PolicyName: aws.String("inline"), PolicyDocument: aws.String(s3Read)}))

	user := must(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("ann"), Path: aws.String("/eng/"),
		Tags: []types.Tag{{Key: aws.String("email"), Value: aws.String("ann@example.com")}}})).User
	must(c.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("devs"), UserName: aws.String("ann")}))
	must(c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("ann"), PolicyArn: aws.String("arn:aws:iam::aws:policy/ReadOnlyAccess")}))
	must(c.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String("ann"), Password: aws.String("correct-horse-1"), PasswordResetRequired: true}))
	key := must(c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("ann")})).AccessKey
	must(c.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("ann"), AccessKeyId: key.AccessKeyId, Status: types.StatusTypeInactive}))
	mfa := must(c.CreateVirtualMFADevice(ctx, &iam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String("ann")})).VirtualMFADevice
	if *mfa.SerialNumber != "arn:aws:iam::210987654321:mfa/ann" || len(mfa.Base32StringSeed) == 0 {
		t.Fatalf("CreateVirtualMFADevice = %+v", mfa)
	}
	must(c.EnableMFADevice(ctx, &iam.EnableMFADeviceInput{UserName: aws.String("ann"), SerialNumber: mfa.SerialNumber,
		AuthenticationCode1: aws.String("123456"), AuthenticationCode2: aws.String("654321")}))
	must(c.TagUser(ctx, &iam.TagUserInput{UserName: aws.String("ann"), Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("data")}, {Key: aws.String("Email"), Value: aws.String("ann@corp.example")}}}))
	must(c.UntagUser(ctx, &iam.UntagUserInput{UserName: aws.String("ann"), TagKeys: []string{"team"}}))

	role := must(c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("web"), AssumeRolePolicyDocument: aws.String(ec2Only),
		Description: aws.String("web servers"), MaxSessionDuration: aws.Int32(7200), Tags: []types.Tag{{Key: aws.String("tier"), Value: aws.String("web")}}})).Role
	must(c.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("web"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::210987654321:user/eng/ann"},"Action":"sts:AssumeRole"}]}`)}))
	must(c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("web"), PolicyArn: pol.Arn}))
	must(c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("web"), PolicyName: aws.String("logs"), PolicyDocument: aws.String(s3Write)}))
	must(c.TagRole(ctx, &iam.TagRoleInput{RoleName: aws.String("web"), Tags: []types.Tag{{Key: aws.String("owner"), Value: aws.String("ann")}}}))
	must(c.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("web")}))
	must(c.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("web"), RoleName: aws.String("web")}))

	// GetAccountAuthorizationDetails shows it all.
	gaad := must(c.GetAccountAuthorizationDetails(ctx, &iam.GetAccountAuthorizationDetailsInput{}))
	if len(gaad.UserDetailList) != 1 || len(gaad.GroupDetailList) != 1 || len(gaad.RoleDetailList) != 1 || len(gaad.Policies) != 2 {
		t.Fatalf("GAAD lists %d users, %d groups, %d roles, %d policies; want 1, 1, 1, 2 (s3-read and ReadOnlyAccess)",
			len(gaad.UserDetailList), len(gaad.GroupDetailList), len(gaad.RoleDetailList), len(gaad.Policies))
	}
	u := gaad.UserDetailList[0]
	if *u.Arn != *user.Arn || !slices.Equal(u.GroupList, []string{"devs"}) || len(u.AttachedManagedPolicies) != 1 ||
		len(u.Tags) != 1 || *u.Tags[0].Key != "Email" || *u.Tags[0].Value != "ann@corp.example" {
		t.Errorf("GAAD user = %+v", u)
	}
	g := gaad.GroupDetailList[0]
	if len(g.AttachedManagedPolicies) != 1 || *g.AttachedManagedPolicies[0].PolicyArn != *pol.Arn || len(g.GroupPolicyList) != 1 {
		t.Errorf("GAAD group = %+v", g)
	}
	r := gaad.RoleDetailList[0]
	trust, _ := url.QueryUnescape(*r.AssumeRolePolicyDocument)
	if *r.Arn != *role.Arn || !strings.Contains(trust, "user/eng/ann") || len(r.RolePolicyList) != 1 || len(r.Tags) != 2 ||
		len(r.InstanceProfileList) != 1 || *r.InstanceProfileList[0].InstanceProfileName != "web" {
		t.Errorf("GAAD role = %+v", r)
	}
	for _, p := range gaad.Policies {
		if *p.Arn != *pol.Arn {
			continue
		}
		if *p.DefaultVersionId != "v2" || len(p.PolicyVersionList) != 3 || p.AttachmentCount == nil || *p.AttachmentCount != 2 {
			t.Errorf("GAAD policy = %+v", p)
		}
	}

	// The credential report, ListAccessKeys and the per-entity reads agree.
	must(c.GenerateCredentialReport(ctx, &iam.GenerateCredentialReportInput{}))
	rep := must(c.GetCredentialReport(ctx, &iam.GetCredentialReportInput{}))
	rows, err := csv.NewReader(strings.NewReader(string(rep.Content))).ReadAll()
	if err != nil || len(rows) != 3 {
		t.Fatalf("credential report: %d rows (%v), want header, root and ann", len(rows), err)
	}
	ann := map[string]string{}
	for i, col := range rows[0] {
		ann[col] = rows[2][i]
	}
	if ann["user"] != "ann" || ann["password_enabled"] != "true" || ann["mfa_active"] != "true" || ann["access_key_1_active"] != "false" {
		t.Errorf("credential report row = %v", ann)
	}
	keys := must(c.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("ann")}))
	if len(keys.AccessKeyMetadata) != 1 || keys.AccessKeyMetadata[0].Status != types.StatusTypeInactive {
		t.Errorf("ListAccessKeys = %+v", keys.AccessKeyMetadata)
	}
	got := must(c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("web")})).Role
	if *got.Description != "web servers" || *got.MaxSessionDuration != 7200 || len(got.Tags) != 2 {
		t.Errorf("GetRole = %+v", got)
	}
	versions := must(c.ListPolicyVersions(ctx, &iam.ListPolicyVersionsInput{PolicyArn: pol.Arn})).Versions
	if len(versions) != 3 {
		t.Errorf("ListPolicyVersions = %d versions, want 3", len(versions))
	}
	if tags := must(c.ListPolicyTags(ctx, &iam.ListPolicyTagsInput{PolicyArn: pol.Arn})).Tags; len(tags) != 1 {
		t.Errorf("ListPolicyTags = %v", tags)
	}
	if ips := must(c.ListInstanceProfiles(ctx, &iam.ListInstanceProfilesInput{})).InstanceProfiles; len(ips) != 1 || len(ips[0].Roles) != 1 {
		t.Errorf("ListInstanceProfiles = %+v", ips)
	}
	if devs := must(c.ListMFADevices(ctx, &iam.ListMFADevicesInput{UserName: aws.String("ann")})).MFADevices; len(devs) != 1 {
		t.Errorf("ListMFADevices = %+v", devs)
	}

	// Teardown in IAM's order leaves nothing.
	must(c.RemoveRoleFromInstanceProfile(ctx, &iam.RemoveRoleFromInstanceProfileInput{InstanceProfileName: aws.String("web"), RoleName: aws.String("web")}))
	must(c.DeleteInstanceProfile(ctx, &iam.DeleteInstanceProfileInput{InstanceProfileName: aws.String("web")}))
	must(c.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String("web"), PolicyArn: pol.Arn}))
	must(c.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String("web"), PolicyName: aws.String("logs")}))
	must(c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("web")}))
	must(c.DetachGroupPolicy(ctx, &iam.DetachGroupPolicyInput{GroupName: aws.String("devs"), PolicyArn: pol.Arn}))
	must(c.DeleteGroupPolicy(ctx, &iam.DeleteGroupPolicyInput{GroupName: aws.String("devs"), PolicyName: aws.String("inline")}))
	must(c.RemoveUserFromGroup(ctx, &iam.RemoveUserFromGroupInput{GroupName: aws.String("devs"), UserName: aws.String("ann")}))
	must(c.DeleteGroup(ctx, &iam.DeleteGroupInput{GroupName: aws.String("devs")}))
	for _, v := range []string{"v1", "v3"} {
		must(c.DeletePolicyVersion(ctx, &iam.DeletePolicyVersionInput{PolicyArn: pol.Arn, VersionId: aws.String(v)}))
	}
	must(c.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: pol.Arn}))
	must(c.DeactivateMFADevice(ctx, &iam.DeactivateMFADeviceInput{UserName: aws.String("ann"), SerialNumber: mfa.SerialNumber}))
	must(c.DeleteVirtualMFADevice(ctx, &iam.DeleteVirtualMFADeviceInput{SerialNumber: mfa.SerialNumber}))
	must(c.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("ann"), AccessKeyId: key.AccessKeyId}))
	must(c.DeleteLoginProfile(ctx, &iam.DeleteLoginProfileInput{UserName: aws.String("ann")}))
	must(c.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: aws.String("ann"), PolicyArn: aws.String("arn:aws:iam::aws:policy/ReadOnlyAccess")}))
	must(c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("ann")}))
	a := srv.Account("210987654321")
	if n := len(a.IAM.Users) + len(a.IAM.Groups) + len(a.IAM.Roles) + len(a.IAM.Policies) + len(a.IAM.InstanceProfiles) + len(a.IAM.UnassignedVirtualMFA); n != 0 {
		t.Errorf("after teardown the account still holds %d entities", n)
	}
}

// TestIAMWriteErrors: each write answers IAM's error for what IAM
// refuses, through the SDK.
func TestIAMWriteErrors(t *testing.T) {
	defer failOnMust(t)
	_, c := emptyAccount(t)
	ctx := context.Background()
	pol := must(c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("p"), PolicyDocument: aws.String(s3Read)})).Policy
	must(c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(ec2Only)}))
	must(c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("g")}))
	must(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("u")}))
	must(c.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("g"), UserName: aws.String("u")}))
	must(c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("r"), PolicyArn: pol.Arn}))
	must(c.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("ip")}))
	must(c.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("ip"), RoleName: aws.String("r")}))
	must(c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("r2"), AssumeRolePolicyDocument: aws.String(ec2Only)}))
	serial := must(c.CreateVirtualMFADevice(ctx, &iam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String("d")})).VirtualMFADevice.SerialNumber

	bigDoc := `{"Version":"2012-10-17","Statement":[` + strings.Repeat(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket-with-a-long-name/*"},`, 90) +
		`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`
	cases := []struct {
		name string
		call func() error
		code string
	}{
		{"CreatePolicy twice", func() error {
			_, err := c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("p"), Path: aws.String("/other/"), PolicyDocument: aws.String(s3Read)})
			return err
		}, "EntityAlreadyExists"},
		{"CreatePolicy Effect Perhaps", func() error {
			_, err := c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("q"), PolicyDocument: aws.String(`{"Statement":[{"Effect":"Perhaps","Action":"s3:*","Resource":"*"}]}`)})
			return err
		}, "MalformedPolicyDocument"},
		{"CreatePolicy Statement nope", func() error {
			_, err := c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("q"), PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":"nope"}`)})
			return err
		}, "MalformedPolicyDocument"},
		{"CreatePolicy over 6144 characters", func() error {
			_, err := c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("q"), PolicyDocument: aws.String(bigDoc)})
			return err
		}, "LimitExceeded"},
		{"CreatePolicy bad name", func() error {
			_, err := c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("no spaces"), PolicyDocument: aws.String(s3Read)})
			return err
		}, "ValidationError"},
		{"CreatePolicyVersion malformed", func() error {
			_, err := c.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: pol.Arn, PolicyDocument: aws.String(`{"Statement":[{"Effect":"Allow","Action":"s3:*"}]}`)})
			return err
		}, "MalformedPolicyDocument"},
		{"CreatePolicyVersion of an AWS managed policy", func() error {
			_, err := c.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: aws.String("arn:aws:iam::aws:policy/ReadOnlyAccess"), PolicyDocument: aws.String(s3Read)})
			return err
		}, "NoSuchEntity"},
		{"DeletePolicyVersion of the default", func() error {
			_, err := c.DeletePolicyVersion(ctx, &iam.DeletePolicyVersionInput{PolicyArn: pol.Arn, VersionId: aws.String("v1")})
			return err
		}, "DeleteConflict"},
		{"DeletePolicy attached", func() error {
			_, err := c.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: pol.Arn})
			return err
		}, "DeleteConflict"},
		{"GetPolicy unknown", func() error {
			_, err := c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String("arn:aws:iam::210987654321:policy/none")})
			return err
		}, "NoSuchEntity"},
		{"CreateRole twice, other case", func() error {
			_, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("R"), AssumeRolePolicyDocument: aws.String(ec2Only)})
			return err
		}, "EntityAlreadyExists"},
		{"CreateRole trust policy without principal", func() error {
			_, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("x"), AssumeRolePolicyDocument: aws.String(`{"Statement":[{"Effect":"Allow","Action":"sts:AssumeRole"}]}`)})
			return err
		}, "MalformedPolicyDocument"},
		{"CreateRole MaxSessionDuration too long", func() error {
			_, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("x"), AssumeRolePolicyDocument: aws.String(ec2Only), MaxSessionDuration: aws.Int32(50000)})
			return err
		}, "ValidationError"},
		{"UpdateAssumeRolePolicy with a resource", func() error {
			_, err := c.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("r"), PolicyDocument: aws.String(s3Read)})
			return err
		}, "MalformedPolicyDocument"},
		{"DeleteRole in an instance profile", func() error {
			_, err := c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("r")})
			return err
		}, "DeleteConflict"},
		{"GetRole unknown", func() error {
			_, err := c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("none")})
			return err
		}, "NoSuchEntity"},
		{"DeleteGroup with a member", func() error {
			_, err := c.DeleteGroup(ctx, &iam.DeleteGroupInput{GroupName: aws.String("g")})
			return err
		}, "DeleteConflict"},
		{"CreateGroup twice", func() error {
			_, err := c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("G")})
			return err
		}, "EntityAlreadyExists"},
		{"AddUserToGroup unknown group", func() error {
			_, err := c.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("none"), UserName: aws.String("u")})
			return err
		}, "NoSuchEntity"},
		{"AttachUserPolicy unknown policy", func() error {
			_, err := c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("u"), PolicyArn: aws.String("arn:aws:iam::210987654321:policy/none")})
			return err
		}, "NoSuchEntity"},
		{"DetachGroupPolicy not attached", func() error {
			_, err := c.DetachGroupPolicy(ctx, &iam.DetachGroupPolicyInput{GroupName: aws.String("g"), PolicyArn: pol.Arn})
			return err
		}, "NoSuchEntity"},
		{"AddRoleToInstanceProfile a second role", func() error {
			_, err := c.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("ip"), RoleName: aws.String("r2")})
			return err
		}, "LimitExceeded"},
		{"DeleteInstanceProfile with a role", func() error {
			_, err := c.DeleteInstanceProfile(ctx, &iam.DeleteInstanceProfileInput{InstanceProfileName: aws.String("ip")})
			return err
		}, "DeleteConflict"},
		{"CreateVirtualMFADevice twice", func() error {
			_, err := c.CreateVirtualMFADevice(ctx, &iam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String("d")})
			return err
		}, "EntityAlreadyExists"},
		{"EnableMFADevice the same code twice", func() error {
			_, err := c.EnableMFADevice(ctx, &iam.EnableMFADeviceInput{UserName: aws.String("u"), SerialNumber: serial, AuthenticationCode1: aws.String("111111"), AuthenticationCode2: aws.String("111111")})
			return err
		}, "InvalidAuthenticationCode"},
		{"EnableMFADevice unknown virtual device", func() error {
			_, err := c.EnableMFADevice(ctx, &iam.EnableMFADeviceInput{UserName: aws.String("u"), SerialNumber: aws.String("arn:aws:iam::210987654321:mfa/none"), AuthenticationCode1: aws.String("111111"), AuthenticationCode2: aws.String("222222")})
			return err
		}, "NoSuchEntity"},
		{"TagUser duplicate keys", func() error {
			_, err := c.TagUser(ctx, &iam.TagUserInput{UserName: aws.String("u"), Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("1")}, {Key: aws.String("A"), Value: aws.String("2")}}})
			return err
		}, "InvalidInput"},
		{"TagRole over 50 tags", func() error {
			var ts []types.Tag
			for i := range 51 {
				ts = append(ts, types.Tag{Key: aws.String("k" + string(rune('a'+i%26)) + string(rune('a'+i/26))), Value: aws.String("v")})
			}
			_, err := c.TagRole(ctx, &iam.TagRoleInput{RoleName: aws.String("r"), Tags: ts})
			return err
		}, "ValidationError"},
		{"CreateUser bad path", func() error {
			_, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("v"), Path: aws.String("no-slashes")})
			return err
		}, "ValidationError"},
	}
	for _, tc := range cases {
		if err := tc.call(); apiCode(err) != tc.code {
			t.Errorf("%s: err = %v, want %s", tc.name, err, tc.code)
		}
	}

	// Five versions at most; SetDefaultPolicyVersion moves the default.
	for i := 2; i <= 5; i++ {
		must(c.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: pol.Arn, PolicyDocument: aws.String(s3Write)}))
	}
	if _, err := c.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: pol.Arn, PolicyDocument: aws.String(s3Write)}); apiCode(err) != "LimitExceeded" {
		t.Errorf("a sixth version: err = %v, want LimitExceeded", err)
	}
	must(c.SetDefaultPolicyVersion(ctx, &iam.SetDefaultPolicyVersionInput{PolicyArn: pol.Arn, VersionId: aws.String("v4")}))
	if p := must(c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: pol.Arn})).Policy; *p.DefaultVersionId != "v4" {
		t.Errorf("default version = %s, want v4", *p.DefaultVersionId)
	}
	must(c.DeletePolicyVersion(ctx, &iam.DeletePolicyVersionInput{PolicyArn: pol.Arn, VersionId: aws.String("v2")}))
	if v := must(c.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: pol.Arn, PolicyDocument: aws.String(s3Write)})).PolicyVersion; *v.VersionId != "v6" {
		t.Errorf("version after v5 = %s, want v6", *v.VersionId)
	}
}

// TestEveryIAMActionHasAHandler: the action table serves the actions the
// issue names, and an unknown action answers InvalidAction.
func TestEveryIAMActionHasAHandler(t *testing.T) {
	for _, a := range []string{"CreatePolicy", "CreatePolicyVersion", "DeletePolicy", "DeletePolicyVersion", "GetPolicy", "GetPolicyVersion",
		"CreateRole", "DeleteRole", "GetRole", "UpdateAssumeRolePolicy", "AttachUserPolicy", "DetachUserPolicy", "AttachGroupPolicy",
		"DetachGroupPolicy", "AttachRolePolicy", "DetachRolePolicy", "PutUserPolicy", "DeleteUserPolicy", "PutGroupPolicy",
		"DeleteGroupPolicy", "PutRolePolicy", "DeleteRolePolicy", "CreateGroup", "DeleteGroup", "AddUserToGroup", "RemoveUserFromGroup",
		"CreateUser", "CreateLoginProfile", "CreateAccessKey", "UpdateAccessKey", "DeleteAccessKey", "CreateVirtualMFADevice",
		"EnableMFADevice", "TagUser", "UntagUser", "TagRole", "UntagRole", "TagPolicy", "UntagPolicy", "CreateInstanceProfile",
		"AddRoleToInstanceProfile", "RemoveRoleFromInstanceProfile", "DeleteInstanceProfile", "ListInstanceProfiles"} {
		if iamHandlers[a] == nil {
			t.Errorf("IAM action %s has no handler", a)
		}
	}
	_, c := emptyAccount(t)
	if _, err := c.CreateSAMLProvider(context.Background(), &iam.CreateSAMLProviderInput{Name: aws.String("x"), SAMLMetadataDocument: aws.String(strings.Repeat("x", 1000))}); apiCode(err) != "InvalidAction" {
		t.Errorf("an action awsfake does not serve: err = %v, want InvalidAction", err)
	}
}

// TestUpdateUserAndBoundaries: a user moved and renamed keeps its groups
// and keys under its new ARN; boundaries are set, changed and removed.
func TestUpdateUserAndBoundaries(t *testing.T) {
	defer failOnMust(t)
	srv, c := emptyAccount(t)
	ctx := context.Background()
	must(c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("g")}))
	must(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("k3")}))
	must(c.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("g"), UserName: aws.String("k3")}))
	key := must(c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("k3")})).AccessKey
	must(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("other")}))
	if _, err := c.UpdateUser(ctx, &iam.UpdateUserInput{UserName: aws.String("k3"), NewUserName: aws.String("OTHER")}); apiCode(err) != "EntityAlreadyExists" {
		t.Errorf("rename onto another user: err = %v, want EntityAlreadyExists", err)
	}
	must(c.UpdateUser(ctx, &iam.UpdateUserInput{UserName: aws.String("k3"), NewPath: aws.String("/other/"), NewUserName: aws.String("k4")}))
	u := must(c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("k4")})).User
	if *u.Arn != "arn:aws:iam::210987654321:user/other/k4" {
		t.Errorf("renamed user ARN = %s", *u.Arn)
	}
	if g := must(c.GetGroup(ctx, &iam.GetGroupInput{GroupName: aws.String("g")})); len(g.Users) != 1 || *g.Users[0].UserName != "k4" {
		t.Errorf("group members after rename = %+v", g.Users)
	}
	own := iamClient(srv, Credentials{AccessKeyID: *key.AccessKeyId, SecretAccessKey: *key.SecretAccessKey})
	if keys := must(own.ListAccessKeys(ctx, &iam.ListAccessKeysInput{})); len(keys.AccessKeyMetadata) != 1 || *keys.AccessKeyMetadata[0].UserName != "k4" {
		t.Errorf("the renamed user's own key lists %+v", keys.AccessKeyMetadata)
	}

	if _, err := c.PutUserPermissionsBoundary(ctx, &iam.PutUserPermissionsBoundaryInput{UserName: aws.String("k4"), PermissionsBoundary: aws.String("arn:aws:iam::210987654321:policy/none")}); apiCode(err) != "NoSuchEntity" {
		t.Errorf("boundary of an unknown policy: err = %v, want NoSuchEntity", err)
	}
	must(c.PutUserPermissionsBoundary(ctx, &iam.PutUserPermissionsBoundaryInput{UserName: aws.String("k4"), PermissionsBoundary: aws.String("arn:aws:iam::aws:policy/PowerUserAccess")}))
	if u := must(c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("k4")})).User; u.PermissionsBoundary == nil || *u.PermissionsBoundary.PermissionsBoundaryArn != "arn:aws:iam::aws:policy/PowerUserAccess" {
		t.Errorf("boundary after Put = %+v", u.PermissionsBoundary)
	}
	must(c.DeleteUserPermissionsBoundary(ctx, &iam.DeleteUserPermissionsBoundaryInput{UserName: aws.String("k4")}))
	if u := must(c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("k4")})).User; u.PermissionsBoundary != nil {
		t.Errorf("boundary after Delete = %+v", u.PermissionsBoundary)
	}
	must(c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(ec2Only)}))
	must(c.PutRolePermissionsBoundary(ctx, &iam.PutRolePermissionsBoundaryInput{RoleName: aws.String("r"), PermissionsBoundary: aws.String("arn:aws:iam::aws:policy/PowerUserAccess")}))
	if r := must(c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("r")})).Role; r.PermissionsBoundary == nil {
		t.Error("role boundary not set")
	}
}

func TestListEntitiesForPolicy(t *testing.T) {
	defer failOnMust(t)
	_, c := emptyAccount(t)
	ctx := context.Background()
	pol := must(c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("p"), PolicyDocument: aws.String(s3Read)})).Policy
	must(c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("g")}))
	must(c.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String("g"), PolicyArn: pol.Arn}))
	for _, u := range []string{"a", "b", "c"} {
		must(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(u)}))
	}
	must(c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("a"), PolicyArn: pol.Arn}))
	must(c.PutUserPermissionsBoundary(ctx, &iam.PutUserPermissionsBoundaryInput{UserName: aws.String("b"), PermissionsBoundary: pol.Arn}))
	must(c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(ec2Only)}))
	must(c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("r"), PolicyArn: pol.Arn}))

	var groups, users, roles []string
	p := iam.NewListEntitiesForPolicyPaginator(c, &iam.ListEntitiesForPolicyInput{PolicyArn: pol.Arn, MaxItems: aws.Int32(1)})
	for p.HasMorePages() {
		out := must(p.NextPage(ctx))
		for _, g := range out.PolicyGroups {
			groups = append(groups, *g.GroupName)
		}
		for _, u := range out.PolicyUsers {
			users = append(users, *u.UserName)
		}
		for _, r := range out.PolicyRoles {
			roles = append(roles, *r.RoleName)
		}
	}
	if !slices.Equal(groups, []string{"g"}) || !slices.Equal(users, []string{"a", "b"}) || !slices.Equal(roles, []string{"r"}) {
		t.Errorf("entities = %v %v %v, want [g] [a b] [r]", groups, users, roles)
	}
	out := must(c.ListEntitiesForPolicy(ctx, &iam.ListEntitiesForPolicyInput{PolicyArn: pol.Arn, EntityFilter: types.EntityTypeUser,
		PolicyUsageFilter: types.PolicyUsageTypePermissionsBoundary}))
	if len(out.PolicyUsers) != 1 || *out.PolicyUsers[0].UserName != "b" || len(out.PolicyGroups)+len(out.PolicyRoles) != 0 {
		t.Errorf("boundary users = %+v", out)
	}
}

func TestUpdateGroupAndLoginProfile(t *testing.T) {
	defer failOnMust(t)
	srv, c := emptyAccount(t)
	ctx := context.Background()
	must(c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("old")}))
	must(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("u")}))
	must(c.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("old"), UserName: aws.String("u")}))
	must(c.UpdateGroup(ctx, &iam.UpdateGroupInput{GroupName: aws.String("old"), NewGroupName: aws.String("new"), NewPath: aws.String("/t/")}))
	gs := must(c.ListGroupsForUser(ctx, &iam.ListGroupsForUserInput{UserName: aws.String("u")})).Groups
	if len(gs) != 1 || *gs[0].Arn != "arn:aws:iam::210987654321:group/t/new" {
		t.Errorf("groups after rename = %+v", gs)
	}
	must(c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("taken")}))
	if _, err := c.UpdateGroup(ctx, &iam.UpdateGroupInput{GroupName: aws.String("new"), NewGroupName: aws.String("TAKEN")}); apiCode(err) != "EntityAlreadyExists" {
		t.Errorf("rename onto another group: err = %v, want EntityAlreadyExists", err)
	}
	if _, err := c.UpdateGroup(ctx, &iam.UpdateGroupInput{GroupName: aws.String("new"), NewGroupName: aws.String(strings.Repeat("g", 129))}); apiCode(err) != "ValidationError" ||
		!strings.Contains(err.Error(), "'newGroupName'") {
		t.Errorf("a 129-character NewGroupName: err = %v, want a ValidationError naming newGroupName", err)
	}
	if _, err := c.UpdateGroup(ctx, &iam.UpdateGroupInput{GroupName: aws.String("new"), NewPath: aws.String("bad")}); apiCode(err) != "ValidationError" {
		t.Errorf("NewPath bad: err = %v, want ValidationError", err)
	}
	must(c.UpdateGroup(ctx, &iam.UpdateGroupInput{GroupName: aws.String("new"), NewGroupName: aws.String("NEW")})) // its own name in another case
	if _, err := c.UpdateLoginProfile(ctx, &iam.UpdateLoginProfileInput{UserName: aws.String("u"), Password: aws.String("long-enough-1")}); apiCode(err) != "NoSuchEntity" {
		t.Errorf("UpdateLoginProfile without a profile: err = %v, want NoSuchEntity", err)
	}
	must(c.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String("u"), Password: aws.String("long-enough-1")}))
	if _, err := c.UpdateLoginProfile(ctx, &iam.UpdateLoginProfileInput{UserName: aws.String("u"), Password: aws.String("short")}); apiCode(err) != "PasswordPolicyViolation" {
		t.Errorf("a short password: err = %v, want PasswordPolicyViolation", err)
	}
	must(c.UpdateLoginProfile(ctx, &iam.UpdateLoginProfileInput{UserName: aws.String("u"), Password: aws.String("another-one-2"), PasswordResetRequired: aws.Bool(true)}))
	if lp := srv.Account("210987654321").IAM.Users["u"].LoginProfile; lp.Password != "another-one-2" || !lp.PasswordResetRequired {
		t.Errorf("login profile after update = %+v", lp)
	}
}

// TestIAMCreateNameAndPath: every IAM create action checks its name and
// path as IAM does, naming the member that failed (userName, roleName, …),
// and refuses a name taken in another case.
func TestIAMCreateNameAndPath(t *testing.T) {
	_, c := emptyAccount(t)
	ctx := context.Background()
	long, badPath := strings.Repeat("n", 300), aws.String("no-slashes")
	for _, tc := range []struct {
		member string
		create func(name string, path *string) error
	}{
		{"userName", func(n string, p *string) error {
			_, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(n), Path: p})
			return err
		}},
		{"groupName", func(n string, p *string) error {
			_, err := c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String(n), Path: p})
			return err
		}},
		{"roleName", func(n string, p *string) error {
			_, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(n), Path: p, AssumeRolePolicyDocument: aws.String(ec2Only)})
			return err
		}},
		{"instanceProfileName", func(n string, p *string) error {
			_, err := c.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String(n), Path: p})
			return err
		}},
		{"virtualMFADeviceName", func(n string, p *string) error {
			_, err := c.CreateVirtualMFADevice(ctx, &iam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String(n), Path: p})
			return err
		}},
	} {
		if err := tc.create(long, nil); apiCode(err) != "ValidationError" || !strings.Contains(err.Error(), "at '"+tc.member+"'") {
			t.Errorf("%s of 300 characters: %v; want a ValidationError naming %s", tc.member, err, tc.member)
		}
		if err := tc.create("ok", badPath); apiCode(err) != "ValidationError" || !strings.Contains(err.Error(), "path is invalid") {
			t.Errorf("%s with path %q: %v; want a ValidationError for the path", tc.member, *badPath, err)
		}
		if tc.member == "virtualMFADeviceName" {
			continue // a device is found by its serial (path and name), not by name alone
		}
		if err := tc.create("Dup", nil); err != nil {
			t.Fatal(err)
		}
		if err := tc.create("DUP", aws.String("/other/")); apiCode(err) != "EntityAlreadyExists" || !strings.Contains(err.Error(), "DUP") {
			t.Errorf("%s DUP beside Dup: %v; want EntityAlreadyExists naming DUP (IAM names are unique in any case)", tc.member, err)
		}
	}
}
