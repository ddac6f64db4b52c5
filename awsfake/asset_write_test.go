package awsfake

import (
	"context"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
)

// TestAssetWrites changes every kind of asset through the SDK and checks
// the state the emulator holds afterwards, the errors AWS answers to bad
// writes, and the CloudTrail event each write recorded: its name, source,
// region, the caller's identity and the asset among its resources.
func TestAssetWrites(t *testing.T) {
	f := newAssetFixture(t, AssetEstate{Seed: 4})
	ctx := context.Background()
	a := f.accounts[0]
	const region = "us-east-1"
	cfg := f.cfg(a.ID, region)
	var key *KMSKey
	var fn *Function
	var secret *Secret
	var group *SecurityGroup
	var inst *Instance
	for _, k := range f.truth.Keys {
		if k.Account == a.ID && k.Region == region && k.Manager == "CUSTOMER" && key == nil {
			key = k
		}
	}
	for _, x := range f.truth.Functions {
		if x.Account == a.ID && x.Region == region && fn == nil {
			fn = x
		}
	}
	for _, x := range f.truth.Secrets {
		if x.Account == a.ID && x.Region == region && secret == nil {
			secret = x
		}
	}
	for _, x := range f.truth.SecurityGroups {
		if x.Account == a.ID && x.Region == region && group == nil {
			group = x
		}
	}
	for _, x := range f.truth.Instances {
		if x.Account == a.ID && x.Region == region && x.State == "running" && x.PublicIP != "" && inst == nil {
			inst = x
		}
	}
	if key == nil || fn == nil || secret == nil || group == nil || inst == nil {
		t.Fatalf("the estate lacks an asset of a kind in %s/%s: key %v function %v secret %v group %v running public instance %v", a.ID, region, key, fn, secret, group, inst)
	}

	s3c := s3.NewFromConfig(f.cfg(a.ID, "eu-west-1"), func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("written-bucket")}); apiCode(err) != "IllegalLocationConstraintException" {
		t.Errorf("CreateBucket in eu-west-1 without a location constraint: %v, want IllegalLocationConstraintException", err)
	}
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("written-bucket"),
		CreateBucketConfiguration: &s3types.CreateBucketConfiguration{LocationConstraint: "eu-west-1"}}); err != nil {
		t.Fatalf("CreateBucket: %v", err)
	}
	public := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::written-bucket/*"}]}`
	if _, err := s3c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("written-bucket"), Policy: aws.String(public)}); apiCode(err) != "AccessDenied" {
		t.Errorf("PutBucketPolicy of a public policy while BlockPublicPolicy is on: %v, want AccessDenied", err)
	}
	if _, err := s3c.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: aws.String("written-bucket"),
		PublicAccessBlockConfiguration: &s3types.PublicAccessBlockConfiguration{BlockPublicAcls: aws.Bool(true), IgnorePublicAcls: aws.Bool(true),
			BlockPublicPolicy: aws.Bool(false), RestrictPublicBuckets: aws.Bool(false)}}); err != nil {
		t.Fatalf("PutPublicAccessBlock: %v", err)
	}
	if _, err := s3c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("written-bucket"), Policy: aws.String("not json")}); apiCode(err) != "MalformedPolicy" {
		t.Errorf("PutBucketPolicy of a malformed policy: %v, want MalformedPolicy", err)
	}
	if _, err := s3c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("written-bucket"), Policy: aws.String(public)}); err != nil {
		t.Fatalf("PutBucketPolicy: %v", err)
	}
	got, err := s3c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String("written-bucket")})
	if err != nil || aws.ToString(got.Policy) != public {
		t.Errorf("GetBucketPolicy after PutBucketPolicy: %v %v", got, err)
	}
	if _, err := s3c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("written-bucket")}); err != nil {
		t.Fatalf("DeleteBucket: %v", err)
	}
	if _, err := s3c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String("written-bucket")}); apiCode(err) != "NoSuchBucket" {
		t.Errorf("GetBucketPolicy of a deleted bucket: %v, want NoSuchBucket", err)
	}

	kc := kms.NewFromConfig(cfg)
	if _, err := kc.CreateGrant(ctx, &kms.CreateGrantInput{KeyId: aws.String(key.ID), GranteePrincipal: aws.String("arn:aws:iam::999988887777:root"),
		Operations: []kmstypes.GrantOperation{"Fly"}}); apiCode(err) != "ValidationException" {
		t.Errorf("CreateGrant of an unknown operation: %v, want ValidationException", err)
	}
	g, err := kc.CreateGrant(ctx, &kms.CreateGrantInput{KeyId: aws.String(key.ID), GranteePrincipal: aws.String("arn:aws:iam::999988887777:root"),
		Operations: []kmstypes.GrantOperation{kmstypes.GrantOperationDecrypt}})
	if err != nil {
		t.Fatalf("CreateGrant: %v", err)
	}
	grants, err := kc.ListGrants(ctx, &kms.ListGrantsInput{KeyId: aws.String(key.ID)})
	if err != nil || !slices.ContainsFunc(grants.Grants, func(x kmstypes.GrantListEntry) bool { return aws.ToString(x.GrantId) == aws.ToString(g.GrantId) }) {
		t.Errorf("ListGrants after CreateGrant %s: %v %v", aws.ToString(g.GrantId), grants, err)
	}
	if _, err := kc.RevokeGrant(ctx, &kms.RevokeGrantInput{KeyId: aws.String(key.ID), GrantId: aws.String(aws.ToString(g.GrantId))}); err != nil {
		t.Fatalf("RevokeGrant: %v", err)
	}
	if _, err := kc.RevokeGrant(ctx, &kms.RevokeGrantInput{KeyId: aws.String(key.ID), GrantId: g.GrantId}); apiCode(err) != "NotFoundException" {
		t.Errorf("RevokeGrant twice: %v, want NotFoundException", err)
	}

	lc := lambda.NewFromConfig(cfg)
	newRole := "arn:aws:iam::" + a.ID + ":role/written-role"
	if _, err := lc.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String(fn.Name), Role: aws.String("nope")}); apiCode(err) != "ValidationException" {
		t.Errorf("UpdateFunctionConfiguration with a role that is no ARN: %v, want ValidationException", err)
	}
	up, err := lc.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String(fn.Name), Role: aws.String(newRole)})
	if err != nil || aws.ToString(up.Role) != newRole {
		t.Fatalf("UpdateFunctionConfiguration: %v %v", up, err)
	}

	sm := secretsmanager.NewFromConfig(cfg)
	secretPolicy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999988887777:root"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`
	if _, err := sm.PutResourcePolicy(ctx, &secretsmanager.PutResourcePolicyInput{SecretId: aws.String(secret.Name), ResourcePolicy: aws.String("{")}); apiCode(err) != "MalformedPolicyDocumentException" {
		t.Errorf("PutResourcePolicy of a malformed policy: %v, want MalformedPolicyDocumentException", err)
	}
	if _, err := sm.PutResourcePolicy(ctx, &secretsmanager.PutResourcePolicyInput{SecretId: aws.String(secret.Name), ResourcePolicy: aws.String(secretPolicy)}); err != nil {
		t.Fatalf("PutResourcePolicy: %v", err)
	}
	rp, err := sm.GetResourcePolicy(ctx, &secretsmanager.GetResourcePolicyInput{SecretId: aws.String(secret.ARN)})
	if err != nil || aws.ToString(rp.ResourcePolicy) != secretPolicy {
		t.Errorf("GetResourcePolicy after PutResourcePolicy: %v %v", rp, err)
	}
	if _, err := sm.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String(secret.ARN), ForceDeleteWithoutRecovery: aws.Bool(true)}); err != nil {
		t.Fatalf("DeleteSecret: %v", err)
	}
	if _, err := sm.GetResourcePolicy(ctx, &secretsmanager.GetResourcePolicyInput{SecretId: aws.String(secret.ARN)}); apiCode(err) != "ResourceNotFoundException" {
		t.Errorf("GetResourcePolicy of a deleted secret: %v, want ResourceNotFoundException", err)
	}

	ec := ec2.NewFromConfig(cfg)
	open := []ec2types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(3389), ToPort: aws.Int32(3389),
		IpRanges: []ec2types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}, Ipv6Ranges: []ec2types.Ipv6Range{{CidrIpv6: aws.String("::/0")}}}}
	if _, err := ec.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(group.ID), IpPermissions: open}); err != nil {
		t.Fatalf("AuthorizeSecurityGroupIngress: %v", err)
	}
	if _, err := ec.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(group.ID), IpPermissions: open}); apiCode(err) != "InvalidPermission.Duplicate" {
		t.Errorf("AuthorizeSecurityGroupIngress twice: %v, want InvalidPermission.Duplicate", err)
	}
	sg, err := ec.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{group.ID}})
	if err != nil || !slices.ContainsFunc(sg.SecurityGroups[0].IpPermissions, func(p ec2types.IpPermission) bool {
		return aws.ToInt32(p.FromPort) == 3389 && len(p.IpRanges) == 1 && len(p.Ipv6Ranges) == 1
	}) {
		t.Errorf("DescribeSecurityGroups after AuthorizeSecurityGroupIngress: %+v %v", sg, err)
	}
	open[0].Ipv6Ranges = nil
	if _, err := ec.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: aws.String(group.ID), IpPermissions: open}); err != nil {
		t.Fatalf("RevokeSecurityGroupIngress: %v", err)
	}
	if _, err := ec.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: aws.String(group.ID), IpPermissions: open}); apiCode(err) != "InvalidPermission.NotFound" {
		t.Errorf("RevokeSecurityGroupIngress twice: %v, want InvalidPermission.NotFound", err)
	}
	stop, err := ec.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{inst.ID}})
	if err != nil || len(stop.StoppingInstances) != 1 || stop.StoppingInstances[0].CurrentState.Name != "stopping" || stop.StoppingInstances[0].PreviousState.Name != "running" {
		t.Fatalf("StopInstances: %+v %v", stop, err)
	}
	di, err := ec.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{inst.ID}})
	if err != nil || di.Reservations[0].Instances[0].State.Name != "stopped" || di.Reservations[0].Instances[0].PublicIpAddress != nil {
		t.Errorf("DescribeInstances after StopInstances: %+v %v", di, err)
	}

	// Key policy, function permissions, a secret and a security group
	// created.
	keyPolicy := `{"Version":"2012-10-17","Statement":[{"Sid":"Root","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + a.ID + `:root"},"Action":"kms:*","Resource":"*"}]}`
	if _, err := kc.PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{KeyId: aws.String(key.ID), Policy: aws.String("nope")}); apiCode(err) != "MalformedPolicyDocumentException" {
		t.Errorf("PutKeyPolicy of a malformed policy: %v, want MalformedPolicyDocumentException", err)
	}
	if _, err := kc.PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{KeyId: aws.String(key.ID), Policy: aws.String(keyPolicy)}); err != nil {
		t.Fatalf("PutKeyPolicy: %v", err)
	}
	if kp, err := kc.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: aws.String(key.ARN)}); err != nil || aws.ToString(kp.Policy) != keyPolicy {
		t.Errorf("GetKeyPolicy after PutKeyPolicy: %v %v", kp, err)
	}
	perm := &lambda.AddPermissionInput{FunctionName: aws.String(fn.Name), StatementId: aws.String("partner"), Action: aws.String("lambda:InvokeFunction"),
		Principal: aws.String("999988887777")}
	if _, err := lc.AddPermission(ctx, perm); err != nil {
		t.Fatalf("AddPermission: %v", err)
	}
	if _, err := lc.AddPermission(ctx, perm); apiCode(err) != "ResourceConflictException" {
		t.Errorf("AddPermission twice: %v, want ResourceConflictException", err)
	}
	fp, err := lc.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String(fn.Name)})
	if err != nil || !strings.Contains(aws.ToString(fp.Policy), `"Sid":"partner"`) || !strings.Contains(aws.ToString(fp.Policy), `{"AWS":"arn:aws:iam::999988887777:root"}`) {
		t.Errorf("GetPolicy after AddPermission: %v %v", fp, err)
	}
	if _, err := lc.RemovePermission(ctx, &lambda.RemovePermissionInput{FunctionName: aws.String(fn.Name), StatementId: aws.String("partner")}); err != nil {
		t.Fatalf("RemovePermission: %v", err)
	}
	if _, err := lc.RemovePermission(ctx, &lambda.RemovePermissionInput{FunctionName: aws.String(fn.Name), StatementId: aws.String("partner")}); apiCode(err) != "ResourceNotFoundException" {
		t.Errorf("RemovePermission twice: %v, want ResourceNotFoundException", err)
	}
	created, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("written/secret"), SecretString: aws.String("s3cr3t-value")})
	if err != nil {
		t.Fatalf("CreateSecret: %v", err)
	}
	if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("written/secret"), SecretString: aws.String("x")}); apiCode(err) != "ResourceExistsException" {
		t.Errorf("CreateSecret twice: %v, want ResourceExistsException", err)
	}
	if l, err := sm.ListSecrets(ctx, &secretsmanager.ListSecretsInput{}); err != nil || !slices.ContainsFunc(l.SecretList, func(x smtypes.SecretListEntry) bool { return aws.ToString(x.ARN) == aws.ToString(created.ARN) }) {
		t.Errorf("ListSecrets after CreateSecret %s: %v", aws.ToString(created.ARN), err)
	}
	sgNew, err := ec.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("written-sg"), Description: aws.String("written by a test")})
	if err != nil {
		t.Fatalf("CreateSecurityGroup: %v", err)
	}
	if _, err := ec.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("written-sg"), Description: aws.String("again")}); apiCode(err) != "InvalidGroup.Duplicate" {
		t.Errorf("CreateSecurityGroup twice: %v, want InvalidGroup.Duplicate", err)
	}
	if _, err := ec.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: aws.String(inst.SecurityGroups[0])}); apiCode(err) != "DependencyViolation" {
		t.Errorf("DeleteSecurityGroup of an instance's group: %v, want DependencyViolation", err)
	}
	if _, err := ec.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: sgNew.GroupId}); err != nil {
		t.Fatalf("DeleteSecurityGroup: %v", err)
	}

	// The state the emulator holds.
	now := f.srv.Assets()
	for _, x := range now.Functions {
		if x.ARN == fn.ARN && x.Role != newRole {
			t.Errorf("function %s runs as %s, want %s", x.Name, x.Role, newRole)
		}
	}
	if slices.ContainsFunc(now.Secrets, func(x *Secret) bool { return x.ARN == secret.ARN }) {
		t.Errorf("secret %s still held after DeleteSecret", secret.ARN)
	}
	for _, x := range now.Secrets {
		if x.ARN == aws.ToString(created.ARN) && (x.Value != "s3cr3t-value" || x.Name != "written/secret") {
			t.Errorf("created secret %+v", x)
		}
	}
	for _, e := range f.srv.Events(a.ID, region) {
		for k, v := range e.Request {
			if strings.Contains(v, "s3cr3t") {
				t.Errorf("event %s records the secret's value in %s", e.Name, k)
			}
		}
	}
	if slices.ContainsFunc(now.Buckets, func(x *Bucket) bool { return x.Name == "written-bucket" }) {
		t.Errorf("bucket written-bucket still held after DeleteBucket")
	}

	// The events recorded: every successful write, none of the refused.
	type ev struct{ name, source, region, resource string }
	want := []ev{
		{"CreateBucket", "s3.amazonaws.com", "eu-west-1", "written-bucket"},
		{"PutBucketPublicAccessBlock", "s3.amazonaws.com", "eu-west-1", "written-bucket"},
		{"PutBucketPolicy", "s3.amazonaws.com", "eu-west-1", "written-bucket"},
		{"DeleteBucket", "s3.amazonaws.com", "eu-west-1", "written-bucket"},
		{"CreateGrant", "kms.amazonaws.com", region, key.ARN},
		{"RevokeGrant", "kms.amazonaws.com", region, key.ARN},
		{"UpdateFunctionConfiguration20150331v2", "lambda.amazonaws.com", region, fn.ARN},
		{"PutResourcePolicy", "secretsmanager.amazonaws.com", region, ""},
		{"DeleteSecret", "secretsmanager.amazonaws.com", region, ""},
		{"AuthorizeSecurityGroupIngress", "ec2.amazonaws.com", region, group.ID},
		{"RevokeSecurityGroupIngress", "ec2.amazonaws.com", region, group.ID},
		{"StopInstances", "ec2.amazonaws.com", region, inst.ID},
		{"PutKeyPolicy", "kms.amazonaws.com", region, key.ARN},
		{"AddPermission20150331v2", "lambda.amazonaws.com", region, fn.ARN},
		{"RemovePermission20150331v2", "lambda.amazonaws.com", region, fn.ARN},
		{"CreateSecret", "secretsmanager.amazonaws.com", region, ""},
		{"CreateSecurityGroup", "ec2.amazonaws.com", region, ""},
		{"DeleteSecurityGroup", "ec2.amazonaws.com", region, aws.ToString(sgNew.GroupId)},
	}
	var recorded []ev
	for _, r := range []string{"eu-west-1", region} {
		for _, e := range f.srv.Events(a.ID, r) {
			if !strings.HasPrefix(e.IdentityARN, "arn:aws:iam::"+a.ID+":") || e.IdentityType == "" || e.IdentityAccount != a.ID || e.ReadOnly {
				t.Errorf("event %s: identity %s %s %s, want the caller", e.Name, e.IdentityType, e.IdentityARN, e.IdentityAccount)
			}
			res := ""
			if len(e.Resources) > 0 {
				res = e.Resources[0].Name
			}
			recorded = append(recorded, ev{e.Name, e.Source, e.Region, res})
		}
	}
	if !slices.Equal(recorded, want) {
		t.Errorf("events recorded:\n%v\nwant\n%v", recorded, want)
	}
}

// TestKMSGrantConstraints creates grants with encryption context
// constraints through the SDK: ListGrants returns each exactly as
// created (an empty map as none), constraints beyond KMS's documented
// limits are ValidationException, and Assets returns copies of them.
func TestKMSGrantConstraints(t *testing.T) {
	f := newAssetFixture(t, AssetEstate{Seed: 4})
	ctx := context.Background()
	a := f.accounts[0]
	const region = "us-east-1"
	key := customerKey(t, f.truth, a.ID, region)
	kc := kms.NewFromConfig(f.cfg(a.ID, region))
	grantee := "arn:aws:iam::999988887777:root"
	create := func(c *kmstypes.GrantConstraints) (string, error) {
		out, err := kc.CreateGrant(ctx, &kms.CreateGrantInput{KeyId: aws.String(key.ARN), GranteePrincipal: aws.String(grantee),
			Operations: []kmstypes.GrantOperation{kmstypes.GrantOperationDecrypt, kmstypes.GrantOperationGenerateDataKey}, Constraints: c})
		if err != nil {
			return "", err
		}
		return aws.ToString(out.GrantId), nil
	}
	eight := map[string]string{}
	for i := range 8 {
		eight[fmt.Sprintf("k%d", i)] = fmt.Sprintf("v%d", i)
	}
	long := map[string]string{"blob": strings.Repeat("x", 384)}
	cases := []struct {
		name string
		in   *kmstypes.GrantConstraints
		want *kmstypes.GrantConstraints // nil: no Constraints in ListGrants
	}{
		{"none", nil, nil},
		{"subset", &kmstypes.GrantConstraints{EncryptionContextSubset: map[string]string{"team": "data"}},
			&kmstypes.GrantConstraints{EncryptionContextSubset: map[string]string{"team": "data"}}},
		{"equals", &kmstypes.GrantConstraints{EncryptionContextEquals: map[string]string{"team": "data", "stage": "prod"}},
			&kmstypes.GrantConstraints{EncryptionContextEquals: map[string]string{"team": "data", "stage": "prod"}}},
		{"both", &kmstypes.GrantConstraints{EncryptionContextEquals: map[string]string{"a": "1"}, EncryptionContextSubset: map[string]string{"b": "2"}},
			&kmstypes.GrantConstraints{EncryptionContextEquals: map[string]string{"a": "1"}, EncryptionContextSubset: map[string]string{"b": "2"}}},
		{"empty maps", &kmstypes.GrantConstraints{EncryptionContextEquals: map[string]string{}, EncryptionContextSubset: map[string]string{}}, nil},
		{"one empty map", &kmstypes.GrantConstraints{EncryptionContextEquals: map[string]string{}, EncryptionContextSubset: map[string]string{"b": "2"}},
			&kmstypes.GrantConstraints{EncryptionContextSubset: map[string]string{"b": "2"}}},
		{"at the limits", &kmstypes.GrantConstraints{EncryptionContextEquals: eight, EncryptionContextSubset: long},
			&kmstypes.GrantConstraints{EncryptionContextEquals: eight, EncryptionContextSubset: long}},
	}
	ids := map[string]int{} // grant ID → its case
	for i, tc := range cases {
		id, err := create(tc.in)
		if err != nil {
			t.Fatalf("CreateGrant %s: %v", tc.name, err)
		}
		ids[id] = i
	}
	var listed int
	p := kms.NewListGrantsPaginator(kc, &kms.ListGrantsInput{KeyId: aws.String(key.ID), Limit: aws.Int32(2)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("ListGrants: %v", err)
		}
		for _, g := range page.Grants {
			i, ok := ids[aws.ToString(g.GrantId)]
			if !ok {
				continue
			}
			listed++
			if want := cases[i].want; !reflect.DeepEqual(g.Constraints, want) {
				t.Errorf("%s: ListGrants Constraints = %+v, want %+v", cases[i].name, g.Constraints, want)
			}
		}
	}
	if listed != len(cases) {
		t.Errorf("ListGrants listed %d of the %d grants created", listed, len(cases))
	}

	nine := maps.Clone(eight)
	nine["k8"] = "v8"
	for name, c := range map[string]*kmstypes.GrantConstraints{
		"9 pairs in EncryptionContextEquals":  {EncryptionContextEquals: nine},
		"9 pairs in EncryptionContextSubset":  {EncryptionContextSubset: nine},
		"a value of 385 characters":           {EncryptionContextSubset: map[string]string{"blob": strings.Repeat("x", 385)}},
		"a value of 385 characters in Equals": {EncryptionContextEquals: map[string]string{"a": "1", "blob": strings.Repeat("é", 385)}},
	} {
		if _, err := create(c); apiCode(err) != "ValidationException" {
			t.Errorf("CreateGrant with %s: %v, want ValidationException", name, err)
		}
	}

	// Assets returns copies: changing one leaves the emulator's grants as
	// they were.
	grantOf := func(as *Assets) *KMSGrant {
		for _, k := range as.Keys {
			for _, g := range k.Grants {
				if i, ok := ids[g.ID]; ok && cases[i].name == "subset" {
					return g
				}
			}
		}
		t.Fatal("the subset grant is not in Assets")
		return nil
	}
	grantOf(f.srv.Assets()).Constraints.EncryptionContextSubset["team"] = "changed"
	if got := grantOf(f.srv.Assets()).Constraints.EncryptionContextSubset; !maps.Equal(got, map[string]string{"team": "data"}) {
		t.Errorf("after changing a copy, the emulator's constraint is %v", got)
	}
}

// customerKey is the estate's first customer managed key of an account's
// region.
func customerKey(t *testing.T, truth *AssetTruth, account, region string) *KMSKey {
	t.Helper()
	for _, k := range truth.Keys {
		if k.Account == account && k.Region == region && k.Manager == "CUSTOMER" {
			return k
		}
	}
	t.Fatal("no customer managed key in the estate")
	return nil
}

// TestKMSGrantsRevokedWhileListed revokes a key's grants while another
// client pages through them: under -race, a revoke that shifted the list
// a concurrent ListGrants still reads would be reported; every page is a
// list of whole grants.
func TestKMSGrantsRevokedWhileListed(t *testing.T) {
	f := newAssetFixture(t, AssetEstate{Seed: 4})
	ctx := context.Background()
	a := f.accounts[0]
	const region = "us-east-1"
	key := customerKey(t, f.truth, a.ID, region)
	kc := kms.NewFromConfig(f.cfg(a.ID, region))
	var ids []string
	for i := range 40 {
		out, err := kc.CreateGrant(ctx, &kms.CreateGrantInput{KeyId: aws.String(key.ARN), GranteePrincipal: aws.String(fmt.Sprintf("arn:aws:iam::999988887777:role/r%d", i)),
			Operations: []kmstypes.GrantOperation{kmstypes.GrantOperationDecrypt}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, aws.ToString(out.GrantId))
	}
	done := make(chan error, 1)
	go func() {
		for _, id := range ids {
			if _, err := kc.RevokeGrant(ctx, &kms.RevokeGrantInput{KeyId: aws.String(key.ARN), GrantId: aws.String(id)}); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for i := 0; i < 20; i++ {
		out, err := kc.ListGrants(ctx, &kms.ListGrantsInput{KeyId: aws.String(key.ARN), Limit: aws.Int32(100)})
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range out.Grants {
			if aws.ToString(g.GrantId) == "" || aws.ToString(g.GranteePrincipal) == "" {
				t.Fatalf("a torn grant in the listing: %+v", g)
			}
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
