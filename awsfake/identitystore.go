package awsfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
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

// isInput holds the request fields the Identity Store actions share; each
// handler decodes any further fields it reads itself.
type isInput struct {
	IdentityStoreId string
	GroupId         string
	UserId          string
	MembershipId    string
	MaxResults      *int
	NextToken       string
	Filters         []struct {
		AttributePath  string
		AttributeValue string
	}
	MemberId struct{ UserId string }
}

// isCall is one Identity Store request as a handler sees it: the request,
// the identity store, and the shared fields, already checked.
type isCall struct {
	r  *jsonRequest
	ic *IdentityCenter
	in isInput
}

// isHandler serves one Identity Store action. The caller holds s.mu.
type isHandler struct {
	serve func(*Server, isCall) (any, *apiError)
	// ids are the resource ID fields the action requires.
	ids []string
}

// identityStoreActions are the Identity Store actions the emulator serves,
// one handler each (writes in identitystore_write.go).
var identityStoreActions = map[string]isHandler{
	"ListUsers":                     {serve: (*Server).isListUsers},
	"DescribeUser":                  {serve: (*Server).isDescribeUser, ids: []string{"UserId"}},
	"ListGroups":                    {serve: (*Server).isListGroups},
	"DescribeGroup":                 {serve: (*Server).isDescribeGroup, ids: []string{"GroupId"}},
	"ListGroupMemberships":          {serve: (*Server).isListGroupMemberships, ids: []string{"GroupId"}},
	"ListGroupMembershipsForMember": {serve: (*Server).isListGroupMembershipsForMember},
	"DescribeGroupMembership":       {serve: (*Server).isDescribeGroupMembership, ids: []string{"MembershipId"}},
	"GetUserId":                     {serve: (*Server).isGetUserID},
	"GetGroupId":                    {serve: (*Server).isGetGroupID},
	"GetGroupMembershipId":          {serve: (*Server).isGetGroupMembershipID, ids: []string{"GroupId"}},
	"CreateUser":                    {serve: (*Server).isCreateUser},
	"DeleteUser":                    {serve: (*Server).isDeleteUser, ids: []string{"UserId"}},
	"CreateGroup":                   {serve: (*Server).isCreateGroup},
	"DeleteGroup":                   {serve: (*Server).isDeleteGroup, ids: []string{"GroupId"}},
	"CreateGroupMembership":         {serve: (*Server).isCreateGroupMembership, ids: []string{"GroupId"}},
	"DeleteGroupMembership":         {serve: (*Server).isDeleteGroupMembership, ids: []string{"MembershipId"}},
	"UpdateUser":                    {serve: (*Server).isUpdateUser, ids: []string{"UserId"}},
	"UpdateGroup":                   {serve: (*Server).isUpdateGroup, ids: []string{"GroupId"}},
}

// isResourceIDRE is the pattern of user, group and membership IDs.
var isResourceIDRE = regexp.MustCompile(`^([0-9a-f]{10}-|)[A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{12}$`)

// identityCenterOf returns the emulator's Identity Center when the caller
// may use it: the account that owns the instance.
func (s *Server) identityCenterOf(c caller) (*IdentityCenter, *apiError) {
	if s.ic == nil || s.ic.OwnerAccountID != c.account {
		return nil, &apiError{status: http.StatusBadRequest, code: "AccessDeniedException",
			message: "User: " + c.arn + " is not authorized to access this Identity Center instance"}
	}
	return s.ic, nil
}

// identityStoreAction serves one Identity Store action through
// identityStoreActions.
func (s *Server) identityStoreAction(r *jsonRequest) (any, *apiError) {
	h, ok := identityStoreActions[r.action]
	if !ok {
		return nil, &apiError{status: http.StatusBadRequest, code: "UnknownOperationException", message: "awsfake does not emulate Identity Store action " + r.action}
	}
	var in isInput
	if e := r.decode(&in); e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settleAccountCreations()
	if in.IdentityStoreId == "" {
		return nil, isValidation("1 validation error detected: IdentityStoreId must not be null")
	}
	ic, e := s.identityCenterOf(r.caller)
	if e != nil {
		return nil, e
	}
	if in.IdentityStoreId != ic.IdentityStoreID {
		return nil, &apiError{status: http.StatusBadRequest, code: "ResourceNotFoundException",
			message: "Identity store " + in.IdentityStoreId + " does not exist", fields: map[string]string{"ResourceType": "IDENTITY_STORE", "ResourceId": in.IdentityStoreId}}
	}
	for _, f := range h.ids {
		v := map[string]string{"UserId": in.UserId, "GroupId": in.GroupId, "MembershipId": in.MembershipId}[f]
		if !isResourceIDRE.MatchString(v) {
			return nil, isValidation(fmt.Sprintf("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern", v, lowerFirst(f)))
		}
	}
	return h.serve(s, isCall{r: r, ic: ic, in: in})
}

const isPage = 100

func (s *Server) isListUsers(c isCall) (any, *apiError) {
	ic := c.ic
	var out []isUser
	for _, id := range sortedKeys(ic.Users) {
		u := ic.Users[id]
		if !filtersMatch(c.in, map[string]string{"UserName": u.UserName, "DisplayName": u.DisplayName}) {
			continue
		}
		out = append(out, userOut(ic, u))
	}
	return jsonList("Users", out, c.in.MaxResults, c.in.NextToken, isPage, "ValidationException")
}

func (s *Server) isDescribeUser(c isCall) (any, *apiError) {
	u := c.ic.Users[c.in.UserId]
	if u == nil {
		return nil, isNotFound("USER", c.in.UserId)
	}
	return userOut(c.ic, u), nil
}

func (s *Server) isListGroups(c isCall) (any, *apiError) {
	ic := c.ic
	var out []isGroup
	for _, id := range sortedKeys(ic.Groups) {
		g := ic.Groups[id]
		if !filtersMatch(c.in, map[string]string{"DisplayName": g.DisplayName}) {
			continue
		}
		out = append(out, groupOut(ic, g))
	}
	return jsonList("Groups", out, c.in.MaxResults, c.in.NextToken, isPage, "ValidationException")
}

func (s *Server) isDescribeGroup(c isCall) (any, *apiError) {
	g := c.ic.Groups[c.in.GroupId]
	if g == nil {
		return nil, isNotFound("GROUP", c.in.GroupId)
	}
	return groupOut(c.ic, g), nil
}

func (s *Server) isListGroupMemberships(c isCall) (any, *apiError) {
	ic := c.ic
	g := ic.Groups[c.in.GroupId]
	if g == nil {
		return nil, isNotFound("GROUP", c.in.GroupId)
	}
	out := make([]isMembership, 0, len(g.Members))
	for _, uid := range g.Members {
		out = append(out, membershipOut(ic, g.ID, uid))
	}
	return jsonList("GroupMemberships", out, c.in.MaxResults, c.in.NextToken, isPage, "ValidationException")
}

func (s *Server) isListGroupMembershipsForMember(c isCall) (any, *apiError) {
	ic := c.ic
	uid := c.in.MemberId.UserId
	if uid == "" {
		uid = c.in.UserId
	}
	var out []isMembership
	for _, gid := range sortedKeys(ic.Groups) {
		if slices.Contains(ic.Groups[gid].Members, uid) {
			out = append(out, membershipOut(ic, gid, uid))
		}
	}
	return jsonList("GroupMemberships", out, c.in.MaxResults, c.in.NextToken, isPage, "ValidationException")
}

func (s *Server) isDescribeGroupMembership(c isCall) (any, *apiError) {
	gid, uid, ok := c.ic.membership(c.in.MembershipId)
	if !ok {
		return nil, isNotFound("GROUP_MEMBERSHIP", c.in.MembershipId)
	}
	return membershipOut(c.ic, gid, uid), nil
}

// membership finds the (group, user) pair of a membership ID.
func (ic *IdentityCenter) membership(id string) (group, user string, ok bool) {
	for _, g := range ic.Groups {
		for _, uid := range g.Members {
			if membershipID(g.ID, uid) == id {
				return g.ID, uid, true
			}
		}
	}
	return "", "", false
}

// uniqueAttribute reads GetUserId's and GetGroupId's AlternateIdentifier.
func uniqueAttribute(r *jsonRequest) (path, value string, e *apiError) {
	var in struct {
		AlternateIdentifier struct {
			UniqueAttribute *struct {
				AttributePath  string
				AttributeValue json.RawMessage
			}
		}
	}
	if e := r.decode(&in); e != nil {
		return "", "", e
	}
	ua := in.AlternateIdentifier.UniqueAttribute
	if ua == nil {
		return "", "", isValidation("AlternateIdentifier.UniqueAttribute is required")
	}
	if json.Unmarshal(ua.AttributeValue, &value) != nil {
		return "", "", isValidation("AttributeValue must be a string")
	}
	return ua.AttributePath, value, nil
}

func (s *Server) isGetUserID(c isCall) (any, *apiError) {
	path, value, e := uniqueAttribute(c.r)
	if e != nil {
		return nil, e
	}
	if !strings.EqualFold(path, "userName") {
		return nil, isValidation("Unsupported AttributePath " + path)
	}
	for _, u := range c.ic.Users {
		if strings.EqualFold(u.UserName, value) {
			return map[string]string{"UserId": u.ID, "IdentityStoreId": c.ic.IdentityStoreID}, nil
		}
	}
	return nil, isNotFound("USER", value)
}

func (s *Server) isGetGroupID(c isCall) (any, *apiError) {
	path, value, e := uniqueAttribute(c.r)
	if e != nil {
		return nil, e
	}
	if !strings.EqualFold(path, "displayName") {
		return nil, isValidation("Unsupported AttributePath " + path)
	}
	for _, g := range c.ic.Groups {
		if strings.EqualFold(g.DisplayName, value) {
			return map[string]string{"GroupId": g.ID, "IdentityStoreId": c.ic.IdentityStoreID}, nil
		}
	}
	return nil, isNotFound("GROUP", value)
}

func (s *Server) isGetGroupMembershipID(c isCall) (any, *apiError) {
	g := c.ic.Groups[c.in.GroupId]
	if g == nil || !slices.Contains(g.Members, c.in.MemberId.UserId) {
		return nil, isNotFound("GROUP_MEMBERSHIP", c.in.GroupId+"/"+c.in.MemberId.UserId)
	}
	return map[string]string{"MembershipId": membershipID(g.ID, c.in.MemberId.UserId), "IdentityStoreId": c.ic.IdentityStoreID}, nil
}

// isValidation is the Identity Store's (and SSO Admin's) ValidationException.
func isValidation(msg string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: "ValidationException", message: msg}
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

// isNotFound is ResourceNotFoundException with the resource's type and ID,
// as the Identity Store answers it.
func isNotFound(kind, id string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: "ResourceNotFoundException", message: kind + " " + id + " not found",
		fields: map[string]string{"ResourceType": kind, "ResourceId": id}}
}

// membershipID is a stable membership id for a (group, user) pair.
func membershipID(group, user string) string {
	return uuidFrom("membership/" + group + "/" + user)
}

func groupOut(ic *IdentityCenter, g *SSOGroup) isGroup {
	return isGroup{IdentityStoreId: ic.IdentityStoreID, GroupId: g.ID, DisplayName: g.DisplayName, Description: g.Description, CreatedAt: epoch(g.CreatedAt)}
}

func membershipOut(ic *IdentityCenter, group, user string) isMembership {
	return isMembership{IdentityStoreId: ic.IdentityStoreID, MembershipId: membershipID(group, user), GroupId: group, MemberId: isMemberID{UserId: user}}
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
