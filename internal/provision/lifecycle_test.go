package provision

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/warden-iam/warden/awsfake"
	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/store"
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

// planNoOp plans an action and returns why it is a no-op, failing the test
// when it plans a call.
func (e *env) planNoOp(t *testing.T, a Action) string {
	t.Helper()
	pl, err := e.p.Plan(context.Background(), a)
	if err != nil {
		t.Fatalf("plan %s: %v", a.Kind, err)
	}
	if len(pl.Steps) != 0 {
		t.Fatalf("plan %s = %v, want nothing to do", a.Kind, pl.Steps)
	}
	return pl.NoOp
}

// TestGoneUserIsToldFromUnknownName: a misspelt name is "no such user",
// not "already deleted"; a user this database saw deleted says how it
// knows: warden's own deletion (audit log), a snapshot that has it, or a
// recorded deactivation.
func TestGoneUserIsToldFromUnknownName(t *testing.T) {
	e := newEnv(t, awsfake.Options{})
	ctx := context.Background()
	want := func(got string, parts ...string) {
		t.Helper()
		for _, p := range parts {
			if !strings.Contains(got, p) {
				t.Errorf("%q does not say %q", got, p)
			}
		}
		if strings.Contains(got, "already deleted") {
			t.Errorf("%q still says already deleted", got)
		}
	}
	want(e.planNoOp(t, Action{Kind: DeleteUser, User: "leavr"}), "no such user leavr in account "+acct, "nothing to do")
	if _, err := e.p.Plan(ctx, Action{Kind: DeactivateUser, User: "leavr"}); err == nil || !strings.Contains(err.Error(), "no such user leavr") {
		t.Errorf("deactivating a name never seen: %v, want no such user", err)
	}

	e.run(t, Action{Kind: DeleteUser, User: "leaver"})
	want(e.planNoOp(t, Action{Kind: DeleteUser, User: "leaver"}), "user leaver in account "+acct+" was deleted by warden on ", "nothing to do")
	want(e.planNoOp(t, Action{Kind: DeactivateUser, User: "leaver"}), "was deleted by warden", "nothing to deactivate")
	if _, err := e.p.Plan(ctx, Action{Kind: ReactivateUser, User: "leaver"}); err == nil || !strings.Contains(err.Error(), "cannot be reactivated") {
		t.Errorf("reactivating a deleted user: %v", err)
	}
	// Created again by warden, then deleted outside it: the audit log's
	// deletion is older than the creation, so it is not the answer.
	e.run(t, Action{Kind: CreateUser, User: "leaver", ConsolePassword: true})
	e.run(t, Action{Kind: DeactivateUser, User: "leaver"})
	if _, err := e.p.IAM.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("leaver")}); err != nil {
		t.Fatal(err)
	}
	want(e.planNoOp(t, Action{Kind: DeleteUser, User: "leaver"}), "no longer exists", "recorded its deactivation", "deleted outside warden")

	// A user a snapshot has, deleted outside warden.
	at := time.Date(2026, 9, 1, 12, 0, 0, 0, time.UTC)
	g := &model.Graph{Resources: []model.Resource{{ID: "arn:aws:iam::" + acct + ":user/ghost", Type: model.TypeIAMUser, AccountID: acct, Name: "ghost",
		ARN: "arn:aws:iam::" + acct + ":user/ghost"}}}
	id, err := e.st.WriteSnapshot(ctx, &model.Snapshot{ConnectionID: "test", StartedAt: at, FinishedAt: at, Status: model.StatusComplete}, g)
	if err != nil {
		t.Fatal(err)
	}
	want(e.planNoOp(t, Action{Kind: DeleteUser, User: "ghost"}), "user ghost in account "+acct+" no longer exists: snapshot "+strconv.FormatInt(id, 10)+" of 2026-09-01T12:00:00Z has it")
}

// TestBatchSeesPlannedCredentialChanges: in one batch, a deactivation
// planned after another finds every credential already set Inactive, and a
// user created earlier in the batch has no credentials to list.
func TestBatchSeesPlannedCredentialChanges(t *testing.T) {
	e := newEnv(t, awsfake.Options{})
	plans, err := e.p.PlanAll(context.Background(), []Action{
		{Kind: DeactivateUser, User: "leaver"},
		{Kind: DeactivateUser, User: "leaver"},
		{Kind: CreateUser, User: "brandnew"},
		{Kind: DeactivateUser, User: "brandnew"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(plans[0].Steps) != 5 {
		t.Errorf("first deactivation plans %v, want the password, one key and three other credentials", plans[0].Steps)
	}
	for _, i := range []int{1, 3} {
		if len(plans[i].Steps) != 0 {
			t.Errorf("action %d plans %v, want nothing left to deactivate", i+1, plans[i].Steps)
		}
	}
}

// TestBatchDeleteThenLifecycleSaysWhy: actions after a delete-user of the
// same batch say the batch deletes the user, not that there is no such user.
func TestBatchDeleteThenLifecycleSaysWhy(t *testing.T) {
	e := newEnv(t, awsfake.Options{})
	plans, err := e.p.PlanAll(context.Background(), []Action{
		{Kind: DeleteUser, User: "leaver"},
		{Kind: DeleteUser, User: "leaver"},
		{Kind: DeactivateUser, User: "leaver"},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, pl := range plans[1:] {
		if len(pl.Steps) != 0 || !strings.Contains(pl.NoOp, "deleted by an earlier action of this batch") {
			t.Errorf("%s after delete-user plans %v: %q", pl.Action.Kind, pl.Steps, pl.NoOp)
		}
	}
}

// TestUnreadableDeactivationSaysWhatToDo: a deactivation record that does
// not parse stops every plan that reads it (reactivate-user, a second
// deactivate-user, delete-user of a user gone) with a RecordError whose
// fix names `warden audit` and the statement that deletes the record; the
// statement does delete it, and planning then goes on as for a user never
// deactivated.
func TestUnreadableDeactivationSaysWhatToDo(t *testing.T) {
	e := newEnv(t, awsfake.Options{})
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "records.db")
	st, err := store.OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	e.p.Audit, e.p.Records = st, st
	for _, user := range []string{"leaver", "ghost"} {
		if err := st.SaveDeactivation(ctx, "test", acct, "user/"+user, "{not json"); err != nil {
			t.Fatal(err)
		}
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, a := range []Action{{Kind: DeactivateUser, User: "leaver"}, {Kind: ReactivateUser, User: "leaver"}, {Kind: DeleteUser, User: "ghost"}} {
		_, err := e.p.Plan(ctx, a)
		var re *RecordError
		if !errors.As(err, &re) {
			t.Fatalf("plan %s with an unreadable record: %v, want a RecordError", a.Kind, err)
		}
		if want := "the recorded deactivation of " + a.User + " is unreadable: "; !strings.HasPrefix(re.Problem, want) || !strings.Contains(err.Error(), re.Problem) {
			t.Errorf("plan %s: %q (problem %q), want the problem to start %q", a.Kind, err, re.Problem, want)
		}
		sqlText := "DELETE FROM deactivations WHERE account_id='" + acct + "' AND principal='user/" + a.User + "'"
		want := "`warden audit` lists what deactivate-user changed for " + a.User + " (console password, keys and credentials set Inactive, AWSDenyAll): " +
			"restore by hand what the user should have, then delete the record with sqlite3 on the database (--db): " + sqlText
		if re.Fix != want {
			t.Errorf("plan %s: fix\n%s\nwant\n%s", a.Kind, re.Fix, want)
		}
		if a.Kind == DeactivateUser {
			continue // the same record as reactivate-user's, deleted next
		}
		if _, err := db.ExecContext(ctx, sqlText); err != nil {
			t.Fatalf("the fix's statement: %v", err)
		}
	}
	if _, err := e.p.Plan(ctx, Action{Kind: ReactivateUser, User: "leaver"}); err == nil || !strings.Contains(err.Error(), "no deactivation of user leaver is recorded") {
		t.Errorf("reactivate-user after the record is deleted: %v, want no deactivation recorded", err)
	}
	if _, err := e.p.Plan(ctx, Action{Kind: DeactivateUser, User: "leaver"}); err != nil {
		t.Errorf("deactivate-user after the record is deleted: %v", err)
	}
	if got := e.planNoOp(t, Action{Kind: DeleteUser, User: "ghost"}); !strings.Contains(got, "no such user ghost") {
		t.Errorf("delete-user of ghost after the record is deleted: %q, want no such user", got)
	}
}
