package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/spf13/cobra"

	"github.com/warden-iam/warden/awsfake"
	"github.com/warden-iam/warden/internal/awsapi"
	"github.com/warden-iam/warden/internal/collect"
	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/render"
	"github.com/warden-iam/warden/internal/syncer"
)

// The demo estate: one account, generated from a fixed seed so every run
// shows the same answers.
const (
	demoDB      = "warden-demo.db"
	demoAccount = "123456789012"
	demoAlias   = "warden-demo"
	demoSeed    = 2
	demoUsers   = 300
	demoRegion  = "us-east-1"
	// demoIAMRate lifts the per-account call limit: the in-process emulator
	// has no quota to protect.
	demoIAMRate = 10000
	// staleDays is the age past which an access key is reported as old.
	staleDays = 90
)

// estate returns a generated estate of users users with groups, roles and
// policies in the demo's proportions (300 users : 40 groups : 120 roles :
// 60 policies).
func estate(account, alias string, users int, seed int64) awsfake.Estate {
	return awsfake.Estate{AccountID: account, Alias: alias, Users: users,
		Groups: max(1, users*40/300), Roles: max(1, users*120/300), Policies: max(1, users*60/300), Seed: seed}
}

// demoResult is what `warden demo -o json` prints.
type demoResult struct {
	Summary  *render.Summary  `json:"summary"`
	Findings *render.Findings `json:"findings"`
}

func newDemoCmd(a *app) *cobra.Command {
	var users int
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Sync a generated AWS estate from the built-in emulator and show what warden finds",
		Long: `demo starts the AWS emulator in this process with a generated account (300 users, 40 groups,
120 roles and 60 policies by default, always the same), syncs it through the real AWS SDK into
warden-demo.db (replacing that file), and prints the sync summary and example findings.
It needs no credentials and no network. --db names another file; WARDEN_DB is ignored, so a
demo never replaces your real database by accident.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if users < 1 {
				return usageError(fmt.Sprintf("--users must be at least 1, got %d", users), "pass --users 300 or leave it out")
			}
			path := demoDB
			if a.dbSet {
				path = a.dbFlag
			}
			return a.demo(cmd.Context(), path, users)
		},
	}
	cmd.Flags().IntVar(&users, "users", demoUsers, "users in the generated estate (groups, roles and policies scale with it)")
	return cmd
}

func (a *app) demo(ctx context.Context, path string, users int) error {
	if err := a.replaceDB(ctx, path); err != nil {
		return err
	}
	srv := awsfake.NewServer(awsfake.Options{Seed: demoSeed})
	defer srv.Close()
	creds := srv.AddAccount(estate(demoAccount, demoAlias, users, demoSeed).Build())
	sess, err := awsapi.Load(ctx, awsapi.Options{
		Region:      demoRegion,
		Endpoint:    srv.URL(),
		Credentials: credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken),
		IAMRate:     demoIAMRate,
		Logger:      a.log,
	})
	if err != nil {
		return err
	}
	st, err := a.openStore(ctx, path)
	if err != nil {
		return err
	}
	defer st.Close()
	snap, took, err := a.sync(ctx, sess, st, syncer.Options{ConnectionID: a.connection, IAM: collect.IAMOptions{AccessKeys: true}})
	if err != nil {
		return err
	}
	if err := st.MarkDemoSnapshot(ctx, snap.ID); err != nil {
		return storeError(err, fmt.Sprintf("mark snapshot %d of %s as the demo's: %v", snap.ID, path, err), "run `warden demo` again")
	}
	g, err := st.Graph(ctx, snap.ID)
	if err != nil {
		return storeError(err, fmt.Sprintf("read back snapshot %d from %s: %v", snap.ID, path, err), "run `warden demo` again")
	}
	res := demoResult{Summary: render.NewSummary(snap, path, took), Findings: render.NewFindings(g, time.Now(), 5, staleDays)}
	tables := append(res.Summary.Tables(), res.Findings.Tables(5)...)
	next := &render.Table{Title: "Explore the demo snapshot"}
	db := "--db " + path
	for _, c := range []string{"show users", "show keys", "findings", "access " + firstUser(res.Findings), "export --format csv"} {
		next.Add("warden " + db + " " + c)
	}
	if err := a.print(res, append(tables, next)...); err != nil {
		return err
	}
	return partialError(snap)
}

// firstUser names a user from the findings to suggest `warden access` on.
func firstUser(f *render.Findings) string {
	for _, h := range f.TopHolders {
		if h.Type == model.TypeIAMUser {
			return h.Name
		}
	}
	return "USER"
}

// replaceDB removes the demo database left by an earlier run. It refuses a
// file that is not a warden database, or one that holds anything the demo
// did not write (a real sync's snapshots, audit records…), so a mistyped
// --db cannot destroy real data.
func (a *app) replaceDB(ctx context.Context, path string) error {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	st, err := a.openStore(ctx, path)
	if err != nil {
		return err
	}
	foreign, err := st.Foreign(ctx)
	if cerr := st.Close(); err == nil && cerr != nil {
		return storeError(cerr, fmt.Sprintf("close %s: %v", path, cerr), "remove the file by hand and run `warden demo` again")
	}
	if err != nil {
		return storeError(err, fmt.Sprintf("read %s: %v", path, err), "pass --db with another file")
	}
	if foreign != "" {
		return usageError(fmt.Sprintf("%s holds data the demo did not write (%s); the demo replaces its file, so it will not touch this one", path, foreign),
			"pass --db with a new file name (the default is "+demoDB+"), or remove "+path+" yourself if you really mean to discard it")
	}
	for _, f := range []string{path, path + "-wal", path + "-shm", path + "-journal"} {
		if err := os.Remove(f); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return storeError(err, fmt.Sprintf("replace demo database: %v", err), "remove "+path+" by hand, or pass --db with another file")
		}
	}
	return nil
}
