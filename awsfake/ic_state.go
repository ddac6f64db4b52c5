package awsfake

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"time"
)

// IdentityCenter is an IAM Identity Center instance and its identity store,
// held by the emulator (one per emulator, in the organization's management
// account or a delegated administrator).
type IdentityCenter struct {
	InstanceARN     string // arn:aws:sso:::instance/ssoins-…
	IdentityStoreID string // d-…
	OwnerAccountID  string // the account that may call it
	Name            string
	CreatedAt       time.Time
	Users           map[string]*SSOUser       // by user ID
	Groups          map[string]*SSOGroup      // by group ID
	PermissionSets  map[string]*PermissionSet // by ARN
	Assignments     []Assignment
	// SCIMToken is the bearer token the SCIM endpoint accepts (never
	// returned by any API); SCIMTenant the tenant id in its URL path.
	SCIMToken  string
	SCIMTenant string

	// provisionOps are the ProvisionPermissionSet requests made through
	// the API; provisioned the (permission set, account) pairs they
	// provisioned where no assignment is.
	provisionOps []*provisionOp
	provisioned  [][2]string
}

// SSOUser is a user of the identity store.
type SSOUser struct {
	ID          string // a UUID-like id
	UserName    string
	DisplayName string
	GivenName   string
	FamilyName  string
	Email       string // the one, primary, work e-mail
	// ExternalID is the id the identity source (an IdP, via SCIM) gave the
	// user, with its issuer; empty for users created in Identity Center.
	ExternalIDIssuer string
	ExternalID       string
	Status           string // ENABLED or DISABLED
	// Title and Department are the SCIM title and enterprise department.
	Title      string
	Department string
	// SCIMActive, when set, is what the SCIM API reports as "active"
	// instead of following Status: the two views disagreeing, as they can
	// while a change propagates.
	SCIMActive *bool
	CreatedAt  time.Time
}

// SSOGroup is a group of the identity store.
type SSOGroup struct {
	ID          string
	DisplayName string
	Description string
	Members     []string // user IDs, in the order added
	CreatedAt   time.Time
}

// PolicyRef names a customer managed policy by name and path, as a
// permission set refers to one (it must exist in each account).
type PolicyRef struct {
	Name string
	Path string
}

// PermissionSet is an Identity Center permission set.
type PermissionSet struct {
	ARN                     string // arn:aws:sso:::permissionSet/ssoins-…/ps-…
	Name                    string
	Description             string
	SessionDuration         string // ISO 8601, "PT1H" … "PT12H"
	RelayState              string
	CreatedAt               time.Time
	ManagedPolicies         []string    // AWS managed policy ARNs
	CustomerManagedPolicies []PolicyRef // references
	InlinePolicy            string      // JSON, "" for none
	// BoundaryManagedPolicyARN or BoundaryCustomerManaged is the
	// permissions boundary; both empty for none.
	BoundaryManagedPolicyARN string
	BoundaryCustomerManaged  *PolicyRef
	Tags                     []Tag
}

// Assignment gives a user or group a permission set in an account.
type Assignment struct {
	AccountID        string
	PermissionSetARN string
	PrincipalType    string // USER or GROUP
	PrincipalID      string
}

// ReservedRoleName returns the name of the role Identity Center creates
// for a permission set in an account: AWSReservedSSO_<name>_<16 hex>, the
// suffix fixed for the pair as AWS keeps it.
func ReservedRoleName(ps *PermissionSet, accountID string) string {
	sum := sha256.Sum256([]byte(ps.ARN + "/" + accountID))
	return "AWSReservedSSO_" + ps.Name + "_" + hex.EncodeToString(sum[:8])
}

// reservedRolePath is the path of the roles Identity Center creates.
const reservedRolePath = "/aws-reserved/sso.amazonaws.com/"

// ReservedRole returns the IAM role Identity Center provisions for a
// permission set in an account: trusted by the account's Identity Center
// SAML provider, with the permission set's policies attached, its inline
// policy as AwsSSOInlinePolicy, and its boundary.
func ReservedRole(ps *PermissionSet, accountID string) *Role {
	name := ReservedRoleName(ps, accountID)
	sum := sha256.Sum256([]byte("role/" + ps.ARN + "/" + accountID))
	id := "AROA" + strings.ToUpper(hex.EncodeToString(sum[:9]))[:17]
	provider := "arn:aws:iam::" + accountID + ":saml-provider/AWSSSO_" + hex.EncodeToString(sum[9:17]) + "_DO_NOT_DELETE"
	r := &Role{Name: name, ID: id, Path: reservedRolePath, ARN: "arn:aws:iam::" + accountID + ":role" + reservedRolePath + name,
		CreatedAt: ps.CreatedAt, Description: "", MaxSessionDuration: sessionSeconds(ps.SessionDuration),
		AssumeRolePolicy: fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"%s"},"Action":["sts:AssumeRoleWithSAML","sts:TagSession"],"Condition":{"StringEquals":{"SAML:aud":"https://signin.aws.amazon.com/saml"}}}]}`, provider),
		AttachedPolicies: append([]string(nil), ps.ManagedPolicies...), InlinePolicies: map[string]string{}}
	for _, ref := range ps.CustomerManagedPolicies {
		r.AttachedPolicies = append(r.AttachedPolicies, "arn:aws:iam::"+accountID+":policy"+ref.Path+ref.Name)
	}
	if ps.InlinePolicy != "" {
		r.InlinePolicies["AwsSSOInlinePolicy"] = ps.InlinePolicy
	}
	switch {
	case ps.BoundaryManagedPolicyARN != "":
		r.PermissionsBoundary = ps.BoundaryManagedPolicyARN
	case ps.BoundaryCustomerManaged != nil:
		r.PermissionsBoundary = "arn:aws:iam::" + accountID + ":policy" + ps.BoundaryCustomerManaged.Path + ps.BoundaryCustomerManaged.Name
	}
	return r
}

// sessionSeconds reads an ISO 8601 duration of hours and minutes ("PT8H",
// "PT1H30M") as seconds; 3600 when it cannot.
func sessionSeconds(d string) int32 {
	var h, m int
	rest, ok := strings.CutPrefix(d, "PT")
	if !ok {
		return 3600
	}
	if i := strings.IndexByte(rest, 'H'); i >= 0 {
		fmt.Sscanf(rest[:i], "%d", &h)
		rest = rest[i+1:]
	}
	if i := strings.IndexByte(rest, 'M'); i >= 0 {
		fmt.Sscanf(rest[:i], "%d", &m)
	}
	if s := int32(h*3600 + m*60); s > 0 {
		return s
	}
	return 3600
}

// ProvisionedPairs returns every (permission set, account) pair with at
// least one assignment, or provisioned by ProvisionPermissionSet, sorted:
// where Identity Center has provisioned the permission set and created its
// role.
func (ic *IdentityCenter) ProvisionedPairs() [][2]string {
	seen := map[[2]string]bool{}
	var out [][2]string
	add := func(k [2]string) {
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	for _, a := range ic.Assignments {
		add([2]string{a.PermissionSetARN, a.AccountID})
	}
	for _, k := range ic.provisioned {
		if ic.PermissionSets[k[0]] != nil {
			add(k)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i][0] != out[j][0] {
			return out[i][0] < out[j][0]
		}
		return out[i][1] < out[j][1]
	})
	return out
}

// SetIdentityCenter stores a copy of ic as the emulator's Identity Center
// and, as AWS does when a permission set is assigned in an account,
// creates the reserved role of each provisioned pair in that account's IAM
// (when the emulator holds the account and the role is not there yet).
func (s *Server) SetIdentityCenter(ic *IdentityCenter) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ic = ic.Clone()
	for _, pair := range s.ic.ProvisionedPairs() {
		acct := s.accounts[pair[1]]
		ps := s.ic.PermissionSets[pair[0]]
		if acct == nil || acct.IAM == nil || ps == nil {
			continue
		}
		if _, ok := acct.IAM.Roles[ReservedRoleName(ps, acct.ID)]; !ok {
			r := ReservedRole(ps, acct.ID)
			acct.IAM.Roles[r.Name] = r
		}
	}
}

// IdentityCenter returns a copy of the emulator's Identity Center, or nil.
func (s *Server) IdentityCenter() *IdentityCenter {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ic == nil {
		return nil
	}
	return s.ic.Clone()
}

// Clone returns a deep copy.
func (ic *IdentityCenter) Clone() *IdentityCenter {
	c := *ic
	c.Users = make(map[string]*SSOUser, len(ic.Users))
	for k, v := range ic.Users {
		u := *v
		if v.SCIMActive != nil {
			a := *v.SCIMActive
			u.SCIMActive = &a
		}
		c.Users[k] = &u
	}
	c.Groups = make(map[string]*SSOGroup, len(ic.Groups))
	for k, v := range ic.Groups {
		g := *v
		g.Members = append([]string(nil), v.Members...)
		c.Groups[k] = &g
	}
	c.PermissionSets = make(map[string]*PermissionSet, len(ic.PermissionSets))
	for k, v := range ic.PermissionSets {
		p := *v
		p.ManagedPolicies = append([]string(nil), v.ManagedPolicies...)
		p.CustomerManagedPolicies = append([]PolicyRef(nil), v.CustomerManagedPolicies...)
		p.Tags = append([]Tag(nil), v.Tags...)
		if v.BoundaryCustomerManaged != nil {
			b := *v.BoundaryCustomerManaged
			p.BoundaryCustomerManaged = &b
		}
		c.PermissionSets[k] = &p
	}
	c.Assignments = append([]Assignment(nil), ic.Assignments...)
	c.provisioned = append([][2]string(nil), ic.provisioned...)
	c.provisionOps = nil
	for _, op := range ic.provisionOps {
		o := *op
		c.provisionOps = append(c.provisionOps, &o)
	}
	return &c
}

// EnableIdentityCenter enables an organization instance of IAM Identity
// Center in the organization's management account, as the console's
// Enable button does (AWS has no API for it: sso-admin CreateInstance makes
// account instances and refuses an organization's management account), and
// returns a copy. The instance starts with no users, groups, permission
// sets or assignments; its SCIM endpoint gets a fresh token.
func (s *Server) EnableIdentityCenter() (*IdentityCenter, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.org == nil {
		return nil, fmt.Errorf("awsfake: no organization: call organizations:CreateOrganization before enabling Identity Center")
	}
	if s.ic != nil {
		return nil, fmt.Errorf("awsfake: Identity Center is enabled already (%s)", s.ic.InstanceARN)
	}
	hexDigits := "0123456789abcdef"
	s.ic = &IdentityCenter{InstanceARN: "arn:aws:sso:::instance/ssoins-" + s.freshID(hexDigits, 16),
		IdentityStoreID: "d-" + s.freshID(hexDigits, 10), OwnerAccountID: s.org.ManagementAccountID, CreatedAt: s.stamp(),
		Users: map[string]*SSOUser{}, Groups: map[string]*SSOGroup{}, PermissionSets: map[string]*PermissionSet{},
		SCIMTenant: s.freshID(lowerAlnum, 12) + "-" + s.freshID(lowerAlnum, 4), SCIMToken: "fake-scim-token-" + s.freshID(lowerAlnum, 32)}
	return s.ic.Clone(), nil
}
