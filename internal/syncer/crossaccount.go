package syncer

import (
	"strings"

	"github.com/warden-iam/warden/internal/model"
)

// resolveCrossAccount points grants made to principals of other accounts at
// the synced resources of those accounts: a role trusting
// "arn:aws:iam::222233334444:root" (or the bare account ID) is assumable by
// that account, and one trusting a user or role ARN of a synced account by
// that user or role. External principal resources no grant names any more
// are dropped. Each account is collected on its own, so only the merged
// graph of an organization sync can make these links.
func resolveCrossAccount(g *model.Graph) {
	synced := make(map[string]bool, len(g.Resources))
	for _, r := range g.Resources {
		synced[r.ID] = true
	}
	resolved := map[string]string{}
	for _, r := range g.Resources {
		if r.Type != model.TypeExternalPrincipal {
			continue
		}
		value, ok := strings.CutPrefix(r.ID, model.ExternalPrincipalID("AWS", ""))
		if !ok {
			continue
		}
		if id := syncedPrincipal(value, synced); id != "" {
			resolved[r.ID] = id
		}
	}
	if len(resolved) == 0 {
		return
	}
	seen := make(map[model.Grant]bool, len(g.Grants))
	grants := g.Grants[:0]
	for _, gr := range g.Grants {
		if id, ok := resolved[gr.PrincipalID]; ok {
			gr.PrincipalID = id
		}
		if !seen[gr] {
			seen[gr] = true
			grants = append(grants, gr)
		}
	}
	g.Grants = grants
	resources := g.Resources[:0]
	for _, r := range g.Resources {
		if _, gone := resolved[r.ID]; !gone {
			resources = append(resources, r)
		}
	}
	g.Resources = resources
	g.Sort()
}

// syncedPrincipal returns the synced resource a trust policy's AWS
// principal names, or "": an account by ID or root ARN, or a user or role
// by ARN.
func syncedPrincipal(value string, synced map[string]bool) string {
	if model.IsAccountID(value) {
		if id := model.AccountResourceID(value); synced[id] {
			return id
		}
		return ""
	}
	parts := strings.Split(value, ":")
	if len(parts) == 6 && parts[0] == "arn" && parts[2] == "iam" && parts[5] == "root" {
		if id := model.AccountResourceID(parts[4]); synced[id] {
			return id
		}
		return ""
	}
	if synced[value] {
		return value
	}
	return ""
}
