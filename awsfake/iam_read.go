package awsfake

import (
	"encoding/xml"
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

// iamReadAction serves the per-entity read actions; ok is false for an
// action it does not know. The caller holds s.mu.
func (s *Server) iamReadAction(a *Account, r *request) (res any, apiErr *apiError, ok bool) {
	prefix := r.get("PathPrefix")
	switch r.action {
	case "ListUsers":
		var items []xmlUser
		for _, n := range sortedKeys(a.IAM.Users) {
			items = append(items, s.xmlUser(a.IAM.Users[n]))
		}
		res, apiErr = paged(r, toAny(withPrefix(items, prefix, func(x xmlUser) string { return x.Path })), "Users")
	case "ListGroups":
		var items []xmlGroup
		for _, n := range sortedKeys(a.IAM.Groups) {
			items = append(items, xmlGroupOf(a.IAM.Groups[n]))
		}
		res, apiErr = paged(r, toAny(withPrefix(items, prefix, func(x xmlGroup) string { return x.Path })), "Groups")
	case "ListRoles":
		var items []xmlRole
		for _, n := range sortedKeys(a.IAM.Roles) {
			ro := a.IAM.Roles[n]
			items = append(items, xmlRole{Path: ro.Path, RoleName: ro.Name, RoleID: ro.ID, Arn: ro.ARN, CreateDate: awsTime(ro.CreatedAt),
				AssumeRolePolicyDocument: encodeDocument(ro.AssumeRolePolicy), Description: ro.Description, MaxSessionDuration: ro.MaxSessionDuration,
				PermissionsBoundary: boundary(ro.PermissionsBoundary)})
		}
		res, apiErr = paged(r, toAny(withPrefix(items, prefix, func(x xmlRole) string { return x.Path })), "Roles")
	case "ListPolicies":
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
		res, apiErr = paged(r, toAny(withPrefix(items, prefix, func(x xmlPolicy) string { return x.Path })), "Policies")
	case "GetUser":
		var u *User
		if u, apiErr = userOf(a, r); apiErr == nil {
			x := s.xmlUser(u)
			x.Tags = tags(u.Tags)
			res = fields{field("User", x)}
		}
	case "GetGroup":
		var g *Group
		if g, apiErr = groupOf(a, r); apiErr == nil {
			var members []xmlUser
			for _, m := range g.Members {
				members = append(members, s.xmlUser(a.IAM.Users[m]))
			}
			var pr *pagedResult
			if pr, apiErr = paged(r, toAny(members), "Users"); apiErr == nil {
				pr.Extra = field("Group", xmlGroupOf(g))
				res = pr
			}
		}
	case "ListGroupsForUser":
		var u *User
		if u, apiErr = userOf(a, r); apiErr == nil {
			var items []xmlGroup
			for _, g := range u.Groups {
				items = append(items, xmlGroupOf(a.IAM.Groups[g]))
			}
			res, apiErr = paged(r, toAny(items), "Groups")
		}
	case "ListAttachedUserPolicies", "ListUserPolicies", "GetUserPolicy", "ListUserTags", "GetLoginProfile", "ListMFADevices":
		var u *User
		if u, apiErr = userOf(a, r); apiErr == nil {
			res, apiErr = s.userDetailAction(u, r)
		}
	case "ListAttachedGroupPolicies", "ListGroupPolicies", "GetGroupPolicy":
		var g *Group
		if g, apiErr = groupOf(a, r); apiErr == nil {
			res, apiErr = principalPolicies(r, "Group", "GroupName", g.Name, g.AttachedPolicies, g.InlinePolicies)
		}
	case "ListAttachedRolePolicies", "ListRolePolicies", "GetRolePolicy":
		var ro *Role
		if ro, apiErr = roleOf(a, r); apiErr == nil {
			res, apiErr = principalPolicies(r, "Role", "RoleName", ro.Name, ro.AttachedPolicies, ro.InlinePolicies)
		}
	case "GetPolicy":
		var p *ManagedPolicy
		if p, apiErr = s.policyOf(a, r.get("PolicyArn")); apiErr == nil {
			attach, bound := policyUsage(a)
			res = fields{field("Policy", policyXML(p, attach, bound))}
		}
	case "GetPolicyVersion":
		var p *ManagedPolicy
		if p, apiErr = s.policyOf(a, r.get("PolicyArn")); apiErr == nil {
			id := r.get("VersionId")
			apiErr = errNoSuchEntity("Policy " + p.ARN + " version " + id + " does not exist or is not attachable.")
			for _, v := range p.Versions {
				if v.ID == id {
					apiErr = nil
					res = fields{field("PolicyVersion", xmlPolicyVersion{Document: encodeDocument(v.Document), VersionID: v.ID,
						IsDefaultVersion: v.ID == p.DefaultVersionID, CreateDate: awsTime(v.CreatedAt)})}
				}
			}
		}
	default:
		return nil, nil, false
	}
	return res, apiErr, true
}

// principalPolicies serves ListAttached*Policies, List*Policies and
// Get*Policy for a user, group or role.
func principalPolicies(r *request, kind, nameKey, name string, attached []string, inline map[string]string) (any, *apiError) {
	switch {
	case strings.HasPrefix(r.action, "ListAttached"):
		return paged(r, toAny(xmlAttachedOf(attached)), "AttachedPolicies")
	case strings.HasPrefix(r.action, "List"):
		return paged(r, toAny(sortedKeys(inline)), "PolicyNames")
	}
	policy := r.get("PolicyName")
	doc, ok := inline[policy]
	if !ok {
		return nil, errNoSuchEntity("The " + strings.ToLower(kind) + " policy with name " + policy + " cannot be found.")
	}
	return fields{field(nameKey, name), field("PolicyName", policy), field("PolicyDocument", encodeDocument(doc))}, nil
}

type xmlMFADevice struct {
	UserName     string `xml:"UserName"`
	SerialNumber string `xml:"SerialNumber"`
	EnableDate   string `xml:"EnableDate"`
}

// userDetailAction serves the per-user read actions beyond policies.
func (s *Server) userDetailAction(u *User, r *request) (any, *apiError) {
	switch r.action {
	case "ListUserTags":
		return paged(r, toAny(tags(u.Tags)), "Tags")
	case "GetLoginProfile":
		if u.LoginProfile == nil {
			return nil, errNoSuchEntity("Login Profile for User " + u.Name + " cannot be found.")
		}
		return fields{field("LoginProfile", struct {
			UserName              string `xml:"UserName"`
			CreateDate            string `xml:"CreateDate"`
			PasswordResetRequired bool   `xml:"PasswordResetRequired"`
		}{u.Name, awsTime(u.LoginProfile.CreatedAt), u.LoginProfile.PasswordResetRequired})}, nil
	case "ListMFADevices":
		var items []xmlMFADevice
		for _, m := range u.MFADevices {
			items = append(items, xmlMFADevice{UserName: u.Name, SerialNumber: m.SerialNumber, EnableDate: awsTime(m.EnabledAt)})
		}
		return paged(r, toAny(items), "MFADevices")
	}
	return principalPolicies(r, "User", "UserName", u.Name, u.AttachedPolicies, u.InlinePolicies)
}
