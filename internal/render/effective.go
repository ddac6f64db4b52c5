package render

import (
	"fmt"
	"strings"

	"github.com/warden-iam/warden/internal/effective"
	"github.com/warden-iam/warden/internal/policy"
)

// CanTables lays out a `warden can` answer: the decision of each case (an
// IAM principal has one; an Identity Center user one per account and
// permission set), the statements that decided it, what it is allowed if,
// and notes.
func CanTables(a *effective.CanAnswer) []*Table {
	resource := a.Resource
	title := fmt.Sprintf("%s %s: %s on %s: %s", a.Principal.Type, a.Principal.Name, a.Action, resource, decisionText(a.Decision))
	cases := &Table{Title: title, Header: []string{"ACCOUNT", "PERMISSION SET", "VIA", "ROLE", "DECISION"}}
	steps := &Table{Title: "Why", Header: []string{"ACCOUNT", "PERMISSION SET", "KIND", "POLICY", "THROUGH", "STATEMENT", "EFFECT", "NOTE"}}
	cond := &Table{Title: "Allowed if (any one line's requirements, all of them)", Header: []string{"ACCOUNT", "PERMISSION SET", "ALTERNATIVE", "REQUIRES", "POLICY", "STATEMENT"}}
	notes := &Table{Title: "Notes", Header: []string{"ACCOUNT", "PERMISSION SET", "NOTE"}}
	for _, c := range a.Cases {
		role := ""
		if c.Role != nil {
			role = c.Role.Name
		}
		cases.Add(c.AccountID, dash(c.PermissionSet), dash(c.Via), dash(role), decisionText(c.Decision))
		for _, s := range c.Explanation {
			steps.Add(c.AccountID, dash(c.PermissionSet), s.Kind, dash(s.Policy), dash(s.Via), dash(s.Statement), s.Effect, s.Note)
		}
		for i, alt := range c.AllowedIf {
			for _, r := range alt.Requires {
				cond.Add(c.AccountID, dash(c.PermissionSet), fmt.Sprint(i+1), r.String(), r.Policy, r.Statement)
			}
		}
		for _, n := range c.Notes {
			notes.Add(c.AccountID, dash(c.PermissionSet), n)
		}
	}
	out := []*Table{cases, steps}
	if len(cond.Rows) > 0 {
		out = append(out, cond)
	}
	if len(notes.Rows) > 0 {
		out = append(out, notes)
	}
	return out
}

// WhoCanTables lays out a `warden who-can` answer: each principal that can,
// how (directly, through an Identity Center permission set, or by
// assuming roles, shown as a chain), and what it is allowed if.
func WhoCanTables(a *effective.WhoCanAnswer) []*Table {
	title := fmt.Sprintf("Who can %s on %s", a.Action, a.Resource)
	if a.Account != "" {
		title += " (principals of account " + a.Account + ")"
	}
	title += fmt.Sprintf(": %d principals (%d requests decided)", len(a.Principals), a.Evaluated)
	t := &Table{Title: title, Header: []string{"PRINCIPAL", "TYPE", "ACCOUNT", "DECISION", "HOW", "ALLOWED IF"}}
	for _, e := range a.Principals {
		t.Add(e.Principal.Name, string(e.Principal.Type), dash(e.AccountID), decisionText(e.Decision), how(e), alternatives(e.AllowedIf))
	}
	return []*Table{t}
}

// how is a who-can entry's path in words: "direct (AdministratorAccess)",
// "permission set P → role R", "assume R1 → R2".
func how(e effective.Entry) string {
	var parts []string
	for _, h := range e.Chain {
		if h.Via == "assume" {
			parts = append(parts, "assume "+h.Role.Name)
		} else {
			parts = append(parts, h.Via+" (role "+h.Role.Name+")")
		}
	}
	allow := allowingPolicies(e.Explanation)
	if len(parts) == 0 {
		return "direct" + allow
	}
	return strings.Join(parts, " → ") + allow
}

func allowingPolicies(steps []policy.Step) string {
	var names []string
	seen := map[string]bool{}
	for _, s := range steps {
		if s.Effect == "Allow" && (s.Kind == "identity" || s.Kind == "resource") && !seen[s.Policy] {
			seen[s.Policy] = true
			names = append(names, s.Policy)
		}
	}
	if len(names) == 0 {
		return ""
	}
	return " (" + strings.Join(names, ", ") + ")"
}

func alternatives(alts []policy.Alternative) string {
	var out []string
	for _, a := range alts {
		var rs []string
		for _, r := range a.Requires {
			rs = append(rs, r.String())
		}
		out = append(out, strings.Join(rs, " and "))
	}
	if len(out) == 0 {
		return "-"
	}
	return strings.Join(out, "; or ")
}

func decisionText(d policy.Decision) string {
	if d == policy.Conditional {
		return "allowed if …"
	}
	return string(d)
}
