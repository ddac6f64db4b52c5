package syncer

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/warden-iam/warden/awsfake"
	"github.com/warden-iam/warden/internal/awsapi"
	"github.com/warden-iam/warden/internal/store"
)

// TestSyncOfEstateBuiltThroughCalls builds an IAM estate in an empty
// account with the SDK calls users' own tools make (no Estate generator),
// writes down what each call made from its input and its answer, and
// checks that a sync stores exactly that. The ground truth here is the
// calls' record, not the emulator's state, so an emulator that answers a
// write without making it (or makes something else) fails the test.
func TestSyncOfEstateBuiltThroughCalls(t *testing.T) {
	isolateAWS(t)
	const acct = "246813579024"
	clock := time.Date(2026, 11, 2, 9, 30, 0, 0, time.UTC)
	srv := awsfake.NewServer(awsfake.Options{Now: func() time.Time { return clock }})
	t.Cleanup(srv.Close)
	creds := srv.AddAccount(awsfake.NewAccount(acct))

	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion("us-east-1"), config.WithBaseEndpoint(srv.URL()),
		config.WithCredentialsProvider(staticCredentials(creds)))
	if err != nil {
		t.Fatal(err)
	}
	cfg.HTTPClient = awsapi.BufferedBodyClient(cfg.HTTPClient)
	c := iam.NewFromConfig(cfg)
	check := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	date := func(s *time.Time) time.Time { return s.UTC() }

	// want is what the calls below make, in awsfake's state structs, so
	// expectedGraph can derive the graph a sync must store.
	want := awsfake.NewAccount(acct)
	in := want.IAM

	// Managed policies: one with a second default version, one for
	// boundaries.
	const (
		readDoc     = `{"Version":"2012-10-17","Statement":[{"Sid":"Read","Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":["arn:aws:s3:::data","arn:aws:s3:::data/*"]}]}`
		writeDoc    = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::data/*","Condition":{"StringEquals":{"aws:PrincipalTag/team":"data"}}}]}`
		boundaryDoc = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}]}`
		inlineDoc   = `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"dynamodb:Query","Resource":"arn:aws:dynamodb:*:246813579024:table/orders"}}`
	)
	managed := func(name, path, desc string, docs ...string) *awsfake.ManagedPolicy {
		t.Helper()
		out, err := c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String(name), Path: aws.String(path),
			Description: aws.String(desc), PolicyDocument: aws.String(docs[0])})
		check(err)
		p := &awsfake.ManagedPolicy{Name: name, ID: *out.Policy.PolicyId, Path: path, ARN: *out.Policy.Arn, Description: desc,
			CreatedAt: date(out.Policy.CreateDate), DefaultVersionID: *out.Policy.DefaultVersionId, IsAttachable: out.Policy.IsAttachable,
			Versions: []*awsfake.PolicyVersion{{ID: *out.Policy.DefaultVersionId, Document: docs[0]}}}
		for _, doc := range docs[1:] {
			v, err := c.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: out.Policy.Arn, PolicyDocument: aws.String(doc), SetAsDefault: true})
			check(err)
			p.Versions = append(p.Versions, &awsfake.PolicyVersion{ID: *v.PolicyVersion.VersionId, Document: doc})
			p.DefaultVersionID = *v.PolicyVersion.VersionId
		}
		in.Policies[p.ARN] = p
		return p
	}
	data := managed("data-access", "/teams/", "data team buckets", readDoc, writeDoc)
	bound := managed("dev-boundary", "/boundaries/", "no IAM", boundaryDoc)
	const readOnly = "arn:aws:iam::aws:policy/ReadOnlyAccess"

	// Groups.
	group := func(name, path string, attach []string, inline map[string]string) *awsfake.Group {
		t.Helper()
		out, err := c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String(name), Path: aws.String(path)})
		check(err)
		for _, arn := range attach {
			_, err := c.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String(name), PolicyArn: aws.String(arn)})
			check(err)
		}
		for n, doc := range inline {
			_, err := c.PutGroupPolicy(ctx, &iam.PutGroupPolicyInput{GroupName: aws.String(name), PolicyName: aws.String(n), PolicyDocument: aws.String(doc)})
			check(err)
		}
		g := &awsfake.Group{Name: name, ID: *out.Group.GroupId, Path: path, ARN: *out.Group.Arn, CreatedAt: date(out.Group.CreateDate),
			AttachedPolicies: attach, InlinePolicies: inline}
		in.Groups[name] = g
		return g
	}
	engineers := group("engineers", "/teams/", []string{data.ARN}, map[string]string{"orders": inlineDoc})
	readers := group("readers", "/", []string{readOnly}, map[string]string{})

	// Users: one with every kind of thing a user can hold, one with a key.
	user := func(name, path, boundary string, tags []awsfake.Tag) *awsfake.User {
		t.Helper()
		input := &iam.CreateUserInput{UserName: aws.String(name), Path: aws.String(path)}
		if boundary != "" {
			input.PermissionsBoundary = aws.String(boundary)
		}
		for _, tg := range tags {
			input.Tags = append(input.Tags, types.Tag{Key: aws.String(tg.Key), Value: aws.String(tg.Value)})
		}
		out, err := c.CreateUser(ctx, input)
		check(err)
		u := &awsfake.User{Name: name, ID: *out.User.UserId, Path: path, ARN: *out.User.Arn, CreatedAt: date(out.User.CreateDate),
			PermissionsBoundary: boundary, Tags: tags, InlinePolicies: map[string]string{}}
		in.Users[name] = u
		return u
	}
	join := func(u *awsfake.User, g *awsfake.Group) {
		t.Helper()
		_, err := c.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String(g.Name), UserName: aws.String(u.Name)})
		check(err)
		u.Groups = append(u.Groups, g.Name)
		g.Members = append(g.Members, u.Name)
	}
	accessKey := func(u *awsfake.User, status types.StatusType) {
		t.Helper()
		out, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(u.Name)})
		check(err)
		if status != types.StatusTypeActive {
			_, err := c.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String(u.Name), AccessKeyId: out.AccessKey.AccessKeyId, Status: status})
			check(err)
		}
		u.AccessKeys = append(u.AccessKeys, &awsfake.AccessKey{ID: *out.AccessKey.AccessKeyId, Status: string(status),
			CreatedAt: date(out.AccessKey.CreateDate), LastUsedService: "N/A", LastUsedRegion: "N/A"})
	}

	ann := user("ann", "/eng/", bound.ARN, []awsfake.Tag{{Key: "email", Value: "ann@example.com"}, {Key: "team", Value: "data"}})
	join(ann, engineers)
	join(ann, readers)
	_, err = c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("ann"), PolicyArn: aws.String("arn:aws:iam::aws:policy/IAMFullAccess")})
	check(err)
	ann.AttachedPolicies = []string{"arn:aws:iam::aws:policy/IAMFullAccess"}
	_, err = c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("ann"), PolicyName: aws.String("own-table"), PolicyDocument: aws.String(inlineDoc)})
	check(err)
	ann.InlinePolicies["own-table"] = inlineDoc
	lp, err := c.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String("ann"), Password: aws.String("correct-horse-battery-1")})
	check(err)
	ann.LoginProfile = &awsfake.LoginProfile{CreatedAt: date(lp.LoginProfile.CreateDate), PasswordLastChanged: date(lp.LoginProfile.CreateDate)}
	accessKey(ann, types.StatusTypeActive)
	accessKey(ann, types.StatusTypeInactive)
	mfa, err := c.CreateVirtualMFADevice(ctx, &iam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String("ann-phone")})
	check(err)
	_, err = c.EnableMFADevice(ctx, &iam.EnableMFADeviceInput{UserName: aws.String("ann"), SerialNumber: mfa.VirtualMFADevice.SerialNumber,
		AuthenticationCode1: aws.String("123456"), AuthenticationCode2: aws.String("234567")})
	check(err)
	ann.MFADevices = []*awsfake.MFADevice{{SerialNumber: *mfa.VirtualMFADevice.SerialNumber, Virtual: true, EnabledAt: clock}}
	_, err = c.TagUser(ctx, &iam.TagUserInput{UserName: aws.String("ann"), Tags: []types.Tag{{Key: aws.String("cost-centre"), Value: aws.String("42")}}})
	check(err)
	ann.Tags = append(ann.Tags, awsfake.Tag{Key: "cost-centre", Value: "42"})

	bob := user("bob", "/", "", nil)
	join(bob, readers)
	accessKey(bob, types.StatusTypeActive)

	// Roles: one trusting ann, one an EC2 instance role in an instance
	// profile, one trusting a partner account with an ExternalId.
	role := func(name, path, trust, boundary string, attach []string, inline map[string]string, tags []awsfake.Tag) *awsfake.Role {
		t.Helper()
		input := &iam.CreateRoleInput{RoleName: aws.String(name), Path: aws.String(path), AssumeRolePolicyDocument: aws.String(trust),
			Description: aws.String("role " + name)}
		if boundary != "" {
			input.PermissionsBoundary = aws.String(boundary)
		}
		for _, tg := range tags {
			input.Tags = append(input.Tags, types.Tag{Key: aws.String(tg.Key), Value: aws.String(tg.Value)})
		}
		out, err := c.CreateRole(ctx, input)
		check(err)
		for _, arn := range attach {
			_, err := c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String(name), PolicyArn: aws.String(arn)})
			check(err)
		}
		for n, doc := range inline {
			_, err := c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String(n), PolicyDocument: aws.String(doc)})
			check(err)
		}
		r := &awsfake.Role{Name: name, ID: *out.Role.RoleId, Path: path, ARN: *out.Role.Arn, CreatedAt: date(out.Role.CreateDate),
			AssumeRolePolicy: trust, PermissionsBoundary: boundary, Tags: tags, AttachedPolicies: attach, InlinePolicies: inline}
		in.Roles[name] = r
		return r
	}
	role("deployer", "/ci/", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"`+ann.ARN+`"},"Action":"sts:AssumeRole"}]}`,
		bound.ARN, []string{data.ARN, readOnly}, map[string]string{"orders": inlineDoc}, []awsfake.Tag{{Key: "team", Value: "platform"}})
	web := role("web", "/", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`,
		"", []string{"arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"}, map[string]string{}, nil)
	_, err = c.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("web")})
	check(err)
	_, err = c.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("web"), RoleName: aws.String(web.Name)})
	check(err)
	partner := role("partner-audit", "/", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"sts:AssumeRole"}]}`,
		"", []string{"arn:aws:iam::aws:policy/SecurityAudit"}, map[string]string{}, nil)
	// The trust policy changes after creation, as a user's tooling may.
	partner.AssumeRolePolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"audit-2026"}}}]}`
	_, err = c.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String(partner.Name), PolicyDocument: aws.String(partner.AssumeRolePolicy)})
	check(err)

	// Something made and removed again must not be synced.
	_, err = c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("temp")})
	check(err)
	_, err = c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("temp")})
	check(err)

	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "warden.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	snap, err := Sync(ctx, newSession(t, srv.URL(), creds), st, syncOptions())
	if err != nil {
		t.Fatalf("Sync: %v", err)
	}
	checkGraph(t, st, snap.ID, expectedGraph(t, want, awsfake.AWSManagedPolicies()))
}
