// Package syncer runs a sync: it finds the accounts to read, collects each
// one, and commits everything read as one snapshot. A sync either stores a
// whole snapshot (complete, or partial with the failed parts listed) or
// stores nothing, leaving the previous snapshot current.
package syncer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/warden-iam/warden/internal/awsapi"
	"github.com/warden-iam/warden/internal/collect"
	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/store"
)

// Options configure a sync.
type Options struct {
	// ConnectionID names the connection the snapshot belongs to; "" is the
	// default connection.
	ConnectionID string
	// IAM tunes the IAM collector (collect.DefaultIAMOptions for a normal
	// sync).
	IAM collect.IAMOptions
	// Progress, when set, is told of every stage, for a progress line.
	Progress func(Event)
	// Logger receives a record per stage; nil discards them.
	Logger *slog.Logger
}

// Event is one step of a sync, for a progress line: "iam", account
// 111122223333, "access keys", 120 of 300.
type Event struct {
	Stage     string // StageIdentify, StageIAM or StageStore
	AccountID string
	Message   string
	Done      int
	Total     int // 0 when unknown
}

// Stages of a sync, as Event.Stage.
const (
	StageIdentify = "identify"
	StageIAM      = "iam"
	StageStore    = "store"
)

// account is one account of a sync's plan.
type account struct {
	ID string
}

// accountResult is what reading one account gave.
type accountResult struct {
	account account
	graph   model.Graph
	errors  []model.SourceError
	err     error // the account could not be read at all
}

// Sync reads the account of sess's credentials and stores it in st as a new
// snapshot, which it returns. A part that could not be read (the credential
// report, say) makes the snapshot partial, with the part in Snapshot.Errors;
// if nothing could be read, or the snapshot cannot be stored, Sync returns
// an error and the store is left as it was.
func Sync(ctx context.Context, sess *awsapi.Session, st store.Store, o Options) (*model.Snapshot, error) {
	s := &syncRun{sess: sess, opts: o, log: o.Logger, progress: o.Progress}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.progress == nil {
		s.progress = func(Event) {}
	}
	started := time.Now().UTC()
	s.callsBefore = sess.Calls()

	plan, err := s.plan(ctx)
	if err != nil {
		return nil, err
	}
	results := make([]accountResult, 0, len(plan))
	for _, a := range plan {
		results = append(results, s.syncAccount(ctx, a))
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("sync interrupted, nothing stored: %w", err)
	}
	snap, g, err := s.snapshot(results, started)
	if err != nil {
		return nil, err
	}

	s.progress(Event{Stage: StageStore, Message: fmt.Sprintf("writing %d resources", len(g.Resources))})
	id, err := st.WriteSnapshot(ctx, snap, g)
	if err != nil {
		return nil, fmt.Errorf("store the snapshot: %w", err)
	}
	snap.ID = id
	s.log.Info("sync stored", "snapshot", id, "status", snap.Status, "resources", len(g.Resources),
		"grants", len(g.Grants), "calls", total(snap.APICalls), "took", snap.FinishedAt.Sub(snap.StartedAt))
	return snap, nil
}

// syncRun is the state of one Sync.
type syncRun struct {
	sess        *awsapi.Session
	opts        Options
	log         *slog.Logger
	progress    func(Event)
	callsBefore map[string]int64 // the session's calls before this sync
}

// plan returns the accounts to read: for now the account of the
// credentials, found with sts:GetCallerIdentity.
func (s *syncRun) plan(ctx context.Context) ([]account, error) {
	s.progress(Event{Stage: StageIdentify, Message: "sts:GetCallerIdentity"})
	id, arn, err := s.sess.CallerIdentity(ctx)
	if err != nil {
		return nil, err
	}
	s.log.Info("syncing as", "account", id, "arn", arn)
	return []account{{ID: id}}, nil
}

// syncAccount reads one account.
func (s *syncRun) syncAccount(ctx context.Context, a account) accountResult {
	iamOpts := s.opts.IAM
	outer := iamOpts.Progress
	iamOpts.Progress = func(step string, done, total int) {
		s.progress(Event{Stage: StageIAM, AccountID: a.ID, Message: "account " + a.ID + ": " + step, Done: done, Total: total})
		if outer != nil {
			outer(step, done, total)
		}
	}
	start := time.Now()
	res, err := collect.CollectIAM(ctx, s.sess.IAM(a.ID), a.ID, iamOpts)
	if err != nil {
		s.log.Warn("account not read", "account", a.ID, "err", err)
		return accountResult{account: a, err: err}
	}
	s.log.Info("account read", "account", a.ID, "resources", len(res.Graph.Resources), "problems", len(res.Errors), "took", time.Since(start))
	return accountResult{account: a, graph: res.Graph, errors: res.Errors}
}

// snapshot assembles the snapshot and graph of a sync from its accounts'
// results. It fails when no account could be read.
func (s *syncRun) snapshot(results []accountResult, started time.Time) (*model.Snapshot, *model.Graph, error) {
	snap := &model.Snapshot{ConnectionID: s.opts.ConnectionID, StartedAt: started, Status: model.StatusComplete}
	var graphs []model.Graph
	var failures []error
	for _, r := range results {
		if r.err != nil {
			failures = append(failures, r.err)
			problem, fix := awsapi.Explain(r.err)
			snap.Errors = append(snap.Errors, model.SourceError{AccountID: r.account.ID, Source: collect.SourceIAM, Message: problem, Fix: fix})
			continue
		}
		graphs = append(graphs, r.graph)
		snap.Errors = append(snap.Errors, r.errors...)
	}
	if len(graphs) == 0 {
		return nil, nil, errors.Join(failures...)
	}
	if len(snap.Errors) > 0 {
		snap.Status = model.StatusPartial
	}
	g := merge(graphs)
	snap.Counts = counts(g)
	snap.APICalls = s.callsSince()
	snap.FinishedAt = time.Now().UTC()
	return snap, g, nil
}

// callsSince returns the calls the session made during this sync.
func (s *syncRun) callsSince() map[string]int64 {
	out := make(map[string]int64)
	for k, v := range s.sess.Calls() {
		if d := v - s.callsBefore[k]; d > 0 {
			out[k] = d
		}
	}
	return out
}

// merge joins the graphs of several accounts: a resource or entitlement
// seen in more than one (an external principal trusted by roles in two
// accounts) is kept once.
func merge(graphs []model.Graph) *model.Graph {
	if len(graphs) == 1 {
		return &graphs[0]
	}
	out := &model.Graph{}
	seenRes, seenEnt, seenGrant := map[string]bool{}, map[string]bool{}, map[model.Grant]bool{}
	for _, g := range graphs {
		for _, r := range g.Resources {
			if !seenRes[r.ID] {
				seenRes[r.ID] = true
				out.Resources = append(out.Resources, r)
			}
		}
		for _, e := range g.Entitlements {
			if !seenEnt[e.ID] {
				seenEnt[e.ID] = true
				out.Entitlements = append(out.Entitlements, e)
			}
		}
		for _, gr := range g.Grants {
			if !seenGrant[gr] {
				seenGrant[gr] = true
				out.Grants = append(out.Grants, gr)
			}
		}
	}
	out.Sort()
	return out
}

// counts returns the number of resources of each type.
func counts(g *model.Graph) map[string]int {
	c := make(map[string]int)
	for _, r := range g.Resources {
		c[string(r.Type)]++
	}
	return c
}

// total sums call counts.
func total(calls map[string]int64) int64 {
	var n int64
	for _, c := range calls {
		n += c
	}
	return n
}
