package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/warden-iam/warden/internal/setup"
)

// testExternalID is a valid ExternalId for the template commands.
const testExternalID = "abcdefghijklmnopqrstuvwxyz0123456789ABCD"

// setupDB is a database path the setup commands must never need.
func setupDB(t *testing.T) string {
	return filepath.Join(t.TempDir(), "unused.db")
}

// policyActions parses a policy document and returns its actions, failing
// on anything but Allow statements on every resource.
func policyActions(t *testing.T, doc string) []string {
	t.Helper()
	var p struct {
		Version   string
		Statement []struct {
			Sid      string
			Effect   string
			Action   []string
			Resource string
		}
	}
	if err := json.Unmarshal([]byte(doc), &p); err != nil {
		t.Fatalf("policy is not JSON: %v\n%s", err, doc)
	}
	if p.Version != "2012-10-17" || len(p.Statement) == 0 {
		t.Fatalf("policy has version %q and %d statements; want 2012-10-17 and at least one", p.Version, len(p.Statement))
	}
	var actions []string
	for _, st := range p.Statement {
		if st.Effect != "Allow" || st.Resource != "*" || st.Sid == "" {
			t.Errorf("statement %+v: want a named Allow on \"*\"", st)
		}
		actions = append(actions, st.Action...)
	}
	return sortedCopy(actions)
}

// featureActions returns the sorted, unique actions of the features, from
// setup's table.
func featureActions(fs ...setup.Feature) []string {
	var out []string
	for _, f := range fs {
		for _, a := range setup.Actions[f] {
			if !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
	}
	return sortedCopy(out)
}

func TestSetupPolicy(t *testing.T) {
	db := setupDB(t)
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"default is read", nil, setup.ActionsFor(setup.ModeRead)},
		{"read", []string{"--for", "read"}, setup.ActionsFor(setup.ModeRead)},
		{"provision", []string{"--for", "provision"}, setup.ActionsFor(setup.ModeProvision)},
		{"json output is the same document", []string{"-o", "json"}, setup.ActionsFor(setup.ModeRead)},
		{"one feature", []string{"--features", "iam-read"}, featureActions(setup.FeatureIAMRead)},
		{"several features, spaces ignored", []string{"--features", "access-keys, identity", "--features", "credential-report"},
			featureActions(setup.FeatureAccessKeys, setup.FeatureIdentity, setup.FeatureCredentialReport)},
		{"organization features", []string{"--features", "organizations-read,assume-member-role"},
			featureActions(setup.FeatureOrganizationsRead, setup.FeatureAssumeMemberRole)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, stderr, code := runIn(t, db, append([]string{"setup", "policy"}, tt.args...)...)
			if code != 0 {
				t.Fatalf("exit %d\n%s", code, stderr)
			}
			got := policyActions(t, out)
			if !slices.Equal(got, tt.want) {
				t.Errorf("actions = %v\nwant %v", got, tt.want)
			}
			want, err := setup.Policy(setup.ModeRead)
			if err != nil {
				t.Fatal(err)
			}
			if len(tt.args) == 0 && out != string(want) {
				t.Errorf("setup policy printed something other than setup.Policy(read):\n%s", out)
			}
		})
	}
}

func TestSetupPolicyReadGrantsNoWrite(t *testing.T) {
	out, _, code := runIn(t, setupDB(t), "setup", "policy", "--for", "read")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, a := range policyActions(t, out) {
		_, name, _ := strings.Cut(a, ":")
		for _, verb := range []string{"Create", "Delete", "Put", "Update", "Attach", "Detach", "Add", "Remove", "Tag"} {
			if strings.HasPrefix(name, verb) {
				t.Errorf("the read policy allows %s", a)
			}
		}
	}
}

func TestSetupUsageErrors(t *testing.T) {
	db := setupDB(t)
	principal := "arn:aws:iam::111122223333:role/warden"
	tests := []struct {
		name    string
		args    []string
		problem string
	}{
		{"policy: unknown mode", []string{"policy", "--for", "write"}, `--for "write" is not a mode`},
		{"policy: unknown feature", []string{"policy", "--features", "iam-read,nope"}, `unknown feature "nope"`},
		{"policy: empty feature", []string{"policy", "--features", "iam-read,"}, `unknown feature ""`},
		{"policy: feature not built", []string{"policy", "--for", "provision", "--features", unbuiltFeature(t)}, "does not call the actions"},
		{"policy: argument", []string{"policy", "read"}, "takes no arguments"},
		{"cloudformation: unknown mode", []string{"cloudformation", "--for", "admin", "--trust-principal", principal}, `--for "admin"`},
		{"cloudformation: malformed ARN", []string{"cloudformation", "--trust-principal", "arn:aws:iam::1111:role/warden"}, "trusted principal"},
		{"cloudformation: not an ARN", []string{"cloudformation", "--trust-principal", "warden"}, "trusted principal"},
		{"cloudformation: ARN of another service", []string{"cloudformation", "--trust-principal", "arn:aws:s3:::bucket"}, "trusted principal"},
		{"cloudformation: short external id", []string{"cloudformation", "--trust-principal", principal, "--external-id", "short-id"}, "external id has 8 characters"},
		{"cloudformation: external id characters", []string{"cloudformation", "--trust-principal", principal, "--external-id", strings.Repeat("x", 32) + " #!"}, "characters AWS does not accept"},
		{"cloudformation: role name", []string{"cloudformation", "--trust-principal", principal, "--role-name", "bad name"}, "role name"},
		{"stackset: malformed ARN", []string{"stackset", "--trust-principal", "arn:aws:iam::111122223333:group/admins"}, "trusted principal"},
		{"stackset: short external id", []string{"stackset", "--trust-principal", principal, "--external-id", "x"}, "external id has 1 characters"},
		{"stackset: unknown flag", []string{"stackset", "--trust", principal}, "unknown flag"},
		{"external-id: argument", []string{"external-id", "now"}, "takes no arguments"},
		{"unknown subcommand", []string{"polciy"}, `unknown command "polciy" for "warden setup" (did you mean policy?)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := runIn(t, db, append([]string{"setup"}, tt.args...)...)
			assertFailure(t, stdout, stderr, code, exitUsage, tt.problem)
			for _, arg := range tt.args {
				if strings.Contains(arg, "short-id") || strings.Contains(arg, "xxxxxxxx") {
					if strings.Contains(stderr, arg) {
						t.Errorf("the error repeats the ExternalId %q:\n%s", arg, stderr)
					}
				}
			}
		})
	}
}

// unbuiltFeature returns a feature warden does not call yet, skipping the
// case once every feature is built.
func unbuiltFeature(t *testing.T) string {
	for _, f := range setup.Features() {
		if !setup.Built(f) {
			return string(f)
		}
	}
	t.Skip("every feature is built: no unbuilt feature to refuse")
	return ""
}

// parseTemplateOutput reads a template as JSON and as YAML (CloudFormation
// reads both) and checks the two agree.
func parseTemplateOutput(t *testing.T, out string) map[string]any {
	t.Helper()
	var j, y map[string]any
	if err := json.Unmarshal([]byte(out), &j); err != nil {
		t.Fatalf("template is not JSON: %v\n%.500s", err, out)
	}
	if err := yaml.Unmarshal([]byte(out), &y); err != nil {
		t.Fatalf("template is not YAML: %v", err)
	}
	if fmt.Sprint(j) != fmt.Sprint(y) {
		t.Error("YAML reads the template differently from JSON")
	}
	if j["AWSTemplateFormatVersion"] != "2010-09-09" {
		t.Errorf("AWSTemplateFormatVersion = %v", j["AWSTemplateFormatVersion"])
	}
	return j
}

// parameterDefault returns the Default of a template parameter, "" when it
// has none.
func parameterDefault(t *testing.T, tmpl map[string]any, name string) string {
	t.Helper()
	params, _ := tmpl["Parameters"].(map[string]any)
	p, ok := params[name].(map[string]any)
	if !ok {
		t.Fatalf("template has no parameter %s", name)
	}
	d, _ := p["Default"].(string)
	return d
}

func TestSetupTemplates(t *testing.T) {
	db := setupDB(t)
	principal := "arn:aws:iam::111122223333:role/warden"
	tests := []struct {
		name       string
		args       []string
		principal  string
		externalID string
		roleName   string
		resource   string
	}{
		{"cloudformation read", []string{"cloudformation", "--trust-principal", principal, "--external-id", testExternalID},
			principal, testExternalID, "WardenReadRole", "AWS::IAM::Role"},
		{"cloudformation provision with role name", []string{"cloudformation", "--for", "provision", "--trust-principal", "111122223333", "--external-id", testExternalID, "--role-name", "Warden-Prov"},
			"111122223333", testExternalID, "Warden-Prov", "AWS::IAM::Role"},
		{"cloudformation without values asks at deployment", []string{"cloudformation"},
			"", "", "WardenReadRole", "AWS::IAM::Role"},
		{"cloudformation provision default role name", []string{"cloudformation", "--for", "provision"},
			"", "", "WardenProvisionRole", "AWS::IAM::Role"},
		{"stackset read", []string{"stackset", "--trust-principal", principal, "--external-id", testExternalID},
			principal, testExternalID, "WardenReadRole", "AWS::CloudFormation::StackSet"},
		{"stackset with -o json prints the same template", []string{"stackset", "-o", "json", "--trust-principal", principal, "--role-name", "R"},
			principal, "", "R", "AWS::CloudFormation::StackSet"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, stderr, code := runIn(t, db, append([]string{"setup"}, tt.args...)...)
			if code != 0 {
				t.Fatalf("exit %d\n%s", code, stderr)
			}
			tmpl := parseTemplateOutput(t, out)
			if got := parameterDefault(t, tmpl, "TrustedPrincipalArn"); got != tt.principal {
				t.Errorf("TrustedPrincipalArn default = %q, want %q", got, tt.principal)
			}
			if got := parameterDefault(t, tmpl, "ExternalId"); got != tt.externalID {
				t.Errorf("ExternalId default = %q, want %q", got, tt.externalID)
			}
			if got := parameterDefault(t, tmpl, "RoleName"); got != tt.roleName {
				t.Errorf("RoleName default = %q, want %q", got, tt.roleName)
			}
			var types []string
			for _, r := range tmpl["Resources"].(map[string]any) {
				types = append(types, fmt.Sprint(r.(map[string]any)["Type"]))
			}
			if !slices.Contains(types, tt.resource) {
				t.Errorf("resources %v, want a %s", types, tt.resource)
			}
		})
	}
}

// TestSetupCloudFormationPolicy checks the one-account role carries the
// mode's policy: the same actions `setup policy` prints.
func TestSetupCloudFormationPolicy(t *testing.T) {
	db := setupDB(t)
	for _, mode := range []setup.Mode{setup.ModeRead, setup.ModeProvision} {
		out, stderr, code := runIn(t, db, "setup", "cloudformation", "--for", string(mode))
		if code != 0 {
			t.Fatalf("%s: exit %d\n%s", mode, code, stderr)
		}
		var tmpl struct {
			Resources map[string]struct {
				Type       string
				Properties struct {
					Policies []struct {
						PolicyDocument json.RawMessage
					}
				}
			}
		}
		if err := json.Unmarshal([]byte(out), &tmpl); err != nil {
			t.Fatalf("%s: %v", mode, err)
		}
		var got []string
		for _, r := range tmpl.Resources {
			if r.Type != "AWS::IAM::Role" {
				continue
			}
			for _, p := range r.Properties.Policies {
				got = append(got, policyActions(t, string(p.PolicyDocument))...)
			}
		}
		if want := setup.ActionsFor(mode); !slices.Equal(sortedCopy(got), want) {
			t.Errorf("%s role allows %v\nwant %v", mode, sortedCopy(got), want)
		}
	}
}

func TestSetupExternalID(t *testing.T) {
	db := setupDB(t)
	seen := map[string]bool{}
	for i := range 6 {
		args := []string{"setup", "external-id"}
		if i%2 == 1 {
			args = append(args, "-o", "json")
		}
		out, stderr, code := runIn(t, db, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d\n%s", args, code, stderr)
		}
		id := strings.TrimSuffix(out, "\n")
		if i%2 == 1 {
			var v map[string]string
			if err := json.Unmarshal([]byte(out), &v); err != nil || len(v) != 1 {
				t.Fatalf("-o json printed %q; want {\"external_id\": …}", out)
			}
			id = v["external_id"]
		}
		if len(id) < 32 || strings.Trim(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") != "" {
			t.Errorf("external id %q: want 32 or more letters and digits", id)
		}
		if seen[id] {
			t.Errorf("external id %q printed twice", id)
		}
		seen[id] = true
		// What it prints, the templates accept.
		if _, stderr, code := runIn(t, db, "setup", "cloudformation", "--external-id", id); code != 0 {
			t.Errorf("cloudformation refused a generated external id: %s", stderr)
		}
	}
}
