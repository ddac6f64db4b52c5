package awsfake

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// This file serves IAM Identity Center's SCIM 2.0 endpoint,
// https://scim.<region>.amazonaws.com/<tenant>/scim/v2/, over the same users
// and groups as the Identity Store API, with Identity Center's documented
// behaviour: bearer-token auth (401 UnauthorizedException for a wrong token
// or tenant), "eq" filters only (joined by "and"), cursor pagination of at
// most 100 (the first page asked with an empty cursor), groups returned
// without members (membership is found by filtering), and 429
// ThrottlingException under load.

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
	scimUserSchema  = "urn:ietf:params:scim:schemas:core:2.0:User"
	scimGroupSchema = "urn:ietf:params:scim:schemas:core:2.0:Group"
	scimListSchema  = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	scimErrorSchema = "urn:ietf:params:scim:api:messages:2.0:Error"
)

var scimPathRE = regexp.MustCompile(`^/([^/]+)/scim/v2/(Users|Groups)(?:/([^/]+))?$`)

// isSCIM reports whether a request is for the SCIM endpoint.
func isSCIM(r *http.Request) bool { return strings.Contains(r.URL.Path, "/scim/v2/") }

// scimError writes a SCIM error document.
func scimError(w http.ResponseWriter, status int, code, detail string) {
	w.Header().Set("Content-Type", "application/scim+json")
	w.Header().Set("X-Amzn-Errortype", code)
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"schemas": []string{scimErrorSchema}, "status": strconv.Itoa(status),
		"detail": detail, "exceptionRequestId": uuidFrom(detail + time.Now().String()), "timeStamp": time.Now().UTC().Format(time.RFC3339)})
}

// serveSCIM serves one SCIM request.
func (s *Server) serveSCIM(w http.ResponseWriter, r *http.Request) {
	m := scimPathRE.FindStringSubmatch(r.URL.Path)
	s.mu.Lock()
	ic := s.ic
	s.mu.Unlock()
	token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if ic == nil || m == nil || m[1] != ic.SCIMTenant || token == "" || token != ic.SCIMToken {
		scimError(w, http.StatusUnauthorized, "UnauthorizedException", "The authorization header is invalid or missing, or the tenant id is incorrect.")
		return
	}
	resource, id := m[2], m[3]
	action := scimAction(r.Method, resource, id)
	if fault := s.chargeCall(r, ic.OwnerAccountID, "scim", action); fault != nil {
		if fault.code == "ThrottlingException" {
			scimError(w, http.StatusTooManyRequests, "ThrottlingException", "Too many requests exceeded the limits.")
		} else {
			scimError(w, http.StatusInternalServerError, "InternalServerException", "The service failed to process the request.")
		}
		return
	}
	if r.Method != http.MethodGet {
		var body []byte
		if r.Body != nil {
			body, _ = io.ReadAll(io.LimitReader(r.Body, 4<<20))
		}
		s.mu.Lock()
		out, status, code, detail := s.scimWrite(r.Method, resource, id, body)
		s.mu.Unlock()
		if status >= 300 {
			scimError(w, status, code, detail)
			return
		}
		if out == nil {
			w.WriteHeader(status)
			return
		}
		w.Header().Set("Content-Type", "application/scim+json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(out)
		return
	}
	s.mu.Lock()
	out, status, code, detail := s.scimGet(resource, id, r)
	s.mu.Unlock()
	if status != http.StatusOK {
		scimError(w, status, code, detail)
		return
	}
	w.Header().Set("Content-Type", "application/scim+json")
	json.NewEncoder(w).Encode(out)
}

// scimAction names a SCIM request for the call counters, after the
// operation names of Identity Center's SCIM documentation.
func scimAction(method, resource, id string) string {
	kind := strings.TrimSuffix(resource, "s")
	switch {
	case method == http.MethodGet && id == "":
		return "List" + resource
	case method == http.MethodGet:
		return "Get" + kind
	case method == http.MethodPost:
		return "Create" + kind
	case method == http.MethodPut:
		return "Put" + kind
	case method == http.MethodPatch:
		return "Patch" + kind
	case method == http.MethodDelete:
		return "Delete" + kind
	}
	return method + resource
}

// scimGet answers a GET; the caller holds s.mu.
func (s *Server) scimGet(resource, id string, r *http.Request) (any, int, string, string) {
	ic := s.ic
	if id != "" {
		if resource == "Users" {
			if u := ic.Users[id]; u != nil {
				return scimUser(u), http.StatusOK, "", ""
			}
		} else if g := ic.Groups[id]; g != nil {
			return scimGroup(g), http.StatusOK, "", ""
		}
		return nil, http.StatusNotFound, "ResourceNotFoundException", resource[:len(resource)-1] + " " + id + " not found"
	}
	conds, err := parseSCIMFilter(r.URL.Query().Get("filter"))
	if err != nil {
		return nil, http.StatusBadRequest, "ValidationException", err.Error()
	}
	var items []any
	if resource == "Users" {
		for _, uid := range sortedKeys(ic.Users) {
			u := ic.Users[uid]
			if matchSCIM(conds, func(attr string) []string {
				switch attr {
				case "username":
					return []string{u.UserName}
				case "externalid":
					return []string{u.ExternalID}
				case "id":
					return []string{u.ID}
				case "groups.value", "groups":
					var gs []string
					for gid, g := range ic.Groups {
						if containsString(g.Members, u.ID) {
							gs = append(gs, gid)
						}
					}
					return gs
				}
				return nil
			}) {
				items = append(items, scimUser(u))
			}
		}
	} else {
		for _, gid := range sortedKeys(ic.Groups) {
			g := ic.Groups[gid]
			if matchSCIM(conds, func(attr string) []string {
				switch attr {
				case "displayname":
					return []string{g.DisplayName}
				case "id":
					return []string{g.ID}
				case "members", "members.value":
					return g.Members
				}
				return nil
			}) {
				items = append(items, scimGroup(g))
			}
		}
	}
	q := r.URL.Query()
	count := 100
	if v := q.Get("count"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return nil, http.StatusBadRequest, "ValidationException", "count must be between 1 and 100"
		}
		count = n
	}
	if items == nil {
		items = []any{}
	}
	if _, paged := q["cursor"]; !paged {
		// Without a cursor, one page and the total, as the classic format.
		end := min(count, len(items))
		return map[string]any{"schemas": []string{scimListSchema}, "totalResults": len(items), "itemsPerPage": end, "startIndex": 1,
			"Resources": items[:end]}, http.StatusOK, "", ""
	}
	start := 0
	if c := q.Get("cursor"); c != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(c, "fake-cursor-"))
		if err != nil || n < 0 || n > len(items) || !strings.HasPrefix(c, "fake-cursor-") {
			return nil, http.StatusBadRequest, "ValidationException", "The cursor is invalid."
		}
		start = n
	}
	end := min(start+count, len(items))
	out := map[string]any{"schemas": []string{scimListSchema}, "itemsPerPage": end - start, "Resources": items[start:end]}
	if end < len(items) {
		out["nextCursor"] = "fake-cursor-" + strconv.Itoa(end)
	}
	return out, http.StatusOK, "", ""
}

// scimCondition is one `attr eq "value"` of a filter.
type scimCondition struct{ attr, value string }

var scimCondRE = regexp.MustCompile(`^\s*([A-Za-z][A-Za-z0-9.]*)\s+eq\s+"((?:[^"\\]|\\.)*)"\s*$`)

// parseSCIMFilter reads a filter of `attr eq "value"` conditions joined by
// "and": the only form Identity Center supports.
func parseSCIMFilter(f string) ([]scimCondition, error) {
	if strings.TrimSpace(f) == "" {
		return nil, nil
	}
	var out []scimCondition
	for _, part := range regexp.MustCompile(`(?i)\s+and\s+`).Split(f, -1) {
		m := scimCondRE.FindStringSubmatch(part)
		if m == nil {
			return nil, fmt.Errorf("unsupported filter %q: Identity Center supports only attribute eq \"value\", joined by and", f)
		}
		out = append(out, scimCondition{attr: strings.ToLower(m[1]), value: strings.ReplaceAll(m[2], `\"`, `"`)})
	}
	return out, nil
}

// matchSCIM reports whether every condition holds for a resource whose
// attribute values values() gives.
func matchSCIM(conds []scimCondition, values func(attr string) []string) bool {
	for _, c := range conds {
		if !containsString(values(c.attr), c.value) {
			return false
		}
	}
	return true
}

func containsString(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
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
		out["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"] = map[string]string{"department": u.Department}
	}
	if u.Email != "" {
		out["emails"] = []map[string]any{{"value": u.Email, "type": "work", "primary": true}}
	}
	return out
}

// scimGroup is a group as the SCIM API returns it: without members.
func scimGroup(g *SSOGroup) map[string]any {
	return map[string]any{"schemas": []string{scimGroupSchema}, "id": g.ID, "displayName": g.DisplayName, "members": []any{},
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
	Emails []struct {
		Value   string `json:"value"`
		Type    string `json:"type"`
		Primary bool   `json:"primary"`
	} `json:"emails"`
	Addresses    []json.RawMessage `json:"addresses"`
	PhoneNumbers []json.RawMessage `json:"phoneNumbers"`
	Password     string            `json:"password"`
	Enterprise   *struct {
		Department string `json:"department"`
	} `json:"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"`
}

// scimPatch is a SCIM PatchOp request.
type scimPatch struct {
	Operations []struct {
		Op    string          `json:"op"`
		Path  string          `json:"path"`
		Value json.RawMessage `json:"value"`
	} `json:"Operations"`
}

const maxSCIMPatchOperations = 100

// scimWrite serves POST, PUT, PATCH and DELETE of users and groups with
// Identity Center's constraints. The caller holds s.mu.
func (s *Server) scimWrite(method, resource, id string, body []byte) (any, int, string, string) {
	ic := s.ic
	bad := func(detail string) (any, int, string, string) {
		return nil, http.StatusBadRequest, "ValidationException", detail
	}
	if resource == "Users" {
		switch method {
		case http.MethodPost, http.MethodPut:
			var in scimUserIn
			if err := json.Unmarshal(body, &in); err != nil {
				return bad("The request body is not a SCIM User: " + err.Error())
			}
			if msg := checkSCIMUser(in); msg != "" {
				return bad(msg)
			}
			for _, u := range ic.Users {
				if strings.EqualFold(u.UserName, in.UserName) && u.ID != id {
					return nil, http.StatusConflict, "ConflictException", "User already exists"
				}
			}
			u := ic.Users[id]
			status := http.StatusOK
			if method == http.MethodPost {
				u = &SSOUser{ID: uuidFrom("scim-user/" + in.UserName + "/" + s.now().String()), CreatedAt: s.now(), Status: "ENABLED"}
				ic.Users[u.ID] = u
				status = http.StatusCreated
			} else if u == nil {
				return nil, http.StatusNotFound, "ResourceNotFoundException", "User " + id + " not found"
			}
			applySCIMUser(u, in)
			return scimUser(u), status, "", ""
		case http.MethodPatch:
			u := ic.Users[id]
			if u == nil {
				return nil, http.StatusNotFound, "ResourceNotFoundException", "User " + id + " not found"
			}
			var p scimPatch
			if err := json.Unmarshal(body, &p); err != nil || len(p.Operations) == 0 {
				return bad("The request body is not a SCIM PatchOp with Operations")
			}
			if len(p.Operations) > maxSCIMPatchOperations {
				return bad("A PATCH request may hold at most 100 operations")
			}
			for _, op := range p.Operations {
				if !strings.EqualFold(op.Op, "replace") && !strings.EqualFold(op.Op, "add") {
					return bad("Unsupported operation " + op.Op + " for a user")
				}
				if msg := patchSCIMUser(u, op.Path, op.Value); msg != "" {
					return bad(msg)
				}
			}
			return scimUser(u), http.StatusOK, "", ""
		case http.MethodDelete:
			if ic.Users[id] == nil {
				return nil, http.StatusNotFound, "ResourceNotFoundException", "User " + id + " not found"
			}
			delete(ic.Users, id)
			for _, g := range ic.Groups {
				g.Members = slices.DeleteFunc(g.Members, func(m string) bool { return m == id })
			}
			return nil, http.StatusNoContent, "", ""
		}
		return bad(method + " is not supported on Users")
	}
	switch method {
	case http.MethodPost:
		var in struct {
			DisplayName string `json:"displayName"`
			ExternalID  string `json:"externalId"`
			Members     []struct {
				Value string `json:"value"`
			} `json:"members"`
		}
		if err := json.Unmarshal(body, &in); err != nil || in.DisplayName == "" {
			return bad("displayName is required")
		}
		if len(in.Members) > 100 {
			return bad("A maximum of 100 members can be added in a single request")
		}
		for _, g := range ic.Groups {
			if strings.EqualFold(g.DisplayName, in.DisplayName) {
				return nil, http.StatusConflict, "ConflictException", "Group already exists"
			}
		}
		g := &SSOGroup{ID: uuidFrom("scim-group/" + in.DisplayName + "/" + s.now().String()), DisplayName: in.DisplayName, CreatedAt: s.now()}
		for _, m := range in.Members {
			if ic.Users[m.Value] == nil {
				return bad("Member " + m.Value + " does not exist")
			}
			g.Members = append(g.Members, m.Value)
		}
		ic.Groups[g.ID] = g
		return scimGroup(g), http.StatusCreated, "", ""
	case http.MethodPatch:
		g := ic.Groups[id]
		if g == nil {
			return nil, http.StatusNotFound, "ResourceNotFoundException", "Group " + id + " not found"
		}
		var p scimPatch
		if err := json.Unmarshal(body, &p); err != nil || len(p.Operations) == 0 {
			return bad("The request body is not a SCIM PatchOp with Operations")
		}
		changes := 0
		for _, op := range p.Operations {
			switch {
			case strings.EqualFold(op.Op, "replace") && op.Path == "displayName":
				var name string
				if json.Unmarshal(op.Value, &name) != nil || name == "" {
					return bad("displayName must be a non-empty string")
				}
				g.DisplayName = name
			case op.Path == "members" && strings.EqualFold(op.Op, "replace"):
				return bad("Replacing all members of a group at once is not supported; add and remove members instead")
			case op.Path == "members" && strings.EqualFold(op.Op, "add"):
				var ms []struct {
					Value string `json:"value"`
				}
				if json.Unmarshal(op.Value, &ms) != nil {
					return bad("members must be a list of {value}")
				}
				changes += len(ms)
				if changes > 100 {
					return bad("A maximum of 100 member changes is allowed in a single request")
				}
				for _, m := range ms {
					if ic.Users[m.Value] == nil {
						return bad("Member " + m.Value + " does not exist")
					}
					if !slices.Contains(g.Members, m.Value) {
						g.Members = append(g.Members, m.Value)
					}
				}
			case strings.EqualFold(op.Op, "remove") && strings.HasPrefix(op.Path, "members"):
				ids := memberFilterIDs(op.Path)
				var ms []struct {
					Value string `json:"value"`
				}
				json.Unmarshal(op.Value, &ms)
				for _, m := range ms {
					ids = append(ids, m.Value)
				}
				changes += len(ids)
				if changes > 100 {
					return bad("A maximum of 100 member changes is allowed in a single request")
				}
				g.Members = slices.DeleteFunc(g.Members, func(m string) bool { return slices.Contains(ids, m) })
			default:
				return bad("Unsupported group operation " + op.Op + " " + op.Path)
			}
		}
		return nil, http.StatusNoContent, "", ""
	case http.MethodDelete:
		if ic.Groups[id] == nil {
			return nil, http.StatusNotFound, "ResourceNotFoundException", "Group " + id + " not found"
		}
		delete(ic.Groups, id)
		return nil, http.StatusNoContent, "", ""
	}
	return bad(method + " is not supported on Groups")
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
		u.Status = map[bool]string{true: "ENABLED", false: "DISABLED"}[*in.Active]
		u.SCIMActive = nil
	}
}

// patchSCIMUser applies one replace (or add) of a user attribute.
func patchSCIMUser(u *SSOUser, path string, value json.RawMessage) string {
	str := func(dst *string) string {
		if json.Unmarshal(value, dst) != nil {
			return path + " must be a string"
		}
		return ""
	}
	switch path {
	case "active":
		var active bool
		if json.Unmarshal(value, &active) != nil {
			return "active must be true or false"
		}
		u.Status = map[bool]string{true: "ENABLED", false: "DISABLED"}[active]
		u.SCIMActive = nil
		return ""
	case "displayName":
		return str(&u.DisplayName)
	case "name.givenName":
		return str(&u.GivenName)
	case "name.familyName":
		return str(&u.FamilyName)
	case "title":
		return str(&u.Title)
	case "externalId":
		return str(&u.ExternalID)
	case "userName":
		return str(&u.UserName)
	case "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department":
		return str(&u.Department)
	case `emails[type eq "work"].value`, "emails":
		var email string
		if json.Unmarshal(value, &email) == nil {
			u.Email = email
			return ""
		}
		var list []struct {
			Value string `json:"value"`
		}
		if json.Unmarshal(value, &list) != nil || len(list) > 1 {
			return "Only one email is supported"
		}
		u.Email = ""
		if len(list) == 1 {
			u.Email = list[0].Value
		}
		return ""
	}
	return "Unsupported attribute path " + path
}
