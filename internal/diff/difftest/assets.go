package difftest

import "github.com/warden-iam/warden/internal/model"

// Assets returns the assets of two snapshots of account AcctA (us-east-1),
// the second with one asset change of every kind a diff reports: the
// account's own Block Public Access loosened (RestrictPublicBuckets stays
// off); a public bucket added and a bucket removed; a bucket policy given a public
// statement and its Block Public Access loosened; a KMS grant to another
// account added and one removed; a function's execution role changed; a
// secret policy's cross-account statement removed; an instance stopped
// (losing its public IP) and another's role changed; a security group
// opened to the internet on SSH and closed to a private range on HTTPS.
func Assets() (before, after []model.Resource) {
	const region = "us-east-1"
	allOn := &model.PublicAccessBlock{BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true}
	bucket := func(name, policy string, pab *model.PublicAccessBlock) model.Resource {
		return model.Resource{ID: "arn:aws:s3:::" + name, Type: model.TypeS3Bucket, AccountID: AcctA, Name: name, ARN: "arn:aws:s3:::" + name,
			Bucket: &model.BucketAttrs{Region: region, Policy: policy, PublicAccessBlock: pab}}
	}
	keyARN := "arn:aws:kms:" + region + ":" + AcctA + ":key/k-1"
	key := func(grants ...model.KMSGrant) model.Resource {
		return model.Resource{ID: keyARN, Type: model.TypeKMSKey, AccountID: AcctA, Name: "k-1", ARN: keyARN,
			KMSKey: &model.KMSKeyAttrs{Region: region, KeyID: "k-1", State: "Enabled", Policy: `{"Version":"2012-10-17","Statement":[]}`, Grants: grants}}
	}
	grantOld := model.KMSGrant{GrantID: "g-old", GranteePrincipal: ARN(AcctA, "role", "deploy"), Operations: []string{"Encrypt"}}
	grantNew := model.KMSGrant{GrantID: "g-new", GranteePrincipal: "arn:aws:iam::" + AcctB + ":root", Operations: []string{"Decrypt"}}
	fnARN := "arn:aws:lambda:" + region + ":" + AcctA + ":function:resize"
	function := func(role string) model.Resource {
		return model.Resource{ID: fnARN, Type: model.TypeLambdaFunction, AccountID: AcctA, Name: "resize", ARN: fnARN,
			Function: &model.FunctionAttrs{Region: region, Runtime: "python3.12", Role: role}}
	}
	secretARN := "arn:aws:secretsmanager:" + region + ":" + AcctA + ":secret:db-AbCdEf"
	secret := func(policy string) model.Resource {
		return model.Resource{ID: secretARN, Type: model.TypeSecret, AccountID: AcctA, Name: "db", ARN: secretARN,
			Secret: &model.SecretAttrs{Region: region, Policy: policy}}
	}
	instance := func(id, state, ip, role string) model.Resource {
		arn := "arn:aws:ec2:" + region + ":" + AcctA + ":instance/" + id
		return model.Resource{ID: arn, Type: model.TypeEC2Instance, AccountID: AcctA, Name: id, ARN: arn,
			Instance: &model.InstanceAttrs{Region: region, InstanceID: id, State: state, InstanceType: "t3.micro", PublicIP: ip, Role: role, SecurityGroups: []string{"sg-1"}}}
	}
	sgARN := "arn:aws:ec2:" + region + ":" + AcctA + ":security-group/sg-1"
	group := func(rules ...model.IPRule) model.Resource {
		return model.Resource{ID: sgARN, Type: model.TypeSecurityGroup, AccountID: AcctA, Name: "web", ARN: sgARN,
			SecurityGroup: &model.SecurityGroupAttrs{Region: region, GroupID: "sg-1", Ingress: rules}}
	}
	https := model.IPRule{Protocol: "tcp", FromPort: 443, ToPort: 443, CIDRs: []string{"10.0.0.0/8", "0.0.0.0/0"}}
	httpsPublic := model.IPRule{Protocol: "tcp", FromPort: 443, ToPort: 443, CIDRs: []string{"0.0.0.0/0"}}
	ssh := model.IPRule{Protocol: "tcp", FromPort: 22, ToPort: 22, CIDRs: []string{"0.0.0.0/0"}}
	shared := `{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + AcctB + `:root"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}`
	own := `{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + AcctA + `:root"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}`
	public := `{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::site/*"}`
	account := func(p *model.PublicAccessBlock) model.Resource {
		return model.Resource{ID: model.AccountAssetsID(AcctA), Type: model.TypeAccountAssets, AccountID: AcctA, Name: AcctA,
			AccountAssets: &model.AccountAssetsAttrs{PublicAccessBlock: p, Sources: []model.AssetRegionSource{{Region: region, Source: model.AssetSourceServices}}}}
	}
	before = []model.Resource{
		account(&model.PublicAccessBlock{BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true}),
		bucket("old-logs", "", allOn),
		bucket("site", "", allOn),
		key(grantOld),
		function(ARN(AcctA, "role", "resize-v1")),
		secret(`{"Version":"2012-10-17","Statement":[` + own + `,` + shared + `]}`),
		instance("i-1", "running", "203.0.113.10", ""),
		instance("i-2", "running", "", ARN(AcctA, "role", "app")),
		group(https),
	}
	after = []model.Resource{
		account(&model.PublicAccessBlock{BlockPublicAcls: true}),
		bucket("public-drop", `{"Version":"2012-10-17","Statement":[`+public+`]}`, nil),
		bucket("site", `{"Version":"2012-10-17","Statement":[`+public+`]}`,
			&model.PublicAccessBlock{BlockPublicAcls: true, IgnorePublicAcls: true}),
		key(grantNew),
		function(ARN(AcctA, "role", "resize-v2")),
		secret(`{"Version":"2012-10-17","Statement":[` + own + `]}`),
		instance("i-1", "stopped", "", ""),
		instance("i-2", "running", "", ARN(AcctA, "role", "deploy")),
		group(httpsPublic, ssh),
	}
	return before, after
}
