package scim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
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

func TestListPagesByStartIndexWhereTheServerOffersNoCursor(t *testing.T) {
	srv, ic := fakeSCIM(t, awsfake.Options{SCIM: awsfake.SCIMOptions{IndexPaging: true, PageSize: 40}})
	c, _ := New(srv.SCIMURL(), ic.SCIMToken, nil)
	seen := map[string]bool{}
	if err := c.ListUsers(context.Background(), "", func(u User) { seen[u.ID] = true }); err != nil || len(seen) != 250 || c.Calls() != 7 {
		t.Fatalf("listed %d users in %d calls (%v), want 250 in 7 pages of 40", len(seen), c.Calls(), err)
	}
	groups := 0
	if err := c.ListGroups(context.Background(), "", func(Group) { groups++ }); err != nil || groups != 3 {
		t.Errorf("listed %d groups (%v), want 3", groups, err)
	}
}

// pageServer answers every listing with the pages page(n) gives for the
// nth request.
func pageServer(t *testing.T, page func(n int, q map[string][]string) string) *Client {
	t.Helper()
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n++
		w.Header().Set("Content-Type", "application/scim+json")
		io.WriteString(w, page(n, r.URL.Query()))
	}))
	t.Cleanup(srv.Close)
	c, err := New(srv.URL+"/t/scim/v2", "token", nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestAListingThatMayBeIncompleteIsAnError(t *testing.T) {
	users := func(from, n int) string {
		var b strings.Builder
		for i := from; i < from+n; i++ {
			if i > from {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, `{"id":"u%d","userName":"u%d"}`, i, i)
		}
		return b.String()
	}
	for name, page := range map[string]func(int, map[string][]string) string{
		// A server that ignores startIndex answers the first page again.
		"ignores startIndex": func(int, map[string][]string) string {
			return `{"totalResults":250,"startIndex":1,"itemsPerPage":100,"Resources":[` + users(0, 100) + `]}`
		},
		"empty page short of the total": func(n int, _ map[string][]string) string {
			if n == 1 {
				return `{"totalResults":250,"startIndex":1,"itemsPerPage":100,"Resources":[` + users(0, 100) + `]}`
			}
			return `{"totalResults":250,"startIndex":101,"itemsPerPage":0,"Resources":[]}`
		},
		"repeats its cursor": func(n int, _ map[string][]string) string {
			return `{"itemsPerPage":100,"nextCursor":"same","Resources":[` + users(0, 100) + `]}`
		},
		"last cursor page short of the total": func(n int, _ map[string][]string) string {
			if n == 1 {
				return `{"totalResults":250,"itemsPerPage":100,"nextCursor":"c2","Resources":[` + users(0, 100) + `]}`
			}
			return `{"totalResults":250,"itemsPerPage":100,"Resources":[` + users(100, 100) + `]}`
		},
	} {
		c := pageServer(t, page)
		n := 0
		err := c.ListUsers(context.Background(), "", func(User) { n++ })
		var inc *IncompleteError
		if !errors.As(err, &inc) || !strings.Contains(err.Error(), "incomplete") {
			t.Errorf("%s: %v after %d users, want an IncompleteError", name, err, n)
		}
	}
	// A server without cursors paged by startIndex to the end is whole.
	c := pageServer(t, func(_ int, q map[string][]string) string {
		start := 1
		if v := q["startIndex"]; len(v) == 1 {
			fmt.Sscan(v[0], &start)
		}
		return fmt.Sprintf(`{"totalResults":250,"startIndex":%d,"itemsPerPage":100,"Resources":[%s]}`, start, users(start-1, min(100, 251-start)))
	})
	n := 0
	if err := c.ListUsers(context.Background(), "", func(User) { n++ }); err != nil || n != 250 {
		t.Errorf("index paging: %d users, %v", n, err)
	}
}

// TestRetryAfterIsAFloorForEveryRequest: after a 429 with Retry-After: 1,
// no request of the client (the throttled one's retry or another
// worker's) reaches the server before that second has passed.
func TestRetryAfterIsAFloorForEveryRequest(t *testing.T) {
	var mu sync.Mutex
	var throttledAt time.Time
	var early []time.Duration
	answered := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		w.Header().Set("Content-Type", "application/scim+json")
		if throttledAt.IsZero() {
			throttledAt = time.Now()
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			close(answered)
			return
		}
		if d := time.Since(throttledAt); d < time.Second {
			early = append(early, d)
		}
		io.WriteString(w, `{"itemsPerPage":0,"Resources":[]}`)
	}))
	defer srv.Close()
	c, _ := New(srv.URL+"/t/scim/v2", "token", nil)
	c.SetRate(1e6)
	c.Backoff = time.Millisecond
	var wg sync.WaitGroup
	errs := make(chan error, 5)
	wg.Add(1)
	go func() { defer wg.Done(); errs <- c.ListUsers(context.Background(), "", func(User) {}) }()
	<-answered
	for end := time.Now().Add(500 * time.Millisecond); c.pauseUntil.Load() == 0 && time.Now().Before(end); {
		time.Sleep(time.Millisecond) // until the client has read the 429
	}
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); errs <- c.ListUsers(context.Background(), "", func(User) {}) }()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if len(early) > 0 {
		t.Errorf("%d requests came before Retry-After had passed: %v", len(early), early)
	}
	if c.Calls() != 6 {
		t.Errorf("%d calls, want the throttled one, its retry and 4 others", c.Calls())
	}
}

func TestRetryAfterForms(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for v, want := range map[string]time.Duration{"3": 3 * time.Second, "": 0, "x": 0, "-1": 0,
		now.Add(90 * time.Second).Format(http.TimeFormat): 90 * time.Second, now.Add(-time.Minute).Format(http.TimeFormat): 0} {
		if got := retryAfter(v, now); got != want {
			t.Errorf("Retry-After %q = %v, want %v", v, got, want)
		}
	}
}
