package collect

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/warden-iam/warden/awsfake"
	"github.com/warden-iam/warden/internal/model"
)

// configEnv is newAssetEnv with an organization aggregator in the
// management account's us-east-1 covering regions (nil: every region, with
// member 200000000000's eu-west-1 not collected: its source FAILED), and
// account-level Block Public Access on member 200000000001.
func configEnv(t testing.TB, regions []string) *assetEnv {
	agg := &awsfake.ConfigAggregator{Name: "org", Organization: true, AllRegions: regions == nil, Regions: regions, Region: "us-east-1"}
	if regions == nil {
		agg.Failed = map[string][]string{"200000000000": {"eu-west-1"}}
	}
	return configEnvWith(t, agg)
}

// configEnvWith is configEnv with the aggregator agg.
func configEnvWith(t testing.TB, agg *awsfake.ConfigAggregator) *assetEnv {
	return newAssetEnvWith(t, func(a *awsfake.AssetEstate) {
		a.Aggregator = agg
		a.AccountBlockPublicAccess = map[string]*awsfake.PublicAccessBlock{"200000000001": {BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true}}
	})
}

// inventory reads the aggregator through the management account's session.
func (e *assetEnv) inventory(t testing.TB, o ConfigSourceOptions, services []string) (*AssetInventory, []model.SourceError) {
	t.Helper()
	mgmt := e.truth.Management.ID
	if o.Region == "" {
		o.Region = "us-east-1"
	}
	return ReadAssetInventory(context.Background(), e.sess.Assets(mgmt, o.Region).Config, mgmt, o, services)
}

// withoutSources returns the graph with the account_assets resource's
// Sources cleared (the one part that differs between the sources).
func withoutSources(g model.Graph) model.Graph {
	out := g
	out.Resources = slices.Clone(g.Resources)
	for i, r := range out.Resources {
		if r.AccountAssets != nil {
			a := *r.AccountAssets
			a.Sources = nil
			out.Resources[i].AccountAssets = &a
		}
	}
	return out
}

// wantSourceCalls is the call formula of an account's assets read with the
// aggregator covering the regions covered, the rest from the listings.
func wantSourceCalls(assets *awsfake.AssetTruth, account string, regions, skip []string, covered func(string) bool, bpaItem bool) map[string]int64 {
	want := map[string]int64{"ec2:DescribeRegions": 1, "iam:ListInstanceProfiles": 1}
	if !bpaItem {
		want["s3control:GetPublicAccessBlock"] = 1
	}
	listed := false
	for _, region := range regions {
		if covered(region) {
			continue
		}
		listed = true
		for _, action := range []string{"ec2:DescribeInstances", "kms:ListKeys", "lambda:ListFunctions", "secretsmanager:ListSecrets"} {
			want[action]++
		}
		if !slices.Contains(skip, region) {
			want["ec2:DescribeSecurityGroups"]++
		}
	}
	if listed {
		want["s3:ListBuckets"] = 1
	}
	for _, b := range assets.Buckets {
		if b.Account == account && !covered(b.Region) {
			want["s3:GetBucketPolicy"]++
			want["s3:GetPublicAccessBlock"]++
			want["s3:GetBucketAcl"]++
		}
	}
	// A covered region an SCP denies still costs the per-resource calls
	// that find it denied.
	read := func(region string) bool { return covered(region) || !slices.Contains(skip, region) }
	for _, k := range assets.Keys {
		if k.Account == account && read(k.Region) {
			if !covered(k.Region) {
				want["kms:DescribeKey"]++
			}
			if k.Manager == "CUSTOMER" {
				want["kms:GetKeyPolicy"]++
				want["kms:ListGrants"]++
			}
		}
	}
	for _, f := range assets.Functions {
		if f.Account == account && read(f.Region) {
			want["lambda:GetPolicy"]++
			want["lambda:ListAliases"]++
			if !slices.Contains(skip, f.Region) {
				// (Where ListAliases is denied, no alias is known.)
				want["lambda:GetPolicy"] += int64(len(f.Aliases))
			}
		}
	}
	for _, x := range assets.Secrets {
		if x.Account == account && read(x.Region) {
			want["secretsmanager:GetResourcePolicy"]++
		}
	}
	return want
}

// TestCollectAssetsConfigSourceEqualsServices reads every account of the
// organization twice, from the service listings and from an aggregator
// that covers us-east-1 only (the other regions fall back to the
// listings), then from one that covers every region: the graphs are
// deep-equal, equal to the ground truth, with the account-level Block
// Public Access read, and each read makes exactly its call formula's calls.
func TestCollectAssetsConfigSourceEqualsServices(t *testing.T) {
	// Two account sources: the management account and 200000000000 in
	// us-east-1, and 200000000001 in every region.
	twoSources := &awsfake.ConfigAggregator{Name: "org", Accounts: []string{"100000000000", "200000000000"}, Regions: []string{"us-east-1"}, Region: "us-east-1",
		MoreSources: []awsfake.ConfigAccountSource{{Accounts: []string{"200000000001"}, AllRegions: true}}}
	for _, tc := range []struct {
		name    string
		regions []string
		agg     *awsfake.ConfigAggregator // nil: configEnv's of regions
		sourced func(account, region string) bool
	}{
		{"us-east-1 only", []string{"us-east-1"}, nil, nil},
		{"every region", nil, nil, nil},
		{"two account sources", nil, twoSources, func(account, region string) bool {
			return account == "200000000001" || region == "us-east-1" && (account == "100000000000" || account == "200000000000")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := configEnv(t, tc.regions)
			if tc.agg != nil {
				e = configEnvWith(t, tc.agg)
			}
			if tc.sourced == nil {
				tc.sourced = func(_, region string) bool { return tc.regions == nil || slices.Contains(tc.regions, region) }
			}
			accounts := map[string]*awsfake.Account{}
			for _, a := range e.truth.Accounts() {
				accounts[a.ID] = a
			}
			assets := e.truth.Assets
			e.srv.ResetCalls()
			inv, notes := e.inventory(t, ConfigSourceOptions{Mode: ConfigOnly}, AssetServices)
			if inv == nil || len(notes) != 0 {
				t.Fatalf("inventory %v, notes %v", inv, notes)
			}
			items := 0
			for _, a := range e.truth.Accounts() {
				for _, region := range assets.EnabledRegions(a.ID) {
					if inv.Covers(a.ID, region) {
						items += len(inv.items[a.ID+"/"+region])
					}
				}
			}
			items += len(inv.bpa)
			cfgCalls := e.srv.CallsFor(e.truth.Management.ID)
			sources := 0
			for _, a := range e.truth.Accounts() {
				for _, region := range append(slices.Clone(awsfake.StandardRegions), awsfake.OptInRegions...) {
					if tc.sourced(a.ID, region) {
						sources++
					}
				}
			}
			if cfgCalls["config:DescribeConfigurationAggregators"] != 1 || cfgCalls["config:DescribeConfigurationAggregatorSourcesStatus"] != int64((sources+99)/100) ||
				cfgCalls["config:SelectAggregateResourceConfig"] != int64((items+99)/100) || inv.Pages != (items+99)/100 {
				t.Errorf("config calls %v for %d sources and %d items, want 1 DescribeConfigurationAggregators, %d status pages and %d item pages", cfgCalls, sources, items, (sources+99)/100, (items+99)/100)
			}
			if tc.agg == nil && tc.regions == nil && (!slices.Equal(inv.Failed, []string{"200000000000 eu-west-1 FAILED NoAvailableConfigurationRecorder"}) || inv.Covers("200000000000", "eu-west-1") || !inv.Covers("200000000000", "us-east-1")) {
				t.Errorf("failed sources %v", inv.Failed)
			}
			for _, a := range e.truth.Accounts() {
				for _, region := range assets.EnabledRegions(a.ID) {
					if tc.agg != nil && inv.Covers(a.ID, region) != tc.sourced(a.ID, region) {
						t.Errorf("Covers(%s, %s) = %v, want %v", a.ID, region, inv.Covers(a.ID, region), tc.sourced(a.ID, region))
					}
				}
			}
			t.Logf("aggregator %s: %d items in %d pages", inv.Aggregator, items, inv.Pages)
			for _, a := range e.truth.Accounts() {
				var skip []string
				if a.ID == "200000000001" {
					skip = []string{"eu-west-1"}
				}
				e.srv.ResetCalls()
				viaServices := e.collect(t, a.ID, AssetOptions{})
				e.srv.ResetCalls()
				start := time.Now()
				viaConfig := e.collect(t, a.ID, AssetOptions{Inventory: inv})
				took := time.Since(start)
				calls := e.srv.CallsFor(a.ID)
				if !reflect.DeepEqual(withoutSources(viaConfig.Graph), withoutSources(viaServices.Graph)) {
					g, w := gotAssets(viaConfig.Graph), gotAssets(viaServices.Graph)
					for i := 0; i < max(len(g), len(w)); i++ {
						if i >= len(g) || i >= len(w) || g[i] != w[i] {
							t.Errorf("%s: first difference at %d:\nconfig   %v\nservices %v", a.ID, i, lineAt(g, i), lineAt(w, i))
							break
						}
					}
					t.Fatalf("%s: the Config source's graph differs from the service listings' (%d vs %d resources, %d vs %d grants)", a.ID,
						len(viaConfig.Graph.Resources), len(viaServices.Graph.Resources), len(viaConfig.Graph.Grants), len(viaServices.Graph.Grants))
				}
				if !slices.Equal(gotAssets(viaConfig.Graph), wantAssets(assets, accounts, a.ID, skip)) {
					t.Fatalf("%s: the graph differs from the ground truth", a.ID)
				}
				if fmt.Sprint(viaConfig.Errors) != fmt.Sprint(viaServices.Errors) {
					t.Errorf("%s: errors %v via Config, %v via the listings", a.ID, viaConfig.Errors, viaServices.Errors)
				}
				// The account-level Block Public Access and the sources.
				var acct *model.Resource
				for i := range viaConfig.Graph.Resources {
					if viaConfig.Graph.Resources[i].ID == model.AccountAssetsID(a.ID) {
						acct = &viaConfig.Graph.Resources[i]
					}
				}
				if acct == nil {
					t.Fatalf("%s: no %s resource", a.ID, model.TypeAccountAssets)
				}
				wantBPA := assets.AccountPublicAccessBlocks[a.ID]
				if got := acct.AccountAssets.PublicAccessBlock; (got == nil) != (wantBPA == nil) || got != nil && (got.RestrictPublicBuckets != wantBPA.RestrictPublicBuckets || got.BlockPublicPolicy != wantBPA.BlockPublicPolicy) {
					t.Errorf("%s: account Block Public Access %+v, want %+v", a.ID, got, wantBPA)
				}
				for _, src := range acct.AccountAssets.Sources {
					want := model.AssetSourceServices
					if inv.Covers(a.ID, src.Region) {
						want = model.AssetSourceConfig
					}
					if src.Source != want || want == model.AssetSourceConfig && src.Aggregator != "org" {
						t.Errorf("%s %s: source %+v, want %s", a.ID, src.Region, src, want)
					}
				}
				if len(acct.AccountAssets.Sources) != len(viaConfig.Regions) {
					t.Errorf("%s: %d sources for %d regions", a.ID, len(acct.AccountAssets.Sources), len(viaConfig.Regions))
				}
				_, bpaItem := inv.accountBPA(a.ID)
				want := wantSourceCalls(assets, a.ID, viaConfig.Regions, skip, func(region string) bool { return inv.Covers(a.ID, region) }, bpaItem)
				if fmt.Sprint(calls) != fmt.Sprint(want) {
					t.Errorf("%s: calls\n got %v\nwant %v", a.ID, calls, want)
				}
				var n, m int64
				for _, v := range calls {
					n += v
				}
				for _, v := range wantSourceCalls(assets, a.ID, viaConfig.Regions, skip, func(string) bool { return false }, false) {
					m += v
				}
				t.Logf("%s: %d assets; %d calls via Config (%v), %d via the listings", a.ID, len(gotAssets(viaConfig.Graph)), n, took.Round(time.Millisecond), m)
			}
		})
	}
}

func lineAt(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return "(none)"
}

// TestReadAssetInventoryFallbacks: a missing aggregator is a note with its
// fix in config mode and silent in auto mode; a denied one is a note in
// either; in every case no inventory, so every account falls back to the
// listings.
func TestReadAssetInventoryFallbacks(t *testing.T) {
	e := newAssetEnv(t)
	inv, notes := e.inventory(t, ConfigSourceOptions{Mode: ConfigAuto}, AssetServices)
	if inv != nil || len(notes) != 0 {
		t.Errorf("auto without an aggregator: %v, %v; want nothing", inv, notes)
	}
	inv, notes = e.inventory(t, ConfigSourceOptions{Mode: ConfigOnly}, AssetServices)
	if inv != nil || len(notes) != 1 || !strings.Contains(notes[0].Message, "no AWS Config aggregator") || !strings.Contains(notes[0].Fix, "sync.assets.source: services") {
		t.Errorf("config without an aggregator: %v, %+v", inv, notes)
	}
	inv, notes = e.inventory(t, ConfigSourceOptions{Mode: ConfigOnly, Aggregator: "nope"}, AssetServices)
	if inv != nil || len(notes) != 1 || !strings.Contains(notes[0].Message, `"nope" not found`) {
		t.Errorf("unknown aggregator: %v, %+v", inv, notes)
	}
	e.srv.SetOptions(awsfake.Options{ActionFaults: map[string]awsfake.ActionFault{
		"config:DescribeConfigurationAggregators": {Status: 400, Code: "AccessDeniedException", Message: "User: arn:aws:iam::100000000000:user/warden is not authorized to perform: config:DescribeConfigurationAggregators"},
	}})
	inv, notes = e.inventory(t, ConfigSourceOptions{Mode: ConfigAuto}, AssetServices)
	if inv != nil || len(notes) != 1 || !strings.Contains(notes[0].Message, "access denied") || !strings.Contains(notes[0].Fix, "config:DescribeConfigurationAggregators") {
		t.Errorf("denied: %v, %+v", inv, notes)
	}
	// With no inventory, an account is read from the listings whole.
	res := e.collect(t, e.truth.Management.ID, AssetOptions{Inventory: inv})
	for _, src := range res.Sources {
		if src.Source != model.AssetSourceServices {
			t.Errorf("source %+v, want services", src)
		}
	}
}

// BenchmarkAssetSources reads the assets of an organization of three
// accounts with assets in three regions, with 2 ms of latency a call,
// from the service listings and from an organization aggregator over every
// region (its query read once per sync, included), with one query for
// every resource type and with one query per type. It reports the calls
// of a sync (calls/op), the AWS Config calls among them (config/op) and
// the per-resource calls (per-resource/op).
func BenchmarkAssetSources(b *testing.B) {
	regions := []string{"eu-west-1", "us-east-1", "us-west-2"}
	e := newAssetEnvWith(b, func(a *awsfake.AssetEstate) {
		a.Regions = regions
		a.OptedIn, a.DeniedRegions = nil, nil
		a.Aggregator = &awsfake.ConfigAggregator{Name: "org", Organization: true, AllRegions: true, Region: "us-east-1"}
	})
	e.srv.SetOptions(awsfake.Options{Latency: 2 * time.Millisecond})
	perResource := []string{"s3:GetBucketPolicy", "s3:GetPublicAccessBlock", "kms:DescribeKey", "kms:GetKeyPolicy", "kms:ListGrants", "lambda:GetPolicy", "lambda:ListAliases", "secretsmanager:GetResourcePolicy"}
	for _, bc := range []struct {
		name   string
		config *ConfigSourceOptions
	}{
		{"services", nil},
		{"config", &ConfigSourceOptions{Mode: ConfigOnly}},
		{"config-query-per-type", &ConfigSourceOptions{Mode: ConfigOnly, perType: true}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			e.srv.ResetCalls()
			for i := 0; i < b.N; i++ {
				var inv *AssetInventory
				if bc.config != nil {
					var notes []model.SourceError
					if inv, notes = e.inventory(b, *bc.config, AssetServices); inv == nil {
						b.Fatalf("no inventory: %v", notes)
					}
				}
				done := make(chan struct{})
				for _, a := range e.truth.Accounts() {
					go func() {
						defer func() { done <- struct{}{} }()
						e.collect(b, a.ID, AssetOptions{Regions: regions, Inventory: inv})
					}()
				}
				for range e.truth.Accounts() {
					<-done
				}
			}
			b.StopTimer()
			calls := e.srv.Calls()
			var total, cfg, per int64
			for k, v := range calls {
				total += v
				if strings.HasPrefix(k, "config:") {
					cfg += v
				}
				if slices.Contains(perResource, k) {
					per += v
				}
			}
			n := float64(b.N)
			b.ReportMetric(float64(total)/n, "calls/op")
			b.ReportMetric(float64(cfg)/n, "config/op")
			b.ReportMetric(float64(per)/n, "per-resource/op")
			if testing.Verbose() {
				for _, k := range sortedKeysOf(calls) {
					b.Logf("%s %s: %.0f", bc.name, k, float64(calls[k])/n)
				}
			}
		})
	}
}

// TestAccountBPADenied: account-level Block Public Access that cannot be
// read is a partial failure with its fix, and the account's settings are
// marked unread, not taken as none.
func TestAccountBPADenied(t *testing.T) {
	e := newAssetEnv(t)
	e.srv.SetOptions(awsfake.Options{ActionFaults: map[string]awsfake.ActionFault{
		"s3control:GetPublicAccessBlock": {Status: 403, Code: "AccessDenied", Message: "Access Denied"},
	}})
	res := e.collect(t, e.truth.Management.ID, AssetOptions{Regions: []string{"us-east-1"}, Services: []string{"s3"}})
	if len(res.Errors) != 1 || !strings.Contains(res.Errors[0].Message, "s3:GetAccountPublicAccessBlock") || res.Errors[0].Fix == "" {
		t.Fatalf("errors %+v, want the denied S3 Control call with a fix", res.Errors)
	}
	found := false
	for _, r := range res.Graph.Resources {
		if r.Type == model.TypeAccountAssets {
			found = true
			if !slices.Equal(r.Unread, []string{"public_access_block"}) || r.AccountAssets.PublicAccessBlock != nil {
				t.Errorf("account assets %+v unread %v, want public_access_block unread", r.AccountAssets, r.Unread)
			}
		}
	}
	if !found {
		t.Error("no account_assets resource")
	}
}

// TestConfigBucketACL: AWS Config's AccessControlList string becomes the
// ACL GetBucketAcl gives (groups by URI, permissions by S3's names), and
// one that is not that shape is an error naming what is wrong.
func TestConfigBucketACL(t *testing.T) {
	got, err := configBucketACL(`{"grantSet":null,"grantList":[{"grantee":{"id":"abc","displayName":null},"permission":"FullControl"},` +
		`{"grantee":"AllUsers","permission":"Read"},{"grantee":"LogDelivery","permission":"Write"},{"grantee":"AuthenticatedUsers","permission":"ReadAcp"},` +
		`{"grantee":{"id":"def"},"permission":"WriteAcp"}],"owner":{"displayName":null,"id":"abc"},"isRequesterCharged":false}`)
	if err != nil {
		t.Fatal(err)
	}
	want := &model.BucketACL{OwnerID: "abc", Grants: []model.BucketACLGrant{
		{GranteeType: model.ACLCanonicalUser, Grantee: "abc", Permission: "FULL_CONTROL"},
		{GranteeType: model.ACLGroup, Grantee: model.ACLAllUsers, Permission: "READ"},
		{GranteeType: model.ACLGroup, Grantee: model.ACLLogDelivery, Permission: "WRITE"},
		{GranteeType: model.ACLGroup, Grantee: model.ACLAuthenticatedUsers, Permission: "READ_ACP"},
		{GranteeType: model.ACLCanonicalUser, Grantee: "def", Permission: "WRITE_ACP"},
	}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	for _, c := range []struct{ text, want string }{
		{`{"grantList":[{"grantee":"AllUsers","permission":"Everything"}]}`, `permission "Everything"`},
		{`{"grantList":[{"grantee":"Friends","permission":"Read"}]}`, `group "Friends"`},
		{`{"grantList":[{"grantee":{"uri":"x"},"permission":"Read"}]}`, `neither a group's name nor a canonical user`},
		{`not json`, `invalid character`},
	} {
		if _, err := configBucketACL(c.text); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("configBucketACL(%s) = %v, want an error saying %s", c.text, err, c.want)
		}
	}
}
