package findings

import (
	"testing"
	"time"

	"github.com/warden-iam/warden/internal/model"
)

// TestUnusedAccess: inactive users (neither password nor key used), unused
// active keys and unused roles, service-linked roles apart, never-used ones
// counted from their creation, unknown credential reports left out.
func TestUnusedAccess(t *testing.T) {
	now := time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)
	ago := func(d int) *time.Time { t := now.AddDate(0, 0, -d); return &t }
	g := &model.Graph{Resources: []model.Resource{
		{ID: "u-idle", Type: model.TypeIAMUser, Name: "idle", CreatedAt: *ago(400), User: &model.UserAttrs{CredentialReport: true, PasswordLastUsed: ago(200)}},
		{ID: "u-keyuser", Type: model.TypeIAMUser, Name: "keyuser", CreatedAt: *ago(400), User: &model.UserAttrs{CredentialReport: true, PasswordLastUsed: ago(200)}},
		{ID: "k-used", Type: model.TypeAccessKey, Name: "AKIAUSED", ParentID: "u-keyuser", CreatedAt: *ago(300), AccessKey: &model.AccessKeyAttrs{Status: "Active", LastUsed: ago(3)}},
		{ID: "k-stale", Type: model.TypeAccessKey, Name: "AKIASTALE", ParentID: "u-keyuser", CreatedAt: *ago(300), AccessKey: &model.AccessKeyAttrs{Status: "Active"}},
		{ID: "k-off", Type: model.TypeAccessKey, Name: "AKIAOFF", ParentID: "u-keyuser", CreatedAt: *ago(300), AccessKey: &model.AccessKeyAttrs{Status: "Inactive"}},
		{ID: "u-new", Type: model.TypeIAMUser, Name: "new", CreatedAt: *ago(2), User: &model.UserAttrs{CredentialReport: true}},
		{ID: "u-unknown", Type: model.TypeIAMUser, Name: "unknown", CreatedAt: *ago(400), User: &model.UserAttrs{}},
		{ID: "r-old", Type: model.TypeIAMRole, Name: "old", CreatedAt: *ago(500), Role: &model.RoleAttrs{LastUsed: ago(100)}},
		{ID: "r-never", Type: model.TypeIAMRole, Name: "never", CreatedAt: *ago(120), Role: &model.RoleAttrs{}},
		{ID: "r-live", Type: model.TypeIAMRole, Name: "live", CreatedAt: *ago(500), Role: &model.RoleAttrs{LastUsed: ago(1)}},
		{ID: "r-slr", Type: model.TypeIAMRole, Name: "AWSServiceRoleForSupport", Path: "/aws-service-role/support.amazonaws.com/", CreatedAt: *ago(500), Role: &model.RoleAttrs{}},
	}}
	ids := func(us []Unused) []string {
		var out []string
		for _, u := range us {
			out = append(out, u.ID)
		}
		return out
	}
	if got := ids(InactiveUsers(g, now, 90)); len(got) != 1 || got[0] != "u-idle" {
		t.Errorf("InactiveUsers = %v, want [u-idle] (keyuser used a key 3 days ago, new is 2 days old, unknown has no report)", got)
	}
	if got := UnusedKeys(g, now, 90); len(got) != 1 || got[0].ID != "k-stale" || got[0].IdleDays != 300 || got[0].Principal.Name != "keyuser" {
		t.Errorf("UnusedKeys = %+v, want k-stale idle 300 days of keyuser", got)
	}
	if got := ids(UnusedRoles(g, now, 90)); len(got) != 2 || got[0] != "r-never" || got[1] != "r-old" {
		t.Errorf("UnusedRoles = %v, want [r-never r-old] (longest idle first, service-linked apart)", got)
	}
}
