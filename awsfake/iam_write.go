package awsfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
)

// This file holds IAM's write actions, with AWS's semantics: names
// validated, EntityAlreadyExists and NoSuchEntity, DeleteConflict while a
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

var iamNameRE = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)

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

// iamWriteAction serves IAM's write actions; ok is false for other actions.
// The caller holds s.mu.
func (s *Server) iamWriteAction(a *Account, r *request) (res any, apiErr *apiError, ok bool) {
	switch r.action {
	case "CreateUser":
		res, apiErr = s.createUser(a, r)
	case "DeleteUser":
		res, apiErr = s.deleteUser(a, r)
	case "AddUserToGroup", "RemoveUserFromGroup":
		res, apiErr = s.groupMembership(a, r)
	case "AttachUserPolicy", "DetachUserPolicy", "AttachGroupPolicy", "DetachGroupPolicy", "AttachRolePolicy", "DetachRolePolicy":
		res, apiErr = s.attachment(a, r)
	case "PutUserPolicy", "DeleteUserPolicy", "PutGroupPolicy", "DeleteGroupPolicy", "PutRolePolicy", "DeleteRolePolicy":
		res, apiErr = s.inlinePolicy(a, r)
	case "CreateLoginProfile", "DeleteLoginProfile":
		res, apiErr = s.loginProfile(a, r)
	case "CreateAccessKey", "UpdateAccessKey", "DeleteAccessKey":
		res, apiErr = s.accessKeyWrite(a, r)
	case "ListSigningCertificates", "DeleteSigningCertificate", "ListSSHPublicKeys", "DeleteSSHPublicKey",
		"ListServiceSpecificCredentials", "DeleteServiceSpecificCredential":
		res, apiErr = s.otherCredentials(a, r)
	case "DeactivateMFADevice", "DeleteVirtualMFADevice":
		res, apiErr = s.mfaWrite(a, r)
	case "ListVirtualMFADevices":
		res, apiErr = listVirtualMFADevices(a, r)
	default:
		return s.iamCredentialAction(a, r)
	}
	return res, apiErr, true
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
	name, path := r.get("UserName"), r.get("Path")
	if !iamNameRE.MatchString(name) {
		return nil, errValidation("1 validation error detected: Value '" + name + "' at 'userName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+")
	}
	if path == "" {
		path = "/"
	}
	if !strings.HasPrefix(path, "/") || !strings.HasSuffix(path, "/") {
		return nil, errValidation("The specified value for path is invalid. It must begin and end with / and contain only alphanumeric characters and/or / characters.")
	}
	for n := range a.IAM.Users {
		if strings.EqualFold(n, name) {
			return nil, errEntityExists("User with name " + name + " already exists.")
		}
	}
	boundaryARN := r.get("PermissionsBoundary")
	if boundaryARN != "" {
		if _, e := s.policyOf(a, boundaryARN); e != nil {
			return nil, e
		}
	}
	s.nextID++
	u := &User{Name: name, ID: fmt.Sprintf("AIDAFAKEW%012d", s.nextID), Path: path, ARN: "arn:aws:iam::" + a.ID + ":user" + path + name,
		CreatedAt: s.now(), PermissionsBoundary: boundaryARN, InlinePolicies: map[string]string{}}
	for i := 1; ; i++ {
		k := r.get(fmt.Sprintf("Tags.member.%d.Key", i))
		if k == "" {
			break
		}
		u.Tags = append(u.Tags, Tag{Key: k, Value: r.get(fmt.Sprintf("Tags.member.%d.Value", i))})
	}
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

func (s *Server) groupMembership(a *Account, r *request) (any, *apiError) {
	g, e := groupOf(a, r)
	if e != nil {
		return nil, e
	}
	u, e := userOf(a, r)
	if e != nil {
		return nil, e
	}
	in := slices.Contains(u.Groups, g.Name)
	if r.action == "AddUserToGroup" {
		if in {
			return fields{}, nil // AWS answers success for an existing membership
		}
		if len(u.Groups) >= maxGroupsPerUser {
			return nil, errLimit(fmt.Sprintf("Cannot exceed quota for GroupsPerUser: %d", maxGroupsPerUser))
		}
		u.Groups = append(u.Groups, g.Name)
		g.Members = append(g.Members, u.Name)
		return fields{}, nil
	}
	if !in {
		return nil, errNoSuchEntity("The user with name " + u.Name + " cannot be found in group " + g.Name + ".")
	}
	u.Groups = slices.DeleteFunc(u.Groups, func(n string) bool { return n == g.Name })
	g.Members = slices.DeleteFunc(g.Members, func(n string) bool { return n == u.Name })
	s.touched(a, u.Name)
	return fields{}, nil
}

// principalOf finds the user, group or role an action names, returning its
// attached policy list and inline policies to change.
func principalOf(a *Account, r *request, kind string) (attached *[]string, inline map[string]string, name string, e *apiError) {
	switch kind {
	case "User":
		u, e := userOf(a, r)
		if e != nil {
			return nil, nil, "", e
		}
		return &u.AttachedPolicies, u.InlinePolicies, u.Name, nil
	case "Group":
		g, e := groupOf(a, r)
		if e != nil {
			return nil, nil, "", e
		}
		return &g.AttachedPolicies, g.InlinePolicies, g.Name, nil
	}
	ro, e := roleOf(a, r)
	if e != nil {
		return nil, nil, "", e
	}
	return &ro.AttachedPolicies, ro.InlinePolicies, ro.Name, nil
}

// kindOf is the principal kind in an action name: AttachUserPolicy → User.
func kindOf(action string) string {
	for _, k := range []string{"User", "Group", "Role"} {
		if strings.Contains(action, k) {
			return k
		}
	}
	return ""
}

func (s *Server) attachment(a *Account, r *request) (any, *apiError) {
	kind := kindOf(r.action)
	attached, _, name, e := principalOf(a, r, kind)
	if e != nil {
		return nil, e
	}
	arn := r.get("PolicyArn")
	if _, e := s.policyOf(a, arn); e != nil {
		return nil, e
	}
	in := slices.Contains(*attached, arn)
	if strings.HasPrefix(r.action, "Attach") {
		if in {
			return fields{}, nil
		}
		if len(*attached) >= maxManagedPoliciesPerPrincipal {
			return nil, errLimit(fmt.Sprintf("Cannot exceed quota for PoliciesPer%s: %d", kind, maxManagedPoliciesPerPrincipal))
		}
		*attached = append(*attached, arn)
		return fields{}, nil
	}
	if !in {
		return nil, errNoSuchEntity("Policy " + arn + " was not found.")
	}
	*attached = slices.DeleteFunc(*attached, func(p string) bool { return p == arn })
	if kind == "User" {
		s.touched(a, name)
	}
	return fields{}, nil
}

func (s *Server) inlinePolicy(a *Account, r *request) (any, *apiError) {
	kind := kindOf(r.action)
	_, inline, name, e := principalOf(a, r, kind)
	if e != nil {
		return nil, e
	}
	policy := r.get("PolicyName")
	if !regexp.MustCompile(`^[\w+=,.@-]{1,128}$`).MatchString(policy) {
		return nil, errValidation("1 validation error detected: Value '" + policy + "' at 'policyName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+")
	}
	if strings.HasPrefix(r.action, "Delete") {
		if _, ok := inline[policy]; !ok {
			return nil, errNoSuchEntity("The " + strings.ToLower(kind) + " policy with name " + policy + " cannot be found.")
		}
		delete(inline, policy)
		if kind == "User" {
			s.touched(a, name)
		}
		return fields{}, nil
	}
	doc := r.get("PolicyDocument")
	if e := checkPolicyDocument(doc); e != nil {
		return nil, e
	}
	total := nonSpace(doc)
	for n, d := range inline {
		if n != policy {
			total += nonSpace(d)
		}
	}
	if q := inlineQuota[kind]; total > q {
		return nil, errLimit(fmt.Sprintf("Maximum policy size of %d bytes exceeded for %s %s", q, strings.ToLower(kind), name))
	}
	inline[policy] = doc
	return fields{}, nil
}

// checkPolicyDocument refuses what IAM calls a MalformedPolicyDocument: not
// JSON, or without a Statement.
func checkPolicyDocument(doc string) *apiError {
	var d map[string]json.RawMessage
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		return &apiError{status: http.StatusBadRequest, code: "MalformedPolicyDocument", message: "Syntax errors in policy."}
	}
	if _, ok := d["Statement"]; !ok {
		return &apiError{status: http.StatusBadRequest, code: "MalformedPolicyDocument", message: "Policy document should not specify a principal and must contain a Statement."}
	}
	return nil
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

func (s *Server) loginProfile(a *Account, r *request) (any, *apiError) {
	u, e := userOf(a, r)
	if e != nil {
		return nil, e
	}
	if r.action == "DeleteLoginProfile" {
		if u.LoginProfile == nil {
			return nil, errNoSuchEntity("Login Profile for User " + u.Name + " cannot be found.")
		}
		u.LoginProfile = nil
		s.touched(a, u.Name)
		return fields{}, nil
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
	return fields{field("LoginProfile", struct {
		UserName              string `xml:"UserName"`
		CreateDate            string `xml:"CreateDate"`
		PasswordResetRequired bool   `xml:"PasswordResetRequired"`
	}{u.Name, awsTime(now), u.LoginProfile.PasswordResetRequired})}, nil
}

func (s *Server) accessKeyWrite(a *Account, r *request) (any, *apiError) {
	u, e := userOf(a, r)
	if e != nil {
		return nil, e
	}
	if r.action == "CreateAccessKey" {
		if len(u.AccessKeys) >= maxAccessKeysPerUser {
			return nil, errLimit(fmt.Sprintf("Cannot exceed quota for AccessKeysPerUser: %d", maxAccessKeysPerUser))
		}
		s.nextID++
		k := &AccessKey{ID: fmt.Sprintf("AKIAFAKEW%011d", s.nextID), Secret: fmt.Sprintf("fake-new-secret-%024d", s.nextID), Status: "Active",
			CreatedAt: s.now(), LastUsedService: "N/A", LastUsedRegion: "N/A"}
		u.AccessKeys = append(u.AccessKeys, k)
		s.keys[k.ID] = caller{account: a.ID, arn: u.ARN, userID: u.ID}
		return fields{field("AccessKey", struct {
			UserName        string `xml:"UserName"`
			AccessKeyID     string `xml:"AccessKeyId"`
			Status          string `xml:"Status"`
			SecretAccessKey string `xml:"SecretAccessKey"`
			CreateDate      string `xml:"CreateDate"`
		}{u.Name, k.ID, k.Status, k.Secret, awsTime(k.CreatedAt)})}, nil
	}
	id := r.get("AccessKeyId")
	i := slices.IndexFunc(u.AccessKeys, func(k *AccessKey) bool { return k.ID == id })
	if i < 0 {
		return nil, errNoSuchEntity("The Access Key with id " + id + " cannot be found.")
	}
	if r.action == "UpdateAccessKey" {
		st := r.get("Status")
		if st != "Active" && st != "Inactive" {
			return nil, errValidation("1 validation error detected: Value '" + st + "' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]")
		}
		u.AccessKeys[i].Status = st
		return fields{}, nil
	}
	u.AccessKeys = slices.Delete(u.AccessKeys, i, i+1)
	delete(s.keys, id)
	s.touched(a, u.Name)
	return fields{}, nil
}

// otherCredentials lists and deletes signing certificates, SSH public keys
// and service-specific credentials.
func (s *Server) otherCredentials(a *Account, r *request) (any, *apiError) {
	u, e := userOf(a, r)
	if e != nil {
		return nil, e
	}
	var list *[]string
	var idParam, member, idField, what string
	switch {
	case strings.Contains(r.action, "SigningCertificate"):
		list, idParam, member, idField, what = &u.SigningCertificates, "CertificateId", "Certificates", "CertificateId", "signing certificate"
	case strings.Contains(r.action, "SSHPublicKey"):
		list, idParam, member, idField, what = &u.SSHPublicKeys, "SSHPublicKeyId", "SSHPublicKeys", "SSHPublicKeyId", "SSH public key"
	default:
		list, idParam, member, idField, what = &u.ServiceCredentials, "ServiceSpecificCredentialId", "ServiceSpecificCredentials", "ServiceSpecificCredentialId", "service specific credential"
	}
	if strings.HasPrefix(r.action, "List") {
		var items []any
		for _, id := range *list {
			items = append(items, credentialItem(idField, u.Name, id, awsTime(u.CreatedAt), u.credentialStatus(id)))
		}
		return paged(r, items, member)
	}
	id := r.get(idParam)
	if !slices.Contains(*list, id) {
		return nil, errNoSuchEntity("The " + what + " with id " + id + " cannot be found.")
	}
	*list = slices.DeleteFunc(*list, func(x string) bool { return x == id })
	s.touched(a, u.Name)
	return fields{}, nil
}

func (s *Server) mfaWrite(a *Account, r *request) (any, *apiError) {
	serial := r.get("SerialNumber")
	if r.action == "DeleteVirtualMFADevice" {
		for _, u := range a.IAM.Users {
			if slices.ContainsFunc(u.MFADevices, func(m *MFADevice) bool { return m.SerialNumber == serial }) {
				return nil, errDeleteConflict("MFA Device is still in use")
			}
		}
		if !slices.Contains(a.IAM.UnassignedVirtualMFA, serial) {
			return nil, errNoSuchEntity("VirtualMFADevice with serial number " + serial + " doesn't exist.")
		}
		a.IAM.UnassignedVirtualMFA = slices.DeleteFunc(a.IAM.UnassignedVirtualMFA, func(x string) bool { return x == serial })
		return fields{}, nil
	}
	u, e := userOf(a, r)
	if e != nil {
		return nil, e
	}
	i := slices.IndexFunc(u.MFADevices, func(m *MFADevice) bool { return m.SerialNumber == serial })
	if i < 0 {
		return nil, errNoSuchEntity("MFA Device with serial number " + serial + " does not exist.")
	}
	if u.MFADevices[i].Virtual {
		a.IAM.UnassignedVirtualMFA = append(a.IAM.UnassignedVirtualMFA, serial)
	}
	u.MFADevices = slices.Delete(u.MFADevices, i, i+1)
	s.touched(a, u.Name)
	return fields{}, nil
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
	if status == "" {
		status = "Any"
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
