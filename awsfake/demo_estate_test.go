package awsfake

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
)

// TestDemoEstate checks the demo organization: the same every build, its
// OU tree by name, FullAWSAccess everywhere and guardrails at OUs, the
// member role in every member, Identity Center assignments, and the planted
// findings; then reads part of it back through the SDK.
func TestDemoEstate(t *testing.T) {
	truth := DemoEstate{Users: 4}.Build()
	if !reflect.DeepEqual(truth, DemoEstate{Users: 4}.Build()) {
		t.Fatal("two builds of the demo estate differ")
	}
	o := truth.Organization
	path := func(id string) string {
		var parts []string
		for p := o.Accounts[id].ParentID; p != o.Root.ID; p = o.OUs[p].ParentID {
			if o.OUs[p] == nil {
				t.Fatalf("account %s sits under unknown parent %s", id, p)
			}
			parts = append([]string{o.OUs[p].Name}, parts...)
		}
		return strings.Join(parts, "/")
	}
	want := map[string]string{DemoManagementID: "", DemoSecurityID: "Security", DemoProdID: "Workloads/Prod", DemoDevID: "Workloads/Dev", DemoSandboxID: "Sandbox"}
	if len(o.Accounts) != len(want) || len(truth.Members) != 4 {
		t.Fatalf("%d accounts (%d members), want %d", len(o.Accounts), len(truth.Members), len(want))
	}
	for id, p := range want {
		if o.Accounts[id] == nil || o.Accounts[id].Status != "ACTIVE" {
			t.Fatalf("account %s missing or not active", id)
		}
		if got := path(id); got != p {
			t.Errorf("account %s sits in %q, want %q", id, got, p)
		}
	}
	for id, ou := range o.OUs {
		if !ouIDFormat.MatchString(id) || ou.ID != id {
			t.Errorf("OU ID %s is not AWS's format", id)
		}
	}
	full := o.Policies[FullAWSAccessID]
	if full == nil || len(full.Targets) != 1+len(o.OUs)+len(o.Accounts) {
		t.Fatalf("FullAWSAccess targets %v, want the root, every OU and every account", full)
	}
	guardrails := 0
	for id, p := range o.Policies {
		if p.AWSManaged {
			continue
		}
		guardrails++
		if !policyIDFormat.MatchString(id) || len(p.Targets) == 0 {
			t.Errorf("SCP %s (%s): bad ID or no target", id, p.Name)
		}
		for _, tgt := range p.Targets {
			if o.OUs[tgt] == nil {
				t.Errorf("SCP %s is attached to %s, not an OU", p.Name, tgt)
			}
		}
	}
	if guardrails != 2 {
		t.Errorf("%d customer SCPs, want 2", guardrails)
	}
	for _, m := range truth.Members {
		if m.IAM.Roles[DefaultMemberRoleName] == nil {
			t.Errorf("member %s has no %s", m.ID, DefaultMemberRoleName)
		}
		if len(m.IAM.Users) < 4 {
			t.Errorf("member %s has %d users, want at least the 4 generated", m.ID, len(m.IAM.Users))
		}
	}
	ic := truth.IdentityCenter
	if ic == nil || len(ic.Users) != 11 || len(ic.Groups) != 4 || len(ic.PermissionSets) != 4 || len(ic.Assignments) == 0 {
		t.Fatalf("Identity Center = %+v, want 11 users (10 generated and %s), 4 groups, 4 permission sets and assignments", ic, DemoNewSSOUser)
	}
	var admins int
	for _, ps := range ic.PermissionSets {
		if ps.Name == DemoAdminPermissionSet {
			admins++
		}
	}
	for _, u := range ic.Users {
		if u.UserName != DemoNewSSOUser {
			continue
		}
		for _, a := range ic.Assignments {
			if a.PrincipalID == u.ID {
				t.Errorf("%s has an assignment before the demo assigns one: %+v", DemoNewSSOUser, a)
			}
		}
		for _, g := range ic.Groups {
			if slices.Contains(g.Members, u.ID) {
				t.Errorf("%s is in group %s", DemoNewSSOUser, g.DisplayName)
			}
		}
	}
	if admins != 1 {
		t.Errorf("%d permission sets named %s, want 1", admins, DemoAdminPermissionSet)
	}
	if o := truth.Organization.Accounts[DemoSandboxID]; o.JoinedMethod != "INVITED" {
		t.Errorf("the sandbox joined %s, want INVITED (so the demo may remove it)", o.JoinedMethod)
	}

	// The planted findings.
	accts := map[string]*Account{}
	for _, a := range truth.Accounts() {
		accts[a.ID] = a
	}
	admin := accts[DemoProdID].IAM.Users[DemoAdminUser]
	if admin == nil || !slices.Contains(admin.AttachedPolicies, "arn:aws:iam::aws:policy/AdministratorAccess") || len(admin.MFADevices) != 1 || admin.LoginProfile == nil {
		t.Errorf("%s: %+v, want AdministratorAccess, a console password and MFA", DemoAdminUser, admin)
	}
	nomfa := accts[DemoProdID].IAM.Users[DemoNoMFAUser]
	if nomfa == nil || nomfa.LoginProfile == nil || len(nomfa.MFADevices) != 0 {
		t.Errorf("%s: %+v, want a console password without MFA", DemoNoMFAUser, nomfa)
	}
	ci := accts[DemoDevID].IAM.Users[DemoOldKeyUser]
	if ci == nil || len(ci.AccessKeys) != 1 || ci.AccessKeys[0].Status != "Active" ||
		!ci.AccessKeys[0].CreatedAt.Equal(defaultEstateNow.AddDate(0, 0, -DemoOldKeyAgeDays)) {
		t.Errorf("%s: %+v, want one active key %d days old", DemoOldKeyUser, ci, DemoOldKeyAgeDays)
	}
	vendor := accts[DemoSecurityID].IAM.Roles[DemoVendorRole]
	if vendor == nil || !strings.Contains(vendor.AssumeRolePolicy, "arn:aws:iam::"+DemoOutsideAccountID+":root") {
		t.Errorf("%s: %+v, want trust in account %s", DemoVendorRole, vendor, DemoOutsideAccountID)
	}

	// Through the SDK: the Prod OU holds prod, and the planted key is listed.
	srv := NewServer(Options{})
	defer srv.Close()
	creds := truth.Install(srv)
	dev := srv.AddAccount(accts[DemoDevID])
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cfg := func(c Credentials) aws.Config {
		return aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL()),
			Credentials: credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken)}
	}
	var prodOU string
	for id, ou := range o.OUs {
		if ou.Name == "Prod" {
			prodOU = id
		}
	}
	out, err := organizations.NewFromConfig(cfg(creds)).ListAccountsForParent(ctx, &organizations.ListAccountsForParentInput{ParentId: aws.String(prodOU)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Accounts) != 1 || aws.ToString(out.Accounts[0].Id) != DemoProdID || aws.ToString(out.Accounts[0].Name) != "prod" {
		t.Errorf("ListAccountsForParent(Prod) = %+v, want prod alone", out.Accounts)
	}
	keys, err := iam.NewFromConfig(cfg(dev)).ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String(DemoOldKeyUser)})
	if err != nil {
		t.Fatal(err)
	}
	if len(keys.AccessKeyMetadata) != 1 || aws.ToString(keys.AccessKeyMetadata[0].AccessKeyId) != ci.AccessKeys[0].ID {
		t.Errorf("ListAccessKeys(%s) = %+v, want the planted key %s", DemoOldKeyUser, keys.AccessKeyMetadata, ci.AccessKeys[0].ID)
	}
}
