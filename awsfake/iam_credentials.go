package awsfake

import (
	"regexp"
	"strconv"
	"strings"
)

// This file holds the status of a user's other credentials (signing
// certificates, SSH public keys and service-specific credentials) and the
// actions that set it, UpdateSigningCertificate, UpdateSSHPublicKey and
// UpdateServiceSpecificCredential, as IAM defines them: Status is Active or
// Inactive, an id IAM would refuse is a ValidationError, and an id the user
// does not hold is NoSuchEntity. UserName may be left out of
// UpdateSigningCertificate and UpdateServiceSpecificCredential (the caller's
// own user is meant) but not of UpdateSSHPublicKey.

// credentialIDRE is the pattern of these credentials' ids.
var credentialIDRE = regexp.MustCompile(`^\w+$`)

// credentialKinds are the Update actions, each with its id parameter, the
// id's length bounds, and the words of its NoSuchEntity message.
var credentialKinds = map[string]struct {
	idParam  string
	min, max int
	what     string
	needUser bool
	list     func(u *User) []string
}{
	"UpdateSigningCertificate": {"CertificateId", 24, 128, "signing certificate", false, func(u *User) []string { return u.SigningCertificates }},
	"UpdateSSHPublicKey":       {"SSHPublicKeyId", 20, 128, "SSH public key", true, func(u *User) []string { return u.SSHPublicKeys }},
	"UpdateServiceSpecificCredential": {"ServiceSpecificCredentialId", 20, 128, "service specific credential", false,
		func(u *User) []string { return u.ServiceCredentials }},
}

// iamCredentialAction serves the Update actions of this file; ok is false
// for other actions. The caller holds s.mu.
func (s *Server) iamCredentialAction(a *Account, r *request) (res any, apiErr *apiError, ok bool) {
	kind, ok := credentialKinds[r.action]
	if !ok {
		return nil, nil, false
	}
	if kind.needUser && r.get("UserName") == "" {
		return nil, errValidation("1 validation error detected: Value null at 'userName' failed to satisfy constraint: Member must not be null"), true
	}
	id, status := r.get(kind.idParam), r.get("Status")
	param := strings.ToLower(kind.idParam[:1]) + kind.idParam[1:]
	switch {
	case len(id) < kind.min || len(id) > kind.max:
		return nil, errValidation("1 validation error detected: Value '" + id + "' at '" + param + "' failed to satisfy constraint: Member must have length between " +
			strconv.Itoa(kind.min) + " and " + strconv.Itoa(kind.max)), true
	case !credentialIDRE.MatchString(id):
		return nil, errValidation("1 validation error detected: Value '" + id + "' at '" + param + "' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w]+"), true
	case status != "Active" && status != "Inactive":
		return nil, errValidation("1 validation error detected: Value '" + status + "' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]"), true
	}
	u, e := userOf(a, r)
	if e != nil {
		return nil, e, true
	}
	found := false
	for _, have := range kind.list(u) {
		found = found || have == id
	}
	if !found {
		return nil, errNoSuchEntity("The " + kind.what + " with id " + id + " cannot be found."), true
	}
	if status == "Active" {
		delete(u.CredentialStatus, id)
	} else {
		if u.CredentialStatus == nil {
			u.CredentialStatus = map[string]string{}
		}
		u.CredentialStatus[id] = status
	}
	return fields{}, nil, true
}

// credentialStatus is the status of one of a user's signing certificates,
// SSH public keys or service-specific credentials.
func (u *User) credentialStatus(id string) string {
	if st, ok := u.CredentialStatus[id]; ok {
		return st
	}
	return "Active"
}
