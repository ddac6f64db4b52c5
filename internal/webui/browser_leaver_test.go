package webui

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/chromedp/chromedp"

	"github.com/warden-iam/warden/awsfake"
	"github.com/warden-iam/warden/internal/awsapi"
	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/provision"
	"github.com/warden-iam/warden/internal/server"
	"github.com/warden-iam/warden/internal/store"
	"github.com/warden-iam/warden/internal/tokens"
)

// leaverUsers picks two IAM users of the management account from the
// snapshot: the one holding most (groups, keys, policies, a password), so
// its plan has many calls, and another one.
func leaverUsers(t *testing.T, s *stack) (most, other model.Resource) {
	t.Helper()
	users, err := s.st.Resources(context.Background(), s.snap, store.ResourceFilter{Type: model.TypeIAMUser, AccountID: s.truth.ID})
	if err != nil {
		t.Fatal(err)
	}
	best := -1
	for _, u := range users {
		tu := s.truth.IAM.Users[u.Name]
		if tu == nil {
			continue
		}
		n := len(tu.Groups) + len(tu.AccessKeys) + len(tu.AttachedPolicies) + len(tu.InlinePolicies) + len(tu.MFADevices)
		if tu.LoginProfile != nil {
			n++
		}
		if n > best {
			if best >= 0 {
				other = most
			}
			best, most = n, u
		} else if other.ID == "" {
			other = u
		}
	}
	if most.ID == "" || other.ID == "" {
		t.Fatalf("the management account has too few IAM users: %d", len(users))
	}
	return most, other
}

// adminToken creates an admin API token in the stack's store.
func adminToken(t *testing.T, s *stack, name string) string {
	t.Helper()
	secret, _, err := tokens.New(s.st, tokens.Options{}).Create(context.Background(), name, tokens.ScopeAdmin, 0)
	if err != nil {
		t.Fatal(err)
	}
	return secret
}

// browserSignIn signs the browser in through the sign-in form.
func browserSignIn(t *testing.T, ctx context.Context, base, token string) {
	t.Helper()
	run(t, ctx, "sign-in page", chromedp.Navigate(base+"/signin"))
	run(t, ctx, "sign-in form", chromedp.WaitVisible("#token"))
	run(t, ctx, "type token", chromedp.SendKeys("#token", token))
	run(t, ctx, "submit", chromedp.Submit("#token"))
	run(t, ctx, "signed in", chromedp.WaitVisible(".who"))
}

// waitDone waits for a leaver run's progress to say it is done, without
// reloading the page (live.js polls).
func waitDone(t *testing.T, ctx context.Context) {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if _, err := chromedp.Run(c, chromedp.WaitReady("#progress [data-done]")); err != nil {
		txt, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
		t.Fatalf("the leaver run never finished: %v\n%s", err, txt)
	}
}

// TestBrowserLeaver runs the leaver flow in Chromium against awsfake: a
// read session sees no Offboard button; an admin offboards a real user
// from its principal page, the plan listed is the plan provision makes,
// the apply is followed live until done, awsfake no longer has the user,
// the refreshed snapshot no longer holds it, and the audit log names the
// session's token. Then a call that fails shows which call and its fix.
func TestBrowserLeaver(t *testing.T) {
	ctx := browser(t)
	s := newStack(t, small)
	dir := shots(t)
	user, other := leaverUsers(t, s)
	bg := context.Background()

	// A read session: no Offboard button on the principal page.
	browserSignIn(t, ctx, s.http.URL, s.read)
	run(t, ctx, "principal (read)", chromedp.Navigate(s.http.URL+"/principal?c=prod&id="+url.QueryEscape(user.ID)))
	run(t, ctx, "principal heading", chromedp.WaitVisible(chromedp.CSS("h1")))
	if n := run(t, ctx, "offboard buttons", chromedp.Evaluate[int](`document.querySelectorAll("#offboard").length`)); n != 0 {
		t.Errorf("a read session sees %d Offboard button(s)", n)
	}

	// The plan provision makes, computed here through the same package.
	prov := &server.Provisioning{Store: s.st, Connections: s.ui.c.Connections}
	want, err := prov.Plan(bg, "prod", []provision.Action{{Kind: provision.DeleteUser, User: user.Name}})
	if err != nil || len(want) != 1 {
		t.Fatalf("plan: %v", err)
	}
	var wantCalls []string
	for _, st := range want[0].Steps {
		wantCalls = append(wantCalls, st.String())
	}
	if len(wantCalls) < 3 {
		t.Fatalf("the plan of %s has only %v: pick a user holding more", user.Name, wantCalls)
	}

	// An admin session offboards the user from its principal page.
	browserSignIn(t, ctx, s.http.URL, adminToken(t, s, "ops-admin"))
	run(t, ctx, "principal (admin)", chromedp.Navigate(s.http.URL+"/principal?c=prod&id="+url.QueryEscape(user.ID)))
	run(t, ctx, "offboard", chromedp.Click("#offboard"))
	run(t, ctx, "plan", chromedp.WaitVisible("#plan"))
	got := run(t, ctx, "plan rows", chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("#plan tr.step")).map(tr =>
		tr.querySelector("td.call").textContent + " " + Array.from(tr.querySelectorAll(".param")).map(p => p.textContent).join(" "))`))
	if strings.Join(got, "\n") != strings.Join(wantCalls, "\n") {
		t.Errorf("the page's plan:\n%s\nprovision's plan:\n%s", strings.Join(got, "\n"), strings.Join(wantCalls, "\n"))
	}
	shot(t, ctx, dir, "leaver-plan")
	run(t, ctx, "apply", chromedp.Click("#leaver-apply"))
	run(t, ctx, "progress", chromedp.WaitVisible("#progress"))
	runURL := run(t, ctx, "run location", chromedp.Location())
	run(t, ctx, "mark the page", chromedp.Evaluate[bool](`window.__noReload = true`))
	waitDone(t, ctx)
	if ok := run(t, ctx, "same page", chromedp.Evaluate[bool](`window.__noReload === true`)); !ok {
		t.Error("the run page reloaded; live.js should have followed it in place")
	}
	results := run(t, ctx, "results", chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("#progress tr.step")).map(tr => tr.dataset.result)`))
	if len(results) != len(wantCalls) {
		t.Errorf("%d calls shown, the plan has %d", len(results), len(wantCalls))
	}
	for i, r := range results {
		if r != store.AuditOK {
			t.Errorf("call %d: %s", i+1, r)
		}
	}
	shot(t, ctx, dir, "leaver-done")

	// Ground truth: awsfake has no such user any more.
	if a := s.fake.Account(s.truth.ID); a.IAM.Users[user.Name] != nil {
		t.Errorf("awsfake still has user %s", user.Name)
	}
	sess, err := awsapi.Load(bg, awsapi.Options{Region: "us-east-1", Endpoint: s.fake.URL()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sess.IAM(s.truth.ID).GetUser(bg, &iam.GetUserInput{UserName: aws.String(user.Name)}); err == nil || !strings.Contains(err.Error(), "NoSuchEntity") {
		t.Errorf("GetUser %s after the leaver run: %v, want NoSuchEntity", user.Name, err)
	}
	// The refreshed snapshot no longer holds the user, and the page says so.
	latest, err := s.st.LatestSnapshot(bg, "prod")
	if err != nil || latest.ID <= s.snap {
		t.Fatalf("latest snapshot %v (%v), want one after %d", latest, err, s.snap)
	}
	if _, err := s.st.Resource(bg, latest.ID, user.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("snapshot %d still has %s: %v", latest.ID, user.Name, err)
	}
	if txt := run(t, ctx, "refreshed", chromedp.Text("#progress .refreshed")); !strings.Contains(txt, "Snapshot "+itoa(latest.ID)) || !strings.Contains(txt, "gone") {
		t.Errorf("the run page says %q, want snapshot %d without the user", txt, latest.ID)
	}
	// Every call is audited with the session's token as actor.
	recs, err := s.st.Audit(bg, "prod", 0)
	if err != nil {
		t.Fatal(err)
	}
	var audited []string
	for i := len(recs) - 1; i >= 0; i-- {
		if r := recs[i]; r.Target == want[0].Target {
			audited = append(audited, r.Call)
			if r.Actor != "ops-admin" || r.Result != store.AuditOK {
				t.Errorf("audit record %d: actor %q result %q, want ops-admin ok", r.ID, r.Actor, r.Result)
			}
		}
	}
	if len(audited) != len(wantCalls) {
		t.Errorf("audited %v, planned %v", audited, wantCalls)
	}
	// The diff link shows the user removed.
	run(t, ctx, "what changed", chromedp.Click(`#progress .refreshed a[href^="/changes"]`))
	run(t, ctx, "diff", chromedp.WaitVisible("#diff-title"))
	if txt := run(t, ctx, "diff text", chromedp.Text(chromedp.CSS("main"))); !strings.Contains(txt, user.Name) {
		t.Errorf("the diff after the run does not name %s", user.Name)
	}

	// The audit log page, filtered to the session's token, has those calls.
	run(t, ctx, "audit", chromedp.Navigate(s.http.URL+"/audit?c=prod&actor=ops-admin"))
	run(t, ctx, "audit table", chromedp.WaitVisible("table.audit"))
	calls := run(t, ctx, "audit calls", chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("table.audit tbody tr td:nth-child(6) code")).map(e => e.textContent).reverse()`))
	if strings.Join(calls, ",") != strings.Join(audited, ",") {
		t.Errorf("the audit page shows %v, the audit log has %v", calls, audited)
	}
	shot(t, ctx, dir, "audit")

	// A call that fails: the run stops there and shows the call and its fix.
	otherPlan, err := prov.Plan(bg, "prod", []provision.Action{{Kind: provision.DeleteUser, User: other.Name}})
	if err != nil || len(otherPlan[0].Steps) == 0 {
		t.Fatalf("plan of %s: %v", other.Name, err)
	}
	failing := otherPlan[0].Steps[len(otherPlan[0].Steps)-1].Call // iam:DeleteUser
	s.fake.SetOptions(awsfake.Options{ActionFaults: map[string]awsfake.ActionFault{
		failing: {Code: "AccessDenied", Status: http.StatusForbidden, Message: "User: arn:aws:iam::" + s.truth.ID + ":user/warden-admin is not authorized to perform: " + failing,
			Param: "UserName", Value: other.Name}}})
	run(t, ctx, "leaver (other)", chromedp.Navigate(s.http.URL+"/leaver?c=prod&user="+url.QueryEscape(other.Name)))
	run(t, ctx, "plan (other)", chromedp.WaitVisible("#leaver-apply"))
	run(t, ctx, "apply (other)", chromedp.Click("#leaver-apply"))
	waitDone(t, ctx)
	failed := run(t, ctx, "failed", chromedp.Text("#failed"))
	fix := run(t, ctx, "fix", chromedp.Text("#run-error .fix"))
	if !strings.Contains(failed, failing+" failed") || !strings.Contains(fix, "Fix:") {
		t.Errorf("the failed run shows %q / %q, want the failed call %s and a fix", failed, fix, failing)
	}
	if n := run(t, ctx, "failed rows", chromedp.Evaluate[int](`document.querySelectorAll('#progress tr[data-result="failed"]').length`)); n != 1 {
		t.Errorf("%d failed rows, want 1", n)
	}
	shot(t, ctx, dir, "leaver-failed")

	// A phone width: the run page and the audit log do not scroll sideways
	// (their tables scroll in their own box).
	run(t, ctx, "phone", chromedp.EmulateViewport(375, 800))
	for i, u := range []string{runURL, s.http.URL + "/audit?c=prod", s.http.URL + "/leaver?c=prod"} {
		run(t, ctx, "phone "+u, chromedp.Navigate(u))
		run(t, ctx, "phone page "+u, chromedp.WaitReady(chromedp.CSS("main h1")))
		if over := run(t, ctx, "overflow", chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`)); over {
			t.Errorf("%s scrolls sideways at 375 px", u)
		}
		if i == 0 { // the first run's page still shows its own calls only
			if n := run(t, ctx, "rows", chromedp.Evaluate[int](`document.querySelectorAll("#progress tr.step").length`)); n != len(wantCalls) {
				t.Errorf("the first run's page shows %d calls later, want its %d", n, len(wantCalls))
			}
		}
		shot(t, ctx, dir, []string{"leaver-run-phone", "audit-phone", "leaver-phone"}[i])
	}
	if runURL == "" || !regexp.MustCompile(`/leaver/run\?id=`).MatchString(runURL) {
		t.Errorf("the run page is at %q", runURL)
	}
}

// TestBrowserSyncLive: on the sync page, "Sync now" starts a sync without
// leaving the page, its progress events arrive through /sync/events
// (EventSource), and the new snapshot shows, all without a reload.
func TestBrowserSyncLive(t *testing.T) {
	ctx := browser(t)
	s := newStack(t, small)
	dir := shots(t)
	browserSignIn(t, ctx, s.http.URL, adminToken(t, s, "ops-admin"))
	run(t, ctx, "sync page", chromedp.Navigate(s.http.URL+"/sync"))
	run(t, ctx, "sync now button", chromedp.WaitVisible("#syncnow-prod"))
	// EventSource connected: the status event arrives before anything else.
	time.Sleep(300 * time.Millisecond)
	run(t, ctx, "mark the page", chromedp.Evaluate[bool](`window.__noReload = true`))
	run(t, ctx, "sync now", chromedp.Click("#syncnow-prod"))
	wantSnap := "snapshot " + itoa(s.snap+1)
	c, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if _, err := chromedp.Run(c, chromedp.Poll[bool](`document.querySelector("#sync-prod .last").textContent.includes(`+"`"+wantSnap+"`"+`)`, chromedp.WithPollingInterval(100*time.Millisecond))); err != nil {
		txt, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
		t.Fatalf("the sync page never showed %s: %v\n%s", wantSnap, err, txt)
	}
	if ok := run(t, ctx, "same page", chromedp.Evaluate[bool](`window.__noReload === true`)); !ok {
		t.Error("the sync page reloaded; live.js should have followed the sync in place")
	}
	events := run(t, ctx, "event log", chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("#sync-log li")).map(li => li.textContent)`))
	var started, progress, ended bool
	for _, e := range events {
		started = started || strings.Contains(e, "prod: started by ops-admin")
		ended = ended || strings.HasSuffix(e, ", "+wantSnap)
		progress = progress || (strings.Contains(e, "prod: ") && !strings.Contains(e, "started by") && !strings.Contains(e, wantSnap))
	}
	if !started || !progress || !ended {
		t.Errorf("the live events shown (start %v, progress %v, end %v):\n%s", started, progress, ended, strings.Join(events, "\n"))
	}
	t.Logf("%d live events shown", len(events))
	if latest, err := s.st.LatestSnapshot(context.Background(), "prod"); err != nil || latest.ID != s.snap+1 {
		t.Errorf("after sync now the latest snapshot is %v (%v), want %d", latest, err, s.snap+1)
	}
	if dis := run(t, ctx, "button again", chromedp.Evaluate[bool](`document.querySelector("#syncnow-prod").disabled`)); dis {
		t.Error("the Sync now button stays disabled after the run ended")
	}
	shot(t, ctx, dir, "sync-live")
	run(t, ctx, "leave", chromedp.Navigate("about:blank")) // closes the event stream before the server
}
