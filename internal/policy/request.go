package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// RequestError is a malformed request: Field names the JSON field at fault.
type RequestError struct {
	Field string
	Err   error
}

// Error names the field and the problem.
func (e *RequestError) Error() string {
	return fmt.Sprintf("request field %s: %v", e.Field, e.Err)
}

// Unwrap returns the underlying problem.
func (e *RequestError) Unwrap() error { return e.Err }

type jsonNamed struct {
	Name     string          `json:"name"`
	Document json.RawMessage `json:"document"`
}

type jsonLevel struct {
	Target   string      `json:"target"`
	Policies []jsonNamed `json:"policies"`
}

type jsonRequest struct {
	Principal          string                     `json:"principal"`
	Action             string                     `json:"action"`
	Resource           string                     `json:"resource"`
	ResourceAccount    string                     `json:"resource_account"`
	Context            map[string]json.RawMessage `json:"context"`
	IdentityPolicies   []jsonNamed                `json:"identity_policies"`
	PermissionBoundary []jsonNamed                `json:"permissions_boundary"`
	SCPs               []jsonLevel                `json:"scps"`
	RCPs               []jsonLevel                `json:"rcps"`
	ResourcePolicy     json.RawMessage            `json:"resource_policy"`
	SessionPolicy      json.RawMessage            `json:"session_policy"`
}

// ParseRequests decodes the `policy eval` request format: one request
// object, or a JSON array of them (batch is true). Omitted fields mean none;
// an omitted scps means no Organizations, an omitted rcps AWS's default
// allow-all RCP.
func ParseRequests(data []byte) (reqs []Request, batch bool, err error) {
	t := bytes.TrimSpace(data)
	var raws []json.RawMessage
	if len(t) > 0 && t[0] == '[' {
		batch = true
		if err := json.Unmarshal(t, &raws); err != nil {
			return nil, true, &RequestError{Field: "(top level)", Err: err}
		}
	} else {
		raws = []json.RawMessage{t}
	}
	for i, raw := range raws {
		r, err := parseRequest(raw)
		if err != nil {
			if batch {
				var re *RequestError
				if ok := asReqErr(err, &re); ok {
					re.Field = fmt.Sprintf("[%d].%s", i, re.Field)
				}
			}
			return nil, batch, err
		}
		reqs = append(reqs, r)
	}
	return reqs, batch, nil
}

func asReqErr(err error, out **RequestError) bool {
	re, ok := err.(*RequestError)
	if ok {
		*out = re
	}
	return ok
}

func parseRequest(raw json.RawMessage) (Request, error) {
	var j jsonRequest
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		field := "(request)"
		if e, ok := err.(*json.UnmarshalTypeError); ok && e.Field != "" {
			field = e.Field
		} else if s := err.Error(); strings.Contains(s, "unknown field") {
			field = strings.Trim(strings.TrimPrefix(s, "json: unknown field "), `"`)
			err = fmt.Errorf("unknown field; the fields are principal, action, resource, resource_account, context, identity_policies, permissions_boundary, scps, rcps, resource_policy, session_policy")
		}
		return Request{}, &RequestError{Field: field, Err: err}
	}
	if j.Action == "" {
		return Request{}, &RequestError{Field: "action", Err: fmt.Errorf("missing: give the action, e.g. \"s3:GetObject\"")}
	}
	if !strings.Contains(j.Action, ":") {
		return Request{}, &RequestError{Field: "action", Err: fmt.Errorf("%q is not service:Action", j.Action)}
	}
	if j.Principal == "" {
		return Request{}, &RequestError{Field: "principal", Err: fmt.Errorf("missing: give the principal's ARN")}
	}
	r := Request{Principal: j.Principal, Action: j.Action, Resource: j.Resource, ResourceAccount: j.ResourceAccount,
		PrincipalIsUser: strings.Contains(j.Principal, ":user/")}
	if r.Resource == "" {
		r.Resource = "*"
	}
	if len(j.Context) > 0 {
		r.Context = map[string][]string{}
		// Keys compare case-insensitively: the values of keys that differ
		// only in case are merged, in the keys' sorted order, so the
		// request means one thing.
		keys := make([]string, 0, len(j.Context))
		for k := range j.Context {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			vals, err := stringOrList(j.Context[k])
			if err != nil {
				return Request{}, &RequestError{Field: "context." + k, Err: err}
			}
			lk := strings.ToLower(k)
			if prev, dup := r.Context[lk]; dup {
				vals = append(append([]string{}, prev...), vals...)
			}
			r.Context[lk] = vals
		}
	}
	var err error
	if r.Identity, err = namedList("identity_policies", j.IdentityPolicies); err != nil {
		return Request{}, err
	}
	if j.PermissionBoundary != nil {
		if r.Boundary, err = namedList("permissions_boundary", j.PermissionBoundary); err != nil {
			return Request{}, err
		}
		if r.Boundary == nil {
			r.Boundary = []Named{}
		}
	}
	if r.SCPs, err = levels("scps", j.SCPs); err != nil {
		return Request{}, err
	}
	if r.RCPs, err = levels("rcps", j.RCPs); err != nil {
		return Request{}, err
	}
	if r.ResourcePolicy, err = optDoc("resource_policy", j.ResourcePolicy); err != nil {
		return Request{}, err
	}
	if r.SessionPolicy, err = optDoc("session_policy", j.SessionPolicy); err != nil {
		return Request{}, err
	}
	return r, nil
}

func namedList(field string, in []jsonNamed) ([]Named, error) {
	var out []Named
	for i, n := range in {
		f := fmt.Sprintf("%s[%d].document", field, i)
		d, err := parseDoc(f, n.Document)
		if err != nil {
			return nil, err
		}
		name := n.Name
		if name == "" {
			name = fmt.Sprintf("%s[%d]", field, i)
		}
		out = append(out, Named{Name: name, Doc: d})
	}
	return out, nil
}

func levels(field string, in []jsonLevel) ([]Level, error) {
	if in == nil {
		return nil, nil
	}
	out := []Level{}
	for i, l := range in {
		if l.Target == "" {
			return nil, &RequestError{Field: fmt.Sprintf("%s[%d].target", field, i), Err: fmt.Errorf("missing: give the root, OU or account id")}
		}
		ps, err := namedList(fmt.Sprintf("%s[%d].policies", field, i), l.Policies)
		if err != nil {
			return nil, err
		}
		prefix := "SCP at "
		if field == "rcps" {
			prefix = "RCP at "
		}
		out = append(out, Level{Target: l.Target, Policies: ps, name: prefix + l.Target})
	}
	return out, nil
}

func optDoc(field string, raw json.RawMessage) (*Named, error) {
	if len(raw) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return nil, nil
	}
	d, err := parseDoc(field, raw)
	if err != nil {
		return nil, err
	}
	return &Named{Name: field, Doc: d}, nil
}

// parseDoc parses a policy document given as a JSON object or as a JSON
// string holding one.
func parseDoc(field string, raw json.RawMessage) (*Document, error) {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 || string(t) == "null" {
		return nil, &RequestError{Field: field, Err: fmt.Errorf("missing: give a policy document object")}
	}
	if t[0] == '"' {
		var s string
		if err := json.Unmarshal(t, &s); err != nil {
			return nil, &RequestError{Field: field, Err: err}
		}
		t = bytes.TrimSpace([]byte(s))
	}
	if len(t) == 0 || t[0] != '{' {
		return nil, &RequestError{Field: field, Err: fmt.Errorf("not a JSON object: give {\"Version\": \"2012-10-17\", \"Statement\": [...]}")}
	}
	d, err := Parse(string(t))
	if err != nil {
		return nil, &RequestError{Field: field, Err: err}
	}
	for i, s := range d.Statement {
		if s.Effect != "Allow" && s.Effect != "Deny" {
			return nil, &RequestError{Field: fmt.Sprintf("%s.Statement[%d].Effect", field, i), Err: fmt.Errorf("%q: use \"Allow\" or \"Deny\"", s.Effect)}
		}
	}
	return d, nil
}

// EvalResult is one decision of a self-contained request, as `warden
// policy eval -o json` prints it and POST /api/v1/policy/eval answers.
type EvalResult struct {
	Decision    string `json:"decision"` // allowed, explicit_deny or implicit_deny
	Explanation []Step `json:"explanation"`
}

// EvaluateAll decides each request, in order; every Explanation is a list
// (empty, never nil).
func EvaluateAll(reqs []Request) []EvalResult {
	out := make([]EvalResult, len(reqs))
	for i := range reqs {
		r := Evaluate(&reqs[i])
		out[i] = EvalResult{Decision: string(r.Decision), Explanation: r.Explanation}
		if out[i].Explanation == nil {
			out[i].Explanation = []Step{}
		}
	}
	return out
}

// RequestProblem says what is wrong with a request ParseRequests refused,
// and its fix, as the CLI and the API both say it.
func RequestProblem(err error) (problem, fix string) {
	var re *RequestError
	if errors.As(err, &re) {
		return fmt.Sprintf("malformed request: field %s: %v", re.Field, re.Err), "correct that field; `warden policy eval --help` shows the request format"
	}
	return "malformed request: " + err.Error(), "`warden policy eval --help` shows the request format"
}
