package render

import (
	"strings"

	"github.com/warden-iam/warden/internal/inventory"
	"github.com/warden-iam/warden/internal/model"
)

// RolesTable lays out role rows.
func RolesTable(rows []inventory.RoleRow) *Table {
	t := &Table{Header: []string{"ACCOUNT", "NAME", "TRUSTED PRINCIPALS", "LAST USED", "CREATED"}}
	for _, r := range rows {
		trusted := make([]string, 0, len(r.Trusted))
		for _, te := range r.Trusted {
			trusted = append(trusted, trustedCell(te))
		}
		t.Add(r.AccountID, r.Name, list(trusted), lastUsedCell(r.LastUsed), dateCell(r.CreatedAt))
	}
	return t
}

// trustedCell shows a trusted principal as "Kind:Value", with the condition
// keys that restrict it in brackets.
func trustedCell(te model.TrustedEntity) string {
	s := te.Value
	if te.Kind != "AWS" && te.Kind != "*" {
		s = te.Kind + ":" + te.Value
	}
	if len(te.Conditions) > 0 {
		s += "[" + strings.Join(te.Conditions, " ") + "]"
	}
	return s
}
