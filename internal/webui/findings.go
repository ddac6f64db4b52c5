package webui

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/warden-iam/warden/internal/findings"
	"github.com/warden-iam/warden/internal/model"
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
}

// severities orders the severities, worst first.
var severities = map[string]int{"high": 0, "medium": 1}

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
	d := findingsData{Conn: conn, Account: r.URL.Query().Get("account"), Severity: r.URL.Query().Get("severity"), Rule: r.URL.Query().Get("rule"), Rules: ruleNames}
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

// csvSafe keeps a spreadsheet from reading a value as a formula.
func csvSafe(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}

// ruleNames are the rules of findingRows, in its order.
var ruleNames = []string{"admins", "sso-admins", "outside-trust", "console-without-mfa", "stale-keys"}

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
	return rows
}
