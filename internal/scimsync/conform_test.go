package scimsync

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/warden-iam/warden/awsfake"
	"github.com/warden-iam/warden/internal/scim"
	"github.com/warden-iam/warden/internal/store"
)

// pagingStyles are the SCIM servers a push must work against: Identity
// Center's (cursor pages, groups without members) and RFC 7644's (index
// pages of 50, groups that list their members, no cursor).
var pagingStyles = map[string]awsfake.SCIMOptions{
	"identity-center": {},
	"rfc7644":         {IndexPaging: true, PageSize: 50, GroupMembers: true},
}

func newStyledTarget(t *testing.T, o awsfake.SCIMOptions) (*awsfake.Server, *scim.Client) {
	t.Helper()
	srv, c := newTarget(t)
	srv.SetOptions(awsfake.Options{SCIM: o})
	return srv, c
}

// memLedger is a Ledger in memory, keeping its records in the order they
// were started; failAfter > 0 makes Start fail once that many records
// exist, failFinish makes Finish fail, failPushed AddPushed.
type memLedger struct {
	mu         sync.Mutex
	pushed     map[string]bool
	records    []Write
	failAfter  int
	failFinish bool
	failPushed bool
}

func (l *memLedger) Pushed(context.Context) (map[string]bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]bool{}
	for k := range l.pushed {
		out[k] = true
	}
	return out, nil
}

func (l *memLedger) Start(_ context.Context, w Write) (int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.failAfter > 0 && len(l.records) >= l.failAfter {
		return 0, errors.New("disk full")
	}
	if w.Result != "" || w.Outcome != nil {
		return 0, fmt.Errorf("Start given a finished write %+v", w)
	}
	w.Result = store.AuditStarted
	l.records = append(l.records, w)
	return int64(len(l.records)), nil
}

func (l *memLedger) Finish(_ context.Context, id int64, w Write) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.failFinish {
		return errors.New("disk full")
	}
	if id < 1 || int(id) > len(l.records) || l.records[id-1].Result != store.AuditStarted {
		return fmt.Errorf("record %d is not in flight", id)
	}
	r := &l.records[id-1]
	if w.Call != r.Call || w.Target != r.Target {
		return fmt.Errorf("record %d is %s of %s, finished as %s of %s", id, r.Call, r.Target, w.Call, w.Target)
	}
	r.Result, r.Detail, r.Outcome = w.Result, w.Detail, w.Outcome
	return nil
}

// inFlight returns the record started last, and whether it is still in
// flight.
func (l *memLedger) inFlight() (Write, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.records) == 0 {
		return Write{}, false
	}
	w := l.records[len(l.records)-1]
	return w, w.Result == store.AuditStarted
}

func (l *memLedger) AddPushed(_ context.Context, ids []string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.failPushed {
		return errors.New("disk full")
	}
	if l.pushed == nil {
		l.pushed = map[string]bool{}
	}
	for _, id := range ids {
		l.pushed[id] = true
	}
	return nil
}

// TestPushAgainstBothPagingStyles runs the push, the re-push (no writes)
// and an incremental change against Identity Center's paging and RFC
// 7644's, each checked against the emulator's state.
func TestPushAgainstBothPagingStyles(t *testing.T) {
	for name, style := range pagingStyles {
		t.Run(name, func(t *testing.T) {
			srv, c := newStyledTarget(t, style)
			ctx := context.Background()
			ledger := &memLedger{}
			people := generate(230, 12)
			rep, err := Push(ctx, c, load(t, people), Options{Ledger: ledger})
			if err != nil || len(rep.Failed) != 0 || rep.Created != 230 || rep.GroupsCreated != 12 {
				t.Fatalf("first push: %+v, %v", rep, err)
			}
			checkTarget(t, srv, people)
			before := writes(srv)
			rep, err = Push(ctx, c, load(t, people), Options{Ledger: ledger})
			if err != nil || rep.Writes != 0 || writes(srv) != before || rep.Unchanged != 230 {
				t.Fatalf("re-push: %+v (%d writes), %v; want none", rep, writes(srv)-before, err)
			}
			changed := slices.Clone(people[5:])
			for i := 0; i < 10; i++ {
				changed[i].Title = "" // removed
				changed[i].Email = "" // removed
				changed[i].Groups = []string{"team-011"}
			}
			changed = append(changed, generate(240, 12)[230:]...)
			before = writes(srv)
			rep, err = Push(ctx, c, load(t, changed), Options{Ledger: ledger})
			if err != nil || len(rep.Failed) != 0 || rep.Created != 10 || rep.Updated != 10 || rep.Deactivated != 5 {
				t.Fatalf("incremental push: %+v, %v", rep, err)
			}
			checkTarget(t, srv, changed)
			if got := writes(srv) - before; got != int64(rep.Writes) {
				t.Errorf("incremental push made %d writes, the report says %d", got, rep.Writes)
			}
			// The removed attributes come back: added where the user lacks them.
			rep, err = Push(ctx, c, load(t, append(slices.Clone(people[5:]), generate(240, 12)[230:]...)), Options{Ledger: ledger})
			if err != nil || len(rep.Failed) != 0 || rep.Updated != 10 {
				t.Fatalf("attributes back: %+v, %v", rep, err)
			}
		})
	}
}

// TestDryRunReportIsTheRealRunsReport: the dry run is the real planner
// without the writes, at a scale with thousands of member additions.
func TestDryRunReportIsTheRealRunsReport(t *testing.T) {
	srv, c := newTarget(t)
	ctx := context.Background()
	people := load(t, generate(1500, 40))
	step := func(what string, people []Person) {
		t.Helper()
		dry, err := Push(ctx, c, people, Options{DryRun: true})
		if err != nil {
			t.Fatal(err)
		}
		before := writes(srv)
		real, err := Push(ctx, c, people, Options{})
		if err != nil || len(real.Failed) != 0 {
			t.Fatal(real, err)
		}
		dry.DryRun = false
		if fmt.Sprintf("%+v", *dry) != fmt.Sprintf("%+v", *real) {
			t.Errorf("%s: the dry run reported\n%+v\nthe real run\n%+v", what, *dry, *real)
		}
		if got := writes(srv) - before; got != int64(real.Writes) {
			t.Errorf("%s: %d writes made, %d reported", what, got, real.Writes)
		}
		if what == "first push" && real.MembersAdded < 2000 {
			t.Errorf("first push added %d members, want thousands", real.MembersAdded)
		}
	}
	step("first push", people)
	changed := slices.Clone(people[20:])
	for i := range changed[:30] {
		changed[i].Groups = []string{"team-039", "team-000"}
		changed[i].Department = ""
	}
	changed = append(changed, load(t, generate(1530, 40))[1500:]...)
	step("incremental push", changed)
}

// TestLeaverLimitStopsBeforeAnyWrite: a one-row source would deactivate
// everyone else this database pushed; it stops, until --max-leavers says
// so.
func TestLeaverLimitStopsBeforeAnyWrite(t *testing.T) {
	srv, c := newTarget(t)
	ctx := context.Background()
	ledger := &memLedger{}
	people := load(t, generate(60, 4))
	if _, err := Push(ctx, c, people, Options{Ledger: ledger}); err != nil {
		t.Fatal(err)
	}
	before, records := writes(srv), len(ledger.records)
	for _, dry := range []bool{true, false} {
		_, err := Push(ctx, c, people[:1], Options{Ledger: ledger, DryRun: dry})
		var limit *LeaverLimitError
		if !errors.As(err, &limit) || limit.Leavers != 59 || limit.Pushed != 60 || limit.Allowed != 6 || !strings.Contains(err.Error(), "nothing was written") {
			t.Fatalf("dry=%v: %v, want the leaver limit", dry, err)
		}
	}
	if writes(srv) != before || len(ledger.records) != records {
		t.Fatalf("%d writes were made past the limit", writes(srv)-before)
	}
	// Six leavers of sixty is 10%: allowed. Seven is not.
	if _, err := Push(ctx, c, people[7:], Options{Ledger: ledger, DryRun: true}); err == nil {
		t.Error("7 leavers of 60 were allowed by default")
	}
	if rep, err := Push(ctx, c, people[6:], Options{Ledger: ledger, DryRun: true}); err != nil || rep.Deactivated != 6 {
		t.Errorf("6 leavers of 60: %+v, %v", rep, err)
	}
	for _, flag := range []string{"59", "100%", "99%"} {
		limit, err := ParseLeaverLimit(flag)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := Push(ctx, c, people[:1], Options{Ledger: ledger, MaxLeavers: limit, DryRun: true})
		if err != nil || rep.Deactivated != 59 {
			t.Errorf("--max-leavers %s: %+v, %v", flag, rep, err)
		}
	}
	for _, bad := range []string{"", "x", "-1", "101%", "NaN%"} {
		if _, err := ParseLeaverLimit(bad); err == nil {
			t.Errorf("--max-leavers %q was accepted", bad)
		}
	}
}

// hiding is a target whose full user listing omits some users (as a
// listing cut short would), while filters still find them.
type hiding struct {
	*scim.Client
	hidden map[string]bool // user names
}

func (h hiding) ListUsers(ctx context.Context, filter string, f func(scim.User)) error {
	return h.Client.ListUsers(ctx, filter, func(u scim.User) {
		if filter != "" || !h.hidden[u.UserName] {
			f(u)
		}
	})
}

// TestUnmatchedMembersAreKeptAndConflictsResolved: a member warden did not
// read as a user is reported, not removed; a create refused 409 is
// resolved by looking the user up.
func TestUnmatchedMembersAreKeptAndConflictsResolved(t *testing.T) {
	srv, c := newTarget(t)
	ctx := context.Background()
	people := load(t, generate(40, 3))
	if _, err := Push(ctx, c, people, Options{}); err != nil {
		t.Fatal(err)
	}
	ghost := people[0]
	h := hiding{Client: c, hidden: map[string]bool{ghost.UserName: true}}
	// ghost leaves every group in the source, but stays in scope.
	changed := slices.Clone(people)
	changed[0].Groups = nil
	changed[0].Title = "Principal"
	rep, err := Push(ctx, h, changed, Options{})
	if err != nil || len(rep.Failed) != 0 {
		t.Fatalf("push: %+v, %v", rep, err)
	}
	if len(rep.Unmatched) != len(ghost.Groups) || rep.MembersRemoved != 0 {
		t.Errorf("unmatched %v, %d removed; want %s reported in each of %v and nothing removed", rep.Unmatched, rep.MembersRemoved, ghost.UserName, ghost.Groups)
	}
	ic := srv.IdentityCenter()
	for _, u := range ic.Users {
		if u.UserName == ghost.UserName {
			if u.Title != "Principal" {
				t.Errorf("the 409 was not resolved into a patch: title %q", u.Title)
			}
			n := 0
			for _, g := range ic.Groups {
				if slices.Contains(g.Members, u.ID) {
					n++
				}
			}
			if n != len(ghost.Groups) {
				t.Errorf("%s is in %d groups, want the %d it had", u.UserName, n, len(ghost.Groups))
			}
		}
	}
	if rep.Created != 0 || rep.Updated != 1 || len(ic.Users) != 40 {
		t.Errorf("report %+v with %d users: want the conflict resolved, no new user", rep, len(ic.Users))
	}
}

// TestAuthFailureStopsThePushAndTheLedgerKeepsWhatWasDone: a token revoked
// mid-push stops it at once; the people pushed so far are recorded.
func TestAuthFailureStopsThePushAndTheLedgerKeepsWhatWasDone(t *testing.T) {
	for _, o := range []awsfake.SCIMOptions{{UnauthorizedAfter: 30}, {ForbiddenAfter: 30}} {
		srv, c := newTarget(t)
		srv.SetOptions(awsfake.Options{SCIM: o})
		ledger := &memLedger{}
		rep, err := Push(context.Background(), c, load(t, generate(300, 5)), Options{Ledger: ledger, Concurrency: 4})
		if !scim.IsAuth(err) || rep == nil || rep.Stopped == nil {
			t.Fatalf("%+v: %v, %+v; want the push stopped by the auth error", o, err, rep)
		}
		// Two reads, then creates: at most the writes in flight follow the first refusal.
		if after := c.Calls() - 30; after > 4 {
			t.Errorf("%+v: %d requests after the first refusal", o, after)
		}
		if len(ledger.pushed) != rep.Created || rep.Created != len(srv.IdentityCenter().Users) {
			t.Errorf("%+v: ledger holds %d pushed, report %d created, target %d users", o, len(ledger.pushed), rep.Created, len(srv.IdentityCenter().Users))
		}
	}
}

// TestALedgerThatCannotRecordStopsThePush: no write goes unrecorded for
// long: the first that cannot be recorded stops the push.
func TestALedgerThatCannotRecordStopsThePush(t *testing.T) {
	_, c := newTarget(t)
	ledger := &memLedger{failAfter: 10}
	rep, err := Push(context.Background(), c, load(t, generate(200, 5)), Options{Ledger: ledger, Concurrency: 4})
	if err == nil || !strings.Contains(err.Error(), "audit log") || rep.Stopped == nil {
		t.Fatalf("%v, %+v; want the push stopped", err, rep)
	}
	// A write whose intent cannot be recorded is not made.
	if rep.Writes > 10 || rep.Writes != len(ledger.records) {
		t.Errorf("%d writes, %d records: a write was made that the audit log does not hold", rep.Writes, len(ledger.records))
	}
}

// TestSourceServerPagedWhole: a source SCIM server of 150 users (either
// paging style) pushes 150.
func TestSourceServerPagedWhole(t *testing.T) {
	for name, style := range pagingStyles {
		t.Run(name, func(t *testing.T) {
			srcSrv, src := newStyledTarget(t, awsfake.SCIMOptions{})
			people := generate(150, 6)
			if _, err := Push(context.Background(), src, load(t, people), Options{}); err != nil {
				t.Fatal(err)
			}
			srcSrv.SetOptions(awsfake.Options{SCIM: style})
			read, err := LoadSCIMSource(context.Background(), src)
			if err != nil {
				t.Fatal(err)
			}
			mapped, err := Map(read, DefaultMapping())
			if err != nil {
				t.Fatal(err)
			}
			dstSrv, dst := newTarget(t)
			rep, err := Push(context.Background(), dst, mapped, Options{})
			if err != nil || rep.Created != 150 || len(rep.Failed) != 0 {
				t.Fatalf("push from the %s source: %+v, %v", name, rep, err)
			}
			checkTarget(t, dstSrv, people)
		})
	}
}

// TestAnInterruptedPushStillRecordsWhoItPushed: cancelled midway, a push
// reports what it did, says it was interrupted, and records the people
// it created.
func TestAnInterruptedPushStillRecordsWhoItPushed(t *testing.T) {
	srv, c := newTarget(t)
	ctx, cancel := context.WithCancel(context.Background())
	ledger := &memLedger{}
	var n atomic.Int32 // Progress may be called from several goroutines at once
	rep, err := Push(ctx, c, load(t, generate(300, 5)), Options{Ledger: ledger, Concurrency: 2, Progress: func(stage string, done, total int) {
		if stage == "writing" && n.Add(1) == 40 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) || rep == nil || rep.Stopped == nil || !strings.Contains(*rep.Stopped, "interrupted") {
		t.Fatalf("%v, %+v; want an interrupted push with its report", err, rep)
	}
	if got := len(srv.IdentityCenter().Users); len(ledger.pushed) != got || got < 40 || got == 300 {
		t.Errorf("ledger holds %d pushed of %d users made", len(ledger.pushed), got)
	}
}
