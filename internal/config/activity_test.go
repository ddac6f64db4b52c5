package config

import (
	"strings"
	"testing"
	"time"
)

// TestActivityLookback: default 7 days, at most 90, ages as elsewhere.
func TestActivityLookback(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 7 * 24 * time.Hour, true},
		{"30d", 30 * 24 * time.Hour, true},
		{"90d", 90 * 24 * time.Hour, true},
		{"91d", 0, false},
		{"soon", 0, false},
	} {
		got, err := Activity{Lookback: tc.in}.LookbackAge()
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("lookback %q = %v, %v; want %v (ok %v)", tc.in, got, err, tc.want, tc.ok)
		}
	}
	if (Activity{}).Enabled() || !(Activity{LastAccessed: "roles"}).Enabled() {
		t.Error("Enabled: the zero Activity reads nothing; any key set reads activity")
	}
	if (Activity{}).Budget() != DefaultActivityCallBudget || (Activity{CallBudget: 7}).Budget() != 7 {
		t.Error("Budget: 0 means the default")
	}
}

// TestActivityRefusedUntilWired: an activity key is refused with its
// reason while the sync does not read activity, so it is never accepted
// and ignored; its values are checked either way.
func TestActivityRefusedUntilWired(t *testing.T) {
	f := &File{Version: 1, Connections: []Connection{{ID: "prod", Activity: Activity{Lookback: "100d", LastAccessed: "some"}}}}
	err := f.Validate()
	if err == nil {
		t.Fatal("activity with lookback 100d and last_accessed some validated")
	}
	for _, want := range []string{"activity.lookback", "activity.last_accessed"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
	if !ActivitySyncWired && !strings.Contains(err.Error(), "does not read yet") {
		t.Errorf("error %q does not say the sync does not read activity yet", err)
	}
}
