package awsfake_test

import (
	"context"
	"fmt"
	"log"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	istypes "github.com/aws/aws-sdk-go-v2/service/identitystore/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"

	"github.com/warden-iam/warden/awsfake"
)

// ExampleServer_EnableIdentityCenter builds an organization with the real
// SDK, as a test of your own organization tooling would: the organization,
// an account (created asynchronously, as AWS creates it), then Identity
// Center, enabled as the console would, and a user in its identity store.
func ExampleServer_EnableIdentityCenter() {
	srv := awsfake.NewServer(awsfake.Options{})
	defer srv.Close()
	creds := srv.AddAccount(awsfake.NewAccount("111111111111"))
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion("us-east-1"), config.WithBaseEndpoint(srv.URL()),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken)))
	if err != nil {
		log.Fatal(err)
	}
	org := organizations.NewFromConfig(cfg)
	if _, err := org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{}); err != nil {
		log.Fatal(err)
	}
	started, err := org.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String("dev"), Email: aws.String("dev@example.com")})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("CreateAccount:", started.CreateAccountStatus.State)
	status, err := org.DescribeCreateAccountStatus(ctx, &organizations.DescribeCreateAccountStatusInput{CreateAccountRequestId: started.CreateAccountStatus.Id})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("DescribeCreateAccountStatus:", status.CreateAccountStatus.State)
	dev := srv.Account(aws.ToString(status.CreateAccountStatus.AccountId))
	fmt.Println("roles in the new account:", len(dev.IAM.Roles), dev.IAM.Roles[awsfake.DefaultMemberRoleName].AttachedPolicies)

	if _, err := srv.EnableIdentityCenter(); err != nil {
		log.Fatal(err)
	}
	instances, err := ssoadmin.NewFromConfig(cfg).ListInstances(ctx, &ssoadmin.ListInstancesInput{})
	if err != nil {
		log.Fatal(err)
	}
	_, err = identitystore.NewFromConfig(cfg).CreateUser(ctx, &identitystore.CreateUserInput{IdentityStoreId: instances.Instances[0].IdentityStoreId,
		UserName: aws.String("ann"), DisplayName: aws.String("Ann Example"),
		Name: &istypes.Name{GivenName: aws.String("Ann"), FamilyName: aws.String("Example")}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("Identity Store users:", len(srv.IdentityCenter().Users))
	// Output:
	// CreateAccount: IN_PROGRESS
	// DescribeCreateAccountStatus: SUCCEEDED
	// roles in the new account: 1 [arn:aws:iam::aws:policy/AdministratorAccess]
	// Identity Store users: 1
}
