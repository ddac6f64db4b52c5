package render

import (
	"encoding/csv"
	"io"

	"github.com/warden-iam/warden/internal/model"
)

// Export is the JSON document `warden export --format json` writes: the
// snapshot and its whole graph.
type Export struct {
	Snapshot *model.Snapshot `json:"snapshot"`
	Graph    *model.Graph    `json:"graph"`
}

// GrantColumns are the columns of `warden export --format csv`, one row per
// grant.
var GrantColumns = []string{
	"account_id",     // account of the resource offering the entitlement
	"principal_type", // iam_user, iam_group, iam_role, external_principal…
	"principal_name",
	"principal_id",
	"entitlement", // member, attached, assume, owner
	"resource_type",
	"resource_name",
	"resource_id",
	"provenance", // direct, group, inline, trust
	"via_name",   // the group, for provenance group
	"via_id",
}

// GrantsCSV writes one row per grant of g under a header of GrantColumns.
func GrantsCSV(w io.Writer, g *model.Graph) error {
	v := newGraphView(g)
	cw := csv.NewWriter(w)
	if err := cw.Write(GrantColumns); err != nil {
		return err
	}
	for _, gr := range g.Grants {
		resID, ent := splitEntitlement(v.ents, gr.EntitlementID)
		pType, pName := "", shortName(gr.PrincipalID)
		if p, ok := v.byID[gr.PrincipalID]; ok {
			pType, pName = string(p.Type), p.Name
		}
		account, rType, rName := "", "", shortName(resID)
		if r, ok := v.byID[resID]; ok {
			account, rType, rName = r.AccountID, string(r.Type), r.Name
		}
		viaName := ""
		if gr.ViaID != "" {
			viaName = v.name(gr.ViaID)
		}
		if err := cw.Write([]string{account, pType, pName, gr.PrincipalID, ent, rType, rName, resID,
			string(gr.Provenance), viaName, gr.ViaID}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
