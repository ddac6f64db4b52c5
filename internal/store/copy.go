package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/warden-iam/warden/internal/model"
)

// ErrTargetNotEmpty is returned (wrapped) by Copy when the target database
// already holds snapshots or audit records.
var ErrTargetNotEmpty = errors.New("the target database is not empty")

// CopyCounts is what one database holds, as Copy compares them.
type CopyCounts struct {
	Snapshots     int   `json:"snapshots"`
	Resources     int64 `json:"resources"`    // summed over every snapshot
	Entitlements  int64 `json:"entitlements"` // summed over every snapshot
	Grants        int64 `json:"grants"`       // summed over every snapshot
	AuditRecords  int64 `json:"audit_records"`
	Deactivations int64 `json:"deactivations"`
	SCIMPushed    int64 `json:"scim_pushed"`
	APITokens     int64 `json:"api_tokens"` // revoked ones included
	// ActivityEvents, ActivityCursors and LastAccessed are the stored
	// CloudTrail events, the cursors the next sync reads on from, and the
	// principals' IAM last accessed data.
	ActivityEvents  int64 `json:"activity_events"`
	ActivityCursors int64 `json:"activity_cursors"`
	LastAccessed    int64 `json:"last_accessed"`
}

// CopyResult is what Copy moved: the counts read from the source and the
// same counts read back from the target afterwards, which are equal.
type CopyResult struct {
	Source CopyCounts `json:"source"`
	Target CopyCounts `json:"target"`
}

// Copy copies everything the database from holds into to, which must hold no snapshot
// and no audit record: every connection's snapshots oldest first, each with
// its ID and metadata (times, status, errors, API calls, counts, accounts,
// carried parts), the audit log with its IDs, the deactivation records, the
// SCIM push records, the API tokens (their hashes: a token keeps working
// against the copy) and the demo marker; the effective index of each
// connection's latest snapshot is built in to (indexLatest). Idempotency
// keys are not copied: they matter only for minutes, to the replicas
// serving at the time. It then reads every snapshot of
// to back and compares its counts with from's, returning an error if any
// differ. progress, when not nil, is called after each snapshot.
//
// The copy is not one transaction: a copy that fails part way leaves to
// holding part of it; empty it (drop and recreate the database, or remove
// the file) before copying again.
func Copy(ctx context.Context, from, to *DB, progress func(done, total int)) (*CopyResult, error) {
	var n, audits int64
	if err := to.db.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM snapshots), (SELECT count(*) FROM audit_log)`).Scan(&n, &audits); err != nil {
		return nil, fmt.Errorf("read %s: %w", to.path, err)
	}
	if n > 0 || audits > 0 {
		return nil, fmt.Errorf("%w: %s holds %s and %s; copy into a new database (or a new file)",
			ErrTargetNotEmpty, to.path, plural(int(n), "snapshot"), plural(int(audits), "audit record"))
	}
	snaps, err := allSnapshots(ctx, from)
	if err != nil {
		return nil, err
	}
	res := &CopyResult{}
	res.Source.Snapshots = len(snaps)
	want := make([][3]int, len(snaps))
	for i := range snaps {
		snap := &snaps[i]
		g, err := from.Graph(ctx, snap.ID)
		if err != nil {
			return nil, err
		}
		want[i] = [3]int{len(g.Resources), len(g.Entitlements), len(g.Grants)}
		res.Source.Resources += int64(want[i][0])
		res.Source.Entitlements += int64(want[i][1])
		res.Source.Grants += int64(want[i][2])
		if err := to.importSnapshot(ctx, snap, g); err != nil {
			return nil, fmt.Errorf("copy snapshot %d: %w", snap.ID, err)
		}
		if progress != nil {
			progress(i+1, len(snaps))
		}
	}
	// Each connection's latest snapshot gets its effective index, as
	// WriteSnapshot gives it (the index is not copied: it is a cache).
	latest := map[string]int64{}
	for _, snap := range snaps {
		latest[snap.ConnectionID] = snap.ID
	}
	for connID, id := range latest {
		to.indexLatest(ctx, connID, id)
	}
	for _, t := range copiedTables {
		count, err := copyTable(ctx, from, to, t)
		if err != nil {
			return nil, err
		}
		*t.count(&res.Source) = count
	}
	ids, err := from.demoSnapshots(ctx)
	if err != nil {
		return nil, err
	}
	if len(ids) > 0 {
		if _, err := to.db.ExecContext(ctx, to.d.rebind(`INSERT INTO warden_meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value`),
			demoKey, strings.Join(ids, ",")); err != nil {
			return nil, fmt.Errorf("copy the demo marker to %s: %w", to.path, err)
		}
	}
	if err := to.advanceIDs(ctx); err != nil {
		return nil, err
	}
	if err := verifyCopy(ctx, to, snaps, want, res); err != nil {
		return nil, err
	}
	return res, nil
}

// allSnapshots lists every snapshot of every connection, oldest (lowest
// ID) first.
func allSnapshots(ctx context.Context, s *DB) ([]model.Snapshot, error) {
	conns, err := s.Connections(ctx)
	if err != nil {
		return nil, err
	}
	var out []model.Snapshot
	for _, c := range conns {
		snaps, err := s.Snapshots(ctx, c)
		if err != nil {
			return nil, err
		}
		out = append(out, snaps...)
	}
	slices.SortFunc(out, func(a, b model.Snapshot) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// copiedTable is a table Copy moves row by row, as it is; a NULL text
// stays NULL.
type copiedTable struct {
	name  string
	cols  []string
	ints  int // the first ints columns are integers, the others text
	count func(*CopyCounts) *int64
}

// copiedTables are the tables besides the snapshots that Copy moves.
var copiedTables = []copiedTable{
	{"audit_log", []string{"id", "at", "connection_id", "actor", "action", "target", "call", "result", "request_id", "detail", "params", "outcome"}, 1,
		func(c *CopyCounts) *int64 { return &c.AuditRecords }},
	{"deactivations", []string{"connection_id", "account_id", "principal", "at", "state"}, 0,
		func(c *CopyCounts) *int64 { return &c.Deactivations }},
	{"scim_pushed", []string{"endpoint", "external_id"}, 0,
		func(c *CopyCounts) *int64 { return &c.SCIMPushed }},
	{"api_tokens", []string{"id", "name", "scope", "hash", "created", "expires", "last_used", "revoked"}, 1,
		func(c *CopyCounts) *int64 { return &c.APITokens }},
	{"activity_events", []string{"connection_id", "event_id", "account_id", "region", "at", "name", "actor_arn", "target", "data"}, 0,
		func(c *CopyCounts) *int64 { return &c.ActivityEvents }},
	{"activity_cursors", []string{"connection_id", "account_id", "region", "last_at", "last_ids"}, 0,
		func(c *CopyCounts) *int64 { return &c.ActivityCursors }},
	{"last_accessed", []string{"connection_id", "principal_arn", "account_id", "read_at", "granularity", "services"}, 0,
		func(c *CopyCounts) *int64 { return &c.LastAccessed }},
}

// copyTable copies every row of t from one database to the other in one
// transaction and returns how many it copied.
func copyTable(ctx context.Context, from, to *DB, t copiedTable) (int64, error) {
	rows, err := from.db.QueryContext(ctx, `SELECT `+strings.Join(t.cols, ", ")+` FROM `+t.name+` ORDER BY `+strings.Join(t.cols[:max(t.ints, 1)], ", "))
	if err != nil {
		return 0, fmt.Errorf("read %s from %s: %w", t.name, from.path, err)
	}
	var all [][]any
	for rows.Next() {
		row := make([]any, len(t.cols))
		dest := make([]any, len(t.cols))
		for i := range row {
			if i < t.ints {
				dest[i] = new(int64)
			} else {
				dest[i] = new(sql.NullString)
			}
		}
		if err := rows.Scan(dest...); err != nil {
			rows.Close()
			return 0, fmt.Errorf("read %s from %s: %w", t.name, from.path, err)
		}
		for i, d := range dest {
			switch v := d.(type) {
			case *int64:
				row[i] = *v
			case *sql.NullString:
				if v.Valid {
					row[i] = v.String
				}
			}
		}
		all = append(all, row)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("read %s from %s: %w", t.name, from.path, err)
	}
	if len(all) == 0 {
		return 0, nil
	}
	c, err := to.db.Conn(ctx)
	if err != nil {
		return 0, fmt.Errorf("copy %s to %s: %w", t.name, to.path, err)
	}
	defer c.Close()
	if err := to.d.beginWrite(ctx, c, "warden:copy"); err != nil {
		return 0, fmt.Errorf("copy %s to %s: %w", t.name, to.path, err)
	}
	if err := to.d.bulkInsert(ctx, c, t.name, t.cols, len(all), func(i int) []any { return all[i] }); err != nil {
		c.ExecContext(context.WithoutCancel(ctx), `ROLLBACK`)
		return 0, fmt.Errorf("copy %s to %s: %w", t.name, to.path, err)
	}
	if _, err := c.ExecContext(ctx, `COMMIT`); err != nil {
		c.ExecContext(context.WithoutCancel(ctx), `ROLLBACK`)
		return 0, fmt.Errorf("copy %s to %s: %w", t.name, to.path, err)
	}
	return int64(len(all)), nil
}

// advanceIDs moves PostgreSQL's identity sequences past the IDs Copy wrote
// as they were, so the next snapshot, audit record or token gets a new one.
// SQLite's AUTOINCREMENT does so by itself.
func (s *DB) advanceIDs(ctx context.Context) error {
	if _, ok := s.d.(postgres); !ok {
		return nil
	}
	for _, table := range []string{"snapshots", "audit_log", "api_tokens"} {
		if _, err := s.db.ExecContext(ctx, `SELECT setval(pg_get_serial_sequence('`+table+`', 'id'), max(id)) FROM `+table+` HAVING max(id) IS NOT NULL`); err != nil {
			return fmt.Errorf("advance the IDs of %s in %s: %w", table, s.path, err)
		}
	}
	return nil
}

// verifyCopy reads the copy back: the same snapshots, each as it was
// (metadata, and resources, entitlements and grants counted), and as many
// rows of every other table.
func verifyCopy(ctx context.Context, to *DB, snaps []model.Snapshot, want [][3]int, res *CopyResult) error {
	got, err := allSnapshots(ctx, to)
	if err != nil {
		return err
	}
	res.Target.Snapshots = len(got)
	if len(got) != len(snaps) {
		return fmt.Errorf("copy check failed: %s holds %d snapshots, the source %d", to.path, len(got), len(snaps))
	}
	for i := range got {
		if a, b := marshal(snaps[i]), marshal(got[i]); a != b {
			return fmt.Errorf("copy check failed: snapshot %d reads back as %s, the source has %s", snaps[i].ID, b, a)
		}
		g, err := to.Graph(ctx, got[i].ID)
		if err != nil {
			return err
		}
		have := [3]int{len(g.Resources), len(g.Entitlements), len(g.Grants)}
		if have != want[i] {
			return fmt.Errorf("copy check failed: snapshot %d holds %d resources, %d entitlements and %d grants in %s, the source %d, %d and %d",
				got[i].ID, have[0], have[1], have[2], to.path, want[i][0], want[i][1], want[i][2])
		}
		res.Target.Resources += int64(have[0])
		res.Target.Entitlements += int64(have[1])
		res.Target.Grants += int64(have[2])
	}
	for _, t := range copiedTables {
		var n int64
		if err := to.db.QueryRowContext(ctx, `SELECT count(*) FROM `+t.name).Scan(&n); err != nil {
			return fmt.Errorf("count %s in %s: %w", t.name, to.path, err)
		}
		*t.count(&res.Target) = n
		if wantN := *t.count(&res.Source); n != wantN {
			return fmt.Errorf("copy check failed: %s holds %d rows of %s, the source %d", to.path, n, t.name, wantN)
		}
	}
	return nil
}
