// Package syncjob is one sync run of a connection, the same for `warden
// sync` and for `warden serve`'s scheduler: take the connection's sync lock,
// load the AWS session, sync into a new snapshot, compare it with the
// previous one, and prune as the connection's retention says.
//
// The caller prints or records what Run returns; nothing here writes to a
// terminal.
package syncjob

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/warden-iam/warden/internal/awsapi"
	"github.com/warden-iam/warden/internal/collect"
	"github.com/warden-iam/warden/internal/config"
	"github.com/warden-iam/warden/internal/diff"
	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/scim"
	"github.com/warden-iam/warden/internal/store"
	"github.com/warden-iam/warden/internal/syncer"
)

// Target is one connection to sync: how to reach AWS and what to read.
type Target struct {
	// ID is the connection's id in the store ("" is the default one).
	ID string
	// Name is how messages name it: "connection prod".
	Name           string
	AWS            awsapi.Options
	IAM            collect.IAMOptions
	Organization   *syncer.OrganizationOptions
	IdentityCenter *syncer.IdentityCenterOptions
	// Assets are the assets read (sync.assets); nil for none.
	Assets *collect.AssetOptions
	// Retention is what to prune after a sync of the connection.
	Retention config.Retention
	// Activity, when set, is what the sync reads of activity (activity.go);
	// nil reads none.
	Activity *ActivityOptions
}

// FromConnection translates a connection of warden.yaml into what the
// session and the syncer take. It reads the secrets the connection names
// (an ExternalId or a SCIM token from the environment or a file); the error
// of one that cannot be read names it.
func FromConnection(c config.Connection) (Target, error) {
	t := Target{ID: c.ID, Name: "connection " + c.ID, Retention: c.Retention}
	t.AWS = awsapi.Options{Region: c.Region, Endpoint: c.Endpoint, IAMRate: float64(c.Sync.IAMRate), SessionName: c.Credentials.SessionName}
	switch c.Credentials.Source {
	case config.SourceProfile:
		t.AWS.Profile = c.Credentials.Profile
	case config.SourceRole:
		t.AWS.Profile = c.Credentials.SourceProfile
		t.AWS.RoleARN = c.Credentials.RoleARN
		id, err := c.Credentials.ResolveExternalID()
		if err != nil {
			return t, err
		}
		t.AWS.ExternalID = id
	}
	t.IAM = collect.IAMOptions{AccessKeys: c.Sync.AccessKeys, SkipCredentialReport: !c.Sync.CredentialReport}
	act, err := activityOptions(c.Activity)
	if err != nil {
		return t, err
	}
	t.Activity = act
	if a := c.Sync.Assets; a.Enabled() {
		t.Assets = &collect.AssetOptions{Services: a.ServiceList(), Regions: a.Regions, HomeRegion: c.Region,
			Config: &collect.ConfigSourceOptions{Mode: a.SourceMode(), Aggregator: a.Aggregator, Account: a.AggregatorAccount, Region: a.AggregatorRegion}}
		if t.Activity != nil {
			t.Activity.AssetRegions = a.Regions
		}
	}
	if o := c.Organization; o.Enabled {
		id, err := o.ResolveExternalID()
		if err != nil {
			return t, err
		}
		t.Organization = &syncer.OrganizationOptions{MemberRoleName: o.MemberRoleName, ExternalID: id, Concurrency: o.Concurrency,
			AccountTags: len(o.Include.Tags) > 0 || len(o.Exclude.Tags) > 0,
			Select: func(a collect.OrgAccount) bool {
				return o.Selects(config.Account{ID: a.ID, OUPath: a.OUPath, OUIDs: a.OUIDs, Tags: a.Tags})
			}}
	}
	if ic := c.IdentityCenter; ic.Enabled {
		t.IdentityCenter = &syncer.IdentityCenterOptions{Region: ic.Region,
			IdentityCenterOptions: collect.IdentityCenterOptions{InstanceARN: ic.InstanceARN, IdentityStoreID: ic.IdentityStoreID}}
		if ic.SCIM.Endpoint != "" {
			token, err := ic.SCIM.Token()
			if err != nil {
				return t, err
			}
			client, err := scim.New(ic.SCIM.Endpoint, token, nil)
			if err != nil {
				return t, err
			}
			t.IdentityCenter.SCIM = client
		}
	}
	return t, nil
}

// Store is what a run needs of the store: snapshots, the connection's sync
// lock (see store.DB.LockSync), the lookup of a slot's snapshot (see
// store.DB.SlotSnapshot) and activity with its cursors. *store.DB is one.
type Store interface {
	store.Store
	LockSync(ctx context.Context, connectionID, holder string) (release func(), err error)
	SlotSnapshot(ctx context.Context, connectionID string, slot time.Time) (*model.Snapshot, error)
	ActivityStore
}

var _ Store = (*store.DB)(nil)

// Options tune one run.
type Options struct {
	// Progress, when set, is told of every stage of the sync.
	Progress func(syncer.Event)
	// Logger receives the session's and the syncer's records; nil
	// discards them.
	Logger *slog.Logger
	// Holder says who takes the sync lock, as the error of a second
	// holder shows it; "" is store.SyncHolder().
	Holder string
	// Slot is the scheduled time the run is for, recorded in the snapshot
	// (model.Snapshot.Slot); zero for a run that is no slot's. A slot
	// that already has a snapshot is not synced again: Run returns an
	// error wrapping ErrSlotDone.
	Slot time.Time
	// Now is the clock retention's ages are measured on; nil is time.Now.
	Now func() time.Time
}

// Result is what one run did. Snapshot is stored; the comparison with the
// previous snapshot and the retention may each have failed without failing
// the run, and say so in ChangesErr and PruneErr.
type Result struct {
	Snapshot *model.Snapshot
	Took     time.Duration // the sync, from its first AWS call to the stored snapshot
	// Previous is the connection's snapshot before this one; nil for its
	// first, or when the comparison failed.
	Previous *model.Snapshot
	// Changes is what changed since Previous; nil when Previous is.
	Changes *diff.Report
	// ChangesErr is why the snapshots could not be compared.
	ChangesErr error
	// Pruned is what the retention pruned; nil when the connection keeps
	// every snapshot, or pruning failed.
	Pruned    *store.PruneResult
	PruneTook time.Duration
	// PruneErr is why pruning failed (a *PruneError).
	PruneErr error
	// Activity is what the sync read of activity; nil when the
	// connection reads none.
	Activity *collect.ActivitySummary
}

// ErrSlotDone is returned (wrapped) by Run for a slot that already has a
// snapshot: another run, here or on a replica sharing the database, synced
// it.
var ErrSlotDone = errors.New("the slot already has a snapshot")

// LockError is a failure to take a connection's sync lock. When another
// holder has it, it wraps store.ErrSyncLocked (Busy reports true) and
// names that holder.
type LockError struct {
	Connection string
	Err        error
}

// Error names the connection and the lock's problem.
func (e *LockError) Error() string { return e.Err.Error() }

// Unwrap returns the store's error.
func (e *LockError) Unwrap() error { return e.Err }

// Busy reports whether another sync holds the lock.
func (e *LockError) Busy() bool { return errors.Is(e.Err, store.ErrSyncLocked) }

// PruneError is why the retention of a connection could not be applied
// after its snapshot was stored: the retention itself is invalid
// (Invalid), or the store failed.
type PruneError struct {
	Connection string
	Invalid    bool
	Err        error
}

// Error says the snapshot is stored and what failed.
func (e *PruneError) Error() string {
	if e.Invalid {
		return fmt.Sprintf("connection %q: retention.older_than %v", e.Connection, e.Err)
	}
	return fmt.Sprintf("the snapshot is stored, but pruning connection %q as its retention says failed: %v", e.Connection, e.Err)
}

// Unwrap returns the underlying error.
func (e *PruneError) Unwrap() error { return e.Err }

// Lock takes the sync lock of a connection in st for holder ("" is
// store.SyncHolder()), so two syncs of one connection (in this process or
// any other sharing the database) never run at once. It does not wait: a
// lock another holds is a *LockError that is Busy.
func Lock(ctx context.Context, st Store, connectionID, holder string) (release func(), err error) {
	if holder == "" {
		holder = store.SyncHolder()
	}
	release, err = st.LockSync(ctx, connectionID, holder)
	if err != nil {
		return nil, &LockError{Connection: connectionID, Err: err}
	}
	return release, nil
}

// Run syncs t into st under the connection's sync lock: for a slot (o.Slot)
// it first checks the slot has no snapshot yet, then loads the session,
// syncs, compares the new snapshot with the previous one and applies the
// retention, all before releasing the lock. The error is a *LockError when
// the lock could not be taken, wraps ErrSlotDone for a slot already
// synced, and is the sync's own otherwise; a failed comparison or
// retention is in Result, not an error.
func Run(ctx context.Context, st Store, t Target, o Options) (*Result, error) {
	release, err := Lock(ctx, st, t.ID, o.Holder)
	if err != nil {
		return nil, err
	}
	defer release()
	var db store.Store = st
	if !o.Slot.IsZero() {
		done, err := st.SlotSnapshot(ctx, t.ID, o.Slot)
		if err != nil {
			return nil, err
		}
		if done != nil {
			return nil, fmt.Errorf("%s: slot %s: %w (snapshot %d)", t.Name, o.Slot.UTC().Format(time.RFC3339), ErrSlotDone, done.ID)
		}
		db = slotStore{st, o.Slot}
	}
	aws := t.AWS
	aws.Logger = o.Logger
	sess, err := awsapi.Load(ctx, aws)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	so := syncer.Options{ConnectionID: t.ID, IAM: t.IAM, Organization: t.Organization,
		IdentityCenter: t.IdentityCenter, Assets: t.Assets, Progress: o.Progress, Logger: o.Logger}
	var act *activityRun
	if t.Activity != nil {
		// Events are stored as each account is read, with their cursors:
		// a sync that then fails keeps them, and the next reads on.
		if act, err = newActivityRun(ctx, st, t.ID, *t.Activity, sess.Region()); err != nil {
			return nil, err
		}
		so.AfterAccount = act.account
	}
	snap, err := syncer.Sync(ctx, sess, db, so)
	if err != nil {
		return nil, err
	}
	r := &Result{Snapshot: snap, Took: time.Since(start)}
	if act != nil {
		r.Activity = act.result()
	}
	r.Previous, r.Changes, r.ChangesErr = Changes(ctx, st, snap)
	pruneStart := time.Now()
	r.Pruned, r.PruneErr = Prune(ctx, st, t.ID, t.Retention, o.Now)
	r.PruneTook = time.Since(pruneStart)
	return r, nil
}

// slotStore is the store of a slot's sync: each snapshot it writes records
// the slot.
type slotStore struct {
	store.Store
	slot time.Time
}

// WriteSnapshot writes snap with the slot.
func (s slotStore) WriteSnapshot(ctx context.Context, snap *model.Snapshot, g *model.Graph) (int64, error) {
	slot := s.slot.UTC()
	snap.Slot = &slot
	return s.Store.WriteSnapshot(ctx, snap, g)
}

// Changes compares snap with the snapshot of its connection before it:
// that snapshot and the report, or nil and nil for the connection's first
// snapshot.
func Changes(ctx context.Context, st store.Store, snap *model.Snapshot) (*model.Snapshot, *diff.Report, error) {
	snaps, err := st.Snapshots(ctx, snap.ConnectionID)
	if err != nil {
		return nil, nil, err
	}
	var to, from *model.Snapshot
	for i := range snaps {
		switch {
		case snaps[i].ID == snap.ID:
			to = &snaps[i]
		case to != nil && from == nil:
			from = &snaps[i]
		}
	}
	if to == nil || from == nil {
		return nil, nil, nil
	}
	r, err := diff.Compute(ctx, st, from, to, diff.Filter{})
	if err != nil {
		return nil, nil, err
	}
	return from, r, nil
}

// RetentionOptions turns a connection's retention: into prune options; ok
// is false when it keeps everything.
func RetentionOptions(r config.Retention) (o store.PruneOptions, ok bool, err error) {
	if r.IsZero() {
		return o, false, nil
	}
	age, err := r.Age()
	if err != nil { // Load validated it; a File changed in code may not be
		return o, false, err
	}
	return store.PruneOptions{Keep: r.Keep, OlderThan: age}, true, nil
}

// Prune prunes connection id of st as its retention says (ages measured
// on now, nil for time.Now): what it pruned, or nil when the retention
// keeps everything. Its error is a *PruneError.
func Prune(ctx context.Context, st store.Store, id string, r config.Retention, now func() time.Time) (*store.PruneResult, error) {
	opts, ok, err := RetentionOptions(r)
	if err != nil {
		return nil, &PruneError{Connection: id, Invalid: true, Err: err}
	}
	if !ok {
		return nil, nil
	}
	if now != nil {
		opts.Now = now()
	}
	res, err := st.Prune(ctx, id, opts)
	if err != nil {
		return nil, &PruneError{Connection: id, Err: err}
	}
	return res, nil
}
