package store

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/warden-iam/warden/internal/model"
)

// buildOldDB makes a SQLite file of schema version (< 6) as an older warden
// did, by running the first version steps of the migration list, and
// stores each graph as a snapshot of connection conn in that schema's
// per-snapshot tables (insertOld). It returns the snapshots' IDs.
func buildOldDB(t *testing.T, path string, version int, conn string, graphs []*model.Graph) []int64 {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	d := sqliteDialect{}
	if _, err := db.Exec(`CREATE TABLE warden_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
		INSERT INTO warden_meta VALUES ('app', 'warden'), ('schema_version', '` + strconv.Itoa(version) + `')`); err != nil {
		t.Fatal(err)
	}
	for _, m := range migrations[:version] {
		if m.run != nil {
			t.Fatal("buildOldDB builds only schemas before the first data step")
		}
		if _, err := db.Exec(d.ddl(m.sql)); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	return insertOld(t, path, conn, graphs)
}

// TestMigrationMovesEverySnapshotToHistory builds a database of schema 5
// (the last per-snapshot schema) holding a series of changing graphs of
// two connections, opens it with this warden and reads every snapshot
// back exactly; the per-snapshot tables are gone.
func TestMigrationMovesEverySnapshotToHistory(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	series := graphSeries(6)
	ids := buildOldDB(t, path, 5, "default", series)
	other := insertOld(t, path, "other", series[:2])
	st, err := OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for i, id := range ids {
		g, err := st.Graph(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if want := sorted(series[i]); !reflect.DeepEqual(g, want) {
			t.Fatalf("snapshot %d after the migration:\n got %+v\nwant %+v", id, g, want)
		}
	}
	for i, id := range other {
		if g, _ := st.Graph(ctx, id); !reflect.DeepEqual(g, sorted(series[i])) {
			t.Fatalf("snapshot %d of connection other differs after the migration", id)
		}
	}
	var n int
	if err := st.db.QueryRow(`SELECT count(*) FROM sqlite_master WHERE name IN ('resources','entitlements','grants')`).Scan(&n); err != nil || n != 0 {
		t.Errorf("per-snapshot tables left after the migration: %d (%v)", n, err)
	}
	var mode int
	if err := st.db.QueryRow(`PRAGMA auto_vacuum`).Scan(&mode); err != nil || mode != 2 {
		t.Errorf("auto_vacuum = %d (%v) after the migration, want 2 (incremental)", mode, err)
	}
	snaps, err := st.Snapshots(ctx, "default")
	if err != nil || len(snaps) != len(ids) {
		t.Fatalf("snapshots after the migration: %d (%v), want %d", len(snaps), err, len(ids))
	}
}

// insertOld stores each graph as a snapshot of connection conn in the
// per-snapshot tables of an old database buildOldDB made.
func insertOld(t *testing.T, path, conn string, graphs []*model.Graph) []int64 {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var ids []int64
	for i, g := range graphs {
		at := time.Date(2026, 11, 1, i, 0, 0, 0, time.UTC).Format(timeFormat)
		res, err := db.Exec(`INSERT INTO snapshots (connection_id, started_at, finished_at, status, errors, api_calls, counts) VALUES (?,?,?,?,?,?,?)`,
			conn, at, at, "complete", "[]", "{}", "{}")
		if err != nil {
			t.Fatal(err)
		}
		id, _ := res.LastInsertId()
		ids = append(ids, id)
		for _, r := range g.Resources {
			if _, err := db.Exec(`INSERT INTO resources VALUES (?,?,?,?,?,?,?,?)`, id, r.ID, string(r.Type), r.AccountID, r.Name, r.ARN, r.ParentID, marshal(r)); err != nil {
				t.Fatal(err)
			}
		}
		for _, e := range g.Entitlements {
			if _, err := db.Exec(`INSERT INTO entitlements VALUES (?,?,?,?)`, id, e.ID, e.ResourceID, e.Name); err != nil {
				t.Fatal(err)
			}
		}
		for _, gr := range g.Grants {
			if _, err := db.Exec(`INSERT INTO grants VALUES (?,?,?,?,?,?)`, id, gr.PrincipalID, gr.EntitlementID, entitlementResource(gr.EntitlementID), string(gr.Provenance), gr.ViaID); err != nil {
				t.Fatal(err)
			}
		}
	}
	return ids
}

// sorted returns a copy of g in canonical order.
func sorted(g *model.Graph) *model.Graph {
	c := &model.Graph{Resources: append([]model.Resource(nil), g.Resources...), Entitlements: append([]model.Entitlement(nil), g.Entitlements...), Grants: append([]model.Grant(nil), g.Grants...)}
	c.Sort()
	return c
}

// graphSeries is n graphs, each changing the one before: users come and
// go, a user's tags change, group members and policy attachments change,
// one grant is removed and later put back, and the last graph equals an
// earlier one.
func graphSeries(n int) []*model.Graph {
	acct := "111122223333"
	user := func(name string, tags map[string]string) model.Resource {
		arn := "arn:aws:iam::" + acct + ":user/" + name
		return model.Resource{ID: arn, ARN: arn, Type: model.TypeIAMUser, AccountID: acct, Name: name, Tags: tags, User: &model.UserAttrs{}}
	}
	group := "arn:aws:iam::" + acct + ":group/admins"
	policy := "arn:aws:iam::aws:policy/AdministratorAccess"
	var out []*model.Graph
	for i := range n {
		g := &model.Graph{}
		g.Resources = append(g.Resources,
			model.Resource{ID: group, ARN: group, Type: model.TypeIAMGroup, AccountID: acct, Name: "admins"},
			model.Resource{ID: policy, ARN: policy, Type: model.TypeIAMPolicy, Name: "AdministratorAccess"})
		g.Entitlements = append(g.Entitlements,
			model.Entitlement{ID: model.EntitlementID(group, model.EntMember), ResourceID: group, Name: model.EntMember},
			model.Entitlement{ID: model.EntitlementID(policy, model.EntAttached), ResourceID: policy, Name: model.EntAttached})
		step := i
		if i == n-1 && n > 2 {
			step = 1 // the last graph is the second again
		}
		for u := range 5 + step {
			if u == 2 && step%3 == 2 {
				continue // user2 leaves for a step
			}
			name := fmt.Sprintf("user%d", u)
			tags := map[string]string{"email": name + "@example.com"}
			if u == 0 {
				tags["team"] = fmt.Sprintf("team%d", step%2)
			}
			r := user(name, tags)
			g.Resources = append(g.Resources, r)
			if (u+step)%2 == 0 {
				g.Grants = append(g.Grants, model.Grant{PrincipalID: r.ID, EntitlementID: model.EntitlementID(group, model.EntMember), Provenance: model.ViaDirect})
				g.Grants = append(g.Grants, model.Grant{PrincipalID: r.ID, EntitlementID: model.EntitlementID(policy, model.EntAttached), Provenance: model.ViaGroup, ViaID: group})
			}
			if u == 1 && step != 3 {
				g.Grants = append(g.Grants, model.Grant{PrincipalID: r.ID, EntitlementID: model.EntitlementID(policy, model.EntAttached), Provenance: model.ViaDirect})
			}
		}
		out = append(out, g)
	}
	return out
}
