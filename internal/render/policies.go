package render

import (
	"sort"
	"strconv"

	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/policy"
)

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

// PoliciesTable lays out policy rows.
func PoliciesTable(rows []PolicyRow) *Table {
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
