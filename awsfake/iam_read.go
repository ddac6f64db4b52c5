package awsfake

import (
	"encoding/xml"
	"slices"
	"strings"
)

// This file holds IAM's per-entity read actions: the calls a per-entity
// connector makes, and the ones provisioning plans read live.

type xmlUser struct {
	Path                string       `xml:"Path"`
	UserName            string       `xml:"UserName"`
	UserID              string       `xml:"UserId"`
	Arn                 string       `xml:"Arn"`
	CreateDate          string       `xml:"CreateDate"`
	PasswordLastUsed    string       `xml:"PasswordLastUsed,omitempty"`
	PermissionsBoundary *xmlBoundary `xml:"PermissionsBoundary,omitempty"`
	Tags                []xmlTag     `xml:"Tags>member,omitempty"`
}

type xmlGroup struct {
	Path       string `xml:"Path"`
	GroupName  string `xml:"GroupName"`
	GroupID    string `xml:"GroupId"`
	Arn        string `xml:"Arn"`
	CreateDate string `xml:"CreateDate"`
}

type xmlRole struct {
	Path                     string       `xml:"Path"`
	RoleName                 string       `xml:"RoleName"`
	RoleID                   string       `xml:"RoleId"`
	Arn                      string       `xml:"Arn"`
	CreateDate               string       `xml:"CreateDate"`
	AssumeRolePolicyDocument string       `xml:"AssumeRolePolicyDocument"`
	Description              string       `xml:"Description,omitempty"`
	MaxSessionDuration       int32        `xml:"MaxSessionDuration"`
	PermissionsBoundary      *xmlBoundary `xml:"PermissionsBoundary,omitempty"`
	// Tags and RoleLastUsed are in GetRole's and CreateRole's answers,
	// not in ListRoles'.
	Tags         []xmlTag         `xml:"Tags>member,omitempty"`
	RoleLastUsed *xmlRoleLastUsed `xml:"RoleLastUsed,omitempty"`
}

type xmlPolicy struct {
	PolicyName                    string `xml:"PolicyName"`
	PolicyID                      string `xml:"PolicyId"`
	Arn                           string `xml:"Arn"`
	Path                          string `xml:"Path"`
	DefaultVersionID              string `xml:"DefaultVersionId"`
	AttachmentCount               int    `xml:"AttachmentCount"`
	PermissionsBoundaryUsageCount int    `xml:"PermissionsBoundaryUsageCount"`
	IsAttachable                  bool   `xml:"IsAttachable"`
	Description                   string `xml:"Description,omitempty"`
	CreateDate                    string `xml:"CreateDate"`
	UpdateDate                    string `xml:"UpdateDate"`
	// Tags are in GetPolicy's and CreatePolicy's answers, not in listings.
	Tags []xmlTag `xml:"Tags>member,omitempty"`
}

// paged slices items by the request's MaxItems and Marker.
func paged(r *request, items []any, elem string) (*pagedResult, *apiError) {
	start, size, apiErr := r.page()
	if apiErr != nil {
		return nil, apiErr
	}
	end, truncated, marker := pageEnd(start, size, len(items))
	res := &pagedResult{Elem: elem, IsTruncated: truncated, Marker: marker}
	for _, it := range items[min(start, len(items)):end] {
		res.Items = append(res.Items, it)
	}
	return res, nil
}

// pagedResult marshals as <Elem><member>…</member></Elem><IsTruncated>…
type pagedResult struct {
	Elem        string
	Items       []any
	Extra       any
	IsTruncated bool
	Marker      string
}

func withPrefix[T any](items []T, prefix string, path func(T) string) []T {
	if prefix == "" {
		return items
	}
	var out []T
	for _, it := range items {
		if strings.HasPrefix(path(it), prefix) {
			out = append(out, it)
		}
	}
	return out
}

func (s *Server) xmlUser(u *User) xmlUser {
	x := xmlUser{Path: u.Path, UserName: u.Name, UserID: u.ID, Arn: u.ARN, CreateDate: awsTime(u.CreatedAt), PermissionsBoundary: boundary(u.PermissionsBoundary)}
	if u.PasswordLastUsed != nil {
		x.PasswordLastUsed = awsTime(*u.PasswordLastUsed)
	}
	return x
}

func xmlGroupOf(g *Group) xmlGroup {
	return xmlGroup{Path: g.Path, GroupName: g.Name, GroupID: g.ID, Arn: g.ARN, CreateDate: awsTime(g.CreatedAt)}
}

// policyXML is a managed policy as IAM lists it, with its attachment and
// boundary counts from policyUsage.
func policyXML(p *ManagedPolicy, attach, bound map[string]int) xmlPolicy {
	return xmlPolicy{PolicyName: p.Name, PolicyID: p.ID, Arn: p.ARN, Path: p.Path, DefaultVersionID: p.DefaultVersionID,
		AttachmentCount: attach[p.ARN], PermissionsBoundaryUsageCount: bound[p.ARN], IsAttachable: p.IsAttachable,
		Description: p.Description, CreateDate: awsTime(p.CreatedAt), UpdateDate: awsTime(p.UpdatedAt)}
}

// xmlRoleOf is a role as ListRoles lists it.
func xmlRoleOf(ro *Role) xmlRole {
	return xmlRole{Path: ro.Path, RoleName: ro.Name, RoleID: ro.ID, Arn: ro.ARN, CreateDate: awsTime(ro.CreatedAt),
		AssumeRolePolicyDocument: encodeDocument(ro.AssumeRolePolicy), Description: ro.Description, MaxSessionDuration: ro.MaxSessionDuration,
		PermissionsBoundary: boundary(ro.PermissionsBoundary)}
}

func groupOf(a *Account, r *request) (*Group, *apiError) {
	name := r.get("GroupName")
	if g := a.IAM.Groups[name]; g != nil {
		return g, nil
	}
	return nil, errNoSuchEntity("The group with name " + name + " cannot be found.")
}

func roleOf(a *Account, r *request) (*Role, *apiError) {
	name := r.get("RoleName")
	if ro := a.IAM.Roles[name]; ro != nil {
		return ro, nil
	}
	return nil, errNoSuchEntity("The role with name " + name + " cannot be found.")
}

func (s *Server) policyOf(a *Account, arn string) (*ManagedPolicy, *apiError) {
	if p := a.IAM.Policies[arn]; p != nil {
		return p, nil
	}
	if p := s.awsManaged[arn]; p != nil {
		return p, nil
	}
	return nil, errNoSuchEntity("Policy " + arn + " does not exist or is not attachable.")
}

func xmlAttachedOf(arns []string) []xmlAttached {
	out := make([]xmlAttached, 0, len(arns))
	for _, arn := range arns {
		out = append(out, xmlAttached{PolicyName: policyName(arn), PolicyArn: arn})
	}
	return out
}

// MarshalXML writes <Elem><member>…</member>…</Elem>, the extra fields, then
// IsTruncated and Marker, as IAM's list answers do.
func (p *pagedResult) MarshalXML(e *xml.Encoder, _ xml.StartElement) error {
	root := xml.StartElement{Name: xml.Name{Local: "Result"}}
	if err := e.EncodeToken(root); err != nil {
		return err
	}
	list := struct {
		XMLName xml.Name
		Members []any `xml:"member"`
	}{XMLName: xml.Name{Local: p.Elem}, Members: p.Items}
	if err := e.Encode(list); err != nil {
		return err
	}
	if p.Extra != nil {
		if err := e.Encode(p.Extra); err != nil {
			return err
		}
	}
	if err := e.EncodeElement(p.IsTruncated, xml.StartElement{Name: xml.Name{Local: "IsTruncated"}}); err != nil {
		return err
	}
	if p.Marker != "" {
		if err := e.EncodeElement(p.Marker, xml.StartElement{Name: xml.Name{Local: "Marker"}}); err != nil {
			return err
		}
	}
	return e.EncodeToken(root.End())
}

// element wraps a value in one named element.
type element struct {
	XMLName xml.Name
	Value   any
}

func (el element) MarshalXML(e *xml.Encoder, _ xml.StartElement) error {
	return e.EncodeElement(el.Value, xml.StartElement{Name: el.XMLName})
}

// fields marshals as a sequence of named elements inside <Result>.
type fields []element

func (f fields) MarshalXML(e *xml.Encoder, _ xml.StartElement) error {
	root := xml.StartElement{Name: xml.Name{Local: "Result"}}
	if err := e.EncodeToken(root); err != nil {
		return err
	}
	for _, el := range f {
		if err := e.Encode(el); err != nil {
			return err
		}
	}
	return e.EncodeToken(root.End())
}

func field(name string, v any) element { return element{XMLName: xml.Name{Local: name}, Value: v} }

func toAny[T any](items []T) []any {
	out := make([]any, len(items))
	for i, it := range items {
		out[i] = it
	}
	return out
}

// iamReadHandlers serve the per-entity read actions.
var iamReadHandlers = map[string]iamHandler{
	"ListUsers":                 (*Server).listUsers,
	"ListGroups":                (*Server).listGroups,
	"ListRoles":                 (*Server).listRoles,
	"ListPolicies":              (*Server).listPolicies,
	"GetUser":                   (*Server).getUser,
	"GetGroup":                  (*Server).getGroup,
	"ListGroupsForUser":         (*Server).listGroupsForUser,
	"GetLoginProfile":           (*Server).getLoginProfile,
	"ListMFADevices":            (*Server).listMFADevices,
	"ListAttachedUserPolicies":  listAttachedPolicies("User"),
	"ListAttachedGroupPolicies": listAttachedPolicies("Group"),
	"ListAttachedRolePolicies":  listAttachedPolicies("Role"),
	"ListUserPolicies":          listInlinePolicies("User"),
	"ListGroupPolicies":         listInlinePolicies("Group"),
	"ListRolePolicies":          listInlinePolicies("Role"),
	"GetUserPolicy":             getInlinePolicy("User"),
	"GetGroupPolicy":            getInlinePolicy("Group"),
	"GetRolePolicy":             getInlinePolicy("Role"),
	"GetPolicy":                 (*Server).getPolicy,
	"GetPolicyVersion":          (*Server).getPolicyVersion,
	"ListPolicyVersions":        (*Server).listPolicyVersions,
	"ListEntitiesForPolicy":     (*Server).listEntitiesForPolicy,
}

func (s *Server) listUsers(a *Account, r *request) (any, *apiError) {
	var items []xmlUser
	for _, n := range sortedKeys(a.IAM.Users) {
		items = append(items, s.xmlUser(a.IAM.Users[n]))
	}
	return paged(r, toAny(withPrefix(items, r.get("PathPrefix"), func(x xmlUser) string { return x.Path })), "Users")
}

func (s *Server) listGroups(a *Account, r *request) (any, *apiError) {
	var items []xmlGroup
	for _, n := range sortedKeys(a.IAM.Groups) {
		items = append(items, xmlGroupOf(a.IAM.Groups[n]))
	}
	return paged(r, toAny(withPrefix(items, r.get("PathPrefix"), func(x xmlGroup) string { return x.Path })), "Groups")
}

func (s *Server) listRoles(a *Account, r *request) (any, *apiError) {
	var items []xmlRole
	for _, n := range sortedKeys(a.IAM.Roles) {
		items = append(items, xmlRoleOf(a.IAM.Roles[n]))
	}
	return paged(r, toAny(withPrefix(items, r.get("PathPrefix"), func(x xmlRole) string { return x.Path })), "Roles")
}

func (s *Server) listPolicies(a *Account, r *request) (any, *apiError) {
	attach, bound := policyUsage(a)
	var items []xmlPolicy
	scope := r.get("Scope")
	if scope == "" || scope == "All" || scope == "AWS" {
		for _, arn := range sortedKeys(s.awsManaged) {
			items = append(items, policyXML(s.awsManaged[arn], attach, bound))
		}
	}
	if scope == "" || scope == "All" || scope == "Local" {
		for _, arn := range sortedKeys(a.IAM.Policies) {
			items = append(items, policyXML(a.IAM.Policies[arn], attach, bound))
		}
	}
	if r.get("OnlyAttached") == "true" {
		var kept []xmlPolicy
		for _, p := range items {
			if attach[p.Arn] > 0 {
				kept = append(kept, p)
			}
		}
		items = kept
	}
	return paged(r, toAny(withPrefix(items, r.get("PathPrefix"), func(x xmlPolicy) string { return x.Path })), "Policies")
}

func (s *Server) getUser(a *Account, r *request) (any, *apiError) {
	u, e := userOf(a, r)
	if e != nil {
		return nil, e
	}
	x := s.xmlUser(u)
	x.Tags = tags(u.Tags)
	return fields{field("User", x)}, nil
}

func (s *Server) getGroup(a *Account, r *request) (any, *apiError) {
	g, e := groupOf(a, r)
	if e != nil {
		return nil, e
	}
	var members []xmlUser
	for _, m := range g.Members {
		members = append(members, s.xmlUser(a.IAM.Users[m]))
	}
	pr, e := paged(r, toAny(members), "Users")
	if e != nil {
		return nil, e
	}
	pr.Extra = field("Group", xmlGroupOf(g))
	return pr, nil
}

func (s *Server) listGroupsForUser(a *Account, r *request) (any, *apiError) {
	u, e := userOf(a, r)
	if e != nil {
		return nil, e
	}
	var items []xmlGroup
	for _, g := range u.Groups {
		items = append(items, xmlGroupOf(a.IAM.Groups[g]))
	}
	return paged(r, toAny(items), "Groups")
}

func (s *Server) getLoginProfile(a *Account, r *request) (any, *apiError) {
	u, e := userOf(a, r)
	if e != nil {
		return nil, e
	}
	if u.LoginProfile == nil {
		return nil, errNoSuchEntity("Login Profile for User " + u.Name + " cannot be found.")
	}
	return fields{field("LoginProfile", xmlLoginProfile{u.Name, awsTime(u.LoginProfile.CreatedAt), u.LoginProfile.PasswordResetRequired})}, nil
}

// xmlLoginProfile is a login profile as IAM returns it.
type xmlLoginProfile struct {
	UserName              string `xml:"UserName"`
	CreateDate            string `xml:"CreateDate"`
	PasswordResetRequired bool   `xml:"PasswordResetRequired"`
}

type xmlMFADevice struct {
	UserName     string `xml:"UserName"`
	SerialNumber string `xml:"SerialNumber"`
	EnableDate   string `xml:"EnableDate"`
}

func (s *Server) listMFADevices(a *Account, r *request) (any, *apiError) {
	u, e := userOf(a, r)
	if e != nil {
		return nil, e
	}
	var items []xmlMFADevice
	for _, m := range u.MFADevices {
		items = append(items, xmlMFADevice{UserName: u.Name, SerialNumber: m.SerialNumber, EnableDate: awsTime(m.EnabledAt)})
	}
	return paged(r, toAny(items), "MFADevices")
}

// listAttachedPolicies serves ListAttached{User,Group,Role}Policies.
func listAttachedPolicies(kind string) iamHandler {
	return func(s *Server, a *Account, r *request) (any, *apiError) {
		p, e := principalOf(a, r, kind)
		if e != nil {
			return nil, e
		}
		return paged(r, toAny(xmlAttachedOf(*p.attached)), "AttachedPolicies")
	}
}

// listInlinePolicies serves List{User,Group,Role}Policies.
func listInlinePolicies(kind string) iamHandler {
	return func(s *Server, a *Account, r *request) (any, *apiError) {
		p, e := principalOf(a, r, kind)
		if e != nil {
			return nil, e
		}
		return paged(r, toAny(sortedKeys(p.inline)), "PolicyNames")
	}
}

// getInlinePolicy serves Get{User,Group,Role}Policy.
func getInlinePolicy(kind string) iamHandler {
	return func(s *Server, a *Account, r *request) (any, *apiError) {
		p, e := principalOf(a, r, kind)
		if e != nil {
			return nil, e
		}
		policy := r.get("PolicyName")
		doc, ok := p.inline[policy]
		if !ok {
			return nil, errNoSuchEntity("The " + strings.ToLower(kind) + " policy with name " + policy + " cannot be found.")
		}
		return fields{field(kind+"Name", p.name), field("PolicyName", policy), field("PolicyDocument", encodeDocument(doc))}, nil
	}
}

func (s *Server) getPolicy(a *Account, r *request) (any, *apiError) {
	p, e := s.policyOf(a, r.get("PolicyArn"))
	if e != nil {
		return nil, e
	}
	attach, bound := policyUsage(a)
	x := policyXML(p, attach, bound)
	x.Tags = tags(p.Tags)
	return fields{field("Policy", x)}, nil
}

func (s *Server) getPolicyVersion(a *Account, r *request) (any, *apiError) {
	p, e := s.policyOf(a, r.get("PolicyArn"))
	if e != nil {
		return nil, e
	}
	v, e := versionOf(p, r.get("VersionId"))
	if e != nil {
		return nil, e
	}
	return fields{field("PolicyVersion", xmlPolicyVersion{Document: encodeDocument(v.Document), VersionID: v.ID,
		IsDefaultVersion: v.ID == p.DefaultVersionID, CreateDate: awsTime(v.CreatedAt)})}, nil
}

func (s *Server) listPolicyVersions(a *Account, r *request) (any, *apiError) {
	p, e := s.policyOf(a, r.get("PolicyArn"))
	if e != nil {
		return nil, e
	}
	var items []xmlPolicyVersion
	for _, v := range p.Versions {
		items = append(items, xmlPolicyVersion{VersionID: v.ID, IsDefaultVersion: v.ID == p.DefaultVersionID, CreateDate: awsTime(v.CreatedAt)})
	}
	return paged(r, toAny(items), "Versions")
}

// versionOf finds one version of a managed policy.
func versionOf(p *ManagedPolicy, id string) (*PolicyVersion, *apiError) {
	for _, v := range p.Versions {
		if v.ID == id {
			return v, nil
		}
	}
	return nil, errNoSuchEntity("Policy " + p.ARN + " version " + id + " does not exist or is not attachable.")
}

type (
	xmlPolicyGroup struct {
		GroupName string `xml:"GroupName"`
		GroupID   string `xml:"GroupId"`
	}
	xmlPolicyUser struct {
		UserName string `xml:"UserName"`
		UserID   string `xml:"UserId"`
	}
	xmlPolicyRole struct {
		RoleName string `xml:"RoleName"`
		RoleID   string `xml:"RoleId"`
	}
	listEntitiesForPolicyResult struct {
		PolicyGroups []xmlPolicyGroup `xml:"PolicyGroups>member"`
		PolicyUsers  []xmlPolicyUser  `xml:"PolicyUsers>member"`
		PolicyRoles  []xmlPolicyRole  `xml:"PolicyRoles>member"`
		IsTruncated  bool             `xml:"IsTruncated"`
		Marker       string           `xml:"Marker,omitempty"`
	}
)

// listEntitiesForPolicy lists the groups, users and roles a managed policy
// is attached to (PolicyUsageFilter PermissionsPolicy) or is the
// permissions boundary of (PermissionsBoundary), paging over the three
// lists together, groups first.
func (s *Server) listEntitiesForPolicy(a *Account, r *request) (any, *apiError) {
	p, e := s.policyOf(a, r.get("PolicyArn"))
	if e != nil {
		return nil, e
	}
	start, size, e := r.page()
	if e != nil {
		return nil, e
	}
	filter, usage, prefix := r.get("EntityFilter"), r.get("PolicyUsageFilter"), r.get("PathPrefix")
	switch filter {
	case "", "User", "Role", "Group", "LocalManagedPolicy", "AWSManagedPolicy":
	default:
		return nil, errValidation("1 validation error detected: Value '" + filter + "' at 'entityFilter' failed to satisfy constraint: Member must satisfy enum value set: [User, Role, Group, LocalManagedPolicy, AWSManagedPolicy]")
	}
	switch usage {
	case "", "PermissionsPolicy", "PermissionsBoundary":
	default:
		return nil, errValidation("1 validation error detected: Value '" + usage + "' at 'policyUsageFilter' failed to satisfy constraint: Member must satisfy enum value set: [PermissionsPolicy, PermissionsBoundary]")
	}
	uses := func(attached []string, boundaryARN string) bool {
		return (usage != "PermissionsBoundary" && slices.Contains(attached, p.ARN)) || (usage != "PermissionsPolicy" && boundaryARN == p.ARN)
	}
	want := func(kind string) bool { return filter == "" || filter == kind }
	var items []func(*listEntitiesForPolicyResult)
	if want("Group") {
		for _, n := range sortedKeys(a.IAM.Groups) {
			if g := a.IAM.Groups[n]; uses(g.AttachedPolicies, "") && strings.HasPrefix(g.Path, prefix) {
				items = append(items, func(res *listEntitiesForPolicyResult) {
					res.PolicyGroups = append(res.PolicyGroups, xmlPolicyGroup{g.Name, g.ID})
				})
			}
		}
	}
	if want("User") {
		for _, n := range sortedKeys(a.IAM.Users) {
			if u := a.IAM.Users[n]; uses(u.AttachedPolicies, u.PermissionsBoundary) && strings.HasPrefix(u.Path, prefix) {
				items = append(items, func(res *listEntitiesForPolicyResult) {
					res.PolicyUsers = append(res.PolicyUsers, xmlPolicyUser{u.Name, u.ID})
				})
			}
		}
	}
	if want("Role") {
		for _, n := range sortedKeys(a.IAM.Roles) {
			if ro := a.IAM.Roles[n]; uses(ro.AttachedPolicies, ro.PermissionsBoundary) && strings.HasPrefix(ro.Path, prefix) {
				items = append(items, func(res *listEntitiesForPolicyResult) {
					res.PolicyRoles = append(res.PolicyRoles, xmlPolicyRole{ro.Name, ro.ID})
				})
			}
		}
	}
	end, truncated, marker := pageEnd(start, size, len(items))
	res := &listEntitiesForPolicyResult{IsTruncated: truncated, Marker: marker}
	for _, add := range items[min(start, len(items)):end] {
		add(res)
	}
	return res, nil
}
