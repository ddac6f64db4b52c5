//go:build !unix

package store

import "os"

// accessW reports whether path can be opened for writing; directories are
// assumed writable where access(2) is not available.
func accessW(path string) error {
	if fi, err := os.Stat(path); err != nil || fi.IsDir() {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	return f.Close()
}
