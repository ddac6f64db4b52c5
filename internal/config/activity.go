package config

import (
	"fmt"
	"time"
)

// Activity says whether and how a sync reads activity (CloudTrail
// management events through LookupEvents, and IAM last accessed data);
// the zero Activity (no `activity:` key) reads none.
type Activity struct {
	// Lookback is how far back the first read of an account and region
	// looks, as an age ("7d"); "" means 7 days, at most 90 (CloudTrail's
	// event history).
	Lookback string `yaml:"lookback"`
	// Regions are the regions whose event history is read in every
	// account; empty means, per account, us-east-1 (where IAM, STS's
	// global endpoint, Organizations and sign-ins record), the
	// connection's region, and every region where the sync's IAM read
	// shows one of the account's roles or access keys used in the last 90
	// days (RoleLastUsed, the credential report).
	Regions []string `yaml:"regions"`
	// LastAccessed is whose IAM last accessed data is read: roles, users,
	// all or none ("" is none).
	LastAccessed string `yaml:"last_accessed"`
	// CallBudget caps the calls a sync spends on last accessed data;
	// 0 means 200.
	CallBudget int `yaml:"call_budget"`
}

// Default and largest activity lookback, and the default call budget.
const (
	DefaultActivityLookback   = 7 * 24 * time.Hour
	MaxActivityLookback       = 90 * 24 * time.Hour
	DefaultActivityCallBudget = 200
	// MinActivityCallBudget is the fewest calls that read one principal's
	// last accessed data.
	MinActivityCallBudget = 3
)

// Enabled reports whether the connection reads activity: an `activity:`
// key with anything set.
func (a Activity) Enabled() bool {
	return a.Lookback != "" || len(a.Regions) > 0 || a.LastAccessed != "" || a.CallBudget != 0
}

// LookbackAge returns the lookback (DefaultActivityLookback when unset).
func (a Activity) LookbackAge() (time.Duration, error) {
	if a.Lookback == "" {
		return DefaultActivityLookback, nil
	}
	d, err := ParseAge(a.Lookback)
	if err != nil {
		return 0, err
	}
	if d <= 0 || d > MaxActivityLookback {
		return 0, fmt.Errorf("%q is not between 1s and 90d: CloudTrail keeps 90 days of management events", a.Lookback)
	}
	return d, nil
}

// Budget returns the call budget of last accessed data.
func (a Activity) Budget() int {
	if a.CallBudget == 0 {
		return DefaultActivityCallBudget
	}
	return a.CallBudget
}

func (a Activity) validate(r *reporter, p string) {
	if _, err := a.LookbackAge(); err != nil {
		r.add(p+".lookback", "%v", err)
	}
	for i, region := range a.Regions {
		checkRegion(r, fmt.Sprintf("%s.regions[%d]", p, i), region)
	}
	switch a.LastAccessed {
	case "", "none", "roles", "users", "all":
	default:
		r.add(p+".last_accessed", "%q is not one of roles, users, all, none", a.LastAccessed)
	}
	if a.CallBudget < 0 || a.CallBudget > 0 && a.CallBudget < MinActivityCallBudget {
		r.add(p+".call_budget", "must be at least %d calls (a principal's last accessed data costs a job, a poll and a page), not %d; leave it out for %d",
			MinActivityCallBudget, a.CallBudget, DefaultActivityCallBudget)
	}
}

// IsRegion reports whether s is shaped as an AWS region name (us-east-1).
func IsRegion(s string) bool { return regionPattern.MatchString(s) }
