package awsfake

import (
	"context"
	"encoding/csv"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/warden-iam/warden/internal/awsapi"
)

// sdkConfig builds an SDK config for the emulator with the SDK's standard
// retryer, as users have it, and request bodies buffered: a plain SDK client
// sometimes fails to read a large response with "use of closed network
// connection", because the SDK closes the request body while net/http still
// reads it (aws/aws-sdk-go-v2#1825; see internal/awsapi/httpclient.go).
func sdkConfig(srv *Server, c Credentials) aws.Config {
	cfg, err := config.LoadDefaultConfig(context.Background(),
		config.WithRegion("us-east-1"),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken)),
		config.WithBaseEndpoint(srv.URL()),
		config.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) { o.MaxBackoff = 10 * time.Millisecond })
		}))
	if err != nil {
		panic(err)
	}
	cfg.HTTPClient = awsapi.BufferedBodyClient(cfg.HTTPClient)
	return cfg
}

func iamClient(srv *Server, c Credentials) *iam.Client { return iam.NewFromConfig(sdkConfig(srv, c)) }

func TestGAADPagesEveryEntityOnce(t *testing.T) {
	srv := NewServer(Options{})
	defer srv.Close()
	truth := Estate{Users: 700, Groups: 60, Roles: 300, Policies: 100, Seed: 5}.Build()
	client := iamClient(srv, srv.AddAccount(truth))
	for _, max := range []int32{1000, 7} {
		users, groups, roles, policies, pages := map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}, 0
		p := iam.NewGetAccountAuthorizationDetailsPaginator(client, &iam.GetAccountAuthorizationDetailsInput{MaxItems: aws.Int32(max)})
		for p.HasMorePages() {
			out, err := p.NextPage(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			pages++
			for _, u := range out.UserDetailList {
				users[*u.UserName]++
				want := truth.IAM.Users[*u.UserName]
				for _, ip := range u.UserPolicyList {
					doc, err := url.PathUnescape(*ip.PolicyDocument)
					if err != nil || doc != want.InlinePolicies[*ip.PolicyName] {
						t.Fatalf("inline policy %s of %s decodes to %q, want %q", *ip.PolicyName, *u.UserName, doc, want.InlinePolicies[*ip.PolicyName])
					}
				}
				if len(u.GroupList) != len(want.Groups) || len(u.AttachedManagedPolicies) != len(want.AttachedPolicies) {
					t.Fatalf("user %s: groups/policies differ from the truth", *u.UserName)
				}
			}
			for _, g := range out.GroupDetailList {
				groups[*g.GroupName]++
			}
			for _, r := range out.RoleDetailList {
				roles[*r.RoleName]++
				doc, _ := url.PathUnescape(*r.AssumeRolePolicyDocument)
				if doc != truth.IAM.Roles[*r.RoleName].AssumeRolePolicy {
					t.Fatalf("trust policy of %s differs", *r.RoleName)
				}
			}
			for _, pol := range out.Policies {
				policies[*pol.Arn]++
			}
		}
		for name, n := range users {
			if n != 1 {
				t.Errorf("MaxItems %d: user %s listed %d times", max, name, n)
			}
		}
		if len(users) != 700 || len(groups) != 60 || len(roles) != 300 {
			t.Errorf("MaxItems %d: got %d users, %d groups, %d roles", max, len(users), len(groups), len(roles))
		}
		for arn := range truth.IAM.Policies {
			if policies[arn] != 1 {
				t.Errorf("MaxItems %d: customer policy %s listed %d times", max, arn, policies[arn])
			}
		}
		if max == 1000 && pages != 2 {
			t.Errorf("MaxItems 1000: %d pages, want 2", pages)
		}
	}
	calls := srv.Calls()
	if calls["iam:GetAccountAuthorizationDetails"] < 100 {
		t.Errorf("call counter = %v", calls)
	}
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func TestErrors(t *testing.T) {
	srv := NewServer(Options{})
	defer srv.Close()
	client := iamClient(srv, srv.AddAccount(Estate{Users: 3, Seed: 1}.Build()))
	ctx := context.Background()
	for _, max := range []int32{0, 1001} {
		_, err := client.GetAccountAuthorizationDetails(ctx, &iam.GetAccountAuthorizationDetailsInput{MaxItems: aws.Int32(max)})
		if apiCode(err) != "ValidationError" {
			t.Errorf("MaxItems %d: err = %v, want ValidationError", max, err)
		}
	}
	_, err := client.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("nobody")})
	var nse *types.NoSuchEntityException
	if !errors.As(err, &nse) {
		t.Errorf("ListAccessKeys(nobody) err = %v, want NoSuchEntityException", err)
	}
	bad := iamClient(srv, Credentials{AccessKeyID: "AKIAUNKNOWN", SecretAccessKey: "x"})
	if _, err := bad.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("x")}); apiCode(err) != "InvalidClientTokenId" {
		t.Errorf("unknown key: err = %v, want InvalidClientTokenId", err)
	}
	srv.SetOptions(Options{ThrottleFraction: 1})
	if _, err := client.GetCredentialReport(ctx, &iam.GetCredentialReportInput{}); apiCode(err) != "Throttling" || !retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err).Bool() {
		t.Errorf("throttled call: err = %v, want a retryable Throttling", err)
	}
}

func TestCredentialReportLifecycle(t *testing.T) {
	srv := NewServer(Options{})
	defer srv.Close()
	truth := Estate{Users: 25, Seed: 9}.Build()
	client := iamClient(srv, srv.AddAccount(truth))
	ctx := context.Background()
	if _, err := client.GetCredentialReport(ctx, &iam.GetCredentialReportInput{}); apiCode(err) != "ReportNotPresent" {
		t.Fatalf("before Generate: err = %v, want ReportNotPresent", err)
	}
	gen, err := client.GenerateCredentialReport(ctx, &iam.GenerateCredentialReportInput{})
	if err != nil || gen.State != types.ReportStateTypeStarted {
		t.Fatalf("first Generate = %v, %v; want STARTED", gen, err)
	}
	if gen, _ := client.GenerateCredentialReport(ctx, &iam.GenerateCredentialReportInput{}); gen.State != types.ReportStateTypeComplete {
		t.Fatalf("second Generate = %v; want COMPLETE for a fresh report", gen.State)
	}
	out, err := client.GetCredentialReport(ctx, &iam.GetCredentialReportInput{})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(strings.NewReader(string(out.Content))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows[0]) != 22 || rows[0][0] != "user" || rows[0][21] != "cert_2_last_rotated" {
		t.Fatalf("header = %v", rows[0])
	}
	if rows[1][0] != "<root_account>" || rows[1][3] != "not_supported" || len(rows) != 2+len(truth.IAM.Users) {
		t.Fatalf("root row = %v, rows = %d", rows[1], len(rows))
	}
	for _, row := range rows[2:] {
		u := truth.IAM.Users[row[0]]
		if (row[3] == "true") != (u.LoginProfile != nil) || (row[7] == "true") != (len(u.MFADevices) > 0) {
			t.Errorf("row of %s disagrees with the truth: %v", row[0], row)
		}
		if u.LoginProfile == nil && row[4] != "N/A" {
			t.Errorf("%s has no password but password_last_used = %q", row[0], row[4])
		}
	}

	slow := NewServer(Options{CredentialReportDelay: 1 << 40})
	defer slow.Close()
	c2 := iamClient(slow, slow.AddAccount(truth))
	c2.GenerateCredentialReport(ctx, &iam.GenerateCredentialReportInput{})
	if _, err := c2.GetCredentialReport(ctx, &iam.GetCredentialReportInput{}); apiCode(err) != "ReportInProgress" {
		t.Fatalf("while generating: err = %v, want ReportInProgress", err)
	}
}

func TestCallerIdentityMapsCredentialsToAccounts(t *testing.T) {
	srv := NewServer(Options{})
	defer srv.Close()
	for _, id := range []string{"111111111111", "222222222222"} {
		c := srv.AddAccount(Estate{AccountID: id, Users: 1, Seed: 1}.Build())
		out, err := sts.NewFromConfig(sdkConfig(srv, c)).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
		if err != nil || *out.Account != id || !strings.HasPrefix(*out.Arn, "arn:aws:iam::"+id+":") {
			t.Fatalf("GetCallerIdentity = %v, %v; want account %s", out, err, id)
		}
	}
	if got := srv.CallsFor("111111111111")["sts:GetCallerIdentity"]; got != 1 {
		t.Errorf("CallsFor = %d, want 1", got)
	}
}

func TestEstateIsDeterministicAndConsistent(t *testing.T) {
	a, b := Estate{Users: 200, Groups: 20, Roles: 40, Policies: 30, Seed: 3}.Build(), Estate{Users: 200, Groups: 20, Roles: 40, Policies: 30, Seed: 3}.Build()
	if len(a.IAM.Users) != 200 || len(a.IAM.Roles) != 40 {
		t.Fatalf("counts: %d users, %d roles", len(a.IAM.Users), len(a.IAM.Roles))
	}
	for name, u := range a.IAM.Users {
		if b.IAM.Users[name] == nil || b.IAM.Users[name].ID != u.ID {
			t.Fatalf("user %s differs between two builds of one estate", name)
		}
		if len(u.AttachedPolicies) > 10 || len(u.AccessKeys) > 2 {
			t.Errorf("user %s breaks an AWS limit", name)
		}
		for _, g := range u.Groups {
			found := false
			for _, m := range a.IAM.Groups[g].Members {
				found = found || m == name
			}
			if !found {
				t.Errorf("user %s is in group %s but not among its members", name, g)
			}
		}
	}
	c := a.Clone()
	for _, u := range c.IAM.Users {
		u.Groups = append(u.Groups, "mutated")
		u.AccessKeys = nil
	}
	for name, u := range a.IAM.Users {
		if len(u.Groups) != len(b.IAM.Users[name].Groups) || len(u.AccessKeys) != len(b.IAM.Users[name].AccessKeys) {
			t.Fatalf("mutating a clone changed the original user %s", name)
		}
	}
}

func TestPerEntityReadActions(t *testing.T) {
	srv := NewServer(Options{})
	defer srv.Close()
	truth := Estate{Users: 30, Groups: 5, Roles: 8, Policies: 6, Seed: 4}.Build()
	client := iamClient(srv, srv.AddAccount(truth))
	ctx := context.Background()
	var users []string
	p := iam.NewListUsersPaginator(client, &iam.ListUsersInput{MaxItems: aws.Int32(7)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range out.Users {
			users = append(users, *u.UserName)
		}
	}
	if len(users) != 30 {
		t.Fatalf("ListUsers paged %d users, want 30", len(users))
	}
	for _, name := range users {
		u := truth.IAM.Users[name]
		groups, err := client.ListGroupsForUser(ctx, &iam.ListGroupsForUserInput{UserName: aws.String(name)})
		if err != nil || len(groups.Groups) != len(u.Groups) {
			t.Fatalf("ListGroupsForUser(%s) = %d groups, %v; want %d", name, len(groups.Groups), err, len(u.Groups))
		}
		att, err := client.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: aws.String(name)})
		if err != nil || len(att.AttachedPolicies) != len(u.AttachedPolicies) {
			t.Fatalf("ListAttachedUserPolicies(%s) = %d, %v", name, len(att.AttachedPolicies), err)
		}
		inl, err := client.ListUserPolicies(ctx, &iam.ListUserPoliciesInput{UserName: aws.String(name)})
		if err != nil || len(inl.PolicyNames) != len(u.InlinePolicies) {
			t.Fatalf("ListUserPolicies(%s) = %v, %v", name, inl, err)
		}
		for _, pn := range inl.PolicyNames {
			got, err := client.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: aws.String(name), PolicyName: aws.String(pn)})
			if err != nil {
				t.Fatal(err)
			}
			if doc, _ := url.PathUnescape(*got.PolicyDocument); doc != u.InlinePolicies[pn] {
				t.Fatalf("GetUserPolicy(%s, %s) document differs", name, pn)
			}
		}
		_, err = client.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: aws.String(name)})
		var nse *types.NoSuchEntityException
		if (u.LoginProfile == nil) != errors.As(err, &nse) {
			t.Fatalf("GetLoginProfile(%s) err = %v, has profile %v", name, err, u.LoginProfile != nil)
		}
		mfa, err := client.ListMFADevices(ctx, &iam.ListMFADevicesInput{UserName: aws.String(name)})
		if err != nil || len(mfa.MFADevices) != len(u.MFADevices) {
			t.Fatalf("ListMFADevices(%s) = %v, %v", name, mfa, err)
		}
	}
	for name, g := range truth.IAM.Groups {
		out, err := client.GetGroup(ctx, &iam.GetGroupInput{GroupName: aws.String(name), MaxItems: aws.Int32(1000)})
		if err != nil || len(out.Users) != len(g.Members) || *out.Group.GroupName != name {
			t.Fatalf("GetGroup(%s) = %v, %v", name, out, err)
		}
	}
	for arn, pol := range truth.IAM.Policies {
		got, err := client.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)})
		if err != nil || *got.Policy.DefaultVersionId != pol.DefaultVersionID {
			t.Fatalf("GetPolicy(%s) = %v, %v", arn, got, err)
		}
		v, err := client.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: got.Policy.DefaultVersionId})
		if err != nil || !v.PolicyVersion.IsDefaultVersion {
			t.Fatalf("GetPolicyVersion(%s) = %v, %v", arn, v, err)
		}
	}
	roles, err := client.ListRoles(ctx, &iam.ListRolesInput{MaxItems: aws.Int32(1000)})
	if err != nil || len(roles.Roles) != 8 {
		t.Fatalf("ListRoles = %v, %v", roles, err)
	}
	local, err := client.ListPolicies(ctx, &iam.ListPoliciesInput{Scope: types.PolicyScopeTypeLocal, MaxItems: aws.Int32(1000)})
	if err != nil || len(local.Policies) != 6 {
		t.Fatalf("ListPolicies(Local) = %d, %v", len(local.Policies), err)
	}
	if _, err := client.GetGroup(ctx, &iam.GetGroupInput{GroupName: aws.String("nope")}); apiCode(err) != "NoSuchEntity" {
		t.Fatalf("GetGroup(nope) err = %v", err)
	}
}
