// Package model is warden's access graph: the resources found in AWS, the
// entitlements each resource offers, and the grants that give a principal an
// entitlement. No AWS SDK type crosses this package's boundary; collectors
// translate SDK values into these types and everything downstream (store,
// queries, findings, provisioning plans) reads only these.
//
// Identifiers are stable across syncs: a resource's ID is its ARN where AWS
// gives it one, otherwise a synthetic ARN-like string built by the ID helpers
// in this package (for example an access key or an inline policy).
package model

import (
	"encoding/json"
	"sort"
	"strings"
	"time"
)

// ResourceType names the kind of a Resource.
type ResourceType string

// The resource types warden knows.
const (
	TypeAccount      ResourceType = "account"
	TypeIAMUser      ResourceType = "iam_user"
	TypeIAMGroup     ResourceType = "iam_group"
	TypeIAMRole      ResourceType = "iam_role"
	TypeIAMPolicy    ResourceType = "iam_policy"        // managed policy, AWS or customer
	TypeInlinePolicy ResourceType = "iam_inline_policy" // a policy embedded in one user, group or role
	TypeAccessKey    ResourceType = "access_key"
	TypeMFADevice    ResourceType = "mfa_device"
	// TypeExternalPrincipal is a principal named in a trust policy that is not
	// itself a synced resource: another account, a service, a federated
	// identity provider, or "*".
	TypeExternalPrincipal ResourceType = "external_principal"

	// AWS Organizations.
	TypeOrganization ResourceType = "organization"
	TypeOrgRoot      ResourceType = "org_root" // the root of the OU tree
	TypeOrgUnit      ResourceType = "org_unit" // an organizational unit
	TypeSCP          ResourceType = "scp"      // a service control policy
	// TypeRCP is a resource control policy: stored as an SCP is (SCPAttrs,
	// the "attached" entitlement held by the root, OUs and accounts it is
	// attached to).
	TypeRCP ResourceType = "rcp"

	// IAM Identity Center.
	TypeSSOUser       ResourceType = "sso_user"       // an Identity Store user
	TypeSSOGroup      ResourceType = "sso_group"      // an Identity Store group
	TypePermissionSet ResourceType = "permission_set" // an Identity Center permission set
)

// Entitlement names used on resources.
const (
	EntMember   = "member"   // iam_group: membership
	EntAttached = "attached" // iam_policy / iam_inline_policy: the policy applies to the holder
	EntAssume   = "assume"   // iam_role: the holder may call sts:AssumeRole on it (trust policy)
	EntOwner    = "owner"    // access_key / mfa_device: the holder owns the credential
	// EntContains is offered by an org root or OU; its holders are the
	// accounts and OUs placed directly in it.
	EntContains = "contains"
)

// AssignmentEntitlement names the entitlement of a permission set in one
// account: holding it means an Identity Center assignment of the permission
// set in that account ("account:111122223333").
func AssignmentEntitlement(accountID string) string { return "account:" + accountID }

// ReservedRolePermissionSet returns the name of the permission set a role
// IAM Identity Center created is for, read from the role's name,
// AWSReservedSSO_<permission set>_<suffix> (the suffix has no underscore; a
// permission set's name may); ok is false for any other name.
func ReservedRolePermissionSet(roleName string) (permissionSet string, ok bool) {
	rest, ok := strings.CutPrefix(roleName, "AWSReservedSSO_")
	i := strings.LastIndexByte(rest, '_')
	if !ok || i <= 0 || i == len(rest)-1 {
		return "", false
	}
	return rest[:i], true
}

// Provenance says how a principal came to hold an entitlement.
type Provenance string

// Provenance values.
const (
	ViaDirect Provenance = "direct" // granted to the principal itself
	ViaGroup  Provenance = "group"  // inherited through membership of the group in Grant.ViaID
	ViaInline Provenance = "inline" // an inline policy embedded in the principal
	ViaTrust  Provenance = "trust"  // a trust policy statement names the principal
	// ViaSSO is an Identity Center assignment: the principal may use the
	// role Identity Center created for the permission set in Grant.ViaID.
	ViaSSO Provenance = "sso"
)

// Resource is one thing found in AWS. Common fields are flat; attributes
// specific to a type live in the matching pointer field, which is nil for
// other types.
type Resource struct {
	ID        string            `json:"id"`
	Type      ResourceType      `json:"type"`
	AccountID string            `json:"account_id"`
	Name      string            `json:"name"`
	ARN       string            `json:"arn,omitempty"`
	Path      string            `json:"path,omitempty"`
	ParentID  string            `json:"parent_id,omitempty"` // owner of a key, MFA device or inline policy
	CreatedAt time.Time         `json:"created_at,omitzero"`
	Tags      map[string]string `json:"tags,omitempty"`
	// Unread names the parts of the resource the sync could not read (a
	// permission set's "permissions_boundary", a user's "access_keys"):
	// their values here are unknown, not empty. Snapshot.Errors says why.
	Unread []string `json:"unread,omitempty"`

	User          *UserAttrs          `json:"user,omitempty"`
	Role          *RoleAttrs          `json:"role,omitempty"`
	Policy        *PolicyAttrs        `json:"policy,omitempty"`
	InlinePolicy  *InlinePolicyAttrs  `json:"inline_policy,omitempty"`
	AccessKey     *AccessKeyAttrs     `json:"access_key,omitempty"`
	MFADevice     *MFADeviceAttrs     `json:"mfa_device,omitempty"`
	Account       *AccountAttrs       `json:"account,omitempty"`
	Group         *GroupAttrs         `json:"group,omitempty"`
	Organization  *OrganizationAttrs  `json:"organization,omitempty"`
	OrgUnit       *OrgUnitAttrs       `json:"org_unit,omitempty"`
	SCP           *SCPAttrs           `json:"scp,omitempty"`
	SSOUser       *SSOUserAttrs       `json:"sso_user,omitempty"`
	SSOGroup      *SSOGroupAttrs      `json:"sso_group,omitempty"`
	PermissionSet *PermissionSetAttrs `json:"permission_set,omitempty"`
	// The assets' attributes (assets.go).
	Bucket        *BucketAttrs        `json:"bucket,omitempty"`
	KMSKey        *KMSKeyAttrs        `json:"kms_key,omitempty"`
	Function      *FunctionAttrs      `json:"function,omitempty"`
	Secret        *SecretAttrs        `json:"secret,omitempty"`
	Instance      *InstanceAttrs      `json:"instance,omitempty"`
	SecurityGroup *SecurityGroupAttrs `json:"security_group,omitempty"`
	AccountAssets *AccountAssetsAttrs `json:"account_assets,omitempty"`
}

// UserAttrs are the attributes of an IAM user, merged from
// GetAccountAuthorizationDetails and the credential report.
type UserAttrs struct {
	UserID              string     `json:"user_id"`
	PermissionsBoundary string     `json:"permissions_boundary,omitempty"` // policy ARN
	ConsoleAccess       bool       `json:"console_access"`                 // has a login profile (password_enabled)
	PasswordLastUsed    *time.Time `json:"password_last_used,omitempty"`
	PasswordLastChanged *time.Time `json:"password_last_changed,omitempty"`
	MFAActive           bool       `json:"mfa_active"`
	// CredentialReport is false when the credential report was unavailable
	// for this sync; the console/MFA/last-used fields are then unknown.
	CredentialReport bool `json:"credential_report"`
}

// GroupAttrs are the attributes of an IAM group.
type GroupAttrs struct {
	GroupID string `json:"group_id"`
}

// RoleAttrs are the attributes of an IAM role.
type RoleAttrs struct {
	RoleID              string          `json:"role_id"`
	Description         string          `json:"description,omitempty"`
	MaxSessionDuration  int32           `json:"max_session_duration,omitempty"`
	PermissionsBoundary string          `json:"permissions_boundary,omitempty"`
	TrustPolicy         string          `json:"trust_policy"` // decoded JSON
	TrustedPrincipals   []TrustedEntity `json:"trusted_principals,omitempty"`
	LastUsed            *time.Time      `json:"last_used,omitempty"`
	LastUsedRegion      string          `json:"last_used_region,omitempty"`
}

// TrustedEntity is one principal a role's trust policy allows to assume it.
type TrustedEntity struct {
	Kind       string   `json:"kind"`       // AWS, Service, Federated, CanonicalUser, or * for anyone
	Value      string   `json:"value"`      // ARN, account id, service name, provider
	Conditions []string `json:"conditions"` // condition keys that restrict it, e.g. sts:ExternalId; [] when none
}

// PolicyAttrs are the attributes of a managed policy.
type PolicyAttrs struct {
	PolicyID         string `json:"policy_id"`
	AWSManaged       bool   `json:"aws_managed"`
	Description      string `json:"description,omitempty"`
	DefaultVersionID string `json:"default_version_id"`
	Document         string `json:"document"` // decoded JSON of the default version
	AttachmentCount  int32  `json:"attachment_count"`
	BoundaryCount    int32  `json:"boundary_count"`
	IsAttachable     bool   `json:"is_attachable"`
	VersionCount     int    `json:"version_count"`
}

// InlinePolicyAttrs are the attributes of an inline policy.
type InlinePolicyAttrs struct {
	Document string `json:"document"` // decoded JSON
}

// AccessKeyAttrs are the attributes of an access key. The secret is never
// known to warden.
type AccessKeyAttrs struct {
	Status          string     `json:"status"` // Active or Inactive
	LastRotated     *time.Time `json:"last_rotated,omitempty"`
	LastUsed        *time.Time `json:"last_used,omitempty"`
	LastUsedService string     `json:"last_used_service,omitempty"`
	LastUsedRegion  string     `json:"last_used_region,omitempty"`
}

// MFADeviceAttrs are the attributes of an MFA device.
type MFADeviceAttrs struct {
	Virtual    bool       `json:"virtual"`
	EnabledAt  *time.Time `json:"enabled_at,omitempty"`
	SerialName string     `json:"serial"`
}

// AccountAttrs are the attributes of an AWS account, including its root user
// as seen in the credential report.
type AccountAttrs struct {
	Alias               string     `json:"alias,omitempty"`
	RootMFAActive       bool       `json:"root_mfa_active"`
	RootAccessKeys      int        `json:"root_access_keys"`
	RootPasswordLastUse *time.Time `json:"root_password_last_used,omitempty"`
	CredentialReport    bool       `json:"credential_report"`
	// Membership in an AWS Organization, when the account was found through
	// one; nil for an account synced on its own.
	Org *OrgAccountAttrs `json:"org,omitempty"`
}

// OrgAccountAttrs are what AWS Organizations says of a member account.
type OrgAccountAttrs struct {
	OrganizationID string     `json:"organization_id"`
	Email          string     `json:"email"`
	Status         string     `json:"status"` // ACTIVE, SUSPENDED, PENDING_CLOSURE
	JoinedMethod   string     `json:"joined_method"`
	JoinedAt       *time.Time `json:"joined_at,omitempty"`
	Management     bool       `json:"management"` // the organization's management account
	// OUPath is the account's place in the tree, "Root/Prod/Web".
	OUPath string `json:"ou_path"`
}

// OrganizationAttrs are the attributes of an AWS Organization.
type OrganizationAttrs struct {
	ManagementAccountID    string `json:"management_account_id"`
	ManagementAccountEmail string `json:"management_account_email,omitempty"`
	FeatureSet             string `json:"feature_set"` // ALL or CONSOLIDATED_BILLING
}

// OrgUnitAttrs are the attributes of an organization root or OU.
type OrgUnitAttrs struct {
	// Path is the names from the root down, "Root/Prod/Web"; a root's is its
	// name.
	Path string `json:"path"`
	// PolicyTypes are the policy types enabled on a root (SERVICE_CONTROL_POLICY…).
	PolicyTypes []string `json:"policy_types,omitempty"`
}

// SCPAttrs are the attributes of a service control policy.
type SCPAttrs struct {
	PolicyID    string `json:"policy_id"`
	AWSManaged  bool   `json:"aws_managed"`
	Description string `json:"description,omitempty"`
	Document    string `json:"document"` // JSON
}

// SSOUserAttrs are the attributes of an Identity Store user.
type SSOUserAttrs struct {
	UserID          string   `json:"user_id"`
	IdentityStoreID string   `json:"identity_store_id"`
	DisplayName     string   `json:"display_name,omitempty"`
	GivenName       string   `json:"given_name,omitempty"`
	FamilyName      string   `json:"family_name,omitempty"`
	Emails          []string `json:"emails,omitempty"` // primary first
	// ExternalIDs are the ids identity sources gave the user, "issuer|id".
	ExternalIDs []string `json:"external_ids,omitempty"`
	// Status is the Identity Store's UserStatus: ENABLED or DISABLED, ""
	// when the API did not say.
	Status string `json:"status,omitempty"`
	// SCIMActive is the user's "active" as Identity Center's SCIM API
	// reports it, nil when SCIM was not read; SCIMMismatch is set when it
	// disagrees with Status.
	SCIMActive   *bool `json:"scim_active,omitempty"`
	SCIMMismatch bool  `json:"scim_mismatch,omitempty"`
}

// SSOGroupAttrs are the attributes of an Identity Store group.
type SSOGroupAttrs struct {
	GroupID         string `json:"group_id"`
	IdentityStoreID string `json:"identity_store_id"`
	Description     string `json:"description,omitempty"`
}

// PermissionSetAttrs are the attributes of a permission set.
type PermissionSetAttrs struct {
	InstanceARN     string `json:"instance_arn"`
	Description     string `json:"description,omitempty"`
	SessionDuration string `json:"session_duration,omitempty"` // ISO 8601, "PT8H"
	RelayState      string `json:"relay_state,omitempty"`
	// ManagedPolicies are AWS managed policy ARNs; CustomerManagedPolicies
	// are references by path and name ("/teams/deploy"), resolved in each
	// account.
	ManagedPolicies         []string `json:"managed_policies,omitempty"`
	CustomerManagedPolicies []string `json:"customer_managed_policies,omitempty"`
	InlinePolicy            string   `json:"inline_policy,omitempty"` // JSON
	// PermissionsBoundary is an AWS managed policy ARN or a customer
	// managed reference ("/path/name"); "" for none.
	PermissionsBoundary string `json:"permissions_boundary,omitempty"`
	// ProvisionedAccounts are the accounts the permission set is
	// provisioned to (its role exists there).
	ProvisionedAccounts []string `json:"provisioned_accounts,omitempty"`
}

// Entitlement is something a resource offers that a principal can hold.
type Entitlement struct {
	ID         string `json:"id"` // ResourceID + "#" + Name
	ResourceID string `json:"resource_id"`
	Name       string `json:"name"`
}

// Grant gives a principal an entitlement, and says how.
type Grant struct {
	PrincipalID   string     `json:"principal_id"`
	EntitlementID string     `json:"entitlement_id"`
	Provenance    Provenance `json:"provenance"`
	// ViaID is the resource through which the grant is inherited (the group
	// for ViaGroup); empty for direct grants.
	ViaID string `json:"via_id,omitempty"`
}

// SnapshotStatus is the outcome of the sync that produced a snapshot.
type SnapshotStatus string

// Snapshot statuses.
const (
	StatusComplete SnapshotStatus = "complete" // every account read
	StatusPartial  SnapshotStatus = "partial"  // some account or source failed; see Snapshot.Errors
)

// Snapshot describes one sync: when, of what, and how it went.
type Snapshot struct {
	ID           int64            `json:"id"`
	ConnectionID string           `json:"connection_id"`
	StartedAt    time.Time        `json:"started_at"`
	FinishedAt   time.Time        `json:"finished_at"`
	Status       SnapshotStatus   `json:"status"`
	Errors       []SourceError    `json:"errors"`
	APICalls     map[string]int64 `json:"api_calls"` // "iam:GetAccountAuthorizationDetails" → count
	Counts       map[string]int   `json:"counts"`    // resources by type
	Accounts     AccountTally     `json:"accounts"`
	// Carried names the parts of the estate this sync could not read at all
	// (an account whose role could not be assumed, Identity Center when it
	// failed) whose last known state the snapshot keeps rather than showing
	// every grant in them revoked. Empty for a complete snapshot.
	Carried []CarriedPart `json:"carried"`
	// IAMRateWait is how long during the sync at least one IAM call waited
	// on warden's own IAM rate limit (--iam-rate), overlapping waits counted
	// once: how much of the sync the limit set the pace. Known only to the
	// sync that made the snapshot (its summary reports it); not stored.
	IAMRateWait time.Duration `json:"-"`
	// Slot is the scheduled time `warden serve` synced this snapshot for
	// (a cron or every: slot, before jitter); nil for a sync not run by the
	// scheduler. Its store keeps at most one snapshot per connection and
	// slot, so replicas sharing a database run each slot once.
	Slot *time.Time `json:"slot,omitempty"`
}

// AccountTally counts the accounts of a sync: those it set out to read
// (every selected active account of an organization, or the one account of
// the credentials) and those it read. The difference failed; their reasons
// are in Snapshot.Errors.
type AccountTally struct {
	Planned int `json:"planned"`
	Read    int `json:"read"`
}

// CarriedPart is one part of the estate a snapshot holds as it was last
// read, because the sync that made the snapshot could not read it: Part is
// an account ID, "identity_center" or "organizations" (and, with them,
// "aws" for AWS managed policies and "external" for principals outside the
// estate that only the unread part referred to).
type CarriedPart struct {
	Part         string `json:"part"`
	Resources    int    `json:"resources"`
	Entitlements int    `json:"entitlements"`
	Grants       int    `json:"grants"`
}

// SourceError records a part of a sync that failed without failing the whole
// sync: an account that could not be reached, a credential report AWS would
// not give, and so on.
type SourceError struct {
	AccountID string `json:"account_id"` // "" for a part of no one account
	Source    string `json:"source"`     // e.g. "iam", "credential_report"
	Message   string `json:"message"`
	Fix       string `json:"fix"`
}

// Graph is the full content of a snapshot.
type Graph struct {
	Resources    []Resource    `json:"resources"`
	Entitlements []Entitlement `json:"entitlements"`
	Grants       []Grant       `json:"grants"`
}

// EntitlementID returns the ID of the named entitlement of a resource.
func EntitlementID(resourceID, name string) string { return resourceID + "#" + name }

// AccountResourceID returns the resource ID of an AWS account.
func AccountResourceID(accountID string) string { return "arn:aws:::account/" + accountID }

// IsAccountID reports whether s is a 12-digit AWS account ID.
func IsAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// AccessKeyID returns the resource ID of an access key.
func AccessKeyID(accountID, keyID string) string {
	return "arn:aws:iam::" + accountID + ":access-key/" + keyID
}

// MFADeviceID returns the resource ID of an MFA device from its serial
// number: a virtual device's or a FIDO key's serial is its ARN; a hardware
// token's (GAHT12345678) is scoped by the account.
func MFADeviceID(accountID, serial string) string {
	if strings.HasPrefix(serial, "arn:") {
		return serial
	}
	return "arn:aws:iam::" + accountID + ":mfa-device/" + serial
}

// InlinePolicyID returns the resource ID of the inline policy name embedded
// in the principal with ARN ownerARN.
func InlinePolicyID(ownerARN, name string) string { return ownerARN + "/inline-policy/" + name }

// ExternalPrincipalID returns the resource ID of a principal named in a trust
// policy but not synced as a resource of its own.
func ExternalPrincipalID(kind, value string) string { return "principal:" + kind + ":" + value }

// Sort puts the graph in a canonical order (resources by ID, entitlements by
// ID, grants by principal, entitlement, provenance, via), so two graphs with
// the same content compare equal.
func (g *Graph) Sort() {
	sort.Slice(g.Resources, func(i, j int) bool { return g.Resources[i].ID < g.Resources[j].ID })
	sort.Slice(g.Entitlements, func(i, j int) bool { return g.Entitlements[i].ID < g.Entitlements[j].ID })
	sort.Slice(g.Grants, func(i, j int) bool {
		a, b := g.Grants[i], g.Grants[j]
		if a.PrincipalID != b.PrincipalID {
			return a.PrincipalID < b.PrincipalID
		}
		if a.EntitlementID != b.EntitlementID {
			return a.EntitlementID < b.EntitlementID
		}
		if a.Provenance != b.Provenance {
			return a.Provenance < b.Provenance
		}
		return a.ViaID < b.ViaID
	})
}

// MarshalJSON writes the trusted principal with "conditions" always a list,
// [] when no condition restricts it.
func (t TrustedEntity) MarshalJSON() ([]byte, error) {
	type plain TrustedEntity
	if t.Conditions == nil {
		t.Conditions = []string{}
	}
	return json.Marshal(plain(t))
}

// MarshalJSON writes the snapshot with every key present: "errors" is []
// and "api_calls" and "counts" are {} when there are none.
func (s Snapshot) MarshalJSON() ([]byte, error) {
	type plain Snapshot
	if s.Errors == nil {
		s.Errors = []SourceError{}
	}
	if s.APICalls == nil {
		s.APICalls = map[string]int64{}
	}
	if s.Counts == nil {
		s.Counts = map[string]int{}
	}
	if s.Carried == nil {
		s.Carried = []CarriedPart{}
	}
	return json.Marshal(plain(s))
}
