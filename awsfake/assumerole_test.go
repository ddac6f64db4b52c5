package awsfake

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

const (
	callerAccount = "111111111111"
	targetAccount = "222222222222"
	thirdAccount  = "333333333333"
)

// trustRole is a role in account whose trust policy is doc.
func trustRole(account, path, name, doc string, maxSession int32) *Role {
	return &Role{Name: name, ID: "AROAFAKE" + strings.ToUpper(name), Path: path, ARN: "arn:aws:iam::" + account + ":role" + path + name,
		AssumeRolePolicy: doc, MaxSessionDuration: maxSession, InlinePolicies: map[string]string{}}
}

// accountWithRoles is a small generated account holding roles.
func accountWithRoles(id string, roles ...*Role) *Account {
	a := Estate{AccountID: id, Users: 2, Seed: 3}.Build()
	for _, r := range roles {
		a.IAM.Roles[r.Name] = r
	}
	return a
}

func assume(ctx context.Context, c *sts.Client, roleARN, session string, externalID *string) (*sts.AssumeRoleOutput, error) {
	return c.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String(session), ExternalId: externalID})
}

// TestAssumeRoleTrustThroughSDK evaluates trust policies end to end: a user
// of callerAccount assumes a role in targetAccount whose trust is doc.
func TestAssumeRoleTrustThroughSDK(t *testing.T) {
	callerARN := "arn:aws:iam::" + callerAccount + ":user/warden-admin"
	allow := func(principal, condition string) string {
		return fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":%s,"Action":"sts:AssumeRole"%s}]}`, principal, condition)
	}
	cases := []struct {
		name       string
		doc        string
		externalID *string
		want       bool
	}{
		{"account root", allow(`{"AWS":"arn:aws:iam::`+callerAccount+`:root"}`, ""), nil, true},
		{"bare account id", allow(`{"AWS":"`+callerAccount+`"}`, ""), nil, true},
		{"the caller's own ARN", allow(`{"AWS":["arn:aws:iam::999999999999:root","`+callerARN+`"]}`, ""), nil, true},
		{"another user of the account", allow(`{"AWS":"arn:aws:iam::`+callerAccount+`:user/someone-else"}`, ""), nil, false},
		{"another account", allow(`{"AWS":"arn:aws:iam::`+thirdAccount+`:root"}`, ""), nil, false},
		{"anyone", allow(`{"AWS":"*"}`, ""), nil, true},
		{"a service only", allow(`{"Service":"ec2.amazonaws.com"}`, ""), nil, false},
		{"ExternalId equal", allow(`{"AWS":"`+callerAccount+`"}`, `,"Condition":{"StringEquals":{"sts:ExternalId":"ext-0123"}}`), aws.String("ext-0123"), true},
		{"ExternalId differs", allow(`{"AWS":"`+callerAccount+`"}`, `,"Condition":{"StringEquals":{"sts:ExternalId":"ext-0123"}}`), aws.String("ext-9999"), false},
		{"ExternalId missing", allow(`{"AWS":"`+callerAccount+`"}`, `,"Condition":{"StringEquals":{"sts:ExternalId":"ext-0123"}}`), nil, false},
		{"ExternalId like", allow(`{"AWS":"`+callerAccount+`"}`, `,"Condition":{"StringLike":{"sts:ExternalId":"ext-*"}}`), aws.String("ext-42"), true},
		{"ExternalId sent but not required", allow(`{"AWS":"`+callerAccount+`"}`, ""), aws.String("ext-0123"), true},
		{"condition the emulator cannot evaluate", allow(`{"AWS":"`+callerAccount+`"}`, `,"Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}`), nil, false},
		{"deny wins over allow", `{"Version":"2012-10-17","Statement":[` +
			`{"Effect":"Allow","Principal":{"AWS":"` + callerAccount + `"},"Action":"sts:AssumeRole"},` +
			`{"Effect":"Deny","Principal":{"AWS":"` + callerARN + `"},"Action":"sts:*"}]}`, nil, false},
		{"a deny for someone else", `{"Version":"2012-10-17","Statement":[` +
			`{"Effect":"Allow","Principal":{"AWS":"` + callerAccount + `"},"Action":"sts:AssumeRole"},` +
			`{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::` + callerAccount + `:user/mallory"},"Action":"sts:AssumeRole"}]}`, nil, true},
	}
	srv := NewServer(Options{})
	defer srv.Close()
	base := sdkConfig(srv, srv.AddAccount(Estate{AccountID: callerAccount, Users: 1}.Build()))
	stsc := sts.NewFromConfig(base)
	ctx := context.Background()
	for _, c := range cases {
		role := trustRole(targetAccount, "/teams/", "target", c.doc, 3600)
		srv.AddAccount(accountWithRoles(targetAccount, role))
		out, err := assume(ctx, stsc, role.ARN, "trust-test", c.externalID)
		if !c.want {
			want := "User: " + callerARN + " is not authorized to perform: sts:AssumeRole on resource: " + role.ARN
			var re *smithyhttp.ResponseError
			if apiCode(err) != "AccessDenied" || !strings.Contains(err.Error(), want) || !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusForbidden {
				t.Errorf("%s: %v, want a 403 AccessDenied saying %q", c.name, err, want)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if got, want := aws.ToString(out.AssumedRoleUser.Arn), "arn:aws:sts::"+targetAccount+":assumed-role/target/trust-test"; got != want {
			t.Errorf("%s: assumed-role ARN %s, want %s (no path in it)", c.name, got, want)
		}
	}
}

// TestAssumeRoleCredentials checks the credentials AssumeRole returns: their
// form, the account and identity they act as, where their calls are
// charged, and role chaining.
func TestAssumeRoleCredentials(t *testing.T) {
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	srv := NewServer(Options{Now: func() time.Time { return now }})
	defer srv.Close()
	trustCaller := `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + callerAccount + `:root"},"Action":"sts:AssumeRole"}]}`
	hop := trustRole(targetAccount, "/", "hop", trustCaller, 43200)
	// The last role trusts exactly the hop role, so only its sessions get in.
	last := trustRole(thirdAccount, "/", "last", `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"`+hop.ARN+`"},"Action":"sts:AssumeRole"}]}`, 43200)
	base := sdkConfig(srv, srv.AddAccount(Estate{AccountID: callerAccount, Users: 1}.Build()))
	srv.AddAccount(accountWithRoles(targetAccount, hop))
	srv.AddAccount(accountWithRoles(thirdAccount, last))
	ctx := context.Background()
	stsc := sts.NewFromConfig(base)

	out, err := stsc.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(hop.ARN), RoleSessionName: aws.String("warden@sync"), DurationSeconds: aws.Int32(7200)})
	if err != nil {
		t.Fatal(err)
	}
	c := out.Credentials
	if !strings.HasPrefix(aws.ToString(c.AccessKeyId), "ASIA") || aws.ToString(c.SecretAccessKey) == "" || aws.ToString(c.SessionToken) == "" {
		t.Errorf("credentials %s… are not temporary credentials", aws.ToString(c.AccessKeyId))
	}
	if !c.Expiration.Equal(now.Add(2 * time.Hour)) {
		t.Errorf("expiration %v, want %v", c.Expiration, now.Add(2*time.Hour))
	}
	if got, want := aws.ToString(out.AssumedRoleUser.AssumedRoleId), hop.ID+":warden@sync"; got != want {
		t.Errorf("AssumedRoleId %s, want %s", got, want)
	}
	hopCreds := Credentials{AccessKeyID: aws.ToString(c.AccessKeyId), SecretAccessKey: aws.ToString(c.SecretAccessKey), SessionToken: aws.ToString(c.SessionToken)}
	hopSTS := sts.NewFromConfig(sdkConfig(srv, hopCreds))
	id, err := hopSTS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(id.Account) != targetAccount || aws.ToString(id.Arn) != aws.ToString(out.AssumedRoleUser.Arn) || aws.ToString(id.UserId) != hop.ID+":warden@sync" {
		t.Errorf("GetCallerIdentity as the session = %s %s %s", aws.ToString(id.Account), aws.ToString(id.Arn), aws.ToString(id.UserId))
	}
	// The session's calls are charged to the account it acts in; the
	// AssumeRole call to the account that made it.
	if _, err := iam.NewFromConfig(sdkConfig(srv, hopCreds)).ListUsers(ctx, &iam.ListUsersInput{}); err != nil {
		t.Fatal(err)
	}
	if n := srv.CallsFor(targetAccount); n["sts:GetCallerIdentity"] != 1 || n["iam:ListUsers"] != 1 {
		t.Errorf("calls charged to %s = %v, want the session's GetCallerIdentity and ListUsers", targetAccount, n)
	}
	if n := srv.CallsFor(callerAccount)["sts:AssumeRole"]; n != 1 {
		t.Errorf("AssumeRole calls charged to the caller's account = %d, want 1", n)
	}

	// Role chaining: the session may assume the role trusting it, for at
	// most an hour; the base user may not.
	if _, err := hopSTS.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(last.ARN), RoleSessionName: aws.String("chained"), DurationSeconds: aws.Int32(7200)}); apiCode(err) != "ValidationError" ||
		!strings.Contains(err.Error(), "role chaining") {
		t.Errorf("chained session of two hours: %v, want ValidationError about role chaining", err)
	}
	chained, err := assume(ctx, hopSTS, last.ARN, "chained", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := aws.ToString(chained.AssumedRoleUser.Arn), "arn:aws:sts::"+thirdAccount+":assumed-role/last/chained"; got != want {
		t.Errorf("chained session ARN %s, want %s", got, want)
	}
	if _, err := assume(ctx, stsc, last.ARN, "direct", nil); apiCode(err) != "AccessDenied" {
		t.Errorf("the base user assuming the role that trusts only hop: %v, want AccessDenied", err)
	}
}

// TestAssumeRoleValidation checks AssumeRole's parameter limits.
func TestAssumeRoleValidation(t *testing.T) {
	srv := NewServer(Options{})
	defer srv.Close()
	role := trustRole(targetAccount, "/", "target", `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"`+callerAccount+`"},"Action":"sts:AssumeRole"}]}`, 3600)
	stsc := sts.NewFromConfig(sdkConfig(srv, srv.AddAccount(Estate{AccountID: callerAccount, Users: 1}.Build())))
	srv.AddAccount(accountWithRoles(targetAccount, role))
	ctx := context.Background()
	cases := []struct {
		name     string
		session  string
		duration int32
		ok       bool
	}{
		{"shortest session name", "ab", 0, true},
		{"longest session name", strings.Repeat("s", 64), 0, true},
		{"session name of one character", "a", 0, false},
		{"session name of 65 characters", strings.Repeat("s", 65), 0, false},
		{"session name with a space", "warden sync", 0, false},
		{"session name with every allowed symbol", "a_b+c=d,e.f@g-h", 0, true},
		{"shortest duration", "s1", 900, true},
		{"duration under 15 minutes", "s2", 899, false},
		{"duration over the role's maximum", "s3", 3601, false},
		{"duration over 12 hours", "s4", 43201, false},
	}
	for _, c := range cases {
		in := &sts.AssumeRoleInput{RoleArn: aws.String(role.ARN), RoleSessionName: aws.String(c.session)}
		if c.duration != 0 {
			in.DurationSeconds = aws.Int32(c.duration)
		}
		_, err := stsc.AssumeRole(ctx, in)
		if c.ok && err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
		if !c.ok && apiCode(err) != "ValidationError" {
			t.Errorf("%s: %v, want ValidationError", c.name, err)
		}
	}
}

// TestAssumedCredentialsExpire checks that a session's credentials work
// until their Expiration and then answer ExpiredToken on every protocol.
func TestAssumedCredentialsExpire(t *testing.T) {
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	clock := now
	srv := NewServer(Options{Now: func() time.Time { return clock }})
	defer srv.Close()
	e := OrgEstate{Accounts: 1, ExternalID: "expiry-test-external-id-0000000000", PerAccount: Estate{Users: 1}, Seed: 5}
	truth := e.Build()
	stsc := sts.NewFromConfig(sdkConfig(srv, truth.Install(srv)))
	ctx := context.Background()
	roleARN := "arn:aws:iam::" + truth.Members[0].ID + ":role/" + DefaultMemberRoleName
	out, err := stsc.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("warden"),
		ExternalId: aws.String(e.ExternalID), DurationSeconds: aws.Int32(900)})
	if err != nil {
		t.Fatal(err)
	}
	creds := Credentials{AccessKeyID: aws.ToString(out.Credentials.AccessKeyId), SecretAccessKey: aws.ToString(out.Credentials.SecretAccessKey),
		SessionToken: aws.ToString(out.Credentials.SessionToken)}
	memberIAM := iamClient(srv, creds)

	clock = now.Add(14 * time.Minute)
	if _, err := memberIAM.ListUsers(ctx, &iam.ListUsersInput{}); err != nil {
		t.Fatalf("a minute before expiry: %v", err)
	}
	clock = now.Add(15 * time.Minute)
	_, err = memberIAM.ListUsers(ctx, &iam.ListUsersInput{})
	var re *smithyhttp.ResponseError
	if apiCode(err) != "ExpiredToken" || !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusForbidden {
		t.Errorf("IAM at expiry: %v, want a 403 ExpiredToken", err)
	}
	_, err = orgClient(srv, creds).DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	if apiCode(err) != "ExpiredTokenException" {
		t.Errorf("Organizations at expiry: %v, want ExpiredTokenException", err)
	}
}
