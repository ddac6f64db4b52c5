package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/render"
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
	st, err := store.OpenSQLiteReadOnly(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	snap, err := st.LatestSnapshot(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	whole, err := st.Graph(ctx, snap.ID)
	if err != nil {
		t.Fatal(err)
	}
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
		{"users", render.UsersPart, func(g *model.Graph, a string) any { return render.Users(g, a) }},
		{"keys", render.KeysPart, func(g *model.Graph, a string) any { return render.Keys(g, a, now) }},
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
