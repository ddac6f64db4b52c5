package collect

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/configservice"
	cfgtypes "github.com/aws/aws-sdk-go-v2/service/configservice/types"

	"github.com/warden-iam/warden/internal/model"
)

// The Config source reads the assets of every account and region an AWS
// Config aggregator covers with one paginated advanced query, once per
// sync, instead of each service's listings in each account and region:
//
//	ReadAssetInventory  config:DescribeConfigurationAggregators once (the aggregator named, or the
//	                    organization's), config:DescribeConfigurationAggregatorSourcesStatus (100 a
//	                    page: which accounts and regions it collected), then
//	                    config:SelectAggregateResourceConfig, 100 items a page, one query for every
//	                    resource type read
//	fromConfig          per account and covered region: the items, turned into the same resources
//	                    the service listings give, and only the per-resource calls for what Config
//	                    does not record: kms:GetKeyPolicy + ListGrants per customer managed key,
//	                    lambda:GetPolicy per function, secretsmanager:GetResourcePolicy per secret
//	                    (iam:ListInstanceProfiles once, as with the listings)
//
// A source whose last collection did not succeed (FAILED, OUTDATED) is not
// covered: its accounts and regions are read from the listings.
//
// A bucket's policy and Block Public Access settings come with its item
// (supplementaryConfiguration), as do the account's Block Public Access
// settings (AWS::S3::AccountPublicAccessBlock). Accounts and regions the
// aggregator does not cover are read from the service listings; an
// aggregator that is missing or denied is a note with its fix, and every
// account falls back to the listings.

// ConfigAPI is the part of the AWS Config client the Config source calls.
type ConfigAPI interface {
	DescribeConfigurationAggregators(ctx context.Context, in *configservice.DescribeConfigurationAggregatorsInput, optFns ...func(*configservice.Options)) (*configservice.DescribeConfigurationAggregatorsOutput, error)
	DescribeConfigurationAggregatorSourcesStatus(ctx context.Context, in *configservice.DescribeConfigurationAggregatorSourcesStatusInput, optFns ...func(*configservice.Options)) (*configservice.DescribeConfigurationAggregatorSourcesStatusOutput, error)
	SelectAggregateResourceConfig(ctx context.Context, in *configservice.SelectAggregateResourceConfigInput, optFns ...func(*configservice.Options)) (*configservice.SelectAggregateResourceConfigOutput, error)
}

// The asset sources `sync.assets.source` names.
const (
	// ConfigAuto uses an aggregator when the account holds one, else the
	// service listings (no note when there is none).
	ConfigAuto = "auto"
	// ConfigOnly uses the aggregator and notes its absence.
	ConfigOnly = "config"
	// ServicesOnly reads the service listings only.
	ServicesOnly = "services"
)

// ConfigSourceOptions choose the aggregator the Config source reads.
type ConfigSourceOptions struct {
	// Mode is ConfigAuto or ConfigOnly (ServicesOnly: no Config source).
	Mode string
	// Aggregator names the aggregator; "" takes the first one with an
	// organization source (else the first) the account holds.
	Aggregator string
	// Account holds the aggregator (a delegated administrator); "" is the
	// sync's own account.
	Account string
	// Region is the aggregator's region; "" is the sync's home region.
	Region string
	// perType runs one query per resource type instead of one for all
	// (for the benchmark that compares the two).
	perType bool
}

// AssetInventory is what one aggregator holds of the assets read: its
// configuration items by account and region, and which accounts and
// regions it covers. A nil *AssetInventory covers nothing.
type AssetInventory struct {
	// Aggregator, Account and Region name the aggregator read.
	Aggregator, Account, Region string
	// Organization, Accounts, AllRegions and Regions are its sources: an
	// organization source, or the union of its account sources (Covers
	// asks each of those on its own).
	Organization bool
	Accounts     []string
	AllRegions   bool
	Regions      []string
	// sources are the account sources, each its accounts × its regions.
	sources []configSource
	// Pages is how many SelectAggregateResourceConfig pages were read.
	Pages int
	// Failed lists the sources whose last collection did not succeed
	// ("ACCOUNT REGION STATUS CODE"): they are read from the listings.
	Failed []string
	// status is the last update status of each source, by
	// "account/region" (SourceType ACCOUNT) or "/region" (ORGANIZATION).
	status map[string]string
	items  map[string][]configItem // "account/region" → items
	// bpa holds the accounts' AWS::S3::AccountPublicAccessBlock items.
	bpa map[string]*model.PublicAccessBlock
}

// configSource is one account source of an aggregator: its accounts in
// every region (all) or in its regions.
type configSource struct {
	accounts []string
	all      bool
	regions  []string
}

// covers reports whether the source names the account and the region.
func (c configSource) covers(account, region string) bool {
	return slices.Contains(c.accounts, account) && (c.all || slices.Contains(c.regions, region))
}

// Covers reports whether the aggregator covers an account's region: its
// organization source covers the region, or one of its account sources
// names both; and its last collection of them succeeded (the account's own
// status, else the organization's in the region).
func (inv *AssetInventory) Covers(account, region string) bool {
	if inv == nil {
		return false
	}
	if inv.Organization {
		if !inv.AllRegions && !slices.Contains(inv.Regions, region) {
			return false
		}
	} else if !slices.ContainsFunc(inv.sources, func(c configSource) bool { return c.covers(account, region) }) {
		return false
	}
	st, ok := inv.status[account+"/"+region]
	if !ok {
		st = inv.status["/"+region]
	}
	return st == string(cfgtypes.AggregatedSourceStatusTypeSucceeded)
}

// accountBPA returns an account's Block Public Access settings from its
// item; false when the aggregator holds no item of the account (read them
// from S3 Control).
func (inv *AssetInventory) accountBPA(account string) (*model.PublicAccessBlock, bool) {
	if inv == nil {
		return nil, false
	}
	p, ok := inv.bpa[account]
	return p, ok
}

// configTypes are the Config resource types of each asset service.
var configTypes = map[string][]string{
	"ec2":            {"AWS::EC2::Instance", "AWS::EC2::SecurityGroup"},
	"s3":             {"AWS::S3::Bucket", "AWS::S3::AccountPublicAccessBlock"},
	"kms":            {"AWS::KMS::Key"},
	"lambda":         {"AWS::Lambda::Function"},
	"secretsmanager": {"AWS::SecretsManager::Secret"},
}

// configSelect is the advanced query's property list.
const configSelect = "SELECT resourceId, resourceName, resourceType, accountId, awsRegion, arn, resourceCreationTime, configuration, supplementaryConfiguration, tags"

// configItem is one configuration item as the query answers it.
type configItem struct {
	ResourceID    string          `json:"resourceId"`
	ResourceName  string          `json:"resourceName"`
	ResourceType  string          `json:"resourceType"`
	AccountID     string          `json:"accountId"`
	Region        string          `json:"awsRegion"`
	ARN           string          `json:"arn"`
	CreatedAt     string          `json:"resourceCreationTime"`
	Configuration json.RawMessage `json:"configuration"`
	Supplementary json.RawMessage `json:"supplementaryConfiguration"`
	Tags          []configTag     `json:"tags"`
}

type configTag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// ReadAssetInventory finds the aggregator (o) through c, a client of the
// aggregator's account and region, and reads its items of the services'
// resource types. It returns nil, with the notes to record, when there is
// no aggregator to read or it could not be read; every account then falls
// back to the service listings.
func ReadAssetInventory(ctx context.Context, c ConfigAPI, account string, o ConfigSourceOptions, services []string) (*AssetInventory, []model.SourceError) {
	where := "account " + account + " " + o.Region
	if account == "" {
		where = "the sync's account in " + o.Region
	}
	note := func(msg, fix string) []model.SourceError {
		return []model.SourceError{{AccountID: account, Source: SourceAssets, Message: msg + "; assets are read from the service listings", Fix: fix}}
	}
	agg, err := findAggregator(ctx, c, o.Aggregator)
	switch {
	case err != nil && apiErrorCode(err) == "NoSuchConfigurationAggregatorException":
		return nil, note(fmt.Sprintf("AWS Config aggregator %q not found in %s", o.Aggregator, where),
			"name an aggregator of that account and region in sync.assets.aggregator (aws configservice describe-configuration-aggregators), set sync.assets.aggregator_account/aggregator_region to where it lives, or set sync.assets.source: services")
	case err != nil && isAccessDenied(err):
		return nil, note("AWS Config aggregators could not be read in "+where+": access denied ("+err.Error()+")",
			"grant config:DescribeConfigurationAggregators and config:SelectAggregateResourceConfig (`warden setup policy` includes them when sync.assets.source is auto or config), or set sync.assets.source: services")
	case err != nil:
		return nil, note("AWS Config aggregators could not be read in "+where+": "+err.Error(), orRetryFix())
	case agg == nil:
		if o.Mode == ConfigAuto {
			return nil, nil
		}
		return nil, note("no AWS Config aggregator in "+where,
			"create an organization aggregator (AWS Config → Aggregators), give its account and region in sync.assets.aggregator_account/aggregator_region, or set sync.assets.source: services")
	}
	inv := &AssetInventory{Aggregator: aws.ToString(agg.ConfigurationAggregatorName), Account: account, Region: o.Region,
		status: map[string]string{}, items: map[string][]configItem{}, bpa: map[string]*model.PublicAccessBlock{}}
	if src := agg.OrganizationAggregationSource; src != nil {
		inv.Organization, inv.AllRegions, inv.Regions = true, src.AllAwsRegions, slices.Clone(src.AwsRegions)
	} else {
		// Each account source is its own accounts × regions (Covers
		// asks each); the exported fields are their union, for display.
		for _, src := range agg.AccountAggregationSources {
			inv.sources = append(inv.sources, configSource{accounts: src.AccountIds, all: src.AllAwsRegions, regions: src.AwsRegions})
			inv.Accounts = append(inv.Accounts, src.AccountIds...)
			inv.AllRegions = inv.AllRegions || src.AllAwsRegions
			inv.Regions = append(inv.Regions, src.AwsRegions...)
		}
		slices.Sort(inv.Accounts)
		inv.Accounts = slices.Compact(inv.Accounts)
		slices.Sort(inv.Regions)
		inv.Regions = slices.Compact(inv.Regions)
	}
	if err := inv.readStatus(ctx, c); err != nil {
		if isAccessDenied(err) {
			return nil, note("AWS Config aggregator "+inv.Aggregator+"'s sources could not be read: access denied ("+err.Error()+")",
				"grant config:DescribeConfigurationAggregatorSourcesStatus (`warden setup policy` includes it), or set sync.assets.source: services")
		}
		return nil, note("AWS Config aggregator "+inv.Aggregator+"'s sources could not be read: "+err.Error(), orRetryFix())
	}
	var types []string
	for _, svc := range services {
		types = append(types, configTypes[svc]...)
	}
	queries := []string{configQuery(types)}
	if o.perType {
		queries = nil
		for _, t := range types {
			queries = append(queries, configQuery([]string{t}))
		}
	}
	for _, q := range queries {
		if err := inv.selectAll(ctx, c, q); err != nil {
			if isAccessDenied(err) {
				return nil, note("AWS Config aggregator "+inv.Aggregator+" could not be queried: access denied ("+err.Error()+")",
					"grant config:SelectAggregateResourceConfig (`warden setup policy` includes it), or set sync.assets.source: services")
			}
			return nil, note("AWS Config aggregator "+inv.Aggregator+" could not be queried: "+err.Error(), orRetryFix())
		}
	}
	return inv, nil
}

// configQuery is the advanced query of the items of the given types.
func configQuery(types []string) string {
	q := make([]string, len(types))
	for i, t := range types {
		q[i] = "'" + t + "'"
	}
	return configSelect + " WHERE resourceType IN (" + strings.Join(q, ", ") + ")"
}

func orRetryFix() string {
	return "sync again; if it fails the same way, run `warden sync --log-level debug` to see the failing call and AWS's answer"
}

// isAccessDenied reports whether AWS refused a call for want of permission.
func isAccessDenied(err error) bool {
	switch apiErrorCode(err) {
	case "AccessDeniedException", "AccessDenied", "UnauthorizedOperation":
		return true
	}
	return false
}

// findAggregator returns the aggregator named, or the first with an
// organization source (else the first) when name is ""; nil when the
// account holds none.
func findAggregator(ctx context.Context, c ConfigAPI, name string) (*cfgtypes.ConfigurationAggregator, error) {
	in := &configservice.DescribeConfigurationAggregatorsInput{}
	if name != "" {
		in.ConfigurationAggregatorNames = []string{name}
	}
	var all []cfgtypes.ConfigurationAggregator
	for {
		out, err := c.DescribeConfigurationAggregators(ctx, in)
		if err != nil {
			return nil, err
		}
		all = append(all, out.ConfigurationAggregators...)
		if aws.ToString(out.NextToken) == "" {
			break
		}
		in.NextToken = out.NextToken
	}
	for i := range all {
		if all[i].OrganizationAggregationSource != nil {
			return &all[i], nil
		}
	}
	if len(all) > 0 {
		return &all[0], nil
	}
	return nil, nil
}

// readStatus reads the last update status of each of the aggregator's
// sources, 100 a page.
func (inv *AssetInventory) readStatus(ctx context.Context, c ConfigAPI) error {
	in := &configservice.DescribeConfigurationAggregatorSourcesStatusInput{ConfigurationAggregatorName: aws.String(inv.Aggregator), Limit: 100}
	for {
		out, err := c.DescribeConfigurationAggregatorSourcesStatus(ctx, in)
		if err != nil {
			return err
		}
		for _, st := range out.AggregatedSourceStatusList {
			key := aws.ToString(st.SourceId) + "/" + aws.ToString(st.AwsRegion)
			if st.SourceType == cfgtypes.AggregatedSourceTypeOrganization {
				key = "/" + aws.ToString(st.AwsRegion)
			}
			inv.status[key] = string(st.LastUpdateStatus)
			if st.LastUpdateStatus != cfgtypes.AggregatedSourceStatusTypeSucceeded {
				inv.Failed = append(inv.Failed, strings.TrimSpace(aws.ToString(st.SourceId)+" "+aws.ToString(st.AwsRegion)+" "+string(st.LastUpdateStatus)+" "+aws.ToString(st.LastErrorCode)))
			}
		}
		if aws.ToString(out.NextToken) == "" {
			return nil
		}
		in.NextToken = out.NextToken
	}
}

// selectAll pages one query, 100 items a page (AWS's most).
func (inv *AssetInventory) selectAll(ctx context.Context, c ConfigAPI, expr string) error {
	in := &configservice.SelectAggregateResourceConfigInput{ConfigurationAggregatorName: aws.String(inv.Aggregator), Expression: aws.String(expr), Limit: 100}
	for {
		out, err := c.SelectAggregateResourceConfig(ctx, in)
		if err != nil {
			return err
		}
		inv.Pages++
		for _, raw := range out.Results {
			var it configItem
			if err := json.Unmarshal([]byte(raw), &it); err != nil {
				return fmt.Errorf("a configuration item is not the JSON AWS Config answers: %w", err)
			}
			if it.ResourceType == "AWS::S3::AccountPublicAccessBlock" {
				var p configPAB
				if err := json.Unmarshal(it.Configuration, &p); err != nil {
					return fmt.Errorf("the account public access block item of %s: %w", it.AccountID, err)
				}
				inv.bpa[it.AccountID] = p.model()
				continue
			}
			k := it.AccountID + "/" + it.Region
			inv.items[k] = append(inv.items[k], it)
		}
		if aws.ToString(out.NextToken) == "" {
			return nil
		}
		in.NextToken = out.NextToken
	}
}

// The configurations of the items, as AWS Config records them (only the
// fields warden reads).
type (
	configBucket struct {
		Name         string `json:"name"`
		CreationDate string `json:"creationDate"`
	}
	configBucketSupp struct {
		BucketPolicy *struct {
			PolicyText *string `json:"policyText"`
		} `json:"BucketPolicy"`
		PublicAccessBlock *configPAB `json:"PublicAccessBlockConfiguration"`
		// AccessControlList is the bucket ACL, as a JSON string (configACL).
		AccessControlList *string `json:"AccessControlList"`
	}
	// configACL is a bucket ACL as AWS Config records it: a group grantee
	// is the group's name ("AllUsers"), a canonical user an object; the
	// permissions are named FullControl, Read, Write, ReadAcp, WriteAcp.
	configACL struct {
		GrantList []struct {
			Grantee    json.RawMessage `json:"grantee"`
			Permission string          `json:"permission"`
		} `json:"grantList"`
		Owner *struct {
			ID string `json:"id"`
		} `json:"owner"`
	}
	// configPAB is a Block Public Access configuration as items hold it.
	configPAB struct {
		BlockPublicAcls       bool `json:"blockPublicAcls"`
		IgnorePublicAcls      bool `json:"ignorePublicAcls"`
		BlockPublicPolicy     bool `json:"blockPublicPolicy"`
		RestrictPublicBuckets bool `json:"restrictPublicBuckets"`
	}
	configKey struct {
		KeyID        string `json:"keyId"`
		ARN          string `json:"arn"`
		CreationDate string `json:"creationDate"`
		Description  string `json:"description"`
		KeyState     string `json:"keyState"`
		KeyManager   string `json:"keyManager"`
	}
	configFunction struct {
		FunctionName string `json:"functionName"`
		FunctionARN  string `json:"functionArn"`
		Runtime      string `json:"runtime"`
		Role         string `json:"role"`
	}
	configSecret struct {
		Name        string `json:"Name"`
		ARN         string `json:"ARN"`
		Description string `json:"Description"`
		KMSKeyID    string `json:"KMSKeyId"`
	}
	configInstance struct {
		InstanceID       string `json:"instanceId"`
		InstanceType     string `json:"instanceType"`
		VPCID            string `json:"vpcId"`
		SubnetID         string `json:"subnetId"`
		PrivateIPAddress string `json:"privateIpAddress"`
		PublicIPAddress  string `json:"publicIpAddress"`
		LaunchTime       string `json:"launchTime"`
		State            *struct {
			Name string `json:"name"`
		} `json:"state"`
		IAMInstanceProfile *struct {
			ARN string `json:"arn"`
		} `json:"iamInstanceProfile"`
		SecurityGroups []struct {
			GroupID string `json:"groupId"`
		} `json:"securityGroups"`
		Tags []configTag `json:"tags"`
	}
	configSecurityGroup struct {
		GroupID       string `json:"groupId"`
		GroupName     string `json:"groupName"`
		Description   string `json:"description"`
		VPCID         string `json:"vpcId"`
		IPPermissions []struct {
			IPProtocol string `json:"ipProtocol"`
			FromPort   *int   `json:"fromPort"`
			ToPort     *int   `json:"toPort"`
			IPv4Ranges []struct {
				CIDRIP string `json:"cidrIp"`
			} `json:"ipv4Ranges"`
			IPv6Ranges []struct {
				CIDRIPv6 string `json:"cidrIpv6"`
			} `json:"ipv6Ranges"`
			UserIDGroupPairs []struct {
				GroupID string `json:"groupId"`
			} `json:"userIdGroupPairs"`
		} `json:"ipPermissions"`
	}
)

func (p *configPAB) model() *model.PublicAccessBlock {
	return &model.PublicAccessBlock{BlockPublicAcls: p.BlockPublicAcls, IgnorePublicAcls: p.IgnorePublicAcls, BlockPublicPolicy: p.BlockPublicPolicy, RestrictPublicBuckets: p.RestrictPublicBuckets}
}

// configTime reads a timestamp of an item; zero when absent.
func configTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}

// fromConfig reads one covered region of the account from the
// aggregator's items: the resources of the services read, then the
// per-resource calls for the policies Config does not record.
func (r *assetRun) fromConfig(ctx context.Context, region string) {
	items := r.o.Inventory.items[r.account+"/"+region]
	want := func(svc string) bool { return slices.Contains(r.o.Services, svc) }
	var buckets, keys, fns, secrets, instances, groups []model.Resource
	for _, it := range items {
		var err error
		switch it.ResourceType {
		case "AWS::S3::Bucket":
			if want("s3") {
				var res model.Resource
				if res, err = transformConfigBucket(r.account, region, it); err == nil {
					buckets = append(buckets, res)
				}
			}
		case "AWS::KMS::Key":
			if want("kms") {
				var c configKey
				if err = json.Unmarshal(it.Configuration, &c); err == nil && c.KeyManager == "CUSTOMER" {
					keys = append(keys, model.Resource{ID: c.ARN, Type: model.TypeKMSKey, AccountID: r.account, Name: c.KeyID, ARN: c.ARN, CreatedAt: configTime(c.CreationDate),
						KMSKey: &model.KMSKeyAttrs{Region: region, KeyID: c.KeyID, State: c.KeyState, Description: c.Description}})
				}
			}
		case "AWS::Lambda::Function":
			if want("lambda") {
				var c configFunction
				if err = json.Unmarshal(it.Configuration, &c); err == nil {
					fns = append(fns, model.Resource{ID: c.FunctionARN, Type: model.TypeLambdaFunction, AccountID: r.account, Name: c.FunctionName,
						ARN: c.FunctionARN, Function: &model.FunctionAttrs{Region: region, Runtime: c.Runtime, Role: c.Role}})
				}
			}
		case "AWS::SecretsManager::Secret":
			if want("secretsmanager") {
				var c configSecret
				if err = json.Unmarshal(it.Configuration, &c); err == nil {
					res := model.Resource{ID: c.ARN, Type: model.TypeSecret, AccountID: r.account, Name: c.Name, ARN: c.ARN, CreatedAt: configTime(it.CreatedAt),
						Secret: &model.SecretAttrs{Region: region, Description: c.Description, KMSKeyID: c.KMSKeyID}}
					for _, t := range it.Tags {
						if res.Tags == nil {
							res.Tags = map[string]string{}
						}
						res.Tags[t.Key] = t.Value
					}
					secrets = append(secrets, res)
				}
			}
		case "AWS::EC2::Instance":
			if want("ec2") {
				var res model.Resource
				if res, err = transformConfigInstance(r.account, region, it); err == nil {
					instances = append(instances, res)
				}
			}
		case "AWS::EC2::SecurityGroup":
			if want("ec2") {
				var res model.Resource
				if res, err = transformConfigSecurityGroup(r.account, region, it); err == nil {
					groups = append(groups, res)
				}
			}
		}
		if err != nil {
			r.fails.add("", "", model.SourceError{AccountID: r.account, Source: SourceAssets,
				Message: fmt.Sprintf("AWS Config item %s %s in %s could not be read: %v; it is left out", it.ResourceType, it.ResourceID, region, err), Fix: orRetryFix()})
		}
	}
	var wg sync.WaitGroup
	for _, f := range []func(){
		func() { r.keysDetails(ctx, region, keys) },
		func() { r.functionPolicies(ctx, r.clients(region).Lambda, region, fns) },
		func() { r.secretPolicies(ctx, r.clients(region).SecretsManager, region, secrets) },
		func() { r.instanceRoles(ctx, instances) },
	} {
		wg.Add(1)
		go func() { defer wg.Done(); f() }()
	}
	wg.Wait()
	// A region AWS refused as a whole (an SCP denies it) is skipped, as
	// the listings skip it, though the aggregator holds its items: what
	// only the region's own calls return is missing.
	r.mu.Lock()
	refused := r.skipped[region] != ""
	r.mu.Unlock()
	if refused {
		return
	}
	for _, rs := range [][]model.Resource{buckets, keys, fns, secrets, instances, groups} {
		r.add(rs...)
	}
}

// keysDetails reads the keys' policies and grants.
func (r *assetRun) keysDetails(ctx context.Context, region string, keys []model.Resource) {
	if len(keys) == 0 {
		return
	}
	c := r.clients(region).KMS
	bounded(ctx, r.sem(), len(keys), func(ctx context.Context, i int) error {
		r.keyDetails(ctx, c, region, &keys[i])
		return nil
	})
}

// transformConfigBucket turns a bucket's item into the resource the
// listings give.
func transformConfigBucket(account, region string, it configItem) (model.Resource, error) {
	var c configBucket
	var supp configBucketSupp
	if err := json.Unmarshal(it.Configuration, &c); err != nil {
		return model.Resource{}, err
	}
	if len(it.Supplementary) > 0 {
		if err := json.Unmarshal(it.Supplementary, &supp); err != nil {
			return model.Resource{}, err
		}
	}
	name := c.Name
	if name == "" {
		name = it.ResourceName
	}
	res := model.Resource{ID: "arn:aws:s3:::" + name, Type: model.TypeS3Bucket, AccountID: account, Name: name, ARN: "arn:aws:s3:::" + name,
		CreatedAt: configTime(c.CreationDate), Bucket: &model.BucketAttrs{Region: region}}
	if supp.PublicAccessBlock != nil {
		res.Bucket.PublicAccessBlock = supp.PublicAccessBlock.model()
	}
	if supp.BucketPolicy != nil {
		res.Bucket.Policy = aws.ToString(supp.BucketPolicy.PolicyText)
	}
	if supp.AccessControlList != nil {
		acl, err := configBucketACL(*supp.AccessControlList)
		if err != nil {
			return model.Resource{}, fmt.Errorf("its AccessControlList: %w", err)
		}
		res.Bucket.ACL = acl
	}
	return res, nil
}

// configACLPermissions are AWS Config's names of the ACL permissions, with
// the names GetBucketAcl gives them.
var configACLPermissions = map[string]string{"FullControl": "FULL_CONTROL", "Read": "READ", "Write": "WRITE", "ReadAcp": "READ_ACP", "WriteAcp": "WRITE_ACP"}

// configACLGroups are AWS Config's names of the predefined groups.
var configACLGroups = map[string]string{"AllUsers": model.ACLAllUsers, "AuthenticatedUsers": model.ACLAuthenticatedUsers, "LogDelivery": model.ACLLogDelivery}

// configBucketACL is a bucket ACL from its item's AccessControlList, the
// same as GetBucketAcl gives.
func configBucketACL(text string) (*model.BucketACL, error) {
	var c configACL
	if err := json.Unmarshal([]byte(text), &c); err != nil {
		return nil, err
	}
	acl := &model.BucketACL{Grants: []model.BucketACLGrant{}}
	if c.Owner != nil {
		acl.OwnerID = c.Owner.ID
	}
	for _, g := range c.GrantList {
		perm, ok := configACLPermissions[g.Permission]
		if !ok {
			return nil, fmt.Errorf("a grant has permission %q (AWS Config names FullControl, Read, Write, ReadAcp, WriteAcp)", g.Permission)
		}
		grant := model.BucketACLGrant{Permission: perm}
		var group string
		var user struct {
			ID string `json:"id"`
		}
		switch {
		case json.Unmarshal(g.Grantee, &group) == nil:
			uri, ok := configACLGroups[group]
			if !ok {
				return nil, fmt.Errorf("a grant names group %q (AWS Config names AllUsers, AuthenticatedUsers, LogDelivery)", group)
			}
			grant.GranteeType, grant.Grantee = model.ACLGroup, uri
		case json.Unmarshal(g.Grantee, &user) == nil && user.ID != "":
			grant.GranteeType, grant.Grantee = model.ACLCanonicalUser, user.ID
		default:
			return nil, fmt.Errorf("a grant's grantee %s is neither a group's name nor a canonical user", string(g.Grantee))
		}
		acl.Grants = append(acl.Grants, grant)
	}
	return acl, nil
}

// transformConfigInstance turns an instance's item into the resource the
// listings give (its role is mapped later, from the instance profile).
func transformConfigInstance(account, region string, it configItem) (model.Resource, error) {
	var c configInstance
	if err := json.Unmarshal(it.Configuration, &c); err != nil {
		return model.Resource{}, err
	}
	arn := "arn:aws:ec2:" + region + ":" + account + ":instance/" + c.InstanceID
	attrs := &model.InstanceAttrs{Region: region, InstanceID: c.InstanceID, InstanceType: c.InstanceType, VPC: c.VPCID, Subnet: c.SubnetID,
		PrivateIP: c.PrivateIPAddress, PublicIP: c.PublicIPAddress, SecurityGroups: []string{}}
	if c.State != nil {
		attrs.State = c.State.Name
	}
	if c.IAMInstanceProfile != nil {
		attrs.InstanceProfile = c.IAMInstanceProfile.ARN
	}
	for _, g := range c.SecurityGroups {
		attrs.SecurityGroups = append(attrs.SecurityGroups, g.GroupID)
	}
	name := c.InstanceID
	tags := map[string]string{}
	for _, t := range c.Tags {
		tags[t.Key] = t.Value
	}
	if n := tags["Name"]; n != "" {
		name = n
	}
	if len(tags) == 0 {
		tags = nil
	}
	return model.Resource{ID: arn, Type: model.TypeEC2Instance, AccountID: account, Name: name, ARN: arn, CreatedAt: configTime(c.LaunchTime), Tags: tags, Instance: attrs}, nil
}

// transformConfigSecurityGroup turns a security group's item into the
// resource the listings give.
func transformConfigSecurityGroup(account, region string, it configItem) (model.Resource, error) {
	var c configSecurityGroup
	if err := json.Unmarshal(it.Configuration, &c); err != nil {
		return model.Resource{}, err
	}
	arn := "arn:aws:ec2:" + region + ":" + account + ":security-group/" + c.GroupID
	attrs := &model.SecurityGroupAttrs{Region: region, GroupID: c.GroupID, VPC: c.VPCID, Description: c.Description, Ingress: []model.IPRule{}}
	for _, p := range c.IPPermissions {
		rule := model.IPRule{Protocol: p.IPProtocol, FromPort: -1, ToPort: -1}
		if p.FromPort != nil {
			rule.FromPort = *p.FromPort
		}
		if p.ToPort != nil {
			rule.ToPort = *p.ToPort
		}
		for _, x := range p.IPv4Ranges {
			rule.CIDRs = append(rule.CIDRs, x.CIDRIP)
		}
		for _, x := range p.IPv6Ranges {
			rule.IPv6CIDRs = append(rule.IPv6CIDRs, x.CIDRIPv6)
		}
		for _, x := range p.UserIDGroupPairs {
			rule.Groups = append(rule.Groups, x.GroupID)
		}
		attrs.Ingress = append(attrs.Ingress, rule)
	}
	return model.Resource{ID: arn, Type: model.TypeSecurityGroup, AccountID: account, Name: c.GroupName, ARN: arn, SecurityGroup: attrs}, nil
}
