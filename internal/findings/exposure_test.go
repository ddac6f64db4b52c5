package findings_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/warden-iam/warden/awsfake"
	"github.com/warden-iam/warden/internal/awsapi"
	"github.com/warden-iam/warden/internal/collect"
	"github.com/warden-iam/warden/internal/findings"
	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/store"
	"github.com/warden-iam/warden/internal/syncer"
)

// TestExposuresGroundTruth collects the assets of an organization of three
// accounts through the SDK and finds exactly the exposures the estate
// planted: public and cross-account resource policies (a public bucket
// policy under RestrictPublicBuckets is not one), KMS keys any principal of
// the account may manage, security groups open to the internet on SSH
// or RDP, and bucket ACLs granting to anyone or to other accounts.
func TestExposuresGroundTruth(t *testing.T) {
	srv := awsfake.NewServer(awsfake.Options{})
	defer srv.Close()
	// Member 200000000001's account-level Block Public Access restricts
	// public buckets: its public bucket policies expose nothing.
	truth := awsfake.OrgEstate{Accounts: 2, PerAccount: awsfake.Estate{Roles: 3}, Seed: 4, Assets: &awsfake.AssetEstate{Buckets: 10, Keys: 8, Functions: 8, Secrets: 6,
		AccountBlockPublicAccess: map[string]*awsfake.PublicAccessBlock{"200000000001": {RestrictPublicBuckets: true}}}}.Build()
	c := truth.Install(srv)
	ctx := context.Background()
	sess, err := awsapi.Load(ctx, awsapi.Options{Region: "us-east-1", Endpoint: srv.URL(), IAMRate: 1e5,
		Credentials: credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken)})
	if err != nil {
		t.Fatal(err)
	}
	var g model.Graph
	for _, a := range truth.Accounts() {
		if a.ID != truth.Management.ID {
			if err := sess.AssumeMember(ctx, a.ID, "arn:aws:iam::"+a.ID+":role/"+awsfake.DefaultMemberRoleName, ""); err != nil {
				t.Fatal(err)
			}
		}
		clients := func(region string) collect.AssetAPIs {
			c := sess.Assets(a.ID, region)
			return collect.AssetAPIs{EC2: c.EC2, S3: c.S3, KMS: c.KMS, Lambda: c.Lambda, SecretsManager: c.SecretsManager, S3Control: c.S3Control}
		}
		res, err := collect.CollectAssets(ctx, a.ID, clients, sess.IAM(a.ID), collect.AssetOptions{Regions: []string{"us-east-1", "eu-west-1"}})
		if err != nil || len(res.Errors) > 0 {
			t.Fatalf("%s: %v %v", a.ID, err, res.Errors)
		}
		g.Resources = append(g.Resources, res.Graph.Resources...)
	}
	types := map[string]model.ResourceType{"bucket": model.TypeS3Bucket, "kms-key": model.TypeKMSKey, "function": model.TypeLambdaFunction,
		"secret": model.TypeSecret, "security-group": model.TypeSecurityGroup}
	// An ACL names an account by its canonical user ID, which says the
	// account only when the snapshot holds one of its buckets: an account
	// outside the organization stays its canonical ID.
	inOrg := map[string]bool{}
	for _, a := range truth.Accounts() {
		inOrg[a.ID] = true
	}
	var want, got []string
	for _, e := range truth.Assets.Exposures {
		accounts := e.Accounts
		if e.Kind == string(findings.ExposureCrossAccountACL) {
			accounts = nil
			for _, a := range e.Accounts {
				if !inOrg[a] {
					a = awsfake.CanonicalUserID(a)
				}
				accounts = append(accounts, a)
			}
			sort.Strings(accounts)
		}
		want = append(want, fmt.Sprintf("%s %s %s %s %v %v", e.ARN, e.Kind, types[e.Type], e.Region, accounts, e.Ports))
	}
	for _, e := range findings.Exposures(&g) {
		var accounts []string
		if len(e.Accounts) > 0 {
			accounts = e.Accounts
		}
		var ports []int
		if len(e.Ports) > 0 {
			ports = e.Ports
		}
		got = append(got, fmt.Sprintf("%s %s %s %s %v %v", e.AssetID, e.Kind, e.AssetType, e.Region, accounts, ports))
	}
	sort.Strings(want)
	sort.Strings(got)
	if len(want) < 30 {
		t.Fatalf("only %d exposures planted", len(want))
	}
	if !slices.Equal(got, want) {
		for _, w := range want {
			if !slices.Contains(got, w) {
				t.Errorf("missing %s", w)
			}
		}
		for _, x := range got {
			if !slices.Contains(want, x) {
				t.Errorf("extra %s", x)
			}
		}
	}
}

// TestExposureRules checks the rules' edges on hand-written policies.
func TestExposureRules(t *testing.T) {
	const own = "111122223333"
	bucket := func(policy string, pab *model.PublicAccessBlock) model.Resource {
		return model.Resource{ID: "arn:aws:s3:::b", Type: model.TypeS3Bucket, AccountID: own, Bucket: &model.BucketAttrs{Region: "us-east-1", Policy: policy, PublicAccessBlock: pab}}
	}
	cases := []struct {
		name string
		r    model.Resource
		want string
	}{
		{"public", bucket(`{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"}}`, nil), "public[]"},
		{"public restricted", bucket(`{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"}}`, &model.PublicAccessBlock{RestrictPublicBuckets: true}), ""},
		{"deny only", bucket(`{"Statement":{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*"}}`, nil), ""},
		{"org condition", bucket(`{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abc"}}}}`, nil), ""},
		{"other account by condition", bucket(`{"Statement":{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalAccount":["444455556666","111122223333"]}}}}`, nil), "cross-account[444455556666]"},
		{"other account by ARN", bucket(`{"Statement":{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::444455556666:role/x","arn:aws:iam::111122223333:role/y"]},"Action":"s3:GetObject","Resource":"*"}}`, nil), "cross-account[444455556666]"},
		{"own account only", bucket(`{"Statement":{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"s3:*","Resource":"*"}}`, nil), ""},
		{"key managed by the account", model.Resource{ID: "k", Type: model.TypeKMSKey, AccountID: own, KMSKey: &model.KMSKeyAttrs{Policy: `{"Statement":{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"kms:*","Resource":"*","Condition":{"StringEquals":{"kms:CallerAccount":"111122223333"}}}}`}}, "account-manage[]"},
		{"key used by the account", model.Resource{ID: "k", Type: model.TypeKMSKey, AccountID: own, KMSKey: &model.KMSKeyAttrs{Policy: `{"Statement":{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"kms:Decrypt","Resource":"*","Condition":{"StringEquals":{"kms:CallerAccount":"111122223333"}}}}`}}, ""},
		{"key granted to another account", model.Resource{ID: "k", Type: model.TypeKMSKey, AccountID: own, KMSKey: &model.KMSKeyAttrs{Grants: []model.KMSGrant{
			{GranteePrincipal: "arn:aws:iam::444455556666:role/x", Operations: []string{"Decrypt"}},
			{GranteePrincipal: "arn:aws:iam::111122223333:role/y", Operations: []string{"Encrypt"}},
			{GranteePrincipal: "dynamodb.us-east-1.amazonaws.com", Operations: []string{"Decrypt"}}}}}, "cross-account-grant[444455556666]"},
		{"key granted in its own account and to a service", model.Resource{ID: "k", Type: model.TypeKMSKey, AccountID: own, KMSKey: &model.KMSKeyAttrs{Grants: []model.KMSGrant{
			{GranteePrincipal: "arn:aws:iam::111122223333:role/y", Operations: []string{"Encrypt"}},
			{GranteePrincipal: "dynamodb.us-east-1.amazonaws.com", Operations: []string{"Decrypt"}}}}}, ""},
		{"ssh from an office", model.Resource{ID: "sg", Type: model.TypeSecurityGroup, AccountID: own, SecurityGroup: &model.SecurityGroupAttrs{Ingress: []model.IPRule{{Protocol: "tcp", FromPort: 22, ToPort: 22, CIDRs: []string{"203.0.113.0/24"}}}}}, ""},
		{"a port range over RDP", model.Resource{ID: "sg", Type: model.TypeSecurityGroup, AccountID: own, SecurityGroup: &model.SecurityGroupAttrs{Ingress: []model.IPRule{{Protocol: "tcp", FromPort: 3000, ToPort: 4000, CIDRs: []string{"0.0.0.0/0"}}}}}, "open-admin-port[]"},
		{"udp 22", model.Resource{ID: "sg", Type: model.TypeSecurityGroup, AccountID: own, SecurityGroup: &model.SecurityGroupAttrs{Ingress: []model.IPRule{{Protocol: "udp", FromPort: 22, ToPort: 22, CIDRs: []string{"0.0.0.0/0"}}}}}, ""},
	}
	for _, c := range cases {
		var got string
		for _, e := range findings.Exposures(&model.Graph{Resources: []model.Resource{c.r}}) {
			got += fmt.Sprintf("%s%v", e.Kind, e.Accounts)
		}
		if got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
	// The account's Block Public Access applies on top of the bucket's:
	// RestrictPublicBuckets at either level confines a public policy; the
	// account's other settings, and another account's, do not.
	public := `{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"}}`
	account := func(id string, p *model.PublicAccessBlock) model.Resource {
		return model.Resource{ID: model.AccountAssetsID(id), Type: model.TypeAccountAssets, AccountID: id, AccountAssets: &model.AccountAssetsAttrs{PublicAccessBlock: p}}
	}
	for _, c := range []struct {
		name     string
		bucket   *model.PublicAccessBlock
		acct     model.Resource
		exposed  bool
		fromBoth model.PublicAccessBlock
	}{
		{"account restricts", nil, account(own, &model.PublicAccessBlock{RestrictPublicBuckets: true}), false, model.PublicAccessBlock{RestrictPublicBuckets: true}},
		{"account blocks new public policies only", &model.PublicAccessBlock{BlockPublicAcls: true}, account(own, &model.PublicAccessBlock{BlockPublicPolicy: true}), true, model.PublicAccessBlock{BlockPublicAcls: true, BlockPublicPolicy: true}},
		{"another account restricts", nil, account("444455556666", &model.PublicAccessBlock{RestrictPublicBuckets: true}), true, model.PublicAccessBlock{}},
		{"bucket restricts, account has none", &model.PublicAccessBlock{RestrictPublicBuckets: true}, account(own, nil), false, model.PublicAccessBlock{RestrictPublicBuckets: true}},
	} {
		g := &model.Graph{Resources: []model.Resource{bucket(public, c.bucket), c.acct}}
		if got := len(findings.Exposures(g)) > 0; got != c.exposed {
			t.Errorf("%s: exposed %v, want %v", c.name, got, c.exposed)
		}
		if got := model.EffectivePublicAccessBlock(c.bucket, model.AccountPublicAccessBlocks(g)[own]); got != c.fromBoth {
			t.Errorf("%s: effective settings %+v, want %+v", c.name, got, c.fromBoth)
		}
	}
}

// TestPublicAdminInstances syncs an organization with its IAM and assets
// and finds exactly the instances with a public IP whose instance
// profile's role has AdministratorAccess attached (the estate's only
// administrator policy on roles).
func TestPublicAdminInstances(t *testing.T) {
	srv := awsfake.NewServer(awsfake.Options{})
	defer srv.Close()
	truth := awsfake.OrgEstate{Accounts: 3, PerAccount: awsfake.Estate{Roles: 1}, Seed: 8, Assets: &awsfake.AssetEstate{Instances: 12}}.Build()
	c := truth.Install(srv)
	ctx := context.Background()
	sess, err := awsapi.Load(ctx, awsapi.Options{Region: "us-east-1", Endpoint: srv.URL(), IAMRate: 1e5, OrganizationsRate: 1e5,
		Credentials: credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken)})
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	snap, err := syncer.Sync(ctx, sess, st, syncer.Options{Organization: &syncer.OrganizationOptions{},
		Assets: &collect.AssetOptions{Services: []string{"ec2"}, Regions: []string{"us-east-1", "eu-west-1"}}})
	if err != nil {
		t.Fatal(err)
	}
	g, err := st.Graph(ctx, snap.ID)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, in := range truth.Assets.Instances {
		if in.PublicIP == "" || in.InstanceProfileARN == "" {
			continue
		}
		var acct *awsfake.Account
		for _, a := range truth.Accounts() {
			if a.ID == in.Account {
				acct = a
			}
		}
		p := acct.IAM.InstanceProfiles[in.InstanceProfileARN[strings.LastIndexByte(in.InstanceProfileARN, '/')+1:]]
		role := acct.IAM.Roles[p.Roles[0]]
		if slices.Contains(role.AttachedPolicies, "arn:aws:iam::aws:policy/AdministratorAccess") {
			want = append(want, "arn:aws:ec2:"+in.Region+":"+in.Account+":instance/"+in.ID+" "+role.ARN)
		}
	}
	var got []string
	for _, x := range findings.PublicAdminInstances(g) {
		got = append(got, x.InstanceID+" "+x.Role)
	}
	sort.Strings(want)
	if len(want) == 0 {
		t.Fatal("the estate planted no public instance running as an administrator")
	}
	if !slices.Equal(got, want) {
		t.Errorf("public admin instances\n got %v\nwant %v", got, want)
	}
}
