package syncer

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/warden-iam/warden/awsfake"
	"github.com/warden-iam/warden/internal/collect"
	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/store"
)

// TestSyncReadsAssets syncs an organization with Options.Assets and reads
// the stored snapshot back: every account's assets are there, with the
// SCP-denied region a note of a partial snapshot, and the snapshot counts
// the asset calls.
func TestSyncReadsAssets(t *testing.T) {
	isolateAWS(t)
	srv := awsfake.NewServer(awsfake.Options{})
	defer srv.Close()
	truth := awsfake.OrgEstate{Accounts: 2, PerAccount: awsfake.Estate{Users: 2, Roles: 3}, Seed: 2,
		Assets: &awsfake.AssetEstate{DeniedRegions: map[string][]string{"200000000001": {"eu-west-1"}}}}.Build()
	c := truth.Install(srv)
	sess := newSession(t, srv.URL(), c)
	st, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	o := syncOptions()
	o.Organization = &OrganizationOptions{}
	o.Assets = &collect.AssetOptions{Regions: []string{"us-east-1", "eu-west-1"}}
	snap, err := Sync(context.Background(), sess, st, o)
	if err != nil {
		t.Fatal(err)
	}
	if snap.Status != model.StatusPartial || len(snap.Errors) != 1 || !strings.Contains(snap.Errors[0].Message, "region eu-west-1 skipped: denied by a service control policy") {
		t.Fatalf("snapshot %s with errors %+v, want partial with the SCP note only", snap.Status, snap.Errors)
	}
	g, err := st.Graph(context.Background(), snap.ID)
	if err != nil {
		t.Fatal(err)
	}
	got := map[model.ResourceType]int{}
	for _, r := range g.Resources {
		got[r.Type]++
		if r.Type == model.TypeS3Bucket && (r.Bucket == nil || r.Bucket.Region == "") {
			t.Fatalf("bucket %s stored without its attributes", r.ID)
		}
	}
	want := map[model.ResourceType]int{}
	a := truth.Assets
	denied := func(account, region string) bool { return account == "200000000001" && region == "eu-west-1" }
	for _, b := range a.Buckets {
		if !denied(b.Account, b.Region) {
			want[model.TypeS3Bucket]++
		}
	}
	for _, k := range a.Keys {
		if k.Manager == "CUSTOMER" && !denied(k.Account, k.Region) {
			want[model.TypeKMSKey]++
		}
	}
	for _, f := range a.Functions {
		if !denied(f.Account, f.Region) {
			want[model.TypeLambdaFunction]++
		}
	}
	for _, x := range a.Secrets {
		if !denied(x.Account, x.Region) {
			want[model.TypeSecret]++
		}
	}
	for _, i := range a.Instances {
		if !denied(i.Account, i.Region) {
			want[model.TypeEC2Instance]++
		}
	}
	for _, sg := range a.SecurityGroups {
		if !denied(sg.Account, sg.Region) {
			want[model.TypeSecurityGroup]++
		}
	}
	for typ, n := range want {
		if got[typ] != n || snap.Counts[string(typ)] != n {
			t.Errorf("%s: %d stored, %d counted, want %d", typ, got[typ], snap.Counts[string(typ)], n)
		}
	}
	if snap.APICalls["kms:ListKeys"] != 6 || snap.APICalls["s3:ListBuckets"] != 3 {
		t.Errorf("asset calls %v", snap.APICalls)
	}
}

// TestSyncReadsAssetsFromConfig syncs an organization whose management
// account holds an organization aggregator over us-east-1, with the Config
// source, then again from the service listings: the stored assets are the
// same; the snapshot counts the AWS Config calls and no listing in
// us-east-1, and each account's account_assets resource says which source
// read each region, with the account-level Block Public Access.
func TestSyncReadsAssetsFromConfig(t *testing.T) {
	isolateAWS(t)
	srv := awsfake.NewServer(awsfake.Options{})
	defer srv.Close()
	truth := awsfake.OrgEstate{Accounts: 2, PerAccount: awsfake.Estate{Users: 2, Roles: 3}, Seed: 3,
		Assets: &awsfake.AssetEstate{Aggregator: &awsfake.ConfigAggregator{Organization: true, Regions: []string{"us-east-1"}, Region: "us-east-1"},
			AccountBlockPublicAccess: map[string]*awsfake.PublicAccessBlock{"200000000000": {RestrictPublicBuckets: true}}}}.Build()
	c := truth.Install(srv)
	sess := newSession(t, srv.URL(), c)
	st, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	assets := func(source *collect.ConfigSourceOptions) (*model.Snapshot, *model.Graph) {
		o := syncOptions()
		o.Organization = &OrganizationOptions{}
		o.Assets = &collect.AssetOptions{Regions: []string{"us-east-1", "eu-west-1"}, Config: source}
		snap, err := Sync(context.Background(), sess, st, o)
		if err != nil {
			t.Fatal(err)
		}
		g, err := st.Graph(context.Background(), snap.ID)
		if err != nil {
			t.Fatal(err)
		}
		return snap, g
	}
	viaConfig, gc := assets(&collect.ConfigSourceOptions{Mode: collect.ConfigOnly})
	viaServices, gs := assets(nil)
	if len(viaConfig.Errors) != 0 || len(viaServices.Errors) != 0 {
		t.Fatalf("errors %v / %v", viaConfig.Errors, viaServices.Errors)
	}
	render := func(g *model.Graph) (lines []string, sources map[string]string, bpa map[string]bool) {
		sources, bpa = map[string]string{}, map[string]bool{}
		for _, r := range g.Resources {
			if r.AccountAssets != nil {
				for _, s := range r.AccountAssets.Sources {
					sources[r.AccountID+" "+s.Region] = s.Source
				}
				bpa[r.AccountID] = r.AccountAssets.PublicAccessBlock != nil && r.AccountAssets.PublicAccessBlock.RestrictPublicBuckets
				continue
			}
			if r.Bucket != nil || r.KMSKey != nil || r.Function != nil || r.Secret != nil || r.Instance != nil || r.SecurityGroup != nil {
				b, _ := json.Marshal(r)
				lines = append(lines, string(b))
			}
		}
		sort.Strings(lines)
		return lines, sources, bpa
	}
	lc, sc, bc := render(gc)
	ls, ss, bs := render(gs)
	if len(lc) < 50 || !slices.Equal(lc, ls) {
		for i := range min(len(lc), len(ls)) {
			if lc[i] != ls[i] {
				t.Errorf("first difference:\nconfig   %s\nservices %s", lc[i], ls[i])
				break
			}
		}
		t.Fatalf("%d assets via Config, %d via the listings; they differ", len(lc), len(ls))
	}
	for k, v := range sc {
		want := model.AssetSourceServices
		if strings.HasSuffix(k, " us-east-1") {
			want = model.AssetSourceConfig
		}
		if v != want || ss[k] != model.AssetSourceServices {
			t.Errorf("%s: source %s via Config, %s via the listings; want %s and services", k, v, ss[k], want)
		}
	}
	if len(sc) != 6 || !bc["200000000000"] || bc["200000000001"] || !bs["200000000000"] {
		t.Errorf("sources %v, account Block Public Access %v / %v", sc, bc, bs)
	}
	if viaConfig.APICalls["config:DescribeConfigurationAggregators"] != 1 || viaConfig.APICalls["config:SelectAggregateResourceConfig"] != 1 ||
		viaConfig.APICalls["kms:ListKeys"] != 3 || viaServices.APICalls["kms:ListKeys"] != 6 || viaServices.APICalls["config:SelectAggregateResourceConfig"] != 0 {
		t.Errorf("calls via Config %v\nvia the listings %v", viaConfig.APICalls, viaServices.APICalls)
	}
}

// TestSyncAssetsDelegatedAggregator: an aggregator in a delegated
// administrator (a member account) is read through that account's member
// role when sync.assets names its account; named wrongly, the sync notes
// it once and reads the listings.
func TestSyncAssetsDelegatedAggregator(t *testing.T) {
	isolateAWS(t)
	srv := awsfake.NewServer(awsfake.Options{})
	defer srv.Close()
	const admin = "200000000001"
	truth := awsfake.OrgEstate{Accounts: 2, PerAccount: awsfake.Estate{Users: 1, Roles: 2}, Seed: 5,
		Assets: &awsfake.AssetEstate{Aggregator: &awsfake.ConfigAggregator{Name: "delegated", Account: admin, Organization: true, AllRegions: true, Region: "eu-west-1"}}}.Build()
	c := truth.Install(srv)
	sess := newSession(t, srv.URL(), c)
	st, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	run := func(cfg collect.ConfigSourceOptions) *model.Snapshot {
		o := syncOptions()
		o.Organization = &OrganizationOptions{}
		o.Assets = &collect.AssetOptions{Regions: []string{"us-east-1"}, Config: &cfg}
		snap, err := Sync(context.Background(), sess, st, o)
		if err != nil {
			t.Fatal(err)
		}
		return snap
	}
	snap := run(collect.ConfigSourceOptions{Mode: collect.ConfigOnly, Aggregator: "delegated", Account: admin, Region: "eu-west-1"})
	if len(snap.Errors) != 0 || snap.APICalls["config:SelectAggregateResourceConfig"] == 0 || snap.APICalls["kms:ListKeys"] != 0 {
		t.Errorf("delegated aggregator: errors %v, calls %v", snap.Errors, snap.APICalls)
	}
	snap = run(collect.ConfigSourceOptions{Mode: collect.ConfigOnly, Aggregator: "delegated", Region: "eu-west-1"})
	if len(snap.Errors) != 1 || !strings.Contains(snap.Errors[0].Message, `"delegated" not found`) || snap.APICalls["kms:ListKeys"] != 3 {
		t.Errorf("aggregator looked for in the management account: errors %+v, calls %v", snap.Errors, snap.APICalls)
	}
}
