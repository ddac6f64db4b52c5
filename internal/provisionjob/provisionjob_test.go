package provisionjob

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/warden-iam/warden/awsfake"
	"github.com/warden-iam/warden/internal/awsapi"
	"github.com/warden-iam/warden/internal/provision"
	"github.com/warden-iam/warden/internal/store"
	"github.com/warden-iam/warden/internal/syncer"
)

const account = "111122223333"

func fake(t *testing.T) (*awsfake.Server, awsapi.Options) {
	t.Helper()
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	srv := awsfake.NewServer(awsfake.Options{})
	t.Cleanup(srv.Close)
	c := srv.AddAccount(awsfake.Estate{AccountID: account, Users: 3, Groups: 1, Roles: 1, Policies: 1, Seed: 1}.Build())
	return srv, awsapi.Options{Region: "us-east-1", Endpoint: srv.URL(), IAMRate: 100000,
		Credentials: credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken)}
}

// TestConnect builds the provisioner the actions need, acting as the
// credentials' ARN unless an actor is given.
func TestConnect(t *testing.T) {
	_, aws := fake(t)
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c, err := Connect(ctx, Options{AWS: aws, ConnectionID: "prod", Store: st, Actions: []provision.Action{{Kind: provision.CreateUser, User: "x"}}})
	if err != nil {
		t.Fatal(err)
	}
	p := c.Provisioner
	if p.AccountID != account || !strings.HasPrefix(p.Actor, "arn:aws:") || p.Org != nil || p.IC != nil || p.Audit == nil || p.ConnectionID != "prod" {
		t.Fatalf("provisioner %+v: want account %s, the ARN as actor, no organization or Identity Center, the store's audit log", p, account)
	}
	c, err = Connect(ctx, Options{AWS: aws, Actor: "ops", Actions: []provision.Action{{Kind: provision.AssignPermissionSet}}})
	var ce *ConnectError
	if !errors.As(err, &ce) || ce.Part != "identity-center" {
		t.Fatalf("an Identity Center action without Identity Center: %v, want a ConnectError of identity-center", err)
	}
	c, err = Connect(ctx, Options{AWS: aws, Actor: "ops", Actions: []provision.Action{{Kind: provision.AttachPolicy}}})
	if err != nil || c.Provisioner.Actor != "ops" || c.Provisioner.Audit != nil {
		t.Fatalf("actor ops, no store: %+v %v", c, err)
	}
	if _, err := c.Refresh(ctx, provision.Change{Account: account}); err == nil {
		t.Fatal("a refresh without a store succeeded")
	}
}

// TestRefreshRecordsTheChange: after an apply, Refresh writes a snapshot
// that has the new user.
func TestRefreshRecordsTheChange(t *testing.T) {
	_, aws := fake(t)
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	actions := []provision.Action{{Kind: provision.CreateUser, User: "newcomer"}}
	c, err := Connect(ctx, Options{AWS: aws, ConnectionID: "prod", Store: st, Actions: actions})
	if err != nil {
		t.Fatal(err)
	}
	run, err := provision.Run(ctx, provision.RunOptions{Actions: actions, Provisioner: c.Provisioner, Refresh: c.Refresh})
	if err != nil {
		t.Fatal(err)
	}
	// No snapshot yet: the refresh says so; the change is made all the same.
	if len(run.Refreshed) != 1 || !errors.Is(run.Refreshed[0].Err, store.ErrNoSnapshot) {
		t.Fatalf("refreshed %+v, want one refresh failing with ErrNoSnapshot", run.Refreshed)
	}
	if _, err := syncer.Sync(ctx, c.Session, st, syncer.Options{ConnectionID: "prod"}); err != nil {
		t.Fatal(err)
	}
	actions = []provision.Action{{Kind: provision.CreateUser, User: "second"}}
	if c, err = Connect(ctx, Options{AWS: aws, ConnectionID: "prod", Store: st, Actions: actions}); err != nil {
		t.Fatal(err)
	}
	if run, err = provision.Run(ctx, provision.RunOptions{Actions: actions, Provisioner: c.Provisioner, Refresh: c.Refresh}); err != nil {
		t.Fatal(err)
	}
	if len(run.Refreshed) != 1 || run.Refreshed[0].Err != nil {
		t.Fatalf("refreshed %+v", run.Refreshed)
	}
	found, err := st.FindPrincipal(ctx, run.Refreshed[0].Snapshot, "second")
	if err != nil || len(found) != 1 {
		t.Fatalf("snapshot %d after the refresh: %v %v, want the new user", run.Refreshed[0].Snapshot, found, err)
	}
}
