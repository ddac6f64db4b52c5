package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/warden-iam/warden/internal/model"
)

// GraphChanges returns what differs from graph a (snapshot from) to graph b
// (snapshot to), comparing the two whole graphs. It is the reference the
// store's own Changes is tested against.
func GraphChanges(from, to int64, a, b *model.Graph) *ChangeSet {
	return changeSet(from, to, a, b)
}

// changeSet pairs what went (rows holding at from, perhaps still at to)
// with what came (rows holding at to): a resource or entitlement in both,
// the same, is no change; in both and different, a change; in one only,
// removed or added. A grant in both is no change.
func changeSet(from, to int64, gone, came *model.Graph) *ChangeSet {
	cs := &ChangeSet{From: from, To: to}
	before := make(map[string]*model.Resource, len(gone.Resources))
	for i := range gone.Resources {
		before[gone.Resources[i].ID] = &gone.Resources[i]
	}
	for i := range came.Resources {
		r := &came.Resources[i]
		old, ok := before[r.ID]
		delete(before, r.ID)
		if !ok || marshal(old) != marshal(r) {
			cs.Resources = append(cs.Resources, ResourceChange{ID: r.ID, Before: old, After: r})
		}
	}
	for id, old := range before {
		cs.Resources = append(cs.Resources, ResourceChange{ID: id, Before: old})
	}
	beforeE := make(map[string]*model.Entitlement, len(gone.Entitlements))
	for i := range gone.Entitlements {
		beforeE[gone.Entitlements[i].ID] = &gone.Entitlements[i]
	}
	for i := range came.Entitlements {
		e := &came.Entitlements[i]
		old, ok := beforeE[e.ID]
		delete(beforeE, e.ID)
		if !ok || *old != *e {
			cs.Entitlements = append(cs.Entitlements, EntitlementChange{ID: e.ID, Before: old, After: e})
		}
	}
	for id, old := range beforeE {
		cs.Entitlements = append(cs.Entitlements, EntitlementChange{ID: id, Before: old})
	}
	went := make(map[model.Grant]bool, len(gone.Grants))
	for _, g := range gone.Grants {
		went[g] = true
	}
	for _, g := range came.Grants {
		if went[g] {
			delete(went, g)
		} else {
			cs.Grants = append(cs.Grants, GrantChange{Grant: g, Added: true})
		}
	}
	for g := range went {
		cs.Grants = append(cs.Grants, GrantChange{Grant: g})
	}
	cs.sort()
	return cs
}

// sort puts the lists of cs in their documented order.
func (cs *ChangeSet) sort() {
	slices.SortFunc(cs.Resources, func(a, b ResourceChange) int { return cmp.Compare(a.ID, b.ID) })
	slices.SortFunc(cs.Entitlements, func(a, b EntitlementChange) int { return cmp.Compare(a.ID, b.ID) })
	slices.SortFunc(cs.Grants, func(a, b GrantChange) int { return compareGrants(a.Grant, b.Grant) })
}

// compareGrants orders grants as model.Graph.Sort does.
func compareGrants(a, b model.Grant) int {
	return cmp.Or(cmp.Compare(a.PrincipalID, b.PrincipalID), cmp.Compare(a.EntitlementID, b.EntitlementID),
		cmp.Compare(a.Provenance, b.Provenance), cmp.Compare(a.ViaID, b.ViaID))
}

// Changes returns what differs between two snapshots of one connection,
// reading only the history rows that began or ended between them; see
// Store.
func (s *DB) Changes(ctx context.Context, fromID, toID int64) (*ChangeSet, error) {
	if fromID > toID {
		cs, err := s.Changes(ctx, toID, fromID)
		if err != nil {
			return nil, err
		}
		return cs.reversed(), nil
	}
	from, err := s.Snapshot(ctx, fromID)
	if err != nil {
		return nil, err
	}
	to, err := s.Snapshot(ctx, toID)
	if err != nil {
		return nil, err
	}
	if from.ConnectionID != to.ConnectionID {
		return nil, fmt.Errorf("snapshots %d and %d are of different connections (%s, %s): compare snapshots of one connection", fromID, toID, from.ConnectionID, to.ConnectionID)
	}
	if fromID == toID {
		return &ChangeSet{From: fromID, To: toID}, nil
	}
	c := from.ConnectionID
	// Rows holding in to and not in from began after from; rows holding in
	// from and not in to ended after from, by to.
	began := `r.connection_id=? AND r.valid_from>? AND r.valid_from<=? AND (r.valid_to IS NULL OR r.valid_to>?)`
	ended := `r.connection_id=? AND r.valid_from<=? AND r.valid_to>? AND r.valid_to<=?`
	span := []any{c, fromID, toID, toID}
	spanEnded := []any{c, fromID, fromID, toID}

	var gone, came model.Graph
	for _, q := range []struct {
		g     *model.Graph
		where string
		args  []any
	}{{&gone, ended, spanEnded}, {&came, began, span}} {
		if q.g.Resources, err = s.queryResources(ctx, `SELECT r.data FROM resource_versions r WHERE `+q.where, q.args...); err != nil {
			return nil, err
		}
		if err := s.entitlementRows(ctx, `SELECT r.id, r.resource_id, r.name FROM entitlement_versions r WHERE `+q.where, q.args,
			func(e model.Entitlement) { q.g.Entitlements = append(q.g.Entitlements, e) }); err != nil {
			return nil, err
		}
		if err := s.grantRows(ctx, "changed grants", `SELECT r.principal_id, r.entitlement_id, r.provenance, r.via_id, '' FROM grant_versions r WHERE `+q.where, q.args,
			func(g model.Grant, _ string) error {
				q.g.Grants = append(q.g.Grants, g)
				return nil
			}); err != nil {
			return nil, err
		}
	}
	return changeSet(fromID, toID, &gone, &came), nil
}

// reversed is the change set read backwards: from To to From.
func (cs *ChangeSet) reversed() *ChangeSet {
	out := &ChangeSet{From: cs.To, To: cs.From}
	for _, r := range cs.Resources {
		out.Resources = append(out.Resources, ResourceChange{ID: r.ID, Before: r.After, After: r.Before})
	}
	for _, e := range cs.Entitlements {
		out.Entitlements = append(out.Entitlements, EntitlementChange{ID: e.ID, Before: e.After, After: e.Before})
	}
	for _, g := range cs.Grants {
		out.Grants = append(out.Grants, GrantChange{Grant: g.Grant, Added: !g.Added})
	}
	return out
}
