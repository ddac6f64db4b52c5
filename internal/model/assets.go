package model

// The assets identities act on: EC2 instances and security groups, S3
// buckets, KMS keys, Lambda functions and Secrets Manager secrets, each a
// Resource whose ID is its ARN (a security group's is
// arn:aws:ec2:REGION:ACCOUNT:security-group/ID, an instance's
// arn:aws:ec2:REGION:ACCOUNT:instance/ID).
//
// The identity edges they imply are grants:
//   - an instance holds its role's EntRunsAs entitlement, ViaInstanceProfile
//     (ViaID: the instance profile's ARN); a function holds its execution
//     role's EntRunsAs, ViaExecutionRole;
//   - a resource policy grants each principal it names, in an Allow
//     statement, the entitlement named by each action on the asset
//     ("s3:GetObject" on a bucket), ViaResourcePolicy. Conditions are not
//     represented in the grant; the policy is kept whole in the attributes.

// The asset resource types.
const (
	TypeS3Bucket       ResourceType = "s3_bucket"
	TypeKMSKey         ResourceType = "kms_key"
	TypeLambdaFunction ResourceType = "lambda_function"
	TypeSecret         ResourceType = "secret"
	TypeEC2Instance    ResourceType = "ec2_instance"
	TypeSecurityGroup  ResourceType = "ec2_security_group"
	// TypeAccountAssets is one per account whose assets were read: the
	// account-level asset settings (S3 Block Public Access) and how each
	// region's assets were read. Its ID is AccountAssetsID.
	TypeAccountAssets ResourceType = "account_assets"
)

// AccountAssetsID returns the ID of an account's TypeAccountAssets
// resource.
func AccountAssetsID(accountID string) string { return AccountResourceID(accountID) + "/assets" }

// The sources an account's assets are read from, per region.
const (
	// AssetSourceConfig: an AWS Config aggregator's advanced query, with
	// the per-resource calls for the policies Config does not record.
	AssetSourceConfig = "config"
	// AssetSourceServices: the services' own listings.
	AssetSourceServices = "services"
)

// AccountAssetsAttrs are an account's asset settings and sources.
type AccountAssetsAttrs struct {
	// PublicAccessBlock is the account's S3 Block Public Access
	// configuration (S3 Control), nil when none is set; it applies to
	// every bucket of the account on top of the bucket's own.
	PublicAccessBlock *PublicAccessBlock `json:"public_access_block,omitempty"`
	// Sources say how each region read was read, sorted by region.
	Sources []AssetRegionSource `json:"sources"`
}

// AssetRegionSource says how one region's assets were read.
type AssetRegionSource struct {
	Region string `json:"region"`
	// Source is AssetSourceConfig or AssetSourceServices.
	Source string `json:"source"`
	// Aggregator names the AWS Config aggregator, for AssetSourceConfig.
	Aggregator string `json:"aggregator,omitempty"`
}

// EffectivePublicAccessBlock returns the Block Public Access settings that
// apply to a bucket: each setting is on when the bucket's or the
// account's is, as S3 applies the most restrictive combination. Either
// may be nil (none set).
func EffectivePublicAccessBlock(bucket, account *PublicAccessBlock) PublicAccessBlock {
	var out PublicAccessBlock
	for _, p := range []*PublicAccessBlock{bucket, account} {
		if p != nil {
			out.BlockPublicAcls = out.BlockPublicAcls || p.BlockPublicAcls
			out.IgnorePublicAcls = out.IgnorePublicAcls || p.IgnorePublicAcls
			out.BlockPublicPolicy = out.BlockPublicPolicy || p.BlockPublicPolicy
			out.RestrictPublicBuckets = out.RestrictPublicBuckets || p.RestrictPublicBuckets
		}
	}
	return out
}

// AccountPublicAccessBlocks returns the account-level Block Public Access
// settings of a graph, by account ID (TypeAccountAssets resources).
func AccountPublicAccessBlocks(g *Graph) map[string]*PublicAccessBlock {
	out := map[string]*PublicAccessBlock{}
	for i := range g.Resources {
		if r := &g.Resources[i]; r.AccountAssets != nil && r.AccountAssets.PublicAccessBlock != nil {
			out[r.AccountID] = r.AccountAssets.PublicAccessBlock
		}
	}
	return out
}

// EntRunsAs is offered by an IAM role; its holders are the instances and
// functions that run with the role's credentials.
const EntRunsAs = "runs_as"

// Provenance of the asset edges.
const (
	// ViaInstanceProfile: an instance runs as the role of the instance
	// profile in Grant.ViaID.
	ViaInstanceProfile Provenance = "instance_profile"
	// ViaExecutionRole: a Lambda function runs as its execution role.
	ViaExecutionRole Provenance = "execution_role"
	// ViaResourcePolicy: the asset's own resource policy (bucket policy,
	// key policy, function policy, secret policy, or a function alias's)
	// names the principal.
	ViaResourcePolicy Provenance = "resource_policy"
	// ViaBucketACL: a grant of the bucket's ACL names the principal (a
	// group, or another account's canonical user).
	ViaBucketACL Provenance = "bucket_acl"
)

// BucketAttrs are an S3 bucket's attributes.
type BucketAttrs struct {
	Region string `json:"region"`
	// Policy is the bucket policy, "" for none.
	Policy string `json:"policy,omitempty"`
	// PublicAccessBlock is the bucket's Block Public Access configuration,
	// nil when none is set.
	PublicAccessBlock *PublicAccessBlock `json:"public_access_block,omitempty"`
	// ACL is the bucket's access control list as S3 returns it (GetBucketAcl,
	// or AWS Config's AccessControlList), nil when it was not read.
	ACL *BucketACL `json:"acl,omitempty"`
}

// BucketACL is an S3 bucket's access control list: its owner and its
// grants, the owner's own FULL_CONTROL grant included. A bucket whose
// Object Ownership is BucketOwnerEnforced (ACLs disabled) has only that.
type BucketACL struct {
	// OwnerID is the canonical user ID of the bucket's owner account.
	OwnerID string           `json:"owner_id"`
	Grants  []BucketACLGrant `json:"grants"`
}

// BucketACLGrant is one grant of a bucket ACL.
type BucketACLGrant struct {
	// GranteeType is ACLCanonicalUser or ACLGroup.
	GranteeType string `json:"grantee_type"`
	// Grantee is a canonical user ID (ACLCanonicalUser) or a group's URI
	// (ACLGroup: ACLAllUsers, ACLAuthenticatedUsers, ACLLogDelivery).
	Grantee string `json:"grantee"`
	// Permission is FULL_CONTROL, WRITE, WRITE_ACP, READ or READ_ACP.
	Permission string `json:"permission"`
}

// Grantee types and the predefined groups of S3 ACLs (Amazon S3 User
// Guide, "Access control list (ACL) overview").
const (
	ACLCanonicalUser      = "CanonicalUser"
	ACLGroup              = "Group"
	ACLAllUsers           = "http://acs.amazonaws.com/groups/global/AllUsers"
	ACLAuthenticatedUsers = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
	ACLLogDelivery        = "http://acs.amazonaws.com/groups/s3/LogDelivery"
)

// aclActions are the actions each bucket ACL permission allows on the
// bucket (Amazon S3 User Guide, "Access control list (ACL) overview",
// mapping of ACL permissions to access policy permissions); WRITE's act on
// the bucket's objects.
var aclActions = map[string][]string{
	"READ":      {"s3:ListBucket", "s3:ListBucketVersions", "s3:ListBucketMultipartUploads"},
	"WRITE":     {"s3:PutObject"},
	"READ_ACP":  {"s3:GetBucketAcl"},
	"WRITE_ACP": {"s3:PutBucketAcl"},
}

// ACLPermissions are the permissions an ACL permission stands for: itself,
// or for FULL_CONTROL READ, WRITE, READ_ACP and WRITE_ACP; none for a
// permission S3 does not have.
func ACLPermissions(perm string) []string {
	if perm == "FULL_CONTROL" {
		return []string{"READ", "WRITE", "READ_ACP", "WRITE_ACP"}
	}
	if _, ok := aclActions[perm]; ok {
		return []string{perm}
	}
	return nil
}

// ACLActions are the S3 actions a bucket ACL permission (not FULL_CONTROL:
// see ACLPermissions) allows.
func ACLActions(perm string) []string { return aclActions[perm] }

// Actions are the S3 actions the grant allows, in the order of its
// permissions (ACLPermissions).
func (g BucketACLGrant) Actions() []string {
	var out []string
	for _, p := range ACLPermissions(g.Permission) {
		out = append(out, aclActions[p]...)
	}
	return out
}

// PublicGrant reports whether an ACL grant is public as S3 judges it: to
// everyone (AllUsers) or to any AWS account (AuthenticatedUsers). Block
// Public Access IgnorePublicAcls makes S3 ignore these grants.
func (g BucketACLGrant) PublicGrant() bool {
	return g.GranteeType == ACLGroup && (g.Grantee == ACLAllUsers || g.Grantee == ACLAuthenticatedUsers)
}

// CanonicalOwners maps the canonical user IDs of a graph's bucket owners
// (their ACLs' OwnerID) to the accounts that own them: the accounts whose
// canonical ID the snapshot knows.
func CanonicalOwners(g *Graph) map[string]string {
	out := map[string]string{}
	for i := range g.Resources {
		if r := &g.Resources[i]; r.Bucket != nil && r.Bucket.ACL != nil && r.Bucket.ACL.OwnerID != "" {
			out[r.Bucket.ACL.OwnerID] = r.AccountID
		}
	}
	return out
}

// PublicAccessBlock is an S3 Block Public Access configuration.
type PublicAccessBlock struct {
	BlockPublicAcls       bool `json:"block_public_acls"`
	IgnorePublicAcls      bool `json:"ignore_public_acls"`
	BlockPublicPolicy     bool `json:"block_public_policy"`
	RestrictPublicBuckets bool `json:"restrict_public_buckets"`
}

// KMSKeyAttrs are a customer managed KMS key's attributes.
type KMSKeyAttrs struct {
	Region      string     `json:"region"`
	KeyID       string     `json:"key_id"`
	State       string     `json:"state"` // Enabled, Disabled, PendingDeletion, …
	Description string     `json:"description,omitempty"`
	Policy      string     `json:"policy"`
	Grants      []KMSGrant `json:"grants,omitempty"`
}

// KMSGrant is a grant on a KMS key.
type KMSGrant struct {
	GrantID           string   `json:"grant_id"`
	Name              string   `json:"name,omitempty"`
	GranteePrincipal  string   `json:"grantee_principal"`
	RetiringPrincipal string   `json:"retiring_principal,omitempty"`
	Operations        []string `json:"operations"`
	// Constraints are the grant's encryption context constraints, nil for
	// none.
	Constraints *KMSGrantConstraints `json:"constraints,omitempty"`
}

// KMSGrantConstraints are a KMS grant's constraints: its cryptographic
// operations are allowed only when the request's encryption context
// equals EncryptionContextEquals, or includes EncryptionContextSubset
// (keys compared without case, values with).
type KMSGrantConstraints struct {
	EncryptionContextEquals map[string]string `json:"encryption_context_equals,omitempty"`
	EncryptionContextSubset map[string]string `json:"encryption_context_subset,omitempty"`
}

// FunctionAttrs are a Lambda function's attributes.
type FunctionAttrs struct {
	Region  string `json:"region"`
	Runtime string `json:"runtime,omitempty"`
	// Role is the execution role's ARN.
	Role string `json:"role"`
	// Policy is the function's resource-based policy, "" for none.
	Policy string `json:"policy,omitempty"`
	// Aliases are the function's aliases in name order, each with its own
	// resource-based policy (which grants on the alias's ARN only); nil for
	// none, or when they were not read (Unread says "aliases").
	Aliases []FunctionAlias `json:"aliases,omitempty"`
}

// FunctionAlias is a Lambda function's alias.
type FunctionAlias struct {
	Name string `json:"name"`
	// Version is the function version the alias points to ("1", "$LATEST").
	Version string `json:"version"`
	// Policy is the alias's resource-based policy, "" for none.
	Policy string `json:"policy,omitempty"`
}

// Alias is the function's alias of that name, nil when it has none.
func (f *FunctionAttrs) Alias(name string) *FunctionAlias {
	for i := range f.Aliases {
		if f.Aliases[i].Name == name {
			return &f.Aliases[i]
		}
	}
	return nil
}

// SecretAttrs are a Secrets Manager secret's attributes; never its value.
type SecretAttrs struct {
	Region      string `json:"region"`
	Description string `json:"description,omitempty"`
	KMSKeyID    string `json:"kms_key_id,omitempty"`
	// Policy is the secret's resource policy, "" for none.
	Policy string `json:"policy,omitempty"`
}

// InstanceAttrs are an EC2 instance's attributes.
type InstanceAttrs struct {
	Region       string `json:"region"`
	InstanceID   string `json:"instance_id"`
	State        string `json:"state"`
	InstanceType string `json:"instance_type"`
	VPC          string `json:"vpc,omitempty"`
	Subnet       string `json:"subnet,omitempty"`
	PrivateIP    string `json:"private_ip,omitempty"`
	PublicIP     string `json:"public_ip,omitempty"`
	// InstanceProfile is the instance profile's ARN and Role the ARN of
	// its role ("" when the profile is unknown or has no role).
	InstanceProfile string   `json:"instance_profile,omitempty"`
	Role            string   `json:"role,omitempty"`
	SecurityGroups  []string `json:"security_groups"`
}

// SecurityGroupAttrs are an EC2 security group's attributes.
type SecurityGroupAttrs struct {
	Region      string   `json:"region"`
	GroupID     string   `json:"group_id"`
	VPC         string   `json:"vpc,omitempty"`
	Description string   `json:"description,omitempty"`
	Ingress     []IPRule `json:"ingress"`
}

// IPRule is one inbound rule of a security group. FromPort and ToPort are
// -1 for every port (protocol "-1").
type IPRule struct {
	Protocol  string   `json:"protocol"`
	FromPort  int      `json:"from_port"`
	ToPort    int      `json:"to_port"`
	CIDRs     []string `json:"cidrs,omitempty"`
	IPv6CIDRs []string `json:"ipv6_cidrs,omitempty"`
	Groups    []string `json:"groups,omitempty"`
}

// OpenToInternet reports whether the rule admits 0.0.0.0/0 or ::/0.
func (r IPRule) OpenToInternet() bool {
	for _, c := range r.CIDRs {
		if c == "0.0.0.0/0" {
			return true
		}
	}
	for _, c := range r.IPv6CIDRs {
		if c == "::/0" {
			return true
		}
	}
	return false
}

// CoversPort reports whether the rule admits TCP traffic to port.
func (r IPRule) CoversPort(port int) bool {
	if r.Protocol == "-1" {
		return true
	}
	return r.Protocol == "tcp" && r.FromPort <= port && port <= r.ToPort
}

// AssetRegion is the region of an asset (instance, security group, bucket,
// KMS key, function or secret), "" for a resource that is not one.
func AssetRegion(r *Resource) string {
	switch {
	case r.Instance != nil:
		return r.Instance.Region
	case r.SecurityGroup != nil:
		return r.SecurityGroup.Region
	case r.Bucket != nil:
		return r.Bucket.Region
	case r.KMSKey != nil:
		return r.KMSKey.Region
	case r.Function != nil:
		return r.Function.Region
	case r.Secret != nil:
		return r.Secret.Region
	}
	return ""
}

// ResourcePolicy is an asset's own resource policy: its kind ("bucket
// policy", "key policy", "function policy", "secret policy") and its text
// ("" for none); ok is false for a resource whose kind has none.
func ResourcePolicy(r *Resource) (kind, text string, ok bool) {
	switch {
	case r.Bucket != nil:
		return "bucket policy", r.Bucket.Policy, true
	case r.KMSKey != nil:
		return "key policy", r.KMSKey.Policy, true
	case r.Function != nil:
		return "function policy", r.Function.Policy, true
	case r.Secret != nil:
		return "secret policy", r.Secret.Policy, true
	}
	return "", "", false
}
