package webui

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/warden-iam/warden/internal/access"
	"github.com/warden-iam/warden/internal/diff"
	"github.com/warden-iam/warden/internal/model"
)

// historyPairs bounds how many consecutive snapshot pairs, newest first,
// the principal page's history compares.
const historyPairs = 12

// historyEntry is what a principal gained and lost between two snapshots.
type historyEntry struct {
	From, To *model.Snapshot
	Changes  []historyChange
	URL      string // the changes page of the pair
}

// historyChange is one line of a history entry.
type historyChange struct {
	Kind  string // access, administrator, trust, key, console, identity center, finding, resource
	Text  string
	Admin bool
}

// reportCache keeps the diff of each pair of snapshots restricted to one
// principal: snapshots never change, so neither does the diff.
type reportCache struct {
	mu sync.Mutex
	m  map[reportKey][]historyChange
}

type reportKey struct {
	from, to  int64
	principal string
}

// maxCachedReports bounds the cache; past it, it starts again empty.
const maxCachedReports = 4096

// principalHistory lists what principal ids gained and lost over the
// newest snapshots of conn, newest first, leaving out pairs with no change.
func (u *UI) principalHistory(ctx context.Context, conn string, ids []string) ([]historyEntry, error) {
	snaps, err := u.c.Store.Snapshots(ctx, conn)
	if err != nil {
		return nil, err
	}
	sort.Slice(snaps, func(i, j int) bool { return snaps[i].ID > snaps[j].ID })
	var out []historyEntry
	for i := 0; i+1 < len(snaps) && i < historyPairs; i++ {
		to, from := &snaps[i], &snaps[i+1]
		changes, err := u.reports.changes(ctx, u, from, to, ids)
		if err != nil {
			return nil, err
		}
		if len(changes) == 0 {
			continue
		}
		out = append(out, historyEntry{From: from, To: to, Changes: changes,
			URL: fmt.Sprintf("/changes?c=%s&from=%d&to=%d", urlQueryEscape(conn), from.ID, to.ID)})
	}
	return out, nil
}

func (c *reportCache) changes(ctx context.Context, u *UI, from, to *model.Snapshot, ids []string) ([]historyChange, error) {
	k := reportKey{from.ID, to.ID, strings.Join(ids, "\x00")}
	c.mu.Lock()
	if v, ok := c.m[k]; ok {
		c.mu.Unlock()
		return v, nil
	}
	c.mu.Unlock()
	rep, err := diff.Compute(ctx, u.c.Store, from, to, diff.Filter{Principals: ids, StaleDays: staleDays})
	if err != nil {
		return nil, err
	}
	var out []historyChange
	add := func(kind, text string, admin bool) { out = append(out, historyChange{kind, text, admin}) }
	for _, a := range rep.Administrators {
		add("administrator", a.Text, true)
	}
	for _, a := range rep.Access {
		add("access", a.Text, a.Admin)
	}
	for _, a := range rep.IdentityCenter {
		add("identity center", a.Text, false)
	}
	for _, t := range rep.Trust {
		add("trust", t.Text, false)
	}
	for _, k := range rep.AccessKeys {
		add("access key", k.Text, false)
	}
	for _, cc := range rep.ConsoleAndMFA {
		add("console and MFA", cc.Text, false)
	}
	for _, f := range rep.Findings {
		add("finding", f.Text, false)
	}
	for _, r := range rep.Resources {
		add("resource", r.Text, false)
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxCachedReports {
		c.m = map[reportKey][]historyChange{}
	}
	c.m[k] = out
	c.mu.Unlock()
	return out, nil
}

// activityView is the principal's last activity as CloudTrail showed it,
// and the roles it assumed (or, for a role, who assumed it).
type activityView struct {
	// Read is false when no sync of the connection has read CloudTrail for
	// the principal's account: nothing is known, which is not "never".
	Read bool
	Last *access.LastActivity
	// Uses are the role-use edges the principal is on.
	Uses []access.RoleUse
}

// activity reads the activity of the principal with ARN arn in account.
func (u *UI) activity(ctx context.Context, conn, account, arn string) (*activityView, error) {
	v := &activityView{}
	if arn == "" || account == "" {
		return v, nil
	}
	cursors, err := u.c.Store.ActivityCursors(ctx, conn)
	if err != nil {
		return nil, err
	}
	for _, c := range cursors {
		v.Read = v.Read || c.Account == account
	}
	if !v.Read {
		return v, nil
	}
	recs, err := u.c.Store.Activity(ctx, conn, account, time.Time{})
	if err != nil {
		return nil, err
	}
	events, err := access.EventsFromStore(recs)
	if err != nil {
		return nil, err
	}
	for _, l := range access.LastActivities(events) {
		if l.Principal == arn {
			v.Last = &l
		}
	}
	for _, ru := range access.RoleUses(events) {
		if ru.Principal == arn || ru.Role == arn {
			v.Uses = append(v.Uses, ru)
		}
	}
	return v, nil
}
