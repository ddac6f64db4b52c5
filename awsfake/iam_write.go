package awsfake

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
)

// This file holds IAM's write actions on users, groups, their credentials
// and every principal's policies (roles: iam_roles.go; managed policies:
// iam_policies.go; tags: iam_tags.go; MFA: iam_mfa.go), with AWS's
// semantics: names validated, EntityAlreadyExists and NoSuchEntity, DeleteConflict while a
// user still has a dependency (and, with Options.DeleteConflictWindow, for a
// short while after the last one is removed, as AWS's eventual consistency
// shows it), LimitExceeded at AWS's default quotas, and
// MalformedPolicyDocument.

// IAM's default quotas the emulator enforces.
const (
	maxManagedPoliciesPerPrincipal = 10
	maxAccessKeysPerUser           = 2
	maxGroupsPerUser               = 10
)

// Inline policy size quotas: the aggregate of a principal's inline policy
// documents, whitespace excluded.
var inlineQuota = map[string]int{"User": 2048, "Group": 5120, "Role": 10240}

func errEntityExists(msg string) *apiError {
	return &apiError{status: http.StatusConflict, code: "EntityAlreadyExists", message: msg}
}

func errDeleteConflict(msg string) *apiError {
	return &apiError{status: http.StatusConflict, code: "DeleteConflict", message: msg}
}

func errLimit(msg string) *apiError {
	return &apiError{status: http.StatusConflict, code: "LimitExceeded", message: msg}
}

// denyAllPolicy is AWSDenyAll, the AWS managed policy that denies every
// action, which deactivation attaches.
func denyAllPolicy() *ManagedPolicy {
	t := time.Date(2019, 5, 1, 0, 0, 0, 0, time.UTC)
	return &ManagedPolicy{Name: "AWSDenyAll", ID: "ANPAYSJ4FDHGXPQVJ7MB6", Path: "/", ARN: "arn:aws:iam::aws:policy/AWSDenyAll",
		CreatedAt: t, UpdatedAt: t, DefaultVersionID: "v1", IsAttachable: true,
		Versions: []*PolicyVersion{{ID: "v1", CreatedAt: t, Document: `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}`}}}
}

// iamWriteHandlers serve IAM's write actions on users, groups and their
// credentials, and the attachments and inline policies of every principal.
var iamWriteHandlers = map[string]iamHandler{
	"CreateUser":                      (*Server).createUser,
	"DeleteUser":                      (*Server).deleteUser,
	"CreateGroup":                     (*Server).createGroup,
	"DeleteGroup":                     (*Server).deleteGroup,
	"AddUserToGroup":                  (*Server).addUserToGroup,
	"RemoveUserFromGroup":             (*Server).removeUserFromGroup,
	"AttachUserPolicy":                attachPolicy("User"),
	"AttachGroupPolicy":               attachPolicy("Group"),
	"AttachRolePolicy":                attachPolicy("Role"),
	"DetachUserPolicy":                detachPolicy("User"),
	"DetachGroupPolicy":               detachPolicy("Group"),
	"DetachRolePolicy":                detachPolicy("Role"),
	"PutUserPolicy":                   putInlinePolicy("User"),
	"PutGroupPolicy":                  putInlinePolicy("Group"),
	"PutRolePolicy":                   putInlinePolicy("Role"),
	"DeleteUserPolicy":                deleteInlinePolicy("User"),
	"DeleteGroupPolicy":               deleteInlinePolicy("Group"),
	"DeleteRolePolicy":                deleteInlinePolicy("Role"),
	"CreateLoginProfile":              (*Server).createLoginProfile,
	"DeleteLoginProfile":              (*Server).deleteLoginProfile,
	"CreateAccessKey":                 (*Server).createAccessKey,
	"UpdateAccessKey":                 (*Server).updateAccessKey,
	"DeleteAccessKey":                 (*Server).deleteAccessKey,
	"ListSigningCertificates":         listOtherCredentials(signingCertificates),
	"DeleteSigningCertificate":        deleteOtherCredential(signingCertificates),
	"ListSSHPublicKeys":               listOtherCredentials(sshPublicKeys),
	"DeleteSSHPublicKey":              deleteOtherCredential(sshPublicKeys),
	"ListServiceSpecificCredentials":  listOtherCredentials(serviceCredentials),
	"DeleteServiceSpecificCredential": deleteOtherCredential(serviceCredentials),
}

// touched records that a user's dependencies changed, for the
// DeleteConflict window.
func (s *Server) touched(a *Account, user string) {
	if s.recent == nil {
		s.recent = map[string]time.Time{}
	}
	s.recent[a.ID+"/"+user] = s.now()
}

func (s *Server) createUser(a *Account, r *request) (any, *apiError) {
	name, path, e := newNameAndPath(r, "UserName", 64)
	if e != nil {
		return nil, e
	}
	if e := vacant(a.IAM.Users, name, "User with name "+name+" already exists.", "UsersPerAccount", maxUsersPerAccount); e != nil {
		return nil, e
	}
	boundaryARN := r.get("PermissionsBoundary")
	if boundaryARN != "" {
		if _, e := s.policyOf(a, boundaryARN); e != nil {
			return nil, e
		}
	}
	ts, e := r.tags()
	if e != nil {
		return nil, e
	}
	s.nextID++
	u := &User{Name: name, ID: fmt.Sprintf("AIDAFAKEW%012d", s.nextID), Path: path, ARN: "arn:aws:iam::" + a.ID + ":user" + path + name,
		CreatedAt: s.now(), PermissionsBoundary: boundaryARN, InlinePolicies: map[string]string{}, Tags: ts}
	a.IAM.Users[name] = u
	x := s.xmlUser(u)
	x.Tags = tags(u.Tags)
	return fields{field("User", x)}, nil
}

// deleteUser refuses while any dependency remains, naming the first, as
// AWS does.
func (s *Server) deleteUser(a *Account, r *request) (any, *apiError) {
	u, e := userOf(a, r)
	if e != nil {
		return nil, e
	}
	switch {
	case u.LoginProfile != nil:
		return nil, errDeleteConflict("Cannot delete entity, must delete login profile first.")
	case len(u.AccessKeys) > 0:
		return nil, errDeleteConflict("Cannot delete entity, must delete access keys first.")
	case len(u.SigningCertificates) > 0:
		return nil, errDeleteConflict("Cannot delete entity, must delete signing certificates first.")
	case len(u.SSHPublicKeys) > 0:
		return nil, errDeleteConflict("Cannot delete entity, must delete SSH public keys first.")
	case len(u.ServiceCredentials) > 0:
		return nil, errDeleteConflict("Cannot delete entity, must delete service specific credentials first.")
	case len(u.MFADevices) > 0:
		return nil, errDeleteConflict("Cannot delete entity, must delete MFA device first.")
	case len(u.Groups) > 0:
		return nil, errDeleteConflict("Cannot delete entity, must remove users from group first.")
	case len(u.AttachedPolicies) > 0:
		return nil, errDeleteConflict("Cannot delete entity, must detach all policies first.")
	case len(u.InlinePolicies) > 0:
		return nil, errDeleteConflict("Cannot delete entity, must delete policies first.")
	}
	if w := s.opts.DeleteConflictWindow; w > 0 {
		if t, ok := s.recent[a.ID+"/"+u.Name]; ok && s.now().Sub(t) < w {
			return nil, &apiError{status: http.StatusConflict, code: "ConcurrentModification",
				message: "The request was rejected because multiple requests to change this object were submitted simultaneously. Wait a few minutes and submit your request again."}
		}
	}
	delete(a.IAM.Users, u.Name)
	return fields{}, nil
}

func (s *Server) createGroup(a *Account, r *request) (any, *apiError) {
	name, path, e := newNameAndPath(r, "GroupName", 128)
	if e != nil {
		return nil, e
	}
	if e := vacant(a.IAM.Groups, name, "Group with name "+name+" already exists.", "GroupsPerAccount", maxGroupsPerAccount); e != nil {
		return nil, e
	}
	s.nextID++
	g := &Group{Name: name, ID: fmt.Sprintf("AGPAFAKEW%012d", s.nextID), Path: path, ARN: "arn:aws:iam::" + a.ID + ":group" + path + name,
		CreatedAt: s.now(), InlinePolicies: map[string]string{}}
	a.IAM.Groups[name] = g
	return fields{field("Group", xmlGroupOf(g))}, nil
}

// deleteGroup refuses while the group has members or policies, as AWS
// does.
func (s *Server) deleteGroup(a *Account, r *request) (any, *apiError) {
	g, e := groupOf(a, r)
	if e != nil {
		return nil, e
	}
	switch {
	case len(g.Members) > 0:
		return nil, errDeleteConflict("Cannot delete entity, must remove users from group first.")
	case len(g.AttachedPolicies) > 0:
		return nil, errDeleteConflict("Cannot delete entity, must detach all policies first.")
	case len(g.InlinePolicies) > 0:
		return nil, errDeleteConflict("Cannot delete entity, must delete policies first.")
	}
	delete(a.IAM.Groups, g.Name)
	return fields{}, nil
}

func (s *Server) addUserToGroup(a *Account, r *request) (any, *apiError) {
	g, e := groupOf(a, r)
	if e != nil {
		return nil, e
	}
	u, e := userOf(a, r)
	if e != nil {
		return nil, e
	}
	if slices.Contains(u.Groups, g.Name) {
		return fields{}, nil // AWS answers success for an existing membership
	}
	if len(u.Groups) >= maxGroupsPerUser {
		return nil, errLimit(fmt.Sprintf("Cannot exceed quota for GroupsPerUser: %d", maxGroupsPerUser))
	}
	u.Groups = append(u.Groups, g.Name)
	g.Members = append(g.Members, u.Name)
	return fields{}, nil
}

func (s *Server) removeUserFromGroup(a *Account, r *request) (any, *apiError) {
	g, e := groupOf(a, r)
	if e != nil {
		return nil, e
	}
	u, e := userOf(a, r)
	if e != nil {
		return nil, e
	}
	if !slices.Contains(u.Groups, g.Name) {
		return nil, errNoSuchEntity("The user with name " + u.Name + " cannot be found in group " + g.Name + ".")
	}
	u.Groups = slices.DeleteFunc(u.Groups, func(n string) bool { return n == g.Name })
	g.Members = slices.DeleteFunc(g.Members, func(n string) bool { return n == u.Name })
	s.touched(a, u.Name)
	return fields{}, nil
}

// principal is the user, group or role an action names: its name and the
// policies an action may change.
type principal struct {
	kind     string // User, Group or Role
	name     string
	attached *[]string
	inline   map[string]string
}

// principalOf finds the principal of the given kind an action names.
func principalOf(a *Account, r *request, kind string) (principal, *apiError) {
	switch kind {
	case "User":
		u, e := userOf(a, r)
		if e != nil {
			return principal{}, e
		}
		return principal{kind, u.Name, &u.AttachedPolicies, u.InlinePolicies}, nil
	case "Group":
		g, e := groupOf(a, r)
		if e != nil {
			return principal{}, e
		}
		return principal{kind, g.Name, &g.AttachedPolicies, g.InlinePolicies}, nil
	}
	ro, e := roleOf(a, r)
	if e != nil {
		return principal{}, e
	}
	return principal{kind, ro.Name, &ro.AttachedPolicies, ro.InlinePolicies}, nil
}

// attachPolicy serves Attach{User,Group,Role}Policy.
func attachPolicy(kind string) iamHandler {
	return func(s *Server, a *Account, r *request) (any, *apiError) {
		p, e := principalOf(a, r, kind)
		if e != nil {
			return nil, e
		}
		arn := r.get("PolicyArn")
		policy, e := s.policyOf(a, arn)
		if e != nil {
			return nil, e
		}
		if !policy.IsAttachable {
			return nil, &apiError{status: http.StatusBadRequest, code: "PolicyNotAttachable", message: "Policy " + arn + " is not attachable."}
		}
		if slices.Contains(*p.attached, arn) {
			return fields{}, nil
		}
		if len(*p.attached) >= maxManagedPoliciesPerPrincipal {
			return nil, errLimit(fmt.Sprintf("Cannot exceed quota for PoliciesPer%s: %d", kind, maxManagedPoliciesPerPrincipal))
		}
		*p.attached = append(*p.attached, arn)
		return fields{}, nil
	}
}

// detachPolicy serves Detach{User,Group,Role}Policy.
func detachPolicy(kind string) iamHandler {
	return func(s *Server, a *Account, r *request) (any, *apiError) {
		p, e := principalOf(a, r, kind)
		if e != nil {
			return nil, e
		}
		arn := r.get("PolicyArn")
		if _, e := s.policyOf(a, arn); e != nil {
			return nil, e
		}
		if !slices.Contains(*p.attached, arn) {
			return nil, errNoSuchEntity("Policy " + arn + " was not found.")
		}
		*p.attached = slices.DeleteFunc(*p.attached, func(x string) bool { return x == arn })
		if kind == "User" {
			s.touched(a, p.name)
		}
		return fields{}, nil
	}
}

var policyNameRE = regexp.MustCompile(`^[\w+=,.@-]{1,128}$`)

func checkPolicyName(name string) *apiError {
	if !policyNameRE.MatchString(name) {
		return errValidation("1 validation error detected: Value '" + name + "' at 'policyName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+")
	}
	return nil
}

// putInlinePolicy serves Put{User,Group,Role}Policy: a document IAM
// accepts, within the principal's aggregate inline size quota.
func putInlinePolicy(kind string) iamHandler {
	return func(s *Server, a *Account, r *request) (any, *apiError) {
		p, e := principalOf(a, r, kind)
		if e != nil {
			return nil, e
		}
		policy := r.get("PolicyName")
		if e := checkPolicyName(policy); e != nil {
			return nil, e
		}
		doc := r.get("PolicyDocument")
		if e := checkIAMPolicyDocument(doc, "policyDocument", identityPolicy); e != nil {
			return nil, e
		}
		total := nonSpace(doc)
		for n, d := range p.inline {
			if n != policy {
				total += nonSpace(d)
			}
		}
		if q := inlineQuota[kind]; total > q {
			return nil, errLimit(fmt.Sprintf("Maximum policy size of %d bytes exceeded for %s %s", q, strings.ToLower(kind), p.name))
		}
		p.inline[policy] = doc
		return fields{}, nil
	}
}

// deleteInlinePolicy serves Delete{User,Group,Role}Policy.
func deleteInlinePolicy(kind string) iamHandler {
	return func(s *Server, a *Account, r *request) (any, *apiError) {
		p, e := principalOf(a, r, kind)
		if e != nil {
			return nil, e
		}
		policy := r.get("PolicyName")
		if e := checkPolicyName(policy); e != nil {
			return nil, e
		}
		if _, ok := p.inline[policy]; !ok {
			return nil, errNoSuchEntity("The " + strings.ToLower(kind) + " policy with name " + policy + " cannot be found.")
		}
		delete(p.inline, policy)
		if kind == "User" {
			s.touched(a, p.name)
		}
		return fields{}, nil
	}
}

// nonSpace counts the characters IAM's size quotas count.
func nonSpace(s string) int {
	n := 0
	for _, r := range s {
		if !unicode.IsSpace(r) {
			n++
		}
	}
	return n
}

func (s *Server) createLoginProfile(a *Account, r *request) (any, *apiError) {
	u, e := userOf(a, r)
	if e != nil {
		return nil, e
	}
	if u.LoginProfile != nil {
		return nil, errEntityExists("Login Profile for user " + u.Name + " already exists.")
	}
	pw := r.get("Password")
	if len(pw) < 8 {
		return nil, &apiError{status: http.StatusBadRequest, code: "PasswordPolicyViolation", message: "Password should have a minimum length of 8"}
	}
	now := s.now()
	u.LoginProfile = &LoginProfile{CreatedAt: now, PasswordResetRequired: r.get("PasswordResetRequired") == "true", PasswordLastChanged: now, Password: pw}
	return fields{field("LoginProfile", xmlLoginProfile{u.Name, awsTime(now), u.LoginProfile.PasswordResetRequired})}, nil
}

func (s *Server) deleteLoginProfile(a *Account, r *request) (any, *apiError) {
	u, e := userOf(a, r)
	if e != nil {
		return nil, e
	}
	if u.LoginProfile == nil {
		return nil, errNoSuchEntity("Login Profile for User " + u.Name + " cannot be found.")
	}
	u.LoginProfile = nil
	s.touched(a, u.Name)
	return fields{}, nil
}

func (s *Server) createAccessKey(a *Account, r *request) (any, *apiError) {
	u, e := userOf(a, r)
	if e != nil {
		return nil, e
	}
	if len(u.AccessKeys) >= maxAccessKeysPerUser {
		return nil, errLimit(fmt.Sprintf("Cannot exceed quota for AccessKeysPerUser: %d", maxAccessKeysPerUser))
	}
	s.nextID++
	k := &AccessKey{ID: fmt.Sprintf("AKIAFAKEW%011d", s.nextID), Secret: fmt.Sprintf("fake-new-secret-%024d", s.nextID), Status: "Active",
		CreatedAt: s.now(), LastUsedService: "N/A", LastUsedRegion: "N/A"}
	u.AccessKeys = append(u.AccessKeys, k)
	s.keys[k.ID] = caller{account: a.ID, arn: u.ARN, userID: u.ID, secret: k.Secret}
	return fields{field("AccessKey", struct {
		UserName        string `xml:"UserName"`
		AccessKeyID     string `xml:"AccessKeyId"`
		Status          string `xml:"Status"`
		SecretAccessKey string `xml:"SecretAccessKey"`
		CreateDate      string `xml:"CreateDate"`
	}{u.Name, k.ID, k.Status, k.Secret, awsTime(k.CreatedAt)})}, nil
}

// accessKeyOf finds the key an action names among its user's.
func accessKeyOf(a *Account, r *request) (*User, int, *apiError) {
	u, e := userOf(a, r)
	if e != nil {
		return nil, 0, e
	}
	id := r.get("AccessKeyId")
	i := slices.IndexFunc(u.AccessKeys, func(k *AccessKey) bool { return k.ID == id })
	if i < 0 {
		return nil, 0, errNoSuchEntity("The Access Key with id " + id + " cannot be found.")
	}
	return u, i, nil
}

func (s *Server) updateAccessKey(a *Account, r *request) (any, *apiError) {
	u, i, e := accessKeyOf(a, r)
	if e != nil {
		return nil, e
	}
	st := r.get("Status")
	if st != "Active" && st != "Inactive" {
		return nil, errValidation("1 validation error detected: Value '" + st + "' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]")
	}
	u.AccessKeys[i].Status = st
	return fields{}, nil
}

func (s *Server) deleteAccessKey(a *Account, r *request) (any, *apiError) {
	u, i, e := accessKeyOf(a, r)
	if e != nil {
		return nil, e
	}
	delete(s.keys, u.AccessKeys[i].ID)
	u.AccessKeys = slices.Delete(u.AccessKeys, i, i+1)
	s.touched(a, u.Name)
	return fields{}, nil
}

// otherCredential is one kind of a user's other credentials: signing
// certificates, SSH public keys, service-specific credentials.
type otherCredential struct {
	list    func(*User) *[]string
	idParam string // the request parameter and the listed ID field
	member  string // the listing's element
	what    string // as IAM's messages name it
}

var (
	signingCertificates = otherCredential{func(u *User) *[]string { return &u.SigningCertificates }, "CertificateId", "Certificates", "signing certificate"}
	sshPublicKeys       = otherCredential{func(u *User) *[]string { return &u.SSHPublicKeys }, "SSHPublicKeyId", "SSHPublicKeys", "SSH public key"}
	serviceCredentials  = otherCredential{func(u *User) *[]string { return &u.ServiceCredentials }, "ServiceSpecificCredentialId", "ServiceSpecificCredentials", "service specific credential"}
)

// listOtherCredentials serves ListSigningCertificates, ListSSHPublicKeys
// and ListServiceSpecificCredentials.
func listOtherCredentials(c otherCredential) iamHandler {
	return func(s *Server, a *Account, r *request) (any, *apiError) {
		u, e := userOf(a, r)
		if e != nil {
			return nil, e
		}
		var items []any
		for _, id := range *c.list(u) {
			items = append(items, credentialItem(c.idParam, u.Name, id, awsTime(u.CreatedAt), u.credentialStatus(id)))
		}
		return paged(r, items, c.member)
	}
}

// deleteOtherCredential serves DeleteSigningCertificate, DeleteSSHPublicKey
// and DeleteServiceSpecificCredential.
func deleteOtherCredential(c otherCredential) iamHandler {
	return func(s *Server, a *Account, r *request) (any, *apiError) {
		u, e := userOf(a, r)
		if e != nil {
			return nil, e
		}
		id := r.get(c.idParam)
		list := c.list(u)
		if !slices.Contains(*list, id) {
			return nil, errNoSuchEntity("The " + c.what + " with id " + id + " cannot be found.")
		}
		*list = slices.DeleteFunc(*list, func(x string) bool { return x == id })
		s.touched(a, u.Name)
		return fields{}, nil
	}
}

// Items of the other-credential listings, as IAM writes them.
type (
	xmlSigningCertificate struct {
		UserName        string `xml:"UserName"`
		CertificateID   string `xml:"CertificateId"`
		CertificateBody string `xml:"CertificateBody"`
		Status          string `xml:"Status"`
		UploadDate      string `xml:"UploadDate"`
	}
	xmlSSHPublicKey struct {
		UserName       string `xml:"UserName"`
		SSHPublicKeyID string `xml:"SSHPublicKeyId"`
		Status         string `xml:"Status"`
		UploadDate     string `xml:"UploadDate"`
	}
	xmlServiceCredential struct {
		UserName                    string `xml:"UserName"`
		ServiceSpecificCredentialID string `xml:"ServiceSpecificCredentialId"`
		ServiceUserName             string `xml:"ServiceUserName"`
		ServiceName                 string `xml:"ServiceName"`
		Status                      string `xml:"Status"`
		CreateDate                  string `xml:"CreateDate"`
	}
)

// credentialItem is one listed credential of the kind idField names.
func credentialItem(idField, user, id, date, status string) any {
	switch idField {
	case "CertificateId":
		return xmlSigningCertificate{UserName: user, CertificateID: id, CertificateBody: "-----BEGIN CERTIFICATE-----\nfake\n-----END CERTIFICATE-----", Status: status, UploadDate: date}
	case "SSHPublicKeyId":
		return xmlSSHPublicKey{UserName: user, SSHPublicKeyID: id, Status: status, UploadDate: date}
	}
	return xmlServiceCredential{UserName: user, ServiceSpecificCredentialID: id, ServiceUserName: user + "-at-" + id[len(id)-4:],
		ServiceName: "codecommit.amazonaws.com", Status: status, CreateDate: date}
}

type xmlVirtualMFADevice struct {
	SerialNumber string   `xml:"SerialNumber"`
	User         *xmlUser `xml:"User,omitempty"`
	EnableDate   string   `xml:"EnableDate,omitempty"`
}

// listVirtualMFADevices lists virtual MFA devices by AssignmentStatus
// (Assigned, Unassigned or Any, the default).
func listVirtualMFADevices(a *Account, r *request) (any, *apiError) {
	status := r.get("AssignmentStatus")
	switch status {
	case "":
		status = "Any"
	case "Any", "Assigned", "Unassigned":
	default:
		return nil, errValidation(fmt.Sprintf("1 validation error detected: Value '%s' at 'assignmentStatus' failed to satisfy constraint: Member must satisfy enum value set: [Unassigned, Any, Assigned]", status))
	}
	var items []any
	if status == "Any" || status == "Assigned" {
		for _, n := range sortedKeys(a.IAM.Users) {
			u := a.IAM.Users[n]
			for _, m := range u.MFADevices {
				if m.Virtual {
					items = append(items, xmlVirtualMFADevice{SerialNumber: m.SerialNumber, EnableDate: awsTime(m.EnabledAt),
						User: &xmlUser{Path: u.Path, UserName: u.Name, UserID: u.ID, Arn: u.ARN, CreateDate: awsTime(u.CreatedAt)}})
				}
			}
		}
	}
	if status == "Any" || status == "Unassigned" {
		for _, serial := range a.IAM.UnassignedVirtualMFA {
			items = append(items, xmlVirtualMFADevice{SerialNumber: serial})
		}
	}
	return paged(r, items, "VirtualMFADevices")
}
