package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/render"
	"github.com/warden-iam/warden/internal/store"
	"github.com/warden-iam/warden/internal/syncjob"
)

// app is what every command shares: the global flags, the output streams and
// the logger.
type app struct {
	stdout, stderr io.Writer

	dbFlag        string // --db
	dbSet         bool   // --db given on the command line
	dbRaw         string // --db as given, password and all (dbFlag holds it masked)
	dbRead        bool   // the connections file was read for its database: key
	dbConfig      string // its database: key
	dbErr         error  // why the connections file could not be read for it
	output        string // -o
	logLevel      string // --log-level
	connection    string // --connection
	connectionSet bool   // --connection given on the command line
	configFlag    string // --config
	progress      bool   // --progress

	format render.Format
	log    *slog.Logger
}

func newApp(stdout, stderr io.Writer) *app {
	return &app{stdout: stdout, stderr: stderr, log: slog.New(slog.DiscardHandler)}
}

// setup validates the global flags and builds the logger; it runs before
// every command.
func (a *app) setup() error {
	f, err := render.ParseFormat(a.output)
	if err != nil {
		return usageError(err.Error(), "use -o table (the default) or -o json")
	}
	a.format = f
	var level slog.Level
	if err := level.UnmarshalText([]byte(a.logLevel)); err != nil {
		return usageError(fmt.Sprintf("unknown log level %q", a.logLevel), "use --log-level debug, info, warn or error")
	}
	a.log = slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: level}))
	return nil
}

// dbPath is the database to use, in the form messages show: --db, else
// WARDEN_DB, else database: in the connections file, else warden.db. A
// PostgreSQL URL's password is masked here; openStore and openExisting put
// it back, so no caller can print it.
func (a *app) dbPath() string { return store.MaskDSN(a.dbTarget()) }

// dbTarget is the database to use as it was given, password and all.
func (a *app) dbTarget() string {
	if a.dbSet {
		if a.dbRaw != "" {
			return a.dbRaw
		}
		return a.dbFlag
	}
	if env := os.Getenv("WARDEN_DB"); env != "" {
		return env
	}
	if db := a.configDatabase(); db != "" {
		return db
	}
	return a.dbFlag
}

// configDatabase is the database: key of the connections file, read once;
// "" when there is no file or no key. A file that cannot be read or has
// problems is remembered in dbErr, which opening the database reports.
func (a *app) configDatabase() string {
	if !a.dbRead {
		a.dbRead = true
		if path, _ := a.configPath(); path != "" {
			f, _, err := a.loadConfig()
			switch {
			case err != nil:
				a.dbErr = err
			case f != nil:
				a.dbConfig = f.Database
			}
		}
	}
	return a.dbConfig
}

// dbSecret returns the database to open for shown, a path or URL from
// dbPath (or any other the command chose): the same with its password.
func (a *app) dbSecret(shown string) string {
	if raw := a.dbTarget(); shown == store.MaskDSN(raw) {
		return raw
	}
	return shown
}

// openStore opens (creating if needed) the database at path for writing,
// and checks the file for damage first, so a corrupt database is found
// before a sync or an apply spends minutes on AWS. A postgres:// URL opens
// that server's database, with its schema brought up to date.
func (a *app) openStore(ctx context.Context, path string) (*store.DB, error) {
	if err := a.dbUnknown(path); err != nil {
		return nil, err
	}
	target := a.dbSecret(path)
	path = store.MaskDSN(path)
	if store.IsPostgresURL(target) {
		st, err := store.OpenPostgres(ctx, target)
		if err != nil {
			return nil, postgresError(err, path)
		}
		return st, nil
	}
	st, err := store.OpenSQLite(ctx, target)
	if err != nil {
		return nil, openError(err, path)
	}
	if err := st.Check(ctx); err != nil {
		st.Close()
		return nil, openError(err, path)
	}
	return st, nil
}

// dbUnknown is the error of a database that comes from a connections file
// that could not be read, so which database is meant is not known.
func (a *app) dbUnknown(path string) error {
	if a.dbErr != nil && path == a.dbPath() && !a.dbSet && os.Getenv("WARDEN_DB") == "" {
		return a.dbErr
	}
	return nil
}

// postgresError explains why the PostgreSQL database at url (masked) could
// not be opened.
func postgresError(err error, url string) error {
	var ce *store.ConnectError
	switch {
	case errors.As(err, &ce):
		return storeError(err, ce.Problem, ce.Fix)
	case errors.Is(err, store.ErrNewerSchema):
		return storeError(err, err.Error(),
			"upgrade warden to the version that wrote it, or point --db (or WARDEN_DB) at another database")
	}
	problem := err.Error()
	if !strings.Contains(problem, url) {
		problem = fmt.Sprintf("cannot open database %s: %s", url, problem)
	}
	return storeError(err, problem, "check the URL and the server, or point --db (or WARDEN_DB) at another database")
}

// openError explains why the database at path could not be opened.
func openError(err error, path string) error {
	switch {
	case errors.Is(err, store.ErrNewerSchema):
		return storeError(err, err.Error(),
			"upgrade warden to the version that wrote it, or point --db (or WARDEN_DB) at another file")
	case errors.Is(err, store.ErrOlderSchema):
		return storeError(err, fmt.Sprintf("%s was made by an older warden and this one cannot upgrade it: the file or its directory is read-only", path),
			"run `warden sync` once where the file is writable (it upgrades the schema), or copy it somewhere writable")
	case errors.Is(err, store.ErrCorrupt):
		return storeError(err, fmt.Sprintf("%s is damaged: %v", path, err),
			"restore it from a backup, or move it away and run `warden sync` to start a new database")
	case errors.Is(err, store.ErrForeignDatabase):
		return storeError(err, err.Error(),
			"point --db (or WARDEN_DB) at a database warden created, or at a new file (`warden sync` makes one)")
	}
	return storeError(err, fmt.Sprintf("cannot open database %s: %v", path, err),
		"check the path and its permissions, or point --db (or WARDEN_DB) at another file")
}

// openExisting opens the database for reading only: it refuses a missing
// or empty file rather than creating one, and works on a file or directory
// it may not write. A PostgreSQL database is opened as openStore does (its
// schema brought up to date); its path is shown masked.
func (a *app) openExisting(ctx context.Context) (*store.DB, string, error) {
	path := a.dbPath()
	if err := a.dbUnknown(path); err != nil {
		return nil, path, err
	}
	st, _, err := a.openExistingAt(ctx, path)
	return st, path, err
}

// openExistingAt opens the database at path (a file or URL, masked or
// not) as openExisting does, and returns it with path as messages show it.
func (a *app) openExistingAt(ctx context.Context, path string) (*store.DB, string, error) {
	target := a.dbSecret(path)
	path = store.MaskDSN(path)
	if store.IsPostgresURL(target) {
		st, err := a.openStore(ctx, target)
		return st, path, err
	}
	if _, err := os.Stat(target); errors.Is(err, fs.ErrNotExist) {
		return nil, path, storeError(err, fmt.Sprintf("no database at %s", path),
			"run `warden sync` to create it, or point --db (or WARDEN_DB) at an existing one; `warden demo` writes warden-demo.db")
	}
	st, err := store.OpenSQLiteReadOnly(ctx, target)
	if err != nil {
		return nil, path, openError(err, path)
	}
	return st, path, nil
}

// latest opens the database and returns it with the connection's latest
// snapshot.
func (a *app) latest(ctx context.Context) (*store.DB, *model.Snapshot, error) {
	st, path, err := a.openExisting(ctx)
	if err != nil {
		return nil, nil, err
	}
	snap, err := st.LatestSnapshot(ctx, a.connection)
	if err != nil {
		st.Close()
		if errors.Is(err, store.ErrNoSnapshot) {
			return nil, nil, storeError(err, fmt.Sprintf("no snapshot yet in %s for connection %q", path, a.connection),
				"run `warden sync` (or `warden demo`, then use --db warden-demo.db) first")
		}
		return nil, nil, storeError(err, fmt.Sprintf("read latest snapshot from %s: %v", path, err),
			"check the file is not being written by another process, or sync again")
	}
	return st, snap, nil
}

// latestGraph returns the connection's latest snapshot and its whole graph.
func (a *app) latestGraph(ctx context.Context) (*model.Snapshot, *model.Graph, error) {
	st, snap, err := a.latest(ctx)
	if err != nil {
		return nil, nil, err
	}
	defer st.Close()
	g, err := st.Graph(ctx, snap.ID)
	if err != nil {
		return nil, nil, storeError(err, fmt.Sprintf("read snapshot %d: %v", snap.ID, err), "sync again to write a fresh snapshot")
	}
	return snap, g, nil
}

// latestPart returns the part of the connection's latest snapshot with the
// resources of the given types (in account, when not "") and the grants
// they hold; no types returns the whole graph.
func (a *app) latestPart(ctx context.Context, types []model.ResourceType, account string) (*model.Graph, error) {
	if len(types) == 0 {
		_, g, err := a.latestGraph(ctx)
		return g, err
	}
	st, snap, err := a.latest(ctx)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	g, err := st.Subgraph(ctx, snap.ID, types, account)
	if err != nil {
		return nil, storeError(err, fmt.Sprintf("read snapshot %d: %v", snap.ID, err), "sync again to write a fresh snapshot")
	}
	return g, nil
}

// print writes v as JSON, or the tables as text.
func (a *app) print(v any, tables ...*render.Table) error {
	if a.format == render.FormatJSON {
		return render.JSON(a.stdout, v)
	}
	return render.Tables(a.stdout, tables...)
}

// progressReporter returns where long work reports progress: stderr, live
// when stderr is a terminal, line by line with --progress, or nowhere.
func (a *app) progressReporter() *render.Progress {
	live := isTerminal(a.stderr)
	if !live && !a.progress {
		return nil
	}
	return render.NewProgress(a.stderr, live)
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// principalList formats candidate principals, one per line.
func principalList(rs []model.Resource) string {
	var b strings.Builder
	for _, r := range rs {
		fmt.Fprintf(&b, "\n  %-10s %-30s %s", strings.TrimPrefix(string(r.Type), "iam_"), r.Name, r.ID)
	}
	return b.String()
}

// lockSync takes the sync lock of a connection in st for this process,
// so two syncs of one connection (in this process or any other sharing
// the database) never run at once; the error of a lock another holds
// names that holder.
func (a *app) lockSync(ctx context.Context, st syncjob.Store, connectionID string) (release func(), err error) {
	release, err = syncjob.Lock(ctx, st, connectionID, "")
	var le *syncjob.LockError
	if errors.As(err, &le) {
		return nil, lockError(le)
	}
	return release, err
}

// lockError explains a sync lock that could not be taken.
func lockError(le *syncjob.LockError) error {
	if le.Busy() {
		problem, fix, _ := strings.Cut(le.Error(), ": wait for it")
		return &cliError{code: exitError, problem: problem, fix: "wait for it" + fix + " (then sync again)", err: le}
	}
	return storeError(le, le.Error(), "check the database is reachable and writable, then sync again")
}
