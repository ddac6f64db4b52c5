package provision

import (
	"context"
	"strings"
	"testing"

	"github.com/warden-iam/warden/awsfake"
)

// TestReactivationCycles: a reactivation done is a no-op when run again, a
// user never deactivated is refused, and a second deactivation records
// only what it removed itself.
func TestReactivationCycles(t *testing.T) {
	e := newEnv(t, awsfake.Options{})
	ctx := context.Background()
	if _, err := e.p.Plan(ctx, Action{Kind: ReactivateUser, User: "leaver"}); err == nil || !strings.Contains(err.Error(), "no deactivation") {
		t.Fatalf("reactivating a user never deactivated: %v, want no deactivation recorded", err)
	}
	e.run(t, Action{Kind: DeactivateUser, User: "leaver", DenyAll: true})
	e.run(t, Action{Kind: ReactivateUser, User: "leaver"})
	e.noOp(t, Action{Kind: ReactivateUser, User: "leaver"})

	// The second deactivation, without AWSDenyAll: reactivating it must not
	// detach an AWSDenyAll the operator attached since.
	e.run(t, Action{Kind: DeactivateUser, User: "leaver"})
	e.run(t, Action{Kind: AttachPolicy, User: "leaver", PolicyARN: DenyAllPolicyARN})
	pl, err := e.p.Plan(ctx, Action{Kind: ReactivateUser, User: "leaver"})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range pl.Steps {
		if s.Call == "iam:DetachUserPolicy" {
			t.Errorf("the second reactivation detaches AWSDenyAll, which its deactivation did not attach: %v", pl.Steps)
		}
	}
}
