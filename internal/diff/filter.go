package diff

import "slices"

// filter keeps the items of r that f's account and principals select, and
// makes every list non-nil.
func (c *computer) filter(r *Report) {
	acct, ids := c.f.AccountID, map[string]bool{}
	for _, id := range c.f.Principals {
		ids[id] = true
	}
	inAcct := func(refs ...string) bool {
		return acct == "" || slices.Contains(refs, acct)
	}
	about := func(refs ...string) bool {
		if len(ids) == 0 {
			return true
		}
		for _, id := range refs {
			if ids[id] {
				return true
			}
		}
		return false
	}
	r.Access = keep(r.Access, func(a AccessChange) bool {
		return inAcct(a.AccountID, a.Principal.AccountID) && about(a.Principal.ID, viaID(a.Via), a.Resource.ID)
	})
	r.Administrators = keep(r.Administrators, func(a AdminChange) bool {
		via := []string{a.Principal.ID}
		for _, p := range a.Through {
			via = append(via, p.ViaID, p.PolicyID)
		}
		return inAcct(a.Principal.AccountID) && about(via...)
	})
	r.Trust = keep(r.Trust, func(t TrustChange) bool {
		return inAcct(t.Role.AccountID, t.Account) && about(t.Role.ID)
	})
	r.AccessKeys = keep(r.AccessKeys, func(k KeyChange) bool {
		return inAcct(k.Key.AccountID) && about(k.Key.ID, k.User.ID)
	})
	r.ConsoleAndMFA = keep(r.ConsoleAndMFA, func(cc CredentialChange) bool {
		return inAcct(cc.User.AccountID) && about(cc.User.ID, viaID(cc.Device))
	})
	r.IdentityCenter = keep(r.IdentityCenter, func(a AssignmentChange) bool {
		refs := []string{a.Principal.ID, a.PermissionSet.ID}
		for _, p := range a.Reaches {
			refs = append(refs, p.ID)
		}
		return inAcct(a.AccountID) && about(refs...)
	})
	r.Findings = keep(r.Findings, func(f FindingChange) bool {
		return inAcct(f.Subject.AccountID, f.User.AccountID) && about(f.Subject.ID, f.User.ID)
	})
	r.Assets = keep(r.Assets, func(a AssetChange) bool {
		return inAcct(a.Asset.AccountID) && about(a.Asset.ID)
	})
	r.Resources = keep(r.Resources, func(d ResourceDiff) bool {
		parent := ""
		if rc := c.changed[d.Resource.ID]; rc != nil {
			if rc.After != nil {
				parent = rc.After.ParentID
			} else {
				parent = rc.Before.ParentID
			}
		}
		return inAcct(d.Resource.AccountID) && about(d.Resource.ID, parent)
	})
	r.Entitlements = keep(r.Entitlements, func(e EntitlementDiff) bool {
		if acct != "" {
			res, ok := c.resource(e.ResourceID, e.Change != Removed)
			if !ok || res.AccountID != acct {
				return false
			}
		}
		return about(e.ResourceID)
	})
}

// keep returns the elements of list ok accepts, [] when none.
func keep[T any](list []T, ok func(T) bool) []T {
	out := make([]T, 0, len(list))
	for _, v := range list {
		if ok(v) {
			out = append(out, v)
		}
	}
	return out
}

// summarize counts the report's items.
func (r *Report) summarize() {
	s := Summary{AdministratorsAdded: []string{}, AdministratorsRemoved: []string{}}
	gained, lost := map[string]bool{}, map[string]bool{}
	for _, a := range r.Access {
		if a.Change == Gained {
			gained[a.Principal.ID] = true
		} else {
			lost[a.Principal.ID] = true
		}
	}
	s.PrincipalsGained, s.PrincipalsLost = len(gained), len(lost)
	for _, a := range r.Administrators {
		if a.Change == Added {
			s.AdministratorsAdded = append(s.AdministratorsAdded, a.Principal.Name)
		} else {
			s.AdministratorsRemoved = append(s.AdministratorsRemoved, a.Principal.Name)
		}
	}
	for _, t := range r.Trust {
		count(t.Change == Added, &s.TrustAdded, &s.TrustRemoved)
	}
	for _, k := range r.AccessKeys {
		switch k.Change {
		case Created:
			s.KeysCreated++
		case Deleted:
			s.KeysDeleted++
		case Activated:
			s.KeysActivated++
		case Deactivated:
			s.KeysDeactivated++
		}
	}
	for _, c := range r.ConsoleAndMFA {
		if c.Kind == KindConsole {
			count(c.Change == Added, &s.ConsoleAdded, &s.ConsoleRemoved)
		} else {
			count(c.Change == Added, &s.MFAAdded, &s.MFARemoved)
		}
	}
	for _, a := range r.IdentityCenter {
		count(a.Change == Added, &s.AssignmentsAdded, &s.AssignmentsRemoved)
	}
	for _, f := range r.Findings {
		count(f.Change == New, &s.FindingsNew, &s.FindingsResolved)
	}
	for _, a := range r.Assets {
		switch {
		case a.Kind == AssetKindAsset && a.Change == Added:
			s.AssetsAdded++
		case a.Kind == AssetKindAsset:
			s.AssetsRemoved++
		default:
			s.AssetsChanged++
		}
		if a.Severity == SeverityHigh {
			s.AssetsHighSeverity++
		}
	}
	for _, d := range r.Resources {
		switch d.Change {
		case Added:
			s.ResourcesAdded++
		case Removed:
			s.ResourcesRemoved++
		default:
			s.ResourcesChanged++
		}
	}
	for _, e := range r.Entitlements {
		switch e.Change {
		case Added:
			s.EntitlementsAdded++
		case Removed:
			s.EntitlementsRemoved++
		}
	}
	s.Changed = len(r.Access)+len(r.Administrators)+len(r.Trust)+len(r.AccessKeys)+len(r.ConsoleAndMFA)+
		len(r.IdentityCenter)+len(r.Findings)+len(r.Assets)+len(r.Resources)+len(r.Entitlements) > 0
	r.Summary = s
}

func count(first bool, a, b *int) {
	if first {
		*a++
	} else {
		*b++
	}
}
