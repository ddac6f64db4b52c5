package provision

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

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

// TestDeactivateDisablesEveryCredential: deactivation sets every active
// credential of every kind Inactive (MFA stays), records exactly those,
// and reactivation restores exactly those: one already Inactive stays so.
func TestDeactivateDisablesEveryCredential(t *testing.T) {
	e := newEnv(t, awsfake.Options{})
	ctx := context.Background()
	before := e.srv.Account(acct).IAM.Users["leaver"]
	// A second SSH key, set Inactive by its owner before the deactivation.
	if _, err := e.p.IAM.UpdateSSHPublicKey(ctx, &iam.UpdateSSHPublicKeyInput{UserName: aws.String("leaver"), SSHPublicKeyId: aws.String(before.SSHPublicKeys[0]), Status: types.StatusTypeInactive}); err != nil {
		t.Fatal(err)
	}
	e.run(t, Action{Kind: DeactivateUser, User: "leaver"})
	off := e.srv.Account(acct).IAM.Users["leaver"]
	for _, id := range append(append(append([]string{}, off.SigningCertificates...), off.SSHPublicKeys...), off.ServiceCredentials...) {
		if off.CredentialStatus[id] != "Inactive" {
			t.Errorf("credential %s is still active after deactivation", id)
		}
	}
	for _, k := range off.AccessKeys {
		if k.Status != "Inactive" {
			t.Errorf("access key %s is %s", k.ID, k.Status)
		}
	}
	if off.LoginProfile != nil || len(off.MFADevices) != len(before.MFADevices) {
		t.Errorf("after deactivation: login profile %v, %d MFA devices (were %d)", off.LoginProfile, len(off.MFADevices), len(before.MFADevices))
	}
	state, err := e.st.Deactivation(ctx, "test", acct, "user/leaver")
	if err != nil {
		t.Fatal(err)
	}
	var d Deactivation
	if err := json.Unmarshal([]byte(state), &d); err != nil {
		t.Fatal(err)
	}
	want := Deactivation{LoginProfile: true, AccessKeys: []string{"AKIALEAVER0000000001"}, SigningCertificates: before.SigningCertificates,
		ServiceSpecificCredentials: before.ServiceCredentials}
	if !reflect.DeepEqual(d, want) {
		t.Errorf("recorded %+v\nwant     %+v", d, want)
	}
	e.noOp(t, Action{Kind: DeactivateUser, User: "leaver"})

	e.run(t, Action{Kind: ReactivateUser, User: "leaver"})
	on := e.srv.Account(acct).IAM.Users["leaver"]
	wantStatus := map[string]string{before.SSHPublicKeys[0]: "Inactive"}
	if !reflect.DeepEqual(on.CredentialStatus, wantStatus) {
		t.Errorf("after reactivation the inactive credentials are %v, want only the key its owner disabled: %v", on.CredentialStatus, wantStatus)
	}
}
