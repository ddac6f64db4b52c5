package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/warden-iam/warden/internal/model"
)

// writeOne stores the sample graph as one snapshot in a new file and
// closes it.
func writeOne(t *testing.T, path string) {
	t.Helper()
	ctx := context.Background()
	st, err := OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	snap := &model.Snapshot{StartedAt: time.Now(), FinishedAt: time.Now(), Status: model.StatusComplete}
	if _, err := st.WriteSnapshot(ctx, snap, sampleGraph()); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestNewDatabaseIsOwnerOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "w.db")
	writeOne(t, path)
	for _, f := range []string{path, path + "-wal", path + "-shm"} {
		info, err := os.Stat(f)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if mode := info.Mode().Perm(); mode != 0o600 {
			t.Errorf("%s has mode %o, want 600", filepath.Base(f), mode)
		}
	}
}

func TestConcurrentFirstOpensMigrateOnce(t *testing.T) {
	ctx := context.Background()
	for trial := 0; trial < 10; trial++ {
		path := filepath.Join(t.TempDir(), "w.db")
		const openers = 6
		var wg sync.WaitGroup
		errs := make([]error, openers)
		start := make(chan struct{})
		for i := range openers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				st, err := OpenSQLite(ctx, path)
				if err == nil {
					err = st.Close()
				}
				errs[i] = err
			}()
		}
		close(start)
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("trial %d: opener %d of a new file failed: %v", trial, i, err)
			}
		}
		st, err := OpenSQLiteReadOnly(ctx, path)
		if err != nil {
			t.Fatalf("trial %d: reopen: %v", trial, err)
		}
		v, err := st.schemaVersion(ctx)
		st.Close()
		if err != nil || v != len(migrations) {
			t.Fatalf("trial %d: schema version %d (%v), want %d", trial, v, err, len(migrations))
		}
	}
}

func TestNewerSchemaSaysUpgrade(t *testing.T) {
	path := filepath.Join(t.TempDir(), "w.db")
	writeOne(t, path)
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE warden_meta SET value='99' WHERE key='schema_version'`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	for name, open := range map[string]func(context.Context, string) (*DB, error){"read-write": OpenSQLite, "read-only": OpenSQLiteReadOnly} {
		_, err := open(context.Background(), path)
		if !errors.Is(err, ErrNewerSchema) || errors.Is(err, ErrForeignDatabase) {
			t.Errorf("%s open of a schema-99 database: err = %v, want ErrNewerSchema (not ErrForeignDatabase)", name, err)
		}
	}
}

func TestReadOnlyOpenLeavesEmptyFileAlone(t *testing.T) {
	path := filepath.Join(t.TempDir(), "empty.db")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenSQLiteReadOnly(context.Background(), path); !errors.Is(err, ErrForeignDatabase) {
		t.Errorf("read-only open of a 0-byte file: err = %v, want ErrForeignDatabase", err)
	}
	if info, err := os.Stat(path); err != nil || info.Size() != 0 {
		t.Errorf("read-only open changed the 0-byte file: %v, size %d", err, info.Size())
	}
}

func TestReadOnlyOpenUpgradesAnOlderSchemaWhenWritable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	// Schema 3 had no scim_pushed table, nor the audit log's params and
	// outcome (schema 5), nor history (schema 6).
	ids := buildOldDB(t, path, 3, "default", []*model.Graph{sampleGraph()})
	st, err := OpenSQLiteReadOnly(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.PushedIDs(context.Background(), "x"); err != nil {
		t.Errorf("after the upgrade, a table of the newest schema is missing: %v", err)
	}
	if g, err := st.Graph(context.Background(), ids[0]); err != nil || !reflect.DeepEqual(g, sorted(sampleGraph())) {
		t.Errorf("after the upgrade, the snapshot reads %+v (%v)", g, err)
	}
}

func TestCheckFindsCorruption(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "w.db")
	writeOne(t, path)
	st, err := OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Check(ctx); err != nil {
		t.Fatalf("Check of a sound database: %v", err)
	}
	st.Close()
	corruptPages(t, path)
	st, err = OpenSQLite(ctx, path)
	if err == nil {
		err = st.Check(ctx)
		st.Close()
	}
	if !errors.Is(err, ErrCorrupt) {
		t.Errorf("open and Check of a damaged database: err = %v, want ErrCorrupt", err)
	}
}

// corruptPages overwrites every page after the first two of a SQLite file
// with garbage, as a failing disk or a bad copy might.
func corruptPages(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	const page = 4096
	if len(data) < 3*page {
		t.Fatalf("%s is only %d bytes", path, len(data))
	}
	for i := 2 * page; i < len(data); i++ {
		data[i] = byte(i*7 + 3)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// readOnlyHelperEnv names the database a re-executed test binary reads as
// an unprivileged user (see TestReadOnlyDirectory).
const readOnlyHelperEnv = "WARDEN_STORE_READONLY_HELPER"

// TestReadOnlyDirectory reads a database whose file and directory cannot be
// written. Root ignores file modes, so as root the test runs its reading
// half in a copy of this test binary as the user nobody.
func TestReadOnlyDirectory(t *testing.T) {
	if path := os.Getenv(readOnlyHelperEnv); path != "" {
		readBack(t, path)
		return
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "w.db")
	writeOne(t, path)
	if err := os.Chmod(path, 0o444); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o755) })
	if os.Geteuid() != 0 {
		readBack(t, path)
		return
	}
	// As root: make the database readable by nobody, copy the test binary
	// where nobody can run it, and run this test there.
	// nobody must reach the file: open the test's own temporary directory,
	// and the one above it (the system's, usually /tmp with mode 1777) only
	// if others cannot pass through it, adding just that bit and putting it
	// back after; never narrow it.
	os.Chmod(filepath.Dir(dir), 0o755)
	top := filepath.Dir(filepath.Dir(dir))
	if fi, err := os.Stat(top); err == nil && fi.Mode().Perm()&0o001 == 0 {
		mode := fi.Mode() & (os.ModePerm | os.ModeSticky | os.ModeSetuid | os.ModeSetgid)
		os.Chmod(top, mode|0o001)
		t.Cleanup(func() { os.Chmod(top, mode) })
	}
	bin := copyExecutable(t)
	cmd := exec.Command(bin, "-test.run", "^TestReadOnlyDirectory$", "-test.count", "1")
	cmd.Env = append(os.Environ(), readOnlyHelperEnv+"="+path)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("reading as nobody failed: %v\n%s", err, out)
	}
	if _, err := os.Stat(path + "-wal"); err == nil {
		t.Error("a read-only reader left a -wal file")
	}
}

// readBack opens path read-only and checks the snapshot written by writeOne
// is there.
func readBack(t *testing.T, path string) {
	t.Helper()
	ctx := context.Background()
	if f, err := os.OpenFile(path, os.O_WRONLY, 0); err == nil {
		f.Close()
		t.Fatalf("%s is writable by this process: the test proves nothing", path)
	}
	st, err := OpenSQLiteReadOnly(ctx, path)
	if err != nil {
		t.Fatalf("read-only open: %v", err)
	}
	defer st.Close()
	snap, err := st.LatestSnapshot(ctx, "")
	if err != nil {
		t.Fatalf("latest snapshot: %v", err)
	}
	g, err := st.Graph(ctx, snap.ID)
	if err != nil {
		t.Fatal(err)
	}
	if want := len(sampleGraph().Resources); len(g.Resources) != want {
		t.Errorf("read %d resources, want %d", len(g.Resources), want)
	}
}

// copyExecutable copies the running test binary into a directory anyone
// may enter and returns its path.
func copyExecutable(t *testing.T) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "warden-store-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	in, err := os.Open(self)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	bin := filepath.Join(dir, "store.test")
	out, err := os.OpenFile(bin, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(fmt.Errorf("copy test binary: %w", err))
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	return bin
}
