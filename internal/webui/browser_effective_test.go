package webui

import (
	"context"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/warden-iam/warden/internal/diff/difftest"
	"github.com/warden-iam/warden/internal/effective"
	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/policy"
	"github.com/warden-iam/warden/internal/store"
	"github.com/warden-iam/warden/internal/tokens"
)

// stepRows are an explanation's statements as the steps table shows them.
func stepRows(ex []policy.Step) []string {
	var out []string
	for _, st := range ex {
		out = append(out, strings.Join([]string{st.Kind, dashed(st.Policy), dashed(st.Via), dashed(st.Statement), st.Effect, st.Note}, "|"))
	}
	return out
}

// noScriptRan fails when a page made elements of, or ran, a hostile value.
func noScriptRan(t *testing.T, ctx context.Context, what string) {
	t.Helper()
	if n := run(t, ctx, "img "+what, chromedp.Evaluate[int](`document.querySelectorAll("main img, main script").length`)); n != 0 {
		t.Errorf("%s: %d img or script elements made from a value", what, n)
	}
	if ran := run(t, ctx, "flag "+what, chromedp.Evaluate[bool](`window.__xss !== undefined`)); ran {
		t.Errorf("%s: script from a value ran", what)
	}
}

// TestBrowserEffective drives /can, /who-can and /simulator in Chromium
// with the keyboard and the forms, and checks each answer against
// effective.Can, effective.WhoCan and policy.Evaluate (what `warden can`,
// `warden who-can` and `warden policy eval` print) and awsfake's truth.
func TestBrowserEffective(t *testing.T) {
	ctx := browser(t)
	s := newStack(t, small)
	dir := shots(t)
	browserSignIn(t, ctx, s.http.URL, s.read)
	nav := texts(t, ctx, `nav[aria-label="main"] a`)
	for _, want := range []string{"Can", "Who can", "Simulator"} {
		if !contains(nav, want) {
			t.Errorf("the navigation %q lacks %s", nav, want)
		}
	}

	// /can: the management account's role that holds AdministratorAccess
	// (awsfake's truth) may create users; the statement links the policy.
	admin := resourceNamed(t, s, model.TypeIAMRole, s.truth.ID, "payments-ec2-role-2")
	want, err := effective.Can(context.Background(), s.st, s.snap, effective.Question{Principal: admin.ID, Action: "iam:CreateUser", Resource: "*"})
	if err != nil {
		t.Fatal(err)
	}
	open(t, ctx, s.http.URL, "/can")
	run(t, ctx, "principal", chromedp.SendKeys("#principal", admin.ID))
	run(t, ctx, "action", chromedp.SendKeys("#action", "iam:CreateUser"))
	run(t, ctx, "resource", chromedp.SendKeys("#resource", "*"))
	run(t, ctx, "decide", chromedp.Submit("#action"))
	run(t, ctx, "answer", chromedp.WaitVisible("#answer"))
	if v := texts(t, ctx, "#decision .verdict"); len(v) != 1 || v[0] != "allowed" || want.Decision != policy.Allowed {
		t.Errorf("/can says %q, effective.Can %s", v, want.Decision)
	}
	sameSet(t, "the statements", rows(t, ctx, "table.steps"), stepRows(want.Cases[0].Explanation))
	shot(t, ctx, dir, "can")
	// Who else can: the same question on /who-can lists the role, whose
	// row asks /can again.
	run(t, ctx, "who else", chromedp.Click("#who-else"))
	run(t, ctx, "who-can answer", chromedp.WaitVisible("#whocan-count"))
	run(t, ctx, "the role's row", chromedp.WaitVisible(`table.whocan a[data-id="`+admin.ID+`"]`))
	run(t, ctx, "ask can", chromedp.Click(`table.whocan > tbody > tr:has(a[data-id="`+admin.ID+`"]) a.ask-can`))
	run(t, ctx, "can again", chromedp.WaitVisible("#answer"))
	if v := texts(t, ctx, "#decision .verdict"); len(v) != 1 || v[0] != "allowed" {
		t.Errorf("/can from /who-can says %q", v)
	}
	run(t, ctx, "policy link", chromedp.Click(`table.steps a`))
	run(t, ctx, "policy page", chromedp.WaitVisible("h1"))
	if h := run(t, ctx, "policy heading", chromedp.Text("h1")); !strings.Contains(h, "AdministratorAccess") {
		t.Errorf("the statement's link leads to %q", h)
	}

	// An Identity Center user: a row per account and permission set.
	sso, err := effective.Can(context.Background(), s.st, s.snap, effective.Question{Principal: s.ssoUser.UserName, Action: "ec2:RunInstances"})
	if err != nil {
		t.Fatal(err)
	}
	open(t, ctx, s.http.URL, "/can?c=prod&action=ec2:RunInstances&principal="+url.QueryEscape(s.ssoUser.UserName))
	got := rows(t, ctx, "table.cases")
	if len(got) != len(sso.Cases) {
		t.Errorf("%s: %d cases shown, effective.Can has %d", s.ssoUser.UserName, len(got), len(sso.Cases))
	}
	for i, c := range sso.Cases {
		if i < len(got) && !strings.HasPrefix(got[i], c.AccountID+"|"+dashed(c.PermissionSet)+"|") {
			t.Errorf("case %d: %q, want account %s permission set %s", i, got[i], c.AccountID, c.PermissionSet)
		}
	}
	shot(t, ctx, dir, "can-sso")

	// Bad input: the CLI's problem on the form; a hostile principal is text.
	open(t, ctx, s.http.URL, "/can?c=prod&action=s3GetObject&principal=bob.smith10")
	if p := texts(t, ctx, "#problem .problem-text"); len(p) != 1 || p[0] != `action "s3GetObject" is not service:Action` {
		t.Errorf("bad action: %q", p)
	}
	if v := run(t, ctx, "kept", chromedp.Evaluate[string](`document.querySelector("#action").value`)); v != "s3GetObject" {
		t.Errorf("the form lost the action: %q", v)
	}
	open(t, ctx, s.http.URL, "/can?c=prod&action=s3:GetObject&principal="+url.QueryEscape(xssName))
	if p := texts(t, ctx, "#problem .problem-text"); len(p) != 1 || !strings.Contains(p[0], strconv.Quote(xssName)) {
		t.Errorf("hostile principal: %q", p)
	}
	noScriptRan(t, ctx, "/can")
	shot(t, ctx, dir, "can-bad")

	// /who-can: every principal of the management account that can read
	// an object; the count, the rows, the downloads.
	wq := effective.WhoCanQuestion{Action: "s3:GetObject", Resource: "arn:aws:s3:::reports/q4.csv", Account: s.truth.ID}
	wa, err := effective.WhoCan(context.Background(), s.st, s.snap, wq)
	if err != nil {
		t.Fatal(err)
	}
	open(t, ctx, s.http.URL, "/who-can")
	run(t, ctx, "action", chromedp.SendKeys("#action", wq.Action))
	run(t, ctx, "resource", chromedp.SendKeys("#resource", wq.Resource))
	run(t, ctx, "account", chromedp.SetValue("#account", wq.Account))
	run(t, ctx, "find", chromedp.Submit("#action"))
	run(t, ctx, "answer", chromedp.WaitVisible("#whocan-count"))
	if n := texts(t, ctx, "#whocan-count .total"); len(n) != 1 || n[0] != strconv.Itoa(len(wa.Principals)) {
		t.Errorf("who-can count %q, effective.WhoCan %d", n, len(wa.Principals))
	}
	var wantRows []string
	for _, e := range wa.Principals {
		wantRows = append(wantRows, e.Principal.Name+"|"+string(e.Principal.Type)+"|"+dashed(e.AccountID)+"|"+decisionText(e.Decision))
	}
	var gotRows []string
	for _, r := range run(t, ctx, "who-can rows", chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("table.whocan > tbody > tr")).map(r => Array.from(r.cells).map(c => c.textContent.trim()).join("|"))`)) {
		gotRows = append(gotRows, strings.Join(strings.SplitN(r, "|", 5)[:4], "|"))
	}
	if strings.Join(gotRows, "\n") != strings.Join(wantRows, "\n") {
		t.Errorf("who-can rows\n%s\nwant\n%s", strings.Join(gotRows, "\n"), strings.Join(wantRows, "\n"))
	}
	if l := run(t, ctx, "csv link", chromedp.Evaluate[string](`document.querySelector("#whocan-csv").getAttribute("href")`)); !strings.HasPrefix(l, "/who-can.csv?") {
		t.Errorf("csv link %q", l)
	}
	// The explanation of the first row unfolds without script.
	run(t, ctx, "unfold", chromedp.Click("table.whocan tbody tr:first-child details summary"))
	if n := run(t, ctx, "unfolded", chromedp.Evaluate[int](`document.querySelectorAll("table.whocan tbody tr:first-child details[open] table.steps tbody tr").length`)); n != len(wa.Principals[0].Explanation) {
		t.Errorf("the first row's explanation shows %d statements, want %d", n, len(wa.Principals[0].Explanation))
	}
	shot(t, ctx, dir, "who-can")
	run(t, ctx, "phone", chromedp.EmulateViewport(375, 800))
	open(t, ctx, s.http.URL, "/who-can?c=prod&action=s3:GetObject&resource=*")
	if over := run(t, ctx, "overflow", chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`)); over {
		t.Error("/who-can scrolls sideways at 375 px")
	}
	shot(t, ctx, dir, "who-can-phone")
	run(t, ctx, "desktop", chromedp.EmulateViewport(1280, 900))

	// /simulator: the example (an OU's SCP denies outside eu-west-1).
	open(t, ctx, s.http.URL, "/simulator")
	run(t, ctx, "example", chromedp.Click(`a[href="/simulator?example=1"]`))
	run(t, ctx, "filled", chromedp.WaitVisible("#f-scps"))
	run(t, ctx, "decide", chromedp.Submit("#f-principal"))
	run(t, ctx, "result", chromedp.WaitVisible("#answer"))
	fields := map[string]string{}
	for k, v := range simExample {
		fields[k] = v
	}
	data, p := simAssemble(fields)
	if p != nil {
		t.Fatal(p.Problem)
	}
	reqs, _, err := policy.ParseRequests(data)
	if err != nil {
		t.Fatal(err)
	}
	res := policy.Evaluate(&reqs[0])
	if v := texts(t, ctx, "#answer .verdict"); len(v) != 1 || v[0] != decisionText(res.Decision) || res.Decision != policy.ExplicitDeny {
		t.Errorf("simulator says %q, policy.Evaluate %s", v, res.Decision)
	}
	sameSet(t, "the simulator's statements", rows(t, ctx, "table.steps"), stepRows(res.Explanation))
	shot(t, ctx, dir, "simulator")
	// A malformed identity policy, named as `policy eval` names it.
	run(t, ctx, "clear", chromedp.SetValue("#f-identity_policies", `[{"name": "p", "document": {"Statement": [{"Effect": "Permit", "Action": "*", "Resource": "*"}]}}]`))
	run(t, ctx, "decide", chromedp.Submit("#f-principal"))
	run(t, ctx, "problem", chromedp.WaitVisible("#problem"))
	if p := texts(t, ctx, "#problem .problem-text"); len(p) != 1 || p[0] != `malformed request: field identity_policies[0].document.Statement[0].Effect: "Permit": use "Allow" or "Deny"` {
		t.Errorf("malformed policy: %q", p)
	}
	// A hostile value pasted is text.
	run(t, ctx, "hostile", chromedp.SetValue("#f-principal", xssName))
	run(t, ctx, "decide", chromedp.Submit("#f-principal"))
	run(t, ctx, "problem", chromedp.WaitVisible("#problem"))
	if v := run(t, ctx, "kept", chromedp.Evaluate[string](`document.querySelector("#f-principal").value`)); v != xssName {
		t.Errorf("the principal field holds %q", v)
	}
	noScriptRan(t, ctx, "/simulator")
	shot(t, ctx, dir, "simulator-bad")
}

// TestBrowserEffectiveHostile asks /can and /who-can about an estate
// whose group names, tags and statement ids are script (an Identity
// Center group "eng <img …>" carries the permission set Admin, an
// administrator's statement has a hostile Sid) and checks in Chromium
// that the answers show them as text and nothing runs.
func TestBrowserEffectiveHostile(t *testing.T) {
	ctx := browser(t)
	dir := shots(t)
	hostile := xssScript + xssImg
	_, g := difftest.Estate()
	alice := difftest.ARN(difftest.AcctA, "user", "alice")
	for i := range g.Resources {
		r := &g.Resources[i]
		switch {
		case r.ID == alice:
			r.Tags = map[string]string{"note": xssScript, "owner": xssImg}
		case r.ID == "arn:aws:identitystore:::group/g-eng":
			r.Name = "eng " + xssImg
		case r.Type == model.TypeIAMPolicy && r.Name == "AdministratorAccess":
			r.Policy.Document = `{"Version":"2012-10-17","Statement":[{"Sid":` + strconv.Quote(hostile) + `,"Effect":"Allow","Action":"*","Resource":"*"}]}`
		}
	}
	st, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "warden.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	at := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	snap := &model.Snapshot{ConnectionID: "xss", StartedAt: at.Add(-time.Minute), FinishedAt: at, Status: model.StatusComplete, Counts: map[string]int{}}
	id, err := st.WriteSnapshot(context.Background(), snap, g)
	if err != nil {
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

	ann, err := effective.Can(context.Background(), st, id, effective.Question{Principal: "ann", Action: "iam:CreateUser"})
	if err != nil {
		t.Fatal(err)
	}
	who, err := effective.WhoCan(context.Background(), st, id, effective.WhoCanQuestion{Action: "iam:CreateUser", Resource: "*"})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []struct {
		name, path string
		want       []string
	}{
		{"can-ann", "/can?c=xss&principal=ann&action=iam:CreateUser", []string{"group eng " + xssImg}},
		{"can-alice", "/can?c=xss&principal=alice&action=iam:CreateUser", []string{hostile}},
		{"who-can", "/who-can?c=xss&action=iam:CreateUser&resource=*", []string{hostile}},
	} {
		open(t, ctx, srv.URL, p.path)
		main := run(t, ctx, "main "+p.name, chromedp.Evaluate[string](`document.querySelector("main").textContent`))
		for _, w := range p.want {
			if !strings.Contains(main, w) {
				t.Errorf("%s does not show %q as text:\n%s", p.name, w, main)
			}
		}
		if n := run(t, ctx, "img "+p.name, chromedp.Evaluate[int](`document.querySelectorAll("img, script:not([src])").length`)); n != 0 {
			t.Errorf("%s: %d img or inline script elements made from the values", p.name, n)
		}
		if ran := run(t, ctx, "flag "+p.name, chromedp.Evaluate[bool](`window.__x !== undefined`)); ran {
			t.Errorf("%s: script from a value ran", p.name)
		}
		shot(t, ctx, dir, "hostile-"+p.name)
	}
	// The answers are effective's: ann's cases, who-can's principals.
	open(t, ctx, srv.URL, "/can?c=xss&principal=ann&action=iam:CreateUser")
	if got := rows(t, ctx, "table.cases"); len(got) != len(ann.Cases) || len(got) == 0 {
		t.Errorf("ann: %d cases shown, effective.Can %d", len(got), len(ann.Cases))
	}
	open(t, ctx, srv.URL, "/who-can?c=xss&action=iam:CreateUser&resource=*")
	if n := texts(t, ctx, "#whocan-count .total"); len(n) != 1 || n[0] != strconv.Itoa(len(who.Principals)) {
		t.Errorf("who-can count %q, effective.WhoCan %d", n, len(who.Principals))
	}
}
