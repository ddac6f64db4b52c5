package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	ssotypes "github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"
	"github.com/spf13/cobra"

	"github.com/warden-iam/warden/awsfake"
	"github.com/warden-iam/warden/internal/awsapi"
	"github.com/warden-iam/warden/internal/collect"
	"github.com/warden-iam/warden/internal/diff"
	"github.com/warden-iam/warden/internal/effective"
	"github.com/warden-iam/warden/internal/render"
	"github.com/warden-iam/warden/internal/syncer"
	"github.com/warden-iam/warden/internal/syncjob"
)

// The demo: the organization of awsfake.DemoEstate, always the same.
const (
	demoDB = "warden-demo.db"
	// demoOrgUsers is the generated IAM users in each demo account.
	demoOrgUsers = 12
	demoRegion   = "us-east-1"
	// demoIAMRate lifts the per-account call limits (IAM, Organizations,
	// Identity Center): the in-process emulator has no quota to protect.
	demoIAMRate = 10000
	// staleDays is the age past which an access key is reported as old.
	staleDays = 90
	// demoNewKeyUser is the dev user the demo gives a second access key
	// (one who has a key already: warden lists the keys of the users the
	// credential report shows with keys, and AWS serves the same report for
	// four hours).
	demoNewKeyUser = awsfake.DemoOldKeyUser
	// demoNewAdmin is the prod user, without MFA, the demo makes an
	// administrator.
	demoNewAdmin = awsfake.DemoNoMFAUser
	// demoReportPoll is the first wait for a credential report: the
	// in-process emulator generates one at once.
	demoReportPoll = 20 * time.Millisecond
	// demoRemoved is the member account the demo removes from the
	// organization.
	demoRemoved = awsfake.DemoSandboxID
	// demoAssignWait bounds the wait for the demo's Identity Center
	// assignment to finish.
	demoAssignWait = 10 * time.Second
)

// The one generated account fake-aws serves by default (and the package's
// tests read): 300 users, seed 2.
const (
	demoAccount = "123456789012"
	demoAlias   = "warden-demo"
	demoSeed    = 2
	demoUsers   = 300
)

// estate returns a generated estate of users users with groups, roles and
// policies in the proportions 300 users : 40 groups : 120 roles : 60
// policies.
func estate(account, alias string, users int, seed int64) awsfake.Estate {
	return awsfake.Estate{AccountID: account, Alias: alias, Users: users,
		Groups: max(1, users*40/300), Roles: max(1, users*120/300), Policies: max(1, users*60/300), Seed: seed}
}

// demoResult is what `warden demo -o json` prints: the first sync, what the
// demo then changed through AWS, the second sync, its findings and the
// diff between the two, and the commands to explore further.
type demoResult struct {
	FirstSync *render.Summary  `json:"first_sync"`
	Changes   []string         `json:"changes"`
	Summary   *render.Summary  `json:"summary"`
	Findings  *render.Findings `json:"findings"`
	Diff      *diff.Report     `json:"diff"`
	Next      []string         `json:"next"`
	// DB and Connection say where the demo's snapshots are.
	DB         string `json:"db"`
	Connection string `json:"connection"`
}

func newDemoCmd(a *app) *cobra.Command {
	var users int
	var serve bool
	var listen string
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Sync a generated AWS organization from the built-in emulator, change it, sync again and show what warden finds",
		Long: `demo starts the AWS emulator in this process with an organization (a management account and
four members in the OUs Security, Workloads/Prod, Workloads/Dev and Sandbox, service control policies,
IAM in every account and IAM Identity Center with people, groups, permission sets and assignments;
always the same), and syncs it through the real AWS SDK as ` + "`warden sync --organization --identity-center`" + `
does into warden-demo.db (replacing that file). It then changes the estate through AWS calls (a new
administrator, a new access key, a member account removed from the organization, an
Identity Center assignment of the administrator permission set), syncs again, and prints the sync summary,
the findings and the diff. It needs no credentials and no network. --db names another file; WARDEN_DB
is ignored, so a demo never replaces your real database by accident. --serve then serves the web UI
over the demo's database on loopback and prints one link that signs you in (once, within 5 minutes).`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if users < 1 {
				return usageError(fmt.Sprintf("--users must be at least 1, got %d", users), fmt.Sprintf("pass --users %d or leave it out", demoOrgUsers))
			}
			if serve {
				if err := checkDemoListen(listen); err != nil {
					return err
				}
			}
			path := demoDB
			if a.dbSet {
				path = a.dbFlag
			}
			res, err := a.demo(cmd.Context(), path, users)
			if err != nil || !serve {
				return err
			}
			return a.demoServe(cmd.Context(), res, listen)
		},
	}
	cmd.Flags().BoolVar(&serve, "serve", false, "then serve the web UI over the demo's database on loopback and print a one-time sign-in link")
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:8080", "with --serve: the loopback address to serve on (127.0.0.1:0 picks a free port)")
	cmd.Flags().IntVar(&users, "users", demoOrgUsers, "generated IAM users in each account (groups, roles and policies scale with it)")
	return cmd
}

// demo builds the demo organization, syncs it, changes it, syncs again into
// path and prints what it found. It returns the result (the database and
// connection it wrote), for a step to follow such as serving the UI.
func (a *app) demo(ctx context.Context, path string, users int) (*demoResult, error) {
	existed, err := a.replaceDB(ctx, path)
	if err != nil {
		return nil, err
	}
	if existed {
		fmt.Fprintf(a.stderr, "warden: replaced the earlier demo database %s\n", path)
	}
	srv := awsfake.NewServer(awsfake.Options{Seed: 2})
	defer srv.Close()
	truth := awsfake.DemoEstate{Users: users}.Build()
	creds := map[string]awsfake.Credentials{}
	for _, acct := range truth.Accounts() {
		creds[acct.ID] = srv.AddAccount(acct)
	}
	srv.SetOrganization(truth.Organization)
	srv.SetIdentityCenter(truth.IdentityCenter)

	st, err := a.openStore(ctx, path)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	mgmt := creds[awsfake.DemoManagementID]
	t := syncjob.Target{ID: a.connection, Name: "demo connection " + a.connection,
		AWS: awsapi.Options{Region: demoRegion, Endpoint: srv.URL(), IAMRate: demoIAMRate, OrganizationsRate: demoIAMRate, IdentityCenterRate: demoIAMRate,
			Credentials: credentials.NewStaticCredentialsProvider(mgmt.AccessKeyID, mgmt.SecretAccessKey, mgmt.SessionToken)},
		IAM:            collect.IAMOptions{AccessKeys: true, ReportPoll: demoReportPoll},
		Organization:   &syncer.OrganizationOptions{},
		IdentityCenter: &syncer.IdentityCenterOptions{},
	}
	res := &demoResult{DB: path, Connection: a.connection}
	first, err := a.demoSync(ctx, st, t, path)
	if err != nil {
		return nil, err
	}
	res.FirstSync = render.NewSummary(first.Snapshot, path, first.Took)
	if res.Changes, err = demoChanges(ctx, srv.URL(), creds, truth.IdentityCenter); err != nil {
		return nil, &cliError{code: exitError, problem: "change the demo estate: " + err.Error(), fix: "run `warden demo` again; this is a bug if it repeats", err: err}
	}
	second, err := a.demoSync(ctx, st, t, path)
	if err != nil {
		return nil, err
	}
	if second.ChangesErr != nil {
		return nil, storeError(second.ChangesErr, fmt.Sprintf("compare the demo's two snapshots in %s: %v", path, second.ChangesErr), "run `warden demo` again")
	}
	g, err := st.Graph(ctx, second.Snapshot.ID)
	if err != nil {
		return nil, storeError(err, fmt.Sprintf("read back snapshot %d from %s: %v", second.Snapshot.ID, path, err), "run `warden demo` again")
	}
	res.Summary = render.NewSummary(second.Snapshot, path, second.Took)
	res.Findings = render.NewFindings(g, time.Now(), 5, staleDays)
	// The demo estate is small: both findings that use the evaluator.
	es, err := effective.Load(ctx, st, second.Snapshot.ID)
	if err == nil {
		_, err = res.Findings.Effective(ctx, es, g, render.EffectiveOptions{Admins: true, Escalation: true})
	}
	if err != nil {
		return nil, storeError(err, fmt.Sprintf("decide the effective-access findings of snapshot %d in %s: %v", second.Snapshot.ID, path, err), "run `warden demo` again")
	}
	res.Diff = second.Changes
	db := "warden --db " + path
	if a.connectionSet {
		db += " --connection " + a.connection
	}
	for _, c := range []string{"show accounts", "show users", "access " + awsfake.DemoAdminUser, "findings", "diff", "serve"} {
		res.Next = append(res.Next, db+" "+c)
	}

	var tables []*render.Table
	tables = append(tables, res.Summary.Tables()...)
	changed := &render.Table{Title: "What the demo changed through AWS before the second sync"}
	for _, c := range res.Changes {
		changed.Add(c)
	}
	tables = append(tables, changed)
	tables = append(tables, res.Findings.Tables(5)...)
	tables = append(tables, render.DiffTables(res.Diff, 10)...)
	next := &render.Table{Title: "Explore the demo"}
	for _, c := range res.Next {
		next.Add(c)
	}
	if err := a.print(res, append(tables, next)...); err != nil {
		return nil, err
	}
	return res, partialError(second.Snapshot)
}

// demoSync runs one sync of the demo through the path `warden sync` takes
// and marks its snapshot as the demo's.
func (a *app) demoSync(ctx context.Context, st demoStore, t syncjob.Target, path string) (*syncjob.Result, error) {
	r, err := a.syncOne(ctx, st, t)
	if err != nil {
		return nil, err
	}
	if err := st.MarkDemoSnapshot(ctx, r.Snapshot.ID); err != nil {
		return nil, storeError(err, fmt.Sprintf("mark snapshot %d of %s as the demo's: %v", r.Snapshot.ID, path, err), "run `warden demo` again")
	}
	return r, nil
}

// demoStore is the store the demo writes: a sync store that can mark a
// snapshot as the demo's.
type demoStore interface {
	syncjob.Store
	MarkDemoSnapshot(ctx context.Context, id int64) error
}

// demoChanges changes the demo estate through AWS calls, as an operator
// would between two syncs, and says what it did: a new administrator, a new
// access key, an Identity Center assignment of the administrator permission
// set, and a member account removed from the organization.
func demoChanges(ctx context.Context, endpoint string, creds map[string]awsfake.Credentials, ic *awsfake.IdentityCenter) ([]string, error) {
	cfg := func(account string) aws.Config {
		c := creds[account]
		return aws.Config{Region: demoRegion, BaseEndpoint: aws.String(endpoint),
			Credentials: credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken)}
	}
	const admin = "arn:aws:iam::aws:policy/AdministratorAccess"
	if _, err := iam.NewFromConfig(cfg(awsfake.DemoProdID)).AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{
		UserName: aws.String(demoNewAdmin), PolicyArn: aws.String(admin)}); err != nil {
		return nil, fmt.Errorf("iam:AttachUserPolicy: %w", err)
	}
	key, err := iam.NewFromConfig(cfg(awsfake.DemoDevID)).CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(demoNewKeyUser)})
	if err != nil {
		return nil, fmt.Errorf("iam:CreateAccessKey: %w", err)
	}
	assigned, err := demoAssign(ctx, ssoadmin.NewFromConfig(cfg(awsfake.DemoManagementID)), ic)
	if err != nil {
		return nil, err
	}
	if _, err := organizations.NewFromConfig(cfg(awsfake.DemoManagementID)).RemoveAccountFromOrganization(ctx, &organizations.RemoveAccountFromOrganizationInput{
		AccountId: aws.String(demoRemoved)}); err != nil {
		return nil, fmt.Errorf("organizations:RemoveAccountFromOrganization: %w", err)
	}
	return []string{
		fmt.Sprintf("iam:AttachUserPolicy %s to user %s in account %s (prod)", admin, demoNewAdmin, awsfake.DemoProdID),
		fmt.Sprintf("iam:CreateAccessKey %s for user %s in account %s (dev)", aws.ToString(key.AccessKey.AccessKeyId), demoNewKeyUser, awsfake.DemoDevID),
		assigned,
		fmt.Sprintf("organizations:RemoveAccountFromOrganization %s (sandbox)", demoRemoved),
	}, nil
}

// demoAssign assigns the administrator permission set to the demo's new
// Identity Center user in prod, and waits for the assignment to finish as
// AWS runs it: in the background.
func demoAssign(ctx context.Context, sso *ssoadmin.Client, ic *awsfake.IdentityCenter) (string, error) {
	var userID, psARN string
	for id, u := range ic.Users {
		if u.UserName == awsfake.DemoNewSSOUser {
			userID = id
		}
	}
	for arn, ps := range ic.PermissionSets {
		if ps.Name == awsfake.DemoAdminPermissionSet {
			psARN = arn
		}
	}
	if userID == "" || psARN == "" {
		return "", fmt.Errorf("the demo estate lacks Identity Center user %s or permission set %s", awsfake.DemoNewSSOUser, awsfake.DemoAdminPermissionSet)
	}
	out, err := sso.CreateAccountAssignment(ctx, &ssoadmin.CreateAccountAssignmentInput{InstanceArn: aws.String(ic.InstanceARN),
		PermissionSetArn: aws.String(psARN), PrincipalId: aws.String(userID), PrincipalType: ssotypes.PrincipalTypeUser,
		TargetId: aws.String(awsfake.DemoProdID), TargetType: ssotypes.TargetTypeAwsAccount})
	if err != nil {
		return "", fmt.Errorf("sso:CreateAccountAssignment: %w", err)
	}
	st := out.AccountAssignmentCreationStatus
	for deadline := time.Now().Add(demoAssignWait); st.Status == ssotypes.StatusValuesInProgress; {
		if time.Now().After(deadline) {
			return "", fmt.Errorf("sso:CreateAccountAssignment %s still in progress after %s", aws.ToString(st.RequestId), demoAssignWait)
		}
		time.Sleep(10 * time.Millisecond)
		d, err := sso.DescribeAccountAssignmentCreationStatus(ctx, &ssoadmin.DescribeAccountAssignmentCreationStatusInput{
			InstanceArn: aws.String(ic.InstanceARN), AccountAssignmentCreationRequestId: st.RequestId})
		if err != nil {
			return "", fmt.Errorf("sso:DescribeAccountAssignmentCreationStatus: %w", err)
		}
		st = d.AccountAssignmentCreationStatus
	}
	if st.Status != ssotypes.StatusValuesSucceeded {
		return "", fmt.Errorf("sso:CreateAccountAssignment failed: %s", aws.ToString(st.FailureReason))
	}
	return fmt.Sprintf("sso:CreateAccountAssignment permission set %s to Identity Center user %s in account %s (prod)",
		awsfake.DemoAdminPermissionSet, awsfake.DemoNewSSOUser, awsfake.DemoProdID), nil
}

// replaceDB removes the demo database left by an earlier run, and says
// whether there was one. It refuses a
// file that is not a warden database, or one that holds anything the demo
// did not write (a real sync's snapshots, audit records…), so a mistyped
// --db cannot destroy real data.
func (a *app) replaceDB(ctx context.Context, path string) (bool, error) {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	st, err := a.openStore(ctx, path)
	if err != nil {
		return false, err
	}
	foreign, err := st.Foreign(ctx)
	if cerr := st.Close(); err == nil && cerr != nil {
		return false, storeError(cerr, fmt.Sprintf("close %s: %v", path, cerr), "remove the file by hand and run `warden demo` again")
	}
	if err != nil {
		return false, storeError(err, fmt.Sprintf("read %s: %v", path, err), "pass --db with another file")
	}
	if foreign != "" {
		return false, usageError(fmt.Sprintf("%s holds data the demo did not write (%s); the demo replaces its file, so it will not touch this one", path, foreign),
			"pass --db with a new file name (the default is "+demoDB+"), or remove "+path+" yourself if you really mean to discard it")
	}
	for _, f := range []string{path, path + "-wal", path + "-shm", path + "-journal"} {
		if err := os.Remove(f); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return false, storeError(err, fmt.Sprintf("replace demo database: %v", err), "remove "+path+" by hand, or pass --db with another file")
		}
	}
	return true, nil
}
