package awsfake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
)

// This file checks policy documents against the IAM policy grammar
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html),
// as IAM does before it stores one, with the messages IAM answers. Every
// action that takes a policy document calls policyDocProblem: IAM's
// CreatePolicy, CreatePolicyVersion, Put{User,Group,Role}Policy, CreateRole
// and UpdateAssumeRolePolicy; Organizations' CreatePolicy and SSO Admin's
// PutInlinePolicyToPermissionSet wrap the same problem in their own error.
//
// What it checks: the document is a JSON object of Version, Id and
// Statement; Version, when given, is 2012-10-17 or 2008-10-17; Statement is
// a statement or a list of them; each statement has only the grammar's
// elements, an Effect of Allow or Deny, Action or NotAction (not both) of
// vendor-prefixed actions, Resource or NotResource of ARNs or "*" where the
// kind needs them and not where it forbids them, a Principal where the
// kind needs one (trust policies) and none where it forbids one, string
// conditions under operator and key objects, and unique alphanumeric Sids
// in identity policies. What it does not: whether actions, condition
// operators, keys and principals exist.

// policyDocKind is what a policy document is for, which decides the
// elements it must and must not have.
type policyDocKind int

const (
	// identityPolicy is a managed or inline policy of a user, group,
	// role or permission set: no Principal, a Resource.
	identityPolicy policyDocKind = iota
	// trustPolicy is a role's AssumeRolePolicyDocument: a Principal, no
	// Resource.
	trustPolicy
	// serviceControlPolicy is an Organizations SCP: no Principal; a
	// Resource is optional.
	serviceControlPolicy
	// resourceControlPolicy is an Organizations RCP (AWS Organizations
	// User Guide, "RCP syntax"): Principal "*" and no other, no
	// NotPrincipal or NotAction, Effect Deny (Allow is only for the AWS
	// managed RCPFullAWSAccess).
	resourceControlPolicy
)

// IAM's own messages for the problems it finds.
const (
	msgSyntax          = "Syntax errors in policy."
	msgLegacy          = "The policy failed legacy parsing"
	msgInvalidJSON     = "This policy contains invalid Json"
	msgNoActions       = "Policy statement must contain actions."
	msgNoResources     = "Policy statement must contain resources."
	msgNoPrincipal     = "Policy document should not specify a principal."
	msgNeedsPrincipal  = "Missing required field Principal"
	msgNoResourceTrust = "Has prohibited field Resource"
	msgVendor          = "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
	msgSidChars        = "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*"
	msgSidUnique       = "Statement IDs (SID) in a single policy must be unique."
)

var (
	sidRE           = regexp.MustCompile(`^[0-9A-Za-z]*$`)
	actionRE        = regexp.MustCompile(`^[A-Za-z0-9-]+:[A-Za-z0-9*?]+$`)
	policyDocTypeRE = regexp.MustCompile(`^[\x{0009}\x{000A}\x{000D}\x{0020}-\x{00FF}]+$`)
)

// policyStatementElements are the elements a statement may have.
var policyStatementElements = map[string]bool{"Sid": true, "Effect": true, "Principal": true, "NotPrincipal": true,
	"Action": true, "NotAction": true, "Resource": true, "NotResource": true, "Condition": true}

// errMalformedPolicy is IAM's answer to a document policyDocProblem
// refuses.
func errMalformedPolicy(msg string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: "MalformedPolicyDocument", message: msg}
}

// checkIAMPolicyDocument checks a document an IAM action was given in
// parameter param (policyDocument, assumeRolePolicyDocument): the
// parameter's character set (a ValidationError, as IAM's input validation
// answers), then the grammar (MalformedPolicyDocument).
func checkIAMPolicyDocument(doc, param string, kind policyDocKind) *apiError {
	if doc == "" || len(doc) > 131072 || !policyDocTypeRE.MatchString(doc) {
		return errValidation("1 validation error detected: Value at '" + param + "' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\u0009\\u000A\\u000D\\u0020-\\u00FF]+")
	}
	if msg := policyDocProblem(doc, kind); msg != "" {
		return errMalformedPolicy(msg)
	}
	return nil
}

// policyDocProblem returns what is wrong with a policy document of the
// given kind, in IAM's words, or "" when nothing is.
func policyDocProblem(doc string, kind policyDocKind) string {
	invalidJSON := msgSyntax
	if kind == trustPolicy {
		invalidJSON = msgInvalidJSON
	}
	var top map[string]json.RawMessage
	dec := json.NewDecoder(strings.NewReader(doc))
	if err := dec.Decode(&top); err != nil || top == nil || dec.More() {
		return invalidJSON
	}
	for k := range top {
		if k != "Version" && k != "Id" && k != "Statement" {
			return msgLegacy
		}
	}
	if raw, ok := top["Version"]; ok {
		var v string
		if json.Unmarshal(raw, &v) != nil || (v != "2012-10-17" && v != "2008-10-17") {
			return msgLegacy
		}
	}
	if raw, ok := top["Id"]; ok {
		var id string
		if json.Unmarshal(raw, &id) != nil {
			return msgLegacy
		}
	}
	raw, ok := top["Statement"]
	if !ok {
		return msgSyntax
	}
	var stmts []map[string]json.RawMessage
	if isJSONArray(raw) {
		if json.Unmarshal(raw, &stmts) != nil {
			return msgLegacy
		}
	} else {
		var one map[string]json.RawMessage
		if json.Unmarshal(raw, &one) != nil || one == nil {
			return msgLegacy
		}
		stmts = []map[string]json.RawMessage{one}
	}
	sids := map[string]bool{}
	for _, st := range stmts {
		if msg := statementProblem(st, kind, sids); msg != "" {
			return msg
		}
	}
	return ""
}

// statementProblem checks one statement, element by element in the order
// IAM reports them; sids collects the Sids seen.
func statementProblem(st map[string]json.RawMessage, kind policyDocKind, sids map[string]bool) string {
	if st == nil {
		return msgLegacy
	}
	for k := range st {
		if !policyStatementElements[k] {
			return msgLegacy
		}
	}
	if msg := sidProblem(st, kind, sids); msg != "" {
		return msg
	}
	var effect string
	if json.Unmarshal(st["Effect"], &effect) != nil || (effect != "Allow" && effect != "Deny") {
		return msgLegacy
	}
	if kind == resourceControlPolicy {
		if msg := rcpStatementProblem(st, effect); msg != "" {
			return msg
		}
	}
	for _, problem := range []func(map[string]json.RawMessage, policyDocKind) string{principalsProblem, actionsProblem, resourcesProblem, conditionProblem} {
		if msg := problem(st, kind); msg != "" {
			return msg
		}
	}
	return ""
}

// eitherElement returns the value of an element (Action) or of its Not
// form (NotAction), whichever the statement has; has is whether it has
// either, both whether it has both.
func eitherElement(st map[string]json.RawMessage, name string) (raw json.RawMessage, has, both bool) {
	raw, hasIt := st[name]
	notRaw, hasNot := st["Not"+name]
	if !hasIt {
		raw = notRaw
	}
	return raw, hasIt || hasNot, hasIt && hasNot
}

// sidProblem checks a statement's Sid: a string; in an identity policy
// alphanumeric and unique in the document.
func sidProblem(st map[string]json.RawMessage, kind policyDocKind, sids map[string]bool) string {
	raw, ok := st["Sid"]
	if !ok {
		return ""
	}
	var sid string
	if json.Unmarshal(raw, &sid) != nil {
		return msgLegacy
	}
	if kind != identityPolicy {
		return ""
	}
	if !sidRE.MatchString(sid) {
		return msgSidChars
	}
	if sid != "" && sids[sid] {
		return msgSidUnique
	}
	sids[sid] = true
	return ""
}

// principalsProblem checks Principal or NotPrincipal: required in a trust
// policy, refused elsewhere.
func principalsProblem(st map[string]json.RawMessage, kind policyDocKind) string {
	raw, has, both := eitherElement(st, "Principal")
	switch {
	case both:
		return msgLegacy
	case kind == trustPolicy && !has:
		return msgNeedsPrincipal
	case kind == resourceControlPolicy:
		return "" // rcpStatementProblem checked it
	case kind != trustPolicy && has:
		return msgNoPrincipal
	case has:
		return principalProblem(raw)
	}
	return ""
}

// actionsProblem checks Action or NotAction: one of them, of
// vendor-prefixed actions or "*".
func actionsProblem(st map[string]json.RawMessage, _ policyDocKind) string {
	raw, has, both := eitherElement(st, "Action")
	switch {
	case both:
		return msgLegacy
	case !has:
		return msgNoActions
	}
	actions, ok := policyStrings(raw)
	if !ok || len(actions) == 0 {
		return msgLegacy
	}
	for _, a := range actions {
		if a != "*" && !actionRE.MatchString(a) {
			return msgVendor
		}
	}
	return ""
}

// resourcesProblem checks Resource or NotResource: ARNs or "*", required
// in an identity policy, refused in a trust policy.
func resourcesProblem(st map[string]json.RawMessage, kind policyDocKind) string {
	raw, has, both := eitherElement(st, "Resource")
	switch {
	case both:
		return msgLegacy
	case kind == trustPolicy && has:
		return msgNoResourceTrust
	case kind == identityPolicy && !has:
		return msgNoResources
	case !has:
		return ""
	}
	resources, ok := policyStrings(raw)
	if !ok || len(resources) == 0 {
		return msgLegacy
	}
	for _, r := range resources {
		if r != "*" && !strings.HasPrefix(r, "arn:") {
			return fmt.Sprintf("Resource %s must be in ARN format or \"*\".", r)
		}
	}
	return ""
}

// conditionProblem checks a Condition: operators to keys to a value or a
// list of values.
func conditionProblem(st map[string]json.RawMessage, _ policyDocKind) string {
	raw, ok := st["Condition"]
	if !ok {
		return ""
	}
	var cond map[string]map[string]json.RawMessage
	if json.Unmarshal(raw, &cond) != nil {
		return msgLegacy
	}
	for _, keys := range cond {
		for _, v := range keys {
			if !conditionValueOK(v) {
				return msgLegacy
			}
		}
	}
	return ""
}

// principalProblem checks a Principal or NotPrincipal: "*", or an object
// of AWS, Service, Federated or CanonicalUser to a string or a list of
// them; an AWS principal is "*", an account ID or an ARN.
func principalProblem(raw json.RawMessage) string {
	var star string
	if json.Unmarshal(raw, &star) == nil {
		if star == "*" {
			return ""
		}
		return "Invalid principal in policy: " + string(raw)
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil || len(m) == 0 {
		return msgLegacy
	}
	for k, v := range m {
		vals, ok := policyStrings(v)
		if !ok || len(vals) == 0 {
			return msgLegacy
		}
		switch k {
		case "AWS":
			for _, p := range vals {
				if p != "*" && !isAccountID(p) && !strings.HasPrefix(p, "arn:") {
					return fmt.Sprintf("Invalid principal in policy: \"AWS\":\"%s\"", p)
				}
			}
		case "Service", "Federated", "CanonicalUser":
		default:
			return msgLegacy
		}
	}
	return ""
}

// isAccountID reports whether s is twelve digits.
func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// policyStrings reads a value that is a string or a list of strings.
func policyStrings(raw json.RawMessage) ([]string, bool) {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}, true
	}
	var many []string
	if json.Unmarshal(raw, &many) == nil {
		return many, true
	}
	return nil, false
}

// conditionValueOK reports whether a condition value is a string, number or
// boolean, or a list of them.
func conditionValueOK(raw json.RawMessage) bool {
	scalar := func(r json.RawMessage) bool {
		var v any
		if json.Unmarshal(r, &v) != nil {
			return false
		}
		switch v.(type) {
		case string, float64, bool:
			return true
		}
		return false
	}
	if isJSONArray(raw) {
		var list []json.RawMessage
		if json.Unmarshal(raw, &list) != nil {
			return false
		}
		for _, r := range list {
			if !scalar(r) {
				return false
			}
		}
		return true
	}
	return scalar(raw)
}

func isJSONArray(raw json.RawMessage) bool {
	return bytes.HasPrefix(bytes.TrimSpace(raw), []byte("["))
}

// rcpStatementProblem checks what an RCP statement must be beyond an SCP's
// grammar: Principal "*", no NotPrincipal or NotAction, Effect Deny.
func rcpStatementProblem(st map[string]json.RawMessage, effect string) string {
	if _, ok := st["NotPrincipal"]; ok {
		return "NotPrincipal is not supported in a resource control policy: use Principal \"*\" with a condition."
	}
	if _, ok := st["NotAction"]; ok {
		return "NotAction is not supported in a resource control policy."
	}
	var p string
	if raw, ok := st["Principal"]; !ok || json.Unmarshal(raw, &p) != nil || p != "*" {
		return "A resource control policy statement must have Principal \"*\": name principals with a condition."
	}
	if effect != "Deny" {
		return "The effect Allow is supported only in the AWS managed RCPFullAWSAccess: a resource control policy denies."
	}
	return ""
}
