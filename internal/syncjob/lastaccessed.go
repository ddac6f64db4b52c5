package syncjob

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/warden-iam/warden/internal/awsapi"
	"github.com/warden-iam/warden/internal/collect"
	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/store"
)

// A sync of a connection with activity.last_accessed (roles, users or all)
// reads the IAM last accessed data of those principals after each
// account's CloudTrail activity, within activity.call_budget calls for the
// whole sync (every account spends from one budget), the principals read
// longest ago first across the organization: at the sync's start the
// previous snapshot's principals are ranked by when their data was last
// read (never first) and the budget's worth of them, at
// collect.MinLastAccessedCalls a principal, is chosen; principals new since
// that snapshot are never read and join them. Each account reads its
// chosen principals in rank order with its own credentials, the same
// client creating and reading each job, and stores what it read; the rest
// wait for the next sync, so a large organization is covered over several.

// LastAccessedStore is what reading last accessed data needs of the store
// besides ActivityStore. *store.DB is one.
type LastAccessedStore interface {
	SaveLastAccessed(ctx context.Context, connection string, recs []store.LastAccessedRecord) error
	LastAccessedReads(ctx context.Context, connection string) (map[string]time.Time, error)
	Snapshots(ctx context.Context, connectionID string) ([]model.Snapshot, error)
	Subgraph(ctx context.Context, snapshotID int64, types []model.ResourceType, account string) (*model.Graph, error)
}

var _ LastAccessedStore = (*store.DB)(nil)

// lastAccessedRun is the sync-wide state of last accessed reading: the
// budget, the stored read times and the principals chosen.
type lastAccessedRun struct {
	once   sync.Once
	st     LastAccessedStore
	err    error
	budget *collect.LastAccessedBudget
	reads  map[string]time.Time
	// rank orders the chosen principals of the previous snapshot (ARN →
	// position); known holds every principal of that snapshot; both nil
	// when there is none (every principal is chosen).
	rank  map[string]int
	known map[string]bool
	// poll is the first wait of a job's polls (0: collect's default).
	poll time.Duration

	mu  sync.Mutex
	sum collect.LastAccessedSummary
}

// errNoLastAccessedStore is a store that cannot keep last accessed data.
var errNoLastAccessedStore = errors.New("this store cannot keep IAM last accessed data")

// start loads what the run needs, once.
func (r *activityRun) startLastAccessed(ctx context.Context) error {
	la := &r.la
	la.once.Do(func() {
		st, ok := r.st.(LastAccessedStore)
		if !ok {
			la.err = errNoLastAccessedStore
			return
		}
		la.st, la.poll = st, r.opts.LastAccessedPoll
		la.budget = collect.NewLastAccessedBudget(r.opts.CallBudget)
		la.sum.Budget = r.opts.CallBudget
		if la.reads, la.err = st.LastAccessedReads(ctx, r.connection); la.err != nil {
			return
		}
		snaps, err := st.Snapshots(ctx, r.connection)
		if err != nil || len(snaps) == 0 {
			la.err = err
			return
		}
		prev, err := st.Subgraph(ctx, snaps[0].ID, []model.ResourceType{model.TypeIAMUser, model.TypeIAMRole}, "")
		if err != nil {
			la.err = err
			return
		}
		all := collect.SelectLastAccessed(prev, r.opts.LastAccessed, la.reads)
		la.rank, la.known = map[string]int{}, map[string]bool{}
		for i, t := range all {
			la.known[t.ARN] = true
			if i < r.opts.CallBudget/collect.MinLastAccessedCalls {
				la.rank[t.ARN] = i
			}
		}
	})
	return la.err
}

// lastAccessed reads the IAM last accessed data of one account's
// principals, as r.opts.LastAccessed and r.opts.CallBudget ask, with the
// account's credentials in sess (sess.IAM(accountID)), and stores it; the
// parts it could not read are returned as partial failures. It is called
// for every account whose IAM was read, after its CloudTrail activity.
func (r *activityRun) lastAccessed(ctx context.Context, sess *awsapi.Session, accountID string, g *model.Graph) []model.SourceError {
	switch r.opts.LastAccessed {
	case collect.LastAccessedRoles, collect.LastAccessedUsers, collect.LastAccessedAll:
	default:
		return nil
	}
	if err := r.startLastAccessed(ctx); err != nil {
		return []model.SourceError{{AccountID: accountID, Source: "iam-last-accessed",
			Message: "IAM last accessed data not read: " + err.Error(),
			Fix:     "check the database (its disk, its connection), then sync again"}}
	}
	la := &r.la
	mine := &model.Graph{}
	for i := range g.Resources {
		if g.Resources[i].AccountID == accountID {
			mine.Resources = append(mine.Resources, g.Resources[i])
		}
	}
	all := collect.SelectLastAccessed(mine, r.opts.LastAccessed, la.reads)
	targets := chosen(all, la.rank, la.known)
	read := collect.ReadLastAccessed(ctx, func(string) collect.LastAccessedAPI { return sess.IAM(accountID) }, targets,
		collect.LastAccessedOptions{Shared: la.budget, Poll: la.poll, MaxPoll: 16 * max(la.poll, time.Second)})
	problems := read.Errors
	recs := make([]store.LastAccessedRecord, 0, len(read.Principals))
	for _, p := range read.Principals {
		services, _ := json.Marshal(p.Services) // strings, times and ints: cannot fail
		recs = append(recs, store.LastAccessedRecord{Principal: p.ARN, Account: p.Account, ReadAt: p.ReadAt, Granularity: p.Granularity, Services: services})
	}
	covered := len(recs)
	if len(recs) > 0 {
		if err := la.st.SaveLastAccessed(ctx, r.connection, recs); err != nil {
			problems = append(problems, model.SourceError{AccountID: accountID, Source: "iam-last-accessed",
				Message: fmt.Sprintf("last accessed data of %d principals read but not stored: %v", len(recs), err),
				Fix:     "check the database (its disk, its connection), then sync again: the next sync reads them again"})
			covered = 0
		}
	}
	la.mu.Lock()
	defer la.mu.Unlock()
	la.sum.Wanted += len(all)
	la.sum.Covered += covered
	la.sum.Calls += read.Calls
	la.sum.Failed += read.Failed
	r.mu.Lock()
	s := la.sum
	r.summary.LastAccessed = &s
	r.mu.Unlock()
	return problems
}

// chosen returns the targets a sync reads of one account's principals
// (all, in SelectLastAccessed's order): those of the previous snapshot that
// rank chose, and those it did not know (new, never read), the new ones
// first, then by rank. With no previous snapshot (rank nil) every target.
func chosen(all []collect.LastAccessedTarget, rank map[string]int, known map[string]bool) []collect.LastAccessedTarget {
	if rank == nil {
		return all
	}
	var out []collect.LastAccessedTarget
	for _, t := range all {
		if _, ok := rank[t.ARN]; ok || !known[t.ARN] {
			out = append(out, t)
		}
	}
	pos := func(t collect.LastAccessedTarget) int {
		if i, ok := rank[t.ARN]; ok {
			return i
		}
		return -1
	}
	sort.SliceStable(out, func(i, j int) bool { return pos(out[i]) < pos(out[j]) })
	return out
}
