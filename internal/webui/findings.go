package webui

import (
	"context"
	"encoding/csv"
	"fmt"
	"github.com/warden-iam/warden/internal/access"
	"github.com/warden-iam/warden/internal/collect"
	"github.com/warden-iam/warden/internal/render"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/warden-iam/warden/internal/effective"
	"github.com/warden-iam/warden/internal/findings"
	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/policy"
)

// staleDays is the age past which an access key is stale, as `warden
// findings` has it by default.
const staleDays = 90

// findingRow is one finding of any rule, flat for the table and the CSV.
type findingRow struct {
	Rule      string
	Severity  string
	Principal findings.Principal
	Detail    string
}

// findingsData is the findings page.
type findingsData struct {
	Conn     string
	Account  string
	Severity string
	Rule     string
	Rules    []string
	Rows     []findingRow
	Accounts []string
	// The findings that use the policy evaluator (as `warden findings`):
	// effective administrators, on unless ?effective=0, and privilege
	// escalation paths, only with ?escalation=1 (slower). A list's Read
	// says whether it was computed; the URLs turn each on.
	EffectiveRead   bool
	EffectiveAdmins []effectiveAdminRow
	EscalationRead  bool
	EscalationPaths []escalationRow
	EffectiveURL    string
	EscalationURL   string
	// AssetsRead says whether the snapshot's sync read assets (the
	// exposure rules find nothing otherwise); PublicAdmins are the
	// instances with a public IP running as an effective administrator
	// role, when the effective administrators were computed (the
	// public-admin-instances rows above decide by administrator policies).
	AssetsRead   bool
	PublicAdmins []findings.PublicAdminInstance
}

// effectiveAdminRow is one effective administrator, laid out.
type effectiveAdminRow struct {
	Principal effective.Ref
	AccountID string
	Decision  string
	Through   string
	Holds     bool
}

// escalationRow is one privilege escalation path, laid out.
type escalationRow struct {
	Principal effective.Ref
	Admin     effective.Ref
	Decision  string
	Steps     []escalationStepRow
}

type escalationStepRow struct {
	Who, Actions, Gains, AllowedBy string
	Target                         effective.Ref
}

// severities orders the severities, worst first.
var severities = map[string]int{"high": 0, "medium": 1, "low": 2}

func (u *UI) findings(w http.ResponseWriter, r *http.Request, s *session, asCSV bool) {
	conn, snap, err := u.latest(r)
	if err != nil {
		u.fail(w, r, s, http.StatusNotFound, err.Error())
		return
	}
	g, err := u.c.Store.Graph(r.Context(), snap.ID)
	if err != nil {
		u.fail(w, r, s, http.StatusInternalServerError, "The snapshot could not be read: "+err.Error())
		return
	}
	rows := findingRows(g, u.c.Now())
	extra, err := u.activityRows(r.Context(), conn, g, u.c.Now())
	if err != nil {
		u.fail(w, r, s, http.StatusInternalServerError, "The activity could not be read: "+err.Error())
		return
	}
	rows = append(rows, extra...)
	d := findingsData{Conn: conn, Account: r.URL.Query().Get("account"), Severity: r.URL.Query().Get("severity"), Rule: r.URL.Query().Get("rule"), Rules: ruleNames,
		AssetsRead: findings.AssetsRead(snap, g)}
	accounts := map[string]bool{}
	for _, f := range rows {
		accounts[f.Principal.AccountID] = true
		if (d.Account == "" || f.Principal.AccountID == d.Account) && (d.Severity == "" || f.Severity == d.Severity) && (d.Rule == "" || f.Rule == d.Rule) {
			d.Rows = append(d.Rows, f)
		}
	}
	for a := range accounts {
		d.Accounts = append(d.Accounts, a)
	}
	sort.Strings(d.Accounts)
	q := r.URL.Query()
	eff, esc := q.Get("effective") != "0", q.Get("escalation") == "1"
	if err := u.effectiveFindings(r, &d, snap.ID, g, eff, esc); err != nil {
		u.fail(w, r, s, http.StatusInternalServerError, "The effective-access findings could not be computed: "+err.Error())
		return
	}
	on := url.Values{"c": {conn}, "account": {d.Account}, "severity": {d.Severity}, "rule": {d.Rule}}
	on.Set("escalation", "1")
	d.EscalationURL = "/findings?" + on.Encode()
	on.Del("escalation")
	d.EffectiveURL = "/findings?" + on.Encode()
	sort.SliceStable(d.Rows, func(i, j int) bool { return severities[d.Rows[i].Severity] < severities[d.Rows[j].Severity] })
	if asCSV {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="warden-findings-`+conn+`.csv"`)
		cw := csv.NewWriter(w)
		_ = cw.Write([]string{"rule", "severity", "principal_id", "principal_type", "principal_name", "account_id", "detail"})
		for _, f := range d.Rows {
			_ = cw.Write([]string{f.Rule, f.Severity, f.Principal.ID, string(f.Principal.Type), csvSafe(f.Principal.Name), f.Principal.AccountID, csvSafe(f.Detail)})
		}
		cw.Flush()
		return
	}
	u.render(w, r, s, http.StatusOK, "findings.html", page{Title: "Findings", Data: d})
}

// effectiveFindings fills d's effective administrators (eff) and
// privilege escalation paths (esc), of d.Account only when set, from
// snapshot snap (graph g).
func (u *UI) effectiveFindings(r *http.Request, d *findingsData, snap int64, g *model.Graph, eff, esc bool) error {
	if !eff && !esc {
		return nil
	}
	ctx := r.Context()
	es, err := effective.Load(ctx, u.c.Store, snap)
	if err != nil {
		return err
	}
	admins, err := findings.EffectiveAdmins(ctx, es, g)
	if err != nil {
		return err
	}
	if eff && d.AssetsRead {
		for _, p := range findings.PublicAdminInstancesEffective(g, admins) {
			if d.Account == "" || p.AccountID == d.Account {
				d.PublicAdmins = append(d.PublicAdmins, p)
			}
		}
	}
	if eff {
		d.EffectiveRead = true
		for _, a := range admins {
			if d.Account != "" && a.AccountID != d.Account {
				continue
			}
			d.EffectiveAdmins = append(d.EffectiveAdmins, effectiveAdminRow{Principal: a.Principal, AccountID: a.AccountID,
				Decision: decisionWords(a.Decision, a.AllowedIf), Through: render.EffectiveAdminThrough(a), Holds: a.HoldsAdminPolicy})
		}
	}
	if esc {
		paths, err := findings.EscalationPaths(ctx, es, g, admins)
		if err != nil {
			return err
		}
		d.EscalationRead = true
		for _, p := range paths {
			if d.Account != "" && p.Principal.AccountID != d.Account {
				continue
			}
			row := escalationRow{Principal: p.Principal, Admin: p.Admin, Decision: decisionWords(p.Decision, p.AllowedIf)}
			for _, st := range p.Steps {
				row.Steps = append(row.Steps, escalationStepRow{Who: st.Principal.Name, Actions: strings.Join(st.Actions, " "), Gains: st.Gains,
					AllowedBy: statementNames(st.Explanation), Target: st.Target})
			}
			d.EscalationPaths = append(d.EscalationPaths, row)
		}
	}
	return nil
}

// statementNames names the Allow statements of steps: "policy Sid".
func statementNames(steps []policy.Step) string {
	var out []string
	seen := map[string]bool{}
	for _, s := range steps {
		k := s.Policy + " " + s.Statement
		if s.Kind == "boundary" {
			k = "boundary " + k
		}
		if s.Effect == "Allow" && !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return strings.Join(out, ", ")
}

// decisionWords is a decision, with the conditions of allowed_if.
func decisionWords(d policy.Decision, alts []policy.Alternative) string {
	if d != policy.Conditional {
		return string(d)
	}
	var out []string
	for _, a := range alts {
		var rs []string
		for _, r := range a.Requires {
			rs = append(rs, r.String())
		}
		out = append(out, strings.Join(rs, " and "))
	}
	return "allowed if " + strings.Join(out, "; or ")
}

// csvSafe keeps a spreadsheet from reading a value as a formula.
func csvSafe(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}

// ruleNames are the rules of findingRows, in its order.
var ruleNames = []string{"admins", "sso-admins", "outside-trust", "console-without-mfa", "stale-keys",
	"inactive-users", "unused-keys", "unused-roles", "inactive-sso-users", "unused-assignments", "unused-services",
	"public-exposure", "cross-account-exposure", "account-manage-keys", "open-admin-ports", "public-admin-instances"}

// findingRows are every rule's findings in g at now, flat, in rule order.
func findingRows(g *model.Graph, now time.Time) []findingRow {
	var rows []findingRow
	for _, a := range findings.Admins(g) {
		via := make([]string, 0, len(a.Through))
		for _, p := range a.Through {
			v := p.PolicyName + " (" + string(p.Provenance)
			if p.ViaName != "" {
				v += " via " + p.ViaName
			}
			via = append(via, v+")")
		}
		rows = append(rows, findingRow{"admins", "high", a.Principal, "administrator through " + strings.Join(via, "; ")})
	}
	for _, a := range findings.SSOAdmins(g) {
		rows = append(rows, findingRow{"sso-admins", "high", a.Principal, fmt.Sprintf("administrator in %d account(s) through Identity Center", len(a.Through))})
	}
	for _, t := range findings.OutsideTrust(g) {
		d := fmt.Sprintf("trusts %s %s (%s)", t.Trusted.Kind, t.Trusted.Value, t.Reason)
		if len(t.Trusted.Conditions) > 0 {
			d += ", on condition of " + strings.Join(t.Trusted.Conditions, ", ")
		}
		if t.Account != "" {
			d += " of account " + t.Account
		}
		rows = append(rows, findingRow{"outside-trust", "high", t.Role, d})
	}
	for _, c := range findings.ConsoleWithoutMFA(g) {
		rows = append(rows, findingRow{"console-without-mfa", "medium", c.Principal, "console password, no MFA device"})
	}
	for _, k := range findings.StaleKeys(g, now, staleDays) {
		rows = append(rows, findingRow{"stale-keys", "medium", k.User, fmt.Sprintf("key %s (%s) is %d days old", k.KeyID, k.Status, k.AgeDays)})
	}
	days := findings.DefaultUnusedDays
	for _, x := range findings.InactiveUsers(g, now, days) {
		rows = append(rows, findingRow{"inactive-users", "low", x.Principal, fmt.Sprintf("no console sign-in and no key use for %d days", x.IdleDays)})
	}
	for _, x := range findings.UnusedKeys(g, now, days) {
		rows = append(rows, findingRow{"unused-keys", "low", x.Principal, fmt.Sprintf("active key %s unused for %d days", x.KeyID, x.IdleDays)})
	}
	for _, x := range findings.UnusedRoles(g, now, days) {
		rows = append(rows, findingRow{"unused-roles", "low", x.Principal, fmt.Sprintf("unused for %d days", x.IdleDays)})
	}
	return append(rows, assetFindingRows(g)...)
}

// activityRows are the findings that need what the syncs of conn read
// beside the snapshot, as `warden findings` finds them: Identity Center
// users not signed in and assignments never used (from the stored
// CloudTrail events, when the connection reads activity), and services
// granted but unused (from the stored IAM last accessed data).
func (u *UI) activityRows(ctx context.Context, conn string, g *model.Graph, now time.Time) ([]findingRow, error) {
	events, read, err := access.StoredActivity(ctx, u.c.Store, conn, now.Add(-collect.MaxLookback))
	if err != nil {
		return nil, err
	}
	la, err := access.StoredLastAccessed(ctx, u.c.Store, conn)
	if err != nil {
		return nil, err
	}
	days := findings.DefaultUnusedDays
	f := (&render.Findings{}).Unused(g, now, days, events, read).LastAccessed(g, now, la)
	var rows []findingRow
	for _, x := range f.InactiveSSOUsers {
		d := "never signed in since " + f.ActivityFrom.UTC().Format(time.DateOnly)
		if x.LastSignIn != nil {
			d = fmt.Sprintf("no sign-in for %d days", x.IdleDays)
		}
		rows = append(rows, findingRow{"inactive-sso-users", "low", x.Principal, d})
	}
	for _, x := range f.UnusedAssignments {
		p := x.Principal
		p.AccountID = x.AccountID
		rows = append(rows, findingRow{"unused-assignments", "low", p, "permission set " + x.PermissionSetName + " never used in account " + x.AccountID})
	}
	for _, x := range f.UnusedServices {
		var names []string
		for _, s := range x.Unused {
			names = append(names, s.Namespace)
		}
		rows = append(rows, findingRow{"unused-services", "low", x.Principal,
			fmt.Sprintf("%d of %d granted services unused for %d days: %s", len(x.Unused), x.Granted, days, strings.Join(names, ", "))})
	}
	return rows, nil
}
