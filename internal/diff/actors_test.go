package diff

import (
	"slices"
	"testing"
	"time"

	"github.com/warden-iam/warden/internal/collect"
	"github.com/warden-iam/warden/internal/findings"
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

// TestDerivedActors: an administrator row takes the actor of the access
// row that gave the admin policy (else of the policy's edit), and a
// finding the actor of its user's console row or its key's row; a finding
// no row explains keeps none.
func TestDerivedActors(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	early, late := &Actor{EventID: "early", At: t0}, &Actor{EventID: "late", At: t0.Add(time.Minute)}
	alice := Ref{ID: "u-alice", Name: "alice", Type: model.TypeIAMUser}
	bob := Ref{ID: "u-bob", Name: "bob", Type: model.TypeIAMUser}
	key := Ref{ID: "k-1", Name: "AKIA1", Type: model.TypeAccessKey}
	r := &Report{
		Access: []AccessChange{
			{Change: Gained, Principal: alice, Admin: true, Actor: early},
			{Change: Gained, Principal: alice, Admin: true, Actor: late},
			{Change: Gained, Principal: alice, Admin: false, Actor: &Actor{EventID: "not-admin", At: t0.Add(time.Hour)}},
		},
		Administrators: []AdminChange{
			{Change: Added, Principal: alice},
			{Change: Added, Principal: bob, Through: []findings.PolicyPath{{PolicyID: "p-admin"}}},
		},
		Resources:     []ResourceDiff{{Change: Changed, Resource: Ref{ID: "p-admin"}, Actor: early}},
		ConsoleAndMFA: []CredentialChange{{Change: Added, Kind: KindConsole, User: bob, Actor: late}},
		AccessKeys:    []KeyChange{{Change: Deleted, Key: key, User: alice, Actor: early}},
		Findings: []FindingChange{
			{Change: New, Rule: "console_without_mfa", Subject: bob, User: bob},
			{Change: Resolved, Rule: "stale_key", Subject: key, User: alice},
			{Change: New, Rule: "stale_key", Subject: Ref{ID: "k-2"}, User: alice},
		},
	}
	if n := derivedActors(r); n != 4 {
		t.Errorf("%d rows got an actor, want 4", n)
	}
	id := func(a *Actor) string {
		if a == nil {
			return ""
		}
		return a.EventID
	}
	got := []string{id(r.Administrators[0].Actor), id(r.Administrators[1].Actor), id(r.Findings[0].Actor), id(r.Findings[1].Actor), id(r.Findings[2].Actor)}
	if want := []string{"late", "early", "late", "early", ""}; !slices.Equal(got, want) {
		t.Errorf("actors %q, want %q", got, want)
	}
}
