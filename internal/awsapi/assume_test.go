package awsapi

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/warden-iam/warden/awsfake"
)

// memberSession returns a session on an emulated organization whose clock
// runs offset from real time, and the member account's role ARN.
func memberSession(t *testing.T, offset time.Duration) (*Session, *awsfake.Server, string) {
	t.Helper()
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	srv := awsfake.NewServer(awsfake.Options{Now: func() time.Time { return time.Now().Add(offset) }})
	t.Cleanup(srv.Close)
	c := awsfake.OrgEstate{Accounts: 1, ExternalID: "assume-test-external-id-0000000000", PerAccount: awsfake.Estate{Users: 2}}.Build().Install(srv)
	sess, err := Load(context.Background(), Options{Region: "us-east-1", Endpoint: srv.URL(),
		Credentials: credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, "")})
	if err != nil {
		t.Fatal(err)
	}
	return sess, srv, "arn:aws:iam::200000000000:role/" + awsfake.DefaultMemberRoleName
}

func listUsersThrice(t *testing.T, sess *Session) {
	t.Helper()
	for range 3 {
		if _, err := sess.IAM("200000000000").ListUsers(context.Background(), &iam.ListUsersInput{}); err != nil {
			t.Fatalf("ListUsers with the member role: %v", err)
		}
	}
}

func TestAssumeMemberReusesCredentials(t *testing.T) {
	sess, srv, role := memberSession(t, 0)
	if err := sess.AssumeMember(context.Background(), "200000000000", role, "assume-test-external-id-0000000000"); err != nil {
		t.Fatal(err)
	}
	listUsersThrice(t, sess)
	if n := srv.CallsFor("111111111111")["sts:AssumeRole"]; n != 1 {
		t.Errorf("AssumeRole calls = %d, want 1: credentials valid for an hour are reused", n)
	}
	if n := srv.CallsFor("200000000000")["iam:ListUsers"]; n != 3 {
		t.Errorf("ListUsers in the member = %d, want 3 (made with the role's credentials)", n)
	}
}

// TestAssumeMemberRenewsBeforeExpiry: with the emulator's clock 57 minutes
// behind, the role's one-hour credentials expire three minutes from now,
// inside the renewal window, so every use renews them first.
func TestAssumeMemberRenewsBeforeExpiry(t *testing.T) {
	sess, srv, role := memberSession(t, -57*time.Minute)
	if err := sess.AssumeMember(context.Background(), "200000000000", role, "assume-test-external-id-0000000000"); err != nil {
		t.Fatal(err)
	}
	listUsersThrice(t, sess)
	if n := srv.CallsFor("111111111111")["sts:AssumeRole"]; n < 2 {
		t.Errorf("AssumeRole calls = %d, want the credentials renewed before they expire", n)
	}
}

func TestAssumeMemberRefusedIsExplained(t *testing.T) {
	sess, _, role := memberSession(t, 0)
	err := sess.AssumeMember(context.Background(), "200000000000", role, "wrong-external-id-00000000000000")
	var ae *AssumeRoleError
	if !errors.As(err, &ae) || ae.AccountID != "200000000000" {
		t.Fatalf("AssumeMember = %v, want an AssumeRoleError", err)
	}
	problem, fix := Explain(err)
	if !strings.Contains(problem, "cannot assume "+role) || !strings.Contains(problem, "ExternalId") || !strings.Contains(fix, "warden setup stackset") {
		t.Errorf("Explain = %q / %q", problem, fix)
	}
}
