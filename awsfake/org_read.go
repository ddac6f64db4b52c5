package awsfake

import (
	"slices"
	"sort"
)

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

// Read handlers, one per action (see orgActions).

func (s *Server) orgDescribeOrganization(c orgCall) (any, *apiError) {
	// Any account of the organization may describe it.
	return map[string]any{"Organization": organizationOut(c.o)}, nil
}

func (s *Server) orgListRoots(c orgCall) (any, *apiError) {
	o := c.o
	return orgList(c.in, "Roots", []orgRootOut{rootOut(o.Root)}, false)
}

func (s *Server) orgListOUsForParent(c orgCall) (any, *apiError) {
	o := c.o
	if e := o.checkParent(c.in.ParentId); e != nil {
		return nil, e
	}
	var out []orgOUOut
	for _, u := range o.sortedOUs() {
		if u.ParentID == c.in.ParentId {
			out = append(out, ouOut(u))
		}
	}
	return orgList(c.in, "OrganizationalUnits", out, s.opts.OrgEmptyPages)
}

func (s *Server) orgDescribeOU(c orgCall) (any, *apiError) {
	u := c.o.OUs[c.in.OrganizationalUnitId]
	if u == nil {
		return nil, ouNotFound()
	}
	return map[string]any{"OrganizationalUnit": ouOut(u)}, nil
}

func (s *Server) orgListAccountsForParent(c orgCall) (any, *apiError) {
	o := c.o
	if e := o.checkParent(c.in.ParentId); e != nil {
		return nil, e
	}
	var out []orgAccountOut
	for _, a := range o.sortedAccounts() {
		if a.ParentID == c.in.ParentId {
			out = append(out, accountOut(a))
		}
	}
	return orgList(c.in, "Accounts", out, s.opts.OrgEmptyPages)
}

func (s *Server) orgListAccounts(c orgCall) (any, *apiError) {
	var out []orgAccountOut
	for _, a := range c.o.sortedAccounts() {
		out = append(out, accountOut(a))
	}
	return orgList(c.in, "Accounts", out, s.opts.OrgEmptyPages)
}

func (s *Server) orgDescribeAccount(c orgCall) (any, *apiError) {
	a := c.o.Accounts[c.in.AccountId]
	if a == nil {
		return nil, accountNotFound()
	}
	return map[string]any{"Account": accountOut(a)}, nil
}

func (s *Server) orgListParents(c orgCall) (any, *apiError) {
	o := c.o
	parent, ok := o.parentOf(c.in.ChildId)
	if !ok {
		return nil, orgErr("ChildNotFoundException", "We can't find an organizational unit (OU) or AWS account with the ChildId that you specified.")
	}
	return orgList(c.in, "Parents", []orgChildOut{{Id: parent, Type: o.nodeType(parent)}}, false)
}

func (s *Server) orgListChildren(c orgCall) (any, *apiError) {
	o, in := c.o, c.in
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
		return nil, invalidInput("INVALID_ENUM", "You specified an invalid value for ChildType: "+in.ChildType+"; it must be ACCOUNT or ORGANIZATIONAL_UNIT.")
	}
	return orgList(in, "Children", out, s.opts.OrgEmptyPages)
}

func (s *Server) orgListPolicies(c orgCall) (any, *apiError) {
	if e := checkPolicyFilter(c.in.Filter); e != nil {
		return nil, e
	}
	var out []orgPolicySummaryOut
	for _, p := range c.o.sortedPolicies() {
		if p.Type == c.in.Filter {
			out = append(out, policySummaryOut(p))
		}
	}
	return orgList(c.in, "Policies", out, s.opts.OrgEmptyPages)
}

func (s *Server) orgListPoliciesForTarget(c orgCall) (any, *apiError) {
	o, in := c.o, c.in
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
}

func (s *Server) orgDescribePolicy(c orgCall) (any, *apiError) {
	p := c.o.Policies[c.in.PolicyId]
	if p == nil {
		return nil, policyNotFound()
	}
	return map[string]any{"Policy": policyOut(p)}, nil
}

func (s *Server) orgListTargetsForPolicy(c orgCall) (any, *apiError) {
	p := c.o.Policies[c.in.PolicyId]
	if p == nil {
		return nil, policyNotFound()
	}
	targets := append([]string(nil), p.Targets...)
	sort.Strings(targets)
	var out []orgTargetOut
	for _, t := range targets {
		out = append(out, c.o.targetOut(t))
	}
	return orgList(c.in, "Targets", out, s.opts.OrgEmptyPages)
}

func (s *Server) orgListTagsForResource(c orgCall) (any, *apiError) {
	ref := c.o.tagsRef(c.in.ResourceId, true)
	if ref == nil {
		return nil, targetNotFound()
	}
	out := make([]orgTagOut, 0, len(*ref))
	for _, t := range *ref {
		out = append(out, orgTagOut{Key: t.Key, Value: t.Value})
	}
	return orgList(c.in, "Tags", out, false)
}

func ouNotFound() *apiError {
	return orgErr("OrganizationalUnitNotFoundException", "We can't find an OU with the OrganizationalUnitId that you specified.")
}

func accountNotFound() *apiError {
	return orgErr("AccountNotFoundException", "You specified an account that doesn't exist.")
}

func (o *Organization) checkParent(id string) *apiError {
	if t := o.nodeType(id); t == "ROOT" || t == "ORGANIZATIONAL_UNIT" {
		return nil
	}
	return orgErr("ParentNotFoundException", "We can't find a root or OU with the ParentId that you specified.")
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

func organizationOut(o *Organization) map[string]any {
	return map[string]any{
		"Id": o.ID, "Arn": o.ARN, "FeatureSet": o.FeatureSet,
		"MasterAccountId": o.ManagementAccountID, "MasterAccountEmail": o.ManagementAccountEmail,
		"MasterAccountArn":     "arn:aws:organizations::" + o.ManagementAccountID + ":account/" + o.ID + "/" + o.ManagementAccountID,
		"AvailablePolicyTypes": policyTypes(o.Root),
	}
}

func rootOut(r *OrgRoot) orgRootOut {
	return orgRootOut{Id: r.ID, Arn: r.ARN, Name: r.Name, PolicyTypes: policyTypes(r)}
}

func ouOut(u *OrgUnit) orgOUOut {
	return orgOUOut{Id: u.ID, Arn: u.ARN, Name: u.Name}
}

func policyOut(p *OrgPolicy) map[string]any {
	return map[string]any{"PolicySummary": policySummaryOut(p), "Content": p.Content}
}
