package awsfake

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// This file serves IAM Identity Center's SCIM 2.0 endpoint,
// https://scim.<region>.amazonaws.com/<tenant>/scim/v2/, over the same users
// and groups as the Identity Store API, with Identity Center's documented
// behaviour (developer guide, "IAM Identity Center SCIM implementation"):
// bearer-token auth (401 UnauthorizedException for a wrong token or
// tenant), "eq" filters only (joined by "and"), pages of at most 100,
// cursor pagination when the request carries a cursor parameter (the first
// page asked with an empty one; the answer has itemsPerPage and nextCursor)
// and otherwise one page with totalResults, startIndex and itemsPerPage
// (startIndex itself is not supported and is ignored), groups returned
// without members (membership is found by filtering users on groups.value),
// at most 100 member changes a group PATCH, PATCH operations add, replace
// and remove, and 429 ThrottlingException under load.
//
// SCIMOptions turn it into other SCIM 2.0 servers for a client's tests:
// RFC 7644 index paging, groups that list their members, a token revoked
// after some requests, and 429s that carry Retry-After.
//
// Each request is served by the handler of its action in scimHandlers.
// Users are found by index (user name, external id, id, a group's
// members) and groups by display name, so no request costs more than the
// resources it returns.

// SCIMOptions change the SCIM endpoint from Identity Center's behaviour
// (the zero value) to another SCIM 2.0 server's, or inject failures.
type SCIMOptions struct {
	// IndexPaging pages listings as RFC 7644 §3.4.2.4 defines: startIndex
	// (1-based) and count choose the page, every answer carries
	// totalResults, startIndex and itemsPerPage, and there is no cursor (a
	// cursor parameter is ignored).
	IndexPaging bool
	// PageSize, when above 0, is the most resources an IndexPaging page
	// holds whatever count asks (RFC 7644 lets a server return fewer);
	// default 100.
	PageSize int
	// GroupMembers makes groups list their members, as most SCIM servers
	// do (Identity Center returns none).
	GroupMembers bool
	// UnauthorizedAfter, when above 0, answers every SCIM request after
	// that many (counted from when these options were set) with 401
	// UnauthorizedException: a token revoked mid-run.
	UnauthorizedAfter int
	// ForbiddenAfter, when above 0, does the same with 403
	// AccessDeniedException.
	ForbiddenAfter int
	// RetryAfter, when above 0, is sent as Retry-After (whole seconds,
	// rounded up) with every 429.
	RetryAfter time.Duration
}

// scimState is the SCIM endpoint's own state: a request count for the
// injected failures, and the index of Identity Center's users and groups.
type scimState struct {
	opts     SCIMOptions // the options the count started under
	requests int
	index    scimIndex
}

// scimIndex finds users and groups without scanning them. It describes ic
// and is kept in step by the SCIM handlers; any other call (the Identity
// Store API may change users and groups) marks it stale, and a stale index
// is rebuilt at the next SCIM request.
type scimIndex struct {
	ic         *IdentityCenter
	stale      bool
	userName   map[string]string   // lower-case userName → id (user names are unique, case-insensitively)
	externalID map[string][]string // externalId → ids
	groupName  map[string]string   // lower-case displayName → id
	users      []string            // sorted user ids; nil until needed after a create or delete
	groups     []string            // sorted group ids, likewise
}

// scimIndexStale marks the SCIM index stale: called for every request that
// is not SCIM's, since it may change Identity Center.
func (s *Server) scimIndexStale() {
	s.mu.Lock()
	s.scim.index.stale = true
	s.mu.Unlock()
}

// indexFor returns the index of ic, rebuilt when stale. The caller holds
// s.mu.
func (s *Server) indexFor(ic *IdentityCenter) *scimIndex {
	x := &s.scim.index
	if x.ic == ic && !x.stale {
		return x
	}
	*x = scimIndex{ic: ic, userName: map[string]string{}, externalID: map[string][]string{}, groupName: map[string]string{}}
	for _, u := range ic.Users {
		x.addUser(u)
	}
	for _, g := range ic.Groups {
		x.groupName[strings.ToLower(g.DisplayName)] = g.ID
	}
	return x
}

func (x *scimIndex) addUser(u *SSOUser) {
	x.userName[strings.ToLower(u.UserName)] = u.ID
	if u.ExternalID != "" {
		x.externalID[u.ExternalID] = append(x.externalID[u.ExternalID], u.ID)
	}
}

func (x *scimIndex) removeUser(u *SSOUser) {
	if x.userName[strings.ToLower(u.UserName)] == u.ID {
		delete(x.userName, strings.ToLower(u.UserName))
	}
	if ids := slices.DeleteFunc(x.externalID[u.ExternalID], func(id string) bool { return id == u.ID }); len(ids) > 0 {
		x.externalID[u.ExternalID] = ids
	} else {
		delete(x.externalID, u.ExternalID)
	}
}

// sortedUsers returns every user id in order.
func (x *scimIndex) sortedUsers() []string {
	if x.users == nil {
		x.users = sortedKeys(x.ic.Users)
	}
	return x.users
}

// sortedGroups returns every group id in order.
func (x *scimIndex) sortedGroups() []string {
	if x.groups == nil {
		x.groups = sortedKeys(x.ic.Groups)
	}
	return x.groups
}

// SCIMURL returns the SCIM endpoint of the emulator's Identity Center
// (ending in /scim/v2), or "" when there is none.
func (s *Server) SCIMURL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ic == nil || s.ts == nil {
		return ""
	}
	return s.ts.URL + "/" + s.ic.SCIMTenant + "/scim/v2"
}

// SCIM schema URNs.
const (
	scimUserSchema   = "urn:ietf:params:scim:schemas:core:2.0:User"
	scimGroupSchema  = "urn:ietf:params:scim:schemas:core:2.0:Group"
	scimListSchema   = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	scimErrorSchema  = "urn:ietf:params:scim:api:messages:2.0:Error"
	scimEnterpriseNS = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
)

var scimPathRE = regexp.MustCompile(`^/([^/]+)/scim/v2/(Users|Groups)(?:/([^/]+))?$`)

// isSCIM reports whether a request is for the SCIM endpoint.
func isSCIM(r *http.Request) bool { return strings.Contains(r.URL.Path, "/scim/v2/") }

// scimRequest is one decoded SCIM request, handed to its action's handler.
type scimRequest struct {
	id    string // the resource id of /Users/{id} or /Groups/{id}
	query url.Values
	body  []byte
}

// scimAnswer is what a handler answers: a status and a document, or an
// error (code, the SCIM scimType when RFC 7644 names one, and detail).
type scimAnswer struct {
	status   int
	doc      any
	code     string
	scimType string
	detail   string
}

func scimOK(status int, doc any) scimAnswer { return scimAnswer{status: status, doc: doc} }

// scimBad is a 400 ValidationException.
func scimBad(scimType, detail string) scimAnswer {
	return scimAnswer{status: http.StatusBadRequest, code: "ValidationException", scimType: scimType, detail: detail}
}

func scimNotFound(kind, id string) scimAnswer {
	return scimAnswer{status: http.StatusNotFound, code: "ResourceNotFoundException", detail: kind + " " + id + " not found"}
}

// scimHandler serves one SCIM action; the caller holds s.mu.
type scimHandler func(s *Server, ic *IdentityCenter, r *scimRequest) scimAnswer

// scimHandlers are the actions of Identity Center's SCIM API, by the
// operation names of its documentation.
var scimHandlers = map[string]scimHandler{
	"ListUsers":   (*Server).scimListUsers,
	"GetUser":     (*Server).scimGetUser,
	"CreateUser":  (*Server).scimCreateUser,
	"PutUser":     (*Server).scimPutUser,
	"PatchUser":   (*Server).scimPatchUser,
	"DeleteUser":  (*Server).scimDeleteUser,
	"ListGroups":  (*Server).scimListGroups,
	"GetGroup":    (*Server).scimGetGroup,
	"CreateGroup": (*Server).scimCreateGroup,
	"PatchGroup":  (*Server).scimPatchGroup,
	"DeleteGroup": (*Server).scimDeleteGroup,
}

// scimAction names a SCIM request for the handler table and the call
// counters, after the operation names of Identity Center's SCIM
// documentation.
func scimAction(method, resource, id string) string {
	kind := strings.TrimSuffix(resource, "s")
	switch {
	case method == http.MethodGet && id == "":
		return "List" + resource
	case method == http.MethodGet:
		return "Get" + kind
	case method == http.MethodPost && id == "":
		return "Create" + kind
	case method == http.MethodPut && id != "":
		return "Put" + kind
	case method == http.MethodPatch && id != "":
		return "Patch" + kind
	case method == http.MethodDelete && id != "":
		return "Delete" + kind
	}
	return method + resource
}

// writeSCIM writes an answer as SCIM JSON (an Error document for an error).
func (s *Server) writeSCIM(w http.ResponseWriter, a scimAnswer) {
	w.Header().Set("Content-Type", "application/scim+json")
	if a.code != "" {
		w.Header().Set("X-Amzn-Errortype", a.code)
		doc := map[string]any{"schemas": []string{scimErrorSchema}, "status": strconv.Itoa(a.status),
			"detail": a.detail, "exceptionRequestId": uuidFrom(a.detail + time.Now().String()), "timeStamp": time.Now().UTC().Format(time.RFC3339)}
		if a.scimType != "" {
			doc["scimType"] = a.scimType
		}
		if a.status == http.StatusTooManyRequests {
			s.mu.Lock()
			after := s.opts.SCIM.RetryAfter
			s.mu.Unlock()
			if after > 0 {
				w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(after.Seconds()))))
			}
		}
		w.WriteHeader(a.status)
		json.NewEncoder(w).Encode(doc)
		return
	}
	if a.doc == nil {
		w.WriteHeader(a.status)
		return
	}
	w.WriteHeader(a.status)
	json.NewEncoder(w).Encode(a.doc)
}

// serveSCIM serves one SCIM request: authentication, the injected
// failures, then the action's handler under the one mutex.
func (s *Server) serveSCIM(w http.ResponseWriter, r *http.Request) {
	m := scimPathRE.FindStringSubmatch(r.URL.Path)
	token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	s.mu.Lock()
	ic := s.ic
	if ic == nil || m == nil || m[1] != ic.SCIMTenant || token == "" || token != ic.SCIMToken {
		s.mu.Unlock()
		s.writeSCIM(w, scimAnswer{status: http.StatusUnauthorized, code: "UnauthorizedException", detail: "The authorization header is invalid or missing, or the tenant id is incorrect."})
		return
	}
	if s.scim.opts != s.opts.SCIM {
		s.scim.opts, s.scim.requests = s.opts.SCIM, 0
	}
	s.scim.requests++
	o, n := s.opts.SCIM, s.scim.requests
	s.mu.Unlock()
	switch {
	case o.UnauthorizedAfter > 0 && n > o.UnauthorizedAfter:
		s.writeSCIM(w, scimAnswer{status: http.StatusUnauthorized, code: "UnauthorizedException", detail: "The authorization header is invalid or missing, or the tenant id is incorrect."})
		return
	case o.ForbiddenAfter > 0 && n > o.ForbiddenAfter:
		s.writeSCIM(w, scimAnswer{status: http.StatusForbidden, code: "AccessDeniedException", detail: "Operation is not permitted based on the supplied authorization."})
		return
	}
	resource, id := m[2], m[3]
	action := scimAction(r.Method, resource, id)
	h, ok := scimHandlers[action]
	if !ok {
		s.writeSCIM(w, scimBad("", r.Method+" is not supported on "+r.URL.Path))
		return
	}
	if fault := s.chargeCall(r, ic.OwnerAccountID, "scim", action, nil); fault != nil {
		if fault.status >= 500 {
			s.writeSCIM(w, scimAnswer{status: http.StatusInternalServerError, code: "InternalServerException", detail: "The service failed to process the request."})
		} else {
			s.writeSCIM(w, scimAnswer{status: http.StatusTooManyRequests, code: "ThrottlingException", detail: "Too many requests exceeded the limits."})
		}
		return
	}
	req := &scimRequest{id: id, query: r.URL.Query()}
	if r.Body != nil {
		req.body, _ = io.ReadAll(io.LimitReader(r.Body, 4<<20))
	}
	s.mu.Lock()
	if s.ic != ic {
		ic = s.ic // replaced while the call was charged
	}
	a := h(s, ic, req)
	s.mu.Unlock()
	s.writeSCIM(w, a)
}

// scimCondition is one `attr eq "value"` of a filter (attr in lower case).
type scimCondition struct{ attr, value string }

var (
	scimCondRE = regexp.MustCompile(`^\s*([A-Za-z][A-Za-z0-9.:]*)\s+eq\s+"((?:[^"\\]|\\.)*)"\s*$`)
	scimAndRE  = regexp.MustCompile(`(?i)\s+and\s+`)
)

// parseSCIMFilter reads a filter of `attr eq "value"` conditions joined by
// "and": the only form Identity Center supports.
func parseSCIMFilter(f string) ([]scimCondition, error) {
	if strings.TrimSpace(f) == "" {
		return nil, nil
	}
	var out []scimCondition
	for _, part := range scimAndRE.Split(f, -1) {
		m := scimCondRE.FindStringSubmatch(part)
		if m == nil {
			return nil, fmt.Errorf("unsupported filter %q: Identity Center supports only attribute eq \"value\", joined by and", f)
		}
		out = append(out, scimCondition{attr: strings.ToLower(m[1]), value: strings.ReplaceAll(m[2], `\"`, `"`)})
	}
	return out, nil
}

// userHas reports whether a user meets one condition. userName is
// compared without case (RFC 7643: caseExact false), the rest exactly.
func userHas(ic *IdentityCenter, u *SSOUser, c scimCondition) bool {
	switch c.attr {
	case "username":
		return strings.EqualFold(u.UserName, c.value)
	case "externalid":
		return u.ExternalID == c.value
	case "id":
		return u.ID == c.value
	case "groups.value", "groups":
		g := ic.Groups[c.value]
		return g != nil && slices.Contains(g.Members, u.ID)
	}
	return false
}

// groupHas reports whether a group meets one condition.
func groupHas(g *SSOGroup, c scimCondition) bool {
	switch c.attr {
	case "displayname":
		return strings.EqualFold(g.DisplayName, c.value)
	case "id":
		return g.ID == c.value
	case "members", "members.value", "member":
		return slices.Contains(g.Members, c.value)
	}
	return false
}

// userCandidates returns, in order, the ids of the users that may match a
// filter, found by its first indexed condition (all users when none is).
func userCandidates(ic *IdentityCenter, x *scimIndex, conds []scimCondition) []string {
	for _, c := range conds {
		switch c.attr {
		case "id":
			if ic.Users[c.value] != nil {
				return []string{c.value}
			}
			return nil
		case "username":
			if id, ok := x.userName[strings.ToLower(c.value)]; ok {
				return []string{id}
			}
			return nil
		case "externalid":
			return slices.Sorted(slices.Values(x.externalID[c.value]))
		case "groups.value", "groups":
			if g := ic.Groups[c.value]; g != nil {
				return slices.Sorted(slices.Values(g.Members))
			}
			return nil
		}
	}
	return x.sortedUsers()
}

// scimListUsers serves GET /Users: the users a filter selects, paged.
func (s *Server) scimListUsers(ic *IdentityCenter, r *scimRequest) scimAnswer {
	conds, err := parseSCIMFilter(r.query.Get("filter"))
	if err != nil {
		return scimBad("invalidFilter", err.Error())
	}
	ids := userCandidates(ic, s.indexFor(ic), conds)
	if len(conds) > 0 { // without a filter every user is one: no pass over them per page
		ids = slices.DeleteFunc(slices.Clone(ids), func(id string) bool {
			u := ic.Users[id]
			return u == nil || slices.ContainsFunc(conds, func(c scimCondition) bool { return !userHas(ic, u, c) })
		})
	}
	return s.scimPage(ids, r.query, func(id string) any { return scimUser(ic.Users[id]) })
}

// scimListGroups serves GET /Groups.
func (s *Server) scimListGroups(ic *IdentityCenter, r *scimRequest) scimAnswer {
	conds, err := parseSCIMFilter(r.query.Get("filter"))
	if err != nil {
		return scimBad("invalidFilter", err.Error())
	}
	x := s.indexFor(ic)
	candidates := x.sortedGroups()
	for _, c := range conds {
		if c.attr == "displayname" {
			candidates = nil
			if id, ok := x.groupName[strings.ToLower(c.value)]; ok {
				candidates = []string{id}
			}
			break
		}
	}
	ids := candidates
	if len(conds) > 0 {
		ids = slices.DeleteFunc(slices.Clone(ids), func(id string) bool {
			g := ic.Groups[id]
			return g == nil || slices.ContainsFunc(conds, func(c scimCondition) bool { return !groupHas(g, c) })
		})
	}
	members := s.opts.SCIM.GroupMembers
	return s.scimPage(ids, r.query, func(id string) any { return scimGroup(ic.Groups[id], members) })
}

// scimPage answers one page of a listing of ids (in order): Identity
// Center's pages (a cursor when asked with one, else the first page with
// totalResults), or RFC 7644's index pages under SCIMOptions.IndexPaging.
func (s *Server) scimPage(ids []string, q url.Values, render func(id string) any) scimAnswer {
	resources := func(page []string) []any {
		out := make([]any, 0, len(page))
		for _, id := range page {
			out = append(out, render(id))
		}
		return out
	}
	if o := s.opts.SCIM; o.IndexPaging {
		size := o.PageSize
		if size <= 0 {
			size = 100
		}
		count := size
		if v := q.Get("count"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				return scimBad("invalidValue", "count must be an integer")
			}
			count = min(max(n, 0), size) // RFC 7644: negative is 0; a server may return fewer
		}
		start := 1
		if v := q.Get("startIndex"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				return scimBad("invalidValue", "startIndex must be an integer")
			}
			start = max(n, 1) // RFC 7644: below 1 is 1
		}
		from := min(start-1, len(ids))
		page := ids[from:min(from+count, len(ids))]
		return scimOK(http.StatusOK, map[string]any{"schemas": []string{scimListSchema}, "totalResults": len(ids), "startIndex": start,
			"itemsPerPage": len(page), "Resources": resources(page)})
	}
	count := 100
	if v := q.Get("count"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return scimBad("invalidValue", "count must be between 1 and 100")
		}
		count = n
	}
	if _, paged := q["cursor"]; !paged {
		// Without a cursor, one page and the total, the classic format;
		// Identity Center does not support startIndex.
		page := ids[:min(count, len(ids))]
		return scimOK(http.StatusOK, map[string]any{"schemas": []string{scimListSchema}, "totalResults": len(ids), "itemsPerPage": len(page),
			"startIndex": 1, "Resources": resources(page)})
	}
	from := 0
	if c := q.Get("cursor"); c != "" {
		last, ok := strings.CutPrefix(c, "fake-cursor-")
		if !ok || last == "" {
			return scimBad("invalidCursor", "The cursor is invalid.")
		}
		from = sort.SearchStrings(ids, last)
		if from < len(ids) && ids[from] == last {
			from++
		}
	}
	page := ids[from:min(from+count, len(ids))]
	out := map[string]any{"schemas": []string{scimListSchema}, "itemsPerPage": len(page), "Resources": resources(page)}
	if from+len(page) < len(ids) {
		out["nextCursor"] = "fake-cursor-" + page[len(page)-1]
	}
	return scimOK(http.StatusOK, out)
}

// scimGetUser serves GET /Users/{id}.
func (s *Server) scimGetUser(ic *IdentityCenter, r *scimRequest) scimAnswer {
	if u := ic.Users[r.id]; u != nil {
		return scimOK(http.StatusOK, scimUser(u))
	}
	return scimNotFound("User", r.id)
}

// scimGetGroup serves GET /Groups/{id}.
func (s *Server) scimGetGroup(ic *IdentityCenter, r *scimRequest) scimAnswer {
	if g := ic.Groups[r.id]; g != nil {
		return scimOK(http.StatusOK, scimGroup(g, s.opts.SCIM.GroupMembers))
	}
	return scimNotFound("Group", r.id)
}

// scimUser is a user as Identity Center's SCIM API returns it: one e-mail,
// "active" from the user's status (or its SCIMActive override).
func scimUser(u *SSOUser) map[string]any {
	active := u.Status != "DISABLED"
	if u.SCIMActive != nil {
		active = *u.SCIMActive
	}
	out := map[string]any{"schemas": []string{scimUserSchema}, "id": u.ID, "userName": u.UserName, "displayName": u.DisplayName,
		"name":   map[string]string{"givenName": u.GivenName, "familyName": u.FamilyName, "formatted": u.GivenName + " " + u.FamilyName},
		"active": active, "meta": map[string]string{"resourceType": "User", "created": u.CreatedAt.UTC().Format(time.RFC3339), "lastModified": u.CreatedAt.UTC().Format(time.RFC3339)}}
	if u.ExternalID != "" {
		out["externalId"] = u.ExternalID
	}
	if u.Title != "" {
		out["title"] = u.Title
	}
	if u.Department != "" {
		out[scimEnterpriseNS] = map[string]string{"department": u.Department}
	}
	if u.Email != "" {
		out["emails"] = []map[string]any{{"value": u.Email, "type": "work", "primary": true}}
	}
	return out
}

// scimGroup is a group as the SCIM API returns it: without members, as
// Identity Center, unless members is set.
func scimGroup(g *SSOGroup, members bool) map[string]any {
	list := []any{}
	if members {
		for _, m := range g.Members {
			list = append(list, map[string]string{"value": m, "type": "User"})
		}
	}
	return map[string]any{"schemas": []string{scimGroupSchema}, "id": g.ID, "displayName": g.DisplayName, "members": list,
		"meta": map[string]string{"resourceType": "Group", "created": g.CreatedAt.UTC().Format(time.RFC3339), "lastModified": g.CreatedAt.UTC().Format(time.RFC3339)}}
}

// scimUserIn is a user as a SCIM request writes it.
type scimUserIn struct {
	UserName    string `json:"userName"`
	ExternalID  string `json:"externalId"`
	DisplayName string `json:"displayName"`
	Title       string `json:"title"`
	Active      *bool  `json:"active"`
	Name        *struct {
		GivenName  string `json:"givenName"`
		FamilyName string `json:"familyName"`
	} `json:"name"`
	Emails       []scimEmailIn     `json:"emails"`
	Addresses    []json.RawMessage `json:"addresses"`
	PhoneNumbers []json.RawMessage `json:"phoneNumbers"`
	Password     string            `json:"password"`
	Enterprise   *struct {
		Department string `json:"department"`
	} `json:"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"`
}

// scimEmailIn is one e-mail as a request writes it.
type scimEmailIn struct {
	Value   string `json:"value"`
	Type    string `json:"type"`
	Primary bool   `json:"primary"`
}

// scimPatch is a SCIM PatchOp request.
type scimPatch struct {
	Operations []scimOperation `json:"Operations"`
}

// scimOperation is one operation of a PatchOp.
type scimOperation struct {
	Op    string          `json:"op"`
	Path  string          `json:"path"`
	Value json.RawMessage `json:"value"`
}

const maxSCIMPatchOperations = 100

// checkSCIMUser applies Identity Center's constraints on a written user:
// userName, displayName, givenName and familyName required, at most one
// e-mail (primary), address and phone number, no password.
func checkSCIMUser(in scimUserIn) string {
	switch {
	case in.UserName == "" || len(in.UserName) > 128:
		return "userName is required (1 to 128 characters)"
	case in.DisplayName == "":
		return "displayName is required"
	case in.Name == nil || in.Name.GivenName == "" || in.Name.FamilyName == "":
		return "name.givenName and name.familyName are required"
	case len(in.Emails) > 1 || len(in.Addresses) > 1 || len(in.PhoneNumbers) > 1:
		return "Only one email, address and phone number is supported"
	case in.Password != "":
		return "password is not supported"
	}
	return ""
}

// readSCIMUser decodes and checks a written user.
func readSCIMUser(body []byte) (scimUserIn, *scimAnswer) {
	var in scimUserIn
	if err := json.Unmarshal(body, &in); err != nil {
		a := scimBad("invalidSyntax", "The request body is not a SCIM User: "+err.Error())
		return in, &a
	}
	if msg := checkSCIMUser(in); msg != "" {
		a := scimBad("invalidValue", msg)
		return in, &a
	}
	return in, nil
}

// userNameTaken reports whether another user than id has the user name.
func userNameTaken(x *scimIndex, name, id string) bool {
	other, ok := x.userName[strings.ToLower(name)]
	return ok && other != id
}

var scimConflict = scimAnswer{status: http.StatusConflict, code: "ConflictException", scimType: "uniqueness", detail: "User already exists"}

// scimCreateUser serves POST /Users.
func (s *Server) scimCreateUser(ic *IdentityCenter, r *scimRequest) scimAnswer {
	in, bad := readSCIMUser(r.body)
	if bad != nil {
		return *bad
	}
	x := s.indexFor(ic)
	if userNameTaken(x, in.UserName, "") {
		return scimConflict
	}
	u := &SSOUser{ID: uuidFrom("scim-user/" + in.UserName + "/" + s.now().String()), CreatedAt: s.now(), Status: "ENABLED"}
	applySCIMUser(u, in)
	ic.Users[u.ID] = u
	x.addUser(u)
	x.users = nil
	return scimOK(http.StatusCreated, scimUser(u))
}

// scimPutUser serves PUT /Users/{id}: every attribute replaced.
func (s *Server) scimPutUser(ic *IdentityCenter, r *scimRequest) scimAnswer {
	u := ic.Users[r.id]
	if u == nil {
		return scimNotFound("User", r.id)
	}
	in, bad := readSCIMUser(r.body)
	if bad != nil {
		return *bad
	}
	next := *u
	applySCIMUser(&next, in)
	return s.replaceSCIMUser(ic, u, next)
}

// scimPatchUser serves PATCH /Users/{id}: every operation applies, or none
// does (RFC 7644 §3.5.2).
func (s *Server) scimPatchUser(ic *IdentityCenter, r *scimRequest) scimAnswer {
	u := ic.Users[r.id]
	if u == nil {
		return scimNotFound("User", r.id)
	}
	var p scimPatch
	if err := json.Unmarshal(r.body, &p); err != nil || len(p.Operations) == 0 {
		return scimBad("invalidSyntax", "The request body is not a SCIM PatchOp with Operations")
	}
	if len(p.Operations) > maxSCIMPatchOperations {
		return scimBad("tooMany", "A PATCH request may hold at most 100 operations")
	}
	per := map[string]int{}
	next := *u
	for _, op := range p.Operations {
		if k := strings.ToLower(op.Path); k == "username" || k == "active" {
			if per[k]++; per[k] > 1 {
				return scimBad("invalidValue", "Multiple PATCH operations on userName or active are not supported")
			}
		}
		if a := patchSCIMUser(&next, op); a != nil {
			return *a
		}
	}
	return s.replaceSCIMUser(ic, u, next)
}

// replaceSCIMUser gives user u the attributes of next, keeping the index
// true, unless another user has next's user name (a conflict, and u is
// left as it was).
func (s *Server) replaceSCIMUser(ic *IdentityCenter, u *SSOUser, next SSOUser) scimAnswer {
	x := s.indexFor(ic)
	if userNameTaken(x, next.UserName, u.ID) {
		return scimConflict
	}
	x.removeUser(u)
	*u = next
	x.addUser(u)
	return scimOK(http.StatusOK, scimUser(u))
}

// scimDeleteUser serves DELETE /Users/{id}; the user leaves its groups.
func (s *Server) scimDeleteUser(ic *IdentityCenter, r *scimRequest) scimAnswer {
	u := ic.Users[r.id]
	if u == nil {
		return scimNotFound("User", r.id)
	}
	x := s.indexFor(ic)
	x.removeUser(u)
	x.users = nil
	delete(ic.Users, r.id)
	for _, g := range ic.Groups {
		g.Members = slices.DeleteFunc(g.Members, func(m string) bool { return m == r.id })
	}
	return scimOK(http.StatusNoContent, nil)
}

// applySCIMUser writes a request's attributes onto a user.
func applySCIMUser(u *SSOUser, in scimUserIn) {
	u.UserName, u.ExternalID, u.DisplayName, u.Title = in.UserName, in.ExternalID, in.DisplayName, in.Title
	u.GivenName, u.FamilyName = in.Name.GivenName, in.Name.FamilyName
	u.Email, u.Department = "", ""
	if len(in.Emails) == 1 {
		u.Email = in.Emails[0].Value
	}
	if in.Enterprise != nil {
		u.Department = in.Enterprise.Department
	}
	if in.Active != nil {
		setSCIMActive(u, *in.Active)
	}
}

func setSCIMActive(u *SSOUser, active bool) {
	u.Status = "DISABLED"
	if active {
		u.Status = "ENABLED"
	}
	u.SCIMActive = nil
}

// scimWorkEmailPaths are the paths that select the work e-mail through a
// value filter: replacing through one when the user has no e-mail is 400
// noTarget (RFC 7644 §3.5.2.3).
var scimWorkEmailPaths = map[string]bool{`emails[type eq "work"].value`: true, `emails[type eq "work"]`: true}

// patchSCIMUser applies one operation to a user, or answers why not, with
// Identity Center's constraints: add, replace and remove; a value for add
// and replace; no remove of userName, active or a required attribute.
func patchSCIMUser(u *SSOUser, op scimOperation) *scimAnswer {
	fail := func(scimType, detail string) *scimAnswer { a := scimBad(scimType, detail); return &a }
	kind := strings.ToLower(op.Op)
	if kind != "add" && kind != "replace" && kind != "remove" {
		return fail("invalidSyntax", "Unsupported operation "+op.Op+": use add, replace or remove")
	}
	path := op.Path
	if path == "" {
		return fail("noTarget", "The path is required")
	}
	strAttr := map[string]*string{"displayName": &u.DisplayName, "name.givenName": &u.GivenName, "name.familyName": &u.FamilyName,
		"title": &u.Title, "externalId": &u.ExternalID, "userName": &u.UserName, scimEnterpriseNS + ":department": &u.Department}
	required := map[string]bool{"displayName": true, "name.givenName": true, "name.familyName": true, "userName": true}
	if kind == "remove" {
		switch {
		case path == "userName" || path == "active":
			return fail("mutability", "The remove patch operation is not supported for userName or active attributes")
		case required[path]:
			return fail("mutability", path+" is required and cannot be removed")
		case strAttr[path] != nil:
			*strAttr[path] = ""
		case path == "emails" || scimWorkEmailPaths[path]:
			u.Email = ""
		default:
			return fail("invalidPath", "Unsupported attribute path "+path)
		}
		return nil
	}
	if len(op.Value) == 0 || string(op.Value) == "null" {
		return fail("invalidValue", "A value is required for add and replace")
	}
	if dst := strAttr[path]; dst != nil {
		var v string
		if json.Unmarshal(op.Value, &v) != nil {
			return fail("invalidValue", path+" must be a string")
		}
		if v == "" {
			return fail("invalidValue", "A value is required for add and replace: remove "+path+" instead of setting it empty")
		}
		*dst = v
		return nil
	}
	switch {
	case path == "active":
		var active bool
		if json.Unmarshal(op.Value, &active) != nil {
			return fail("invalidValue", "active must be true or false")
		}
		setSCIMActive(u, active)
	case scimWorkEmailPaths[path]:
		if u.Email == "" {
			return fail("noTarget", "No e-mail of type work matches "+path)
		}
		var v string
		if strings.HasSuffix(path, ".value") {
			if json.Unmarshal(op.Value, &v) != nil || v == "" {
				return fail("invalidValue", path+" must be a non-empty string")
			}
		} else {
			var e scimEmailIn
			if json.Unmarshal(op.Value, &e) != nil || e.Value == "" {
				return fail("invalidValue", path+" must be an e-mail {value, type, primary}")
			}
			v = e.Value
		}
		u.Email = v
	case path == "emails":
		var list []scimEmailIn
		if json.Unmarshal(op.Value, &list) != nil {
			var one scimEmailIn
			if json.Unmarshal(op.Value, &one) != nil {
				return fail("invalidValue", "emails must be a list of {value, type, primary}")
			}
			list = []scimEmailIn{one}
		}
		if len(list) != 1 || list[0].Value == "" {
			return fail("invalidValue", "Only one email is supported, with a value")
		}
		u.Email = list[0].Value
	case path == "name":
		var n struct {
			GivenName  *string `json:"givenName"`
			FamilyName *string `json:"familyName"`
		}
		if json.Unmarshal(op.Value, &n) != nil {
			return fail("invalidValue", "name must be an object")
		}
		if n.GivenName != nil {
			u.GivenName = *n.GivenName
		}
		if n.FamilyName != nil {
			u.FamilyName = *n.FamilyName
		}
		if u.GivenName == "" || u.FamilyName == "" {
			return fail("invalidValue", "name.givenName and name.familyName are required")
		}
	default:
		return fail("invalidPath", "Unsupported attribute path "+path)
	}
	return nil
}

// scimGroupIn is a group as a request creates it.
type scimGroupIn struct {
	DisplayName string          `json:"displayName"`
	ExternalID  string          `json:"externalId"`
	Members     []scimMemberRef `json:"members"`
}

// scimMemberRef names a group member by its user id, as requests do.
type scimMemberRef struct {
	Value string `json:"value"`
}

var scimGroupConflict = scimAnswer{status: http.StatusConflict, code: "ConflictException", scimType: "uniqueness", detail: "Group already exists"}

const maxSCIMMemberChanges = 100

// scimCreateGroup serves POST /Groups.
func (s *Server) scimCreateGroup(ic *IdentityCenter, r *scimRequest) scimAnswer {
	var in scimGroupIn
	if err := json.Unmarshal(r.body, &in); err != nil || in.DisplayName == "" {
		return scimBad("invalidValue", "displayName is required")
	}
	if len(in.Members) > maxSCIMMemberChanges {
		return scimBad("tooMany", "A maximum of 100 members can be added in a single request")
	}
	x := s.indexFor(ic)
	if _, ok := x.groupName[strings.ToLower(in.DisplayName)]; ok {
		return scimGroupConflict
	}
	g := &SSOGroup{ID: uuidFrom("scim-group/" + in.DisplayName + "/" + s.now().String()), DisplayName: in.DisplayName, CreatedAt: s.now()}
	for _, m := range in.Members {
		if ic.Users[m.Value] == nil {
			return scimBad("invalidValue", "Member "+m.Value+" does not exist")
		}
		if !slices.Contains(g.Members, m.Value) {
			g.Members = append(g.Members, m.Value)
		}
	}
	ic.Groups[g.ID] = g
	x.groupName[strings.ToLower(g.DisplayName)] = g.ID
	x.groups = nil
	return scimOK(http.StatusCreated, scimGroup(g, s.opts.SCIM.GroupMembers))
}

var memberFilterRE = regexp.MustCompile(`value eq "([^"]+)"`)

// memberFilterIDs reads the ids of a path such as members[value eq "id"].
func memberFilterIDs(path string) []string {
	var out []string
	for _, m := range memberFilterRE.FindAllStringSubmatch(path, -1) {
		out = append(out, m[1])
	}
	return out
}

// scimPatchGroup serves PATCH /Groups/{id}: a new display name, members
// added and removed (at most 100 changes, never all members replaced or
// removed at once), every operation or none.
func (s *Server) scimPatchGroup(ic *IdentityCenter, r *scimRequest) scimAnswer {
	g := ic.Groups[r.id]
	if g == nil {
		return scimNotFound("Group", r.id)
	}
	var p scimPatch
	if err := json.Unmarshal(r.body, &p); err != nil || len(p.Operations) == 0 {
		return scimBad("invalidSyntax", "The request body is not a SCIM PatchOp with Operations")
	}
	name, members, changes := g.DisplayName, slices.Clone(g.Members), 0
	tooMany := scimBad("tooMany", "A maximum of 100 member changes is allowed in a single request")
	for _, op := range p.Operations {
		kind := strings.ToLower(op.Op)
		switch {
		case kind == "replace" && op.Path == "displayName":
			if json.Unmarshal(op.Value, &name) != nil || name == "" {
				return scimBad("invalidValue", "displayName must be a non-empty string")
			}
		case op.Path == "members" && kind == "replace":
			return scimBad("invalidValue", "Replacing all members of a group at once is not supported; add and remove members instead")
		case op.Path == "members" && kind == "add":
			var ms []scimMemberRef
			if json.Unmarshal(op.Value, &ms) != nil {
				return scimBad("invalidValue", "members must be a list of {value}")
			}
			if changes += len(ms); changes > maxSCIMMemberChanges {
				return tooMany
			}
			for _, m := range ms {
				if ic.Users[m.Value] == nil {
					return scimBad("invalidValue", "Member "+m.Value+" does not exist")
				}
				if !slices.Contains(members, m.Value) {
					members = append(members, m.Value)
				}
			}
		case kind == "remove" && strings.HasPrefix(op.Path, "members"):
			ids := memberFilterIDs(op.Path)
			var ms []scimMemberRef
			json.Unmarshal(op.Value, &ms)
			for _, m := range ms {
				ids = append(ids, m.Value)
			}
			if len(ids) == 0 {
				return scimBad("invalidValue", "Removing all members of a group at once is not supported; name the members to remove")
			}
			if changes += len(ids); changes > maxSCIMMemberChanges {
				return tooMany
			}
			members = slices.DeleteFunc(members, func(m string) bool { return slices.Contains(ids, m) })
		default:
			return scimBad("invalidPath", "Unsupported group operation "+op.Op+" "+op.Path)
		}
	}
	x := s.indexFor(ic)
	if other, ok := x.groupName[strings.ToLower(name)]; ok && other != g.ID {
		return scimGroupConflict
	}
	delete(x.groupName, strings.ToLower(g.DisplayName))
	g.DisplayName, g.Members = name, members
	x.groupName[strings.ToLower(name)] = g.ID
	return scimOK(http.StatusNoContent, nil)
}

// scimDeleteGroup serves DELETE /Groups/{id}.
func (s *Server) scimDeleteGroup(ic *IdentityCenter, r *scimRequest) scimAnswer {
	g := ic.Groups[r.id]
	if g == nil {
		return scimNotFound("Group", r.id)
	}
	x := s.indexFor(ic)
	delete(x.groupName, strings.ToLower(g.DisplayName))
	x.groups = nil
	delete(ic.Groups, r.id)
	return scimOK(http.StatusNoContent, nil)
}
