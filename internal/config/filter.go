package config

import (
	"slices"
	"strings"
)

// Account is what account filters look at: a member account and where it
// sits in the organization.
type Account struct {
	ID string
	// OUPath is the names of the account's parents from the root down, root
	// included: ["Root", "Prod", "Web"] for an account in OU Web under Prod.
	OUPath []string
	// OUIDs is the ids of the same parents: ["r-ab12", "ou-ab12-…", "ou-ab12-…"].
	OUIDs []string
	Tags  map[string]string
}

// Selects reports whether organization mode reads the account: it must match
// Include (or Include must be empty) and must not match Exclude.
func (o *Organization) Selects(a Account) bool {
	if !o.Include.IsEmpty() && !o.Include.Matches(a) {
		return false
	}
	return !o.Exclude.Matches(a)
}

// IsEmpty reports whether the filter names nothing.
func (f AccountFilter) IsEmpty() bool {
	return len(f.Accounts) == 0 && len(f.OUs) == 0 && len(f.Tags) == 0
}

// Matches reports whether the account matches any criterion of the filter:
// one of its account ids, one of its OUs, or all of its tags. An empty filter
// matches nothing.
func (f AccountFilter) Matches(a Account) bool {
	if slices.Contains(f.Accounts, a.ID) {
		return true
	}
	for _, ou := range f.OUs {
		if matchOU(ou, a) {
			return true
		}
	}
	return len(f.Tags) > 0 && matchTags(f.Tags, a.Tags)
}

// matchOU matches one OU filter entry: an OU or root id matches accounts in
// that OU or below it; a path matches accounts whose parent path it spells,
// "*" standing for any one name and a final "*" for any depth below.
func matchOU(pattern string, a Account) bool {
	if strings.HasPrefix(pattern, "ou-") || strings.HasPrefix(pattern, "r-") {
		return slices.Contains(a.OUIDs, pattern)
	}
	segs := strings.Split(pattern, "/")
	subtree := len(segs) > 1 && segs[len(segs)-1] == "*"
	if subtree {
		segs = segs[:len(segs)-1]
		if len(a.OUPath) < len(segs) {
			return false
		}
	} else if len(a.OUPath) != len(segs) {
		return false
	}
	for i, s := range segs {
		if s != "*" && s != a.OUPath[i] {
			return false
		}
	}
	return true
}

// matchTags reports whether have holds every tag of want; a wanted value of
// "*" accepts any value.
func matchTags(want, have map[string]string) bool {
	for k, v := range want {
		got, ok := have[k]
		if !ok || (v != "*" && v != got) {
			return false
		}
	}
	return true
}
