package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/warden-iam/warden/awsfake"
	"github.com/warden-iam/warden/internal/awsapi"
	"github.com/warden-iam/warden/internal/collect"
	"github.com/warden-iam/warden/internal/store"
	"github.com/warden-iam/warden/internal/syncer"
)

// The tests run warden's commands in-process, the way main does, against a
// fixture database written once for the whole package: one generated
// account (the estate of fake-aws), synced through the real SDK from the
// emulator and marked as the demo's, so `warden demo` may replace it.

var (
	demoOnce  sync.Once
	demoDir   string
	demoFail  error
	demoTruth *awsfake.Account
)

func TestMain(m *testing.M) {
	if os.Getenv(mainEnv) == "1" {
		// A test started this binary as warden itself (see startReplica).
		os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
	}
	code := m.Run()
	if demoDir != "" {
		os.RemoveAll(demoDir)
	}
	os.Exit(code)
}

// demoDBPath writes the fixture database once and returns its path.
func demoDBPath(t *testing.T) string {
	t.Helper()
	demoOnce.Do(func() {
		dir, err := os.MkdirTemp("", "warden-cmd-test-")
		if err != nil {
			t.Fatalf("temp dir: %v", err)
		}
		demoDir = dir
		demoTruth = estate(demoAccount, demoAlias, demoUsers, demoSeed).Build()
		demoFail = writeFixture(filepath.Join(dir, "demo.db"), demoTruth)
	})
	if demoFail != nil {
		t.Fatalf("write the fixture database: %v", demoFail)
	}
	return filepath.Join(demoDir, "demo.db")
}

// writeFixture syncs acct from an in-process emulator into a new SQLite
// database at path and marks the snapshot as the demo's.
func writeFixture(path string, acct *awsfake.Account) error {
	ctx := context.Background()
	srv := awsfake.NewServer(awsfake.Options{Seed: demoSeed})
	defer srv.Close()
	creds := srv.AddAccount(acct)
	sess, err := awsapi.Load(ctx, awsapi.Options{Region: demoRegion, Endpoint: srv.URL(), IAMRate: demoIAMRate,
		Credentials: credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken)})
	if err != nil {
		return err
	}
	st, err := store.OpenSQLite(ctx, path)
	if err != nil {
		return err
	}
	defer st.Close()
	snap, err := syncer.Sync(ctx, sess, st, syncer.Options{ConnectionID: "default", IAM: collect.IAMOptions{AccessKeys: true}})
	if err != nil {
		return err
	}
	if snap.Status != "complete" {
		return fmt.Errorf("fixture snapshot %d is %s: %v", snap.ID, snap.Status, snap.Errors)
	}
	return st.MarkDemoSnapshot(ctx, snap.ID)
}

// truth is the fixture estate as generated: the ground truth of the demo db.
func truth(t *testing.T) *awsfake.Account {
	demoDBPath(t)
	return demoTruth
}

// runIn runs one command line with the working directory unchanged and
// returns its stdout, stderr and exit code. Every output is checked for the
// estate's secrets. The first argument, when not "", is a database path
// passed as --db.
func runIn(t *testing.T, db string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	if db != "" {
		args = append([]string{"--db", db}, args...)
	}
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb)
	assertNoSecrets(t, "warden "+strings.Join(args, " "), out.String()+errb.String())
	return out.String(), errb.String(), code
}

// warden runs a command against the demo database.
func warden(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return runIn(t, demoDBPath(t), args...)
}

// mustWarden runs a command against the demo database and fails the test
// unless it exits 0.
func mustWarden(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, code := warden(t, args...)
	if code != 0 {
		t.Fatalf("warden %s exited %d\nstderr:\n%s", strings.Join(args, " "), code, errOut)
	}
	return out
}

var (
	secretsOnce sync.Once
	secrets     []string
)

// assertNoSecrets fails when output holds a secret of the demo estate: an
// access key's secret or a console password.
func assertNoSecrets(t *testing.T, what, output string) {
	t.Helper()
	secretsOnce.Do(func() {
		acct := estate(demoAccount, demoAlias, demoUsers, demoSeed).Build()
		for _, u := range acct.IAM.Users {
			for _, k := range u.AccessKeys {
				secrets = append(secrets, k.Secret)
			}
			if u.LoginProfile != nil && u.LoginProfile.Password != "" {
				secrets = append(secrets, u.LoginProfile.Password)
			}
		}
	})
	if len(secrets) == 0 {
		t.Fatal("the demo estate has no secrets to look for: the check would prove nothing")
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(output, s) {
			t.Fatalf("%s printed a secret of the estate", what)
		}
	}
}

func sortedCopy(s []string) []string {
	c := append([]string(nil), s...)
	sort.Strings(c)
	return c
}
