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

// iamCredentialHandlers serve the Update actions of this file.
var iamCredentialHandlers = map[string]iamHandler{
	"UpdateSigningCertificate":        updateOtherCredential(signingCertificates, 24, false),
	"UpdateSSHPublicKey":              updateOtherCredential(sshPublicKeys, 20, true),
	"UpdateServiceSpecificCredential": updateOtherCredential(serviceCredentials, 20, false),
}

// credentialIDRE is the pattern of these credentials' ids (at most 128
// characters).
var credentialIDRE = regexp.MustCompile(`^\w+$`)

// updateOtherCredential sets the status of one credential of kind c, whose
// ids are at least minID characters; needUser makes UserName required.
func updateOtherCredential(c otherCredential, minID int, needUser bool) iamHandler {
	return func(s *Server, a *Account, r *request) (any, *apiError) {
		if needUser && r.get("UserName") == "" {
			return nil, errValidation("1 validation error detected: Value null at 'userName' failed to satisfy constraint: Member must not be null")
		}
		id, status := r.get(c.idParam), r.get("Status")
		param := strings.ToLower(c.idParam[:1]) + c.idParam[1:]
		switch {
		case len(id) < minID || len(id) > 128:
			return nil, errValidation("1 validation error detected: Value '" + id + "' at '" + param + "' failed to satisfy constraint: Member must have length between " +
				strconv.Itoa(minID) + " and 128")
		case !credentialIDRE.MatchString(id):
			return nil, errValidation("1 validation error detected: Value '" + id + "' at '" + param + "' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w]+")
		case status != "Active" && status != "Inactive":
			return nil, errValidation("1 validation error detected: Value '" + status + "' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]")
		}
		u, e := userOf(a, r)
		if e != nil {
			return nil, e
		}
		found := false
		for _, have := range *c.list(u) {
			found = found || have == id
		}
		if !found {
			return nil, errNoSuchEntity("The " + c.what + " with id " + id + " cannot be found.")
		}
		if status == "Active" {
			delete(u.CredentialStatus, id)
		} else {
			if u.CredentialStatus == nil {
				u.CredentialStatus = map[string]string{}
			}
			u.CredentialStatus[id] = status
		}
		return fields{}, nil
	}
}

// credentialStatus is the status of one of a user's signing certificates,
// SSH public keys or service-specific credentials.
func (u *User) credentialStatus(id string) string {
	if st, ok := u.CredentialStatus[id]; ok {
		return st
	}
	return "Active"
}
