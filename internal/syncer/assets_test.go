package syncer

import (
	"context"
	"path/filepath"
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
