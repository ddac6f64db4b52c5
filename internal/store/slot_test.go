package store

import (
	"context"
	"testing"
	"time"

	"github.com/warden-iam/warden/internal/model"
)

// testSlots writes snapshots with and without a slot: each reads back with
// its slot, SlotSnapshot finds the one of a slot and nothing for another
// slot or connection, and a second snapshot of one connection's slot is
// refused while another connection's same slot is not.
func testSlots(t *testing.T, st *DB) {
	ctx := context.Background()
	slot := time.Date(2026, 12, 2, 6, 0, 0, 0, time.UTC)
	at := slot.Add(90 * time.Second)
	snap := func(conn string, slot *time.Time) *model.Snapshot {
		return &model.Snapshot{ConnectionID: conn, StartedAt: at, FinishedAt: at.Add(time.Second), Status: model.StatusComplete, Slot: slot}
	}
	manual, err := st.WriteSnapshot(ctx, snap("prod", nil), sampleGraph())
	if err != nil {
		t.Fatal(err)
	}
	// A slot given in another zone is the same instant.
	local := slot.In(time.FixedZone("CET", 3600))
	scheduled, err := st.WriteSnapshot(ctx, snap("prod", &local), sampleGraph())
	if err != nil {
		t.Fatal(err)
	}
	got, err := st.SlotSnapshot(ctx, "prod", slot)
	if err != nil || got == nil || got.ID != scheduled || got.Slot == nil || !got.Slot.Equal(slot) {
		t.Fatalf("SlotSnapshot(prod, %s) = %+v, %v; want snapshot %d with its slot", slot, got, err, scheduled)
	}
	for _, q := range []struct {
		conn string
		slot time.Time
	}{{"prod", slot.Add(time.Hour)}, {"prod", slot.Add(time.Millisecond)}, {"staging", slot}} {
		if got, err := st.SlotSnapshot(ctx, q.conn, q.slot); err != nil || got != nil {
			t.Errorf("SlotSnapshot(%s, %s) = %+v, %v; want none", q.conn, q.slot, got, err)
		}
	}
	m, err := st.Snapshot(ctx, manual)
	if err != nil || m.Slot != nil {
		t.Errorf("manual snapshot %d: slot %v, %v; want none", manual, m.Slot, err)
	}
	if _, err := st.WriteSnapshot(ctx, snap("prod", &slot), sampleGraph()); err == nil {
		t.Errorf("a second snapshot of prod's slot %s was stored", slot)
	}
	if _, err := st.WriteSnapshot(ctx, snap("staging", &slot), sampleGraph()); err != nil {
		t.Errorf("staging's snapshot of the slot prod has: %v", err)
	}
	snaps, err := st.Snapshots(ctx, "prod")
	if err != nil || len(snaps) != 2 || snaps[0].ID != scheduled || snaps[0].Slot == nil || !snaps[0].Slot.Equal(slot) {
		t.Errorf("prod's snapshots %+v, %v: want the manual one and the one of slot %s", snaps, err, slot)
	}
}

func TestSlots(t *testing.T) { eachBackend(t, testSlots) }
