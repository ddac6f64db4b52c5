package syncer

import (
	"slices"
	"strings"

	"github.com/warden-iam/warden/internal/model"
)

// reservedRolePath is the path of every role IAM Identity Center creates
// for a permission set (named AWSReservedSSO_<permission set>_<suffix>).
const reservedRolePath = "/aws-reserved/sso.amazonaws.com/"

// linkReservedRoles gives each holder of a permission set assignment the
// role Identity Center created for that permission set in that account,
// when the account's IAM was synced: a direct assignment with provenance
// "sso" via the permission set, a group's member via the group. The role's
// own policies (from the account's IAM) then show what the assignment
// allows.
func linkReservedRoles(g *model.Graph) {
	type key struct{ account, permissionSet string }
	roles := map[key]string{}
	names := map[string]string{} // permission set ARN → name
	for _, r := range g.Resources {
		switch r.Type {
		case model.TypeIAMRole:
			ps, ok := model.ReservedRolePermissionSet(r.Name)
			if ok && strings.Contains(r.Path, reservedRolePath) {
				roles[key{r.AccountID, ps}] = r.ID
			}
		case model.TypePermissionSet:
			names[r.ID] = r.Name
		}
	}
	if len(roles) == 0 {
		return
	}
	ents := map[string]bool{}
	for _, e := range g.Entitlements {
		ents[e.ID] = true
	}
	var add []model.Grant
	for _, gr := range g.Grants {
		psARN, ent, ok := strings.Cut(gr.EntitlementID, "#")
		if !ok {
			continue
		}
		account, ok := strings.CutPrefix(ent, model.AssignmentEntitlement(""))
		if !ok || names[psARN] == "" {
			continue
		}
		role, ok := roles[key{account, names[psARN]}]
		if !ok {
			continue
		}
		link := model.Grant{PrincipalID: gr.PrincipalID, EntitlementID: model.EntitlementID(role, model.EntAssume), Provenance: model.ViaSSO, ViaID: psARN}
		if gr.Provenance == model.ViaGroup {
			link.Provenance, link.ViaID = model.ViaGroup, gr.ViaID
		}
		if !ents[link.EntitlementID] {
			ents[link.EntitlementID] = true
			g.Entitlements = append(g.Entitlements, model.Entitlement{ID: link.EntitlementID, ResourceID: role, Name: model.EntAssume})
		}
		add = append(add, link)
	}
	g.Grants = append(g.Grants, add...)
	g.Sort()
	g.Grants = slices.Compact(g.Grants)
}
