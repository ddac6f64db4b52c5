package config

import (
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// Schedule is when `warden serve` syncs a connection on its own: at the
// times of a cron expression, or every fixed interval, each run delayed by
// up to Jitter. The zero Schedule has none: the connection syncs only when
// asked.
//
// In the file it is a string, a cron expression (schedule: "0 */6 * * *";
// schedule: none for no schedule, even when the defaults give one), or a
// mapping with cron or every, and jitter (schedule: {every: 1h, jitter:
// 5m}).
type Schedule struct {
	// Cron is a standard five-field cron expression (minute hour
	// day-of-month month day-of-week) or a descriptor such as @hourly,
	// read in UTC unless it starts with CRON_TZ=Zone; see ParseCron.
	Cron string `yaml:"cron"`
	// Every is a fixed interval, an age as ParseAge reads it (1h, 30m):
	// slots at whole multiples of it since 1970-01-01 UTC.
	Every string `yaml:"every"`
	// Jitter, an age, delays each run by a fixed part of it chosen by the
	// connection's id, so connections sharing a schedule do not all start
	// at once; "" delays none.
	Jitter string `yaml:"jitter"`

	short bool // written as a string
}

// fromScalar reads the string form of a schedule: a cron expression, or
// none.
func (s *Schedule) fromScalar(v string) {
	*s = Schedule{short: true}
	if strings.TrimSpace(v) != ScheduleNone {
		s.Cron = v
	}
}

// ScheduleNone, written as a connection's schedule, gives it none even
// when the defaults section has one.
const ScheduleNone = "none"

// IsZero reports whether the schedule has no slots.
func (s Schedule) IsZero() bool { return s.Cron == "" && s.Every == "" }

// String writes the schedule as the file does: the cron expression of the
// string form, or "every: 1h, jitter: 5m"; "" for none.
func (s Schedule) String() string {
	if s.IsZero() {
		return ""
	}
	if s.short {
		return s.Cron
	}
	var parts []string
	if s.Cron != "" {
		parts = append(parts, fmt.Sprintf("cron: %q", s.Cron))
	}
	if s.Every != "" {
		parts = append(parts, "every: "+s.Every)
	}
	if s.Jitter != "" {
		parts = append(parts, "jitter: "+s.Jitter)
	}
	return strings.Join(parts, ", ")
}

// Interval returns Every read by ParseAge; 0 when it is empty.
func (s Schedule) Interval() (time.Duration, error) {
	if s.Every == "" {
		return 0, nil
	}
	return ParseAge(s.Every)
}

// JitterAge returns Jitter read by ParseAge; 0 when it is empty.
func (s Schedule) JitterAge() (time.Duration, error) {
	if s.Jitter == "" {
		return 0, nil
	}
	return ParseAge(s.Jitter)
}

// cronParser is the standard five-field parser with descriptors.
var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// ParseCron reads a cron expression as a schedule's cron: five fields
// (minute hour day-of-month month day-of-week) or a descriptor (@yearly,
// @monthly, @weekly, @daily, @hourly), in UTC unless the expression starts
// with CRON_TZ=Zone (or TZ=Zone), so every replica reads the same times.
// @every is refused: a schedule's every: gives slots every replica agrees
// on.
func ParseCron(expr string) (cron.Schedule, error) {
	e := strings.TrimSpace(expr)
	body := e
	if strings.HasPrefix(e, "CRON_TZ=") || strings.HasPrefix(e, "TZ=") {
		if _, rest, ok := strings.Cut(e, " "); ok {
			body = strings.TrimSpace(rest)
		}
	} else {
		e = "CRON_TZ=UTC " + e
	}
	if strings.HasPrefix(body, "@every") {
		return nil, fmt.Errorf("%q: @every is not read here; write every: as the schedule's key instead (schedule: {every: 1h})", expr)
	}
	sched, err := cronParser.Parse(e)
	if err != nil {
		return nil, fmt.Errorf("%q is not a cron expression (%v); write five fields, minute hour day-of-month month day-of-week, such as \"0 */6 * * *\", or a descriptor such as @hourly or @daily", expr, err)
	}
	return sched, nil
}

// MinInterval is the shortest every: a schedule takes.
const MinInterval = time.Second

// validate checks a schedule at path p.
func (s Schedule) validate(r *reporter, p string) {
	key := func(k string) string {
		if s.short {
			return p
		}
		return p + "." + k
	}
	if s.Cron != "" && s.Every != "" {
		r.add(key("every"), "cannot be used together with cron%s; keep one", lineNote(r, key("cron")))
		return
	}
	if s.Cron == "" && s.Every == "" {
		if s.Jitter != "" || r.src != nil && !s.short && (r.src.has(p+".cron") || r.src.has(p+".every")) {
			r.add(p, "has no cron or every; write schedule: \"0 */6 * * *\" (cron), schedule: {every: 1h, jitter: 5m}, or schedule: none")
		}
		return
	}
	var every time.Duration
	if s.Cron != "" {
		if _, err := ParseCron(s.Cron); err != nil {
			r.add(key("cron"), "%v", err)
			return
		}
	} else {
		var err error
		every, err = ParseAge(s.Every)
		switch {
		case err != nil:
			r.add(key("every"), "%v", err)
			return
		case every < MinInterval:
			r.add(key("every"), "%s is shorter than %s; write a longer interval such as 1h", s.Every, MinInterval)
			return
		}
	}
	if s.Jitter == "" {
		return
	}
	jitter, err := ParseAge(s.Jitter)
	switch {
	case err != nil:
		r.add(key("jitter"), "%v", err)
	case every > 0 && jitter >= every:
		r.add(key("jitter"), "%s is not shorter than the interval (every: %s); a jitter must be, such as a tenth of it", s.Jitter, s.Every)
	}
}
