package awsfake

import (
	"maps"
	"net/http"
	"slices"
	"sort"
	"sync"
	"time"
)

// This file holds the state of the asset services (S3, KMS, Lambda,
// Secrets Manager, EC2): plain structs, each resource naming its account
// and region, kept per account and region as AWS keeps them (a listing in
// eu-west-1 sees only that region's keys). S3's bucket names are one
// global namespace. Regions follow AWS's opt-in model: the standard
// regions are enabled in every account, an opt-in region only where the
// account opted in, and a call to a region the account has not enabled is
// refused as AWS refuses it (the credentials are not valid there). A
// region an SCP denies (the aws:RequestedRegion guardrail many
// organizations set) answers each service's explicit-deny error.

// StandardRegions are the regions enabled in every account
// (opt-in-not-required), as DescribeRegions lists them.
var StandardRegions = []string{"ap-southeast-2", "eu-central-1", "eu-west-1", "us-east-1", "us-east-2", "us-west-2"}

// OptInRegions are regions an account must opt in to.
var OptInRegions = []string{"af-south-1", "ap-east-1", "me-south-1"}

// Assets is the state of the asset services over every account and region,
// and the ground truth a collector must find.
type Assets struct {
	Buckets        []*Bucket
	Keys           []*KMSKey
	Functions      []*Function
	Secrets        []*Secret
	Instances      []*Instance
	SecurityGroups []*SecurityGroup
	// OptedIn lists, by account, the opt-in regions the account enabled.
	OptedIn map[string][]string
	// DeniedRegions lists, by account, the regions a service control policy
	// denies (every action but the global ones).
	DeniedRegions map[string][]string
	// AccountPublicAccessBlocks are the accounts' S3 Block Public Access
	// settings (S3 Control's GetPublicAccessBlock), by account; an account
	// not here has none (NoSuchPublicAccessBlockConfiguration).
	AccountPublicAccessBlocks map[string]*PublicAccessBlock
	// Aggregators are the AWS Config configuration aggregators (config.go).
	Aggregators []*ConfigAggregator
}

// Bucket is an S3 bucket.
type Bucket struct {
	Name      string
	Account   string // the owner
	Region    string
	CreatedAt time.Time
	// Policy is the bucket policy, "" for none (NoSuchBucketPolicy).
	Policy string
	// PublicAccessBlock is the bucket's Block Public Access configuration;
	// nil for none (NoSuchPublicAccessBlockConfiguration).
	PublicAccessBlock *PublicAccessBlock
	// ACL is the bucket's access control list, its grants in the order
	// GetBucketAcl returns them; nil means S3's default ACL, the owner's
	// FULL_CONTROL alone (CanonicalUserID(Account)). The emulator returns
	// it as it is whatever ObjectOwnership says; with BucketOwnerEnforced
	// S3 keeps a bucket's ACL to the owner's grants, so a consistent state
	// has no other grant then.
	ACL []BucketGrant
	// ObjectOwnership is the bucket's S3 Object Ownership setting
	// (GetBucketOwnershipControls): "BucketOwnerEnforced" (ACLs disabled,
	// S3's default for new buckets), "BucketOwnerPreferred" or
	// "ObjectWriter" (ACLs in effect). "" is treated as
	// BucketOwnerEnforced.
	ObjectOwnership string
}

// The Object Ownership settings of a bucket (Bucket.ObjectOwnership).
const (
	// ObjectOwnershipEnforced disables ACLs: the bucket owner owns every
	// object and PutBucketAcl is refused (AccessControlListNotSupported).
	ObjectOwnershipEnforced = "BucketOwnerEnforced"
	// ObjectOwnershipPreferred keeps ACLs in effect; the bucket owner owns
	// objects written with the bucket-owner-full-control ACL.
	ObjectOwnershipPreferred = "BucketOwnerPreferred"
	// ObjectOwnershipObjectWriter keeps ACLs in effect; the writer owns the
	// objects it writes.
	ObjectOwnershipObjectWriter = "ObjectWriter"
)

// BucketGrant is one grant of a bucket's access control list, as
// GetBucketAcl returns it.
type BucketGrant struct {
	// Type is the grantee's type, "CanonicalUser" or "Group"
	// (GranteeCanonicalUser, GranteeGroup).
	Type string
	// ID is the grantee's canonical user ID (CanonicalUserID of its
	// account), for a CanonicalUser grantee.
	ID string
	// URI is the group's URI (GroupAllUsers, GroupAuthenticatedUsers or
	// GroupLogDelivery), for a Group grantee.
	URI string
	// Permission is FULL_CONTROL, WRITE, WRITE_ACP, READ or READ_ACP.
	Permission string
}

// The grantee types of a BucketGrant.
const (
	// GranteeCanonicalUser is a grantee named by its canonical user ID.
	GranteeCanonicalUser = "CanonicalUser"
	// GranteeGroup is one of S3's predefined groups, named by its URI.
	GranteeGroup = "Group"
)

// The URIs of S3's predefined groups an ACL may grant to.
const (
	// GroupAllUsers is anyone, signed or anonymous: a grant to it makes
	// the bucket public.
	GroupAllUsers = "http://acs.amazonaws.com/groups/global/AllUsers"
	// GroupAuthenticatedUsers is any AWS account's signed requests: a
	// grant to it is public too.
	GroupAuthenticatedUsers = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
	// GroupLogDelivery is S3's server access log delivery.
	GroupLogDelivery = "http://acs.amazonaws.com/groups/s3/LogDelivery"
)

// PublicAccessBlock is an S3 Block Public Access configuration.
type PublicAccessBlock struct {
	BlockPublicAcls       bool
	IgnorePublicAcls      bool
	BlockPublicPolicy     bool
	RestrictPublicBuckets bool
}

// KMSKey is a KMS key.
type KMSKey struct {
	ID          string // a UUID
	ARN         string
	Account     string
	Region      string
	Description string
	CreatedAt   time.Time
	// Manager is CUSTOMER or AWS (an AWS managed key, alias/aws/…).
	Manager string
	// State is Enabled, Disabled or PendingDeletion.
	State string
	// Policy is the key policy (named "default").
	Policy string
	Grants []*KMSGrant
}

// KMSGrant is a grant on a KMS key.
type KMSGrant struct {
	ID                string
	Name              string
	GranteePrincipal  string
	RetiringPrincipal string
	IssuingAccount    string // arn:aws:iam::ACCOUNT:root
	Operations        []string
	CreatedAt         time.Time
	// Constraints are the grant's encryption context constraints, nil
	// for none.
	Constraints *GrantConstraints
}

// GrantConstraints are a KMS grant's encryption context constraints:
// the grant allows a cryptographic operation only when the request's
// encryption context is EncryptionContextEquals exactly, or includes
// EncryptionContextSubset. An empty map is no constraint.
type GrantConstraints struct {
	EncryptionContextEquals map[string]string
	EncryptionContextSubset map[string]string
}

// clone returns a deep copy of c, nil for nil.
func (c *GrantConstraints) clone() *GrantConstraints {
	if c == nil {
		return nil
	}
	return &GrantConstraints{EncryptionContextEquals: maps.Clone(c.EncryptionContextEquals), EncryptionContextSubset: maps.Clone(c.EncryptionContextSubset)}
}

// Function is a Lambda function.
type Function struct {
	Name         string
	ARN          string
	Account      string
	Region       string
	Runtime      string
	Handler      string
	Role         string // the execution role's ARN
	Description  string
	LastModified time.Time
	// Policy is the function's resource-based policy, "" for none: the
	// unqualified function's (and $LATEST's), not its aliases'.
	Policy string
	// Aliases are the function's aliases, in name order as ListAliases
	// returns them.
	Aliases []*FunctionAlias
}

// FunctionAlias is a Lambda alias: a name for one version of a function,
// with its own resource-based policy. Versions themselves are not
// emulated: FunctionVersion is only what the alias says it invokes.
type FunctionAlias struct {
	// Name is the alias's name, unique in its function.
	Name string
	// FunctionVersion is the version the alias invokes: "1", "2", … or
	// "$LATEST".
	FunctionVersion string
	// Description is the alias's description.
	Description string
	// Policy is the alias's own resource-based policy (the one GetPolicy
	// answers with Qualifier set to the alias), "" for none.
	Policy string
}

// AliasARN returns the ARN of the function's alias named alias: the
// function's ARN qualified by the alias name.
func (f *Function) AliasARN(alias string) string { return f.ARN + ":" + alias }

// Alias returns the function's alias named name, nil for none.
func (f *Function) Alias(name string) *FunctionAlias {
	for _, a := range f.Aliases {
		if a.Name == name {
			return a
		}
	}
	return nil
}

// Secret is a Secrets Manager secret.
type Secret struct {
	Name        string
	ARN         string
	Account     string
	Region      string
	Description string
	KMSKeyID    string
	CreatedAt   time.Time
	// Policy is the secret's resource policy, "" for none.
	Policy string
	// Value is the secret's value. No emulated action returns it; it is
	// here so a test can prove it never reaches warden's output.
	Value string
	Tags  []Tag
}

// Instance is an EC2 instance.
type Instance struct {
	ID        string // i-…
	Account   string
	Region    string
	Type      string
	ImageID   string
	State     string // pending, running, stopping, stopped, shutting-down, terminated
	VPC       string
	Subnet    string
	PrivateIP string
	// PublicIP is "" for an instance without one.
	PublicIP string
	// InstanceProfileARN and InstanceProfileID name the instance profile,
	// "" for none; the profile and its role are in the account's IAM.
	InstanceProfileARN string
	InstanceProfileID  string
	SecurityGroups     []string // group IDs
	Tags               []Tag
	LaunchedAt         time.Time
}

// SecurityGroup is an EC2 security group.
type SecurityGroup struct {
	ID          string // sg-…
	Name        string
	Description string
	Account     string
	Region      string
	VPC         string
	Ingress     []IPPermission
	Egress      []IPPermission
	Tags        []Tag
}

// IPPermission is one rule of a security group.
type IPPermission struct {
	Protocol  string // tcp, udp, icmp or -1 (all)
	FromPort  int    // -1 with protocol -1
	ToPort    int
	CIDRs     []string
	IPv6CIDRs []string
	Groups    []string // source security group IDs
}

// assetState is the asset services' state, guarded by its own mutex.
type assetState struct {
	mu      sync.Mutex
	a       Assets
	buckets map[string]*Bucket // by name
	// regions indexes the regional resources by account/region.
	regions map[string]*regionAssets
	grantN  int64
}

// regionAssets are one account's resources in one region.
type regionAssets struct {
	keys      []*KMSKey // by ID
	functions []*Function
	secrets   []*Secret
	instances []*Instance
	groups    []*SecurityGroup
}

// SetAssets replaces the asset services' state with a copy of a.
func (s *Server) SetAssets(a *Assets) {
	st := &s.as
	st.mu.Lock()
	defer st.mu.Unlock()
	st.a = *a.clone()
	st.buckets = map[string]*Bucket{}
	st.regions = map[string]*regionAssets{}
	for _, b := range st.a.Buckets {
		st.buckets[b.Name] = b
	}
	ra := func(account, region string) *regionAssets {
		k := account + "/" + region
		if st.regions[k] == nil {
			st.regions[k] = &regionAssets{}
		}
		return st.regions[k]
	}
	for _, k := range st.a.Keys {
		r := ra(k.Account, k.Region)
		r.keys = append(r.keys, k)
	}
	for _, f := range st.a.Functions {
		r := ra(f.Account, f.Region)
		r.functions = append(r.functions, f)
	}
	for _, x := range st.a.Secrets {
		r := ra(x.Account, x.Region)
		r.secrets = append(r.secrets, x)
	}
	for _, i := range st.a.Instances {
		r := ra(i.Account, i.Region)
		r.instances = append(r.instances, i)
	}
	for _, g := range st.a.SecurityGroups {
		r := ra(g.Account, g.Region)
		r.groups = append(r.groups, g)
	}
	for _, r := range st.regions {
		sort.Slice(r.keys, func(i, j int) bool { return r.keys[i].ID < r.keys[j].ID })
		sort.Slice(r.functions, func(i, j int) bool { return r.functions[i].Name < r.functions[j].Name })
		sort.Slice(r.secrets, func(i, j int) bool { return r.secrets[i].Name < r.secrets[j].Name })
		sort.Slice(r.instances, func(i, j int) bool { return r.instances[i].ID < r.instances[j].ID })
		sort.Slice(r.groups, func(i, j int) bool { return r.groups[i].ID < r.groups[j].ID })
	}
}

// Assets returns a copy of the asset services' current state.
func (s *Server) Assets() *Assets {
	st := &s.as
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.a.clone()
}

// region returns an account's resources in a region; the caller holds mu.
func (st *assetState) region(account, region string) *regionAssets {
	if r := st.regions[account+"/"+region]; r != nil {
		return r
	}
	return &regionAssets{}
}

// EnabledRegions returns the regions enabled in an account, sorted.
func (a *Assets) EnabledRegions(account string) []string {
	out := append(slices.Clone(StandardRegions), a.OptedIn[account]...)
	sort.Strings(out)
	return slices.Compact(out)
}

// regionGate refuses a call to a region the caller's account has not
// enabled, or that an SCP denies it, with the service's own error. The
// errors are in the query protocol's codes for EC2 and the JSON services'
// codes for the others.
func (s *Server) regionGate(c caller, service, action, region string) *apiError {
	st := &s.as
	st.mu.Lock()
	enabled := slices.Contains(StandardRegions, region) || slices.Contains(st.a.OptedIn[c.account], region)
	denied := slices.Contains(st.a.DeniedRegions[c.account], region)
	st.mu.Unlock()
	if !enabled {
		// The account's credentials are not valid in a region it has
		// not enabled.
		if service == "ec2" {
			return &apiError{status: http.StatusUnauthorized, code: "AuthFailure", message: "AWS was not able to validate the provided access credentials"}
		}
		if service == "s3" {
			return &apiError{status: http.StatusBadRequest, code: "InvalidToken", message: "The provided token is malformed or otherwise invalid."}
		}
		return &apiError{status: http.StatusForbidden, code: "UnrecognizedClientException", message: "The security token included in the request is invalid."}
	}
	if !denied {
		return nil
	}
	msg := "User: " + c.arn + " is not authorized to perform: " + service + ":" + action + " with an explicit deny in a service control policy"
	switch service {
	case "ec2":
		return &apiError{status: http.StatusForbidden, code: "UnauthorizedOperation", message: "You are not authorized to perform this operation. " + msg}
	case "s3":
		return &apiError{status: http.StatusForbidden, code: "AccessDenied", message: msg}
	case "lambda":
		return &apiError{status: http.StatusForbidden, code: "AccessDeniedException", message: msg}
	}
	return &apiError{status: http.StatusBadRequest, code: "AccessDeniedException", message: msg}
}

// clone returns a deep copy of a.
func (a *Assets) clone() *Assets {
	out := &Assets{OptedIn: map[string][]string{}, DeniedRegions: map[string][]string{}}
	for k, v := range a.OptedIn {
		out.OptedIn[k] = slices.Clone(v)
	}
	for k, v := range a.DeniedRegions {
		out.DeniedRegions[k] = slices.Clone(v)
	}
	for k, v := range a.AccountPublicAccessBlocks {
		if out.AccountPublicAccessBlocks == nil {
			out.AccountPublicAccessBlocks = map[string]*PublicAccessBlock{}
		}
		if v != nil {
			p := *v
			out.AccountPublicAccessBlocks[k] = &p
		}
	}
	for _, g := range a.Aggregators {
		out.Aggregators = append(out.Aggregators, g.clone())
	}
	for _, b := range a.Buckets {
		c := *b
		if b.PublicAccessBlock != nil {
			p := *b.PublicAccessBlock
			c.PublicAccessBlock = &p
		}
		c.ACL = slices.Clone(b.ACL)
		out.Buckets = append(out.Buckets, &c)
	}
	for _, k := range a.Keys {
		c := *k
		c.Grants = nil
		for _, g := range k.Grants {
			gc := *g
			gc.Operations = slices.Clone(g.Operations)
			gc.Constraints = g.Constraints.clone()
			c.Grants = append(c.Grants, &gc)
		}
		out.Keys = append(out.Keys, &c)
	}
	for _, f := range a.Functions {
		c := *f
		c.Aliases = nil
		for _, x := range f.Aliases {
			xc := *x
			c.Aliases = append(c.Aliases, &xc)
		}
		out.Functions = append(out.Functions, &c)
	}
	for _, x := range a.Secrets {
		c := *x
		c.Tags = slices.Clone(x.Tags)
		out.Secrets = append(out.Secrets, &c)
	}
	for _, i := range a.Instances {
		c := *i
		c.SecurityGroups = slices.Clone(i.SecurityGroups)
		c.Tags = slices.Clone(i.Tags)
		out.Instances = append(out.Instances, &c)
	}
	for _, g := range a.SecurityGroups {
		c := *g
		c.Ingress = clonePerms(g.Ingress)
		c.Egress = clonePerms(g.Egress)
		c.Tags = slices.Clone(g.Tags)
		out.SecurityGroups = append(out.SecurityGroups, &c)
	}
	return out
}

func clonePerms(ps []IPPermission) []IPPermission {
	var out []IPPermission
	for _, p := range ps {
		p.CIDRs, p.IPv6CIDRs, p.Groups = slices.Clone(p.CIDRs), slices.Clone(p.IPv6CIDRs), slices.Clone(p.Groups)
		out = append(out, p)
	}
	return out
}
