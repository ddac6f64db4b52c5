package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// LastAccessedRecord is one principal's IAM last accessed data as the
// store keeps it: when it was read, at which granularity, and its services
// as JSON (collect.ServiceLastAccessed values).
type LastAccessedRecord struct {
	Principal   string
	Account     string
	ReadAt      time.Time
	Granularity string
	Services    json.RawMessage
}

// SaveLastAccessed stores principals' last accessed data in one
// transaction, each replacing what was stored for that principal.
func (s *DB) SaveLastAccessed(ctx context.Context, connection string, recs []LastAccessedRecord) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store last accessed data in %s: %w", s.path, err)
	}
	defer tx.Rollback()
	up, err := tx.PrepareContext(ctx, s.d.rebind(`INSERT INTO last_accessed
		(connection_id, principal_arn, account_id, read_at, granularity, services) VALUES (?,?,?,?,?,?)
		ON CONFLICT (connection_id, principal_arn) DO UPDATE SET account_id = excluded.account_id,
		read_at = excluded.read_at, granularity = excluded.granularity, services = excluded.services`))
	if err != nil {
		return fmt.Errorf("store last accessed data in %s: %w", s.path, err)
	}
	defer up.Close()
	for _, r := range recs {
		services := r.Services
		if len(services) == 0 {
			services = json.RawMessage("[]")
		}
		if _, err := up.ExecContext(ctx, connection, r.Principal, r.Account, r.ReadAt.UTC().Format(activityTimeFormat), r.Granularity, string(services)); err != nil {
			return fmt.Errorf("store last accessed data of %s in %s: %w", r.Principal, s.path, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store last accessed data in %s: %w", s.path, err)
	}
	return nil
}

// LastAccessed returns a connection's last accessed data, by principal
// ARN; account "" means every account.
func (s *DB) LastAccessed(ctx context.Context, connection, account string) ([]LastAccessedRecord, error) {
	q := `SELECT principal_arn, account_id, read_at, granularity, services FROM last_accessed WHERE connection_id = ?`
	args := []any{connection}
	if account != "" {
		q += ` AND account_id = ?`
		args = append(args, account)
	}
	rows, err := s.db.QueryContext(ctx, s.d.rebind(q+` ORDER BY principal_arn`), args...)
	if err != nil {
		return nil, fmt.Errorf("read last accessed data from %s: %w", s.path, err)
	}
	defer rows.Close()
	var out []LastAccessedRecord
	for rows.Next() {
		var r LastAccessedRecord
		var at, services string
		if err := rows.Scan(&r.Principal, &r.Account, &at, &r.Granularity, &services); err != nil {
			return nil, fmt.Errorf("read last accessed data from %s: %w", s.path, err)
		}
		if r.ReadAt, err = time.Parse(activityTimeFormat, at); err != nil {
			return nil, fmt.Errorf("read last accessed data of %s from %s: %w", r.Principal, s.path, err)
		}
		r.Services = json.RawMessage(services)
		out = append(out, r)
	}
	return out, rows.Err()
}

// LastAccessedReads returns when each principal's last accessed data of a
// connection was last read, by ARN: what orders the next sync's reads.
func (s *DB) LastAccessedReads(ctx context.Context, connection string) (map[string]time.Time, error) {
	rows, err := s.db.QueryContext(ctx, s.d.rebind(`SELECT principal_arn, read_at FROM last_accessed WHERE connection_id = ?`), connection)
	if err != nil {
		return nil, fmt.Errorf("read last accessed times from %s: %w", s.path, err)
	}
	defer rows.Close()
	out := map[string]time.Time{}
	for rows.Next() {
		var arn, at string
		if err := rows.Scan(&arn, &at); err != nil {
			return nil, fmt.Errorf("read last accessed times from %s: %w", s.path, err)
		}
		t, err := time.Parse(activityTimeFormat, at)
		if err != nil {
			return nil, fmt.Errorf("read last accessed time of %s from %s: %w", arn, s.path, err)
		}
		out[arn] = t
	}
	return out, rows.Err()
}
