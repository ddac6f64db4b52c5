package provision

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/warden-iam/warden/awsfake"
)

// runRecorder records Run's callbacks.
type runRecorder struct {
	confirmed []string // kind and user of the plans asked about
	refreshed []Change
	refuse    error // Confirm's answer
}

func (r *runRecorder) options(p *Provisioner, actions []Action) RunOptions {
	return RunOptions{Actions: actions, Provisioner: p,
		Confirm: func(_ context.Context, pl *Plan) error {
			r.confirmed = append(r.confirmed, string(pl.Action.Kind)+" "+pl.Action.User)
			return r.refuse
		},
		Refresh: func(_ context.Context, c Change) (int64, error) {
			r.refreshed = append(r.refreshed, c)
			return int64(len(r.refreshed)), nil
		}}
}

// TestRunConfirmRefusedChangesNothing: a refused confirmation ends the run
// before any write, the earlier actions' included, and nothing is refreshed.
func TestRunConfirmRefusedChangesNothing(t *testing.T) {
	e := newEnv(t, awsfake.Options{})
	group := e.srv.Account(acct).IAM.Users["leaver"].Groups[0]
	no := errors.New("not confirmed")
	rec := &runRecorder{refuse: no}
	res, err := Run(context.Background(), rec.options(e.p, []Action{{Kind: CreateUser, User: "newbie1"},
		{Kind: RemoveFromGroup, User: "leaver", Group: group}}))
	var re *RunError
	if !errors.As(err, &re) || re.Stage != StageConfirm || !errors.Is(err, no) || err.Error() != no.Error() {
		t.Fatalf("run: %v, want the Confirm error at stage confirm", err)
	}
	if want := []string{"remove-from-group leaver"}; !slices.Equal(rec.confirmed, want) {
		t.Errorf("confirm asked about %q, want %q", rec.confirmed, want)
	}
	if w := writes(e.srv.Calls()); len(w) != 0 {
		t.Errorf("writes after a refused confirmation: %v", w)
	}
	if len(res.Plans) != 2 || res.Results != nil || len(rec.refreshed) != 0 || res.Refreshed != nil {
		t.Errorf("result %+v, refreshed %v; want the plans only", res, rec.refreshed)
	}
	if _, ok := e.srv.Account(acct).IAM.Users["newbie1"]; ok {
		t.Error("newbie1 was created")
	}

	// Without a Confirm callback the plan is refused the same way.
	o := rec.options(e.p, []Action{{Kind: RemoveFromGroup, User: "leaver", Group: group}})
	o.Confirm = nil
	if _, err := Run(context.Background(), o); !errors.As(err, &re) || re.Stage != StageConfirm {
		t.Fatalf("run without Confirm: %v", err)
	}
	if w := writes(e.srv.Calls()); len(w) != 0 {
		t.Errorf("writes without a confirmation: %v", w)
	}
}

// TestRunConfirmedAppliesAndRefreshesOnce: confirmed, every action is
// applied, and the account is refreshed once with the users changed; a
// dry run plans only.
func TestRunConfirmedAppliesAndRefreshesOnce(t *testing.T) {
	e := newEnv(t, awsfake.Options{})
	group := e.srv.Account(acct).IAM.Users["leaver"].Groups[0]
	actions := []Action{{Kind: CreateUser, User: "newbie1"}, {Kind: RemoveFromGroup, User: "leaver", Group: group}}

	rec := &runRecorder{}
	o := rec.options(e.p, actions)
	var planned []*Plan
	o.DryRun, o.Planned = true, func(plans []*Plan) error { planned = plans; return nil }
	res, err := Run(context.Background(), o)
	if err != nil || len(planned) != 2 || len(res.Results) != 2 || len(res.Results[1].Done) != 0 || len(rec.confirmed)+len(rec.refreshed) != 0 {
		t.Fatalf("dry run: %v, planned %d, result %+v, confirmed %v, refreshed %v", err, len(planned), res, rec.confirmed, rec.refreshed)
	}
	if w := writes(e.srv.Calls()); len(w) != 0 {
		t.Fatalf("writes in a dry run: %v", w)
	}

	res, err = Run(context.Background(), rec.options(e.p, actions))
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	iam := e.srv.Account(acct).IAM
	if _, ok := iam.Users["newbie1"]; !ok || slices.Contains(iam.Users["leaver"].Groups, group) {
		t.Errorf("after run: newbie1 exists %v, leaver's groups %v", ok, iam.Users["leaver"].Groups)
	}
	if want := []string{"remove-from-group leaver"}; !slices.Equal(rec.confirmed, want) {
		t.Errorf("confirm asked about %q, want %q", rec.confirmed, want)
	}
	if len(rec.refreshed) != 1 || rec.refreshed[0].Account != acct || rec.refreshed[0].IdentityCenter ||
		!slices.Equal(rec.refreshed[0].Users, []string{"newbie1", "leaver"}) {
		t.Errorf("refreshed %+v, want account %s once with newbie1 and leaver", rec.refreshed, acct)
	}
	if len(res.Refreshed) != 1 || res.Refreshed[0].Snapshot != 1 || res.Refreshed[0].Err != nil || len(res.Results) != 2 ||
		len(res.Results[0].Done) == 0 || len(res.Results[1].Done) != 1 {
		t.Errorf("result %+v", res)
	}

	// Run again: nothing to do, nothing to refresh.
	rec = &runRecorder{}
	if res, err = Run(context.Background(), rec.options(e.p, actions)); err != nil || len(rec.refreshed) != 0 || len(res.Results[0].Done)+len(res.Results[1].Done) != 0 {
		t.Errorf("second run: %v, refreshed %v, result %+v", err, rec.refreshed, res)
	}
}

// TestRunRefreshesIdentityCenterOnce: Identity Center changes are
// refreshed once, as Identity Center's.
func TestRunRefreshesIdentityCenterOnce(t *testing.T) {
	_, p, truth := newOrgICEnv(t)
	rec := &runRecorder{}
	_, err := Run(context.Background(), rec.options(p, []Action{{Kind: CreateSSOGroup, Group: "auditors"},
		{Kind: AssignPermissionSet, Group: "auditors", PermissionSet: "ReadOnlyAccess", Account: truth.Members[0].ID}}))
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if len(rec.refreshed) != 1 || !rec.refreshed[0].IdentityCenter || rec.refreshed[0].Account != "" {
		t.Errorf("refreshed %+v, want Identity Center once", rec.refreshed)
	}
}

// TestRunFailingStepSaysWhatWasDone: a call failing part way ends the run
// with an apply error; the result holds the actions done before it, the
// calls of the failing one made before the failure, its password, and the
// refresh of what changed.
func TestRunFailingStepSaysWhatWasDone(t *testing.T) {
	e := newEnv(t, awsfake.Options{ActionFaults: map[string]awsfake.ActionFault{"iam:AddUserToGroup": {Status: 500}}})
	rec := &runRecorder{}
	res, err := Run(context.Background(), rec.options(e.p, []Action{{Kind: CreateUser, User: "first"},
		{Kind: CreateUser, User: "second", ConsolePassword: true, Groups: e.groups()[:1]},
		{Kind: CreateUser, User: "third"}}))
	var re *RunError
	var be *BatchError
	var ae *ApplyError
	if !errors.As(err, &re) || re.Stage != StageApply || !errors.As(err, &be) || be.Index != 1 || !errors.As(err, &ae) || ae.Failed.Call != "iam:AddUserToGroup" {
		t.Fatalf("run: %v, want action 2 failing at iam:AddUserToGroup", err)
	}
	if len(res.Plans) != 3 || len(res.Results) != 2 {
		t.Fatalf("%d plans, %d results; want 3 and 2", len(res.Plans), len(res.Results))
	}
	first, second := res.Results[0], res.Results[1]
	var calls []string
	for _, d := range second.Done {
		calls = append(calls, d.Step.Call)
	}
	iam := e.srv.Account(acct).IAM
	if len(first.Done) == 0 || first.Failed != nil || iam.Users["first"] == nil {
		t.Errorf("first action: %+v", first)
	}
	if !slices.Equal(calls, []string{"iam:CreateUser", "iam:CreateLoginProfile"}) || second.Failed == nil || second.Failed.Step.Call != "iam:AddUserToGroup" {
		t.Errorf("second action: done %v, failed %+v", calls, second.Failed)
	}
	if u := iam.Users["second"]; u == nil || u.LoginProfile == nil || len(second.Secrets) != 1 || second.Secrets[0].Value != u.LoginProfile.Password {
		t.Errorf("second action's password not returned: %+v", second.Secrets)
	}
	if iam.Users["third"] != nil {
		t.Error("third was created after the failure")
	}
	if len(rec.refreshed) != 1 || !slices.Equal(rec.refreshed[0].Users, []string{"first", "second"}) || len(res.Refreshed) != 1 {
		t.Errorf("refreshed %+v, want the account once with first and second", rec.refreshed)
	}
}
