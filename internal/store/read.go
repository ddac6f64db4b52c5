package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/warden-iam/warden/internal/model"
)

// snapshotConn returns the connection of a snapshot; ok is false when no
// such snapshot exists (its reads then find nothing).
func (s *DB) snapshotConn(ctx context.Context, snapshotID int64) (string, bool, error) {
	if c, ok := s.conns.Load(snapshotID); ok {
		return c.(string), true, nil
	}
	var c string
	err := s.db.QueryRowContext(ctx, s.d.rebind(`SELECT connection_id FROM snapshots WHERE id=?`), snapshotID).Scan(&c)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("read snapshot %d from %s: %w", snapshotID, s.path, err)
	}
	s.conns.Store(snapshotID, c)
	return c, true, nil
}

// at is the condition that a row of the table aliased a holds in a
// snapshot; its arguments are atArgs. The unary + keeps SQLite's planner
// off the valid_from and valid_to indexes (which serve Changes and the
// writer): a snapshot's rows are found by the connection and the column a
// query looks up, and the range only filters them. PostgreSQL reads +n as
// n.
func at(a string) string {
	return a + ".connection_id=? AND +" + a + ".valid_from<=? AND (" + a + ".valid_to IS NULL OR +" + a + ".valid_to>?)"
}

// atArgs are the arguments of at for snapshot id of connection c.
func atArgs(c string, id int64) []any { return []any{c, id, id} }

// args joins query arguments.
func args(parts ...[]any) []any {
	var out []any
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// Resources lists a snapshot's resources matching f, by type then name.
func (s *DB) Resources(ctx context.Context, snapshotID int64, f ResourceFilter) ([]model.Resource, error) {
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
	return s.queryResources(ctx, q+" ORDER BY r.type, r.name, r.id", qargs...)
}

// Resource returns one resource by ID, or ErrNotFound.
func (s *DB) Resource(ctx context.Context, snapshotID int64, id string) (*model.Resource, error) {
	c, ok, err := s.snapshotConn(ctx, snapshotID)
	if err != nil {
		return nil, err
	}
	var rs []model.Resource
	if ok {
		if rs, err = s.queryResources(ctx, `SELECT r.data FROM resource_versions r WHERE `+at("r")+` AND r.id=?`, args(atArgs(c, snapshotID), []any{id})...); err != nil {
			return nil, err
		}
	}
	if len(rs) == 0 {
		return nil, fmt.Errorf("resource %s: %w", id, ErrNotFound)
	}
	return &rs[0], nil
}

// ResourcesByID returns the resources of a snapshot with the given IDs;
// see Store.
func (s *DB) ResourcesByID(ctx context.Context, snapshotID int64, ids []string) (map[string]model.Resource, error) {
	out := make(map[string]model.Resource, len(ids))
	c, ok, err := s.snapshotConn(ctx, snapshotID)
	if err != nil || !ok {
		return out, err
	}
	const batch = 400
	for start := 0; start < len(ids); start += batch {
		part := ids[start:min(start+batch, len(ids))]
		qargs := atArgs(c, snapshotID)
		for _, id := range part {
			qargs = append(qargs, id)
		}
		rs, err := s.queryResources(ctx, `SELECT r.data FROM resource_versions r WHERE `+at("r")+` AND r.id IN (`+placeholders(len(part))+`)`, qargs...)
		if err != nil {
			return nil, err
		}
		for _, r := range rs {
			out[r.ID] = r
		}
	}
	return out, nil
}

// placeholders is n ? placeholders, comma-separated.
func placeholders(n int) string { return strings.TrimSuffix(strings.Repeat("?,", n), ",") }

// byKeys returns the resources of a snapshot with one of the lookup keys,
// each once, ordered by order and then ID. The order is Go's, not SQL's:
// an ORDER BY would tempt SQLite's planner (which has no statistics) to
// walk a whole index in that order rather than look the keys up.
func (s *DB) byKeys(ctx context.Context, c string, snapshotID int64, keys []string, extra string, order func(a, b *model.Resource) int) ([]model.Resource, error) {
	qargs := []any{c}
	for _, k := range keys {
		qargs = append(qargs, k)
	}
	// CROSS JOIN makes SQLite read the keys first and look each resource
	// up; left to choose, it walked the resources. PostgreSQL plans it as
	// any join.
	rs, err := s.queryResources(ctx, `SELECT r.data FROM resource_keys k CROSS JOIN resource_versions r
		WHERE r.connection_id=k.connection_id AND r.id=k.resource_id AND r.valid_from=k.valid_from
		AND k.connection_id=? AND k.key IN (`+placeholders(len(keys))+`) AND `+at("r")+extra,
		args(qargs, atArgs(c, snapshotID))...)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(rs, func(a, b model.Resource) int { return cmp.Or(order(&a, &b), cmp.Compare(a.ID, b.ID)) })
	out := rs[:0]
	seen := map[string]bool{}
	for _, r := range rs {
		if !seen[r.ID] {
			seen[r.ID] = true
			out = append(out, r)
		}
	}
	return out, nil
}

// FindPrincipal resolves a query to principals: first an exact resource ID or
// ARN; then an IAM user, group or role or Identity Center user or group by
// name (case-insensitive); then an Identity Center user by e-mail address,
// or an IAM user, group or role with a tag whose value equals the query
// (case-insensitive), such as an email tag; last a managed policy or a
// permission set by name (case-insensitive), whose holders `warden access`
// lists. No match returns an empty list and no error.
func (s *DB) FindPrincipal(ctx context.Context, snapshotID int64, query string) ([]model.Resource, error) {
	c, ok, err := s.snapshotConn(ctx, snapshotID)
	if err != nil || !ok {
		return nil, err
	}
	rs, err := s.queryResources(ctx, `SELECT r.data FROM resource_versions r WHERE `+at("r")+` AND r.id=?`, args(atArgs(c, snapshotID), []any{query})...)
	if err != nil {
		return nil, err
	}
	byARN, err := s.byKeys(ctx, c, snapshotID, []string{keyARN + query}, "", byNothing)
	if err != nil {
		return nil, err
	}
	if rs = mergeByID(rs, byARN); len(rs) > 0 {
		return rs, nil
	}
	lq := strings.ToLower(query)
	for _, keys := range [][]string{{keyName + lq}, {keyTag + lq, keyEmail + lq}, {keyHeld + lq}} {
		if rs, err := s.byKeys(ctx, c, snapshotID, keys, "", byType); err != nil || len(rs) > 0 {
			return rs, err
		}
	}
	return nil, nil
}

// mergeByID appends to a the resources of b it does not have, ordered by ID.
func mergeByID(a, b []model.Resource) []model.Resource {
	for _, r := range b {
		dup := false
		for _, x := range a {
			dup = dup || x.ID == r.ID
		}
		if !dup {
			a = append(a, r)
		}
	}
	if len(a) > 1 {
		g := model.Graph{Resources: a}
		g.Sort()
	}
	return a
}

// IAMUsersMatching returns IAM users named or tagged with one of values;
// see Store.
func (s *DB) IAMUsersMatching(ctx context.Context, snapshotID int64, values []string) ([]model.Resource, error) {
	if len(values) == 0 {
		return nil, nil
	}
	c, ok, err := s.snapshotConn(ctx, snapshotID)
	if err != nil || !ok {
		return nil, err
	}
	var keys []string
	for _, v := range values {
		lv := strings.ToLower(v)
		keys = append(keys, keyName+lv, keyTag+lv)
	}
	return s.byKeys(ctx, c, snapshotID, keys, " AND r.type='iam_user'", byAccountName)
}

// Orders of byKeys.
func byNothing(_, _ *model.Resource) int { return 0 }
func byType(a, b *model.Resource) int    { return cmp.Compare(a.Type, b.Type) }
func byAccountName(a, b *model.Resource) int {
	return cmp.Or(cmp.Compare(a.AccountID, b.AccountID), cmp.Compare(a.Name, b.Name))
}

// heldQuery reads the grants of a snapshot matching where (on g), each with
// the resource joined on joinCol (a column of g). It has no ORDER BY (held
// sorts), so SQLite looks the grants up by where's index rather than walk
// an index in the order asked.
func heldQuery(joinCol, where string) string {
	return `SELECT g.principal_id, g.entitlement_id, g.provenance, g.via_id, COALESCE(r.data, '')
		FROM grant_versions g LEFT JOIN resource_versions r ON r.id=g.` + joinCol + ` AND ` + at("r") + `
		WHERE ` + at("g") + ` AND ` + where
}

// Graph loads a whole snapshot, in the canonical order of model.Graph.Sort.
func (s *DB) Graph(ctx context.Context, snapshotID int64) (*model.Graph, error) {
	var g model.Graph
	c, ok, err := s.snapshotConn(ctx, snapshotID)
	if err != nil || !ok {
		return &g, err
	}
	a := atArgs(c, snapshotID)
	if g.Resources, err = s.queryResources(ctx, `SELECT r.data FROM resource_versions r WHERE `+at("r"), a...); err != nil {
		return nil, err
	}
	if err := s.entitlementRows(ctx, `SELECT r.id, r.resource_id, r.name FROM entitlement_versions r WHERE `+at("r"), a, func(e model.Entitlement) {
		g.Entitlements = append(g.Entitlements, e)
	}); err != nil {
		return nil, err
	}
	if err := s.grantRows(ctx, "grants", `SELECT g.principal_id, g.entitlement_id, g.provenance, g.via_id, '' FROM grant_versions g WHERE `+at("g"), a,
		func(gr model.Grant, _ string) error {
			g.Grants = append(g.Grants, gr)
			return nil
		}); err != nil {
		return nil, err
	}
	g.Sort()
	return &g, nil
}

// Snapshot returns one snapshot by ID; see Store.
func (s *DB) Snapshot(ctx context.Context, id int64) (*model.Snapshot, error) {
	snap, err := scanSnapshot(s.db.QueryRowContext(ctx, s.d.rebind(`SELECT `+snapshotCols+` FROM snapshots WHERE id=?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("snapshot %d: %w (list them with `warden snapshots`)", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read snapshot %d from %s: %w", id, s.path, err)
	}
	return snap, nil
}

// Subgraph loads the part of a snapshot one view needs, by indexed
// queries: the resources of the given types (in account, when not ""), the
// entitlements they offer, and the grants held by them. Grants to
// resources outside the part are included; their resources are not.
func (s *DB) Subgraph(ctx context.Context, snapshotID int64, types []model.ResourceType, account string) (*model.Graph, error) {
	var g model.Graph
	c, ok, err := s.snapshotConn(ctx, snapshotID)
	if err != nil || !ok || len(types) == 0 {
		return &g, err
	}
	a := atArgs(c, snapshotID)
	of := `r.type IN (` + placeholders(len(types)) + `)`
	filter := make([]any, 0, len(types)+1)
	for _, t := range types {
		filter = append(filter, string(t))
	}
	if account != "" {
		of += ` AND r.account_id=?`
		filter = append(filter, account)
	}
	if g.Resources, err = s.queryResources(ctx, `SELECT r.data FROM resource_versions r WHERE `+at("r")+` AND `+of, args(a, filter)...); err != nil {
		return nil, err
	}
	// The part's entitlements and grants are picked from the snapshot's
	// in Go: one pass over them costs less than looking each resource's up.
	in := make(map[string]bool, len(g.Resources))
	for _, r := range g.Resources {
		in[r.ID] = true
	}
	if err := s.entitlementRows(ctx, `SELECT e.id, e.resource_id, e.name FROM entitlement_versions e WHERE `+at("e"), a, func(e model.Entitlement) {
		if in[e.ResourceID] {
			g.Entitlements = append(g.Entitlements, e)
		}
	}); err != nil {
		return nil, err
	}
	if err := s.grantRows(ctx, "grants", `SELECT g.principal_id, g.entitlement_id, g.provenance, g.via_id, '' FROM grant_versions g WHERE `+at("g"), a,
		func(gr model.Grant, _ string) error {
			if in[gr.PrincipalID] {
				g.Grants = append(g.Grants, gr)
			}
			return nil
		}); err != nil {
		return nil, err
	}
	g.Sort()
	return &g, nil
}

// querier is a database, a connection or a transaction: what the row
// readers below need.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// readResources runs a query of resources' data and decodes them, in
// batches on the other cores while the rows are still being read; path
// names the database in errors.
func readResources(ctx context.Context, q querier, path, query string, qargs ...any) ([]model.Resource, error) {
	rows, err := q.QueryContext(ctx, query, qargs...)
	if err != nil {
		return nil, fmt.Errorf("read resources from %s: %w", path, err)
	}
	defer rows.Close()
	const batch = 256
	type part struct {
		rs  []model.Resource
		err error
	}
	var (
		parts []*part
		wg    sync.WaitGroup
		sem   = make(chan struct{}, runtime.GOMAXPROCS(0))
	)
	decode := func(data []string) {
		p := &part{rs: make([]model.Resource, len(data))}
		parts = append(parts, p)
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			for j, d := range data {
				if err := json.Unmarshal([]byte(d), &p.rs[j]); err != nil {
					p.err = fmt.Errorf("decode resource in %s: %w", path, err)
					return
				}
			}
		}()
	}
	pending := make([]string, 0, batch)
	for rows.Next() {
		var data string
		if err := rows.Scan(&data); err != nil {
			wg.Wait()
			return nil, fmt.Errorf("read resources from %s: %w", path, err)
		}
		if pending = append(pending, data); len(pending) == batch {
			decode(pending)
			pending = make([]string, 0, batch)
		}
	}
	if len(pending) > 0 {
		decode(pending)
	}
	wg.Wait()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read resources from %s: %w", path, err)
	}
	var out []model.Resource
	for _, p := range parts {
		if p.err != nil {
			return nil, p.err
		}
		out = append(out, p.rs...)
	}
	return out, nil
}

// readEntitlements runs a query of entitlements (id, resource_id, name).
func readEntitlements(ctx context.Context, q querier, path, query string, qargs []any, each func(model.Entitlement)) error {
	rows, err := q.QueryContext(ctx, query, qargs...)
	if err != nil {
		return fmt.Errorf("read entitlements from %s: %w", path, err)
	}
	defer rows.Close()
	for rows.Next() {
		var e model.Entitlement
		if err := rows.Scan(&e.ID, &e.ResourceID, &e.Name); err != nil {
			return fmt.Errorf("read entitlements from %s: %w", path, err)
		}
		each(e)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read entitlements from %s: %w", path, err)
	}
	return nil
}

// readGrants runs a query of grants (principal_id, entitlement_id,
// provenance, via_id, and the data of a joined resource or ”); what names
// them in errors.
func readGrants(ctx context.Context, q querier, path, what, query string, qargs []any, each func(g model.Grant, data string) error) error {
	rows, err := q.QueryContext(ctx, query, qargs...)
	if err != nil {
		return fmt.Errorf("read %s from %s: %w", what, path, err)
	}
	defer rows.Close()
	for rows.Next() {
		var g model.Grant
		var prov, data string
		if err := rows.Scan(&g.PrincipalID, &g.EntitlementID, &prov, &g.ViaID, &data); err != nil {
			return fmt.Errorf("read %s from %s: %w", what, path, err)
		}
		g.Provenance = model.Provenance(prov)
		if err := each(g, data); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read %s from %s: %w", what, path, err)
	}
	return nil
}

// queryResources, entitlementRows and grantRows run a portable query on
// the store's database.
func (s *DB) queryResources(ctx context.Context, query string, qargs ...any) ([]model.Resource, error) {
	return readResources(ctx, s.db, s.path, s.d.rebind(query), qargs...)
}

func (s *DB) entitlementRows(ctx context.Context, query string, qargs []any, each func(model.Entitlement)) error {
	return readEntitlements(ctx, s.db, s.path, s.d.rebind(query), qargs, each)
}

func (s *DB) grantRows(ctx context.Context, what, query string, qargs []any, each func(g model.Grant, data string) error) error {
	return readGrants(ctx, s.db, s.path, what, s.d.rebind(query), qargs, each)
}

// GrantsOf returns everything principalID holds, with the resource offering
// each entitlement.
func (s *DB) GrantsOf(ctx context.Context, snapshotID int64, principalID string) ([]HeldGrant, error) {
	var out []HeldGrant
	err := s.held(ctx, snapshotID, "grants of "+principalID, heldQuery("resource_id", "g.principal_id=?"), principalID,
		func(g model.Grant, r *model.Resource) {
			if r == nil {
				r = &model.Resource{ID: entitlementResource(g.EntitlementID)}
			}
			out = append(out, HeldGrant{Grant: g, Resource: *r})
		})
	return out, err
}

// HoldersOf returns everyone holding the entitlement.
func (s *DB) HoldersOf(ctx context.Context, snapshotID int64, entitlementID string) ([]Holder, error) {
	var out []Holder
	err := s.held(ctx, snapshotID, "holders of "+entitlementID, heldQuery("principal_id", "g.entitlement_id=?"), entitlementID,
		func(g model.Grant, r *model.Resource) { out = append(out, Holder{Grant: g, Principal: r}) })
	return out, err
}

// held runs a heldQuery for one key in a snapshot, calling each with every
// grant, in the order of model.Graph.Sort, and its joined resource (nil
// when that is not a synced resource).
func (s *DB) held(ctx context.Context, snapshotID int64, what, query, key string, each func(model.Grant, *model.Resource)) error {
	c, ok, err := s.snapshotConn(ctx, snapshotID)
	if err != nil || !ok {
		return err
	}
	type row struct {
		g model.Grant
		r *model.Resource
	}
	var rows []row
	err = s.grantRows(ctx, what, query, args(atArgs(c, snapshotID), atArgs(c, snapshotID), []any{key}), func(g model.Grant, data string) error {
		if data == "" {
			rows = append(rows, row{g: g})
			return nil
		}
		r := new(model.Resource)
		if err := json.Unmarshal([]byte(data), r); err != nil {
			return fmt.Errorf("decode resource in %s: %w", s.path, err)
		}
		rows = append(rows, row{g, r})
		return nil
	})
	slices.SortFunc(rows, func(a, b row) int { return compareGrants(a.g, b.g) })
	for _, r := range rows {
		each(r.g, r.r)
	}
	return err
}
