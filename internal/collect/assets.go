package collect

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/s3control"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"

	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/policy"
)

// The asset collector reads one account's assets, per region, from the
// service listings, with the per-resource calls that alone return a
// resource's policy made in parallel (each service's clients are paced by
// their own limiter, per account and region, in awsapi):
//
//	getRegions         ec2:DescribeRegions once (the account's enabled regions), unless regions are configured
//	getBuckets         s3:ListBuckets once (every region), then per bucket GetBucketPolicy + GetPublicAccessBlock + GetBucketAcl
//	getKeys            kms:ListKeys, per key DescribeKey, per customer managed key GetKeyPolicy + ListGrants
//	getFunctions       lambda:ListFunctions (50 a page), per function GetPolicy + ListAliases, per alias GetPolicy
//	getSecrets         secretsmanager:ListSecrets (100 a page), per secret GetResourcePolicy
//	getInstances       ec2:DescribeInstances and DescribeSecurityGroups (1000 a page), and
//	                   iam:ListInstanceProfiles once when an instance has a profile
//	getAccountBPA      s3control:GetPublicAccessBlock once (the account-level Block Public Access)
//	transform…         the resources and their identity edges
//
// Regions an AWS Config aggregator covers (AssetOptions.Inventory) are read
// from its configuration items instead, with only the per-resource calls
// for what Config does not record (assets_config.go).
//
// A region the account has not enabled, or that a service control policy
// denies, is recognised from AWS's answer and skipped with a note; any
// other failure of a listing or a per-resource call is a SourceError with
// its fix, and the rest is kept.

// SourceAssets is the Source of the asset collector's errors.
const SourceAssets = "assets"

// AssetServices are the services the asset collector can read, in the
// order it reads them.
var AssetServices = []string{"ec2", "s3", "kms", "lambda", "secretsmanager"}

// EC2API is the part of the EC2 client the asset collector calls.
type EC2API interface {
	DescribeRegions(ctx context.Context, in *ec2.DescribeRegionsInput, optFns ...func(*ec2.Options)) (*ec2.DescribeRegionsOutput, error)
	DescribeInstances(ctx context.Context, in *ec2.DescribeInstancesInput, optFns ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error)
	DescribeSecurityGroups(ctx context.Context, in *ec2.DescribeSecurityGroupsInput, optFns ...func(*ec2.Options)) (*ec2.DescribeSecurityGroupsOutput, error)
}

// S3API is the part of the S3 client the asset collector calls.
type S3API interface {
	ListBuckets(ctx context.Context, in *s3.ListBucketsInput, optFns ...func(*s3.Options)) (*s3.ListBucketsOutput, error)
	GetBucketPolicy(ctx context.Context, in *s3.GetBucketPolicyInput, optFns ...func(*s3.Options)) (*s3.GetBucketPolicyOutput, error)
	GetPublicAccessBlock(ctx context.Context, in *s3.GetPublicAccessBlockInput, optFns ...func(*s3.Options)) (*s3.GetPublicAccessBlockOutput, error)
	GetBucketAcl(ctx context.Context, in *s3.GetBucketAclInput, optFns ...func(*s3.Options)) (*s3.GetBucketAclOutput, error)
}

// KMSAPI is the part of the KMS client the asset collector calls.
type KMSAPI interface {
	ListKeys(ctx context.Context, in *kms.ListKeysInput, optFns ...func(*kms.Options)) (*kms.ListKeysOutput, error)
	DescribeKey(ctx context.Context, in *kms.DescribeKeyInput, optFns ...func(*kms.Options)) (*kms.DescribeKeyOutput, error)
	GetKeyPolicy(ctx context.Context, in *kms.GetKeyPolicyInput, optFns ...func(*kms.Options)) (*kms.GetKeyPolicyOutput, error)
	ListGrants(ctx context.Context, in *kms.ListGrantsInput, optFns ...func(*kms.Options)) (*kms.ListGrantsOutput, error)
}

// LambdaAPI is the part of the Lambda client the asset collector calls.
type LambdaAPI interface {
	ListFunctions(ctx context.Context, in *lambda.ListFunctionsInput, optFns ...func(*lambda.Options)) (*lambda.ListFunctionsOutput, error)
	GetPolicy(ctx context.Context, in *lambda.GetPolicyInput, optFns ...func(*lambda.Options)) (*lambda.GetPolicyOutput, error)
	ListAliases(ctx context.Context, in *lambda.ListAliasesInput, optFns ...func(*lambda.Options)) (*lambda.ListAliasesOutput, error)
}

// SecretsManagerAPI is the part of the Secrets Manager client the asset
// collector calls. It never reads a secret's value.
type SecretsManagerAPI interface {
	ListSecrets(ctx context.Context, in *secretsmanager.ListSecretsInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.ListSecretsOutput, error)
	GetResourcePolicy(ctx context.Context, in *secretsmanager.GetResourcePolicyInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetResourcePolicyOutput, error)
}

// InstanceProfilesAPI is the IAM call that maps instance profiles to roles.
type InstanceProfilesAPI interface {
	ListInstanceProfiles(ctx context.Context, in *iam.ListInstanceProfilesInput, optFns ...func(*iam.Options)) (*iam.ListInstanceProfilesOutput, error)
}

// S3ControlAPI is the S3 Control call that reads the account-level Block
// Public Access settings.
type S3ControlAPI interface {
	GetPublicAccessBlock(ctx context.Context, in *s3control.GetPublicAccessBlockInput, optFns ...func(*s3control.Options)) (*s3control.GetPublicAccessBlockOutput, error)
}

// AssetAPIs are one account's asset clients in one region.
type AssetAPIs struct {
	EC2            EC2API
	S3             S3API
	KMS            KMSAPI
	Lambda         LambdaAPI
	SecretsManager SecretsManagerAPI
	S3Control      S3ControlAPI
}

// AssetOptions tune CollectAssets.
type AssetOptions struct {
	// Services are the services read (AssetServices' names); empty: all.
	Services []string
	// Regions are the regions read; empty: the account's enabled regions,
	// from ec2:DescribeRegions in HomeRegion.
	Regions []string
	// HomeRegion is where DescribeRegions and ListBuckets are called;
	// default us-east-1.
	HomeRegion string
	// Concurrency is how many per-resource calls of one service and region
	// run at once; default 8.
	Concurrency int
	// Config chooses the AWS Config source (assets_config.go); nil reads
	// the service listings only.
	Config *ConfigSourceOptions
	// Inventory is what the Config source read, once per sync
	// (ReadAssetInventory): the regions it covers are read from it, the
	// rest from the service listings. Nil: the service listings only.
	Inventory *AssetInventory
}

// AssetResult is what CollectAssets read of one account.
type AssetResult struct {
	Graph model.Graph
	// Regions are the regions read.
	Regions []string
	// Sources say how each region was read (also in the graph, on the
	// account's TypeAccountAssets resource).
	Sources []model.AssetRegionSource
	// Skipped are the regions skipped (not enabled, or denied by an SCP),
	// with why, by region.
	Skipped map[string]string
	Errors  []model.SourceError
}

// assetRun is one account's collection in progress.
type assetRun struct {
	account string
	clients func(region string) AssetAPIs
	iam     InstanceProfilesAPI
	o       AssetOptions
	fails   failures

	mu        sync.Mutex
	resources []model.Resource
	skipped   map[string]string
	profiles  map[string]string // instance profile ARN → role ARN, once read
	// accountUnread names the account-level settings not read.
	accountUnread []string
}

func (r *assetRun) add(res ...model.Resource) {
	r.mu.Lock()
	r.resources = append(r.resources, res...)
	r.mu.Unlock()
}

// CollectAssets reads one account's assets through clients (one set per
// region) and iamc (for instance profiles). It fails only when ctx ends;
// everything else it could not read is in AssetResult.Errors.
func CollectAssets(ctx context.Context, account string, clients func(region string) AssetAPIs, iamc InstanceProfilesAPI, o AssetOptions) (*AssetResult, error) {
	if o.HomeRegion == "" {
		o.HomeRegion = "us-east-1"
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 8
	}
	if len(o.Services) == 0 {
		o.Services = AssetServices
	}
	r := &assetRun{account: account, clients: clients, iam: iamc, o: o, skipped: map[string]string{}}
	regions := r.getRegions(ctx)
	var listed, covered []string
	for _, region := range regions {
		if o.Inventory.Covers(account, region) {
			covered = append(covered, region)
		} else {
			listed = append(listed, region)
		}
	}
	var wg sync.WaitGroup
	for _, region := range covered {
		wg.Add(1)
		go func() { defer wg.Done(); r.fromConfig(ctx, region) }()
	}
	for _, region := range listed {
		for _, svc := range o.Services {
			if svc == "s3" {
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				switch svc {
				case "ec2":
					r.getInstances(ctx, region)
				case "kms":
					r.getKeys(ctx, region)
				case "lambda":
					r.getFunctions(ctx, region)
				case "secretsmanager":
					r.getSecrets(ctx, region)
				}
			}()
		}
	}
	var accountBPA *model.PublicAccessBlock
	if slices.Contains(o.Services, "s3") {
		if len(listed) > 0 {
			wg.Add(1)
			go func() { defer wg.Done(); r.getBuckets(ctx, listed) }()
		}
		wg.Add(1)
		go func() { defer wg.Done(); accountBPA = r.getAccountBPA(ctx) }()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	res := &AssetResult{Regions: regions, Skipped: r.skipped}
	for _, region := range regions {
		src := model.AssetRegionSource{Region: region, Source: model.AssetSourceServices}
		if slices.Contains(covered, region) {
			src.Source, src.Aggregator = model.AssetSourceConfig, o.Inventory.Aggregator
		}
		res.Sources = append(res.Sources, src)
	}
	r.add(model.Resource{ID: model.AccountAssetsID(account), Type: model.TypeAccountAssets, AccountID: account, Name: account,
		ParentID: model.AccountResourceID(account), Unread: r.accountUnread,
		AccountAssets: &model.AccountAssetsAttrs{PublicAccessBlock: accountBPA, Sources: res.Sources}})
	res.Graph = transformAssets(account, r.resources)
	res.Errors = r.fails.list()
	return res, nil
}

// getAccountBPA reads the account-level S3 Block Public Access settings:
// from the aggregator's AWS::S3::AccountPublicAccessBlock item when it has
// one, else with s3control:GetPublicAccessBlock in the home region; nil
// when none is set or they could not be read (then Unread says so).
func (r *assetRun) getAccountBPA(ctx context.Context) *model.PublicAccessBlock {
	if p, ok := r.o.Inventory.accountBPA(r.account); ok {
		return p
	}
	c := r.clients(r.o.HomeRegion).S3Control
	if c == nil {
		return nil
	}
	out, err := c.GetPublicAccessBlock(ctx, &s3control.GetPublicAccessBlockInput{AccountId: aws.String(r.account)})
	switch {
	case err == nil && out.PublicAccessBlockConfiguration != nil:
		p := out.PublicAccessBlockConfiguration
		return &model.PublicAccessBlock{BlockPublicAcls: aws.ToBool(p.BlockPublicAcls), IgnorePublicAcls: aws.ToBool(p.IgnorePublicAcls),
			BlockPublicPolicy: aws.ToBool(p.BlockPublicPolicy), RestrictPublicBuckets: aws.ToBool(p.RestrictPublicBuckets)}
	case err == nil || apiErrorCode(err) == "NoSuchPublicAccessBlockConfiguration":
		return nil
	}
	r.mu.Lock()
	r.accountUnread = []string{"public_access_block"}
	r.mu.Unlock()
	r.fails.add("", "", partFailure(r.account, SourceAssets, "read the account's S3 Block Public Access settings with s3control:GetPublicAccessBlock (IAM action s3:GetAccountPublicAccessBlock)", err,
		"they are unknown: a bucket public by policy is reported public unless its own settings restrict it"))
	return nil
}

// getRegions returns the configured regions, else the account's enabled
// ones; if DescribeRegions fails, the home region alone, with the failure.
func (r *assetRun) getRegions(ctx context.Context) []string {
	if len(r.o.Regions) > 0 {
		out := slices.Clone(r.o.Regions)
		sort.Strings(out)
		return out
	}
	out, err := r.clients(r.o.HomeRegion).EC2.DescribeRegions(ctx, &ec2.DescribeRegionsInput{})
	if err != nil {
		r.fails.add("", "", partFailure(r.account, SourceAssets, "list the enabled regions with ec2:DescribeRegions", err, "only "+r.o.HomeRegion+" is read"))
		return []string{r.o.HomeRegion}
	}
	var regions []string
	for _, reg := range out.Regions {
		if aws.ToString(reg.OptInStatus) != "not-opted-in" {
			regions = append(regions, aws.ToString(reg.RegionName))
		}
	}
	sort.Strings(regions)
	return regions
}

// regionRefusal says why AWS refused a call in a region as a whole: the
// region is not enabled for the account, or an SCP denies it; "" for any
// other failure.
func regionRefusal(err error) string {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return ""
	}
	if strings.Contains(ae.ErrorMessage(), "explicit deny in a service control policy") {
		return "denied by a service control policy"
	}
	switch ae.ErrorCode() {
	case "AuthFailure", "UnrecognizedClientException", "InvalidToken", "InvalidClientTokenId":
		return "not enabled for the account (its credentials are not valid there)"
	}
	return ""
}

// failed records a failed call: a region refused as a whole is noted once
// and skipped; anything else is a SourceError naming what was not read.
func (r *assetRun) failed(region, what string, err error, instead string) {
	if why := regionRefusal(err); why != "" {
		r.mu.Lock()
		first := r.skipped[region] == ""
		r.skipped[region] = why
		r.mu.Unlock()
		if first {
			fix := "enable the region for the account, or leave it out of sync.assets.regions"
			if strings.HasPrefix(why, "denied") {
				fix = "nothing to do if the SCP is meant to deny the region; else leave it out of sync.assets.regions to silence this note"
			}
			r.fails.add("", "", model.SourceError{AccountID: r.account, Source: SourceAssets, Message: "region " + region + " skipped: " + why, Fix: fix})
		}
		return
	}
	r.fails.add("", "", partFailure(r.account, SourceAssets, what, err, instead))
}

func (r *assetRun) sem() chan struct{} { return make(chan struct{}, r.o.Concurrency) }

// getBuckets lists the account's buckets once, then reads the policy and
// Block Public Access settings of those in the regions read, each through
// its own region's client.
func (r *assetRun) getBuckets(ctx context.Context, regions []string) {
	var buckets []model.Resource
	in := &s3.ListBucketsInput{MaxBuckets: aws.Int32(1000)}
	for {
		out, err := r.clients(r.o.HomeRegion).S3.ListBuckets(ctx, in)
		if err != nil {
			r.failed(r.o.HomeRegion, "list the S3 buckets with s3:ListBuckets", err, "no bucket is recorded")
			return
		}
		for _, b := range out.Buckets {
			region := aws.ToString(b.BucketRegion)
			if region == "" {
				region = r.o.HomeRegion
			}
			if !slices.Contains(regions, region) {
				continue
			}
			name := aws.ToString(b.Name)
			buckets = append(buckets, model.Resource{ID: "arn:aws:s3:::" + name, Type: model.TypeS3Bucket, AccountID: r.account, Name: name,
				ARN: "arn:aws:s3:::" + name, CreatedAt: aws.ToTime(b.CreationDate), Bucket: &model.BucketAttrs{Region: region}})
		}
		if aws.ToString(out.ContinuationToken) == "" {
			break
		}
		in.ContinuationToken = out.ContinuationToken
	}
	bounded(ctx, r.sem(), len(buckets), func(ctx context.Context, i int) error {
		b := &buckets[i]
		c := r.clients(b.Bucket.Region).S3
		pol, err := c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(b.Name)})
		switch {
		case err == nil:
			b.Bucket.Policy = aws.ToString(pol.Policy)
		case apiErrorCode(err) == "NoSuchBucketPolicy":
		default:
			r.failed(b.Bucket.Region, "read the policy of bucket "+b.Name, err, "its policy is unknown")
			b.Unread = append(b.Unread, "policy")
		}
		pab, err := c.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: aws.String(b.Name)})
		switch {
		case err == nil && pab.PublicAccessBlockConfiguration != nil:
			p := pab.PublicAccessBlockConfiguration
			b.Bucket.PublicAccessBlock = &model.PublicAccessBlock{BlockPublicAcls: aws.ToBool(p.BlockPublicAcls), IgnorePublicAcls: aws.ToBool(p.IgnorePublicAcls),
				BlockPublicPolicy: aws.ToBool(p.BlockPublicPolicy), RestrictPublicBuckets: aws.ToBool(p.RestrictPublicBuckets)}
		case err == nil || apiErrorCode(err) == "NoSuchPublicAccessBlockConfiguration":
		default:
			r.failed(b.Bucket.Region, "read the Block Public Access settings of bucket "+b.Name, err, "they are unknown")
			b.Unread = append(b.Unread, "public_access_block")
		}
		acl, err := c.GetBucketAcl(ctx, &s3.GetBucketAclInput{Bucket: aws.String(b.Name)})
		if err != nil {
			r.failed(b.Bucket.Region, "read the ACL of bucket "+b.Name, err, "who its ACL grants access to is unknown")
			b.Unread = append(b.Unread, "acl")
			return nil
		}
		b.Bucket.ACL = bucketACL(acl)
		return nil
	})
	r.add(buckets...)
}

// getKeys reads the customer managed keys of a region with their policies
// and grants.
func (r *assetRun) getKeys(ctx context.Context, region string) {
	c := r.clients(region).KMS
	var ids []string
	in := &kms.ListKeysInput{Limit: aws.Int32(1000)}
	for {
		out, err := c.ListKeys(ctx, in)
		if err != nil {
			r.failed(region, "list the KMS keys of "+region+" with kms:ListKeys", err, "no key of the region is recorded")
			return
		}
		for _, k := range out.Keys {
			ids = append(ids, aws.ToString(k.KeyId))
		}
		if !out.Truncated {
			break
		}
		in.Marker = out.NextMarker
	}
	keys := make([]*model.Resource, len(ids))
	bounded(ctx, r.sem(), len(ids), func(ctx context.Context, i int) error {
		d, err := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(ids[i])})
		if err != nil {
			r.failed(region, "describe KMS key "+ids[i], err, "the key is left out")
			return nil
		}
		md := d.KeyMetadata
		if md == nil || md.KeyManager != "CUSTOMER" {
			return nil
		}
		res := &model.Resource{ID: aws.ToString(md.Arn), Type: model.TypeKMSKey, AccountID: r.account, Name: aws.ToString(md.KeyId), ARN: aws.ToString(md.Arn),
			CreatedAt: aws.ToTime(md.CreationDate), KMSKey: &model.KMSKeyAttrs{Region: region, KeyID: aws.ToString(md.KeyId), State: string(md.KeyState), Description: aws.ToString(md.Description)}}
		r.keyDetails(ctx, c, region, res)
		keys[i] = res
		return nil
	})
	for _, k := range keys {
		if k != nil {
			r.add(*k)
		}
	}
}

// keyDetails reads what only per-key calls return: the key policy and
// the grants.
func (r *assetRun) keyDetails(ctx context.Context, c KMSAPI, region string, res *model.Resource) {
	keyID := aws.String(res.KMSKey.KeyID)
	pol, err := c.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: keyID, PolicyName: aws.String("default")})
	if err != nil {
		r.failed(region, "read the key policy of "+res.ARN, err, "its policy is unknown")
		res.Unread = append(res.Unread, "policy")
	} else {
		res.KMSKey.Policy = aws.ToString(pol.Policy)
	}
	gin := &kms.ListGrantsInput{KeyId: keyID, Limit: aws.Int32(100)}
	for {
		out, err := c.ListGrants(ctx, gin)
		if err != nil {
			r.failed(region, "list the grants of "+res.ARN, err, "its grants are unknown")
			res.Unread = append(res.Unread, "grants")
			break
		}
		for _, g := range out.Grants {
			kg := model.KMSGrant{GrantID: aws.ToString(g.GrantId), Name: aws.ToString(g.Name), GranteePrincipal: aws.ToString(g.GranteePrincipal),
				RetiringPrincipal: aws.ToString(g.RetiringPrincipal), Constraints: transformGrantConstraints(g.Constraints)}
			for _, op := range g.Operations {
				kg.Operations = append(kg.Operations, string(op))
			}
			res.KMSKey.Grants = append(res.KMSKey.Grants, kg)
		}
		if !out.Truncated {
			break
		}
		gin.Marker = out.NextMarker
	}
}

// transformGrantConstraints returns a grant's encryption context
// constraints as the model keeps them: an empty map as none, nil when
// the grant has none.
func transformGrantConstraints(c *kmstypes.GrantConstraints) *model.KMSGrantConstraints {
	if c == nil {
		return nil
	}
	nonEmpty := func(m map[string]string) map[string]string {
		if len(m) == 0 {
			return nil
		}
		return maps.Clone(m)
	}
	out := &model.KMSGrantConstraints{EncryptionContextEquals: nonEmpty(c.EncryptionContextEquals), EncryptionContextSubset: nonEmpty(c.EncryptionContextSubset)}
	if out.EncryptionContextEquals == nil && out.EncryptionContextSubset == nil {
		return nil
	}
	return out
}

// getFunctions reads a region's functions and their resource policies.
func (r *assetRun) getFunctions(ctx context.Context, region string) {
	c := r.clients(region).Lambda
	var fns []model.Resource
	in := &lambda.ListFunctionsInput{MaxItems: aws.Int32(50)}
	for {
		out, err := c.ListFunctions(ctx, in)
		if err != nil {
			r.failed(region, "list the Lambda functions of "+region+" with lambda:ListFunctions", err, "no function of the region is recorded")
			return
		}
		for _, f := range out.Functions {
			fns = append(fns, model.Resource{ID: aws.ToString(f.FunctionArn), Type: model.TypeLambdaFunction, AccountID: r.account, Name: aws.ToString(f.FunctionName),
				ARN: aws.ToString(f.FunctionArn), Function: &model.FunctionAttrs{Region: region, Runtime: string(f.Runtime), Role: aws.ToString(f.Role)}})
		}
		if aws.ToString(out.NextMarker) == "" {
			break
		}
		in.Marker = out.NextMarker
	}
	r.functionPolicies(ctx, c, region, fns)
	r.add(fns...)
}

// functionPolicies reads the functions' resource policies, and their
// aliases with theirs (an alias's policy grants on the alias alone).
func (r *assetRun) functionPolicies(ctx context.Context, c LambdaAPI, region string, fns []model.Resource) {
	bounded(ctx, r.sem(), len(fns), func(ctx context.Context, i int) error {
		f := &fns[i]
		policy, err := functionPolicy(ctx, c, f.Name, "")
		if err != nil {
			r.failed(region, "read the resource policy of function "+f.ARN, err, "its policy is unknown")
			f.Unread = append(f.Unread, "policy")
		}
		f.Function.Policy = policy
		aliases, err := functionAliases(ctx, c, f.Name)
		if err != nil {
			r.failed(region, "list the aliases of function "+f.ARN+" with lambda:ListAliases", err, "its aliases and their policies are unknown")
			f.Unread = append(f.Unread, "aliases")
			return nil
		}
		for j := range aliases {
			a := &aliases[j]
			if a.Policy, err = functionPolicy(ctx, c, f.Name, a.Name); err != nil {
				r.failed(region, "read the resource policy of alias "+f.ARN+":"+a.Name, err, "its policy is unknown")
				f.Unread = append(f.Unread, "alias_policy:"+a.Name)
			}
		}
		f.Function.Aliases = aliases
		return nil
	})
}

// functionPolicy is the resource policy of a function, or of one of its
// aliases (qualifier), "" when it has none.
func functionPolicy(ctx context.Context, c LambdaAPI, name, qualifier string) (string, error) {
	in := &lambda.GetPolicyInput{FunctionName: aws.String(name)}
	if qualifier != "" {
		in.Qualifier = aws.String(qualifier)
	}
	out, err := c.GetPolicy(ctx, in)
	switch {
	case err == nil:
		return aws.ToString(out.Policy), nil
	case apiErrorCode(err) == "ResourceNotFoundException":
		return "", nil
	}
	return "", err
}

// functionAliases lists a function's aliases in name order, nil for none.
func functionAliases(ctx context.Context, c LambdaAPI, name string) ([]model.FunctionAlias, error) {
	var out []model.FunctionAlias
	in := &lambda.ListAliasesInput{FunctionName: aws.String(name), MaxItems: aws.Int32(50)}
	for {
		page, err := c.ListAliases(ctx, in)
		if err != nil {
			return nil, err
		}
		for _, a := range page.Aliases {
			out = append(out, model.FunctionAlias{Name: aws.ToString(a.Name), Version: aws.ToString(a.FunctionVersion)})
		}
		if aws.ToString(page.NextMarker) == "" {
			break
		}
		in.Marker = page.NextMarker
	}
	slices.SortFunc(out, func(a, b model.FunctionAlias) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// getSecrets reads a region's secrets (never their values) and their
// resource policies.
func (r *assetRun) getSecrets(ctx context.Context, region string) {
	c := r.clients(region).SecretsManager
	var secrets []model.Resource
	in := &secretsmanager.ListSecretsInput{MaxResults: aws.Int32(100)}
	for {
		out, err := c.ListSecrets(ctx, in)
		if err != nil {
			r.failed(region, "list the secrets of "+region+" with secretsmanager:ListSecrets", err, "no secret of the region is recorded")
			return
		}
		for _, x := range out.SecretList {
			res := model.Resource{ID: aws.ToString(x.ARN), Type: model.TypeSecret, AccountID: r.account, Name: aws.ToString(x.Name), ARN: aws.ToString(x.ARN),
				CreatedAt: aws.ToTime(x.CreatedDate), Secret: &model.SecretAttrs{Region: region, Description: aws.ToString(x.Description), KMSKeyID: aws.ToString(x.KmsKeyId)}}
			for _, t := range x.Tags {
				if res.Tags == nil {
					res.Tags = map[string]string{}
				}
				res.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
			}
			secrets = append(secrets, res)
		}
		if aws.ToString(out.NextToken) == "" {
			break
		}
		in.NextToken = out.NextToken
	}
	r.secretPolicies(ctx, c, region, secrets)
	r.add(secrets...)
}

// secretPolicies reads the secrets' resource policies.
func (r *assetRun) secretPolicies(ctx context.Context, c SecretsManagerAPI, region string, secrets []model.Resource) {
	bounded(ctx, r.sem(), len(secrets), func(ctx context.Context, i int) error {
		x := &secrets[i]
		out, err := c.GetResourcePolicy(ctx, &secretsmanager.GetResourcePolicyInput{SecretId: aws.String(x.ARN)})
		if err != nil {
			r.failed(region, "read the resource policy of secret "+x.ARN, err, "its policy is unknown")
			x.Unread = append(x.Unread, "policy")
			return nil
		}
		x.Secret.Policy = aws.ToString(out.ResourcePolicy)
		return nil
	})
}

// getInstances reads a region's instances and security groups, and maps
// the instances' profiles to their roles.
func (r *assetRun) getInstances(ctx context.Context, region string) {
	c := r.clients(region).EC2
	var instances, groups []model.Resource
	in := &ec2.DescribeInstancesInput{MaxResults: aws.Int32(1000)}
	for {
		out, err := c.DescribeInstances(ctx, in)
		if err != nil {
			r.failed(region, "list the EC2 instances of "+region+" with ec2:DescribeInstances", err, "no instance of the region is recorded")
			return
		}
		for _, res := range out.Reservations {
			for _, i := range res.Instances {
				id := aws.ToString(i.InstanceId)
				arn := "arn:aws:ec2:" + region + ":" + r.account + ":instance/" + id
				attrs := &model.InstanceAttrs{Region: region, InstanceID: id, InstanceType: string(i.InstanceType), VPC: aws.ToString(i.VpcId),
					Subnet: aws.ToString(i.SubnetId), PrivateIP: aws.ToString(i.PrivateIpAddress), PublicIP: aws.ToString(i.PublicIpAddress), SecurityGroups: []string{}}
				if i.State != nil {
					attrs.State = string(i.State.Name)
				}
				if i.IamInstanceProfile != nil {
					attrs.InstanceProfile = aws.ToString(i.IamInstanceProfile.Arn)
				}
				for _, g := range i.SecurityGroups {
					attrs.SecurityGroups = append(attrs.SecurityGroups, aws.ToString(g.GroupId))
				}
				name := id
				tags := map[string]string{}
				for _, t := range i.Tags {
					tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
				}
				if n := tags["Name"]; n != "" {
					name = n
				}
				if len(tags) == 0 {
					tags = nil
				}
				instances = append(instances, model.Resource{ID: arn, Type: model.TypeEC2Instance, AccountID: r.account, Name: name, ARN: arn,
					CreatedAt: aws.ToTime(i.LaunchTime), Tags: tags, Instance: attrs})
			}
		}
		if aws.ToString(out.NextToken) == "" {
			break
		}
		in.NextToken = out.NextToken
	}
	gin := &ec2.DescribeSecurityGroupsInput{MaxResults: aws.Int32(1000)}
	for {
		out, err := c.DescribeSecurityGroups(ctx, gin)
		if err != nil {
			r.failed(region, "list the security groups of "+region+" with ec2:DescribeSecurityGroups", err, "no security group of the region is recorded")
			break
		}
		for _, g := range out.SecurityGroups {
			groups = append(groups, transformSecurityGroup(r.account, region, g.GroupId, g.GroupName, g.VpcId, g.Description, g.IpPermissions))
		}
		if aws.ToString(out.NextToken) == "" {
			break
		}
		gin.NextToken = out.NextToken
	}
	r.addInstances(ctx, instances, groups)
}

// addInstances maps the instances' profiles to their roles and keeps the
// instances and security groups.
func (r *assetRun) addInstances(ctx context.Context, instances, groups []model.Resource) {
	r.instanceRoles(ctx, instances)
	r.add(instances...)
	r.add(groups...)
}

// instanceRoles maps the instances' profiles to their roles.
func (r *assetRun) instanceRoles(ctx context.Context, instances []model.Resource) {
	if profiles := r.profileRoles(ctx, instances); profiles != nil {
		for i := range instances {
			instances[i].Instance.Role = profiles[instances[i].Instance.InstanceProfile]
		}
	}
}

// profileRoles maps instance profile ARNs to their roles' ARNs with
// iam:ListInstanceProfiles, read once per account and only when an
// instance has a profile; nil when none has or the listing failed.
func (r *assetRun) profileRoles(ctx context.Context, instances []model.Resource) map[string]string {
	need := slices.ContainsFunc(instances, func(x model.Resource) bool { return x.Instance.InstanceProfile != "" })
	if !need || r.iam == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.profiles != nil {
		return r.profiles
	}
	out := map[string]string{}
	in := &iam.ListInstanceProfilesInput{MaxItems: aws.Int32(1000)}
	for {
		page, err := r.iam.ListInstanceProfiles(ctx, in)
		if err != nil {
			r.fails.add("", "", partFailure(r.account, SourceAssets, "map instance profiles to roles with iam:ListInstanceProfiles", err, "instances have no role edge"))
			return nil
		}
		for _, p := range page.InstanceProfiles {
			if len(p.Roles) > 0 {
				out[aws.ToString(p.Arn)] = aws.ToString(p.Roles[0].Arn)
			}
		}
		if !page.IsTruncated {
			break
		}
		in.Marker = page.Marker
	}
	r.profiles = out
	return out
}

// transformSecurityGroup turns a security group into a resource.
func transformSecurityGroup(account, region string, id, name, vpc, desc *string, perms []ec2types.IpPermission) model.Resource {
	gid := aws.ToString(id)
	arn := "arn:aws:ec2:" + region + ":" + account + ":security-group/" + gid
	attrs := &model.SecurityGroupAttrs{Region: region, GroupID: gid, VPC: aws.ToString(vpc), Description: aws.ToString(desc), Ingress: []model.IPRule{}}
	for _, p := range perms {
		rule := model.IPRule{Protocol: aws.ToString(p.IpProtocol), FromPort: -1, ToPort: -1}
		if p.FromPort != nil {
			rule.FromPort = int(*p.FromPort)
		}
		if p.ToPort != nil {
			rule.ToPort = int(*p.ToPort)
		}
		for _, x := range p.IpRanges {
			rule.CIDRs = append(rule.CIDRs, aws.ToString(x.CidrIp))
		}
		for _, x := range p.Ipv6Ranges {
			rule.IPv6CIDRs = append(rule.IPv6CIDRs, aws.ToString(x.CidrIpv6))
		}
		for _, x := range p.UserIdGroupPairs {
			rule.Groups = append(rule.Groups, aws.ToString(x.GroupId))
		}
		attrs.Ingress = append(attrs.Ingress, rule)
	}
	return model.Resource{ID: arn, Type: model.TypeSecurityGroup, AccountID: account, Name: aws.ToString(name), ARN: arn, SecurityGroup: attrs}
}

// transformAssets builds the graph of an account's assets: the resources,
// sorted, and their identity edges.
func transformAssets(account string, resources []model.Resource) model.Graph {
	sort.Slice(resources, func(i, j int) bool { return resources[i].ID < resources[j].ID })
	b := newGraphBuilder(account)
	for _, res := range resources {
		b.resource(res)
	}
	for _, res := range resources {
		switch {
		case res.Instance != nil && res.Instance.Role != "":
			b.grant(res.ID, b.entitlement(res.Instance.Role, model.EntRunsAs), model.ViaInstanceProfile, res.Instance.InstanceProfile)
		case res.Function != nil:
			if res.Function.Role != "" {
				b.grant(res.ID, b.entitlement(res.Function.Role, model.EntRunsAs), model.ViaExecutionRole, "")
			}
			grantResourcePolicy(b, res.ID, res.Function.Policy)
			for _, a := range res.Function.Aliases {
				grantResourcePolicy(b, res.ID, a.Policy)
			}
		case res.Bucket != nil:
			grantResourcePolicy(b, res.ID, res.Bucket.Policy)
			grantBucketACL(b, &res)
		case res.Secret != nil:
			grantResourcePolicy(b, res.ID, res.Secret.Policy)
		case res.KMSKey != nil:
			grantResourcePolicy(b, res.ID, res.KMSKey.Policy)
			for _, g := range res.KMSKey.Grants {
				who := resourcePrincipalID(b, "AWS", g.GranteePrincipal)
				for _, op := range g.Operations {
					b.grant(who, b.entitlement(res.ID, "kms:"+op), model.ViaResourcePolicy, "grant:"+g.GrantID)
				}
			}
		}
	}
	b.g.Sort()
	return b.g
}

// grantResourcePolicy grants, for each Allow statement of a resource
// policy, each principal it names the entitlement of each action on the
// resource. A policy that does not parse is recorded as a problem.
func grantResourcePolicy(b *graphBuilder, resourceID, doc string) {
	if doc == "" {
		return
	}
	d, err := policy.Parse(doc)
	if err != nil {
		b.fail(SourceAssets, fmt.Sprintf("could not read the resource policy of %s: %v; no grant is recorded from it", resourceID, err), "")
		return
	}
	for _, s := range d.Statement {
		if s.Effect != "Allow" {
			continue
		}
		for _, kind := range sortedKeysOf(s.Principal) {
			for _, v := range s.Principal[kind] {
				who := resourcePrincipalID(b, kind, v)
				for _, a := range s.Action {
					b.grant(who, b.entitlement(resourceID, a), model.ViaResourcePolicy, "")
				}
			}
		}
	}
}

// grantBucketACL grants, for each grant of a bucket's ACL to another than
// its owner, the grantee the entitlement of each action its permission
// allows on the bucket (provenance bucket_acl): AllUsers and
// AuthenticatedUsers are anyone ("*"), LogDelivery S3's log delivery
// service, a canonical user an external principal of that kind (which
// account it is, only the whole snapshot may say). Block Public Access
// does not remove an edge: the ACL names the principal all the same.
func grantBucketACL(b *graphBuilder, res *model.Resource) {
	acl := res.Bucket.ACL
	if acl == nil {
		return
	}
	for _, g := range acl.Grants {
		var who string
		switch {
		case g.PublicGrant():
			who = resourcePrincipalID(b, "*", "*")
		case g.GranteeType == model.ACLGroup && g.Grantee == model.ACLLogDelivery:
			who = resourcePrincipalID(b, "Service", "logging.s3.amazonaws.com")
		case g.GranteeType == model.ACLCanonicalUser && g.Grantee != acl.OwnerID:
			who = resourcePrincipalID(b, model.ACLCanonicalUser, g.Grantee)
		default:
			continue
		}
		for _, a := range g.Actions() {
			b.grant(who, b.entitlement(res.ID, a), model.ViaBucketACL, "")
		}
	}
}

// resourcePrincipalID resolves a principal a resource policy names: "*"
// (anyone) and principals of other accounts and services become
// external_principal resources; this account's root or ID is the account's
// resource; any other ARN of this account is taken as the ID of the user or
// role the IAM collector records.
func resourcePrincipalID(b *graphBuilder, kind, v string) string {
	if kind == "AWS" && v == "*" {
		kind = "*"
	}
	if kind == "AWS" {
		switch {
		case v == b.account || isRootOf(v, b.account):
			return model.AccountResourceID(b.account)
		case strings.HasPrefix(v, "arn:") && arnAccountOf(v) == b.account:
			return v
		}
	}
	id := model.ExternalPrincipalID(kind, v)
	if !b.has(id) {
		r := model.Resource{ID: id, Type: model.TypeExternalPrincipal, Name: v}
		if strings.HasPrefix(v, "arn:") {
			r.ARN = v
		}
		b.resource(r)
	}
	return id
}

// arnAccountOf returns the account field of an ARN.
func arnAccountOf(arn string) string {
	f := strings.SplitN(arn, ":", 6)
	if len(f) < 6 {
		return ""
	}
	return f[4]
}

func sortedKeysOf[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// bucketACL is a bucket's ACL as GetBucketAcl returns it, its grants in
// S3's order. A grantee by e-mail address (which S3 stores as the
// account's canonical user) keeps its address.
func bucketACL(out *s3.GetBucketAclOutput) *model.BucketACL {
	acl := &model.BucketACL{Grants: []model.BucketACLGrant{}}
	if out.Owner != nil {
		acl.OwnerID = aws.ToString(out.Owner.ID)
	}
	for _, g := range out.Grants {
		if g.Grantee == nil {
			continue
		}
		grant := model.BucketACLGrant{GranteeType: string(g.Grantee.Type), Permission: string(g.Permission)}
		switch g.Grantee.Type {
		case s3types.TypeGroup:
			grant.Grantee = aws.ToString(g.Grantee.URI)
		case s3types.TypeAmazonCustomerByEmail:
			grant.Grantee = aws.ToString(g.Grantee.EmailAddress)
		default:
			grant.Grantee = aws.ToString(g.Grantee.ID)
		}
		acl.Grants = append(acl.Grants, grant)
	}
	return acl
}
