package awsfake

import (
	"net/http"
	"strings"
)

// This file holds IAM's updates of existing users and their permissions
// boundaries, the calls a declarative tool makes to converge an entity
// that exists (a new path or name; a boundary set, changed or removed).

// iamUpdateHandlers serve the update actions.
var iamUpdateHandlers = map[string]iamHandler{
	"UpdateUser":                    (*Server).updateUser,
	"PutUserPermissionsBoundary":    putPermissionsBoundary("User"),
	"PutRolePermissionsBoundary":    putPermissionsBoundary("Role"),
	"DeleteUserPermissionsBoundary": deletePermissionsBoundary("User"),
	"DeleteRolePermissionsBoundary": deletePermissionsBoundary("Role"),
}

// updateUser moves a user to NewPath and renames it to NewUserName: its
// ARN follows, and its groups, keys and MFA devices stay its own.
func (s *Server) updateUser(a *Account, r *request) (any, *apiError) {
	u, e := userOf(a, r)
	if e != nil {
		return nil, e
	}
	path, name := u.Path, u.Name
	if v := r.get("NewPath"); v != "" {
		if path, e = checkPath(v); e != nil {
			return nil, e
		}
	}
	if v := r.get("NewUserName"); v != "" {
		if e := checkName(v, "newUserName", 64); e != nil {
			return nil, e
		}
		for n := range a.IAM.Users {
			if n != u.Name && strings.EqualFold(n, v) {
				return nil, errEntityExists("User with name " + v + " already exists.")
			}
		}
		name = v
	}
	oldARN := u.ARN
	delete(a.IAM.Users, u.Name)
	for _, g := range u.Groups {
		if grp := a.IAM.Groups[g]; grp != nil {
			for i, m := range grp.Members {
				if m == u.Name {
					grp.Members[i] = name
				}
			}
		}
	}
	u.Name, u.Path, u.ARN = name, path, "arn:aws:iam::"+a.ID+":user"+path+name
	a.IAM.Users[name] = u
	for id, c := range s.keys {
		if c.account == a.ID && c.arn == oldARN {
			c.arn = u.ARN
			s.keys[id] = c
		}
	}
	return fields{}, nil
}

// boundaryOf finds the permissions boundary field of the user or role an
// action names.
func boundaryOf(a *Account, r *request, kind string) (*string, *apiError) {
	if kind == "User" {
		u, e := userOf(a, r)
		if e != nil {
			return nil, e
		}
		return &u.PermissionsBoundary, nil
	}
	ro, e := roleOf(a, r)
	if e != nil {
		return nil, e
	}
	return &ro.PermissionsBoundary, nil
}

// putPermissionsBoundary serves Put{User,Role}PermissionsBoundary.
func putPermissionsBoundary(kind string) iamHandler {
	return func(s *Server, a *Account, r *request) (any, *apiError) {
		b, e := boundaryOf(a, r, kind)
		if e != nil {
			return nil, e
		}
		arn := r.get("PermissionsBoundary")
		p, e := s.policyOf(a, arn)
		if e != nil {
			return nil, e
		}
		if !p.IsAttachable {
			return nil, &apiError{status: http.StatusBadRequest, code: "PolicyNotAttachable", message: "Policy " + arn + " is not attachable."}
		}
		*b = arn
		return fields{}, nil
	}
}

// deletePermissionsBoundary serves Delete{User,Role}PermissionsBoundary.
func deletePermissionsBoundary(kind string) iamHandler {
	return func(s *Server, a *Account, r *request) (any, *apiError) {
		b, e := boundaryOf(a, r, kind)
		if e != nil {
			return nil, e
		}
		*b = ""
		return fields{}, nil
	}
}
