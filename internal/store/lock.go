package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"
)

// ErrSyncLocked is returned (wrapped) by LockSync when another process is
// syncing the same connection; the error says which and since when.
var ErrSyncLocked = errors.New("another sync of this connection is running")

// SyncHolder describes this process for LockSync's holder: "pid N on host H".
func SyncHolder() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "an unknown host"
	}
	return fmt.Sprintf("pid %d on host %s", os.Getpid(), host)
}

// LockSync takes the sync lock of a connection ("" is the default one) for
// holder (who is asking, as SyncHolder says), so two syncs of one connection
// never run at once, in one process or several, while syncs of different
// connections do not wait for each other. It does not wait: when another
// holder has the lock it returns an error wrapping ErrSyncLocked that names
// that holder and since when. The lock lasts until release is called or the
// process ends.
//
// On PostgreSQL the lock is a session advisory lock on a connection kept
// for it, and the holder is recorded in the table sync_holders; on SQLite it
// is an exclusive lock on the file beside the database named by the
// database's path, ".sync-lock.", and the connection, which records the
// holder.
func (s *DB) LockSync(ctx context.Context, connectionID, holder string) (release func(), err error) {
	id := conn(connectionID)
	since := time.Now().UTC().Format(time.RFC3339)
	if _, ok := s.d.(postgres); ok {
		return s.lockSyncPostgres(ctx, id, holder, since)
	}
	release, other, err := lockFile(syncLockPath(s.path, id), holder+"\n"+since)
	if errors.Is(err, ErrSyncLocked) {
		h, at, _ := strings.Cut(strings.TrimSpace(other), "\n")
		return nil, syncLocked(id, h, at)
	}
	if err != nil {
		return nil, fmt.Errorf("take the sync lock of connection %s beside %s: %w", id, s.path, err)
	}
	return release, nil
}

// syncLockPath is the lock file of a connection's syncs beside the SQLite
// file at path: the connection is escaped so any name makes one file name.
func syncLockPath(path, connectionID string) string {
	var b strings.Builder
	for _, c := range []byte(connectionID) {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' && b.Len() > 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return path + ".sync-lock." + b.String()
}

// syncLocked is the error of a lock another holder has.
func syncLocked(connectionID, holder, since string) error {
	if holder == "" {
		holder = "another warden process"
	}
	if since != "" {
		holder += " since " + since
	}
	return fmt.Errorf("%w: connection %s is being synced by %s: wait for it to finish, or stop it", ErrSyncLocked, connectionID, holder)
}

// lockSyncPostgres takes the session advisory lock of the connection's
// syncs on a server connection kept until release.
func (s *DB) lockSyncPostgres(ctx context.Context, id, holder, since string) (func(), error) {
	fail := func(err error) error {
		return fmt.Errorf("take the sync lock of connection %s on %s: %w", id, s.path, err)
	}
	c, err := s.db.Conn(ctx)
	if err != nil {
		return nil, fail(err)
	}
	const key = `hashtextextended('warden-sync:'||$1, 0)`
	var got bool
	if err := c.QueryRowContext(ctx, `SELECT pg_try_advisory_lock(`+key+`)`, id).Scan(&got); err != nil {
		c.Close()
		return nil, fail(err)
	}
	if !got {
		var h, at string
		// No table or no row: the holder has not recorded itself yet.
		err := c.QueryRowContext(ctx, `SELECT holder, since FROM sync_holders WHERE connection_id=$1`, id).Scan(&h, &at)
		c.Close()
		if err != nil {
			h, at = "", ""
		}
		return nil, syncLocked(id, h, at)
	}
	unlock := func() { releaseSession(c, `SELECT pg_advisory_unlock(`+key+`)`, id) }
	if err := recordHolder(ctx, c, id, holder, since); err != nil {
		unlock()
		return nil, fail(err)
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			c.ExecContext(ctx, `DELETE FROM sync_holders WHERE connection_id=$1 AND holder=$2 AND since=$3`, id, holder, since)
			unlock()
		})
	}, nil
}

// recordHolder writes who holds a connection's sync lock into
// sync_holders, creating the table the first time. Its creation takes a
// transaction lock, as two sessions creating one table at once collide.
func recordHolder(ctx context.Context, c *sql.Conn, id, holder, since string) error {
	if _, err := c.ExecContext(ctx, `BEGIN`); err != nil {
		return err
	}
	for _, q := range []string{
		`SELECT pg_advisory_xact_lock(hashtextextended('warden:sync_holders', 0))`,
		`CREATE TABLE IF NOT EXISTS sync_holders (connection_id TEXT PRIMARY KEY, holder TEXT NOT NULL, since TEXT NOT NULL)`,
	} {
		if _, err := c.ExecContext(ctx, q); err != nil {
			c.ExecContext(context.WithoutCancel(ctx), `ROLLBACK`)
			return err
		}
	}
	if _, err := c.ExecContext(ctx, `INSERT INTO sync_holders (connection_id, holder, since) VALUES ($1, $2, $3)
		ON CONFLICT (connection_id) DO UPDATE SET holder=excluded.holder, since=excluded.since`, id, holder, since); err != nil {
		c.ExecContext(context.WithoutCancel(ctx), `ROLLBACK`)
		return err
	}
	_, err := c.ExecContext(ctx, `COMMIT`)
	return err
}
