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

// TestActivityValidated: an activity key's values are checked, each error
// naming its key; a valid one is accepted (the sync reads it).
func TestActivityValidated(t *testing.T) {
	f := &File{Version: 1, Connections: []Connection{{ID: "prod", Activity: Activity{Lookback: "100d", LastAccessed: "some", Regions: []string{"mars-1"}}}}}
	err := f.Validate()
	if err == nil {
		t.Fatal("activity with lookback 100d, last_accessed some and region mars-1 validated")
	}
	for _, want := range []string{"activity.lookback", "activity.last_accessed", "activity.regions[0]"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
	ok, err := Parse([]byte("version: 1\nconnections:\n  - id: prod\n    activity:\n      lookback: 30d\n      regions: [eu-west-1]\n      last_accessed: none\n"), "warden.yaml")
	if err != nil {
		t.Fatalf("a valid activity key is refused: %v", err)
	}
	if a := ok.Connections[0].Activity; !a.Enabled() || a.Lookback != "30d" || len(a.Regions) != 1 {
		t.Errorf("activity read as %+v", a)
	}
	if _, err = Parse([]byte("version: 1\nconnections:\n  - id: prod\n    activity:\n      last_accessed: roles\n      call_budget: 50\n"), "warden.yaml"); err != nil {
		t.Errorf("last_accessed: roles is refused: %v", err)
	}
	_, err = Parse([]byte("version: 1\nconnections:\n  - id: prod\n    activity:\n      last_accessed: roles\n      call_budget: 2\n"), "warden.yaml")
	if err == nil || !strings.Contains(err.Error(), "call_budget") || !strings.Contains(err.Error(), "at least 3 calls") {
		t.Errorf("call_budget: 2 = %v, want it refused naming the key and the least budget", err)
	}
	if !IsRegion("eu-west-1") || IsRegion("N/A") || IsRegion("") {
		t.Error("IsRegion: eu-west-1 is a region, N/A and \"\" are not")
	}
}
