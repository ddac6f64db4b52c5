// Package policy reads IAM policy documents: it decodes the URL-encoded
// form IAM returns, normalises documents for storage and comparison, and
// answers the questions warden asks of them (who does a trust policy trust,
// does a policy grant full administrator access).
package policy

import (
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strings"
)

// Document is a parsed IAM policy document. Parse also compiles it for
// Evaluate (patterns lower-cased and split, statements indexed by service
// prefix, condition values parsed), so a Document must not be changed
// after Parse: parse the changed text again. A Document built by hand is
// compiled at each evaluation (correct, but slower: use Parse).
type Document struct {
	Version   string
	Statement []Statement
	c         *compiled // made by Parse; a Document must not change after
}

// Statement is one statement of a policy document. Fields AWS allows as a
// single string or a list are always lists here; Principal "*" becomes the
// map key "*".
type Statement struct {
	Sid          string
	Effect       string
	Principal    map[string][]string
	NotPrincipal map[string][]string
	Action       []string
	NotAction    []string
	Resource     []string
	NotResource  []string
	Condition    map[string]map[string][]string
}

// Decode returns the JSON text of a policy document as IAM returns it:
// URL-encoded per RFC 3986. A document that is already JSON is returned as is.
func Decode(s string) (string, error) {
	if t := strings.TrimSpace(s); strings.HasPrefix(t, "{") {
		return s, nil
	}
	// PathUnescape, not QueryUnescape: '+' is a literal plus in RFC 3986.
	out, err := url.PathUnescape(s)
	if err != nil {
		return "", fmt.Errorf("decode policy document: %w", err)
	}
	return out, nil
}

// Normalize returns doc as compact JSON with object keys in sorted order, so
// equal documents compare equal as strings.
func Normalize(doc string) (string, error) {
	var v any
	if err := json.Unmarshal([]byte(doc), &v); err != nil {
		return "", fmt.Errorf("normalize policy document: not valid JSON: %w", err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("normalize policy document: %w", err)
	}
	return string(b), nil
}

type rawStatement struct {
	Sid          string                                `json:"Sid"`
	Effect       string                                `json:"Effect"`
	Principal    json.RawMessage                       `json:"Principal"`
	NotPrincipal json.RawMessage                       `json:"NotPrincipal"`
	Action       json.RawMessage                       `json:"Action"`
	NotAction    json.RawMessage                       `json:"NotAction"`
	Resource     json.RawMessage                       `json:"Resource"`
	NotResource  json.RawMessage                       `json:"NotResource"`
	Condition    map[string]map[string]json.RawMessage `json:"Condition"`
}

// Parse parses a policy document, accepting every shape IAM accepts:
// Statement as an object or a list, string-or-list fields, Principal "*".
func Parse(doc string) (*Document, error) {
	var raw struct {
		Version   string          `json:"Version"`
		Statement json.RawMessage `json:"Statement"`
	}
	if err := json.Unmarshal([]byte(doc), &raw); err != nil {
		return nil, fmt.Errorf("parse policy document: %w", err)
	}
	var stmts []rawStatement
	trimmed := strings.TrimSpace(string(raw.Statement))
	switch {
	case trimmed == "" || trimmed == "null":
	case strings.HasPrefix(trimmed, "["):
		if err := json.Unmarshal(raw.Statement, &stmts); err != nil {
			return nil, fmt.Errorf("parse policy statements: %w", err)
		}
	default:
		var one rawStatement
		if err := json.Unmarshal(raw.Statement, &one); err != nil {
			return nil, fmt.Errorf("parse policy statement: %w", err)
		}
		stmts = []rawStatement{one}
	}
	d := &Document{Version: raw.Version}
	for i, r := range stmts {
		s := Statement{Sid: r.Sid, Effect: r.Effect}
		var err error
		fields := []struct {
			raw json.RawMessage
			dst *[]string
		}{{r.Action, &s.Action}, {r.NotAction, &s.NotAction}, {r.Resource, &s.Resource}, {r.NotResource, &s.NotResource}}
		for _, f := range fields {
			if *f.dst, err = stringOrList(f.raw); err != nil {
				return nil, fmt.Errorf("parse statement %d: %w", i, err)
			}
		}
		if s.Principal, err = principals(r.Principal); err != nil {
			return nil, fmt.Errorf("parse statement %d principal: %w", i, err)
		}
		if s.NotPrincipal, err = principals(r.NotPrincipal); err != nil {
			return nil, fmt.Errorf("parse statement %d not-principal: %w", i, err)
		}
		if len(r.Condition) > 0 {
			s.Condition = map[string]map[string][]string{}
			for op, keys := range r.Condition {
				s.Condition[op] = map[string][]string{}
				for k, v := range keys {
					vals, err := stringOrList(v)
					if err != nil {
						return nil, fmt.Errorf("parse statement %d condition %s %s: %w", i, op, k, err)
					}
					s.Condition[op][k] = vals
				}
			}
		}
		d.Statement = append(d.Statement, s)
	}
	d.c = compile(d)
	return d, nil
}

// stringOrList decodes a JSON string, list of strings, or scalar (a number
// or boolean in a condition) into a list.
func stringOrList(raw json.RawMessage) ([]string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var one any
	if err := json.Unmarshal(raw, &one); err != nil {
		return nil, err
	}
	switch v := one.(type) {
	case string:
		return []string{v}, nil
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			out = append(out, fmt.Sprint(e))
		}
		return out, nil
	case map[string]any:
		return nil, fmt.Errorf("expected a string or a list, found an object")
	default:
		return []string{fmt.Sprint(v)}, nil
	}
}

func principals(raw json.RawMessage) (map[string][]string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var star string
	if err := json.Unmarshal(raw, &star); err == nil {
		if star != "*" {
			return nil, fmt.Errorf("principal %q: only \"*\" may be given as a bare string", star)
		}
		return map[string][]string{"*": {"*"}}, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for k, v := range m {
		vals, err := stringOrList(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		out[k] = vals
	}
	return out, nil
}

// TrustedPrincipal is one principal a role's trust policy allows to assume
// the role.
type TrustedPrincipal struct {
	Kind       string   // AWS, Service, Federated, CanonicalUser, or "*" for anyone
	Value      string   // ARN, account id, service or provider name, or "*"
	Conditions []string // condition keys that restrict the statement, sorted
}

// TrustedPrincipals lists the principals of the Allow statements of a trust
// policy that grant an sts:AssumeRole* action (or sts:*/*), sorted and
// without duplicates.
func TrustedPrincipals(trustDoc string) ([]TrustedPrincipal, error) {
	d, err := Parse(trustDoc)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []TrustedPrincipal
	for _, s := range d.Statement {
		if s.Effect != "Allow" || !grantsAssume(s.Action) {
			continue
		}
		var conds []string
		for _, keys := range s.Condition {
			for k := range keys {
				conds = append(conds, k)
			}
		}
		sort.Strings(conds)
		conds = dedupe(conds)
		for kind, vals := range s.Principal {
			for _, v := range vals {
				tp := TrustedPrincipal{Kind: kind, Value: v, Conditions: conds}
				if kind == "AWS" && v == "*" {
					tp.Kind = "*"
				}
				key := tp.Kind + "\x00" + tp.Value + "\x00" + strings.Join(conds, ",")
				if !seen[key] {
					seen[key] = true
					out = append(out, tp)
				}
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Kind != out[j].Kind {
			return out[i].Kind < out[j].Kind
		}
		if out[i].Value != out[j].Value {
			return out[i].Value < out[j].Value
		}
		return strings.Join(out[i].Conditions, ",") < strings.Join(out[j].Conditions, ",")
	})
	return out, nil
}

func grantsAssume(actions []string) bool {
	for _, a := range actions {
		l := strings.ToLower(a)
		if l == "*" || l == "sts:*" || strings.HasPrefix(l, "sts:assumerole") {
			return true
		}
	}
	return false
}

func dedupe(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// IsAdmin reports whether doc allows every action on every resource in one
// statement ("Action": "*" or "*:*" with "Resource": "*"). A document that
// does not parse is not an admin policy.
func IsAdmin(doc string) bool {
	d, err := Parse(doc)
	if err != nil {
		return false
	}
	for _, s := range d.Statement {
		if s.Effect != "Allow" || len(s.NotAction) > 0 || len(s.NotResource) > 0 || len(s.Condition) > 0 {
			continue
		}
		if contains(s.Action, "*", "*:*") && contains(s.Resource, "*") {
			return true
		}
	}
	return false
}

func contains(list []string, want ...string) bool {
	for _, v := range list {
		for _, w := range want {
			if v == w {
				return true
			}
		}
	}
	return false
}
