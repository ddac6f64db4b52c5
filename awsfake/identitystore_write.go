package awsfake

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// This file holds the Identity Store's write actions, with its validation
// and errors: users and groups need their required attributes, names are
// unique (ConflictException, Reason UNIQUENESS_CONSTRAINT_VIOLATION), the
// names AWS reserves are refused, and memberships need an existing group
// and user and are unique.

var (
	// isNameRE is the model's pattern of a user name: letters, marks,
	// symbols, numbers and punctuation, no spaces.
	isNameRE = regexp.MustCompile(`^[\p{L}\p{M}\p{S}\p{N}\p{P}]+$`)
	// isTextRE is the pattern of display names and other free text.
	isTextRE = regexp.MustCompile(`^[\p{L}\p{M}\p{S}\p{N}\p{P}\t\n\r \x{00A0}\x{3000}]+$`)
)

// isReservedNames are names Identity Center keeps for itself: no user or
// group may have them.
var isReservedNames = []string{"Administrator", "AWSAdministrators"}

// freshUUID returns a new UUID-shaped ID. The caller holds s.mu.
func (s *Server) freshUUID() string {
	h := s.freshID("0123456789abcdef", 32)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func isConflict(msg string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: "ConflictException", message: msg,
		fields: map[string]string{"Reason": "UNIQUENESS_CONSTRAINT_VIOLATION"}}
}

// checkText checks an optional free-text attribute: 1 to max characters of
// the model's pattern when present.
func checkText(field string, v *string, max int) *apiError {
	if v == nil {
		return nil
	}
	if n := utf8.RuneCountInString(*v); n < 1 || n > max || !isTextRE.MatchString(*v) {
		return isValidation("1 validation error detected: Value at '" + lowerFirst(field) + "' failed to satisfy constraint: Member must have length between 1 and " + strconv.Itoa(max) + " and satisfy the required pattern")
	}
	return nil
}

func (s *Server) isCreateUser(c isCall) (any, *apiError) {
	var in struct {
		UserName    string
		DisplayName *string
		Name        *struct{ GivenName, FamilyName, Formatted string }
		Emails      []struct {
			Value   string
			Type    string
			Primary bool
		}
		Title *string
	}
	if e := c.r.decode(&in); e != nil {
		return nil, e
	}
	ic := c.ic
	switch {
	case in.UserName == "":
		return nil, isValidation("UserName is required.")
	case utf8.RuneCountInString(in.UserName) > 128 || !isNameRE.MatchString(in.UserName):
		return nil, isValidation("1 validation error detected: Value at 'userName' failed to satisfy constraint: Member must have length between 1 and 128 and hold no spaces")
	case in.DisplayName == nil:
		return nil, isValidation("DisplayName is required.")
	case in.Name == nil || in.Name.GivenName == "" || in.Name.FamilyName == "":
		return nil, isValidation("Name.GivenName and Name.FamilyName are required.")
	case len(in.Emails) > 1:
		return nil, isValidation("1 validation error detected: Value at 'emails' failed to satisfy constraint: Member must have length less than or equal to 1")
	case slices.ContainsFunc(isReservedNames, func(n string) bool { return strings.EqualFold(n, in.UserName) }):
		return nil, isValidation("The UserName " + in.UserName + " is reserved by IAM Identity Center.")
	}
	if e := checkText("DisplayName", in.DisplayName, 1024); e != nil {
		return nil, e
	}
	if e := checkText("Title", in.Title, 1024); e != nil {
		return nil, e
	}
	for _, u := range ic.Users {
		if strings.EqualFold(u.UserName, in.UserName) {
			return nil, isConflict("Duplicate UserName")
		}
	}
	u := &SSOUser{ID: s.freshUUID(), UserName: in.UserName, DisplayName: *in.DisplayName, GivenName: in.Name.GivenName,
		FamilyName: in.Name.FamilyName, Status: "ENABLED", CreatedAt: s.stamp()}
	if in.Title != nil {
		u.Title = *in.Title
	}
	if len(in.Emails) > 0 {
		u.Email = in.Emails[0].Value
	}
	ic.Users[u.ID] = u
	return map[string]string{"UserId": u.ID, "IdentityStoreId": ic.IdentityStoreID}, nil
}

// isDeleteUser deletes a user, its group memberships and the account
// assignments that name it.
func (s *Server) isDeleteUser(c isCall) (any, *apiError) {
	ic, id := c.ic, c.in.UserId
	if ic.Users[id] == nil {
		return nil, isNotFound("USER", id)
	}
	delete(ic.Users, id)
	for _, g := range ic.Groups {
		g.Members = slices.DeleteFunc(g.Members, func(m string) bool { return m == id })
	}
	ic.Assignments = slices.DeleteFunc(ic.Assignments, func(a Assignment) bool { return a.PrincipalType == "USER" && a.PrincipalID == id })
	return map[string]any{}, nil
}

func (s *Server) isCreateGroup(c isCall) (any, *apiError) {
	var in struct{ DisplayName, Description *string }
	if e := c.r.decode(&in); e != nil {
		return nil, e
	}
	ic := c.ic
	if in.DisplayName == nil {
		return nil, isValidation("DisplayName is required.")
	}
	if e := checkText("DisplayName", in.DisplayName, 1024); e != nil {
		return nil, e
	}
	if e := checkText("Description", in.Description, 1024); e != nil {
		return nil, e
	}
	if slices.ContainsFunc(isReservedNames, func(n string) bool { return strings.EqualFold(n, *in.DisplayName) }) {
		return nil, isValidation("The DisplayName " + *in.DisplayName + " is reserved by IAM Identity Center.")
	}
	for _, g := range ic.Groups {
		if strings.EqualFold(g.DisplayName, *in.DisplayName) {
			return nil, isConflict("Duplicate GroupDisplayName")
		}
	}
	g := &SSOGroup{ID: s.freshUUID(), DisplayName: *in.DisplayName, CreatedAt: s.stamp()}
	if in.Description != nil {
		g.Description = *in.Description
	}
	ic.Groups[g.ID] = g
	return map[string]string{"GroupId": g.ID, "IdentityStoreId": ic.IdentityStoreID}, nil
}

func (s *Server) isDeleteGroup(c isCall) (any, *apiError) {
	ic, id := c.ic, c.in.GroupId
	if ic.Groups[id] == nil {
		return nil, isNotFound("GROUP", id)
	}
	delete(ic.Groups, id)
	ic.Assignments = slices.DeleteFunc(ic.Assignments, func(a Assignment) bool { return a.PrincipalType == "GROUP" && a.PrincipalID == id })
	return map[string]any{}, nil
}

func (s *Server) isCreateGroupMembership(c isCall) (any, *apiError) {
	ic, uid := c.ic, c.in.MemberId.UserId
	if !isResourceIDRE.MatchString(uid) {
		return nil, isValidation("1 validation error detected: Value '" + uid + "' at 'memberId.userId' failed to satisfy constraint: Member must satisfy regular expression pattern")
	}
	g, u := ic.Groups[c.in.GroupId], ic.Users[uid]
	if g == nil {
		return nil, isNotFound("GROUP", c.in.GroupId)
	}
	if u == nil {
		return nil, isNotFound("USER", uid)
	}
	if slices.Contains(g.Members, u.ID) {
		return nil, isConflict("Member already exists in group")
	}
	g.Members = append(g.Members, u.ID)
	return map[string]string{"MembershipId": membershipID(g.ID, u.ID), "IdentityStoreId": ic.IdentityStoreID}, nil
}

func (s *Server) isDeleteGroupMembership(c isCall) (any, *apiError) {
	gid, uid, ok := c.ic.membership(c.in.MembershipId)
	if !ok {
		return nil, isNotFound("GROUP_MEMBERSHIP", c.in.MembershipId)
	}
	g := c.ic.Groups[gid]
	g.Members = slices.DeleteFunc(g.Members, func(m string) bool { return m == uid })
	return map[string]any{}, nil
}

// isOperation is one UpdateUser or UpdateGroup operation: the attribute's
// path and its new value (absent or null removes the attribute).
type isOperation struct {
	AttributePath  string
	AttributeValue json.RawMessage
}

// isOperationsIn reads and checks the Operations of an update: 1 to 100 of
// them, each with a path.
func isOperationsIn(r *jsonRequest) ([]isOperation, *apiError) {
	var in struct{ Operations []isOperation }
	if e := r.decode(&in); e != nil {
		return nil, e
	}
	if len(in.Operations) < 1 || len(in.Operations) > 100 {
		return nil, isValidation("1 validation error detected: Value at 'operations' failed to satisfy constraint: Member must have length between 1 and 100")
	}
	return in.Operations, nil
}

// stringValue reads an operation's value as a string; nil when removed.
func (op isOperation) stringValue() (*string, *apiError) {
	if len(op.AttributeValue) == 0 || string(op.AttributeValue) == "null" {
		return nil, nil
	}
	var v string
	if json.Unmarshal(op.AttributeValue, &v) != nil {
		return nil, isValidation("The value of " + op.AttributePath + " must be a string")
	}
	return &v, nil
}

// isRequiredUserAttributes are the user attributes (lower case) an update
// may change but not remove.
var isRequiredUserAttributes = map[string]bool{"username": true, "displayname": true, "name.givenname": true, "name.familyname": true}

// isUpdateUser applies the operations to a copy of the user and stores it
// only when every one is valid: an update is all or nothing.
func (s *Server) isUpdateUser(c isCall) (any, *apiError) {
	ops, e := isOperationsIn(c.r)
	if e != nil {
		return nil, e
	}
	old := c.ic.Users[c.in.UserId]
	if old == nil {
		return nil, isNotFound("USER", c.in.UserId)
	}
	u := *old
	for _, op := range ops {
		path := strings.ToLower(op.AttributePath)
		if path == "emails" {
			var emails []struct{ Value string }
			if len(op.AttributeValue) > 0 && string(op.AttributeValue) != "null" && json.Unmarshal(op.AttributeValue, &emails) != nil {
				return nil, isValidation("The value of emails must be a list of e-mail objects")
			}
			if len(emails) > 1 {
				return nil, isValidation("1 validation error detected: Value at 'emails' failed to satisfy constraint: Member must have length less than or equal to 1")
			}
			u.Email = ""
			if len(emails) == 1 {
				u.Email = emails[0].Value
			}
			continue
		}
		v, e := op.stringValue()
		if e != nil {
			return nil, e
		}
		if v == nil && isRequiredUserAttributes[path] {
			return nil, isValidation("The attribute " + op.AttributePath + " is required and cannot be removed")
		}
		value := ""
		if v != nil {
			value = *v
			if e := checkText(op.AttributePath, v, 1024); e != nil {
				return nil, e
			}
		}
		switch path {
		case "username":
			if !isNameRE.MatchString(value) || utf8.RuneCountInString(value) > 128 {
				return nil, isValidation("1 validation error detected: Value at 'userName' failed to satisfy constraint: Member must have length between 1 and 128 and hold no spaces")
			}
			for _, other := range c.ic.Users {
				if other.ID != u.ID && strings.EqualFold(other.UserName, value) {
					return nil, isConflict("Duplicate UserName")
				}
			}
			u.UserName = value
		case "displayname":
			u.DisplayName = value
		case "name.givenname":
			u.GivenName = value
		case "name.familyname":
			u.FamilyName = value
		case "title":
			u.Title = value
		default:
			return nil, isValidation("awsfake does not update the attribute " + op.AttributePath + " (it updates userName, displayName, name.givenName, name.familyName, title and emails)")
		}
	}
	c.ic.Users[u.ID] = &u
	return map[string]any{}, nil
}

// isUpdateGroup changes a group's displayName (unique) or description.
func (s *Server) isUpdateGroup(c isCall) (any, *apiError) {
	ops, e := isOperationsIn(c.r)
	if e != nil {
		return nil, e
	}
	old := c.ic.Groups[c.in.GroupId]
	if old == nil {
		return nil, isNotFound("GROUP", c.in.GroupId)
	}
	g := *old
	for _, op := range ops {
		v, e := op.stringValue()
		if e != nil {
			return nil, e
		}
		if e := checkText(op.AttributePath, v, 1024); e != nil {
			return nil, e
		}
		switch strings.ToLower(op.AttributePath) {
		case "displayname":
			if v == nil {
				return nil, isValidation("The attribute displayName is required and cannot be removed")
			}
			for _, other := range c.ic.Groups {
				if other.ID != g.ID && strings.EqualFold(other.DisplayName, *v) {
					return nil, isConflict("Duplicate GroupDisplayName")
				}
			}
			g.DisplayName = *v
		case "description":
			g.Description = ""
			if v != nil {
				g.Description = *v
			}
		default:
			return nil, isValidation("awsfake does not update the attribute " + op.AttributePath + " (it updates displayName and description)")
		}
	}
	g.Members = old.Members
	c.ic.Groups[g.ID] = &g
	return map[string]any{}, nil
}
