//go:build unix

package store

import (
	"errors"
	"io"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// lockFile takes an exclusive lock (flock, not waiting) on the file name,
// creating it, and writes note into it; when another open file holds the
// lock it returns ErrSyncLocked and that holder's note.
func lockFile(name, note string) (release func(), other string, err error) {
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, fileMode)
	if err != nil {
		return nil, "", err
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		defer f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			b, _ := io.ReadAll(io.LimitReader(f, 4096))
			return nil, string(b), ErrSyncLocked
		}
		return nil, "", err
	}
	if err := f.Truncate(0); err == nil {
		_, err = f.WriteAt([]byte(note+"\n"), 0)
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			f.Truncate(0)
			unix.Flock(int(f.Fd()), unix.LOCK_UN)
			f.Close()
		})
	}, "", nil
}
