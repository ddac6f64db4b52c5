package findings

import (
	"sort"

	"github.com/warden-iam/warden/internal/model"
)

// Holder is a principal ranked by how much access it holds.
type Holder struct {
	Principal
	// Policies counts the distinct managed and inline policies in effect for
	// the principal: its own and, for a user, its groups'.
	Policies int `json:"policies"`
	// Groups counts the groups a user belongs to (0 for roles).
	Groups int `json:"groups"`
	// Admin is true when one of those policies grants full access.
	Admin bool `json:"admin"`
}

// TopHolders ranks users and roles by the number of distinct policies in
// effect for them, counting those inherited through groups, and returns the
// first n (all of them when n <= 0). Ties go to the administrator, then by
// name.
func TopHolders(g *model.Graph, n int) []Holder {
	x := newIndex(g)
	var out []Holder
	for i := range g.Resources {
		p := &g.Resources[i]
		if !isPrincipal(p) {
			continue
		}
		h := Holder{Principal: principalOf(p), Groups: x.groupCount(p)}
		distinct := make(map[string]bool)
		for _, path := range x.policyPaths(p) {
			distinct[path.PolicyID] = true
			if x.isAdminPolicy(path.PolicyID) {
				h.Admin = true
			}
		}
		h.Policies = len(distinct)
		out = append(out, h)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Policies != b.Policies {
			return a.Policies > b.Policies
		}
		if a.Admin != b.Admin {
			return a.Admin
		}
		return principalLess(a.Principal, b.Principal)
	})
	if n > 0 && len(out) > n {
		out = out[:n]
	}
	return out
}

// Admin is a user or role holding at least one policy that grants full
// access ("Action": "*" on "Resource": "*"), with every path to such a policy.
type Admin struct {
	Principal
	Through []PolicyPath `json:"through"`
}

// Admins returns the users and roles holding an administrator policy,
// directly, inline or through a group, ordered by type then name.
func Admins(g *model.Graph) []Admin {
	x := newIndex(g)
	var out []Admin
	for i := range g.Resources {
		p := &g.Resources[i]
		if !isPrincipal(p) {
			continue
		}
		var through []PolicyPath
		for _, path := range x.policyPaths(p) {
			if x.isAdminPolicy(path.PolicyID) {
				through = append(through, path)
			}
		}
		if len(through) > 0 {
			out = append(out, Admin{Principal: principalOf(p), Through: through})
		}
	}
	sort.Slice(out, func(i, j int) bool { return principalLess(out[i].Principal, out[j].Principal) })
	return out
}

// principalLess orders principals by type, name, then ID.
func principalLess(a, b Principal) bool {
	if a.Type != b.Type {
		return a.Type < b.Type
	}
	if a.Name != b.Name {
		return a.Name < b.Name
	}
	return a.ID < b.ID
}
