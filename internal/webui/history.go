package webui

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/warden-iam/warden/internal/access"
	"github.com/warden-iam/warden/internal/diff"
	"github.com/warden-iam/warden/internal/findings"
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

// reportCache keeps the whole diff of each pair of snapshots: snapshots
// never change, so neither does their diff, and one diff serves the
// history of every principal (diff.Compute restricted to one principal
// costs as much as the whole pair).
type reportCache struct {
	mu      sync.Mutex
	m       map[[2]int64]*diff.Report
	compute sync.Mutex // one diff at a time, so a pair is computed once
}

// maxCachedReports bounds the cache; past it, it starts again empty.
const maxCachedReports = 64

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
		rep, err := u.reports.get(ctx, u, from, to)
		if err != nil {
			return nil, err
		}
		changes := about(rep, ids)
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

func (c *reportCache) get(ctx context.Context, u *UI, from, to *model.Snapshot) (*diff.Report, error) {
	k := [2]int64{from.ID, to.ID}
	c.mu.Lock()
	rep, ok := c.m[k]
	c.mu.Unlock()
	if ok {
		return rep, nil
	}
	c.compute.Lock()
	defer c.compute.Unlock()
	c.mu.Lock()
	rep, ok = c.m[k]
	c.mu.Unlock()
	if ok {
		return rep, nil
	}
	rep, err := diff.Compute(ctx, u.c.Store, from, to, diff.Filter{StaleDays: staleDays})
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxCachedReports {
		c.m = map[[2]int64]*diff.Report{}
	}
	c.m[k] = rep
	c.mu.Unlock()
	return rep, nil
}

// about returns the changes of rep about the principals ids: their own
// access, administrator status, trust, keys, console and MFA, Identity
// Center assignments and findings, a group's or role's changes of what it
// offers, and changes of the resources themselves.
func about(rep *diff.Report, ids []string) []historyChange {
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	is := func(refs ...string) bool {
		for _, r := range refs {
			if want[r] {
				return true
			}
		}
		return false
	}
	var out []historyChange
	add := func(kind, text string, admin bool) { out = append(out, historyChange{kind, text, admin}) }
	for _, a := range rep.Administrators {
		if is(a.Principal.ID) {
			add("administrator", a.Text, true)
		}
	}
	for _, a := range rep.Access {
		via := ""
		if a.Via != nil {
			via = a.Via.ID
		}
		if is(a.Principal.ID, a.Resource.ID, via) {
			add("access", a.Text, a.Admin)
		}
	}
	for _, a := range rep.IdentityCenter {
		refs := []string{a.Principal.ID, a.PermissionSet.ID}
		for _, r := range a.Reaches {
			refs = append(refs, r.ID)
		}
		if is(refs...) {
			add("identity center", a.Text, false)
		}
	}
	for _, t := range rep.Trust {
		if is(t.Role.ID) {
			add("trust", t.Text, false)
		}
	}
	for _, k := range rep.AccessKeys {
		if is(k.Key.ID, k.User.ID) {
			add("access key", k.Text, false)
		}
	}
	for _, cc := range rep.ConsoleAndMFA {
		dev := ""
		if cc.Device != nil {
			dev = cc.Device.ID
		}
		if is(cc.User.ID, dev) {
			add("console and MFA", cc.Text, false)
		}
	}
	for _, f := range rep.Findings {
		if is(f.Subject.ID, f.User.ID) {
			add("finding", f.Text, false)
		}
	}
	for _, r := range rep.Resources {
		if is(r.Resource.ID) {
			add("resource", r.Text, false)
		}
	}
	return out
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
	// Services is its IAM service last accessed data, when a sync read it
	// (activity.last_accessed); nil otherwise.
	Services *findings.LastAccessed
}

// activity reads the activity of the principal with ARN arn in account.
func (u *UI) activity(ctx context.Context, conn, account, arn string) (*activityView, error) {
	v := &activityView{}
	if arn == "" || account == "" {
		return v, nil
	}
	var err error
	if v.Services, err = access.LastAccessedOf(ctx, u.c.Store, conn, account, arn); err != nil {
		return nil, err
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
