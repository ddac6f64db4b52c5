package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/warden-iam/warden/internal/awsapi"
	"github.com/warden-iam/warden/internal/collect"
	"github.com/warden-iam/warden/internal/config"
	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/render"
	"github.com/warden-iam/warden/internal/store"
	"github.com/warden-iam/warden/internal/syncer"
	"github.com/warden-iam/warden/internal/syncjob"
)

// adHocFlags are the flags that describe a connection on the command line,
// for a sync without a warden.yaml.
var adHocFlags = []string{"endpoint", "region", "profile", "role-arn", "external-id", "organization",
	"member-role", "member-external-id", "concurrency", "iam-rate", "no-access-keys", "no-credential-report",
	"identity-center", "identity-center-region", "instance-arn", "identity-store-id"}

func newSyncCmd(a *app) *cobra.Command {
	var (
		t                  syncjob.Target
		organization       bool
		memberRole         string
		memberExternalID   string
		concurrency        int
		noAccessKeys       bool
		noCredentialReport bool
		identityCenter     bool
		ic                 syncer.IdentityCenterOptions
	)
	cmd := &cobra.Command{
		Use:   "sync",
		Short: "Sync AWS into a new snapshot: one account, or every account of an organization",
		Long: `sync reads AWS and stores what it read as a new snapshot.

With a connections file (--config, WARDEN_CONFIG, or ./warden.yaml; see docs/config.md) it syncs
every connection of the file, or only the one named by --connection, each into its own history.

Without one, the flags describe the connection. Credentials come from the AWS SDK's standard chain:
AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE or --profile (including SSO profiles after
` + "`aws sso login`" + `), web identity, or an instance or container role. --role-arn (with
--external-id) first assumes a role, for an account reached through a role. --organization reads
the organization of the credentials (its management or a delegated administrator account) and every
active member account through --member-role (default OrganizationAccountAccessRole).
--identity-center also reads IAM Identity Center (users, groups, permission sets, assignments).
--endpoint (or AWS_ENDPOINT_URL) points warden at another endpoint, such as ` + "`warden fake-aws`" + `.

A sync that could not read some part (an account whose role cannot be assumed, a credential report
AWS refused) still stores the rest, lists what failed with its fix, and exits with code 3;
` + "`warden sync status`" + ` shows it again later.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			file, path, err := a.loadConfig()
			if err != nil {
				return err
			}
			var targets []syncjob.Target
			if file != nil {
				if set := changedFlags(cmd.Flags(), adHocFlags); len(set) > 0 {
					return usageError(fmt.Sprintf("--%s describe a connection, but connections come from %s here", set[0], path),
						"set them in the file (see docs/config.md), or pass --config naming another file")
				}
				if targets, err = a.targetsFromConfig(file, path); err != nil {
					return err
				}
			} else {
				if err := checkSyncFlags(concurrency, t.AWS.IAMRate); err != nil {
					return err
				}
				t.ID = a.connection
				t.Name = "connection " + t.ID
				t.IAM = collect.IAMOptions{AccessKeys: !noAccessKeys, SkipCredentialReport: noCredentialReport}
				if organization {
					t.Organization = &syncer.OrganizationOptions{MemberRoleName: memberRole, ExternalID: memberExternalID, Concurrency: concurrency}
					if t.Organization.ExternalID == "" {
						t.Organization.ExternalID = t.AWS.ExternalID
					}
				}
				if identityCenter {
					t.IdentityCenter = &ic
				}
				targets = []syncjob.Target{t}
			}
			st, err := a.openStore(ctx, a.dbPath())
			if err != nil {
				return err
			}
			defer st.Close()
			return a.syncTargets(ctx, st, targets)
		},
	}
	f := cmd.Flags()
	f.StringVar(&t.AWS.Endpoint, "endpoint", "", "AWS endpoint URL for every service (default: AWS_ENDPOINT_URL, else AWS itself)")
	f.StringVar(&t.AWS.Region, "region", "", "AWS region (default: AWS_REGION or the profile's; IAM is global)")
	f.StringVar(&t.AWS.Profile, "profile", "", "named profile from ~/.aws/config (default: AWS_PROFILE)")
	f.StringVar(&t.AWS.RoleARN, "role-arn", "", "assume this role first and sync with its credentials")
	f.StringVar(&t.AWS.ExternalID, "external-id", "", "ExternalId for --role-arn (and for member roles unless --member-external-id)")
	f.BoolVar(&organization, "organization", false, "sync every active account of the organization of the credentials")
	f.StringVar(&memberRole, "member-role", syncer.DefaultMemberRoleName, "role assumed in each member account (with --organization)")
	f.StringVar(&memberExternalID, "member-external-id", "", "ExternalId for member roles (with --organization)")
	f.IntVar(&concurrency, "concurrency", syncer.DefaultConcurrency, fmt.Sprintf("accounts read at once (with --organization; %d to %d)", config.MinConcurrency, config.MaxConcurrency))
	f.Float64Var(&t.AWS.IAMRate, "iam-rate", config.DefaultIAMRate, fmt.Sprintf("most IAM calls per second in one account (%d to %d)", config.MinIAMRate, config.MaxIAMRate))
	f.BoolVar(&noAccessKeys, "no-access-keys", false, "skip ListAccessKeys: keys are recorded from the credential report, without ids")
	f.BoolVar(&noCredentialReport, "no-credential-report", false, "skip the credential report: console, MFA and password use stay unknown")
	f.BoolVar(&identityCenter, "identity-center", false, "also read IAM Identity Center: users, groups, permission sets, assignments")
	f.StringVar(&ic.Region, "identity-center-region", "", "Identity Center's home region (default: --region)")
	f.StringVar(&ic.InstanceARN, "instance-arn", "", "Identity Center instance ARN (default: found with sso:ListInstances)")
	f.StringVar(&ic.IdentityStoreID, "identity-store-id", "", "identity store id, with --instance-arn")
	cmd.AddCommand(newSyncStatusCmd(a))
	return cmd
}

// checkSyncFlags applies warden.yaml's ranges (internal/config, the one
// source of them) to the flags that describe a connection.
func checkSyncFlags(concurrency int, iamRate float64) error {
	if msg := config.ConcurrencyProblem(concurrency); msg != "" {
		return usageError("--concurrency "+msg, fmt.Sprintf("pass --concurrency %d (the default) or another value in that range", syncer.DefaultConcurrency))
	}
	if msg := config.IAMRateProblem(iamRate); msg != "" {
		return usageError("--iam-rate "+msg, fmt.Sprintf("pass --iam-rate %d (the default) or another value in that range", config.DefaultIAMRate))
	}
	return nil
}

// changedFlags returns which of names were set on the command line.
func changedFlags(fs *pflag.FlagSet, names []string) []string {
	var set []string
	for _, n := range names {
		if fs.Changed(n) {
			set = append(set, n)
		}
	}
	return set
}

// targetsFromConfig returns the connections of file to sync: the one named
// by --connection, or all of them.
func (a *app) targetsFromConfig(file *config.File, path string) ([]syncjob.Target, error) {
	conns := file.Connections
	if a.connectionSet {
		c, err := file.Connection(a.connection)
		if err != nil {
			return nil, usageError(fmt.Sprintf("no connection %q in %s", a.connection, path),
				fmt.Sprintf("use one of: %v, or leave out --connection to sync them all", file.IDs()))
		}
		conns = []config.Connection{*c}
	}
	out := make([]syncjob.Target, 0, len(conns))
	for _, c := range conns {
		t, err := syncjob.FromConnection(c)
		if err != nil {
			return nil, usageError(fmt.Sprintf("connection %q in %s: %v", c.ID, path, err), "set the environment variable it names, or correct the file")
		}
		out = append(out, t)
	}
	return out, nil
}

// syncTargets syncs each target in turn, printing a summary of each. A
// connection that fails does not stop the others; the exit code is the
// worst outcome.
func (a *app) syncTargets(ctx context.Context, st syncjob.Store, targets []syncjob.Target) error {
	var failed []error
	var lastSnap *model.Snapshot
	partial := 0
	for _, t := range targets {
		// Two syncs of one connection never interleave, even from two
		// processes sharing a PostgreSQL database; the second is told who
		// holds it.
		res, err := a.syncOne(ctx, st, t)
		if err != nil {
			if len(targets) == 1 {
				return err
			}
			code, problem, fix := explain(err)
			failed = append(failed, &cliError{code: code, problem: t.Name + ": " + problem, fix: fix, err: err})
			report(a.stderr, failed[len(failed)-1])
			continue
		}
		snap := res.Snapshot
		lastSnap = snap
		sum := render.NewSummary(snap, a.dbPath(), res.Took)
		sum.Activity = res.Activity
		if err := a.print(sum, sum.Tables()...); err != nil {
			return err
		}
		a.printChangeSummary(res, len(targets) > 1)
		if snap.Status == model.StatusPartial {
			partial++
		}
		if err := a.printRetention(res, t.Retention); err != nil {
			if len(targets) == 1 {
				return err
			}
			code, problem, fix := explain(err)
			failed = append(failed, &cliError{code: code, problem: t.Name + ": " + problem, fix: fix, err: err})
			report(a.stderr, failed[len(failed)-1])
		}
	}
	if len(targets) == 1 && partial == 1 {
		return partialError(lastSnap)
	}
	switch {
	case len(failed) > 0:
		return &cliError{code: exitError, problem: fmt.Sprintf("%d of %d connections failed to sync (reported above)", len(failed), len(targets)),
			fix: "correct what each report names, then sync again", err: errors.Join(failed...)}
	case partial > 0:
		return &cliError{code: exitPartial,
			problem: fmt.Sprintf("sync finished partial: %d connection(s) stored partial snapshots", partial),
			fix:     "see the failed parts and their fixes above (or `warden sync status`), then sync again"}
	}
	return nil
}

// printChangeSummary prints on stderr, beside the progress, one paragraph
// of what changed since the connection's previous snapshot (nothing after
// its first), naming the connection when several were synced; stdout keeps
// the documented summary. A comparison that failed is reported there too,
// and does not fail the sync: the snapshot is stored.
func (a *app) printChangeSummary(res *syncjob.Result, name bool) {
	if res.ChangesErr != nil {
		fmt.Fprintf(a.stderr, "warden: could not compare snapshot %d with the previous one: %v\nfix: run `warden diff` to see what changed\n", res.Snapshot.ID, res.ChangesErr)
		return
	}
	if res.Changes == nil {
		return
	}
	if name {
		fmt.Fprintf(a.stderr, "Connection %s: ", res.Snapshot.ConnectionID)
	}
	fmt.Fprintln(a.stderr, render.ChangeParagraph(res.Changes, time.Now()))
}

// syncOne runs one sync of a target into st under its sync lock, with
// progress on stderr.
func (a *app) syncOne(ctx context.Context, st syncjob.Store, t syncjob.Target) (*syncjob.Result, error) {
	o := syncjob.Options{Logger: a.log}
	if p := a.progressReporter(); p != nil {
		o.Progress = func(e syncer.Event) { p.Update(e.Stage, e.Message, e.Done, e.Total) }
		defer p.Done()
	}
	res, err := syncjob.Run(ctx, st, t, o)
	var le *syncjob.LockError
	if errors.As(err, &le) {
		return nil, lockError(le)
	}
	return res, err
}

// sync runs one sync of sess into st with progress on stderr and returns
// the stored snapshot and how long it took.
func (a *app) sync(ctx context.Context, sess *awsapi.Session, st store.Store, opts syncer.Options) (*model.Snapshot, time.Duration, error) {
	opts.Logger = a.log
	if p := a.progressReporter(); p != nil {
		opts.Progress = func(e syncer.Event) { p.Update(e.Stage, e.Message, e.Done, e.Total) }
		defer p.Done()
	}
	start := time.Now()
	snap, err := syncer.Sync(ctx, sess, st, opts)
	return snap, time.Since(start), err
}

// partialError is the exit-3 error for a snapshot some part of which failed.
func partialError(snap *model.Snapshot) error {
	if snap.Status != model.StatusPartial {
		return nil
	}
	return &cliError{code: exitPartial,
		problem: fmt.Sprintf("sync finished partial: %d part(s) failed; snapshot %d holds everything else", len(snap.Errors), snap.ID),
		fix:     "see the failed parts and their fixes above, then sync again"}
}

// newSyncStatusCmd builds `warden sync status`.
func newSyncStatusCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show the latest sync of each connection and what failed in it",
		Long: `status shows, for each connection (those of the connections file, else those in the database, or
only --connection), its latest snapshot: complete or partial, when, how many accounts were read,
and every part that failed with its fix. It exits with code 3 when a latest snapshot is partial.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			st, _, err := a.openExisting(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			ids, err := a.statusConnections(ctx, st)
			if err != nil {
				return err
			}
			list := make([]render.ConnectionStatus, 0, len(ids))
			partial := 0
			for _, id := range ids {
				snap, err := st.LatestSnapshot(ctx, id)
				switch {
				case errors.Is(err, store.ErrNoSnapshot):
				case err != nil:
					return storeError(err, err.Error(), "check the database file, or sync again")
				case snap.Status == model.StatusPartial:
					partial++
				}
				list = append(list, render.ConnectionStatus{Connection: id, Latest: snap})
			}
			if err := a.print(list, render.StatusTables(list)...); err != nil {
				return err
			}
			if partial > 0 {
				return &cliError{code: exitPartial, problem: fmt.Sprintf("%d connection(s) have a partial latest snapshot", partial),
					fix: "correct the failed parts listed above, then run `warden sync` again"}
			}
			return nil
		},
	}
}

// statusConnections returns the connections `sync status` reports on.
func (a *app) statusConnections(ctx context.Context, st store.Store) ([]string, error) {
	if a.connectionSet {
		return []string{a.connection}, nil
	}
	file, _, err := a.loadConfig()
	if err != nil {
		return nil, err
	}
	if file != nil {
		return file.IDs(), nil
	}
	ids, err := st.Connections(ctx)
	if err != nil {
		return nil, storeError(err, err.Error(), "check the database file")
	}
	if len(ids) == 0 {
		return []string{a.connection}, nil
	}
	return ids, nil
}
