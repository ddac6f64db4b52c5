package suggest

import (
	"fmt"
	"testing"
)

func TestDistance(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"abc", "", 3}, {"", "abc", 3}, {"kitten", "sitting", 3},
		{"groups", "groups", 0}, {"gruops", "groups", 2}, {"user", "users", 1},
	} {
		if got := Distance(tt.a, tt.b); got != tt.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestClosest(t *testing.T) {
	known := []string{"document", "groups", "policy_arn", "user"}
	for _, tt := range []struct{ name, want string }{
		{"grops", "groups"},
		{"GROUPS", "groups"},        // compared in lower case
		{"policy_ar", "policy_arn"}, // one edit
		{"usr", "user"},
		{"zzzzzzzz", ""}, // nothing near
		{"x", ""},        // too short to guess: a word of known is 4 edits away
	} {
		if got := Closest(tt.name, known); got != tt.want {
			t.Errorf("Closest(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func ExampleClosest() {
	fmt.Println(Closest("gruops", []string{"groups", "users"}))
	// Output: groups
}
