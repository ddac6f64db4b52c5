package awsfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
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
	if r.Method == http.MethodPatch && resource == "Users" && id != "" {
		s.mu.Lock()
		out, status, code, detail := s.scimPatchUser(id, r)
		s.mu.Unlock()
		if status != http.StatusOK {
			scimError(w, status, code, detail)
			return
		}
		w.Header().Set("Content-Type", "application/scim+json")
		json.NewEncoder(w).Encode(out)
		return
	}
	if r.Method != http.MethodGet {
		scimError(w, http.StatusBadRequest, "ValidationException", "awsfake serves SCIM reads and PATCH of a user; "+r.Method+" "+resource+" is not emulated")
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

// scimPatchUser applies a PatchOp to a user; awsfake models the "active"
// attribute, which is the user's status. The caller holds s.mu.
func (s *Server) scimPatchUser(id string, r *http.Request) (any, int, string, string) {
	u := s.ic.Users[id]
	if u == nil {
		return nil, http.StatusNotFound, "ResourceNotFoundException", "User " + id + " not found"
	}
	var body struct {
		Schemas    []string
		Operations []struct {
			Op    string
			Path  string
			Value json.RawMessage
		}
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || len(body.Operations) == 0 {
		return nil, http.StatusBadRequest, "ValidationException", "The request body is not a SCIM PatchOp with Operations"
	}
	if len(body.Operations) > 100 {
		return nil, http.StatusBadRequest, "ValidationException", "A PATCH request may hold at most 100 operations"
	}
	for _, op := range body.Operations {
		if !strings.EqualFold(op.Op, "replace") || op.Path != "active" {
			return nil, http.StatusBadRequest, "ValidationException", "awsfake models only replace of active in a user PATCH"
		}
		var active bool
		if err := json.Unmarshal(op.Value, &active); err != nil {
			return nil, http.StatusBadRequest, "ValidationException", "active must be true or false"
		}
		u.Status = map[bool]string{true: "ENABLED", false: "DISABLED"}[active]
		u.SCIMActive = nil
	}
	return scimUser(u), http.StatusOK, "", ""
}
