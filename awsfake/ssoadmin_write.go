package awsfake

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// This file holds SSO Admin's permission set writes, with the service's
// validation and errors. A permission set's policies change only the
// permission set: the accounts it is provisioned to see the change once it
// is provisioned again (ProvisionPermissionSet, in ic_write.go).

// Identity Center quotas the emulator enforces.
const (
	maxPermissionSets         = 2000 // per instance
	maxPoliciesPerPermSet     = 20   // AWS managed and customer managed together
	maxPermissionSetTags      = 50
	maxInlinePolicyCharacters = 10240
)

var (
	ssoPermissionSetNameRE = regexp.MustCompile(`^[\w+=,.@-]{1,32}$`)
	ssoDescriptionRE       = regexp.MustCompile(`^[\x{0009}\x{000A}\x{000D}\x{0020}-\x{007E}\x{00A0}-\x{00FF}]{1,700}$`)
	ssoRelayStateRE        = regexp.MustCompile(`^[a-zA-Z0-9&$@#\\/%?=~\-_'"|!:,.;*+\[\] (){}]{1,240}$`)
	ssoSessionRE           = regexp.MustCompile(`^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?$`)
	ssoManagedPolicyARNRE  = regexp.MustCompile(`^arn:(aws|aws-us-gov|aws-cn|aws-iso|aws-iso-b):iam::aws:policy/\S+$`)
	ssoPolicyNameRE        = regexp.MustCompile(`^[\w+=,.@-]{1,128}$`)
	ssoPolicyPathRE        = regexp.MustCompile(`^((/[A-Za-z0-9\.,\+@=_-]+)*)/$`)
)

// checkSessionDuration accepts an ISO 8601 duration from one to twelve
// hours, as Identity Center does.
func checkSessionDuration(d string) *apiError {
	m := ssoSessionRE.FindStringSubmatch(d)
	if m == nil || d == "PT" {
		return isValidation("SessionDuration " + d + " is not an ISO 8601 duration such as PT8H")
	}
	total := 0
	for i, unit := range []int{3600, 60, 1} {
		n, _ := strconv.Atoi(m[i+1]) // "" (absent) is 0
		total += n * unit
	}
	if total < 3600 || total > 43200 {
		return isValidation("SessionDuration must be between PT1H and PT12H")
	}
	return nil
}

// permissionSetFields checks the optional fields CreatePermissionSet and
// UpdatePermissionSet share.
func permissionSetFields(description, session, relay *string) *apiError {
	if description != nil && !ssoDescriptionRE.MatchString(*description) {
		return isValidation("1 validation error detected: Value at 'description' failed to satisfy constraint: Member must have length between 1 and 700 and satisfy the required pattern")
	}
	if session != nil {
		if e := checkSessionDuration(*session); e != nil {
			return e
		}
	}
	if relay != nil && !ssoRelayStateRE.MatchString(*relay) {
		return isValidation("1 validation error detected: Value at 'relayState' failed to satisfy constraint: Member must have length between 1 and 240 and satisfy the required pattern")
	}
	return nil
}

// ssoTagsIn reads and checks the tags of a permission set request.
func ssoTagsIn(tags []struct{ Key, Value string }) ([]Tag, *apiError) {
	var out []Tag
	for _, t := range tags {
		if n := utf8.RuneCountInString(t.Key); n < 1 || n > 128 || strings.HasPrefix(strings.ToLower(t.Key), "aws:") {
			return nil, isValidation("Tag keys must have 1 to 128 characters and must not start with aws:")
		}
		if utf8.RuneCountInString(t.Value) > 256 {
			return nil, isValidation("Tag values must have at most 256 characters")
		}
		out = append(out, Tag{Key: t.Key, Value: t.Value})
	}
	return out, nil
}

func (s *Server) ssoCreatePermissionSet(c ssoCall) (any, *apiError) {
	var in struct {
		Name                                     string
		Description, SessionDuration, RelayState *string
		Tags                                     []struct{ Key, Value string }
	}
	if e := c.r.decode(&in); e != nil {
		return nil, e
	}
	ic := c.ic
	if !ssoPermissionSetNameRE.MatchString(in.Name) {
		return nil, isValidation("1 validation error detected: Value '" + in.Name + "' at 'name' failed to satisfy constraint: Member must have length between 1 and 32 and satisfy regular expression pattern: [\\w+=,.@-]+")
	}
	if e := permissionSetFields(in.Description, in.SessionDuration, in.RelayState); e != nil {
		return nil, e
	}
	if len(in.Tags) > maxPermissionSetTags {
		return nil, isValidation(fmt.Sprintf("A permission set may have at most %d tags", maxPermissionSetTags))
	}
	tags, e := ssoTagsIn(in.Tags)
	if e != nil {
		return nil, e
	}
	for _, ps := range ic.PermissionSets {
		if ps.Name == in.Name {
			return nil, isConflictPlain("A permission set named " + in.Name + " already exists")
		}
	}
	if len(ic.PermissionSets) >= maxPermissionSets {
		return nil, ssoQuota(fmt.Sprintf("An instance may have at most %d permission sets", maxPermissionSets))
	}
	inst := ic.InstanceARN[strings.LastIndexByte(ic.InstanceARN, '/')+1:]
	ps := &PermissionSet{ARN: "arn:aws:sso:::permissionSet/" + inst + "/ps-" + s.freshID("0123456789abcdef", 16), Name: in.Name,
		SessionDuration: "PT1H", CreatedAt: s.stamp(), Tags: tags}
	if in.Description != nil {
		ps.Description = *in.Description
	}
	if in.SessionDuration != nil {
		ps.SessionDuration = *in.SessionDuration
	}
	if in.RelayState != nil {
		ps.RelayState = *in.RelayState
	}
	ic.PermissionSets[ps.ARN] = ps
	return map[string]any{"PermissionSet": permissionSetOut(ps)}, nil
}

func ssoQuota(msg string) *apiError {
	c := isValidation(msg)
	c.code = "ServiceQuotaExceededException"
	return c
}

func (s *Server) ssoUpdatePermissionSet(c ssoCall) (any, *apiError) {
	var in struct{ Description, SessionDuration, RelayState *string }
	if e := c.r.decode(&in); e != nil {
		return nil, e
	}
	if e := permissionSetFields(in.Description, in.SessionDuration, in.RelayState); e != nil {
		return nil, e
	}
	if in.Description != nil {
		c.ps.Description = *in.Description
	}
	if in.SessionDuration != nil {
		c.ps.SessionDuration = *in.SessionDuration
	}
	if in.RelayState != nil {
		c.ps.RelayState = *in.RelayState
	}
	return map[string]any{}, nil
}

// ssoDeletePermissionSet deletes a permission set that no account
// assignment uses and no account has provisioned.
func (s *Server) ssoDeletePermissionSet(c ssoCall) (any, *apiError) {
	for _, pair := range c.ic.ProvisionedPairs() {
		if pair[0] == c.ps.ARN {
			return nil, isConflictPlain("The permission set is provisioned to account " + pair[1] + ": delete its account assignments first")
		}
	}
	delete(c.ic.PermissionSets, c.ps.ARN)
	return map[string]any{}, nil
}

func (s *Server) ssoAttachManagedPolicy(c ssoCall) (any, *apiError) {
	var in struct{ ManagedPolicyArn string }
	if e := c.r.decode(&in); e != nil {
		return nil, e
	}
	if !ssoManagedPolicyARNRE.MatchString(in.ManagedPolicyArn) {
		return nil, isValidation("1 validation error detected: Value '" + in.ManagedPolicyArn + "' at 'managedPolicyArn' failed to satisfy constraint: an AWS managed policy ARN, arn:aws:iam::aws:policy/…")
	}
	ps := c.ps
	if slices.Contains(ps.ManagedPolicies, in.ManagedPolicyArn) {
		return nil, isConflictPlain("Managed policy " + in.ManagedPolicyArn + " is already attached to the permission set")
	}
	if e := ps.policyRoom(); e != nil {
		return nil, e
	}
	ps.ManagedPolicies = append(ps.ManagedPolicies, in.ManagedPolicyArn)
	return map[string]any{}, nil
}

func (s *Server) ssoDetachManagedPolicy(c ssoCall) (any, *apiError) {
	var in struct{ ManagedPolicyArn string }
	if e := c.r.decode(&in); e != nil {
		return nil, e
	}
	ps := c.ps
	if !slices.Contains(ps.ManagedPolicies, in.ManagedPolicyArn) {
		return nil, ssoNotFound("Managed policy " + in.ManagedPolicyArn + " is not attached to the permission set")
	}
	ps.ManagedPolicies = slices.DeleteFunc(ps.ManagedPolicies, func(a string) bool { return a == in.ManagedPolicyArn })
	return map[string]any{}, nil
}

// policyRefIn checks a customer managed policy reference; the path
// defaults to "/".
func policyRefIn(ref *PolicyRef) (PolicyRef, *apiError) {
	if ref == nil {
		return PolicyRef{}, isValidation("CustomerManagedPolicyReference is required")
	}
	out := *ref
	if out.Path == "" {
		out.Path = "/"
	}
	if !ssoPolicyNameRE.MatchString(out.Name) {
		return out, isValidation("1 validation error detected: Value '" + out.Name + "' at 'customerManagedPolicyReference.name' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+")
	}
	if len(out.Path) > 512 || !ssoPolicyPathRE.MatchString(out.Path) {
		return out, isValidation("1 validation error detected: Value '" + out.Path + "' at 'customerManagedPolicyReference.path' failed to satisfy constraint: a path that starts and ends with /")
	}
	return out, nil
}

// customerPolicyIn reads and checks the CustomerManagedPolicyReference of
// an Attach or DetachCustomerManagedPolicyReference request.
func customerPolicyIn(c ssoCall) (PolicyRef, *apiError) {
	var in struct{ CustomerManagedPolicyReference *PolicyRef }
	if e := c.r.decode(&in); e != nil {
		return PolicyRef{}, e
	}
	return policyRefIn(in.CustomerManagedPolicyReference)
}

// policyRoom refuses one more managed policy (AWS or customer managed) on
// a permission set that has its quota of them.
func (ps *PermissionSet) policyRoom() *apiError {
	if len(ps.ManagedPolicies)+len(ps.CustomerManagedPolicies) >= maxPoliciesPerPermSet {
		return ssoQuota(fmt.Sprintf("A permission set may have at most %d managed policies attached", maxPoliciesPerPermSet))
	}
	return nil
}

func (s *Server) ssoAttachCustomerManagedPolicy(c ssoCall) (any, *apiError) {
	ref, e := customerPolicyIn(c)
	if e != nil {
		return nil, e
	}
	ps := c.ps
	if slices.Contains(ps.CustomerManagedPolicies, ref) {
		return nil, isConflictPlain("Customer managed policy " + ref.Path + ref.Name + " is already attached to the permission set")
	}
	if e := ps.policyRoom(); e != nil {
		return nil, e
	}
	ps.CustomerManagedPolicies = append(ps.CustomerManagedPolicies, ref)
	return map[string]any{}, nil
}

func (s *Server) ssoDetachCustomerManagedPolicy(c ssoCall) (any, *apiError) {
	ref, e := customerPolicyIn(c)
	if e != nil {
		return nil, e
	}
	ps := c.ps
	if !slices.Contains(ps.CustomerManagedPolicies, ref) {
		return nil, ssoNotFound("Customer managed policy " + ref.Path + ref.Name + " is not attached to the permission set")
	}
	ps.CustomerManagedPolicies = slices.DeleteFunc(ps.CustomerManagedPolicies, func(r PolicyRef) bool { return r == ref })
	return map[string]any{}, nil
}

// ssoPutInlinePolicy sets the permission set's inline policy, a valid IAM
// policy document of at most 10,240 characters (replacing any before it).
func (s *Server) ssoPutInlinePolicy(c ssoCall) (any, *apiError) {
	var in struct{ InlinePolicy string }
	if e := c.r.decode(&in); e != nil {
		return nil, e
	}
	if n := utf8.RuneCountInString(in.InlinePolicy); n < 1 || n > maxInlinePolicyCharacters {
		return nil, isValidation(fmt.Sprintf("1 validation error detected: Value at 'inlinePolicy' failed to satisfy constraint: Member must have length between 1 and %d", maxInlinePolicyCharacters))
	}
	if msg := policyDocProblem(in.InlinePolicy, identityPolicy); msg != "" {
		return nil, isValidation("The inline policy is not a valid IAM policy document: " + msg)
	}
	c.ps.InlinePolicy = in.InlinePolicy
	return map[string]any{}, nil
}

func (s *Server) ssoDeleteInlinePolicy(c ssoCall) (any, *apiError) {
	c.ps.InlinePolicy = ""
	return map[string]any{}, nil
}

func (s *Server) ssoPutPermissionsBoundary(c ssoCall) (any, *apiError) {
	var in struct {
		PermissionsBoundary *struct {
			ManagedPolicyArn               string
			CustomerManagedPolicyReference *PolicyRef
		}
	}
	if e := c.r.decode(&in); e != nil {
		return nil, e
	}
	b := in.PermissionsBoundary
	if b == nil || (b.ManagedPolicyArn == "") == (b.CustomerManagedPolicyReference == nil) {
		return nil, isValidation("PermissionsBoundary must give exactly one of ManagedPolicyArn and CustomerManagedPolicyReference")
	}
	ps := c.ps
	if b.ManagedPolicyArn != "" {
		if !ssoManagedPolicyARNRE.MatchString(b.ManagedPolicyArn) {
			return nil, isValidation("1 validation error detected: Value '" + b.ManagedPolicyArn + "' at 'permissionsBoundary.managedPolicyArn' failed to satisfy constraint: an AWS managed policy ARN")
		}
		ps.BoundaryManagedPolicyARN, ps.BoundaryCustomerManaged = b.ManagedPolicyArn, nil
		return map[string]any{}, nil
	}
	ref, e := policyRefIn(b.CustomerManagedPolicyReference)
	if e != nil {
		return nil, e
	}
	ps.BoundaryManagedPolicyARN, ps.BoundaryCustomerManaged = "", &ref
	return map[string]any{}, nil
}

func (s *Server) ssoDeletePermissionsBoundary(c ssoCall) (any, *apiError) {
	ps := c.ps
	if ps.BoundaryManagedPolicyARN == "" && ps.BoundaryCustomerManaged == nil {
		return nil, ssoNotFound("Could not find PermissionsBoundary for PermissionSet " + ps.ARN)
	}
	ps.BoundaryManagedPolicyARN, ps.BoundaryCustomerManaged = "", nil
	return map[string]any{}, nil
}

func (s *Server) ssoTagResource(c ssoCall) (any, *apiError) {
	var in struct{ Tags []struct{ Key, Value string } }
	if e := c.r.decode(&in); e != nil {
		return nil, e
	}
	ps, e := c.resource()
	if e != nil {
		return nil, e
	}
	tags, e := ssoTagsIn(in.Tags)
	if e != nil {
		return nil, e
	}
	merged := mergeTags(ps.Tags, tags)
	if len(merged) > maxPermissionSetTags {
		return nil, ssoQuota(fmt.Sprintf("A permission set may have at most %d tags", maxPermissionSetTags))
	}
	ps.Tags = merged
	return map[string]any{}, nil
}

func (s *Server) ssoUntagResource(c ssoCall) (any, *apiError) {
	var in struct{ TagKeys []string }
	if e := c.r.decode(&in); e != nil {
		return nil, e
	}
	ps, e := c.resource()
	if e != nil {
		return nil, e
	}
	ps.Tags = slices.DeleteFunc(ps.Tags, func(t Tag) bool { return slices.Contains(in.TagKeys, t.Key) })
	return map[string]any{}, nil
}
