package awsfake

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/configservice"
	cfgtypes "github.com/aws/aws-sdk-go-v2/service/configservice/types"
	"github.com/aws/aws-sdk-go-v2/service/s3control"
	s3ctypes "github.com/aws/aws-sdk-go-v2/service/s3control/types"
)

// selectAll pages an advanced query through the SDK, limit rows a page.
func selectAll(t *testing.T, c *configservice.Client, agg, expr string, limit int32) ([]map[string]any, int) {
	t.Helper()
	var rows []map[string]any
	pages := 0
	p := configservice.NewSelectAggregateResourceConfigPaginator(c, &configservice.SelectAggregateResourceConfigInput{
		ConfigurationAggregatorName: aws.String(agg), Expression: aws.String(expr), Limit: limit})
	for p.HasMorePages() {
		out, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("SelectAggregateResourceConfig %q: %v", expr, err)
		}
		pages++
		if len(out.Results) > int(limit) {
			t.Fatalf("page of %d results, limit %d", len(out.Results), limit)
		}
		for _, r := range out.Results {
			var m map[string]any
			if err := json.Unmarshal([]byte(r), &m); err != nil {
				t.Fatalf("result %q is not JSON: %v", r, err)
			}
			rows = append(rows, m)
		}
	}
	return rows, pages
}

// TestConfigAggregatorGroundTruth queries an account aggregator that
// covers two of the three accounts in one region through the SDK, in pages
// of 7, and compares every resource type's items to the asset state:
// exactly the covered accounts and region, with the shapes Config records
// (a bucket's policy and Block Public Access in supplementaryConfiguration;
// no policy for keys, functions and secrets).
func TestConfigAggregatorGroundTruth(t *testing.T) {
	f := newAssetFixture(t, AssetEstate{Seed: 5, Aggregator: &ConfigAggregator{Name: "org-view", Accounts: []string{"300000000000", "300000000001"}, Regions: []string{"us-east-1"}},
		AccountBlockPublicAccess: map[string]*PublicAccessBlock{"300000000001": {BlockPublicPolicy: true, RestrictPublicBuckets: true}, "300000000002": {BlockPublicAcls: true}}})
	admin := f.accounts[0].ID
	c := configservice.NewFromConfig(f.cfg(admin, "us-east-1"))
	ctx := context.Background()

	d, err := c.DescribeConfigurationAggregators(ctx, &configservice.DescribeConfigurationAggregatorsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.ConfigurationAggregators) != 1 {
		t.Fatalf("aggregators %+v, want org-view", d.ConfigurationAggregators)
	}
	a := d.ConfigurationAggregators[0]
	if aws.ToString(a.ConfigurationAggregatorName) != "org-view" || a.OrganizationAggregationSource != nil || len(a.AccountAggregationSources) != 1 ||
		!slices.Equal(a.AccountAggregationSources[0].AccountIds, []string{"300000000000", "300000000001"}) || !slices.Equal(a.AccountAggregationSources[0].AwsRegions, []string{"us-east-1"}) ||
		a.AccountAggregationSources[0].AllAwsRegions {
		t.Errorf("aggregator %+v", a)
	}
	// Another region of the same account holds no aggregator.
	other, err := configservice.NewFromConfig(f.cfg(admin, "eu-west-1")).DescribeConfigurationAggregators(ctx, &configservice.DescribeConfigurationAggregatorsInput{})
	if err != nil || len(other.ConfigurationAggregators) != 0 {
		t.Errorf("eu-west-1: %+v, %v; want none", other, err)
	}
	_, err = c.DescribeConfigurationAggregators(ctx, &configservice.DescribeConfigurationAggregatorsInput{ConfigurationAggregatorNames: []string{"nope"}})
	var nsa *cfgtypes.NoSuchConfigurationAggregatorException
	if !errors.As(err, &nsa) {
		t.Errorf("unknown name: %v, want NoSuchConfigurationAggregatorException", err)
	}

	covered := func(account, region string) bool {
		return (account == "300000000000" || account == "300000000001") && region == "us-east-1"
	}
	want := map[string][]string{}
	for _, b := range f.truth.Buckets {
		if covered(b.Account, b.Region) {
			want["AWS::S3::Bucket"] = append(want["AWS::S3::Bucket"], b.Name)
		}
	}
	for _, k := range f.truth.Keys {
		if covered(k.Account, k.Region) {
			want["AWS::KMS::Key"] = append(want["AWS::KMS::Key"], k.ID)
		}
	}
	for _, x := range f.truth.Functions {
		if covered(x.Account, x.Region) {
			want["AWS::Lambda::Function"] = append(want["AWS::Lambda::Function"], x.Name)
		}
	}
	for _, x := range f.truth.Secrets {
		if covered(x.Account, x.Region) {
			want["AWS::SecretsManager::Secret"] = append(want["AWS::SecretsManager::Secret"], x.ARN)
		}
	}
	for _, x := range f.truth.Instances {
		if covered(x.Account, x.Region) {
			want["AWS::EC2::Instance"] = append(want["AWS::EC2::Instance"], x.ID)
		}
	}
	for _, x := range f.truth.SecurityGroups {
		if covered(x.Account, x.Region) {
			want["AWS::EC2::SecurityGroup"] = append(want["AWS::EC2::SecurityGroup"], x.ID)
		}
	}
	want["AWS::S3::AccountPublicAccessBlock"] = []string{"300000000001"} // 300000000002 is not covered

	expr := "SELECT resourceId, resourceName, resourceType, accountId, awsRegion, arn, configuration, supplementaryConfiguration, tags " +
		"WHERE resourceType IN ('AWS::S3::Bucket', 'AWS::S3::AccountPublicAccessBlock', 'AWS::KMS::Key', 'AWS::Lambda::Function', " +
		"'AWS::SecretsManager::Secret', 'AWS::EC2::Instance', 'AWS::EC2::SecurityGroup')"
	rows, pages := selectAll(t, c, "org-view", expr, 7)
	total := 0
	for _, ids := range want {
		total += len(ids)
	}
	if len(rows) != total || pages != (total+6)/7 {
		t.Fatalf("%d rows in %d pages, want %d in %d", len(rows), pages, total, (total+6)/7)
	}
	got := map[string][]string{}
	byID := map[string]map[string]any{}
	for _, r := range rows {
		typ, id := r["resourceType"].(string), r["resourceId"].(string)
		got[typ] = append(got[typ], id)
		byID[r["accountId"].(string)+"/"+id] = r
		if !covered(r["accountId"].(string), r["awsRegion"].(string)) {
			t.Errorf("item %s of %v/%v is outside the aggregator", id, r["accountId"], r["awsRegion"])
		}
	}
	for typ := range want {
		sort.Strings(want[typ])
		sort.Strings(got[typ])
		if !slices.Equal(got[typ], want[typ]) {
			t.Errorf("%s: got %v, want %v", typ, got[typ], want[typ])
		}
	}
	for _, b := range f.truth.Buckets {
		r := byID[b.Account+"/"+b.Name]
		if r == nil {
			continue
		}
		supp := r["supplementaryConfiguration"].(map[string]any)
		pol, _ := supp["BucketPolicy"].(map[string]any)["policyText"].(string)
		if pol != b.Policy {
			t.Errorf("bucket %s policyText %q, want %q", b.Name, pol, b.Policy)
		}
		pab, has := supp["PublicAccessBlockConfiguration"].(map[string]any)
		if has != (b.PublicAccessBlock != nil) || has && pab["restrictPublicBuckets"] != b.PublicAccessBlock.RestrictPublicBuckets {
			t.Errorf("bucket %s PublicAccessBlockConfiguration %v, want %+v", b.Name, pab, b.PublicAccessBlock)
		}
	}
	for _, k := range f.truth.Keys {
		if r := byID[k.Account+"/"+k.ID]; r != nil {
			conf := r["configuration"].(map[string]any)
			if conf["keyManager"] != k.Manager || conf["keyState"] != k.State || conf["arn"] != k.ARN {
				t.Errorf("key %s configuration %v", k.ID, conf)
			}
			if _, has := conf["policy"]; has {
				t.Errorf("key %s item has a policy: Config does not record key policies", k.ID)
			}
		}
	}
	for _, x := range f.truth.Functions {
		if r := byID[x.Account+"/"+x.Name]; r != nil && r["configuration"].(map[string]any)["role"] != x.Role {
			t.Errorf("function %s role %v, want %s", x.Name, r["configuration"].(map[string]any)["role"], x.Role)
		}
	}
	for _, x := range f.truth.Instances {
		r := byID[x.Account+"/"+x.ID]
		if r == nil {
			continue
		}
		prof, _ := r["configuration"].(map[string]any)["iamInstanceProfile"].(map[string]any)
		if got, _ := prof["arn"].(string); got != x.InstanceProfileARN {
			t.Errorf("instance %s profile %q, want %q", x.ID, got, x.InstanceProfileARN)
		}
	}
	if r := byID["300000000001/300000000001"]; r == nil || r["configuration"].(map[string]any)["restrictPublicBuckets"] != true {
		t.Errorf("account public access block item %v", r)
	}
	for _, r := range rows {
		if b, _ := json.Marshal(r); slices.ContainsFunc(f.truth.Secrets, func(x *Secret) bool { return strings.Contains(string(b), x.Value) }) {
			t.Errorf("an item carries a secret's value: %s", b)
		}
	}

	// A WHERE of AND'ed predicates and a dotted property.
	rows, _ = selectAll(t, c, "org-view", "SELECT configuration.keyId WHERE resourceType = 'AWS::KMS::Key' AND configuration.keyManager = 'CUSTOMER' AND accountId = '300000000001'", 100)
	n := 0
	for _, k := range f.truth.Keys {
		if k.Account == "300000000001" && k.Region == "us-east-1" && k.Manager == "CUSTOMER" {
			n++
		}
	}
	if len(rows) != n || n == 0 {
		t.Errorf("customer keys of 300000000001: %d rows, want %d", len(rows), n)
	}
	for _, r := range rows {
		if _, ok := r["configuration"].(map[string]any)["keyId"].(string); !ok || len(r) != 1 {
			t.Errorf("row %v, want only configuration.keyId", r)
		}
	}

	// Errors, as AWS Config answers them.
	for _, tc := range []struct {
		expr, agg string
		limit     int32
		token     string
		code      string
	}{
		{expr: "SELECT *", agg: "org-view", code: "InvalidExpressionException"},
		{expr: "SELECT resourceId WHERE resourceType = 'AWS::KMS::Key' OR resourceType = 'AWS::S3::Bucket'", agg: "org-view", code: "InvalidExpressionException"},
		{expr: "SELECT nonsense", agg: "org-view", code: "InvalidExpressionException"},
		{expr: "SELECT resourceId WHERE", agg: "org-view", code: "InvalidExpressionException"},
		{expr: "resourceId", agg: "org-view", code: "InvalidExpressionException"},
		{expr: "SELECT resourceId", agg: "nope", code: "NoSuchConfigurationAggregatorException"},
		{expr: "SELECT resourceId", agg: "org-view", limit: 101, code: "ValidationException"},
		{expr: "SELECT resourceId", agg: "org-view", token: "garbage", code: "InvalidNextTokenException"},
	} {
		in := &configservice.SelectAggregateResourceConfigInput{ConfigurationAggregatorName: aws.String(tc.agg), Expression: aws.String(tc.expr), Limit: tc.limit}
		if tc.token != "" {
			in.NextToken = aws.String(tc.token)
		}
		_, err := c.SelectAggregateResourceConfig(ctx, in)
		if apiCode(err) != tc.code {
			t.Errorf("%q on %s: %v, want %s", tc.expr, tc.agg, err, tc.code)
		}
	}
	// The aggregator answers only in its own account.
	_, err = configservice.NewFromConfig(f.cfg(f.accounts[1].ID, "us-east-1")).SelectAggregateResourceConfig(ctx, &configservice.SelectAggregateResourceConfigInput{
		ConfigurationAggregatorName: aws.String("org-view"), Expression: aws.String("SELECT resourceId")})
	if apiCode(err) != "NoSuchConfigurationAggregatorException" {
		t.Errorf("member account: %v, want NoSuchConfigurationAggregatorException", err)
	}
}

// TestConfigOrganizationAggregator: an organization aggregator over every
// region holds every account's items in every region.
func TestConfigOrganizationAggregator(t *testing.T) {
	f := newAssetFixture(t, AssetEstate{Seed: 6, Aggregator: &ConfigAggregator{Organization: true, AllRegions: true, Failed: map[string][]string{"300000000002": {"eu-west-1"}}}})
	c := configservice.NewFromConfig(f.cfg(f.accounts[0].ID, "us-east-1"))
	d, err := c.DescribeConfigurationAggregators(context.Background(), &configservice.DescribeConfigurationAggregatorsInput{ConfigurationAggregatorNames: []string{"warden-org"}})
	if err != nil || len(d.ConfigurationAggregators) != 1 {
		t.Fatalf("%+v, %v", d, err)
	}
	src := d.ConfigurationAggregators[0].OrganizationAggregationSource
	if src == nil || !src.AllAwsRegions || aws.ToString(src.RoleArn) == "" {
		t.Errorf("organization source %+v", src)
	}
	rows, _ := selectAll(t, c, "warden-org", "SELECT resourceId WHERE resourceType = 'AWS::KMS::Key'", 100)
	want := 0
	for _, k := range f.truth.Keys {
		if k.Account != "300000000002" || k.Region != "eu-west-1" {
			want++
		}
	}
	if len(rows) != want {
		t.Errorf("%d keys, want every account's and region's but the failed source's, %d", len(rows), want)
	}
	// The sources' status: every account and region, 9 regions each, the
	// failed one FAILED; paged by Limit; filtered by UpdateStatus.
	var all []cfgtypes.AggregatedSourceStatus
	p := configservice.NewDescribeConfigurationAggregatorSourcesStatusPaginator(c, &configservice.DescribeConfigurationAggregatorSourcesStatusInput{
		ConfigurationAggregatorName: aws.String("warden-org"), Limit: 10})
	for p.HasMorePages() {
		out, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, out.AggregatedSourceStatusList...)
	}
	failed := 0
	for _, st := range all {
		if st.LastUpdateStatus == cfgtypes.AggregatedSourceStatusTypeFailed {
			failed++
			if aws.ToString(st.SourceId) != "300000000002" || aws.ToString(st.AwsRegion) != "eu-west-1" || aws.ToString(st.LastErrorCode) == "" {
				t.Errorf("failed source %+v", st)
			}
		}
	}
	if len(all) != 3*9 || failed != 1 {
		t.Errorf("%d statuses, %d failed; want 27 and 1", len(all), failed)
	}
	out, err := c.DescribeConfigurationAggregatorSourcesStatus(context.Background(), &configservice.DescribeConfigurationAggregatorSourcesStatusInput{
		ConfigurationAggregatorName: aws.String("warden-org"), UpdateStatus: []cfgtypes.AggregatedSourceStatusType{cfgtypes.AggregatedSourceStatusTypeFailed}})
	if err != nil || len(out.AggregatedSourceStatusList) != 1 {
		t.Errorf("FAILED only: %+v, %v", out, err)
	}
	_, err = c.DescribeConfigurationAggregatorSourcesStatus(context.Background(), &configservice.DescribeConfigurationAggregatorSourcesStatusInput{ConfigurationAggregatorName: aws.String("nope")})
	if apiCode(err) != "NoSuchConfigurationAggregatorException" {
		t.Errorf("unknown aggregator: %v", err)
	}
}

// TestS3ControlAccountPublicAccessBlock reads the account-level Block
// Public Access settings through the SDK on its default
// {AccountId}.s3-control host.
func TestS3ControlAccountPublicAccessBlock(t *testing.T) {
	f := newAssetFixture(t, AssetEstate{Seed: 7, AccountBlockPublicAccess: map[string]*PublicAccessBlock{"300000000001": {BlockPublicAcls: true, RestrictPublicBuckets: true}}})
	ctx := context.Background()
	client := func(account string) *s3control.Client {
		cfg, ep := f.virtualHostConfig(account, "us-east-1")
		ep = strings.Replace(ep, "//s3.", "//s3-control.", 1)
		return s3control.NewFromConfig(cfg, func(o *s3control.Options) { o.BaseEndpoint = &ep })
	}
	out, err := client("300000000001").GetPublicAccessBlock(ctx, &s3control.GetPublicAccessBlockInput{AccountId: aws.String("300000000001")})
	if err != nil {
		t.Fatal(err)
	}
	p := out.PublicAccessBlockConfiguration
	if p == nil || !aws.ToBool(p.BlockPublicAcls) || aws.ToBool(p.IgnorePublicAcls) || aws.ToBool(p.BlockPublicPolicy) || !aws.ToBool(p.RestrictPublicBuckets) {
		t.Errorf("settings %+v", p)
	}
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(f.srv.URL(), "http://"))
	if !slices.Contains(f.hosts, "300000000001.s3-control.awsfake.test:"+port+"/v20180820/configuration/publicAccessBlock") {
		t.Errorf("requests went to %v, want the account's s3-control host", f.hosts)
	}
	_, err = client("300000000000").GetPublicAccessBlock(ctx, &s3control.GetPublicAccessBlockInput{AccountId: aws.String("300000000000")})
	var none *s3ctypes.NoSuchPublicAccessBlockConfiguration
	if !errors.As(err, &none) {
		t.Errorf("account without settings: %v, want NoSuchPublicAccessBlockConfiguration", err)
	}
	_, err = client("300000000000").GetPublicAccessBlock(ctx, &s3control.GetPublicAccessBlockInput{AccountId: aws.String("300000000001")})
	if apiCode(err) != "AccessDenied" {
		t.Errorf("another account's settings: %v, want AccessDenied", err)
	}
	if n := f.srv.Calls()["s3control:GetPublicAccessBlock"]; n != 3 {
		t.Errorf("s3control:GetPublicAccessBlock counted %d, want 3", n)
	}
}
