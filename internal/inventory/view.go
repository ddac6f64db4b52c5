package inventory

import (
	"sort"
	"strings"

	"github.com/warden-iam/warden/internal/model"
)

// graphView answers the lookups the show views need over one graph.
type graphView struct {
	g    *model.Graph
	byID map[string]*model.Resource
	ents map[string]model.Entitlement
}

func newGraphView(g *model.Graph) *graphView {
	v := &graphView{g: g, byID: make(map[string]*model.Resource, len(g.Resources)), ents: make(map[string]model.Entitlement, len(g.Entitlements))}
	for i := range g.Resources {
		v.byID[g.Resources[i].ID] = &g.Resources[i]
	}
	for _, e := range g.Entitlements {
		v.ents[e.ID] = e
	}
	return v
}

// edge is a grant with both ends resolved.
type edge struct {
	grant       model.Grant
	principal   *model.Resource
	resource    *model.Resource
	entitlement string
}

// edges calls fn for every grant whose principal and resource are both in
// the graph.
func (v *graphView) edges(fn func(edge)) {
	for _, gr := range v.g.Grants {
		p, ok := v.byID[gr.PrincipalID]
		if !ok {
			continue
		}
		resID, name := splitEntitlement(v.ents, gr.EntitlementID)
		r, ok := v.byID[resID]
		if !ok {
			continue
		}
		fn(edge{grant: gr, principal: p, resource: r, entitlement: name})
	}
}

// resources returns the graph's resources of type t in account (any account
// when ""), in graph order.
func (v *graphView) resources(t model.ResourceType, account string) []*model.Resource {
	var out []*model.Resource
	for i := range v.g.Resources {
		r := &v.g.Resources[i]
		if r.Type == t && (account == "" || r.AccountID == account) {
			out = append(out, r)
		}
	}
	return out
}

// name returns a resource's name, or the last part of the ID when the
// resource is not in the graph.
func (v *graphView) name(id string) string {
	if r, ok := v.byID[id]; ok {
		return r.Name
	}
	return shortName(id)
}

// splitEntitlement returns the resource and name of an entitlement ID, from
// the graph's entitlements or, failing that, from the ID's form
// "resource#name".
func splitEntitlement(ents map[string]model.Entitlement, id string) (resourceID, name string) {
	if e, ok := ents[id]; ok {
		return e.ResourceID, e.Name
	}
	if i := strings.LastIndexByte(id, '#'); i >= 0 {
		return id[:i], id[i+1:]
	}
	return id, ""
}

// shortName returns the last path element of an ARN or ID.
func shortName(id string) string {
	if i := strings.LastIndexAny(id, "/:"); i >= 0 && i < len(id)-1 {
		return id[i+1:]
	}
	return id
}

// sortedNames sorts and returns names, never nil so JSON shows [].
func sortedNames(names []string) []string {
	if names == nil {
		return []string{}
	}
	sort.Strings(names)
	return names
}

// byAccountName orders resources by account, then name.
func byAccountName(rs []*model.Resource) {
	sort.SliceStable(rs, func(i, j int) bool {
		if rs[i].AccountID != rs[j].AccountID {
			return rs[i].AccountID < rs[j].AccountID
		}
		return rs[i].Name < rs[j].Name
	})
}
