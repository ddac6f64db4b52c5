package scim

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/warden-iam/warden/awsfake"
)

func fakeSCIM(t *testing.T, o awsfake.Options) (*awsfake.Server, *awsfake.IdentityCenter) {
	t.Helper()
	srv := awsfake.NewServer(o)
	t.Cleanup(srv.Close)
	truth := awsfake.OrgEstate{Accounts: 1, Seed: 2, PerAccount: awsfake.Estate{Users: 1},
		IdentityCenter: &awsfake.IdentityCenterEstate{Users: 250, Groups: 3, PermissionSets: 1}}.Build()
	truth.Install(srv)
	return srv, truth.IdentityCenter
}

func TestListUsersPagesWithCursor(t *testing.T) {
	srv, ic := fakeSCIM(t, awsfake.Options{})
	c, err := New(srv.SCIMURL(), ic.SCIMToken, nil)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	err = c.ListUsers(context.Background(), "", func(u User) {
		want := ic.Users[u.ID]
		if want == nil || u.UserName != want.UserName || u.Active == nil || *u.Active != (want.Status == "ENABLED") {
			t.Errorf("user %+v does not match %+v", u, want)
		}
		seen[u.ID] = true
	})
	if err != nil || len(seen) != 250 || c.Calls() != 3 {
		t.Fatalf("listed %d users in %d calls (%v), want 250 in 3 pages of 100", len(seen), c.Calls(), err)
	}
	var one User
	for _, u := range ic.Users {
		one = User{UserName: u.UserName}
		break
	}
	var got []User
	if err := c.ListUsers(context.Background(), `userName eq "`+one.UserName+`"`, func(u User) { got = append(got, u) }); err != nil || len(got) != 1 {
		t.Errorf("filter on userName: %v, %v", got, err)
	}
	err = c.ListUsers(context.Background(), `userName co "a"`, func(User) {})
	var se *Error
	if !errors.As(err, &se) || se.Status != http.StatusBadRequest {
		t.Errorf("a filter other than eq: %v, want a 400 ValidationException", err)
	}
}

func TestWrongTokenAndThrottling(t *testing.T) {
	srv, ic := fakeSCIM(t, awsfake.Options{})
	c, _ := New(srv.SCIMURL(), "wrong-token-value-123", nil)
	err := c.ListUsers(context.Background(), "", func(User) {})
	var se *Error
	if !errors.As(err, &se) || se.Status != http.StatusUnauthorized || strings.Contains(err.Error(), "wrong-token-value") || !strings.Contains(err.Error(), "token") {
		t.Errorf("wrong token: %v, want a 401 that names the fix and not the token", err)
	}
	wrongTenant, _ := New(strings.Replace(srv.SCIMURL(), ic.SCIMTenant, "othertenant", 1), ic.SCIMToken, nil)
	if err := wrongTenant.ListUsers(context.Background(), "", func(User) {}); !errors.As(err, &se) || se.Status != http.StatusUnauthorized {
		t.Errorf("wrong tenant: %v, want 401", err)
	}

	srv.SetOptions(awsfake.Options{AccountFaults: map[string]awsfake.Faults{ic.OwnerAccountID: {ThrottleEvery: 2}}})
	ok, _ := New(srv.SCIMURL(), ic.SCIMToken, nil)
	ok.Backoff = time.Millisecond
	n := 0
	if err := ok.ListUsers(context.Background(), "", func(User) { n++ }); err != nil || n != 250 {
		t.Errorf("under throttling: %d users, %v; want all 250 after retries", n, err)
	}
	if ok.Calls() <= 3 {
		t.Errorf("calls = %d: the 429s were not retried", ok.Calls())
	}
}

func TestNewRefusesBadInput(t *testing.T) {
	if _, err := New("not a url", "t", nil); err == nil {
		t.Error("a bad endpoint was accepted")
	}
	if _, err := New("https://scim.us-east-1.amazonaws.com/x/scim/v2", "", nil); err == nil {
		t.Error("an empty token was accepted")
	}
}

func TestWriteOperations(t *testing.T) {
	srv, ic := fakeSCIM(t, awsfake.Options{})
	c, _ := New(srv.SCIMURL(), ic.SCIMToken, nil)
	ctx := context.Background()
	on := true
	u, err := c.CreateUser(ctx, User{UserName: "new@example.com", ExternalID: "x1", DisplayName: "New", Active: &on,
		Name: &Name{GivenName: "New", FamilyName: "Person"}, Emails: []Email{{Value: "new@example.com", Primary: true}}})
	if err != nil || u.ID == "" {
		t.Fatalf("CreateUser: %+v, %v", u, err)
	}
	if _, err := c.CreateUser(ctx, User{UserName: "NEW@example.com", DisplayName: "x", Name: &Name{GivenName: "a", FamilyName: "b"}}); err == nil {
		t.Error("a duplicate userName was accepted")
	}
	r, err := c.ReplaceUser(ctx, u.ID, User{UserName: "new@example.com", ExternalID: "x1", DisplayName: "Renamed", Name: &Name{GivenName: "New", FamilyName: "Person"}})
	if err != nil || r.DisplayName != "Renamed" {
		t.Fatalf("ReplaceUser: %+v, %v", r, err)
	}
	g, err := c.CreateGroup(ctx, Group{DisplayName: "writers"})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.RenameGroup(ctx, g.ID, "editors"); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for id := range ic.Users {
		ids = append(ids, id)
	}
	ids = append(ids, u.ID)
	if err := c.ChangeMembers(ctx, g.ID, ids, nil); err != nil {
		t.Fatalf("adding %d members in batches: %v", len(ids), err)
	}
	members := 0
	c.ListUsers(ctx, `groups.value eq "`+g.ID+`"`, func(User) { members++ })
	if members != len(ids) {
		t.Errorf("%d members, want %d", members, len(ids))
	}
	if got := srv.IdentityCenter().Groups[g.ID]; got.DisplayName != "editors" {
		t.Errorf("group is %q, want the new name", got.DisplayName)
	}
	if err := c.DeleteUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteGroup(ctx, g.ID); err != nil {
		t.Fatal(err)
	}
	if n := srv.Calls()["scim:PatchGroup"]; n != 1+3 {
		t.Errorf("PATCH calls on the group = %d, want the rename and 3 batches of at most 100 for %d members", n, len(ids))
	}
}
