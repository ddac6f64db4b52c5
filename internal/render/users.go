package render

import (
	"strconv"

	"github.com/warden-iam/warden/internal/inventory"
)

// UsersTable lays out user rows.
func UsersTable(rows []inventory.UserRow) *Table {
	t := &Table{Header: []string{"ACCOUNT", "NAME", "GROUPS", "CONSOLE", "MFA", "KEYS", "PASSWORD LAST USED", "CREATED"}}
	for _, r := range rows {
		lastUsed := lastUsedCell(r.PasswordLastUsed)
		if !r.CredentialReport {
			lastUsed = "?"
		} else if !r.ConsoleAccess && r.PasswordLastUsed == nil {
			lastUsed = "-"
		}
		t.Add(r.AccountID, r.Name, list(r.Groups), yesNo(r.ConsoleAccess, r.CredentialReport), yesNo(r.MFAActive, r.CredentialReport),
			keysCell(r.ActiveKeys, r.AccessKeys), lastUsed, dateCell(r.CreatedAt))
	}
	return t
}

// keysCell shows "active/total" when some keys are inactive, else the count.
func keysCell(active, total int) string {
	if active == total {
		return strconv.Itoa(total)
	}
	return strconv.Itoa(active) + "/" + strconv.Itoa(total) + " active"
}
