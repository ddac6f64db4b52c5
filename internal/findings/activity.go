package findings

import (
	"sort"
	"strings"
	"time"

	"github.com/warden-iam/warden/internal/collect"
	"github.com/warden-iam/warden/internal/model"
)

// Unused is a principal or key not used for the days asked: when it was
// last used (nil: never, as far as AWS records) and since when it counts
// (its last use, else its creation).
type Unused struct {
	ID        string     `json:"id"`
	Principal Principal  `json:"principal"` // the user or role (a key's user)
	KeyID     string     `json:"key_id,omitempty"`
	LastUsed  *time.Time `json:"last_used"`
	IdleDays  int        `json:"idle_days"`
}

// idle returns the time a resource counts as idle from: its last use, else
// its creation; ok is false when neither is known.
func idle(last *time.Time, created time.Time) (time.Time, bool) {
	if last != nil {
		return *last, true
	}
	return created, !created.IsZero()
}

// sortUnused orders findings longest idle first, then by ID.
func sortUnused(out []Unused) []Unused {
	sort.Slice(out, func(i, j int) bool {
		if out[i].IdleDays != out[j].IdleDays {
			return out[i].IdleDays > out[j].IdleDays
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// InactiveUsers returns the IAM users with no console sign-in and no use of
// an access key for more than days days (a user never used counts from its
// creation). Users whose credential report was not read are left out: their
// last use is unknown, not absent.
func InactiveUsers(g *model.Graph, now time.Time, days int) []Unused {
	limit := time.Duration(days) * 24 * time.Hour
	lastKey := map[string]*time.Time{}
	for i := range g.Resources {
		k := &g.Resources[i]
		if k.Type == model.TypeAccessKey && k.AccessKey != nil && k.AccessKey.LastUsed != nil {
			if cur := lastKey[k.ParentID]; cur == nil || k.AccessKey.LastUsed.After(*cur) {
				lastKey[k.ParentID] = k.AccessKey.LastUsed
			}
		}
	}
	var out []Unused
	for i := range g.Resources {
		u := &g.Resources[i]
		if u.Type != model.TypeIAMUser || u.User == nil || !u.User.CredentialReport {
			continue
		}
		last := u.User.PasswordLastUsed
		if k := lastKey[u.ID]; k != nil && (last == nil || k.After(*last)) {
			last = k
		}
		from, ok := idle(last, u.CreatedAt)
		if !ok || now.Sub(from) <= limit {
			continue
		}
		out = append(out, Unused{ID: u.ID, Principal: principalOf(u), LastUsed: last, IdleDays: AgeDays(from, now)})
	}
	return sortUnused(out)
}

// UnusedKeys returns the active access keys not used for more than days
// days (a key never used counts from its creation).
func UnusedKeys(g *model.Graph, now time.Time, days int) []Unused {
	x := newIndex(g)
	limit := time.Duration(days) * 24 * time.Hour
	var out []Unused
	for i := range g.Resources {
		k := &g.Resources[i]
		if k.Type != model.TypeAccessKey || k.AccessKey == nil || k.AccessKey.Status != "Active" {
			continue
		}
		created, _ := KeyCreatedAt(k)
		from, ok := idle(k.AccessKey.LastUsed, created)
		if !ok || now.Sub(from) <= limit {
			continue
		}
		f := Unused{ID: k.ID, KeyID: k.Name, LastUsed: k.AccessKey.LastUsed, IdleDays: AgeDays(from, now)}
		if u, ok := x.byID[k.ParentID]; ok {
			f.Principal = principalOf(u)
		} else {
			f.Principal = Principal{ID: k.ParentID, Type: model.TypeIAMUser, Name: k.ParentID, AccountID: k.AccountID}
		}
		out = append(out, f)
	}
	return sortUnused(out)
}

// UnusedRoles returns the roles not used (RoleLastUsed) for more than days
// days, a role never used counting from its creation. Service-linked roles
// (path /aws-service-role/) are left out: AWS services own them.
func UnusedRoles(g *model.Graph, now time.Time, days int) []Unused {
	limit := time.Duration(days) * 24 * time.Hour
	var out []Unused
	for i := range g.Resources {
		r := &g.Resources[i]
		if r.Type != model.TypeIAMRole || r.Role == nil || strings.HasPrefix(r.Path, "/aws-service-role/") {
			continue
		}
		from, ok := idle(r.Role.LastUsed, r.CreatedAt)
		if !ok || now.Sub(from) <= limit {
			continue
		}
		out = append(out, Unused{ID: r.ID, Principal: principalOf(r), LastUsed: r.Role.LastUsed, IdleDays: AgeDays(from, now)})
	}
	return sortUnused(out)
}

// DefaultUnusedDays is how long unused counts as unused when nothing else
// is asked: 90 days, CloudTrail's event history.
const DefaultUnusedDays = 90

// SSOInactive is an Identity Center user with no sign-in for the days
// asked, or none at all in the activity read.
type SSOInactive struct {
	Principal
	// LastSignIn is the user's newest sign-in or use of an account through
	// a permission set; nil when the activity read has none.
	LastSignIn *time.Time `json:"last_sign_in"`
	// IdleDays counts from LastSignIn, or, for a user never seen, from
	// the start of the activity read (at least that many days).
	IdleDays int `json:"idle_days"`
}

// InactiveSSOUsers returns the Identity Center users of g who have not
// signed in (UserAuthentication, or an assumption of an AWSReservedSSO_
// role, whose session AWS names after the user) for more than days days,
// and those never seen signing in since the activity read began (from,
// the oldest event read), longest idle first.
func InactiveSSOUsers(g *model.Graph, events []collect.ActivityEvent, from, now time.Time, days int) []SSOInactive {
	byName, byID := map[string]*model.Resource{}, map[string]*model.Resource{}
	for i := range g.Resources {
		if r := &g.Resources[i]; r.Type == model.TypeSSOUser {
			byName[r.Name] = r
			if r.SSOUser != nil {
				byID[r.SSOUser.UserID] = r
			}
		}
	}
	last := map[string]time.Time{}
	for _, e := range events {
		var u *model.Resource
		switch {
		case e.IsIdentityCenterSignIn():
			if u = byID[e.OnBehalfOf]; u == nil {
				u = byName[e.Username]
			}
		case e.ActorType == "SAMLUser":
			if _, _, ok := e.ReservedPermissionSet(); ok {
				u = byName[e.Username]
			}
		}
		if u != nil && e.Time.After(last[u.ID]) {
			last[u.ID] = e.Time
		}
	}
	limit := time.Duration(days) * 24 * time.Hour
	var out []SSOInactive
	for i := range g.Resources {
		u := &g.Resources[i]
		if u.Type != model.TypeSSOUser {
			continue
		}
		f := SSOInactive{Principal: principalOf(u)}
		if t, ok := last[u.ID]; ok {
			if now.Sub(t) <= limit {
				continue
			}
			f.LastSignIn, f.IdleDays = &t, AgeDays(t, now)
		} else {
			f.IdleDays = AgeDays(from, now)
		}
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].IdleDays != out[j].IdleDays {
			return out[i].IdleDays > out[j].IdleDays
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// UnusedAssignment is an Identity Center assignment of a permission set in
// an account that nobody used in the activity read: no assumption of its
// AWSReservedSSO_<permission set>_… role in that account.
type UnusedAssignment struct {
	// Principal is the user or group assigned.
	Principal         Principal `json:"principal"`
	PermissionSetID   string    `json:"permission_set_id"`
	PermissionSetName string    `json:"permission_set_name"`
	AccountID         string    `json:"account_id"`
}

// UnusedAssignments returns the account assignments of g (direct ones: a
// user's own, or a group's) whose permission set's reserved role was never
// assumed in their account in events, by account, permission set and
// principal.
func UnusedAssignments(g *model.Graph, events []collect.ActivityEvent) []UnusedAssignment {
	used := map[[2]string]bool{} // permission set name, account
	for _, e := range events {
		if ps, acct, ok := e.ReservedPermissionSet(); ok {
			used[[2]string{ps, acct}] = true
		}
	}
	x := newIndex(g)
	var out []UnusedAssignment
	seen := map[[3]string]bool{}
	for _, gr := range g.Grants {
		if gr.ViaID != "" {
			continue
		}
		i := strings.LastIndexByte(gr.EntitlementID, '#')
		if i < 0 {
			continue
		}
		acct, ok := strings.CutPrefix(gr.EntitlementID[i+1:], "account:")
		ps, isPS := x.byID[gr.EntitlementID[:i]]
		p, isP := x.byID[gr.PrincipalID]
		if !ok || !isPS || ps.Type != model.TypePermissionSet || !isP || used[[2]string{ps.Name, acct}] {
			continue
		}
		k := [3]string{acct, ps.ID, p.ID}
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, UnusedAssignment{Principal: principalOf(p), PermissionSetID: ps.ID, PermissionSetName: ps.Name, AccountID: acct})
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.AccountID != b.AccountID {
			return a.AccountID < b.AccountID
		}
		if a.PermissionSetName != b.PermissionSetName {
			return a.PermissionSetName < b.PermissionSetName
		}
		return a.Principal.ID < b.Principal.ID
	})
	return out
}
