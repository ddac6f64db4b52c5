package awsfake

import (
	"net/http"
	"sort"
)

// Identity Store wire shapes.
type (
	isName struct {
		Formatted  string `json:"Formatted,omitempty"`
		GivenName  string `json:"GivenName,omitempty"`
		FamilyName string `json:"FamilyName,omitempty"`
	}
	isEmail struct {
		Value   string
		Type    string
		Primary bool
	}
	isExternalID struct {
		Issuer string
		Id     string
	}
	isUser struct {
		IdentityStoreId string
		UserId          string
		UserName        string
		DisplayName     string `json:",omitempty"`
		Name            *isName
		Emails          []isEmail      `json:",omitempty"`
		ExternalIds     []isExternalID `json:",omitempty"`
		UserStatus      string
		CreatedAt       epoch
	}
	isGroup struct {
		IdentityStoreId string
		GroupId         string
		DisplayName     string
		Description     string `json:",omitempty"`
		CreatedAt       epoch
	}
	isMemberID struct {
		UserId string
	}
	isMembership struct {
		IdentityStoreId string
		MembershipId    string
		GroupId         string
		MemberId        isMemberID
	}
)

// isInput holds the request fields the emulated Identity Store actions read.
type isInput struct {
	IdentityStoreId string
	GroupId         string
	UserId          string
	MemberId        isMemberID // ListGroupMembershipsForMember
	MaxResults      *int
	NextToken       string
	Filters         []struct {
		AttributePath  string
		AttributeValue string
	}
}

// identityCenterOf returns the emulator's Identity Center when the caller
// may use it: the account that owns the instance.
func (s *Server) identityCenterOf(c caller) (*IdentityCenter, *apiError) {
	if s.ic == nil || s.ic.OwnerAccountID != c.account {
		return nil, &apiError{status: http.StatusBadRequest, code: "AccessDeniedException",
			message: "User: " + c.arn + " is not authorized to access this Identity Center instance"}
	}
	return s.ic, nil
}

// identityStoreAction serves one Identity Store action.
func (s *Server) identityStoreAction(r *jsonRequest) (any, *apiError) {
	var in isInput
	if e := r.decode(&in); e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ic, e := s.identityCenterOf(r.caller)
	if e != nil {
		return nil, e
	}
	if in.IdentityStoreId != ic.IdentityStoreID {
		return nil, &apiError{status: http.StatusBadRequest, code: "ResourceNotFoundException",
			message: "Identity store " + in.IdentityStoreId + " does not exist"}
	}
	if res, e, ok := s.identityStoreWrite(ic, r); ok {
		return res, e
	}
	const page = 100
	switch r.action {
	case "ListUsers":
		var out []isUser
		for _, id := range sortedKeys(ic.Users) {
			u := ic.Users[id]
			if !filtersMatch(in, map[string]string{"UserName": u.UserName, "DisplayName": u.DisplayName}) {
				continue
			}
			out = append(out, userOut(ic, u))
		}
		return jsonList("Users", out, in.MaxResults, in.NextToken, page, "ValidationException")
	case "DescribeUser":
		u := ic.Users[in.UserId]
		if u == nil {
			return nil, isNotFound("USER", in.UserId)
		}
		return userOut(ic, u), nil
	case "ListGroups":
		var out []isGroup
		for _, id := range sortedKeys(ic.Groups) {
			g := ic.Groups[id]
			if !filtersMatch(in, map[string]string{"DisplayName": g.DisplayName}) {
				continue
			}
			out = append(out, isGroup{IdentityStoreId: ic.IdentityStoreID, GroupId: g.ID, DisplayName: g.DisplayName, Description: g.Description, CreatedAt: epoch(g.CreatedAt)})
		}
		return jsonList("Groups", out, in.MaxResults, in.NextToken, page, "ValidationException")
	case "ListGroupMemberships":
		g := ic.Groups[in.GroupId]
		if g == nil {
			return nil, isNotFound("GROUP", in.GroupId)
		}
		out := make([]isMembership, 0, len(g.Members))
		for _, uid := range g.Members {
			out = append(out, isMembership{IdentityStoreId: ic.IdentityStoreID, MembershipId: membershipID(g.ID, uid), GroupId: g.ID, MemberId: isMemberID{UserId: uid}})
		}
		return jsonList("GroupMemberships", out, in.MaxResults, in.NextToken, page, "ValidationException")
	case "ListGroupMembershipsForMember":
		var out []isMembership
		for _, gid := range sortedKeys(ic.Groups) {
			for _, uid := range ic.Groups[gid].Members {
				if uid == in.MemberId.UserId {
					out = append(out, isMembership{IdentityStoreId: ic.IdentityStoreID, MembershipId: membershipID(gid, uid), GroupId: gid, MemberId: isMemberID{UserId: uid}})
				}
			}
		}
		return jsonList("GroupMemberships", out, in.MaxResults, in.NextToken, page, "ValidationException")
	}
	return nil, &apiError{status: http.StatusBadRequest, code: "UnknownOperationException", message: "awsfake does not emulate Identity Store action " + r.action}
}

// filtersMatch applies the (deprecated, still served) equality Filters of
// ListUsers and ListGroups.
func filtersMatch(in isInput, attrs map[string]string) bool {
	for _, f := range in.Filters {
		if attrs[f.AttributePath] != f.AttributeValue {
			return false
		}
	}
	return true
}

func isNotFound(kind, id string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: "ResourceNotFoundException", message: kind + " " + id + " not found"}
}

// membershipID is a stable membership id for a (group, user) pair.
func membershipID(group, user string) string {
	return uuidFrom("membership/" + group + "/" + user)
}

func userOut(ic *IdentityCenter, u *SSOUser) isUser {
	out := isUser{IdentityStoreId: ic.IdentityStoreID, UserId: u.ID, UserName: u.UserName, DisplayName: u.DisplayName,
		Name:       &isName{Formatted: u.GivenName + " " + u.FamilyName, GivenName: u.GivenName, FamilyName: u.FamilyName},
		UserStatus: u.Status, CreatedAt: epoch(u.CreatedAt)}
	if u.Email != "" {
		out.Emails = []isEmail{{Value: u.Email, Type: "work", Primary: true}}
	}
	if u.ExternalID != "" {
		out.ExternalIds = []isExternalID{{Issuer: u.ExternalIDIssuer, Id: u.ExternalID}}
	}
	return out
}

// sortedAssignments returns assignments in a stable order.
func sortedAssignments(list []Assignment) []Assignment {
	out := append([]Assignment(nil), list...)
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.AccountID != b.AccountID {
			return a.AccountID < b.AccountID
		}
		if a.PermissionSetARN != b.PermissionSetARN {
			return a.PermissionSetARN < b.PermissionSetARN
		}
		if a.PrincipalType != b.PrincipalType {
			return a.PrincipalType < b.PrincipalType
		}
		return a.PrincipalID < b.PrincipalID
	})
	return out
}
