package scimsync

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

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
	// MaxLeavers bounds the leavers a push may deactivate or delete; the
	// zero value is DefaultLeaverLimit.
	MaxLeavers LeaverLimit
	// DryRun plans the push exactly as a real one and writes nothing: its
	// report is the real run's.
	DryRun bool
	// Concurrency is how many writes run at once; default 8 (the client's
	// rate limit sets the pace).
	Concurrency int
	// Ledger, when set, says which people this database pushed before
	// (only they may become leavers: users another provisioner created
	// keep theirs), records every write, and learns who was pushed. Nil
	// treats every user with an external id as pushed by this source and
	// records nothing.
	Ledger Ledger
	// Progress, when set, is told how the push goes: stage "reading" with
	// the users and group members read so far (total 0), then "writing"
	// with the planned writes done of the total. It may be called from
	// several goroutines at once.
	Progress func(stage string, done, total int)
}

// Failure is one write that failed.
type Failure struct {
	What   string `json:"what"`
	Reason string `json:"reason"`
}

// Unmatched is a group member warden could not match to a user it read:
// reported, never removed.
type Unmatched struct {
	Group  string `json:"group"`
	Member string `json:"member"`
}

// Report is what a push did (or, dry, would do).
type Report struct {
	DryRun         bool        `json:"dry_run"`
	Created        int         `json:"created"`
	Updated        int         `json:"updated"`
	Deactivated    int         `json:"deactivated"`
	Deleted        int         `json:"deleted"`
	Unchanged      int         `json:"unchanged"`
	GroupsCreated  int         `json:"groups_created"`
	MembersAdded   int         `json:"members_added"`
	MembersRemoved int         `json:"members_removed"`
	Writes         int         `json:"writes"` // write calls made (or planned)
	Failed         []Failure   `json:"failed"`
	Unmatched      []Unmatched `json:"unmatched_members"`
	// Stopped says why the push ended before its last write (the
	// endpoint refused the token, the audit log could not be written);
	// nil when it ran to the end.
	Stopped *string `json:"stopped"`
}

// writeGrace is how long the writes in flight may still take after an
// interrupt.
const writeGrace = 10 * time.Second

// LeaverLimitError is a push stopped before any write because it would
// deactivate or delete more people than its limit allows.
type LeaverLimitError struct {
	Leavers int
	Pushed  int
	Allowed int
	Policy  LeaverPolicy
	Limit   LeaverLimit
}

// Error implements error.
func (e *LeaverLimitError) Error() string {
	verb := "deactivate"
	if e.Policy == Delete {
		verb = "delete"
	}
	return fmt.Sprintf("the push would %s %d of the %d people this database pushed, more than %s allows (%d); nothing was written",
		verb, e.Leavers, e.Pushed, e.Limit, e.Allowed)
}

// InputError is a push refused for its input (the source or the options)
// before anything is read or written: the problem and what to do.
type InputError struct {
	Problem string
	Fix     string
}

// Error implements error.
func (e *InputError) Error() string { return e.Problem + ": " + e.Fix }

// LedgerError is a failure of the ledger: what could not be done, and why.
type LedgerError struct {
	What string
	Err  error
}

// Error implements error.
func (e *LedgerError) Error() string { return "cannot " + e.What + ": " + e.Err.Error() }

// Unwrap returns the ledger's error.
func (e *LedgerError) Unwrap() error { return e.Err }

// pusher is the state of one push.
type pusher struct {
	t      Target
	o      Options
	mu     sync.Mutex
	report *Report
	total  int // planned writes, for Progress
	done   int
	// stopped is set by what stops the push (a 401 or 403, a ledger that
	// cannot record): no write begins after it; those in flight finish
	// and are counted, so the report and the ledger know every user made.
	stopped atomic.Bool
	cause   error // what stopped the push, if anything
	// interrupt is the caller's context: once it ends no write begins.
	interrupt context.Context
}

// Push reconciles the target with the people. It reads first (one listing
// of users, one of groups, the members of each managed group that exists),
// plans every write, checks the plan against the leaver limit, and only
// then writes the plan (nothing in a dry run, whose report is therefore
// the real run's). Users are matched by external id, else by user name
// (and then given the external id); a person out of scope is found by the
// external id pushed before, so users warden did not push are never
// touched, and a leaver who returns is reactivated, not recreated. A 401
// or 403 stops the push at once. The ledger learns who is pushed as the
// push goes (the people the target holds before the first write, each
// user made once the endpoint confirms it, or found after a 409), so
// whatever ends the run, a kill -9 included, every user it made is known
// and deactivated if its person leaves; the report says what was done.
func Push(ctx context.Context, t Target, people []Person, o Options) (*Report, error) {
	if len(people) == 0 {
		return nil, &InputError{Problem: "the source has no people: refusing a push that would treat everyone pushed before as a leaver",
			Fix: "check the source file (or --source-endpoint) holds the people to push"}
	}
	if o.Leavers == "" {
		o.Leavers = Deactivate
	}
	if o.Leavers != Deactivate && o.Leavers != Delete {
		return nil, &InputError{Problem: fmt.Sprintf("leaver policy %q is not one warden knows", o.Leavers), Fix: "use --leavers deactivate (the default) or --leavers delete"}
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 8
	}
	inScope, groups, err := scope(people, o.Groups)
	if err != nil {
		return nil, err
	}
	var pushed map[string]bool
	if o.Ledger != nil {
		if pushed, err = o.Ledger.Pushed(ctx); err != nil {
			return nil, &LedgerError{What: "read who this database pushed", Err: err}
		}
	}
	pl, err := read(ctx, t, inScope, groups, o, pushed)
	if err != nil {
		return nil, err
	}
	if n := len(pl.leavers); n > 0 {
		base := len(pushed)
		if pushed == nil {
			base = pl.managed
		}
		if allowed := o.MaxLeavers.allowed(base); n > allowed {
			return nil, &LeaverLimitError{Leavers: n, Pushed: base, Allowed: allowed, Policy: o.Leavers, Limit: o.MaxLeavers}
		}
	}
	rep := &Report{DryRun: o.DryRun, Failed: append([]Failure{}, pl.failed...), Unmatched: pl.unmatched, Unchanged: pl.unchanged}
	if o.DryRun {
		pl.count(rep)
		return rep, nil
	}
	// The people the target already holds are recorded as pushed before
	// the first write; each person a write puts there is recorded as soon
	// as the endpoint confirms it (try, create): a push killed at any point
	// leaves every user it made known, so a leaver is deactivated later.
	if o.Ledger != nil {
		var known []string
		for i, person := range pl.people {
			if pl.ids[i] != "" && !pushed[person.ExternalID] {
				known = append(known, person.ExternalID)
			}
		}
		if len(known) > 0 {
			if err := o.Ledger.AddPushed(context.WithoutCancel(ctx), known); err != nil {
				err = &LedgerError{What: "record the people the target already holds as pushed, so the push stopped before any write", Err: err}
				why := err.Error()
				rep.Stopped = &why
				return rep, err
			}
		}
	}
	// Writes run on a context an interrupt does not cancel at once: the
	// push begins no more, and those in flight get writeGrace to finish,
	// so the endpoint makes no user the report and the ledger miss.
	wctx, wcancel := context.WithCancel(context.WithoutCancel(ctx))
	defer wcancel()
	defer context.AfterFunc(ctx, func() { time.AfterFunc(writeGrace, wcancel) })()
	p := &pusher{t: t, o: o, report: rep, total: pl.writes(), interrupt: ctx}
	p.run(wctx, pl)
	if err := ctx.Err(); err != nil && p.cause == nil {
		p.cause = fmt.Errorf("the push was interrupted: %w", err)
	}
	if p.cause != nil {
		why := p.cause.Error()
		rep.Stopped = &why
		return rep, p.cause
	}
	return rep, nil
}

// halt stops the push for good: every write not begun is skipped.
func (p *pusher) halt(err error) {
	p.mu.Lock()
	if p.cause == nil {
		p.cause = err
	}
	p.mu.Unlock()
	p.stopped.Store(true)
}

// stopping reports whether the push is to begin no more writes.
func (p *pusher) stopping(ctx context.Context) bool {
	return p.stopped.Load() || ctx.Err() != nil || p.interrupt.Err() != nil
}

// write makes one write call (of the calls counted in Writes) and records
// it; false when it failed or was not made (the push is stopping). on is
// what the call acts on, for the ledger.
func (p *pusher) write(ctx context.Context, call, what string, on map[string]string, calls int, f func() error) bool {
	made, err := p.try(ctx, call, what, on, calls, "", nil, func() (string, error) { return "", f() })
	return made && err == nil
}

// try makes one write call and records it in the report, the progress and
// the ledger: the ledger's record is written before the call (intent) and
// completed after it with the result and the SCIM id f reports creating;
// made is false when the call was not made because the push is stopping or
// its intent could not be recorded. When pushes is a person's external id
// and the call succeeds, the ledger learns that person as pushed before
// the record is completed (a process killed between the two leaves the
// write started and its person known). An error expected accepts is
// recorded as "conflict" and is no failure: the caller resolves it. A 401
// or 403, or a ledger that cannot record, stops the push.
func (p *pusher) try(ctx context.Context, call, what string, on map[string]string, calls int, pushes string, expected func(error) bool, f func() (created string, err error)) (made bool, err error) {
	if p.stopping(ctx) {
		return false, nil
	}
	var record int64
	if p.o.Ledger != nil {
		// Recorded whatever the interrupt did to ctx: a write begun is a
		// write recorded.
		id, lerr := p.o.Ledger.Start(context.WithoutCancel(ctx), Write{Call: call, Target: what, On: on})
		if lerr != nil {
			p.halt(&LedgerError{What: "write the audit log, so the push stopped before " + call + " of " + what, Err: lerr})
			return false, nil
		}
		record = id
	}
	created, err := f()
	tolerated := err != nil && expected != nil && expected(err)
	p.mu.Lock()
	p.report.Writes += calls
	p.done += calls
	done := p.done
	if err != nil && !tolerated {
		p.report.Failed = append(p.report.Failed, Failure{What: what, Reason: err.Error()})
	}
	p.mu.Unlock()
	if p.o.Progress != nil {
		p.o.Progress("writing", done, p.total)
	}
	if p.o.Ledger != nil {
		w := Write{Call: call, Target: what, Result: WriteOK, Outcome: map[string]string{}}
		switch {
		case tolerated:
			w.Result, w.Detail = WriteConflict, err.Error()
		case err != nil:
			w.Result, w.Detail = WriteFailed, err.Error()
		}
		if created != "" {
			w.Outcome["id"] = created
		}
		var se *scim.Error
		if errors.As(err, &se) {
			w.Outcome["status"] = strconv.Itoa(se.Status)
		}
		var lerrs []error
		if err == nil && pushes != "" {
			if perr := p.o.Ledger.AddPushed(context.WithoutCancel(ctx), []string{pushes}); perr != nil {
				lerrs = append(lerrs, &LedgerError{What: "record " + what + " as pushed, so the push stopped", Err: perr})
			}
		}
		if rerr := p.o.Ledger.Finish(context.WithoutCancel(ctx), record, w); rerr != nil {
			lerrs = append(lerrs, &LedgerError{What: "complete the audit record of " + call + " of " + what + ", so the push stopped", Err: rerr})
		}
		if len(lerrs) > 0 {
			p.halt(errors.Join(lerrs...))
		}
	}
	if err != nil && scim.IsAuth(err) {
		p.halt(err)
	}
	return true, err
}

// parallel runs f for each index, at most o.Concurrency at once, and
// starts none once the push is stopping.
func (p *pusher) parallel(ctx context.Context, n int, f func(i int)) {
	sem := make(chan struct{}, max(1, p.o.Concurrency))
	var wg sync.WaitGroup
	for i := 0; i < n && !p.stopping(ctx); i++ {
		sem <- struct{}{}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			if !p.stopping(ctx) {
				f(i)
			}
		}(i)
	}
	wg.Wait()
}

func (p *pusher) add(n *int, k int) {
	p.mu.Lock()
	*n += k
	p.mu.Unlock()
}

// run writes a plan: users, then leavers, then groups and their members.
func (p *pusher) run(ctx context.Context, pl *plan) {
	p.parallel(ctx, len(pl.users), func(i int) {
		u := pl.users[i]
		person := pl.people[u.person]
		if u.target == nil {
			p.create(ctx, pl, u.person)
			return
		}
		if p.write(ctx, "scim:PatchUser", "user "+person.UserName, onUser(u.target.ID), 1, func() error { return p.t.PatchUser(ctx, u.target.ID, u.ops) }) {
			p.add(&p.report.Updated, 1)
		}
	})
	p.parallel(ctx, len(pl.leavers), func(i int) {
		u := pl.leavers[i]
		if p.o.Leavers == Delete {
			if p.write(ctx, "scim:DeleteUser", "user "+u.UserName, onUser(u.ID), 1, func() error { return p.t.DeleteUser(ctx, u.ID) }) {
				p.add(&p.report.Deleted, 1)
			}
			return
		}
		if p.write(ctx, "scim:PatchUser", "user "+u.UserName, map[string]string{"id": u.ID, "active": "false"}, 1, func() error {
			return p.t.PatchUser(ctx, u.ID, []scim.Operation{{Op: "replace", Path: "active", Value: false}})
		}) {
			p.add(&p.report.Deactivated, 1)
		}
	})
	p.parallel(ctx, len(pl.groups), func(i int) {
		g := pl.groups[i]
		id := ""
		if g.existing != nil {
			id = g.existing.ID
		} else {
			var created *scim.Group
			if made, err := p.try(ctx, "scim:CreateGroup", "group "+g.name, nil, 1, "", nil, func() (string, error) {
				var err error
				if created, err = p.t.CreateGroup(ctx, scim.Group{DisplayName: g.name}); err != nil {
					return "", err
				}
				return created.ID, nil
			}); !made || err != nil {
				return
			}
			p.add(&p.report.GroupsCreated, 1)
			id = created.ID
		}
		var add []string
		for _, m := range g.add {
			if uid := pl.memberID(m); uid != "" {
				add = append(add, uid) // a person whose create failed is left out
			}
		}
		sort.Strings(add)
		if n := len(add) + len(g.remove); n > 0 {
			on := map[string]string{"id": id, "members_added": strconv.Itoa(len(add)), "members_removed": strconv.Itoa(len(g.remove))}
			if p.write(ctx, "scim:PatchGroup", "group "+g.name, on, batches(n), func() error { return p.t.ChangeMembers(ctx, id, add, g.remove) }) {
				p.add(&p.report.MembersAdded, len(add))
				p.add(&p.report.MembersRemoved, len(g.remove))
			}
		}
	})
}

// create creates a person's user. A 409 (the user exists, though the
// listing did not show it) is resolved by looking the user up by user
// name, then by external id, and patching what differs.
func (p *pusher) create(ctx context.Context, pl *plan, i int) {
	person := pl.people[i]
	var created *scim.User
	made, err := p.try(ctx, "scim:CreateUser", "user "+person.UserName, nil, 1, person.ExternalID, scim.IsConflict, func() (string, error) {
		var err error
		if created, err = p.t.CreateUser(ctx, desired(person)); err != nil {
			return "", err
		}
		return created.ID, nil
	})
	switch {
	case !made || (err != nil && !scim.IsConflict(err)):
		return
	case err == nil:
		pl.setID(i, created.ID)
		p.add(&p.report.Created, 1)
		return
	}
	conflict := err
	if p.stopping(ctx) {
		return
	}
	found, err := lookUp(ctx, p.t, person)
	if err != nil || found == nil {
		if err == nil {
			err = fmt.Errorf("%w; and no user with that user name or external id could be read", conflict)
		}
		p.mu.Lock()
		p.report.Failed = append(p.report.Failed, Failure{What: "user " + person.UserName, Reason: err.Error()})
		p.mu.Unlock()
		if scim.IsAuth(err) {
			p.halt(err)
		}
		return
	}
	pl.setID(i, found.ID)
	if p.o.Ledger != nil {
		// Known as soon as it is found: the user is in the target.
		if err := p.o.Ledger.AddPushed(context.WithoutCancel(ctx), []string{person.ExternalID}); err != nil {
			p.halt(&LedgerError{What: "record user " + person.UserName + " as pushed, so the push stopped", Err: err})
			return
		}
	}
	ops := changes(*found, person)
	if len(ops) == 0 {
		p.add(&p.report.Unchanged, 1)
		return
	}
	if p.write(ctx, "scim:PatchUser", "user "+person.UserName, onUser(found.ID), 1, func() error { return p.t.PatchUser(ctx, found.ID, ops) }) {
		p.add(&p.report.Updated, 1)
	}
}

// onUser is what a write to one existing user acts on, for the ledger.
func onUser(id string) map[string]string { return map[string]string{"id": id} }

// lookUp finds a person's user by user name, else by external id.
func lookUp(ctx context.Context, t Target, person Person) (*scim.User, error) {
	for _, f := range []string{fmt.Sprintf("userName eq %q", person.UserName), fmt.Sprintf("externalId eq %q", person.ExternalID)} {
		var found *scim.User
		if err := t.ListUsers(ctx, f, func(u scim.User) {
			if found == nil {
				found = &u
			}
		}); err != nil {
			return nil, fmt.Errorf("look up %s after a 409: %w", person.UserName, err)
		}
		if found != nil {
			return found, nil
		}
	}
	return nil, nil
}

// batches is the PATCH calls n member changes take.
func batches(n int) int { return (n + scim.MaxMemberChanges - 1) / scim.MaxMemberChanges }

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
			return nil, nil, &InputError{Problem: fmt.Sprintf("group %q is in no source record", s), Fix: "check --group against the source's groups"}
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

// changes returns the PATCH operations that make u the person, nothing
// when all agree: `add` for an attribute the user lacks, `remove` for one
// the person no longer has, `replace` for a changed value (RFC 7644
// §3.5.2; a replace through a filter that matches nothing is noTarget, and
// an empty value is no value).
func changes(u scim.User, p Person) []scim.Operation {
	var ops []scim.Operation
	set := func(path, have, want string) {
		switch {
		case have == want:
		case want == "":
			ops = append(ops, scim.Operation{Op: "remove", Path: path})
		case have == "":
			ops = append(ops, scim.Operation{Op: "add", Path: path, Value: want})
		default:
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
	work := []scim.Email{{Value: p.Email, Type: "work", Primary: true}}
	switch {
	case email == p.Email:
	case p.Email == "":
		ops = append(ops, scim.Operation{Op: "remove", Path: "emails"})
	case email == "":
		ops = append(ops, scim.Operation{Op: "add", Path: "emails", Value: work})
	default:
		ops = append(ops, scim.Operation{Op: "replace", Path: "emails", Value: work})
	}
	if u.Active == nil || *u.Active != p.Active {
		ops = append(ops, scim.Operation{Op: "replace", Path: "active", Value: p.Active})
	}
	return ops
}
