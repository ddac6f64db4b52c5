package awsfake

import (
	"fmt"
	"math/rand"
	"slices"
	"sort"
	"strings"
	"time"
)

// AssetEstate describes the assets generated in each account and region:
// S3 buckets with and without policies (some public, some shared with
// another account, some public by policy but blocked by Block Public
// Access) and some of those without a policy with ACLs (public-read, or
// granting another account and S3's log delivery; the rest keep ACLs
// disabled, BucketOwnerEnforced), KMS keys (an AWS managed one, and customer keys whose policies
// delegate to IAM, let anyone in the account manage the key, or share it
// with another account; some with grants), Lambda functions running as the
// account's roles (some with resource policies: public, cross-account or
// for a service; some of those without one with aliases "live" and
// "prod", prod's own policy shared with another account), secrets (with and without resource policies), EC2
// instances (some with public IPs, some with instance profiles of the
// account's roles) and security groups (some open to the internet on SSH or
// RDP). Build is deterministic for a Seed; its AssetTruth holds the planted
// exposures, the ground truth of the findings.
type AssetEstate struct {
	// Regions are the regions assets are placed in; default us-east-1
	// and eu-west-1.
	Regions []string
	// Per account and region; a negative count means none, zero the
	// default: 5 buckets (placed in the first region only: S3 lists an
	// account's buckets once, whatever the region), 4 keys besides the AWS
	// managed one, 4 functions, 3 secrets, 3 instances, 4 security groups
	// besides the default one. The defaults plant every kind of exposure
	// (public-acl and cross-account-acl given enough buckets: the ACLs go
	// by the bucket's index in the estate, see bucketACL, and a public ACL
	// is no exposure under IgnorePublicAcls).
	Buckets, Keys, Functions, Secrets, Instances, SecurityGroups int
	// OptedIn lists, by account ID, the opt-in regions it enabled.
	OptedIn map[string][]string
	// DeniedRegions lists, by account ID, regions an SCP denies.
	DeniedRegions map[string][]string
	// AccountBlockPublicAccess sets, by account ID, the account-level S3
	// Block Public Access settings (S3 Control); an account with
	// RestrictPublicBuckets has no public bucket exposure, whatever its
	// buckets' own settings. Default none.
	AccountBlockPublicAccess map[string]*PublicAccessBlock
	// Aggregator, when set, is an AWS Config aggregator placed in the
	// estate; its zero fields default to the name "warden-org", the first
	// account, the first region, the organization's service role.
	Aggregator *ConfigAggregator
	// OutsideAccountID is the account outside the estate that
	// cross-account policies name; default 999988887777.
	OutsideAccountID string
	Seed             int64
	// Now is the reference clock; default 2026-11-01T00:00:00Z.
	Now time.Time
}

// AssetTruth is what an AssetEstate generated.
type AssetTruth struct {
	*Assets
	// Exposures are the exposures planted, sorted by ARN then kind.
	Exposures []Exposure
}

// Exposure is one planted exposure.
type Exposure struct {
	// Kind is public (anyone, through a resource policy), cross-account
	// (an account other than the resource's, named by a resource
	// policy), public-acl (a bucket whose ACL grants to AllUsers or
	// AuthenticatedUsers, ACLs enabled and IgnorePublicAcls off for the
	// bucket and its account), cross-account-acl (a bucket whose ACL
	// grants to another account's canonical user, ACLs enabled),
	// open-admin-port (a security group open to the internet on SSH or
	// RDP) or account-manage (a KMS key policy that lets any principal of
	// the account manage the key). A grant to S3's log delivery group is
	// no exposure.
	Kind string
	// Type is bucket, kms-key, function, secret or security-group.
	Type string
	// ARN is the resource's ARN; for a security group
	// arn:aws:ec2:REGION:ACCOUNT:security-group/ID. A Lambda alias's
	// policy is reported on its function: the exposure's ARN is the
	// function's unqualified ARN, not the alias's.
	ARN     string
	Account string
	Region  string
	// Accounts are the other accounts a cross-account policy names, or a
	// cross-account-acl ACL grants to.
	Accounts []string
	// Ports are the admin ports open, for open-admin-port.
	Ports []int
}

func (e AssetEstate) count(n, def int) int {
	if n < 0 {
		return 0
	}
	if n == 0 {
		return def
	}
	return n
}

// Build places the assets in the accounts given, adding to their IAM the
// instance profiles the instances use (and, in an account with no role,
// one role for its workloads).
func (e AssetEstate) Build(accounts []*Account) *AssetTruth {
	if len(e.Regions) == 0 {
		e.Regions = []string{"us-east-1", "eu-west-1"}
	}
	if e.OutsideAccountID == "" {
		e.OutsideAccountID = "999988887777"
	}
	if e.Now.IsZero() {
		e.Now = defaultEstateNow
	}
	rng := rand.New(rand.NewSource(e.Seed*7919 + 13))
	t := &AssetTruth{Assets: &Assets{OptedIn: map[string][]string{}, DeniedRegions: map[string][]string{}}}
	for k, v := range e.OptedIn {
		t.OptedIn[k] = slices.Clone(v)
	}
	for k, v := range e.DeniedRegions {
		t.DeniedRegions[k] = slices.Clone(v)
	}
	for k, v := range e.AccountBlockPublicAccess {
		if t.AccountPublicAccessBlocks == nil {
			t.AccountPublicAccessBlocks = map[string]*PublicAccessBlock{}
		}
		p := *v
		t.AccountPublicAccessBlocks[k] = &p
	}
	if e.Aggregator != nil && len(accounts) > 0 {
		a := e.Aggregator.clone()
		if a.Name == "" {
			a.Name = "warden-org"
		}
		if a.Account == "" {
			a.Account = accounts[0].ID
		}
		if a.Region == "" {
			a.Region = e.Regions[0]
		}
		if a.RoleARN == "" && a.Organization {
			a.RoleARN = "arn:aws:iam::" + a.Account + ":role/service-role/AWSConfigRoleForOrganizations"
		}
		if a.CreatedAt.IsZero() {
			a.CreatedAt = e.Now.AddDate(0, 0, -100)
		}
		t.Aggregators = append(t.Aggregators, a)
	}
	for ai, a := range accounts {
		other := e.OutsideAccountID
		if len(accounts) > 1 && ai%2 == 1 {
			other = accounts[(ai+1)%len(accounts)].ID
		}
		roles := workloadRoles(a, e.Now)
		for ri, region := range e.Regions {
			g := assetGen{e: e, t: t, rng: rng, a: a, region: region, other: other, roles: roles}
			if ri == 0 {
				g.buckets(e.count(e.Buckets, 5))
			}
			g.keys(e.count(e.Keys, 4))
			g.functions(e.count(e.Functions, 4))
			g.secrets(e.count(e.Secrets, 3))
			groups := g.securityGroups(e.count(e.SecurityGroups, 4))
			g.instances(e.count(e.Instances, 3), groups)
		}
	}
	sort.Slice(t.Exposures, func(i, j int) bool {
		if t.Exposures[i].ARN != t.Exposures[j].ARN {
			return t.Exposures[i].ARN < t.Exposures[j].ARN
		}
		return t.Exposures[i].Kind < t.Exposures[j].Kind
	})
	return t
}

// workloadRoles returns the account's role ARNs, sorted, adding one when
// the account has none.
func workloadRoles(a *Account, now time.Time) []string {
	if a.IAM == nil {
		a.IAM = &IAM{}
	}
	a.IAM.fill()
	if len(a.IAM.Roles) == 0 {
		name := "workload"
		a.IAM.Roles[name] = &Role{Name: name, ID: "AROA" + fmt.Sprintf("%017d", 0)[:17], Path: "/", ARN: "arn:aws:iam::" + a.ID + ":role/" + name,
			CreatedAt: now.AddDate(-1, 0, 0), MaxSessionDuration: 3600, InlinePolicies: map[string]string{},
			AssumeRolePolicy: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":["ec2.amazonaws.com","lambda.amazonaws.com"]},"Action":"sts:AssumeRole"}]}`}
	}
	var out []string
	for _, n := range sortedKeys(a.IAM.Roles) {
		out = append(out, a.IAM.Roles[n].ARN)
	}
	return out
}

// assetGen generates one account's assets in one region.
type assetGen struct {
	e      AssetEstate
	t      *AssetTruth
	rng    *rand.Rand
	a      *Account
	region string
	other  string // the account cross-account policies name
	roles  []string
}

func (g *assetGen) expose(kind, typ, arn string, accounts []string, ports []int) {
	g.t.Exposures = append(g.t.Exposures, Exposure{Kind: kind, Type: typ, ARN: arn, Account: g.a.ID, Region: g.region, Accounts: accounts, Ports: ports})
}

func (g *assetGen) role() string { return g.roles[g.rng.Intn(len(g.roles))] }

func (g *assetGen) hex(n int) string {
	const digits = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = digits[g.rng.Intn(16)]
	}
	return string(b)
}

func policyDoc(statements ...string) string {
	out := `{"Version":"2012-10-17","Statement":[`
	for i, s := range statements {
		if i > 0 {
			out += ","
		}
		out += s
	}
	return out + "]}"
}

func (g *assetGen) buckets(n int) {
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("%s-%s-%s-%d", teams[g.rng.Intn(len(teams))], g.a.ID, g.region, i)
		arn := "arn:aws:s3:::" + name
		b := &Bucket{Name: name, Account: g.a.ID, Region: g.region, CreatedAt: ago(g.e.Now, g.rng, 1000)}
		if g.rng.Intn(2) == 0 {
			b.PublicAccessBlock = &PublicAccessBlock{BlockPublicAcls: true, IgnorePublicAcls: true}
		}
		switch i % 5 {
		case 1:
			b.Policy = policyDoc(fmt.Sprintf(`{"Sid":"Team","Effect":"Allow","Principal":{"AWS":%q},"Action":["s3:GetObject","s3:PutObject"],"Resource":"%s/*"}`, g.role(), arn))
		case 2:
			b.Policy = policyDoc(fmt.Sprintf(`{"Sid":"PublicRead","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"%s/*"}`, arn))
			b.PublicAccessBlock = nil
			if acct := g.e.AccountBlockPublicAccess[g.a.ID]; acct == nil || !acct.RestrictPublicBuckets {
				g.expose("public", "bucket", arn, nil, nil)
			}
		case 3:
			b.Policy = policyDoc(fmt.Sprintf(`{"Sid":"Partner","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::%s:root"},"Action":["s3:GetObject","s3:ListBucket"],"Resource":[%q,"%s/*"]}`, g.other, arn, arn))
			g.expose("cross-account", "bucket", arn, []string{g.other}, nil)
		case 4:
			// Public by policy, but Block Public Access restricts it to
			// the account's own principals and AWS services.
			b.Policy = policyDoc(fmt.Sprintf(`{"Sid":"PublicRead","Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:GetObject","Resource":"%s/*"}`, arn))
			b.PublicAccessBlock = &PublicAccessBlock{BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true}
		}
		b.ObjectOwnership = ObjectOwnershipEnforced
		if i%5 == 0 {
			g.bucketACL(b, len(g.t.Buckets))
		}
		g.t.Buckets = append(g.t.Buckets, b)
	}
}

// bucketACL gives a bucket without a policy an ACL by k, the bucket's
// index among the estate's buckets (so no draw of the generator: every
// other figure of the estate is as it was before buckets had ACLs):
// k%3 == 0 keeps S3's default (ACLs disabled, the owner's FULL_CONTROL);
// k%3 == 1 enables ACLs (BucketOwnerPreferred) with the canned
// public-read ACL; k%3 == 2 enables them (ObjectWriter) and grants the
// other account READ and READ_ACP and S3's log delivery WRITE. It plants
// the exposures the ACL makes.
func (g *assetGen) bucketACL(b *Bucket, k int) {
	owner := BucketGrant{Type: GranteeCanonicalUser, ID: CanonicalUserID(g.a.ID), Permission: "FULL_CONTROL"}
	switch k % 3 {
	case 1:
		b.ObjectOwnership = ObjectOwnershipPreferred
		b.ACL, _ = cannedACL("public-read", g.a.ID)
	case 2:
		b.ObjectOwnership = ObjectOwnershipObjectWriter
		other := CanonicalUserID(g.other)
		b.ACL = []BucketGrant{owner, {Type: GranteeCanonicalUser, ID: other, Permission: "READ"},
			{Type: GranteeCanonicalUser, ID: other, Permission: "READ_ACP"}, {Type: GranteeGroup, URI: GroupLogDelivery, Permission: "WRITE"}}
	}
	ignore := b.PublicAccessBlock != nil && b.PublicAccessBlock.IgnorePublicAcls
	if acct := g.e.AccountBlockPublicAccess[g.a.ID]; acct != nil && acct.IgnorePublicAcls {
		ignore = true
	}
	public, accounts := aclExposure(b, ignore, []string{g.other})
	arn := "arn:aws:s3:::" + b.Name
	if public {
		g.expose("public-acl", "bucket", arn, nil, nil)
	}
	if len(accounts) > 0 {
		g.expose("cross-account-acl", "bucket", arn, accounts, nil)
	}
}

// aclExposure reports what a bucket's ACL exposes while ACLs are in
// effect (its Object Ownership is not BucketOwnerEnforced): public, a
// grant to AllUsers or AuthenticatedUsers, unless ignorePublic (Block
// Public Access's IgnorePublicAcls, the bucket's or its account's); and
// the accounts among known, other than the owner, whose canonical IDs it
// grants to, sorted. A grant to LogDelivery exposes nothing.
func aclExposure(b *Bucket, ignorePublic bool, known []string) (public bool, accounts []string) {
	if b.objectOwnership() == ObjectOwnershipEnforced {
		return false, nil
	}
	acl := b.effectiveACL()
	public = !ignorePublic && aclIsPublic(acl)
	for _, a := range known {
		if a == b.Account || slices.Contains(accounts, a) {
			continue
		}
		id := CanonicalUserID(a)
		if slices.ContainsFunc(acl, func(g BucketGrant) bool { return g.Type == GranteeCanonicalUser && g.ID == id }) {
			accounts = append(accounts, a)
		}
	}
	sort.Strings(accounts)
	return public, accounts
}

func (g *assetGen) keys(n int) {
	root := "arn:aws:iam::" + g.a.ID + ":root"
	iamDelegation := fmt.Sprintf(`{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":%q},"Action":"kms:*","Resource":"*"}`, root)
	newKey := func(manager, desc string) *KMSKey {
		id := uuidFrom(fmt.Sprintf("%s/%s/%s", g.a.ID, g.region, g.hex(16)))
		k := &KMSKey{ID: id, ARN: "arn:aws:kms:" + g.region + ":" + g.a.ID + ":key/" + id, Account: g.a.ID, Region: g.region,
			Description: desc, CreatedAt: ago(g.e.Now, g.rng, 900), Manager: manager, State: "Enabled"}
		g.t.Keys = append(g.t.Keys, k)
		return k
	}
	aws := newKey("AWS", "Default key that protects my Secrets Manager data when no other key is defined")
	aws.Policy = policyDoc(fmt.Sprintf(`{"Sid":"Allow access through AWS Secrets Manager for all principals in the account that are authorized to use AWS Secrets Manager","Effect":"Allow","Principal":{"AWS":"*"},"Action":["kms:Encrypt","kms:Decrypt","kms:ReEncrypt*","kms:GenerateDataKey*","kms:CreateGrant","kms:DescribeKey"],"Resource":"*","Condition":{"StringEquals":{"kms:CallerAccount":%q,"kms:ViaService":"secretsmanager.%s.amazonaws.com"}}}`, g.a.ID, g.region))
	for i := 0; i < n; i++ {
		team := teams[g.rng.Intn(len(teams))]
		k := newKey("CUSTOMER", fmt.Sprintf("%s data key %d", team, i))
		switch i % 4 {
		case 0:
			k.Policy = policyDoc(iamDelegation)
		case 1:
			k.Policy = policyDoc(iamDelegation, fmt.Sprintf(`{"Sid":"AccountAdmins","Effect":"Allow","Principal":{"AWS":"*"},"Action":["kms:Create*","kms:Describe*","kms:Enable*","kms:Put*","kms:Update*","kms:Revoke*","kms:Disable*","kms:ScheduleKeyDeletion","kms:CancelKeyDeletion"],"Resource":"*","Condition":{"StringEquals":{"kms:CallerAccount":%q}}}`, g.a.ID))
			g.expose("account-manage", "kms-key", k.ARN, nil, nil)
		case 2:
			k.Policy = policyDoc(iamDelegation, fmt.Sprintf(`{"Sid":"PartnerDecrypt","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::%s:root"},"Action":["kms:Decrypt","kms:DescribeKey"],"Resource":"*"}`, g.other))
			g.expose("cross-account", "kms-key", k.ARN, []string{g.other}, nil)
		case 3:
			k.Policy = policyDoc(iamDelegation)
			k.State = "Disabled"
		}
		for j := g.rng.Intn(3); j > 0; j-- {
			k.Grants = append(k.Grants, &KMSGrant{ID: g.hex(64), Name: fmt.Sprintf("grant-%d", j), GranteePrincipal: g.role(),
				IssuingAccount: root, Operations: []string{"Decrypt", "GenerateDataKey"}, CreatedAt: ago(g.e.Now, g.rng, 300),
				Constraints: grantConstraints(i, len(k.Grants), team)})
		}
	}
}

// grantConstraints are the constraints of grant j (0 for the first) of
// customer managed key i, whose team is team: the first grant of every
// other key requires the team in the encryption context, the second
// grant of every third key requires exactly the team and a stage, the
// rest have none. They are derived from the indices, not drawn, so the
// estate's other figures do not depend on them.
func grantConstraints(i, j int, team string) *GrantConstraints {
	switch {
	case j == 0 && i%2 == 0:
		return &GrantConstraints{EncryptionContextSubset: map[string]string{"team": team}}
	case j == 1 && i%3 == 1:
		return &GrantConstraints{EncryptionContextEquals: map[string]string{"team": team, "stage": "prod"}}
	}
	return nil
}

func (g *assetGen) functions(n int) {
	runtimes := []string{"python3.12", "nodejs20.x", "java21", "provided.al2023"}
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("%s-handler-%d", teams[g.rng.Intn(len(teams))], i)
		arn := "arn:aws:lambda:" + g.region + ":" + g.a.ID + ":function:" + name
		f := &Function{Name: name, ARN: arn, Account: g.a.ID, Region: g.region, Runtime: runtimes[g.rng.Intn(len(runtimes))],
			Handler: "index.handler", Role: g.role(), LastModified: ago(g.e.Now, g.rng, 200)}
		switch i % 4 {
		case 0:
			g.aliases(f, len(g.t.Functions))
		case 1:
			f.Policy = policyDoc(fmt.Sprintf(`{"Sid":"s3-invoke","Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"lambda:InvokeFunction","Resource":%q,"Condition":{"StringEquals":{"AWS:SourceAccount":%q}}}`, arn, g.a.ID))
		case 2:
			f.Policy = policyDoc(fmt.Sprintf(`{"Sid":"public-invoke","Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunctionUrl","Resource":%q,"Condition":{"StringEquals":{"lambda:FunctionUrlAuthType":"NONE"}}}`, arn))
			g.expose("public", "function", arn, nil, nil)
		case 3:
			f.Policy = policyDoc(fmt.Sprintf(`{"Sid":"partner-invoke","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::%s:root"},"Action":"lambda:InvokeFunction","Resource":%q}`, g.other, arn))
			g.expose("cross-account", "function", arn, []string{g.other}, nil)
		}
		g.t.Functions = append(g.t.Functions, f)
	}
}

// aliases places the aliases of a function without a policy of its own,
// by k, its index in AssetTruth.Functions, drawing nothing from the
// generator: k%3 == 0 none; 1 "live" (version 1, no policy); 2 "live"
// and "prod" (version 2), prod's policy granting lambda:InvokeFunction on
// the alias to the other account's root, a cross-account exposure
// reported on the function's unqualified ARN (an alias's exposures are
// its function's).
func (g *assetGen) aliases(f *Function, k int) {
	switch k % 3 {
	case 1:
		f.Aliases = []*FunctionAlias{{Name: "live", FunctionVersion: "1", Description: "Live traffic"}}
	case 2:
		prod := &FunctionAlias{Name: "prod", FunctionVersion: "2", Description: "Production",
			Policy: policyDoc(fmt.Sprintf(`{"Sid":"partner-invoke-prod","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::%s:root"},"Action":"lambda:InvokeFunction","Resource":%q}`, g.other, f.AliasARN("prod")))}
		f.Aliases = []*FunctionAlias{{Name: "live", FunctionVersion: "1", Description: "Live traffic"}, prod}
		g.expose("cross-account", "function", f.ARN, []string{g.other}, nil)
	}
}

func (g *assetGen) secrets(n int) {
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("%s/%s/db-password-%d", teams[g.rng.Intn(len(teams))], g.region, i)
		arn := "arn:aws:secretsmanager:" + g.region + ":" + g.a.ID + ":secret:" + name + "-" + randLower(g.rng, 6)
		x := &Secret{Name: name, ARN: arn, Account: g.a.ID, Region: g.region, Description: "Database password", CreatedAt: ago(g.e.Now, g.rng, 500),
			Value: "awsfake-secret-value-" + g.hex(24), Tags: []Tag{{Key: "team", Value: teams[i%len(teams)]}}}
		switch i % 3 {
		case 1:
			x.Policy = policyDoc(fmt.Sprintf(`{"Effect":"Allow","Principal":{"AWS":%q},"Action":"secretsmanager:GetSecretValue","Resource":"*"}`, g.role()))
		case 2:
			x.Policy = policyDoc(fmt.Sprintf(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::%s:root"},"Action":["secretsmanager:GetSecretValue","secretsmanager:DescribeSecret"],"Resource":"*"}`, g.other))
			g.expose("cross-account", "secret", arn, []string{g.other}, nil)
		}
		g.t.Secrets = append(g.t.Secrets, x)
	}
}

func (g *assetGen) securityGroups(n int) []*SecurityGroup {
	vpc := "vpc-" + g.hex(17)
	allOut := []IPPermission{{Protocol: "-1", FromPort: -1, ToPort: -1, CIDRs: []string{"0.0.0.0/0"}}}
	def := &SecurityGroup{ID: "sg-" + g.hex(17), Name: "default", Description: "default VPC security group", Account: g.a.ID, Region: g.region, VPC: vpc, Egress: allOut}
	def.Ingress = []IPPermission{{Protocol: "-1", FromPort: -1, ToPort: -1, Groups: []string{def.ID}}}
	out := []*SecurityGroup{def}
	for i := 0; i < n; i++ {
		sg := &SecurityGroup{ID: "sg-" + g.hex(17), Account: g.a.ID, Region: g.region, VPC: vpc, Egress: allOut}
		arn := "arn:aws:ec2:" + g.region + ":" + g.a.ID + ":security-group/" + sg.ID
		switch i % 4 {
		case 0:
			sg.Name, sg.Description = fmt.Sprintf("bastion-%d", i), "SSH from anywhere"
			sg.Ingress = []IPPermission{{Protocol: "tcp", FromPort: 22, ToPort: 22, CIDRs: []string{"0.0.0.0/0"}}}
			g.expose("open-admin-port", "security-group", arn, nil, []int{22})
		case 1:
			sg.Name, sg.Description = fmt.Sprintf("web-%d", i), "HTTPS from anywhere, SSH from the office"
			sg.Ingress = []IPPermission{{Protocol: "tcp", FromPort: 443, ToPort: 443, CIDRs: []string{"0.0.0.0/0"}, IPv6CIDRs: []string{"::/0"}},
				{Protocol: "tcp", FromPort: 22, ToPort: 22, CIDRs: []string{"203.0.113.0/24"}}}
		case 2:
			sg.Name, sg.Description = fmt.Sprintf("windows-%d", i), "RDP from anywhere over IPv6"
			sg.Ingress = []IPPermission{{Protocol: "tcp", FromPort: 3389, ToPort: 3389, IPv6CIDRs: []string{"::/0"}}}
			g.expose("open-admin-port", "security-group", arn, nil, []int{3389})
		case 3:
			sg.Name, sg.Description = fmt.Sprintf("wide-open-%d", i), "Everything from anywhere"
			sg.Ingress = []IPPermission{{Protocol: "-1", FromPort: -1, ToPort: -1, CIDRs: []string{"0.0.0.0/0"}}}
			g.expose("open-admin-port", "security-group", arn, nil, []int{22, 3389})
		}
		sg.Tags = []Tag{{Key: "Name", Value: sg.Name}}
		out = append(out, sg)
		g.t.SecurityGroups = append(g.t.SecurityGroups, sg)
	}
	g.t.SecurityGroups = append(g.t.SecurityGroups, def)
	return out
}

func (g *assetGen) instances(n int, groups []*SecurityGroup) {
	subnet := "subnet-" + g.hex(17)
	for i := 0; i < n; i++ {
		in := &Instance{ID: "i-" + g.hex(17), Account: g.a.ID, Region: g.region, Type: []string{"t3.micro", "m6i.large", "c7g.xlarge"}[g.rng.Intn(3)],
			ImageID: "ami-" + g.hex(17), State: "running", VPC: groups[0].VPC, Subnet: subnet,
			PrivateIP:  fmt.Sprintf("10.%d.%d.%d", g.rng.Intn(256), g.rng.Intn(256), 1+g.rng.Intn(254)),
			LaunchedAt: ago(g.e.Now, g.rng, 400), Tags: []Tag{{Key: "Name", Value: fmt.Sprintf("%s-%d", teams[g.rng.Intn(len(teams))], i)}}}
		if i%4 == 3 {
			in.State = "stopped"
		}
		if i%3 == 0 && in.State == "running" {
			in.PublicIP = fmt.Sprintf("198.51.100.%d", 1+g.rng.Intn(254))
		}
		in.SecurityGroups = []string{groups[g.rng.Intn(len(groups))].ID}
		if i%2 == 0 {
			role := g.role()
			roleName := role[strings.LastIndexByte(role, '/')+1:]
			name := "profile-" + roleName
			p := g.a.IAM.InstanceProfiles[name]
			if p == nil {
				p = &InstanceProfile{Name: name, ID: "AIPA" + strings.ToUpper(strings.ReplaceAll(uuidFrom(g.a.ID+"/"+name), "-", ""))[:17], Path: "/",
					ARN: "arn:aws:iam::" + g.a.ID + ":instance-profile/" + name, CreatedAt: ago(g.e.Now, g.rng, 600), Roles: []string{roleName}}
				g.a.IAM.InstanceProfiles[name] = p
			}
			in.InstanceProfileARN, in.InstanceProfileID = p.ARN, p.ID
		}
		g.t.Instances = append(g.t.Instances, in)
	}
}
