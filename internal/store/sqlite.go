package store

import (
	"context"
	"database/sql"
	"strings"
)

// sqliteDialect is the dialect of one SQLite file (modernc.org/sqlite).
type sqliteDialect struct{}

var _ dialect = sqliteDialect{}

func (sqliteDialect) name() string { return "sqlite" }

// rebind leaves ? and ?N as they are: SQLite reads both.
func (sqliteDialect) rebind(q string) string { return q }

func (sqliteDialect) ddl(q string) string {
	return strings.NewReplacer("{{id}}", "INTEGER PRIMARY KEY AUTOINCREMENT", "{{without_rowid}}", "WITHOUT ROWID", "{{blob}}", "BLOB").Replace(q)
}

// beginWrite takes SQLite's write lock at once (BEGIN IMMEDIATE), so the
// writer reads the latest state under the lock it commits under.
func (sqliteDialect) beginWrite(ctx context.Context, c *sql.Conn, _ string) error {
	_, err := c.ExecContext(ctx, `BEGIN IMMEDIATE`)
	return err
}

// bulkInsert inserts n rows in multi-row statements of up to 100 rows
// (within SQLite's limit of 32766 parameters for every table here).
func (sqliteDialect) bulkInsert(ctx context.Context, c *sql.Conn, table string, cols []string, n int, row func(int) []any) error {
	const batch = 100
	one := "(" + placeholders(len(cols)) + ")"
	prefix := `INSERT INTO ` + table + ` (` + strings.Join(cols, ", ") + `) VALUES `
	var full *sql.Stmt
	for start := 0; start < n; start += batch {
		end := min(start+batch, n)
		args := make([]any, 0, (end-start)*len(cols))
		for i := start; i < end; i++ {
			args = append(args, row(i)...)
		}
		var err error
		if end-start == batch {
			if full == nil {
				if full, err = c.PrepareContext(ctx, prefix+strings.TrimSuffix(strings.Repeat(one+",", batch), ",")); err != nil {
					return err
				}
				defer full.Close()
			}
			_, err = full.ExecContext(ctx, args...)
		} else {
			_, err = c.ExecContext(ctx, prefix+strings.TrimSuffix(strings.Repeat(one+",", end-start), ","), args...)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// reclaim returns the free pages to the file system (the file is in
// incremental auto-vacuum mode; see OpenSQLite) and truncates the WAL.
func (sqliteDialect) reclaim(ctx context.Context, db *sql.DB) error {
	if _, err := db.ExecContext(ctx, `PRAGMA incremental_vacuum`); err != nil {
		return err
	}
	_, err := db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
	return err
}

func (sqliteDialect) size(ctx context.Context, db *sql.DB) (int64, error) {
	var pages, pageSize int64
	if err := db.QueryRowContext(ctx, `SELECT (SELECT page_count FROM pragma_page_count), (SELECT page_size FROM pragma_page_size)`).Scan(&pages, &pageSize); err != nil {
		return 0, err
	}
	return pages * pageSize, nil
}

func (sqliteDialect) tablesQuery() string {
	return `SELECT count(*), count(CASE WHEN name='warden_meta' THEN 1 END) FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'`
}

func (sqliteDialect) vacuumAll(ctx context.Context, c *sql.Conn) error {
	if _, err := c.ExecContext(ctx, `PRAGMA auto_vacuum=INCREMENTAL`); err != nil {
		return err
	}
	_, err := c.ExecContext(ctx, `VACUUM`)
	return err
}
