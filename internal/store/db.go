package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/warden-iam/warden/internal/model"

	_ "modernc.org/sqlite" // registers the pure-Go "sqlite" driver
)

const defaultConnection = "default"

// DB is the Store kept in a SQL database: one SQLite file (OpenSQLite) or a
// PostgreSQL server (OpenPostgres). The two back-ends run the same queries;
// what differs between them is behind d.
type DB struct {
	db    *sql.DB
	path  string // the file, or the server's URL with any password masked: for messages
	d     dialect
	conns sync.Map // snapshot ID → its connection, once read
	// readOnly is set for a database opened by OpenSQLiteReadOnly: what
	// only a write would keep (an effective index) is not prepared.
	readOnly bool
	// indexing counts the effective indexes being built after a write;
	// Close waits for them.
	indexing sync.WaitGroup
}

var _ Store = (*DB)(nil)

// Close releases the database, once the effective indexes being built
// after writes (WriteSnapshot) are stored.
func (s *DB) Close() error {
	s.indexing.Wait()
	return s.db.Close()
}

func conn(id string) string {
	if id == "" {
		return defaultConnection
	}
	return id
}

const timeFormat = time.RFC3339Nano

func marshal(v any) string {
	b, _ := json.Marshal(v) // model values always marshal
	return string(b)
}

// WriteSnapshot stores snap and g in one transaction; see Store. Only what
// differs from the connection's latest state is written. Once it is
// committed, the snapshot's effective index is built and stored in the
// background (and the connection's older snapshots' indexes dropped: see
// indexLatest), so that who-can over the latest snapshot reads one row
// even from a read-only store; the write returns at its commit, and Close
// waits for the index.
func (s *DB) WriteSnapshot(ctx context.Context, snap *model.Snapshot, g *model.Graph) (int64, error) {
	id, err := s.writeSnapshot(ctx, snap, g, false)
	if err == nil {
		connID := snap.ConnectionID
		s.indexing.Add(1)
		go func() {
			defer s.indexing.Done()
			s.indexLatest(context.WithoutCancel(ctx), connID, id)
		}()
	}
	return id, err
}

// importSnapshot writes snap with its own ID (a copy from another
// database), carrying nothing: the graph is the snapshot's whole content.
func (s *DB) importSnapshot(ctx context.Context, snap *model.Snapshot, g *model.Graph) error {
	_, err := s.writeSnapshot(ctx, snap, g, true)
	return err
}

func (s *DB) writeSnapshot(ctx context.Context, snap *model.Snapshot, g *model.Graph, keepID bool) (int64, error) {
	connID := conn(snap.ConnectionID)
	c, err := s.db.Conn(ctx)
	if err != nil {
		return 0, fmt.Errorf("write snapshot to %s: %w", s.path, err)
	}
	defer c.Close()
	if err := s.d.beginWrite(ctx, c, connID); err != nil {
		return 0, fmt.Errorf("write snapshot to %s: %w", s.path, err)
	}
	committed := false
	defer func() {
		if !committed {
			c.ExecContext(context.WithoutCancel(ctx), `ROLLBACK`)
		}
	}()
	cols := `connection_id, started_at, finished_at, status, errors, api_calls, counts, accounts, slot`
	args := []any{connID, snap.StartedAt.UTC().Format(timeFormat), snap.FinishedAt.UTC().Format(timeFormat), string(snap.Status),
		marshal(snap.Errors), marshal(snap.APICalls), marshal(snap.Counts), marshal(snap.Accounts), slotValue(snap.Slot)}
	if keepID {
		cols, args = "id, "+cols, append([]any{snap.ID}, args...)
	}
	var id int64
	if err := c.QueryRowContext(ctx, s.d.rebind(`INSERT INTO snapshots (`+cols+`) VALUES (`+strings.TrimSuffix(strings.Repeat("?,", len(args)), ",")+`) RETURNING id`), args...).Scan(&id); err != nil {
		return 0, fmt.Errorf("write snapshot to %s: %w", s.path, err)
	}
	var failed map[string]bool
	if !keepID {
		failed = failedParts(snap, g)
	}
	carried, err := writeVersions(ctx, c, s.d, connID, id, g, failed)
	if err != nil {
		return 0, fmt.Errorf("write snapshot to %s: %w", s.path, err)
	}
	if keepID {
		carried = snap.Carried
	}
	if len(carried) > 0 {
		if _, err := c.ExecContext(ctx, s.d.rebind(`UPDATE snapshots SET carried=? WHERE id=?`), marshal(carried), id); err != nil {
			return 0, fmt.Errorf("write snapshot to %s: %w", s.path, err)
		}
	}
	if _, err := c.ExecContext(ctx, `COMMIT`); err != nil {
		return 0, fmt.Errorf("commit snapshot to %s: %w", s.path, err)
	}
	committed = true
	snap.ID = id
	snap.ConnectionID = connID
	snap.Carried = carried
	s.conns.Store(id, connID)
	return id, nil
}

// entitlementResource returns the resource part of an entitlement ID.
func entitlementResource(entID string) string {
	if i := strings.LastIndexByte(entID, '#'); i >= 0 {
		return entID[:i]
	}
	return entID
}

func scanSnapshot(sc interface{ Scan(...any) error }) (*model.Snapshot, error) {
	var snap model.Snapshot
	var started, finished, status, errs, calls, counts, accounts, carried string
	var slot sql.NullString
	if err := sc.Scan(&snap.ID, &snap.ConnectionID, &started, &finished, &status, &errs, &calls, &counts, &accounts, &carried, &slot); err != nil {
		return nil, err
	}
	if slot.Valid {
		at, err := time.Parse(timeFormat, slot.String)
		if err != nil {
			return nil, fmt.Errorf("snapshot %d: slot %q: %w", snap.ID, slot.String, err)
		}
		snap.Slot = &at
	}
	snap.Status = model.SnapshotStatus(status)
	var err error
	if snap.StartedAt, err = time.Parse(timeFormat, started); err != nil {
		return nil, err
	}
	if snap.FinishedAt, err = time.Parse(timeFormat, finished); err != nil {
		return nil, err
	}
	for _, f := range []struct {
		s   string
		dst any
	}{{errs, &snap.Errors}, {calls, &snap.APICalls}, {counts, &snap.Counts}, {accounts, &snap.Accounts}, {carried, &snap.Carried}} {
		if err := json.Unmarshal([]byte(f.s), f.dst); err != nil {
			return nil, err
		}
	}
	if len(snap.Carried) == 0 {
		snap.Carried = nil
	}
	return &snap, nil
}

const snapshotCols = `id, connection_id, started_at, finished_at, status, errors, api_calls, counts, accounts, carried, slot`

// LatestSnapshot returns the newest snapshot of a connection; see Store.
func (s *DB) LatestSnapshot(ctx context.Context, connectionID string) (*model.Snapshot, error) {
	snap, err := scanSnapshot(s.db.QueryRowContext(ctx, s.d.rebind(`SELECT `+snapshotCols+` FROM snapshots WHERE connection_id=? ORDER BY id DESC LIMIT 1`), conn(connectionID)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNoSnapshot
	}
	if err != nil {
		return nil, fmt.Errorf("read latest snapshot from %s: %w", s.path, err)
	}
	return snap, nil
}

// Connections lists the connections that have snapshots; see Store.
func (s *DB) Connections(ctx context.Context) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT connection_id FROM snapshots ORDER BY connection_id`)
	if err != nil {
		return nil, fmt.Errorf("list connections in %s: %w", s.path, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("list connections in %s: %w", s.path, err)
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// Snapshots lists a connection's snapshots, newest first.
func (s *DB) Snapshots(ctx context.Context, connectionID string) ([]model.Snapshot, error) {
	rows, err := s.db.QueryContext(ctx, s.d.rebind(`SELECT `+snapshotCols+` FROM snapshots WHERE connection_id=? ORDER BY id DESC`), conn(connectionID))
	if err != nil {
		return nil, fmt.Errorf("list snapshots in %s: %w", s.path, err)
	}
	defer rows.Close()
	var out []model.Snapshot
	for rows.Next() {
		snap, err := scanSnapshot(rows)
		if err != nil {
			return nil, fmt.Errorf("list snapshots in %s: %w", s.path, err)
		}
		out = append(out, *snap)
	}
	return out, rows.Err()
}
