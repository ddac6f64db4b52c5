package schedule

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/warden-iam/warden/internal/awsapi"
	"github.com/warden-iam/warden/internal/config"
	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/store"
	"github.com/warden-iam/warden/internal/syncer"
	"github.com/warden-iam/warden/internal/syncjob"
)

// ActorScheduler is the Actor of a run the scheduler started on its own.
const ActorScheduler = "scheduler"

// ErrStopped is returned by Trigger and Subscribe when the scheduler is not
// running: Run has not started, or has ended.
var ErrStopped = errors.New("the scheduler is not running")

// Observer is told of every run that finished (not of a slot another
// replica ran): *metrics.Metrics is one.
type Observer interface {
	SyncFinished(connection string, took time.Duration, result string, snap *model.Snapshot)
}

// Connection is one connection the scheduler syncs.
type Connection struct {
	Target   syncjob.Target
	Schedule config.Schedule
	// Spec, when not zero, is the connection's slots and wins over
	// Schedule: for tests, with intervals the configuration refuses.
	Spec Spec
}

// SyncFunc is one sync run, as syncjob.Run.
type SyncFunc func(ctx context.Context, st syncjob.Store, t syncjob.Target, o syncjob.Options) (*syncjob.Result, error)

// Options configure a Scheduler.
type Options struct {
	Store       syncjob.Store
	Connections []Connection
	// Logger receives one record per run at its end, Info for a complete
	// run, Warn or Error otherwise; the syncs' own Info records come at
	// Debug, their warnings as they are. nil discards.
	Logger *slog.Logger
	// Observer, when set, is told of every run that finished.
	Observer Observer
	// Holder is this replica's name as the sync lock records it; "" is
	// store.SyncHolder().
	Holder string
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// Grace is how long running syncs may go on once Run's context is done
	// before they are cancelled; 0 cancels them at once.
	Grace time.Duration
	// Retry is how often a slot whose lock another replica holds is tried
	// again; 0 is 1s.
	Retry time.Duration
	// KeepRuns is how many finished runs are remembered per connection; 0
	// is 50.
	KeepRuns int
	// Sync is one sync run; nil is syncjob.Run. Tests may wrap it.
	Sync func(ctx context.Context, st syncjob.Store, t syncjob.Target, o syncjob.Options) (*syncjob.Result, error)
}

// Scheduler runs each connection's syncs on its schedule, and manual ones
// when asked. Its methods are safe for concurrent use.
type Scheduler struct {
	o     Options
	conns []*conn
	byID  map[string]*conn

	mu       sync.Mutex
	state    int // stateNew, stateRunning, stateStopping, stateStopped
	syncCtx  context.Context
	wg       sync.WaitGroup // runs started by Trigger
	idPrefix string
	seq      int64
}

// Scheduler states.
const (
	stateNew = iota
	stateRunning
	stateStopping
	stateStopped
)

// conn is one connection's state; its fields after spec are guarded by
// Scheduler.mu.
type conn struct {
	c    Connection
	id   string
	spec Spec

	cur      *Run      // the run in progress; nil when idle
	shown    bool      // cur has started syncing (a slot's attempt is hidden until then)
	progress *Progress // cur's progress
	done     []Run     // finished runs, oldest first
	subs     map[*subscriber]struct{}
}

// subscriber is one Subscribe's channel.
type subscriber struct {
	ch     chan Event
	closed bool
}

// subscriberBuffer is how many events a subscriber may fall behind before
// it loses progress events.
const subscriberBuffer = 64

// New checks every connection's schedule and returns the scheduler of
// them; Run starts it.
func New(o Options) (*Scheduler, error) {
	if o.Store == nil {
		return nil, errors.New("schedule: no store; open the database first")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Holder == "" {
		o.Holder = store.SyncHolder()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Retry <= 0 {
		o.Retry = time.Second
	}
	if o.KeepRuns <= 0 {
		o.KeepRuns = 50
	}
	if o.Sync == nil {
		o.Sync = syncjob.Run
	}
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("schedule: run ids: %w", err)
	}
	s := &Scheduler{o: o, byID: map[string]*conn{}, idPrefix: hex.EncodeToString(b)}
	for _, c := range o.Connections {
		id := c.Target.ID
		if _, dup := s.byID[id]; dup {
			return nil, fmt.Errorf("connection %q is listed twice; give each connection of warden.yaml its own id", id)
		}
		spec := c.Spec
		if spec.IsZero() {
			var err error
			spec, err = ParseSpec(c.Schedule)
			if err != nil {
				return nil, fmt.Errorf("connection %q: %w", id, err)
			}
		}
		cn := &conn{c: c, id: id, spec: spec, subs: map[*subscriber]struct{}{}}
		s.conns = append(s.conns, cn)
		s.byID[id] = cn
	}
	return s, nil
}

// Run runs the schedules until ctx is done: at start, a slot each
// connection missed (its latest, when it has no snapshot and the
// connection's last snapshot is older) runs once; then every slot runs as
// it comes. When ctx is done nothing new starts, running syncs may go on
// for Grace and are then cancelled (a cancelled sync stores nothing), and
// Run returns nil once every one has ended. A Scheduler runs once.
func (s *Scheduler) Run(ctx context.Context) error {
	s.mu.Lock()
	if s.state != stateNew {
		s.mu.Unlock()
		return errors.New("schedule: Run was already called; make a new Scheduler with New")
	}
	syncCtx, cancelSyncs := context.WithCancel(context.Background())
	defer cancelSyncs()
	s.syncCtx = syncCtx
	s.state = stateRunning
	s.mu.Unlock()

	var loops sync.WaitGroup
	for _, c := range s.conns {
		if c.spec.IsZero() {
			continue
		}
		loops.Add(1)
		go func() {
			defer loops.Done()
			s.loop(ctx, c)
		}()
	}
	<-ctx.Done()
	s.mu.Lock()
	s.state = stateStopping
	s.mu.Unlock()

	done := make(chan struct{})
	go func() {
		loops.Wait()
		s.wg.Wait()
		close(done)
	}()
	if s.o.Grace > 0 {
		grace := time.NewTimer(s.o.Grace)
		select {
		case <-done:
		case <-grace.C:
		}
		grace.Stop()
	}
	cancelSyncs()
	<-done

	s.mu.Lock()
	s.state = stateStopped
	for _, c := range s.conns {
		for sub := range c.subs {
			sub.close()
			delete(c.subs, sub)
		}
	}
	s.mu.Unlock()
	return nil
}

// loop runs one connection's slots until ctx is done.
func (s *Scheduler) loop(ctx context.Context, c *conn) {
	slot, trigger := s.missed(ctx, c), TriggerMissed
	for {
		if slot.IsZero() {
			slot, trigger = c.spec.Next(s.o.Now()), TriggerSchedule
			if slot.IsZero() || !s.sleepUntil(ctx, slot) {
				return
			}
		}
		if trigger == TriggerSchedule && !s.sleepUntil(ctx, slot.Add(c.spec.Jitter(c.id, slot))) {
			return
		}
		s.runSlot(ctx, c, slot, trigger)
		if ctx.Err() != nil {
			return
		}
		// Slots that passed while this one ran (or waited on another
		// replica) collapse into one run of the newest.
		if p := c.spec.Prev(s.o.Now()); p.After(slot) {
			slot, trigger = p, TriggerSchedule
		} else {
			slot = time.Time{}
		}
	}
}

// missed is the slot c missed while the service was down: its latest slot
// when that has no snapshot and c's latest snapshot started before it (or
// there is none); zero otherwise.
func (s *Scheduler) missed(ctx context.Context, c *conn) time.Time {
	slot := c.spec.Prev(s.o.Now())
	if slot.IsZero() {
		return slot
	}
	done, err := s.o.Store.SlotSnapshot(ctx, c.id, slot)
	if err != nil {
		s.o.Logger.Warn("cannot tell whether a slot was missed", "connection", c.id, "slot", slot, "error", err)
		return time.Time{}
	}
	if done != nil {
		return time.Time{}
	}
	last, err := s.o.Store.LatestSnapshot(ctx, c.id)
	switch {
	case errors.Is(err, store.ErrNoSnapshot):
		return slot
	case err != nil:
		s.o.Logger.Warn("cannot tell whether a slot was missed", "connection", c.id, "slot", slot, "error", err)
		return time.Time{}
	case last.StartedAt.Before(slot):
		return slot
	}
	return time.Time{}
}

// sleepUntil waits until t; false when ctx ended first.
func (s *Scheduler) sleepUntil(ctx context.Context, t time.Time) bool {
	d := t.Sub(s.o.Now())
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}

// runSlot runs c's slot: while the lock is held (by another replica, or a
// manual run here) it tries again every Retry, until the slot has a
// snapshot (another replica ran it), the lock is free (then it runs here),
// or c's next slot is due.
func (s *Scheduler) runSlot(ctx context.Context, c *conn, slot time.Time, trigger string) {
	next := c.spec.Next(slot)
	for ctx.Err() == nil {
		run, ok := s.begin(c, trigger, ActorScheduler, &slot, false)
		if ok {
			busy := s.execute(c, run, slot)
			if !busy {
				return
			}
		}
		now := s.o.Now()
		if !now.Before(next) {
			s.o.Logger.Debug("slot given up: its lock stayed held until the next slot", "connection", c.id, "slot", slot)
			return
		}
		wait := now.Add(s.o.Retry)
		if wait.After(next) {
			wait = next
		}
		if !s.sleepUntil(ctx, wait) {
			return
		}
	}
}

// begin makes c's run now: false when c is running already here or the
// scheduler is stopping. A shown run is listed and announced at once; a
// slot's attempt is not until it syncs (it may find another replica
// holding the slot).
func (s *Scheduler) begin(c *conn, trigger, actor string, slot *time.Time, shown bool) (Run, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.cur != nil || s.state != stateRunning {
		return Run{}, false
	}
	s.seq++
	r := Run{ID: fmt.Sprintf("%s-%d", s.idPrefix, s.seq), Connection: c.id, Trigger: trigger, Actor: actor,
		Started: s.o.Now().UTC(), Result: ResultRunning}
	if slot != nil {
		sl := slot.UTC()
		r.Slot = &sl
	}
	c.cur, c.shown, c.progress = &r, shown, nil
	if shown {
		c.publish(Event{Run: r}, false)
	}
	return r, true
}

// execute syncs run (of slot, zero for none) and records how it ended. For
// a slot, busy reports that the lock was held (nothing is recorded: the
// caller tries again), and a slot another replica already synced ends
// quietly, recorded nowhere.
func (s *Scheduler) execute(c *conn, run Run, slot time.Time) (busy bool) {
	s.mu.Lock()
	ctx := s.syncCtx
	s.mu.Unlock()
	started := time.Now()
	res, err := s.o.Sync(ctx, s.o.Store, c.c.Target, syncjob.Options{
		Progress: func(e syncer.Event) { s.progressed(c, e) },
		Logger:   quiet(s.o.Logger).With("connection", c.id),
		Holder:   s.o.Holder,
		Slot:     slot,
		Now:      s.o.Now,
	})
	took := time.Since(started)
	var lockErr *syncjob.LockError
	if !slot.IsZero() {
		switch {
		case errors.As(err, &lockErr) && lockErr.Busy():
			s.drop(c)
			return true
		case errors.Is(err, syncjob.ErrSlotDone):
			s.drop(c)
			s.o.Logger.Debug("slot synced by another replica", "connection", c.id, "slot", slot)
			return false
		}
	}
	var snap *model.Snapshot
	if res != nil {
		snap = res.Snapshot
	}
	switch {
	case err == nil && snap != nil && snap.Status == model.StatusPartial:
		run.Result = ResultPartial
		run.Error, run.Fix = partialError(snap)
	case err == nil:
		run.Result = ResultComplete
	case ctx.Err() != nil: // cancelled at shutdown, whatever the SDK made of it
		run.Result = ResultCancelled
		run.Error = "cancelled: the service stopped during the sync"
		run.Fix = "nothing was stored; the next slot (or a manual trigger) syncs again"
	default:
		run.Result = ResultFailed
		run.Error, run.Fix = explain(err)
	}
	if snap != nil {
		run.SnapshotID = snap.ID
	}
	fin := s.o.Now().UTC()
	run.Finished = &fin
	s.log(run, took, err)
	if s.o.Observer != nil {
		s.o.Observer.SyncFinished(c.id, took, run.Result, snap)
	}
	s.finish(c, run) // last: whoever sees the end sees it logged and observed
	return false
}

// partialError sums up the parts of the estate a partial snapshot could
// not read, and the fix of the first.
func partialError(snap *model.Snapshot) (problem, fix string) {
	if len(snap.Errors) == 0 {
		return "some of the estate could not be read; the snapshot keeps its last known state", "see the snapshot's errors"
	}
	e := snap.Errors[0]
	where := e.Source
	if e.AccountID != "" {
		where = "account " + e.AccountID + " " + e.Source
	}
	problem = fmt.Sprintf("%d part(s) of the estate could not be read; first, %s: %s", len(snap.Errors), where, e.Message)
	fix = e.Fix
	if fix == "" {
		fix = "see the snapshot's errors for each part that failed"
	}
	return problem, fix
}

// genericFix is the fix of a failure nothing more specific explains.
const genericFix = "see the service's log at debug level (--log-level debug) for what led to it; the next slot tries again"

// explain is the problem and fix of a failed run: the lock's holder, an
// AWS error explained, or the error with a generic fix.
func explain(err error) (problem, fix string) {
	var lockErr *syncjob.LockError
	if errors.As(err, &lockErr) && lockErr.Busy() {
		return err.Error(), "wait for that sync to finish and trigger again, or stop the process holding the lock"
	}
	problem, fix = awsapi.Explain(err)
	if fix == "" {
		fix = genericFix
	}
	return problem, fix
}

// log writes the one record of a finished run.
func (s *Scheduler) log(r Run, took time.Duration, err error) {
	level := slog.LevelInfo
	switch r.Result {
	case ResultPartial, ResultCancelled:
		level = slog.LevelWarn
	case ResultFailed:
		level = slog.LevelError
	}
	attrs := []any{"connection", r.Connection, "trigger", r.Trigger, "actor", r.Actor}
	if r.Slot != nil {
		attrs = append(attrs, "slot", r.Slot.Format(time.RFC3339))
	}
	attrs = append(attrs, "result", r.Result, "took", took.Round(time.Millisecond).String(), "snapshot", r.SnapshotID)
	if r.Error != "" {
		attrs = append(attrs, "error", r.Error, "fix", r.Fix)
	}
	s.o.Logger.Log(context.Background(), level, "sync "+r.Result, attrs...)
}

// progressed records a progress event of c's run and tells subscribers; a
// slot's attempt is shown from its first.
func (s *Scheduler) progressed(c *conn, e syncer.Event) {
	p := &Progress{Stage: e.Stage, Account: e.AccountID, Message: e.Message, Done: e.Done, Total: e.Total}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.cur == nil {
		return
	}
	if !c.shown {
		c.shown = true
		c.publish(Event{Run: *c.cur}, false)
	}
	c.progress = p
	c.publish(Event{Run: *c.cur, Progress: p}, false)
}

// drop forgets c's attempt at a slot that did not run here.
func (s *Scheduler) drop(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c.cur, c.shown, c.progress = nil, false, nil
}

// finish records c's run as ended and tells subscribers.
func (s *Scheduler) finish(c *conn, r Run) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !c.shown {
		c.publish(Event{Run: *c.cur}, false)
	}
	c.cur, c.shown, c.progress = nil, false, nil
	c.done = append(c.done, r)
	if len(c.done) > s.o.KeepRuns {
		c.done = append([]Run(nil), c.done[len(c.done)-s.o.KeepRuns:]...)
	}
	c.publish(Event{Run: r}, true)
}

// publish sends e to c's subscribers without waiting: one that is behind
// loses it, unless it is a run's end: then its channel is closed instead.
// Called with Scheduler.mu held.
func (c *conn) publish(e Event, end bool) {
	for sub := range c.subs {
		select {
		case sub.ch <- e:
		default:
			if end {
				sub.close()
				delete(c.subs, sub)
			}
		}
	}
}

// close closes the subscriber's channel once.
func (sub *subscriber) close() {
	if !sub.closed {
		sub.closed = true
		close(sub.ch)
	}
}

// Trigger starts a manual run of connection now, for actor (the API
// token's name), and returns it (Result "running"). It is ErrRunning when
// this replica is syncing the connection, ErrUnknownConnection, or
// ErrStopped when Run is not running. When another replica holds the lock,
// the run ends failed, naming it.
func (s *Scheduler) Trigger(ctx context.Context, connection, actor string) (Run, error) {
	if err := ctx.Err(); err != nil {
		return Run{}, err
	}
	c, ok := s.byID[connection]
	if !ok {
		return Run{}, fmt.Errorf("connection %q: %w; use one of warden.yaml's connection ids", connection, ErrUnknownConnection)
	}
	s.mu.Lock()
	switch {
	case s.state != stateRunning:
		s.mu.Unlock()
		return Run{}, ErrStopped
	case c.cur != nil:
		s.mu.Unlock()
		return Run{}, fmt.Errorf("connection %q: %w; wait for it to end (its status shows it)", connection, ErrRunning)
	}
	s.wg.Add(1) // under mu while running: Run's Wait comes after
	s.mu.Unlock()
	run, ok := s.begin(c, TriggerManual, actor, nil, true)
	if !ok {
		s.wg.Done()
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.state != stateRunning {
			return Run{}, ErrStopped
		}
		return Run{}, fmt.Errorf("connection %q: %w; wait for it to end (its status shows it)", connection, ErrRunning)
	}
	go func() {
		defer s.wg.Done()
		s.execute(c, run, time.Time{})
	}()
	return run, nil
}

// Status is connection's sync state, or ErrUnknownConnection.
func (s *Scheduler) Status(connection string) (Status, error) {
	c, ok := s.byID[connection]
	if !ok {
		return Status{}, fmt.Errorf("connection %q: %w", connection, ErrUnknownConnection)
	}
	return s.status(c), nil
}

// Statuses is every connection's state, in the configuration's order.
func (s *Scheduler) Statuses() []Status {
	out := make([]Status, 0, len(s.conns))
	for _, c := range s.conns {
		out = append(out, s.status(c))
	}
	return out
}

// status is c's state.
func (s *Scheduler) status(c *conn) Status {
	st := Status{Connection: c.id, Schedule: c.spec.String()}
	if !c.spec.IsZero() {
		if n := c.spec.Next(s.o.Now()); !n.IsZero() {
			st.Next = &n
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.cur != nil && c.shown {
		r := *c.cur
		st.Running = &r
		if c.progress != nil {
			p := *c.progress
			st.Progress = &p
		}
	}
	if n := len(c.done); n > 0 {
		r := c.done[n-1]
		st.Last = &r
	}
	return st
}

// Runs is connection's runs on this replica, newest first, the running
// one included; at most limit (all when limit <= 0). A slot another
// replica synced is not among them: this replica's attempt at it ended,
// unrecorded, when it found the slot's snapshot (or the lock it held).
func (s *Scheduler) Runs(connection string, limit int) ([]Run, error) {
	c, ok := s.byID[connection]
	if !ok {
		return nil, fmt.Errorf("connection %q: %w", connection, ErrUnknownConnection)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []Run{}
	if c.cur != nil && c.shown {
		out = append(out, *c.cur)
	}
	for i := len(c.done) - 1; i >= 0; i-- {
		out = append(out, c.done[i])
	}
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// Subscribe returns the events of connection's runs from now on (start,
// progress, end) and the func that ends the subscription. A subscriber
// that falls behind loses progress events, never holds up a sync, and
// always gets a run's end or a closed channel; the channel is closed when
// Run ends too.
func (s *Scheduler) Subscribe(connection string) (<-chan Event, func(), error) {
	c, ok := s.byID[connection]
	if !ok {
		return nil, nil, fmt.Errorf("connection %q: %w", connection, ErrUnknownConnection)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state == stateStopped {
		return nil, nil, ErrStopped
	}
	sub := &subscriber{ch: make(chan Event, subscriberBuffer)}
	c.subs[sub] = struct{}{}
	var once sync.Once
	return sub.ch, func() {
		once.Do(func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			delete(c.subs, sub)
			sub.close()
		})
	}, nil
}

// Healthy reports whether Run is running (and not stopping).
func (s *Scheduler) Healthy() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state == stateRunning
}
