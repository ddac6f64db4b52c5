package scimsync

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/warden-iam/warden/internal/scim"
)

// plan is every write a push will make, computed from one reading of the
// target before the first write. A dry run reports it; a real run makes
// it.
type plan struct {
	people    []Person     // in scope
	ids       []string     // each person's target user id; "" until created
	idsMu     sync.Mutex   // guards ids while the users are written
	users     []userWrite  // creates and patches of people in scope
	unchanged int          // people whose user already agrees
	leavers   []*scim.User // pushed users out of scope, to deactivate or delete
	groups    []groupWrite // managed groups to create or whose members change
	unmatched []Unmatched  // members not matched to a user read: never removed
	managed   int          // target users this source may treat as leavers (pushed by it)
	policy    LeaverPolicy
	failed    []Failure // groups whose members could not be read: left alone
}

// userWrite is one create (target nil) or patch of a person's user.
type userWrite struct {
	person int
	target *scim.User
	ops    []scim.Operation
}

// groupWrite is a managed group to create (existing nil) and the members
// to add and remove.
type groupWrite struct {
	name     string
	existing *scim.Group
	add      []member
	remove   []string
}

// member is a user to add to a group: a person in scope, whose id may be
// known only once their user is created.
type member struct{ person int }

// memberID returns the target id of a member, "" when the person's user
// does not exist (its create failed).
func (pl *plan) memberID(m member) string {
	pl.idsMu.Lock()
	defer pl.idsMu.Unlock()
	return pl.ids[m.person]
}

// setID records a person's user id once created.
func (pl *plan) setID(i int, id string) {
	pl.idsMu.Lock()
	pl.ids[i] = id
	pl.idsMu.Unlock()
}

// writes counts the write calls the plan makes.
func (pl *plan) writes() int {
	n := len(pl.users) + len(pl.leavers)
	for _, g := range pl.groups {
		if g.existing == nil {
			n++
		}
		n += batches(len(g.add) + len(g.remove))
	}
	return n
}

// count fills a report with what the plan would do, as a run that meets
// no failure reports it.
func (pl *plan) count(r *Report) {
	for _, u := range pl.users {
		if u.target == nil {
			r.Created++
		} else {
			r.Updated++
		}
	}
	if pl.policy == Delete {
		r.Deleted = len(pl.leavers)
	} else {
		r.Deactivated = len(pl.leavers)
	}
	r.Writes = pl.writes()
	for _, g := range pl.groups {
		if g.existing == nil {
			r.GroupsCreated++
		}
		r.MembersAdded += len(g.add)
		r.MembersRemoved += len(g.remove)
	}
}

// read reads the target (users, groups, the members of each managed group
// that exists) and plans the push.
func read(ctx context.Context, t Target, inScope []Person, groups []string, o Options, pushed map[string]bool) (*plan, error) {
	var current []scim.User
	var readMu sync.Mutex
	read := 0
	progress := func(n int) {
		if o.Progress == nil {
			return
		}
		readMu.Lock()
		read += n
		done := read
		readMu.Unlock()
		if done%100 == 0 || n > 1 {
			o.Progress("reading", done, 0)
		}
	}
	if err := t.ListUsers(ctx, "", func(u scim.User) { current = append(current, u); progress(1) }); err != nil {
		return nil, fmt.Errorf("read the target's users: %w", err)
	}
	existing := map[string]scim.Group{}
	if err := t.ListGroups(ctx, "", func(g scim.Group) { existing[strings.ToLower(g.DisplayName)] = g }); err != nil {
		return nil, fmt.Errorf("read the target's groups: %w", err)
	}
	pl := &plan{people: inScope, ids: make([]string, len(inScope)), unmatched: []Unmatched{}, policy: o.Leavers}
	byExt, byName, byID := map[string]*scim.User{}, map[string]*scim.User{}, map[string]*scim.User{}
	for i := range current {
		u := &current[i]
		if u.ExternalID != "" {
			byExt[u.ExternalID] = u
		}
		byName[strings.ToLower(u.UserName)] = u
		byID[u.ID] = u
	}

	// People in scope: create, patch, or leave alone.
	for i, person := range inScope {
		u := byExt[person.ExternalID]
		if u == nil {
			u = byName[strings.ToLower(person.UserName)]
		}
		if u == nil {
			pl.users = append(pl.users, userWrite{person: i})
			continue
		}
		pl.ids[i] = u.ID
		if ops := changes(*u, person); len(ops) > 0 {
			pl.users = append(pl.users, userWrite{person: i, target: u, ops: ops})
		} else {
			pl.unchanged++
		}
	}

	// Leavers: pushed before (an external id) and out of scope now.
	keep := map[string]bool{}
	for _, person := range inScope {
		keep[person.ExternalID] = true
	}
	matched := map[string]bool{} // target ids matched to a person in scope
	for _, id := range pl.ids {
		matched[id] = true
	}
	deleted := map[string]bool{}
	for i := range current {
		u := &current[i]
		managed := u.ExternalID != "" && (pushed == nil || pushed[u.ExternalID])
		if managed {
			pl.managed++
		}
		if managed && !keep[u.ExternalID] && !matched[u.ID] && (o.Leavers == Delete || u.Active == nil || *u.Active) {
			pl.leavers = append(pl.leavers, u)
			if o.Leavers == Delete {
				deleted[u.ID] = true
			}
		}
	}

	// Groups: the members each should have, against those it has.
	want := map[string][]member{} // group → people in scope
	for i, person := range inScope {
		for _, g := range person.Groups {
			want[strings.ToLower(g)] = append(want[strings.ToLower(g)], member{person: i})
		}
	}
	writes := make([]*groupWrite, len(groups))
	errs := make([]error, len(groups))
	var unmatchedMu sync.Mutex
	parallelRead(ctx, o.Concurrency, len(groups), func(k int) {
		name := groups[k]
		gw := &groupWrite{name: name}
		g, ok := existing[strings.ToLower(name)]
		if !ok {
			gw.add = want[strings.ToLower(name)]
			writes[k] = gw
			return
		}
		gw.existing = &g
		var have []string
		if len(g.Members) > 0 {
			for _, m := range g.Members {
				have = append(have, m.Value)
			}
		} else if err := t.ListUsers(ctx, fmt.Sprintf("groups.value eq %q", g.ID), func(u scim.User) { have = append(have, u.ID); progress(1) }); err != nil {
			// Identity Center lists groups without members: a group's
			// members are the users filtered by it.
			errs[k] = fmt.Errorf("read the members of group %s: %w", name, err)
			return
		}
		in := map[string]bool{}
		for _, id := range have {
			in[id] = true
		}
		wanted := map[string]bool{}
		for _, m := range want[strings.ToLower(name)] {
			id := pl.ids[m.person]
			if id != "" {
				wanted[id] = true
			}
			if id == "" || !in[id] {
				gw.add = append(gw.add, m)
			}
		}
		seen := map[string]bool{}
		for _, id := range have {
			switch {
			case seen[id] || wanted[id] || deleted[id]:
			case byID[id] == nil:
				unmatchedMu.Lock()
				pl.unmatched = append(pl.unmatched, Unmatched{Group: name, Member: id})
				unmatchedMu.Unlock()
			default:
				gw.remove = append(gw.remove, id)
			}
			seen[id] = true
		}
		sort.Strings(gw.remove)
		writes[k] = gw
	})
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for k, gw := range writes {
		if errs[k] != nil {
			if scim.IsAuth(errs[k]) {
				return nil, errs[k]
			}
			// A group whose members cannot be read whole is left alone
			// (a push acts on whole readings only) and reported.
			pl.failed = append(pl.failed, Failure{What: "group " + groups[k], Reason: errs[k].Error()})
			continue
		}
		if gw.existing == nil || len(gw.add)+len(gw.remove) > 0 {
			pl.groups = append(pl.groups, *gw)
		}
	}
	sort.Slice(pl.unmatched, func(i, j int) bool {
		a, b := pl.unmatched[i], pl.unmatched[j]
		return a.Group < b.Group || a.Group == b.Group && a.Member < b.Member
	})
	return pl, nil
}

// parallelRead runs f for each index, at most n at once.
func parallelRead(ctx context.Context, n, count int, f func(i int)) {
	sem := make(chan struct{}, max(1, n))
	var wg sync.WaitGroup
	for i := 0; i < count && ctx.Err() == nil; i++ {
		sem <- struct{}{}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			f(i)
		}(i)
	}
	wg.Wait()
}
