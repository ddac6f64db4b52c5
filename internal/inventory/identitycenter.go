package inventory

import (
	"cmp"
	"slices"
	"strings"

	"github.com/warden-iam/warden/internal/model"
)

// assignment is one grant of a permission set in an account.
type assignment struct {
	grant         model.Grant
	permissionSet string // resource ID
	account       string // account ID
}

// assignments returns the graph's account assignments.
func (x *index) assignments() []assignment {
	var out []assignment
	for _, gr := range x.g.Grants {
		res, ent := split(gr.EntitlementID)
		acct, ok := strings.CutPrefix(ent, "account:")
		if r := x.byID[res]; ok && r != nil && r.Type == model.TypePermissionSet {
			out = append(out, assignment{grant: gr, permissionSet: res, account: acct})
		}
	}
	return out
}

// members returns each Identity Center group's members (user IDs).
func (x *index) members() map[string]map[string]bool {
	out := map[string]map[string]bool{}
	for _, gr := range x.g.Grants {
		res, ent := split(gr.EntitlementID)
		if r := x.byID[res]; ent == model.EntMember && r != nil && r.Type == model.TypeSSOGroup {
			if out[res] == nil {
				out[res] = map[string]bool{}
			}
			out[res][gr.PrincipalID] = true
		}
	}
	return out
}

// SSOUserRow is one Identity Store user as `warden show sso-users` prints it.
type SSOUserRow struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	DisplayName string   `json:"display_name"`
	Emails      []string `json:"emails"`
	Status      string   `json:"status"`
	Groups      []string `json:"groups"`
	// Assignments counts the account assignments the user holds, directly
	// or through a group.
	Assignments int `json:"assignments"`
}

// SSOUsers lists the Identity Store's users, by name.
func SSOUsers(g *model.Graph) []SSOUserRow {
	x := newIndex(g)
	groups := map[string]map[string]bool{}
	for gid, users := range x.members() {
		for u := range users {
			if groups[u] == nil {
				groups[u] = map[string]bool{}
			}
			groups[u][x.name(gid)] = true
		}
	}
	held := map[string]int{}
	for _, a := range x.assignments() {
		held[a.grant.PrincipalID]++
	}
	rows := []SSOUserRow{}
	for _, r := range x.of(model.TypeSSOUser) {
		row := SSOUserRow{ID: r.ID, Name: r.Name, Emails: []string{}, Groups: sortedSet(groups[r.ID]), Assignments: held[r.ID]}
		if u := r.SSOUser; u != nil {
			row.DisplayName, row.Status = u.DisplayName, u.Status
			row.Emails = append(row.Emails, u.Emails...)
		}
		rows = append(rows, row)
	}
	return rows
}

// SSOGroupRow is one Identity Store group as `warden show sso-groups` prints it.
type SSOGroupRow struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Members     int    `json:"members"`
	// Assignments counts the account assignments made to the group itself.
	Assignments int `json:"assignments"`
}

// SSOGroups lists the Identity Store's groups, by name.
func SSOGroups(g *model.Graph) []SSOGroupRow {
	x := newIndex(g)
	members := x.members()
	held := map[string]int{}
	for _, a := range x.assignments() {
		held[a.grant.PrincipalID]++
	}
	rows := []SSOGroupRow{}
	for _, r := range x.of(model.TypeSSOGroup) {
		row := SSOGroupRow{ID: r.ID, Name: r.Name, Members: len(members[r.ID]), Assignments: held[r.ID]}
		if a := r.SSOGroup; a != nil {
			row.Description = a.Description
		}
		rows = append(rows, row)
	}
	return rows
}

// PermissionSetRow is one permission set as `warden show permission-sets`
// prints it.
type PermissionSetRow struct {
	ID                      string   `json:"id"`
	Name                    string   `json:"name"`
	SessionDuration         string   `json:"session_duration"`
	ManagedPolicies         []string `json:"managed_policies"`
	CustomerManagedPolicies []string `json:"customer_managed_policies"`
	InlinePolicy            bool     `json:"inline_policy"`
	PermissionsBoundary     string   `json:"permissions_boundary"`
	Accounts                []string `json:"accounts"` // IDs of the accounts it is assigned in
}

// PermissionSets lists Identity Center's permission sets, by name.
func PermissionSets(g *model.Graph) []PermissionSetRow {
	x := newIndex(g)
	accounts := map[string]map[string]bool{}
	for _, a := range x.assignments() {
		if accounts[a.permissionSet] == nil {
			accounts[a.permissionSet] = map[string]bool{}
		}
		accounts[a.permissionSet][a.account] = true
	}
	rows := []PermissionSetRow{}
	for _, r := range x.of(model.TypePermissionSet) {
		row := PermissionSetRow{ID: r.ID, Name: r.Name, ManagedPolicies: []string{}, CustomerManagedPolicies: []string{}, Accounts: sortedSet(accounts[r.ID])}
		if p := r.PermissionSet; p != nil {
			row.SessionDuration, row.InlinePolicy, row.PermissionsBoundary = p.SessionDuration, p.InlinePolicy != "", p.PermissionsBoundary
			row.ManagedPolicies = append(row.ManagedPolicies, p.ManagedPolicies...)
			row.CustomerManagedPolicies = append(row.CustomerManagedPolicies, p.CustomerManagedPolicies...)
		}
		rows = append(rows, row)
	}
	return rows
}

// AssignmentRow is one account assignment as `warden show assignments`
// prints it: a permission set in an account held by a user or group, or
// by a user through a group (provenance "group", via the group).
type AssignmentRow struct {
	AccountID       string `json:"account_id"`
	AccountName     string `json:"account_name"`
	PermissionSetID string `json:"permission_set_id"`
	PermissionSet   string `json:"permission_set"`
	PrincipalID     string `json:"principal_id"`
	PrincipalType   string `json:"principal_type"`
	Principal       string `json:"principal"`
	Provenance      string `json:"provenance"`
	ViaID           string `json:"via_id"`
	Via             string `json:"via"`
}

// Assignments lists Identity Center's account assignments (only in
// account when not ""), by account, permission set and principal.
func Assignments(g *model.Graph, account string) []AssignmentRow {
	x := newIndex(g)
	names := map[string]string{} // account ID → name
	for _, r := range x.of(model.TypeAccount) {
		names[r.AccountID] = r.Name
	}
	rows := []AssignmentRow{}
	for _, a := range x.assignments() {
		if account != "" && a.account != account {
			continue
		}
		row := AssignmentRow{AccountID: a.account, AccountName: names[a.account], PermissionSetID: a.permissionSet, PermissionSet: x.name(a.permissionSet),
			PrincipalID: a.grant.PrincipalID, Principal: x.name(a.grant.PrincipalID), Provenance: string(a.grant.Provenance), ViaID: a.grant.ViaID}
		if p := x.byID[a.grant.PrincipalID]; p != nil {
			row.PrincipalType = string(p.Type)
		}
		if a.grant.ViaID != "" {
			row.Via = x.name(a.grant.ViaID)
		}
		rows = append(rows, row)
	}
	slices.SortFunc(rows, func(a, b AssignmentRow) int {
		return cmp.Or(cmp.Compare(a.AccountID, b.AccountID), cmp.Compare(a.PermissionSet, b.PermissionSet),
			cmp.Compare(a.Principal, b.Principal), cmp.Compare(a.Provenance, b.Provenance), cmp.Compare(a.ViaID, b.ViaID))
	})
	return rows
}
