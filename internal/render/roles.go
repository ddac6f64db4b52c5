package render

import (
	"strings"
	"time"

	"github.com/warden-iam/warden/internal/model"
)

// RoleRow is one IAM role as `warden show roles` prints it.
type RoleRow struct {
	ID        string                `json:"id"`
	Name      string                `json:"name"`
	AccountID string                `json:"account_id"`
	Trusted   []model.TrustedEntity `json:"trusted_principals"`
	LastUsed  *time.Time            `json:"last_used"`
	CreatedAt time.Time             `json:"created_at"`
}

// Roles returns the roles of g in account (every account when ""), by account
// and name.
func Roles(g *model.Graph, account string) []RoleRow {
	roles := newGraphView(g).resources(model.TypeIAMRole, account)
	byAccountName(roles)
	rows := make([]RoleRow, 0, len(roles))
	for _, r := range roles {
		row := RoleRow{ID: r.ID, Name: r.Name, AccountID: r.AccountID, Trusted: []model.TrustedEntity{}, CreatedAt: r.CreatedAt}
		if r.Role != nil {
			if r.Role.TrustedPrincipals != nil {
				row.Trusted = r.Role.TrustedPrincipals
			}
			row.LastUsed = r.Role.LastUsed
		}
		rows = append(rows, row)
	}
	return rows
}

// RolesTable lays out role rows.
func RolesTable(rows []RoleRow) *Table {
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
