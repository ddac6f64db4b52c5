package awsfake

import "time"

// This file holds the state of the emulated AWS Organization; org_read.go and org_write.go
// serve it.

// Organization is an AWS Organization held by the emulator. Its management
// and member accounts are added with AddAccount for their IAM; this holds
// only what AWS Organizations itself knows.
type Organization struct {
	ID                     string // o-…
	ARN                    string
	FeatureSet             string // ALL or CONSOLIDATED_BILLING
	ManagementAccountID    string
	ManagementAccountEmail string
	// DelegatedAdmins are member accounts registered as delegated
	// administrators: they may read the organization like its management
	// account.
	DelegatedAdmins []string
	Root            *OrgRoot
	OUs             map[string]*OrgUnit    // by ID
	Accounts        map[string]*OrgAccount // by ID, the management account included
	Policies        map[string]*OrgPolicy  // by ID, p-FullAWSAccess included
	// ServiceAccess are the AWS services trusted to integrate with the
	// organization (EnableAWSServiceAccess), in the order enabled.
	ServiceAccess []OrgServiceAccess

	// createRequests are the CreateAccount requests made through the API,
	// in the order made.
	createRequests []*createAccountRequest
	// closedAt says when CloseAccount closed each account, for the
	// closure's completion and AWS's quota of closures in 30 days.
	closedAt map[string]time.Time
}

// OrgServiceAccess is an AWS service enabled to integrate with the
// organization.
type OrgServiceAccess struct {
	ServicePrincipal string // e.g. sso.amazonaws.com
	EnabledAt        time.Time
}

// OrgRoot is the root of an organization's OU tree.
type OrgRoot struct {
	ID   string // r-…
	ARN  string
	Name string // "Root"
	// PolicyTypes are the policy types enabled in the root.
	PolicyTypes []string // e.g. SERVICE_CONTROL_POLICY
	Tags        []Tag
}

// OrgUnit is an organizational unit.
type OrgUnit struct {
	ID       string // ou-<root>-<8 or more>
	ARN      string
	Name     string
	ParentID string // the root or another OU
	Tags     []Tag
}

// OrgAccount is an account of the organization.
type OrgAccount struct {
	ID           string
	ARN          string
	Name         string
	Email        string
	Status       string // ACTIVE, SUSPENDED or PENDING_CLOSURE
	JoinedMethod string // CREATED or INVITED
	JoinedAt     time.Time
	// Standalone says a CREATED account holds what an account outside an
	// organization needs (a payment method, a verified phone, the customer
	// agreement), so RemoveAccountFromOrganization may remove it; an
	// INVITED account always does.
	Standalone bool
	ParentID   string // the root or an OU
	Tags       []Tag
}

// OrgPolicy is an organization policy, such as a service control policy.
type OrgPolicy struct {
	ID          string // p-…, or p-FullAWSAccess
	ARN         string
	Name        string
	Description string
	Type        string // SERVICE_CONTROL_POLICY
	AWSManaged  bool
	Content     string   // the policy document, JSON
	Targets     []string // root, OU and account IDs it is attached to
	Tags        []Tag    // customer policies only: AWS managed ones have none
}

// FullAWSAccessID is the ID of the AWS managed SCP AWS attaches to the root
// and to every new OU and account.
const FullAWSAccessID = "p-FullAWSAccess"

// SetOrganization stores a copy of o as the emulator's organization (one
// per emulator), replacing any before it.
func (s *Server) SetOrganization(o *Organization) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.org = o.Clone()
}

// Organization returns a copy of the emulator's organization, or nil.
func (s *Server) Organization() *Organization {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.org == nil {
		return nil
	}
	return s.org.Clone()
}

// Clone returns a deep copy of the organization.
func (o *Organization) Clone() *Organization {
	c := *o
	c.DelegatedAdmins = append([]string(nil), o.DelegatedAdmins...)
	c.ServiceAccess = append([]OrgServiceAccess(nil), o.ServiceAccess...)
	if o.Root != nil {
		r := *o.Root
		r.PolicyTypes = append([]string(nil), r.PolicyTypes...)
		r.Tags = append([]Tag(nil), r.Tags...)
		c.Root = &r
	}
	c.OUs = make(map[string]*OrgUnit, len(o.OUs))
	for k, v := range o.OUs {
		u := *v
		u.Tags = append([]Tag(nil), v.Tags...)
		c.OUs[k] = &u
	}
	c.Accounts = make(map[string]*OrgAccount, len(o.Accounts))
	for k, v := range o.Accounts {
		a := *v
		a.Tags = append([]Tag(nil), v.Tags...)
		c.Accounts[k] = &a
	}
	c.Policies = make(map[string]*OrgPolicy, len(o.Policies))
	for k, v := range o.Policies {
		p := *v
		p.Targets = append([]string(nil), v.Targets...)
		p.Tags = append([]Tag(nil), v.Tags...)
		c.Policies[k] = &p
	}
	c.closedAt = nil
	for k, v := range o.closedAt {
		if c.closedAt == nil {
			c.closedAt = map[string]time.Time{}
		}
		c.closedAt[k] = v
	}
	c.createRequests = nil
	for _, r := range o.createRequests {
		req := *r
		req.Tags = append([]Tag(nil), r.Tags...)
		c.createRequests = append(c.createRequests, &req)
	}
	return &c
}
