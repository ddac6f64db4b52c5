package store

// appMarker is written to warden_meta so a SQLite file made by another
// program is recognised and left alone.
const appMarker = "warden"

// migrations are applied in order, each in its own transaction; the number
// of applied migrations is the schema version kept in warden_meta.
var migrations = []string{
	`CREATE TABLE snapshots (
		id            INTEGER PRIMARY KEY AUTOINCREMENT,
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
	) WITHOUT ROWID;
	CREATE INDEX resources_by_type_name ON resources(snapshot_id, type, name);
	CREATE INDEX resources_by_parent ON resources(snapshot_id, parent_id);
	CREATE TABLE entitlements (
		snapshot_id INTEGER NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
		id          TEXT NOT NULL,
		resource_id TEXT NOT NULL,
		name        TEXT NOT NULL,
		PRIMARY KEY (snapshot_id, id)
	) WITHOUT ROWID;
	CREATE TABLE grants (
		snapshot_id    INTEGER NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
		principal_id   TEXT NOT NULL,
		entitlement_id TEXT NOT NULL,
		resource_id    TEXT NOT NULL,
		provenance     TEXT NOT NULL,
		via_id         TEXT NOT NULL
	);
	CREATE INDEX grants_by_principal ON grants(snapshot_id, principal_id);
	CREATE INDEX grants_by_entitlement ON grants(snapshot_id, entitlement_id);`,
	`ALTER TABLE snapshots ADD COLUMN accounts TEXT NOT NULL DEFAULT '{}';`,
	`CREATE TABLE audit_log (
		id            INTEGER PRIMARY KEY AUTOINCREMENT,
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
	);`,
	`CREATE TABLE scim_pushed (
		endpoint    TEXT NOT NULL,
		external_id TEXT NOT NULL,
		PRIMARY KEY (endpoint, external_id)
	) WITHOUT ROWID;`,
	// Schema 5: what each audited call acted on and what it reported.
	// Records written before read as having no parameters and no outcome.
	`ALTER TABLE audit_log ADD COLUMN params TEXT NOT NULL DEFAULT '{}';
	ALTER TABLE audit_log ADD COLUMN outcome TEXT NOT NULL DEFAULT '{}';`,
}
