package config

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestSchedule reads each form of schedule: a cron string, a mapping with
// every or cron and jitter, the defaults' schedule inherited by a
// connection that writes none, and none refusing it.
func TestSchedule(t *testing.T) {
	f, err := Parse([]byte(`version: 1
defaults:
  schedule: {every: 1h, jitter: 5m}
connections:
  - id: a
    schedule: "0 */6 * * *"
  - id: b
    schedule:
      cron: "@daily"
      jitter: 2m
  - id: c
  - id: d
    schedule: none
  - id: e
    schedule: {every: 30m}
`), "w.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		cron, every, jitter, text string
	}{
		{"0 */6 * * *", "", "", "0 */6 * * *"},
		{"@daily", "", "2m", `cron: "@daily", jitter: 2m`},
		{"", "1h", "5m", "every: 1h, jitter: 5m"},
		{"", "", "", ""},
		{"", "30m", "", "every: 30m"},
	}
	for i, w := range want {
		s := f.Connections[i].Schedule
		if s.Cron != w.cron || s.Every != w.every || s.Jitter != w.jitter || s.String() != w.text || s.IsZero() != (w.text == "") {
			t.Errorf("connection %s: schedule %+v (%q); want cron %q every %q jitter %q (%q)", f.Connections[i].ID, s, s.String(), w.cron, w.every, w.jitter, w.text)
		}
	}
	if d, err := f.Connections[2].Schedule.Interval(); d != time.Hour || err != nil {
		t.Errorf("c's interval = %v, %v; want 1h", d, err)
	}
	if d, err := f.Connections[2].Schedule.JitterAge(); d != 5*time.Minute || err != nil {
		t.Errorf("c's jitter = %v, %v; want 5m", d, err)
	}
}

// TestScheduleProblems names each bad schedule where it was written, with
// a fix.
func TestScheduleProblems(t *testing.T) {
	_, err := Parse([]byte(`version: 1
defaults:
  schedule: "61 * * * *"
connections:
  - id: a
    schedule: "every hour"
  - id: b
    schedule: {every: 1h, cron: "@hourly"}
  - id: c
    schedule: {every: 1h, jitter: 2h}
  - id: d
    schedule: {every: 90x}
  - id: e
    schedule: {jitter: 5m}
  - id: f
    schedule: "@every 1h"
  - id: g
    schedule:
      cron: "0 * * *"
  - id: h
    schedule: {every: 1h, jitter: soon}
`), "w.yaml")
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("Parse = %v; want a *ValidationError", err)
	}
	want := []struct{ at, path, msg string }{
		{"3:3", "defaults.schedule", `"61 * * * *" is not a cron expression (`},
		{"6:5", "connections[0].schedule", `"every hour" is not a cron expression (`},
		{"8:16", "connections[1].schedule.every", "cannot be used together with cron (line 8); keep one"},
		{"10:27", "connections[2].schedule.jitter", "2h is not shorter than the interval (every: 1h)"},
		{"12:16", "connections[3].schedule.every", `"90x" is not an age`},
		{"14:5", "connections[4].schedule", "has no cron or every; write schedule:"},
		{"16:5", "connections[5].schedule", "@every is not read here; write every: as the schedule's key instead"},
		{"19:7", "connections[6].schedule.cron", `write five fields, minute hour day-of-month month day-of-week, such as "0 */6 * * *"`},
		{"21:27", "connections[7].schedule.jitter", `"soon" is not an age`},
	}
	if len(ve.Problems) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%v", len(ve.Problems), len(want), err)
	}
	for i, w := range want {
		p := ve.Problems[i]
		if at := position2(p); at != w.at || p.Path != w.path || !strings.Contains(p.Message, w.msg) {
			t.Errorf("problem %d = %s at %s: %s; want %s at %s: %s", i, p.Path, at, p.Message, w.path, w.at, w.msg)
		}
	}
}

// TestParseCron reads cron expressions in UTC unless they name a zone.
func TestParseCron(t *testing.T) {
	from := time.Date(2026, 12, 2, 7, 30, 0, 0, time.UTC)
	for _, c := range []struct {
		expr string
		next time.Time
	}{
		{"0 */6 * * *", time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)},
		{"@hourly", time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC)},
		{"@daily", time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)},
		{"CRON_TZ=Asia/Tokyo 0 18 * * *", time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)},
	} {
		s, err := ParseCron(c.expr)
		if err != nil {
			t.Errorf("ParseCron(%q): %v", c.expr, err)
			continue
		}
		if got := s.Next(from); !got.Equal(c.next) {
			t.Errorf("ParseCron(%q).Next(%s) = %s; want %s", c.expr, from, got.UTC(), c.next)
		}
	}
}
