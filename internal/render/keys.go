package render

import (
	"strconv"

	"github.com/warden-iam/warden/internal/inventory"
)

// KeysTable lays out key rows.
func KeysTable(rows []inventory.KeyRow) *Table {
	t := &Table{Header: []string{"ACCOUNT", "USER", "KEY ID", "STATUS", "AGE (DAYS)", "LAST USED", "SERVICE"}}
	for _, r := range rows {
		age := "-"
		if r.AgeDays != nil {
			age = strconv.Itoa(*r.AgeDays)
		}
		t.Add(r.AccountID, r.User, r.KeyID, r.Status, age, lastUsedCell(r.LastUsed), dash(r.LastUsedService))
	}
	return t
}
