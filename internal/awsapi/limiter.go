package awsapi

import (
	"context"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Adaptation of a limiter to throttling. The limiter judges windows of
// adaptWindow attempts: a window in which AWS throttled more than
// throttleShare of the attempts lowers the rate by decreaseFactor, down to a
// floor of ceiling/floorDivisor; any other window raises it by
// ceiling/increaseSteps, up to the configured ceiling.
//
// Why a share and not every throttle: AWS throttles a caller that exceeds its
// quota on most of its attempts, and then slowing down is what helps; a
// throttle here and there (another tool sharing the quota, AWS's own
// hiccups) is answered by a quick retry, and halving the rate on each of
// them, as this limiter once did, drove it to its floor at 30% random
// throttling and made a sync eight times slower. Above the quota, the rate
// settles where about half the attempts go through.
const (
	adaptWindow    = 20
	throttleShare  = 0.5
	decreaseFactor = 0.7
	increaseSteps  = 4
	floorDivisor   = 8
	minFloorRate   = 1.0 // calls per second; the floor never drops below this unless the ceiling does
)

// limiter paces the attempts made for one account and service.
type limiter struct {
	lim   *rate.Limiter
	clock *waitClock // where the time callers wait is added up; nil: nowhere

	mu        sync.Mutex
	ceiling   float64 // configured calls per second
	floor     float64
	attempts  int // in the current window
	throttles int
}

// newLimiter returns a limiter allowing perSecond attempts a second, with a
// burst of a tenth of a second's worth (at least one).
func newLimiter(perSecond float64, clock *waitClock) *limiter {
	burst := max(1, int(math.Ceil(perSecond/10)))
	floor := max(math.Min(minFloorRate, perSecond), perSecond/floorDivisor)
	return &limiter{lim: rate.NewLimiter(rate.Limit(perSecond), burst), clock: clock, ceiling: perSecond, floor: floor}
}

// wait blocks until an attempt may be made or ctx ends. The time it blocks
// is counted on the limiter's clock.
func (l *limiter) wait(ctx context.Context) error {
	if l.lim.Allow() {
		return nil
	}
	if l.clock != nil {
		l.clock.enter()
		defer l.clock.leave()
	}
	return l.lim.Wait(ctx)
}

// observe records an attempt's outcome (throttled or not) and adapts the
// rate at the end of each window.
func (l *limiter) observe(throttled bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.attempts++
	if throttled {
		l.throttles++
	}
	if l.attempts < adaptWindow {
		return
	}
	cur := float64(l.lim.Limit())
	if float64(l.throttles) > throttleShare*float64(l.attempts) {
		cur = max(l.floor, cur*decreaseFactor)
	} else {
		cur = math.Min(l.ceiling, cur+l.ceiling/increaseSteps)
	}
	l.lim.SetLimit(rate.Limit(cur))
	l.attempts, l.throttles = 0, 0
}

// rate returns the current calls per second.
func (l *limiter) rate() float64 { return float64(l.lim.Limit()) }

// waitClock adds up the wall-clock time during which at least one caller
// waited on one of the limiters sharing it: how long a sync was held back
// by warden's own rate limit. Waits that overlap count once.
type waitClock struct {
	mu      sync.Mutex
	waiting int
	since   time.Time
	total   time.Duration
}

func (c *waitClock) enter() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.waiting == 0 {
		c.since = time.Now()
	}
	c.waiting++
}

func (c *waitClock) leave() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.waiting--
	if c.waiting == 0 {
		c.total += time.Since(c.since)
	}
}

// elapsed returns the time waited so far, a wait under way included.
func (c *waitClock) elapsed() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.total
	if c.waiting > 0 {
		t += time.Since(c.since)
	}
	return t
}
