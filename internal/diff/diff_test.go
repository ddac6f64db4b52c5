package diff

import (
	"context"
	"encoding/json"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/warden-iam/warden/internal/findings"
	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/store"
)

const (
	acctA = "111122223333"
	acctB = "444455556666"
	outer = "999988887777"
)

var (
	old    = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	recent = time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC)
)

// builder assembles a hand-made graph.
type builder struct{ g model.Graph }

func arn(acct, kind, name string) string { return "arn:aws:iam::" + acct + ":" + kind + "/" + name }

func (b *builder) add(r model.Resource, ents ...string) string {
	b.g.Resources = append(b.g.Resources, r)
	for _, e := range ents {
		b.g.Entitlements = append(b.g.Entitlements, model.Entitlement{ID: model.EntitlementID(r.ID, e), ResourceID: r.ID, Name: e})
	}
	return r.ID
}

func (b *builder) grant(principal, resource, ent string, prov model.Provenance, via string) {
	b.g.Grants = append(b.g.Grants, model.Grant{PrincipalID: principal, EntitlementID: model.EntitlementID(resource, ent), Provenance: prov, ViaID: via})
}

func (b *builder) account(id, name string, rootMFA bool) string {
	return b.add(model.Resource{ID: model.AccountResourceID(id), Type: model.TypeAccount, AccountID: id, Name: name,
		Account: &model.AccountAttrs{RootMFAActive: rootMFA, CredentialReport: true}})
}

func (b *builder) user(acct, name string, console, mfa bool) string {
	id := arn(acct, "user", name)
	return b.add(model.Resource{ID: id, Type: model.TypeIAMUser, AccountID: acct, Name: name, ARN: id,
		User: &model.UserAttrs{UserID: "AIDA" + name, ConsoleAccess: console, MFAActive: mfa, CredentialReport: true}})
}

func (b *builder) group(acct, name string) string {
	id := arn(acct, "group", name)
	return b.add(model.Resource{ID: id, Type: model.TypeIAMGroup, AccountID: acct, Name: name, ARN: id, Group: &model.GroupAttrs{GroupID: "AGPA" + name}}, model.EntMember)
}

func (b *builder) policy(acct, name, doc string) string {
	id := arn(acct, "policy", name)
	if acct == "aws" {
		acct = acctA
	}
	return b.add(model.Resource{ID: id, Type: model.TypeIAMPolicy, AccountID: acct, Name: name, ARN: id,
		Policy: &model.PolicyAttrs{PolicyID: "ANPA" + name, DefaultVersionID: "v1", Document: doc, IsAttachable: true}}, model.EntAttached)
}

func (b *builder) role(acct, name string, trusted ...model.TrustedEntity) string {
	id := arn(acct, "role", name)
	return b.add(model.Resource{ID: id, Type: model.TypeIAMRole, AccountID: acct, Name: name, ARN: id,
		Role: &model.RoleAttrs{RoleID: "AROA" + name, TrustPolicy: `{}`, TrustedPrincipals: trusted}}, model.EntAssume)
}

func (b *builder) key(acct, user, keyID, status string, created time.Time) string {
	id := model.AccessKeyID(acct, keyID)
	b.add(model.Resource{ID: id, Type: model.TypeAccessKey, AccountID: acct, Name: keyID, ParentID: user, CreatedAt: created,
		AccessKey: &model.AccessKeyAttrs{Status: status}}, model.EntOwner)
	b.grant(user, id, model.EntOwner, model.ViaDirect, "")
	return id
}

func (b *builder) mfa(acct, user, serial string) string {
	id := model.MFADeviceID(acct, serial)
	b.add(model.Resource{ID: id, Type: model.TypeMFADevice, AccountID: acct, Name: serial, ParentID: user, MFADevice: &model.MFADeviceAttrs{Virtual: true, SerialName: serial}}, model.EntOwner)
	b.grant(user, id, model.EntOwner, model.ViaDirect, "")
	return id
}

// member makes user a member of group and gives it the group's policies.
func (b *builder) member(user, group string, policies ...string) {
	b.grant(user, group, model.EntMember, model.ViaDirect, "")
	for _, p := range policies {
		b.grant(user, p, model.EntAttached, model.ViaGroup, group)
	}
}

func (b *builder) graph() *model.Graph {
	g := b.g
	// A deep copy: later changes to the builder must not reach this graph.
	raw, _ := json.Marshal(b.g.Resources)
	g.Resources = nil
	if err := json.Unmarshal(raw, &g.Resources); err != nil {
		panic(err)
	}
	g.Entitlements = append([]model.Entitlement(nil), g.Entitlements...)
	g.Grants = append([]model.Grant(nil), g.Grants...)
	g.Sort()
	return &g
}

const (
	adminDoc = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
	readDoc  = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:Get*","s3:List*"],"Resource":"*"}]}`
	stmtS1   = `{"Effect":"Allow","Action":"ec2:*","Resource":"*"}`
	stmtS2   = `{"Sid":"Logs","Effect":"Allow","Action":"logs:*","Resource":"*"}`
	stmtS3   = `{"Resource":"arn:aws:s3:::deploy/*","Effect":"Allow","Action":"s3:PutObject"}`
)

// estate returns the graphs of two snapshots of one organization, the
// second with one change of every kind the report knows.
func estate() (before, after *model.Graph) {
	var b builder
	b.account(acctA, "prod", true)
	b.account(acctB, "dev", true)
	alice := b.user(acctA, "alice", true, true)
	bob := b.user(acctA, "bob", false, false)
	carol := b.user(acctA, "carol", true, false)
	admins := b.group(acctA, "admins")
	devs := b.group(acctA, "devs")
	adminPol := b.policy("aws", "AdministratorAccess", adminDoc)
	readPol := b.policy("aws", "ReadOnlyAccess", readDoc)
	deployPol := b.policy(acctA, "deploy-policy", `{"Version":"2012-10-17","Statement":[`+stmtS1+`,`+stmtS2+`]}`)
	deploy := b.role(acctA, "deploy", model.TrustedEntity{Kind: "AWS", Value: arn(acctA, "user", "alice")})
	b.grant(alice, deploy, model.EntAssume, model.ViaTrust, "")
	b.grant(admins, adminPol, model.EntAttached, model.ViaDirect, "")
	b.grant(devs, readPol, model.EntAttached, model.ViaDirect, "")
	b.grant(deploy, deployPol, model.EntAttached, model.ViaDirect, "")
	b.member(alice, devs, readPol)
	b.member(bob, devs, readPol)
	b.key(acctA, alice, "AKIAALICE00000000001", "Active", recent)
	b.key(acctA, bob, "AKIABOB0000000000001", "Active", recent)
	b.key(acctA, carol, "AKIACAROL00000000001", "Active", old)
	// Identity Center: two people in a group, a permission set.
	ann := b.add(model.Resource{ID: "arn:aws:identitystore:::user/u-ann", Type: model.TypeSSOUser, Name: "ann", SSOUser: &model.SSOUserAttrs{UserID: "u-ann"}})
	ben := b.add(model.Resource{ID: "arn:aws:identitystore:::user/u-ben", Type: model.TypeSSOUser, Name: "ben", SSOUser: &model.SSOUserAttrs{UserID: "u-ben"}})
	eng := b.add(model.Resource{ID: "arn:aws:identitystore:::group/g-eng", Type: model.TypeSSOGroup, Name: "eng", SSOGroup: &model.SSOGroupAttrs{GroupID: "g-eng"}}, model.EntMember)
	ps := b.add(model.Resource{ID: "arn:aws:sso:::permissionSet/ssoins-1/ps-admin", Type: model.TypePermissionSet, Name: "Admin",
		PermissionSet: &model.PermissionSetAttrs{ManagedPolicies: []string{adminPol}}}, model.AssignmentEntitlement(acctA))
	b.grant(ann, eng, model.EntMember, model.ViaDirect, "")
	b.grant(ben, eng, model.EntMember, model.ViaDirect, "")
	before = b.graph()

	// alice joins admins.
	b.member(alice, admins, adminPol)
	// bob's key is deactivated, alice gets a second key, carol's old key
	// is deleted.
	set := func(id string, f func(r *model.Resource)) {
		for i := range b.g.Resources {
			if b.g.Resources[i].ID == id {
				f(&b.g.Resources[i])
			}
		}
	}
	set(model.AccessKeyID(acctA, "AKIABOB0000000000001"), func(r *model.Resource) { r.AccessKey = &model.AccessKeyAttrs{Status: "Inactive"} })
	b.key(acctA, alice, "AKIAALICE00000000002", "Active", recent)
	b.remove(model.AccessKeyID(acctA, "AKIACAROL00000000001"))
	// bob gets a password and an MFA device; carol turns MFA on (seen only
	// in the credential report).
	set(bob, func(r *model.Resource) {
		r.User = &model.UserAttrs{UserID: "AIDAbob", ConsoleAccess: true, MFAActive: true, CredentialReport: true}
	})
	b.mfa(acctA, bob, "arn:aws:iam::"+acctA+":mfa/bob")
	set(carol, func(r *model.Resource) {
		r.User = &model.UserAttrs{UserID: "AIDAcarol", ConsoleAccess: true, MFAActive: true, CredentialReport: true}
	})
	// The role deploy now trusts anyone.
	set(deploy, func(r *model.Resource) {
		r.Role.TrustedPrincipals = append(r.Role.TrustedPrincipals, model.TrustedEntity{Kind: "*", Value: "*"})
	})
	anyone := b.add(model.Resource{ID: model.ExternalPrincipalID("*", "*"), Type: model.TypeExternalPrincipal, Name: "*"})
	b.grant(anyone, deploy, model.EntAssume, model.ViaTrust, "")
	// The group eng is assigned the permission set in account A.
	b.grant(eng, ps, model.AssignmentEntitlement(acctA), model.ViaDirect, "")
	b.grant(ann, ps, model.AssignmentEntitlement(acctA), model.ViaGroup, eng)
	b.grant(ben, ps, model.AssignmentEntitlement(acctA), model.ViaGroup, eng)
	// deploy-policy loses a statement and gains one.
	set(deployPol, func(r *model.Resource) {
		r.Policy = &model.PolicyAttrs{PolicyID: "ANPAdeploy-policy", DefaultVersionID: "v2", IsAttachable: true,
			Document: `{"Version":"2012-10-17","Statement":[` + stmtS2 + `,` + stmtS3 + `]}`}
	})
	// In account B: a new console user without MFA, with an old key.
	erin := b.user(acctB, "erin", true, false)
	b.key(acctB, erin, "AKIAERIN000000000001", "Active", old)
	after = b.graph()
	return before, after
}

func (b *builder) remove(id string) {
	var rs []model.Resource
	for _, r := range b.g.Resources {
		if r.ID != id {
			rs = append(rs, r)
		}
	}
	var es []model.Entitlement
	for _, e := range b.g.Entitlements {
		if e.ResourceID != id {
			es = append(es, e)
		}
	}
	var gs []model.Grant
	for _, g := range b.g.Grants {
		if res, _ := splitEntitlement(g.EntitlementID); res != id && g.PrincipalID != id {
			gs = append(gs, g)
		}
	}
	b.g.Resources, b.g.Entitlements, b.g.Grants = rs, es, gs
}

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
	before, after := estate()
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
	wantAlice := AccessChange{Change: Gained, Principal: Ref{ID: arn(acctA, "user", "alice"), Type: model.TypeIAMUser, Name: "alice", AccountID: acctA},
		Entitlement: "attached", EntitlementID: arn("aws", "policy", "AdministratorAccess") + "#attached",
		Resource:   Ref{ID: arn("aws", "policy", "AdministratorAccess"), Type: model.TypeIAMPolicy, Name: "AdministratorAccess", AccountID: acctA},
		Provenance: model.ViaGroup, Via: &Ref{ID: arn(acctA, "group", "admins"), Type: model.TypeIAMGroup, Name: "admins", AccountID: acctA},
		AccountID: acctA, Admin: true, Text: "alice gained AdministratorAccess via group admins in 111122223333"}
	if !reflect.DeepEqual(alice, wantAlice) {
		t.Errorf("alice's access change = %+v, want %+v", alice, wantAlice)
	}
	wantThrough := []findings.PolicyPath{{PolicyID: arn("aws", "policy", "AdministratorAccess"), PolicyName: "AdministratorAccess", PolicyType: model.TypeIAMPolicy,
		Provenance: model.ViaGroup, ViaID: arn(acctA, "group", "admins"), ViaName: "admins"}}
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
	before, after := estate()
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
		{Path: "policy.document", StatementsAdded: []json.RawMessage{norm(stmtS3)}, StatementsRemoved: []json.RawMessage{norm(stmtS1)}},
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
	before, after := estate()
	st, snaps := writeSnapshots(t, before, after)
	ctx := context.Background()

	// --account: only account B's changes.
	r, err := Compute(ctx, st, snaps[0], snaps[1], Filter{AccountID: acctB})
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
	r, err = Compute(ctx, st, snaps[0], snaps[1], Filter{Principals: []string{arn(acctA, "user", "alice")}})
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
	var b builder
	b.account(acctA, "prod", true)
	dana := b.user(acctA, "dana", false, false)
	ed := b.user(acctA, "ed", false, false)
	ops := b.group(acctA, "ops")
	ci := b.role(acctA, "ci")
	pol := b.policy(acctA, "ops-policy", readDoc)
	b.grant(ops, pol, model.EntAttached, model.ViaDirect, "")
	b.grant(dana, ops, model.EntMember, model.ViaDirect, "") // membership only: the group's policy is derived
	b.grant(ci, pol, model.EntAttached, model.ViaDirect, "")
	b.grant(ed, ci, model.EntAssume, model.ViaTrust, "")
	before := b.graph()
	for i := range b.g.Resources {
		if b.g.Resources[i].ID == pol {
			b.g.Resources[i].Policy = &model.PolicyAttrs{PolicyID: "ANPAops", DefaultVersionID: "v2", Document: adminDoc}
		}
	}
	after := b.graph()
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
