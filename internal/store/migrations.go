package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/warden-iam/warden/internal/model"
)

// appMarker is written to warden_meta so a SQLite file made by another
// program is recognised and left alone.
const appMarker = "warden"

// step is one migration: portable DDL (see dialect.ddl for its tokens:
// {{id}} is an auto-assigned BIGINT primary key, {{without_rowid}} SQLite's
// table option, {{blob}} a binary column: BLOB or BYTEA), then, if set, a function moving data.
type step struct {
	sql string
	run func(ctx context.Context, c *sql.Conn, d dialect) error
}

// migrations are applied in order, all in one transaction; the number of
// applied migrations is the schema version kept in warden_meta. Both
// back-ends run the same list.
var migrations = []step{
	{sql: `CREATE TABLE snapshots (
		id            {{id}},
		connection_id TEXT NOT NULL,
		started_at    TEXT NOT NULL,
		finished_at   TEXT NOT NULL,
		status        TEXT NOT NULL,
		errors        TEXT NOT NULL,
		api_calls     TEXT NOT NULL,
		counts        TEXT NOT NULL
	);
	CREATE INDEX snapshots_by_connection ON snapshots(connection_id, id);
	CREATE TABLE resources (
		snapshot_id INTEGER NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
		id          TEXT NOT NULL,
		type        TEXT NOT NULL,
		account_id  TEXT NOT NULL,
		name        TEXT NOT NULL,
		arn         TEXT NOT NULL,
		parent_id   TEXT NOT NULL,
		data        TEXT NOT NULL,
		PRIMARY KEY (snapshot_id, id)
	) {{without_rowid}};
	CREATE INDEX resources_by_type_name ON resources(snapshot_id, type, name);
	CREATE INDEX resources_by_parent ON resources(snapshot_id, parent_id);
	CREATE TABLE entitlements (
		snapshot_id INTEGER NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
		id          TEXT NOT NULL,
		resource_id TEXT NOT NULL,
		name        TEXT NOT NULL,
		PRIMARY KEY (snapshot_id, id)
	) {{without_rowid}};
	CREATE TABLE grants (
		snapshot_id    INTEGER NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
		principal_id   TEXT NOT NULL,
		entitlement_id TEXT NOT NULL,
		resource_id    TEXT NOT NULL,
		provenance     TEXT NOT NULL,
		via_id         TEXT NOT NULL
	);
	CREATE INDEX grants_by_principal ON grants(snapshot_id, principal_id);
	CREATE INDEX grants_by_entitlement ON grants(snapshot_id, entitlement_id);`},
	{sql: `ALTER TABLE snapshots ADD COLUMN accounts TEXT NOT NULL DEFAULT '{}';`},
	{sql: `CREATE TABLE audit_log (
		id            {{id}},
		at            TEXT NOT NULL,
		connection_id TEXT NOT NULL,
		actor         TEXT NOT NULL,
		action        TEXT NOT NULL,
		target        TEXT NOT NULL,
		call          TEXT NOT NULL,
		result        TEXT NOT NULL,
		request_id    TEXT NOT NULL,
		detail        TEXT NOT NULL
	);
	CREATE INDEX audit_by_connection ON audit_log(connection_id, id);
	CREATE TABLE deactivations (
		connection_id TEXT NOT NULL,
		account_id    TEXT NOT NULL,
		principal     TEXT NOT NULL,
		at            TEXT NOT NULL,
		state         TEXT NOT NULL,
		PRIMARY KEY (connection_id, account_id, principal)
	);`},
	{sql: `CREATE TABLE scim_pushed (
		endpoint    TEXT NOT NULL,
		external_id TEXT NOT NULL,
		PRIMARY KEY (endpoint, external_id)
	) {{without_rowid}};`},
	// Schema 5: what each audited call acted on and what it reported.
	// Records written before read as having no parameters and no outcome.
	{sql: `ALTER TABLE audit_log ADD COLUMN params TEXT NOT NULL DEFAULT '{}';
	ALTER TABLE audit_log ADD COLUMN outcome TEXT NOT NULL DEFAULT '{}';`},
	// Schema 6: history. Each resource, entitlement and grant is a row per
	// connection with the range of snapshots [valid_from, valid_to) in which
	// it holds (valid_to NULL: it still does); a sync writes only what
	// changed. The rows of every existing snapshot move into it, and the
	// per-snapshot tables go.
	{sql: `ALTER TABLE snapshots ADD COLUMN carried TEXT NOT NULL DEFAULT '[]';
	CREATE TABLE resource_versions (
		row_id        {{id}},
		connection_id TEXT NOT NULL,
		valid_from    BIGINT NOT NULL,
		valid_to      BIGINT,
		part          TEXT NOT NULL,
		id            TEXT NOT NULL,
		type          TEXT NOT NULL,
		account_id    TEXT NOT NULL,
		name          TEXT NOT NULL,
		parent_id     TEXT NOT NULL,
		hash          TEXT NOT NULL,
		data          TEXT NOT NULL
	);
	CREATE INDEX resource_versions_open ON resource_versions(connection_id, valid_to);
	CREATE INDEX resource_versions_from ON resource_versions(connection_id, valid_from);
	CREATE INDEX resource_versions_id ON resource_versions(connection_id, id, valid_from);
	CREATE INDEX resource_versions_type ON resource_versions(connection_id, type, name);
	CREATE TABLE resource_keys (
		connection_id TEXT NOT NULL,
		key           TEXT NOT NULL,
		resource_id   TEXT NOT NULL,
		valid_from    BIGINT NOT NULL,
		PRIMARY KEY (connection_id, key, resource_id, valid_from)
	) {{without_rowid}};
	CREATE TABLE entitlement_versions (
		row_id        {{id}},
		connection_id TEXT NOT NULL,
		valid_from    BIGINT NOT NULL,
		valid_to      BIGINT,
		part          TEXT NOT NULL,
		id            TEXT NOT NULL,
		resource_id   TEXT NOT NULL,
		name          TEXT NOT NULL
	);
	CREATE INDEX entitlement_versions_open ON entitlement_versions(connection_id, valid_to);
	CREATE INDEX entitlement_versions_from ON entitlement_versions(connection_id, valid_from);
	CREATE TABLE grant_versions (
		row_id         {{id}},
		connection_id  TEXT NOT NULL,
		valid_from     BIGINT NOT NULL,
		valid_to       BIGINT,
		part           TEXT NOT NULL,
		h1             BIGINT NOT NULL,
		h2             BIGINT NOT NULL,
		principal_id   TEXT NOT NULL,
		entitlement_id TEXT NOT NULL,
		resource_id    TEXT NOT NULL,
		provenance     TEXT NOT NULL,
		via_id         TEXT NOT NULL
	);
	CREATE INDEX grant_versions_open ON grant_versions(connection_id, valid_to);
	CREATE INDEX grant_versions_from ON grant_versions(connection_id, valid_from);
	CREATE INDEX grant_versions_principal ON grant_versions(connection_id, principal_id);
	CREATE INDEX grant_versions_entitlement ON grant_versions(connection_id, entitlement_id);`,
		run: moveSnapshotsToHistory},
	// The scheduler's slots (`warden serve`): the scheduled time a
	// snapshot was synced for, NULL for any other sync, and at most one
	// snapshot per connection and slot, so replicas sharing a database
	// cannot both store one slot.
	{sql: `ALTER TABLE snapshots ADD COLUMN slot TEXT;
	CREATE UNIQUE INDEX snapshots_by_slot ON snapshots(connection_id, slot);`},
	// The API tokens of `warden serve` (only the sha256 of each secret, in
	// hex; at most one live, unrevoked token per name) and the responses
	// of apply requests by Idempotency-Key, per token (status 0 while the
	// first request runs; body in base64).
	{sql: `CREATE TABLE api_tokens (
		id        {{id}},
		name      TEXT NOT NULL,
		scope     TEXT NOT NULL,
		hash      TEXT NOT NULL,
		created   TEXT NOT NULL,
		expires   TEXT,
		last_used TEXT,
		revoked   TEXT
	);
	CREATE UNIQUE INDEX api_tokens_by_hash ON api_tokens(hash);
	CREATE UNIQUE INDEX api_tokens_live ON api_tokens(name) WHERE revoked IS NULL;
	CREATE TABLE idempotency_keys (
		token        TEXT NOT NULL,
		key          TEXT NOT NULL,
		request_hash TEXT NOT NULL,
		status       INTEGER NOT NULL,
		body         TEXT NOT NULL,
		created      TEXT NOT NULL,
		PRIMARY KEY (token, key)
	) {{without_rowid}};
	CREATE INDEX idempotency_keys_by_created ON idempotency_keys(created);`},
	// Activity read from CloudTrail (activity.go): one row per event, by
	// connection and event ID, and the cursor of each account and region.
	{sql: `CREATE TABLE activity_events (
		connection_id TEXT NOT NULL,
		event_id      TEXT NOT NULL,
		account_id    TEXT NOT NULL,
		region        TEXT NOT NULL,
		at            TEXT NOT NULL,
		name          TEXT NOT NULL,
		actor_arn     TEXT NOT NULL,
		target        TEXT NOT NULL,
		data          TEXT NOT NULL,
		PRIMARY KEY (connection_id, event_id)
	) {{without_rowid}};
	CREATE INDEX activity_events_by_time ON activity_events(connection_id, at);
	CREATE INDEX activity_events_by_actor ON activity_events(connection_id, actor_arn);
	CREATE TABLE activity_cursors (
		connection_id TEXT NOT NULL,
		account_id    TEXT NOT NULL,
		region        TEXT NOT NULL,
		last_at       TEXT NOT NULL,
		last_ids      TEXT NOT NULL,
		PRIMARY KEY (connection_id, account_id, region)
	) {{without_rowid}};`},
	// IAM last accessed data (lastaccessed.go): per connection and
	// principal, when it was read and its services as JSON.
	{sql: `CREATE TABLE last_accessed (
		connection_id TEXT NOT NULL,
		principal_arn TEXT NOT NULL,
		account_id    TEXT NOT NULL,
		read_at       TEXT NOT NULL,
		granularity   TEXT NOT NULL,
		services      TEXT NOT NULL,
		PRIMARY KEY (connection_id, principal_arn)
	) {{without_rowid}};
	CREATE INDEX last_accessed_by_account ON last_accessed(connection_id, account_id);`},
	// The effective index of a snapshot (effindex.go): what who-can reads
	// of it, encoded in one value, written on first use; it goes with its
	// snapshot.
	{sql: `CREATE TABLE effective_index (
		snapshot_id BIGINT PRIMARY KEY REFERENCES snapshots(id) ON DELETE CASCADE,
		format      INTEGER NOT NULL,
		data        {{blob}} NOT NULL
	);`},
}

// historyTables are the tables of schema 6's history, which Prune deletes
// from and reclaims.
var historyTables = []string{"resource_versions", "resource_keys", "entitlement_versions", "grant_versions"}

// moveSnapshotsToHistory is schema 6's data step: it replays every stored
// snapshot, oldest first, through the history writer (each exactly as it
// was stored: nothing carried), then drops the per-snapshot tables.
func moveSnapshotsToHistory(ctx context.Context, c *sql.Conn, d dialect) error {
	rows, err := c.QueryContext(ctx, `SELECT id, connection_id FROM snapshots ORDER BY id`)
	if err != nil {
		return err
	}
	type snapRef struct {
		id   int64
		conn string
	}
	var snaps []snapRef
	for rows.Next() {
		var r snapRef
		if err := rows.Scan(&r.id, &r.conn); err != nil {
			rows.Close()
			return err
		}
		snaps = append(snaps, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, sn := range snaps {
		g, err := readOldSnapshot(ctx, c, d, sn.id)
		if err != nil {
			return fmt.Errorf("read snapshot %d: %w", sn.id, err)
		}
		if _, err := writeVersions(ctx, c, d, sn.conn, sn.id, g, nil); err != nil {
			return fmt.Errorf("move snapshot %d to history: %w", sn.id, err)
		}
	}
	_, err = c.ExecContext(ctx, `DROP TABLE grants; DROP TABLE entitlements; DROP TABLE resources;`)
	return err
}

// readOldSnapshot reads one snapshot of the schema 1-5 tables.
func readOldSnapshot(ctx context.Context, c *sql.Conn, d dialect, id int64) (*model.Graph, error) {
	var g model.Graph
	var err error
	if g.Resources, err = readResources(ctx, c, "the old snapshot", d.rebind(`SELECT data FROM resources WHERE snapshot_id=?`), id); err != nil {
		return nil, err
	}
	if err := readEntitlements(ctx, c, "the old snapshot", d.rebind(`SELECT id, resource_id, name FROM entitlements WHERE snapshot_id=?`), []any{id},
		func(e model.Entitlement) { g.Entitlements = append(g.Entitlements, e) }); err != nil {
		return nil, err
	}
	err = readGrants(ctx, c, "the old snapshot", "grants", d.rebind(`SELECT principal_id, entitlement_id, provenance, via_id, '' FROM grants WHERE snapshot_id=?`), []any{id},
		func(gr model.Grant, _ string) error {
			g.Grants = append(g.Grants, gr)
			return nil
		})
	return &g, err
}
