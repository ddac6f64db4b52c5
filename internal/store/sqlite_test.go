package store

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/warden-iam/warden/internal/model"
)

func sampleGraph() *model.Graph {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	user := "arn:aws:iam::111122223333:user/alice"
	group := "arn:aws:iam::111122223333:group/eng"
	role := "arn:aws:iam::111122223333:role/deploy"
	pol := "arn:aws:iam::aws:policy/ReadOnlyAccess"
	inline := model.InlinePolicyID(user, "s3")
	key := model.AccessKeyID("111122223333", "AKIAEXAMPLE000000001")
	acct := model.AccountResourceID("111122223333")
	ext := model.ExternalPrincipalID("AWS", "999988887777")
	g := &model.Graph{
		Resources: []model.Resource{
			{ID: acct, Type: model.TypeAccount, AccountID: "111122223333", Name: "111122223333", Account: &model.AccountAttrs{Alias: "prod", RootMFAActive: true, CredentialReport: true}},
			{ID: user, Type: model.TypeIAMUser, AccountID: "111122223333", Name: "alice", ARN: user, Path: "/", CreatedAt: t0, Tags: map[string]string{"email": "Alice@Example.com"},
				User: &model.UserAttrs{UserID: "AIDA1", ConsoleAccess: true, PasswordLastUsed: &t0, MFAActive: true, CredentialReport: true}},
			{ID: group, Type: model.TypeIAMGroup, AccountID: "111122223333", Name: "eng", ARN: group, Path: "/", CreatedAt: t0, Group: &model.GroupAttrs{GroupID: "AGPA1"}},
			{ID: role, Type: model.TypeIAMRole, AccountID: "111122223333", Name: "deploy", ARN: role, CreatedAt: t0, Role: &model.RoleAttrs{RoleID: "AROA1", TrustPolicy: `{}`,
				TrustedPrincipals: []model.TrustedEntity{{Kind: "AWS", Value: "999988887777", Conditions: []string{"sts:ExternalId"}}}, LastUsed: &t0, LastUsedRegion: "eu-west-1"}},
			{ID: pol, Type: model.TypeIAMPolicy, AccountID: "111122223333", Name: "ReadOnlyAccess", ARN: pol, Policy: &model.PolicyAttrs{PolicyID: "ANPA1", AWSManaged: true, DefaultVersionID: "v3", Document: `{"a":1}`, AttachmentCount: 1, IsAttachable: true, VersionCount: 3}},
			{ID: inline, Type: model.TypeInlinePolicy, AccountID: "111122223333", Name: "s3", ParentID: user, InlinePolicy: &model.InlinePolicyAttrs{Document: `{"b":2}`}},
			{ID: key, Type: model.TypeAccessKey, AccountID: "111122223333", Name: "AKIAEXAMPLE000000001", ParentID: user, CreatedAt: t0, AccessKey: &model.AccessKeyAttrs{Status: "Active", LastUsed: &t0, LastUsedService: "s3", LastUsedRegion: "us-east-1"}},
			{ID: ext, Type: model.TypeExternalPrincipal, Name: "999988887777"},
		},
		Entitlements: []model.Entitlement{
			{ID: model.EntitlementID(group, model.EntMember), ResourceID: group, Name: model.EntMember},
			{ID: model.EntitlementID(pol, model.EntAttached), ResourceID: pol, Name: model.EntAttached},
			{ID: model.EntitlementID(inline, model.EntAttached), ResourceID: inline, Name: model.EntAttached},
			{ID: model.EntitlementID(role, model.EntAssume), ResourceID: role, Name: model.EntAssume},
			{ID: model.EntitlementID(key, model.EntOwner), ResourceID: key, Name: model.EntOwner},
		},
		Grants: []model.Grant{
			{PrincipalID: user, EntitlementID: model.EntitlementID(group, model.EntMember), Provenance: model.ViaDirect},
			{PrincipalID: group, EntitlementID: model.EntitlementID(pol, model.EntAttached), Provenance: model.ViaDirect},
			{PrincipalID: user, EntitlementID: model.EntitlementID(pol, model.EntAttached), Provenance: model.ViaGroup, ViaID: group},
			{PrincipalID: user, EntitlementID: model.EntitlementID(inline, model.EntAttached), Provenance: model.ViaInline},
			{PrincipalID: ext, EntitlementID: model.EntitlementID(role, model.EntAssume), Provenance: model.ViaTrust},
			{PrincipalID: user, EntitlementID: model.EntitlementID(key, model.EntOwner), Provenance: model.ViaDirect},
		},
	}
	g.Sort()
	return g
}

func openTemp(t *testing.T) (*DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "w.db")
	st, err := OpenSQLite(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st, path
}

func TestRoundTripAndQueries(t *testing.T) {
	eachBackend(t, func(t *testing.T, st *DB) {
		ctx := context.Background()
		if _, err := st.LatestSnapshot(ctx, ""); !errors.Is(err, ErrNoSnapshot) {
			t.Fatalf("empty store: err = %v, want ErrNoSnapshot", err)
		}
		g := sampleGraph()
		snap := &model.Snapshot{StartedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), FinishedAt: time.Date(2026, 1, 1, 0, 0, 1, 0, time.UTC),
			Status: model.StatusPartial, Errors: []model.SourceError{{Source: "credential_report", Message: "m", Fix: "f"}},
			APICalls: map[string]int64{"iam:GetAccountAuthorizationDetails": 1}, Counts: map[string]int{"iam_user": 1}}
		id, err := st.WriteSnapshot(ctx, snap, g)
		if err != nil {
			t.Fatal(err)
		}
		got, err := st.Graph(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, g) {
			t.Fatalf("round trip differs:\n got %+v\nwant %+v", got, g)
		}
		latest, err := st.LatestSnapshot(ctx, "default")
		if err != nil {
			t.Fatal(err)
		}
		snap.ConnectionID = "default"
		if !reflect.DeepEqual(latest, snap) {
			t.Fatalf("snapshot differs:\n got %+v\nwant %+v", latest, snap)
		}
		alice := "arn:aws:iam::111122223333:user/alice"
		for _, q := range []string{alice, "ALICE", "alice@example.com"} {
			rs, err := st.FindPrincipal(ctx, id, q)
			if err != nil || len(rs) != 1 || rs[0].ID != alice {
				t.Errorf("FindPrincipal(%q) = %v, %v", q, rs, err)
			}
		}
		if rs, err := st.FindPrincipal(ctx, id, "nobody"); err != nil || len(rs) != 0 {
			t.Errorf("FindPrincipal(nobody) = %v, %v; want none", rs, err)
		}
		held, err := st.GrantsOf(ctx, id, alice)
		if err != nil || len(held) != 4 {
			t.Fatalf("GrantsOf = %d grants, %v; want 4", len(held), err)
		}
		for _, h := range held {
			if h.Resource.ID == "" || h.Resource.Type == "" {
				t.Errorf("grant %v has no resource", h.Grant)
			}
		}
		holders, err := st.HoldersOf(ctx, id, model.EntitlementID("arn:aws:iam::aws:policy/ReadOnlyAccess", model.EntAttached))
		if err != nil || len(holders) != 2 {
			t.Fatalf("HoldersOf = %d, %v; want 2", len(holders), err)
		}
		keys, err := st.Resources(ctx, id, ResourceFilter{Type: model.TypeAccessKey, ParentID: alice})
		if err != nil || len(keys) != 1 {
			t.Fatalf("Resources(keys) = %d, %v", len(keys), err)
		}
	})
}

func TestCancelledWriteLeavesPreviousSnapshot(t *testing.T) {
	ctx := context.Background()
	st, path := openTemp(t)
	first, err := st.WriteSnapshot(ctx, &model.Snapshot{Status: model.StatusComplete}, sampleGraph())
	if err != nil {
		t.Fatal(err)
	}
	big := &model.Graph{}
	for i := 0; i < 50000; i++ {
		big.Resources = append(big.Resources, model.Resource{ID: "r" + string(rune('a'+i%26)) + time.Duration(i).String(), Type: model.TypeIAMUser})
	}
	cctx, cancel := context.WithCancel(ctx)
	time.AfterFunc(5*time.Millisecond, cancel)
	if _, err := st.WriteSnapshot(cctx, &model.Snapshot{Status: model.StatusComplete}, big); err == nil {
		t.Skip("write finished before the cancel; nothing to check")
	}
	latest, err := st.LatestSnapshot(ctx, "")
	if err != nil || latest.ID != first {
		t.Fatalf("latest = %v, %v; want snapshot %d", latest, err, first)
	}
	db, _ := sql.Open("sqlite", path)
	defer db.Close()
	var n int
	db.QueryRow(`SELECT count(*) FROM resources WHERE snapshot_id<>?`, first).Scan(&n)
	if n != 0 {
		t.Fatalf("%d rows of the cancelled snapshot are visible", n)
	}
}

func TestReopenAndForeignFiles(t *testing.T) {
	ctx := context.Background()
	st, path := openTemp(t)
	st.Close()
	st2, err := OpenSQLite(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	st2.Close()

	dir := t.TempDir()
	garbage := filepath.Join(dir, "notes.txt")
	os.WriteFile(garbage, []byte("hello, this is not a database at all"), 0o600)
	foreign := filepath.Join(dir, "other.db")
	db, _ := sql.Open("sqlite", foreign)
	if _, err := db.Exec(`CREATE TABLE invoices (id INTEGER)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	for _, p := range []string{garbage, foreign} {
		if _, err := OpenSQLite(ctx, p); !errors.Is(err, ErrForeignDatabase) {
			t.Errorf("OpenSQLite(%s) err = %v, want ErrForeignDatabase", filepath.Base(p), err)
		}
	}
}

func TestIAMUsersMatchingAndSSOLookup(t *testing.T) {
	eachBackend(t, func(t *testing.T, st *DB) {
		ctx := context.Background()
		g := sampleGraph()
		bob := "arn:aws:iam::111122223333:user/bob@example.com"
		sso := "arn:aws:identitystore:::user/u-1"
		g.Resources = append(g.Resources,
			model.Resource{ID: bob, Type: model.TypeIAMUser, AccountID: "111122223333", Name: "BOB@example.com", ARN: bob, User: &model.UserAttrs{}},
			model.Resource{ID: sso, Type: model.TypeSSOUser, Name: "alice.a", SSOUser: &model.SSOUserAttrs{UserID: "u-1", Emails: []string{"alice@example.com"}}})
		g.Sort()
		id, err := st.WriteSnapshot(ctx, &model.Snapshot{StartedAt: time.Now(), FinishedAt: time.Now(), Status: model.StatusComplete}, g)
		if err != nil {
			t.Fatal(err)
		}
		// Linked by a tag value (alice) and by name (bob), case-insensitively.
		got, err := st.IAMUsersMatching(ctx, id, []string{"ALICE@example.com", "bob@EXAMPLE.com"})
		if err != nil || len(got) != 2 || got[0].Name != "BOB@example.com" || got[1].Name != "alice" {
			t.Errorf("IAMUsersMatching = %v, %v; want bob (by name) and alice (by tag)", got, err)
		}
		if got, _ := st.IAMUsersMatching(ctx, id, []string{"nobody@example.com"}); len(got) != 0 {
			t.Errorf("IAMUsersMatching(nobody) = %v", got)
		}
		// An Identity Center user is found by user name and by e-mail.
		for _, q := range []string{"alice.a", "arn:aws:identitystore:::user/u-1"} {
			if got, err := st.FindPrincipal(ctx, id, q); err != nil || len(got) != 1 || got[0].ID != sso {
				t.Errorf("FindPrincipal(%q) = %v, %v", q, got, err)
			}
		}
		// By e-mail, the Identity Center user and the IAM user tagged with it.
		got, err = st.FindPrincipal(ctx, id, "alice@example.com")
		if err != nil || len(got) != 2 {
			t.Errorf("FindPrincipal(e-mail) = %v, %v; want the tagged IAM user and the Identity Center user", got, err)
		}
	})
}
