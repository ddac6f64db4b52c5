package inventory

import (
	"sort"
	"time"

	"github.com/warden-iam/warden/internal/findings"
	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/policy"
)

// Known returns s, or "" for the "N/A" IAM reports where a value does not
// apply (a key never used has no last service).
func Known(s string) string {
	if s == "N/A" {
		return ""
	}
	return s
}

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

// GroupRow is one IAM group as `warden show groups` prints it.
type GroupRow struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	AccountID string    `json:"account_id"`
	Members   int       `json:"members"`
	Policies  []string  `json:"policies"` // managed and inline policies attached to the group
	CreatedAt time.Time `json:"created_at"`
}

// Groups returns the groups of g in account (every account when ""), by
// account and name.
func Groups(g *model.Graph, account string) []GroupRow {
	v := newGraphView(g)
	members := make(map[string]int)
	policies := make(map[string][]string)
	v.edges(func(e edge) {
		switch {
		case e.entitlement == model.EntMember && e.resource.Type == model.TypeIAMGroup && e.grant.Provenance == model.ViaDirect:
			members[e.resource.ID]++
		case e.entitlement == model.EntAttached && e.principal.Type == model.TypeIAMGroup:
			policies[e.principal.ID] = append(policies[e.principal.ID], e.resource.Name)
		}
	})
	groups := v.resources(model.TypeIAMGroup, account)
	byAccountName(groups)
	rows := make([]GroupRow, 0, len(groups))
	for _, gr := range groups {
		rows = append(rows, GroupRow{ID: gr.ID, Name: gr.Name, AccountID: gr.AccountID, Members: members[gr.ID],
			Policies: sortedNames(policies[gr.ID]), CreatedAt: gr.CreatedAt})
	}
	return rows
}

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

// PolicyRow is one managed policy as `warden show policies` prints it.
type PolicyRow struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	AccountID   string `json:"account_id"`
	AWSManaged  bool   `json:"aws_managed"`
	Attachments int32  `json:"attachments"` // users, groups and roles it is attached to
	Admin       bool   `json:"admin"`       // the default version grants full access
}

// Policies returns the managed policies of g in account (every account when
// ""), customer managed first, then by name.
func Policies(g *model.Graph, account string) []PolicyRow {
	pols := newGraphView(g).resources(model.TypeIAMPolicy, account)
	byAccountName(pols)
	rows := make([]PolicyRow, 0, len(pols))
	for _, p := range pols {
		row := PolicyRow{ID: p.ID, Name: p.Name, AccountID: p.AccountID}
		if a := p.Policy; a != nil {
			row.AWSManaged, row.Attachments, row.Admin = a.AWSManaged, a.AttachmentCount, policy.IsAdmin(a.Document)
		}
		rows = append(rows, row)
	}
	// Customer policies first: they are the ones the account wrote.
	sort.SliceStable(rows, func(i, j int) bool { return !rows[i].AWSManaged && rows[j].AWSManaged })
	return rows
}

// KeyRow is one access key as `warden show keys` prints it.
type KeyRow struct {
	ID              string     `json:"id"`
	KeyID           string     `json:"key_id"`
	User            string     `json:"user"`
	UserID          string     `json:"user_id"`
	AccountID       string     `json:"account_id"`
	Status          string     `json:"status"`
	CreatedAt       *time.Time `json:"created_at"`
	AgeDays         *int       `json:"age_days"`
	LastUsed        *time.Time `json:"last_used"`
	LastUsedService string     `json:"last_used_service"`
}

// KeysPart are the resource types Keys reads: a graph of just these gives
// the same rows as the whole graph.
var KeysPart = []model.ResourceType{model.TypeAccessKey, model.TypeIAMUser}

// Keys returns the access keys of g in account (every account when ""), by
// account, user and key, with their age at now.
func Keys(g *model.Graph, account string, now time.Time) []KeyRow {
	v := newGraphView(g)
	keys := v.resources(model.TypeAccessKey, account)
	rows := make([]KeyRow, 0, len(keys))
	for _, k := range keys {
		row := KeyRow{ID: k.ID, KeyID: k.Name, User: v.name(k.ParentID), UserID: k.ParentID, AccountID: k.AccountID}
		if created, ok := findings.KeyCreatedAt(k); ok {
			age := findings.AgeDays(created, now)
			row.CreatedAt, row.AgeDays = &created, &age
		}
		if a := k.AccessKey; a != nil {
			row.Status, row.LastUsed, row.LastUsedService = a.Status, a.LastUsed, Known(a.LastUsedService)
		}
		rows = append(rows, row)
	}
	sortKeys(rows)
	return rows
}

func sortKeys(rows []KeyRow) {
	sort.Slice(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if a.AccountID != b.AccountID {
			return a.AccountID < b.AccountID
		}
		if a.User != b.User {
			return a.User < b.User
		}
		return a.KeyID < b.KeyID
	})
}
