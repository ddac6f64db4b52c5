//go:build !unix

package store

// lockFile does not lock where flock is not available: syncs of one
// connection are then not kept apart, though each snapshot is still
// written atomically.
func lockFile(name, note string) (release func(), other string, err error) {
	return func() {}, "", nil
}
