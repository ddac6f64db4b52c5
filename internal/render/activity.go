package render

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/warden-iam/warden/internal/access"
	"github.com/warden-iam/warden/internal/findings"
	"github.com/warden-iam/warden/internal/model"
)

// ActivityTables lays out `warden show activity`: every principal's last
// activity, then who assumed which role.
func ActivityTables(r *access.ActivityReport) []*Table {
	scope := "every account"
	if r.Account != "" {
		scope = "account " + r.Account
	}
	last := &Table{Title: fmt.Sprintf("Last activity since %s, %s (%d principals, %d CloudTrail events)",
		r.Since.UTC().Format(time.DateOnly), scope, len(r.Principals), r.Events),
		Header: []string{"TYPE", "NAME", "ACCOUNT", "LAST", "SOURCE", "WHAT", "WHERE"}}
	for _, p := range r.Principals {
		if p.Last == nil {
			last.Add(principalKind(p.Type), p.Name, dash(p.AccountID), "none seen", "-", "-", "-")
			continue
		}
		s := *p.Last
		last.Add(principalKind(p.Type), p.Name, dash(p.AccountID), s.At.UTC().Format(time.DateTime), s.Source, seenWhat(s), seenWhere(s))
	}
	uses := &Table{Title: fmt.Sprintf("Role use (%d): who assumed which role", len(r.RoleUses)),
		Header: []string{"ROLE", "ASSUMED BY", "COUNT", "FIRST", "LAST"}}
	for _, u := range r.RoleUses {
		uses.Add(u.Role, u.Principal, strconv.Itoa(u.Count), u.First.UTC().Format(time.DateTime), u.Last.UTC().Format(time.DateTime))
	}
	return []*Table{last, uses}
}

// PrincipalActivityTable lays out one principal's activity, each source's
// newest sighting, for `warden access`.
func PrincipalActivityTable(p *access.PrincipalActivity) *Table {
	t := &Table{Title: "Last activity (" + lastActivityCell(p) + ")", Header: []string{"SOURCE", "WHEN", "WHAT", "WHERE"}}
	for _, s := range p.Seen {
		t.Add(s.Source, s.At.UTC().Format(time.DateTime), seenWhat(s), seenWhere(s))
	}
	return t
}

// LastAccessedTable lays out an IAM principal's service last accessed data
// for `warden access`: each service its policies grant and when it last
// used it.
func LastAccessedTable(d *findings.LastAccessed) *Table {
	t := &Table{Title: fmt.Sprintf("Services last accessed (IAM, read %s)", d.ReadAt.UTC().Format(time.DateTime)),
		Header: []string{"SERVICE", "NAMESPACE", "LAST USED"}}
	for _, s := range d.Services {
		last := "not in IAM's tracking period"
		if s.LastUsed != nil {
			last = s.LastUsed.UTC().Format(time.DateTime)
		}
		t.Add(s.Name, s.Namespace, last)
	}
	return t
}

// lastActivityCell is a principal's newest sighting, or that none was seen.
func lastActivityCell(p *access.PrincipalActivity) string {
	if p.Last == nil {
		return "none seen"
	}
	return p.Last.At.UTC().Format(time.DateTime) + ", " + p.Last.Source
}

// seenWhat says what a sighting was: the event, the key, the role.
func seenWhat(s access.Seen) string {
	var parts []string
	switch s.Source {
	case access.SeenPassword:
		parts = append(parts, "console sign-in")
	case access.SeenAccessKey:
		parts = append(parts, "key "+s.Detail)
		if s.From != "" {
			parts = append(parts, "with "+s.From)
		}
		return strings.Join(parts, " ")
	case access.SeenRoleLastUsed:
		parts = append(parts, "role used")
	}
	if s.Event != "" {
		parts = append(parts, s.Event)
	}
	if s.Detail != "" {
		parts = append(parts, s.Detail)
	}
	return dash(strings.Join(parts, " "))
}

// seenWhere says where: account, region and source address.
func seenWhere(s access.Seen) string {
	var parts []string
	if s.Account != "" {
		parts = append(parts, s.Account)
	}
	if s.Region != "" {
		parts = append(parts, s.Region)
	}
	if s.From != "" && s.Source != access.SeenAccessKey {
		parts = append(parts, "from "+s.From)
	}
	return dash(strings.Join(parts, " "))
}

// principalKind names a principal's type in the activity tables.
func principalKind(t model.ResourceType) string {
	switch t {
	case model.TypeSSOUser:
		return "SSO user"
	case model.TypeSSOGroup:
		return "SSO group"
	}
	return kindName(t)
}
