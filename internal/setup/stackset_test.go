package setup

import (
	"encoding/json"
	"sort"
	"strings"
	"testing"
)

func TestStackSet(t *testing.T) {
	for _, m := range []Mode{ModeRead, ModeProvision} {
		t.Run(string(m), func(t *testing.T) {
			o := RoleOptions{Mode: m, TrustedPrincipalARN: "arn:aws:iam::111122223333:role/WardenReadRole"}
			b, err := StackSet(o)
			if err != nil {
				t.Fatal(err)
			}
			tmpl := parseTemplate(t, b)
			ss := get(t, tmpl, "Resources", "WardenRoleStackSet")
			if get(t, ss, "Type") != "AWS::CloudFormation::StackSet" {
				t.Fatalf("resource type %v", get(t, ss, "Type"))
			}
			props := get(t, ss, "Properties")
			for key, want := range map[string]string{
				"PermissionModel": `"SERVICE_MANAGED"`,
				"AutoDeployment":  `{"Enabled":true,"RetainStacksOnAccountRemoval":false}`,
				"Capabilities":    `["CAPABILITY_NAMED_IAM"]`,
				"CallAs":          `{"Ref":"CallAs"}`,
				"StackSetName":    `{"Ref":"StackSetName"}`,
			} {
				if got := asJSON(t, get(t, props, key)); got != want {
					t.Errorf("%s = %s, want %s", key, got, want)
				}
			}
			group := get(t, props, "StackInstancesGroup", 0)
			if got := asJSON(t, get(t, group, "DeploymentTargets")); got != `{"OrganizationalUnitIds":{"Ref":"OrganizationalUnitIds"}}` {
				t.Errorf("DeploymentTargets = %s", got)
			}
			if got := get(t, tmpl, "Parameters", "OrganizationalUnitIds", "Type"); got != "CommaDelimitedList" {
				t.Errorf("OrganizationalUnitIds type = %v", got)
			}
			if got := get(t, tmpl, "Parameters", "TrustedPrincipalArn", "Default"); got != o.TrustedPrincipalARN {
				t.Errorf("TrustedPrincipalArn default = %v", got)
			}
			if got := get(t, tmpl, "Parameters", "ExternalId", "NoEcho"); got != true {
				t.Errorf("outer ExternalId NoEcho = %v", got)
			}

			// The body is the member role template: same trust, and only the
			// policy of the features that run in member accounts.
			body, ok := get(t, props, "TemplateBody").(string)
			if !ok {
				t.Fatal("TemplateBody is not a string")
			}
			inner := parseTemplate(t, []byte(body))
			want, err := Policy(m, AccountFeaturesFor(m)...)
			if err != nil {
				t.Fatal(err)
			}
			checkRole(t, inner, m, want)
			doc := get(t, inner, "Resources", "WardenRole", "Properties", "Policies", 0, "PolicyDocument")
			for _, st := range get(t, doc, "Statement").([]any) {
				for _, a := range get(t, st, "Action").([]any) {
					if f := FeaturesCalling(a.(string)); len(f) == 0 || ScopeOf(f[0]) != ScopeAccount {
						t.Errorf("member role policy allows %s (features %v), which only the management account calls", a, f)
					}
				}
			}
			if len(body) > 51200 {
				t.Errorf("TemplateBody is %d bytes; CloudFormation accepts 51,200", len(body))
			}

			// Every parameter of the member template is passed, from the
			// outer parameter of the same name.
			var passed []string
			for _, p := range get(t, props, "Parameters").([]any) {
				key := get(t, p, "ParameterKey").(string)
				passed = append(passed, key)
				if got := asJSON(t, get(t, p, "ParameterValue")); got != `{"Ref":"`+key+`"}` {
					t.Errorf("parameter %s passed as %s", key, got)
				}
			}
			var innerParams []string
			for k := range get(t, inner, "Parameters").(map[string]any) {
				innerParams = append(innerParams, k)
			}
			sort.Strings(innerParams)
			if strings.Join(passed, ",") != strings.Join(innerParams, ",") {
				t.Errorf("passes %v, member template has %v", passed, innerParams)
			}
			var innerTmpl map[string]any
			if err := json.Unmarshal([]byte(body), &innerTmpl); err != nil {
				t.Fatal(err)
			}
			if _, ok := get(t, innerTmpl, "Parameters", "ExternalId").(map[string]any)["Default"]; ok {
				t.Error("the member template carries the ExternalId as a default; it must only be passed")
			}
		})
	}
}
