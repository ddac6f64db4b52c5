package collect

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"

	"github.com/warden-iam/warden/internal/model"
)

// IAM last accessed data (access advisor) answers "which granted services
// are used?". It costs calls per principal: a job
// (GenerateServiceLastAccessedDetails), polls until it completes and a page
// or more of services (GetServiceLastAccessedDetails), and AWS requires the
// job to be read by the same user, or role session, that created it. So
// ReadLastAccessed reads the principals a connection asks for, the ones read
// longest ago (or never) first, within a per-sync call budget that counts
// every call (generate, polls, pages), each job created and read through one
// account client (one session); what the budget does not reach is left for
// the next sync, so a large account is covered over several syncs:
//
//	get_jobs    GenerateServiceLastAccessedDetails, one per principal
//	get_details GetServiceLastAccessedDetails until COMPLETED, with backoff, then its pages
//	transform   services, last use, tracked actions → PrincipalLastAccessed
//
// The account's IAM client paces the calls on IAM's limiter (awsapi).

// LastAccessedAPI is the part of the IAM client ReadLastAccessed uses.
type LastAccessedAPI interface {
	GenerateServiceLastAccessedDetails(ctx context.Context, in *iam.GenerateServiceLastAccessedDetailsInput, optFns ...func(*iam.Options)) (*iam.GenerateServiceLastAccessedDetailsOutput, error)
	GetServiceLastAccessedDetails(ctx context.Context, in *iam.GetServiceLastAccessedDetailsInput, optFns ...func(*iam.Options)) (*iam.GetServiceLastAccessedDetailsOutput, error)
}

// Which principals a connection reads last accessed data for
// (activity.last_accessed).
const (
	LastAccessedNone  = "none"
	LastAccessedRoles = "roles"
	LastAccessedUsers = "users"
	LastAccessedAll   = "all"
)

// DefaultLastAccessedBudget is the calls a sync spends on last accessed
// data when the connection does not say.
const DefaultLastAccessedBudget = 200

// MinLastAccessedCalls is the fewest calls one principal is expected to
// cost: its job, one poll that finds it still running and one that reads
// it complete (a page of up to 1,000 services). A principal is started only
// when the budget has them, or the average cost of the jobs done so far if
// higher.
const MinLastAccessedCalls = 3

// LastAccessedTarget is one principal to read: its account, ARN, and when
// its data was last read (zero: never).
type LastAccessedTarget struct {
	Account  string    `json:"account"`
	ARN      string    `json:"arn"`
	LastRead time.Time `json:"last_read"`
}

// ServiceLastAccessed is one service a principal's policies grant and its
// last use: LastAuthenticated nil when not used in IAM's tracking period
// (400 days).
type ServiceLastAccessed struct {
	Namespace         string     `json:"namespace"`
	Name              string     `json:"name"`
	LastAuthenticated *time.Time `json:"last_authenticated"`
	Entity            string     `json:"entity,omitempty"`
	Region            string     `json:"region,omitempty"`
	TotalEntities     int        `json:"total_entities"`
	// Actions are the tracked actions (action level, for the services AWS
	// tracks: EC2, IAM, Lambda, S3 management actions).
	Actions []ActionLastAccessed `json:"actions,omitempty"`
}

// ActionLastAccessed is one tracked action and its last use (nil: not
// used).
type ActionLastAccessed struct {
	Name         string     `json:"name"`
	LastAccessed *time.Time `json:"last_accessed"`
	Entity       string     `json:"entity,omitempty"`
	Region       string     `json:"region,omitempty"`
}

// PrincipalLastAccessed is the last accessed data read for one principal.
type PrincipalLastAccessed struct {
	Account     string                `json:"account"`
	ARN         string                `json:"arn"`
	ReadAt      time.Time             `json:"read_at"`
	Granularity string                `json:"granularity"` // SERVICE_LEVEL or ACTION_LEVEL
	Services    []ServiceLastAccessed `json:"services"`
}

// LastAccessedOptions tune ReadLastAccessed; the zero value reads at action
// level within DefaultLastAccessedBudget calls.
type LastAccessedOptions struct {
	// Budget is the most calls the read makes (0: DefaultLastAccessedBudget).
	Budget int
	// ServiceLevel asks for service-level data only (action level by
	// default).
	ServiceLevel bool
	// Poll is the wait before a job's first poll (0: 1 s); each later wait
	// doubles, up to MaxPoll (0: 16 s).
	Poll, MaxPoll time.Duration
	// MaxPolls is how many polls a job gets before it is given up (0: 10).
	MaxPolls int
	// Concurrency is how many jobs run at once (0: 4).
	Concurrency int
	// Shared, when set, is the budget the read spends from (Budget is
	// then ignored): one budget for every account of a sync.
	Shared *LastAccessedBudget
	// Now is the clock of ReadAt (nil: time.Now).
	Now func() time.Time
}

// LastAccessedRead is what ReadLastAccessed read and left.
type LastAccessedRead struct {
	// Principals are the principals read, in the order they were asked.
	Principals []PrincipalLastAccessed
	// Wanted is how many principals were asked for.
	Wanted int
	// Left are the principals not read, for the next sync: the budget did
	// not reach them, or their job failed.
	Left  []LastAccessedTarget
	Calls int
	// Failed is how many jobs failed or were refused (each is in Left).
	Failed int
	// Errors are the failures, each with its fix.
	Errors []model.SourceError
}

// LastAccessedSummary is what a sync read of IAM last accessed data: how
// many of the principals asked for it covered, in how many calls, of how
// big a budget.
type LastAccessedSummary struct {
	Covered int `json:"covered"`
	Wanted  int `json:"wanted"`
	Calls   int `json:"calls"`
	Budget  int `json:"budget"`
	Failed  int `json:"failed"` // principals whose job failed or was refused
}

// String says how much was covered, and that the rest is read at the next
// syncs.
func (s LastAccessedSummary) String() string {
	out := fmt.Sprintf("covered %d of %d principals in %d calls (budget %d)", s.Covered, s.Wanted, s.Calls, s.Budget)
	if n := s.Wanted - s.Covered; n > 0 {
		out += fmt.Sprintf("; the other %d at the next syncs, oldest read first", n)
	}
	return out
}

// Summary says how much was covered: "last accessed: covered 40 of 130
// principals in 200 calls; the other 90 are read at the next syncs".
func (r LastAccessedRead) Summary() string {
	s := fmt.Sprintf("last accessed: covered %d of %d principals in %d calls", len(r.Principals), r.Wanted, r.Calls)
	if n := len(r.Left); n > 0 {
		s += fmt.Sprintf("; the other %d are read at the next syncs (oldest read first)", n)
	}
	return s
}

// SelectLastAccessed returns the principals of g whose data a connection
// asks for (which: roles, users or all; none or "" is nobody), the ones
// never read first, then those read longest ago (lastRead, by ARN), ties
// by ARN. Service-linked roles (path /aws-service-role/) are left out: AWS
// services own them and their policies.
func SelectLastAccessed(g *model.Graph, which string, lastRead map[string]time.Time) []LastAccessedTarget {
	var out []LastAccessedTarget
	for i := range g.Resources {
		r := &g.Resources[i]
		switch {
		case r.ARN == "":
			continue
		case r.Type == model.TypeIAMUser && (which == LastAccessedUsers || which == LastAccessedAll):
		case r.Type == model.TypeIAMRole && (which == LastAccessedRoles || which == LastAccessedAll) && !strings.HasPrefix(r.Path, "/aws-service-role/"):
		default:
			continue
		}
		out = append(out, LastAccessedTarget{Account: r.AccountID, ARN: r.ARN, LastRead: lastRead[r.ARN]})
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].LastRead.Equal(out[j].LastRead) {
			return out[i].LastRead.Before(out[j].LastRead)
		}
		return out[i].ARN < out[j].ARN
	})
	return out
}

// LastAccessedBudget is a call budget shared by the jobs of one sync (of
// several ReadLastAccessed calls, one per account, through
// LastAccessedOptions.Shared): a job reserves what a job has cost so far on
// average (at least MinLastAccessedCalls) before it starts, takes one more
// call at a time when it needs it, and gives back what it did not spend,
// so jobs running at once do not start more than the budget can finish.
type LastAccessedBudget struct {
	mu       sync.Mutex
	cond     *sync.Cond
	left     int
	spent    int
	inFlight int
	jobs     int // jobs done, and their calls
	jobCalls int
}

// NewLastAccessedBudget returns a budget of n calls.
func NewLastAccessedBudget(n int) *LastAccessedBudget {
	b := &LastAccessedBudget{left: n}
	b.cond = sync.NewCond(&b.mu)
	return b
}

// Spent returns the calls spent so far.
func (b *LastAccessedBudget) Spent() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.spent
}

// start reserves calls for a new job, waiting while jobs in flight may
// give some back: how many it reserved, or 0 when the budget cannot have
// them.
func (b *LastAccessedBudget) start() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := func() int {
		if b.jobs == 0 {
			return MinLastAccessedCalls
		}
		return max(MinLastAccessedCalls, (b.jobCalls+b.jobs-1)/b.jobs)
	}
	for b.left < n() && b.inFlight > 0 {
		b.cond.Wait()
	}
	if b.left < n() {
		return 0
	}
	r := n()
	b.left -= r
	b.inFlight++
	return r
}

// more takes one call beyond a job's reservation; false when none is left.
func (b *LastAccessedBudget) more() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.left == 0 {
		return false
	}
	b.left--
	return true
}

// done ends a job that reserved reserved calls (and took the extra ones
// through more) and spent spent of them all, giving back the rest.
func (b *LastAccessedBudget) done(reserved, extra, spent int, finished bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.left += reserved + extra - spent
	b.spent += spent
	b.inFlight--
	if finished {
		b.jobs++
		b.jobCalls += spent
	}
	b.cond.Broadcast()
}

// errBudget is a job stopped because the budget ran out.
var errBudget = errors.New("the call budget ran out")

// ReadLastAccessed reads the targets' last accessed data, in their order,
// within the budget; client returns the IAM client of an account (the
// same for every call of one job, so the same session creates and reads
// it). A target the budget does not reach, or whose job failed, is in
// Left; an account that refuses the actions is recorded once, with its
// fix, and its other targets are left.
func ReadLastAccessed(ctx context.Context, client func(account string) LastAccessedAPI, targets []LastAccessedTarget, o LastAccessedOptions) LastAccessedRead {
	if o.Budget <= 0 {
		o.Budget = DefaultLastAccessedBudget
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 4
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	out := LastAccessedRead{Wanted: len(targets)}
	b := o.Shared
	if b == nil {
		b = NewLastAccessedBudget(o.Budget)
	}
	results := make([]*PrincipalLastAccessed, len(targets))
	var (
		mu     sync.Mutex
		denied = map[string]bool{}
		wg     sync.WaitGroup
	)
	sem := make(chan struct{}, o.Concurrency)
	next := 0
	for ; next < len(targets); next++ {
		t := targets[next]
		sem <- struct{}{}
		mu.Lock()
		skip := denied[t.Account]
		mu.Unlock()
		if skip || ctx.Err() != nil {
			<-sem
			continue
		}
		reserved := b.start()
		if reserved == 0 {
			<-sem
			break
		}
		wg.Add(1)
		go func(i int, t LastAccessedTarget) {
			defer wg.Done()
			defer func() { <-sem }()
			p, extra, spent, err := readOne(ctx, client(t.Account), t, o, b, reserved)
			b.done(reserved, extra, spent, err == nil)
			mu.Lock()
			defer mu.Unlock()
			out.Calls += spent
			if err == nil {
				results[i] = p
				return
			}
			if errors.Is(err, errBudget) {
				return
			}
			out.Failed++
			if isDenied(err) {
				if !denied[t.Account] {
					denied[t.Account] = true
					out.Errors = append(out.Errors, model.SourceError{AccountID: t.Account, Source: "iam-last-accessed",
						Message: "IAM last accessed data refused in account " + t.Account + ": " + err.Error() + "; its principals' data not read",
						Fix:     "allow iam:GenerateServiceLastAccessedDetails and iam:GetServiceLastAccessedDetails to the sync's role in account " + t.Account + " (warden setup policy --feature last-accessed)"})
				}
				return
			}
			out.Errors = append(out.Errors, partFailure(t.Account, "iam-last-accessed", "last accessed data of "+t.ARN, err, "read again at the next sync"))
		}(next, t)
	}
	wg.Wait()
	for i, t := range targets {
		if results[i] != nil {
			out.Principals = append(out.Principals, *results[i])
		} else {
			out.Left = append(out.Left, t)
		}
	}
	sort.Slice(out.Errors, func(i, j int) bool { return out.Errors[i].Message < out.Errors[j].Message })
	return out
}

// readOne runs one principal's job, which reserved calls of b: generate,
// poll with backoff, read its pages. It returns the calls it took beyond
// its reservation and the calls it made.
func readOne(ctx context.Context, c LastAccessedAPI, t LastAccessedTarget, o LastAccessedOptions, b *LastAccessedBudget, reserved int) (p *PrincipalLastAccessed, extra, spent int, err error) {
	gran := iamtypes.AccessAdvisorUsageGranularityTypeActionLevel
	if o.ServiceLevel {
		gran = iamtypes.AccessAdvisorUsageGranularityTypeServiceLevel
	}
	poll, maxPoll, maxPolls := o.Poll, o.MaxPoll, o.MaxPolls
	if poll <= 0 {
		poll = time.Second
	}
	if maxPoll <= 0 {
		maxPoll = 16 * time.Second
	}
	if maxPolls <= 0 {
		maxPolls = 10
	}
	// call takes one call of the budget: from the reservation first.
	call := func() bool {
		if spent < reserved+extra {
			spent++
			return true
		}
		if !b.more() {
			return false
		}
		extra++
		spent++
		return true
	}
	regenerated := false
generate:
	if !call() {
		return nil, extra, spent, errBudget
	}
	gen, err := c.GenerateServiceLastAccessedDetails(ctx, &iam.GenerateServiceLastAccessedDetailsInput{Arn: aws.String(t.ARN), Granularity: gran})
	if err != nil {
		return nil, extra, spent, fmt.Errorf("GenerateServiceLastAccessedDetails: %w", err)
	}
	in := &iam.GetServiceLastAccessedDetailsInput{JobId: gen.JobId, MaxItems: aws.Int32(1000)}
	p = &PrincipalLastAccessed{Account: t.Account, ARN: t.ARN, Granularity: string(gran)}
	wait := poll
	for polls := 0; ; {
		if in.Marker == nil {
			if polls == maxPolls {
				return nil, extra, spent, fmt.Errorf("job %s still IN_PROGRESS after %d polls", aws.ToString(gen.JobId), polls)
			}
			polls++
			if err := sleep(ctx, wait); err != nil {
				return nil, extra, spent, err
			}
			wait = min(2*wait, maxPoll)
		}
		if !call() {
			return nil, extra, spent, errBudget
		}
		page, err := c.GetServiceLastAccessedDetails(ctx, in)
		if err != nil {
			var api smithy.APIError
			if errors.As(err, &api) && api.ErrorCode() == "NoSuchEntity" && !regenerated && in.Marker == nil {
				// The job is bound to the session that created it; a
				// session renewed between the two calls cannot read it:
				// one new job.
				regenerated = true
				goto generate
			}
			return nil, extra, spent, fmt.Errorf("GetServiceLastAccessedDetails: %w", err)
		}
		switch page.JobStatus {
		case iamtypes.JobStatusTypeInProgress:
			continue
		case iamtypes.JobStatusTypeFailed:
			msg := "job failed"
			if page.Error != nil {
				msg = aws.ToString(page.Error.Code) + ": " + aws.ToString(page.Error.Message)
			}
			return nil, extra, spent, errors.New(msg)
		}
		if p.ReadAt.IsZero() {
			p.ReadAt = o.Now().UTC()
		}
		p.Services = append(p.Services, transformLastAccessed(page.ServicesLastAccessed)...)
		if !page.IsTruncated || page.Marker == nil {
			break
		}
		in.Marker = page.Marker
	}
	if p.Services == nil {
		p.Services = []ServiceLastAccessed{}
	}
	return p, extra, spent, nil
}

// transformLastAccessed turns a page of services into warden's values.
func transformLastAccessed(in []iamtypes.ServiceLastAccessed) []ServiceLastAccessed {
	out := make([]ServiceLastAccessed, 0, len(in))
	for _, s := range in {
		v := ServiceLastAccessed{Namespace: aws.ToString(s.ServiceNamespace), Name: aws.ToString(s.ServiceName),
			LastAuthenticated: utcPtr(s.LastAuthenticated), Entity: aws.ToString(s.LastAuthenticatedEntity),
			Region: aws.ToString(s.LastAuthenticatedRegion), TotalEntities: int(aws.ToInt32(s.TotalAuthenticatedEntities))}
		for _, a := range s.TrackedActionsLastAccessed {
			v.Actions = append(v.Actions, ActionLastAccessed{Name: aws.ToString(a.ActionName), LastAccessed: utcPtr(a.LastAccessedTime),
				Entity: aws.ToString(a.LastAccessedEntity), Region: aws.ToString(a.LastAccessedRegion)})
		}
		out = append(out, v)
	}
	return out
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// isDenied reports whether AWS refused the call for want of permission.
func isDenied(err error) bool {
	var api smithy.APIError
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "AccessDenied", "AccessDeniedException", "UnauthorizedOperation":
			return true
		}
	}
	return false
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
