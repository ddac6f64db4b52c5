package render

import (
	"strconv"
	"time"

	"github.com/warden-iam/warden/internal/model"
)

// UserRow is one IAM user as `warden show users` prints it.
type UserRow struct {
	ID        string   `json:"id"`
	Name      string   `json:"name"`
	AccountID string   `json:"account_id"`
	Groups    []string `json:"groups"`
	// ConsoleAccess, MFAActive and PasswordLastUsed come from the credential
	// report; CredentialReport is false when it was unavailable and they are
	// unknown.
	ConsoleAccess    bool       `json:"console_access"`
	MFAActive        bool       `json:"mfa_active"`
	CredentialReport bool       `json:"credential_report"`
	AccessKeys       int        `json:"access_keys"`
	ActiveKeys       int        `json:"active_access_keys"`
	PasswordLastUsed *time.Time `json:"password_last_used"`
	CreatedAt        time.Time  `json:"created_at"`
}

// UsersPart are the resource types Users reads (with the grants they
// hold): a graph of just these gives the same rows as the whole graph.
var UsersPart = []model.ResourceType{model.TypeIAMUser, model.TypeIAMGroup, model.TypeAccessKey}

// Users returns the users of g in account (every account when ""), by
// account and name.
func Users(g *model.Graph, account string) []UserRow {
	v := newGraphView(g)
	groups := make(map[string][]string)
	v.edges(func(e edge) {
		if e.entitlement == model.EntMember && e.resource.Type == model.TypeIAMGroup && e.grant.Provenance == model.ViaDirect {
			groups[e.principal.ID] = append(groups[e.principal.ID], e.resource.Name)
		}
	})
	keys, active := make(map[string]int), make(map[string]int)
	for _, k := range v.resources(model.TypeAccessKey, account) {
		keys[k.ParentID]++
		if k.AccessKey != nil && k.AccessKey.Status == "Active" {
			active[k.ParentID]++
		}
	}
	users := v.resources(model.TypeIAMUser, account)
	byAccountName(users)
	rows := make([]UserRow, 0, len(users))
	for _, u := range users {
		row := UserRow{ID: u.ID, Name: u.Name, AccountID: u.AccountID, Groups: sortedNames(groups[u.ID]),
			AccessKeys: keys[u.ID], ActiveKeys: active[u.ID], CreatedAt: u.CreatedAt}
		if a := u.User; a != nil {
			row.ConsoleAccess, row.MFAActive, row.CredentialReport = a.ConsoleAccess, a.MFAActive, a.CredentialReport
			row.PasswordLastUsed = a.PasswordLastUsed
		}
		rows = append(rows, row)
	}
	return rows
}

// UsersTable lays out user rows.
func UsersTable(rows []UserRow) *Table {
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
