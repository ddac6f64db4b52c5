package store

import (
	"context"

	"encoding/json"
	"fmt"
	"time"
)

// activityTimeFormat is the fixed-width UTC time of activity columns, so
// that the text order is the time order on both back-ends.
const activityTimeFormat = "2006-01-02T15:04:05.000000000Z"

// ActivityRecord is one CloudTrail event as the store keeps it: its
// identity and the columns the answers search by (time, actor, target),
// and the whole event as JSON in Data.
type ActivityRecord struct {
	EventID  string
	Account  string
	Region   string
	At       time.Time
	Name     string
	ActorARN string
	// Target is what the event acted on: the role assumed, the user
	// changed ("" when none).
	Target string
	Data   json.RawMessage
}

// ActivityCursor is where the next activity read of one account and region
// starts (collect.Cursor).
type ActivityCursor struct {
	Account string
	Region  string
	Last    time.Time
	LastIDs []string
}

// SaveActivity stores events and the cursors that follow them in one
// transaction, so a crash never leaves a cursor ahead of its events. An
// event already stored (same connection and ID) is kept as it was: a read
// that overlaps the last never stores an event twice.
func (s *DB) SaveActivity(ctx context.Context, connection string, events []ActivityRecord, cursors []ActivityCursor) (added int, err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("store activity in %s: %w", s.path, err)
	}
	defer tx.Rollback()
	ins, err := tx.PrepareContext(ctx, s.d.rebind(`INSERT INTO activity_events
		(connection_id, event_id, account_id, region, at, name, actor_arn, target, data)
		VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING`))
	if err != nil {
		return 0, fmt.Errorf("store activity in %s: %w", s.path, err)
	}
	defer ins.Close()
	for _, e := range events {
		data := e.Data
		if len(data) == 0 {
			data = json.RawMessage("{}")
		}
		res, err := ins.ExecContext(ctx, connection, e.EventID, e.Account, e.Region, e.At.UTC().Format(activityTimeFormat), e.Name, e.ActorARN, e.Target, string(data))
		if err != nil {
			return 0, fmt.Errorf("store activity event %s in %s: %w", e.EventID, s.path, err)
		}
		if n, _ := res.RowsAffected(); n > 0 {
			added++
		}
	}
	for _, c := range cursors {
		ids, _ := json.Marshal(c.LastIDs)
		if c.LastIDs == nil {
			ids = []byte("[]")
		}
		if _, err := tx.ExecContext(ctx, s.d.rebind(`INSERT INTO activity_cursors (connection_id, account_id, region, last_at, last_ids)
			VALUES (?,?,?,?,?) ON CONFLICT (connection_id, account_id, region) DO UPDATE SET last_at = excluded.last_at, last_ids = excluded.last_ids`),
			connection, c.Account, c.Region, c.Last.UTC().Format(activityTimeFormat), string(ids)); err != nil {
			return 0, fmt.Errorf("store activity cursor %s/%s in %s: %w", c.Account, c.Region, s.path, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("store activity in %s: %w", s.path, err)
	}
	return added, nil
}

// ActivityCursors returns a connection's cursors, by account and region.
func (s *DB) ActivityCursors(ctx context.Context, connection string) ([]ActivityCursor, error) {
	rows, err := s.db.QueryContext(ctx, s.d.rebind(`SELECT account_id, region, last_at, last_ids FROM activity_cursors
		WHERE connection_id = ? ORDER BY account_id, region`), connection)
	if err != nil {
		return nil, fmt.Errorf("read activity cursors from %s: %w", s.path, err)
	}
	defer rows.Close()
	var out []ActivityCursor
	for rows.Next() {
		var c ActivityCursor
		var at, ids string
		if err := rows.Scan(&c.Account, &c.Region, &at, &ids); err != nil {
			return nil, fmt.Errorf("read activity cursors from %s: %w", s.path, err)
		}
		if c.Last, err = time.Parse(activityTimeFormat, at); err != nil {
			return nil, fmt.Errorf("read activity cursor %s/%s from %s: %w", c.Account, c.Region, s.path, err)
		}
		if err := json.Unmarshal([]byte(ids), &c.LastIDs); err != nil {
			return nil, fmt.Errorf("read activity cursor %s/%s from %s: %w", c.Account, c.Region, s.path, err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Activity returns a connection's events at or after since, oldest first
// (by time, then event ID); account "" means every account.
func (s *DB) Activity(ctx context.Context, connection, account string, since time.Time) ([]ActivityRecord, error) {
	q := `SELECT event_id, account_id, region, at, name, actor_arn, target, data FROM activity_events
		WHERE connection_id = ? AND at >= ?`
	args := []any{connection, since.UTC().Format(activityTimeFormat)}
	if account != "" {
		q += ` AND account_id = ?`
		args = append(args, account)
	}
	rows, err := s.db.QueryContext(ctx, s.d.rebind(q+` ORDER BY at, event_id`), args...)
	if err != nil {
		return nil, fmt.Errorf("read activity from %s: %w", s.path, err)
	}
	defer rows.Close()
	var out []ActivityRecord
	for rows.Next() {
		var r ActivityRecord
		var at, data string
		if err := rows.Scan(&r.EventID, &r.Account, &r.Region, &at, &r.Name, &r.ActorARN, &r.Target, &data); err != nil {
			return nil, fmt.Errorf("read activity from %s: %w", s.path, err)
		}
		if r.At, err = time.Parse(activityTimeFormat, at); err != nil {
			return nil, fmt.Errorf("read activity event %s from %s: %w", r.EventID, s.path, err)
		}
		r.Data = json.RawMessage(data)
		out = append(out, r)
	}
	return out, rows.Err()
}
