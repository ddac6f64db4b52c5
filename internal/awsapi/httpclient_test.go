package awsapi

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/warden-iam/warden/awsfake"
)

// TestLargeResponsesNeedNoRetry pages large GetAccountAuthorizationDetails
// answers many times: without bufferedBodyClient, the SDK's request-body
// race closed a connection under a response in about one run in three, and
// the call had to be retried.
func TestLargeResponsesNeedNoRetry(t *testing.T) {
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	srv := awsfake.NewServer(awsfake.Options{IAMPageLimit: 150})
	defer srv.Close()
	c := srv.AddAccount(awsfake.Estate{Users: 600, Groups: 60, Roles: 300, Policies: 120, Seed: 5}.Build())
	sess, err := Load(context.Background(), Options{Region: "us-east-1", Endpoint: srv.URL(), IAMRate: 100000,
		Credentials: credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, "")})
	if err != nil {
		t.Fatal(err)
	}
	pages := 0
	const runs = 8
	for range runs {
		p := iam.NewGetAccountAuthorizationDetailsPaginator(sess.IAM("123456789012"), &iam.GetAccountAuthorizationDetailsInput{MaxItems: aws.Int32(1000)})
		for p.HasMorePages() {
			if _, err := p.NextPage(context.Background()); err != nil {
				t.Fatal(err)
			}
			pages++
		}
	}
	if got := srv.Calls()["iam:GetAccountAuthorizationDetails"]; got != int64(pages) {
		t.Errorf("the emulator served %d GetAccountAuthorizationDetails for %d pages read: %d attempts were retried", got, pages, got-int64(pages))
	}
}
