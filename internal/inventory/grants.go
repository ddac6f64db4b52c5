package inventory

import "github.com/warden-iam/warden/internal/model"

// GrantRow is one grant with both ends named, as `warden export --format
// csv` writes it.
type GrantRow struct {
	AccountID     string // account of the resource offering the entitlement
	PrincipalType string // iam_user, iam_group, iam_role, external_principal…; "" when not synced
	PrincipalName string
	PrincipalID   string
	Entitlement   string // member, attached, assume, owner…
	ResourceType  string
	ResourceName  string
	ResourceID    string
	Provenance    string // direct, group, inline, trust, sso
	ViaName       string // the group, for provenance group
	ViaID         string
}

// Grants returns every grant of g, in graph order, with its principal,
// resource and group named (a resource not in the graph by the last part
// of its ID).
func Grants(g *model.Graph) []GrantRow {
	v := newGraphView(g)
	rows := make([]GrantRow, 0, len(g.Grants))
	for _, gr := range g.Grants {
		resID, ent := splitEntitlement(v.ents, gr.EntitlementID)
		row := GrantRow{PrincipalName: shortName(gr.PrincipalID), PrincipalID: gr.PrincipalID, Entitlement: ent,
			ResourceName: shortName(resID), ResourceID: resID, Provenance: string(gr.Provenance), ViaID: gr.ViaID}
		if p, ok := v.byID[gr.PrincipalID]; ok {
			row.PrincipalType, row.PrincipalName = string(p.Type), p.Name
		}
		if r, ok := v.byID[resID]; ok {
			row.AccountID, row.ResourceType, row.ResourceName = r.AccountID, string(r.Type), r.Name
		}
		if gr.ViaID != "" {
			row.ViaName = v.name(gr.ViaID)
		}
		rows = append(rows, row)
	}
	return rows
}
