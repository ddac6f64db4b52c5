package setup

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// policyDocument is an IAM policy document as warden writes it.
type policyDocument struct {
	Version   string            `json:"Version"`
	Statement []policyStatement `json:"Statement"`
}

// policyStatement is one Allow statement of a policyDocument.
type policyStatement struct {
	Sid      string   `json:"Sid"`
	Effect   string   `json:"Effect"`
	Action   []string `json:"Action"`
	Resource string   `json:"Resource"`
}

// serviceNames gives each action prefix the name used in statement ids.
// Every prefix in Actions must be here (a test checks).
var serviceNames = map[string]string{
	"cloudtrail":     "CloudTrail",
	"config":         "Config",
	"ec2":            "EC2",
	"kms":            "KMS",
	"lambda":         "Lambda",
	"s3":             "S3",
	"secretsmanager": "SecretsManager",
	"iam":            "IAM",
	"identitystore":  "IdentityStore",
	"organizations":  "Organizations",
	"sso":            "SSO",
	"sts":            "STS",
}

// Policy returns the least-privilege IAM policy (JSON) for a mode: one Allow
// statement per AWS service with its sorted actions, on every resource.
// With features given, the policy covers only those (each must be allowed by
// the mode); without, every feature of the mode. Statement ids read
// Warden<Service>Read, or Warden<Service>Provision when a provisioning
// feature contributes. The output is the same for the same input.
func Policy(m Mode, fs ...Feature) ([]byte, error) {
	doc, err := policyFor(m, fs)
	if err != nil {
		return nil, err
	}
	return encodeJSON(doc, true)
}

// policyFor builds the policy document of Policy.
func policyFor(m Mode, fs []Feature) (policyDocument, error) {
	if _, err := ParseMode(string(m)); err != nil {
		return policyDocument{}, err
	}
	if len(fs) == 0 {
		fs = FeaturesFor(m)
	}
	type service struct {
		actions   map[string]bool
		provision bool
	}
	services := map[string]*service{}
	for _, f := range fs {
		if _, err := ParseFeature(string(f)); err != nil {
			return policyDocument{}, err
		}
		if !allows(m, ModeOf(f)) {
			return policyDocument{}, fmt.Errorf("feature %q needs mode %s, not %s", f, ModeOf(f), m)
		}
		for _, a := range Actions[f] {
			prefix, _, ok := strings.Cut(a, ":")
			if !ok || serviceNames[prefix] == "" {
				return policyDocument{}, fmt.Errorf("action %q of feature %q: unknown service prefix; add it to serviceNames", a, f)
			}
			s := services[prefix]
			if s == nil {
				s = &service{actions: map[string]bool{}}
				services[prefix] = s
			}
			s.actions[a] = true
			s.provision = s.provision || ModeOf(f) == ModeProvision
		}
	}
	prefixes := make([]string, 0, len(services))
	for p := range services {
		prefixes = append(prefixes, p)
	}
	sort.Strings(prefixes)
	doc := policyDocument{Version: "2012-10-17"}
	for _, p := range prefixes {
		s := services[p]
		st := policyStatement{Sid: "Warden" + serviceNames[p] + "Read", Effect: "Allow", Resource: "*"}
		if s.provision {
			st.Sid = "Warden" + serviceNames[p] + "Provision"
		}
		for a := range s.actions {
			st.Action = append(st.Action, a)
		}
		sort.Strings(st.Action)
		doc.Statement = append(doc.Statement, st)
	}
	return doc, nil
}

// encodeJSON encodes v as JSON ending in a newline, indented by two spaces
// when indent is set, without escaping <, > and &.
func encodeJSON(v any, indent bool) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if indent {
		enc.SetIndent("", "  ")
	}
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encode JSON: %w", err)
	}
	return b.Bytes(), nil
}
