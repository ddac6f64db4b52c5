package findings

import (
	"testing"

	"github.com/warden-iam/warden/internal/model"
)

// TestSSOAdmins: a user assigned an AdministratorAccess permission set
// through a group, and another by an inline policy allowing everything,
// are administrators of those accounts; a read-only permission set makes
// no one an administrator.
func TestSSOAdmins(t *testing.T) {
	admin, inline, ro := "arn:aws:sso:::permissionSet/i/ps-admin", "arn:aws:sso:::permissionSet/i/ps-inline", "arn:aws:sso:::permissionSet/i/ps-ro"
	g := &model.Graph{Resources: []model.Resource{
		{ID: admin, Type: model.TypePermissionSet, Name: "Admin", PermissionSet: &model.PermissionSetAttrs{ManagedPolicies: []string{"arn:aws:iam::aws:policy/AdministratorAccess"}}},
		{ID: inline, Type: model.TypePermissionSet, Name: "Break", PermissionSet: &model.PermissionSetAttrs{InlinePolicy: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`}},
		{ID: ro, Type: model.TypePermissionSet, Name: "ReadOnly", PermissionSet: &model.PermissionSetAttrs{ManagedPolicies: []string{"arn:aws:iam::aws:policy/ReadOnlyAccess"}}},
		{ID: "u-ann", Type: model.TypeSSOUser, Name: "ann"},
		{ID: "u-bob", Type: model.TypeSSOUser, Name: "bob"},
		{ID: "u-cat", Type: model.TypeSSOUser, Name: "cat"},
		{ID: "g-ops", Type: model.TypeSSOGroup, Name: "ops"},
	}}
	ent := func(ps, acct string) string { return model.EntitlementID(ps, model.AssignmentEntitlement(acct)) }
	g.Grants = []model.Grant{
		{PrincipalID: "g-ops", EntitlementID: ent(admin, "222222222222"), Provenance: model.ViaDirect},
		{PrincipalID: "u-ann", EntitlementID: ent(admin, "222222222222"), Provenance: model.ViaGroup, ViaID: "g-ops"},
		{PrincipalID: "u-bob", EntitlementID: ent(inline, "333333333333"), Provenance: model.ViaDirect},
		{PrincipalID: "u-cat", EntitlementID: ent(ro, "222222222222"), Provenance: model.ViaDirect},
	}
	got := SSOAdmins(g)
	if len(got) != 2 || got[0].Name != "ann" || got[1].Name != "bob" {
		t.Fatalf("SSOAdmins = %+v", got)
	}
	if p := got[0].Through; len(p) != 1 || p[0].AccountID != "222222222222" || p[0].Because != "AdministratorAccess" || p[0].ViaName != "ops" || p[0].Provenance != model.ViaGroup {
		t.Errorf("ann through %+v", p)
	}
	if p := got[1].Through; len(p) != 1 || p[0].Because != "inline policy" || p[0].PermissionSetName != "Break" {
		t.Errorf("bob through %+v", p)
	}
}
