package awsfake

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

func TestPolicyDocProblem(t *testing.T) {
	const allow = `{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}`
	cases := []struct {
		name, doc string
		kind      policyDocKind
		want      string
	}{
		{"valid", `{"Version":"2012-10-17","Statement":[` + allow + `]}`, identityPolicy, ""},
		{"one statement, no version", `{"Statement":` + allow + `}`, identityPolicy, ""},
		{"old version and Id", `{"Version":"2008-10-17","Id":"x","Statement":[` + allow + `]}`, identityPolicy, ""},
		{"NotAction and NotResource", `{"Statement":[{"Effect":"Deny","NotAction":["iam:*","sts:Get*"],"NotResource":["arn:aws:s3:::b/*"]}]}`, identityPolicy, ""},
		{"conditions", `{"Statement":[{"Sid":"S1","Effect":"Allow","Action":"*","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":true},"NumericLessThan":{"aws:MultiFactorAuthAge":[3600]},"StringEquals":{"aws:PrincipalTag/team":["a","b"]}}}]}`, identityPolicy, ""},
		{"not JSON", `{"Statement":`, identityPolicy, msgSyntax},
		{"trailing data", `{"Statement":[]} {}`, identityPolicy, msgSyntax},
		{"not an object", `["Statement"]`, identityPolicy, msgSyntax},
		{"no Statement", `{"Version":"2012-10-17"}`, identityPolicy, msgSyntax},
		{"Statement a string", `{"Version":"2012-10-17","Statement":"nope"}`, identityPolicy, msgLegacy},
		{"Effect Perhaps", `{"Version":"2012-10-17","Statement":[{"Effect":"Perhaps","Action":"s3:*","Resource":"*"}]}`, identityPolicy, msgLegacy},
		{"Effect lower case", `{"Statement":[{"Effect":"allow","Action":"s3:*","Resource":"*"}]}`, identityPolicy, msgLegacy},
		{"no Effect", `{"Statement":[{"Action":"s3:*","Resource":"*"}]}`, identityPolicy, msgLegacy},
		{"unknown version", `{"Version":"2012-10-18","Statement":[` + allow + `]}`, identityPolicy, msgLegacy},
		{"unknown element", `{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Resources":"*"}]}`, identityPolicy, msgLegacy},
		{"unknown top-level element", `{"Statment":[` + allow + `]}`, identityPolicy, msgLegacy},
		{"no action", `{"Statement":[{"Effect":"Allow","Resource":"*"}]}`, identityPolicy, msgNoActions},
		{"Action and NotAction", `{"Statement":[{"Effect":"Allow","Action":"s3:*","NotAction":"iam:*","Resource":"*"}]}`, identityPolicy, msgLegacy},
		{"action without vendor", `{"Statement":[{"Effect":"Allow","Action":"GetObject","Resource":"*"}]}`, identityPolicy, msgVendor},
		{"no resource", `{"Statement":[{"Effect":"Allow","Action":"s3:*"}]}`, identityPolicy, msgNoResources},
		{"resource not an ARN", `{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"bucket"}]}`, identityPolicy, `Resource bucket must be in ARN format or "*".`},
		{"principal in an identity policy", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}]}`, identityPolicy, msgNoPrincipal},
		{"Sid with a space", `{"Statement":[{"Sid":"my sid","Effect":"Allow","Action":"s3:*","Resource":"*"}]}`, identityPolicy, msgSidChars},
		{"Sid twice", `{"Statement":[{"Sid":"A","Effect":"Allow","Action":"s3:*","Resource":"*"},{"Sid":"A","Effect":"Deny","Action":"s3:*","Resource":"*"}]}`, identityPolicy, msgSidUnique},
		{"condition value an object", `{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringEquals":{"k":{"v":1}}}}]}`, identityPolicy, msgLegacy},

		{"trust policy", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":["ec2.amazonaws.com"],"AWS":["123456789012","arn:aws:iam::123456789012:root"]},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"x"}}}]}`, trustPolicy, ""},
		{"trust policy for everyone", `{"Statement":{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}}`, trustPolicy, ""},
		{"trust policy not JSON", `{`, trustPolicy, msgInvalidJSON},
		{"trust policy without principal", `{"Statement":[{"Effect":"Allow","Action":"sts:AssumeRole"}]}`, trustPolicy, msgNeedsPrincipal},
		{"trust policy with a resource", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Resource":"*"}]}`, trustPolicy, msgNoResourceTrust},
		{"trust policy with a bad AWS principal", `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"alice"},"Action":"sts:AssumeRole"}]}`, trustPolicy, `Invalid principal in policy: "AWS":"alice"`},
		{"trust policy with an unknown principal type", `{"Statement":[{"Effect":"Allow","Principal":{"Robot":"x"},"Action":"sts:AssumeRole"}]}`, trustPolicy, msgLegacy},

		{"SCP without resource", `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"organizations:LeaveOrganization"}]}`, serviceControlPolicy, ""},
		{"SCP with a principal", `{"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*"}]}`, serviceControlPolicy, msgNoPrincipal},
	}
	for _, c := range cases {
		if got := policyDocProblem(c.doc, c.kind); got != c.want {
			t.Errorf("%s: policyDocProblem = %q, want %q", c.name, got, c.want)
		}
	}
}

// TestEstatePoliciesAreValid: every document a generated estate holds is
// one IAM would have accepted, so the ground truth is a possible account.
func TestEstatePoliciesAreValid(t *testing.T) {
	org := OrgEstate{Accounts: 3, SCPs: 4, PerAccount: Estate{Users: 80, Groups: 12, Roles: 30, Policies: 20}, ExternalID: "warden-test-external-id-0123456789", Seed: 3}.Build()
	accounts := append([]*Account{Estate{Users: 200, Groups: 30, Roles: 60, Policies: 40, Seed: 7}.Build(), org.Management}, org.Members...)
	for _, a := range accounts {
		check := func(what, doc string, kind policyDocKind) {
			if msg := policyDocProblem(doc, kind); msg != "" {
				t.Errorf("account %s %s: %s\n%s", a.ID, what, msg, doc)
			}
		}
		for _, u := range a.IAM.Users {
			for n, d := range u.InlinePolicies {
				check("user "+u.Name+" policy "+n, d, identityPolicy)
			}
		}
		for _, g := range a.IAM.Groups {
			for n, d := range g.InlinePolicies {
				check("group "+g.Name+" policy "+n, d, identityPolicy)
			}
		}
		for _, r := range a.IAM.Roles {
			check("role "+r.Name+" trust policy", r.AssumeRolePolicy, trustPolicy)
			for n, d := range r.InlinePolicies {
				check("role "+r.Name+" policy "+n, d, identityPolicy)
			}
		}
		for _, p := range a.IAM.Policies {
			for _, v := range p.Versions {
				check("policy "+p.Name+" "+v.ID, v.Document, identityPolicy)
			}
		}
	}
	for _, p := range AWSManagedPolicies() {
		check := policyDocProblem(p.Versions[len(p.Versions)-1].Document, identityPolicy)
		if check != "" {
			t.Errorf("AWS managed policy %s: %s", p.Name, check)
		}
	}
}

// TestInlinePolicyDocumentsAreValidated: Put*Policy refuses what IAM
// refuses, through the SDK, and stores nothing.
func TestInlinePolicyDocumentsAreValidated(t *testing.T) {
	srv := NewServer(Options{})
	defer srv.Close()
	truth := Estate{Users: 1, Groups: 1, Roles: 1, Seed: 2}.Build()
	client := iamClient(srv, srv.AddAccount(truth))
	ctx := context.Background()
	var user, group, role string
	for n := range truth.IAM.Users {
		user = n
	}
	for n := range truth.IAM.Groups {
		group = n
	}
	for n := range truth.IAM.Roles {
		role = n
	}
	put := map[string]func(doc string) error{
		"PutUserPolicy": func(doc string) error {
			_, err := client.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(user), PolicyName: aws.String("p"), PolicyDocument: aws.String(doc)})
			return err
		},
		"PutGroupPolicy": func(doc string) error {
			_, err := client.PutGroupPolicy(ctx, &iam.PutGroupPolicyInput{GroupName: aws.String(group), PolicyName: aws.String("p"), PolicyDocument: aws.String(doc)})
			return err
		},
		"PutRolePolicy": func(doc string) error {
			_, err := client.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(role), PolicyName: aws.String("p"), PolicyDocument: aws.String(doc)})
			return err
		},
	}
	bad := map[string]string{
		`{"Version":"2012-10-17","Statement":[{"Effect":"Perhaps","Action":"s3:*","Resource":"*"}]}`: msgLegacy,
		`{"Version":"2012-10-17","Statement":"nope"}`:                                                msgLegacy,
		`not json`: msgSyntax,
	}
	for action, call := range put {
		for doc, msg := range bad {
			err := call(doc)
			if apiCode(err) != "MalformedPolicyDocument" || !strings.Contains(err.Error(), msg) {
				t.Errorf("%s(%s): err = %v, want MalformedPolicyDocument: %s", action, doc, err, msg)
			}
		}
		if err := call(`{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`); err != nil {
			t.Errorf("%s with a valid document: %v", action, err)
		}
		if err := call("{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"arn:aws:s3:::\u2603\"}]}"); apiCode(err) != "ValidationError" {
			t.Errorf("%s with a character IAM does not take: err = %v, want ValidationError", action, err)
		}
	}
	got := srv.Account(truth.ID)
	if len(got.IAM.Users[user].InlinePolicies)+len(got.IAM.Groups[group].InlinePolicies)+len(got.IAM.Roles[role].InlinePolicies) !=
		3+len(truth.IAM.Users[user].InlinePolicies)+len(truth.IAM.Groups[group].InlinePolicies)+len(truth.IAM.Roles[role].InlinePolicies) {
		t.Error("a refused document was stored, or a valid one was not")
	}
}
