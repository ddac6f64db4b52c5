package store

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/warden-iam/warden/internal/model"
)

// pageGraph has users and roles in two accounts with the same names (so
// pages must break ties by id) and names holding LIKE's wildcards.
func pageGraph(extra int) *model.Graph {
	g := &model.Graph{}
	for _, acct := range []string{"111122223333", "444455556666"} {
		for i := range 12 + extra {
			name := fmt.Sprintf("user%02d", i)
			switch i {
			case 3:
				name = "50%_off"
			case 4:
				name = "500_off"
			}
			id := "arn:aws:iam::" + acct + ":user/" + name
			g.Resources = append(g.Resources, model.Resource{ID: id, Type: model.TypeIAMUser, AccountID: acct, Name: name, ARN: id})
			rid := "arn:aws:iam::" + acct + ":role/" + name
			g.Resources = append(g.Resources, model.Resource{ID: rid, Type: model.TypeIAMRole, AccountID: acct, Name: name, ARN: rid})
		}
	}
	g.Sort()
	return g
}

// TestResourcePageWalk: walking the pages of any size gives exactly the
// resources Resources lists, in its order, for every filter, on both
// back-ends and on an older snapshot too.
func TestResourcePageWalk(t *testing.T) {
	eachBackend(t, func(t *testing.T, st *DB) {
		ctx := context.Background()
		var snaps []int64
		for i, extra := range []int{0, 3} {
			at := time.Date(2026, 1, 1, i, 0, 0, 0, time.UTC)
			id, err := st.WriteSnapshot(ctx, &model.Snapshot{ConnectionID: "c", StartedAt: at, FinishedAt: at, Status: model.StatusComplete}, pageGraph(extra))
			if err != nil {
				t.Fatal(err)
			}
			snaps = append(snaps, id)
		}
		for _, snap := range snaps {
			for _, f := range []PageFilter{{}, {ResourceFilter: ResourceFilter{Type: model.TypeIAMUser}},
				{ResourceFilter: ResourceFilter{AccountID: "444455556666"}}, {Search: "%_"}, {Search: "USER0"}, {Search: "nothing"}} {
				all, err := st.Resources(ctx, snap, f.ResourceFilter)
				if err != nil {
					t.Fatal(err)
				}
				var want []string
				for _, r := range all {
					if f.Search == "" || strings.Contains(strings.ToLower(r.Name), strings.ToLower(f.Search)) || strings.Contains(strings.ToLower(r.ID), strings.ToLower(f.Search)) {
						want = append(want, r.ID)
					}
				}
				for _, size := range []int{1, 3, 7, 1000} {
					var got []string
					var after PageKey
					for pages := 0; ; pages++ {
						rs, err := st.ResourcePage(ctx, snap, f, after, size)
						if err != nil {
							t.Fatal(err)
						}
						for _, r := range rs {
							got = append(got, r.ID)
						}
						if len(rs) < size {
							break
						}
						after = KeyOf(rs[len(rs)-1])
						if pages > 1000 {
							t.Fatal("the walk does not end")
						}
					}
					if strings.Join(got, " ") != strings.Join(want, " ") {
						t.Errorf("snapshot %d, filter %+v, pages of %d: got %d resources, want %d\n got %v\nwant %v", snap, f, size, len(got), len(want), got, want)
					}
				}
			}
		}
	})
}
