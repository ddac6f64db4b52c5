package awsapi

import (
	"math"
	"math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
)

// Retry defaults.
const (
	// DefaultMaxAttempts is how many times a call is tried before its error
	// is returned: well above the SDK's 3, so throttling slows a sync down
	// rather than ending it.
	DefaultMaxAttempts = 10
	// DefaultMaxBackoff caps the wait between two attempts (the SDK's cap).
	DefaultMaxBackoff = 20 * time.Second
	// stsMaxAttempts is kept at the SDK's default: GetCallerIdentity is the
	// first call of a sync, and an unreachable endpoint or refused
	// credentials should be reported in seconds, not minutes.
	stsMaxAttempts = retry.DefaultMaxAttempts
	// backoffBase is the first retry's backoff ceiling; each retry doubles it.
	backoffBase = time.Second
)

// newRetryer returns the SDK's standard retryer with maxAttempts attempts,
// full-jitter exponential backoff capped at maxBackoff, and no retry quota:
// ratelimit.None means no number of failed attempts can make the retryer
// refuse to retry ("retry quota exceeded").
func newRetryer(maxAttempts int, maxBackoff time.Duration) aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = maxAttempts
		o.MaxBackoff = maxBackoff
		o.Backoff = fullJitter{base: min(backoffBase, maxBackoff), max: maxBackoff}
		o.RateLimiter = ratelimit.None
	})
}

// fullJitter is exponential backoff with full jitter: before retry n (n ≥ 1)
// it waits a uniformly random time in [0, min(max, base·2^(n-1))).
type fullJitter struct {
	base, max time.Duration
}

// BackoffDelay implements retry.BackoffDelayer.
func (j fullJitter) BackoffDelay(attempt int, _ error) (time.Duration, error) {
	ceiling := float64(j.base) * math.Pow(2, float64(max(attempt-1, 0)))
	ceiling = math.Min(ceiling, float64(j.max))
	return time.Duration(rand.Float64() * ceiling), nil
}
