package awsapi

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
)

// The retry policy, the same for every call of every client a Session
// builds, reads and writes, the first sts:GetCallerIdentity included:
//
//   - throttling is retried soon, after a short full-jitter backoff
//     (throttleBase doubling, at most throttleCap): the account's limiter
//     already paces every attempt, so waiting longer only idles the sync;
//   - any other retryable failure (a 5xx, a dropped connection) is retried
//     after a longer backoff (errorBase doubling, at most MaxBackoff), and
//     only until the call has failed so MaxServerErrors times: an endpoint
//     that keeps failing is reported in seconds;
//   - one call is tried at most MaxAttempts times in all and waits at most
//     MaxRetryWait in all between its attempts; then its last error is
//     returned inside a *RetriesExhaustedError that says so.
const (
	// DefaultMaxAttempts is the most attempts of one call. Random
	// throttling of 30% of attempts fails a call only when all of them are
	// throttled: 0.3^16, about one call in 200 million.
	DefaultMaxAttempts = 16
	// DefaultMaxServerErrors is how many attempts of one call may fail
	// with a server error or a network error before the call fails.
	DefaultMaxServerErrors = 4
	// DefaultMaxBackoff caps one wait between two attempts.
	DefaultMaxBackoff = 5 * time.Second
	// DefaultMaxRetryWait caps the waits of one call between its attempts,
	// added up.
	DefaultMaxRetryWait = 10 * time.Second

	// throttleBase is the first backoff ceiling after a throttled attempt,
	// throttleCap the largest.
	throttleBase = 20 * time.Millisecond
	throttleCap  = time.Second
	// errorBase is the first backoff ceiling after any other failure.
	errorBase = 250 * time.Millisecond
)

// retryPolicy is the bounds of one call's retries (Options with defaults
// applied).
type retryPolicy struct {
	maxAttempts     int
	maxServerErrors int
	maxBackoff      time.Duration // one wait
	maxRetryWait    time.Duration // all the waits of one call
}

// callState is what one call (all its attempts) has done so far. The call
// middleware makes one per call; the attempt middleware updates it and
// hands it to the retryer inside the error of each failed attempt.
type callState struct {
	mu           sync.Mutex
	started      time.Time
	attempts     int
	throttles    int // attempts AWS throttled
	serverErrors int // attempts that failed otherwise (retryable or not)
	waited       time.Duration
	exhausted    string // why the retryer gave up; "" while it has not
}

type callStateKey struct{}

func withCallState(ctx context.Context, cs *callState) context.Context {
	return context.WithValue(ctx, callStateKey{}, cs)
}

func callStateOf(ctx context.Context) *callState {
	cs, _ := ctx.Value(callStateKey{}).(*callState)
	return cs
}

// attemptError is a failed attempt's error as the SDK's retry loop sees it,
// carrying its call's state to the retryer. It reads as the error itself.
type attemptError struct {
	err   error
	state *callState
}

func (e *attemptError) Error() string { return e.err.Error() }
func (e *attemptError) Unwrap() error { return e.err }

// RetriesExhaustedError is a call that failed on every attempt warden's
// retry policy allowed it: the last attempt's error, how many attempts were
// made, how long was waited between them, and which bound ended the call.
type RetriesExhaustedError struct {
	Attempts  int
	Throttled int // attempts AWS throttled
	Waited    time.Duration
	Elapsed   time.Duration
	Bound     string // "16 attempts", "4 server or network errors", "10s of backoff"
	Err       error
}

// Error implements error.
func (e *RetriesExhaustedError) Error() string {
	return fmt.Sprintf("gave up after %d attempts in %s (at most %s): %v",
		e.Attempts, e.Elapsed.Round(time.Millisecond), e.Bound, e.Err)
}

// Unwrap returns the last attempt's error.
func (e *RetriesExhaustedError) Unwrap() error { return e.Err }

// retryer implements aws.RetryerV2 with warden's policy on top of the SDK's
// standard retryer, which still decides what is retryable and what is
// throttling. It has no retry quota (ratelimit.None): no number of failed
// attempts can make it refuse to retry ("retry quota exceeded").
type retryer struct {
	std    *retry.Standard
	policy retryPolicy
}

var _ aws.RetryerV2 = (*retryer)(nil)

func newRetryer(p retryPolicy) *retryer {
	return &retryer{policy: p, std: retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = p.maxAttempts
		o.MaxBackoff = p.maxBackoff
		o.RateLimiter = ratelimit.None
	})}
}

// IsErrorRetryable implements aws.Retryer: the SDK's judgement, within the
// call's bounds.
func (r *retryer) IsErrorRetryable(err error) bool {
	if !r.std.IsErrorRetryable(err) {
		return false
	}
	var ae *attemptError
	if !errors.As(err, &ae) {
		return true
	}
	cs := ae.state
	cs.mu.Lock()
	defer cs.mu.Unlock()
	switch {
	case cs.attempts >= r.policy.maxAttempts:
		cs.exhausted = fmt.Sprintf("%d attempts", r.policy.maxAttempts)
	case cs.serverErrors >= r.policy.maxServerErrors:
		cs.exhausted = fmt.Sprintf("%d server or network errors", r.policy.maxServerErrors)
	case cs.waited >= r.policy.maxRetryWait:
		cs.exhausted = fmt.Sprintf("%s of backoff", r.policy.maxRetryWait)
	default:
		return true
	}
	return false
}

// MaxAttempts implements aws.Retryer.
func (r *retryer) MaxAttempts() int { return r.policy.maxAttempts }

// RetryDelay implements aws.Retryer: full jitter, from a short base after
// throttling and a longer one after anything else, never past the call's
// backoff budget.
func (r *retryer) RetryDelay(_ int, err error) (time.Duration, error) {
	var ae *attemptError
	if !errors.As(err, &ae) {
		return fullJitter(errorBase, r.policy.maxBackoff, 1), nil
	}
	cs := ae.state
	cs.mu.Lock()
	defer cs.mu.Unlock()
	var d time.Duration
	if isThrottle(err) {
		d = fullJitter(throttleBase, min(throttleCap, r.policy.maxBackoff), cs.throttles)
	} else {
		d = fullJitter(errorBase, r.policy.maxBackoff, cs.serverErrors)
	}
	d = min(d, r.policy.maxRetryWait-cs.waited)
	cs.waited += d
	return d, nil
}

// GetRetryToken implements aws.Retryer.
func (r *retryer) GetRetryToken(ctx context.Context, opErr error) (func(error) error, error) {
	return r.std.GetRetryToken(ctx, opErr)
}

// GetInitialToken implements aws.Retryer.
func (r *retryer) GetInitialToken() func(error) error { return r.std.GetInitialToken() }

// GetAttemptToken implements aws.RetryerV2.
func (r *retryer) GetAttemptToken(ctx context.Context) (func(error) error, error) {
	return r.std.GetAttemptToken(ctx)
}

// fullJitter is exponential backoff with full jitter: before the n-th retry
// of a kind (n ≥ 1) a uniformly random wait in [0, min(ceiling, base·2^(n-1))).
func fullJitter(base, ceiling time.Duration, n int) time.Duration {
	c := float64(base) * math.Pow(2, float64(max(n-1, 0)))
	c = math.Min(c, float64(ceiling))
	return time.Duration(rand.Float64() * c)
}
