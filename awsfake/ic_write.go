package awsfake

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"
)

// This file holds Identity Center's write actions: Identity Store users,
// groups and memberships, and SSO Admin account assignments, which AWS
// carries out asynchronously: Create/DeleteAccountAssignment answer
// IN_PROGRESS with a request id, and Describe…Status reports SUCCEEDED or
// FAILED (with AWS's reason) once Options.AssignmentDelay has passed. At most
// maxOutstandingAssignments operations may be in progress at once.

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

// isWriteInput holds the write requests' fields.
type isWriteInput struct {
	IdentityStoreId string
	UserName        string
	DisplayName     string
	Description     string
	Name            *struct{ GivenName, FamilyName, Formatted string }
	Emails          []struct {
		Value   string
		Type    string
		Primary bool
	}
	UserId, GroupId, MembershipId string
	MemberId                      struct{ UserId string }
	AlternateIdentifier           struct {
		UniqueAttribute *struct {
			AttributePath  string
			AttributeValue json.RawMessage
		}
	}
}

// identityStoreWrite serves Identity Store writes and id lookups; ok is
// false for other actions. The caller holds s.mu and has checked the store.
func (s *Server) identityStoreWrite(ic *IdentityCenter, r *jsonRequest) (any, *apiError, bool) {
	var in isWriteInput
	if e := r.decode(&in); e != nil {
		return nil, e, true
	}
	conflict := func(msg string) *apiError {
		return &apiError{status: http.StatusBadRequest, code: "ConflictException", message: msg}
	}
	switch r.action {
	case "CreateUser":
		if in.UserName == "" || len(in.UserName) > 128 {
			return nil, &apiError{status: http.StatusBadRequest, code: "ValidationException", message: "UserName is required (1 to 128 characters)"}, true
		}
		for _, u := range ic.Users {
			if strings.EqualFold(u.UserName, in.UserName) {
				return nil, conflict("Duplicate UserName"), true
			}
		}
		s.nextID++
		u := &SSOUser{ID: uuidFrom(ic.IdentityStoreID + "/new-user/" + in.UserName + time.Now().String()), UserName: in.UserName,
			DisplayName: in.DisplayName, Status: "ENABLED", CreatedAt: s.now()}
		if in.Name != nil {
			u.GivenName, u.FamilyName = in.Name.GivenName, in.Name.FamilyName
		}
		if len(in.Emails) > 0 {
			u.Email = in.Emails[0].Value
		}
		ic.Users[u.ID] = u
		return map[string]string{"UserId": u.ID, "IdentityStoreId": ic.IdentityStoreID}, nil, true
	case "DeleteUser":
		if ic.Users[in.UserId] == nil {
			return nil, isNotFound("USER", in.UserId), true
		}
		delete(ic.Users, in.UserId)
		for _, g := range ic.Groups {
			g.Members = slices.DeleteFunc(g.Members, func(m string) bool { return m == in.UserId })
		}
		ic.Assignments = slices.DeleteFunc(ic.Assignments, func(a Assignment) bool { return a.PrincipalType == "USER" && a.PrincipalID == in.UserId })
		return map[string]any{}, nil, true
	case "CreateGroup":
		if in.DisplayName == "" {
			return nil, &apiError{status: http.StatusBadRequest, code: "ValidationException", message: "DisplayName is required"}, true
		}
		for _, g := range ic.Groups {
			if strings.EqualFold(g.DisplayName, in.DisplayName) {
				return nil, conflict("Duplicate GroupDisplayName"), true
			}
		}
		g := &SSOGroup{ID: uuidFrom(ic.IdentityStoreID + "/new-group/" + in.DisplayName + time.Now().String()), DisplayName: in.DisplayName,
			Description: in.Description, CreatedAt: s.now()}
		ic.Groups[g.ID] = g
		return map[string]string{"GroupId": g.ID, "IdentityStoreId": ic.IdentityStoreID}, nil, true
	case "DeleteGroup":
		if ic.Groups[in.GroupId] == nil {
			return nil, isNotFound("GROUP", in.GroupId), true
		}
		delete(ic.Groups, in.GroupId)
		ic.Assignments = slices.DeleteFunc(ic.Assignments, func(a Assignment) bool { return a.PrincipalType == "GROUP" && a.PrincipalID == in.GroupId })
		return map[string]any{}, nil, true
	case "CreateGroupMembership":
		g, u := ic.Groups[in.GroupId], ic.Users[in.MemberId.UserId]
		if g == nil {
			return nil, isNotFound("GROUP", in.GroupId), true
		}
		if u == nil {
			return nil, isNotFound("USER", in.MemberId.UserId), true
		}
		if slices.Contains(g.Members, u.ID) {
			return nil, conflict("Member already exists in group"), true
		}
		g.Members = append(g.Members, u.ID)
		return map[string]string{"MembershipId": membershipID(g.ID, u.ID), "IdentityStoreId": ic.IdentityStoreID}, nil, true
	case "DeleteGroupMembership":
		for _, g := range ic.Groups {
			for _, uid := range g.Members {
				if membershipID(g.ID, uid) == in.MembershipId {
					g.Members = slices.DeleteFunc(g.Members, func(m string) bool { return m == uid })
					return map[string]any{}, nil, true
				}
			}
		}
		return nil, isNotFound("GROUP_MEMBERSHIP", in.MembershipId), true
	case "GetGroupMembershipId":
		g := ic.Groups[in.GroupId]
		if g == nil || !slices.Contains(g.Members, in.MemberId.UserId) {
			return nil, isNotFound("GROUP_MEMBERSHIP", in.GroupId+"/"+in.MemberId.UserId), true
		}
		return map[string]string{"MembershipId": membershipID(g.ID, in.MemberId.UserId), "IdentityStoreId": ic.IdentityStoreID}, nil, true
	case "GetUserId", "GetGroupId":
		ua := in.AlternateIdentifier.UniqueAttribute
		if ua == nil {
			return nil, &apiError{status: http.StatusBadRequest, code: "ValidationException", message: "AlternateIdentifier.UniqueAttribute is required"}, true
		}
		var value string
		json.Unmarshal(ua.AttributeValue, &value)
		if r.action == "GetUserId" {
			if !strings.EqualFold(ua.AttributePath, "userName") {
				return nil, &apiError{status: http.StatusBadRequest, code: "ValidationException", message: "Unsupported AttributePath " + ua.AttributePath}, true
			}
			for _, u := range ic.Users {
				if strings.EqualFold(u.UserName, value) {
					return map[string]string{"UserId": u.ID, "IdentityStoreId": ic.IdentityStoreID}, nil, true
				}
			}
			return nil, isNotFound("USER", value), true
		}
		if !strings.EqualFold(ua.AttributePath, "displayName") {
			return nil, &apiError{status: http.StatusBadRequest, code: "ValidationException", message: "Unsupported AttributePath " + ua.AttributePath}, true
		}
		for _, g := range ic.Groups {
			if strings.EqualFold(g.DisplayName, value) {
				return map[string]string{"GroupId": g.ID, "IdentityStoreId": ic.IdentityStoreID}, nil, true
			}
		}
		return nil, isNotFound("GROUP", value), true
	}
	return nil, nil, false
}

// ssoAssignmentInput holds the assignment requests' fields.
type ssoAssignmentInput struct {
	InstanceArn                        string
	TargetId, TargetType               string
	PermissionSetArn                   string
	PrincipalType, PrincipalId         string
	AccountAssignmentCreationRequestId string
	AccountAssignmentDeletionRequestId string
}

// ssoAssignmentWrite serves the asynchronous assignment actions; ok is
// false for other actions. The caller holds s.mu and has checked the
// instance.
func (s *Server) ssoAssignmentWrite(ic *IdentityCenter, r *jsonRequest) (any, *apiError, bool) {
	var in ssoAssignmentInput
	if e := r.decode(&in); e != nil {
		return nil, e, true
	}
	s.settleAssignments()
	switch r.action {
	case "CreateAccountAssignment", "DeleteAccountAssignment":
		if in.TargetType != "AWS_ACCOUNT" || len(in.TargetId) != 12 {
			return nil, &apiError{status: http.StatusBadRequest, code: "ValidationException", message: "TargetType must be AWS_ACCOUNT and TargetId a 12-digit account id"}, true
		}
		if ic.PermissionSets[in.PermissionSetArn] == nil {
			return nil, &apiError{status: http.StatusBadRequest, code: "ResourceNotFoundException", message: "Could not find PermissionSet with ARN " + in.PermissionSetArn}, true
		}
		if (in.PrincipalType == "USER" && ic.Users[in.PrincipalId] == nil) || (in.PrincipalType == "GROUP" && ic.Groups[in.PrincipalId] == nil) ||
			(in.PrincipalType != "USER" && in.PrincipalType != "GROUP") {
			return nil, &apiError{status: http.StatusBadRequest, code: "ValidationException", message: "The principal " + in.PrincipalId + " does not exist"}, true
		}
		outstanding := 0
		for _, op := range s.assignOps {
			if op.Status == "IN_PROGRESS" {
				outstanding++
			}
		}
		if outstanding >= maxOutstandingAssignments {
			return nil, &apiError{status: http.StatusBadRequest, code: "ConflictException",
				message: "Too many account assignment operations are in progress for this instance; wait for them to complete"}, true
		}
		s.nextID++
		op := &assignmentOp{RequestID: uuidFrom("assignment-op/" + time.Now().String() + in.PrincipalId), Create: r.action == "CreateAccountAssignment",
			Assignment: Assignment{AccountID: in.TargetId, PermissionSetARN: in.PermissionSetArn, PrincipalType: in.PrincipalType, PrincipalID: in.PrincipalId},
			CreatedAt:  s.now(), Status: "IN_PROGRESS"}
		s.assignOps = append(s.assignOps, op)
		s.settleAssignments()
		return map[string]any{statusField(op.Create): opOut(op)}, nil, true
	case "DescribeAccountAssignmentCreationStatus", "DescribeAccountAssignmentDeletionStatus":
		id := in.AccountAssignmentCreationRequestId
		if r.action == "DescribeAccountAssignmentDeletionStatus" {
			id = in.AccountAssignmentDeletionRequestId
		}
		for _, op := range s.assignOps {
			if op.RequestID == id && op.Create == (r.action == "DescribeAccountAssignmentCreationStatus") {
				return map[string]any{statusField(op.Create): opOut(op)}, nil, true
			}
		}
		return nil, &apiError{status: http.StatusBadRequest, code: "ResourceNotFoundException", message: "Could not find request " + id}, true
	}
	return nil, nil, false
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

// settleAssignments completes the operations whose delay has passed: a
// creation provisions the permission set (creating its role) unless a
// customer managed policy it references is missing from the account, which
// fails it with AWS's reason; a deletion removes the assignment. The caller
// holds s.mu.
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
		ps := ic.PermissionSets[a.PermissionSetARN]
		acct := s.accounts[a.AccountID]
		if acct == nil || acct.IAM == nil {
			op.Status, op.Failure = "FAILED", "Received a 404 status error: Account "+a.AccountID+" is not a member of the organization"
			continue
		}
		missing := ""
		for _, ref := range ps.CustomerManagedPolicies {
			if acct.IAM.Policies["arn:aws:iam::"+a.AccountID+":policy"+ref.Path+ref.Name] == nil {
				missing = "arn:aws:iam::" + a.AccountID + ":policy" + ref.Path + ref.Name
				break
			}
		}
		if missing != "" {
			op.Status, op.Failure = "FAILED", "Received a 404 status error: Not supported policy "+missing+"."
			continue
		}
		if !slices.Contains(ic.Assignments, a) {
			ic.Assignments = append(ic.Assignments, a)
		}
		if _, ok := acct.IAM.Roles[ReservedRoleName(ps, a.AccountID)]; !ok {
			role := ReservedRole(ps, a.AccountID)
			acct.IAM.Roles[role.Name] = role
		}
		op.Status = "SUCCEEDED"
	}
}
