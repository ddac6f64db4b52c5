package schedule

import (
	"fmt"
	"hash/fnv"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/warden-iam/warden/internal/config"
)

// Spec is when a connection's slots are: the times of a cron expression,
// or every whole multiple of an interval since the Unix epoch, so every
// replica computes the same slots. Each slot's run is delayed by a jitter
// chosen by the connection and the slot. The zero Spec has no slots.
type Spec struct {
	text   string
	cron   cron.Schedule
	every  time.Duration
	jitter time.Duration
}

// ParseSpec reads a connection's schedule of warden.yaml. A zero Schedule
// gives a Spec whose IsZero is true; an invalid one is an error saying
// what to write instead.
func ParseSpec(s config.Schedule) (Spec, error) {
	if s.IsZero() {
		if s.Jitter != "" {
			return Spec{}, fmt.Errorf("schedule has a jitter (%s) but no cron or every; write schedule: {every: 1h, jitter: 5m} or schedule: \"0 */6 * * *\"", s.Jitter)
		}
		return Spec{}, nil
	}
	sp := Spec{text: s.String()}
	if s.Cron != "" && s.Every != "" {
		return Spec{}, fmt.Errorf("schedule %s has both cron and every; keep one", sp.text)
	}
	if s.Cron != "" {
		c, err := config.ParseCron(s.Cron)
		if err != nil {
			return Spec{}, fmt.Errorf("schedule cron: %w", err)
		}
		sp.cron = c
	} else {
		every, err := s.Interval()
		if err != nil {
			return Spec{}, fmt.Errorf("schedule every: %w", err)
		}
		if every < config.MinInterval {
			return Spec{}, fmt.Errorf("schedule every: %s is shorter than %s; write a longer interval such as 1h", s.Every, config.MinInterval)
		}
		sp.every = every
	}
	jitter, err := s.JitterAge()
	if err != nil {
		return Spec{}, fmt.Errorf("schedule jitter: %w", err)
	}
	if jitter < 0 {
		return Spec{}, fmt.Errorf("schedule jitter: %s is negative; write a positive age such as 5m", s.Jitter)
	}
	if sp.every > 0 && jitter >= sp.every {
		return Spec{}, fmt.Errorf("schedule jitter: %s is not shorter than the interval (every: %s); a jitter must be, such as a tenth of it", s.Jitter, s.Every)
	}
	sp.jitter = jitter
	return sp, nil
}

// Every is the Spec of slots every interval since the Unix epoch, each run
// delayed by a part of jitter; it takes intervals config refuses (shorter
// than config.MinInterval), for tests. A zero or negative interval gives
// the zero Spec.
func Every(interval, jitter time.Duration) Spec {
	if interval <= 0 {
		return Spec{}
	}
	if jitter < 0 || jitter >= interval {
		jitter = 0
	}
	text := "every: " + interval.String()
	if jitter > 0 {
		text += ", jitter: " + jitter.String()
	}
	return Spec{text: text, every: interval, jitter: jitter}
}

// IsZero reports whether the Spec has no slots.
func (s Spec) IsZero() bool { return s.cron == nil && s.every == 0 }

// String is the schedule as warden.yaml writes it; "" for none.
func (s Spec) String() string { return s.text }

// Next is the first slot strictly after after; the zero time for the zero
// Spec (or a cron expression that never matches again).
func (s Spec) Next(after time.Time) time.Time {
	switch {
	case s.every > 0:
		return s.Prev(after).Add(s.every)
	case s.cron != nil:
		return s.cron.Next(after)
	}
	return time.Time{}
}

// prevWindow is how far back Prev looks for a cron slot before giving up:
// longer than any cron expression's gap but a few that never match.
const prevWindow = 5 * 366 * 24 * time.Hour

// Prev is the latest slot at or before at; the zero time when there is
// none.
func (s Spec) Prev(at time.Time) time.Time {
	switch {
	case s.every > 0:
		n := at.UnixNano()
		e := int64(s.every)
		k := n / e
		if n%e < 0 {
			k-- // floor, for times before 1970
		}
		return time.Unix(0, k*e).UTC()
	case s.cron != nil:
		// cron only steps forward: step from ever further back until a
		// slot at or before at turns up, then take the last such.
		for back := time.Hour; back <= 2*prevWindow; back *= 2 {
			var last time.Time
			for t := s.cron.Next(at.Add(-back)); !t.IsZero() && !t.After(at); t = s.cron.Next(t) {
				last = t
			}
			if !last.IsZero() {
				return last.UTC()
			}
		}
	}
	return time.Time{}
}

// Jitter is how long the run of connection's slot waits after the slot:
// in [0, jitter), the same on every replica, and different for different
// connections and slots, so connections sharing a schedule do not all
// start at once.
func (s Spec) Jitter(connection string, slot time.Time) time.Duration {
	if s.jitter <= 0 {
		return 0
	}
	h := fnv.New64a()
	fmt.Fprintf(h, "%s\x00%d", connection, slot.UnixNano())
	return time.Duration(h.Sum64() % uint64(s.jitter))
}
