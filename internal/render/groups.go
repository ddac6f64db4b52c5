package render

import (
	"strconv"
	"time"

	"github.com/warden-iam/warden/internal/model"
)

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

// GroupsTable lays out group rows.
func GroupsTable(rows []GroupRow) *Table {
	t := &Table{Header: []string{"ACCOUNT", "NAME", "MEMBERS", "POLICIES", "CREATED"}}
	for _, r := range rows {
		t.Add(r.AccountID, r.Name, strconv.Itoa(r.Members), list(r.Policies), dateCell(r.CreatedAt))
	}
	return t
}
