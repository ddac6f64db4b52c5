package provision

import (
	"context"
	"errors"
	"fmt"
)

// Stage names the part of an apply run that failed (see RunError).
type Stage string

// The stages of an apply run, in order.
const (
	// StagePlan is the planning of every action, before any change.
	StagePlan Stage = "plan"
	// StageConfirm is the confirmation of the plans that ask for it,
	// before any change.
	StageConfirm Stage = "confirm"
	// StageApply is the carrying out of the plans, call by call.
	StageApply Stage = "apply"
)

// RunError is the failure of an apply run: the stage it stopped at and the
// error of that stage (a *BatchError or *ApplyError of PlanAll or ApplyAll,
// or the Confirm callback's own error, as it was returned). Nothing was
// changed when Stage is StagePlan or StageConfirm.
type RunError struct {
	Stage Stage
	Err   error
}

// Error implements error: the stage's error, word for word.
func (e *RunError) Error() string { return e.Err.Error() }

// Unwrap returns the stage's error.
func (e *RunError) Unwrap() error { return e.Err }

// Change is what an apply run changed in one place, for a refresh of the
// snapshot that records it: an IAM account (Account, and the users of the
// actions that made calls, in action order) or the Identity Center instance
// (IdentityCenter set, Account empty).
type Change struct {
	Account        string
	IdentityCenter bool
	Users          []string
}

// Refreshed is one refresh an apply run made: the change refreshed, the
// snapshot that records it, or the refresh's error (the changes were made
// all the same; a later sync catches up).
type Refreshed struct {
	Change   Change
	Snapshot int64
	Err      error
}

// RunOptions is one apply run: the actions, the provisioner that plans and
// applies them, and the callbacks through which the caller (the CLI, the
// HTTP API) takes part.
type RunOptions struct {
	// Actions are planned in order, each on the state the earlier ones
	// leave, and applied in order.
	Actions []Action
	// Provisioner plans and applies the actions.
	Provisioner *Provisioner
	// DryRun stops the run after planning (and Planned): nothing is
	// confirmed or changed, and every result is empty.
	DryRun bool
	// Planned, when set, is called once with every plan, after planning
	// and before any confirmation or change (the CLI shows the plans); an
	// error it returns ends the run as it is, before any change.
	Planned func(plans []*Plan) error
	// Confirm is called, in order, for every plan whose Confirm is set,
	// before any change; an error it returns ends the run (a *RunError of
	// StageConfirm) and nothing is changed. When Confirm is nil, a plan
	// asking for confirmation ends the run the same way: a caller that
	// confirms beforehand (--yes) passes a Confirm returning nil.
	Confirm func(ctx context.Context, pl *Plan) error
	// Refresh, when set, brings the snapshot up to date after apply: it is
	// called once per place the run changed (the IAM account, then the
	// Identity Center instance), even when a later call failed, and
	// returns the id of the snapshot that records the change.
	Refresh func(ctx context.Context, c Change) (snapshot int64, err error)
}

// RunResult is what an apply run did, as plain values: the plans, a result
// per plan begun (the calls made, the generated secrets, the call that
// failed), and the refreshes made.
type RunResult struct {
	Plans     []*Plan
	Results   []*Result
	Refreshed []Refreshed
}

// Run carries out one whole apply run: it plans every action (checking
// every name before the first change), hands the plans to Planned, stops
// there on DryRun, asks Confirm for each plan that needs it, applies the
// plans in order (stopping at the first failed call), and refreshes the
// snapshot of what changed. The result holds what was done even when the
// run fails part way (a password generated before a failed call is in
// it); the error is a *RunError naming the stage that failed, except an
// error of Planned, returned as it is.
func Run(ctx context.Context, o RunOptions) (*RunResult, error) {
	p := o.Provisioner
	if p == nil {
		return nil, errors.New("provision.Run: no Provisioner given; build one with the account's IAM client")
	}
	res := &RunResult{}
	plans, err := p.PlanAll(ctx, o.Actions)
	if err != nil {
		return res, &RunError{Stage: StagePlan, Err: err}
	}
	res.Plans = plans
	if o.Planned != nil {
		if err := o.Planned(plans); err != nil {
			return res, err
		}
	}
	if o.DryRun {
		res.Results = make([]*Result, len(plans))
		for i, pl := range plans {
			res.Results[i] = &Result{Plan: pl, Done: []StepResult{}, Secrets: []Secret{}}
		}
		return res, nil
	}
	for _, pl := range plans {
		if pl.Confirm == "" {
			continue
		}
		if o.Confirm == nil {
			return res, &RunError{Stage: StageConfirm, Err: fmt.Errorf("%s of %s needs confirmation (%s) and none was given; nothing was changed: check the plan, then confirm it",
				pl.Action.Kind, pl.Target, pl.Confirm)}
		}
		if err := o.Confirm(ctx, pl); err != nil {
			return res, &RunError{Stage: StageConfirm, Err: err}
		}
	}
	results, applyErr := p.ApplyAll(ctx, plans)
	res.Results = results
	if o.Refresh != nil {
		for _, c := range changes(p, results) {
			snap, err := o.Refresh(ctx, c)
			res.Refreshed = append(res.Refreshed, Refreshed{Change: c, Snapshot: snap, Err: err})
		}
	}
	if applyErr != nil {
		return res, &RunError{Stage: StageApply, Err: applyErr}
	}
	return res, nil
}

// changes lists the places results changed: the IAM account when an IAM
// action made a call, then Identity Center when one of its actions did
// (and the provisioner has an instance).
func changes(p *Provisioner, results []*Result) []Change {
	iam := Change{Account: p.AccountID}
	changedIAM, changedIC := false, false
	for _, r := range results {
		act := r.Plan.Action
		switch {
		case len(r.Done) == 0:
		case act.Kind.IdentityCenter():
			changedIC = true
		default:
			changedIAM = true
			if act.User != "" {
				iam.Users = append(iam.Users, act.User)
			}
		}
	}
	var out []Change
	if changedIAM {
		out = append(out, iam)
	}
	if changedIC && p.IC != nil {
		out = append(out, Change{IdentityCenter: true})
	}
	return out
}
