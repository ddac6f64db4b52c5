package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/danielgtaylor/huma/v2"

	"github.com/warden-iam/warden/awsfake"
	"github.com/warden-iam/warden/internal/access"
	"github.com/warden-iam/warden/internal/diff"
	"github.com/warden-iam/warden/internal/effective"
	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/render"
	"github.com/warden-iam/warden/internal/store"
)

var smallEstate = awsfake.Estate{AccountID: testAccount, Users: 40, Groups: 6, Roles: 15, Policies: 10, Seed: 7}

// validate checks a response against the operation's schema in the
// served OpenAPI document.
func validate(t *testing.T, s *Server, method, pattern string, status int, body []byte) {
	t.Helper()
	// The served document is OpenAPI()'s (TestEveryRouteMatchesOpenAPI
	// checks it), so its operations and schemas are those of the API.
	item := s.api.OpenAPI().Paths[pattern]
	if item == nil {
		t.Fatalf("OpenAPI document has no path %s", pattern)
	}
	op := map[string]*huma.Operation{http.MethodGet: item.Get, http.MethodPost: item.Post}[method]
	if op == nil {
		t.Fatalf("OpenAPI document has no %s %s", method, pattern)
	}
	resp := op.Responses[strconv.Itoa(status)]
	if resp == nil {
		resp = op.Responses["default"]
	}
	if resp == nil {
		t.Fatalf("%s %s: status %d is not documented (documented: %v)", method, pattern, status, keys(op.Responses))
	}
	mt := resp.Content["application/json"]
	if mt == nil || mt.Schema == nil {
		t.Fatalf("%s %s %d: no application/json schema", method, pattern, status)
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("%s %s %d: body is not JSON: %v\n%s", method, pattern, status, err, body)
	}
	res := &huma.ValidateResult{}
	huma.Validate(s.api.OpenAPI().Components.Schemas, mt.Schema, huma.NewPathBuffer([]byte(""), 0), huma.ModeReadFromServer, v, res)
	if len(res.Errors) > 0 {
		t.Errorf("%s %s %d: the response does not match the OpenAPI document:\n%v\nbody: %.600s", method, pattern, status, res.Errors, body)
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestEveryRouteMatchesOpenAPI sends a request to every route, and error
// requests, and validates each response against the served document.
func TestEveryRouteMatchesOpenAPI(t *testing.T) {
	e := newEnv(t, smallEstate, Config{})
	user := firstUser(e)
	found, err := e.st.FindPrincipal(context.Background(), e.latestSnap, user)
	if err != nil || len(found) != 1 {
		t.Fatalf("find %s: %v %v", user, found, err)
	}
	userARN := found[0].ID
	policy := heldPolicy(t, e)
	// The connection reads activity: the access, findings and diff
	// answers carry it, and GET /api/v1/activity has some.
	enableActivity(t, e)
	applyBody := []byte(`{"connection":"prod","actions":[{"action":"create-user","user":"api-made"}]}`)
	cases := []struct {
		name, method, path, pattern, token string
		body                               []byte
		header                             []string
		want                               int
	}{
		{"connections", "GET", "/api/v1/connections", "/api/v1/connections", e.read, nil, nil, 200},
		{"snapshots", "GET", "/api/v1/connections/prod/snapshots", "/api/v1/connections/{id}/snapshots", e.read, nil, nil, 200},
		{"sync status", "GET", "/api/v1/sync", "/api/v1/sync", e.read, nil, nil, 200},
		{"sync status one", "GET", "/api/v1/sync/prod", "/api/v1/sync/{connection}", e.read, nil, nil, 200},
		{"sync status unknown", "GET", "/api/v1/sync/nope", "/api/v1/sync/{connection}", e.read, nil, nil, 404},
		{"sync runs", "GET", "/api/v1/sync/prod/runs", "/api/v1/sync/{connection}/runs", e.read, nil, nil, 200},
		{"resources", "GET", "/api/v1/resources?limit=5", "/api/v1/resources", e.read, nil, nil, 200},
		{"resources bad cursor", "GET", "/api/v1/resources?cursor=zzz", "/api/v1/resources", e.read, nil, nil, 400},
		{"resources bad limit", "GET", "/api/v1/resources?limit=100000", "/api/v1/resources", e.read, nil, nil, 422},
		{"resource", "GET", "/api/v1/resources/" + url.PathEscape(userARN), "/api/v1/resources/{id}", e.read, nil, nil, 200},
		{"resource missing", "GET", "/api/v1/resources/nope", "/api/v1/resources/{id}", e.read, nil, nil, 404},
		{"access", "GET", "/api/v1/access/" + url.PathEscape(user), "/api/v1/access/{principal}", e.read, nil, nil, 200},
		{"access holders", "GET", "/api/v1/access/" + url.PathEscape(policy), "/api/v1/access/{principal}", e.read, nil, nil, 200},
		{"access missing", "GET", "/api/v1/access/nobody-at-all", "/api/v1/access/{principal}", e.read, nil, nil, 404},
		{"holders", "GET", "/api/v1/holders/" + url.PathEscape(policy), "/api/v1/holders/{principal}", e.read, nil, nil, 200},
		{"holders of a user", "GET", "/api/v1/holders/" + url.PathEscape(user), "/api/v1/holders/{principal}", e.read, nil, nil, 404},
		{"findings", "GET", "/api/v1/findings", "/api/v1/findings", e.read, nil, nil, 200},
		{"findings with escalation paths", "GET", "/api/v1/findings?escalation=true", "/api/v1/findings", e.read, nil, nil, 200},
		{"findings without effective admins", "GET", "/api/v1/findings?effective=false", "/api/v1/findings", e.read, nil, nil, 200},
		{"findings bad escalation", "GET", "/api/v1/findings?escalation=maybe", "/api/v1/findings", e.read, nil, nil, 422},
		{"diff", "GET", "/api/v1/diff", "/api/v1/diff", e.read, nil, nil, 200},
		{"assets instances", "GET", "/api/v1/assets/instances", "/api/v1/assets/instances", e.read, nil, nil, 200},
		{"assets security-groups", "GET", "/api/v1/assets/security-groups", "/api/v1/assets/security-groups", e.read, nil, nil, 200},
		{"assets buckets", "GET", "/api/v1/assets/buckets", "/api/v1/assets/buckets", e.read, nil, nil, 200},
		{"assets keys-kms", "GET", "/api/v1/assets/keys-kms", "/api/v1/assets/keys-kms", e.read, nil, nil, 200},
		{"assets functions", "GET", "/api/v1/assets/functions", "/api/v1/assets/functions", e.read, nil, nil, 200},
		{"assets secrets", "GET", "/api/v1/assets/secrets", "/api/v1/assets/secrets", e.read, nil, nil, 200},
		{"assets bad cursor", "GET", "/api/v1/assets/buckets?cursor=zzz", "/api/v1/assets/buckets", e.read, nil, nil, 400},
		{"assets bad account", "GET", "/api/v1/assets/buckets?account=12", "/api/v1/assets/buckets", e.read, nil, nil, 400},
		{"activity", "GET", "/api/v1/activity", "/api/v1/activity", e.read, nil, nil, 200},
		{"activity of an account", "GET", "/api/v1/activity?account=" + testAccount + "&since=30d", "/api/v1/activity", e.read, nil, nil, 200},
		{"activity bad since", "GET", "/api/v1/activity?since=soon", "/api/v1/activity", e.read, nil, nil, 400},
		{"activity bad account", "GET", "/api/v1/activity?account=12", "/api/v1/activity", e.read, nil, nil, 400},
		{"diff unknown snapshot", "GET", "/api/v1/diff?from=999", "/api/v1/diff", e.read, nil, nil, 404},
		{"audit", "GET", "/api/v1/audit", "/api/v1/audit", e.read, nil, nil, 200},
		{"can", "GET", "/api/v1/can?principal=" + url.QueryEscape(user) + "&action=iam:CreateUser&context=aws:SourceIp=10.0.0.1", "/api/v1/can", e.read, nil, nil, 200},
		{"can unknown principal", "GET", "/api/v1/can?principal=nobody-at-all&action=s3:GetObject", "/api/v1/can", e.read, nil, nil, 404},
		{"can bad action", "GET", "/api/v1/can?principal=" + url.QueryEscape(user) + "&action=GetObject", "/api/v1/can", e.read, nil, nil, 400},
		{"can with a session policy", "GET", "/api/v1/can?principal=" + url.QueryEscape(user) + "&action=iam:CreateUser&session_policy=" +
			url.QueryEscape(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"}]}`), "/api/v1/can", e.read, nil, nil, 200},
		{"can bad session policy", "GET", "/api/v1/can?principal=" + url.QueryEscape(user) + "&action=iam:CreateUser&session_policy=" + url.QueryEscape(`{"Statement":`), "/api/v1/can", e.read, nil, nil, 400},
		{"who-can", "GET", "/api/v1/who-can?action=iam:CreateUser&resource=*", "/api/v1/who-can", e.read, nil, nil, 200},
		{"who-can bad account", "GET", "/api/v1/who-can?action=iam:CreateUser&resource=*&account=12", "/api/v1/who-can", e.read, nil, nil, 400},
		{"policy eval", "POST", PolicyEvalPath, PolicyEvalPath, e.read, []byte(`{"principal":"arn:aws:iam::111111111111:user/a","action":"s3:GetObject","identity_policies":[{"name":"p","document":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}}]}`), nil, 200},
		{"policy eval batch", "POST", PolicyEvalPath, PolicyEvalPath, e.read, []byte(`[{"principal":"arn:aws:iam::111111111111:user/a","action":"s3:GetObject"}]`), nil, 200},
		{"policy eval malformed", "POST", PolicyEvalPath, PolicyEvalPath, e.read, []byte(`{"action": 3}`), nil, 400},
		{"plan", "POST", "/api/v1/plan", "/api/v1/plan", e.admin, applyBody, nil, 200},
		{"plan invalid action", "POST", "/api/v1/plan", "/api/v1/plan", e.admin, []byte(`{"actions":[{"action":"create-user"}]}`), nil, 422},
		{"plan read token", "POST", "/api/v1/plan", "/api/v1/plan", e.read, applyBody, nil, 403},
		{"apply no key", "POST", "/api/v1/apply", "/api/v1/apply", e.admin, applyBody, nil, 400},
		{"apply", "POST", "/api/v1/apply", "/api/v1/apply", e.admin, applyBody, []string{"Idempotency-Key", "k1"}, 200},
		{"apply other body", "POST", "/api/v1/apply", "/api/v1/apply", e.admin, []byte(`{"actions":[{"action":"create-user","user":"other"}]}`), []string{"Idempotency-Key", "k1"}, 422},
		{"apply too large", "POST", "/api/v1/apply", "/api/v1/apply", e.admin, bytes.Repeat([]byte(" "), maxBody+1), []string{"Idempotency-Key", "k2"}, 413},
		{"no token", "GET", "/api/v1/connections", "/api/v1/connections", "", nil, nil, 401},
		{"bad token", "GET", "/api/v1/findings", "/api/v1/findings", "not-a-token", nil, nil, 401},
		{"trigger read token", "POST", "/api/v1/sync/prod", "/api/v1/sync/{connection}", e.read, nil, nil, 403},
		{"trigger unknown", "POST", "/api/v1/sync/nope", "/api/v1/sync/{connection}", e.admin, nil, nil, 404},
		{"trigger", "POST", "/api/v1/sync/prod", "/api/v1/sync/{connection}", e.admin, nil, nil, 202},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, h, body := e.do(t, tc.method, tc.path, tc.token, tc.body, tc.header...)
			if status != tc.want {
				t.Fatalf("%s %s: status %d, want %d: %s", tc.method, tc.path, status, tc.want, body)
			}
			if ct := h.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type %q", ct)
			}
			if status >= 400 {
				var er Error
				if err := json.Unmarshal(body, &er); err != nil || er.Problem == "" || er.Fix == "" {
					t.Errorf("error body is not {error, fix}: %s", body)
				}
				if status == 401 && h.Get("WWW-Authenticate") == "" {
					t.Error("401 without WWW-Authenticate")
				}
			}
			validate(t, e.srv, tc.method, tc.pattern, status, body)
		})
	}
	waitIdle(t, e)
	// Health, readiness, the document itself.
	if status, _, body := e.do(t, "GET", "/healthz", "", nil); status != 200 || string(body) != "ok\n" {
		t.Errorf("/healthz: %d %q", status, body)
	}
	if status, _, body := e.do(t, "GET", "/readyz", e.read, nil); status != 200 || !bytes.Contains(body, []byte(`"ready":true`)) {
		t.Errorf("/readyz: %d %s", status, body)
	} else {
		validate(t, e.srv, "GET", "/readyz", status, body)
	}
	if item := e.srv.api.OpenAPI().Paths["/healthz"]; item == nil || item.Get == nil || item.Get.Security == nil || len(item.Get.Security) != 0 {
		t.Error("/healthz is not in the OpenAPI document as a route without a token")
	}
	if status, _, _ := e.do(t, "GET", "/readyz", "", nil); status != 401 {
		t.Errorf("/readyz without a token: %d, want 401", status)
	}
	status, _, body := e.do(t, "GET", "/api/v1/openapi.json", e.read, nil)
	want, _ := e.srv.OpenAPI()
	if status != 200 || !bytes.Contains(body, []byte(`"openapi":"3.1.0"`)) || !json.Valid(body) {
		t.Errorf("/api/v1/openapi.json: %d %.200s", status, body)
	}
	var a, b any
	_ = json.Unmarshal(body, &a)
	_ = json.Unmarshal(want, &b)
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Error("the served document differs from OpenAPI()")
	}
	if strings.Contains(e.logs.String(), e.read) || strings.Contains(e.logs.String(), e.admin) {
		t.Fatal("a token is in the log")
	}
	if !strings.Contains(e.logs.String(), "route=/api/v1/access/{principal}") || !strings.Contains(e.logs.String(), "token=grafana") {
		t.Errorf("the log lacks route patterns or token names:\n%.2000s", e.logs.String())
	}
}

// waitIdle waits for a triggered sync to end.
func waitIdle(t *testing.T, e *env) {
	t.Helper()
	for range 500 {
		e.syncs.mu.Lock()
		n := len(e.syncs.running)
		e.syncs.mu.Unlock()
		if n == 0 {
			return
		}
		sleep()
	}
	t.Fatal("the sync did not end")
}

func firstUser(e *env) string {
	names := []string{}
	for n := range e.truth.IAM.Users {
		names = append(names, n)
	}
	if len(names) == 0 {
		panic("no user")
	}
	min := names[0]
	for _, n := range names {
		if n < min {
			min = n
		}
	}
	return min
}

// TestAnswersAreTheCLIDocuments compares the API's answers with the bytes
// the CLI prints for the same application values.
func TestAnswersAreTheCLIDocuments(t *testing.T) {
	e := newEnv(t, smallEstate, Config{})
	ctx := context.Background()
	cli := func(v any) string {
		var b bytes.Buffer
		if err := render.JSON(&b, v); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	user := firstUser(e)
	ans, err := access.Query(ctx, e.st, e.latestSnap, user)
	if err != nil {
		t.Fatal(err)
	}
	policy := heldPolicy(t, e)
	hold, err := access.Query(ctx, e.st, e.latestSnap, policy)
	if err != nil || hold.Holders == nil {
		t.Fatalf("holders: %v", err)
	}
	g, err := e.st.Graph(ctx, e.latestSnap)
	if err != nil {
		t.Fatal(err)
	}
	from, _ := e.st.Snapshot(ctx, e.firstSnap)
	to, _ := e.st.Snapshot(ctx, e.latestSnap)
	rep, err := diff.Compute(ctx, e.st, from, to, diff.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Summary.Changed {
		t.Fatal("the two snapshots should differ (a user was deleted)")
	}
	e.srv.c.Now = func() time0 { return fixedNow }
	// The findings as `warden findings` computes them, with and without
	// the findings that use the policy evaluator.
	es, err := effective.Load(ctx, e.st, e.latestSnap)
	if err != nil {
		t.Fatal(err)
	}
	findings := func(opts render.EffectiveOptions) *render.Findings {
		f, err := render.NewFindings(g, fixedNow, 10, staleDays).Effective(ctx, es, g, opts)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	snaps, _ := e.st.Snapshots(ctx, "prod")
	for _, tc := range []struct{ path, want string }{
		{"/api/v1/access/" + url.PathEscape(user), cli(ans.IAM)},
		{"/api/v1/access/" + url.PathEscape(policy), cli(hold.Holders)},
		{"/api/v1/holders/" + url.PathEscape(policy), cli(hold.Holders)},
		{"/api/v1/findings", cli(findings(render.EffectiveOptions{Admins: true}))},
		{"/api/v1/findings?effective=false", cli(findings(render.EffectiveOptions{}))},
		{"/api/v1/findings?escalation=true", cli(findings(render.EffectiveOptions{Admins: true, Escalation: true}))},
		{"/api/v1/diff", cli(rep)},
		{fmt.Sprintf("/api/v1/diff?from=%d&to=%d", e.firstSnap, e.latestSnap), cli(rep)},
		{"/api/v1/connections/prod/snapshots", cli(snaps)},
	} {
		status, _, body := e.do(t, "GET", tc.path, e.read, nil)
		if status != 200 || string(body) != tc.want {
			t.Errorf("%s: status %d; body differs from the CLI's document:\n got %.300s\nwant %.300s", tc.path, status, body, tc.want)
		}
	}
}

// TestResourcePagesWalkEveryResourceOnce walks every page and compares
// the union with the snapshot's resources.
func TestResourcePagesWalkEveryResourceOnce(t *testing.T) {
	e := newEnv(t, smallEstate, Config{})
	all, err := e.st.Resources(context.Background(), e.latestSnap, store.ResourceFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"", "&type=iam_user", "&q=" + url.QueryEscape(strings.ToUpper(firstUser(e)[:3]))} {
		var got []model.Resource
		seen := map[string]bool{}
		next, pages := "", 0
		for {
			path := "/api/v1/resources?limit=7" + q
			if next != "" {
				path += "&cursor=" + url.QueryEscape(next)
			}
			status, _, body := e.do(t, "GET", path, e.read, nil)
			if status != 200 {
				t.Fatalf("%s: %d %s", path, status, body)
			}
			var page ResourcePage
			if err := json.Unmarshal(body, &page); err != nil {
				t.Fatal(err)
			}
			for _, r := range page.Items {
				if seen[r.ID] {
					t.Fatalf("resource %s on two pages", r.ID)
				}
				seen[r.ID] = true
			}
			got = append(got, page.Items...)
			pages++
			if page.NextCursor == "" {
				break
			}
			next = page.NextCursor
		}
		var want []model.Resource
		for _, r := range all {
			switch {
			case q == "&type=iam_user" && r.Type != model.ResourceType("iam_user"):
				continue
			case strings.HasPrefix(q, "&q=") && !strings.Contains(strings.ToLower(r.Name+r.ID), strings.ToLower(firstUser(e)[:3])) &&
				!strings.Contains(strings.ToLower(r.ID), strings.ToLower(firstUser(e)[:3])):
				continue
			}
			want = append(want, r)
		}
		gotJSON, _ := json.Marshal(got)
		wantJSON, _ := json.Marshal(want)
		if len(want) == 0 || !bytes.Equal(gotJSON, wantJSON) {
			t.Errorf("filter %q: %d resources in %d pages, want %d in the order of Resources", q, len(got), pages, len(want))
		}
	}
}

// heldPolicy is a managed policy of the latest snapshot that someone holds.
func heldPolicy(t *testing.T, e *env) string {
	t.Helper()
	ctx := context.Background()
	ps, err := e.st.Resources(ctx, e.latestSnap, store.ResourceFilter{Type: model.TypeIAMPolicy})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		ans, err := access.Query(ctx, e.st, e.latestSnap, p.ID)
		if err == nil && ans.Holders != nil && len(ans.Holders.Holders) > 0 {
			return p.ID
		}
	}
	t.Fatal("no managed policy is held")
	return ""
}
