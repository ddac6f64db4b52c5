package awsfake

import (
	"fmt"
	"regexp"
	"strconv"
)

// This file holds IAM's customer managed policy writes: a policy is
// created with its v1 as default, holds at most five versions, one of them
// the default, and is deleted only when nothing uses it and its other
// versions are gone, as IAM's DeletePolicy documents.

const (
	// maxPolicyVersions is how many versions a managed policy may hold.
	maxPolicyVersions = 5
	// maxManagedPolicySize is the size quota of a managed policy document,
	// whitespace excluded.
	maxManagedPolicySize = 6144
)

// iamPolicyHandlers serve the managed policy writes.
var iamPolicyHandlers = map[string]iamHandler{
	"CreatePolicy":            (*Server).createPolicy,
	"CreatePolicyVersion":     (*Server).createPolicyVersion,
	"DeletePolicy":            (*Server).deletePolicy,
	"DeletePolicyVersion":     (*Server).deletePolicyVersion,
	"SetDefaultPolicyVersion": (*Server).setDefaultPolicyVersion,
}

var (
	policyPathRE = regexp.MustCompile(`^((/[A-Za-z0-9\.,\+@=_-]+)*)/$`)
	versionIDRE  = regexp.MustCompile(`^v([1-9][0-9]*)(\.[A-Za-z0-9-]*)?$`)
)

// localPolicyOf finds a customer managed policy of the account; AWS
// managed policies cannot be changed.
func localPolicyOf(a *Account, arn string) (*ManagedPolicy, *apiError) {
	if p := a.IAM.Policies[arn]; p != nil {
		return p, nil
	}
	return nil, errNoSuchEntity("Policy " + arn + " was not found.")
}

// checkManagedPolicyDocument checks a managed policy version's document:
// IAM's grammar and the 6,144-character quota.
func checkManagedPolicyDocument(doc string) *apiError {
	if e := checkIAMPolicyDocument(doc, "policyDocument", identityPolicy); e != nil {
		return e
	}
	if nonSpace(doc) > maxManagedPolicySize {
		return errLimit(fmt.Sprintf("Cannot exceed quota for PolicySize: %d", maxManagedPolicySize))
	}
	return nil
}

func (s *Server) createPolicy(a *Account, r *request) (any, *apiError) {
	name := r.get("PolicyName")
	if e := checkName(name, "policyName", 128); e != nil {
		return nil, e
	}
	path := r.get("Path")
	if path == "" {
		path = "/"
	}
	if len(path) > 512 || !policyPathRE.MatchString(path) {
		return nil, errValidation("The specified value for path is invalid. It must begin and end with / and contain only alphanumeric characters and/or / characters.")
	}
	desc := r.get("Description")
	if len(desc) > 1000 {
		return nil, errValidation("1 validation error detected: Value at 'description' failed to satisfy constraint: Member must have length less than or equal to 1000")
	}
	doc := r.get("PolicyDocument")
	if e := checkManagedPolicyDocument(doc); e != nil {
		return nil, e
	}
	ts, e := r.tags()
	if e != nil {
		return nil, e
	}
	for _, p := range a.IAM.Policies {
		if p.Name == name {
			return nil, errEntityExists("A policy called " + name + " already exists. Duplicate names are not allowed.")
		}
	}
	if len(a.IAM.Policies) >= maxPoliciesPerAccount {
		return nil, errLimit(fmt.Sprintf("Cannot exceed quota for PoliciesPerAccount: %d", maxPoliciesPerAccount))
	}
	s.nextID++
	now := s.now()
	p := &ManagedPolicy{Name: name, ID: fmt.Sprintf("ANPAFAKEW%012d", s.nextID), Path: path, ARN: "arn:aws:iam::" + a.ID + ":policy" + path + name,
		Description: desc, CreatedAt: now, UpdatedAt: now, DefaultVersionID: "v1", IsAttachable: true, Tags: ts,
		Versions: []*PolicyVersion{{ID: "v1", Document: doc, CreatedAt: now}}}
	a.IAM.Policies[p.ARN] = p
	x := policyXML(p, nil, nil)
	x.Tags = tags(p.Tags)
	return fields{field("Policy", x)}, nil
}

// nextVersionID is the ID after the policy's highest. (AWS never reuses an
// ID; the emulator would reuse the highest one's after it is deleted.)
func nextVersionID(p *ManagedPolicy) string {
	highest := 0
	for _, v := range p.Versions {
		if m := versionIDRE.FindStringSubmatch(v.ID); m != nil {
			if n, _ := strconv.Atoi(m[1]); n > highest {
				highest = n
			}
		}
	}
	return "v" + strconv.Itoa(highest+1)
}

func (s *Server) createPolicyVersion(a *Account, r *request) (any, *apiError) {
	p, e := localPolicyOf(a, r.get("PolicyArn"))
	if e != nil {
		return nil, e
	}
	doc := r.get("PolicyDocument")
	if e := checkManagedPolicyDocument(doc); e != nil {
		return nil, e
	}
	if len(p.Versions) >= maxPolicyVersions {
		return nil, errLimit(fmt.Sprintf("A managed policy can have up to %d versions. Before you create a new version, you must delete an existing version.", maxPolicyVersions))
	}
	now := s.now()
	v := &PolicyVersion{ID: nextVersionID(p), Document: doc, CreatedAt: now}
	p.Versions = append(p.Versions, v)
	p.UpdatedAt = now
	if r.get("SetAsDefault") == "true" {
		p.DefaultVersionID = v.ID
	}
	return fields{field("PolicyVersion", xmlPolicyVersion{VersionID: v.ID, IsDefaultVersion: v.ID == p.DefaultVersionID, CreateDate: awsTime(v.CreatedAt)})}, nil
}

func (s *Server) setDefaultPolicyVersion(a *Account, r *request) (any, *apiError) {
	p, e := localPolicyOf(a, r.get("PolicyArn"))
	if e != nil {
		return nil, e
	}
	v, e := versionOf(p, r.get("VersionId"))
	if e != nil {
		return nil, e
	}
	p.DefaultVersionID = v.ID
	p.UpdatedAt = s.now()
	return fields{}, nil
}

func (s *Server) deletePolicyVersion(a *Account, r *request) (any, *apiError) {
	p, e := localPolicyOf(a, r.get("PolicyArn"))
	if e != nil {
		return nil, e
	}
	id := r.get("VersionId")
	if !versionIDRE.MatchString(id) {
		return nil, errValidation("1 validation error detected: Value '" + id + "' at 'versionId' failed to satisfy constraint: Member must satisfy regular expression pattern: v[1-9][0-9]*(\\.[A-Za-z0-9-]*)?")
	}
	if _, e := versionOf(p, id); e != nil {
		return nil, e
	}
	if id == p.DefaultVersionID {
		return nil, errDeleteConflict("Cannot delete the default version of a policy.")
	}
	var kept []*PolicyVersion
	for _, v := range p.Versions {
		if v.ID != id {
			kept = append(kept, v)
		}
	}
	p.Versions = kept
	return fields{}, nil
}

// deletePolicy refuses a policy that is attached or a permissions
// boundary, or that still has versions besides the default.
func (s *Server) deletePolicy(a *Account, r *request) (any, *apiError) {
	p, e := localPolicyOf(a, r.get("PolicyArn"))
	if e != nil {
		return nil, e
	}
	attach, bound := policyUsage(a)
	switch {
	case attach[p.ARN] > 0:
		return nil, errDeleteConflict("Cannot delete a policy attached to entities.")
	case bound[p.ARN] > 0:
		return nil, errDeleteConflict("Cannot delete a policy used as a permissions boundary.")
	case len(p.Versions) > 1:
		return nil, errDeleteConflict("This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.")
	}
	delete(a.IAM.Policies, p.ARN)
	return fields{}, nil
}
