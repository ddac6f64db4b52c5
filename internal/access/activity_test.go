package access

import (
	"reflect"
	"testing"
	"time"

	"github.com/warden-iam/warden/internal/collect"
)

// TestLastActivitiesAndRoleUses: a role session's calls count for its role,
// an assumption counts for the role assumed, and role-use edges count every
// assumption with its first and last time.
func TestLastActivitiesAndRoleUses(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	admin := "arn:aws:iam::111111111111:role/admin"
	bob := "arn:aws:iam::222222222222:user/bob"
	evs := []collect.ActivityEvent{
		{ID: "1", Account: "222222222222", Region: "us-east-1", Time: t0, Name: "ConsoleLogin", ActorType: "IAMUser", ActorARN: bob, ActorAccount: "222222222222"},
		{ID: "2", Account: "111111111111", Region: "us-east-1", Time: t0.Add(time.Minute), Name: "AssumeRole", ActorType: "IAMUser", ActorARN: bob, ActorAccount: "222222222222", RoleARN: admin},
		{ID: "3", Account: "111111111111", Region: "us-east-1", Time: t0.Add(time.Hour), Name: "AssumeRole", ActorType: "IAMUser", ActorARN: bob, ActorAccount: "222222222222", RoleARN: admin},
		{ID: "4", Account: "111111111111", Region: "us-east-1", Time: t0.Add(2 * time.Hour), Name: "CreateUser", ActorType: "AssumedRole",
			ActorARN: "arn:aws:sts::111111111111:assumed-role/admin/bob", ActorAccount: "111111111111"},
	}
	got := LastActivities(evs)
	want := []LastActivity{
		{Principal: admin, At: t0.Add(2 * time.Hour), Event: "CreateUser", Account: "111111111111", Region: "us-east-1", Source: "cloudtrail"},
		{Principal: bob, At: t0.Add(time.Hour), Event: "AssumeRole", Account: "111111111111", Region: "us-east-1", Source: "cloudtrail"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("LastActivities =\n%+v\nwant\n%+v", got, want)
	}
	uses := RoleUses(evs)
	wantUses := []RoleUse{{Principal: bob, Role: admin, Count: 2, First: t0.Add(time.Minute), Last: t0.Add(time.Hour)}}
	if !reflect.DeepEqual(uses, wantUses) {
		t.Errorf("RoleUses = %+v, want %+v", uses, wantUses)
	}
}
