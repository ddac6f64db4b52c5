package render

import (
	"strconv"

	"github.com/warden-iam/warden/internal/inventory"
)

// PoliciesTable lays out policy rows.
func PoliciesTable(rows []inventory.PolicyRow) *Table {
	t := &Table{Header: []string{"ACCOUNT", "NAME", "MANAGED BY", "ATTACHMENTS", "ADMIN"}}
	for _, r := range rows {
		by := "customer"
		if r.AWSManaged {
			by = "AWS"
		}
		t.Add(r.AccountID, r.Name, by, strconv.Itoa(int(r.Attachments)), yesNo(r.Admin, true))
	}
	return t
}
