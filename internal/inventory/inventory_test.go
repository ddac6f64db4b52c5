package inventory

import (
	"reflect"
	"testing"

	"github.com/warden-iam/warden/internal/model"
)

// estate is a small organization with Identity Center: a root with one OU
// holding one account, an SCP on the OU, a permission set assigned to a
// group (reaching its member) and to a user.
func estate() *model.Graph {
	root, ou := "arn:aws:organizations::111111111111:root/o-1/r-1", "arn:aws:organizations::111111111111:ou/o-1/ou-1"
	scp := "arn:aws:organizations::111111111111:policy/o-1/service_control_policy/p-1"
	acct := model.AccountResourceID("222222222222")
	ps := "arn:aws:sso:::permissionSet/ssoins-1/ps-1"
	user, group := "sso:user:u-1", "sso:group:g-1"
	g := &model.Graph{Resources: []model.Resource{
		{ID: root, Type: model.TypeOrgRoot, AccountID: "111111111111", Name: "Root"},
		{ID: ou, Type: model.TypeOrgUnit, AccountID: "111111111111", Name: "Prod", OrgUnit: &model.OrgUnitAttrs{Path: "/Prod"}},
		{ID: scp, Type: model.TypeSCP, AccountID: "111111111111", Name: "DenyLeave", SCP: &model.SCPAttrs{PolicyID: "p-1"}},
		{ID: acct, Type: model.TypeAccount, AccountID: "222222222222", Name: "prod-app",
			Account: &model.AccountAttrs{RootMFAActive: true, CredentialReport: true, Org: &model.OrgAccountAttrs{Email: "p@example.com", Status: "ACTIVE", OUPath: "/Prod"}}},
		{ID: ps, Type: model.TypePermissionSet, AccountID: "111111111111", Name: "Admin",
			PermissionSet: &model.PermissionSetAttrs{SessionDuration: "PT1H", ManagedPolicies: []string{"arn:aws:iam::aws:policy/AdministratorAccess"}}},
		{ID: user, Type: model.TypeSSOUser, AccountID: "111111111111", Name: "ann", SSOUser: &model.SSOUserAttrs{Emails: []string{"ann@example.com"}, Status: "ENABLED"}},
		{ID: group, Type: model.TypeSSOGroup, AccountID: "111111111111", Name: "ops", SSOGroup: &model.SSOGroupAttrs{Description: "on call"}},
	}}
	ent := model.EntitlementID(ps, model.AssignmentEntitlement("222222222222"))
	g.Grants = []model.Grant{
		{PrincipalID: ou, EntitlementID: model.EntitlementID(root, model.EntContains), Provenance: model.ViaDirect},
		{PrincipalID: acct, EntitlementID: model.EntitlementID(ou, model.EntContains), Provenance: model.ViaDirect},
		{PrincipalID: ou, EntitlementID: model.EntitlementID(scp, model.EntAttached), Provenance: model.ViaDirect},
		{PrincipalID: user, EntitlementID: model.EntitlementID(group, model.EntMember), Provenance: model.ViaDirect},
		{PrincipalID: group, EntitlementID: ent, Provenance: model.ViaDirect},
		{PrincipalID: user, EntitlementID: ent, Provenance: model.ViaGroup, ViaID: group},
	}
	return g
}

func TestOrganizationViews(t *testing.T) {
	g := estate()
	accts := Accounts(g, "")
	if len(accts) != 1 || accts[0].Name != "prod-app" || accts[0].OUPath != "/Prod" || accts[0].Email != "p@example.com" || !accts[0].RootMFAActive {
		t.Errorf("Accounts = %+v", accts)
	}
	if got := Accounts(g, "999999999999"); len(got) != 0 {
		t.Errorf("Accounts of another account = %+v", got)
	}
	ous := OUs(g)
	want := []OURow{
		{ID: g.Resources[0].ID, Type: "org_root", Name: "Root", Path: "/", Accounts: []string{}, OUs: []string{"Prod"}, SCPs: []string{}},
		{ID: g.Resources[1].ID, Type: "org_unit", Name: "Prod", Path: "/Prod", Accounts: []string{"prod-app"}, OUs: []string{}, SCPs: []string{"DenyLeave"}},
	}
	if !reflect.DeepEqual(ous, want) {
		t.Errorf("OUs =\n%+v\nwant\n%+v", ous, want)
	}
	if scps := SCPs(g); len(scps) != 1 || !reflect.DeepEqual(scps[0].Targets, []string{"Prod"}) || scps[0].PolicyID != "p-1" {
		t.Errorf("SCPs = %+v", scps)
	}
}

func TestIdentityCenterViews(t *testing.T) {
	g := estate()
	users := SSOUsers(g)
	if len(users) != 1 || !reflect.DeepEqual(users[0].Groups, []string{"ops"}) || users[0].Assignments != 1 || users[0].Emails[0] != "ann@example.com" {
		t.Errorf("SSOUsers = %+v", users)
	}
	groups := SSOGroups(g)
	if len(groups) != 1 || groups[0].Members != 1 || groups[0].Assignments != 1 || groups[0].Description != "on call" {
		t.Errorf("SSOGroups = %+v", groups)
	}
	sets := PermissionSets(g)
	if len(sets) != 1 || !reflect.DeepEqual(sets[0].Accounts, []string{"222222222222"}) || sets[0].SessionDuration != "PT1H" || len(sets[0].ManagedPolicies) != 1 {
		t.Errorf("PermissionSets = %+v", sets)
	}
	as := Assignments(g, "")
	if len(as) != 2 {
		t.Fatalf("Assignments = %+v", as)
	}
	if a := as[0]; a.Principal != "ann" || a.Provenance != "group" || a.Via != "ops" || a.AccountName != "prod-app" || a.PrincipalType != "sso_user" {
		t.Errorf("first assignment %+v", a)
	}
	if a := as[1]; a.Principal != "ops" || a.Provenance != "direct" || a.PermissionSet != "Admin" {
		t.Errorf("second assignment %+v", a)
	}
	if got := Assignments(g, "333333333333"); len(got) != 0 {
		t.Errorf("Assignments in another account = %+v", got)
	}
}
