package awsfake

import (
	"encoding/json"
	"strings"
)

// This file evaluates a role's trust policy for sts:AssumeRole, as far as
// the emulator needs: Allow and Deny statements, the AWS principal forms
// (account ID, account root ARN, user or role ARN, "*"), actions with
// wildcards, and the string conditions on sts:ExternalId,
// sts:RoleSessionName, aws:PrincipalAccount and aws:PrincipalArn. A
// condition operator or key it does not model is treated as not satisfied,
// so an Allow it cannot fully evaluate never lets a caller in.
//
// The caller's own identity policies are not evaluated: emulated callers are
// administrators of their account.

// trustContext is what a trust policy is evaluated against.
type trustContext struct {
	caller      caller
	externalID  string // "" when the request sent none
	sessionName string
}

// trustStatement is one statement of a trust policy.
type trustStatement struct {
	Effect       string
	Principal    json.RawMessage
	NotPrincipal json.RawMessage
	Action       json.RawMessage
	NotAction    json.RawMessage
	Condition    map[string]map[string]json.RawMessage
}

// trustAllows reports whether the trust policy doc lets ctx's caller assume
// the role: some Allow statement matches and no Deny statement does.
func trustAllows(doc string, ctx trustContext) bool {
	var p struct {
		Statement json.RawMessage
	}
	if json.Unmarshal([]byte(doc), &p) != nil {
		return false
	}
	var stmts []trustStatement
	if err := json.Unmarshal(p.Statement, &stmts); err != nil {
		var one trustStatement
		if json.Unmarshal(p.Statement, &one) != nil {
			return false
		}
		stmts = []trustStatement{one}
	}
	allowed := false
	for _, st := range stmts {
		if !st.matches(ctx) {
			continue
		}
		switch st.Effect {
		case "Deny":
			return false
		case "Allow":
			allowed = true
		}
	}
	return allowed
}

// matches reports whether a statement applies to the request.
func (st trustStatement) matches(ctx trustContext) bool {
	if st.NotPrincipal != nil || st.NotAction != nil {
		return false // not modelled: never matches
	}
	if !anyMatch(stringList(st.Action), func(a string) bool { return wildcardMatch(strings.ToLower(a), "sts:assumerole") }) {
		return false
	}
	if !principalMatches(st.Principal, ctx.caller) {
		return false
	}
	for op, keys := range st.Condition {
		for key, raw := range keys {
			if !conditionHolds(op, key, stringList(raw), ctx) {
				return false
			}
		}
	}
	return true
}

// principalMatches reports whether a Principal element names the caller.
func principalMatches(raw json.RawMessage, c caller) bool {
	var star string
	if json.Unmarshal(raw, &star) == nil {
		return star == "*"
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return false
	}
	return anyMatch(stringList(m["AWS"]), func(p string) bool {
		switch p {
		case "*", c.account, "arn:aws:iam::" + c.account + ":root", c.arn:
			return true
		}
		return c.roleARN != "" && p == c.roleARN
	})
}

// conditionHolds evaluates one condition key under one operator.
func conditionHolds(op, key string, want []string, ctx trustContext) bool {
	var have string
	present := true
	switch strings.ToLower(key) {
	case "sts:externalid":
		have, present = ctx.externalID, ctx.externalID != ""
	case "sts:rolesessionname":
		have = ctx.sessionName
	case "aws:principalaccount":
		have = ctx.caller.account
	case "aws:principalarn":
		have = ctx.caller.arn
		if ctx.caller.roleARN != "" {
			have = ctx.caller.roleARN
		}
	default:
		return false
	}
	base, ifExists := strings.CutSuffix(op, "IfExists")
	if !present {
		return ifExists || strings.Contains(base, "Not")
	}
	switch base {
	case "StringEquals":
		return anyMatch(want, func(w string) bool { return w == have })
	case "StringNotEquals":
		return !anyMatch(want, func(w string) bool { return w == have })
	case "StringEqualsIgnoreCase":
		return anyMatch(want, func(w string) bool { return strings.EqualFold(w, have) })
	case "StringLike":
		return anyMatch(want, func(w string) bool { return wildcardMatch(w, have) })
	case "StringNotLike":
		return !anyMatch(want, func(w string) bool { return wildcardMatch(w, have) })
	}
	return false
}

// stringList reads a policy value that is a string or a list of strings.
func stringList(raw json.RawMessage) []string {
	if raw == nil {
		return nil
	}
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}
	}
	var many []string
	json.Unmarshal(raw, &many)
	return many
}

func anyMatch(list []string, f func(string) bool) bool {
	for _, v := range list {
		if f(v) {
			return true
		}
	}
	return false
}

// wildcardMatch matches IAM's wildcards: * any run of characters, ? one
// character; / and [ are ordinary characters.
func wildcardMatch(p, s string) bool {
	if p == "" {
		return s == ""
	}
	switch p[0] {
	case '*':
		for i := 0; i <= len(s); i++ {
			if wildcardMatch(p[1:], s[i:]) {
				return true
			}
		}
		return false
	case '?':
		return s != "" && wildcardMatch(p[1:], s[1:])
	}
	return s != "" && p[0] == s[0] && wildcardMatch(p[1:], s[1:])
}
