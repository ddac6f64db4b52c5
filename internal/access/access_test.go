package access

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/store"
)

const acct, acct2 = "111111111111", "222222222222"

func arn(account, kind, name string) string {
	return "arn:aws:iam::" + account + ":" + kind + "/" + name
}

// smallGraph: alice in devs (ReadOnly attached to devs) with one active and
// one inactive key, the active one granted to her; bob alone; a user carol
// in each of two accounts.
func smallGraph() *model.Graph {
	devs, readOnly := arn(acct, "group", "devs"), arn(acct, "policy", "ReadOnly")
	alice, bob := arn(acct, "user", "alice"), arn(acct, "user", "bob")
	created := time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)
	g := &model.Graph{
		Resources: []model.Resource{
			{ID: bob, ARN: bob, Type: model.TypeIAMUser, AccountID: acct, Name: "bob"},
			{ID: alice, ARN: alice, Type: model.TypeIAMUser, AccountID: acct, Name: "alice", CreatedAt: created},
			{ID: arn(acct, "user", "carol"), ARN: arn(acct, "user", "carol"), Type: model.TypeIAMUser, AccountID: acct, Name: "carol"},
			{ID: arn(acct2, "user", "carol"), ARN: arn(acct2, "user", "carol"), Type: model.TypeIAMUser, AccountID: acct2, Name: "carol"},
			{ID: devs, ARN: devs, Type: model.TypeIAMGroup, AccountID: acct, Name: "devs"},
			{ID: readOnly, ARN: readOnly, Type: model.TypeIAMPolicy, AccountID: acct, Name: "ReadOnly", Policy: &model.PolicyAttrs{AttachmentCount: 1}},
			{ID: model.AccessKeyID(acct, "AKIA1"), Type: model.TypeAccessKey, AccountID: acct, Name: "AKIA1", ParentID: alice,
				CreatedAt: created, AccessKey: &model.AccessKeyAttrs{Status: "Active", LastUsedService: "N/A"}},
			{ID: model.AccessKeyID(acct, "AKIA2"), Type: model.TypeAccessKey, AccountID: acct, Name: "AKIA2", ParentID: alice,
				CreatedAt: created, AccessKey: &model.AccessKeyAttrs{Status: "Inactive"}},
		},
		Grants: []model.Grant{
			{PrincipalID: alice, EntitlementID: model.EntitlementID(devs, model.EntMember), Provenance: model.ViaDirect},
			{PrincipalID: devs, EntitlementID: model.EntitlementID(readOnly, model.EntAttached), Provenance: model.ViaDirect},
			{PrincipalID: alice, EntitlementID: model.EntitlementID(readOnly, model.EntAttached), Provenance: model.ViaGroup, ViaID: devs},
			{PrincipalID: alice, EntitlementID: model.EntitlementID(model.AccessKeyID(acct, "AKIA1"), model.EntOwner), Provenance: model.ViaDirect},
		},
	}
	for _, gr := range g.Grants {
		i := strings.LastIndexByte(gr.EntitlementID, '#')
		g.Entitlements = append(g.Entitlements, model.Entitlement{ID: gr.EntitlementID, ResourceID: gr.EntitlementID[:i], Name: gr.EntitlementID[i+1:]})
	}
	return g
}

func TestNewAccessGroupsGrants(t *testing.T) {
	g := smallGraph()
	byID := make(map[string]model.Resource)
	for _, r := range g.Resources {
		byID[r.ID] = r
	}
	var held []store.HeldGrant
	for _, gr := range g.Grants {
		if gr.PrincipalID == arn(acct, "user", "alice") {
			held = append(held, store.HeldGrant{Grant: gr, Resource: byID[gr.EntitlementID[:strings.LastIndexByte(gr.EntitlementID, '#')]]})
		}
	}
	alice := byID[arn(acct, "user", "alice")]
	a := NewAccess(&alice, held, nil)
	if len(a.Groups) != 1 || a.Groups[0].Name != "devs" {
		t.Errorf("groups = %+v, want devs", a.Groups)
	}
	if len(a.Policies) != 1 || a.Policies[0].Name != "ReadOnly" || a.Policies[0].Path.String() != "group devs" {
		t.Errorf("policies = %+v, want ReadOnly through group devs", a.Policies)
	}
	if len(a.AccessKeys) != 1 || a.AccessKeys[0].Name != "AKIA1" || a.AccessKeys[0].Status != "Active" {
		t.Errorf("access keys = %+v, want AKIA1 active", a.AccessKeys)
	}
	if a.Members == nil || a.Roles == nil || a.TrustedBy == nil || a.Other == nil || len(a.Other) != 0 {
		t.Errorf("empty lists must be present and empty: %+v", a)
	}
}

// openSmall writes smallGraph as one snapshot of a new SQLite store.
func openSmall(t *testing.T) (*store.DB, int64) {
	t.Helper()
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	at := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	snap := &model.Snapshot{ConnectionID: "default", StartedAt: at.Add(-time.Minute), FinishedAt: at, Status: model.StatusComplete}
	if _, err := st.WriteSnapshot(ctx, snap, smallGraph()); err != nil {
		t.Fatal(err)
	}
	return st, snap.ID
}

func refNames(refs []Ref) []string {
	out := []string{}
	for _, r := range refs {
		out = append(out, r.Name)
	}
	return out
}

func TestQueryThroughStore(t *testing.T) {
	st, snap := openSmall(t)
	ctx := context.Background()

	ans, err := Query(ctx, st, snap, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if ans.SSO != nil || ans.IAM == nil {
		t.Fatalf("alice: answer %+v, want the IAM view only", ans)
	}
	a := ans.IAM
	if a.Principal.ID != arn(acct, "user", "alice") || a.ARN != arn(acct, "user", "alice") {
		t.Errorf("alice: principal %+v arn %q", a.Principal, a.ARN)
	}
	if got := refNames(a.Groups); !reflect.DeepEqual(got, []string{"devs"}) {
		t.Errorf("alice: groups %v, want [devs]", got)
	}
	wantPol := []Policy{{Ref: Ref{ID: arn(acct, "policy", "ReadOnly"), Type: model.TypeIAMPolicy, Name: "ReadOnly", AccountID: acct},
		Path: Path{Provenance: model.ViaGroup, ViaID: arn(acct, "group", "devs"), ViaName: "devs"}}}
	if !reflect.DeepEqual(a.Policies, wantPol) {
		t.Errorf("alice: policies %+v, want %+v", a.Policies, wantPol)
	}
	if len(a.AccessKeys) != 1 || a.AccessKeys[0].Name != "AKIA1" || a.AccessKeys[0].Status != "Active" {
		t.Errorf("alice: access keys %+v, want AKIA1 active", a.AccessKeys)
	}

	ans, err = Query(ctx, st, snap, "devs")
	if err != nil {
		t.Fatal(err)
	}
	if got := refNames(ans.IAM.Members); !reflect.DeepEqual(got, []string{"alice"}) {
		t.Errorf("devs: members %v, want [alice]", got)
	}
	if len(ans.IAM.Policies) != 1 || ans.IAM.Policies[0].Path.String() != "direct" {
		t.Errorf("devs: policies %+v, want ReadOnly direct", ans.IAM.Policies)
	}

	_, err = Query(ctx, st, snap, "nobody")
	var nf *NotFoundError
	if !errors.As(err, &nf) || err.Error() != `no user, group or role matches "nobody" in snapshot `+strconv.FormatInt(snap, 10) {
		t.Errorf("nobody: error %v, want a NotFoundError", err)
	}

	_, err = Query(ctx, st, snap, "carol")
	var amb *AmbiguousError
	if !errors.As(err, &amb) || len(amb.Matches) != 2 || err.Error() != `"carol" matches 2 principals` {
		t.Errorf("carol: error %v, want an AmbiguousError of 2", err)
	}

	// An access key ID answers with the key and its owner (by the key's
	// parent, whether or not the owner grant was read).
	for _, key := range []string{"AKIA1", "AKIA2"} {
		ans, err = Query(ctx, st, snap, key)
		if err != nil {
			t.Fatal(err)
		}
		if ans.Key == nil || ans.Key.Name != key || ans.Key.ID != model.AccessKeyID(acct, key) || ans.IAM == nil || ans.IAM.Principal.Name != "alice" {
			t.Errorf("%s: answer key %+v owner %+v, want the key and alice", key, ans.Key, ans.IAM)
		}
	}
	if _, err = Query(ctx, st, snap, "AKIA9"); !errors.As(err, &nf) {
		t.Errorf("AKIA9: error %v, want a NotFoundError", err)
	}
	if isAccessKeyID("AKIA") || isAccessKeyID("akia1") || isAccessKeyID("AKIA-1") || !isAccessKeyID("ASIA2X") {
		t.Error("isAccessKeyID misreads a key ID")
	}

	// A store failure comes back wrapped with what was being read.
	st.Close()
	_, err = Query(ctx, st, snap, "alice")
	if err == nil || !strings.HasPrefix(err.Error(), `look up "alice" in snapshot `) {
		t.Errorf("closed store: error %v, want it wrapped as the look-up", err)
	}
}

func TestOnlySSOUser(t *testing.T) {
	sso := model.Resource{ID: "u-1", Type: model.TypeSSOUser}
	iam := model.Resource{ID: "arn:u", Type: model.TypeIAMUser}
	role := model.Resource{ID: "arn:r", Type: model.TypeIAMRole}
	for _, tt := range []struct {
		name  string
		found []model.Resource
		want  string
	}{
		{"alone", []model.Resource{sso}, ""},
		{"with IAM users", []model.Resource{iam, sso, iam}, "u-1"},
		{"with a role", []model.Resource{sso, role}, ""},
		{"two SSO users", []model.Resource{sso, sso}, ""},
		{"IAM users only", []model.Resource{iam, iam}, ""},
	} {
		got := onlySSOUser(tt.found)
		if (got == nil) != (tt.want == "") || got != nil && got.ID != tt.want {
			t.Errorf("%s: onlySSOUser = %v, want %q", tt.name, got, tt.want)
		}
	}
}
