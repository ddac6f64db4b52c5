package store

import (
	"context"
	"strings"

	"github.com/warden-iam/warden/internal/model"
)

// PageKey is where a page of resources starts: after the resource with this
// type, name and id, in the order of Resources (type, then name, then id).
// The zero key starts at the first resource.
type PageKey struct {
	Type string `json:"t"`
	Name string `json:"n"`
	ID   string `json:"i"`
}

// KeyOf is the page key just past r.
func KeyOf(r model.Resource) PageKey { return PageKey{Type: string(r.Type), Name: r.Name, ID: r.ID} }

// PageFilter narrows a page of resources: ResourceFilter's fields, and
// Search, a text each resource's name or id contains (case-insensitive;
// "" matches all).
type PageFilter struct {
	ResourceFilter
	Search string
}

// ResourcePage returns at most limit resources of a snapshot matching f,
// in the order of Resources, starting after key: a keyset page, whose cost
// is the page's and not the offset's, so a client walking 60,000 users
// reads each page as fast as the first.
func (s *DB) ResourcePage(ctx context.Context, snapshotID int64, f PageFilter, after PageKey, limit int) ([]model.Resource, error) {
	c, ok, err := s.snapshotConn(ctx, snapshotID)
	if err != nil || !ok {
		return nil, err
	}
	q := `SELECT r.data FROM resource_versions r WHERE ` + at("r")
	qargs := atArgs(c, snapshotID)
	for _, f := range []struct{ col, val string }{{"type", string(f.Type)}, {"account_id", f.AccountID}, {"parent_id", f.ParentID}} {
		if f.val != "" {
			q += " AND r." + f.col + "=?"
			qargs = append(qargs, f.val)
		}
	}
	if f.Search != "" {
		like := "%" + escapeLike(strings.ToLower(f.Search)) + "%"
		q += ` AND (LOWER(r.name) LIKE ? ESCAPE '\' OR LOWER(r.id) LIKE ? ESCAPE '\')`
		qargs = append(qargs, like, like)
	}
	// Row values, which SQLite and PostgreSQL both seek the
	// (connection_id, type, name) index to; with the type fixed, the seek
	// is on the name within it.
	switch {
	case after == (PageKey{}):
	case f.Type != "" && after.Type == string(f.Type):
		q += " AND (r.name, r.id) > (?, ?)"
		qargs = append(qargs, after.Name, after.ID)
	default:
		q += " AND (r.type, r.name, r.id) > (?, ?, ?)"
		qargs = append(qargs, after.Type, after.Name, after.ID)
	}
	q += " ORDER BY r.type, r.name, r.id LIMIT ?"
	qargs = append(qargs, limit)
	return s.queryResources(ctx, q, qargs...)
}

// escapeLike escapes LIKE's wildcards in s, with \ as the escape.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
