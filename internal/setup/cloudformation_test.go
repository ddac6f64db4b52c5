package setup

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// parseTemplate reads a template as JSON and, since CloudFormation reads
// templates as YAML too, checks yaml.v3 reads the same thing.
func parseTemplate(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var j map[string]any
	if err := json.Unmarshal(b, &j); err != nil {
		t.Fatalf("template is not JSON: %v", err)
	}
	var y map[string]any
	if err := yaml.Unmarshal(b, &y); err != nil {
		t.Fatalf("template is not YAML: %v", err)
	}
	if fmt.Sprint(y) != fmt.Sprint(j) {
		t.Errorf("YAML reads the template differently from JSON")
	}
	checkReferences(t, j)
	return j
}

// checkReferences fails for a Ref or Fn::GetAtt naming nothing the template
// defines.
func checkReferences(t *testing.T, tmpl map[string]any) {
	t.Helper()
	params, _ := tmpl["Parameters"].(map[string]any)
	resources, _ := tmpl["Resources"].(map[string]any)
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if r, ok := v["Ref"].(string); ok && len(v) == 1 {
				_, isParam := params[r]
				_, isResource := resources[r]
				if !isParam && !isResource && !strings.HasPrefix(r, "AWS::") {
					t.Errorf("Ref %q names nothing in the template", r)
				}
			}
			if g, ok := v["Fn::GetAtt"].([]any); ok {
				if _, ok := resources[fmt.Sprint(g[0])]; !ok {
					t.Errorf("Fn::GetAtt %v names no resource", g)
				}
			}
			for _, x := range v {
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(tmpl["Resources"])
	walk(tmpl["Outputs"])
}

// get follows a path of map keys and list indexes.
func get(t *testing.T, v any, path ...any) any {
	t.Helper()
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("at %q: not a mapping in path %v", k, path)
			}
			v, ok = m[k]
			if !ok {
				t.Fatalf("no %q in path %v", k, path)
			}
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				t.Fatalf("no item %d in path %v", k, path)
			}
			v = l[k]
		}
	}
	return v
}

// asJSON re-encodes v, for comparing structures.
func asJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// checkRole checks the role resource of a role template: trust of the
// parameterised principal with the ExternalId condition, and the inline
// policy equal to wantPolicy.
func checkRole(t *testing.T, tmpl map[string]any, mode Mode, wantPolicy []byte) {
	t.Helper()
	role := get(t, tmpl, "Resources", "WardenRole")
	if get(t, role, "Type") != "AWS::IAM::Role" {
		t.Errorf("WardenRole type %v", get(t, role, "Type"))
	}
	props := get(t, role, "Properties")
	if asJSON(t, get(t, props, "RoleName")) != `{"Ref":"RoleName"}` {
		t.Errorf("RoleName = %v", get(t, props, "RoleName"))
	}
	trust := get(t, props, "AssumeRolePolicyDocument")
	stmts := get(t, trust, "Statement").([]any)
	if len(stmts) != 1 {
		t.Fatalf("trust policy has %d statements, want 1", len(stmts))
	}
	st := stmts[0]
	if get(t, st, "Effect") != "Allow" || get(t, st, "Action") != "sts:AssumeRole" {
		t.Errorf("trust statement = %v", asJSON(t, st))
	}
	if got := asJSON(t, get(t, st, "Principal")); got != `{"AWS":{"Ref":"TrustedPrincipalArn"}}` {
		t.Errorf("trust principal = %s", got)
	}
	if got := asJSON(t, get(t, st, "Condition")); got != `{"StringEquals":{"sts:ExternalId":{"Ref":"ExternalId"}}}` {
		t.Errorf("trust condition = %s, want StringEquals sts:ExternalId", got)
	}
	policies := get(t, props, "Policies").([]any)
	if len(policies) != 1 {
		t.Fatalf("%d inline policies, want 1", len(policies))
	}
	if get(t, policies[0], "PolicyName") != "warden-"+string(mode) {
		t.Errorf("PolicyName = %v", get(t, policies[0], "PolicyName"))
	}
	var want any
	if err := json.Unmarshal(wantPolicy, &want); err != nil {
		t.Fatal(err)
	}
	if got := get(t, policies[0], "PolicyDocument"); !reflect.DeepEqual(got, want) {
		t.Errorf("inline policy differs:\n got %s\nwant %s", asJSON(t, got), asJSON(t, want))
	}
}

func TestCloudFormation(t *testing.T) {
	for _, m := range []Mode{ModeRead, ModeProvision} {
		t.Run(string(m), func(t *testing.T) {
			b, err := CloudFormation(RoleOptions{Mode: m})
			if err != nil {
				t.Fatal(err)
			}
			tmpl := parseTemplate(t, b)
			if tmpl["AWSTemplateFormatVersion"] != "2010-09-09" {
				t.Errorf("AWSTemplateFormatVersion = %v", tmpl["AWSTemplateFormatVersion"])
			}
			policy, _ := Policy(m)
			checkRole(t, tmpl, m, policy)

			ext := get(t, tmpl, "Parameters", "ExternalId").(map[string]any)
			if ext["NoEcho"] != true || ext["MinLength"] != float64(MinExternalIDLength) || ext["Type"] != "String" {
				t.Errorf("ExternalId parameter = %v, want NoEcho, MinLength %d", ext, MinExternalIDLength)
			}
			if _, ok := ext["Default"]; ok {
				t.Error("ExternalId has a default though none was given")
			}
			if _, ok := get(t, tmpl, "Parameters", "TrustedPrincipalArn").(map[string]any)["Default"]; ok {
				t.Error("TrustedPrincipalArn has a default though none was given")
			}
			if got := get(t, tmpl, "Parameters", "RoleName", "Default"); got != DefaultRoleName(m) {
				t.Errorf("RoleName default = %v, want %s", got, DefaultRoleName(m))
			}
			if got := asJSON(t, get(t, tmpl, "Outputs", "RoleArn", "Value")); got != `{"Fn::GetAtt":["WardenRole","Arn"]}` {
				t.Errorf("RoleArn output = %s", got)
			}
			again, _ := CloudFormation(RoleOptions{Mode: m})
			if string(again) != string(b) {
				t.Error("CloudFormation is not deterministic")
			}
		})
	}
}

func TestCloudFormationOptionsBecomeDefaults(t *testing.T) {
	id, err := NewExternalID()
	if err != nil {
		t.Fatal(err)
	}
	o := RoleOptions{Mode: ModeRead, RoleName: "AcmeWarden", TrustedPrincipalARN: "arn:aws:iam::111122223333:role/warden", ExternalID: id}
	b, err := CloudFormation(o)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := parseTemplate(t, b)
	for param, want := range map[string]string{"RoleName": o.RoleName, "TrustedPrincipalArn": o.TrustedPrincipalARN, "ExternalId": id} {
		if got := get(t, tmpl, "Parameters", param, "Default"); got != want {
			t.Errorf("%s default = %v, want %s", param, got, want)
		}
	}
}

func TestRoleOptionsRefused(t *testing.T) {
	tests := []struct {
		name    string
		o       RoleOptions
		wantErr string
	}{
		{"no mode", RoleOptions{}, `unknown mode ""`},
		{"principal not an ARN", RoleOptions{Mode: ModeRead, TrustedPrincipalARN: "warden"}, `trusted principal "warden"`},
		{"principal a group", RoleOptions{Mode: ModeRead, TrustedPrincipalARN: "arn:aws:iam::111122223333:group/x"}, "trusted principal"},
		{"role name", RoleOptions{Mode: ModeRead, RoleName: "has space"}, `role name "has space"`},
		{"role name too long", RoleOptions{Mode: ModeRead, RoleName: strings.Repeat("r", 65)}, "role name"},
		{"external id short", RoleOptions{Mode: ModeRead, ExternalID: "short-secret-value"}, "external id has 18 characters; use 32 to 1224"},
		{"external id chars", RoleOptions{Mode: ModeRead, ExternalID: strings.Repeat("a", 31) + "!secret"}, "external id has characters AWS does not accept"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for name, gen := range map[string]func(RoleOptions) ([]byte, error){"CloudFormation": CloudFormation, "StackSet": StackSet} {
				_, err := gen(tt.o)
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("%s: err = %v, want %q", name, err, tt.wantErr)
				}
				if err != nil && strings.Contains(err.Error(), "secret") {
					t.Errorf("%s: the error repeats the ExternalId: %v", name, err)
				}
			}
		})
	}
	for _, ok := range []string{"123456789012", "arn:aws:iam::123456789012:root", "arn:aws-us-gov:iam::123456789012:user/ops/warden"} {
		if _, err := CloudFormation(RoleOptions{Mode: ModeRead, TrustedPrincipalARN: ok}); err != nil {
			t.Errorf("principal %s refused: %v", ok, err)
		}
	}
}
