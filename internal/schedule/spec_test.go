package schedule

import (
	"strings"
	"testing"
	"time"

	"github.com/warden-iam/warden/internal/config"
)

func mustSpec(t *testing.T, s config.Schedule) Spec {
	t.Helper()
	sp, err := ParseSpec(s)
	if err != nil {
		t.Fatalf("ParseSpec(%+v): %v", s, err)
	}
	return sp
}

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestSpecEveryEpochAligned(t *testing.T) {
	sp := mustSpec(t, config.Schedule{Every: "6h"})
	if sp.IsZero() || sp.String() != "every: 6h" {
		t.Fatalf("spec %q zero=%v", sp.String(), sp.IsZero())
	}
	cases := []struct{ in, prev, next string }{
		{"2026-12-02T13:14:15Z", "2026-12-02T12:00:00Z", "2026-12-02T18:00:00Z"},
		{"2026-12-02T12:00:00Z", "2026-12-02T12:00:00Z", "2026-12-02T18:00:00Z"}, // a slot is its own Prev, not its Next
		{"2026-12-02T11:59:59.999Z", "2026-12-02T06:00:00Z", "2026-12-02T12:00:00Z"},
		{"1969-12-31T23:00:00Z", "1969-12-31T18:00:00Z", "1970-01-01T00:00:00Z"}, // floor before the epoch
	}
	for _, c := range cases {
		if got := sp.Prev(at(c.in)); !got.Equal(at(c.prev)) {
			t.Errorf("Prev(%s) = %s, want %s", c.in, got, c.prev)
		}
		if got := sp.Next(at(c.in)); !got.Equal(at(c.next)) {
			t.Errorf("Next(%s) = %s, want %s", c.in, got, c.next)
		}
	}
	// A zone does not move the slots: the same instant, the same slot.
	loc := time.FixedZone("x", 5*3600+1800)
	if got := sp.Next(at("2026-12-02T13:14:15Z").In(loc)); !got.Equal(at("2026-12-02T18:00:00Z")) {
		t.Errorf("Next in a zone = %s", got)
	}
	// 7m does not divide an hour: slots are multiples of 7m since 1970.
	sp7 := mustSpec(t, config.Schedule{Every: "7m"})
	n := sp7.Next(at("2026-12-02T13:14:15Z"))
	if n.UnixNano()%int64(7*time.Minute) != 0 || !n.After(at("2026-12-02T13:14:15Z")) || n.Sub(at("2026-12-02T13:14:15Z")) > 7*time.Minute {
		t.Errorf("Next of every 7m = %s, not a multiple of 7m since the epoch within 7m", n)
	}
}

func TestSpecCron(t *testing.T) {
	sp := mustSpec(t, config.Schedule{Cron: "0 */6 * * *", Jitter: "10m"})
	if sp.String() != `cron: "0 */6 * * *", jitter: 10m` {
		t.Errorf("String = %q", sp.String())
	}
	if got := sp.Next(at("2026-12-02T13:14:15Z")); !got.Equal(at("2026-12-02T18:00:00Z")) {
		t.Errorf("Next = %s", got)
	}
	if got := sp.Next(at("2026-12-02T18:00:00Z")); !got.Equal(at("2026-12-03T00:00:00Z")) {
		t.Errorf("Next of a slot = %s, want the one after", got)
	}
	if got := sp.Prev(at("2026-12-02T13:14:15Z")); !got.Equal(at("2026-12-02T12:00:00Z")) {
		t.Errorf("Prev = %s", got)
	}
	if got := sp.Prev(at("2026-12-02T12:00:00Z")); !got.Equal(at("2026-12-02T12:00:00Z")) {
		t.Errorf("Prev of a slot = %s, want itself", got)
	}
	// A rare expression: the last 29 February, years back.
	rare := mustSpec(t, config.Schedule{Cron: "0 0 29 2 *"})
	if got := rare.Prev(at("2026-12-02T00:00:00Z")); !got.Equal(at("2024-02-29T00:00:00Z")) {
		t.Errorf("Prev of 29 February = %s, want 2024-02-29", got)
	}
	yearly := mustSpec(t, config.Schedule{Cron: "@yearly"})
	if got := yearly.Prev(at("2026-12-02T00:00:00Z")); !got.Equal(at("2026-01-01T00:00:00Z")) {
		t.Errorf("Prev @yearly = %s", got)
	}
	// A zoned cron expression: midnight in Tokyo is 15:00 UTC.
	tokyo := mustSpec(t, config.Schedule{Cron: "CRON_TZ=Asia/Tokyo 0 0 * * *"})
	if got := tokyo.Next(at("2026-12-02T00:00:00Z")); !got.Equal(at("2026-12-02T15:00:00Z")) {
		t.Errorf("Next in Tokyo = %s", got)
	}
}

func TestSpecJitter(t *testing.T) {
	sp := mustSpec(t, config.Schedule{Every: "1h", Jitter: "5m"})
	slot := at("2026-12-02T12:00:00Z")
	first := sp.Jitter("prod", slot)
	seen := map[time.Duration]bool{}
	for i := 0; i < 200; i++ {
		s := slot.Add(time.Duration(i) * time.Hour)
		j := sp.Jitter("prod", s)
		if j < 0 || j >= 5*time.Minute {
			t.Fatalf("Jitter(%s) = %s, outside [0, 5m)", s, j)
		}
		if again := sp.Jitter("prod", s); again != j {
			t.Fatalf("Jitter is not deterministic: %s then %s", j, again)
		}
		seen[j] = true
	}
	if len(seen) < 150 {
		t.Errorf("only %d distinct jitters over 200 slots: not spread", len(seen))
	}
	// The same on another Spec parsed from the same schedule (another
	// replica), and in another zone.
	other := mustSpec(t, config.Schedule{Every: "1h", Jitter: "5m"})
	if other.Jitter("prod", slot.In(time.FixedZone("y", 3600))) != first {
		t.Error("another replica's jitter differs")
	}
	if sp.Jitter("staging", slot) == first && sp.Jitter("dev", slot) == first {
		t.Error("every connection has the same jitter")
	}
	if j := mustSpec(t, config.Schedule{Every: "1h"}).Jitter("prod", slot); j != 0 {
		t.Errorf("no jitter gives %s", j)
	}
}

func TestSpecZeroAndInvalid(t *testing.T) {
	z := mustSpec(t, config.Schedule{})
	if !z.IsZero() || z.String() != "" || !z.Next(time.Now()).IsZero() || !z.Prev(time.Now()).IsZero() {
		t.Errorf("zero schedule: %+v", z)
	}
	for _, c := range []struct {
		s    config.Schedule
		want string
	}{
		{config.Schedule{Cron: "61 * * * *"}, "not a cron expression"},
		{config.Schedule{Cron: "@every 1h"}, "@every"},
		{config.Schedule{Every: "soon"}, "every"},
		{config.Schedule{Every: "1h", Jitter: "2h"}, "not shorter than the interval"},
		{config.Schedule{Every: "1h", Cron: "@hourly"}, "keep one"},
		{config.Schedule{Jitter: "5m"}, "no cron or every"},
	} {
		_, err := ParseSpec(c.s)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseSpec(%+v) = %v, want an error containing %q", c.s, err, c.want)
		}
	}
	if e := Every(2*time.Second, 500*time.Millisecond); e.IsZero() || !e.Prev(at("2026-12-02T00:00:03Z")).Equal(at("2026-12-02T00:00:02Z")) {
		t.Errorf("Every: %+v", e)
	}
}
