package webui

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/warden-iam/warden/internal/diff"
	"github.com/warden-iam/warden/internal/diff/difftest"
	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/store"
)

// TestChangesAssets: /changes lists the diff's assets section, row for row
// as diff.Compute gives it, each row linked to its asset's page and marked
// with its severity.
func TestChangesAssets(t *testing.T) {
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	before, after := difftest.Estate()
	ab, aa := difftest.Assets()
	before.Resources = append(before.Resources, ab...)
	after.Resources = append(after.Resources, aa...)
	now := time.Now()
	var ids []int64
	for i, g := range []*model.Graph{before, after} {
		at := now.Add(time.Duration(i-2) * time.Hour)
		id, err := st.WriteSnapshot(ctx, &model.Snapshot{ConnectionID: "prod", StartedAt: at.Add(-time.Minute), FinishedAt: at, Status: model.StatusComplete}, g)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	from, err := st.Snapshot(ctx, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	to, err := st.Snapshot(ctx, ids[1])
	if err != nil {
		t.Fatal(err)
	}
	rep, err := diff.Compute(ctx, st, from, to, diff.Filter{StaleDays: staleDays})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Assets) == 0 {
		t.Fatal("difftest's assets make no assets rows: the test checks nothing")
	}
	s := serveStore(t, st, ids[1], nil)
	c := client(t)
	signIn(t, c, s.url, s.token)
	code, body, _ := get(t, c, fmt.Sprintf("%s/changes?c=prod&from=%d&to=%d", s.url, ids[0], ids[1]))
	if code != 200 {
		t.Fatalf("/changes: %d %.300s", code, body)
	}
	_, section, ok := strings.Cut(body, "<h3>Assets</h3>")
	if !ok {
		t.Fatal("/changes has no Assets section")
	}
	section, _, _ = strings.Cut(section, "</ul>")
	if got := strings.Count(section, "<li"); got != len(rep.Assets) {
		t.Errorf("the Assets section has %d rows, the diff %d", got, len(rep.Assets))
	}
	for _, a := range rep.Assets {
		link := `<a href="` + htmlEscape(href("prod", a.Asset.Type, a.Asset.ID, a.Asset.AccountID)) + `">` + htmlEscape(a.Text) + `</a>`
		if !strings.Contains(section, link) {
			t.Errorf("no linked row for %q", a.Text)
		}
		if a.Severity != "" && !strings.Contains(section, `<span class="sev">`+a.Severity+`</span> `+link) {
			t.Errorf("the row %q lacks its severity %s", a.Text, a.Severity)
		}
	}
}
