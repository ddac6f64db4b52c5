package syncer

import (
	"context"
	"testing"

	"github.com/warden-iam/warden/awsfake"
	"github.com/warden-iam/warden/internal/collect"
	"github.com/warden-iam/warden/internal/model"
)

// TestEveryFailedPartHasAFix: a part that failed is stored with what to do
// about it, whether warden knows the failure (no Identity Center instance)
// or not (an error code it has no advice for).
func TestEveryFailedPartHasAFix(t *testing.T) {
	e := newEnv(t, awsfake.Estate{AccountID: "111122223333", Users: 5, Groups: 1, Roles: 1, Policies: 1, Seed: 7},
		envOptions{fake: awsfake.Options{ActionFaults: map[string]awsfake.ActionFault{
			"iam:GenerateCredentialReport": {Status: 400, Code: "SomethingNoOneHasSeen", Message: "odd"},
			"iam:ListVirtualMFADevices":    {Status: 400, Code: "SomethingElseNoOneHasSeen", Message: "odder"},
		}}})
	snap, err := Sync(context.Background(), e.sess, e.st, Options{IAM: collect.IAMOptions{AccessKeys: true}, IdentityCenter: &IdentityCenterOptions{}})
	if err != nil {
		t.Fatal(err)
	}
	if snap.Status != model.StatusPartial {
		t.Fatalf("status %s, want partial", snap.Status)
	}
	sources := map[string]bool{}
	for _, se := range snap.Errors {
		sources[se.Source] = true
		if se.Fix == "" {
			t.Errorf("failed part %s (%s) has no fix", se.Source, se.Message)
		}
		if se.Source == collect.SourceIdentityCenter && se.Fix != collect.NoInstanceFix {
			t.Errorf("no Identity Center instance: fix = %q, want %q", se.Fix, collect.NoInstanceFix)
		}
	}
	for _, want := range []string{collect.SourceIdentityCenter, collect.SourceCredentialReport, collect.SourceMFADevices} {
		if !sources[want] {
			t.Errorf("no failed part %s among %+v", want, snap.Errors)
		}
	}
}

// TestUnknownFailureStillHasAFix: an error warden has no advice for is
// stored with the fix anyone can follow.
func TestUnknownFailureStillHasAFix(t *testing.T) {
	e := newEnv(t, awsfake.Estate{AccountID: "111122223333", Users: 5, Groups: 1, Roles: 1, Policies: 1, Seed: 7},
		envOptions{fake: awsfake.Options{ActionFaults: map[string]awsfake.ActionFault{
			"sso:ListInstances": {Status: 400, Code: "SomethingNoOneHasSeen", Message: "odd"},
		}}})
	snap, err := Sync(context.Background(), e.sess, e.st, Options{IAM: collect.IAMOptions{AccessKeys: true}, IdentityCenter: &IdentityCenterOptions{}})
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Errors) != 1 || snap.Errors[0].Fix != orRetry("") {
		t.Errorf("errors = %+v, want one identity_center part with the fallback fix", snap.Errors)
	}
}
