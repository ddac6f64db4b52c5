package webui

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/warden-iam/warden/internal/collect"
	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/render"
	"github.com/warden-iam/warden/internal/store"
)

// TestBrowserActivity drives /activity and the actors of /changes in
// Chromium: the account filter, every row against `warden show activity`'s
// tables (access.Activity), the links to principal pages, hostile values
// CloudTrail recorded shown as text, the actors of the changes made
// between the syncs as awsfake recorded them, and a phone width.
func TestBrowserActivity(t *testing.T) {
	ctx := browser(t)
	a := newActivityStack(t)
	dir := shots(t)
	bg := context.Background()

	// CloudTrail recorded hostile values: a sign-in of a real user from a
	// "source address" that is script, and an assumption of a real role by
	// a principal whose ARN is.
	users, err := a.st.Resources(bg, a.snap, store.ResourceFilter{Type: model.TypeIAMUser, AccountID: a.truth.ID})
	if err != nil || len(users) == 0 {
		t.Fatalf("users: %v", err)
	}
	roles, err := a.st.Resources(bg, a.snap, store.ResourceFilter{Type: model.TypeIAMRole, AccountID: a.truth.ID})
	if err != nil || len(roles) == 0 {
		t.Fatalf("roles: %v", err)
	}
	victim, role := users[0], roles[0]
	at := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	hostileARN := "arn:aws:iam::999999999999:user/" + xssName
	evs := []collect.ActivityEvent{
		{ID: "hostile-1", Account: a.truth.ID, Region: "us-east-1", Time: at, Name: "ConsoleLogin", Source: "signin.amazonaws.com",
			ActorType: "IAMUser", ActorARN: victim.ARN, ActorAccount: a.truth.ID, Username: victim.Name, ReadOnly: true, SourceIP: xssName},
		{ID: "hostile-2", Account: a.truth.ID, Region: "us-east-1", Time: at, Name: "AssumeRole", Source: "sts.amazonaws.com",
			ActorType: "IAMUser", ActorARN: hostileARN, ActorAccount: "999999999999", RoleARN: role.ARN, ReadOnly: true},
	}
	var recs []store.ActivityRecord
	for _, e := range evs {
		data, _ := json.Marshal(e)
		recs = append(recs, store.ActivityRecord{EventID: e.ID, Account: e.Account, Region: e.Region, At: e.Time, Name: e.Name, ActorARN: e.ActorARN, Data: data})
	}
	if _, err := a.st.SaveActivity(bg, "prod", recs, nil); err != nil {
		t.Fatal(err)
	}

	browserSignIn(t, ctx, a.http.URL, a.read)
	if nav := texts(t, ctx, `nav[aria-label="main"] a`); !contains(nav, "Activity") {
		t.Errorf("the navigation %q lacks Activity", nav)
	}
	open(t, ctx, a.http.URL, "/activity")
	run(t, ctx, "account", chromedp.SetValue("#account", a.truth.ID))
	run(t, ctx, "filter", chromedp.Submit("#since"))
	run(t, ctx, "filtered", chromedp.WaitVisible("#activity-count"))
	if loc := run(t, ctx, "location", chromedp.Location()); !strings.Contains(loc, "account="+a.truth.ID) {
		t.Errorf("the filter is not in the URL: %s", loc)
	}
	want := a.wantActivity(t, a.truth.ID, 90*24*time.Hour)
	tables := render.ActivityTables(want)
	var wantRows []string
	for _, r := range tables[0].Rows {
		wantRows = append(wantRows, strings.Join(r, "|"))
	}
	if got := rows(t, ctx, "table.activity"); strings.Join(got, "\n") != strings.Join(wantRows, "\n") {
		t.Errorf("last activity rows\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(wantRows, "\n"))
	}
	if n := texts(t, ctx, "#activity-count .total"); len(n) != 1 || n[0] != strconv.Itoa(len(want.Principals)) {
		t.Errorf("count %q, want %d", n, len(want.Principals))
	}
	wantRows = nil
	for _, r := range tables[1].Rows {
		wantRows = append(wantRows, strings.Join(r, "|"))
	}
	if got := rows(t, ctx, "table.role-use"); strings.Join(got, "\n") != strings.Join(wantRows, "\n") {
		t.Errorf("role-use rows\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(wantRows, "\n"))
	}
	main := run(t, ctx, "main", chromedp.Evaluate[string](`document.querySelector("main").textContent`))
	if !strings.Contains(main, "from "+xssName) || !strings.Contains(main, hostileARN) {
		t.Errorf("the hostile source address and ARN are not shown as text")
	}
	noScriptRan(t, ctx, "/activity")
	shot(t, ctx, dir, "activity")
	// The victim's row links to its page.
	run(t, ctx, "principal link", chromedp.Click(`table.activity a[data-id="`+victim.ID+`"]`))
	run(t, ctx, "principal page", chromedp.WaitVisible("#activity"))
	if h := run(t, ctx, "heading", chromedp.Text("h1")); !strings.Contains(h, victim.Name) {
		t.Errorf("the activity row led to %q, want %s", h, victim.Name)
	}

	// The changes between the syncs, each with awsfake's actor.
	open(t, ctx, a.http.URL, fmt.Sprintf("/changes?c=prod&from=%d&to=%d", a.first, a.snap))
	actors := texts(t, ctx, "span.actor")
	for _, name := range []string{"CreateUser", "AttachUserPolicy", "AddUserToGroup"} {
		e := a.changes[name]
		w := "by " + e.IdentityARN + ", " + name + " at " + e.Time.UTC().Format("2006-01-02 15:04 UTC")
		found := false
		for _, x := range actors {
			found = found || strings.HasPrefix(x, w)
		}
		if !found {
			t.Errorf("/changes lacks the actor %q (has %q)", w, actors)
		}
	}
	noScriptRan(t, ctx, "/changes")
	shot(t, ctx, dir, "changes-actors")

	// A phone width: /activity does not scroll sideways.
	run(t, ctx, "phone", chromedp.EmulateViewport(375, 800))
	open(t, ctx, a.http.URL, "/activity?c=prod")
	if over := run(t, ctx, "overflow", chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`)); over {
		t.Error("/activity scrolls sideways at 375 px")
	}
	shot(t, ctx, dir, "activity-phone")
}
