package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/warden-iam/warden/awsfake"
	"github.com/warden-iam/warden/internal/access"
	"github.com/warden-iam/warden/internal/inventory"
	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/render"
)

// orgDemo runs `warden demo --users 5 -o json` once for the demo's tests
// and returns its database and result.
var (
	orgDemoOnce sync.Once
	orgDemoDB   string
	orgDemoRes  demoResult
	orgDemoFail string
)

func orgDemo(t *testing.T) (string, *demoResult) {
	t.Helper()
	orgDemoOnce.Do(func() {
		dir, err := os.MkdirTemp("", "warden-demo-test-")
		if err != nil {
			orgDemoFail = err.Error()
			return
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
		orgDemoDB = filepath.Join(dir, "demo.db")
		out, errOut, code := runIn(t, orgDemoDB, "demo", "--users", "5", "-o", "json")
		if code != 0 {
			orgDemoFail = fmt.Sprintf("demo exited %d: %s", code, errOut)
			return
		}
		if err := json.Unmarshal([]byte(out), &orgDemoRes); err != nil {
			orgDemoFail = fmt.Sprintf("demo -o json is not its result: %v\n%s", err, out)
		}
	})
	if orgDemoFail != "" {
		t.Fatal(orgDemoFail)
	}
	return orgDemoDB, &orgDemoRes
}

// demoTruthAfter is the demo estate as the second sync reads it: the
// generated organization without the account the demo removed, and with
// the role Identity Center provisions in prod for the administrator
// permission set the demo assigns there (when it was not provisioned yet).
func demoTruthAfter(users int) []*awsfake.Account {
	truth := (awsfake.DemoEstate{Users: users}).Build()
	var admin *awsfake.PermissionSet
	for _, ps := range truth.IdentityCenter.PermissionSets {
		if ps.Name == awsfake.DemoAdminPermissionSet {
			admin = ps
		}
	}
	var out []*awsfake.Account
	for _, a := range truth.Accounts() {
		if a.ID == awsfake.DemoProdID {
			r := awsfake.ReservedRole(admin, a.ID)
			a.IAM.Roles[r.Name] = r
		}
		if a.ID != demoRemoved {
			out = append(out, a)
		}
	}
	return out
}

func TestDemoPrintsSummaryFindingsAndDiff(t *testing.T) {
	db := filepath.Join(t.TempDir(), "demo.db")
	out, errOut, code := runIn(t, db, "demo", "--users", "3")
	if code != 0 {
		t.Fatalf("demo exited %d: %s", code, errOut)
	}
	for _, want := range []string{
		"Sync", "Resources", "API calls", "iam:GetAccountAuthorizationDetails", "organizations:ListAccountsForParent", "sso:ListAccountAssignments",
		"What the demo changed through AWS", "organizations:RemoveAccountFromOrganization " + awsfake.DemoSandboxID,
		"Who holds the most access", "Administrators", "Access keys older than 90 days",
		"Console sign-in without MFA", "Roles trusting principals outside their account", "Identity Center administrators",
		"Changes from snapshot 1", "administrators added", awsfake.DemoNoMFAUser + " in " + awsfake.DemoProdID + " is a new administrator",
		"warden --db " + db + " show accounts", "warden --db " + db + " access " + awsfake.DemoAdminUser,
		"warden --db " + db + " diff", "warden --db " + db + " serve",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q:\n%s", want, out)
		}
	}
	// The suggested commands work on what the demo wrote.
	for _, args := range [][]string{{"show", "accounts"}, {"access", awsfake.DemoAdminUser}, {"diff"}, {"findings"}} {
		if out, errOut, code := runIn(t, db, args...); code != 0 || out == "" {
			t.Errorf("warden %s after the demo exited %d: %s", strings.Join(args, " "), code, errOut)
		}
	}
	// A second demo over the first one's file replaces it and says so.
	_, errOut, code = runIn(t, db, "demo", "--users", "3")
	if code != 0 || !strings.Contains(errOut, "replaced the earlier demo database "+db) {
		t.Fatalf("second demo exited %d, stderr:\n%s", code, errOut)
	}
	out, _, _ = runIn(t, db, "snapshots", "-o", "json")
	var snaps []json.RawMessage
	if err := json.Unmarshal([]byte(out), &snaps); err != nil || len(snaps) != 2 {
		t.Errorf("after two demos, snapshots = %s (err %v), want the second demo's two", out, err)
	}
}

func TestDemoJSONKeys(t *testing.T) {
	db := filepath.Join(t.TempDir(), "demo.db")
	out, errOut, code := runIn(t, db, "demo", "--users", "2", "-o", "json")
	if code != 0 {
		t.Fatalf("demo -o json exited %d: %s", code, errOut)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(out), &raw); err != nil {
		t.Fatalf("demo -o json is not one JSON document: %v\n%s", err, out)
	}
	for _, k := range []string{"first_sync", "changes", "summary", "findings", "diff", "next", "db", "connection"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("demo -o json lacks key %q", k)
		}
	}
	var res struct {
		Findings map[string]json.RawMessage `json:"findings"`
		Diff     map[string]json.RawMessage `json:"diff"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"top_holders", "admins", "stale_keys", "console_without_mfa", "outside_trust", "stale_after_days", "sso_admins"} {
		if _, ok := res.Findings[k]; !ok {
			t.Errorf("findings lack key %q", k)
		}
	}
	for _, k := range []string{"from", "to", "summary", "access", "administrators", "trust", "access_keys", "console_and_mfa", "identity_center", "findings", "resources", "entitlements"} {
		if _, ok := res.Diff[k]; !ok {
			t.Errorf("diff lacks key %q", k)
		}
	}
}

// TestDemoMatchesTheEstate: the demo's database holds exactly the estate's
// accounts and principals (the removed account gone from the second
// snapshot), the diff shows the demo's four changes, and the findings
// name every planted finding.
func TestDemoMatchesTheEstate(t *testing.T) {
	db, res := orgDemo(t)
	if res.FirstSync.Snapshot.Status != "complete" || res.Summary.Snapshot.Status != "complete" {
		t.Fatalf("the demo's snapshots are %s and %s, want complete", res.FirstSync.Snapshot.Status, res.Summary.Snapshot.Status)
	}
	if res.DB != db || res.Connection != "default" {
		t.Errorf("demo says it wrote connection %q of %s, want default of %s", res.Connection, res.DB, db)
	}
	accounts := demoTruthAfter(5)

	// Users of every account read, and nothing else.
	out, errOut, code := runIn(t, db, "show", "users", "-o", "json")
	if code != 0 {
		t.Fatalf("show users exited %d: %s", code, errOut)
	}
	var rows []inventory.UserRow
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatal(err)
	}
	var got, want []string
	for _, r := range rows {
		got = append(got, r.AccountID+"/"+r.Name)
	}
	for _, a := range accounts {
		for name := range a.IAM.Users {
			want = append(want, a.ID+"/"+name)
		}
	}
	if !reflect.DeepEqual(sortedCopy(got), sortedCopy(want)) {
		t.Errorf("users after the demo = %v\nwant %v", sortedCopy(got), sortedCopy(want))
	}
	// Roles likewise.
	out, errOut, code = runIn(t, db, "show", "roles", "-o", "json")
	if code != 0 {
		t.Fatalf("show roles exited %d: %s", code, errOut)
	}
	var roles []struct {
		Name      string `json:"name"`
		AccountID string `json:"account_id"`
	}
	if err := json.Unmarshal([]byte(out), &roles); err != nil {
		t.Fatal(err)
	}
	got, want = nil, nil
	for _, r := range roles {
		got = append(got, r.AccountID+"/"+r.Name)
	}
	for _, a := range accounts {
		for name := range a.IAM.Roles {
			want = append(want, a.ID+"/"+name)
		}
	}
	if !reflect.DeepEqual(sortedCopy(got), sortedCopy(want)) {
		t.Errorf("roles after the demo = %v\nwant %v", sortedCopy(got), sortedCopy(want))
	}
	// The accounts read: all five first, then all but the removed one.
	if a := res.FirstSync.Snapshot.Accounts; a.Read != 5 {
		t.Errorf("first sync read %d accounts, want 5 (management and 4 members)", a.Read)
	}
	if a := res.Summary.Snapshot.Accounts; a.Read != 4 {
		t.Errorf("second sync read %d accounts, want 4 (the removed one not)", a.Read)
	}

	// The diff: the new administrator, the new key, the new Identity Center assignment, the removed account's users gone.
	var admins, keys []string
	for _, c := range res.Diff.Administrators {
		admins = append(admins, c.Change+" "+c.Principal.AccountID+"/"+c.Principal.Name)
	}
	if !slices.Contains(admins, "added "+awsfake.DemoProdID+"/"+demoNewAdmin) {
		t.Errorf("diff administrators = %v, want %s in %s added", admins, demoNewAdmin, awsfake.DemoProdID)
	}
	for _, c := range res.Diff.AccessKeys {
		if c.Change == "created" {
			keys = append(keys, c.User.AccountID+"/"+c.User.Name+"/"+c.Key.Name)
		}
	}
	if len(keys) != 1 || !strings.HasPrefix(keys[0], awsfake.DemoDevID+"/"+demoNewKeyUser+"/AKIA") || !strings.Contains(res.Changes[1], strings.Split(keys[0], "/")[2]) {
		t.Errorf("diff keys created = %v, want the one key the demo created for %s (%s)", keys, demoNewKeyUser, res.Changes[1])
	}
	var assigned []string
	for _, a := range res.Diff.IdentityCenter {
		var reaches []string
		for _, r := range a.Reaches {
			reaches = append(reaches, r.Name)
		}
		assigned = append(assigned, fmt.Sprintf("%s %s/%s/%s %v", a.Change, a.AccountID, a.PermissionSet.Name, a.Principal.Name, reaches))
	}
	if want := fmt.Sprintf("added %s/%s/%s [%s]", awsfake.DemoProdID, awsfake.DemoAdminPermissionSet, awsfake.DemoNewSSOUser, awsfake.DemoNewSSOUser); !slices.Contains(assigned, want) {
		t.Errorf("diff Identity Center changes = %v, want %q", assigned, want)
	}
	removed := map[string]bool{}
	for _, r := range res.Diff.Resources {
		if r.Change == "removed" && r.Resource.Type == model.TypeIAMUser {
			removed[r.Resource.Name] = true
		}
	}
	var sandbox *awsfake.Account
	for _, a := range (awsfake.DemoEstate{Users: 5}).Build().Members {
		if a.ID == demoRemoved {
			sandbox = a
		}
	}
	if len(removed) != len(sandbox.IAM.Users) {
		t.Errorf("diff removed users %v, want the %d users of the removed account", removed, len(sandbox.IAM.Users))
	}
	for name := range sandbox.IAM.Users {
		if !removed[name] {
			t.Errorf("diff does not remove user %s of the removed account", name)
		}
	}

	// The planted findings.
	has := func(what string, list []string, want string) {
		t.Helper()
		if !slices.Contains(list, want) {
			t.Errorf("%s = %v, want it to list %s", what, list, want)
		}
	}
	var names []string
	for _, a := range res.Findings.Admins {
		names = append(names, a.AccountID+"/"+a.Name)
	}
	has("admins", names, awsfake.DemoProdID+"/"+awsfake.DemoAdminUser)
	has("admins", names, awsfake.DemoProdID+"/"+demoNewAdmin)
	names = nil
	for _, k := range res.Findings.StaleKeys {
		names = append(names, fmt.Sprintf("%s/%s/%d", k.User.AccountID, k.User.Name, k.AgeDays))
	}
	age := int(time.Since(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)).Hours()/24) + awsfake.DemoOldKeyAgeDays
	has("stale keys", names, fmt.Sprintf("%s/%s/%d", awsfake.DemoDevID, awsfake.DemoOldKeyUser, age))
	names = nil
	for _, u := range res.Findings.ConsoleWithoutMFA {
		names = append(names, u.AccountID+"/"+u.Name)
	}
	has("console without MFA", names, awsfake.DemoProdID+"/"+awsfake.DemoNoMFAUser)
	if slices.Contains(names, awsfake.DemoProdID+"/"+awsfake.DemoAdminUser) {
		t.Errorf("console without MFA lists %s, who has MFA", awsfake.DemoAdminUser)
	}
	names = nil
	for _, tr := range res.Findings.OutsideTrust {
		names = append(names, tr.Role.AccountID+"/"+tr.Role.Name+"/"+tr.Account)
	}
	has("outside trust", names, awsfake.DemoSecurityID+"/"+awsfake.DemoVendorRole+"/"+awsfake.DemoOutsideAccountID)
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

// BenchmarkDemo measures the whole demo in process: build the organization,
// sync it, change it, sync again, print (JSON, discarded).
func BenchmarkDemo(b *testing.B) {
	dir := b.TempDir()
	for i := 0; i < b.N; i++ {
		db := filepath.Join(dir, fmt.Sprintf("demo-%d.db", i))
		if code := run(context.Background(), []string{"--db", db, "demo", "-o", "json"}, io.Discard, io.Discard); code != 0 {
			b.Fatalf("demo exited %d", code)
		}
	}
}
