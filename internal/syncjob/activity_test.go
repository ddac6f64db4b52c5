package syncjob

import (
	"slices"
	"testing"
	"time"

	"github.com/warden-iam/warden/internal/config"
	"github.com/warden-iam/warden/internal/model"
)

// TestActivityRegions: us-east-1, the home region, and the regions where
// one of the account's roles or keys was used within 90 days; another
// account's, an older use and the credential report's N/A are left out.
func TestActivityRegions(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	recent, old := now.Add(-24*time.Hour), now.Add(-100*24*time.Hour)
	g := &model.Graph{Resources: []model.Resource{
		{ID: "r1", Type: model.TypeIAMRole, AccountID: "111111111111", Role: &model.RoleAttrs{LastUsed: &recent, LastUsedRegion: "ap-south-1"}},
		{ID: "r2", Type: model.TypeIAMRole, AccountID: "111111111111", Role: &model.RoleAttrs{LastUsed: &old, LastUsedRegion: "sa-east-1"}},
		{ID: "r3", Type: model.TypeIAMRole, AccountID: "222222222222", Role: &model.RoleAttrs{LastUsed: &recent, LastUsedRegion: "ca-central-1"}},
		{ID: "k1", Type: model.TypeAccessKey, AccountID: "111111111111", AccessKey: &model.AccessKeyAttrs{LastUsed: &recent, LastUsedRegion: "eu-central-1"}},
		{ID: "k2", Type: model.TypeAccessKey, AccountID: "111111111111", AccessKey: &model.AccessKeyAttrs{LastUsed: &recent, LastUsedRegion: "N/A"}},
	}}
	got := ActivityRegions(g, "111111111111", "eu-west-1", now)
	want := []string{"ap-south-1", "eu-central-1", "eu-west-1", "us-east-1"}
	if !slices.Equal(got, want) {
		t.Errorf("ActivityRegions = %v, want %v", got, want)
	}
	if got := ActivityRegions(&model.Graph{}, "111111111111", "", now); !slices.Equal(got, []string{"us-east-1"}) {
		t.Errorf("an account with no use: %v, want us-east-1 alone", got)
	}
}

// TestActivityRegionsWithAssets: the regions sync.assets names join the
// default regions, once each and sorted; configured activity regions are
// kept as they are.
func TestActivityRegionsWithAssets(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	r := &activityRun{home: "eu-west-1", opts: ActivityOptions{AssetRegions: []string{"us-east-1", "ap-northeast-1", "eu-west-1"}}}
	if got, want := r.regionsOf(&model.Graph{}, "111111111111", now), []string{"ap-northeast-1", "eu-west-1", "us-east-1"}; !slices.Equal(got, want) {
		t.Errorf("regionsOf = %v, want %v", got, want)
	}
	r.opts.Regions = []string{"sa-east-1"}
	if got := r.regionsOf(&model.Graph{}, "111111111111", now); !slices.Equal(got, []string{"sa-east-1"}) {
		t.Errorf("configured regions: %v, want [sa-east-1]", got)
	}
}

// TestFromConnectionAssetRegions: a connection that reads activity and
// names its asset regions hands those regions to the activity read.
func TestFromConnectionAssetRegions(t *testing.T) {
	var c config.Connection
	c.ID, c.Region = "prod", "eu-west-1"
	c.Activity.Lookback = "7d"
	c.Sync.Assets.Services = []string{"s3"}
	c.Sync.Assets.Regions = []string{"ap-northeast-1"}
	tg, err := FromConnection(c)
	if err != nil {
		t.Fatal(err)
	}
	if tg.Activity == nil || !slices.Equal(tg.Activity.AssetRegions, []string{"ap-northeast-1"}) {
		t.Fatalf("Activity = %+v, want AssetRegions [ap-northeast-1]", tg.Activity)
	}
}
