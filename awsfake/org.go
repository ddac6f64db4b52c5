package awsfake

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// This file routes Organizations actions: one handler per action in
// orgActions (as pstest has a method per RPC), each run under the
// Server's one mutex after the checks every action shares: the caller's
// account is in the organization, may call the action, and sent well-formed
// IDs and paging. org_read.go serves the reads, org_write.go the writes.

// orgAccess says who may call an Organizations action.
type orgAccess int

const (
	// orgAnyone: any account, in an organization or not (CreateOrganization).
	orgAnyone orgAccess = iota
	// orgMember: any account of the organization.
	orgMember
	// orgReader: the management account and delegated administrators.
	orgReader
	// orgManager: the management account only.
	orgManager
)

// orgCall is one Organizations request as a handler sees it: the request,
// the organization (nil only for orgAnyone actions), and the ID and paging
// fields every action shares, already checked.
type orgCall struct {
	r  *jsonRequest
	o  *Organization
	in orgInput
}

// orgHandler serves one Organizations action. The caller holds s.mu.
type orgHandler struct {
	serve  func(*Server, orgCall) (any, *apiError)
	access orgAccess
	// required are the ID fields the action requires, checked against
	// their patterns before serve runs.
	required []string
}

// orgActions are the Organizations actions the emulator serves.
var orgActions = map[string]orgHandler{
	// Reads (org_read.go).
	"DescribeOrganization":             {serve: (*Server).orgDescribeOrganization, access: orgMember},
	"ListRoots":                        {serve: (*Server).orgListRoots, access: orgReader},
	"ListOrganizationalUnitsForParent": {serve: (*Server).orgListOUsForParent, access: orgReader, required: []string{"ParentId"}},
	"ListAccountsForParent":            {serve: (*Server).orgListAccountsForParent, access: orgReader, required: []string{"ParentId"}},
	"ListAccounts":                     {serve: (*Server).orgListAccounts, access: orgReader},
	"DescribeAccount":                  {serve: (*Server).orgDescribeAccount, access: orgReader, required: []string{"AccountId"}},
	"ListParents":                      {serve: (*Server).orgListParents, access: orgReader, required: []string{"ChildId"}},
	"ListChildren":                     {serve: (*Server).orgListChildren, access: orgReader, required: []string{"ParentId"}},
	"DescribeOrganizationalUnit":       {serve: (*Server).orgDescribeOU, access: orgReader, required: []string{"OrganizationalUnitId"}},
	"ListPolicies":                     {serve: (*Server).orgListPolicies, access: orgReader},
	"ListPoliciesForTarget":            {serve: (*Server).orgListPoliciesForTarget, access: orgReader, required: []string{"TargetId"}},
	"DescribePolicy":                   {serve: (*Server).orgDescribePolicy, access: orgReader, required: []string{"PolicyId"}},
	"ListTargetsForPolicy":             {serve: (*Server).orgListTargetsForPolicy, access: orgReader, required: []string{"PolicyId"}},
	"ListTagsForResource":              {serve: (*Server).orgListTagsForResource, access: orgReader, required: []string{"ResourceId"}},
	"DescribeCreateAccountStatus":      {serve: (*Server).orgDescribeCreateAccountStatus, access: orgReader, required: []string{"CreateAccountRequestId"}},
	"ListCreateAccountStatus":          {serve: (*Server).orgListCreateAccountStatus, access: orgReader},

	// Writes (org_write.go).
	"CreateOrganization":            {serve: (*Server).orgCreateOrganization, access: orgAnyone},
	"DeleteOrganization":            {serve: (*Server).orgDeleteOrganization, access: orgManager},
	"CreateAccount":                 {serve: (*Server).orgCreateAccount, access: orgManager},
	"CloseAccount":                  {serve: (*Server).orgCloseAccount, access: orgManager, required: []string{"AccountId"}},
	"RemoveAccountFromOrganization": {serve: (*Server).orgRemoveAccount, access: orgManager, required: []string{"AccountId"}},
	"CreateOrganizationalUnit":      {serve: (*Server).orgCreateOU, access: orgManager, required: []string{"ParentId"}},
	"UpdateOrganizationalUnit":      {serve: (*Server).orgUpdateOU, access: orgManager, required: []string{"OrganizationalUnitId"}},
	"DeleteOrganizationalUnit":      {serve: (*Server).orgDeleteOU, access: orgManager, required: []string{"OrganizationalUnitId"}},
	"MoveAccount":                   {serve: (*Server).orgMoveAccount, access: orgManager, required: []string{"AccountId", "SourceParentId", "DestinationParentId"}},
	"CreatePolicy":                  {serve: (*Server).orgCreatePolicy, access: orgManager},
	"UpdatePolicy":                  {serve: (*Server).orgUpdatePolicy, access: orgManager, required: []string{"PolicyId"}},
	"DeletePolicy":                  {serve: (*Server).orgDeletePolicy, access: orgManager, required: []string{"PolicyId"}},
	"AttachPolicy":                  {serve: (*Server).orgAttachPolicy, access: orgManager, required: []string{"PolicyId", "TargetId"}},
	"DetachPolicy":                  {serve: (*Server).orgDetachPolicy, access: orgManager, required: []string{"PolicyId", "TargetId"}},
	"EnablePolicyType":              {serve: (*Server).orgEnablePolicyType, access: orgManager, required: []string{"RootId"}},
	"DisablePolicyType":             {serve: (*Server).orgDisablePolicyType, access: orgManager, required: []string{"RootId"}},
	"TagResource":                   {serve: (*Server).orgTagResource, access: orgManager, required: []string{"ResourceId"}},
	"UntagResource":                 {serve: (*Server).orgUntagResource, access: orgManager, required: []string{"ResourceId"}},
	"EnableAWSServiceAccess":        {serve: (*Server).orgEnableServiceAccess, access: orgManager},
	"DisableAWSServiceAccess":       {serve: (*Server).orgDisableServiceAccess, access: orgManager},

	"ListAWSServiceAccessForOrganization": {serve: (*Server).orgListServiceAccess, access: orgReader},
}

// orgAction serves one Organizations action through orgActions.
func (s *Server) orgAction(r *jsonRequest) (any, *apiError) {
	h, ok := orgActions[r.action]
	if !ok {
		return nil, &apiError{status: http.StatusBadRequest, code: "UnknownOperationException",
			message: "awsfake does not emulate Organizations action " + r.action}
	}
	var in orgInput
	if e := r.decode(&in); e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settleAccountCreations()
	o := s.org
	if h.access != orgAnyone {
		if o == nil || o.Accounts[r.caller.account] == nil {
			return nil, errOrgNotInUse()
		}
		mgmt := r.caller.account == o.ManagementAccountID
		if (h.access == orgReader && !mgmt && !slices.Contains(o.DelegatedAdmins, r.caller.account)) || (h.access == orgManager && !mgmt) {
			return nil, &apiError{status: http.StatusBadRequest, code: "AccessDeniedException",
				message: "You don't have permissions to access this resource."}
		}
	}
	if e := in.validate(h.required); e != nil {
		return nil, e
	}
	return h.serve(s, orgCall{r: r, o: o, in: in})
}

// orgInput holds the ID and paging fields the actions share; each handler
// decodes any further fields it reads itself.
type orgInput struct {
	ParentId, ChildId, ChildType, PolicyId, TargetId, ResourceId, AccountId, Filter string
	OrganizationalUnitId, RootId, SourceParentId, DestinationParentId               string
	CreateAccountRequestId                                                          string
	NextToken                                                                       string
	MaxResults                                                                      *int
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
	orgParentPattern = regexp.MustCompile(`^(` + orgRootRE + `|` + orgOURE + `)$`)
	orgIDPatterns    = map[string]*regexp.Regexp{
		"ParentId":               orgParentPattern,
		"SourceParentId":         orgParentPattern,
		"DestinationParentId":    orgParentPattern,
		"ChildId":                regexp.MustCompile(`^(\d{12}|` + orgOURE + `)$`),
		"PolicyId":               regexp.MustCompile(`^` + orgPolicyRE + `$`),
		"TargetId":               regexp.MustCompile(`^(` + orgRootRE + `|\d{12}|` + orgOURE + `)$`),
		"AccountId":              regexp.MustCompile(`^\d{12}$`),
		"OrganizationalUnitId":   regexp.MustCompile(`^` + orgOURE + `$`),
		"RootId":                 regexp.MustCompile(`^` + orgRootRE + `$`),
		"CreateAccountRequestId": regexp.MustCompile(`^car-[a-z0-9]{8,32}$`),
		"ResourceId":             regexp.MustCompile(`^(` + orgRootRE + `|\d{12}|` + orgOURE + `|` + orgPolicyRE + `|rp-[0-9a-zA-Z_]{4,128})$`),
	}
)

// validate checks an action's input as AWS does before looking anything
// up: required IDs present and well formed, MaxResults within 1..20, a
// NextToken the emulator issued. Failures are InvalidInputException with
// the model's Reason.
func (in orgInput) validate(required []string) *apiError {
	for _, field := range required {
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
	return map[string]string{
		"ParentId": in.ParentId, "ChildId": in.ChildId, "PolicyId": in.PolicyId, "TargetId": in.TargetId,
		"AccountId": in.AccountId, "ResourceId": in.ResourceId, "OrganizationalUnitId": in.OrganizationalUnitId,
		"RootId": in.RootId, "SourceParentId": in.SourceParentId, "DestinationParentId": in.DestinationParentId,
		"CreateAccountRequestId": in.CreateAccountRequestId,
	}[field]
}

// orgErr is an Organizations error answered with 400, as the service
// answers every client error.
func orgErr(code, msg string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: code, message: msg}
}

// invalidInput is Organizations' InvalidInputException with its Reason.
func invalidInput(reason, msg string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: "InvalidInputException", message: msg,
		fields: map[string]string{"Reason": reason}}
}

// constraintViolation is Organizations' ConstraintViolationException with
// its Reason.
func constraintViolation(reason, msg string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: "ConstraintViolationException", message: msg,
		fields: map[string]string{"Reason": reason}}
}

func errOrgNotInUse() *apiError {
	return orgErr("AWSOrganizationsNotInUseException", "Your account is not a member of an organization.")
}

func policyNotFound() *apiError {
	return orgErr("PolicyNotFoundException", "We can't find a policy with the PolicyId that you specified.")
}

func targetNotFound() *apiError {
	return orgErr("TargetNotFoundException", "We can't find a root, OU, account, or policy with the TargetId that you specified.")
}

// orgPolicyTypes are the policy types Organizations knows, with the path
// segment their policies' ARNs use.
var orgPolicyTypes = map[string]string{
	"SERVICE_CONTROL_POLICY":    "service_control_policy",
	"RESOURCE_CONTROL_POLICY":   "resource_control_policy",
	"TAG_POLICY":                "tag_policy",
	"BACKUP_POLICY":             "backup_policy",
	"AISERVICES_OPT_OUT_POLICY": "aiservices_opt_out_policy",
	"CHATBOT_POLICY":            "chatbot_policy",
	"DECLARATIVE_POLICY_EC2":    "declarative_policy_ec2",
}

// checkPolicyType requires a known policy type in the field named field.
func checkPolicyType(field, t string) *apiError {
	if _, ok := orgPolicyTypes[t]; ok {
		return nil
	}
	if t == "" {
		return invalidInput("INPUT_REQUIRED", "You must specify a value for "+field+".")
	}
	return invalidInput("INVALID_ENUM_POLICY_TYPE", "You specified an invalid value for "+field+": "+t+".")
}

// checkPolicyFilter requires a known policy type as a listing's Filter.
func checkPolicyFilter(f string) *apiError { return checkPolicyType("Filter", f) }
