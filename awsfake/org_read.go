package awsfake

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
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
	if e := in.validate(r.action); e != nil {
		return nil, e
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
			return nil, invalidInput("INVALID_ENUM", "You specified an invalid value for ChildType: "+in.ChildType+"; it must be ACCOUNT or ORGANIZATIONAL_UNIT.")
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

// orgMaxResults is the most items an Organizations page holds.
const orgMaxResults = 20

// orgList pages a listing: MaxResults 1..20, NextToken; with emptyFirst the
// first page comes back empty with a token, as AWS documents it may.
// MaxResults and NextToken were checked by orgInput.validate.
func orgList[T any](in orgInput, field string, items []T, emptyFirst bool) (any, *apiError) {
	if emptyFirst && in.NextToken == "" {
		return map[string]any{field: []T{}, "NextToken": "fake-token-0"}, nil
	}
	return jsonList(field, items, in.MaxResults, in.NextToken, orgMaxResults, "InvalidInputException")
}

// Patterns of Organizations IDs, from the service model (anchored as AWS
// means them; the model's own patterns anchor only their first and last
// alternative).
const (
	orgRootRE   = `r-[0-9a-z]{4,32}`
	orgOURE     = `ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}`
	orgPolicyRE = `p-[0-9a-zA-Z_]{8,128}`
)

var (
	orgIDPatterns = map[string]*regexp.Regexp{
		"ParentId":   regexp.MustCompile(`^(` + orgRootRE + `|` + orgOURE + `)$`),
		"ChildId":    regexp.MustCompile(`^(\d{12}|` + orgOURE + `)$`),
		"PolicyId":   regexp.MustCompile(`^` + orgPolicyRE + `$`),
		"TargetId":   regexp.MustCompile(`^(` + orgRootRE + `|\d{12}|` + orgOURE + `)$`),
		"AccountId":  regexp.MustCompile(`^\d{12}$`),
		"ResourceId": regexp.MustCompile(`^(` + orgRootRE + `|\d{12}|` + orgOURE + `|` + orgPolicyRE + `|rp-[0-9a-zA-Z_]{4,128})$`),
	}
	// orgRequired lists the ID fields each action requires.
	orgRequired = map[string][]string{
		"ListOrganizationalUnitsForParent": {"ParentId"},
		"ListAccountsForParent":            {"ParentId"},
		"ListChildren":                     {"ParentId"},
		"ListParents":                      {"ChildId"},
		"DescribeAccount":                  {"AccountId"},
		"DescribePolicy":                   {"PolicyId"},
		"ListTargetsForPolicy":             {"PolicyId"},
		"ListPoliciesForTarget":            {"TargetId"},
		"ListTagsForResource":              {"ResourceId"},
	}
)

// validate checks an action's input as AWS does before looking anything
// up: required IDs present and well formed, MaxResults within 1..20, a
// NextToken the emulator issued. Failures are InvalidInputException with
// the model's Reason.
func (in orgInput) validate(action string) *apiError {
	for _, field := range orgRequired[action] {
		v := in.id(field)
		switch {
		case v == "":
			return invalidInput("INPUT_REQUIRED", "You must specify a value for "+field+".")
		case orgIDPatterns[field].MatchString(v):
		case field == "PolicyId":
			return invalidInput("INVALID_SYNTAX_POLICY_ID", "You specified an invalid policy ID: "+v+".")
		case field == "TargetId":
			return invalidInput("INVALID_PATTERN_TARGET_ID", "You specified a target ID that is not a root, OU or account ID: "+v+".")
		default:
			return invalidInput("INVALID_PATTERN", fmt.Sprintf("The %s %q does not match the required pattern.", field, v))
		}
	}
	if in.MaxResults != nil {
		switch n := *in.MaxResults; {
		case n < 1:
			return invalidInput("MIN_VALUE_EXCEEDED", fmt.Sprintf("MaxResults %d is below the minimum of 1.", n))
		case n > orgMaxResults:
			return invalidInput("MAX_VALUE_EXCEEDED", fmt.Sprintf("MaxResults %d is above the maximum of %d.", n, orgMaxResults))
		}
	}
	if t := in.NextToken; t != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(t, "fake-token-"))
		if err != nil || n < 0 || !strings.HasPrefix(t, "fake-token-") {
			return invalidInput("INVALID_NEXT_TOKEN", "The NextToken value is invalid: start again without it.")
		}
	}
	return nil
}

// id returns the ID field of the input named field.
func (in orgInput) id(field string) string {
	switch field {
	case "ParentId":
		return in.ParentId
	case "ChildId":
		return in.ChildId
	case "PolicyId":
		return in.PolicyId
	case "TargetId":
		return in.TargetId
	case "AccountId":
		return in.AccountId
	case "ResourceId":
		return in.ResourceId
	}
	return ""
}

// invalidInput is Organizations' InvalidInputException with its Reason.
func invalidInput(reason, msg string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: "InvalidInputException", message: msg,
		fields: map[string]string{"Reason": reason}}
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
		return invalidInput("INPUT_REQUIRED", "You must specify a value for Filter.")
	}
	return invalidInput("INVALID_ENUM_POLICY_TYPE", "You specified an invalid value for Filter: "+f+".")
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
	case o.Policies[id] != nil:
		return o.Policies[id].Tags, true
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
