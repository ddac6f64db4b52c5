package webui

import (
	"context"
	"strings"
	"sync"

	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/store"
)

// searchTypes are the kinds search finds.
var searchTypes = []model.ResourceType{model.TypeIAMUser, model.TypeIAMGroup, model.TypeIAMRole, model.TypeIAMPolicy,
	model.TypeSSOUser, model.TypeSSOGroup, model.TypePermissionSet, model.TypeAccount, model.TypeAccessKey}

// hit is a searchable resource: its lower-cased text (name, ID, ARN,
// e-mail addresses) and what a result row shows.
type hit struct {
	text string
	res  model.Resource
}

// searchIndex is one snapshot's searchable resources, kept in memory so
// that search as you type scans them in Go rather than a LIKE over the
// whole snapshot in SQL (which took seconds on the 60,000-user
// organization). It is built at the first search of a snapshot.
type searchIndex struct {
	mu   sync.Mutex
	snap int64
	hits []hit
}

func (x *searchIndex) load(ctx context.Context, st *store.DB, snap int64) ([]hit, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.snap == snap && x.hits != nil {
		return x.hits, nil
	}
	var hits []hit
	for _, t := range searchTypes {
		rs, err := st.Resources(ctx, snap, store.ResourceFilter{Type: t})
		if err != nil {
			return nil, err
		}
		for _, r := range rs {
			parts := []string{r.Name, r.ID, r.ARN}
			if r.SSOUser != nil {
				parts = append(parts, r.SSOUser.DisplayName)
				parts = append(parts, r.SSOUser.Emails...)
			}
			for _, v := range r.Tags {
				parts = append(parts, v)
			}
			hits = append(hits, hit{text: strings.ToLower(strings.Join(parts, "\x00")),
				res: model.Resource{ID: r.ID, Type: r.Type, AccountID: r.AccountID, Name: r.Name, ParentID: r.ParentID}})
		}
	}
	x.snap, x.hits = snap, hits
	return hits, nil
}

// find returns at most limit resources of the snapshot whose name, ID,
// ARN, display name, e-mail or tag value contains q (case-insensitive):
// those whose name starts with q first.
func (x *searchIndex) find(ctx context.Context, st *store.DB, snap int64, q string, limit int) ([]model.Resource, error) {
	hits, err := x.load(ctx, st, snap)
	if err != nil {
		return nil, err
	}
	q = strings.ToLower(q)
	var first, rest []model.Resource
	for i := range hits {
		if !strings.Contains(hits[i].text, q) {
			continue
		}
		if strings.HasPrefix(hits[i].text, q) {
			first = append(first, hits[i].res)
			if len(first) == limit {
				break
			}
		} else if len(rest) < limit {
			rest = append(rest, hits[i].res)
		}
	}
	out := append(first, rest...)
	return out[:min(len(out), limit)], nil
}
