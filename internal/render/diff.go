package render

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/warden-iam/warden/internal/diff"
	"github.com/warden-iam/warden/internal/model"
)

// DiffTables lays out a diff report: a summary, then each section that has
// changes, security-relevant first, at most limit changes per section (all
// when limit <= 0); a section cut short says how many it left out and how
// to see them all.
func DiffTables(r *diff.Report, limit int) []*Table {
	head := &Table{Title: fmt.Sprintf("Changes from snapshot %s to snapshot %s, connection %s%s",
		snapCell(r.From), snapCell(r.To), r.To.ConnectionID, onlyCell(r.Only))}
	for _, s := range []*model.Snapshot{r.From, r.To} {
		if s.Status != model.StatusPartial {
			continue
		}
		note := fmt.Sprintf("snapshot %d is partial (%d part(s) failed)", s.ID, len(s.Errors))
		if len(s.Carried) > 0 {
			parts := make([]string, 0, len(s.Carried))
			for _, c := range s.Carried {
				parts = append(parts, c.Part)
			}
			note += ": it keeps " + strings.Join(parts, ", ") + " as last read, so no change shows there"
		} else {
			note += ": what it could not read may show as removed"
		}
		head.Add("note", note)
	}
	for _, line := range summaryLines(&r.Summary) {
		head.Add(line[0], line[1])
	}
	if !r.Summary.Changed {
		head.Title = fmt.Sprintf("No change from snapshot %s to snapshot %s, connection %s%s",
			snapCell(r.From), snapCell(r.To), r.To.ConnectionID, onlyCell(r.Only))
		if len(head.Rows) == 0 {
			head.Add("changes", "none")
			return []*Table{head}
		}
	}
	tables := []*Table{head}
	section := func(title string, n int, row func(i int, t *Table)) {
		if n == 0 {
			return
		}
		t := &Table{Title: fmt.Sprintf("%s (%d)", title, n)}
		shown := n
		if limit > 0 && n > limit {
			shown = limit
			t.Title = fmt.Sprintf("%s (%d; the first %d shown: --limit 0 or -o json shows all)", title, n, limit)
		}
		for i := 0; i < shown; i++ {
			row(i, t)
		}
		t.More = n - shown
		tables = append(tables, t)
	}
	section("Access gained and lost", len(r.Access), func(i int, t *Table) { t.Add(sign(r.Access[i].Change), byActor(r.Access[i].Text, r.Access[i].Actor)) })
	section("Administrators", len(r.Administrators), func(i int, t *Table) {
		t.Add(sign(r.Administrators[i].Change), byActor(r.Administrators[i].Text, r.Administrators[i].Actor))
	})
	section("Trust outside the account", len(r.Trust), func(i int, t *Table) { t.Add(sign(r.Trust[i].Change), byActor(r.Trust[i].Text, r.Trust[i].Actor)) })
	section("Access keys", len(r.AccessKeys), func(i int, t *Table) {
		t.Add(sign(r.AccessKeys[i].Change), byActor(r.AccessKeys[i].Text, r.AccessKeys[i].Actor))
	})
	section("Console access and MFA", len(r.ConsoleAndMFA), func(i int, t *Table) {
		t.Add(sign(r.ConsoleAndMFA[i].Change), byActor(r.ConsoleAndMFA[i].Text, r.ConsoleAndMFA[i].Actor))
	})
	section("Identity Center assignments", len(r.IdentityCenter), func(i int, t *Table) {
		t.Add(sign(r.IdentityCenter[i].Change), byActor(r.IdentityCenter[i].Text, r.IdentityCenter[i].Actor))
	})
	section("Findings", len(r.Findings), func(i int, t *Table) {
		t.Add(sign(r.Findings[i].Change), byActor(r.Findings[i].Text, r.Findings[i].Actor))
	})
	section("Assets", len(r.Assets), func(i int, t *Table) {
		a := r.Assets[i]
		text := a.Text
		if a.Severity != "" {
			text = "[" + a.Severity + "] " + text
		}
		t.Add(sign(a.Change), byActor(text, a.Actor))
	})
	section("Resources", len(r.Resources), func(i int, t *Table) {
		d := r.Resources[i]
		t.Add(sign(d.Change), byActor(d.Text, d.Actor))
		for _, f := range d.Fields {
			for _, line := range fieldLines(f) {
				t.Add("", "    "+line)
			}
		}
	})
	section("Entitlements", len(r.Entitlements), func(i int, t *Table) {
		e := r.Entitlements[i]
		t.Add(sign(e.Change), e.ID)
	})
	return tables
}

// byActor adds who made a change and when to its sentence, when
// CloudTrail recorded it.
func byActor(text string, a *diff.Actor) string {
	if a == nil {
		return text
	}
	return fmt.Sprintf("%s (by %s, %s at %s)", text, a.ARN, a.Event, a.At.UTC().Format(time.DateTime))
}

// fieldLines shows one changed field: "path: old → new", or a document's
// statements removed and added.
func fieldLines(f diff.FieldChange) []string {
	if len(f.StatementsAdded)+len(f.StatementsRemoved) > 0 {
		var out []string
		for _, s := range f.StatementsRemoved {
			out = append(out, f.Path+": - "+string(s))
		}
		for _, s := range f.StatementsAdded {
			out = append(out, f.Path+": + "+string(s))
		}
		return out
	}
	return []string{fmt.Sprintf("%s: %s → %s", f.Path, valueCell(f.Before), valueCell(f.After))}
}

// valueCell shows a field's value as JSON, "-" when absent.
func valueCell(v any) string {
	if v == nil {
		return "-"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func sign(change string) string {
	switch change {
	case diff.Gained, diff.Added, diff.Created, diff.New, diff.Activated:
		return "+"
	case diff.Lost, diff.Removed, diff.Deleted, diff.Resolved, diff.Deactivated:
		return "-"
	}
	return "~"
}

func snapCell(s *model.Snapshot) string {
	return fmt.Sprintf("%d (%s)", s.ID, s.FinishedAt.UTC().Format("2006-01-02 15:04 UTC"))
}

func onlyCell(only string) string {
	if only == "" {
		return ""
	}
	return ", only " + only
}

// summaryLines are the report's non-zero counts, as label and value.
func summaryLines(s *diff.Summary) [][2]string {
	var out [][2]string
	add := func(label string, n int, names ...string) {
		if n == 0 {
			return
		}
		v := strconv.Itoa(n)
		if len(names) > 0 {
			v += " (" + strings.Join(names, ", ") + ")"
		}
		out = append(out, [2]string{label, v})
	}
	add("principals gained access", s.PrincipalsGained)
	add("principals lost access", s.PrincipalsLost)
	add("administrators added", len(s.AdministratorsAdded), s.AdministratorsAdded...)
	add("administrators removed", len(s.AdministratorsRemoved), s.AdministratorsRemoved...)
	add("trust outside the account added", s.TrustAdded)
	add("trust outside the account removed", s.TrustRemoved)
	add("access keys created", s.KeysCreated)
	add("access keys deleted", s.KeysDeleted)
	add("access keys activated", s.KeysActivated)
	add("access keys deactivated", s.KeysDeactivated)
	add("console access added", s.ConsoleAdded)
	add("console access removed", s.ConsoleRemoved)
	add("MFA added", s.MFAAdded)
	add("MFA removed", s.MFARemoved)
	add("Identity Center assignments added", s.AssignmentsAdded)
	add("Identity Center assignments removed", s.AssignmentsRemoved)
	add("findings new", s.FindingsNew)
	add("findings resolved", s.FindingsResolved)
	add("assets added", s.AssetsAdded)
	add("assets removed", s.AssetsRemoved)
	add("asset changes", s.AssetsChanged)
	add("asset changes of high severity", s.AssetsHighSeverity)
	add("resources added", s.ResourcesAdded)
	add("resources removed", s.ResourcesRemoved)
	add("resources changed", s.ResourcesChanged)
	add("entitlements added", s.EntitlementsAdded)
	add("entitlements removed", s.EntitlementsRemoved)
	return out
}

// ChangeParagraph is the one paragraph `warden sync` prints about what
// changed since the previous snapshot: "Since snapshot 41 (2h ago): 3
// principals gained access, 1 lost; 1 new administrator (bob); 2 access
// keys created; 14 resources changed. Run `warden diff` for details.", or
// "No change since snapshot 41 (2h ago)."
func ChangeParagraph(r *diff.Report, now time.Time) string {
	since := fmt.Sprintf("snapshot %d (%s)", r.From.ID, ago(now.Sub(r.From.FinishedAt)))
	if !r.Summary.Changed {
		return "No change since " + since + "."
	}
	s := &r.Summary
	var parts []string
	pair := func(a int, aText string, b int, bText, bShort string) {
		switch {
		case a > 0 && b > 0:
			parts = append(parts, fmt.Sprintf("%s, %d %s", aText, b, bShort))
		case a > 0:
			parts = append(parts, aText)
		case b > 0:
			parts = append(parts, bText)
		}
	}
	pair(s.PrincipalsGained, fmt.Sprintf("%s gained access", count(s.PrincipalsGained, "principal")),
		s.PrincipalsLost, fmt.Sprintf("%s lost access", count(s.PrincipalsLost, "principal")), "lost")
	if n := len(s.AdministratorsAdded); n > 0 {
		parts = append(parts, fmt.Sprintf("%s (%s)", count(n, "new administrator"), names(s.AdministratorsAdded)))
	}
	if n := len(s.AdministratorsRemoved); n > 0 {
		parts = append(parts, fmt.Sprintf("%s removed (%s)", count(n, "administrator"), names(s.AdministratorsRemoved)))
	}
	pair(s.TrustAdded, fmt.Sprintf("%s outside an account", count(s.TrustAdded, "new trust")),
		s.TrustRemoved, fmt.Sprintf("%s outside an account removed", count(s.TrustRemoved, "trust")), "removed")
	for _, k := range []struct {
		n    int
		verb string
	}{{s.KeysCreated, "created"}, {s.KeysDeleted, "deleted"}, {s.KeysActivated, "activated"}, {s.KeysDeactivated, "deactivated"}} {
		if k.n > 0 {
			parts = append(parts, fmt.Sprintf("%s %s", count(k.n, "access key"), k.verb))
		}
	}
	pair(s.ConsoleAdded, fmt.Sprintf("%s added", count(s.ConsoleAdded, "console password")),
		s.ConsoleRemoved, fmt.Sprintf("%s removed", count(s.ConsoleRemoved, "console password")), "removed")
	pair(s.MFAAdded, fmt.Sprintf("MFA added for %d", s.MFAAdded), s.MFARemoved, fmt.Sprintf("MFA removed for %d", s.MFARemoved), "removed")
	pair(s.AssignmentsAdded, fmt.Sprintf("%s added", count(s.AssignmentsAdded, "Identity Center assignment")),
		s.AssignmentsRemoved, fmt.Sprintf("%s removed", count(s.AssignmentsRemoved, "Identity Center assignment")), "removed")
	pair(s.FindingsNew, count(s.FindingsNew, "new finding"), s.FindingsResolved, fmt.Sprintf("%s resolved", count(s.FindingsResolved, "finding")), "resolved")
	if n := s.AssetsAdded + s.AssetsRemoved + s.AssetsChanged; n > 0 {
		p := count(n, "asset change")
		if s.AssetsHighSeverity > 0 {
			p += fmt.Sprintf(" (%d of high severity)", s.AssetsHighSeverity)
		}
		parts = append(parts, p)
	}
	if n := s.ResourcesAdded + s.ResourcesRemoved + s.ResourcesChanged; n > 0 {
		parts = append(parts, fmt.Sprintf("%s changed", count(n, "resource")))
	}
	if len(parts) == 0 { // only entitlements
		parts = append(parts, count(s.EntitlementsAdded+s.EntitlementsRemoved, "entitlement")+" changed")
	}
	return "Since " + since + ": " + strings.Join(parts, "; ") + ". Run `warden diff` for details."
}

// count says "1 principal", "3 principals".
func count(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}

// names lists up to five names, then how many more.
func names(list []string) string {
	const most = 5
	if len(list) <= most {
		return strings.Join(list, ", ")
	}
	return strings.Join(list[:most], ", ") + fmt.Sprintf(" and %d more", len(list)-most)
}

// ago says how long ago, roughly: "just now", "5m ago", "2h ago", "3d ago".
func ago(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", int(d/time.Hour))
	}
	return fmt.Sprintf("%dd ago", int(d/(24*time.Hour)))
}
