package diff

import (
	"context"
	"encoding/json"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/warden-iam/warden/internal/diff/difftest"
	"github.com/warden-iam/warden/internal/findings"
	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/store"
)

// writeSnapshots stores the graphs, in order, as snapshots of connection
// "default" in a new SQLite store.
func writeSnapshots(t testing.TB, graphs ...*model.Graph) (*store.DB, []*model.Snapshot) {
	t.Helper()
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var snaps []*model.Snapshot
	for i, g := range graphs {
		at := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC).Add(time.Duration(i) * 24 * time.Hour)
		snap := &model.Snapshot{ConnectionID: "default", StartedAt: at.Add(-time.Minute), FinishedAt: at, Status: model.StatusComplete}
		if _, err := st.WriteSnapshot(ctx, snap, g); err != nil {
			t.Fatal(err)
		}
		stored, err := st.Snapshot(ctx, snap.ID)
		if err != nil {
			t.Fatal(err)
		}
		snaps = append(snaps, stored)
	}
	return st, snaps
}

func texts[T any](items []T, text func(T) string) []string {
	out := []string{}
	for _, it := range items {
		out = append(out, text(it))
	}
	return out
}

func wantTexts(t *testing.T, section string, got, want []string) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\ngot  %q\nwant %q", section, got, want)
	}
}

func TestComputeEveryCategory(t *testing.T) {
	before, after := difftest.Estate()
	st, snaps := writeSnapshots(t, before, after)
	r, err := Compute(context.Background(), st, snaps[0], snaps[1], Filter{})
	if err != nil {
		t.Fatal(err)
	}
	wantTexts(t, "access", texts(r.Access, func(a AccessChange) string { return a.Text }), []string{
		"principal * gained assume role deploy through its trust policy in 111122223333",
		"alice gained AdministratorAccess via group admins in 111122223333",
		"alice gained membership of group admins in 111122223333",
		"ann gained permission set Admin via group eng in 111122223333",
		"ben gained permission set Admin via group eng in 111122223333",
		"group eng gained permission set Admin in 111122223333",
	})
	wantTexts(t, "administrators", texts(r.Administrators, func(a AdminChange) string { return a.Text }), []string{
		"alice in 111122223333 is a new administrator: AdministratorAccess via group admins",
	})
	wantTexts(t, "trust", texts(r.Trust, func(a TrustChange) string { return a.Text }), []string{
		"role deploy in 111122223333 now trusts anyone (*) with no condition",
	})
	wantTexts(t, "access keys", texts(r.AccessKeys, func(a KeyChange) string { return a.Text }), []string{
		"access key AKIAALICE00000000002 of alice in 111122223333 created (Active)",
		"access key AKIABOB0000000000001 of bob in 111122223333 deactivated (Inactive)",
		"access key AKIACAROL00000000001 of carol in 111122223333 deleted (Active)",
		"access key AKIAERIN000000000001 of erin in 444455556666 created (Active)",
	})
	wantTexts(t, "console and MFA", texts(r.ConsoleAndMFA, func(a CredentialChange) string { return a.Text }), []string{
		"bob in 111122223333 can now sign in to the console (password added)",
		"MFA of bob in 111122223333 added: device arn:aws:iam::111122223333:mfa/bob",
		"MFA of carol in 111122223333 added",
		"erin in 444455556666 can now sign in to the console (password added)",
	})
	wantTexts(t, "identity center", texts(r.IdentityCenter, func(a AssignmentChange) string { return a.Text }), []string{
		"permission set Admin in 111122223333 (prod) assigned to group eng, reaching ann, ben",
	})
	wantTexts(t, "findings", texts(r.Findings, func(a FindingChange) string { return a.Text }), []string{
		"carol in 111122223333 can sign in to the console without MFA (resolved)",
		"erin in 444455556666 can sign in to the console without MFA (new finding)",
		"access key AKIACAROL00000000001 of carol in 111122223333 is older than 90 days (resolved)",
		"access key AKIAERIN000000000001 of erin in 444455556666 is older than 90 days (new finding)",
	})
	wantTexts(t, "resources", texts(r.Resources, func(a ResourceDiff) string { return a.Text }), []string{
		"external principal * added",
		"access key AKIAALICE00000000002 in 111122223333 added",
		"access key AKIABOB0000000000001 in 111122223333 changed: access_key.status",
		"access key AKIACAROL00000000001 in 111122223333 removed",
		"iam policy deploy-policy in 111122223333 changed: policy.default_version_id, policy.document",
		"iam role deploy in 111122223333 changed: role.trusted_principals",
		"iam user bob in 111122223333 changed: user.console_access, user.mfa_active",
		"iam user carol in 111122223333 changed: user.mfa_active",
		"mfa device arn:aws:iam::111122223333:mfa/bob in 111122223333 added",
		"access key AKIAERIN000000000001 in 444455556666 added",
		"iam user erin in 444455556666 added",
	})
	wantTexts(t, "entitlements", texts(r.Entitlements, func(e EntitlementDiff) string { return e.Change + " " + e.ID }), []string{
		"added arn:aws:iam::111122223333:access-key/AKIAALICE00000000002#owner",
		"removed arn:aws:iam::111122223333:access-key/AKIACAROL00000000001#owner",
		"added arn:aws:iam::111122223333:mfa/bob#owner",
		"added arn:aws:iam::444455556666:access-key/AKIAERIN000000000001#owner",
	})
	// One item in full: its JSON shape.
	var alice AccessChange
	for _, a := range r.Access {
		if a.Principal.Name == "alice" && a.Entitlement == model.EntAttached {
			alice = a
		}
	}
	wantAlice := AccessChange{Change: Gained, Principal: Ref{ID: difftest.ARN(difftest.AcctA, "user", "alice"), Type: model.TypeIAMUser, Name: "alice", AccountID: difftest.AcctA},
		Entitlement: "attached", EntitlementID: difftest.ARN("aws", "policy", "AdministratorAccess") + "#attached",
		Resource:   Ref{ID: difftest.ARN("aws", "policy", "AdministratorAccess"), Type: model.TypeIAMPolicy, Name: "AdministratorAccess", AccountID: difftest.AcctA},
		Provenance: model.ViaGroup, Via: &Ref{ID: difftest.ARN(difftest.AcctA, "group", "admins"), Type: model.TypeIAMGroup, Name: "admins", AccountID: difftest.AcctA},
		AccountID: difftest.AcctA, Admin: true, Text: "alice gained AdministratorAccess via group admins in 111122223333"}
	if !reflect.DeepEqual(alice, wantAlice) {
		t.Errorf("alice's access change = %+v, want %+v", alice, wantAlice)
	}
	wantThrough := []findings.PolicyPath{{PolicyID: difftest.ARN("aws", "policy", "AdministratorAccess"), PolicyName: "AdministratorAccess", PolicyType: model.TypeIAMPolicy,
		Provenance: model.ViaGroup, ViaID: difftest.ARN(difftest.AcctA, "group", "admins"), ViaName: "admins"}}
	if len(r.Administrators) == 1 && !reflect.DeepEqual(r.Administrators[0].Through, wantThrough) {
		t.Errorf("alice's admin paths = %+v, want %+v", r.Administrators[0].Through, wantThrough)
	}
	wantSummary := Summary{Changed: true, PrincipalsGained: 5, AdministratorsAdded: []string{"alice"}, AdministratorsRemoved: []string{},
		TrustAdded: 1, KeysCreated: 2, KeysDeleted: 1, KeysDeactivated: 1, ConsoleAdded: 2, MFAAdded: 2, AssignmentsAdded: 1,
		FindingsNew: 2, FindingsResolved: 2, ResourcesAdded: 5, ResourcesRemoved: 1, ResourcesChanged: 5, EntitlementsAdded: 3, EntitlementsRemoved: 1}
	if !reflect.DeepEqual(r.Summary, wantSummary) {
		t.Errorf("summary = %+v\nwant      %+v", r.Summary, wantSummary)
	}

	// Backwards, the same changes read the other way.
	back, err := Compute(context.Background(), st, snaps[1], snaps[0], Filter{})
	if err != nil {
		t.Fatal(err)
	}
	wantTexts(t, "administrators backwards", texts(back.Administrators, func(a AdminChange) string { return a.Text }), []string{
		"alice in 111122223333 is no longer an administrator (held AdministratorAccess via group admins)",
	})
	wantTexts(t, "identity center backwards", texts(back.IdentityCenter, func(a AssignmentChange) string { return a.Text }), []string{
		"permission set Admin in 111122223333 (prod) no longer assigned to group eng, which reached ann, ben",
	})
	wantTexts(t, "trust backwards", texts(back.Trust, func(a TrustChange) string { return a.Text }), []string{
		"role deploy in 111122223333 no longer trusts anyone (*)",
	})
}

// TestDocumentStatements: a policy document's change is the statements
// removed and added, compared as normalized JSON (key order does not
// matter), and its other keys as fields.
func TestDocumentStatements(t *testing.T) {
	before, after := difftest.Estate()
	st, snaps := writeSnapshots(t, before, after)
	r, err := Compute(context.Background(), st, snaps[0], snaps[1], Filter{Only: OnlyResources})
	if err != nil {
		t.Fatal(err)
	}
	var got []FieldChange
	for _, d := range r.Resources {
		if d.Resource.Name == "deploy-policy" {
			got = d.Fields
		}
	}
	norm := func(s string) json.RawMessage {
		var v any
		json.Unmarshal([]byte(s), &v)
		b, _ := json.Marshal(v)
		return b
	}
	want := []FieldChange{
		{Path: "policy.default_version_id", Before: "v1", After: "v2", StatementsAdded: []json.RawMessage{}, StatementsRemoved: []json.RawMessage{}},
		{Path: "policy.document", StatementsAdded: []json.RawMessage{norm(difftest.StmtS3)}, StatementsRemoved: []json.RawMessage{norm(difftest.StmtS1)}},
	}
	if !reflect.DeepEqual(got, want) {
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		t.Errorf("deploy-policy fields:\ngot  %s\nwant %s", g, w)
	}
	if r.Access == nil || len(r.Access) != 0 || len(r.Administrators) != 0 || len(r.Findings) != 0 {
		t.Errorf("--only resources kept other sections: access %v, administrators %v, findings %v", r.Access, r.Administrators, r.Findings)
	}
}

func TestFilters(t *testing.T) {
	before, after := difftest.Estate()
	st, snaps := writeSnapshots(t, before, after)
	ctx := context.Background()

	// --account: only account B's changes.
	r, err := Compute(ctx, st, snaps[0], snaps[1], Filter{AccountID: difftest.AcctB})
	if err != nil {
		t.Fatal(err)
	}
	wantTexts(t, "account B", append(append(texts(r.AccessKeys, func(a KeyChange) string { return a.Text }),
		texts(r.ConsoleAndMFA, func(a CredentialChange) string { return a.Text })...),
		texts(r.Resources, func(a ResourceDiff) string { return a.Text })...), []string{
		"access key AKIAERIN000000000001 of erin in 444455556666 created (Active)",
		"erin in 444455556666 can now sign in to the console (password added)",
		"access key AKIAERIN000000000001 in 444455556666 added",
		"iam user erin in 444455556666 added",
	})
	if len(r.Access)+len(r.Administrators)+len(r.Trust)+len(r.IdentityCenter) != 0 || len(r.Findings) != 2 || len(r.Entitlements) != 1 {
		t.Errorf("account B: access %v admins %v trust %v assignments %v findings %v entitlements %v",
			r.Access, r.Administrators, r.Trust, r.IdentityCenter, r.Findings, r.Entitlements)
	}

	// --principal alice: her access, her admin status, her new key.
	r, err = Compute(ctx, st, snaps[0], snaps[1], Filter{Principals: []string{difftest.ARN(difftest.AcctA, "user", "alice")}})
	if err != nil {
		t.Fatal(err)
	}
	var all []string
	all = append(all, texts(r.Access, func(a AccessChange) string { return a.Text })...)
	all = append(all, texts(r.Administrators, func(a AdminChange) string { return a.Text })...)
	all = append(all, texts(r.AccessKeys, func(a KeyChange) string { return a.Text })...)
	all = append(all, texts(r.Resources, func(a ResourceDiff) string { return a.Text })...)
	wantTexts(t, "principal alice", all, []string{
		"alice gained AdministratorAccess via group admins in 111122223333",
		"alice gained membership of group admins in 111122223333",
		"alice in 111122223333 is a new administrator: AdministratorAccess via group admins",
		"access key AKIAALICE00000000002 of alice in 111122223333 created (Active)",
		"access key AKIAALICE00000000002 in 111122223333 added",
	})
	if len(r.Trust)+len(r.ConsoleAndMFA)+len(r.IdentityCenter)+len(r.Findings) != 0 {
		t.Errorf("principal alice kept others' changes: %+v", r)
	}

	// --principal ann: the assignment to her group reaches her.
	r, err = Compute(ctx, st, snaps[0], snaps[1], Filter{Principals: []string{"arn:aws:identitystore:::user/u-ann"}})
	if err != nil {
		t.Fatal(err)
	}
	wantTexts(t, "principal ann", append(texts(r.Access, func(a AccessChange) string { return a.Text }),
		texts(r.IdentityCenter, func(a AssignmentChange) string { return a.Text })...), []string{
		"ann gained permission set Admin via group eng in 111122223333",
		"permission set Admin in 111122223333 (prod) assigned to group eng, reaching ann, ben",
	})

	// --only findings: administrators, trust and findings only.
	r, err = Compute(ctx, st, snaps[0], snaps[1], Filter{Only: OnlyFindings})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Administrators) != 1 || len(r.Trust) != 1 || len(r.Findings) != 4 || len(r.Access)+len(r.AccessKeys)+len(r.Resources)+len(r.IdentityCenter) != 0 {
		t.Errorf("--only findings: %+v", r.Summary)
	}
	if _, err := Compute(ctx, st, snaps[0], snaps[1], Filter{Only: "keys"}); err == nil || !strings.Contains(err.Error(), "grants, resources, findings") {
		t.Errorf("--only keys: err %v, want one naming the sections", err)
	}
}

// TestAdminThroughPolicyEdit: a customer policy edited to allow "*" on "*"
// makes administrators of its holders, directly and through a group whose
// members hold no materialized grant of it.
func TestAdminThroughPolicyEdit(t *testing.T) {
	b := difftest.Builder{}
	b.Account(difftest.AcctA, "prod", true)
	dana := b.User(difftest.AcctA, "dana", false, false)
	ed := b.User(difftest.AcctA, "ed", false, false)
	ops := b.Group(difftest.AcctA, "ops")
	ci := b.Role(difftest.AcctA, "ci")
	pol := b.Policy(difftest.AcctA, "ops-policy", difftest.ReadDoc)
	b.Grant(ops, pol, model.EntAttached, model.ViaDirect, "")
	b.Grant(dana, ops, model.EntMember, model.ViaDirect, "") // membership only: the group's policy is derived
	b.Grant(ci, pol, model.EntAttached, model.ViaDirect, "")
	b.Grant(ed, ci, model.EntAssume, model.ViaTrust, "")
	before := b.Graph()
	b.Set(pol, func(r *model.Resource) {
		r.Policy = &model.PolicyAttrs{PolicyID: "ANPAops", DefaultVersionID: "v2", Document: difftest.AdminDoc}
	})
	after := b.Graph()
	st, snaps := writeSnapshots(t, before, after, after)
	r, err := Compute(context.Background(), st, snaps[0], snaps[1], Filter{})
	if err != nil {
		t.Fatal(err)
	}
	wantTexts(t, "administrators", texts(r.Administrators, func(a AdminChange) string { return a.Text }), []string{
		"role ci in 111122223333 is a new administrator: ops-policy directly",
		"dana in 111122223333 is a new administrator: ops-policy via group ops",
	})
	if len(r.Access) != 0 {
		t.Errorf("no grant changed, yet access = %v", r.Access)
	}
	// Nothing changed from the second to the third snapshot.
	r, err = Compute(context.Background(), st, snaps[1], snaps[2], Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Summary.Changed {
		t.Errorf("unchanged snapshots: summary %+v", r.Summary)
	}
	raw, _ := json.Marshal(r)
	var doc map[string]any
	json.Unmarshal(raw, &doc)
	for _, k := range []string{"access", "administrators", "trust", "access_keys", "console_and_mfa", "identity_center", "findings", "resources", "entitlements"} {
		if v, ok := doc[k].([]any); !ok || len(v) != 0 {
			t.Errorf("unchanged snapshots: %q is %v, want []", k, doc[k])
		}
	}
}

func TestRefusesTwoConnections(t *testing.T) {
	st, snaps := writeSnapshots(t, &model.Graph{}, &model.Graph{})
	other := *snaps[1]
	other.ConnectionID = "prod"
	_, err := Compute(context.Background(), st, snaps[0], &other, Filter{})
	if err == nil || !strings.Contains(err.Error(), "different connections") {
		t.Errorf("err = %v, want different connections refused", err)
	}
}

// TestAdminThroughGroup: a group gaining an admin policy makes
// administrators of its members, whose own grants did not change; joining
// a group without one makes no administrator.
func TestAdminThroughGroup(t *testing.T) {
	b := difftest.Builder{}
	b.Account(difftest.AcctA, "prod", true)
	fay := b.User(difftest.AcctA, "fay", false, false)
	gus := b.User(difftest.AcctA, "gus", false, false)
	sre := b.Group(difftest.AcctA, "sre")
	web := b.Group(difftest.AcctA, "web")
	admin := b.Policy("aws", "AdministratorAccess", difftest.AdminDoc)
	read := b.Policy("aws", "ReadOnlyAccess", difftest.ReadDoc)
	b.Grant(fay, sre, model.EntMember, model.ViaDirect, "")
	b.Grant(web, read, model.EntAttached, model.ViaDirect, "")
	before := b.Graph()
	b.Grant(sre, admin, model.EntAttached, model.ViaDirect, "")
	b.Member(gus, web, read)
	st, snaps := writeSnapshots(t, before, b.Graph())
	r, err := Compute(context.Background(), st, snaps[0], snaps[1], Filter{})
	if err != nil {
		t.Fatal(err)
	}
	wantTexts(t, "administrators", texts(r.Administrators, func(a AdminChange) string { return a.Text }), []string{
		"fay in 111122223333 is a new administrator: AdministratorAccess via group sre",
	})
	wantTexts(t, "access", texts(r.Access, func(a AccessChange) string { return a.Text }), []string{
		"gus gained ReadOnlyAccess via group web in 111122223333",
		"gus gained membership of group web in 111122223333",
		"group sre gained AdministratorAccess directly in 111122223333",
	})
}
