package awsapi

import (
	"context"
	"math"
	"sync"

	"golang.org/x/time/rate"
)

// Adaptation of a limiter to throttling: each throttled attempt halves the
// rate, down to a floor of ceiling/floorDivisor; each successful attempt adds
// back ceiling/recoverySteps, up to the configured ceiling. A limiter at its
// floor recovers fully after recoverySteps clean calls.
const (
	floorDivisor  = 8
	recoverySteps = 32
	minFloorRate  = 1.0 // calls per second; the floor never drops below this unless the ceiling does
)

// limiter paces the attempts made for one account and service.
type limiter struct {
	mu      sync.Mutex
	lim     *rate.Limiter
	ceiling float64 // configured calls per second
	floor   float64
}

// newLimiter returns a limiter allowing perSecond attempts a second, with a
// burst of a tenth of a second's worth (at least one).
func newLimiter(perSecond float64) *limiter {
	burst := max(1, int(math.Ceil(perSecond/10)))
	floor := max(math.Min(minFloorRate, perSecond), perSecond/floorDivisor)
	return &limiter{lim: rate.NewLimiter(rate.Limit(perSecond), burst), ceiling: perSecond, floor: floor}
}

// wait blocks until an attempt may be made or ctx ends.
func (l *limiter) wait(ctx context.Context) error { return l.lim.Wait(ctx) }

// throttled records that AWS throttled an attempt: the rate halves.
func (l *limiter) throttled() {
	l.mu.Lock()
	defer l.mu.Unlock()
	cur := float64(l.lim.Limit())
	l.lim.SetLimit(rate.Limit(max(l.floor, cur/2)))
}

// succeeded records an attempt AWS did not throttle: the rate climbs back
// towards the ceiling.
func (l *limiter) succeeded() {
	l.mu.Lock()
	defer l.mu.Unlock()
	cur := float64(l.lim.Limit())
	if cur >= l.ceiling {
		return
	}
	l.lim.SetLimit(rate.Limit(math.Min(l.ceiling, cur+l.ceiling/recoverySteps)))
}

// rate returns the current calls per second.
func (l *limiter) rate() float64 { return float64(l.lim.Limit()) }
