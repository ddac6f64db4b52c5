package store

import (
	"context"
	"database/sql"
)

// dialect is what differs between the SQL back-ends. Every query of the
// store is written once, in the portable subset both back-ends run, with ?
// placeholders; the dialect turns it into the back-end's own.
type dialect interface {
	// name is the back-end's name for messages: "sqlite" or "postgres".
	name() string
	// rebind turns the ? (and ?N) placeholders of q into the back-end's.
	rebind(q string) string
	// ddl turns a migration step's portable DDL into the back-end's; see
	// the tokens of migrations.go.
	ddl(q string) string
	// beginWrite starts a write transaction on c that holds the back-end's
	// write lock for the connection of the snapshot being written, so two
	// writers of one connection never interleave (SQLite: BEGIN IMMEDIATE;
	// PostgreSQL: BEGIN and a transaction advisory lock).
	beginWrite(ctx context.Context, c *sql.Conn, connectionID string) error
	// bulkInsert inserts n rows of cols into table on c, inside its open
	// transaction: multi-row INSERTs (SQLite) or COPY (PostgreSQL).
	bulkInsert(ctx context.Context, c *sql.Conn, table string, cols []string, n int, row func(i int) []any) error
	// reclaim gives the space of deleted rows back (SQLite: incremental
	// vacuum; PostgreSQL: VACUUM of the history tables).
	reclaim(ctx context.Context, db *sql.DB) error
	// size is the bytes the database takes (SQLite: the main file's
	// pages; PostgreSQL: pg_database_size of the current database).
	size(ctx context.Context, db *sql.DB) (int64, error)
	// vacuumAll compacts the whole database once, outside a transaction
	// (SQLite: VACUUM, in incremental auto-vacuum mode; PostgreSQL: VACUUM).
	vacuumAll(ctx context.Context, c *sql.Conn) error
	// tablesQuery is a query returning two counts: the tables of the
	// database (its current schema) and those of them named warden_meta.
	tablesQuery() string
}
