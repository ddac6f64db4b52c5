package awsfake

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"regexp"
	"slices"
)

// This file routes SSO Admin actions (signing name "sso"): one handler per
// action in ssoAdminActions, each run under the Server's one mutex once the
// caller's instance and the permission set the action names are found. It
// serves the reads; ssoadmin_write.go the permission set writes, and
// ic_write.go the asynchronous assignment and provisioning operations.

// ssoInput holds the request fields the SSO Admin actions share; each
// handler decodes any further fields it reads itself.
type ssoInput struct {
	InstanceArn        string
	PermissionSetArn   string
	AccountId          string
	ResourceArn        string
	PrincipalId        string
	PrincipalType      string
	ProvisioningStatus string
	Filter             struct{ AccountId string }
	MaxResults         *int
	NextToken          string
}

// ssoCall is one SSO Admin request as a handler sees it: the request, the
// instance (nil for ListInstances), the shared fields, and the permission
// set the request names (nil when it names none).
type ssoCall struct {
	r  *jsonRequest
	ic *IdentityCenter
	in ssoInput
	ps *PermissionSet
}

// ssoHandler serves one SSO Admin action. The caller holds s.mu.
type ssoHandler struct {
	serve func(*Server, ssoCall) (any, *apiError)
	// noInstance: the action names no instance (ListInstances).
	noInstance bool
	// needPS: the action requires PermissionSetArn.
	needPS bool
}

// ssoAdminActions are the SSO Admin actions the emulator serves.
var ssoAdminActions = map[string]ssoHandler{
	// Reads (this file).
	"ListInstances":                                      {serve: (*Server).ssoListInstances, noInstance: true},
	"ListPermissionSets":                                 {serve: (*Server).ssoListPermissionSets},
	"DescribePermissionSet":                              {serve: (*Server).ssoDescribePermissionSet, needPS: true},
	"ListManagedPoliciesInPermissionSet":                 {serve: (*Server).ssoListManagedPolicies, needPS: true},
	"ListCustomerManagedPolicyReferencesInPermissionSet": {serve: (*Server).ssoListCustomerManagedPolicies, needPS: true},
	"GetInlinePolicyForPermissionSet":                    {serve: (*Server).ssoGetInlinePolicy, needPS: true},
	"GetPermissionsBoundaryForPermissionSet":             {serve: (*Server).ssoGetPermissionsBoundary, needPS: true},
	"ListTagsForResource":                                {serve: (*Server).ssoListTagsForResource},
	"ListAccountsForProvisionedPermissionSet":            {serve: (*Server).ssoListAccountsForProvisionedPermissionSet, needPS: true},
	"ListPermissionSetsProvisionedToAccount":             {serve: (*Server).ssoListPermissionSetsProvisionedToAccount},
	"ListAccountAssignments":                             {serve: (*Server).ssoListAccountAssignments, needPS: true},
	"ListAccountAssignmentsForPrincipal":                 {serve: (*Server).ssoListAccountAssignmentsForPrincipal},

	// Permission set writes (ssoadmin_write.go).
	"CreatePermissionSet":                                   {serve: (*Server).ssoCreatePermissionSet},
	"UpdatePermissionSet":                                   {serve: (*Server).ssoUpdatePermissionSet, needPS: true},
	"DeletePermissionSet":                                   {serve: (*Server).ssoDeletePermissionSet, needPS: true},
	"AttachManagedPolicyToPermissionSet":                    {serve: (*Server).ssoAttachManagedPolicy, needPS: true},
	"DetachManagedPolicyFromPermissionSet":                  {serve: (*Server).ssoDetachManagedPolicy, needPS: true},
	"AttachCustomerManagedPolicyReferenceToPermissionSet":   {serve: (*Server).ssoAttachCustomerManagedPolicy, needPS: true},
	"DetachCustomerManagedPolicyReferenceFromPermissionSet": {serve: (*Server).ssoDetachCustomerManagedPolicy, needPS: true},
	"PutInlinePolicyToPermissionSet":                        {serve: (*Server).ssoPutInlinePolicy, needPS: true},
	"DeleteInlinePolicyFromPermissionSet":                   {serve: (*Server).ssoDeleteInlinePolicy, needPS: true},
	"PutPermissionsBoundaryToPermissionSet":                 {serve: (*Server).ssoPutPermissionsBoundary, needPS: true},
	"DeletePermissionsBoundaryFromPermissionSet":            {serve: (*Server).ssoDeletePermissionsBoundary, needPS: true},
	"TagResource":   {serve: (*Server).ssoTagResource},
	"UntagResource": {serve: (*Server).ssoUntagResource},

	// Asynchronous operations (ic_write.go).
	"CreateAccountAssignment":                 {serve: (*Server).ssoCreateAccountAssignment, needPS: true},
	"DeleteAccountAssignment":                 {serve: (*Server).ssoDeleteAccountAssignment, needPS: true},
	"DescribeAccountAssignmentCreationStatus": {serve: (*Server).ssoDescribeAssignmentCreation},
	"DescribeAccountAssignmentDeletionStatus": {serve: (*Server).ssoDescribeAssignmentDeletion},
	"ProvisionPermissionSet":                  {serve: (*Server).ssoProvisionPermissionSet, needPS: true},
	"DescribePermissionSetProvisioningStatus": {serve: (*Server).ssoDescribeProvisioningStatus},
	"ListPermissionSetProvisioningStatus":     {serve: (*Server).ssoListProvisioningStatus},
}

// ssoPermissionSetARNRE is the model's pattern of a permission set ARN.
var ssoPermissionSetARNRE = regexp.MustCompile(`^arn:(aws|aws-us-gov|aws-cn|aws-iso|aws-iso-b):sso:::permissionSet/(sso)?ins-[a-zA-Z0-9-.]{16}/ps-[a-zA-Z0-9-./]{16}$`)

// ssoAdminAction serves one SSO Admin action through ssoAdminActions.
func (s *Server) ssoAdminAction(r *jsonRequest) (any, *apiError) {
	h, ok := ssoAdminActions[r.action]
	if !ok {
		return nil, &apiError{status: http.StatusBadRequest, code: "UnknownOperationException", message: "awsfake does not emulate SSO Admin action " + r.action}
	}
	var in ssoInput
	if e := r.decode(&in); e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settleAccountCreations()
	if h.noInstance {
		return h.serve(s, ssoCall{r: r, in: in})
	}
	if in.InstanceArn == "" {
		return nil, isValidation("1 validation error detected: InstanceArn must not be null")
	}
	ic, e := s.identityCenterOf(r.caller)
	if e != nil {
		return nil, e
	}
	if in.InstanceArn != ic.InstanceARN {
		return nil, &apiError{status: http.StatusBadRequest, code: "ResourceNotFoundException", message: "Could not find Identity Center instance " + in.InstanceArn}
	}
	s.settleIdentityCenter()
	c := ssoCall{r: r, ic: ic, in: in}
	if in.PermissionSetArn != "" {
		if !ssoPermissionSetARNRE.MatchString(in.PermissionSetArn) {
			return nil, isValidation("1 validation error detected: Value '" + in.PermissionSetArn + "' at 'permissionSetArn' failed to satisfy constraint: Member must satisfy regular expression pattern")
		}
		if c.ps = ic.PermissionSets[in.PermissionSetArn]; c.ps == nil {
			return nil, ssoNotFound("Could not find PermissionSet with ARN " + in.PermissionSetArn)
		}
	} else if h.needPS {
		return nil, isValidation("1 validation error detected: PermissionSetArn must not be null")
	}
	return h.serve(s, c)
}

// ssoPage is the most items an SSO Admin page holds.
const ssoPage = 100

func ssoNotFound(msg string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: "ResourceNotFoundException", message: msg}
}

func (s *Server) ssoListInstances(c ssoCall) (any, *apiError) {
	var out []map[string]any
	if s.ic != nil && s.ic.OwnerAccountID == c.r.caller.account {
		out = append(out, map[string]any{"InstanceArn": s.ic.InstanceARN, "IdentityStoreId": s.ic.IdentityStoreID,
			"OwnerAccountId": s.ic.OwnerAccountID, "Name": s.ic.Name, "Status": "ACTIVE", "CreatedDate": epoch(s.ic.CreatedAt)})
	}
	return jsonList("Instances", out, c.in.MaxResults, c.in.NextToken, ssoPage, "ValidationException")
}

func (s *Server) ssoListPermissionSets(c ssoCall) (any, *apiError) {
	return jsonList("PermissionSets", sortedKeys(c.ic.PermissionSets), c.in.MaxResults, c.in.NextToken, ssoPage, "ValidationException")
}

func permissionSetOut(ps *PermissionSet) map[string]any {
	out := map[string]any{"Name": ps.Name, "PermissionSetArn": ps.ARN, "CreatedDate": epoch(ps.CreatedAt), "SessionDuration": ps.SessionDuration}
	if ps.Description != "" {
		out["Description"] = ps.Description
	}
	if ps.RelayState != "" {
		out["RelayState"] = ps.RelayState
	}
	return out
}

func (s *Server) ssoDescribePermissionSet(c ssoCall) (any, *apiError) {
	return map[string]any{"PermissionSet": permissionSetOut(c.ps)}, nil
}

func (s *Server) ssoListManagedPolicies(c ssoCall) (any, *apiError) {
	var out []map[string]string
	for _, arn := range c.ps.ManagedPolicies {
		out = append(out, map[string]string{"Arn": arn, "Name": arn[lastSlash(arn)+1:]})
	}
	return jsonList("AttachedManagedPolicies", out, c.in.MaxResults, c.in.NextToken, ssoPage, "ValidationException")
}

func (s *Server) ssoListCustomerManagedPolicies(c ssoCall) (any, *apiError) {
	return jsonList("CustomerManagedPolicyReferences", c.ps.CustomerManagedPolicies, c.in.MaxResults, c.in.NextToken, ssoPage, "ValidationException")
}

func (s *Server) ssoGetInlinePolicy(c ssoCall) (any, *apiError) {
	return map[string]any{"InlinePolicy": c.ps.InlinePolicy}, nil
}

func (s *Server) ssoGetPermissionsBoundary(c ssoCall) (any, *apiError) {
	ps := c.ps
	switch {
	case ps.BoundaryManagedPolicyARN != "":
		return map[string]any{"PermissionsBoundary": map[string]any{"ManagedPolicyArn": ps.BoundaryManagedPolicyARN}}, nil
	case ps.BoundaryCustomerManaged != nil:
		return map[string]any{"PermissionsBoundary": map[string]any{"CustomerManagedPolicyReference": ps.BoundaryCustomerManaged}}, nil
	}
	// AWS answers a permission set without a boundary with
	// ResourceNotFoundException.
	return nil, ssoNotFound("Could not find PermissionsBoundary for PermissionSet " + ps.ARN)
}

// resource finds the permission set a tagging action names by
// ResourceArn (the only SSO Admin resource the emulator tags).
func (c ssoCall) resource() (*PermissionSet, *apiError) {
	ps := c.ic.PermissionSets[c.in.ResourceArn]
	if ps == nil {
		return nil, ssoNotFound("Could not find resource " + c.in.ResourceArn)
	}
	return ps, nil
}

func (s *Server) ssoListTagsForResource(c ssoCall) (any, *apiError) {
	p, e := c.resource()
	if e != nil {
		return nil, e
	}
	return jsonList("Tags", p.Tags, nil, c.in.NextToken, 50, "ValidationException")
}

func (s *Server) ssoListAccountsForProvisionedPermissionSet(c ssoCall) (any, *apiError) {
	var out []string
	for _, pair := range c.ic.ProvisionedPairs() {
		if pair[0] == c.ps.ARN {
			out = append(out, pair[1])
		}
	}
	return jsonList("AccountIds", out, c.in.MaxResults, c.in.NextToken, ssoPage, "ValidationException")
}

// ssoListPermissionSetsProvisionedToAccount lists the permission sets
// provisioned to an account; ProvisioningStatus keeps those whose reserved
// role matches the permission set as it is now
// (LATEST_PERMISSION_SET_PROVISIONED) or not (…_NOT_PROVISIONED: changed
// since, and not provisioned again).
func (s *Server) ssoListPermissionSetsProvisionedToAccount(c ssoCall) (any, *apiError) {
	switch c.in.ProvisioningStatus {
	case "", "LATEST_PERMISSION_SET_PROVISIONED", "LATEST_PERMISSION_SET_NOT_PROVISIONED":
	default:
		return nil, isValidation("1 validation error detected: Value '" + c.in.ProvisioningStatus + "' at 'provisioningStatus' failed to satisfy constraint: Member must satisfy enum value set: [LATEST_PERMISSION_SET_PROVISIONED, LATEST_PERMISSION_SET_NOT_PROVISIONED]")
	}
	if !orgIDPatterns["AccountId"].MatchString(c.in.AccountId) {
		return nil, isValidation("1 validation error detected: Value '" + c.in.AccountId + "' at 'accountId' failed to satisfy constraint: Member must satisfy regular expression pattern: \\d{12}")
	}
	var out []string
	for _, pair := range c.ic.ProvisionedPairs() {
		if pair[1] != c.in.AccountId {
			continue
		}
		if c.in.ProvisioningStatus != "" {
			latest := s.provisionedLatest(c.ic.PermissionSets[pair[0]], pair[1])
			if latest != (c.in.ProvisioningStatus == "LATEST_PERMISSION_SET_PROVISIONED") {
				continue
			}
		}
		out = append(out, pair[0])
	}
	return jsonList("PermissionSets", out, c.in.MaxResults, c.in.NextToken, ssoPage, "ValidationException")
}

type ssoAssignmentOut struct {
	AccountId        string
	PermissionSetArn string
	PrincipalType    string
	PrincipalId      string
}

func (s *Server) ssoListAccountAssignments(c ssoCall) (any, *apiError) {
	if c.in.AccountId == "" {
		return nil, isValidation("1 validation error detected: AccountId must not be null")
	}
	var out []ssoAssignmentOut
	for _, a := range sortedAssignments(c.ic.Assignments) {
		if a.AccountID == c.in.AccountId && a.PermissionSetARN == c.ps.ARN {
			out = append(out, assignmentOut(a))
		}
	}
	return jsonList("AccountAssignments", out, c.in.MaxResults, c.in.NextToken, ssoPage, "ValidationException")
}

func (s *Server) ssoListAccountAssignmentsForPrincipal(c ssoCall) (any, *apiError) {
	in := c.in
	if !slices.Contains([]string{"USER", "GROUP"}, in.PrincipalType) || in.PrincipalId == "" {
		return nil, isValidation("PrincipalId and PrincipalType (USER or GROUP) are required")
	}
	var out []ssoAssignmentOut
	for _, a := range sortedAssignments(c.ic.Assignments) {
		if a.PrincipalID == in.PrincipalId && a.PrincipalType == in.PrincipalType && (in.Filter.AccountId == "" || a.AccountID == in.Filter.AccountId) {
			out = append(out, assignmentOut(a))
		}
	}
	return jsonList("AccountAssignments", out, in.MaxResults, in.NextToken, ssoPage, "ValidationException")
}

func lastSlash(s string) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '/' {
			return i
		}
	}
	return -1
}

// uuidFrom returns a UUID-shaped id derived from seed, for stable ids.
func uuidFrom(seed string) string {
	sum := sha256.Sum256([]byte(seed))
	h := hex.EncodeToString(sum[:16])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func assignmentOut(a Assignment) ssoAssignmentOut {
	return ssoAssignmentOut{AccountId: a.AccountID, PermissionSetArn: a.PermissionSetARN, PrincipalType: a.PrincipalType, PrincipalId: a.PrincipalID}
}
