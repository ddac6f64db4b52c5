package render

import (
	"strconv"

	"github.com/warden-iam/warden/internal/inventory"
)

// GroupsTable lays out group rows.
func GroupsTable(rows []inventory.GroupRow) *Table {
	t := &Table{Header: []string{"ACCOUNT", "NAME", "MEMBERS", "POLICIES", "CREATED"}}
	for _, r := range rows {
		t.Add(r.AccountID, r.Name, strconv.Itoa(r.Members), list(r.Policies), dateCell(r.CreatedAt))
	}
	return t
}
