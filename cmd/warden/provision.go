package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/smithy-go"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/warden-iam/warden/internal/awsapi"
	"github.com/warden-iam/warden/internal/provision"
	"github.com/warden-iam/warden/internal/provisionjob"
	"github.com/warden-iam/warden/internal/render"
	"github.com/warden-iam/warden/internal/scim"
	"github.com/warden-iam/warden/internal/setup"
	"github.com/warden-iam/warden/internal/store"
)

// actionFlags are the flags that describe one action on the command line.
type actionFlags struct {
	file     string
	action   provision.Action
	document string // --document-file
	tags     []string
	aws      awsapi.Options
	icRegion string
	scimURL  string
	scimEnv  string
}

func (f *actionFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVarP(&f.file, "file", "f", "", "changes file (YAML) listing actions, instead of one ACTION on the command line")
	fl.StringVar(&f.action.User, "user", "", "IAM user name")
	fl.StringVar(&f.action.Group, "group", "", "IAM group name")
	fl.StringVar(&f.action.Role, "role", "", "IAM role name (policy actions)")
	fl.StringVar(&f.action.PolicyARN, "policy-arn", "", "managed policy ARN (attach-policy, detach-policy)")
	fl.StringVar(&f.action.PolicyName, "policy-name", "", "inline policy name (put-inline-policy, delete-inline-policy)")
	fl.StringVar(&f.document, "document-file", "", "file holding the inline policy document (put-inline-policy)")
	fl.StringVar(&f.action.Path, "path", "", "path of a new user, e.g. /staff/ (create-user)")
	fl.StringArrayVar(&f.tags, "tag", nil, "tag KEY=VALUE of a new user, repeatable (create-user)")
	fl.StringVar(&f.action.PermissionsBoundary, "boundary", "", "permissions boundary policy ARN of a new user (create-user)")
	fl.BoolVar(&f.action.ConsolePassword, "console-password", false, "give a new user a generated console password, changed at first sign-in (create-user)")
	fl.StringSliceVar(&f.action.Groups, "groups", nil, "groups of a new user (create-user)")
	fl.StringSliceVar(&f.action.Policies, "policies", nil, "managed policy ARNs of a new user (create-user)")
	fl.BoolVar(&f.action.DenyAll, "deny-all", false, "also attach AWSDenyAll (deactivate-user)")
	fl.StringVar(&f.action.PermissionSet, "permission-set", "", "permission set name or ARN (assign-permission-set, unassign-permission-set)")
	fl.StringVar(&f.action.Account, "account", "", "account id of an assignment (assign-permission-set, unassign-permission-set)")
	fl.StringVar(&f.action.DisplayName, "display-name", "", "display name of a new Identity Center user (create-sso-user)")
	fl.StringVar(&f.action.GivenName, "given-name", "", "given name of a new Identity Center user (create-sso-user)")
	fl.StringVar(&f.action.FamilyName, "family-name", "", "family name of a new Identity Center user (create-sso-user)")
	fl.StringVar(&f.action.Email, "email", "", "e-mail of a new Identity Center user (create-sso-user)")
	fl.StringVar(&f.action.Description, "description", "", "description of a new Identity Center group (create-sso-group)")
	fl.StringVar(&f.scimURL, "scim-endpoint", "", "Identity Center's SCIM endpoint, for deactivate-sso-user and reactivate-sso-user")
	fl.StringVar(&f.scimEnv, "scim-token-env", "WARDEN_SCIM_TOKEN", "environment variable holding the SCIM bearer token")
	fl.StringVar(&f.icRegion, "identity-center-region", "", "Identity Center's home region for Identity Center actions (default --region)")
	fl.StringVar(&f.aws.Endpoint, "endpoint", "", "AWS endpoint URL (default: AWS_ENDPOINT_URL, else AWS itself)")
	fl.StringVar(&f.aws.Region, "region", "", "AWS region")
	fl.StringVar(&f.aws.Profile, "profile", "", "named profile from ~/.aws/config")
	fl.StringVar(&f.aws.RoleARN, "role-arn", "", "assume this role first and act with its credentials")
	fl.StringVar(&f.aws.ExternalID, "external-id", "", "ExternalId for --role-arn")
}

// actions returns the actions the command line names: the file's, or one
// built from ACTION and the flags.
func (f *actionFlags) actions(args []string) ([]provision.Action, error) {
	if f.file != "" {
		if len(args) > 0 {
			return nil, usageError("give either ACTION with flags or -f FILE, not both", "drop the ACTION argument, or -f")
		}
		list, err := provision.LoadBatch(f.file)
		if err != nil {
			var ce *provision.ChangesError
			if errors.As(err, &ce) {
				return nil, usageError(err.Error(), "correct the lines named above; nothing was changed (the format is in `warden apply --help`)")
			}
			return nil, usageError(err.Error(), "check the path given to -f")
		}
		return list, nil
	}
	if len(args) != 1 {
		return nil, usageError("name one ACTION ("+kindNames()+") or pass -f FILE", "see `warden apply --help`")
	}
	a := f.action
	a.Kind = provision.Kind(args[0])
	if f.document != "" {
		doc, err := provision.ReadDocumentFile(f.document)
		if err != nil {
			return nil, usageError(fmt.Sprintf("read --document-file: %v", err), "check the path")
		}
		a.Document = doc
	}
	for _, t := range f.tags {
		k, v, ok := strings.Cut(t, "=")
		if !ok || k == "" {
			return nil, usageError(fmt.Sprintf("--tag %q is not KEY=VALUE", t), "write --tag team=data")
		}
		if a.Tags == nil {
			a.Tags = map[string]string{}
		}
		a.Tags[k] = v
	}
	if err := a.Validate(); err != nil {
		return nil, usageError(err.Error(), "see `warden apply --help` for each action's flags")
	}
	return []provision.Action{a}, nil
}

func kindNames() string {
	names := make([]string, len(provision.Kinds))
	for i, k := range provision.Kinds {
		names[i] = string(k)
	}
	return strings.Join(names, ", ")
}

const changesHelp = `A changes file lists actions, carried out in order:

  actions:
    - action: create-user
      user: alice
      path: /staff/
      tags: {email: alice@example.com}
      console_password: true
      groups: [engineers]
      policies: [arn:aws:iam::aws:policy/ReadOnlyAccess]
    - action: remove-from-group
      user: bob
      group: admins
    - action: delete-user
      user: mallory

Keys are the flags' names with underscores (policy_arn, console_password, boundary, deny_all,
permission_set…); document_file names a file holding the policy document, relative to the changes
file (or give the document itself as document). Tags are a mapping: tags: {team: data}.

IAM actions: ` + "create-user, delete-user, deactivate-user (deny_all), reactivate-user, add-to-group, remove-from-group, attach-policy and detach-policy (user, group or role; policy_arn), put-inline-policy (policy_name, document) and delete-inline-policy." + `
Identity Center actions: ` + "create-sso-user (user, display_name, given_name, family_name, email), delete-sso-user, create-sso-group (group, description), delete-sso-group, add-sso-user-to-group, remove-sso-user-from-group, assign-permission-set and unassign-permission-set (user or group, permission_set, account), deactivate-sso-user and reactivate-sso-user (user; through Identity Center's SCIM API: --scim-endpoint and the token in --scim-token-env)."

// provisioner connects to AWS and the store for plan and apply, and to
// Identity Center when one of the actions needs it (provisionjob.Connect).
func (a *app) provisioner(ctx context.Context, f *actionFlags, actions []provision.Action, st *store.DB) (*provisionjob.Connection, error) {
	o := provisionjob.Options{AWS: f.aws, Logger: a.log, ConnectionID: a.connection, IdentityCenterRegion: f.icRegion,
		Store: st, Actions: actions}
	if f.scimURL != "" {
		o.SCIMEndpoint, o.SCIMToken = f.scimURL, strings.TrimSpace(os.Getenv(f.scimEnv))
	}
	conn, err := provisionjob.Connect(ctx, o)
	var ce *provisionjob.ConnectError
	switch {
	case errors.As(err, &ce) && ce.Part == "scim":
		return nil, usageError(err.Error(), "export "+f.scimEnv+" with the SCIM access token, and check --scim-endpoint")
	case errors.As(err, &ce) && !isAWSError(err):
		return nil, &cliError{code: exitError, problem: err.Error(),
			fix: "run Identity Center actions with the credentials of the instance's account, and give its home region with --identity-center-region", err: err}
	case err != nil:
		return nil, err
	}
	return conn, nil
}

// planTables lays out plans: one table per action.
func planTables(plans []*provision.Plan) []*render.Table {
	var out []*render.Table
	for i, pl := range plans {
		t := &render.Table{Title: fmt.Sprintf("%d. %s %s", i+1, pl.Action.Kind, pl.Target), Header: []string{"#", "CALL", "PARAMETERS"}}
		if len(pl.Steps) == 0 {
			t.Add("-", "nothing to do", pl.NoOp)
		}
		for j, s := range pl.Steps {
			params := strings.TrimPrefix(s.String(), s.Call+" ")
			t.Add(strconv.Itoa(j+1), s.Call, params)
		}
		for _, c := range pl.Changes {
			what, stmt, _ := strings.Cut(c, " ")
			label := "statement added"
			if what == "-" {
				label = "statement removed"
			}
			t.Add(what, label, stmt)
		}
		if pl.Confirm != "" {
			t.Add("!", "asks confirmation", pl.Confirm)
		}
		out = append(out, t)
	}
	return out
}

func newPlanCmd(a *app) *cobra.Command {
	f := &actionFlags{}
	cmd := &cobra.Command{
		Use:   "plan ACTION [flags] | -f FILE",
		Short: "Show the exact AWS calls an action would make, computed from AWS's live state",
		Long: `plan reads, from AWS itself, the state an action depends on (not the last snapshot) and prints
the ordered calls applying it would make, or why none is needed. Nothing is changed.

` + changesHelp,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			actions, err := f.actions(args)
			if err != nil {
				return err
			}
			// Plan reads what earlier applies recorded (deactivations,
			// deletions) as apply does, from the database when there is one,
			// opened read-only: plan writes nothing.
			var st *store.DB
			if _, err := os.Stat(a.dbPath()); err == nil || store.IsPostgresURL(a.dbPath()) {
				if st, _, err = a.openExisting(cmd.Context()); err != nil {
					return err
				}
				defer st.Close()
			}
			conn, err := a.provisioner(cmd.Context(), f, actions, st)
			if err != nil {
				return notPermitted(err, "", planAgain)
			}
			plans, err := conn.Provisioner.PlanAll(cmd.Context(), actions)
			if err != nil {
				return planFailure(err)
			}
			return a.print(plans, planTables(plans)...)
		},
	}
	f.register(cmd)
	return cmd
}

func newApplyCmd(a *app) *cobra.Command {
	f := &actionFlags{}
	var yes, dryRun bool
	cmd := &cobra.Command{
		Use:   "apply ACTION [flags] | -f FILE",
		Short: "Carry out joiner, mover and leaver actions: planned from live state, then applied and audited",
		Long: `apply plans each action from AWS's live state, shows the plan, and carries it out call by call,
writing every call to the audit log (` + "`warden audit`" + `). Actions already in effect make no call;
running an interrupted action again finishes it. Every action is planned, and every group, policy,
permission set and account it names checked, before the first change. Destructive actions
(delete-user, deactivate-user, remove-from-group, detach-policy, delete-inline-policy, and their
Identity Center kin) and actions that grant administrator access ask for confirmation unless --yes;
without a terminal to ask on, they need --yes. --dry-run prints the plan and stops. A generated
console password is printed once, here, and kept nowhere, even when a later call fails.

` + changesHelp,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			actions, err := f.actions(args)
			if err != nil {
				return err
			}
			st, err := a.openStore(ctx, a.dbPath())
			if err != nil {
				return err
			}
			defer st.Close()
			conn, err := a.provisioner(ctx, f, actions, st)
			if err != nil {
				return notPermitted(err, "", planAgain)
			}
			o := provision.RunOptions{Actions: actions, Provisioner: conn.Provisioner, DryRun: dryRun,
				Confirm: func(_ context.Context, pl *provision.Plan) error { return confirm(a, pl) },
				Refresh: func(ctx context.Context, c provision.Change) (int64, error) {
					snap, err := conn.Refresh(ctx, c)
					a.reportRefresh(provision.Refreshed{Change: c, Snapshot: snap, Err: err})
					return snap, err
				}}
			if yes {
				o.Confirm = func(context.Context, *provision.Plan) error { return nil }
			}
			if a.format != render.FormatJSON || dryRun {
				o.Planned = func(plans []*provision.Plan) error { return render.Tables(a.stderr, planTables(plans)...) }
			}
			// Every action is planned, and every name it gives checked,
			// before the first change.
			run, err := provision.Run(ctx, o)
			var re *provision.RunError
			if err != nil && !errors.As(err, &re) {
				return err // showing the plans failed
			}
			if re != nil {
				switch re.Stage {
				case provision.StagePlan:
					return planFailure(re.Err)
				case provision.StageConfirm:
					return re.Err
				}
			}
			// What was done, and any password it generated, is shown even
			// when the run failed: it is shown nowhere else.
			if perr := a.print(run.Results, resultTables(run.Results)...); perr != nil {
				return perr
			}
			if re != nil {
				return applyFailure(re.Err)
			}
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation of destructive actions")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print the plan and change nothing")
	return cmd
}

// planFailure reports an action that cannot be planned: a refused
// permission or SCIM token as exit 4 (refused), a record of the database
// planning cannot read as exit 5 with the record's fix, another AWS error
// as such, anything else (a name that does not exist, a missing option) as a usage
// error; nothing was changed either way.
func planFailure(err error) error {
	if ce := refused(err, "", planAgain); ce != nil {
		return ce
	}
	var re *provision.RecordError
	if errors.As(err, &re) {
		return &cliError{code: exitStore, problem: err.Error(), fix: re.Fix + "; " + planAgain, err: err}
	}
	if isAWSError(err) {
		return err
	}
	return &cliError{code: exitUsage, problem: err.Error(),
		fix: "nothing was changed: correct the action as the message says (`warden show users|groups|policies` list what exists), then run it again", err: err}
}

// planAgain ends the fix of a plan or apply refused before any write.
const planAgain = "then run the command again (nothing was changed)"

// applyFailure reports an apply that stopped at a failed call, after the
// results (what was done, any password made) were printed: a refused
// permission or SCIM token, or refused AWS credentials, is exit 4.
func applyFailure(err error) error {
	const rerun = "then run the same command again: actions already done are skipped"
	var be *provision.BatchError
	var ae *provision.ApplyError
	if errors.As(err, &be) && errors.As(err, &ae) {
		calls := make([]string, len(ae.Done))
		for i, d := range ae.Done {
			calls[i] = d.Step.Call
		}
		done := "no call of this action was made before it"
		if len(calls) > 0 {
			done = fmt.Sprintf("%d call(s) of this action were made before it: %s", len(calls), strings.Join(calls, ", "))
		}
		context := fmt.Sprintf("action %d of %d: %s of %s stopped at %s: ", be.Index+1, be.Total, ae.Plan.Action.Kind, ae.Plan.Target, ae.Failed.Call)
		if ce := refused(err, context, rerun); ce != nil {
			ce.problem += "; " + done
			return ce
		}
	} else if ce := refused(err, "", rerun); ce != nil {
		return ce
	}
	if isAWSError(err) && isAuthError(err) {
		_, fix := awsapi.Explain(err)
		return &cliError{code: exitAuth, problem: err.Error(), fix: fix + "; " + rerun, err: err}
	}
	return &cliError{code: exitError, problem: err.Error(), fix: "correct the cause named above, " + rerun, err: err}
}

// notPermitted returns refused's report of err, else err as it is.
func notPermitted(err error, context, then string) error {
	if ce := refused(err, context, then); ce != nil {
		return ce
	}
	return err
}

// refused reports a call of plan or apply that AWS refused for a missing
// permission (awsapi.Denied), naming the action and the policy that grants
// it (`warden setup policy --for provision` allows every call plan and
// apply make), or that Identity Center's SCIM endpoint refused (401, 403,
// scimProblem's words): exit 4. context starts the problem, then ends the
// fix. It is nil for any other error.
func refused(err error, context, then string) *cliError {
	if scim.IsAuth(err) {
		if ce, ok := scimProblem(err).(*cliError); ok {
			return &cliError{code: exitAuth, problem: context + ce.problem, fix: ce.fix + "; " + then, err: err}
		}
	}
	action, who, ok := awsapi.Denied(err)
	if !ok {
		return nil
	}
	if who == "" {
		who = "the identity warden runs as"
	}
	code := "AccessDenied"
	var api smithy.APIError
	if errors.As(err, &api) {
		code = api.ErrorCode()
	}
	fix := awsapi.DeniedFix(action, who, setup.ModeProvision)
	if action == "" {
		action = "an AWS call"
	}
	return &cliError{code: exitAuth, problem: context + "AWS denied " + action + " to " + who + " (" + code + ")",
		fix: fix + "; " + then, err: err}
}

// reportRefresh says on stderr, as each refresh ends, whether it recorded
// the changes.
func (a *app) reportRefresh(r provision.Refreshed) {
	sync := "`warden sync`"
	if r.Change.IdentityCenter {
		sync = "`warden sync --identity-center`"
	}
	switch {
	case errors.Is(r.Err, store.ErrNoSnapshot):
		fmt.Fprintf(a.stderr, "note: no snapshot of connection %q to update; run %s to record the changes\n", a.connection, sync)
	case r.Err != nil:
		fmt.Fprintf(a.stderr, "note: the snapshot was not updated (%v); run %s to record the changes\n", r.Err, sync)
	case r.Change.IdentityCenter:
		fmt.Fprintf(a.stderr, "snapshot %d records the Identity Center changes (a role Identity Center newly created in an account appears at its next sync)\n", r.Snapshot)
	default:
		fmt.Fprintf(a.stderr, "snapshot %d records the changes to account %s\n", r.Snapshot, r.Change.Account)
	}
}

// confirm asks on the terminal whether to apply a destructive plan.
func confirm(a *app, pl *provision.Plan) error {
	if !term.IsTerminal(int(os.Stdin.Fd())) {
		return usageError(fmt.Sprintf("%s of %s needs confirmation (%s) and there is no terminal to confirm it on", pl.Action.Kind, pl.Target, pl.Confirm),
			"check the plan (warden plan …), then pass --yes")
	}
	fmt.Fprintf(a.stderr, "%s of %s: %s.\nApply these %d call(s)? [y/N] ", pl.Action.Kind, pl.Target, pl.Confirm, len(pl.Steps))
	line, _ := bufio.NewReader(os.Stdin).ReadString('\n')
	if answer := strings.ToLower(strings.TrimSpace(line)); answer != "y" && answer != "yes" {
		return usageError("not confirmed; nothing was changed", "answer y to apply, or pass --yes")
	}
	return nil
}

// resultTables lays out what apply did, and any generated password.
func resultTables(results []*provision.Result) []*render.Table {
	t := &render.Table{Title: "Applied", Header: []string{"ACTION", "TARGET", "CALLS MADE", "NOTE"}}
	var secrets []provision.Secret
	for _, r := range results {
		note := r.Plan.NoOp
		if r.Failed != nil {
			note = "failed at " + r.Failed.Step.Call + ": " + r.Failed.Error
		} else if note == "" && len(r.Done) == 0 {
			note = "dry run: nothing changed"
		}
		t.Add(string(r.Plan.Action.Kind), r.Plan.Target, strconv.Itoa(len(r.Done)), dashIfEmpty(note))
		secrets = append(secrets, r.Secrets...)
	}
	out := []*render.Table{t}
	if len(secrets) > 0 {
		s := &render.Table{Title: "Shown once: hand these over securely; warden keeps no copy", Header: []string{"WHAT", "VALUE"}}
		for _, sec := range secrets {
			s.Add(sec.What, sec.Value)
		}
		out = append(out, s)
	}
	return out
}

// keyValues lays out a map as k=v pairs in key order.
func keyValues(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		keys[i] = k + "=" + m[k]
	}
	return strings.Join(keys, " ")
}

func dashIfEmpty(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func newAuditCmd(a *app) *cobra.Command {
	var limit int
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "List the provisioning calls warden made, newest first",
		Long: `audit lists every call apply made for the connection: when, as whom (the ARN of the credentials),
which action on what, the AWS call and what it acted on (user, key, status, permission set,
account…), its result, AWS's request id and what the call reported (the id of what it created, an
assignment operation's own request id and final status); actions found already in effect appear
once as no-op, and a call in flight when warden stopped stays "started".`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, _, err := a.openExisting(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			recs, err := st.Audit(cmd.Context(), a.connection, limit)
			if err != nil {
				return storeError(err, err.Error(), "check the database file")
			}
			t := &render.Table{Title: fmt.Sprintf("Audit log of connection %s (%d)", a.connection, len(recs)),
				Header: []string{"TIME", "ACTION", "TARGET", "CALL", "ON", "RESULT", "REQUEST ID", "OUTCOME", "ACTOR", "DETAIL"}}
			for _, r := range recs {
				t.Add(r.At.UTC().Format(time.RFC3339), r.Action, r.Target, r.Call, dashIfEmpty(keyValues(r.Params)), r.Result, dashIfEmpty(r.RequestID),
					dashIfEmpty(keyValues(r.Outcome)), r.Actor, dashIfEmpty(r.Detail))
			}
			return a.print(recs, t)
		},
	}
	cmd.Flags().IntVar(&limit, "limit", 100, "most records to show (0 for all)")
	return cmd
}
