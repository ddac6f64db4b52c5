package render

import (
	"fmt"
	"time"

	"github.com/warden-iam/warden/internal/access"
)

// SSOAccessTables lays out the view of an Identity Center user: the user,
// its groups, one row per assignment, then each linked IAM user's own
// access report.
func SSOAccessTables(a *access.SSOAccess, now time.Time) []*Table {
	head := &Table{Title: "Identity Center user " + a.Principal.Name}
	head.Add("id", a.Principal.ID)
	head.Add("status", dash(a.Status))
	head.Add("emails", list(a.Emails))
	out := []*Table{head}
	g := &Table{Title: fmt.Sprintf("Groups (%d)", len(a.Groups)), Header: []string{"NAME", "ID"}}
	for _, r := range a.Groups {
		g.Add(r.Name, r.ID)
	}
	out = append(out, g)
	t := &Table{Title: fmt.Sprintf("Permission sets by account (%d)", len(a.Assignments)),
		Header: []string{"ACCOUNT", "NAME", "PERMISSION SET", "THROUGH", "ROLE", "POLICIES"}}
	for _, as := range a.Assignments {
		role := "- (account IAM not synced)"
		if as.Role != nil {
			role = as.Role.Name
		}
		var pols []string
		for _, p := range as.Policies {
			name := p.Name
			if p.Admin {
				name += " (admin)"
			}
			pols = append(pols, name)
		}
		t.Add(as.AccountID, dash(as.AccountName), as.PermissionSet.Name, as.Path.String(), role, list(pols))
	}
	out = append(out, t)
	for _, l := range a.LinkedIAMUsers {
		tables := AccessTables(l, now)
		tables[0].Title = "Linked IAM user: " + tables[0].Title
		out = append(out, tables...)
	}
	return out
}
