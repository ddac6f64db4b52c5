package awsfake

import (
	"regexp"
	"slices"
	"time"
)

// This file holds Identity Center's asynchronous operations, which AWS
// carries out in the background: Create/DeleteAccountAssignment and
// ProvisionPermissionSet answer IN_PROGRESS with a request id, and
// Describe…Status reports SUCCEEDED or FAILED (with AWS's reason) once
// Options.AssignmentDelay has passed. At most maxOutstandingAssignments
// assignment operations may be in progress at once.
//
// Provisioning writes the permission set as it is at that moment into the
// account's reserved role (AWSReservedSSO_<name>_<suffix>); a permission set
// changed later reaches the role only when it is provisioned again, as
// AWS documents for every permission set write.

// maxOutstandingAssignments is how many account assignment operations AWS
// lets an instance have in progress.
const maxOutstandingAssignments = 10

// assignmentOp is one asynchronous assignment creation or deletion.
type assignmentOp struct {
	RequestID  string
	Create     bool
	Assignment Assignment
	CreatedAt  time.Time
	Status     string // IN_PROGRESS, SUCCEEDED, FAILED
	Failure    string
}

// provisionOp is one asynchronous ProvisionPermissionSet.
type provisionOp struct {
	RequestID        string
	PermissionSetARN string
	AccountID        string // "" for ALL_PROVISIONED_ACCOUNTS
	CreatedAt        time.Time
	Status           string // IN_PROGRESS, SUCCEEDED, FAILED
	Failure          string
}

var (
	ssoPrincipalIDRE = regexp.MustCompile(`^([0-9a-f]{10}-|)[A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{12}$`)
	ssoRequestIDRE   = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
)

// ssoAssignmentInput holds the assignment requests' fields.
type ssoAssignmentInput struct {
	TargetId, TargetType               string
	PrincipalType, PrincipalId         string
	AccountAssignmentCreationRequestId string
	AccountAssignmentDeletionRequestId string
}

func (s *Server) ssoCreateAccountAssignment(c ssoCall) (any, *apiError) {
	return s.assignmentOperation(c, true)
}

func (s *Server) ssoDeleteAccountAssignment(c ssoCall) (any, *apiError) {
	return s.assignmentOperation(c, false)
}

// assignmentOperation starts an assignment creation or deletion.
func (s *Server) assignmentOperation(c ssoCall, create bool) (any, *apiError) {
	var in ssoAssignmentInput
	if e := c.r.decode(&in); e != nil {
		return nil, e
	}
	ic := c.ic
	if in.TargetType != "AWS_ACCOUNT" || !orgIDPatterns["AccountId"].MatchString(in.TargetId) {
		return nil, isValidation("TargetType must be AWS_ACCOUNT and TargetId a 12-digit account id")
	}
	if in.PrincipalType != "USER" && in.PrincipalType != "GROUP" {
		return nil, isValidation("1 validation error detected: Value '" + in.PrincipalType + "' at 'principalType' failed to satisfy constraint: Member must satisfy enum value set: [USER, GROUP]")
	}
	if !ssoPrincipalIDRE.MatchString(in.PrincipalId) {
		return nil, isValidation("1 validation error detected: Value '" + in.PrincipalId + "' at 'principalId' failed to satisfy constraint: Member must satisfy regular expression pattern")
	}
	if (in.PrincipalType == "USER" && ic.Users[in.PrincipalId] == nil) || (in.PrincipalType == "GROUP" && ic.Groups[in.PrincipalId] == nil) {
		return nil, isValidation("The principal " + in.PrincipalId + " does not exist")
	}
	outstanding := 0
	for _, op := range s.assignOps {
		if op.Status == "IN_PROGRESS" {
			outstanding++
		}
	}
	if outstanding >= maxOutstandingAssignments {
		return nil, isConflictPlain("Too many account assignment operations are in progress for this instance; wait for them to complete")
	}
	op := &assignmentOp{RequestID: s.freshUUID(), Create: create,
		Assignment: Assignment{AccountID: in.TargetId, PermissionSetARN: c.ps.ARN, PrincipalType: in.PrincipalType, PrincipalID: in.PrincipalId},
		CreatedAt:  s.stamp(), Status: "IN_PROGRESS"}
	s.assignOps = append(s.assignOps, op)
	s.settleIdentityCenter()
	return map[string]any{statusField(op.Create): opOut(op)}, nil
}

func (s *Server) ssoDescribeAssignmentCreation(c ssoCall) (any, *apiError) {
	return s.describeAssignmentOp(c, true)
}

func (s *Server) ssoDescribeAssignmentDeletion(c ssoCall) (any, *apiError) {
	return s.describeAssignmentOp(c, false)
}

func (s *Server) describeAssignmentOp(c ssoCall, create bool) (any, *apiError) {
	var in ssoAssignmentInput
	if e := c.r.decode(&in); e != nil {
		return nil, e
	}
	id := in.AccountAssignmentDeletionRequestId
	if create {
		id = in.AccountAssignmentCreationRequestId
	}
	for _, op := range s.assignOps {
		if op.RequestID == id && op.Create == create {
			return map[string]any{statusField(op.Create): opOut(op)}, nil
		}
	}
	return nil, ssoNotFound("Could not find request " + id)
}

func statusField(create bool) string {
	if create {
		return "AccountAssignmentCreationStatus"
	}
	return "AccountAssignmentDeletionStatus"
}

func opOut(op *assignmentOp) map[string]any {
	out := map[string]any{"Status": op.Status, "RequestId": op.RequestID, "TargetId": op.Assignment.AccountID, "TargetType": "AWS_ACCOUNT",
		"PermissionSetArn": op.Assignment.PermissionSetARN, "PrincipalType": op.Assignment.PrincipalType, "PrincipalId": op.Assignment.PrincipalID,
		"CreatedDate": epoch(op.CreatedAt)}
	if op.Failure != "" {
		out["FailureReason"] = op.Failure
	}
	return out
}

func (s *Server) ssoProvisionPermissionSet(c ssoCall) (any, *apiError) {
	var in struct{ TargetId, TargetType string }
	if e := c.r.decode(&in); e != nil {
		return nil, e
	}
	switch in.TargetType {
	case "AWS_ACCOUNT":
		if !orgIDPatterns["AccountId"].MatchString(in.TargetId) {
			return nil, isValidation("TargetId must be a 12-digit account id when TargetType is AWS_ACCOUNT")
		}
	case "ALL_PROVISIONED_ACCOUNTS":
		if in.TargetId != "" {
			return nil, isValidation("TargetId must not be given when TargetType is ALL_PROVISIONED_ACCOUNTS")
		}
	default:
		return nil, isValidation("1 validation error detected: Value '" + in.TargetType + "' at 'targetType' failed to satisfy constraint: Member must satisfy enum value set: [AWS_ACCOUNT, ALL_PROVISIONED_ACCOUNTS]")
	}
	for _, op := range c.ic.provisionOps {
		if op.PermissionSetARN == c.ps.ARN && op.Status == "IN_PROGRESS" {
			return nil, isConflictPlain("The permission set is being provisioned already (request " + op.RequestID + "); wait for it to complete")
		}
	}
	op := &provisionOp{RequestID: s.freshUUID(), PermissionSetARN: c.ps.ARN, AccountID: in.TargetId, CreatedAt: s.stamp(), Status: "IN_PROGRESS"}
	c.ic.provisionOps = append(c.ic.provisionOps, op)
	return map[string]any{"PermissionSetProvisioningStatus": provisionOut(op)}, nil
}

func provisionOut(op *provisionOp) map[string]any {
	out := map[string]any{"Status": op.Status, "RequestId": op.RequestID, "PermissionSetArn": op.PermissionSetARN, "CreatedDate": epoch(op.CreatedAt)}
	if op.AccountID != "" {
		out["AccountId"] = op.AccountID
	}
	if op.Failure != "" {
		out["FailureReason"] = op.Failure
	}
	return out
}

func (s *Server) ssoDescribeProvisioningStatus(c ssoCall) (any, *apiError) {
	var in struct{ ProvisionPermissionSetRequestId string }
	if e := c.r.decode(&in); e != nil {
		return nil, e
	}
	if !ssoRequestIDRE.MatchString(in.ProvisionPermissionSetRequestId) {
		return nil, isValidation("1 validation error detected: Value '" + in.ProvisionPermissionSetRequestId + "' at 'provisionPermissionSetRequestId' failed to satisfy constraint: Member must satisfy regular expression pattern")
	}
	for _, op := range c.ic.provisionOps {
		if op.RequestID == in.ProvisionPermissionSetRequestId {
			return map[string]any{"PermissionSetProvisioningStatus": provisionOut(op)}, nil
		}
	}
	return nil, ssoNotFound("Could not find request " + in.ProvisionPermissionSetRequestId)
}

func (s *Server) ssoListProvisioningStatus(c ssoCall) (any, *apiError) {
	var in struct{ Filter struct{ Status string } }
	if e := c.r.decode(&in); e != nil {
		return nil, e
	}
	var out []map[string]any
	for _, op := range c.ic.provisionOps {
		if in.Filter.Status == "" || op.Status == in.Filter.Status {
			out = append(out, map[string]any{"Status": op.Status, "RequestId": op.RequestID, "CreatedDate": epoch(op.CreatedAt)})
		}
	}
	return jsonList("PermissionSetsProvisioningStatus", out, c.in.MaxResults, c.in.NextToken, ssoPage, "ValidationException")
}

// settleIdentityCenter completes the assignment and provisioning
// operations whose delay has passed. The caller holds s.mu.
func (s *Server) settleIdentityCenter() {
	s.settleAssignments()
	s.settleProvisioning()
}

// settleAssignments completes the assignment operations whose delay has
// passed: a creation provisions the permission set (its role, as the
// permission set is now) unless that fails; a deletion removes the
// assignment. The caller holds s.mu.
func (s *Server) settleAssignments() {
	ic := s.ic
	for _, op := range s.assignOps {
		if op.Status != "IN_PROGRESS" || s.now().Sub(op.CreatedAt) < s.opts.AssignmentDelay {
			continue
		}
		a := op.Assignment
		if !op.Create {
			ic.Assignments = slices.DeleteFunc(ic.Assignments, func(x Assignment) bool { return x == a })
			op.Status = "SUCCEEDED"
			continue
		}
		if failure := s.provisionRole(ic.PermissionSets[a.PermissionSetARN], a.AccountID); failure != "" {
			op.Status, op.Failure = "FAILED", failure
			continue
		}
		if !slices.Contains(ic.Assignments, a) {
			ic.Assignments = append(ic.Assignments, a)
		}
		op.Status = "SUCCEEDED"
	}
}

// settleProvisioning completes the ProvisionPermissionSet operations whose
// delay has passed: the permission set is written into the role of the
// account named, or of every account it is provisioned to. The caller
// holds s.mu.
func (s *Server) settleProvisioning() {
	ic := s.ic
	for _, op := range ic.provisionOps {
		if op.Status != "IN_PROGRESS" || s.now().Sub(op.CreatedAt) < s.opts.AssignmentDelay {
			continue
		}
		ps := ic.PermissionSets[op.PermissionSetARN]
		var accounts []string
		if op.AccountID != "" {
			accounts = []string{op.AccountID}
		} else {
			for _, pair := range ic.ProvisionedPairs() {
				if pair[0] == op.PermissionSetARN {
					accounts = append(accounts, pair[1])
				}
			}
		}
		op.Status = "SUCCEEDED"
		for _, acct := range accounts {
			if ps == nil {
				op.Status, op.Failure = "FAILED", "Received a 404 status error: PermissionSet "+op.PermissionSetARN+" was deleted"
				break
			}
			if failure := s.provisionRole(ps, acct); failure != "" {
				op.Status, op.Failure = "FAILED", failure
				break
			}
			pair := [2]string{ps.ARN, acct}
			if !slices.Contains(ic.ProvisionedPairs(), pair) {
				ic.provisioned = append(ic.provisioned, pair)
			}
		}
	}
}

// provisionRole writes the permission set as it is now into its reserved
// role in the account, creating the role if needed, and returns AWS's
// failure reason when it cannot: the account is not the emulator's, or a
// customer managed policy the permission set references is missing there.
// The caller holds s.mu.
func (s *Server) provisionRole(ps *PermissionSet, accountID string) string {
	acct := s.accounts[accountID]
	if acct == nil || acct.IAM == nil || s.org == nil || s.org.Accounts[accountID] == nil {
		return "Received a 404 status error: Account " + accountID + " is not a member of the organization"
	}
	refs := append([]PolicyRef(nil), ps.CustomerManagedPolicies...)
	if ps.BoundaryCustomerManaged != nil {
		refs = append(refs, *ps.BoundaryCustomerManaged)
	}
	for _, ref := range refs {
		arn := "arn:aws:iam::" + accountID + ":policy" + ref.Path + ref.Name
		if acct.IAM.Policies[arn] == nil {
			return "Received a 404 status error: Not supported policy " + arn + "."
		}
	}
	role := ReservedRole(ps, accountID)
	if old := acct.IAM.Roles[role.Name]; old != nil {
		// The role keeps what AWS keeps across provisionings: its id,
		// creation, tags and last use.
		role.ID, role.CreatedAt, role.Tags, role.LastUsed, role.LastUsedRegion = old.ID, old.CreatedAt, old.Tags, old.LastUsed, old.LastUsedRegion
	}
	acct.IAM.Roles[role.Name] = role
	return ""
}

// provisionedLatest says whether the reserved role of a permission set in
// an account holds the permission set as it is now.
func (s *Server) provisionedLatest(ps *PermissionSet, accountID string) bool {
	acct := s.accounts[accountID]
	if ps == nil || acct == nil || acct.IAM == nil {
		return false
	}
	want := ReservedRole(ps, accountID)
	got := acct.IAM.Roles[want.Name]
	if got == nil {
		return false
	}
	return slices.Equal(got.AttachedPolicies, want.AttachedPolicies) && got.PermissionsBoundary == want.PermissionsBoundary &&
		got.MaxSessionDuration == want.MaxSessionDuration && got.InlinePolicies["AwsSSOInlinePolicy"] == want.InlinePolicies["AwsSSOInlinePolicy"] &&
		len(got.InlinePolicies) == len(want.InlinePolicies)
}

// isConflictPlain is SSO Admin's ConflictException.
func isConflictPlain(msg string) *apiError {
	c := isConflict(msg)
	c.fields = nil
	return c
}
