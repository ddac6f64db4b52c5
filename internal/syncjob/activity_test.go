package syncjob

import (
	"slices"
	"testing"
	"time"

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
