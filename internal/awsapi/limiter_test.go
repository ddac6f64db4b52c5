package awsapi

import (
	"context"
	"math/rand/v2"
	"testing"
)

// observeWindows feeds n windows of attempts, throttled of each window.
func observeWindows(l *limiter, n, throttled int) {
	for range n {
		for i := range adaptWindow {
			l.observe(i < throttled)
		}
	}
}

func TestLimiterAdapts(t *testing.T) {
	tests := []struct {
		name    string
		ceiling float64
		feed    func(l *limiter)
		want    float64
	}{
		{"untouched", 20, func(*limiter) {}, 20},
		{"a window mostly throttled lowers the rate", 20, func(l *limiter) { observeWindows(l, 1, 11) }, 14},
		{"half throttled is no reason to slow down", 20, func(l *limiter) { observeWindows(l, 5, 10) }, 20},
		{"a partial window decides nothing", 20, func(l *limiter) {
			for range adaptWindow - 1 {
				l.observe(true)
			}
		}, 20},
		{"floor is an eighth", 20, func(l *limiter) { observeWindows(l, 30, adaptWindow) }, 2.5},
		{"floor never below one call a second", 4, func(l *limiter) { observeWindows(l, 30, adaptWindow) }, 1},
		{"tiny ceiling is its own floor", 0.5, func(l *limiter) { observeWindows(l, 30, adaptWindow) }, 0.5},
		{"recovers a quarter of the ceiling per clean window", 20, func(l *limiter) {
			observeWindows(l, 30, adaptWindow)
			observeWindows(l, 2, 0)
		}, 12.5},
		{"never above the ceiling", 20, func(l *limiter) {
			observeWindows(l, 1, adaptWindow)
			observeWindows(l, 100, 0)
		}, 20},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := newLimiter(tc.ceiling, nil)
			tc.feed(l)
			if got := l.rate(); got != tc.want {
				t.Errorf("rate = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestLimiterHoldsItsRateUnderRandomThrottling: 30% of attempts throttled
// at random, whatever the rate, is no reason to slow down. The limiter
// that halved its rate on every throttle sat at its floor all along.
func TestLimiterHoldsItsRateUnderRandomThrottling(t *testing.T) {
	for seed := range uint64(20) {
		rng := rand.New(rand.NewPCG(seed, 1))
		l := newLimiter(20, nil)
		var sum float64
		const attempts = 10000
		for range attempts {
			l.observe(rng.Float64() < 0.3)
			sum += l.rate()
		}
		if mean := sum / attempts; mean < 0.9*20 {
			t.Errorf("seed %d: mean rate %.1f calls/s at 30%% random throttling, want at least 90%% of the ceiling of 20", seed, mean)
		}
	}
}

// TestLimiterSettlesBelowAQuota: a caller above AWS's quota (here, AWS lets
// 5 calls a second through and warden tries 20) is throttled on most
// attempts, and the limiter comes down to where about half get through.
func TestLimiterSettlesBelowAQuota(t *testing.T) {
	const quota = 5.0
	l := newLimiter(20, nil)
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		// At rate r, a share quota/r of attempts gets through.
		l.observe(rng.Float64() >= quota/l.rate())
	}
	if r := l.rate(); r >= 15 || r < quota {
		t.Errorf("rate = %.1f calls/s against a quota of %v, want it lowered but not below the quota", r, quota)
	}
}

// TestLimiterCountsWaits: only time actually spent waiting for the limiter
// is counted on its clock.
func TestLimiterCountsWaits(t *testing.T) {
	ctx := context.Background()
	fast := &waitClock{}
	l := newLimiter(1e6, fast)
	for range 50 {
		if err := l.wait(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if got := fast.elapsed(); got != 0 {
		t.Errorf("waited %v under a limit of a million calls a second, want 0", got)
	}
	slow := &waitClock{}
	l = newLimiter(100, slow) // burst 10
	for range 15 {
		if err := l.wait(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if got := slow.elapsed(); got <= 0 {
		t.Errorf("waited %v for 15 calls at 100 a second with a burst of 10, want more than 0", got)
	}
}
