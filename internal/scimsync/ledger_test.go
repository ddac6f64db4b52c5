package scimsync

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/warden-iam/warden/internal/scim"
	"github.com/warden-iam/warden/internal/store"
)

// watched is a target that checks, as each write reaches it, that the
// ledger holds that write's record in flight: the intent is recorded
// before the call. Writes of refuse answer 400 instead of being made.
type watched struct {
	*scim.Client
	t      *testing.T
	ledger *memLedger
	refuse map[string]bool // user names whose create is refused
}

func (w watched) expect(call, target, id string) {
	w.t.Helper()
	r, inFlight := w.ledger.inFlight()
	if !inFlight || r.Call != call || r.Target != target || (id != "" && r.On["id"] != id) || (id == "" && r.On != nil) {
		w.t.Errorf("%s of %s (id %q) reached the endpoint while the ledger's last record is %+v (in flight: %v)", call, target, id, r, inFlight)
	}
}

func (w watched) CreateUser(ctx context.Context, u scim.User) (*scim.User, error) {
	w.expect("scim:CreateUser", "user "+u.UserName, "")
	if w.refuse[u.UserName] {
		return nil, &scim.Error{Status: 400, Code: "ValidationException", Detail: "refused by the test"}
	}
	return w.Client.CreateUser(ctx, u)
}

func (w watched) PatchUser(ctx context.Context, id string, ops []scim.Operation) error {
	r, _ := w.ledger.inFlight()
	w.expect("scim:PatchUser", r.Target, id)
	return w.Client.PatchUser(ctx, id, ops)
}

func (w watched) DeleteUser(ctx context.Context, id string) error {
	r, _ := w.ledger.inFlight()
	w.expect("scim:DeleteUser", r.Target, id)
	return w.Client.DeleteUser(ctx, id)
}

func (w watched) CreateGroup(ctx context.Context, g scim.Group) (*scim.Group, error) {
	w.expect("scim:CreateGroup", "group "+g.DisplayName, "")
	return w.Client.CreateGroup(ctx, g)
}

func (w watched) ChangeMembers(ctx context.Context, groupID string, add, remove []string) error {
	r, _ := w.ledger.inFlight()
	w.expect("scim:PatchGroup", r.Target, groupID)
	if r.On["members_added"] != fmt.Sprint(len(add)) || r.On["members_removed"] != fmt.Sprint(len(remove)) {
		w.t.Errorf("PatchGroup of %s adds %d and removes %d, its record says %v", r.Target, len(add), len(remove), r.On)
	}
	return w.Client.ChangeMembers(ctx, groupID, add, remove)
}

// TestEveryWriteIsRecordedBeforeItIsMade: each write's record is started
// before the call reaches the endpoint and completed after it with the
// result, the SCIM id created and a failure's HTTP status; none is left in
// flight, and there is one record per write.
func TestEveryWriteIsRecordedBeforeItIsMade(t *testing.T) {
	srv, c := newTarget(t)
	ctx := context.Background()
	ledger := &memLedger{}
	people := load(t, generate(40, 3))
	target := watched{Client: c, t: t, ledger: ledger, refuse: map[string]bool{people[3].UserName: true}}
	rep, err := Push(ctx, target, people, Options{Ledger: ledger, Concurrency: 1})
	if err != nil || len(rep.Failed) != 1 {
		t.Fatalf("push: %+v, %v", rep, err)
	}
	ic := srv.IdentityCenter()
	userIDs, groupIDs := map[string]string{}, map[string]string{}
	for _, u := range ic.Users {
		userIDs["user "+u.UserName] = u.ID
	}
	for _, g := range ic.Groups {
		groupIDs["group "+g.DisplayName] = g.ID
	}
	checkRecords(t, ledger.records, rep.Writes)
	creates := 0
	for _, r := range ledger.records {
		switch {
		case r.Target == "user "+people[3].UserName:
			if r.Result != WriteFailed || r.Outcome["status"] != "400" || !strings.Contains(r.Detail, "refused by the test") || r.Outcome["id"] != "" {
				t.Errorf("the refused create is recorded as %+v", r)
			}
		case r.Call == "scim:CreateUser":
			creates++
			if r.Result != WriteOK || r.Outcome["id"] == "" || r.Outcome["id"] != userIDs[r.Target] {
				t.Errorf("%+v: want ok with the id the endpoint gave, %q", r, userIDs[r.Target])
			}
		case r.Call == "scim:CreateGroup":
			if r.Result != WriteOK || r.Outcome["id"] == "" || r.Outcome["id"] != groupIDs[r.Target] {
				t.Errorf("%+v: want ok with the id the endpoint gave, %q", r, groupIDs[r.Target])
			}
		}
	}
	if creates != 39 || rep.Created != 39 {
		t.Errorf("%d creates recorded, %d reported; want 39", creates, rep.Created)
	}

	// Again, with a leaver, a change and the refused person made: patches,
	// a deactivation and member changes are recorded before they are made too.
	ledger.records = nil
	changed := people[1:]
	changed[0].Title = "Principal"
	target.refuse = nil
	rep, err = Push(ctx, target, changed, Options{Ledger: ledger, Concurrency: 1})
	if err != nil || rep.Updated != 1 || rep.Deactivated != 1 || rep.Created != 1 || rep.MembersRemoved == 0 {
		t.Fatalf("second push: %+v, %v", rep, err)
	}
	checkRecords(t, ledger.records, rep.Writes)
	for _, r := range ledger.records {
		if r.Call == "scim:PatchUser" && r.Target == "user "+people[0].UserName && r.On["active"] != "false" {
			t.Errorf("the deactivation is recorded as %+v", r)
		}
	}
}

// checkRecords asserts one finished record per write.
func checkRecords(t *testing.T, records []Write, writes int) {
	t.Helper()
	if len(records) != writes {
		t.Errorf("%d records for %d writes", len(records), writes)
	}
	for _, r := range records {
		if r.Result == store.AuditStarted {
			t.Errorf("%s of %s left in flight", r.Call, r.Target)
		}
	}
}

// TestAKilledPushLeavesAStartedRecord: while a write is at the endpoint,
// the database already holds its record as started (what a push killed
// then leaves behind), completed once the call returns.
func TestAKilledPushLeavesAStartedRecord(t *testing.T) {
	_, c := newTarget(t)
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "w.db")
	st, err := store.OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	people := load(t, generate(10, 2))
	var seen *store.AuditRecord
	target := &midWrite{Client: c, at: people[4].UserName, inspect: func() {
		// Another process reading the file, as after a kill -9.
		other, err := store.OpenSQLiteReadOnly(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		recs, err := other.Audit(ctx, "test", 1)
		if err != nil || len(recs) != 1 {
			t.Fatalf("audit: %v, %v", recs, err)
		}
		seen = &recs[0]
	}}
	rep, err := Push(ctx, target, people, Options{Ledger: StoreLedger(st, "https://scim.example/test", "test"), Concurrency: 1})
	if err != nil || rep.Created != 10 {
		t.Fatalf("push: %+v, %v", rep, err)
	}
	if seen == nil || seen.Result != store.AuditStarted || seen.Call != "scim:CreateUser" || seen.Target != "user "+people[4].UserName ||
		seen.Action != "scim-push" || len(seen.Outcome) != 0 {
		t.Fatalf("mid-write the database holds %+v; want the create's record, started", seen)
	}
	recs, err := st.Audit(ctx, "test", 0)
	if err != nil || len(recs) != rep.Writes {
		t.Fatalf("%d records for %d writes: %v", len(recs), rep.Writes, err)
	}
	for _, r := range recs {
		if r.ID == seen.ID && (r.Result != store.AuditOK || r.Outcome["id"] != target.made) {
			t.Errorf("after the call the record is %+v; want ok with id %q", r, target.made)
		}
		if r.Result == store.AuditStarted {
			t.Errorf("%+v left started", r)
		}
	}
}

// midWrite calls inspect while the create of user at is at the endpoint,
// and keeps the id the endpoint gave it.
type midWrite struct {
	*scim.Client
	at      string
	inspect func()
	made    string
}

func (m *midWrite) CreateUser(ctx context.Context, u scim.User) (*scim.User, error) {
	if u.UserName == m.at {
		m.inspect()
	}
	created, err := m.Client.CreateUser(ctx, u)
	if err == nil && u.UserName == m.at {
		m.made = created.ID
	}
	return created, err
}

// TestALedgerThatCannotCompleteARecordStopsThePush: a write whose record
// cannot be completed stops the push, the error named.
func TestALedgerThatCannotCompleteARecordStopsThePush(t *testing.T) {
	_, c := newTarget(t)
	ledger := &memLedger{failFinish: true}
	rep, err := Push(context.Background(), c, load(t, generate(50, 5)), Options{Ledger: ledger, Concurrency: 4})
	if err == nil || !strings.Contains(err.Error(), "complete the audit record") || rep == nil || rep.Stopped == nil {
		t.Fatalf("%v, %+v; want the push stopped", err, rep)
	}
	if rep.Writes > 4 || rep.Writes != len(ledger.records) {
		t.Errorf("%d writes, %d records: want at most the 4 in flight, each recorded", rep.Writes, len(ledger.records))
	}
}

// killAt is a target whose create number at (counting every CreateUser
// call) kills the push instead of reaching the endpoint: kill runs, as a
// kill -9 would find the database then, and the call fails.
type killAt struct {
	hiding
	at    int
	calls int
	kill  func()
}

func (k *killAt) CreateUser(ctx context.Context, u scim.User) (*scim.User, error) {
	if k.calls++; k.calls == k.at {
		k.kill()
		return nil, context.Canceled
	}
	return k.hiding.CreateUser(ctx, u)
}

// TestAKilledPushLeavesEveryUserItMadeKnown: killed mid-push, the database
// already knows as pushed every user the push made (and the one it found
// after a 409), not only once the push ends; a later push whose source has
// lost those people deactivates them, within the leaver limit.
func TestAKilledPushLeavesEveryUserItMadeKnown(t *testing.T) {
	srv, c := newTarget(t)
	bg := context.Background()
	ctx, cancel := context.WithCancel(bg)
	defer cancel()
	const endpoint = "https://scim.example/test"
	path := filepath.Join(t.TempDir(), "w.db")
	st, err := store.OpenSQLite(bg, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	people := load(t, generate(30, 3))
	// people[0] is in the target already but missing from its listing: its
	// create is refused 409 and resolved by looking it up.
	if _, err := c.CreateUser(bg, desired(people[0])); err != nil {
		t.Fatal(err)
	}
	var known map[string]bool // what the database holds when the push is killed
	inTarget := map[string]bool{}
	target := &killAt{hiding: hiding{Client: c, hidden: map[string]bool{people[0].UserName: true}}, at: 13, kill: func() {
		other, err := store.OpenSQLiteReadOnly(bg, path)
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		if known, err = other.PushedIDs(bg, endpoint); err != nil {
			t.Fatal(err)
		}
		for _, u := range srv.IdentityCenter().Users {
			inTarget[u.ExternalID] = true
		}
		cancel()
	}}
	rep, err := Push(ctx, target, people, Options{Ledger: StoreLedger(st, endpoint, "test"), Concurrency: 1})
	if !errors.Is(err, context.Canceled) || rep == nil || rep.Stopped == nil || rep.Created != 11 {
		t.Fatalf("%v, %+v; want a push interrupted after 11 creates", err, rep)
	}
	// people[0] and the 11 created: every user in the target is known.
	if len(inTarget) != 12 || !maps.Equal(known, inTarget) {
		t.Fatalf("killed with %d users in the target (%v), the database knew %d as pushed (%v)", len(inTarget), inTarget, len(known), known)
	}

	// The next push, from the database as the kill left it: those 12 left
	// the source.
	later, err := store.OpenSQLite(bg, filepath.Join(t.TempDir(), "killed.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer later.Close()
	if err := later.AddPushedIDs(bg, endpoint, slices.Collect(maps.Keys(known))); err != nil {
		t.Fatal(err)
	}
	var stayed []Person
	for _, p := range people {
		if !known[p.ExternalID] {
			stayed = append(stayed, p)
		}
	}
	ledger := StoreLedger(later, endpoint, "test")
	var limitErr *LeaverLimitError
	if _, err := Push(bg, c, stayed, Options{Ledger: ledger}); !errors.As(err, &limitErr) || limitErr.Leavers != 12 {
		t.Fatalf("%v; want 12 leavers of 12 pushed refused by the default limit", err)
	}
	limit, err := ParseLeaverLimit("12")
	if err != nil {
		t.Fatal(err)
	}
	rep, err = Push(bg, c, stayed, Options{Ledger: ledger, MaxLeavers: limit})
	if err != nil || rep.Deactivated != 12 || rep.Created != len(stayed) || len(rep.Failed) != 0 {
		t.Fatalf("re-push: %+v, %v; want the 12 leavers deactivated and %d created", rep, err, len(stayed))
	}
	for _, u := range srv.IdentityCenter().Users {
		if enabled := u.Status == "ENABLED"; enabled == known[u.ExternalID] {
			t.Errorf("%s (%s) is %s", u.UserName, u.ExternalID, u.Status)
		}
	}
	checkTarget(t, srv, stayed)
}

// TestALedgerThatCannotRecordAPushedPersonStopsThePush: a user made whom
// the ledger cannot record as pushed stops the push, the error named, and
// the write's record is still completed.
func TestALedgerThatCannotRecordAPushedPersonStopsThePush(t *testing.T) {
	_, c := newTarget(t)
	ledger := &memLedger{failPushed: true}
	rep, err := Push(context.Background(), c, load(t, generate(50, 5)), Options{Ledger: ledger, Concurrency: 4})
	if err == nil || !strings.Contains(err.Error(), "as pushed, so the push stopped") || rep == nil || rep.Stopped == nil {
		t.Fatalf("%v, %+v; want the push stopped", err, rep)
	}
	if rep.Writes > 4 || rep.Writes != len(ledger.records) {
		t.Errorf("%d writes, %d records: want at most the 4 in flight, each recorded", rep.Writes, len(ledger.records))
	}
	checkRecords(t, ledger.records, rep.Writes)
}
