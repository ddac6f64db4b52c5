package webui

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/warden-iam/warden/awsfake"
	"github.com/warden-iam/warden/internal/access"
	"github.com/warden-iam/warden/internal/awsapi"
	"github.com/warden-iam/warden/internal/config"
	"github.com/warden-iam/warden/internal/diff"
	"github.com/warden-iam/warden/internal/render"
	"github.com/warden-iam/warden/internal/store"
	"github.com/warden-iam/warden/internal/syncjob"
	"github.com/warden-iam/warden/internal/tokens"
)

// activityStack is the UI on a store synced twice from an awsfake
// organization with the activity awsfake generates, read from CloudTrail;
// between the syncs, changes were made through the SDK (their events are
// the actors of the diff).
type activityStack struct {
	*stack
	// changes are awsfake's events of the changes made between the
	// syncs, by event name.
	changes map[string]awsfake.Event
	// user, group and policy are what the changes were about.
	user, group, newUser, policy string
}

func newActivityStack(t *testing.T) *activityStack {
	t.Helper()
	isolateAWS(t)
	fake := awsfake.NewServer(awsfake.Options{})
	t.Cleanup(fake.Close)
	org := awsfake.OrgEstate{Accounts: 2, Seed: 7, PerAccount: awsfake.Estate{Users: 8, Groups: 2, Roles: 5, Policies: 3, Seed: 4}}.Build()
	creds := org.Install(fake)
	fake.GenerateActivity()
	t.Setenv("AWS_ACCESS_KEY_ID", creds.AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", creds.SecretAccessKey)
	conn := config.Connection{ID: "prod", Name: "Production", Region: "us-east-1", Endpoint: fake.URL(),
		Credentials:  config.Credentials{Source: config.SourceEnvironment},
		Organization: config.Organization{Enabled: true},
		Sync:         config.SyncParts{IAMRate: 100000, AccessKeys: true, CredentialReport: true},
		Activity:     config.Activity{Lookback: "90d"}}
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "warden.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	a := &activityStack{stack: &stack{st: st, fake: fake, org: org, truth: org.Management}, changes: map[string]awsfake.Event{}}
	target, err := syncjob.FromConnection(conn)
	if err != nil {
		t.Fatal(err)
	}
	res, err := syncjob.Run(ctx, st, target, syncjob.Options{})
	if err != nil {
		t.Fatalf("sync: %v", err)
	}
	a.first = res.Snapshot.ID
	// Changes between the snapshots, through the SDK.
	sess, err := awsapi.Load(ctx, awsapi.Options{Region: "us-east-1", Endpoint: fake.URL()})
	if err != nil {
		t.Fatal(err)
	}
	client := sess.IAM(a.truth.ID)
	var users, groups []string
	for n := range a.truth.IAM.Users {
		users = append(users, n)
	}
	for n := range a.truth.IAM.Groups {
		groups = append(groups, n)
	}
	sort.Strings(users)
	sort.Strings(groups)
	a.newUser, a.policy = "changed-by-someone", "arn:aws:iam::aws:policy/ReadOnlyAccess"
	// A user and a group it is not in, the policy not attached to it.
	for _, u := range users {
		tu := a.truth.IAM.Users[u]
		if contains(tu.AttachedPolicies, a.policy) {
			continue
		}
		for _, g := range groups {
			if !contains(tu.Groups, g) {
				a.user, a.group = u, g
				break
			}
		}
		if a.user != "" {
			break
		}
	}
	if a.user == "" {
		t.Fatal("ground truth: every user is in every group")
	}
	if _, err := client.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(a.newUser)}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String(a.user), PolicyArn: aws.String(a.policy)}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.AddUserToGroup(ctx, &iam.AddUserToGroupInput{UserName: aws.String(a.user), GroupName: aws.String(a.group)}); err != nil {
		t.Fatal(err)
	}
	for _, e := range fake.Events(a.truth.ID, "us-east-1") {
		switch e.Name {
		case "CreateUser", "AttachUserPolicy", "AddUserToGroup":
			a.changes[e.Name] = e
		}
	}
	if len(a.changes) != 3 {
		t.Fatalf("awsfake recorded %d of the 3 changes", len(a.changes))
	}
	if res, err = syncjob.Run(ctx, st, target, syncjob.Options{}); err != nil {
		t.Fatalf("second sync: %v", err)
	}
	a.snap = res.Snapshot.ID
	svc := tokens.New(st, tokens.Options{})
	if a.read, _, err = svc.Create(ctx, "auditor", tokens.ScopeRead, 0); err != nil {
		t.Fatal(err)
	}
	if a.ui, err = New(Config{Store: st, Tokens: svc, Connections: []config.Connection{conn}}); err != nil {
		t.Fatal(err)
	}
	a.http = httptest.NewServer(a.ui)
	t.Cleanup(a.http.Close)
	return a
}

// truthRoleUses counts, by role ARN, the role assumptions awsfake recorded
// in every account and region within 90 days.
func (a *activityStack) truthRoleUses() map[string]int {
	out := map[string]int{}
	ids := []string{a.truth.ID}
	for _, m := range a.org.Members {
		ids = append(ids, m.ID)
	}
	for _, id := range ids {
		for _, region := range a.fake.EventRegions(id) {
			for _, e := range a.fake.Events(id, region) {
				if strings.HasPrefix(e.Name, "AssumeRole") && e.Request["roleArn"] != "" && time.Since(e.Time) < 90*24*time.Hour {
					out[e.Request["roleArn"]]++
				}
			}
		}
	}
	return out
}

// wantActivity is `warden show activity`'s report for the stack's latest
// snapshot, computed as the CLI computes it.
func (a *activityStack) wantActivity(t *testing.T, account string, age time.Duration) *access.ActivityReport {
	t.Helper()
	ctx := context.Background()
	g, err := a.st.Subgraph(ctx, a.snap, access.ActivityPart, "")
	if err != nil {
		t.Fatal(err)
	}
	from := time.Now().Add(-age)
	events, _, err := access.StoredActivity(ctx, a.st, "prod", from)
	if err != nil {
		t.Fatal(err)
	}
	return access.Activity(g, events, account, from)
}

func TestActivityPage(t *testing.T) {
	a := newActivityStack(t)
	c := signedIn(t, a.stack)
	for _, b := range []struct{ query, problem string }{
		{"since=soon", `since "soon" is not an age`},
		{"since=0d", `since "0d" is not an age`},
		{"account=1234", `account "1234" is not an account id`},
		{"page=x", `page "x" is not a page number`},
	} {
		code, body, _ := get(t, c, a.http.URL+"/activity?c=prod&"+b.query)
		if code != http.StatusBadRequest || !strings.Contains(body, htmlEscape(b.problem)) {
			t.Errorf("/activity?%s: %d, want 400 with %q", b.query, code, b.problem)
		}
	}
	for _, account := range []string{"", a.truth.ID} {
		want := a.wantActivity(t, account, 90*24*time.Hour)
		tables := render.ActivityTables(want)
		code, body, _ := get(t, c, a.http.URL+"/activity?c=prod&since=90d&account="+account)
		if code != 200 {
			t.Fatalf("/activity: %d\n%s", code, body)
		}
		if strings.Contains(body, `id="not-read"`) {
			t.Error("the page says CloudTrail was not read")
		}
		got := htmlTables(body, "activity")
		if len(got) != 1 || len(got[0]) != len(tables[0].Rows) {
			t.Fatalf("account %q: %d principal rows, want %d", account, len(got), len(tables[0].Rows))
		}
		for i, row := range tables[0].Rows {
			if strings.Join(got[0][i], "|") != strings.Join(row, "|") {
				t.Errorf("principal row %d: %q, want %q", i, got[0][i], row)
			}
		}
		uses := htmlTables(body, "role-use")
		if len(tables[1].Rows) == 0 {
			t.Fatal("no role use: the edges are not tested")
		}
		if len(uses) != 1 || len(uses[0]) != len(tables[1].Rows) {
			t.Fatalf("account %q: role-use rows %d, want %d", account, len(uses), len(tables[1].Rows))
		}
		for i, row := range tables[1].Rows {
			if strings.Join(uses[0][i], "|") != strings.Join(row, "|") {
				t.Errorf("role-use row %d: %q, want %q", i, uses[0][i], row)
			}
		}
		if account != "" {
			continue
		}
		// Ground truth: every assumption awsfake recorded is counted.
		byRole := map[string]int{}
		for _, u := range want.RoleUses {
			byRole[u.Role] += u.Count
		}
		truth := a.truthRoleUses()
		if fmt.Sprint(byRole) != fmt.Sprint(truth) {
			t.Errorf("role uses by role %v, awsfake recorded %v", byRole, truth)
		}
		// The assumed roles link to their pages.
		for _, u := range want.RoleUses[:1] {
			if !strings.Contains(body, `<a href="`+htmlEscape(href("prod", "iam_role", u.Role, ""))) {
				t.Errorf("role %s is not linked", u.Role)
			}
		}
		// Downloads: the CLI's tables and document.
		_, csvBody, _ := get(t, c, a.http.URL+"/activity.csv?c=prod&since=90d")
		recs, err := csv.NewReader(strings.NewReader(csvBody)).ReadAll()
		if err != nil || len(recs) != len(tables[0].Rows)+1 {
			t.Errorf("activity.csv: %d rows (%v), want %d", len(recs), err, len(tables[0].Rows)+1)
		}
		_, csvBody, _ = get(t, c, a.http.URL+"/activity-roles.csv?c=prod&since=90d")
		if recs, err = csv.NewReader(strings.NewReader(csvBody)).ReadAll(); err != nil || len(recs) != len(tables[1].Rows)+1 {
			t.Errorf("activity-roles.csv: %d rows (%v), want %d", len(recs), err, len(tables[1].Rows)+1)
		}
		// The JSON is the CLI's document; its "since" is the page's clock.
		_, js, _ := get(t, c, a.http.URL+"/activity.json?c=prod&since=90d")
		var buf bytes.Buffer
		_ = render.JSON(&buf, want)
		var gotDoc, wantDoc map[string]any
		if err := json.Unmarshal([]byte(js), &gotDoc); err != nil {
			t.Fatal(err)
		}
		_ = json.Unmarshal(buf.Bytes(), &wantDoc)
		since, _ := time.Parse(time.RFC3339, fmt.Sprint(gotDoc["since"]))
		if d := want.Since.Sub(since); d < -time.Minute || d > time.Minute {
			t.Errorf("activity.json since %v, want about %v", gotDoc["since"], want.Since)
		}
		delete(gotDoc, "since")
		delete(wantDoc, "since")
		if fmt.Sprint(gotDoc) != fmt.Sprint(wantDoc) {
			t.Errorf("activity.json is not `warden show activity -o json`'s document")
		}
	}
	// Paging: 5 a page, every row once.
	activityPageSize = 5
	t.Cleanup(func() { activityPageSize = 200 })
	want := render.ActivityTables(a.wantActivity(t, "", 90*24*time.Hour))[0].Rows
	var shown [][]string
	for p := 1; ; p++ {
		code, body, _ := get(t, c, a.http.URL+"/activity?c=prod&since=90d&page="+strconv.Itoa(p))
		if code != 200 {
			t.Fatalf("page %d: %d", p, code)
		}
		shown = append(shown, htmlTables(body, "activity")[0]...)
		if !strings.Contains(body, `rel="next"`) {
			break
		}
	}
	if len(shown) != len(want) {
		t.Errorf("the pages show %d principals, want %d", len(shown), len(want))
	}
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;").Replace(s)
}

// TestChangesActors: the changes made through the SDK between the two
// syncs show on /changes with the actor, event and time awsfake recorded
// for each, as `warden diff` gives them (diff.AddActors).
func TestChangesActors(t *testing.T) {
	a := newActivityStack(t)
	c := signedIn(t, a.stack)
	ctx := context.Background()
	from, err := a.st.Snapshot(ctx, a.first)
	if err != nil {
		t.Fatal(err)
	}
	to, err := a.st.Snapshot(ctx, a.snap)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := diff.Compute(ctx, a.st, from, to, diff.Filter{StaleDays: staleDays})
	if err != nil {
		t.Fatal(err)
	}
	events, _, err := access.StoredActivity(ctx, a.st, "prod", from.StartedAt.Truncate(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	n := diff.AddActors(rep, events)
	if n < 3 {
		t.Fatalf("diff.AddActors named %d actors, want the 3 changes'", n)
	}
	code, body, _ := get(t, c, fmt.Sprintf("%s/changes?c=prod&from=%d&to=%d", a.http.URL, a.first, a.snap))
	if code != 200 {
		t.Fatalf("/changes: %d", code)
	}
	if !strings.Contains(body, fmt.Sprintf("CloudTrail names who made %d of these changes.", n)) {
		t.Errorf("/changes does not say %d actors", n)
	}
	// Each change made shows awsfake's event: who, which event, when.
	line := func(text string, e awsfake.Event) string {
		return htmlEscape(text) + ` <span class="actor">by <a href="` + htmlEscape(href("prod", "iam_user", e.IdentityARN, "")) + `">` + htmlEscape(e.IdentityARN) + `</a>, ` + e.Name +
			` at <time datetime="` + e.Time.UTC().Format("2006-01-02T15:04:05Z") + `">` + e.Time.UTC().Format("2006-01-02 15:04 UTC") + `</time>`
	}
	found := 0
	for _, ch := range rep.Access {
		switch {
		case ch.Change == diff.Gained && ch.Principal.Name == a.user && ch.Resource.ID == a.policy:
			found++
			if !strings.Contains(body, line(ch.Text, a.changes["AttachUserPolicy"])) {
				t.Errorf("the attachment's row lacks its actor: %s", ch.Text)
			}
		case ch.Change == diff.Gained && ch.Principal.Name == a.user && ch.Entitlement == "member" && ch.Resource.Name == a.group:
			found++
			if !strings.Contains(body, line(ch.Text, a.changes["AddUserToGroup"])) {
				t.Errorf("the membership's row lacks its actor: %s", ch.Text)
			}
		}
	}
	for _, ch := range rep.Resources {
		if ch.Change == diff.Added && ch.Resource.Name == a.newUser {
			found++
			if !strings.Contains(body, line(ch.Text, a.changes["CreateUser"])) {
				t.Errorf("the new user's row lacks its actor: %s", ch.Text)
			}
		}
	}
	if found != 3 {
		t.Errorf("the diff has %d of the 3 changes", found)
	}
	// Every actor the CLI names is on the page, and no other.
	if got := strings.Count(body, `<span class="actor">`); got != n {
		t.Errorf("/changes shows %d actors, diff.AddActors %d", got, n)
	}
}
