package diff

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/warden-iam/warden/internal/findings"
	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/policy"
	"github.com/warden-iam/warden/internal/store"
)

// Compute reports what changed from snapshot from to snapshot to (two
// snapshots of one connection; from may be the newer, the report then
// reads backwards), narrowed by f. It calls st.Changes once, then looks up
// only the resources and grants it needs to name the changed parts and to
// judge them (who is an administrator, whom an assignment to a group
// reaches): its cost follows the change, never the whole graph.
func Compute(ctx context.Context, st store.Store, from, to *model.Snapshot, f Filter) (*Report, error) {
	if from.ConnectionID != to.ConnectionID {
		return nil, fmt.Errorf("snapshots %d and %d belong to different connections (%q and %q): compare two snapshots of one connection",
			from.ID, to.ID, from.ConnectionID, to.ConnectionID)
	}
	if f.Only != "" && !slices.Contains(OnlyValues, f.Only) {
		return nil, fmt.Errorf("unknown section %q: use one of %s", f.Only, strings.Join(OnlyValues, ", "))
	}
	if f.StaleDays <= 0 {
		f.StaleDays = DefaultStaleDays
	}
	cs, err := st.Changes(ctx, from.ID, to.ID)
	if err != nil {
		return nil, fmt.Errorf("compare snapshots %d and %d: %w", from.ID, to.ID, err)
	}
	c := &computer{ctx: ctx, st: st, from: from, to: to, cs: cs, f: f, changed: map[string]*store.ResourceChange{}}
	if err := c.lookUp(); err != nil {
		return nil, err
	}
	r := &Report{From: from, To: to, Only: f.Only}
	if c.wants(OnlyGrants) {
		r.Access = c.access()
		r.IdentityCenter, err = c.assignments()
		if err != nil {
			return nil, err
		}
		r.Entitlements = c.entitlements()
	}
	if c.wants(OnlyGrants) || c.wants(OnlyFindings) {
		if r.Administrators, err = c.administrators(); err != nil {
			return nil, err
		}
		r.Trust = c.trust()
	}
	if c.wants(OnlyResources) {
		r.AccessKeys = c.keys()
		r.ConsoleAndMFA = c.credentials()
		r.Assets = c.assets()
		r.Resources = c.resources()
	}
	if c.wants(OnlyFindings) {
		r.Findings = c.findings()
	}
	c.filter(r)
	r.summarize()
	return r, nil
}

// computer holds what one Compute has read.
type computer struct {
	ctx      context.Context
	st       store.Store
	from, to *model.Snapshot
	cs       *store.ChangeSet
	f        Filter
	// before and after are the resources named by the change, in the
	// from and the to snapshot.
	before, after map[string]model.Resource
	changed       map[string]*store.ResourceChange // by resource ID
}

func (c *computer) wants(section string) bool { return c.f.Only == "" || c.f.Only == section }

// lookUp reads, in each snapshot, the resources the change names but does
// not carry: the principals, entitlement resources and groups of changed
// grants, the owners of changed keys and devices, the accounts of
// assignments.
func (c *computer) lookUp() error {
	ids := map[string]bool{}
	for i := range c.cs.Resources {
		rc := &c.cs.Resources[i]
		c.changed[rc.ID] = rc
		for _, r := range []*model.Resource{rc.Before, rc.After} {
			if r != nil && r.ParentID != "" {
				ids[r.ParentID] = true
			}
			if r != nil && r.Type == model.TypeS3Bucket { // its account's Block Public Access judges its exposure
				ids[model.AccountAssetsID(r.AccountID)] = true
			}
		}
	}
	for _, gc := range c.cs.Grants {
		res, name := splitEntitlement(gc.Grant.EntitlementID)
		ids[gc.Grant.PrincipalID], ids[res] = true, true
		if gc.Grant.ViaID != "" {
			ids[gc.Grant.ViaID] = true
		}
		if acct, ok := strings.CutPrefix(name, model.AssignmentEntitlement("")); ok {
			ids[model.AccountResourceID(acct)] = true
		}
	}
	list := make([]string, 0, len(ids))
	for id := range ids {
		if _, ok := c.changed[id]; !ok { // a changed resource comes with the change
			list = append(list, id)
		}
	}
	slices.Sort(list)
	var err error
	if c.before, err = c.st.ResourcesByID(c.ctx, c.from.ID, list); err != nil {
		return fmt.Errorf("read resources of snapshot %d: %w", c.from.ID, err)
	}
	if c.after, err = c.st.ResourcesByID(c.ctx, c.to.ID, list); err != nil {
		return fmt.Errorf("read resources of snapshot %d: %w", c.to.ID, err)
	}
	for id, rc := range c.changed {
		if rc.Before != nil {
			c.before[id] = *rc.Before
		}
		if rc.After != nil {
			c.after[id] = *rc.After
		}
	}
	return nil
}

// resource returns the resource with the ID in the newer (after) or older
// snapshot, falling back on the other; ok is false when neither has it.
func (c *computer) resource(id string, after bool) (model.Resource, bool) {
	first, second := c.before, c.after
	if after {
		first, second = c.after, c.before
	}
	if r, ok := first[id]; ok {
		return r, true
	}
	r, ok := second[id]
	return r, ok
}

// ref names the resource with the ID as resource does; one in neither
// snapshot is named by its ID.
func (c *computer) ref(id string, after bool) Ref {
	if r, ok := c.resource(id, after); ok {
		return refOf(&r)
	}
	return Ref{ID: id, Name: id}
}

func refOf(r *model.Resource) Ref {
	return Ref{ID: r.ID, Type: r.Type, Name: r.Name, AccountID: r.AccountID}
}

// splitEntitlement returns the resource and the name of an entitlement ID.
func splitEntitlement(id string) (resourceID, name string) {
	if i := strings.LastIndexByte(id, '#'); i >= 0 {
		return id[:i], id[i+1:]
	}
	return id, ""
}

func isPolicy(t model.ResourceType) bool {
	return t == model.TypeIAMPolicy || t == model.TypeInlinePolicy
}

// isAdmin reports whether r is a policy internal/findings counts as an
// administrator's.
func isAdmin(r *model.Resource) bool {
	return r != nil && isPolicy(r.Type) && policy.IsAdmin(findings.Document(r))
}

// added reports whether the resource with the ID was added or removed by
// the change.
func (c *computer) addedOrRemoved(id string) bool {
	rc, ok := c.changed[id]
	return ok && (rc.Before == nil || rc.After == nil)
}

// access turns each grant added or removed into a principal gaining or
// losing an entitlement. Ownership of a key or MFA device added or removed
// with the credential is left to those sections.
func (c *computer) access() []AccessChange {
	out := []AccessChange{}
	for _, gc := range c.cs.Grants {
		g := gc.Grant
		resID, name := splitEntitlement(g.EntitlementID)
		if name == model.EntOwner && c.addedOrRemoved(resID) {
			continue
		}
		side := gc.Added
		a := AccessChange{Change: Lost, Principal: c.ref(g.PrincipalID, side), Entitlement: name, EntitlementID: g.EntitlementID,
			Resource: c.ref(resID, side), Provenance: g.Provenance}
		if gc.Added {
			a.Change = Gained
		}
		if g.ViaID != "" {
			via := c.ref(g.ViaID, side)
			a.Via = &via
		}
		switch acct, isAssignment := strings.CutPrefix(name, model.AssignmentEntitlement("")); {
		case isAssignment:
			a.AccountID = acct
		case name == model.EntAssume || a.Principal.AccountID == "":
			a.AccountID = a.Resource.AccountID
		default:
			a.AccountID = a.Principal.AccountID
		}
		if r, ok := c.resource(resID, side); ok {
			a.Admin = isAdmin(&r)
		}
		a.Text = accessText(a)
		out = append(out, a)
	}
	slices.SortFunc(out, func(x, y AccessChange) int {
		return cmp.Or(cmp.Compare(x.Principal.Name, y.Principal.Name), cmp.Compare(x.Principal.ID, y.Principal.ID),
			cmp.Compare(x.Resource.Name, y.Resource.Name), cmp.Compare(x.EntitlementID, y.EntitlementID),
			cmp.Compare(x.Provenance, y.Provenance), cmp.Compare(viaID(x.Via), viaID(y.Via)), cmp.Compare(x.Change, y.Change))
	})
	return out
}

func viaID(r *Ref) string {
	if r == nil {
		return ""
	}
	return r.ID
}

// assignments lists the Identity Center assignments added or removed: a
// permission set's account entitlement granted to its assignee directly,
// with the people it reaches (a group's members, read with HoldersOf in
// the snapshot where the assignment holds).
func (c *computer) assignments() ([]AssignmentChange, error) {
	out := []AssignmentChange{}
	for _, gc := range c.cs.Grants {
		g := gc.Grant
		resID, name := splitEntitlement(g.EntitlementID)
		acct, ok := strings.CutPrefix(name, model.AssignmentEntitlement(""))
		if !ok || g.Provenance != model.ViaDirect {
			continue
		}
		side := gc.Added
		a := AssignmentChange{Change: Removed, Principal: c.ref(g.PrincipalID, side), PermissionSet: c.ref(resID, side),
			AccountID: acct, Reaches: []Ref{}}
		if gc.Added {
			a.Change = Added
		}
		if r, ok := c.resource(model.AccountResourceID(acct), side); ok {
			a.AccountName = r.Name
		}
		if a.Principal.Type == model.TypeSSOGroup {
			snap := c.from.ID
			if side {
				snap = c.to.ID
			}
			holders, err := c.st.HoldersOf(c.ctx, snap, model.EntitlementID(g.PrincipalID, model.EntMember))
			if err != nil {
				return nil, fmt.Errorf("read the members of %s in snapshot %d: %w", g.PrincipalID, snap, err)
			}
			for _, h := range holders {
				if h.Grant.Provenance != model.ViaDirect {
					continue
				}
				if h.Principal != nil {
					a.Reaches = append(a.Reaches, refOf(h.Principal))
				} else {
					a.Reaches = append(a.Reaches, Ref{ID: h.Grant.PrincipalID, Name: h.Grant.PrincipalID})
				}
			}
			sortRefs(a.Reaches)
		} else {
			a.Reaches = append(a.Reaches, a.Principal)
		}
		a.Text = assignmentText(a)
		out = append(out, a)
	}
	slices.SortFunc(out, func(x, y AssignmentChange) int {
		return cmp.Or(cmp.Compare(x.AccountID, y.AccountID), cmp.Compare(x.PermissionSet.Name, y.PermissionSet.Name),
			cmp.Compare(x.Principal.Name, y.Principal.Name), cmp.Compare(x.Principal.ID, y.Principal.ID), cmp.Compare(x.Change, y.Change))
	})
	return out, nil
}

func sortRefs(refs []Ref) {
	slices.SortFunc(refs, func(x, y Ref) int { return cmp.Or(cmp.Compare(x.Name, y.Name), cmp.Compare(x.ID, y.ID)) })
}

// entitlements lists the entitlements added, removed or changed.
func (c *computer) entitlements() []EntitlementDiff {
	out := []EntitlementDiff{}
	for _, ec := range c.cs.Entitlements {
		d := EntitlementDiff{ID: ec.ID}
		e := ec.After
		switch {
		case ec.Before == nil:
			d.Change = Added
		case ec.After == nil:
			d.Change, e = Removed, ec.Before
		default:
			d.Change = Changed
		}
		d.ResourceID, d.Name = e.ResourceID, e.Name
		out = append(out, d)
	}
	return out
}
