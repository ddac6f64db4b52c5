package findings

import (
	"sort"
	"time"

	"github.com/warden-iam/warden/internal/model"
)

// StaleKey is an access key older than the age asked for.
type StaleKey struct {
	ID              string     `json:"id"`     // resource ID
	KeyID           string     `json:"key_id"` // AKIA…
	User            Principal  `json:"user"`
	Status          string     `json:"status"` // Active or Inactive
	CreatedAt       time.Time  `json:"created_at"`
	AgeDays         int        `json:"age_days"`
	LastUsed        *time.Time `json:"last_used"`
	LastUsedService string     `json:"last_used_service"`
}

// StaleKeys returns the access keys created more than days days before now,
// active keys first, then the oldest first. Keys whose creation time is
// unknown are left out.
func StaleKeys(g *model.Graph, now time.Time, days int) []StaleKey {
	x := newIndex(g)
	limit := time.Duration(days) * 24 * time.Hour
	var out []StaleKey
	for i := range g.Resources {
		k := &g.Resources[i]
		if k.Type != model.TypeAccessKey || k.AccessKey == nil {
			continue
		}
		created, ok := KeyCreatedAt(k)
		if !ok || now.Sub(created) <= limit {
			continue
		}
		s := StaleKey{
			ID:              k.ID,
			KeyID:           k.Name,
			Status:          k.AccessKey.Status,
			CreatedAt:       created,
			AgeDays:         AgeDays(created, now),
			LastUsed:        k.AccessKey.LastUsed,
			LastUsedService: k.AccessKey.LastUsedService,
		}
		if u, ok := x.byID[k.ParentID]; ok {
			s.User = principalOf(u)
		} else {
			s.User = Principal{ID: k.ParentID, Type: model.TypeIAMUser, Name: k.ParentID, AccountID: k.AccountID}
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if aa, ba := a.Status == "Active", b.Status == "Active"; aa != ba {
			return aa
		}
		if !a.CreatedAt.Equal(b.CreatedAt) {
			return a.CreatedAt.Before(b.CreatedAt)
		}
		return a.KeyID < b.KeyID
	})
	return out
}

// KeyCreatedAt returns when an access key was created: the resource's
// creation time, or the credential report's last rotation (which is the
// creation of the current key) when that is all the sync saw.
func KeyCreatedAt(k *model.Resource) (time.Time, bool) {
	if !k.CreatedAt.IsZero() {
		return k.CreatedAt, true
	}
	if k.AccessKey != nil && k.AccessKey.LastRotated != nil {
		return *k.AccessKey.LastRotated, true
	}
	return time.Time{}, false
}

// AgeDays returns the whole days from t to now.
func AgeDays(t, now time.Time) int {
	return int(now.Sub(t) / (24 * time.Hour))
}
