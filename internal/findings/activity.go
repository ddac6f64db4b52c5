package findings

import (
	"sort"
	"strings"
	"time"

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
