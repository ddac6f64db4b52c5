package syncjob

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/warden-iam/warden/internal/awsapi"
	"github.com/warden-iam/warden/internal/collect"
	"github.com/warden-iam/warden/internal/config"
	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/store"
)

// A sync of a connection with `activity:` also reads, for every account it
// reads (with the account's own credentials, the member role's in an
// organization), the CloudTrail management events of each of the
// account's activity regions after the stored cursor, and stores them with
// the cursors that follow, one transaction per account. The regions of an
// account are the connection's activity.regions, or by default us-east-1
// (IAM, Organizations, STS's global endpoint and console sign-ins record
// there), the connection's region, and every region where the account's
// IAM read shows a role or an access key used in the last 90 days
// (RoleLastUsed, the credential report): where its activity is, learned
// from the sync's own read at no extra call; and, for a connection whose
// sync.assets names its regions, those regions, where the asset changes a
// diff shows are recorded.

// ActivityOptions say what a sync reads of activity.
type ActivityOptions struct {
	// Lookback is how far back the first read of an account and region
	// looks; 0 is collect.DefaultLookback, at most collect.MaxLookback.
	Lookback time.Duration
	// Regions are the regions read in every account; empty is the
	// default rule above.
	Regions []string
	// AssetRegions are the regions sync.assets reads, when it names them:
	// added to the default regions (not to configured Regions) so that the
	// actors of asset changes are found.
	AssetRegions []string
	// LastAccessed is whose IAM last accessed data is read: roles,
	// users, all, or "" / none (see lastAccessed).
	LastAccessed string
	// CallBudget caps the calls a sync spends on last accessed data.
	CallBudget int
	// LastAccessedPoll is the first wait of a last accessed job's polls
	// (0: 1 s, doubling up to 16 s); tests shorten it.
	LastAccessedPoll time.Duration
}

// activityOptions translates a connection's activity: key; nil when it
// has none.
func activityOptions(a config.Activity) (*ActivityOptions, error) {
	if !a.Enabled() {
		return nil, nil
	}
	lookback, err := a.LookbackAge()
	if err != nil {
		return nil, fmt.Errorf("activity.lookback %w", err)
	}
	return &ActivityOptions{Lookback: lookback, Regions: slices.Clone(a.Regions), LastAccessed: a.LastAccessed, CallBudget: a.Budget()}, nil
}

// ActivityStore is what reading activity needs of the store. *store.DB is
// one.
type ActivityStore interface {
	SaveActivity(ctx context.Context, connection string, events []store.ActivityRecord, cursors []store.ActivityCursor) (int, error)
	ActivityCursors(ctx context.Context, connection string) ([]store.ActivityCursor, error)
}

var _ ActivityStore = (*store.DB)(nil)

// activityRun reads the activity of one sync's accounts as the syncer
// reads them.
type activityRun struct {
	st         ActivityStore
	connection string
	opts       ActivityOptions
	home       string // the connection's region
	cursors    map[string]collect.Cursor
	now        func() time.Time

	mu      sync.Mutex
	summary collect.ActivitySummary
	// saving serializes the accounts' transactions: SQLite takes one
	// writer at a time, and a second would fail busy, not wait.
	saving sync.Mutex

	la lastAccessedRun // IAM last accessed data (lastaccessed.go)
}

// newActivityRun loads a connection's cursors.
func newActivityRun(ctx context.Context, st ActivityStore, connection string, o ActivityOptions, home string) (*activityRun, error) {
	stored, err := st.ActivityCursors(ctx, connection)
	if err != nil {
		return nil, err
	}
	r := &activityRun{st: st, connection: connection, opts: o, home: home, cursors: map[string]collect.Cursor{}, now: time.Now}
	for _, c := range stored {
		r.cursors[c.Account+"/"+c.Region] = collect.Cursor{Account: c.Account, Region: c.Region, Last: c.Last, LastIDs: c.LastIDs}
	}
	return r, nil
}

// account reads and stores one account's activity (syncer.Options
// AfterAccount), then its last accessed data (lastAccessed).
func (r *activityRun) account(ctx context.Context, sess *awsapi.Session, accountID string, g *model.Graph) []model.SourceError {
	problems := r.readCloudTrail(ctx, sess, accountID, g)
	return append(problems, r.lastAccessed(ctx, sess, accountID, g)...)
}

// regionsOf are the activity regions of an account: the configured ones,
// or ActivityRegions with the regions sync.assets names, sorted.
func (r *activityRun) regionsOf(g *model.Graph, accountID string, now time.Time) []string {
	if len(r.opts.Regions) > 0 {
		return r.opts.Regions
	}
	regions := ActivityRegions(g, accountID, r.home, now)
	for _, a := range r.opts.AssetRegions {
		if !slices.Contains(regions, a) {
			regions = append(regions, a)
		}
	}
	slices.Sort(regions)
	return regions
}

// readCloudTrail reads the account's regions at once (each has its own
// limit) and stores what was read with the cursors that follow.
func (r *activityRun) readCloudTrail(ctx context.Context, sess *awsapi.Session, accountID string, g *model.Graph) []model.SourceError {
	now := r.now().UTC()
	regions := r.regionsOf(g, accountID, now)
	reads := make([]collect.ActivityRead, len(regions))
	var wg sync.WaitGroup
	for i, region := range regions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.mu.Lock()
			cur := r.cursors[accountID+"/"+region]
			r.mu.Unlock()
			reads[i] = collect.ReadActivity(ctx, sess.CloudTrail(accountID, region), nil, accountID, region, cur, r.opts.Lookback, now)
		}()
	}
	wg.Wait()
	var problems []model.SourceError
	var recs []store.ActivityRecord
	var cursors []store.ActivityCursor
	read, calls, failed := 0, 0, 0
	for _, rd := range reads {
		calls += rd.Calls
		read += len(rd.Events)
		problems = append(problems, rd.Errors...)
		if len(rd.Errors) > 0 {
			failed++
		}
		for _, e := range rd.Events {
			recs = append(recs, activityRecord(e))
		}
		c := rd.Cursor
		if !c.Last.IsZero() {
			cursors = append(cursors, store.ActivityCursor{Account: c.Account, Region: c.Region, Last: c.Last, LastIDs: c.LastIDs})
		}
	}
	r.saving.Lock()
	added, err := r.st.SaveActivity(ctx, r.connection, recs, cursors)
	r.saving.Unlock()
	if err != nil {
		problems = append(problems, model.SourceError{AccountID: accountID, Source: "cloudtrail",
			Message: fmt.Sprintf("%d activity events read but not stored: %v", len(recs), err),
			Fix:     "check the database (its disk, its connection), then sync again: the next sync reads them again"})
		added = 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err == nil {
		for _, c := range cursors {
			r.cursors[c.Account+"/"+c.Region] = collect.Cursor{Account: c.Account, Region: c.Region, Last: c.Last, LastIDs: c.LastIDs}
		}
	}
	r.summary.AccountRegions += len(regions)
	r.summary.Events += read
	r.summary.New += added
	r.summary.Calls += calls
	r.summary.Failed += failed
	return problems
}

// result returns what the run read.
func (r *activityRun) result() *collect.ActivitySummary {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.summary
	return &s
}

// activityRecord is an event as the store keeps it.
func activityRecord(e collect.ActivityEvent) store.ActivityRecord {
	target := e.RoleARN
	if target == "" && len(e.Resources) > 0 {
		target = e.Resources[0]
	}
	data, _ := json.Marshal(e) // plain strings, times and bools: cannot fail
	return store.ActivityRecord{EventID: e.ID, Account: e.Account, Region: e.Region, At: e.Time, Name: e.Name,
		ActorARN: e.ActorARN, Target: target, Data: data}
}

// GlobalActivityRegion is where IAM, Organizations, STS's global endpoint
// and console sign-ins record their events.
const GlobalActivityRegion = "us-east-1"

// ActivityRegions returns the default activity regions of an account,
// sorted: us-east-1, home (the connection's region, "" for none), and the
// regions where g shows one of the account's roles (RoleLastUsed) or
// access keys (the credential report) used within CloudTrail's 90 days
// before now.
func ActivityRegions(g *model.Graph, accountID, home string, now time.Time) []string {
	set := map[string]bool{GlobalActivityRegion: true}
	if home != "" {
		set[home] = true
	}
	recent := func(t *time.Time) bool { return t != nil && now.Sub(*t) <= collect.MaxLookback }
	for i := range g.Resources {
		res := &g.Resources[i]
		if res.AccountID != accountID {
			continue
		}
		switch {
		case res.Role != nil && recent(res.Role.LastUsed) && config.IsRegion(res.Role.LastUsedRegion):
			set[res.Role.LastUsedRegion] = true
		case res.AccessKey != nil && recent(res.AccessKey.LastUsed) && config.IsRegion(res.AccessKey.LastUsedRegion):
			set[res.AccessKey.LastUsedRegion] = true
		}
	}
	out := make([]string, 0, len(set))
	for r := range set {
		out = append(out, r)
	}
	slices.Sort(out)
	return out
}
