package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// TestFakeAWSEmpty: `fake-aws --empty` serves an account with nothing in
// it, which the SDK builds and warden then syncs.
func TestFakeAWSEmpty(t *testing.T) {
	isolateAWSConfig(t)
	env := startFakeAWS(t, "--empty")
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "AWS_ENDPOINT_URL"} {
		t.Setenv(k, env[k])
	}
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	client := iam.NewFromConfig(cfg)
	users, err := client.ListUsers(ctx, &iam.ListUsersInput{})
	if err != nil || len(users.Users) != 0 {
		t.Fatalf("ListUsers on --empty = %v, %v; want no users", users, err)
	}
	for _, name := range []string{"ann", "bob"} {
		if _, err := client.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)}); err != nil {
			t.Fatal(err)
		}
	}
	db := filepath.Join(t.TempDir(), "w.db")
	var out, errOut bytes.Buffer
	if code := run(ctx, []string{"--db", db, "sync", "-o", "json"}, &out, &errOut); code != 0 {
		t.Fatalf("sync against fake-aws --empty exited %d: %s", code, errOut.String())
	}
	var sum struct {
		Snapshot struct {
			Counts map[string]int `json:"counts"`
		} `json:"snapshot"`
	}
	if err := json.Unmarshal(out.Bytes(), &sum); err != nil {
		t.Fatal(err)
	}
	if sum.Snapshot.Counts["iam_user"] != 2 || sum.Snapshot.Counts["iam_role"] != 0 {
		t.Errorf("sync of the built account counts %v, want 2 users and no roles", sum.Snapshot.Counts)
	}
}

func TestFakeAWSEmptyRefusesAnEstate(t *testing.T) {
	for _, args := range [][]string{{"--empty", "--accounts", "2"}, {"--empty", "--users", "10"}} {
		var out, errOut bytes.Buffer
		code := run(context.Background(), append([]string{"fake-aws", "--listen", "127.0.0.1:0"}, args...), &out, &errOut)
		if code != 2 || !strings.Contains(errOut.String(), "--empty") || !strings.Contains(errOut.String(), "fix:") {
			t.Errorf("fake-aws %v: exit %d, stderr %q; want a usage error naming --empty", args, code, errOut.String())
		}
	}
}
