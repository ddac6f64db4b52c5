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
	"slices"
	"strings"
	"sync"
	"sync/atomic"
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
	// Organization, when set, syncs every selected account of the
	// organization of the session's credentials instead of just their own
	// account.
	Organization *OrganizationOptions
	// IdentityCenter, when set, also reads the IAM Identity Center instance
	// of the session's account (its management account or a delegated
	// administrator).
	IdentityCenter *IdentityCenterOptions
	// Assets, when set, also reads each account's assets (assets.go).
	Assets *collect.AssetOptions
	// Progress, when set, is told of every stage, for a progress line.
	Progress func(Event)
	// Logger receives a record per stage; nil discards them.
	Logger *slog.Logger
	// AfterAccount, when set, is called for each account whose IAM was
	// read, with the account's credentials in sess (its member role's) and
	// its IAM graph, before the next account starts on that worker: more
	// reads of the account (its activity). The parts it could not read are
	// the snapshot's partial failures; it must not keep g.
	AfterAccount func(ctx context.Context, sess *awsapi.Session, accountID string, g *model.Graph) []model.SourceError
}

// OrganizationOptions configure organization mode.
type OrganizationOptions struct {
	// MemberRoleName is the role assumed in each member account; "" means
	// DefaultMemberRoleName. The account of the session's credentials is
	// read with those credentials.
	MemberRoleName string
	// ExternalID is passed when assuming member roles; "" passes none.
	ExternalID string
	// Concurrency is how many accounts are read at once; 0 means
	// DefaultConcurrency.
	Concurrency int
	// Select, when set, says which accounts to read; nil reads them all.
	// Accounts not selected stay in the organization's graph, unread.
	Select func(collect.OrgAccount) bool
	// AccountTags reads account tags (needed by filters on tags).
	AccountTags bool
}

// IdentityCenterOptions configure the Identity Center part of a sync.
type IdentityCenterOptions struct {
	collect.IdentityCenterOptions
	// Region is the instance's home region; "" means the session's.
	Region string
	// SCIM, when set, is Identity Center's SCIM endpoint: users' "active"
	// is read there too and compared with the Identity Store's status.
	SCIM collect.SCIMUserLister
}

// DefaultMemberRoleName is the role AWS Organizations creates in every
// account it creates.
const DefaultMemberRoleName = "OrganizationAccountAccessRole"

// DefaultConcurrency is how many accounts an organization sync reads at
// once. IAM and STS limits are charged to each account's own credentials,
// so accounts in parallel do not slow each other down.
const DefaultConcurrency = 32

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
	StageIdentify     = "identify"
	StageOrganization = "organization"
	StageAccounts     = "accounts"
	StageIAM          = "iam"
	StageIdentityCtr  = "identity_center"
	StageStore        = "store"
)

// SourceAssumeRole names a member account whose role could not be assumed
// in Snapshot.Errors.
const SourceAssumeRole = "assume_role"

// account is one account of a sync's plan.
type account struct {
	ID string
	// RoleARN is the role to assume to read it; "" reads it with the
	// session's own credentials.
	RoleARN string
}

// accountResult is what reading one account gave.
type accountResult struct {
	account account
	errors  []model.SourceError
	err     error // the account could not be read at all
}

// Sync reads the account of sess's credentials and stores it in st as a new
// snapshot, which it returns. A part that could not be read (the credential
// report, say) makes the snapshot partial, with the part in Snapshot.Errors;
// if nothing could be read, or the snapshot cannot be stored, Sync returns
// an error and the store is left as it was.
func Sync(ctx context.Context, sess *awsapi.Session, st store.Store, o Options) (*model.Snapshot, error) {
	s := &syncRun{sess: sess, opts: o, log: o.Logger, progress: o.Progress, merged: newMerger()}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.progress == nil {
		s.progress = func(Event) {}
	}
	started := time.Now().UTC()
	s.callsBefore = sess.Calls()
	rateWaitBefore := sess.IAMRateWait()

	plan, err := s.plan(ctx)
	if err != nil {
		return nil, err
	}
	icDone := s.startIdentityCenter(ctx)
	results := s.syncAccounts(ctx, plan)
	icProblems := <-icDone
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("sync interrupted, nothing stored: %w", err)
	}
	snap, g, err := s.snapshot(results, icProblems, started)
	if err != nil {
		return nil, err
	}
	snap.IAMRateWait = sess.IAMRateWait() - rateWaitBefore

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
	org         *collect.Organization
	merged      *merger        // the graphs read so far
	assetInv    assetInventory // the Config source of assets, read once (assets.go)
}

// plan returns the accounts to read: the account of the credentials, found
// with sts:GetCallerIdentity, or in organization mode every selected active
// account of the organization.
func (s *syncRun) plan(ctx context.Context) ([]account, error) {
	s.progress(Event{Stage: StageIdentify, Message: "sts:GetCallerIdentity"})
	id, arn, err := s.sess.CallerIdentity(ctx)
	if err != nil {
		return nil, err
	}
	s.log.Info("syncing as", "account", id, "arn", arn)
	o := s.opts.Organization
	if o == nil {
		return []account{{ID: id}}, nil
	}
	s.progress(Event{Stage: StageOrganization, Message: "reading the organization"})
	s.org, err = collect.CollectOrganization(ctx, s.sess.Organizations(), collect.OrganizationsOptions{AccountTags: o.AccountTags})
	if err != nil {
		return nil, fmt.Errorf("organization mode: %w", err)
	}
	role := o.MemberRoleName
	if role == "" {
		role = DefaultMemberRoleName
	}
	var plan []account
	for _, a := range s.org.Accounts {
		switch {
		case o.Select != nil && !o.Select(a):
			s.log.Debug("account left out by the filters", "account", a.ID)
		case !a.Active():
			s.log.Info("account not read: it is not active", "account", a.ID, "status", a.Status)
		case a.ID == id:
			plan = append(plan, account{ID: a.ID})
		default:
			plan = append(plan, account{ID: a.ID, RoleARN: memberRoleARN(a.ARN, a.ID, role)})
		}
	}
	s.log.Info("organization read", "organization", s.org.ID, "accounts", len(s.org.Accounts), "to read", len(plan))
	if len(plan) == 0 {
		return nil, fmt.Errorf("organization mode: no account of organization %s is selected and active: check the include and exclude filters of the connection", s.org.ID)
	}
	return plan, nil
}

// startIdentityCenter reads Identity Center alongside the accounts (its
// calls are paced by their own limiter) and merges what it read; the
// returned channel gives the parts that failed, none when all was read or
// Identity Center was not asked for.
func (s *syncRun) startIdentityCenter(ctx context.Context) <-chan []model.SourceError {
	done := make(chan []model.SourceError, 1)
	o := s.opts.IdentityCenter
	if o == nil {
		done <- nil
		return done
	}
	problem := func(source string, err error) model.SourceError {
		p, fix := awsapi.Explain(err)
		if errors.Is(err, collect.ErrNoInstance) {
			fix = collect.NoInstanceFix
		}
		return model.SourceError{Source: source, Message: p, Fix: orRetry(fix)}
	}
	go func() {
		s.progress(Event{Stage: StageIdentityCtr, Message: "reading IAM Identity Center"})
		start := time.Now()
		sso, ids := s.sess.IdentityCenter(o.Region)
		res, err := collect.CollectIdentityCenter(ctx, sso, ids, o.IdentityCenterOptions)
		if err != nil {
			s.log.Warn("Identity Center not read", "err", err)
			done <- []model.SourceError{problem(collect.SourceIdentityCenter, fmt.Errorf("identity center: %w", err))}
			return
		}
		problems := res.Errors
		for _, p := range problems {
			s.log.Warn("Identity Center part not read", "part", p.Message)
		}
		if o.SCIM != nil {
			s.progress(Event{Stage: StageIdentityCtr, Message: "reading user status from SCIM"})
			n, err := collect.ApplySCIMStatus(ctx, o.SCIM, &res.Graph)
			if err != nil {
				s.log.Warn("SCIM not read", "err", err)
				p := problem(collect.SourceSCIM, err)
				if p.Fix == "" {
					p.Fix = "check identity_center.scim (the endpoint and its token), then sync again"
				}
				problems = append(problems, p)
			}
			if n > 0 {
				s.log.Warn("SCIM and the Identity Store disagree on user status", "users", n)
			}
		}
		s.merged.add(res.Graph)
		s.log.Info("Identity Center read", "instance", res.InstanceARN, "resources", len(res.Graph.Resources),
			"assignments by", res.Strategy, "because", res.StrategyReason, "took", time.Since(start))
		done <- problems
	}()
	return done
}

// memberRoleARN is the ARN of role in an account, in the partition of the
// account's own ARN (arn:aws-cn:organizations::… gives arn:aws-cn:iam::…).
func memberRoleARN(accountARN, accountID, role string) string {
	partition := "aws"
	if parts := strings.SplitN(accountARN, ":", 3); len(parts) == 3 && parts[0] == "arn" && parts[1] != "" {
		partition = parts[1]
	}
	return "arn:" + partition + ":iam::" + accountID + ":role/" + role
}

// syncAccounts reads the accounts of the plan, several at once in
// organization mode, and returns their results in plan order.
func (s *syncRun) syncAccounts(ctx context.Context, plan []account) []accountResult {
	results := make([]accountResult, len(plan))
	workers := DefaultConcurrency
	if o := s.opts.Organization; o != nil && o.Concurrency > 0 {
		workers = o.Concurrency
	}
	workers = min(workers, len(plan))
	var done atomic.Int64
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				results[i] = s.syncAccount(ctx, plan[i])
				n := done.Add(1)
				if len(plan) > 1 {
					s.progress(Event{Stage: StageAccounts, AccountID: plan[i].ID,
						Message: fmt.Sprintf("accounts read: %d of %d", n, len(plan)), Done: int(n), Total: len(plan)})
				}
			}
		}()
	}
	for i := range plan {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	return results
}

// syncAccount reads one account, assuming its member role first when the
// plan says so.
func (s *syncRun) syncAccount(ctx context.Context, a account) accountResult {
	if a.RoleARN != "" {
		if err := s.sess.AssumeMember(ctx, a.ID, a.RoleARN, s.opts.Organization.ExternalID); err != nil {
			s.log.Warn("account not read: its role could not be assumed", "account", a.ID, "role", a.RoleARN, "err", err)
			return accountResult{account: a, err: err}
		}
	}
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
	problems := res.Errors
	if s.opts.AfterAccount != nil {
		problems = append(problems, s.opts.AfterAccount(ctx, s.sess, a.ID, &res.Graph)...)
	}
	s.merged.add(res.Graph)
	if s.opts.Assets != nil {
		problems = append(problems, s.syncAssets(ctx, a.ID)...)
	}
	return accountResult{account: a, errors: problems}
}

// snapshot assembles the snapshot and graph of a sync from its accounts'
// results. It fails when no account could be read.
func (s *syncRun) snapshot(results []accountResult, icProblems []model.SourceError, started time.Time) (*model.Snapshot, *model.Graph, error) {
	snap := &model.Snapshot{ConnectionID: s.opts.ConnectionID, StartedAt: started, Status: model.StatusComplete}
	var failures []error
	read := 0
	snap.Accounts.Planned = len(results)
	for _, r := range results {
		if r.err != nil {
			failures = append(failures, r.err)
			problem, fix := awsapi.Explain(r.err)
			source := collect.SourceIAM
			var ae *awsapi.AssumeRoleError
			if errors.As(r.err, &ae) {
				source = SourceAssumeRole
			}
			snap.Errors = append(snap.Errors, model.SourceError{AccountID: r.account.ID, Source: source, Message: problem, Fix: orRetry(fix)})
			continue
		}
		read++
		snap.Errors = append(snap.Errors, r.errors...)
	}
	snap.Accounts.Read = read
	if s.org != nil {
		snap.Errors = append(snap.Errors, s.org.Errors...)
	}
	snap.Errors = append(snap.Errors, icProblems...)
	if read == 0 {
		if len(failures) == 1 {
			return nil, nil, failures[0]
		}
		return nil, nil, fmt.Errorf("none of the %d accounts could be read, nothing stored; the first failure: %w", len(failures), failures[0])
	}
	if len(snap.Errors) > 0 {
		snap.Status = model.StatusPartial
	}
	if s.org != nil {
		s.merged.add(s.org.Graph)
	}
	g := s.merged.graph()
	if s.org != nil {
		resolveCrossAccount(g)
	}
	if s.opts.IdentityCenter != nil {
		linkReservedRoles(g)
	}
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

// merger joins the graphs of several accounts as they arrive, so an
// account's own graph can be dropped as soon as it is read: a resource seen
// in more than one (the account itself in the organization's view and its
// own, an AWS managed policy used in several accounts) is kept once, joined.
type merger struct {
	mu    sync.Mutex
	g     model.Graph
	index map[string]int // resource ID → position in g.Resources
}

func newMerger() *merger { return &merger{index: map[string]int{}} }

// add joins g into the merged graph.
func (m *merger) add(g model.Graph) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range g.Resources {
		i, seen := m.index[r.ID]
		switch {
		case !seen:
			m.index[r.ID] = len(m.g.Resources)
			m.g.Resources = append(m.g.Resources, r)
		case r.Type == model.TypeAccount:
			m.g.Resources[i] = mergeAccount(m.g.Resources[i], r)
		case r.Type == model.TypeIAMPolicy && r.Policy != nil && r.Policy.AWSManaged:
			m.g.Resources[i] = mergeAWSManaged(m.g.Resources[i], r)
		}
	}
	m.g.Entitlements = append(m.g.Entitlements, g.Entitlements...)
	m.g.Grants = append(m.g.Grants, g.Grants...)
}

// graph returns the merged graph, sorted, each entitlement and grant once.
func (m *merger) graph() *model.Graph {
	m.mu.Lock()
	defer m.mu.Unlock()
	g := &m.g
	g.Sort()
	g.Entitlements = slices.CompactFunc(g.Entitlements, func(a, b model.Entitlement) bool { return a.ID == b.ID })
	g.Grants = slices.Compact(g.Grants)
	return g
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

// mergeAWSManaged joins two accounts' views of one AWS managed policy: the
// policy is global, its attachment and boundary counts are summed over the
// accounts synced, and it is listed under the lowest of their account IDs
// so the result does not depend on which account was read first.
func mergeAWSManaged(a, b model.Resource) model.Resource {
	a.AccountID = min(a.AccountID, b.AccountID)
	attrs := *a.Policy
	attrs.AttachmentCount += b.Policy.AttachmentCount
	attrs.BoundaryCount += b.Policy.BoundaryCount
	a.Policy = &attrs
	return a
}

// mergeAccount joins two views of one account: the organization's (name,
// e-mail, OU, tags) and the account's own IAM (root user, alias).
func mergeAccount(a, b model.Resource) model.Resource {
	if a.Account == nil || a.Account.Org == nil {
		a, b = b, a
	}
	// a now carries the organization's view, if either does.
	out := b
	out.Name, out.ARN, out.ParentID, out.Tags = a.Name, a.ARN, a.ParentID, a.Tags
	if len(a.Unread) > 0 {
		out.Unread = slices.Compact(slices.Sorted(slices.Values(append(slices.Clone(b.Unread), a.Unread...))))
	}
	if out.Account == nil {
		out.Account = &model.AccountAttrs{}
	} else {
		acct := *out.Account
		out.Account = &acct
	}
	if a.Account != nil {
		out.Account.Org = a.Account.Org
	}
	return out
}

// orRetry is fix, or, for a failure warden has no specific advice for,
// what anyone can do next: every failed part carries a fix.
func orRetry(fix string) string {
	if fix != "" {
		return fix
	}
	return "sync again; if it fails the same way, run `warden sync --log-level debug` to see the failing call and AWS's answer"
}
