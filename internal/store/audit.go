package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// AuditRecord is one AWS call a provisioning action made (or one action
// found to need none), as the audit log keeps it. It never holds a secret:
// passwords and keys warden generates are shown once and kept nowhere.
type AuditRecord struct {
	ID           int64     `json:"id"`
	At           time.Time `json:"at"`
	ConnectionID string    `json:"connection_id"`
	Actor        string    `json:"actor"`  // the ARN of the credentials (sts:GetCallerIdentity)
	Action       string    `json:"action"` // e.g. delete-user
	Target       string    `json:"target"` // e.g. user alice in 111122223333
	Call         string    `json:"call"`   // e.g. iam:DeleteLoginProfile, or "-" for a no-op
	// Result is ok, failed or no-op; started while the call is in flight,
	// and so for good when the process stopped during it (the call may or
	// may not have taken effect: planning again reads what it did).
	Result    string `json:"result"`
	RequestID string `json:"request_id"`
	Detail    string `json:"detail"` // the error, or what a no-op found
	// Params is what the call acted on: its inputs (user, key id, status,
	// permission set, account…), never a secret.
	Params map[string]string `json:"params"`
	// Outcome is what the call reported beyond its request id: the id of
	// what it created, or an Identity Center assignment operation's own
	// request id and final status.
	Outcome map[string]string `json:"outcome"`
}

// jsonMap encodes a string map for a TEXT column, {} when empty.
func jsonMap(m map[string]string) string {
	if len(m) == 0 {
		return "{}"
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// Audit results.
const (
	AuditStarted = "started"
	AuditOK      = "ok"
	AuditFailed  = "failed"
	AuditNoOp    = "no-op"
)

// StartAudit records that a call is about to be made (result started) and
// returns the record's id, for FinishAudit once the call returns: a call in
// flight when the process died stays visible as started.
func (s *DB) StartAudit(ctx context.Context, r AuditRecord) (int64, error) {
	r.Result = AuditStarted
	return s.insertAudit(ctx, r)
}

// insertAudit writes a record and returns its id.
func (s *DB) insertAudit(ctx context.Context, r AuditRecord) (int64, error) {
	var id int64
	err := s.db.QueryRowContext(ctx, s.d.rebind(`INSERT INTO audit_log (at, connection_id, actor, action, target, call, result, request_id, detail, params, outcome) VALUES (?,?,?,?,?,?,?,?,?,?,?) RETURNING id`),
		r.At.UTC().Format(timeFormat), conn(r.ConnectionID), r.Actor, r.Action, r.Target, r.Call, r.Result, r.RequestID, r.Detail, jsonMap(r.Params), jsonMap(r.Outcome)).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("write the audit log in %s: %w", s.path, err)
	}
	return id, nil
}

// FinishAudit completes a record StartAudit wrote with the call's result,
// AWS request id, detail and outcome.
func (s *DB) FinishAudit(ctx context.Context, id int64, result, requestID, detail string, outcome map[string]string) error {
	res, err := s.db.ExecContext(ctx, s.d.rebind(`UPDATE audit_log SET result=?, request_id=?, detail=?, outcome=? WHERE id=? AND result=?`),
		result, requestID, detail, jsonMap(outcome), id, AuditStarted)
	if err != nil {
		return fmt.Errorf("complete audit record %d in %s: %w", id, s.path, err)
	}
	if n, err := res.RowsAffected(); err == nil && n != 1 {
		return fmt.Errorf("complete audit record %d in %s: no such record in flight", id, s.path)
	}
	return nil
}

// AppendAudit adds a record to the audit log.
func (s *DB) AppendAudit(ctx context.Context, r AuditRecord) error {
	_, err := s.insertAudit(ctx, r)
	return err
}

// Audit returns a connection's audit records, newest first, at most limit
// (0 for all).
func (s *DB) Audit(ctx context.Context, connectionID string, limit int) ([]AuditRecord, error) {
	q := `SELECT id, at, connection_id, actor, action, target, call, result, request_id, detail, params, outcome FROM audit_log WHERE connection_id=? ORDER BY id DESC`
	args := []any{conn(connectionID)}
	if limit > 0 {
		q += ` LIMIT ?`
		args = append(args, limit)
	}
	rows, err := s.db.QueryContext(ctx, s.d.rebind(q), args...)
	if err != nil {
		return nil, fmt.Errorf("read the audit log in %s: %w", s.path, err)
	}
	defer rows.Close()
	out := []AuditRecord{}
	for rows.Next() {
		var r AuditRecord
		var at, params, outcome string
		if err := rows.Scan(&r.ID, &at, &r.ConnectionID, &r.Actor, &r.Action, &r.Target, &r.Call, &r.Result, &r.RequestID, &r.Detail, &params, &outcome); err != nil {
			return nil, fmt.Errorf("read the audit log in %s: %w", s.path, err)
		}
		r.Params, r.Outcome = map[string]string{}, map[string]string{}
		if json.Unmarshal([]byte(params), &r.Params) != nil || json.Unmarshal([]byte(outcome), &r.Outcome) != nil {
			return nil, fmt.Errorf("read the audit log in %s: record %d is corrupt", s.path, r.ID)
		}
		r.At, _ = time.Parse(timeFormat, at)
		out = append(out, r)
	}
	return out, rows.Err()
}

// SaveDeactivation records what deactivating a principal removed, so
// reactivation can restore it; state is the caller's JSON.
func (s *DB) SaveDeactivation(ctx context.Context, connectionID, accountID, principal, state string) error {
	_, err := s.db.ExecContext(ctx, s.d.rebind(`INSERT INTO deactivations (connection_id, account_id, principal, at, state) VALUES (?,?,?,?,?)
		ON CONFLICT (connection_id, account_id, principal) DO UPDATE SET at=excluded.at, state=excluded.state`),
		conn(connectionID), accountID, principal, time.Now().UTC().Format(timeFormat), state)
	if err != nil {
		return fmt.Errorf("record the deactivation of %s in %s: %w", principal, s.path, err)
	}
	return nil
}

// Deactivation returns the recorded state of a deactivated principal, or
// ErrNotFound.
func (s *DB) Deactivation(ctx context.Context, connectionID, accountID, principal string) (string, error) {
	var state string
	err := s.db.QueryRowContext(ctx, s.d.rebind(`SELECT state FROM deactivations WHERE connection_id=? AND account_id=? AND principal=?`),
		conn(connectionID), accountID, principal).Scan(&state)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("deactivation of %s: %w", principal, ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("read the deactivation of %s in %s: %w", principal, s.path, err)
	}
	return state, nil
}

// DeleteDeactivation forgets a principal's deactivation record.
func (s *DB) DeleteDeactivation(ctx context.Context, connectionID, accountID, principal string) error {
	_, err := s.db.ExecContext(ctx, s.d.rebind(`DELETE FROM deactivations WHERE connection_id=? AND account_id=? AND principal=?`), conn(connectionID), accountID, principal)
	if err != nil {
		return fmt.Errorf("forget the deactivation of %s in %s: %w", principal, s.path, err)
	}
	return nil
}

// PushedIDs returns the external ids warden has pushed to a SCIM endpoint:
// the users a later push may treat as leavers.
func (s *DB) PushedIDs(ctx context.Context, endpoint string) (map[string]bool, error) {
	rows, err := s.db.QueryContext(ctx, s.d.rebind(`SELECT external_id FROM scim_pushed WHERE endpoint=?`), endpoint)
	if err != nil {
		return nil, fmt.Errorf("read pushed ids from %s: %w", s.path, err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("read pushed ids from %s: %w", s.path, err)
		}
		out[id] = true
	}
	return out, rows.Err()
}

// AddPushedIDs records external ids pushed to a SCIM endpoint.
func (s *DB) AddPushedIDs(ctx context.Context, endpoint string, ids []string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("record pushed ids in %s: %w", s.path, err)
	}
	defer tx.Rollback()
	for _, id := range ids {
		if _, err := tx.ExecContext(ctx, s.d.rebind(`INSERT INTO scim_pushed (endpoint, external_id) VALUES (?,?) ON CONFLICT DO NOTHING`), endpoint, id); err != nil {
			return fmt.Errorf("record pushed ids in %s: %w", s.path, err)
		}
	}
	return tx.Commit()
}
