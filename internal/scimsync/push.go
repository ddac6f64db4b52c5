package scimsync

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/warden-iam/warden/internal/scim"
)

// Target is the SCIM API a push writes to (internal/scim's Client).
type Target interface {
	ListUsers(ctx context.Context, filter string, f func(scim.User)) error
	ListGroups(ctx context.Context, filter string, f func(scim.Group)) error
	CreateUser(ctx context.Context, u scim.User) (*scim.User, error)
	PatchUser(ctx context.Context, id string, ops []scim.Operation) error
	DeleteUser(ctx context.Context, id string) error
	CreateGroup(ctx context.Context, g scim.Group) (*scim.Group, error)
	ChangeMembers(ctx context.Context, groupID string, add, remove []string) error
}

// LeaverPolicy says what happens to a pushed person who left the scope.
type LeaverPolicy string

// Leaver policies.
const (
	Deactivate LeaverPolicy = "deactivate" // active=false; the user is kept, and reactivated if they return
	Delete     LeaverPolicy = "delete"
)

// Options tune a push.
type Options struct {
	// Groups, when not empty, limits the push to the members of these
	// source groups (and these groups); empty pushes everyone and every
	// group.
	Groups []string
	// Leavers is the policy for people out of scope; default Deactivate.
	Leavers LeaverPolicy
	// DryRun computes the report without writing.
	DryRun bool
	// Concurrency is how many writes run at once; default 8 (the client's
	// rate limit sets the pace).
	Concurrency int
	// Record, when set, is told of every write (for the audit log).
	Record func(call, target, result, detail string)
	// Managed, when set, says which external ids this push owns: only
	// those users may be treated as leavers (users another provisioner
	// created keep theirs). Nil treats every user with an external id as
	// pushed by this source.
	Managed func(externalID string) bool
}

// Failure is one write that failed.
type Failure struct {
	What   string `json:"what"`
	Reason string `json:"reason"`
}

// Report is what a push did (or, dry, would do).
type Report struct {
	DryRun         bool      `json:"dry_run"`
	Created        int       `json:"created"`
	Updated        int       `json:"updated"`
	Deactivated    int       `json:"deactivated"`
	Deleted        int       `json:"deleted"`
	Unchanged      int       `json:"unchanged"`
	GroupsCreated  int       `json:"groups_created"`
	MembersAdded   int       `json:"members_added"`
	MembersRemoved int       `json:"members_removed"`
	Writes         int       `json:"writes"` // write calls made (or planned)
	Failed         []Failure `json:"failed"`
}

// pusher is the state of one push.
type pusher struct {
	t      Target
	o      Options
	mu     sync.Mutex
	report *Report
}

func (p *pusher) fail(what string, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.report.Failed = append(p.report.Failed, Failure{What: what, Reason: err.Error()})
	if p.o.Record != nil {
		p.o.Record("-", what, "failed", err.Error())
	}
}

// write runs one write unless dry, counting it.
func (p *pusher) write(call, what string, f func() error) bool {
	p.mu.Lock()
	p.report.Writes++
	p.mu.Unlock()
	if p.o.DryRun {
		return true
	}
	if err := f(); err != nil {
		p.fail(what, err)
		return false
	}
	if p.o.Record != nil {
		p.mu.Lock()
		p.o.Record(call, what, "ok", "")
		p.mu.Unlock()
	}
	return true
}

// parallel runs f for each index, at most o.Concurrency at once.
func (p *pusher) parallel(n int, f func(i int)) {
	sem := make(chan struct{}, max(1, p.o.Concurrency))
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
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

// Push reconciles the target with the people: the target's users and the
// managed groups' members are read once (one listing of users, one of
// groups, one member listing per managed group), then only differences are
// written. Users are matched by external id, else by user name (and then
// given the external id); a person out of scope is found by the external
// id pushed before, so users warden did not push (without an external id)
// are never touched, and a leaver who returns is reactivated, not
// recreated.
func Push(ctx context.Context, t Target, people []Person, o Options) (*Report, error) {
	if len(people) == 0 {
		return nil, fmt.Errorf("the source has no people: refusing a push that would treat everyone pushed before as a leaver")
	}
	if o.Leavers == "" {
		o.Leavers = Deactivate
	}
	if o.Leavers != Deactivate && o.Leavers != Delete {
		return nil, fmt.Errorf("leaver policy %q: use deactivate or delete", o.Leavers)
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 8
	}
	p := &pusher{t: t, o: o, report: &Report{DryRun: o.DryRun, Failed: []Failure{}}}

	inScope, groups, err := scope(people, o.Groups)
	if err != nil {
		return nil, err
	}
	var current []scim.User
	if err := t.ListUsers(ctx, "", func(u scim.User) { current = append(current, u) }); err != nil {
		return nil, err
	}
	byExt, byName := map[string]*scim.User{}, map[string]*scim.User{}
	for i := range current {
		u := &current[i]
		if u.ExternalID != "" {
			byExt[u.ExternalID] = u
		}
		byName[strings.ToLower(u.UserName)] = u
	}

	// Users: create or update those in scope.
	ids := make([]string, len(inScope)) // target id of each person in scope
	p.parallel(len(inScope), func(i int) {
		person := inScope[i]
		u := byExt[person.ExternalID]
		if u == nil {
			u = byName[strings.ToLower(person.UserName)]
		}
		if u == nil {
			var created *scim.User
			if p.write("scim:CreateUser", "user "+person.UserName, func() error {
				var err error
				created, err = t.CreateUser(ctx, desired(person))
				return err
			}) {
				p.count(&p.report.Created)
				if created != nil {
					ids[i] = created.ID
				}
			}
			return
		}
		ids[i] = u.ID
		ops := changes(*u, person)
		if len(ops) == 0 {
			p.count(&p.report.Unchanged)
			return
		}
		if p.write("scim:PatchUser", "user "+person.UserName, func() error { return t.PatchUser(ctx, u.ID, ops) }) {
			p.count(&p.report.Updated)
		}
	})

	// Leavers: pushed before (an external id) and out of scope now.
	keep := map[string]bool{}
	for _, person := range inScope {
		keep[person.ExternalID] = true
	}
	var leavers []*scim.User
	for i := range current {
		u := &current[i]
		managed := u.ExternalID != "" && (o.Managed == nil || o.Managed(u.ExternalID))
		if managed && !keep[u.ExternalID] && (o.Leavers == Delete || u.Active == nil || *u.Active) {
			leavers = append(leavers, u)
		}
	}
	p.parallel(len(leavers), func(i int) {
		u := leavers[i]
		if o.Leavers == Delete {
			if p.write("scim:DeleteUser", "user "+u.UserName, func() error { return t.DeleteUser(ctx, u.ID) }) {
				p.count(&p.report.Deleted)
			}
			return
		}
		off := false
		if p.write("scim:PatchUser", "user "+u.UserName, func() error {
			return t.PatchUser(ctx, u.ID, []scim.Operation{{Op: "replace", Path: "active", Value: off}})
		}) {
			p.count(&p.report.Deactivated)
		}
	})

	if err := p.pushGroups(ctx, inScope, ids, groups, leavers); err != nil {
		return p.report, err
	}
	return p.report, nil
}

func (p *pusher) count(n *int) {
	p.mu.Lock()
	*n++
	p.mu.Unlock()
}

// pushGroups creates the managed groups missing from the target and brings
// their members in line.
func (p *pusher) pushGroups(ctx context.Context, inScope []Person, ids []string, groups []string, leavers []*scim.User) error {
	existing := map[string]scim.Group{}
	if err := p.t.ListGroups(ctx, "", func(g scim.Group) { existing[strings.ToLower(g.DisplayName)] = g }); err != nil {
		return err
	}
	deleted := map[string]bool{}
	if p.o.Leavers == Delete {
		for _, u := range leavers {
			deleted[u.ID] = true
		}
	}
	want := map[string][]string{} // group → target user ids
	for i, person := range inScope {
		if ids[i] == "" {
			continue // not created (failed, or a dry run)
		}
		for _, g := range person.Groups {
			want[strings.ToLower(g)] = append(want[strings.ToLower(g)], ids[i])
		}
	}
	p.parallel(len(groups), func(i int) {
		name := groups[i]
		g, ok := existing[strings.ToLower(name)]
		var members []string
		if !ok {
			var created *scim.Group
			if !p.write("scim:CreateGroup", "group "+name, func() error {
				var err error
				created, err = p.t.CreateGroup(ctx, scim.Group{DisplayName: name})
				return err
			}) {
				return
			}
			p.count(&p.report.GroupsCreated)
			if created == nil {
				// A dry run: every wanted member would be added.
				p.countN(&p.report.MembersAdded, len(want[strings.ToLower(name)]))
				if len(want[strings.ToLower(name)]) > 0 {
					p.countN(&p.report.Writes, (len(want[strings.ToLower(name)])+scim.MaxMemberChanges-1)/scim.MaxMemberChanges)
				}
				return
			}
			g = *created
		} else {
			// Identity Center lists groups without members: a group's
			// members are the users filtered by it.
			if err := p.t.ListUsers(ctx, fmt.Sprintf("groups.value eq %q", g.ID), func(u scim.User) { members = append(members, u.ID) }); err != nil {
				p.fail("group "+name, err)
				return
			}
		}
		add, remove := diff(want[strings.ToLower(name)], members, deleted)
		if len(add)+len(remove) == 0 {
			return
		}
		batches := (len(add) + len(remove) + scim.MaxMemberChanges - 1) / scim.MaxMemberChanges
		p.countN(&p.report.Writes, batches-1) // write counts one
		if p.write("scim:PatchGroup", "group "+name, func() error { return p.t.ChangeMembers(ctx, g.ID, add, remove) }) {
			p.countN(&p.report.MembersAdded, len(add))
			p.countN(&p.report.MembersRemoved, len(remove))
		}
	})
	return nil
}

func (p *pusher) countN(n *int, k int) {
	p.mu.Lock()
	*n += k
	p.mu.Unlock()
}

// diff returns the members to add and to remove; deleted users are gone
// with their memberships.
func diff(want, have []string, deleted map[string]bool) (add, remove []string) {
	for _, id := range want {
		if !slices.Contains(have, id) && !slices.Contains(add, id) {
			add = append(add, id)
		}
	}
	for _, id := range have {
		if !slices.Contains(want, id) && !deleted[id] {
			remove = append(remove, id)
		}
	}
	sort.Strings(add)
	sort.Strings(remove)
	return add, remove
}

// scope returns the people and groups a push manages.
func scope(people []Person, selected []string) ([]Person, []string, error) {
	all := map[string]string{}
	for _, p := range people {
		for _, g := range p.Groups {
			all[strings.ToLower(g)] = g
		}
	}
	if len(selected) == 0 {
		var groups []string
		for _, g := range all {
			groups = append(groups, g)
		}
		sort.Strings(groups)
		return people, groups, nil
	}
	chosen := map[string]bool{}
	var groups []string
	for _, s := range selected {
		g, ok := all[strings.ToLower(s)]
		if !ok {
			return nil, nil, fmt.Errorf("group %q is in no source record: check --group against the source", s)
		}
		chosen[strings.ToLower(s)] = true
		groups = append(groups, g)
	}
	var out []Person
	for _, p := range people {
		var mine []string
		for _, g := range p.Groups {
			if chosen[strings.ToLower(g)] {
				mine = append(mine, g)
			}
		}
		if len(mine) > 0 {
			p.Groups = mine
			out = append(out, p)
		}
	}
	sort.Strings(groups)
	return out, groups, nil
}

// desired is the SCIM user a person maps to.
func desired(p Person) scim.User {
	active := p.Active
	u := scim.User{ExternalID: p.ExternalID, UserName: p.UserName, DisplayName: p.Display, Title: p.Title, Active: &active,
		Name: &scim.Name{GivenName: p.GivenName, FamilyName: p.FamilyName}}
	if p.Email != "" {
		u.Emails = []scim.Email{{Value: p.Email, Type: "work", Primary: true}}
	}
	if p.Department != "" {
		u.Enterprise = &scim.Enterprise{Department: p.Department}
	}
	return u
}

// changes returns replace operations for the attributes of u that differ
// from the person, and nothing when all agree.
func changes(u scim.User, p Person) []scim.Operation {
	var ops []scim.Operation
	set := func(path, have, want string) {
		if have != want {
			ops = append(ops, scim.Operation{Op: "replace", Path: path, Value: want})
		}
	}
	set("externalId", u.ExternalID, p.ExternalID)
	set("userName", u.UserName, p.UserName)
	set("displayName", u.DisplayName, p.Display)
	var given, family string
	if u.Name != nil {
		given, family = u.Name.GivenName, u.Name.FamilyName
	}
	set("name.givenName", given, p.GivenName)
	set("name.familyName", family, p.FamilyName)
	set("title", u.Title, p.Title)
	dept := ""
	if u.Enterprise != nil {
		dept = u.Enterprise.Department
	}
	set(scim.EnterpriseURN+":department", dept, p.Department)
	email := ""
	if len(u.Emails) > 0 {
		email = u.Emails[0].Value
	}
	if email != p.Email {
		ops = append(ops, scim.Operation{Op: "replace", Path: `emails[type eq "work"].value`, Value: p.Email})
	}
	if u.Active == nil || *u.Active != p.Active {
		ops = append(ops, scim.Operation{Op: "replace", Path: "active", Value: p.Active})
	}
	return ops
}
