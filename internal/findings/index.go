package findings

import (
	"sort"
	"strings"

	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/policy"
)

// index answers the lookups the rules share: a resource by ID, the grants a
// principal holds, and the resource and name behind an entitlement.
type index struct {
	byID  map[string]*model.Resource
	ents  map[string]model.Entitlement
	held  map[string][]model.Grant // by principal ID
	admin map[string]bool          // policy ID → document grants full access
}

func newIndex(g *model.Graph) *index {
	x := &index{
		byID:  make(map[string]*model.Resource, len(g.Resources)),
		ents:  make(map[string]model.Entitlement, len(g.Entitlements)),
		held:  make(map[string][]model.Grant),
		admin: make(map[string]bool),
	}
	for i := range g.Resources {
		x.byID[g.Resources[i].ID] = &g.Resources[i]
	}
	for _, e := range g.Entitlements {
		x.ents[e.ID] = e
	}
	for _, gr := range g.Grants {
		x.held[gr.PrincipalID] = append(x.held[gr.PrincipalID], gr)
	}
	return x
}

// target returns the resource offering a grant's entitlement and the
// entitlement's name; ok is false when the resource is not in the graph.
func (x *index) target(gr model.Grant) (r *model.Resource, name string, ok bool) {
	var resourceID string
	if e, found := x.ents[gr.EntitlementID]; found {
		resourceID, name = e.ResourceID, e.Name
	} else if i := strings.LastIndexByte(gr.EntitlementID, '#'); i >= 0 {
		resourceID, name = gr.EntitlementID[:i], gr.EntitlementID[i+1:]
	}
	r, ok = x.byID[resourceID]
	return r, name, ok
}

// name returns the name of the resource with the given ID, or the ID itself
// when the resource is not in the graph.
func (x *index) name(id string) string {
	if r, ok := x.byID[id]; ok {
		return r.Name
	}
	return id
}

// PolicyPath is one way a principal holds a managed or inline policy.
type PolicyPath struct {
	PolicyID   string             `json:"policy_id"`
	PolicyName string             `json:"policy_name"`
	PolicyType model.ResourceType `json:"policy_type"` // iam_policy or iam_inline_policy
	Provenance model.Provenance   `json:"provenance"`  // direct, inline or group
	ViaID      string             `json:"via_id"`
	ViaName    string             `json:"via_name"` // the group, for provenance group
}

// policyPaths returns every way p holds a policy: its own attachments and
// inline policies and, for a user, those of each group it belongs to. Grants
// the graph already records as inherited and those derived here from group
// membership count once. The result is sorted by policy name, provenance and
// group.
func (x *index) policyPaths(p *model.Resource) []PolicyPath {
	seen := make(map[PolicyPath]bool)
	var paths []PolicyPath
	add := func(pol *model.Resource, prov model.Provenance, viaID string) {
		path := PolicyPath{PolicyID: pol.ID, PolicyName: pol.Name, PolicyType: pol.Type, Provenance: prov, ViaID: viaID}
		if viaID != "" {
			path.ViaName = x.name(viaID)
		}
		if !seen[path] {
			seen[path] = true
			paths = append(paths, path)
		}
	}
	for _, gr := range x.held[p.ID] {
		r, ent, ok := x.target(gr)
		if !ok {
			continue
		}
		switch {
		case ent == model.EntAttached && isPolicy(r):
			add(r, gr.Provenance, gr.ViaID)
		case ent == model.EntMember && r.Type == model.TypeIAMGroup && gr.Provenance == model.ViaDirect:
			for _, ggr := range x.held[r.ID] {
				if pol, gent, ok := x.target(ggr); ok && gent == model.EntAttached && isPolicy(pol) {
					add(pol, model.ViaGroup, r.ID)
				}
			}
		}
	}
	sort.Slice(paths, func(i, j int) bool {
		a, b := paths[i], paths[j]
		if a.PolicyName != b.PolicyName {
			return a.PolicyName < b.PolicyName
		}
		if a.PolicyID != b.PolicyID {
			return a.PolicyID < b.PolicyID
		}
		if a.Provenance != b.Provenance {
			return a.Provenance < b.Provenance
		}
		return a.ViaName < b.ViaName
	})
	return paths
}

// groupCount returns how many groups p is a member of.
func (x *index) groupCount(p *model.Resource) int {
	n := 0
	for _, gr := range x.held[p.ID] {
		if r, ent, ok := x.target(gr); ok && ent == model.EntMember && r.Type == model.TypeIAMGroup && gr.Provenance == model.ViaDirect {
			n++
		}
	}
	return n
}

// isAdminPolicy reports whether the policy with the given ID grants full
// access, reading each document once.
func (x *index) isAdminPolicy(id string) bool {
	if v, ok := x.admin[id]; ok {
		return v
	}
	v := false
	if r, ok := x.byID[id]; ok {
		v = policy.IsAdmin(Document(r))
	}
	x.admin[id] = v
	return v
}

// Document returns the policy document of a managed or inline policy
// resource, or "" for any other resource.
func Document(r *model.Resource) string {
	switch {
	case r.Policy != nil:
		return r.Policy.Document
	case r.InlinePolicy != nil:
		return r.InlinePolicy.Document
	}
	return ""
}

func isPolicy(r *model.Resource) bool {
	return r.Type == model.TypeIAMPolicy || r.Type == model.TypeInlinePolicy
}
