package awsapi

import "testing"

func TestLimiterAdapts(t *testing.T) {
	tests := []struct {
		name      string
		ceiling   float64
		throttles int
		successes int
		want      float64
	}{
		{"untouched", 20, 0, 0, 20},
		{"one throttle halves", 20, 1, 0, 10},
		{"floor is an eighth", 20, 10, 0, 2.5},
		{"floor never below one call a second", 4, 10, 0, 1},
		{"tiny ceiling is its own floor", 0.5, 3, 0, 0.5},
		{"recovers by a 32nd of the ceiling per success", 32, 1, 4, 20},
		{"never above the ceiling", 20, 1, 1000, 20},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := newLimiter(tc.ceiling)
			for range tc.throttles {
				l.throttled()
			}
			for range tc.successes {
				l.succeeded()
			}
			if got := l.rate(); got != tc.want {
				t.Errorf("rate = %v, want %v", got, tc.want)
			}
		})
	}
}
