package schedule

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"log/slog"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/warden-iam/warden/awsfake"
	"github.com/warden-iam/warden/internal/config"
	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/store"
	"github.com/warden-iam/warden/internal/syncjob"
)

// checkConsecutive checks slots each have exactly one snapshot and follow
// one another every interval, and returns them in order.
func checkConsecutive(t *testing.T, slots map[time.Time]int, interval time.Duration) []time.Time {
	t.Helper()
	keys := make([]time.Time, 0, len(slots))
	for s, n := range slots {
		if n != 1 {
			t.Errorf("slot %s has %d snapshots, want exactly 1", s.Format(time.RFC3339Nano), n)
		}
		if s.UnixNano()%int64(interval) != 0 {
			t.Errorf("slot %s is not a multiple of %s since the epoch", s.Format(time.RFC3339Nano), interval)
		}
		keys = append(keys, s)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].Before(keys[j]) })
	for i := 1; i < len(keys); i++ {
		if gap := keys[i].Sub(keys[i-1]); gap != interval {
			t.Errorf("slots %s and %s are %s apart, want %s", keys[i-1].Format(time.RFC3339Nano), keys[i].Format(time.RFC3339Nano), gap, interval)
		}
	}
	return keys
}

// TestSlotsRunOnceEach runs a short every: schedule against the emulator:
// the slot missed at start, then each slot, each stored once with its
// slot, the observer and the runs told of each.
func TestSlotsRunOnceEach(t *testing.T) {
	fake := newFakeAWS(t, 5, 0)
	st := sqliteStore(t)
	const interval = time.Second // longer than a sync under -race on a loaded machine
	obs := &recorder{}
	s, err := New(Options{Store: st, Observer: obs, Connections: []Connection{{Target: fake.target("prod"), Spec: Every(interval, 0)}}})
	if err != nil {
		t.Fatal(err)
	}
	stop := start(t, s)
	waitFor(t, 20*time.Second, "4 snapshots", func() bool { slots, _ := slotsOf(t, st, "prod"); return len(slots) >= 4 })
	stop()

	slots, none := slotsOf(t, st, "prod")
	if none != 0 {
		t.Errorf("%d snapshots without a slot", none)
	}
	keys := checkConsecutive(t, slots, interval)
	runs, err := s.Runs("prod", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != len(keys) {
		t.Fatalf("%d runs for %d snapshots: %+v", len(runs), len(keys), runs)
	}
	// Newest first; the oldest is the slot missed at start.
	for i, r := range runs {
		slot := keys[len(keys)-1-i]
		want := TriggerSchedule
		if i == len(runs)-1 {
			want = TriggerMissed
		}
		if r.Slot == nil || !r.Slot.Equal(slot) || r.Trigger != want || r.Result != ResultComplete || r.Actor != ActorScheduler || r.SnapshotID == 0 || r.Finished == nil {
			t.Errorf("run %d = %+v, want slot %s, trigger %s, complete, by the scheduler, with its snapshot", i, r, slot, want)
		}
	}
	calls := obs.all()
	if len(calls) != len(keys) {
		t.Fatalf("observer told %d times for %d runs", len(calls), len(keys))
	}
	for i, c := range calls {
		if c.connection != "prod" || c.result != ResultComplete || c.snapshot != runs[len(runs)-1-i].SnapshotID {
			t.Errorf("observer call %d = %+v, want prod complete with snapshot %d", i, c, runs[len(runs)-1-i].SnapshotID)
		}
	}
	// The snapshots hold the estate: the emulator's users.
	last, err := st.LatestSnapshot(context.Background(), "prod")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := last.Counts["iam_user"], len(fake.truth.IAM.Users); got != want {
		t.Errorf("snapshot holds %d IAM users, the emulator %d (counts %v)", got, want, last.Counts)
	}
	if s.Healthy() {
		t.Error("Healthy after Run returned")
	}
	checkNoGoroutines(t)
	if _, err := s.Trigger(context.Background(), "prod", "alice"); !errors.Is(err, ErrStopped) {
		t.Errorf("Trigger after Run = %v, want ErrStopped", err)
	}
}

// TestMissedSlotRunsOnce starts a service whose latest slot (an hourly
// one) has no snapshot: it runs it once, marked missed; a restart does
// not run it again, nor does a start after a newer manual sync.
func TestMissedSlotRunsOnce(t *testing.T) {
	fake := newFakeAWS(t, 3, 0)
	st := sqliteStore(t)
	hourly := config.Schedule{Every: "1h"}
	spec := mustSpec(t, hourly)
	now := time.Now()
	// The clock is 10 minutes past a slot, so the next is far off and the
	// one missed is the only one in reach.
	slot := spec.Prev(now)
	clock := func() time.Time { return time.Now().Add(slot.Add(10 * time.Minute).Sub(now)) }
	newSched := func() *Scheduler {
		s, err := New(Options{Store: st, Now: clock, Connections: []Connection{{Target: fake.target("prod"), Schedule: hourly}}})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := newSched()
	stop := start(t, s)
	waitFor(t, 20*time.Second, "the missed run", func() bool { st, _ := s.Status("prod"); return st.Last != nil })
	time.Sleep(200 * time.Millisecond) // nothing else starts
	stop()
	runs, _ := s.Runs("prod", 0)
	if len(runs) != 1 || runs[0].Trigger != TriggerMissed || runs[0].Slot == nil || !runs[0].Slot.Equal(slot) || runs[0].Result != ResultComplete {
		t.Fatalf("runs = %+v, want one complete missed run of slot %s", runs, slot)
	}
	if slots, none := slotsOf(t, st, "prod"); len(slots) != 1 || slots[slot] != 1 || none != 0 {
		t.Fatalf("snapshots per slot %v (%d without), want one of %s", slots, none, slot)
	}

	// A restart: the slot has its snapshot.
	s2 := newSched()
	stop2 := start(t, s2)
	time.Sleep(300 * time.Millisecond)
	stop2()
	if runs, _ := s2.Runs("prod", 0); len(runs) != 0 {
		t.Errorf("a restart ran %+v, want nothing", runs)
	}

	// A newer snapshot than the slot (a manual sync after it) while the
	// slot itself has none: nothing is missed either.
	other := sqliteStore(t)
	if _, err := syncjob.Run(context.Background(), other, fake.target("prod"), syncjob.Options{}); err != nil {
		t.Fatal(err)
	}
	s3, err := New(Options{Store: other, Now: clock, Connections: []Connection{{Target: fake.target("prod"), Schedule: hourly}}})
	if err != nil {
		t.Fatal(err)
	}
	stop3 := start(t, s3)
	time.Sleep(300 * time.Millisecond)
	stop3()
	if runs, _ := s3.Runs("prod", 0); len(runs) != 0 {
		t.Errorf("a start after a newer manual snapshot ran %+v, want nothing", runs)
	}
}

// TestTriggerSubscribeStatus triggers a manual run of a slow sync: a
// second trigger is ErrRunning, a subscriber sees its start, progress and
// end, the status shows it running then last, the observer is told.
func TestTriggerSubscribeStatus(t *testing.T) {
	fake := newFakeAWS(t, 5, 20*time.Millisecond)
	st := sqliteStore(t)
	obs := &recorder{}
	s, err := New(Options{Store: st, Observer: obs, Connections: []Connection{
		{Target: fake.target("prod")},
		{Target: fake.target("staging"), Schedule: config.Schedule{Every: "24h"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Trigger(context.Background(), "prod", "alice"); !errors.Is(err, ErrStopped) {
		t.Errorf("Trigger before Run = %v, want ErrStopped", err)
	}
	events, unsubscribe, err := s.Subscribe("prod")
	if err != nil {
		t.Fatal(err)
	}
	defer unsubscribe()
	start(t, s)
	run, err := s.Trigger(context.Background(), "prod", "alice")
	if err != nil {
		t.Fatal(err)
	}
	if run.Result != ResultRunning || run.Trigger != TriggerManual || run.Actor != "alice" || run.Slot != nil || run.ID == "" {
		t.Errorf("triggered run = %+v", run)
	}
	if _, err := s.Trigger(context.Background(), "prod", "bob"); !errors.Is(err, ErrRunning) {
		t.Errorf("second Trigger = %v, want ErrRunning", err)
	}
	if _, err := s.Trigger(context.Background(), "nope", "bob"); !errors.Is(err, ErrUnknownConnection) {
		t.Errorf("Trigger of an unknown connection = %v, want ErrUnknownConnection", err)
	}
	if stat, _ := s.Status("prod"); stat.Running == nil || stat.Running.ID != run.ID {
		t.Errorf("status while running = %+v", stat)
	}
	var progress int
	var end Event
	timeout := time.After(30 * time.Second)
	for end.Run.Finished == nil {
		select {
		case e, ok := <-events:
			if !ok {
				t.Fatal("events closed before the run's end")
			}
			if e.Run.ID != run.ID {
				t.Fatalf("event of run %s, want %s", e.Run.ID, run.ID)
			}
			switch {
			case e.Progress != nil:
				progress++
			case e.Run.Finished != nil:
				end = e
			}
		case <-timeout:
			t.Fatal("no end event in 30 s")
		}
	}
	if progress == 0 || end.Run.Result != ResultComplete || end.Run.SnapshotID == 0 {
		t.Errorf("%d progress events, end %+v", progress, end.Run)
	}
	stat, _ := s.Status("prod")
	if stat.Running != nil || stat.Last == nil || stat.Last.ID != run.ID || stat.Last.Result != ResultComplete || stat.Schedule != "" || stat.Next != nil {
		t.Errorf("status after = %+v", stat)
	}
	all := s.Statuses()
	if len(all) != 2 || all[0].Connection != "prod" || all[1].Connection != "staging" || all[1].Schedule != "every: 24h" || all[1].Next == nil {
		t.Errorf("statuses = %+v", all)
	}
	// staging, every 24h, ran its missed slot at start; prod ran once.
	var prod []observed
	for _, c := range obs.all() {
		if c.connection == "prod" {
			prod = append(prod, c)
		}
	}
	if len(prod) != 1 || prod[0].result != ResultComplete || prod[0].snapshot != end.Run.SnapshotID {
		t.Errorf("observer calls of prod %+v", prod)
	}
	snap, err := st.Snapshot(context.Background(), end.Run.SnapshotID)
	if err != nil || snap.Slot != nil {
		t.Errorf("manual snapshot %+v (%v), want one without a slot", snap, err)
	}
}

// TestShutdownCancelsSlowSync stops the service with Grace 0 during a slow
// sync: Run returns at once, the run is cancelled and stored nothing.
func TestShutdownCancelsSlowSync(t *testing.T) {
	fake := newFakeAWS(t, 30, 150*time.Millisecond)
	st := sqliteStore(t)
	obs := &recorder{}
	s, err := New(Options{Store: st, Observer: obs, Connections: []Connection{{Target: fake.target("prod")}}})
	if err != nil {
		t.Fatal(err)
	}
	events, unsubscribe, _ := s.Subscribe("prod")
	defer unsubscribe()
	stop := start(t, s)
	run, err := s.Trigger(context.Background(), "prod", "alice")
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the sync to progress", func() bool { st, _ := s.Status("prod"); return st.Progress != nil })
	if took := stop(); took > 5*time.Second {
		t.Errorf("Run took %s to return with Grace 0", took)
	}
	runs, _ := s.Runs("prod", 0)
	if len(runs) != 1 || runs[0].ID != run.ID || runs[0].Result != ResultCancelled || runs[0].Finished == nil {
		t.Fatalf("runs = %+v, want the run cancelled", runs)
	}
	if snaps, _ := st.Snapshots(context.Background(), "prod"); len(snaps) != 0 {
		t.Errorf("a cancelled sync stored %d snapshots", len(snaps))
	}
	if calls := obs.all(); len(calls) != 1 || calls[0].result != ResultCancelled || calls[0].snapshot != 0 {
		t.Errorf("observer calls %+v", calls)
	}
	// The subscriber got the end, then its channel closed.
	var sawEnd bool
	for e := range events {
		if e.Run.Finished != nil && e.Run.Result == ResultCancelled {
			sawEnd = true
		}
	}
	if !sawEnd {
		t.Error("the subscriber never got the cancelled end")
	}
	checkNoGoroutines(t)
}

// TestGraceLetsSyncFinish stops the service with a long grace: the running
// sync completes and is stored.
func TestGraceLetsSyncFinish(t *testing.T) {
	fake := newFakeAWS(t, 5, 10*time.Millisecond)
	st := sqliteStore(t)
	var logs syncBuffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	s, err := New(Options{Store: st, Logger: logger, Grace: 30 * time.Second, Connections: []Connection{{Target: fake.target("prod")}}})
	if err != nil {
		t.Fatal(err)
	}
	stop := start(t, s)
	if _, err := s.Trigger(context.Background(), "prod", "alice"); err != nil {
		t.Fatal(err)
	}
	stop()
	runs, _ := s.Runs("prod", 0)
	if len(runs) != 1 || runs[0].Result != ResultComplete || runs[0].SnapshotID == 0 {
		t.Fatalf("runs = %+v, want one complete", runs)
	}
	// One record at Info for the sync, naming what happened; no secret.
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("%d log records at Info for one sync, want 1:\n%s", len(lines), logs.String())
	}
	var rec map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &rec); err != nil {
		t.Fatal(err)
	}
	if rec["level"] != "INFO" || rec["connection"] != "prod" || rec["trigger"] != TriggerManual || rec["result"] != ResultComplete ||
		rec["took"] == nil || rec["snapshot"] != float64(runs[0].SnapshotID) {
		t.Errorf("log record %v", rec)
	}
	if strings.Contains(logs.String(), fake.creds.SecretAccessKey) {
		t.Error("the log shows the secret access key")
	}
	checkNoGoroutines(t)
}

// syncBuffer is a bytes.Buffer safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String is what was written.
func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// checkNoGoroutines fails when a goroutine of a Scheduler is still alive
// after Run returned.
func checkNoGoroutines(t *testing.T) {
	t.Helper()
	// A goroutine that has told Run it is done may take a moment to exit.
	var left []string
	for try := 0; try < 100; try++ {
		buf := make([]byte, 1<<20)
		all := string(buf[:runtime.Stack(buf, true)])
		left = left[:0]
		for _, g := range strings.Split(all, "\n\n") {
			if strings.Contains(g, "schedule.(*Scheduler)") {
				left = append(left, g)
			}
		}
		if len(left) == 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Errorf("goroutines of the scheduler are left after Run returned:\n%s", strings.Join(left, "\n\n"))
}

// TestManualRunLockedElsewhere triggers a run while another holder has the
// lock: it fails naming the holder, with a fix. A slot that comes while
// the lock is held runs once it is released.
func TestManualRunLockedElsewhere(t *testing.T) {
	fake := newFakeAWS(t, 3, 0)
	st := sqliteStore(t)
	release, err := syncjob.Lock(context.Background(), st, "prod", "replica-b on host elsewhere")
	if err != nil {
		t.Fatal(err)
	}
	const interval = time.Second
	s, err := New(Options{Store: st, Retry: 50 * time.Millisecond, Holder: "replica-a",
		Connections: []Connection{{Target: fake.target("prod"), Spec: Every(interval, 0)}}})
	if err != nil {
		t.Fatal(err)
	}
	start(t, s)
	var run Run
	waitFor(t, 5*time.Second, "a manual trigger", func() bool {
		var err error
		run, err = s.Trigger(context.Background(), "prod", "alice")
		return err == nil // ErrRunning while the slot's attempt is in hand
	})
	waitFor(t, 5*time.Second, "the manual run to end", func() bool { st, _ := s.Status("prod"); return st.Last != nil && st.Last.ID == run.ID })
	stat, _ := s.Status("prod")
	if stat.Last.Result != ResultFailed || !strings.Contains(stat.Last.Error, "replica-b on host elsewhere") || stat.Last.Fix == "" {
		t.Errorf("manual run under another's lock = %+v, want failed naming replica-b with a fix", stat.Last)
	}
	if slots, _ := slotsOf(t, st, "prod"); len(slots) != 0 {
		t.Errorf("snapshots %v while another held the lock", slots)
	}
	release()
	waitFor(t, 10*time.Second, "a slot to run after the lock was released", func() bool { slots, _ := slotsOf(t, st, "prod"); return len(slots) >= 2 })
	slots, _ := slotsOf(t, st, "prod")
	checkConsecutive(t, slots, interval)
}

// TestFailedRunExplained syncs with credentials AWS does not know: the run
// fails with the problem and fix awsapi.Explain gives.
func TestFailedRunExplained(t *testing.T) {
	fake := newFakeAWS(t, 3, 0)
	st := sqliteStore(t)
	obs := &recorder{}
	s, err := New(Options{Store: st, Observer: obs, Connections: []Connection{
		{Target: fake.targetWith("prod", awsfake.Credentials{AccessKeyID: "AKIAUNKNOWN000000000", SecretAccessKey: "wrong"})}}})
	if err != nil {
		t.Fatal(err)
	}
	start(t, s)
	if _, err := s.Trigger(context.Background(), "prod", "alice"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "the run to fail", func() bool { st, _ := s.Status("prod"); return st.Last != nil })
	stat, _ := s.Status("prod")
	if stat.Last.Result != ResultFailed || stat.Last.Error == "" || stat.Last.Fix == "" || stat.Last.Fix == genericFix {
		t.Errorf("failed run = %+v, want an AWS problem and its fix", stat.Last)
	}
	if strings.Contains(stat.Last.Error+stat.Last.Fix, "wrong") {
		t.Errorf("the run's error shows the secret: %+v", stat.Last)
	}
	if calls := obs.all(); len(calls) != 1 || calls[0].result != ResultFailed {
		t.Errorf("observer calls %+v", calls)
	}
}

// TestNewRefusesInvalidSchedule names the connection and the fix.
func TestNewRefusesInvalidSchedule(t *testing.T) {
	_, err := New(Options{Store: sqliteStore(t), Connections: []Connection{{Target: syncjob.Target{ID: "prod"}, Schedule: config.Schedule{Cron: "every day"}}}})
	if err == nil || !strings.Contains(err.Error(), `connection "prod"`) || !strings.Contains(err.Error(), "five fields") {
		t.Errorf("New = %v, want the connection and the fix named", err)
	}
}

// TestReplicasShareSlots runs two schedulers with different holders on one
// PostgreSQL database: every slot has exactly one snapshot, none missing.
func TestReplicasShareSlots(t *testing.T) {
	db := pgTestDatabase(t)
	if db == "" {
		t.Skip("skipped: PostgreSQL: WARDEN_TEST_POSTGRES is not set; .ci/run sets it (apt-get install postgresql)")
	}
	fake := newFakeAWS(t, 5, 5*time.Millisecond)
	const interval = 1500 * time.Millisecond
	var scheds []*Scheduler
	var stores []*store.DB
	for _, holder := range []string{"replica-a", "replica-b"} {
		st, err := store.OpenPostgres(context.Background(), db)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		s, err := New(Options{Store: st, Holder: holder, Retry: 100 * time.Millisecond,
			Connections: []Connection{{Target: fake.target("prod"), Spec: Every(interval, 300*time.Millisecond)}}})
		if err != nil {
			t.Fatal(err)
		}
		scheds, stores = append(scheds, s), append(stores, st)
	}
	var stops []func() time.Duration
	for _, s := range scheds {
		stops = append(stops, start(t, s))
	}
	waitFor(t, 30*time.Second, "4 slots", func() bool { slots, _ := slotsOf(t, stores[0], "prod"); return len(slots) >= 4 })
	for _, stop := range stops {
		stop()
	}
	slots, none := slotsOf(t, stores[0], "prod")
	if none != 0 {
		t.Errorf("%d snapshots without a slot", none)
	}
	checkConsecutive(t, slots, interval)
	// Each replica's runs are its own; together they are the slots.
	var runs int
	for _, s := range scheds {
		rs, _ := s.Runs("prod", 0)
		for _, r := range rs {
			if r.Result == ResultComplete {
				runs++
			}
		}
	}
	if runs != len(slots) {
		t.Errorf("the replicas completed %d runs for %d slots", runs, len(slots))
	}
}

// TestLongSyncCollapsesSlots makes a sync outlast several slots: the slots
// that passed meanwhile run once, as their newest, then the schedule goes
// on slot by slot.
func TestLongSyncCollapsesSlots(t *testing.T) {
	fake := newFakeAWS(t, 3, 0)
	st := sqliteStore(t)
	const interval = 600 * time.Millisecond
	var mu sync.Mutex
	calls := 0
	slow := func(ctx context.Context, st syncjob.Store, tg syncjob.Target, o syncjob.Options) (*syncjob.Result, error) {
		mu.Lock()
		calls++
		first := calls == 1
		mu.Unlock()
		if first {
			time.Sleep(4*interval + interval/2)
		}
		return syncjob.Run(ctx, st, tg, o)
	}
	s, err := New(Options{Store: st, Sync: slow, Connections: []Connection{{Target: fake.target("prod"), Spec: Every(interval, 0)}}})
	if err != nil {
		t.Fatal(err)
	}
	stop := start(t, s)
	// Four runs ended (a snapshot is visible a moment before its run is
	// recorded as complete).
	waitFor(t, 20*time.Second, "4 completed runs", func() bool {
		runs, _ := s.Runs("prod", 0)
		n := 0
		for _, r := range runs {
			if r.Result == ResultComplete {
				n++
			}
		}
		return n >= 4
	})
	stop()
	slots, _ := slotsOf(t, st, "prod")
	var keys []time.Time
	for k, n := range slots {
		if n != 1 {
			t.Errorf("slot %s has %d snapshots", k, n)
		}
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].Before(keys[j]) })
	if gap := keys[1].Sub(keys[0]); gap < 4*interval {
		t.Errorf("the run after a sync of 4.5 intervals is %s after it, want the newest slot due (at least 4 intervals)", gap)
	}
	checkConsecutive(t, map[time.Time]int{keys[1]: 1, keys[2]: 1, keys[3]: 1}, interval)
	runs, _ := s.Runs("prod", 0)
	var ran int // the last may have been cancelled by stop
	for _, r := range runs {
		if r.Result != ResultCancelled {
			ran++
		}
	}
	if ran != len(keys) {
		t.Errorf("%d runs for %d slots: the passed slots ran one by one? %+v", ran, len(keys), runs)
	}
}

// TestTakeOverSlotOfDeadReplica has a replica die holding a slot's lock (its
// PostgreSQL session terminated, as when the process is killed): the other
// replica, retrying, runs that slot once the lock is free.
func TestTakeOverSlotOfDeadReplica(t *testing.T) {
	db := pgTestDatabase(t)
	if db == "" {
		t.Skip("skipped: PostgreSQL: WARDEN_TEST_POSTGRES is not set; .ci/run sets it (apt-get install postgresql)")
	}
	fake := newFakeAWS(t, 5, 0)
	ctx := context.Background()
	open := func() *store.DB {
		st, err := store.OpenPostgres(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	live, dead := open(), open()
	const interval = 3 * time.Second
	spec := Every(interval, 0)
	// Start just after a slot, so the take-over has the slot's interval.
	time.Sleep(time.Until(spec.Next(time.Now()).Add(50 * time.Millisecond)))
	slot := spec.Prev(time.Now())
	if _, err := syncjob.Lock(ctx, dead, "prod", "pid 999999 on host dead"); err != nil {
		t.Fatal(err)
	}
	s, err := New(Options{Store: live, Holder: "replica-live", Retry: 100 * time.Millisecond,
		Connections: []Connection{{Target: fake.target("prod"), Spec: spec}}})
	if err != nil {
		t.Fatal(err)
	}
	start(t, s)
	time.Sleep(500 * time.Millisecond)
	if runs, _ := s.Runs("prod", 0); len(runs) != 0 {
		t.Fatalf("runs %+v while the dead replica held the lock, want none (retrying)", runs)
	}
	// The dead replica's session ends: PostgreSQL releases its lock.
	admin, err := sql.Open("pgx", db)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	var killed int
	if err := admin.QueryRow(`SELECT count(pg_terminate_backend(l.pid)) FROM pg_locks l JOIN pg_database d ON d.oid = l.database
		WHERE l.locktype = 'advisory' AND l.granted AND d.datname = current_database()`).Scan(&killed); err != nil || killed != 1 {
		t.Fatalf("terminate the dead replica's session: %d sessions (%v)", killed, err)
	}
	waitFor(t, interval, "the slot to be taken over", func() bool { st, _ := s.Status("prod"); return st.Last != nil })
	stat, _ := s.Status("prod")
	if stat.Last.Result != ResultComplete || stat.Last.Slot == nil || !stat.Last.Slot.Equal(slot) || stat.Last.Trigger != TriggerMissed {
		t.Errorf("last run %+v, want slot %s complete", stat.Last, slot)
	}
	if slots, _ := slotsOf(t, live, "prod"); len(slots) != 1 || slots[slot] != 1 {
		t.Errorf("snapshots per slot %v, want one of %s", slots, slot)
	}
}

// TestPartialRun syncs an estate whose credential report fails: the run is
// partial, with the failed part and its fix, its snapshot stored, logged
// as a warning.
func TestPartialRun(t *testing.T) {
	fake := newFakeAWSWith(t, 3, awsfake.Options{ActionFaults: map[string]awsfake.ActionFault{
		"iam:GenerateCredentialReport": {Status: 400, Code: "SomethingNoOneHasSeen", Message: "odd"}}})
	st := sqliteStore(t)
	var logs syncBuffer
	obs := &recorder{}
	s, err := New(Options{Store: st, Observer: obs, Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn})),
		Connections: []Connection{{Target: fake.target("prod")}}})
	if err != nil {
		t.Fatal(err)
	}
	start(t, s)
	if _, err := s.Trigger(context.Background(), "prod", "alice"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "the run to end", func() bool { st, _ := s.Status("prod"); return st.Last != nil })
	last := *mustStatus(t, s, "prod").Last
	snap, err := st.Snapshot(context.Background(), last.SnapshotID)
	if err != nil {
		t.Fatal(err)
	}
	if last.Result != ResultPartial || snap.Status != model.StatusPartial || len(snap.Errors) == 0 ||
		!strings.Contains(last.Error, snap.Errors[0].Message) || last.Fix != snap.Errors[0].Fix || last.Fix == "" {
		t.Errorf("run %+v of snapshot %+v, want partial with its first failed part and fix", last, snap)
	}
	if calls := obs.all(); len(calls) != 1 || calls[0].result != ResultPartial || calls[0].snapshot != snap.ID {
		t.Errorf("observer calls %+v", calls)
	}
	if !strings.Contains(logs.String(), `"level":"WARN","msg":"sync partial"`) {
		t.Errorf("no warning for the partial sync:\n%s", logs.String())
	}
}

// mustStatus is connection's status.
func mustStatus(t *testing.T, s *Scheduler, connection string) Status {
	t.Helper()
	st, err := s.Status(connection)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// TestSlowSubscriber: one that does not read loses progress events without
// holding up the publisher, and gets the end, or when even that does not
// fit, a closed channel; one that keeps up gets everything.
func TestSlowSubscriber(t *testing.T) {
	c := &conn{id: "prod", subs: map[*subscriber]struct{}{}}
	slow := &subscriber{ch: make(chan Event, subscriberBuffer)}
	roomy := &subscriber{ch: make(chan Event, 4*subscriberBuffer)}
	c.subs[slow], c.subs[roomy] = struct{}{}, struct{}{}
	run := Run{ID: "r1", Connection: "prod", Result: ResultRunning}
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.publish(Event{Run: run}, false)
		for i := 0; i < 2*subscriberBuffer; i++ {
			c.publish(Event{Run: run, Progress: &Progress{Stage: "iam", Done: i}}, false)
		}
		end := run
		end.Result = ResultComplete
		c.publish(Event{Run: end}, true)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("publishing to a subscriber that does not read blocked")
	}
	var n int
	var last Event
	for e := range slow.ch {
		n++
		last = e
	}
	if n != subscriberBuffer || last.Run.Result == ResultComplete {
		t.Errorf("slow subscriber got %d events (last %+v), want its buffer's %d then a closed channel", n, last.Run, subscriberBuffer)
	}
	if _, ok := c.subs[slow]; ok {
		t.Error("the closed subscriber is still subscribed")
	}
	if got := len(roomy.ch); got != 2*subscriberBuffer+2 {
		t.Errorf("a subscriber with room got %d events, want %d", got, 2*subscriberBuffer+2)
	}
	for i := 0; i < 2*subscriberBuffer+1; i++ {
		<-roomy.ch
	}
	if e := <-roomy.ch; e.Run.Result != ResultComplete {
		t.Errorf("the last event is %+v, want the end", e.Run)
	}
}
