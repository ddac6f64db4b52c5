package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/warden-iam/warden/internal/model"

	_ "modernc.org/sqlite" // registers the pure-Go "sqlite" driver
)

const defaultConnection = "default"

// DB is the Store kept in a SQL database: one SQLite file (OpenSQLite) or a
// PostgreSQL server (OpenPostgres). The two back-ends run the same queries;
// what differs between them is behind d.
type DB struct {
	db   *sql.DB
	path string // the file, or the server's URL with any password masked: for messages
	d    dialect
}

var _ Store = (*DB)(nil)

// Close releases the database.
func (s *DB) Close() error { return s.db.Close() }

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

// WriteSnapshot stores snap and g in one transaction; see Store.
func (s *DB) WriteSnapshot(ctx context.Context, snap *model.Snapshot, g *model.Graph) (int64, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("write snapshot to %s: %w", s.path, err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `INSERT INTO snapshots (connection_id, started_at, finished_at, status, errors, api_calls, counts, accounts) VALUES (?,?,?,?,?,?,?,?)`,
		conn(snap.ConnectionID), snap.StartedAt.UTC().Format(timeFormat), snap.FinishedAt.UTC().Format(timeFormat), string(snap.Status),
		marshal(snap.Errors), marshal(snap.APICalls), marshal(snap.Counts), marshal(snap.Accounts))
	if err != nil {
		return 0, fmt.Errorf("write snapshot to %s: %w", s.path, err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, fmt.Errorf("write snapshot to %s: %w", s.path, err)
	}
	if err := insertRows(ctx, tx, `INSERT INTO resources (snapshot_id, id, type, account_id, name, arn, parent_id, data) VALUES `, 8, len(g.Resources), func(i int) []any {
		r := g.Resources[i]
		return []any{id, r.ID, string(r.Type), r.AccountID, r.Name, r.ARN, r.ParentID, marshal(r)}
	}); err != nil {
		return 0, fmt.Errorf("write resources to %s: %w", s.path, err)
	}
	if err := insertRows(ctx, tx, `INSERT INTO entitlements (snapshot_id, id, resource_id, name) VALUES `, 4, len(g.Entitlements), func(i int) []any {
		e := g.Entitlements[i]
		return []any{id, e.ID, e.ResourceID, e.Name}
	}); err != nil {
		return 0, fmt.Errorf("write entitlements to %s: %w", s.path, err)
	}
	if err := insertRows(ctx, tx, `INSERT INTO grants (snapshot_id, principal_id, entitlement_id, resource_id, provenance, via_id) VALUES `, 6, len(g.Grants), func(i int) []any {
		gr := g.Grants[i]
		return []any{id, gr.PrincipalID, gr.EntitlementID, entitlementResource(gr.EntitlementID), string(gr.Provenance), gr.ViaID}
	}); err != nil {
		return 0, fmt.Errorf("write grants to %s: %w", s.path, err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("commit snapshot to %s: %w", s.path, err)
	}
	snap.ID = id
	return id, nil
}

// entitlementResource returns the resource part of an entitlement ID.
func entitlementResource(entID string) string {
	if i := strings.LastIndexByte(entID, '#'); i >= 0 {
		return entID[:i]
	}
	return entID
}

// insertRows inserts n rows in multi-row statements of up to 100 rows.
func insertRows(ctx context.Context, tx *sql.Tx, prefix string, cols, n int, row func(int) []any) error {
	const batch = 100
	one := "(" + strings.TrimSuffix(strings.Repeat("?,", cols), ",") + ")"
	var full *sql.Stmt
	for start := 0; start < n; start += batch {
		end := min(start+batch, n)
		args := make([]any, 0, (end-start)*cols)
		for i := start; i < end; i++ {
			args = append(args, row(i)...)
		}
		var err error
		if end-start == batch {
			if full == nil {
				if full, err = tx.PrepareContext(ctx, prefix+strings.TrimSuffix(strings.Repeat(one+",", batch), ",")); err != nil {
					return err
				}
				defer full.Close()
			}
			_, err = full.ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, prefix+strings.TrimSuffix(strings.Repeat(one+",", end-start), ","), args...)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func scanSnapshot(sc interface{ Scan(...any) error }) (*model.Snapshot, error) {
	var snap model.Snapshot
	var started, finished, status, errs, calls, counts, accounts string
	if err := sc.Scan(&snap.ID, &snap.ConnectionID, &started, &finished, &status, &errs, &calls, &counts, &accounts); err != nil {
		return nil, err
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
	}{{errs, &snap.Errors}, {calls, &snap.APICalls}, {counts, &snap.Counts}, {accounts, &snap.Accounts}} {
		if err := json.Unmarshal([]byte(f.s), f.dst); err != nil {
			return nil, err
		}
	}
	return &snap, nil
}

const snapshotCols = `id, connection_id, started_at, finished_at, status, errors, api_calls, counts, accounts`

// LatestSnapshot returns the newest snapshot of a connection; see Store.
func (s *DB) LatestSnapshot(ctx context.Context, connectionID string) (*model.Snapshot, error) {
	snap, err := scanSnapshot(s.db.QueryRowContext(ctx, `SELECT `+snapshotCols+` FROM snapshots WHERE connection_id=? ORDER BY id DESC LIMIT 1`, conn(connectionID)))
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
	rows, err := s.db.QueryContext(ctx, `SELECT `+snapshotCols+` FROM snapshots WHERE connection_id=? ORDER BY id DESC`, conn(connectionID))
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

func (s *DB) queryResources(ctx context.Context, query string, args ...any) ([]model.Resource, error) {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("read resources from %s: %w", s.path, err)
	}
	defer rows.Close()
	var out []model.Resource
	for rows.Next() {
		var data string
		if err := rows.Scan(&data); err != nil {
			return nil, fmt.Errorf("read resources from %s: %w", s.path, err)
		}
		var r model.Resource
		if err := json.Unmarshal([]byte(data), &r); err != nil {
			return nil, fmt.Errorf("decode resource in %s: %w", s.path, err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Resources lists a snapshot's resources matching f, by type then name.
func (s *DB) Resources(ctx context.Context, snapshotID int64, f ResourceFilter) ([]model.Resource, error) {
	q := `SELECT data FROM resources WHERE snapshot_id=?`
	args := []any{snapshotID}
	for _, c := range []struct{ col, val string }{{"type", string(f.Type)}, {"account_id", f.AccountID}, {"parent_id", f.ParentID}} {
		if c.val != "" {
			q += " AND " + c.col + "=?"
			args = append(args, c.val)
		}
	}
	return s.queryResources(ctx, q+" ORDER BY type, name, id", args...)
}

// Resource returns one resource by ID, or ErrNotFound.
func (s *DB) Resource(ctx context.Context, snapshotID int64, id string) (*model.Resource, error) {
	rs, err := s.queryResources(ctx, `SELECT data FROM resources WHERE snapshot_id=? AND id=?`, snapshotID, id)
	if err != nil {
		return nil, err
	}
	if len(rs) == 0 {
		return nil, fmt.Errorf("resource %s: %w", id, ErrNotFound)
	}
	return &rs[0], nil
}

// FindPrincipal resolves a query to principals: first an exact resource ID or
// ARN; then an IAM user, group or role or Identity Center user or group by
// name (case-insensitive); then an Identity Center user by e-mail address,
// or an IAM user, group or role with a tag whose value equals the query
// (case-insensitive), such as an email tag. No match returns an empty list
// and no error.
func (s *DB) FindPrincipal(ctx context.Context, snapshotID int64, query string) ([]model.Resource, error) {
	steps := []string{
		`SELECT data FROM resources WHERE snapshot_id=? AND (id=?1 OR arn=?1) ORDER BY id`,
		`SELECT data FROM resources WHERE snapshot_id=? AND type IN ('iam_user','iam_group','iam_role','sso_user','sso_group') AND name=?1 COLLATE NOCASE ORDER BY type, id`,
		`SELECT data FROM resources WHERE snapshot_id=? AND (type IN ('iam_user','iam_group','iam_role')
		   AND EXISTS (SELECT 1 FROM json_each(json_extract(data, '$.tags')) WHERE lower(value)=lower(?1))
		   OR type='sso_user' AND EXISTS (SELECT 1 FROM json_each(json_extract(data, '$.sso_user.emails')) WHERE lower(value)=lower(?1))) ORDER BY type, id`,
	}
	for _, q := range steps {
		q = strings.Replace(q, "snapshot_id=?", "snapshot_id=?2", 1)
		rs, err := s.queryResources(ctx, q, query, snapshotID)
		if err != nil || len(rs) > 0 {
			return rs, err
		}
	}
	return nil, nil
}

// IAMUsersMatching returns IAM users named or tagged with one of values;
// see Store.
func (s *DB) IAMUsersMatching(ctx context.Context, snapshotID int64, values []string) ([]model.Resource, error) {
	if len(values) == 0 {
		return nil, nil
	}
	lower := make([]string, len(values))
	for i, v := range values {
		lower[i] = strings.ToLower(v)
	}
	b, _ := json.Marshal(lower)
	return s.queryResources(ctx, `SELECT data FROM resources WHERE snapshot_id=?1 AND type='iam_user'
		AND (lower(name) IN (SELECT value FROM json_each(?2))
		  OR EXISTS (SELECT 1 FROM json_each(json_extract(data, '$.tags')) t WHERE lower(t.value) IN (SELECT value FROM json_each(?2))))
		ORDER BY account_id, name`, snapshotID, string(b))
}

// GrantsOf returns everything principalID holds, with the resource offering
// each entitlement.
func (s *DB) GrantsOf(ctx context.Context, snapshotID int64, principalID string) ([]HeldGrant, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT g.principal_id, g.entitlement_id, g.provenance, g.via_id, COALESCE(r.data, '')
		FROM grants g LEFT JOIN resources r ON r.snapshot_id=g.snapshot_id AND r.id=g.resource_id
		WHERE g.snapshot_id=? AND g.principal_id=? ORDER BY g.entitlement_id, g.provenance, g.via_id`, snapshotID, principalID)
	if err != nil {
		return nil, fmt.Errorf("read grants of %s from %s: %w", principalID, s.path, err)
	}
	defer rows.Close()
	var out []HeldGrant
	for rows.Next() {
		var h HeldGrant
		var prov, data string
		if err := rows.Scan(&h.Grant.PrincipalID, &h.Grant.EntitlementID, &prov, &h.Grant.ViaID, &data); err != nil {
			return nil, fmt.Errorf("read grants of %s from %s: %w", principalID, s.path, err)
		}
		h.Grant.Provenance = model.Provenance(prov)
		if data != "" {
			if err := json.Unmarshal([]byte(data), &h.Resource); err != nil {
				return nil, fmt.Errorf("decode resource in %s: %w", s.path, err)
			}
		} else {
			h.Resource = model.Resource{ID: entitlementResource(h.Grant.EntitlementID)}
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// HoldersOf returns everyone holding the entitlement.
func (s *DB) HoldersOf(ctx context.Context, snapshotID int64, entitlementID string) ([]Holder, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT g.principal_id, g.entitlement_id, g.provenance, g.via_id, COALESCE(r.data, '')
		FROM grants g LEFT JOIN resources r ON r.snapshot_id=g.snapshot_id AND r.id=g.principal_id
		WHERE g.snapshot_id=? AND g.entitlement_id=? ORDER BY g.principal_id, g.provenance, g.via_id`, snapshotID, entitlementID)
	if err != nil {
		return nil, fmt.Errorf("read holders of %s from %s: %w", entitlementID, s.path, err)
	}
	defer rows.Close()
	var out []Holder
	for rows.Next() {
		var h Holder
		var prov, data string
		if err := rows.Scan(&h.Grant.PrincipalID, &h.Grant.EntitlementID, &prov, &h.Grant.ViaID, &data); err != nil {
			return nil, fmt.Errorf("read holders of %s from %s: %w", entitlementID, s.path, err)
		}
		h.Grant.Provenance = model.Provenance(prov)
		if data != "" {
			h.Principal = new(model.Resource)
			if err := json.Unmarshal([]byte(data), h.Principal); err != nil {
				return nil, fmt.Errorf("decode resource in %s: %w", s.path, err)
			}
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// Graph loads a whole snapshot, in the canonical order of model.Graph.Sort.
func (s *DB) Graph(ctx context.Context, snapshotID int64) (*model.Graph, error) {
	var g model.Graph
	var err error
	if g.Resources, err = s.queryResources(ctx, `SELECT data FROM resources WHERE snapshot_id=?`, snapshotID); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, resource_id, name FROM entitlements WHERE snapshot_id=?`, snapshotID)
	if err != nil {
		return nil, fmt.Errorf("read entitlements from %s: %w", s.path, err)
	}
	for rows.Next() {
		var e model.Entitlement
		if err := rows.Scan(&e.ID, &e.ResourceID, &e.Name); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read entitlements from %s: %w", s.path, err)
		}
		g.Entitlements = append(g.Entitlements, e)
	}
	rows.Close()
	rows, err = s.db.QueryContext(ctx, `SELECT principal_id, entitlement_id, provenance, via_id FROM grants WHERE snapshot_id=?`, snapshotID)
	if err != nil {
		return nil, fmt.Errorf("read grants from %s: %w", s.path, err)
	}
	defer rows.Close()
	for rows.Next() {
		var gr model.Grant
		var prov string
		if err := rows.Scan(&gr.PrincipalID, &gr.EntitlementID, &prov, &gr.ViaID); err != nil {
			return nil, fmt.Errorf("read grants from %s: %w", s.path, err)
		}
		gr.Provenance = model.Provenance(prov)
		g.Grants = append(g.Grants, gr)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read grants from %s: %w", s.path, err)
	}
	g.Sort()
	return &g, nil
}

// Snapshot returns one snapshot by ID; see Store.
func (s *DB) Snapshot(ctx context.Context, id int64) (*model.Snapshot, error) {
	snap, err := scanSnapshot(s.db.QueryRowContext(ctx, `SELECT `+snapshotCols+` FROM snapshots WHERE id=?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("snapshot %d: %w (list them with `warden snapshots`)", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read snapshot %d from %s: %w", id, s.path, err)
	}
	return snap, nil
}

// ResourcesByID returns the resources of a snapshot with the given IDs;
// see Store.
func (s *DB) ResourcesByID(ctx context.Context, snapshotID int64, ids []string) (map[string]model.Resource, error) {
	out := make(map[string]model.Resource, len(ids))
	for _, id := range ids {
		r, err := s.Resource(ctx, snapshotID, id)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out[id] = *r
	}
	return out, nil
}

// Changes returns what differs between two snapshots; see Store.
func (s *DB) Changes(ctx context.Context, fromID, toID int64) (*ChangeSet, error) {
	a, err := s.Graph(ctx, fromID)
	if err != nil {
		return nil, err
	}
	b, err := s.Graph(ctx, toID)
	if err != nil {
		return nil, err
	}
	return GraphChanges(fromID, toID, a, b), nil
}

// Prune deletes a connection's snapshots as p says; see Store.
func (s *DB) Prune(ctx context.Context, connectionID string, p PruneOptions) (*PruneResult, error) {
	snaps, err := s.Snapshots(ctx, connectionID)
	if err != nil {
		return nil, err
	}
	now := p.Now
	if now.IsZero() {
		now = time.Now()
	}
	res := &PruneResult{ConnectionID: conn(connectionID), Deleted: []int64{}, DryRun: p.DryRun}
	for i, snap := range snaps {
		if i > 0 && (p.Keep > 0 && i >= p.Keep || p.OlderThan > 0 && now.Sub(snap.FinishedAt) > p.OlderThan) {
			res.Deleted = append(res.Deleted, snap.ID)
		} else {
			res.Kept++
		}
	}
	if p.DryRun || len(res.Deleted) == 0 {
		return res, nil
	}
	for _, id := range res.Deleted {
		if _, err := s.db.ExecContext(ctx, `DELETE FROM snapshots WHERE id=?`, id); err != nil {
			return nil, fmt.Errorf("prune snapshot %d in %s: %w", id, s.path, err)
		}
	}
	return res, nil
}
