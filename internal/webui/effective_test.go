package webui

import (
	"bytes"
	"context"
	"encoding/csv"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/warden-iam/warden/internal/effective"
	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/policy"
	"github.com/warden-iam/warden/internal/render"
	"github.com/warden-iam/warden/internal/store"
)

var (
	rowRE  = regexp.MustCompile(`(?s)<tr[^>]*>(.*?)</tr>`)
	cellRE = regexp.MustCompile(`(?s)<t[dh][^>]*>(.*?)</t[dh]>`)
	tagRE  = regexp.MustCompile(`(?s)<[^>]*>`)
	// detailsRE is a row's folded explanation (a table in a table).
	detailsRE = regexp.MustCompile(`(?s)<details>.*?</details>`)
)

// htmlTables returns the body rows of every table of class class in a
// page, in order, each row its cells' text; tables folded in a <details>
// of a row are left out (unless they are the tables asked for).
func htmlTables(body, class string) [][][]string {
	var out [][][]string
	if class != "steps" {
		body = detailsRE.ReplaceAllString(body, "")
	}
	for rest := body; ; {
		i := strings.Index(rest, `<table class="`+class+`"`)
		if i < 0 {
			return out
		}
		rest = rest[i:]
		end := strings.Index(rest, "</table>")
		tb := rest[:end]
		rest = rest[end:]
		if j := strings.Index(tb, "<tbody>"); j >= 0 {
			tb = tb[j:]
		}
		var rows [][]string
		for _, m := range rowRE.FindAllStringSubmatch(tb, -1) {
			var cells []string
			for _, c := range cellRE.FindAllStringSubmatch(m[1], -1) {
				cells = append(cells, strings.TrimSpace(html.UnescapeString(tagRE.ReplaceAllString(c[1], ""))))
			}
			rows = append(rows, cells)
		}
		out = append(out, rows)
	}
}

// signedIn is a client of s signed in with the read token.
func signedIn(t *testing.T, s *stack) *http.Client {
	t.Helper()
	c := client(t)
	signIn(t, c, s.http.URL, s.read)
	return c
}

// resourceNamed returns the snapshot's resource of type typ named name in
// account.
func resourceNamed(t *testing.T, s *stack, typ model.ResourceType, account, name string) model.Resource {
	t.Helper()
	rs, err := s.st.Resources(context.Background(), s.snap, store.ResourceFilter{Type: typ, AccountID: account})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if r.Name == name {
			return r
		}
	}
	t.Fatalf("snapshot %d has no %s %s in %s", s.snap, typ, name, account)
	return model.Resource{}
}

func dashed(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// checkCanPage compares the /can page of a question with effective.Can's
// answer (what `warden can` prints) case by case and statement by
// statement, and returns the page.
func checkCanPage(t *testing.T, s *stack, c *http.Client, q effective.Question, ctxText string) (*effective.CanAnswer, string) {
	t.Helper()
	want, err := effective.Can(context.Background(), s.st, s.snap, q)
	if err != nil {
		t.Fatalf("effective.Can(%+v): %v", q, err)
	}
	v := url.Values{"c": {"prod"}, "principal": {q.Principal}, "action": {q.Action}, "resource": {q.Resource}, "context": {ctxText}}
	code, body, _ := get(t, c, s.http.URL+"/can?"+v.Encode())
	if code != http.StatusOK {
		t.Fatalf("/can %v: %d\n%s", v, code, body)
	}
	if !strings.Contains(body, `<span class="verdict">`+html.EscapeString(decisionText(want.Decision))+`</span>`) {
		t.Errorf("/can %v does not say %s", v, want.Decision)
	}
	cases := htmlTables(body, "cases")
	if len(cases) != 1 || len(cases[0]) != len(want.Cases) {
		t.Fatalf("/can %v: cases table %q, want %d cases", v, cases, len(want.Cases))
	}
	steps := htmlTables(body, "steps")
	n := 0
	for i, wc := range want.Cases {
		role := "—"
		if wc.Role != nil {
			role = wc.Role.Name
		}
		wantRow := []string{wc.AccountID, dashed(wc.PermissionSet), dashed(wc.Via), role, decisionText(wc.Decision)}
		if strings.Join(cases[0][i], "|") != strings.Join(wantRow, "|") {
			t.Errorf("case %d: %q, want %q", i, cases[0][i], wantRow)
		}
		if len(wc.Explanation) == 0 {
			continue
		}
		if n >= len(steps) {
			t.Fatalf("case %d has no statements table", i)
		}
		got := steps[n]
		n++
		if len(got) != len(wc.Explanation) {
			t.Errorf("case %d: %d statements, want %d: %q", i, len(got), len(wc.Explanation), got)
			continue
		}
		for j, st := range wc.Explanation {
			w := []string{st.Kind, dashed(st.Policy), dashed(st.Via), dashed(st.Statement), st.Effect, st.Note}
			if strings.Join(got[j], "|") != strings.Join(w, "|") {
				t.Errorf("case %d statement %d: %q, want %q", i, j, got[j], w)
			}
		}
	}
	return want, body
}

func TestCanPage(t *testing.T) {
	s := newStack(t, small)
	c := signedIn(t, s)

	// The empty form.
	code, body, _ := get(t, c, s.http.URL+"/can")
	if code != 200 || !strings.Contains(body, `id="can-form"`) || strings.Contains(body, `id="answer"`) {
		t.Fatalf("/can: %d", code)
	}
	for _, id := range []string{"principal", "action", "resource", "context"} {
		if !strings.Contains(body, `<label for="`+id+`">`) {
			t.Errorf("the %s field has no label", id)
		}
	}

	// Bad input: the CLI's problem on the form, 400.
	for _, b := range []struct{ query, problem string }{
		{"principal=&action=s3:GetObject", "can takes a PRINCIPAL, got an empty one"},
		{"principal=bob.smith10&action=s3GetObject", `action "s3GetObject" is not service:Action`},
		{"principal=nobody-at-all&action=s3:GetObject", `no IAM user, role or Identity Center user matches "nobody-at-all" in snapshot`},
		{"principal=bob.smith10&action=s3:GetObject&context=" + url.QueryEscape("aws:SourceIp=10.0.0.1\nnot a key"), `context line "not a key" is not key=value`},
		{"principal=security-oncall-3&action=s3:GetObject", `"security-oncall-3" is not a principal that makes requests`},
	} {
		code, body, _ := get(t, c, s.http.URL+"/can?c=prod&"+b.query)
		if code != http.StatusBadRequest || !strings.Contains(body, html.EscapeString(b.problem)) || !strings.Contains(body, `id="can-form"`) {
			t.Errorf("/can?%s: %d, want 400 with %q on the form", b.query, code, b.problem)
		}
	}

	// The management account is not subject to SCPs: its role
	// payments-ec2-role-2 holds AdministratorAccess (awsfake's ground
	// truth) and may create users; the page links the policy.
	if !contains(s.truth.IAM.Roles["payments-ec2-role-2"].AttachedPolicies, "arn:aws:iam::aws:policy/AdministratorAccess") {
		t.Fatal("ground truth: payments-ec2-role-2 lacks AdministratorAccess")
	}
	// The name is ambiguous (every account has one): the page lists them
	// to pick from.
	code, body, _ = get(t, c, s.http.URL+"/can?c=prod&principal=payments-ec2-role-2&action=iam:CreateUser")
	if code != http.StatusBadRequest || strings.Count(body, `<li><a href="/can?`) != 3 || !strings.Contains(body, "matches 3 principals") {
		t.Errorf("ambiguous principal: %d, want 400 with the 3 roles to pick", code)
	}
	admin := resourceNamed(t, s, model.TypeIAMRole, s.truth.ID, "payments-ec2-role-2")
	ans, body := checkCanPage(t, s, c, effective.Question{Principal: admin.ID, Action: "iam:CreateUser", Resource: "*"}, "")
	if ans.Decision != policy.Allowed {
		t.Errorf("payments-ec2-role-2 iam:CreateUser: %s", ans.Decision)
	}
	if !strings.Contains(body, `<a href="/policy?c=prod&amp;arn=arn%3Aaws%3Aiam%3A%3Aaws%3Apolicy%2FAdministratorAccess">AdministratorAccess</a>`) {
		t.Error("the explanation does not link AdministratorAccess to its page")
	}
	// A user with no policy: implicit deny.
	if u := s.truth.IAM.Users["bob.smith10"]; len(u.AttachedPolicies)+len(u.Groups)+len(u.InlinePolicies) != 0 {
		t.Fatal("ground truth: bob.smith10 holds policies")
	}
	if ans, _ := checkCanPage(t, s, c, effective.Question{Principal: "bob.smith10", Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k"}, ""); ans.Decision != policy.ImplicitDeny {
		t.Errorf("bob.smith10: %s", ans.Decision)
	}
	// A member account's role: SCPs apply; the SCP statement links its page.
	member := s.org.Members[0].ID
	role := resourceNamed(t, s, model.TypeIAMRole, member, "OrganizationAccountAccessRole")
	_, body = checkCanPage(t, s, c, effective.Question{Principal: role.ID, Action: "iam:CreateUser", Resource: "*"}, "")
	if !strings.Contains(body, `<a href="/policy?c=prod&amp;arn=`) || !strings.Contains(body, "<td>scp</td>") {
		t.Error("the member role's answer does not link its SCP")
	}
	// A context key given; a condition left open.
	checkCanPage(t, s, c, effective.Question{Principal: "judy.davis5", Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k",
		Context: map[string][]string{"aws:SourceIp": {"10.0.0.1"}}}, "aws:SourceIp=10.0.0.1")
	// An Identity Center user: a case per account and permission set.
	ans, _ = checkCanPage(t, s, c, effective.Question{Principal: s.ssoUser.UserName, Action: "ec2:RunInstances", Resource: "*"}, "")
	t.Logf("%s: %d cases, %s", s.ssoUser.UserName, len(ans.Cases), ans.Decision)
}

func contains(l []string, v string) bool {
	for _, x := range l {
		if x == v {
			return true
		}
	}
	return false
}

func TestWhoCanPage(t *testing.T) {
	s := newStack(t, small)
	c := signedIn(t, s)
	code, body, _ := get(t, c, s.http.URL+"/who-can")
	if code != 200 || !strings.Contains(body, `id="whocan-form"`) || strings.Contains(body, `id="answer"`) {
		t.Fatalf("/who-can: %d", code)
	}
	for _, b := range []struct{ query, problem string }{
		{"action=s3GetObject&resource=*", `action "s3GetObject" is not service:Action`},
		{"action=s3:GetObject&resource=", "no resource given"},
		{"action=s3:GetObject&resource=*&account=12", `account "12" is not an account id`},
		{"action=s3:GetObject&resource=*&context=bad", `context line "bad" is not key=value`},
	} {
		code, body, _ := get(t, c, s.http.URL+"/who-can?c=prod&"+b.query)
		if code != http.StatusBadRequest || !strings.Contains(body, html.EscapeString(b.problem)) {
			t.Errorf("/who-can?%s: %d, want 400 with %q", b.query, code, b.problem)
		}
	}

	// Ground truth: in the management account (no SCPs) the role
	// payments-ec2-role-2 holds AdministratorAccess, bob.smith10 nothing.
	mgmt := s.truth.ID
	q := effective.WhoCanQuestion{Action: "iam:CreateUser", Resource: "*", Account: mgmt}
	want, err := effective.WhoCan(context.Background(), s.st, s.snap, q)
	if err != nil {
		t.Fatal(err)
	}
	admin := resourceNamed(t, s, model.TypeIAMRole, mgmt, "payments-ec2-role-2")
	bob := resourceNamed(t, s, model.TypeIAMUser, mgmt, "bob.smith10")
	names := map[string]effective.Entry{}
	for _, e := range want.Principals {
		names[e.Principal.ID] = e
	}
	if e, ok := names[admin.ID]; !ok || e.Decision != policy.Allowed || e.Path != "direct" {
		t.Errorf("effective.WhoCan lacks payments-ec2-role-2 direct: %+v", e)
	}
	if _, ok := names[bob.ID]; ok {
		t.Error("effective.WhoCan has bob.smith10")
	}
	// Who can read objects in the management account, 3 a page.
	q = effective.WhoCanQuestion{Action: "s3:GetObject", Resource: "arn:aws:s3:::bucket/key", Account: mgmt}
	if want, err = effective.WhoCan(context.Background(), s.st, s.snap, q); err != nil {
		t.Fatal(err)
	}
	whoCanPageSize = 3
	t.Cleanup(func() { whoCanPageSize = 100 })
	base := "/who-can?c=prod&action=s3:GetObject&resource=" + url.QueryEscape(q.Resource) + "&account=" + mgmt
	var shown []string
	pages := (len(want.Principals) + 2) / 3
	if pages < 2 {
		t.Fatalf("only %d principals: the test needs two pages", len(want.Principals))
	}
	for p := 1; p <= pages; p++ {
		code, body, _ := get(t, c, s.http.URL+base+"&page="+strconv.Itoa(p))
		if code != 200 {
			t.Fatalf("page %d: %d\n%s", p, code, body)
		}
		if !strings.Contains(body, `<span class="total">`+strconv.Itoa(len(want.Principals))+`</span>`) {
			t.Errorf("page %d does not say %d principals", p, len(want.Principals))
		}
		if !strings.Contains(body, "page "+strconv.Itoa(p)+" of "+strconv.Itoa(pages)) {
			t.Errorf("page %d does not say which page it is", p)
		}
		tb := htmlTables(body, "whocan")
		if len(tb) != 1 {
			t.Fatalf("page %d: %d tables", p, len(tb))
		}
		for _, row := range tb[0] {
			shown = append(shown, strings.Join(row[:4], "|"))
		}
	}
	var wantRows []string
	for _, e := range want.Principals {
		wantRows = append(wantRows, strings.Join([]string{e.Principal.Name, string(e.Principal.Type), dashed(e.AccountID), decisionText(e.Decision)}, "|"))
	}
	if strings.Join(shown, "\n") != strings.Join(wantRows, "\n") {
		t.Errorf("the pages show\n%s\nwant\n%s", strings.Join(shown, "\n"), strings.Join(wantRows, "\n"))
	}
	code, _, _ = get(t, c, s.http.URL+base+"&page="+strconv.Itoa(pages+1))
	if code != http.StatusBadRequest {
		t.Errorf("a page past the last: %d", code)
	}
	// The downloads have every principal: the CLI's table and its JSON.
	code, body, resp := get(t, c, s.http.URL+strings.Replace(base, "/who-can?", "/who-can.csv?", 1))
	if code != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("csv: %d %s", code, resp.Header.Get("Content-Type"))
	}
	recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	table := render.WhoCanTables(want)[0]
	if len(recs) != len(table.Rows)+1 || strings.Join(recs[0], ",") != strings.Join(table.Header, ",")+",ARN" {
		t.Fatalf("csv has %d rows (header %q), want %d", len(recs), recs[0], len(table.Rows)+1)
	}
	for i, row := range table.Rows {
		if strings.Join(recs[i+1][:len(row)], "|") != strings.Join(row, "|") || recs[i+1][len(row)] != want.Principals[i].Principal.ARN {
			t.Errorf("csv row %d: %q, want %q", i, recs[i+1], row)
		}
	}
	code, body, _ = get(t, c, s.http.URL+strings.Replace(base, "/who-can?", "/who-can.json?", 1))
	var buf bytes.Buffer
	if err := render.JSON(&buf, want); err != nil {
		t.Fatal(err)
	}
	if code != 200 || body != buf.String() {
		t.Errorf("json: %d, not `warden who-can -o json`'s document", code)
	}
	// Every principal that can, across the organization, of an action
	// reached through chains of roles: the page lists the chain's roles.
	q = effective.WhoCanQuestion{Action: "iam:CreateUser", Resource: "*"}
	if want, err = effective.WhoCan(context.Background(), s.st, s.snap, q); err != nil {
		t.Fatal(err)
	}
	whoCanPageSize = 1000
	_, body, _ = get(t, c, s.http.URL+"/who-can?c=prod&action=iam:CreateUser&resource=*")
	tb := htmlTables(body, "whocan")
	if len(tb) != 1 || len(tb[0]) != len(want.Principals) {
		t.Fatalf("who-can iam:CreateUser *: %d rows, want %d", len(tb), len(want.Principals))
	}
	chains := 0
	for i, e := range want.Principals {
		for _, h := range e.Chain {
			chains++
			if !strings.Contains(tb[0][i][4], h.Role.Name) {
				t.Errorf("row %d (%s) how %q lacks role %s", i, e.Principal.Name, tb[0][i][4], h.Role.Name)
			}
		}
	}
	if chains == 0 {
		t.Error("no principal reaches iam:CreateUser through a role: the chain is not tested")
	}
}
