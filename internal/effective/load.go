package effective

import (
	"context"
	"fmt"
	"strings"

	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/store"
)

// holderTypes are the resource types Load reads with the grants they hold:
// every principal and organization resource (not access keys or MFA
// devices); policyTypes, which hold nothing, it reads beside them, at the
// same time, and parses. They are those of store.DB's effective index.
var (
	holderTypes = store.EffectiveHolderTypes
	policyTypes = store.EffectivePolicyTypes
)

// memSource is a snapshot's principals, policies and organization held in
// memory, for questions about every principal at once.
type memSource struct {
	byID   map[string]*model.Resource
	grants map[string][]model.Grant // by principal
	byType map[model.ResourceType][]*model.Resource
}

func (m *memSource) resource(_ context.Context, id string) (*model.Resource, error) {
	return m.byID[id], nil
}

func (m *memSource) held(_ context.Context, principalID string) ([]heldGrant, error) {
	gs := m.grants[principalID]
	out := make([]heldGrant, len(gs))
	for i, g := range gs {
		out[i] = heldGrant{g: g, r: m.byID[entitlementResource(g.EntitlementID)]}
	}
	return out, nil
}

func (m *memSource) ofType(_ context.Context, t model.ResourceType) ([]*model.Resource, error) {
	return m.byType[t], nil
}

// entitlementResource is the resource part of an entitlement ID.
func entitlementResource(id string) string {
	if i := strings.LastIndexByte(id, '#'); i >= 0 {
		return id[:i]
	}
	return id
}

// indexReader is the store query Load reads a snapshot with when the
// store has it (store.DB): its effective index, one stored value holding
// the principals, policies and only the grants who-can needs.
type indexReader interface {
	EffectiveIndex(ctx context.Context, snapshotID int64) (*store.EffectiveIndex, error)
}

// Load reads snapshot snap of st's principals, policies and organization
// into memory, for WhoCan: through store.DB's EffectiveIndex when st has
// it, else through Store.Subgraph (the two give the same answers).
func Load(ctx context.Context, st store.Store, snap int64) (*Snapshot, error) {
	return load(ctx, st, snap, true)
}

// load is Load; fast false reads through Store.Subgraph even when st has
// EffectiveIndex (for the test that the two agree).
func load(ctx context.Context, st store.Store, snap int64, useFast bool) (*Snapshot, error) {
	m := &memSource{grants: map[string][]model.Grant{}, byType: map[model.ResourceType][]*model.Resource{}}
	s := newSnapshot(snap, m)
	var principals []*model.Resource
	var policies [][]*model.Resource
	var err error
	polErr := make(chan error, 1)
	if ir, fast := st.(indexReader); fast && useFast {
		ix, err := ir.EffectiveIndex(ctx, snap)
		if err != nil {
			return nil, fmt.Errorf("read snapshot %d: %w", snap, err)
		}
		m.grants = ix.Grants
		// Already in the orders of Store.Subgraph (by ID) and
		// Store.Resources (by type, name and ID).
		principals = pointers(ix.Holders)
		ps := pointers(ix.Policies)
		policies = append(policies, ps)
		// The policies are parsed while the maps are made.
		go func() {
			texts := make([]string, len(ps))
			for i, r := range ps {
				texts[i] = documentOf(r)
			}
			s.parseAll(texts)
			// Each policy's document by its ID, as doc finds it.
			s.mu.Lock()
			for i, r := range ps {
				s.docs[r.ID] = s.byText[texts[i]]
			}
			s.mu.Unlock()
			polErr <- nil
		}()
	} else {
		// The policies are read and parsed while the principals and
		// their grants are.
		go func() {
			var texts []string
			for _, t := range policyTypes {
				rs, err := st.Resources(ctx, snap, store.ResourceFilter{Type: t})
				if err != nil {
					polErr <- fmt.Errorf("read the %s resources of snapshot %d: %w", t, snap, err)
					return
				}
				for i := range rs {
					texts = append(texts, documentOf(&rs[i]))
				}
				policies = append(policies, pointers(rs))
			}
			s.parseAll(texts)
			polErr <- nil
		}()
		var g *model.Graph
		if g, err = st.Subgraph(ctx, snap, holderTypes, ""); err == nil {
			principals = pointers(g.Resources)
			// Subgraph sorts grants by principal: each principal's are one run.
			for i := 0; i < len(g.Grants); {
				j := i + 1
				for j < len(g.Grants) && g.Grants[j].PrincipalID == g.Grants[i].PrincipalID {
					j++
				}
				m.grants[g.Grants[i].PrincipalID] = g.Grants[i:j:j]
				i = j
			}
		}
		if perr := <-polErr; err == nil {
			err = perr
		}
		if err != nil {
			return nil, fmt.Errorf("read snapshot %d: %w", snap, err)
		}
		polErr <- nil
	}
	n := len(principals)
	for _, rs := range policies {
		n += len(rs)
	}
	m.byID = make(map[string]*model.Resource, n)
	add := func(rs []*model.Resource) {
		for _, r := range rs {
			m.byID[r.ID] = r
			m.byType[r.Type] = append(m.byType[r.Type], r)
		}
	}
	add(principals)
	for _, rs := range policies {
		add(rs)
	}
	s.assumers = map[string][]model.Grant{}
	s.byAcct = map[string][]*model.Resource{}
	// In the order of model.Graph.Sort: by principal, then entitlement.
	for _, p := range principals {
		for _, gr := range m.grants[p.ID] {
			if res, ent, ok := strings.Cut(gr.EntitlementID, "#"); ok && ent == model.EntAssume {
				s.assumers[res] = append(s.assumers[res], gr)
			}
		}
	}
	for _, t := range []model.ResourceType{model.TypeIAMUser, model.TypeIAMRole} {
		for _, r := range m.byType[t] {
			s.byAcct[r.AccountID] = append(s.byAcct[r.AccountID], r)
		}
	}
	<-polErr
	return s, nil
}

// pointers are pointers to the resources of rs.
func pointers(rs []model.Resource) []*model.Resource {
	ps := make([]*model.Resource, len(rs))
	for i := range rs {
		ps[i] = &rs[i]
	}
	return ps
}
