//go:build unix

package store

import "golang.org/x/sys/unix"

// accessW reports whether this process may write path (access(2) with W_OK,
// which honours root's privileges and read-only mounts alike).
func accessW(path string) error { return unix.Access(path, unix.W_OK) }
