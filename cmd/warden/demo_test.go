package main

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/warden-iam/warden/awsfake"
	"github.com/warden-iam/warden/internal/access"
	"github.com/warden-iam/warden/internal/inventory"
	"github.com/warden-iam/warden/internal/render"
)

func TestDemoPrintsSummaryAndFindings(t *testing.T) {
	demoDBPath(t)
	for _, want := range []string{
		"Sync", "Resources", "API calls", "iam:GetAccountAuthorizationDetails",
		"Who holds the most access", "Administrators", "Access keys older than 90 days",
		"Console sign-in without MFA", "Roles trusting principals outside their account",
		"warden --db ",
	} {
		if !strings.Contains(demoOut, want) {
			t.Errorf("demo output lacks %q:\n%s", want, demoOut)
		}
	}
}

func TestDemoJSON(t *testing.T) {
	db := filepath.Join(t.TempDir(), "demo.db")
	out, errOut, code := runIn(t, db, "demo", "--users", "30", "-o", "json")
	if code != 0 {
		t.Fatalf("demo -o json exited %d: %s", code, errOut)
	}
	var res struct {
		Summary struct {
			Snapshot struct {
				ID     int64          `json:"id"`
				Status string         `json:"status"`
				Counts map[string]int `json:"counts"`
			} `json:"snapshot"`
			APICalls int64 `json:"api_calls"`
		} `json:"summary"`
		Findings map[string]json.RawMessage `json:"findings"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("demo -o json is not JSON: %v\n%s", err, out)
	}
	if res.Summary.Snapshot.Status != "complete" || res.Summary.Snapshot.Counts["iam_user"] != 30 || res.Summary.APICalls == 0 {
		t.Errorf("summary = %+v, want a complete snapshot of 30 users made with API calls", res.Summary)
	}
	for _, k := range []string{"top_holders", "admins", "stale_keys", "console_without_mfa", "outside_trust", "stale_after_days"} {
		if _, ok := res.Findings[k]; !ok {
			t.Errorf("findings lack key %q", k)
		}
	}
	// A second demo replaces the database rather than adding to it.
	if _, errOut, code := runIn(t, db, "demo", "--users", "30"); code != 0 {
		t.Fatalf("second demo exited %d: %s", code, errOut)
	}
	out, _, _ = runIn(t, db, "snapshots", "-o", "json")
	var snaps []json.RawMessage
	if err := json.Unmarshal([]byte(out), &snaps); err != nil || len(snaps) != 1 {
		t.Errorf("after two demos, snapshots = %s (err %v), want exactly one", out, err)
	}
}

func TestShowUsersJSONMatchesEstate(t *testing.T) {
	acct := truth(t)
	out := mustWarden(t, "show", "users", "-o", "json")
	var rows []inventory.UserRow
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("show users -o json: %v", err)
	}
	if len(rows) != len(acct.IAM.Users) {
		t.Fatalf("show users listed %d users, the estate has %d", len(rows), len(acct.IAM.Users))
	}
	for _, r := range rows {
		u, ok := acct.IAM.Users[r.Name]
		if !ok {
			t.Errorf("show users lists %q, which the estate does not have", r.Name)
			continue
		}
		active := 0
		for _, k := range u.AccessKeys {
			if k.Status == "Active" {
				active++
			}
		}
		got := []any{sortedCopy(r.Groups), r.ConsoleAccess, r.MFAActive, r.AccessKeys, r.ActiveKeys, r.AccountID}
		want := []any{sortedCopy(u.Groups), u.LoginProfile != nil, len(u.MFADevices) > 0, len(u.AccessKeys), active, demoAccount}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("user %s: groups, console, MFA, keys, active keys, account = %v, want %v", r.Name, got, want)
		}
	}
	// The raw JSON keys are part of the documented interface.
	var raw []map[string]any
	if err := json.Unmarshal([]byte(out), &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"id", "name", "account_id", "groups", "console_access", "mfa_active", "credential_report",
		"access_keys", "active_access_keys", "password_last_used", "created_at"} {
		if _, ok := raw[0][k]; !ok {
			t.Errorf("show users -o json: key %q missing from %v", k, raw[0])
		}
	}
}

func TestShowTables(t *testing.T) {
	acct := truth(t)
	keys := 0
	for _, u := range acct.IAM.Users {
		keys += len(u.AccessKeys)
	}
	tests := []struct {
		what   string
		header string
		rows   int // -1: at least one
	}{
		{"users", "PASSWORD LAST USED", len(acct.IAM.Users)},
		{"groups", "MEMBERS", len(acct.IAM.Groups)},
		{"roles", "TRUSTED PRINCIPALS", len(acct.IAM.Roles)},
		{"policies", "ATTACHMENTS", -1},
		{"keys", "AGE (DAYS)", keys},
	}
	for _, tt := range tests {
		t.Run(tt.what, func(t *testing.T) {
			out := mustWarden(t, "show", tt.what)
			lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
			if !strings.Contains(lines[0], tt.header) {
				t.Errorf("show %s header = %q, want it to contain %q", tt.what, lines[0], tt.header)
			}
			if got := len(lines) - 1; tt.rows >= 0 && got != tt.rows || got < 1 {
				t.Errorf("show %s printed %d rows, want %d", tt.what, got, tt.rows)
			}
			var rows []json.RawMessage
			if err := json.Unmarshal([]byte(mustWarden(t, "show", tt.what, "-o", "json")), &rows); err != nil {
				t.Fatalf("show %s -o json: %v", tt.what, err)
			}
			if len(rows) != len(lines)-1 {
				t.Errorf("show %s: %d JSON rows but %d table rows", tt.what, len(rows), len(lines)-1)
			}
			if out := mustWarden(t, "show", tt.what, "--account", "999999999999", "-o", "json"); strings.TrimSpace(out) != "[]" {
				t.Errorf("show %s --account of another account = %s, want []", tt.what, out)
			}
		})
	}
}

// busiestUser is the estate user with the most groups (and at least one
// access key), by name on ties.
func busiestUser(t *testing.T, acct *awsfake.Account) *awsfake.User {
	var best *awsfake.User
	for _, u := range acct.IAM.Users {
		if len(u.AccessKeys) == 0 {
			continue
		}
		if best == nil || len(u.Groups) > len(best.Groups) || len(u.Groups) == len(best.Groups) && u.Name < best.Name {
			best = u
		}
	}
	if best == nil || len(best.Groups) == 0 {
		t.Fatal("the demo estate has no user with groups and keys to look at")
	}
	return best
}

func policyName(arn string) string { return arn[strings.LastIndexByte(arn, '/')+1:] }

func TestAccessMatchesEstate(t *testing.T) {
	acct := truth(t)
	u := busiestUser(t, acct)
	out := mustWarden(t, "access", u.Name, "-o", "json")
	var got access.Access
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("access -o json: %v", err)
	}
	if got.Principal.Name != u.Name || got.Principal.ID != u.ARN {
		t.Errorf("access resolved %q to %+v, want %s", u.Name, got.Principal, u.ARN)
	}
	var groups []string
	for _, g := range got.Groups {
		groups = append(groups, g.Name)
	}
	if !reflect.DeepEqual(sortedCopy(groups), sortedCopy(u.Groups)) {
		t.Errorf("groups = %v, want %v", groups, u.Groups)
	}
	var keys, wantKeys []string
	for _, k := range got.AccessKeys {
		keys = append(keys, k.Name+"/"+k.Status)
	}
	for _, k := range u.AccessKeys {
		wantKeys = append(wantKeys, k.ID+"/"+k.Status)
	}
	if !reflect.DeepEqual(sortedCopy(keys), sortedCopy(wantKeys)) {
		t.Errorf("access keys = %v, want %v", keys, wantKeys)
	}
	var paths, wantPaths []string
	for _, p := range got.Policies {
		paths = append(paths, p.Name+"|"+p.Path.String())
	}
	for _, arn := range u.AttachedPolicies {
		wantPaths = append(wantPaths, policyName(arn)+"|direct")
	}
	for name := range u.InlinePolicies {
		wantPaths = append(wantPaths, name+"|inline")
	}
	for _, gname := range u.Groups {
		g := acct.IAM.Groups[gname]
		for _, arn := range g.AttachedPolicies {
			wantPaths = append(wantPaths, policyName(arn)+"|group "+gname)
		}
		for name := range g.InlinePolicies {
			wantPaths = append(wantPaths, name+"|group "+gname)
		}
	}
	if !reflect.DeepEqual(sortedCopy(paths), sortedCopy(wantPaths)) {
		t.Errorf("policies and paths =\n%v\nwant\n%v", sortedCopy(paths), sortedCopy(wantPaths))
	}

	table := mustWarden(t, "access", u.ARN)
	for _, want := range []string{"User " + u.Name, "Groups (", "Policies (", "Access keys (", u.AccessKeys[0].ID} {
		if !strings.Contains(table, want) {
			t.Errorf("access table lacks %q:\n%s", want, table)
		}
	}
}

func TestAccessGroupListsMembers(t *testing.T) {
	acct := truth(t)
	var g *awsfake.Group
	for _, name := range sortedKeys(acct.IAM.Groups) {
		if len(acct.IAM.Groups[name].Members) > 0 {
			g = acct.IAM.Groups[name]
			break
		}
	}
	if g == nil {
		t.Fatal("the demo estate has no group with members")
	}
	var got access.Access
	if err := json.Unmarshal([]byte(mustWarden(t, "access", g.ARN, "-o", "json")), &got); err != nil {
		t.Fatal(err)
	}
	var members []string
	for _, m := range got.Members {
		members = append(members, m.Name)
	}
	if !reflect.DeepEqual(sortedCopy(members), sortedCopy(g.Members)) {
		t.Errorf("members of %s = %v, want %v", g.Name, members, g.Members)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func TestExportCSV(t *testing.T) {
	acct := truth(t)
	out := mustWarden(t, "export", "--format", "csv")
	records, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatalf("export csv: %v", err)
	}
	if !reflect.DeepEqual(records[0], render.GrantColumns) {
		t.Fatalf("csv header = %v, want %v", records[0], render.GrantColumns)
	}
	col := make(map[string]int)
	for i, c := range records[0] {
		col[c] = i
	}
	memberships := make(map[string]bool)
	for _, r := range records[1:] {
		if r[col["entitlement"]] == "member" && r[col["provenance"]] == "direct" {
			memberships[r[col["principal_name"]]+" in "+r[col["resource_name"]]] = true
		}
	}
	want := 0
	for _, u := range acct.IAM.Users {
		for _, g := range u.Groups {
			want++
			if !memberships[u.Name+" in "+g] {
				t.Errorf("csv lacks the membership of %s in %s", u.Name, g)
			}
		}
	}
	if len(memberships) != want {
		t.Errorf("csv has %d memberships, the estate %d", len(memberships), want)
	}

	// The JSON export holds the same grants, written to --out.
	file := filepath.Join(t.TempDir(), "export.json")
	if out := mustWarden(t, "export", "--format", "json", "--out", file); out != "" {
		t.Errorf("export --out printed %q, want nothing", out)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	assertNoSecrets(t, "export --format json file", string(data))
	var exp struct {
		Snapshot struct{ ID int64 } `json:"snapshot"`
		Graph    struct {
			Resources []json.RawMessage `json:"resources"`
			Grants    []json.RawMessage `json:"grants"`
		} `json:"graph"`
	}
	if err := json.Unmarshal(data, &exp); err != nil {
		t.Fatalf("export json: %v", err)
	}
	if exp.Snapshot.ID == 0 || len(exp.Graph.Grants) != len(records)-1 || len(exp.Graph.Resources) == 0 {
		t.Errorf("json export: snapshot %d, %d grants, %d resources; csv has %d grants",
			exp.Snapshot.ID, len(exp.Graph.Grants), len(exp.Graph.Resources), len(records)-1)
	}
}

func TestFindingsAndSnapshots(t *testing.T) {
	var f render.Findings
	if err := json.Unmarshal([]byte(mustWarden(t, "findings", "--top", "3", "-o", "json")), &f); err != nil {
		t.Fatal(err)
	}
	if len(f.TopHolders) != 3 || f.StaleAfterDays != 90 {
		t.Errorf("findings --top 3: %d top holders, stale after %d days", len(f.TopHolders), f.StaleAfterDays)
	}
	out := mustWarden(t, "snapshots")
	if !strings.Contains(out, "complete") || !strings.Contains(out, "default") {
		t.Errorf("snapshots table lacks the demo snapshot:\n%s", out)
	}
	if out := mustWarden(t, "version"); !strings.Contains(out, "warden") {
		t.Errorf("version = %q", out)
	}
}
