package findings

import (
	"sort"
	"strings"

	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/policy"
)

// SSOAdmin is an Identity Center user holding a permission set that grants
// full access in at least one account, with every such assignment.
type SSOAdmin struct {
	Principal
	Through []SSOAdminPath `json:"through"`
}

// SSOAdminPath is one assignment that makes an Identity Center user an
// administrator of an account.
type SSOAdminPath struct {
	AccountID         string           `json:"account_id"`
	PermissionSetID   string           `json:"permission_set_id"`
	PermissionSetName string           `json:"permission_set_name"`
	Provenance        model.Provenance `json:"provenance"` // direct, or group
	ViaID             string           `json:"via_id"`     // the group, for provenance group
	ViaName           string           `json:"via_name"`
	// Because names what in the permission set grants full access: an
	// administrator managed policy's name, or "inline policy".
	Because string `json:"because"`
}

// SSOAdmins returns the Identity Center users holding an administrator
// permission set in some account, directly or through a group, ordered by
// name. A permission set is an administrator's when one of its AWS managed
// policies, or its inline policy, allows every action on every resource;
// its customer managed policies live in each account's IAM and are judged
// there (the reserved role's policies, in `warden access`).
func SSOAdmins(g *model.Graph) []SSOAdmin {
	x := newIndex(g)
	because := map[string]string{} // permission set ID → why it is admin, "" when not
	adminSet := func(ps *model.Resource) string {
		if v, ok := because[ps.ID]; ok {
			return v
		}
		v := ""
		if a := ps.PermissionSet; a != nil {
			for _, arn := range a.ManagedPolicies {
				if x.isAdminPolicy(arn) || strings.HasSuffix(arn, ":iam::aws:policy/AdministratorAccess") {
					v = x.name(arn)
					if v == arn {
						v = arn[strings.LastIndexByte(arn, '/')+1:]
					}
					break
				}
			}
			if v == "" && a.InlinePolicy != "" && policy.IsAdmin(a.InlinePolicy) {
				v = "inline policy"
			}
		}
		because[ps.ID] = v
		return v
	}
	paths := map[string][]SSOAdminPath{}
	for _, gr := range g.Grants {
		i := strings.LastIndexByte(gr.EntitlementID, '#')
		if i < 0 {
			continue
		}
		acct, ok := strings.CutPrefix(gr.EntitlementID[i+1:], "account:")
		ps, isPS := x.byID[gr.EntitlementID[:i]]
		u, isUser := x.byID[gr.PrincipalID]
		if !ok || !isPS || ps.Type != model.TypePermissionSet || !isUser || u.Type != model.TypeSSOUser {
			continue
		}
		if why := adminSet(ps); why != "" {
			p := SSOAdminPath{AccountID: acct, PermissionSetID: ps.ID, PermissionSetName: ps.Name, Provenance: gr.Provenance, ViaID: gr.ViaID, Because: why}
			if gr.ViaID != "" {
				p.ViaName = x.name(gr.ViaID)
			}
			paths[u.ID] = append(paths[u.ID], p)
		}
	}
	var out []SSOAdmin
	for id, through := range paths {
		sort.Slice(through, func(i, j int) bool {
			a, b := through[i], through[j]
			if a.AccountID != b.AccountID {
				return a.AccountID < b.AccountID
			}
			if a.PermissionSetName != b.PermissionSetName {
				return a.PermissionSetName < b.PermissionSetName
			}
			return a.ViaID < b.ViaID
		})
		out = append(out, SSOAdmin{Principal: principalOf(x.byID[id]), Through: through})
	}
	sort.Slice(out, func(i, j int) bool { return principalLess(out[i].Principal, out[j].Principal) })
	return out
}
