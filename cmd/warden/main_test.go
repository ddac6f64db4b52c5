package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/warden-iam/warden/awsfake"
)

// The tests run warden's commands in-process, the way main does, against a
// demo database written once for the whole package.

var (
	demoOnce  sync.Once
	demoDir   string
	demoCode  int
	demoOut   string
	demoErr   string
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

// demoDBPath runs `warden demo` once and returns the database it wrote.
func demoDBPath(t *testing.T) string {
	t.Helper()
	demoOnce.Do(func() {
		dir, err := os.MkdirTemp("", "warden-cmd-test-")
		if err != nil {
			t.Fatalf("temp dir: %v", err)
		}
		demoDir = dir
		demoTruth = estate(demoAccount, demoAlias, demoUsers, demoSeed).Build()
		demoOut, demoErr, demoCode = runIn(t, "", "--db", filepath.Join(dir, "demo.db"), "demo")
	})
	if demoCode != 0 {
		t.Fatalf("warden demo exited %d\nstdout:\n%s\nstderr:\n%s", demoCode, demoOut, demoErr)
	}
	return filepath.Join(demoDir, "demo.db")
}

// truth is the demo estate as generated: the ground truth of the demo db.
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
