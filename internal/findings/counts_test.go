package findings

import (
	"reflect"
	"testing"
)

// TestCountByRule counts the sample graph's findings, rule by rule, as the
// tests of each rule list them.
func TestCountByRule(t *testing.T) {
	got := CountByRule(sampleGraph(), now, 90)
	want := map[string]int{RuleAdmins: 2, RuleStaleKeys: 3, RuleConsoleWithoutMFA: 2, RuleOutsideTrust: 3, RuleSSOAdmins: 0}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("CountByRule = %v, want %v", got, want)
	}
}
