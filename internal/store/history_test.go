package store

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/warden-iam/warden/internal/model"
)

// writeSeries writes the graphs as successive snapshots of connection c
// and returns their IDs.
func writeSeries(t *testing.T, st *DB, c string, graphs []*model.Graph) []int64 {
	t.Helper()
	var ids []int64
	for i, g := range graphs {
		at := time.Date(2026, 11, 1, i, 0, 0, 0, time.UTC)
		id, err := st.WriteSnapshot(context.Background(), &model.Snapshot{ConnectionID: c, StartedAt: at, FinishedAt: at, Status: model.StatusComplete}, g)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}

// TestHistoryReadsEverySnapshotBack writes a series of changing graphs,
// interleaved with another connection's, and reads every snapshot back
// exactly as written; Changes between every pair equals the whole-graph
// comparison.
func TestHistoryReadsEverySnapshotBack(t *testing.T) {
	eachBackend(t, func(t *testing.T, st *DB) {
		ctx := context.Background()
		series := graphSeries(7)
		var ids, others []int64
		for i, g := range series {
			ids = append(ids, writeSeries(t, st, "default", []*model.Graph{g})...)
			others = append(others, writeSeries(t, st, "other", []*model.Graph{series[len(series)-1-i]})...)
		}
		for i, id := range ids {
			g, err := st.Graph(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if want := sorted(series[i]); !reflect.DeepEqual(g, want) {
				t.Fatalf("snapshot %d (graph %d):\n got %+v\nwant %+v", id, i, g, want)
			}
			if g, _ := st.Graph(ctx, others[i]); !reflect.DeepEqual(g, sorted(series[len(series)-1-i])) {
				t.Fatalf("snapshot %d of connection other differs", others[i])
			}
		}
		for i, a := range ids {
			for j, b := range ids {
				got, err := st.Changes(ctx, a, b)
				if err != nil {
					t.Fatal(err)
				}
				want := GraphChanges(a, b, sorted(series[i]), sorted(series[j]))
				if marshal(got) != marshal(want) {
					t.Fatalf("Changes(%d, %d):\n got %s\nwant %s", a, b, marshal(got), marshal(want))
				}
			}
		}
		if _, err := st.Changes(ctx, ids[0], others[0]); err == nil {
			t.Error("Changes across connections: no error")
		}
		// An unchanged re-write adds no history rows.
		before := historyRows(t, st)
		writeSeries(t, st, "default", series[len(series)-1:])
		if after := historyRows(t, st); after != before {
			t.Errorf("an unchanged snapshot added %d history rows", after-before)
		}
	})
}

// historyRows counts the rows of every history table.
func historyRows(t *testing.T, st *DB) int {
	t.Helper()
	total := 0
	for _, tb := range historyTables {
		var n int
		if err := st.db.QueryRow(`SELECT count(*) FROM ` + tb).Scan(&n); err != nil {
			t.Fatal(err)
		}
		total += n
	}
	return total
}

// TestQueriesReadTheirSnapshot checks the indexed queries answer for the
// snapshot asked, old or new, as the whole graph says.
func TestQueriesReadTheirSnapshot(t *testing.T) {
	eachBackend(t, func(t *testing.T, st *DB) {
		ctx := context.Background()
		series := graphSeries(5)
		ids := writeSeries(t, st, "default", series)
		for i, id := range ids {
			g := sorted(series[i])
			users, err := st.Resources(ctx, id, ResourceFilter{Type: model.TypeIAMUser})
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, r := range g.Resources {
				if r.Type == model.TypeIAMUser {
					want = append(want, r.Name)
				}
			}
			var got []string
			for _, r := range users {
				got = append(got, r.Name)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("snapshot %d users %v, want %v", id, got, want)
			}
			user0 := "arn:aws:iam::111122223333:user/user0"
			held, err := st.GrantsOf(ctx, id, user0)
			if err != nil {
				t.Fatal(err)
			}
			var wantHeld []model.Grant
			for _, gr := range g.Grants {
				if gr.PrincipalID == user0 {
					wantHeld = append(wantHeld, gr)
				}
			}
			var gotHeld []model.Grant
			for _, h := range held {
				gotHeld = append(gotHeld, h.Grant)
				if h.Resource.Name == "" {
					t.Errorf("snapshot %d: grant %+v lacks its resource", id, h.Grant)
				}
			}
			if !reflect.DeepEqual(gotHeld, wantHeld) {
				t.Errorf("snapshot %d GrantsOf(user0) %+v, want %+v", id, gotHeld, wantHeld)
			}
			// user0's team tag changes with every step: found by this
			// snapshot's value only.
			team := map[int]string{0: "team0", 1: "team1"}[i%2]
			if i == len(ids)-1 {
				team = "team1"
			}
			for _, q := range []struct {
				query string
				want  int
			}{{team, 1}, {"USER0", 1}, {"user0@example.com", 1}, {"nobody", 0}} {
				rs, err := st.FindPrincipal(ctx, id, q.query)
				if err != nil || len(rs) != q.want || q.want == 1 && rs[0].ID != user0 {
					t.Errorf("snapshot %d FindPrincipal(%q) = %d results (%v), want %d", id, q.query, len(rs), err, q.want)
				}
			}
			// A managed policy by name, when no principal has it.
			if rs, err := st.FindPrincipal(ctx, id, "administratorACCESS"); err != nil || len(rs) != 1 || rs[0].Type != model.TypeIAMPolicy {
				t.Errorf("snapshot %d FindPrincipal(policy name) = %+v (%v)", id, rs, err)
			}
			if m, err := st.IAMUsersMatching(ctx, id, []string{"user1@example.com", "User0"}); err != nil || len(m) != 2 {
				t.Errorf("snapshot %d IAMUsersMatching = %d (%v), want 2", id, len(m), err)
			}
		}
	})
}

// TestPartialSnapshotCarriesWhatItCouldNotRead writes a snapshot of two
// accounts, then one in which the second account could not be read: the
// second snapshot keeps that account's last known state and says so, and
// the first account's removals still show.
func TestPartialSnapshotCarriesWhatItCouldNotRead(t *testing.T) {
	eachBackend(t, func(t *testing.T, st *DB) {
		ctx := context.Background()
		a, b := accountGraph("111111111111", 3), accountGraph("222222222222", 2)
		full := merge(a, b)
		writeSeries(t, st, "default", []*model.Graph{full})
		readA := accountGraph("111111111111", 2) // one user of A left
		snap := &model.Snapshot{StartedAt: time.Now(), FinishedAt: time.Now(), Status: model.StatusPartial,
			Errors: []model.SourceError{{AccountID: "222222222222", Source: "assume_role", Message: "AccessDenied", Fix: "fix the role"}}}
		id, err := st.WriteSnapshot(ctx, snap, readA)
		if err != nil {
			t.Fatal(err)
		}
		got, err := st.Graph(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if want := sorted(merge(readA, b)); !reflect.DeepEqual(got, want) {
			t.Fatalf("partial snapshot:\n got %+v\nwant %+v", got, want)
		}
		latest, err := st.LatestSnapshot(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		want := []model.CarriedPart{{Part: "222222222222", Resources: 3, Entitlements: 1, Grants: 2}}
		if !reflect.DeepEqual(latest.Carried, want) || !reflect.DeepEqual(snap.Carried, want) {
			t.Errorf("carried = %+v (returned %+v), want %+v", latest.Carried, snap.Carried, want)
		}
		// A later complete read of B replaces its carried state.
		id, err = st.WriteSnapshot(ctx, &model.Snapshot{StartedAt: time.Now(), FinishedAt: time.Now(), Status: model.StatusComplete}, readA)
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := st.Graph(ctx, id); !reflect.DeepEqual(got, sorted(readA)) {
			t.Errorf("complete snapshot after a partial one still holds the carried account")
		}
	})
}

// accountGraph is an account with n users, each a member of its group.
func accountGraph(acct string, n int) *model.Graph {
	g := &model.Graph{}
	group := "arn:aws:iam::" + acct + ":group/devs"
	g.Resources = append(g.Resources, model.Resource{ID: group, ARN: group, Type: model.TypeIAMGroup, AccountID: acct, Name: "devs"})
	g.Entitlements = append(g.Entitlements, model.Entitlement{ID: group + "#member", ResourceID: group, Name: "member"})
	for i := range n {
		u := "arn:aws:iam::" + acct + ":user/u" + string(rune('a'+i))
		g.Resources = append(g.Resources, model.Resource{ID: u, ARN: u, Type: model.TypeIAMUser, AccountID: acct, Name: "u" + string(rune('a'+i))})
		if i < 2 {
			g.Grants = append(g.Grants, model.Grant{PrincipalID: u, EntitlementID: group + "#member", Provenance: model.ViaDirect})
		}
	}
	return g
}

// merge joins graphs.
func merge(gs ...*model.Graph) *model.Graph {
	out := &model.Graph{}
	for _, g := range gs {
		out.Resources = append(out.Resources, g.Resources...)
		out.Entitlements = append(out.Entitlements, g.Entitlements...)
		out.Grants = append(out.Grants, g.Grants...)
	}
	return out
}

// TestPruneKeepsWhatRemainingSnapshotsHold prunes by count and by age and
// reads every remaining snapshot back exactly; the audit log is untouched
// and the file gives space back.
func TestPruneKeepsWhatRemainingSnapshotsHold(t *testing.T) {
	eachBackend(t, func(t *testing.T, st *DB) {
		ctx := context.Background()
		series := graphSeries(6)
		ids := writeSeries(t, st, "default", series)
		if err := st.AppendAudit(ctx, AuditRecord{At: time.Now(), Action: "test"}); err != nil {
			t.Fatal(err)
		}
		dry, err := st.Prune(ctx, "", PruneOptions{Keep: 3, DryRun: true})
		if err != nil {
			t.Fatal(err)
		}
		rows := historyRows(t, st)
		if len(dry.Deleted) != 3 || historyRows(t, st) != rows {
			t.Fatalf("dry run: %+v, rows %d → %d", dry, rows, historyRows(t, st))
		}
		res, err := st.Prune(ctx, "", PruneOptions{Keep: 3})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(res.Deleted, []int64{ids[2], ids[1], ids[0]}) || res.Kept != 3 || res.Rows != dry.Rows || res.Rows == 0 {
			t.Fatalf("prune --keep 3 = %+v (dry run said %d rows)", res, dry.Rows)
		}
		for i, id := range ids[3:] {
			if g, err := st.Graph(ctx, id); err != nil || !reflect.DeepEqual(g, sorted(series[3+i])) {
				t.Fatalf("snapshot %d after prune differs (%v)", id, err)
			}
		}
		if cs, err := st.Changes(ctx, ids[3], ids[5]); err != nil || marshal(cs) != marshal(GraphChanges(ids[3], ids[5], sorted(series[3]), sorted(series[5]))) {
			t.Errorf("Changes after prune differs (%v)", err)
		}
		// By age: every snapshot but the latest is older than an hour from
		// a day later; the latest is kept even so.
		res, err = st.Prune(ctx, "", PruneOptions{OlderThan: time.Hour, Now: time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC)})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Deleted) != 2 || res.Kept != 1 {
			t.Fatalf("prune --older-than = %+v", res)
		}
		if g, err := st.Graph(ctx, ids[5]); err != nil || !reflect.DeepEqual(g, sorted(series[5])) {
			t.Fatalf("latest snapshot after prune differs (%v)", err)
		}
		if audit, err := st.Audit(ctx, "", 0); err != nil || len(audit) != 1 {
			t.Errorf("audit log after prune: %d records (%v), want 1", len(audit), err)
		}
		var open, total int
		for _, tb := range []string{"resource_versions", "entitlement_versions", "grant_versions"} {
			var o, n int
			st.db.QueryRow(`SELECT count(CASE WHEN valid_to IS NULL THEN 1 END), count(*) FROM `+tb).Scan(&o, &n)
			open, total = open+o, total+n
		}
		if open != total {
			t.Errorf("after pruning to the latest snapshot, %d closed history rows remain", total-open)
		}
	})
}
