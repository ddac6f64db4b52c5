package awsfake

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
)

// TestResourceControlPolicies: enabling RCPs attaches the AWS managed
// RCPFullAWSAccess to the root and to every OU and account, and to each
// OU and account made later; it cannot be detached; a customer RCP is
// created, attached and listed as an SCP is; disabling RCPs detaches them
// all (AWS Organizations User Guide, "RCP evaluation").
func TestResourceControlPolicies(t *testing.T) {
	srv := NewServer(Options{})
	defer srv.Close()
	org := orgClient(srv, srv.AddAccount(NewAccount("111111111111")))
	ctx := context.Background()
	if _, err := org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{}); err != nil {
		t.Fatal(err)
	}
	roots, err := org.ListRoots(ctx, &organizations.ListRootsInput{})
	if err != nil {
		t.Fatal(err)
	}
	root := roots.Roots[0].Id
	rcp := orgtypes.PolicyTypeResourceControlPolicy
	ou1, err := org.CreateOrganizationalUnit(ctx, &organizations.CreateOrganizationalUnitInput{ParentId: root, Name: aws.String("Prod")})
	if err != nil {
		t.Fatal(err)
	}
	attached := func(target *string) []string {
		t.Helper()
		out, err := org.ListPoliciesForTarget(ctx, &organizations.ListPoliciesForTargetInput{TargetId: target, Filter: rcp})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, p := range out.Policies {
			ids = append(ids, aws.ToString(p.Id))
		}
		return ids
	}
	if got := attached(root); len(got) != 0 {
		t.Fatalf("RCPs attached to the root before RCPs are enabled: %v", got)
	}
	// Before RCPs are enabled, an RCP cannot be attached.
	created, err := org.CreatePolicy(ctx, &organizations.CreatePolicyInput{Name: aws.String("deny-outside"), Description: aws.String("d"), Type: rcp,
		Content: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"StringNotEqualsIfExists":{"aws:PrincipalOrgID":"o-x"}}}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	id := created.Policy.PolicySummary.Id
	// RCP syntax: Principal "*" only, Deny only, no NotAction.
	for what, content := range map[string]string{
		"an Allow":          `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}]}`,
		"no Principal":      `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*"}]}`,
		"a named Principal": `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"s3:*","Resource":"*"}]}`,
		"a NotAction":       `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","NotAction":"s3:*","Resource":"*"}]}`,
	} {
		_, err := org.CreatePolicy(ctx, &organizations.CreatePolicyInput{Name: aws.String("bad"), Description: aws.String("d"), Type: rcp, Content: aws.String(content)})
		wantCode(t, "CreatePolicy of an RCP with "+what, err, "MalformedPolicyDocumentException", "")
	}
	_, err = org.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: id, TargetId: ou1.OrganizationalUnit.Id})
	wantCode(t, "AttachPolicy of an RCP before RCPs are enabled", err, "PolicyTypeNotEnabledException", "")

	en, err := org.EnablePolicyType(ctx, &organizations.EnablePolicyTypeInput{RootId: root, PolicyType: rcp})
	if err != nil {
		t.Fatal(err)
	}
	enabled := false
	for _, pt := range en.Root.PolicyTypes {
		enabled = enabled || pt.Type == rcp && pt.Status == orgtypes.PolicyTypeStatusEnabled
	}
	if !enabled {
		t.Fatalf("root policy types after EnablePolicyType: %+v", en.Root.PolicyTypes)
	}
	for name, target := range map[string]*string{"root": root, "OU": ou1.OrganizationalUnit.Id, "management account": aws.String("111111111111")} {
		if got := attached(target); len(got) != 1 || got[0] != RCPFullAWSAccessID {
			t.Errorf("RCPs of the %s after enabling RCPs: %v, want [%s]", name, got, RCPFullAWSAccessID)
		}
	}
	ou2, err := org.CreateOrganizationalUnit(ctx, &organizations.CreateOrganizationalUnitInput{ParentId: root, Name: aws.String("Dev")})
	if err != nil {
		t.Fatal(err)
	}
	if got := attached(ou2.OrganizationalUnit.Id); len(got) != 1 || got[0] != RCPFullAWSAccessID {
		t.Errorf("RCPs of an OU made after enabling RCPs: %v", got)
	}
	d, err := org.DescribePolicy(ctx, &organizations.DescribePolicyInput{PolicyId: aws.String(RCPFullAWSAccessID)})
	if err != nil || !d.Policy.PolicySummary.AwsManaged || d.Policy.PolicySummary.Type != rcp || aws.ToString(d.Policy.PolicySummary.Name) != "RCPFullAWSAccess" {
		t.Errorf("DescribePolicy RCPFullAWSAccess = %+v, %v", d, err)
	}
	_, err = org.DetachPolicy(ctx, &organizations.DetachPolicyInput{PolicyId: aws.String(RCPFullAWSAccessID), TargetId: ou1.OrganizationalUnit.Id})
	wantCode(t, "DetachPolicy of RCPFullAWSAccess", err, "ConstraintViolationException", "MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED")
	if _, err := org.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: id, TargetId: ou1.OrganizationalUnit.Id}); err != nil {
		t.Fatal(err)
	}
	if got := attached(ou1.OrganizationalUnit.Id); len(got) != 2 {
		t.Errorf("RCPs of the OU after attaching one: %v", got)
	}
	// A customer RCP, unlike the last SCP, may be detached.
	if _, err := org.DetachPolicy(ctx, &organizations.DetachPolicyInput{PolicyId: id, TargetId: ou1.OrganizationalUnit.Id}); err != nil {
		t.Errorf("DetachPolicy of a customer RCP: %v", err)
	}
	list, err := org.ListPolicies(ctx, &organizations.ListPoliciesInput{Filter: rcp})
	if err != nil || len(list.Policies) != 2 {
		t.Fatalf("ListPolicies RESOURCE_CONTROL_POLICY = %+v, %v; want RCPFullAWSAccess and deny-outside", list, err)
	}
	scps, err := org.ListPoliciesForTarget(ctx, &organizations.ListPoliciesForTargetInput{TargetId: ou2.OrganizationalUnit.Id, Filter: orgtypes.PolicyTypeServiceControlPolicy})
	if err != nil || len(scps.Policies) != 1 || aws.ToString(scps.Policies[0].Id) != FullAWSAccessID {
		t.Errorf("SCPs of the OU: %+v, %v; want FullAWSAccess only", scps, err)
	}
	if _, err := org.DisablePolicyType(ctx, &organizations.DisablePolicyTypeInput{RootId: root, PolicyType: rcp}); err != nil {
		t.Fatal(err)
	}
	if got := attached(root); len(got) != 0 {
		t.Errorf("RCPs of the root after disabling RCPs: %v", got)
	}
}
