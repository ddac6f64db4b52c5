package awsfake

import (
	"encoding/json"
	"strings"
)

// validatePolicyDocument checks an identity-based policy document's
// grammar as IAM's policy engine does: a JSON object with a known Version
// (when given), a Statement that is one statement object or a list of them,
// each with Effect Allow or Deny, Action or NotAction (not both), and
// Resource or NotResource (not both). It returns the reason a document is
// malformed and false, or "" and true.
//
// This is the minimal validator the Organizations and Identity Center
// writes call; fake-iam's fuller one replaces it.
func validatePolicyDocument(doc string) (string, bool) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal([]byte(doc), &top); err != nil {
		return "Syntax errors in policy.", false
	}
	if v, ok := top["Version"]; ok {
		var s string
		if json.Unmarshal(v, &s) != nil || (s != "2012-10-17" && s != "2008-10-17") {
			return "The policy failed legacy parsing: Version must be 2012-10-17 or 2008-10-17.", false
		}
	}
	raw, ok := top["Statement"]
	if !ok {
		return "Policy document must contain a Statement.", false
	}
	var stmts []map[string]json.RawMessage
	if json.Unmarshal(raw, &stmts) != nil {
		var one map[string]json.RawMessage
		if json.Unmarshal(raw, &one) != nil {
			return "Statement must be a statement object or a list of statement objects.", false
		}
		stmts = []map[string]json.RawMessage{one}
	}
	if len(stmts) == 0 {
		return "Policy document must contain at least one Statement.", false
	}
	for _, st := range stmts {
		var effect string
		if json.Unmarshal(st["Effect"], &effect) != nil || (effect != "Allow" && effect != "Deny") {
			return "Statement Effect must be Allow or Deny.", false
		}
		for _, pair := range [][2]string{{"Action", "NotAction"}, {"Resource", "NotResource"}} {
			a, hasA := st[pair[0]]
			b, hasB := st[pair[1]]
			switch {
			case hasA && hasB:
				return "Statement must not contain both " + pair[0] + " and " + pair[1] + ".", false
			case !hasA && !hasB:
				return "Statement must contain " + pair[0] + " or " + pair[1] + ".", false
			}
			v := a
			if hasB {
				v = b
			}
			if !stringOrStrings(v) {
				return "Statement " + strings.TrimSpace(pair[0]) + " must be a string or a list of strings.", false
			}
		}
	}
	return "", true
}

// stringOrStrings says whether v is a non-empty JSON string or a list of
// strings.
func stringOrStrings(v json.RawMessage) bool {
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s != ""
	}
	var list []string
	return json.Unmarshal(v, &list) == nil && len(list) > 0
}
