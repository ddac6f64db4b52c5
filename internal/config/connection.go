package config

import (
	"fmt"
	"strings"
)

// Connection returns the connection with the given id, or an error naming
// the ids the file does have.
func (f *File) Connection(id string) (*Connection, error) {
	for i := range f.Connections {
		if f.Connections[i].ID == id {
			return &f.Connections[i], nil
		}
	}
	where := "the configuration"
	if f.src != nil {
		where = f.src.name
	}
	ids := f.IDs()
	if len(ids) == 0 {
		return nil, fmt.Errorf("no connection %q: %s defines no connections", id, where)
	}
	return nil, fmt.Errorf("no connection %q in %s; known ids: %s", id, where, strings.Join(ids, ", "))
}

// IDs returns the connection ids in file order.
func (f *File) IDs() []string {
	ids := make([]string, len(f.Connections))
	for i, c := range f.Connections {
		ids[i] = c.ID
	}
	return ids
}
