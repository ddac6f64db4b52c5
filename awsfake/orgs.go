package awsfake

import (
	"net/http"
	"slices"
	"sort"
	"time"
)

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
	ParentID     string // the root or an OU
	Tags         []Tag
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
		c.Policies[k] = &p
	}
	return &c
}

// Wire shapes of the Organizations API.
type (
	orgPolicyTypeSummary struct {
		Type   string
		Status string
	}
	orgRootOut struct {
		Id, Arn, Name string
		PolicyTypes   []orgPolicyTypeSummary
	}
	orgOUOut struct {
		Id, Arn, Name string
	}
	orgAccountOut struct {
		Id, Arn, Email, Name string
		Status, State        string
		JoinedMethod         string
		JoinedTimestamp      epoch
	}
	orgPolicySummaryOut struct {
		Id, Arn, Name, Description, Type string
		AwsManaged                       bool
	}
	orgTargetOut struct {
		TargetId, Arn, Name, Type string
	}
	orgChildOut struct {
		Id, Type string
	}
	orgTagOut struct {
		Key, Value string
	}
)

// orgInput holds every request field the emulated actions read.
type orgInput struct {
	ParentId, ChildId, ChildType, PolicyId, TargetId, ResourceId, AccountId, Filter string
	NextToken                                                                       string
	MaxResults                                                                      *int
}

// orgAction serves one Organizations action.
func (s *Server) orgAction(r *jsonRequest) (any, *apiError) {
	var in orgInput
	if e := r.decode(&in); e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.org
	if o == nil || o.Accounts[r.caller.account] == nil {
		return nil, &apiError{status: http.StatusBadRequest, code: "AWSOrganizationsNotInUseException",
			message: "Your account is not a member of an organization."}
	}
	if r.action == "DescribeOrganization" {
		// Any account of the organization may describe it.
		return map[string]any{"Organization": map[string]any{
			"Id": o.ID, "Arn": o.ARN, "FeatureSet": o.FeatureSet,
			"MasterAccountId": o.ManagementAccountID, "MasterAccountEmail": o.ManagementAccountEmail,
			"MasterAccountArn":     "arn:aws:organizations::" + o.ManagementAccountID + ":account/" + o.ID + "/" + o.ManagementAccountID,
			"AvailablePolicyTypes": policyTypes(o.Root),
		}}, nil
	}
	if r.caller.account != o.ManagementAccountID && !slices.Contains(o.DelegatedAdmins, r.caller.account) {
		return nil, &apiError{status: http.StatusBadRequest, code: "AccessDeniedException",
			message: "You don't have permissions to access this resource."}
	}
	switch r.action {
	case "ListRoots":
		return orgList(in, "Roots", []orgRootOut{{Id: o.Root.ID, Arn: o.Root.ARN, Name: o.Root.Name, PolicyTypes: policyTypes(o.Root)}}, false)
	case "ListOrganizationalUnitsForParent":
		if e := o.checkParent(in.ParentId); e != nil {
			return nil, e
		}
		var out []orgOUOut
		for _, u := range o.sortedOUs() {
			if u.ParentID == in.ParentId {
				out = append(out, orgOUOut{Id: u.ID, Arn: u.ARN, Name: u.Name})
			}
		}
		return orgList(in, "OrganizationalUnits", out, s.opts.OrgEmptyPages)
	case "ListAccountsForParent":
		if e := o.checkParent(in.ParentId); e != nil {
			return nil, e
		}
		var out []orgAccountOut
		for _, a := range o.sortedAccounts() {
			if a.ParentID == in.ParentId {
				out = append(out, accountOut(a))
			}
		}
		return orgList(in, "Accounts", out, s.opts.OrgEmptyPages)
	case "ListAccounts":
		var out []orgAccountOut
		for _, a := range o.sortedAccounts() {
			out = append(out, accountOut(a))
		}
		return orgList(in, "Accounts", out, s.opts.OrgEmptyPages)
	case "DescribeAccount":
		a := o.Accounts[in.AccountId]
		if a == nil {
			return nil, &apiError{status: http.StatusBadRequest, code: "AccountNotFoundException",
				message: "You specified an account that doesn't exist."}
		}
		return map[string]any{"Account": accountOut(a)}, nil
	case "ListParents":
		parent, ok := o.parentOf(in.ChildId)
		if !ok {
			return nil, &apiError{status: http.StatusBadRequest, code: "ChildNotFoundException",
				message: "We can't find an organizational unit (OU) or AWS account with the ChildId that you specified."}
		}
		return orgList(in, "Parents", []orgChildOut{{Id: parent, Type: o.nodeType(parent)}}, false)
	case "ListChildren":
		if e := o.checkParent(in.ParentId); e != nil {
			return nil, e
		}
		var out []orgChildOut
		switch in.ChildType {
		case "ACCOUNT":
			for _, a := range o.sortedAccounts() {
				if a.ParentID == in.ParentId {
					out = append(out, orgChildOut{Id: a.ID, Type: "ACCOUNT"})
				}
			}
		case "ORGANIZATIONAL_UNIT":
			for _, u := range o.sortedOUs() {
				if u.ParentID == in.ParentId {
					out = append(out, orgChildOut{Id: u.ID, Type: "ORGANIZATIONAL_UNIT"})
				}
			}
		default:
			return nil, invalidInput("ChildType must be ACCOUNT or ORGANIZATIONAL_UNIT.")
		}
		return orgList(in, "Children", out, s.opts.OrgEmptyPages)
	case "ListPolicies":
		if e := checkPolicyFilter(in.Filter); e != nil {
			return nil, e
		}
		var out []orgPolicySummaryOut
		for _, p := range o.sortedPolicies() {
			if p.Type == in.Filter {
				out = append(out, policySummaryOut(p))
			}
		}
		return orgList(in, "Policies", out, s.opts.OrgEmptyPages)
	case "ListPoliciesForTarget":
		if e := checkPolicyFilter(in.Filter); e != nil {
			return nil, e
		}
		if o.nodeType(in.TargetId) == "" {
			return nil, targetNotFound()
		}
		var out []orgPolicySummaryOut
		for _, p := range o.sortedPolicies() {
			if p.Type == in.Filter && slices.Contains(p.Targets, in.TargetId) {
				out = append(out, policySummaryOut(p))
			}
		}
		return orgList(in, "Policies", out, s.opts.OrgEmptyPages)
	case "DescribePolicy":
		p := o.Policies[in.PolicyId]
		if p == nil {
			return nil, policyNotFound()
		}
		return map[string]any{"Policy": map[string]any{"PolicySummary": policySummaryOut(p), "Content": p.Content}}, nil
	case "ListTargetsForPolicy":
		p := o.Policies[in.PolicyId]
		if p == nil {
			return nil, policyNotFound()
		}
		targets := append([]string(nil), p.Targets...)
		sort.Strings(targets)
		var out []orgTargetOut
		for _, t := range targets {
			out = append(out, o.targetOut(t))
		}
		return orgList(in, "Targets", out, s.opts.OrgEmptyPages)
	case "ListTagsForResource":
		tags, ok := o.tagsOf(in.ResourceId)
		if !ok {
			return nil, targetNotFound()
		}
		out := make([]orgTagOut, 0, len(tags))
		for _, t := range tags {
			out = append(out, orgTagOut{Key: t.Key, Value: t.Value})
		}
		return orgList(in, "Tags", out, false)
	}
	return nil, &apiError{status: http.StatusBadRequest, code: "UnknownOperationException",
		message: "awsfake does not emulate Organizations action " + r.action}
}

// orgList pages a listing: MaxResults 1..20, NextToken; with emptyFirst the
// first page comes back empty with a token, as AWS documents it may.
func orgList[T any](in orgInput, field string, items []T, emptyFirst bool) (any, *apiError) {
	if emptyFirst && in.NextToken == "" {
		if _, _, e := jsonPage(in.MaxResults, "", 20, "InvalidInputException"); e != nil {
			return nil, e
		}
		return map[string]any{field: []T{}, "NextToken": "fake-token-0"}, nil
	}
	return jsonList(field, items, in.MaxResults, in.NextToken, 20, "InvalidInputException")
}

func invalidInput(msg string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: "InvalidInputException", message: msg}
}

func policyNotFound() *apiError {
	return &apiError{status: http.StatusBadRequest, code: "PolicyNotFoundException", message: "We can't find a policy with the PolicyId that you specified."}
}

func targetNotFound() *apiError {
	return &apiError{status: http.StatusBadRequest, code: "TargetNotFoundException", message: "We can't find a root, OU, account, or policy with the TargetId that you specified."}
}

// checkPolicyFilter requires a known policy type.
func checkPolicyFilter(f string) *apiError {
	switch f {
	case "SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY", "TAG_POLICY", "BACKUP_POLICY", "AISERVICES_OPT_OUT_POLICY", "CHATBOT_POLICY", "DECLARATIVE_POLICY_EC2":
		return nil
	case "":
		return invalidInput("You must specify a value for Filter.")
	}
	return invalidInput("You specified an invalid value for Filter: " + f + ".")
}

func (o *Organization) checkParent(id string) *apiError {
	if t := o.nodeType(id); t == "ROOT" || t == "ORGANIZATIONAL_UNIT" {
		return nil
	}
	return &apiError{status: http.StatusBadRequest, code: "ParentNotFoundException", message: "We can't find a root or OU with the ParentId that you specified."}
}

// nodeType says what an ID is: ROOT, ORGANIZATIONAL_UNIT, ACCOUNT, or "".
func (o *Organization) nodeType(id string) string {
	switch {
	case o.Root != nil && id == o.Root.ID:
		return "ROOT"
	case o.OUs[id] != nil:
		return "ORGANIZATIONAL_UNIT"
	case o.Accounts[id] != nil:
		return "ACCOUNT"
	}
	return ""
}

func (o *Organization) parentOf(id string) (string, bool) {
	if u := o.OUs[id]; u != nil {
		return u.ParentID, true
	}
	if a := o.Accounts[id]; a != nil {
		return a.ParentID, true
	}
	return "", false
}

func (o *Organization) tagsOf(id string) ([]Tag, bool) {
	switch {
	case o.Root != nil && id == o.Root.ID:
		return o.Root.Tags, true
	case o.OUs[id] != nil:
		return o.OUs[id].Tags, true
	case o.Accounts[id] != nil:
		return o.Accounts[id].Tags, true
	}
	return nil, false
}

func (o *Organization) targetOut(id string) orgTargetOut {
	switch o.nodeType(id) {
	case "ROOT":
		return orgTargetOut{TargetId: id, Arn: o.Root.ARN, Name: o.Root.Name, Type: "ROOT"}
	case "ORGANIZATIONAL_UNIT":
		u := o.OUs[id]
		return orgTargetOut{TargetId: id, Arn: u.ARN, Name: u.Name, Type: "ORGANIZATIONAL_UNIT"}
	}
	a := o.Accounts[id]
	if a == nil {
		return orgTargetOut{TargetId: id, Type: "ACCOUNT"}
	}
	return orgTargetOut{TargetId: id, Arn: a.ARN, Name: a.Name, Type: "ACCOUNT"}
}

func (o *Organization) sortedOUs() []*OrgUnit {
	out := make([]*OrgUnit, 0, len(o.OUs))
	for _, k := range sortedKeys(o.OUs) {
		out = append(out, o.OUs[k])
	}
	return out
}

func (o *Organization) sortedAccounts() []*OrgAccount {
	out := make([]*OrgAccount, 0, len(o.Accounts))
	for _, k := range sortedKeys(o.Accounts) {
		out = append(out, o.Accounts[k])
	}
	return out
}

func (o *Organization) sortedPolicies() []*OrgPolicy {
	out := make([]*OrgPolicy, 0, len(o.Policies))
	for _, k := range sortedKeys(o.Policies) {
		out = append(out, o.Policies[k])
	}
	return out
}

func policyTypes(r *OrgRoot) []orgPolicyTypeSummary {
	out := []orgPolicyTypeSummary{}
	if r == nil {
		return out
	}
	for _, t := range r.PolicyTypes {
		out = append(out, orgPolicyTypeSummary{Type: t, Status: "ENABLED"})
	}
	return out
}

func accountOut(a *OrgAccount) orgAccountOut {
	// State is the newer field AWS sends beside Status; for the statuses
	// the emulator models the two agree.
	return orgAccountOut{Id: a.ID, Arn: a.ARN, Email: a.Email, Name: a.Name, Status: a.Status, State: a.Status,
		JoinedMethod: a.JoinedMethod, JoinedTimestamp: epoch(a.JoinedAt)}
}

func policySummaryOut(p *OrgPolicy) orgPolicySummaryOut {
	return orgPolicySummaryOut{Id: p.ID, Arn: p.ARN, Name: p.Name, Description: p.Description, Type: p.Type, AwsManaged: p.AWSManaged}
}
