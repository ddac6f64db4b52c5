// Package inventory answers the listing questions of a snapshot beyond IAM
// principals: the organization's accounts, OUs and service control
// policies, and Identity Center's users, groups, permission sets and
// account assignments. Each view reads a graph (the whole snapshot, or
// the part Parts names) and returns plain rows; render formats them.
package inventory

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/warden-iam/warden/internal/model"
)

// Parts are the resource types each view reads, with the grants they hold:
// a graph of just these (store.Subgraph) gives the same rows as the whole
// snapshot.
var Parts = map[string][]model.ResourceType{
	"accounts":        {model.TypeAccount, model.TypeOrgRoot, model.TypeOrgUnit},
	"ous":             {model.TypeOrgRoot, model.TypeOrgUnit, model.TypeAccount, model.TypeSCP},
	"scps":            {model.TypeSCP, model.TypeOrgRoot, model.TypeOrgUnit, model.TypeAccount},
	"sso-users":       {model.TypeSSOUser, model.TypeSSOGroup, model.TypePermissionSet},
	"sso-groups":      {model.TypeSSOGroup, model.TypeSSOUser, model.TypePermissionSet},
	"permission-sets": {model.TypePermissionSet, model.TypeSSOUser, model.TypeSSOGroup, model.TypeAccount},
	"assignments":     {model.TypePermissionSet, model.TypeSSOUser, model.TypeSSOGroup, model.TypeAccount},
}

// index is the lookups the views share over one graph.
type index struct {
	g    *model.Graph
	byID map[string]*model.Resource
}

func newIndex(g *model.Graph) *index {
	x := &index{g: g, byID: make(map[string]*model.Resource, len(g.Resources))}
	for i := range g.Resources {
		x.byID[g.Resources[i].ID] = &g.Resources[i]
	}
	return x
}

// of returns the graph's resources of type t, sorted by name then ID.
func (x *index) of(t model.ResourceType) []*model.Resource {
	var out []*model.Resource
	for i := range x.g.Resources {
		if r := &x.g.Resources[i]; r.Type == t {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b *model.Resource) int { return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID)) })
	return out
}

// name is a resource's name, or its ID when it is not in the graph.
func (x *index) name(id string) string {
	if r, ok := x.byID[id]; ok && r.Name != "" {
		return r.Name
	}
	return id
}

// split returns the resource and entitlement name of an entitlement ID.
func split(entID string) (resource, name string) {
	i := strings.LastIndexByte(entID, '#')
	if i < 0 {
		return entID, ""
	}
	return entID[:i], entID[i+1:]
}

// sortedSet returns the keys of m, sorted.
func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// AccountRow is one AWS account as `warden show accounts` prints it.
type AccountRow struct {
	ID               string     `json:"id"`
	AccountID        string     `json:"account_id"`
	Name             string     `json:"name"`
	Email            string     `json:"email"`
	Status           string     `json:"status"`
	Management       bool       `json:"management"`
	OUPath           string     `json:"ou_path"`
	JoinedMethod     string     `json:"joined_method"`
	JoinedAt         *time.Time `json:"joined_at"`
	RootMFAActive    bool       `json:"root_mfa_active"`
	RootAccessKeys   int        `json:"root_access_keys"`
	CredentialReport bool       `json:"credential_report"`
}

// Accounts lists the accounts of g (only account when not ""), by OU path
// then name.
func Accounts(g *model.Graph, account string) []AccountRow {
	x := newIndex(g)
	rows := []AccountRow{}
	for _, r := range x.of(model.TypeAccount) {
		if account != "" && r.AccountID != account {
			continue
		}
		row := AccountRow{ID: r.ID, AccountID: r.AccountID, Name: r.Name}
		if a := r.Account; a != nil {
			row.RootMFAActive, row.RootAccessKeys, row.CredentialReport = a.RootMFAActive, a.RootAccessKeys, a.CredentialReport
			if o := a.Org; o != nil {
				row.Email, row.Status, row.Management, row.OUPath, row.JoinedMethod, row.JoinedAt = o.Email, o.Status, o.Management, o.OUPath, o.JoinedMethod, o.JoinedAt
			}
		}
		rows = append(rows, row)
	}
	slices.SortStableFunc(rows, func(a, b AccountRow) int { return cmp.Compare(a.OUPath, b.OUPath) })
	return rows
}

// OURow is the organization's root or one OU as `warden show ous` prints it.
type OURow struct {
	ID       string   `json:"id"`
	Type     string   `json:"type"` // org_root or org_unit
	Name     string   `json:"name"`
	Path     string   `json:"path"`
	Accounts []string `json:"accounts"` // names of the accounts directly in it
	OUs      []string `json:"ous"`      // names of the OUs directly in it
	SCPs     []string `json:"scps"`     // names of the SCPs attached to it
}

// OUs lists the organization's root and OUs, by path.
func OUs(g *model.Graph) []OURow {
	x := newIndex(g)
	in := map[string]map[string]bool{}   // OU → accounts
	subs := map[string]map[string]bool{} // OU → OUs
	scps := map[string]map[string]bool{} // target → SCPs
	add := func(m map[string]map[string]bool, k, v string) {
		if m[k] == nil {
			m[k] = map[string]bool{}
		}
		m[k][v] = true
	}
	for _, gr := range g.Grants {
		res, ent := split(gr.EntitlementID)
		p, ok := x.byID[gr.PrincipalID]
		if !ok {
			continue
		}
		switch {
		case ent == model.EntContains && p.Type == model.TypeAccount:
			add(in, res, p.Name)
		case ent == model.EntContains:
			add(subs, res, p.Name)
		case ent == model.EntAttached && x.byID[res] != nil && x.byID[res].Type == model.TypeSCP:
			add(scps, p.ID, x.name(res))
		}
	}
	rows := []OURow{}
	for _, t := range []model.ResourceType{model.TypeOrgRoot, model.TypeOrgUnit} {
		for _, r := range x.of(t) {
			row := OURow{ID: r.ID, Type: string(r.Type), Name: r.Name, Path: "/",
				Accounts: sortedSet(in[r.ID]), OUs: sortedSet(subs[r.ID]), SCPs: sortedSet(scps[r.ID])}
			if r.OrgUnit != nil {
				row.Path = r.OrgUnit.Path
			}
			rows = append(rows, row)
		}
	}
	slices.SortStableFunc(rows, func(a, b OURow) int { return cmp.Compare(a.Path, b.Path) })
	return rows
}

// SCPRow is one service control policy as `warden show scps` prints it.
type SCPRow struct {
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	PolicyID   string   `json:"policy_id"`
	AWSManaged bool     `json:"aws_managed"`
	Targets    []string `json:"targets"` // names of the root, OUs and accounts it is attached to
}

// SCPs lists the organization's service control policies, by name.
func SCPs(g *model.Graph) []SCPRow {
	x := newIndex(g)
	targets := map[string]map[string]bool{}
	for _, gr := range g.Grants {
		res, ent := split(gr.EntitlementID)
		if r := x.byID[res]; ent == model.EntAttached && r != nil && r.Type == model.TypeSCP {
			if targets[res] == nil {
				targets[res] = map[string]bool{}
			}
			targets[res][x.name(gr.PrincipalID)] = true
		}
	}
	rows := []SCPRow{}
	for _, r := range x.of(model.TypeSCP) {
		row := SCPRow{ID: r.ID, Name: r.Name, Targets: sortedSet(targets[r.ID])}
		if s := r.SCP; s != nil {
			row.PolicyID, row.AWSManaged = s.PolicyID, s.AWSManaged
		}
		rows = append(rows, row)
	}
	return rows
}
