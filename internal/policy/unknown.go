package policy

import "strings"

// Alternative is one way a Conditional request is allowed: all of its
// requirements must hold.
type Alternative struct {
	Requires []Requirement `json:"requires"`
}

// Requirement is one condition on a key the request left unknown that
// must hold for the allow: Key Operator Values, as a policy condition
// writes it. A requirement that a Deny statement not apply is written as
// what must hold instead (the Deny's operator negated), so every
// requirement reads as "this must be true". Policy and Statement name the
// statement it comes from.
type Requirement struct {
	Key       string   `json:"key"`
	Operator  string   `json:"operator"`
	Values    []string `json:"values"`
	Policy    string   `json:"policy"`
	Statement string   `json:"statement"`
}

// String renders the requirement as "key Operator value[, value…]", e.g.
// "aws:MultiFactorAuthPresent Bool true" or
// "aws:SourceIp NotIpAddress 10.0.0.0/8".
func (r Requirement) String() string {
	return r.Key + " " + r.Operator + " " + strings.Join(r.Values, ", ")
}
