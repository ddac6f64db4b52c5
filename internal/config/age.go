package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ageUnits are the units ParseAge accepts, longest first where one is a
// prefix of another.
var ageUnits = []struct {
	name string
	d    time.Duration
}{
	{"w", 7 * 24 * time.Hour},
	{"d", 24 * time.Hour},
	{"h", time.Hour},
	{"m", time.Minute},
	{"s", time.Second},
}

// maxAge bounds an age to what a time.Duration holds comfortably: 100 years.
const maxAge = 100 * 365 * 24 * time.Hour

// ParseAge reads an age such as 30d, 12h, 2w or 1d12h: whole numbers, each
// followed by a unit (w weeks of 7 days, d days of 24 hours, h hours, m
// minutes, s seconds). It must be more than zero and at most 100 years.
// It is what retention.older_than and `warden snapshots prune
// --older-than` accept.
func ParseAge(s string) (time.Duration, error) {
	bad := func(why string) error {
		return fmt.Errorf("%q is not an age: %s; write whole numbers with units w (weeks), d (days), h (hours), m (minutes) or s (seconds), such as 30d, 12h, 2w or 1d12h", s, why)
	}
	rest := strings.TrimSpace(s)
	if rest == "" {
		return 0, bad("it is empty")
	}
	var total time.Duration
	for rest != "" {
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 0 {
			return 0, bad(fmt.Sprintf("expected a number at %q", rest))
		}
		num := rest[:i]
		n, err := strconv.ParseInt(num, 10, 64)
		if err != nil || n > int64(maxAge/time.Second) {
			return 0, bad("it is longer than 100 years")
		}
		rest = rest[i:]
		var unit time.Duration
		for _, u := range ageUnits {
			if strings.HasPrefix(rest, u.name) {
				unit, rest = u.d, rest[len(u.name):]
				break
			}
		}
		if unit == 0 {
			if rest == "" {
				return 0, bad(fmt.Sprintf("%s has no unit", num))
			}
			return 0, bad(fmt.Sprintf("unknown unit at %q", rest))
		}
		if time.Duration(n) > (maxAge-total)/unit {
			return 0, bad("it is longer than 100 years")
		}
		total += time.Duration(n) * unit
	}
	if total <= 0 {
		return 0, bad("it must be more than zero")
	}
	return total, nil
}

// FormatAge writes d as ParseAge reads it, in the largest whole units: 30d,
// 2w, 1d12h, 1h30m. A d that is not whole seconds is written as
// time.Duration writes it.
func FormatAge(d time.Duration) string {
	if d <= 0 || d%time.Second != 0 {
		return d.String()
	}
	var b strings.Builder
	for _, u := range ageUnits {
		if n := d / u.d; n > 0 {
			fmt.Fprintf(&b, "%d%s", n, u.name)
			d -= n * u.d
		}
	}
	return b.String()
}
