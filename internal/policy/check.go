package policy

import (
	"encoding/json"
	"fmt"
	"strings"
)

// CheckIdentity checks an identity-based policy document (a user's,
// group's or role's) as IAM's policy grammar requires, so a malformed one
// is refused with the reason and its fix before any call (IAM would answer
// MalformedPolicyDocument): a JSON object with
// only Version, Id and Statement; Version 2012-10-17 or 2008-10-17 when
// given; Statement an object or a list of objects, each with Effect Allow
// or Deny, exactly one of Action and NotAction and one of Resource and
// NotResource (each a string or a list of strings), Condition an object,
// and no Principal (identity policies name none). A byte order mark before
// the document is ignored.
func CheckIdentity(doc string) error {
	doc = strings.TrimPrefix(doc, "\ufeff")
	var d map[string]json.RawMessage
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		return fmt.Errorf("the policy document is not a JSON object (%v): give a document such as {\"Version\":\"2012-10-17\",\"Statement\":[…]}", err)
	}
	for k := range d {
		if k != "Version" && k != "Id" && k != "Statement" {
			return fmt.Errorf("the policy document has %q; a policy has only Version, Id and Statement: remove it", k)
		}
	}
	if v, ok := d["Version"]; ok {
		var version string
		if json.Unmarshal(v, &version) != nil || (version != "2012-10-17" && version != "2008-10-17") {
			return fmt.Errorf("the policy document's Version is %s; use \"2012-10-17\"", v)
		}
	}
	raw, ok := d["Statement"]
	if !ok {
		return fmt.Errorf("the policy document has no Statement: add \"Statement\": [{\"Effect\": …, \"Action\": …, \"Resource\": …}]")
	}
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) != nil {
		list = []json.RawMessage{raw}
	}
	if len(list) == 0 {
		return fmt.Errorf("the policy document's Statement is empty: give at least one statement")
	}
	for i, st := range list {
		if err := checkStatement(st); err != nil {
			return fmt.Errorf("the policy document's statement %d %v", i+1, err)
		}
	}
	return nil
}

// statementKeys are the elements IAM allows in an identity policy's
// statement.
var statementKeys = map[string]bool{"Sid": true, "Effect": true, "Action": true, "NotAction": true, "Resource": true, "NotResource": true, "Condition": true}

// checkStatement checks one statement of an identity-based policy.
func checkStatement(raw json.RawMessage) error {
	var st map[string]json.RawMessage
	if err := json.Unmarshal(raw, &st); err != nil {
		return fmt.Errorf("is %s, not an object: write each statement as {\"Effect\": …, \"Action\": …, \"Resource\": …}", shortJSON(raw))
	}
	for k := range st {
		switch {
		case k == "Principal" || k == "NotPrincipal":
			return fmt.Errorf("has %s; a user, group or role policy names no principal (IAM refuses it): remove it", k)
		case !statementKeys[k]:
			return fmt.Errorf("has %q; a statement has Sid, Effect, Action or NotAction, Resource or NotResource, and Condition: remove or correct it", k)
		}
	}
	var effect string
	if json.Unmarshal(st["Effect"], &effect) != nil || (effect != "Allow" && effect != "Deny") {
		if _, ok := st["Effect"]; !ok {
			return fmt.Errorf("has no Effect: add \"Effect\": \"Allow\" or \"Deny\"")
		}
		return fmt.Errorf("has Effect %s; it must be \"Allow\" or \"Deny\"", shortJSON(st["Effect"]))
	}
	for _, pair := range [][2]string{{"Action", "NotAction"}, {"Resource", "NotResource"}} {
		v, has := st[pair[0]]
		nv, hasNot := st[pair[1]]
		switch {
		case has && hasNot:
			return fmt.Errorf("has both %s and %s: keep one", pair[0], pair[1])
		case !has && !hasNot:
			return fmt.Errorf("has no %s (nor %s): add one", pair[0], pair[1])
		case hasNot:
			v, pair[0] = nv, pair[1]
		}
		if !stringOrStrings(v) {
			return fmt.Errorf("has %s %s; it must be a string or a list of strings", pair[0], shortJSON(v))
		}
	}
	if c, ok := st["Condition"]; ok {
		var m map[string]json.RawMessage
		if json.Unmarshal(c, &m) != nil {
			return fmt.Errorf("has Condition %s; it must be an object such as {\"Bool\": {\"aws:MultiFactorAuthPresent\": \"true\"}}", shortJSON(c))
		}
	}
	return nil
}

// stringOrStrings reports whether raw is a non-empty string or a non-empty
// list of non-empty strings.
func stringOrStrings(raw json.RawMessage) bool {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return one != ""
	}
	var list []string
	if json.Unmarshal(raw, &list) != nil || len(list) == 0 {
		return false
	}
	for _, s := range list {
		if s == "" {
			return false
		}
	}
	return true
}

// shortJSON shows a JSON value in a message, cut to 60 characters.
func shortJSON(raw json.RawMessage) string {
	s := strings.Join(strings.Fields(string(raw)), " ")
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return s
}
