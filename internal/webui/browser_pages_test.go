package webui

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/warden-iam/warden/awsfake"
	"github.com/warden-iam/warden/internal/access"
	"github.com/warden-iam/warden/internal/collect"
	"github.com/warden-iam/warden/internal/diff/difftest"
	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/store"
	"github.com/warden-iam/warden/internal/tokens"
)

// texts returns the text of every element matching a CSS selector.
func texts(t *testing.T, ctx context.Context, sel string) []string {
	t.Helper()
	b, _ := json.Marshal(sel)
	return run(t, ctx, "texts "+sel, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll(`+string(b)+`)).map(e => e.textContent.trim())`))
}

// rows returns a table's body rows, each cell's text joined by "|".
func rows(t *testing.T, ctx context.Context, table string) []string {
	t.Helper()
	b, _ := json.Marshal(table + " tbody tr")
	return run(t, ctx, "rows "+table, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll(`+string(b)+`)).map(r => Array.from(r.cells).map(c => c.textContent.trim()).join("|"))`))
}

// open navigates to path and waits for the page's heading.
func open(t *testing.T, ctx context.Context, base, path string) {
	t.Helper()
	run(t, ctx, "open "+path, chromedp.Navigate(base+path))
	run(t, ctx, "heading of "+path, chromedp.WaitVisible(chromedp.CSS("h1")))
}

func sameSet(t *testing.T, what string, got, want []string) {
	t.Helper()
	g, w := slices.Clone(got), slices.Clone(want)
	sort.Strings(g)
	sort.Strings(w)
	if !slices.Equal(g, w) {
		t.Errorf("%s:\n got  %q\n want %q", what, g, w)
	}
}

// ouChain returns the IDs and names from the organization's root down to
// the account, by awsfake's organization.
func ouChain(org *awsfake.Organization, account string) (ids, names []string) {
	at := org.Accounts[account].ParentID
	for at != "" {
		if at == org.Root.ID {
			ids, names = append([]string{at}, ids...), append([]string{org.Root.Name}, names...)
			break
		}
		ou := org.OUs[at]
		ids, names = append([]string{at}, ids...), append([]string{ou.Name}, names...)
		at = ou.ParentID
	}
	return append(ids, account), names
}

// statementCount counts a policy document's statements, read on its own.
func statementCount(t *testing.T, doc string) int {
	var d struct{ Statement json.RawMessage }
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		t.Fatal(err)
	}
	if strings.HasPrefix(strings.TrimSpace(string(d.Statement)), "[") {
		var l []json.RawMessage
		if err := json.Unmarshal(d.Statement, &l); err != nil {
			t.Fatal(err)
		}
		return len(l)
	}
	return 1
}

// TestBrowserPages drives the account, policy and permission set pages,
// the links to them, the overview's findings by rule and charts, and the
// principal page's history and activity, against awsfake's ground truth.
func TestBrowserPages(t *testing.T) {
	ctx := browser(t)
	s := newStack(t, small)
	dir := shots(t)
	base := s.http.URL
	browserSignIn(t, ctx, base, s.read)
	org := s.org.Organization

	// The overview: findings by rule, each linking to the findings of
	// that rule; charts with a text alternative over both snapshots.
	run(t, ctx, "rules", chromedp.WaitVisible("#conn-prod table.rules"))
	ruleRows := rows(t, ctx, "#conn-prod table.rules")
	if len(ruleRows) != len(ruleNames) {
		t.Fatalf("findings by rule: %q", ruleRows)
	}
	counts := map[string]string{}
	for _, r := range ruleRows {
		k, v, _ := strings.Cut(r, "|")
		counts[k] = v
	}
	for _, id := range []string{"principals", "administrators", "stale-keys", "outside-trust"} {
		fig := "#chart-prod-" + id
		if d := texts(t, ctx, fig+" svg desc"); len(d) != 1 || d[0] == "" {
			t.Errorf("chart %s has no description: %q", id, d)
		}
		if tr := rows(t, ctx, fig+" table.chart-data"); len(tr) != 2 {
			t.Errorf("chart %s lists %d snapshots, want 2: %q", id, len(tr), tr)
		}
	}
	// Principals of the ground truth (as installed, before the sync): IAM
	// users and roles of every account and Identity Center users; the
	// second snapshot has the user made between the syncs.
	principals := len(s.org.IdentityCenter.Users)
	for _, a := range s.org.Accounts() {
		principals += len(a.IAM.Users) + len(a.IAM.Roles)
	}
	pr := rows(t, ctx, "#chart-prod-principals table.chart-data")
	if len(pr) == 2 && (!strings.HasSuffix(pr[0], fmt.Sprintf("|%d", principals)) || !strings.HasSuffix(pr[1], fmt.Sprintf("|%d", principals+1))) {
		t.Errorf("principals over the snapshots %q, want %d then %d", pr, principals, principals+1)
	}
	adminRows := rows(t, ctx, "#chart-prod-administrators table.chart-data")
	shot(t, ctx, dir, "overview-charts")
	run(t, ctx, "rule link", chromedp.Click(`#conn-prod table.rules tr[data-rule="admins"] a`))
	run(t, ctx, "findings of a rule", chromedp.WaitVisible("table.findings"))
	if loc := run(t, ctx, "location", chromedp.Location()); !strings.Contains(loc, "rule=admins") {
		t.Errorf("the rule link goes to %s", loc)
	}
	fr := rows(t, ctx, "table.findings")
	for _, r := range fr {
		if strings.Split(r, "|")[1] != "admins" {
			t.Errorf("findings filtered to admins shows %q", r)
		}
	}
	if fmt.Sprint(len(fr)) != counts["admins"] {
		t.Errorf("the overview counts %s admins, the findings page lists %d", counts["admins"], len(fr))
	}
	if len(adminRows) == 2 {
		n := 0
		fmt.Sscan(counts["sso-admins"], &n)
		if want := fmt.Sprintf("|%d", len(fr)+n); !strings.HasSuffix(adminRows[1], want) {
			t.Errorf("administrators chart %q, want last %s", adminRows, want)
		}
	}
	// A findings row links to its account's page.
	if len(fr) > 0 {
		run(t, ctx, "finding's account", chromedp.Click(`table.findings tbody tr td:nth-child(4) a`))
		run(t, ctx, "account page", chromedp.WaitVisible("#scps"))
		if loc := run(t, ctx, "location", chromedp.Location()); !strings.Contains(loc, "/account?") {
			t.Errorf("a findings row's account links to %s", loc)
		}
	}

	// The account page of a member: OU path, SCPs by level, IAM
	// principals, Identity Center assignments.
	m := s.org.Members[0]
	open(t, ctx, base, "/account?c=prod&id="+m.ID)
	chain, names := ouChain(org, m.ID)
	if got := texts(t, ctx, "td.oupath"); len(got) != 1 || got[0] != strings.Join(names, "/") {
		t.Errorf("OU path %q, want %q", got, strings.Join(names, "/"))
	}
	levels := rows(t, ctx, "table.scps")
	if len(levels) != len(chain) {
		t.Errorf("SCP levels %q, want %d (%v)", levels, len(chain), chain)
	}
	for i, id := range chain {
		if i >= len(levels) {
			break
		}
		var want []string
		for _, p := range org.Policies {
			if p.Type == "SERVICE_CONTROL_POLICY" && slices.Contains(p.Targets, id) {
				want = append(want, p.Name)
			}
		}
		got := texts(t, ctx, fmt.Sprintf("table.scps tbody tr:nth-child(%d) td:nth-child(3) a", i+1))
		sameSet(t, "SCPs at "+id, got, want)
	}
	var users, roles []string
	for n := range m.IAM.Users {
		users = append(users, n)
	}
	for n := range m.IAM.Roles {
		roles = append(roles, n)
	}
	sameSet(t, "users of "+m.ID, texts(t, ctx, "ul.users a"), users)
	sameSet(t, "roles of "+m.ID, texts(t, ctx, "ul.roles a"), roles)
	ic := s.org.IdentityCenter
	var wantAs []string
	for _, a := range ic.Assignments {
		if a.AccountID != m.ID {
			continue
		}
		name := ""
		if a.PrincipalType == "USER" {
			name = ic.Users[a.PrincipalID].UserName + "|the user"
		} else {
			g := ic.Groups[a.PrincipalID]
			name = fmt.Sprintf("%s|%d member(s)", g.DisplayName, len(g.Members))
		}
		wantAs = append(wantAs, ic.PermissionSets[a.PermissionSetARN].Name+"|"+name)
	}
	var gotAs []string
	for _, r := range rows(t, ctx, "table.assignments") {
		c := strings.Split(r, "|")
		gotAs = append(gotAs, c[0]+"|"+c[1]+"|"+c[3])
	}
	sameSet(t, "assignments into "+m.ID, gotAs, wantAs)
	if len(wantAs) == 0 {
		t.Errorf("the ground truth has no assignment into %s: the test checks nothing", m.ID)
	}
	shot(t, ctx, dir, "account")

	// The policy page of the customer managed policy with the most
	// holders: its statements, its JSON and who holds it.
	mg := s.truth
	var pol *awsfake.ManagedPolicy
	holders := map[string][]string{}
	for arn, p := range mg.IAM.Policies {
		var hs []string
		for _, u := range mg.IAM.Users {
			if slices.Contains(u.AttachedPolicies, arn) {
				hs = append(hs, u.Name+"|attached directly|")
			}
		}
		for _, r := range mg.IAM.Roles {
			if slices.Contains(r.AttachedPolicies, arn) {
				hs = append(hs, r.Name+"|attached directly|")
			}
		}
		for _, g := range mg.IAM.Groups {
			if slices.Contains(g.AttachedPolicies, arn) {
				hs = append(hs, g.Name+"|attached directly|")
				for _, u := range g.Members {
					hs = append(hs, u+"|through a group|"+g.Name)
				}
			}
		}
		holders[arn] = hs
		if pol == nil || len(hs) > len(holders[pol.ARN]) || len(hs) == len(holders[pol.ARN]) && arn < pol.ARN {
			pol = p
		}
	}
	if pol == nil || len(holders[pol.ARN]) == 0 {
		t.Fatal("the ground truth has no customer managed policy with a holder")
	}
	open(t, ctx, base, "/policy?c=prod&arn="+url.QueryEscape(pol.ARN))
	if h := run(t, ctx, "h1", chromedp.Text(chromedp.CSS("h1"))); !strings.HasPrefix(h, pol.Name) {
		t.Errorf("policy page heading %q", h)
	}
	doc := pol.Versions[len(pol.Versions)-1].Document
	for _, v := range pol.Versions {
		if v.ID == pol.DefaultVersionID {
			doc = v.Document
		}
	}
	if n := len(rows(t, ctx, "table.statements")); n != statementCount(t, doc) {
		t.Errorf("%d statement rows, the document has %d", n, statementCount(t, doc))
	}
	var gotH []string
	for _, r := range rows(t, ctx, "table.holders") {
		c := strings.Split(r, "|")
		via := strings.TrimPrefix(c[4], "group ")
		if via == "—" {
			via = ""
		}
		gotH = append(gotH, c[0]+"|"+c[3]+"|"+via)
	}
	sameSet(t, "holders of "+pol.Name, gotH, holders[pol.ARN])
	js := run(t, ctx, "json", chromedp.Evaluate[string](`document.querySelector("details.json pre").textContent`))
	var a, b any
	if json.Unmarshal([]byte(js), &a) != nil || json.Unmarshal([]byte(doc), &b) != nil || fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("the JSON shown is not the document:\n%s\nwant\n%s", js, doc)
	}
	shot(t, ctx, dir, "policy")
	// A holder links to its principal page.
	run(t, ctx, "holder link", chromedp.Click("table.holders tbody tr:first-child td:first-child a"))
	run(t, ctx, "holder page", chromedp.WaitVisible("svg.paths"))

	// The permission set page: who is assigned it, where, and how.
	var ps *awsfake.PermissionSet
	for _, a := range ic.Assignments {
		if p := ic.PermissionSets[a.PermissionSetARN]; ps == nil || p.ARN < ps.ARN {
			ps = p
		}
	}
	var wantPS []string
	for _, a := range ic.Assignments {
		if a.PermissionSetARN != ps.ARN {
			continue
		}
		if a.PrincipalType == "USER" {
			wantPS = append(wantPS, ic.Users[a.PrincipalID].UserName+"|"+a.AccountID+"|assigned directly|")
			continue
		}
		g := ic.Groups[a.PrincipalID]
		wantPS = append(wantPS, g.DisplayName+"|"+a.AccountID+"|assigned directly|")
		for _, uid := range g.Members {
			wantPS = append(wantPS, ic.Users[uid].UserName+"|"+a.AccountID+"|through a group|"+g.DisplayName)
		}
	}
	open(t, ctx, base, "/permission-set?c=prod&arn="+url.QueryEscape(ps.ARN))
	var gotPS []string
	for _, r := range rows(t, ctx, "table.holders") {
		c := strings.Split(r, "|")
		via := strings.TrimPrefix(c[4], "group ")
		if via == "—" {
			via = ""
		}
		gotPS = append(gotPS, c[0]+"|"+c[2]+"|"+c[3]+"|"+via)
	}
	sameSet(t, "holders of permission set "+ps.Name, gotPS, wantPS)
	var managed []string
	for _, arn := range ps.ManagedPolicies {
		managed = append(managed, arn[strings.LastIndexByte(arn, '/')+1:])
	}
	sameSet(t, "managed policies of "+ps.Name, texts(t, ctx, "ul.managed li"), managed)
	shot(t, ctx, dir, "permission-set")

	// The principal page links its policies (table and diagram) to their
	// pages; a search result for a policy goes to its page.
	var holder *awsfake.User
	for _, u := range mg.IAM.Users {
		if len(u.Groups) > 0 && (holder == nil || u.Name < holder.Name) {
			holder = u
		}
	}
	open(t, ctx, base, "/principal?c=prod&id="+url.QueryEscape(holder.ARN))
	hrefs := run(t, ctx, "policy links", chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("table.policies a")).map(a => a.getAttribute("href"))`))
	for _, h := range hrefs {
		if !strings.HasPrefix(h, "/policy?") && !strings.HasPrefix(h, "/principal?") {
			t.Errorf("a policies table link goes to %s", h)
		}
	}
	if t.Failed() {
		return
	}
	for _, g := range holder.Groups {
		sel := `svg.paths a[href*="` + url.QueryEscape(mg.IAM.Groups[g].ARN) + `"] g.node.group`
		run(t, ctx, "group node link "+g, chromedp.WaitVisible(sel))
	}
	run(t, ctx, "policy node", chromedp.Click(`svg.paths a g.node.policy`))
	run(t, ctx, "policy page from the diagram", chromedp.WaitVisible("table.statements"))
	if loc := run(t, ctx, "location", chromedp.Location()); !strings.Contains(loc, "/policy?") {
		t.Errorf("a diagram policy node goes to %s", loc)
	}
	run(t, ctx, "search page", chromedp.Navigate(base+"/search"))
	run(t, ctx, "type", chromedp.SendKeys("#q", pol.Name))
	sel := `#results a[data-id="` + pol.ARN + `"]`
	run(t, ctx, "policy result", chromedp.WaitVisible(sel))
	if h := run(t, ctx, "result href", chromedp.AttributeValue(sel, "href")).Value; !strings.HasPrefix(h, "/policy?") {
		t.Errorf("a policy's search result goes to %s", h)
	}

	// History: the user made between the snapshots has an entry linking
	// to the changes of that pair; activity not read shows "not read".
	var between string
	for _, u := range mustResources(t, s.st, s.snap, model.TypeIAMUser) {
		if u.Name == "between-snapshots" {
			between = u.ID
		}
	}
	open(t, ctx, base, "/principal?c=prod&id="+url.QueryEscape(between))
	entries := run(t, ctx, "history links", chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("#history ol.history > li > a")).map(a => a.getAttribute("href"))`))
	if want := fmt.Sprintf("/changes?c=prod&from=%d&to=%d", s.first, s.snap); len(entries) != 1 || entries[0] != want {
		t.Errorf("history of between-snapshots %q, want one entry %s", entries, want)
	}
	if txt := texts(t, ctx, "#history"); len(txt) != 1 || !strings.Contains(txt[0], "between-snapshots") {
		t.Errorf("history text %q", txt)
	}
	if txt := texts(t, ctx, "#activity .activity-none"); len(txt) != 1 || !strings.HasPrefix(txt[0], "Not read") {
		t.Errorf("activity before any CloudTrail read: %q", txt)
	}
	shot(t, ctx, dir, "principal-history")

	// A phone width: the new pages do not scroll sideways (wide tables
	// scroll in their own box).
	run(t, ctx, "phone", chromedp.EmulateViewport(375, 800))
	for _, p := range []string{"/", "/account?c=prod&id=" + m.ID, "/policy?c=prod&arn=" + url.QueryEscape(pol.ARN), "/permission-set?c=prod&arn=" + url.QueryEscape(ps.ARN)} {
		open(t, ctx, base, p)
		if over := run(t, ctx, "overflow", chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`)); over {
			wide := run(t, ctx, "wide elements", chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("main *")).filter(e => e.getBoundingClientRect().right > window.innerWidth && !e.closest(".wide, .diagram, pre")).slice(0, 5).map(e => e.tagName + "." + e.className + ": " + e.textContent.slice(0, 60))`))
			t.Errorf("%s scrolls sideways at 375 px: %q", p, wide)
		}
	}
	shot(t, ctx, dir, "policy-phone")
}

func mustResources(t *testing.T, st *store.DB, snap int64, typ model.ResourceType) []model.Resource {
	t.Helper()
	rs, err := st.Resources(context.Background(), snap, store.ResourceFilter{Type: typ})
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// Hostile values: IAM rejects "<" in a tag value, so these are written
// into the store directly.
const (
	xssScript = `<script>window.__x=1</script>`
	xssImg    = `"><img src=x onerror=window.__x=1>`
)

// TestBrowserHostileValues writes two snapshots straight into a store
// whose tag values, descriptions and Identity Center display names hold
// script, renders every page showing them in Chromium and checks the text
// is shown as it is and nothing runs; the second snapshot gives a user
// administrator access, which its history shows, and activity read from
// CloudTrail is its last activity.
func TestBrowserHostileValues(t *testing.T) {
	ctx := browser(t)
	dir := shots(t)
	hostile := xssScript + xssImg
	before, after := difftest.Estate()
	alice := difftest.ARN(difftest.AcctA, "user", "alice")
	deploy := difftest.ARN(difftest.AcctA, "role", "deploy")
	deployPol := difftest.ARN(difftest.AcctA, "policy", "deploy-policy")
	ps := "arn:aws:sso:::permissionSet/ssoins-1/ps-admin"
	ann := "arn:aws:identitystore:::user/u-ann"
	eng := "arn:aws:identitystore:::group/g-eng"
	for _, g := range []*model.Graph{before, after} {
		for i := range g.Resources {
			r := &g.Resources[i]
			switch r.ID {
			case alice, model.AccountResourceID(difftest.AcctA):
				r.Tags = map[string]string{"note": xssScript, "owner": xssImg}
			case deploy:
				r.Role.Description = hostile
			case deployPol:
				r.Policy.Description = hostile
			case ps:
				r.PermissionSet.Description = hostile
				r.Tags = map[string]string{"team": hostile}
			case ann:
				r.SSOUser.DisplayName = hostile
			case eng:
				r.SSOGroup.Description = hostile
				r.Name = "eng " + xssImg
			}
		}
	}
	st, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "warden.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var snaps []int64
	for i, g := range []*model.Graph{before, after} {
		at := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC).Add(time.Duration(i) * 24 * time.Hour)
		snap := &model.Snapshot{ConnectionID: "xss", StartedAt: at.Add(-time.Minute), FinishedAt: at, Status: model.StatusComplete, Counts: map[string]int{}}
		for _, r := range g.Resources {
			snap.Counts[string(r.Type)]++
		}
		id, err := st.WriteSnapshot(context.Background(), snap, g)
		if err != nil {
			t.Fatal(err)
		}
		snaps = append(snaps, id)
	}
	// CloudTrail read for account A: alice listed buckets.
	at := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	ev := collect.ActivityEvent{ID: "e1", Account: difftest.AcctA, Region: "us-east-1", Time: at, Name: "ListBuckets", Source: "s3.amazonaws.com",
		ActorType: "IAMUser", ActorARN: alice, ActorAccount: difftest.AcctA, Username: "alice", ReadOnly: true}
	data, _ := json.Marshal(ev)
	if _, err := st.SaveActivity(context.Background(), "xss", []store.ActivityRecord{{EventID: "e1", Account: difftest.AcctA, Region: "us-east-1", At: at,
		Name: ev.Name, ActorARN: alice, Data: data}}, []store.ActivityCursor{{Account: difftest.AcctA, Region: "us-east-1", Last: at}}); err != nil {
		t.Fatal(err)
	}
	svc := tokens.New(st, tokens.Options{})
	tok, _, err := svc.Create(context.Background(), "reader", tokens.ScopeRead, 0)
	if err != nil {
		t.Fatal(err)
	}
	ui, err := New(Config{Store: st, Tokens: svc})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(ui)
	t.Cleanup(srv.Close)
	browserSignIn(t, ctx, srv.URL, tok)

	run(t, ctx, "arm", chromedp.Evaluate[bool](`true`))
	pages := []struct {
		name, path string
		want       []string // texts the page's main must show literally
	}{
		{"user", "/principal?c=xss&id=" + url.QueryEscape(alice), []string{xssScript, xssImg}},
		{"role", "/principal?c=xss&id=" + url.QueryEscape(deploy), []string{hostile}},
		{"policy", "/policy?c=xss&arn=" + url.QueryEscape(deployPol), []string{hostile}},
		{"permission-set", "/permission-set?c=xss&arn=" + url.QueryEscape(ps), []string{hostile, "eng " + xssImg}},
		{"sso-user", "/principal?c=xss&id=" + url.QueryEscape(ann), []string{hostile, "eng " + xssImg}},
		{"sso-group", "/principal?c=xss&id=" + url.QueryEscape(eng), []string{hostile}},
		{"account", "/account?c=xss&id=" + difftest.AcctA, []string{xssScript, xssImg, "eng " + xssImg}},
		{"search", "/search?c=xss&q=eng", []string{"eng " + xssImg}},
		{"overview", "/", nil},
		{"changes", fmt.Sprintf("/changes?c=xss&from=%d&to=%d", snaps[0], snaps[1]), []string{"eng " + xssImg}},
	}
	for _, p := range pages {
		open(t, ctx, srv.URL, p.path)
		main := run(t, ctx, "main text "+p.name, chromedp.Evaluate[string](`document.querySelector("main").textContent`))
		for _, w := range p.want {
			if !strings.Contains(main, w) {
				t.Errorf("%s page does not show %q as text:\n%s", p.name, w, main)
			}
		}
		if n := run(t, ctx, "img "+p.name, chromedp.Evaluate[int](`document.querySelectorAll("img, script:not([src])").length`)); n != 0 {
			t.Errorf("%s page: %d img or inline script elements made from the values", p.name, n)
		}
		if ran := run(t, ctx, "flag "+p.name, chromedp.Evaluate[bool](`window.__x !== undefined`)); ran {
			t.Errorf("%s page: script from a value ran", p.name)
		}
		shot(t, ctx, dir, "hostile-"+p.name)
	}

	// alice's history: she joined admins in the second snapshot, and
	// became an administrator; her last activity is the event read.
	open(t, ctx, srv.URL, "/principal?c=xss&id="+url.QueryEscape(alice))
	hist := texts(t, ctx, "#history ol.history > li")
	if len(hist) != 1 || !strings.Contains(hist[0], "admins") || !strings.Contains(hist[0], "AdministratorAccess") {
		t.Errorf("alice's history %q", hist)
	}
	if n := len(texts(t, ctx, `#history li.admin[data-kind="administrator"]`)); n != 1 {
		t.Errorf("alice's history marks %d administrator changes, want 1", n)
	}
	if last := texts(t, ctx, "#activity .activity-last"); len(last) != 1 || !strings.Contains(last[0], "ListBuckets") || !strings.Contains(last[0], "2026-11-30 12:00") {
		t.Errorf("alice's last activity %q", last)
	}
	// bob changed nothing of his access but a key; carol's history has her
	// key deleted; the role deploy has no activity read: none seen.
	open(t, ctx, srv.URL, "/principal?c=xss&id="+url.QueryEscape(deploy))
	if last := texts(t, ctx, "#activity .activity-last"); len(last) != 1 || !strings.HasPrefix(last[0], "None seen") {
		t.Errorf("deploy's activity %q", last)
	}
}

// TestDiagramEdgesPassNoNode draws paths that skip columns (a user's own
// inline policy past its groups; an Identity Center user's direct
// assignment past its groups, an account without a role past the role
// column) and checks, sampling each edge's curve, that none passes behind
// a node's box.
func TestDiagramEdgesPassNoNode(t *testing.T) {
	user := access.Ref{ID: "arn:aws:iam::1:user/u", Type: model.TypeIAMUser, Name: "u", AccountID: "111111111111"}
	a := &access.Access{Principal: user}
	for i := range 4 {
		g := access.Ref{ID: fmt.Sprintf("arn:aws:iam::1:group/g%d", i), Type: model.TypeIAMGroup, Name: fmt.Sprintf("g%d", i)}
		a.Groups = append(a.Groups, g)
		a.Policies = append(a.Policies, access.Policy{Ref: access.Ref{ID: fmt.Sprintf("arn:aws:iam::1:policy/p%d", i), Type: model.TypeIAMPolicy, Name: fmt.Sprintf("p%d", i)},
			Path: access.Path{Provenance: model.ViaGroup, ViaID: g.ID, ViaName: g.Name}})
	}
	a.Policies = append(a.Policies, access.Policy{Ref: access.Ref{ID: user.ID + "/inline-policy/own", Type: model.TypeInlinePolicy, Name: "own"}, Path: access.Path{Provenance: model.ViaInline}})
	sso := &access.SSOAccess{Principal: access.Ref{ID: "sso-u", Type: model.TypeSSOUser, Name: "person"},
		Groups: []access.Ref{{ID: "sso-g1", Name: "eng"}, {ID: "sso-g2", Name: "ops"}}}
	sso.Assignments = []access.Assignment{
		{AccountID: "222222222222", AccountName: "prod", PermissionSet: access.Ref{ID: "ps-1", Name: "Admin"},
			Path: access.Path{Provenance: model.ViaSSO}, Policies: []access.Policy{{Ref: access.Ref{ID: "arn:aws:iam::aws:policy/AdministratorAccess", Name: "AdministratorAccess"}, Admin: true}}},
		{AccountID: "333333333333", AccountName: "dev", PermissionSet: access.Ref{ID: "ps-2", Name: "Read"},
			Path: access.Path{Provenance: model.ViaGroup, ViaID: "sso-g1", ViaName: "eng"},
			Role: &access.Ref{ID: "arn:aws:iam::3:role/r", Name: "AWSReservedSSO_Read_1"}, Policies: []access.Policy{{Ref: access.Ref{ID: "arn:aws:iam::aws:policy/ReadOnlyAccess", Name: "ReadOnlyAccess"}}}},
	}
	for name, ans := range map[string]*access.Answer{"iam": {IAM: a}, "sso": {SSO: sso}} {
		svg := string(diagram(ans, "prod"))
		var boxes [][4]float64
		for _, m := range regexp.MustCompile(`<rect x="(\d+)" y="(\d+)" width="(\d+)" height="(\d+)"`).FindAllStringSubmatch(svg, -1) {
			var r [4]float64
			for i := range 4 {
				r[i], _ = strconv.ParseFloat(m[i+1], 64)
			}
			boxes = append(boxes, r)
		}
		paths := regexp.MustCompile(`<path class="[^"]*" d="([^"]*)"`).FindAllStringSubmatch(svg, -1)
		if len(paths) == 0 || len(boxes) == 0 {
			t.Fatalf("%s: no edge or no node in %s", name, svg)
		}
		for _, p := range paths {
			for _, pt := range samplePath(t, p[1]) {
				for _, bx := range boxes {
					if pt[0] > bx[0]+1 && pt[0] < bx[0]+bx[2]-1 && pt[1] > bx[1]+1 && pt[1] < bx[1]+bx[3]-1 {
						t.Errorf("%s: edge %s passes behind the node at %v (point %v)", name, p[1], bx, pt)
					}
				}
			}
		}
	}
}

// samplePath returns points along an SVG path of M, L and C commands.
func samplePath(t *testing.T, d string) [][2]float64 {
	f := strings.Fields(d)
	num := func(i int) float64 {
		v, err := strconv.ParseFloat(strings.TrimLeft(f[i], "MLC"), 64)
		if err != nil {
			t.Fatalf("path %q: %v", d, err)
		}
		return v
	}
	var out [][2]float64
	var x, y float64
	for i := 0; i < len(f); {
		switch f[i][0] {
		case 'M':
			x, y = num(i), num(i+1)
			i += 2
		case 'L':
			x2, y2 := num(i), num(i+1)
			for s := 0.0; s <= 1; s += 0.05 {
				out = append(out, [2]float64{x + (x2-x)*s, y + (y2-y)*s})
			}
			x, y = x2, y2
			i += 2
		case 'C':
			c1x, c1y, c2x, c2y, x2, y2 := num(i), num(i+1), num(i+2), num(i+3), num(i+4), num(i+5)
			for s := 0.0; s <= 1; s += 0.02 {
				u := 1 - s
				out = append(out, [2]float64{u*u*u*x + 3*u*u*s*c1x + 3*u*s*s*c2x + s*s*s*x2, u*u*u*y + 3*u*u*s*c1y + 3*u*s*s*c2y + s*s*s*y2})
			}
			x, y = x2, y2
			i += 6
		default:
			t.Fatalf("path %q: unknown command %q", d, f[i])
		}
	}
	return out
}
