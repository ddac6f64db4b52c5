package store

import (
	"cmp"
	"context"
	"encoding/json"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/warden-iam/warden/internal/model"
)

// wantIndex is the effective index of snapshot snap as the snapshot's
// own reads give it: Resources (slim) of the holder and policy types,
// sorted, and Subgraph's grants of the kinds EffectiveData reads.
func wantIndex(t *testing.T, st *DB, snap int64) *EffectiveIndex {
	t.Helper()
	ctx := context.Background()
	want := &EffectiveIndex{Holders: []model.Resource{}, Policies: []model.Resource{}, Grants: map[string][]model.Grant{}}
	for _, ty := range EffectiveHolderTypes {
		rs, err := st.Resources(ctx, snap, ResourceFilter{Type: ty})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rs {
			want.Holders = append(want.Holders, slim(r))
		}
	}
	for _, ty := range EffectivePolicyTypes {
		rs, err := st.Resources(ctx, snap, ResourceFilter{Type: ty})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rs {
			want.Policies = append(want.Policies, slim(r))
		}
	}
	slices.SortFunc(want.Holders, func(a, b model.Resource) int { return strings.Compare(a.ID, b.ID) })
	slices.SortFunc(want.Policies, func(a, b model.Resource) int {
		return cmp.Or(cmp.Compare(a.Type, b.Type), cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID))
	})
	sub, err := st.Subgraph(ctx, snap, EffectiveHolderTypes, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, gr := range sub.Grants {
		if effectiveKind(gr.EntitlementID) {
			want.Grants[gr.PrincipalID] = append(want.Grants[gr.PrincipalID], gr)
		}
	}
	return want
}

func sameIndex(t *testing.T, what string, got, want *EffectiveIndex) {
	t.Helper()
	if len(got.Holders) == 0 && len(want.Holders) == 0 {
		got.Holders, want.Holders = nil, nil
	}
	if len(got.Policies) == 0 && len(want.Policies) == 0 {
		got.Policies, want.Policies = nil, nil
	}
	if !reflect.DeepEqual(got, want) {
		jg, _ := json.Marshal(got)
		jw, _ := json.Marshal(want)
		t.Fatalf("%s:\n%s\nwant\n%s", what, jg, jw)
	}
}

// indexRows is how many effective_index rows snapshot snap has, and their
// format.
func indexRows(t *testing.T, st *DB, snap int64) (n, format int) {
	t.Helper()
	if err := st.db.QueryRowContext(context.Background(), st.d.rebind(`SELECT count(*), coalesce(max(format), 0) FROM effective_index WHERE snapshot_id=?`), snap).Scan(&n, &format); err != nil {
		t.Fatal(err)
	}
	return n, format
}

// TestEffectiveIndex: on both back-ends, WriteSnapshot stores the new
// snapshot's index and drops the connection's older ones; without a row,
// the first EffectiveIndex of a snapshot builds it from the snapshot's
// rows (equal to what Resources and Subgraph read) and stores it in one
// row; the next reads that row and
// gives the same; a damaged row or one of an older format is built again
// and stored over; Prune deletes the index with its snapshot, and keeps
// the remaining one's.
func TestEffectiveIndex(t *testing.T) {
	eachBackend(t, func(t *testing.T, st *DB) {
		ctx := context.Background()
		at := time.Date(2026, 12, 1, 6, 0, 0, 0, time.UTC)
		first, err := st.WriteSnapshot(ctx, &model.Snapshot{Status: model.StatusComplete, StartedAt: at, FinishedAt: at}, effectiveGraph())
		if err != nil {
			t.Fatal(err)
		}
		st.indexing.Wait() // the index is built in the background
		want := wantIndex(t, st, first)
		if len(want.Holders) < 5 || len(want.Policies) < 2 || len(want.Grants) < 3 {
			t.Fatalf("the sample holds too little to test with: %d holders, %d policies, %d principals holding grants",
				len(want.Holders), len(want.Policies), len(want.Grants))
		}
		// WriteSnapshot stored the index; the read decodes that row.
		if n, f := indexRows(t, st, first); n != 1 || f != effectiveIndexFormat {
			t.Fatalf("after the write: %d index rows of format %d, want 1 of %d", n, f, effectiveIndexFormat)
		}
		written, err := st.EffectiveIndex(ctx, first)
		if err != nil {
			t.Fatal(err)
		}
		sameIndex(t, "the index stored by the write", written, want)
		// Without its row (a snapshot written before the index existed),
		// the first read builds it and stores it.
		if _, err := st.db.ExecContext(ctx, st.d.rebind(`DELETE FROM effective_index WHERE snapshot_id=?`), first); err != nil {
			t.Fatal(err)
		}
		built, err := st.EffectiveIndex(ctx, first)
		if err != nil {
			t.Fatal(err)
		}
		sameIndex(t, "the index built", built, want)
		if n, f := indexRows(t, st, first); n != 1 || f != effectiveIndexFormat {
			t.Fatalf("after the first read: %d index rows of format %d, want 1 of %d", n, f, effectiveIndexFormat)
		}
		stored, err := st.EffectiveIndex(ctx, first)
		if err != nil {
			t.Fatal(err)
		}
		sameIndex(t, "the index read back", stored, wantIndex(t, st, first))

		// A damaged index, then one of another format: built again.
		for _, damage := range []string{`UPDATE effective_index SET data=? WHERE snapshot_id=?`, `UPDATE effective_index SET format=0, data=? WHERE snapshot_id=?`} {
			if _, err := st.db.ExecContext(ctx, st.d.rebind(damage), []byte(effectiveIndexMagic+"\x01\x05"), first); err != nil {
				t.Fatal(err)
			}
			again, err := st.EffectiveIndex(ctx, first)
			if err != nil {
				t.Fatal(err)
			}
			sameIndex(t, "the index built again after "+damage, again, wantIndex(t, st, first))
			var data []byte
			if err := st.db.QueryRowContext(ctx, st.d.rebind(`SELECT data FROM effective_index WHERE snapshot_id=? AND format=?`), first, effectiveIndexFormat).Scan(&data); err != nil {
				t.Fatalf("after %s: %v", damage, err)
			}
			if _, err := decodeEffectiveIndex(string(data)); err != nil {
				t.Fatalf("after %s the row is not stored over: %v", damage, err)
			}
		}

		// A second snapshot, different, has its own index; pruning the
		// first deletes the first's.
		g := effectiveGraph()
		g.Resources = slices.DeleteFunc(g.Resources, func(r model.Resource) bool { return r.Name == "odd" })
		at = at.Add(time.Hour)
		second, err := st.WriteSnapshot(ctx, &model.Snapshot{Status: model.StatusComplete, StartedAt: at, FinishedAt: at}, g)
		if err != nil {
			t.Fatal(err)
		}
		st.indexing.Wait()
		ix2, err := st.EffectiveIndex(ctx, second)
		if err != nil {
			t.Fatal(err)
		}
		sameIndex(t, "the second snapshot's index", ix2, wantIndex(t, st, second))
		// The write of the second stored its index and dropped the
		// first's; asking about the first builds it again.
		if n, _ := indexRows(t, st, second); n != 1 {
			t.Fatalf("the second snapshot has %d index rows after its write, want 1", n)
		}
		if n, _ := indexRows(t, st, first); n != 0 {
			t.Fatalf("the older snapshot still has %d index rows after the second write, want 0", n)
		}
		old, err := st.EffectiveIndex(ctx, first)
		if err != nil {
			t.Fatal(err)
		}
		sameIndex(t, "the older snapshot's index built again", old, wantIndex(t, st, first))
		if n, _ := indexRows(t, st, first); n != 1 {
			t.Fatalf("the older snapshot has %d index rows after it was asked about, want 1", n)
		}
		if len(ix2.Holders) >= len(stored.Holders) {
			t.Fatalf("the second snapshot's index has %d holders, the first's %d: the removed ones are still there", len(ix2.Holders), len(stored.Holders))
		}
		if _, err := st.Prune(ctx, "", PruneOptions{Keep: 1}); err != nil {
			t.Fatal(err)
		}
		if n, _ := indexRows(t, st, first); n != 0 {
			t.Errorf("the pruned snapshot still has %d index rows", n)
		}
		if n, _ := indexRows(t, st, second); n != 1 {
			t.Errorf("the kept snapshot has %d index rows, want 1", n)
		}
		ix2, err = st.EffectiveIndex(ctx, second)
		if err != nil {
			t.Fatal(err)
		}
		sameIndex(t, "the kept snapshot's index after the prune", ix2, wantIndex(t, st, second))
		none, err := st.EffectiveIndex(ctx, second+100)
		if err != nil || len(none.Holders) != 0 || len(none.Grants) != 0 {
			t.Errorf("a snapshot that does not exist: %v, %v", none, err)
		}
	})
}

// TestEffectiveIndexCopy: Copy builds the latest snapshot's index in the
// target from the copied rows, equal to the source's; without the row the
// copy builds it again on first use.
func TestEffectiveIndexCopy(t *testing.T) {
	ctx := context.Background()
	from := openBackend(t, "sqlite")
	at := time.Date(2026, 12, 1, 6, 0, 0, 0, time.UTC)
	snap, err := from.WriteSnapshot(ctx, &model.Snapshot{Status: model.StatusComplete, StartedAt: at, FinishedAt: at}, effectiveGraph())
	if err != nil {
		t.Fatal(err)
	}
	src, err := from.EffectiveIndex(ctx, snap)
	if err != nil {
		t.Fatal(err)
	}
	to, err := OpenSQLite(ctx, filepath.Join(t.TempDir(), "copy.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer to.Close()
	if _, err := Copy(ctx, from, to, nil); err != nil {
		t.Fatal(err)
	}
	if n, _ := indexRows(t, to, snap); n != 1 {
		t.Fatalf("the copy has %d index rows for its latest snapshot, want 1 (built by Copy)", n)
	}
	got, err := to.EffectiveIndex(ctx, snap)
	if err != nil {
		t.Fatal(err)
	}
	sameIndex(t, "the copy's index", got, src)
	// Built from the copy's rows, not carried: without the row the copy
	// builds the same again.
	if _, err := to.db.ExecContext(ctx, `DELETE FROM effective_index`); err != nil {
		t.Fatal(err)
	}
	again, err := to.EffectiveIndex(ctx, snap)
	if err != nil {
		t.Fatal(err)
	}
	sameIndex(t, "the copy's index built on first read", again, src)
	if n, _ := indexRows(t, to, snap); n != 1 {
		t.Fatalf("the copy has %d index rows after its first read, want 1", n)
	}
}

// TestEffectiveIndexEncoding: resources the slim encoding cannot hold (a
// user with more than EffectiveResources picks out, a permission set, an
// empty tag map) travel as JSON or as they are, and every string survives
// the string table: encode, decode, equal.
func TestEffectiveIndexEncoding(t *testing.T) {
	odd := "q\"b\\s/\t\n\r\x00\x01<>&é😀\u2028end"
	created := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ix := &EffectiveIndex{
		Holders: []model.Resource{
			{ID: "a", Type: model.TypeIAMUser, Name: odd, Tags: map[string]string{}, User: &model.UserAttrs{UserID: odd}},
			{ID: "b", Type: model.TypeIAMUser, Name: "b", CreatedAt: created, User: &model.UserAttrs{UserID: "AIDA", MFAActive: true}},
			{ID: "c", Type: model.TypePermissionSet, Name: odd, PermissionSet: &model.PermissionSetAttrs{InlinePolicy: odd}},
			{ID: "d", Type: model.TypeIAMRole, Tags: map[string]string{odd: odd, "": ""}, Role: &model.RoleAttrs{RoleID: "AROA", TrustPolicy: odd}},
		},
		Policies: []model.Resource{
			{ID: "p", Type: model.TypeIAMPolicy, Name: odd, Policy: &model.PolicyAttrs{Document: odd}},
			{ID: "q", Type: model.TypeInlinePolicy, ParentID: "a", InlinePolicy: &model.InlinePolicyAttrs{Document: odd}},
			{ID: "s", Type: model.TypeSCP, SCP: &model.SCPAttrs{Document: odd}},
		},
		Grants: map[string][]model.Grant{
			"a": {{PrincipalID: "a", EntitlementID: "p#attached", Provenance: model.ViaDirect}, {PrincipalID: "a", EntitlementID: "d#assume", Provenance: model.ViaTrust, ViaID: odd}},
			"d": {{PrincipalID: "d", EntitlementID: "p#attached", Provenance: model.ViaDirect}},
		},
	}
	data := encodeEffectiveIndex(ix)
	got, err := decodeEffectiveIndex(string(data))
	if err != nil {
		t.Fatal(err)
	}
	sameIndex(t, "decoded", got, ix)
	// Every cut of the text fails to decode, never panics.
	for i := range len(data) {
		if _, err := decodeEffectiveIndex(string(data[:i])); err == nil {
			t.Fatalf("the first %d of %d bytes decode", i, len(data))
		}
	}
}

// TestEffectiveIndexReadOnly: a store opened read-only (as the CLI's
// questions open it) reads the stored index, and over a snapshot without
// one builds the same from the rows in memory and leaves the file as it
// was.
func TestEffectiveIndexReadOnly(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "w.db")
	rw, err := OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 1, 6, 0, 0, 0, time.UTC)
	snap, err := rw.WriteSnapshot(ctx, &model.Snapshot{Status: model.StatusComplete, StartedAt: at, FinishedAt: at}, effectiveGraph())
	if err != nil {
		t.Fatal(err)
	}
	rw.indexing.Wait()
	want := wantIndex(t, rw, snap)
	ro, err := OpenSQLiteReadOnly(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	got, err := ro.EffectiveIndex(ctx, snap)
	if err != nil {
		t.Fatal(err)
	}
	sameIndex(t, "the stored index read read-only", got, want)
	if _, err := rw.db.ExecContext(ctx, `DELETE FROM effective_index`); err != nil {
		t.Fatal(err)
	}
	rw.Close()
	got, err = ro.EffectiveIndex(ctx, snap)
	if err != nil {
		t.Fatal(err)
	}
	sameIndex(t, "the index built read-only", got, want)
	if n, _ := indexRows(t, ro, snap); n != 0 {
		t.Fatalf("a read-only store stored %d index rows", n)
	}
}
