package provision

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"

	"github.com/warden-iam/warden/internal/policy"
)

// AdministratorAccessARN is the AWS managed policy granting every action on
// every resource.
const AdministratorAccessARN = "arn:aws:iam::aws:policy/AdministratorAccess"

// statements returns a document's statements, each as compact JSON with
// sorted keys, so equal statements compare equal.
func statements(doc string) []string {
	var d struct {
		Statement json.RawMessage
	}
	if json.Unmarshal([]byte(doc), &d) != nil {
		return nil
	}
	var list []any
	if json.Unmarshal(d.Statement, &list) != nil {
		var one any
		if json.Unmarshal(d.Statement, &one) != nil {
			return nil
		}
		list = []any{one}
	}
	out := make([]string, 0, len(list))
	for _, s := range list {
		b, _ := json.Marshal(s)
		out = append(out, string(b))
	}
	return out
}

// statementChanges lists what replacing an inline policy document changes:
// "- <statement>" for each statement removed, "+ <statement>" for each
// added (all of them when there was no document).
func statementChanges(before, after string) []string {
	old, cur := statements(before), statements(after)
	out := []string{}
	for _, s := range old {
		if !slices.Contains(cur, s) {
			out = append(out, "- "+s)
		}
	}
	for _, s := range cur {
		if !slices.Contains(old, s) {
			out = append(out, "+ "+s)
		}
	}
	return out
}

// adminGrant says why a plan needs the confirmation a destructive one does
// because it grants administrator access (an inline document, an attached
// managed policy or an assigned permission set that allows every action on
// every resource, as internal/policy's IsAdmin decides), or "" when it
// does not.
func (p *Provisioner) adminGrant(ctx context.Context, pl *Plan) (string, error) {
	a := pl.Action
	for _, s := range pl.Steps {
		switch {
		case strings.HasPrefix(s.Call, "iam:Put") && strings.HasSuffix(s.Call, "Policy") && s.document != "":
			if policy.IsAdmin(s.document) {
				return "it grants administrator access: inline policy " + s.Params["PolicyName"] + " allows every action on every resource", nil
			}
		case strings.HasPrefix(s.Call, "iam:Attach"):
			admin, err := p.policyIsAdmin(ctx, s.Params["PolicyArn"])
			if err != nil {
				return "", err
			}
			if admin {
				return "it grants administrator access: " + s.Params["PolicyArn"] + " allows every action on every resource", nil
			}
		case s.Call == "sso:CreateAccountAssignment":
			admin, err := p.permissionSetIsAdmin(ctx, s.Params["PermissionSetArn"])
			if err != nil {
				return "", err
			}
			if admin {
				return "it grants administrator access: permission set " + a.PermissionSet + " allows every action on every resource in account " + a.Account, nil
			}
		}
	}
	return "", nil
}

// policyIsAdmin reads a managed policy's default version and reports
// whether it grants administrator access.
func (p *Provisioner) policyIsAdmin(ctx context.Context, arn string) (bool, error) {
	if arn == AdministratorAccessARN {
		return true, nil
	}
	return p.recall("admin-policy/"+arn, func() (bool, error) {
		version, ok := "", false
		if p.pend != nil {
			version, ok = p.pend.versions[arn]
		}
		if !ok {
			got, err := p.IAM.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)})
			if err != nil {
				return false, fmt.Errorf("read policy %s: %w", arn, err)
			}
			version = aws.ToString(got.Policy.DefaultVersionId)
		}
		v, err := p.IAM.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String(version)})
		if err != nil {
			return false, fmt.Errorf("read the document of policy %s: %w", arn, err)
		}
		doc, err := policy.Decode(aws.ToString(v.PolicyVersion.Document))
		if err != nil {
			return false, fmt.Errorf("read the document of policy %s: %w", arn, err)
		}
		return policy.IsAdmin(doc), nil
	})
}

// permissionSetIsAdmin reports whether a permission set grants
// administrator access: AdministratorAccess attached, or an inline policy
// that allows every action on every resource. (A customer managed policy
// it refers to is defined in each account and not read here.)
func (p *Provisioner) permissionSetIsAdmin(ctx context.Context, psARN string) (bool, error) {
	ic := p.IC
	inst, ps := aws.String(ic.InstanceARN), aws.String(psARN)
	pg := ssoadmin.NewListManagedPoliciesInPermissionSetPaginator(ic.SSO, &ssoadmin.ListManagedPoliciesInPermissionSetInput{InstanceArn: inst, PermissionSetArn: ps})
	for pg.HasMorePages() {
		page, err := pg.NextPage(ctx)
		if err != nil {
			return false, fmt.Errorf("list the managed policies of permission set %s: %w", psARN, err)
		}
		for _, m := range page.AttachedManagedPolicies {
			if aws.ToString(m.Arn) == AdministratorAccessARN {
				return true, nil
			}
		}
	}
	out, err := ic.SSO.GetInlinePolicyForPermissionSet(ctx, &ssoadmin.GetInlinePolicyForPermissionSetInput{InstanceArn: inst, PermissionSetArn: ps})
	if err != nil {
		return false, fmt.Errorf("read the inline policy of permission set %s: %w", psARN, err)
	}
	return policy.IsAdmin(aws.ToString(out.InlinePolicy)), nil
}
