package awsfake

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"slices"
)

// ssoInput holds the request fields the emulated SSO Admin actions read.
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

type ssoAssignmentOut struct {
	AccountId        string
	PermissionSetArn string
	PrincipalType    string
	PrincipalId      string
}

// ssoAdminAction serves one SSO Admin action (signing name "sso").
func (s *Server) ssoAdminAction(r *jsonRequest) (any, *apiError) {
	var in ssoInput
	if e := r.decode(&in); e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	const page = 100
	if r.action == "ListInstances" {
		var out []map[string]any
		if s.ic != nil && s.ic.OwnerAccountID == r.caller.account {
			out = append(out, map[string]any{"InstanceArn": s.ic.InstanceARN, "IdentityStoreId": s.ic.IdentityStoreID,
				"OwnerAccountId": s.ic.OwnerAccountID, "Name": s.ic.Name, "Status": "ACTIVE", "CreatedDate": epoch(s.ic.CreatedAt)})
		}
		return jsonList("Instances", out, in.MaxResults, in.NextToken, page, "ValidationException")
	}
	ic, e := s.identityCenterOf(r.caller)
	if e != nil {
		return nil, e
	}
	if in.InstanceArn != ic.InstanceARN {
		return nil, &apiError{status: http.StatusBadRequest, code: "ResourceNotFoundException", message: "Could not find Identity Center instance " + in.InstanceArn}
	}
	if res, e, ok := s.ssoAssignmentWrite(ic, r); ok {
		return res, e
	}
	s.settleAssignments()
	var ps *PermissionSet
	if in.PermissionSetArn != "" {
		if ps = ic.PermissionSets[in.PermissionSetArn]; ps == nil {
			return nil, &apiError{status: http.StatusBadRequest, code: "ResourceNotFoundException", message: "Could not find PermissionSet with ARN " + in.PermissionSetArn}
		}
	}
	needPS := func() *apiError {
		if ps == nil {
			return &apiError{status: http.StatusBadRequest, code: "ValidationException", message: "1 validation error detected: PermissionSetArn must not be null"}
		}
		return nil
	}
	switch r.action {
	case "ListPermissionSets":
		return jsonList("PermissionSets", sortedKeys(ic.PermissionSets), in.MaxResults, in.NextToken, page, "ValidationException")
	case "DescribePermissionSet":
		if e := needPS(); e != nil {
			return nil, e
		}
		out := map[string]any{"Name": ps.Name, "PermissionSetArn": ps.ARN, "CreatedDate": epoch(ps.CreatedAt), "SessionDuration": ps.SessionDuration}
		if ps.Description != "" {
			out["Description"] = ps.Description
		}
		if ps.RelayState != "" {
			out["RelayState"] = ps.RelayState
		}
		return map[string]any{"PermissionSet": out}, nil
	case "ListManagedPoliciesInPermissionSet":
		if e := needPS(); e != nil {
			return nil, e
		}
		var out []map[string]string
		for _, arn := range ps.ManagedPolicies {
			out = append(out, map[string]string{"Arn": arn, "Name": arn[lastSlash(arn)+1:]})
		}
		return jsonList("AttachedManagedPolicies", out, in.MaxResults, in.NextToken, page, "ValidationException")
	case "ListCustomerManagedPolicyReferencesInPermissionSet":
		if e := needPS(); e != nil {
			return nil, e
		}
		return jsonList("CustomerManagedPolicyReferences", ps.CustomerManagedPolicies, in.MaxResults, in.NextToken, page, "ValidationException")
	case "GetInlinePolicyForPermissionSet":
		if e := needPS(); e != nil {
			return nil, e
		}
		return map[string]any{"InlinePolicy": ps.InlinePolicy}, nil
	case "GetPermissionsBoundaryForPermissionSet":
		if e := needPS(); e != nil {
			return nil, e
		}
		switch {
		case ps.BoundaryManagedPolicyARN != "":
			return map[string]any{"PermissionsBoundary": map[string]any{"ManagedPolicyArn": ps.BoundaryManagedPolicyARN}}, nil
		case ps.BoundaryCustomerManaged != nil:
			return map[string]any{"PermissionsBoundary": map[string]any{"CustomerManagedPolicyReference": ps.BoundaryCustomerManaged}}, nil
		}
		// AWS answers a permission set without a boundary with
		// ResourceNotFoundException.
		return nil, &apiError{status: http.StatusBadRequest, code: "ResourceNotFoundException", message: "Could not find PermissionsBoundary for PermissionSet " + ps.ARN}
	case "ListTagsForResource":
		p := ic.PermissionSets[in.ResourceArn]
		if p == nil {
			return nil, &apiError{status: http.StatusBadRequest, code: "ResourceNotFoundException", message: "Could not find resource " + in.ResourceArn}
		}
		return jsonList("Tags", p.Tags, nil, in.NextToken, 50, "ValidationException")
	case "ListAccountsForProvisionedPermissionSet":
		if e := needPS(); e != nil {
			return nil, e
		}
		var out []string
		for _, pair := range ic.ProvisionedPairs() {
			if pair[0] == ps.ARN {
				out = append(out, pair[1])
			}
		}
		return jsonList("AccountIds", out, in.MaxResults, in.NextToken, page, "ValidationException")
	case "ListPermissionSetsProvisionedToAccount":
		var out []string
		for _, pair := range ic.ProvisionedPairs() {
			if pair[1] == in.AccountId {
				out = append(out, pair[0])
			}
		}
		return jsonList("PermissionSets", out, in.MaxResults, in.NextToken, page, "ValidationException")
	case "ListAccountAssignments":
		if e := needPS(); e != nil {
			return nil, e
		}
		if in.AccountId == "" {
			return nil, &apiError{status: http.StatusBadRequest, code: "ValidationException", message: "1 validation error detected: AccountId must not be null"}
		}
		var out []ssoAssignmentOut
		for _, a := range sortedAssignments(ic.Assignments) {
			if a.AccountID == in.AccountId && a.PermissionSetARN == ps.ARN {
				out = append(out, assignmentOut(a))
			}
		}
		return jsonList("AccountAssignments", out, in.MaxResults, in.NextToken, page, "ValidationException")
	case "ListAccountAssignmentsForPrincipal":
		if !slices.Contains([]string{"USER", "GROUP"}, in.PrincipalType) || in.PrincipalId == "" {
			return nil, &apiError{status: http.StatusBadRequest, code: "ValidationException", message: "PrincipalId and PrincipalType (USER or GROUP) are required"}
		}
		var out []ssoAssignmentOut
		for _, a := range sortedAssignments(ic.Assignments) {
			if a.PrincipalID == in.PrincipalId && a.PrincipalType == in.PrincipalType && (in.Filter.AccountId == "" || a.AccountID == in.Filter.AccountId) {
				out = append(out, assignmentOut(a))
			}
		}
		return jsonList("AccountAssignments", out, in.MaxResults, in.NextToken, page, "ValidationException")
	}
	return nil, &apiError{status: http.StatusBadRequest, code: "UnknownOperationException", message: "awsfake does not emulate SSO Admin action " + r.action}
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
