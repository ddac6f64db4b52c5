package diff

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/warden-iam/warden/internal/findings"
	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/store"
)

// The judgements of this file reuse internal/findings on small graphs: the
// part of each snapshot a changed principal's status depends on, never the
// whole snapshot.

// administrators lists the users and roles that became or ceased to be
// administrators. A principal's status can change only when it gained or
// lost an admin policy (attached, inline, or through a group as the graph
// records it) or membership of a group holding one, one of its groups
// gained or lost an admin policy, or a policy it holds was edited into or
// out of granting full access; only those principals are judged, with
// findings.Admins in both snapshots, each on a graph of just the
// principal, what it holds and what its groups hold.
func (c *computer) administrators() ([]AdminChange, error) {
	cand := map[string]bool{}
	var groups, policies []string
	adminGroup := map[string]bool{} // snapshot and group → the group holds an admin policy
	groupIsAdmin := func(snap int64, id string) (bool, error) {
		key := fmt.Sprint(snap, "\x00", id)
		if v, ok := adminGroup[key]; ok {
			return v, nil
		}
		held, err := c.st.GrantsOf(c.ctx, snap, id)
		if err != nil {
			return false, fmt.Errorf("read the grants of %s in snapshot %d: %w", id, snap, err)
		}
		v := false
		for _, h := range held {
			if _, name := splitEntitlement(h.Grant.EntitlementID); name == model.EntAttached && isAdmin(&h.Resource) {
				v = true
			}
		}
		adminGroup[key] = v
		return v, nil
	}
	for _, gc := range c.cs.Grants {
		resID, name := splitEntitlement(gc.Grant.EntitlementID)
		snap := c.from.ID
		if gc.Added {
			snap = c.to.ID
		}
		res, _ := c.resource(resID, gc.Added)
		admin := false
		switch {
		case name == model.EntAttached:
			admin = isAdmin(&res)
		case name == model.EntMember && res.Type == model.TypeIAMGroup:
			var err error
			if admin, err = groupIsAdmin(snap, resID); err != nil {
				return nil, err
			}
		}
		if !admin {
			continue
		}
		id := gc.Grant.PrincipalID
		r, ok := c.resource(id, gc.Added)
		switch {
		case !ok:
		case r.Type == model.TypeIAMUser || r.Type == model.TypeIAMRole:
			cand[id] = true
		case r.Type == model.TypeIAMGroup:
			groups = append(groups, id)
		}
	}
	for _, rc := range c.cs.Resources {
		if rc.Before != nil && rc.After != nil && isPolicy(rc.After.Type) && isAdmin(rc.Before) != isAdmin(rc.After) {
			policies = append(policies, rc.ID)
		}
	}
	for _, snap := range []int64{c.from.ID, c.to.ID} {
		for _, p := range policies {
			holders, err := c.st.HoldersOf(c.ctx, snap, model.EntitlementID(p, model.EntAttached))
			if err != nil {
				return nil, fmt.Errorf("read the holders of %s in snapshot %d: %w", p, snap, err)
			}
			for _, h := range holders {
				switch {
				case h.Principal == nil:
				case h.Principal.Type == model.TypeIAMGroup:
					groups = append(groups, h.Principal.ID)
				case h.Principal.Type == model.TypeIAMUser || h.Principal.Type == model.TypeIAMRole:
					cand[h.Principal.ID] = true
				}
			}
		}
		slices.Sort(groups)
		for _, g := range slices.Compact(groups) {
			members, err := c.st.HoldersOf(c.ctx, snap, model.EntitlementID(g, model.EntMember))
			if err != nil {
				return nil, fmt.Errorf("read the members of %s in snapshot %d: %w", g, snap, err)
			}
			for _, m := range members {
				cand[m.Grant.PrincipalID] = true
			}
		}
	}
	ids := make([]string, 0, len(cand))
	for id := range cand {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	before, err := c.admins(c.from.ID, ids)
	if err != nil {
		return nil, err
	}
	after, err := c.admins(c.to.ID, ids)
	if err != nil {
		return nil, err
	}
	out := []AdminChange{}
	for _, id := range ids {
		b, wasAdmin := before[id]
		a, isAdmin := after[id]
		switch {
		case isAdmin && !wasAdmin:
			out = append(out, AdminChange{Change: Added, Principal: Ref(a.Principal), Through: a.Through})
		case wasAdmin && !isAdmin:
			out = append(out, AdminChange{Change: Removed, Principal: Ref(b.Principal), Through: b.Through})
		}
	}
	for i := range out {
		out[i].Text = adminText(out[i])
	}
	slices.SortFunc(out, func(x, y AdminChange) int {
		return cmp.Or(cmp.Compare(x.Principal.Type, y.Principal.Type), cmp.Compare(x.Principal.Name, y.Principal.Name), cmp.Compare(x.Principal.ID, y.Principal.ID))
	})
	return out, nil
}

// admins returns which of the principals ids are administrators in the
// snapshot, by findings.Admins over a graph of those principals, their
// grants, their groups' grants and the resources those grants name.
func (c *computer) admins(snap int64, ids []string) (map[string]findings.Admin, error) {
	out := map[string]findings.Admin{}
	if len(ids) == 0 {
		return out, nil
	}
	principals, err := c.st.ResourcesByID(c.ctx, snap, ids)
	if err != nil {
		return nil, fmt.Errorf("read principals of snapshot %d: %w", snap, err)
	}
	g := &model.Graph{}
	seen := map[string]bool{}
	add := func(r model.Resource) {
		if r.Type != "" && !seen[r.ID] {
			seen[r.ID] = true
			g.Resources = append(g.Resources, r)
		}
	}
	grantsOf := func(id string) ([]store.HeldGrant, error) {
		held, err := c.st.GrantsOf(c.ctx, snap, id)
		if err != nil {
			return nil, fmt.Errorf("read the grants of %s in snapshot %d: %w", id, snap, err)
		}
		for _, h := range held {
			g.Grants = append(g.Grants, h.Grant)
			add(h.Resource)
		}
		return held, nil
	}
	groupsRead := map[string]bool{}
	for _, id := range ids {
		p, ok := principals[id]
		if !ok {
			continue
		}
		add(p)
		held, err := grantsOf(id)
		if err != nil {
			return nil, err
		}
		for _, h := range held {
			if _, name := splitEntitlement(h.Grant.EntitlementID); name == model.EntMember && h.Resource.Type == model.TypeIAMGroup &&
				h.Grant.Provenance == model.ViaDirect && !groupsRead[h.Resource.ID] {
				groupsRead[h.Resource.ID] = true
				if _, err := grantsOf(h.Resource.ID); err != nil {
					return nil, err
				}
			}
		}
	}
	for _, a := range findings.Admins(g) {
		if principals[a.ID].ID != "" {
			out[a.ID] = a
		}
	}
	return out, nil
}

// trust lists what roles started or ceased to trust outside their
// account, by findings.OutsideTrust over each changed role before and
// after.
func (c *computer) trust() []TrustChange {
	out := []TrustChange{}
	key := func(t findings.Trust) string {
		return t.Role.ID + "\x00" + t.Trusted.Kind + "\x00" + t.Trusted.Value + "\x00" + strings.Join(t.Trusted.Conditions, ",")
	}
	for _, rc := range c.cs.Resources {
		if !isType(rc, model.TypeIAMRole) {
			continue
		}
		before, after := outsideTrust(rc.Before), outsideTrust(rc.After)
		had := map[string]bool{}
		for _, t := range before {
			had[key(t)] = true
		}
		has := map[string]bool{}
		for _, t := range after {
			has[key(t)] = true
			if !had[key(t)] {
				out = append(out, trustChange(Added, t))
			}
		}
		for _, t := range before {
			if !has[key(t)] {
				out = append(out, trustChange(Removed, t))
			}
		}
	}
	return out
}

func trustChange(change string, t findings.Trust) TrustChange {
	tc := TrustChange{Change: change, Role: Ref(t.Role), Trusted: t.Trusted, Reason: t.Reason, Account: t.Account}
	if tc.Trusted.Conditions == nil {
		tc.Trusted.Conditions = []string{}
	}
	tc.Text = trustText(tc)
	return tc
}

func outsideTrust(r *model.Resource) []findings.Trust {
	if r == nil {
		return nil
	}
	return findings.OutsideTrust(&model.Graph{Resources: []model.Resource{*r}})
}

// isType reports whether the changed resource is of type t on either side.
func isType(rc store.ResourceChange, t model.ResourceType) bool {
	return rc.Before != nil && rc.Before.Type == t || rc.After != nil && rc.After.Type == t
}

// findings lists the console_without_mfa and stale_key findings new or
// resolved, by findings.ConsoleWithoutMFA and findings.StaleKeys over the
// changed users, accounts and keys before and after (keys judged at each
// snapshot's finish time). A key that only grew older is not a change of
// the snapshots; `warden findings` reports it.
func (c *computer) findings() []FindingChange {
	var gb, ga model.Graph
	for _, rc := range c.cs.Resources {
		for _, side := range []struct {
			r *model.Resource
			g *model.Graph
		}{{rc.Before, &gb}, {rc.After, &ga}} {
			r := side.r
			if r == nil || r.Type != model.TypeIAMUser && r.Type != model.TypeAccount && r.Type != model.TypeAccessKey {
				continue
			}
			side.g.Resources = append(side.g.Resources, *r)
		}
	}
	// A key's finding names its owner: add the owners not already there.
	for _, side := range []struct {
		g     *model.Graph
		after bool
	}{{&gb, false}, {&ga, true}} {
		have := map[string]bool{}
		for _, r := range side.g.Resources {
			have[r.ID] = true
		}
		for _, r := range slices.Clone(side.g.Resources) {
			if r.Type == model.TypeAccessKey && !have[r.ParentID] {
				if owner, ok := c.resource(r.ParentID, side.after); ok {
					have[owner.ID] = true
					owner.User = nil // an owner that did not change holds no finding of its own here
					if owner.Type == model.TypeIAMUser {
						side.g.Resources = append(side.g.Resources, owner)
					}
				}
			}
		}
	}
	type finding struct {
		rule          string
		subject, user Ref
	}
	judge := func(g *model.Graph, snap *model.Snapshot) map[string]finding {
		out := map[string]finding{}
		for _, u := range findings.ConsoleWithoutMFA(g) {
			out["console_without_mfa\x00"+u.ID] = finding{"console_without_mfa", Ref(u.Principal), Ref(u.Principal)}
		}
		for _, k := range findings.StaleKeys(g, snap.FinishedAt, c.f.StaleDays) {
			subject := Ref{ID: k.ID, Type: model.TypeAccessKey, Name: k.KeyID, AccountID: k.User.AccountID}
			out["stale_key\x00"+k.ID] = finding{"stale_key", subject, Ref(k.User)}
		}
		return out
	}
	before, after := judge(&gb, c.from), judge(&ga, c.to)
	out := []FindingChange{}
	for _, change := range []struct {
		name      string
		in, notIn map[string]finding
	}{{New, after, before}, {Resolved, before, after}} {
		for k, f := range change.in {
			if _, ok := change.notIn[k]; !ok {
				fc := FindingChange{Change: change.name, Rule: f.rule, Subject: f.subject, User: f.user}
				fc.Text = findingText(fc, c.f.StaleDays)
				out = append(out, fc)
			}
		}
	}
	slices.SortFunc(out, func(x, y FindingChange) int {
		return cmp.Or(cmp.Compare(x.Rule, y.Rule), cmp.Compare(x.Subject.Name, y.Subject.Name), cmp.Compare(x.Subject.ID, y.Subject.ID), cmp.Compare(x.Change, y.Change))
	})
	return out
}
