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
	"UpdateGroup":                   (*Server).updateGroup,
	"UpdateLoginProfile":            (*Server).updateLoginProfile,
	"PutUserPermissionsBoundary":    putPermissionsBoundary("User"),
	"PutRolePermissionsBoundary":    putPermissionsBoundary("Role"),
	"DeleteUserPermissionsBoundary": deletePermissionsBoundary("User"),
	"DeleteRolePermissionsBoundary": deletePermissionsBoundary("Role"),
}

// newPathAndName reads an update's NewPath and New<kind>Name (at most max
// characters) for the entity of m now at path with name: the path and name
// it will have, refusing a name another entity of m has in any case.
func newPathAndName[V any](r *request, m map[string]V, kind, path, name string, max int) (string, string, *apiError) {
	if v := r.get("NewPath"); v != "" {
		p, e := checkPath(v)
		if e != nil {
			return "", "", e
		}
		path = p
	}
	if v := r.get("New" + kind + "Name"); v != "" {
		if e := checkName(v, "new"+kind+"Name", max); e != nil {
			return "", "", e
		}
		for n := range m {
			if n != name && strings.EqualFold(n, v) {
				return "", "", errEntityExists(kind + " with name " + v + " already exists.")
			}
		}
		name = v
	}
	return path, name, nil
}

// rename replaces from with to in names, in place: a renamed user in its
// groups' member lists, a renamed group in its members' group lists.
func rename(names []string, from, to string) {
	for i, n := range names {
		if n == from {
			names[i] = to
		}
	}
}

// updateUser moves a user to NewPath and renames it to NewUserName: its
// ARN follows, and its groups, keys and MFA devices stay its own.
func (s *Server) updateUser(a *Account, r *request) (any, *apiError) {
	u, e := userOf(a, r)
	if e != nil {
		return nil, e
	}
	path, name, e := newPathAndName(r, a.IAM.Users, "User", u.Path, u.Name, 64)
	if e != nil {
		return nil, e
	}
	oldARN := u.ARN
	delete(a.IAM.Users, u.Name)
	for _, g := range u.Groups {
		if grp := a.IAM.Groups[g]; grp != nil {
			rename(grp.Members, u.Name, name)
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

// updateGroup moves a group to NewPath and renames it to NewGroupName; its
// members' group lists follow.
func (s *Server) updateGroup(a *Account, r *request) (any, *apiError) {
	g, e := groupOf(a, r)
	if e != nil {
		return nil, e
	}
	path, name, e := newPathAndName(r, a.IAM.Groups, "Group", g.Path, g.Name, 128)
	if e != nil {
		return nil, e
	}
	delete(a.IAM.Groups, g.Name)
	for _, m := range g.Members {
		if u := a.IAM.Users[m]; u != nil {
			rename(u.Groups, g.Name, name)
		}
	}
	g.Name, g.Path, g.ARN = name, path, "arn:aws:iam::"+a.ID+":group"+path+name
	a.IAM.Groups[name] = g
	return fields{}, nil
}

// updateLoginProfile changes a user's console password or whether it must
// be reset at the next sign-in.
func (s *Server) updateLoginProfile(a *Account, r *request) (any, *apiError) {
	u, e := userOf(a, r)
	if e != nil {
		return nil, e
	}
	if u.LoginProfile == nil {
		return nil, errNoSuchEntity("Login Profile for User " + u.Name + " cannot be found.")
	}
	if _, ok := r.form["Password"]; ok {
		pw := r.get("Password")
		if len(pw) < 8 {
			return nil, &apiError{status: http.StatusBadRequest, code: "PasswordPolicyViolation", message: "Password should have a minimum length of 8"}
		}
		u.LoginProfile.Password = pw
		u.LoginProfile.PasswordLastChanged = s.now()
	}
	if v, ok := r.form["PasswordResetRequired"]; ok {
		u.LoginProfile.PasswordResetRequired = v[0] == "true"
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
