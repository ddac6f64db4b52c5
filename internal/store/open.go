package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// ErrForeignDatabase is returned (wrapped) when the file is not a SQLite
// database, is empty, or is one that warden did not create.
var ErrForeignDatabase = errors.New("not a warden database")

// ErrNewerSchema is returned (wrapped) when the database was made by a newer
// warden than this binary: its schema is one this binary does not know.
var ErrNewerSchema = errors.New("made by a newer warden")

// ErrOlderSchema is returned (wrapped) by OpenSQLiteReadOnly when the
// database was made by an older warden and cannot be upgraded because the
// file or its directory is not writable.
var ErrOlderSchema = errors.New("made by an older warden")

// ErrCorrupt is returned (wrapped) when SQLite finds the database file
// damaged.
var ErrCorrupt = errors.New("database file is corrupt")

// fileMode is the mode a new database file is created with: snapshots
// describe an organization's access, so only the owner reads them.
const fileMode = 0o600

// OpenSQLite opens the warden database at path for reading and writing,
// creating it (mode 0600) if it does not exist, and brings its schema up to
// date. Several processes may open and migrate the same new file at once.
func OpenSQLite(ctx context.Context, path string) (*DB, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, fileMode)
	switch {
	case err == nil:
		f.Close()
	case errors.Is(err, fs.ErrExist):
		if err := checkHeader(path, true); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	// auto_vacuum must be set before the first table: a new file so gives
	// pruned space back incrementally (an older file is vacuumed into the
	// mode once, as schema 6 migrates it).
	db, err := sql.Open("sqlite", dsn(path, "_pragma=busy_timeout(10000)", "_pragma=auto_vacuum(INCREMENTAL)", "_pragma=foreign_keys(1)", "_pragma=journal_mode(WAL)", "_pragma=synchronous(NORMAL)"))
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	s := &DB{db: db, path: path, d: sqliteDialect{}}
	if err := s.migrateWaiting(ctx); err != nil {
		db.Close()
		return nil, classify(err)
	}
	return s, nil
}

// migrateWaiting runs migrate, trying again while another process holds
// the file busy in a way SQLite's busy timeout does not wait out (a new
// file switching to WAL, a last connection checkpointing as it closes).
func (s *DB) migrateWaiting(ctx context.Context) error {
	deadline := time.Now().Add(busyWait)
	for pause := 5 * time.Millisecond; ; pause = min(2*pause, 200*time.Millisecond) {
		err := s.migrate(ctx)
		if !isBusy(err) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(pause):
		}
	}
}

// busyWait is how long an open waits for another process's hold on the
// file, as the busy_timeout pragma does for statements.
const busyWait = 10 * time.Second

// isBusy reports whether err is SQLite's SQLITE_BUSY or SQLITE_LOCKED.
func isBusy(err error) bool {
	var c sqliteCoder
	if !errors.As(err, &c) {
		return false
	}
	switch c.Code() & 0xff {
	case sqliteBusy, sqliteLocked:
		return true
	}
	return false
}

// OpenSQLiteReadOnly opens an existing warden database for reading only: it
// never creates, initialises or migrates the file, so it works on a file or
// directory the process may not write. A database of an older schema is
// upgraded (opened as OpenSQLite does) when the file can be written, and is
// otherwise refused with ErrOlderSchema.
func OpenSQLiteReadOnly(ctx context.Context, path string) (*DB, error) {
	if err := checkHeader(path, false); err != nil {
		return nil, err
	}
	s, err := openReadOnly(ctx, path, false)
	if err != nil {
		// A WAL database in a directory the process cannot write has no
		// -shm file to share: read it as an immutable file instead.
		var err2 error
		if s, err2 = openReadOnly(ctx, path, true); err2 != nil {
			return nil, classify(err)
		}
	}
	version, err := s.schemaVersion(ctx)
	if err != nil {
		s.Close()
		return nil, classify(err)
	}
	switch {
	case version > len(migrations):
		s.Close()
		return nil, newerSchema(path, version)
	case version < len(migrations):
		s.Close()
		if !writable(path) {
			return nil, fmt.Errorf("%s is %w (schema %d, this warden uses %d) and cannot be upgraded here: the file or its directory is read-only", path, ErrOlderSchema, version, len(migrations))
		}
		return OpenSQLite(ctx, path)
	}
	return s, nil
}

// openReadOnly opens path with SQLite's read-only mode and reads its schema
// once, so a file SQLite cannot read fails here.
func openReadOnly(ctx context.Context, path string, immutable bool) (*DB, error) {
	params := []string{"mode=ro", "_pragma=busy_timeout(10000)", "_pragma=query_only(1)"}
	if immutable {
		params = append(params, "immutable=1")
	}
	db, err := sql.Open("sqlite", dsn(path, params...))
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master`).Scan(&n); err != nil {
		db.Close()
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return &DB{db: db, path: path, d: sqliteDialect{}, readOnly: true}, nil
}

// dsn is the driver's URI for path with the given query parameters.
func dsn(path string, params ...string) string {
	u := url.URL{Scheme: "file", Opaque: (&url.URL{Path: path}).EscapedPath()}
	return u.String() + "?" + strings.Join(params, "&")
}

// writable reports whether path and its directory can be written, as a
// migration (which writes the file and its WAL beside it) needs.
func writable(path string) bool {
	for _, p := range []string{path, filepath.Dir(path)} {
		if err := accessW(p); err != nil {
			return false
		}
	}
	return true
}

// checkHeader rejects a file that is not SQLite before the driver touches
// it. An empty file is accepted only when allowEmpty: a write may initialise
// it, a read must not.
func checkHeader(path string, allowEmpty bool) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	head := make([]byte, 16)
	n, _ := f.Read(head)
	switch {
	case n == 0 && allowEmpty:
		return nil
	case n == 0:
		return fmt.Errorf("%s is %w: it is an empty file", path, ErrForeignDatabase)
	case n < 16 || string(head) != "SQLite format 3\x00":
		return fmt.Errorf("%s is %w: it is not a SQLite file", path, ErrForeignDatabase)
	}
	return nil
}

// newerSchema is the error for a database whose schema this warden does
// not know.
func newerSchema(path string, version int) error {
	return fmt.Errorf("%s was %w (schema %d; this warden knows up to %d)", path, ErrNewerSchema, version, len(migrations))
}

// schemaVersion reads the warden marker and the schema version; 0 with no
// error means a new, empty file.
func (s *DB) schemaVersion(ctx context.Context) (int, error) {
	return schemaVersion(ctx, s.db, s.d, s.path)
}

// queryer is what schemaVersion needs of a database or a connection.
type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func schemaVersion(ctx context.Context, q queryer, d dialect, path string) (int, error) {
	var tables, hasMeta int
	if err := q.QueryRowContext(ctx, d.tablesQuery()).Scan(&tables, &hasMeta); err != nil {
		return 0, fmt.Errorf("read schema of %s: %w", path, err)
	}
	switch {
	case hasMeta == 0 && tables > 0:
		return 0, fmt.Errorf("%s is %w: it holds tables of another program", path, ErrForeignDatabase)
	case hasMeta == 0:
		return 0, nil
	}
	var app, v string
	err := q.QueryRowContext(ctx, `SELECT value FROM warden_meta WHERE key='app'`).Scan(&app)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("read warden marker of %s: %w", path, err)
	}
	if app != appMarker {
		return 0, fmt.Errorf("%s is %w: it has no warden marker", path, ErrForeignDatabase)
	}
	if err := q.QueryRowContext(ctx, `SELECT value FROM warden_meta WHERE key='schema_version'`).Scan(&v); err != nil {
		return 0, fmt.Errorf("read schema version of %s: %w", path, err)
	}
	version, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("%s has schema version %q: %w", path, v, ErrCorrupt)
	}
	return version, nil
}

// migrate brings the schema up to date. It takes SQLite's write lock first
// (BEGIN IMMEDIATE) and reads the version under it, so processes opening a
// new file at once create the schema exactly once; the others wait and
// find it done.
func (s *DB) migrate(ctx context.Context) error {
	// Read without the lock first: an up-to-date file, the common case,
	// needs no write lock at all.
	switch v, err := s.schemaVersion(ctx); {
	case err != nil:
		return err
	case v == len(migrations):
		return nil
	case v > len(migrations):
		return newerSchema(s.path, v)
	}
	c, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("migrate %s: %w", s.path, err)
	}
	defer c.Close()
	if err := s.d.beginWrite(ctx, c, "warden:migrate"); err != nil {
		return fmt.Errorf("lock %s to migrate it: %w", s.path, err)
	}
	committed := false
	defer func() {
		if !committed {
			c.ExecContext(context.WithoutCancel(ctx), `ROLLBACK`)
		}
	}()
	version, err := schemaVersion(ctx, c, s.d, s.path)
	if err != nil {
		return err
	}
	if version > len(migrations) {
		return newerSchema(s.path, version)
	}
	if version == 0 {
		var tables, hasMeta int
		if err := c.QueryRowContext(ctx, s.d.tablesQuery()).Scan(&tables, &hasMeta); err != nil {
			return fmt.Errorf("initialise %s: %w", s.path, err)
		}
		if hasMeta == 0 {
			if _, err := c.ExecContext(ctx, `CREATE TABLE warden_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
				INSERT INTO warden_meta VALUES ('app', '`+appMarker+`'), ('schema_version', '0')`); err != nil {
				return fmt.Errorf("initialise %s: %w", s.path, err)
			}
		}
	}
	for i := version; i < len(migrations); i++ {
		if _, err := c.ExecContext(ctx, s.d.ddl(migrations[i].sql)); err != nil {
			return fmt.Errorf("migrate %s to schema %d: %w", s.path, i+1, err)
		}
		if run := migrations[i].run; run != nil {
			if err := run(ctx, c, s.d); err != nil {
				return fmt.Errorf("migrate %s to schema %d: %w", s.path, i+1, err)
			}
		}
	}
	if _, err := c.ExecContext(ctx, s.d.rebind(`UPDATE warden_meta SET value=? WHERE key='schema_version'`), strconv.Itoa(len(migrations))); err != nil {
		return fmt.Errorf("migrate %s to schema %d: %w", s.path, len(migrations), err)
	}
	if _, err := c.ExecContext(ctx, `COMMIT`); err != nil {
		return fmt.Errorf("migrate %s to schema %d: %w", s.path, len(migrations), err)
	}
	committed = true
	if version > 0 && version < historySchema {
		// The per-snapshot tables are gone: give their space back, and put
		// an older file into incremental auto-vacuum, which only a full
		// VACUUM can do.
		if err := s.d.vacuumAll(ctx, c); err != nil {
			return fmt.Errorf("compact %s after moving its snapshots to history: %w", s.path, err)
		}
	}
	return nil
}

// historySchema is the schema version that moved snapshots to history.
const historySchema = 6

// Check runs SQLite's quick integrity check of the whole file and returns
// an error wrapping ErrCorrupt when it finds damage. It reads every page, so
// it is for the start of long work (a sync), not for every read.
func (s *DB) Check(ctx context.Context) error {
	rows, err := s.db.QueryContext(ctx, `PRAGMA quick_check(5)`)
	if err != nil {
		return classify(fmt.Errorf("check %s: %w", s.path, err))
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return classify(fmt.Errorf("check %s: %w", s.path, err))
		}
		if line != "ok" {
			problems = append(problems, line)
		}
	}
	if err := rows.Err(); err != nil {
		return classify(fmt.Errorf("check %s: %w", s.path, err))
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s: %w: %s", s.path, ErrCorrupt, strings.Join(problems, "; "))
	}
	return nil
}

// sqliteCoder is the driver's error, which carries SQLite's result code.
type sqliteCoder interface{ Code() int }

// SQLite's primary result codes warden tells apart.
const (
	sqliteBusy    = 5  // SQLITE_BUSY
	sqliteLocked  = 6  // SQLITE_LOCKED
	sqliteCorrupt = 11 // SQLITE_CORRUPT
	sqliteNotADB  = 26 // SQLITE_NOTADB
)

// classify wraps ErrCorrupt into an error SQLite raised because the file
// is damaged, so callers can tell a corrupt file from other failures.
func classify(err error) error {
	var c sqliteCoder
	if errors.As(err, &c) && !errors.Is(err, ErrCorrupt) {
		switch c.Code() & 0xff {
		case sqliteCorrupt, sqliteNotADB:
			return fmt.Errorf("%w: %w", ErrCorrupt, err)
		}
	}
	return err
}
