package provision

import "testing"

// TestSSOPrincipal: the actions on a whole Identity Center principal name
// the group for a group action and the user for every other, whatever else
// the action carries.
func TestSSOPrincipal(t *testing.T) {
	for _, tt := range []struct {
		kind       Kind
		kindWant   string
		nameWanted string
	}{
		{CreateSSOUser, "user", "ann"},
		{DeleteSSOUser, "user", "ann"},
		{DeactivateSSOUser, "user", "ann"},
		{ReactivateSSOUser, "user", "ann"},
		{CreateSSOGroup, "group", "ops"},
		{DeleteSSOGroup, "group", "ops"},
	} {
		kind, name := Action{Kind: tt.kind, User: "ann", Group: "ops"}.ssoPrincipal()
		if kind != tt.kindWant || name != tt.nameWanted {
			t.Errorf("%s: ssoPrincipal() = %s %q, want %s %q", tt.kind, kind, name, tt.kindWant, tt.nameWanted)
		}
	}
}
