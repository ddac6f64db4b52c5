package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/warden-iam/warden/internal/awsapi"
	"github.com/warden-iam/warden/internal/collect"
	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/render"
	"github.com/warden-iam/warden/internal/store"
	"github.com/warden-iam/warden/internal/syncer"
)

func newSyncCmd(a *app) *cobra.Command {
	var (
		opts         awsapi.Options
		noAccessKeys bool
	)
	cmd := &cobra.Command{
		Use:   "sync",
		Short: "Sync the IAM of the account of the current AWS credentials into a new snapshot",
		Long: `sync reads the IAM of the account that the current credentials belong to and stores it as a
new snapshot. Credentials come from the AWS SDK's standard chain: AWS_ACCESS_KEY_ID and
AWS_SECRET_ACCESS_KEY, AWS_PROFILE or --profile (including SSO profiles after
` + "`aws sso login`" + `), or an instance or container role. --endpoint (or AWS_ENDPOINT_URL) points
it at another endpoint, such as ` + "`warden fake-aws`" + `.

A sync that could not read some part (for example the credential report) still stores the
rest, lists what failed with its fix, and exits with code 3.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			opts.Logger = a.log
			sess, err := awsapi.Load(ctx, opts)
			if err != nil {
				return err
			}
			path := a.dbPath()
			st, err := a.openStore(ctx, path)
			if err != nil {
				return err
			}
			defer st.Close()
			snap, took, err := a.sync(ctx, sess, st, collect.IAMOptions{AccessKeys: !noAccessKeys})
			if err != nil {
				return err
			}
			sum := render.NewSummary(snap, path, took)
			if err := a.print(sum, sum.Tables()...); err != nil {
				return err
			}
			return partialError(snap)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Endpoint, "endpoint", "", "AWS endpoint URL for every service (default: AWS_ENDPOINT_URL, else AWS itself)")
	f.StringVar(&opts.Region, "region", "", "AWS region (default: AWS_REGION or the profile's; IAM is global)")
	f.StringVar(&opts.Profile, "profile", "", "named profile from ~/.aws/config (default: AWS_PROFILE)")
	f.Float64Var(&opts.IAMRate, "iam-rate", 0, "most IAM calls per second for the account (0: warden's default)")
	f.BoolVar(&noAccessKeys, "no-access-keys", false, "skip ListAccessKeys: keys are not recorded by id")
	return cmd
}

// sync runs one sync of sess into st with progress on stderr and returns the
// stored snapshot and how long it took.
func (a *app) sync(ctx context.Context, sess *awsapi.Session, st store.Store, iam collect.IAMOptions) (*model.Snapshot, time.Duration, error) {
	opts := syncer.Options{ConnectionID: a.connection, IAM: iam, Logger: a.log}
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
