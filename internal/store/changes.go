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
// store's own Changes is tested against, and what Changes falls back on
// where history does not say.
func GraphChanges(from, to int64, a, b *model.Graph) *ChangeSet {
	cs := &ChangeSet{From: from, To: to}
	ra := make(map[string]*model.Resource, len(a.Resources))
	for i := range a.Resources {
		ra[a.Resources[i].ID] = &a.Resources[i]
	}
	seen := make(map[string]bool, len(b.Resources))
	for i := range b.Resources {
		r := &b.Resources[i]
		seen[r.ID] = true
		if old, ok := ra[r.ID]; !ok {
			cs.Resources = append(cs.Resources, ResourceChange{ID: r.ID, After: r})
		} else if marshal(old) != marshal(r) {
			cs.Resources = append(cs.Resources, ResourceChange{ID: r.ID, Before: old, After: r})
		}
	}
	for i := range a.Resources {
		if r := &a.Resources[i]; !seen[r.ID] {
			cs.Resources = append(cs.Resources, ResourceChange{ID: r.ID, Before: r})
		}
	}
	ea := make(map[string]*model.Entitlement, len(a.Entitlements))
	for i := range a.Entitlements {
		ea[a.Entitlements[i].ID] = &a.Entitlements[i]
	}
	seenE := make(map[string]bool, len(b.Entitlements))
	for i := range b.Entitlements {
		e := &b.Entitlements[i]
		seenE[e.ID] = true
		if old, ok := ea[e.ID]; !ok {
			cs.Entitlements = append(cs.Entitlements, EntitlementChange{ID: e.ID, After: e})
		} else if *old != *e {
			cs.Entitlements = append(cs.Entitlements, EntitlementChange{ID: e.ID, Before: old, After: e})
		}
	}
	for i := range a.Entitlements {
		if e := &a.Entitlements[i]; !seenE[e.ID] {
			cs.Entitlements = append(cs.Entitlements, EntitlementChange{ID: e.ID, Before: e})
		}
	}
	ga := make(map[model.Grant]bool, len(a.Grants))
	for _, g := range a.Grants {
		ga[g] = true
	}
	gb := make(map[model.Grant]bool, len(b.Grants))
	for _, g := range b.Grants {
		gb[g] = true
		if !ga[g] {
			cs.Grants = append(cs.Grants, GrantChange{Grant: g, Added: true})
		}
	}
	for g := range ga {
		if !gb[g] {
			cs.Grants = append(cs.Grants, GrantChange{Grant: g})
		}
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
	cs := &ChangeSet{From: fromID, To: toID}
	if fromID == toID {
		return cs, nil
	}
	c := from.ConnectionID
	// Rows holding in to and not in from began after from; rows holding in
	// from and not in to ended after from, by to.
	began := `r.connection_id=? AND r.valid_from>? AND r.valid_from<=? AND (r.valid_to IS NULL OR r.valid_to>?)`
	ended := `r.connection_id=? AND r.valid_from<=? AND r.valid_to>? AND r.valid_to<=?`
	span := []any{c, fromID, toID, toID}
	spanEnded := []any{c, fromID, fromID, toID}

	added, err := s.queryResources(ctx, `SELECT r.data FROM resource_versions r WHERE `+began, span...)
	if err != nil {
		return nil, err
	}
	removed, err := s.queryResources(ctx, `SELECT r.data FROM resource_versions r WHERE `+ended, spanEnded...)
	if err != nil {
		return nil, err
	}
	before := make(map[string]*model.Resource, len(removed))
	for i := range removed {
		before[removed[i].ID] = &removed[i]
	}
	for i := range added {
		r := &added[i]
		old := before[r.ID]
		delete(before, r.ID)
		if old != nil && marshal(old) == marshal(r) {
			continue // removed and put back as it was
		}
		cs.Resources = append(cs.Resources, ResourceChange{ID: r.ID, Before: old, After: r})
	}
	for id, old := range before {
		cs.Resources = append(cs.Resources, ResourceChange{ID: id, Before: old})
	}

	var addedE, removedE []model.Entitlement
	if err := s.entitlementRows(ctx, `SELECT r.id, r.resource_id, r.name FROM entitlement_versions r WHERE `+began, span, func(e model.Entitlement) { addedE = append(addedE, e) }); err != nil {
		return nil, err
	}
	if err := s.entitlementRows(ctx, `SELECT r.id, r.resource_id, r.name FROM entitlement_versions r WHERE `+ended, spanEnded, func(e model.Entitlement) { removedE = append(removedE, e) }); err != nil {
		return nil, err
	}
	beforeE := make(map[string]*model.Entitlement, len(removedE))
	for i := range removedE {
		beforeE[removedE[i].ID] = &removedE[i]
	}
	for i := range addedE {
		e := &addedE[i]
		old := beforeE[e.ID]
		delete(beforeE, e.ID)
		if old != nil && *old == *e {
			continue
		}
		cs.Entitlements = append(cs.Entitlements, EntitlementChange{ID: e.ID, Before: old, After: e})
	}
	for id, old := range beforeE {
		cs.Entitlements = append(cs.Entitlements, EntitlementChange{ID: id, Before: old})
	}

	grants := map[model.Grant]bool{} // grant → added (true) or removed (false)
	for _, q := range []struct {
		where string
		args  []any
		added bool
	}{{ended, spanEnded, false}, {began, span, true}} {
		if err := s.grantRows(ctx, "changed grants", `SELECT r.principal_id, r.entitlement_id, r.provenance, r.via_id, '' FROM grant_versions r WHERE `+q.where, q.args,
			func(g model.Grant, _ string) error {
				if was, ok := grants[g]; ok && was != q.added {
					delete(grants, g) // removed and put back
					return nil
				}
				grants[g] = q.added
				return nil
			}); err != nil {
			return nil, err
		}
	}
	for g, added := range grants {
		cs.Grants = append(cs.Grants, GrantChange{Grant: g, Added: added})
	}
	cs.sort()
	return cs, nil
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
