package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/warden-iam/warden/internal/inventory"
	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/store"
)

// TestShowPartsListAsTheWholeGraph: the listings that read only part of a
// snapshot (users, keys) give exactly the rows the whole graph gives, in
// every account and in each one.
func TestShowPartsListAsTheWholeGraph(t *testing.T) {
	db := filepath.Join(t.TempDir(), "demo.db")
	if _, errOut, code := runIn(t, db, "demo", "--users", "40"); code != 0 {
		t.Fatalf("demo exited %d: %s", code, errOut)
	}
	ctx := context.Background()
	st, snap, whole := latestWhole(t, db)
	accounts := []string{""}
	for _, r := range whole.Resources {
		if r.Type == model.TypeIAMUser && r.AccountID != accounts[len(accounts)-1] {
			accounts = append(accounts, r.AccountID)
		}
	}
	now := time.Now()
	for _, v := range []struct {
		name string
		part []model.ResourceType
		rows func(g *model.Graph, account string) any
	}{
		{"users", inventory.UsersPart, func(g *model.Graph, a string) any { return inventory.Users(g, a) }},
		{"keys", inventory.KeysPart, func(g *model.Graph, a string) any { return inventory.Keys(g, a, now) }},
	} {
		for _, acct := range accounts {
			part, err := st.Subgraph(ctx, snap.ID, v.part, acct)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := json.Marshal(v.rows(part, acct))
			want, _ := json.Marshal(v.rows(whole, acct))
			if string(got) != string(want) || len(want) < 10 {
				t.Errorf("show %s (account %q) from its part:\n%s\nfrom the whole graph:\n%s", v.name, acct, got, want)
			}
		}
	}
}

// TestInventoryPartsListAsTheWholeGraph: the organization and Identity
// Center listings read only their part of a snapshot and give exactly the
// rows the whole graph gives, and none is empty on an organization with
// Identity Center.
func TestInventoryPartsListAsTheWholeGraph(t *testing.T) {
	useFakeAWS(t, "--accounts", "2", "--users", "3", "--identity-center-users", "6")
	t.Setenv("WARDEN_CONFIG", "")
	db := filepath.Join(t.TempDir(), "w.db")
	if _, errOut, code := runIn(t, db, "sync", "--organization", "--identity-center", "--member-external-id", fakeAWSExternalID); code != 0 {
		t.Fatalf("sync exited %d: %s", code, errOut)
	}
	ctx := context.Background()
	st, snap, whole := latestWhole(t, db)
	views := map[string]func(g *model.Graph) any{
		"accounts":        func(g *model.Graph) any { return inventory.Accounts(g, "") },
		"ous":             func(g *model.Graph) any { return inventory.OUs(g) },
		"scps":            func(g *model.Graph) any { return inventory.SCPs(g) },
		"sso-users":       func(g *model.Graph) any { return inventory.SSOUsers(g) },
		"sso-groups":      func(g *model.Graph) any { return inventory.SSOGroups(g) },
		"permission-sets": func(g *model.Graph) any { return inventory.PermissionSets(g) },
		"assignments":     func(g *model.Graph) any { return inventory.Assignments(g, "") },
	}
	if len(views) != len(inventory.Parts) {
		t.Fatalf("%d views tested, inventory.Parts has %d", len(views), len(inventory.Parts))
	}
	for name, rows := range views {
		part, err := st.Subgraph(ctx, snap.ID, inventory.Parts[name], "")
		if err != nil {
			t.Fatal(err)
		}
		got, _ := json.Marshal(rows(part))
		want, _ := json.Marshal(rows(whole))
		if string(got) != string(want) || string(want) == "[]" {
			t.Errorf("show %s from its part:\n%s\nfrom the whole graph:\n%s", name, got, want)
		}
	}
}

// latestWhole opens db read-only (closed when t ends) and returns it with
// its latest snapshot and that snapshot's whole graph.
func latestWhole(t *testing.T, db string) (*store.DB, *model.Snapshot, *model.Graph) {
	t.Helper()
	ctx := context.Background()
	st, err := store.OpenSQLiteReadOnly(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	snap, err := st.LatestSnapshot(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	whole, err := st.Graph(ctx, snap.ID)
	if err != nil {
		t.Fatal(err)
	}
	return st, snap, whole
}
