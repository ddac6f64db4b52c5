package awsfake

import "time"

// This file holds the emulator's state: plain Go structs, guarded by the
// Server's single mutex (the pstest model). The same structs are the ground
// truth an Estate generator returns, so a test compares what warden synced
// with exactly what the emulator served.

// Account is one emulated AWS account and everything in it.
type Account struct {
	ID        string
	Alias     string
	CreatedAt time.Time
	IAM       *IAM
}

// IAM is the IAM state of one account. Maps are keyed by name (users, groups,
// roles) or ARN (customer managed policies); listings sort by name as AWS does.
type IAM struct {
	Users    map[string]*User
	Groups   map[string]*Group
	Roles    map[string]*Role
	Policies map[string]*ManagedPolicy // customer managed, by ARN
	// InstanceProfiles are the account's instance profiles, by name.
	InstanceProfiles map[string]*InstanceProfile
	Root             RootUser

	// CredentialReport is the account's credential report lifecycle.
	CredentialReport CredentialReportState
	// UnassignedVirtualMFA are the serial numbers of virtual MFA devices
	// that exist but are enabled for no user (deactivated, not deleted).
	UnassignedVirtualMFA []string
}

// RootUser is what the credential report says of the account's root user.
type RootUser struct {
	MFAActive        bool
	PasswordLastUsed *time.Time
	AccessKey1Active bool
	AccessKey2Active bool
	CreatedAt        time.Time
}

// NewAccount returns an account with nothing in it: no users, groups,
// roles, policies or instance profiles, and a root user without MFA or
// access keys, for an estate built through the API (CreateUser,
// CreatePolicy, …) as a user's own tools build one.
func NewAccount(id string) *Account {
	created := defaultEstateNow.AddDate(-5, 0, 0)
	a := &Account{ID: id, CreatedAt: created, IAM: &IAM{Root: RootUser{CreatedAt: created}}}
	a.IAM.fill()
	return a
}

// fill makes every map of the IAM state that is nil an empty one, so an
// Account written as a literal can be served.
func (in *IAM) fill() {
	if in.Users == nil {
		in.Users = map[string]*User{}
	}
	if in.Groups == nil {
		in.Groups = map[string]*Group{}
	}
	if in.Roles == nil {
		in.Roles = map[string]*Role{}
	}
	if in.Policies == nil {
		in.Policies = map[string]*ManagedPolicy{}
	}
	if in.InstanceProfiles == nil {
		in.InstanceProfiles = map[string]*InstanceProfile{}
	}
}

// Tag is an IAM tag.
type Tag struct {
	Key   string
	Value string
}

// User is an IAM user.
type User struct {
	Name                string
	ID                  string // AIDA…
	Path                string
	ARN                 string
	CreatedAt           time.Time
	PasswordLastUsed    *time.Time
	Tags                []Tag
	PermissionsBoundary string   // policy ARN, "" for none
	Groups              []string // group names, in the order joined
	AttachedPolicies    []string // managed policy ARNs, in the order attached
	InlinePolicies      map[string]string
	AccessKeys          []*AccessKey
	LoginProfile        *LoginProfile
	MFADevices          []*MFADevice
	SigningCertificates []string // certificate ids
	SSHPublicKeys       []string // key ids
	ServiceCredentials  []string // service-specific credential ids
	// CredentialStatus is "Inactive" by id of the three above set so; absent means Active.
	CredentialStatus map[string]string
}

// AccessKey is an IAM access key. Secret is the emulator's own; warden must
// never store or print it.
type AccessKey struct {
	ID              string // AKIA…
	Secret          string
	Status          string // Active or Inactive
	CreatedAt       time.Time
	LastUsed        *time.Time
	LastUsedService string // "N/A" when never used, as AWS reports
	LastUsedRegion  string // "N/A" when never used
}

// LoginProfile is a user's console password.
type LoginProfile struct {
	CreatedAt             time.Time
	PasswordResetRequired bool
	PasswordLastChanged   time.Time
	Password              string // never returned by any API
}

// MFADevice is an MFA device enabled for a user.
type MFADevice struct {
	SerialNumber string // arn:aws:iam::ACCOUNT:mfa/NAME for virtual devices
	Virtual      bool
	EnabledAt    time.Time
}

// Group is an IAM group. Membership lives on User.Groups; Members here is the
// same relation in join order, kept in step by the emulator.
type Group struct {
	Name             string
	ID               string // AGPA…
	Path             string
	ARN              string
	CreatedAt        time.Time
	Members          []string // user names
	AttachedPolicies []string
	InlinePolicies   map[string]string
}

// Role is an IAM role.
type Role struct {
	Name                string
	ID                  string // AROA…
	Path                string
	ARN                 string
	CreatedAt           time.Time
	Description         string
	MaxSessionDuration  int32
	AssumeRolePolicy    string // JSON, not encoded
	PermissionsBoundary string
	Tags                []Tag
	AttachedPolicies    []string
	InlinePolicies      map[string]string
	LastUsed            *time.Time
	LastUsedRegion      string
}

// InstanceProfile is an IAM instance profile: a container for at most one
// role that EC2 instances assume.
type InstanceProfile struct {
	Name      string
	ID        string // AIPA…
	Path      string
	ARN       string
	CreatedAt time.Time
	Roles     []string // role names; IAM allows one
	Tags      []Tag
}

// ManagedPolicy is a managed policy: customer managed (in one account) or AWS
// managed (global, ARN arn:aws:iam::aws:policy/…, held by the Server).
type ManagedPolicy struct {
	Name             string
	ID               string // ANPA…
	Path             string
	ARN              string
	Description      string
	CreatedAt        time.Time
	UpdatedAt        time.Time
	DefaultVersionID string
	Versions         []*PolicyVersion // oldest first
	IsAttachable     bool
	Tags             []Tag
}

// PolicyVersion is one version of a managed policy.
type PolicyVersion struct {
	ID        string // v1, v2, …
	Document  string // JSON, not encoded
	CreatedAt time.Time
}

// CredentialReportState is where an account's credential report stands.
type CredentialReportState struct {
	// RequestedAt is when GenerateCredentialReport first asked for the
	// report now being generated or held; zero when never asked.
	RequestedAt time.Time
	// GeneratedAt is when the held report was completed; zero while none is.
	GeneratedAt time.Time
	// Content is the CSV of the held report.
	Content []byte
}
