package awsfake_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/warden-iam/warden/awsfake"
)

// Example wires the real AWS SDK to the emulator, as a test of your own
// IAM tooling would: an empty account, built through the API, read back.
func Example() {
	srv := awsfake.NewServer(awsfake.Options{})
	defer srv.Close()
	creds := srv.AddAccount(awsfake.NewAccount("123456789012"))

	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx,
		config.WithRegion("us-east-1"),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken)),
		config.WithBaseEndpoint(srv.URL()))
	if err != nil {
		log.Fatal(err)
	}
	who, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("caller:", aws.ToString(who.Arn))

	client := iam.NewFromConfig(cfg)
	policy, err := client.CreatePolicy(ctx, &iam.CreatePolicyInput{
		PolicyName:     aws.String("read-logs"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"logs:Get*","Resource":"*"}]}`),
	})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := client.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("ann")}); err != nil {
		log.Fatal(err)
	}
	if _, err := client.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("ann"), PolicyArn: policy.Policy.Arn}); err != nil {
		log.Fatal(err)
	}
	_, err = client.CreatePolicy(ctx, &iam.CreatePolicyInput{
		PolicyName:     aws.String("maybe"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Perhaps","Action":"s3:*","Resource":"*"}]}`),
	})
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		fmt.Println("invalid document:", apiErr.ErrorCode())
	}

	attached, err := client.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: aws.String("ann")})
	if err != nil {
		log.Fatal(err)
	}
	for _, p := range attached.AttachedPolicies {
		fmt.Println("ann has", aws.ToString(p.PolicyArn))
	}
	// Output:
	// caller: arn:aws:iam::123456789012:user/warden-admin
	// invalid document: MalformedPolicyDocument
	// ann has arn:aws:iam::123456789012:policy/read-logs
}
