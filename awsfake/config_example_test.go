package awsfake_test

import (
	"context"
	"fmt"
	"log"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/configservice"

	"github.com/warden-iam/warden/awsfake"
)

// Example_configAggregator places assets and an AWS Config aggregator in an
// account and runs an advanced query over it through the SDK, paging as
// AWS does.
func Example_configAggregator() {
	srv := awsfake.NewServer(awsfake.Options{})
	defer srv.Close()
	account := awsfake.NewAccount("123456789012")
	truth := awsfake.AssetEstate{Regions: []string{"us-east-1"}, Aggregator: &awsfake.ConfigAggregator{Name: "org", Organization: true, AllRegions: true}}.
		Build([]*awsfake.Account{account})
	creds := srv.AddAccount(account)
	srv.SetAssets(truth.Assets)

	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx,
		config.WithRegion("us-east-1"),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken)),
		config.WithBaseEndpoint(srv.URL()))
	if err != nil {
		log.Fatal(err)
	}
	client := configservice.NewFromConfig(cfg)
	for _, typ := range []string{"AWS::S3::Bucket", "AWS::KMS::Key", "AWS::EC2::SecurityGroup"} {
		p := configservice.NewSelectAggregateResourceConfigPaginator(client, &configservice.SelectAggregateResourceConfigInput{
			ConfigurationAggregatorName: aws.String("org"), Limit: 2,
			Expression: aws.String("SELECT resourceId, configuration WHERE resourceType = '" + typ + "'")})
		items, pages := 0, 0
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				log.Fatal(err)
			}
			items, pages = items+len(out.Results), pages+1
		}
		fmt.Printf("%s: %d items in %d pages\n", typ, items, pages)
	}
	// Output:
	// AWS::S3::Bucket: 5 items in 3 pages
	// AWS::KMS::Key: 5 items in 3 pages
	// AWS::EC2::SecurityGroup: 5 items in 3 pages
}
