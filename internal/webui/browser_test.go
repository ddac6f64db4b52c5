package webui

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/store"
)

const chromium = "/usr/bin/chromium"

// browser starts one headless Chromium for the test; it skips, loudly,
// when there is none.
func browser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromium); err != nil {
		t.Skip("SKIPPED: no chromium at /usr/bin/chromium; apt-get install -y chromium")
	}
	opts := []chromedp.ExecAllocatorOption{chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.Headless, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("no-first-run", true), chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900)}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelA)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	if _, err := chromedp.Run(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// shots is where screenshots go: $WARDEN_SCREENSHOTS, or a temporary folder.
func shots(t *testing.T) string {
	if d := os.Getenv("WARDEN_SCREENSHOTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

func run[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	v, err := chromedp.Run(c, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

func shot(t *testing.T, ctx context.Context, dir, name string) string {
	t.Helper()
	b := run(t, ctx, "screenshot "+name, chromedp.FullScreenshot(100))
	p := filepath.Join(dir, name+".png")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s", p)
	return p
}

// TestBrowser drives headless Chromium through the UI: sign in, search as
// you type, the principal page and its diagram, the escaped hostile display
// name, keyboard reachability, a phone width.
func TestBrowser(t *testing.T) {
	ctx := browser(t)
	s := newStack(t, small)
	dir := shots(t)

	// Sign in with the read token.
	run(t, ctx, "open", chromedp.Navigate(s.http.URL+"/"))
	run(t, ctx, "sign-in form", chromedp.WaitVisible("#token"))
	if l := run(t, ctx, "label", chromedp.Text(`label[for="token"]`)); l != "API token" {
		t.Errorf("token field label %q", l)
	}
	shot(t, ctx, dir, "signin")
	run(t, ctx, "type token", chromedp.SendKeys("#token", s.read))
	run(t, ctx, "submit", chromedp.Submit("#token"))
	run(t, ctx, "overview", chromedp.WaitVisible("#conn-prod"))
	if h := run(t, ctx, "heading", chromedp.Text(chromedp.CSS("h1"))); h != "Overview" {
		t.Errorf("after sign-in: heading %q", h)
	}
	// The cookie is not readable by script (HttpOnly).
	if c := run(t, ctx, "document.cookie", chromedp.Evaluate[string]("document.cookie")); strings.Contains(c, cookieName) {
		t.Errorf("document.cookie shows the session: %q", c)
	}
	shot(t, ctx, dir, "overview")

	// Search as you type: a part of a real user's name, no Enter.
	users, err := s.st.Resources(context.Background(), s.snap, store.ResourceFilter{Type: model.TypeIAMUser, AccountID: s.truth.ID})
	if err != nil || len(users) == 0 {
		t.Fatalf("users: %v", err)
	}
	var want model.Resource
	for _, u := range users {
		if tu := s.truth.IAM.Users[u.Name]; tu != nil && len(tu.Groups) > 0 {
			want = u
			break
		}
	}
	if want.ID == "" {
		t.Fatal("ground truth has no IAM user in a group")
	}
	run(t, ctx, "search page", chromedp.Navigate(s.http.URL+"/search"))
	run(t, ctx, "type", chromedp.SendKeys("#q", want.Name[:len(want.Name)-1]))
	sel := `#results a[data-id="` + want.ID + `"]`
	run(t, ctx, "live result", chromedp.WaitVisible(sel))
	if loc := run(t, ctx, "location", chromedp.Location()); !strings.Contains(loc, "q=") {
		t.Errorf("the search is not in the URL: %s", loc)
	}
	shot(t, ctx, dir, "search")

	// The principal page: its diagram has the user and each group of the
	// ground truth.
	run(t, ctx, "open result", chromedp.Click(sel))
	run(t, ctx, "diagram", chromedp.WaitVisible(`svg.paths [data-node="`+want.ID+`"]`))
	titles := run(t, ctx, "diagram titles", chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("svg.paths g.node.group title")).map(e => e.textContent)`))
	for _, g := range s.truth.IAM.Users[want.Name].Groups {
		found := false
		for _, x := range titles {
			found = found || x == g
		}
		if !found {
			t.Errorf("diagram lacks group %s (has %v)", g, titles)
		}
	}
	p := shot(t, ctx, dir, "principal")
	if os.Getenv("WARDEN_UPDATE_SCREENSHOTS") == "1" {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join("..", "..", "docs", "img", "principal.png"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// The Identity Center user named with script: shown as text, nothing runs.
	ssoUsers, err := s.st.Resources(context.Background(), s.snap, store.ResourceFilter{Type: model.TypeSSOUser})
	if err != nil {
		t.Fatal(err)
	}
	var ssoID string
	for _, u := range ssoUsers {
		if strings.Contains(u.ID, s.ssoUser.ID) {
			ssoID = u.ID
		}
	}
	if ssoID == "" {
		t.Fatalf("the snapshot has no Identity Center user %s", s.ssoUser.ID)
	}
	run(t, ctx, "sso user", chromedp.Navigate(s.http.URL+"/principal?c=prod&id="+url.QueryEscape(ssoID)))
	run(t, ctx, "sso heading", chromedp.WaitVisible(chromedp.CSS("h1")))
	h := run(t, ctx, "sso heading text", chromedp.Text(chromedp.CSS("h1")))
	if !strings.Contains(h, `<script>window.__xss=1</script>`) || !strings.Contains(h, `<img src=x onerror=`) {
		t.Errorf("the display name is not shown as text: %q", h)
	}
	if n := run(t, ctx, "img count", chromedp.Evaluate[int](`document.querySelectorAll("main img").length`)); n != 0 {
		t.Errorf("%d img elements made from the display name", n)
	}
	if v := run(t, ctx, "xss flag", chromedp.Evaluate[bool](`window.__xss === undefined`)); !v {
		t.Error("script from the display name ran")
	}
	shot(t, ctx, dir, "xss")

	// Findings, each row linking to its principal; the changes between
	// the two snapshots.
	run(t, ctx, "findings", chromedp.Navigate(s.http.URL+"/findings?c=prod"))
	run(t, ctx, "findings table", chromedp.WaitVisible("table.findings tbody tr a"))
	for _, id := range []string{"account", "severity"} {
		if l := run(t, ctx, "label "+id, chromedp.Text(`label[for="`+id+`"]`)); l == "" {
			t.Errorf("the %s filter has no label", id)
		}
	}
	shot(t, ctx, dir, "findings")
	run(t, ctx, "changes", chromedp.Navigate(fmt.Sprintf("%s/changes?c=prod&from=%d&to=%d", s.http.URL, s.first, s.snap)))
	run(t, ctx, "diff", chromedp.WaitVisible("#diff-title"))
	if txt := run(t, ctx, "diff text", chromedp.Text(chromedp.CSS("main"))); !strings.Contains(txt, "between-snapshots") {
		t.Errorf("the diff does not name the user made between the snapshots:\n%s", txt)
	}
	shot(t, ctx, dir, "changes")

	// An admin, signed in by a one-time link, syncs now and sees it finish
	// with a new snapshot.
	link, err := s.ui.SignInLink(s.http.URL)
	if err != nil {
		t.Fatal(err)
	}
	run(t, ctx, "sign-in link", chromedp.Navigate(link))
	run(t, ctx, "overview as admin", chromedp.WaitVisible("#conn-prod"))
	if who := run(t, ctx, "who", chromedp.Text(".who")); !strings.Contains(who, "(admin)") {
		t.Errorf("signed in by the link as %q, want admin", who)
	}
	run(t, ctx, "sync page", chromedp.Navigate(s.http.URL+"/sync"))
	run(t, ctx, "sync now", chromedp.Click("#syncnow-prod"))
	wantSnap := fmt.Sprintf("snapshot %d", s.snap+1)
	var last string
	for deadline := time.Now().Add(15 * time.Second); !strings.Contains(last, wantSnap); {
		if time.Now().After(deadline) {
			t.Fatalf("the sync page never showed %s (last: %q)", wantSnap, last)
		}
		c, cancel := context.WithTimeout(ctx, 2*time.Second)
		last, _ = chromedp.Run(c, chromedp.Text("#sync-prod .last")) // the page reloads itself meanwhile
		cancel()
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("last run: %s", last)
	if latest, err := s.st.LatestSnapshot(context.Background(), "prod"); err != nil || latest.ID != s.snap+1 {
		t.Errorf("after sync now the latest snapshot is %v (%v), want %d", latest, err, s.snap+1)
	}
	shot(t, ctx, dir, "sync")
	// The link is dead now.
	run(t, ctx, "link again", chromedp.Navigate(link))
	if h := run(t, ctx, "link again heading", chromedp.Text(chromedp.CSS("main"))); !strings.Contains(h, "already used or has expired") {
		t.Errorf("the second use of the link: %q", h)
	}

	// Keyboard: Tab from the top reaches the skip link, then the navigation.
	run(t, ctx, "overview again", chromedp.Navigate(s.http.URL+"/"))
	run(t, ctx, "tab", chromedp.KeyEvent("\t"))
	if f := run(t, ctx, "focused", chromedp.Evaluate[string](`document.activeElement.textContent`)); f != "Skip to content" {
		t.Errorf("first Tab focuses %q", f)
	}
	run(t, ctx, "tab", chromedp.KeyEvent("\t"))
	run(t, ctx, "tab", chromedp.KeyEvent("\t"))
	if f := run(t, ctx, "focused", chromedp.Evaluate[string](`document.activeElement.textContent`)); f != "Overview" {
		t.Errorf("third Tab focuses %q", f)
	}

	// A phone width: the page does not scroll sideways.
	run(t, ctx, "phone", chromedp.EmulateViewport(375, 800))
	run(t, ctx, "reload", chromedp.Navigate(s.http.URL+"/"))
	run(t, ctx, "overview phone", chromedp.WaitVisible("#conn-prod"))
	if over := run(t, ctx, "overflow", chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`)); over {
		t.Error("the overview scrolls sideways at 375 px")
	}
	shot(t, ctx, dir, "overview-phone")
}
