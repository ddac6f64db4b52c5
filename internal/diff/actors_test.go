package diff

import (
	"testing"
	"time"

	"github.com/warden-iam/warden/internal/collect"
	"github.com/warden-iam/warden/internal/model"
)

// TestAddActors: a row gets the newest write event of its name naming all
// its resources inside the window; a read, an event outside the window, of
// another name or naming only part of the row gives none.
func TestAddActors(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	from := &model.Snapshot{StartedAt: t0, FinishedAt: t0.Add(time.Minute)}
	to := &model.Snapshot{StartedAt: t0.Add(time.Hour), FinishedAt: t0.Add(time.Hour + time.Minute)}
	row := func() *Report {
		return &Report{From: from, To: to, Access: []AccessChange{{Change: Gained, Entitlement: model.EntMember,
			Principal: Ref{Name: "bob", Type: model.TypeIAMUser}, Resource: Ref{Name: "admins", Type: model.TypeIAMGroup}}}}
	}
	ev := func(id, name string, at time.Time, readOnly bool, params map[string]string) collect.ActivityEvent {
		return collect.ActivityEvent{ID: id, Name: name, Time: at, ReadOnly: readOnly, ActorARN: "arn:aws:iam::1:user/" + id, Params: params}
	}
	both := map[string]string{"userName": "bob", "groupName": "admins"}
	cases := []struct {
		name   string
		events []collect.ActivityEvent
		want   string // event ID, "" for none
	}{
		{"newest in window", []collect.ActivityEvent{ev("a", "AddUserToGroup", t0.Add(10*time.Minute), false, both),
			ev("b", "AddUserToGroup", t0.Add(20*time.Minute), false, both)}, "b"},
		{"read only", []collect.ActivityEvent{ev("a", "AddUserToGroup", t0.Add(10*time.Minute), true, both)}, ""},
		{"after the window", []collect.ActivityEvent{ev("a", "AddUserToGroup", t0.Add(2*time.Hour), false, both)}, ""},
		{"other name", []collect.ActivityEvent{ev("a", "RemoveUserFromGroup", t0.Add(10*time.Minute), false, both)}, ""},
		{"part of the row", []collect.ActivityEvent{ev("a", "AddUserToGroup", t0.Add(10*time.Minute), false, map[string]string{"userName": "bob"})}, ""},
	}
	for _, c := range cases {
		r := row()
		n := AddActors(r, c.events)
		got := ""
		if a := r.Access[0].Actor; a != nil {
			got = a.EventID
		}
		if got != c.want || (n == 1) != (c.want != "") {
			t.Errorf("%s: actor %q (%d rows), want %q", c.name, got, n, c.want)
		}
	}
}
