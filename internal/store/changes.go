package store

import (
	"cmp"
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
