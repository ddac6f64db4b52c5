package awsfake

import (
	"fmt"
	"slices"
	"strconv"
)

// This file holds IAM's role and instance profile actions. A role's trust
// policy is checked as a trust policy (a Principal, no Resource) within
// IAM's 2,048-character quota; a role is deleted only once it is out of
// every instance profile and holds no policy; an instance profile holds at
// most one role.

// maxTrustPolicySize is IAM's quota of a role's trust policy, whitespace
// excluded.
const maxTrustPolicySize = 2048

// iamRoleHandlers serve the role actions.
var iamRoleHandlers = map[string]iamHandler{
	"CreateRole":             (*Server).createRole,
	"GetRole":                (*Server).getRole,
	"DeleteRole":             (*Server).deleteRole,
	"UpdateRole":             (*Server).updateRole,
	"UpdateAssumeRolePolicy": (*Server).updateAssumeRolePolicy,
}

// iamInstanceProfileHandlers serve the instance profile actions.
var iamInstanceProfileHandlers = map[string]iamHandler{
	"CreateInstanceProfile":         (*Server).createInstanceProfile,
	"GetInstanceProfile":            (*Server).getInstanceProfile,
	"DeleteInstanceProfile":         (*Server).deleteInstanceProfile,
	"AddRoleToInstanceProfile":      (*Server).addRoleToInstanceProfile,
	"RemoveRoleFromInstanceProfile": (*Server).removeRoleFromInstanceProfile,
	"ListInstanceProfiles":          (*Server).listInstanceProfiles,
	"ListInstanceProfilesForRole":   (*Server).listInstanceProfilesForRole,
}

// checkTrustPolicy checks a role's trust policy document given in param.
func checkTrustPolicy(doc, param string) *apiError {
	if e := checkIAMPolicyDocument(doc, param, trustPolicy); e != nil {
		return e
	}
	if nonSpace(doc) > maxTrustPolicySize {
		return errLimit(fmt.Sprintf("Cannot exceed quota for ACLSizePerRole: %d", maxTrustPolicySize))
	}
	return nil
}

// maxSessionDuration reads MaxSessionDuration: 3600 to 43200 seconds,
// 3600 when not given (ok is false then).
func maxSessionDuration(r *request) (n int32, ok bool, e *apiError) {
	v := r.get("MaxSessionDuration")
	if v == "" {
		return 3600, false, nil
	}
	d, err := strconv.Atoi(v)
	if err != nil || d < 3600 || d > 43200 {
		return 0, false, errValidation("1 validation error detected: Value '" + v + "' at 'maxSessionDuration' failed to satisfy constraint: Member must have value between 3600 and 43200")
	}
	return int32(d), true, nil
}

func checkRoleDescription(d string) *apiError {
	if len([]rune(d)) > 1000 {
		return errValidation("1 validation error detected: Value at 'description' failed to satisfy constraint: Member must have length less than or equal to 1000")
	}
	return nil
}

// roleXML is a role as GetRole and CreateRole return it: with its tags
// and last use.
func roleXML(ro *Role) xmlRole {
	x := xmlRoleOf(ro)
	x.Tags = tags(ro.Tags)
	x.RoleLastUsed = &xmlRoleLastUsed{}
	if ro.LastUsed != nil {
		x.RoleLastUsed = &xmlRoleLastUsed{LastUsedDate: awsTime(*ro.LastUsed), Region: ro.LastUsedRegion}
	}
	return x
}

func (s *Server) createRole(a *Account, r *request) (any, *apiError) {
	name, path, e := newNameAndPath(r, "RoleName", 64)
	if e != nil {
		return nil, e
	}
	desc := r.get("Description")
	if e := checkRoleDescription(desc); e != nil {
		return nil, e
	}
	maxSession, _, e := maxSessionDuration(r)
	if e != nil {
		return nil, e
	}
	trust := r.get("AssumeRolePolicyDocument")
	if e := checkTrustPolicy(trust, "assumeRolePolicyDocument"); e != nil {
		return nil, e
	}
	ts, e := r.tags()
	if e != nil {
		return nil, e
	}
	boundaryARN := r.get("PermissionsBoundary")
	if boundaryARN != "" {
		if _, e := s.policyOf(a, boundaryARN); e != nil {
			return nil, e
		}
	}
	if e := vacant(a.IAM.Roles, name, "Role with name "+name+" already exists.", "RolesPerAccount", maxRolesPerAccount); e != nil {
		return nil, e
	}
	s.nextID++
	ro := &Role{Name: name, ID: fmt.Sprintf("AROAFAKEW%012d", s.nextID), Path: path, ARN: "arn:aws:iam::" + a.ID + ":role" + path + name,
		CreatedAt: s.now(), Description: desc, MaxSessionDuration: maxSession, AssumeRolePolicy: trust, PermissionsBoundary: boundaryARN,
		Tags: ts, InlinePolicies: map[string]string{}}
	a.IAM.Roles[name] = ro
	x := xmlRoleOf(ro)
	x.Tags = tags(ro.Tags)
	return fields{field("Role", x)}, nil
}

func (s *Server) getRole(a *Account, r *request) (any, *apiError) {
	ro, e := roleOf(a, r)
	if e != nil {
		return nil, e
	}
	return fields{field("Role", roleXML(ro))}, nil
}

// deleteRole refuses while the role is in an instance profile or holds a
// policy, as AWS does.
func (s *Server) deleteRole(a *Account, r *request) (any, *apiError) {
	ro, e := roleOf(a, r)
	if e != nil {
		return nil, e
	}
	switch {
	case len(profilesOf(a, ro.Name)) > 0:
		return nil, errDeleteConflict("Cannot delete entity, must remove roles from instance profile first.")
	case len(ro.AttachedPolicies) > 0:
		return nil, errDeleteConflict("Cannot delete entity, must detach all policies first.")
	case len(ro.InlinePolicies) > 0:
		return nil, errDeleteConflict("Cannot delete entity, must delete policies first.")
	}
	delete(a.IAM.Roles, ro.Name)
	return fields{}, nil
}

func (s *Server) updateRole(a *Account, r *request) (any, *apiError) {
	ro, e := roleOf(a, r)
	if e != nil {
		return nil, e
	}
	maxSession, given, e := maxSessionDuration(r)
	if e != nil {
		return nil, e
	}
	if _, ok := r.form["Description"]; ok {
		desc := r.get("Description")
		if e := checkRoleDescription(desc); e != nil {
			return nil, e
		}
		ro.Description = desc
	}
	if given {
		ro.MaxSessionDuration = maxSession
	}
	return fields{}, nil
}

func (s *Server) updateAssumeRolePolicy(a *Account, r *request) (any, *apiError) {
	ro, e := roleOf(a, r)
	if e != nil {
		return nil, e
	}
	doc := r.get("PolicyDocument")
	if e := checkTrustPolicy(doc, "policyDocument"); e != nil {
		return nil, e
	}
	ro.AssumeRolePolicy = doc
	return fields{}, nil
}

type xmlInstanceProfile struct {
	Path                string    `xml:"Path"`
	InstanceProfileName string    `xml:"InstanceProfileName"`
	InstanceProfileID   string    `xml:"InstanceProfileId"`
	Arn                 string    `xml:"Arn"`
	CreateDate          string    `xml:"CreateDate"`
	Roles               []xmlRole `xml:"Roles>member"`
	Tags                []xmlTag  `xml:"Tags>member,omitempty"`
}

// instanceProfileXML is an instance profile with its role, as IAM lists it.
func instanceProfileXML(a *Account, ip *InstanceProfile) xmlInstanceProfile {
	x := xmlInstanceProfile{Path: ip.Path, InstanceProfileName: ip.Name, InstanceProfileID: ip.ID, Arn: ip.ARN, CreateDate: awsTime(ip.CreatedAt),
		Roles: []xmlRole{}}
	for _, n := range ip.Roles {
		if ro := a.IAM.Roles[n]; ro != nil {
			x.Roles = append(x.Roles, xmlRoleOf(ro))
		}
	}
	return x
}

// profilesOf lists the instance profiles holding a role, by name.
func profilesOf(a *Account, role string) []*InstanceProfile {
	var out []*InstanceProfile
	for _, n := range sortedKeys(a.IAM.InstanceProfiles) {
		if ip := a.IAM.InstanceProfiles[n]; slices.Contains(ip.Roles, role) {
			out = append(out, ip)
		}
	}
	return out
}

func instanceProfileOf(a *Account, r *request) (*InstanceProfile, *apiError) {
	name := r.get("InstanceProfileName")
	if ip := a.IAM.InstanceProfiles[name]; ip != nil {
		return ip, nil
	}
	return nil, errNoSuchEntity("Instance Profile " + name + " cannot be found.")
}

func (s *Server) createInstanceProfile(a *Account, r *request) (any, *apiError) {
	name, path, e := newNameAndPath(r, "InstanceProfileName", 128)
	if e != nil {
		return nil, e
	}
	ts, e := r.tags()
	if e != nil {
		return nil, e
	}
	if e := vacant(a.IAM.InstanceProfiles, name, "Instance Profile "+name+" already exists.", "InstanceProfilesPerAccount", maxInstanceProfilesPerAccount); e != nil {
		return nil, e
	}
	s.nextID++
	ip := &InstanceProfile{Name: name, ID: fmt.Sprintf("AIPAFAKEW%012d", s.nextID), Path: path,
		ARN: "arn:aws:iam::" + a.ID + ":instance-profile" + path + name, CreatedAt: s.now(), Tags: ts}
	a.IAM.InstanceProfiles[name] = ip
	x := instanceProfileXML(a, ip)
	x.Tags = tags(ip.Tags)
	return fields{field("InstanceProfile", x)}, nil
}

func (s *Server) getInstanceProfile(a *Account, r *request) (any, *apiError) {
	ip, e := instanceProfileOf(a, r)
	if e != nil {
		return nil, e
	}
	x := instanceProfileXML(a, ip)
	x.Tags = tags(ip.Tags)
	return fields{field("InstanceProfile", x)}, nil
}

func (s *Server) deleteInstanceProfile(a *Account, r *request) (any, *apiError) {
	ip, e := instanceProfileOf(a, r)
	if e != nil {
		return nil, e
	}
	if len(ip.Roles) > 0 {
		return nil, errDeleteConflict("Cannot delete entity, must remove roles from instance profile first.")
	}
	delete(a.IAM.InstanceProfiles, ip.Name)
	return fields{}, nil
}

func (s *Server) addRoleToInstanceProfile(a *Account, r *request) (any, *apiError) {
	ip, e := instanceProfileOf(a, r)
	if e != nil {
		return nil, e
	}
	ro, e := roleOf(a, r)
	if e != nil {
		return nil, e
	}
	if slices.Contains(ip.Roles, ro.Name) {
		return nil, errEntityExists("The role with name " + ro.Name + " is already associated with instance profile " + ip.Name + ".")
	}
	if len(ip.Roles) >= 1 {
		return nil, errLimit("Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1")
	}
	ip.Roles = append(ip.Roles, ro.Name)
	return fields{}, nil
}

func (s *Server) removeRoleFromInstanceProfile(a *Account, r *request) (any, *apiError) {
	ip, e := instanceProfileOf(a, r)
	if e != nil {
		return nil, e
	}
	ro, e := roleOf(a, r)
	if e != nil {
		return nil, e
	}
	if !slices.Contains(ip.Roles, ro.Name) {
		return nil, errNoSuchEntity("The role with name " + ro.Name + " cannot be found in instance profile " + ip.Name + ".")
	}
	ip.Roles = slices.DeleteFunc(ip.Roles, func(n string) bool { return n == ro.Name })
	return fields{}, nil
}

func (s *Server) listInstanceProfiles(a *Account, r *request) (any, *apiError) {
	var items []xmlInstanceProfile
	for _, n := range sortedKeys(a.IAM.InstanceProfiles) {
		items = append(items, instanceProfileXML(a, a.IAM.InstanceProfiles[n]))
	}
	return paged(r, toAny(withPrefix(items, r.get("PathPrefix"), func(x xmlInstanceProfile) string { return x.Path })), "InstanceProfiles")
}

func (s *Server) listInstanceProfilesForRole(a *Account, r *request) (any, *apiError) {
	ro, e := roleOf(a, r)
	if e != nil {
		return nil, e
	}
	var items []xmlInstanceProfile
	for _, ip := range profilesOf(a, ro.Name) {
		items = append(items, instanceProfileXML(a, ip))
	}
	return paged(r, toAny(items), "InstanceProfiles")
}
