package store

import (
	"context"
	"testing"
	"time"

	"github.com/warden-iam/warden/internal/model"
)

// TestForeignCountsWhatTheDemoDidNotWrite: a database of demo snapshots
// alone holds nothing foreign; a snapshot the demo did not mark, and
// records of any kind, are each named and counted.
func TestForeignCountsWhatTheDemoDidNotWrite(t *testing.T) {
	eachBackend(t, func(t *testing.T, st *DB) {
		ctx := context.Background()
		foreign := func() string {
			t.Helper()
			got, err := st.Foreign(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return got
		}
		if got := foreign(); got != "" {
			t.Errorf("a new database holds %q, want nothing", got)
		}
		for range 2 {
			id, err := st.WriteSnapshot(ctx, &model.Snapshot{Status: model.StatusComplete}, sampleGraph())
			if err != nil {
				t.Fatal(err)
			}
			if err := st.MarkDemoSnapshot(ctx, id); err != nil {
				t.Fatal(err)
			}
		}
		if got := foreign(); got != "" {
			t.Errorf("a database of demo snapshots holds %q, want nothing", got)
		}
		for range 2 {
			if _, err := st.WriteSnapshot(ctx, &model.Snapshot{Status: model.StatusComplete}, sampleGraph()); err != nil {
				t.Fatal(err)
			}
		}
		if err := st.AppendAudit(ctx, AuditRecord{At: time.Now(), Action: "delete-user", Target: "user x", Call: "iam:DeleteUser", Result: AuditOK}); err != nil {
			t.Fatal(err)
		}
		if got, want := foreign(), "2 snapshots not made by the demo, 1 audit record"; got != want {
			t.Errorf("Foreign = %q, want %q", got, want)
		}
	})
}
