package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/warden-iam/warden/internal/model"
)

// slotValue is a snapshot's slot as stored: RFC 3339 in UTC, or NULL.
func slotValue(slot *time.Time) any {
	if slot == nil {
		return nil
	}
	return slot.UTC().Format(timeFormat)
}

// SlotSnapshot returns the connection's snapshot stored for the scheduled
// slot (model.Snapshot.Slot), or nil and no error when there is none. A
// scheduler holding the connection's sync lock (LockSync) asks it before
// syncing a slot: a slot with a snapshot has run, here or on a replica
// sharing the database. The store holds at most one snapshot per
// connection and slot: a second WriteSnapshot of one slot fails.
func (s *DB) SlotSnapshot(ctx context.Context, connectionID string, slot time.Time) (*model.Snapshot, error) {
	snap, err := scanSnapshot(s.db.QueryRowContext(ctx, s.d.rebind(`SELECT `+snapshotCols+` FROM snapshots WHERE connection_id=? AND slot=?`),
		conn(connectionID), slotValue(&slot)))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("look up the snapshot of connection %s for slot %s in %s: %w", conn(connectionID), slot.UTC().Format(time.RFC3339), s.path, err)
	}
	return snap, nil
}
