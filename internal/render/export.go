package render

import (
	"encoding/csv"
	"io"

	"github.com/warden-iam/warden/internal/inventory"
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
	cw := csv.NewWriter(w)
	if err := cw.Write(GrantColumns); err != nil {
		return err
	}
	for _, r := range inventory.Grants(g) {
		if err := cw.Write([]string{r.AccountID, r.PrincipalType, r.PrincipalName, r.PrincipalID, r.Entitlement, r.ResourceType, r.ResourceName, r.ResourceID,
			r.Provenance, r.ViaName, r.ViaID}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
