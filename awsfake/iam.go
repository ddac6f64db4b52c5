package awsfake

import (
	"net/http"
	"sort"
	"strings"
)

// iamHandler serves one IAM action in the caller's account, a; the caller
// holds s.mu. It returns the action's result element or IAM's error.
type iamHandler func(s *Server, a *Account, r *request) (any, *apiError)

// iamHandlers is IAM's action table: one handler per action, as pstest has
// a method per RPC. Each file keeps a table of its own actions
// (iamWriteHandlers in iam_write.go, …); a new file adds its table to this
// list. An action in two tables panics when the package loads.
var iamHandlers = mergeHandlers(iamReportHandlers, iamReadHandlers, iamWriteHandlers, iamPolicyHandlers, iamRoleHandlers,
	iamInstanceProfileHandlers, iamTagHandlers, iamMFAHandlers, iamUpdateHandlers, iamCredentialHandlers, iamLastAccessedHandlers)

// iamReportHandlers serve the whole-account reads a sync makes.
var iamReportHandlers = map[string]iamHandler{
	"GetAccountAuthorizationDetails": (*Server).getAccountAuthorizationDetails,
	"GenerateCredentialReport":       (*Server).generateCredentialReport,
	"GetCredentialReport":            (*Server).getCredentialReport,
	"ListAccessKeys":                 (*Server).listAccessKeys,
	"GetAccessKeyLastUsed":           (*Server).getAccessKeyLastUsed,
}

// mergeHandlers joins action tables; an action in two tables is a bug.
func mergeHandlers(tables ...map[string]iamHandler) map[string]iamHandler {
	out := map[string]iamHandler{}
	for _, t := range tables {
		for action, h := range t {
			if _, dup := out[action]; dup {
				panic("awsfake: IAM action " + action + " has two handlers")
			}
			out[action] = h
		}
	}
	return out
}

// iamAction serves one IAM query-protocol action for the caller's account.
func (s *Server) iamAction(r *request) (any, *apiError) {
	h, ok := iamHandlers[r.action]
	if !ok {
		return nil, &apiError{status: http.StatusBadRequest, code: "InvalidAction", message: "Could not find operation " + r.action + " for version 2010-05-08"}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return h(s, s.accounts[r.caller.account], r)
}

type xmlTag struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

type xmlAttached struct {
	PolicyName string `xml:"PolicyName"`
	PolicyArn  string `xml:"PolicyArn"`
}

type xmlInline struct {
	PolicyName     string `xml:"PolicyName"`
	PolicyDocument string `xml:"PolicyDocument"`
}

type xmlBoundary struct {
	PermissionsBoundaryType string `xml:"PermissionsBoundaryType"`
	PermissionsBoundaryArn  string `xml:"PermissionsBoundaryArn"`
}

type xmlUserDetail struct {
	Path                    string        `xml:"Path"`
	UserName                string        `xml:"UserName"`
	UserID                  string        `xml:"UserId"`
	Arn                     string        `xml:"Arn"`
	CreateDate              string        `xml:"CreateDate"`
	UserPolicyList          []xmlInline   `xml:"UserPolicyList>member"`
	GroupList               []string      `xml:"GroupList>member"`
	AttachedManagedPolicies []xmlAttached `xml:"AttachedManagedPolicies>member"`
	PermissionsBoundary     *xmlBoundary  `xml:"PermissionsBoundary,omitempty"`
	Tags                    []xmlTag      `xml:"Tags>member"`
}

type xmlGroupDetail struct {
	Path                    string        `xml:"Path"`
	GroupName               string        `xml:"GroupName"`
	GroupID                 string        `xml:"GroupId"`
	Arn                     string        `xml:"Arn"`
	CreateDate              string        `xml:"CreateDate"`
	GroupPolicyList         []xmlInline   `xml:"GroupPolicyList>member"`
	AttachedManagedPolicies []xmlAttached `xml:"AttachedManagedPolicies>member"`
}

type xmlRoleLastUsed struct {
	LastUsedDate string `xml:"LastUsedDate,omitempty"`
	Region       string `xml:"Region,omitempty"`
}

type xmlRoleDetail struct {
	Path                     string               `xml:"Path"`
	RoleName                 string               `xml:"RoleName"`
	RoleID                   string               `xml:"RoleId"`
	Arn                      string               `xml:"Arn"`
	CreateDate               string               `xml:"CreateDate"`
	AssumeRolePolicyDocument string               `xml:"AssumeRolePolicyDocument"`
	InstanceProfileList      []xmlInstanceProfile `xml:"InstanceProfileList>member"`
	RolePolicyList           []xmlInline          `xml:"RolePolicyList>member"`
	AttachedManagedPolicies  []xmlAttached        `xml:"AttachedManagedPolicies>member"`
	PermissionsBoundary      *xmlBoundary         `xml:"PermissionsBoundary,omitempty"`
	Tags                     []xmlTag             `xml:"Tags>member"`
	RoleLastUsed             xmlRoleLastUsed      `xml:"RoleLastUsed"`
}

type xmlPolicyVersion struct {
	Document         string `xml:"Document,omitempty"`
	VersionID        string `xml:"VersionId"`
	IsDefaultVersion bool   `xml:"IsDefaultVersion"`
	CreateDate       string `xml:"CreateDate"`
}

// xmlPolicyDetail is a policy as GetAccountAuthorizationDetails lists it:
// the fields of ListPolicies and its versions.
type xmlPolicyDetail struct {
	xmlPolicy
	PolicyVersionList []xmlPolicyVersion `xml:"PolicyVersionList>member"`
}

type gaadResult struct {
	UserDetailList  []xmlUserDetail   `xml:"UserDetailList>member"`
	GroupDetailList []xmlGroupDetail  `xml:"GroupDetailList>member"`
	RoleDetailList  []xmlRoleDetail   `xml:"RoleDetailList>member"`
	Policies        []xmlPolicyDetail `xml:"Policies>member"`
	IsTruncated     bool              `xml:"IsTruncated"`
	Marker          string            `xml:"Marker,omitempty"`
}

func tags(ts []Tag) []xmlTag {
	out := make([]xmlTag, 0, len(ts))
	for _, t := range ts {
		out = append(out, xmlTag(t))
	}
	return out
}

func inlines(m map[string]string) []xmlInline {
	out := make([]xmlInline, 0, len(m))
	for _, name := range sortedKeys(m) {
		out = append(out, xmlInline{PolicyName: name, PolicyDocument: encodeDocument(m[name])})
	}
	return out
}

func boundary(arn string) *xmlBoundary {
	if arn == "" {
		return nil
	}
	return &xmlBoundary{PermissionsBoundaryType: "PermissionsBoundaryPolicy", PermissionsBoundaryArn: arn}
}

// policyName is the last element of a managed policy ARN.
func policyName(arn string) string { return arn[strings.LastIndexByte(arn, '/')+1:] }

func (s *Server) attached(arns []string) []xmlAttached {
	out := make([]xmlAttached, 0, len(arns))
	for _, arn := range arns {
		out = append(out, xmlAttached{PolicyName: policyName(arn), PolicyArn: arn})
	}
	return out
}

// policyUsage counts, per policy ARN, attachments and boundary uses in a.
func policyUsage(a *Account) (attach, bound map[string]int) {
	attach, bound = map[string]int{}, map[string]int{}
	for _, u := range a.IAM.Users {
		for _, p := range u.AttachedPolicies {
			attach[p]++
		}
		if u.PermissionsBoundary != "" {
			bound[u.PermissionsBoundary]++
		}
	}
	for _, g := range a.IAM.Groups {
		for _, p := range g.AttachedPolicies {
			attach[p]++
		}
	}
	for _, r := range a.IAM.Roles {
		for _, p := range r.AttachedPolicies {
			attach[p]++
		}
		if r.PermissionsBoundary != "" {
			bound[r.PermissionsBoundary]++
		}
	}
	return attach, bound
}

// getAccountAuthorizationDetails pages users, groups, roles and policies, in
// that order, counting entities of all four lists against MaxItems.
func (s *Server) getAccountAuthorizationDetails(a *Account, r *request) (any, *apiError) {
	start, size, apiErr := r.page()
	if apiErr != nil {
		return nil, apiErr
	}
	want := map[string]bool{}
	for _, f := range r.memberList("Filter") {
		switch f {
		case "User", "Role", "Group", "LocalManagedPolicy", "AWSManagedPolicy":
			want[f] = true
		default:
			return nil, errValidation("1 validation error detected: Value '[" + f + "]' at 'filter' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [User, Role, Group, LocalManagedPolicy, AWSManagedPolicy]]")
		}
	}
	all := len(want) == 0
	attach, bound := policyUsage(a)
	var items []func(res *gaadResult)
	if all || want["User"] {
		for _, name := range sortedKeys(a.IAM.Users) {
			u := a.IAM.Users[name]
			items = append(items, func(res *gaadResult) {
				res.UserDetailList = append(res.UserDetailList, xmlUserDetail{Path: u.Path, UserName: u.Name, UserID: u.ID, Arn: u.ARN,
					CreateDate: awsTime(u.CreatedAt), UserPolicyList: inlines(u.InlinePolicies), GroupList: append([]string{}, u.Groups...),
					AttachedManagedPolicies: s.attached(u.AttachedPolicies), PermissionsBoundary: boundary(u.PermissionsBoundary), Tags: tags(u.Tags)})
			})
		}
	}
	if all || want["Group"] {
		for _, name := range sortedKeys(a.IAM.Groups) {
			g := a.IAM.Groups[name]
			items = append(items, func(res *gaadResult) {
				res.GroupDetailList = append(res.GroupDetailList, xmlGroupDetail{Path: g.Path, GroupName: g.Name, GroupID: g.ID, Arn: g.ARN,
					CreateDate: awsTime(g.CreatedAt), GroupPolicyList: inlines(g.InlinePolicies), AttachedManagedPolicies: s.attached(g.AttachedPolicies)})
			})
		}
	}
	if all || want["Role"] {
		profiles := map[string][]*InstanceProfile{} // by role name
		for _, n := range sortedKeys(a.IAM.InstanceProfiles) {
			for _, role := range a.IAM.InstanceProfiles[n].Roles {
				profiles[role] = append(profiles[role], a.IAM.InstanceProfiles[n])
			}
		}
		for _, name := range sortedKeys(a.IAM.Roles) {
			ro := a.IAM.Roles[name]
			items = append(items, func(res *gaadResult) {
				d := xmlRoleDetail{Path: ro.Path, RoleName: ro.Name, RoleID: ro.ID, Arn: ro.ARN, CreateDate: awsTime(ro.CreatedAt),
					AssumeRolePolicyDocument: encodeDocument(ro.AssumeRolePolicy), RolePolicyList: inlines(ro.InlinePolicies),
					AttachedManagedPolicies: s.attached(ro.AttachedPolicies), PermissionsBoundary: boundary(ro.PermissionsBoundary), Tags: tags(ro.Tags)}
				for _, ip := range profiles[ro.Name] {
					d.InstanceProfileList = append(d.InstanceProfileList, instanceProfileXML(a, ip))
				}
				if ro.LastUsed != nil {
					d.RoleLastUsed = xmlRoleLastUsed{LastUsedDate: awsTime(*ro.LastUsed), Region: ro.LastUsedRegion}
				}
				res.RoleDetailList = append(res.RoleDetailList, d)
			})
		}
	}
	var policies []*ManagedPolicy
	if all || want["LocalManagedPolicy"] {
		for _, arn := range sortedKeys(a.IAM.Policies) {
			policies = append(policies, a.IAM.Policies[arn])
		}
	}
	if all || want["AWSManagedPolicy"] {
		// AWS managed policies appear only where the account uses them.
		for _, arn := range sortedKeys(s.awsManaged) {
			if attach[arn] > 0 || bound[arn] > 0 {
				policies = append(policies, s.awsManaged[arn])
			}
		}
	}
	for _, p := range policies {
		items = append(items, func(res *gaadResult) {
			d := xmlPolicyDetail{xmlPolicy: policyXML(p, attach, bound)}
			for _, v := range p.Versions {
				d.PolicyVersionList = append(d.PolicyVersionList, xmlPolicyVersion{Document: encodeDocument(v.Document), VersionID: v.ID,
					IsDefaultVersion: v.ID == p.DefaultVersionID, CreateDate: awsTime(v.CreatedAt)})
			}
			res.Policies = append(res.Policies, d)
		})
	}
	// Options.IAMPageLimit may have shortened the page (r.page), as IAM
	// may: clients must follow Marker rather than count items.
	end, truncated, marker := pageEnd(start, size, len(items))
	res := &gaadResult{IsTruncated: truncated, Marker: marker}
	for _, add := range items[min(start, len(items)):end] {
		add(res)
	}
	return res, nil
}

type xmlAccessKeyMetadata struct {
	UserName    string `xml:"UserName"`
	AccessKeyID string `xml:"AccessKeyId"`
	Status      string `xml:"Status"`
	CreateDate  string `xml:"CreateDate"`
}

type listAccessKeysResult struct {
	AccessKeyMetadata []xmlAccessKeyMetadata `xml:"AccessKeyMetadata>member"`
	IsTruncated       bool                   `xml:"IsTruncated"`
	Marker            string                 `xml:"Marker,omitempty"`
}

func userOf(a *Account, r *request) (*User, *apiError) {
	name := r.get("UserName")
	if name == "" {
		name = r.caller.arn[strings.LastIndexByte(r.caller.arn, '/')+1:]
	}
	u := a.IAM.Users[name]
	if u == nil {
		return nil, errNoSuchEntity("The user with name " + name + " cannot be found.")
	}
	return u, nil
}

func (s *Server) listAccessKeys(a *Account, r *request) (any, *apiError) {
	start, size, apiErr := r.page()
	if apiErr != nil {
		return nil, apiErr
	}
	u, apiErr := userOf(a, r)
	if apiErr != nil {
		return nil, apiErr
	}
	end, truncated, marker := pageEnd(start, size, len(u.AccessKeys))
	res := &listAccessKeysResult{IsTruncated: truncated, Marker: marker}
	for _, k := range u.AccessKeys[min(start, len(u.AccessKeys)):end] {
		res.AccessKeyMetadata = append(res.AccessKeyMetadata, xmlAccessKeyMetadata{UserName: u.Name, AccessKeyID: k.ID, Status: k.Status, CreateDate: awsTime(k.CreatedAt)})
	}
	return res, nil
}

type getAccessKeyLastUsedResult struct {
	UserName          string `xml:"UserName"`
	AccessKeyLastUsed struct {
		LastUsedDate string `xml:"LastUsedDate,omitempty"`
		ServiceName  string `xml:"ServiceName"`
		Region       string `xml:"Region"`
	} `xml:"AccessKeyLastUsed"`
}

func (s *Server) getAccessKeyLastUsed(a *Account, r *request) (any, *apiError) {
	id := r.get("AccessKeyId")
	for _, name := range sortedKeys(a.IAM.Users) {
		u := a.IAM.Users[name]
		for _, k := range u.AccessKeys {
			if k.ID != id {
				continue
			}
			res := &getAccessKeyLastUsedResult{UserName: u.Name}
			res.AccessKeyLastUsed.ServiceName, res.AccessKeyLastUsed.Region = "N/A", "N/A"
			if k.LastUsed != nil {
				res.AccessKeyLastUsed.LastUsedDate = awsTime(*k.LastUsed)
				res.AccessKeyLastUsed.ServiceName, res.AccessKeyLastUsed.Region = k.LastUsedService, k.LastUsedRegion
			}
			return res, nil
		}
	}
	return nil, &apiError{status: http.StatusForbidden, code: "AccessDenied", message: "The access key " + id + " does not exist in this account."}
}

// sortKeysByAge orders a user's keys oldest first, as the credential report
// numbers them.
func sortKeysByAge(keys []*AccessKey) []*AccessKey {
	out := append([]*AccessKey{}, keys...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].CreatedAt.Before(out[j].CreatedAt) })
	return out
}
