package awsfake

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	istypes "github.com/aws/aws-sdk-go-v2/service/identitystore/types"
)

// scimCaller sends SCIM requests to the emulator with its token.
type scimCaller struct {
	t     *testing.T
	base  string
	token string
	creds Credentials // the management account's, for the other APIs
}

func newSCIM(t *testing.T, o Options, users int) (*Server, *OrgTruth, *scimCaller) {
	t.Helper()
	srv := NewServer(o)
	t.Cleanup(srv.Close)
	truth := OrgEstate{Accounts: 1, Seed: 4, PerAccount: Estate{Users: 1}, IdentityCenter: &IdentityCenterEstate{Users: users, Groups: 3, PermissionSets: 1}}.Build()
	creds := truth.Install(srv)
	return srv, truth, &scimCaller{t: t, base: srv.SCIMURL(), token: truth.IdentityCenter.SCIMToken, creds: creds}
}

// call sends one request and decodes the answer.
func (c *scimCaller) call(method, path string, body any) (int, map[string]any, http.Header) {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.base+path, rd)
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc map[string]any
	json.NewDecoder(resp.Body).Decode(&doc)
	return resp.StatusCode, doc, resp.Header
}

// ids lists every id of a listing, following whichever paging the
// endpoint answers with; it fails on a page that repeats an id.
func (c *scimCaller) ids(resource, filter string, cursor bool) []string {
	c.t.Helper()
	var out []string
	seen := map[string]bool{}
	q := url.Values{"count": {"100"}}
	if filter != "" {
		q.Set("filter", filter)
	}
	if cursor {
		q.Set("cursor", "")
	} else {
		q.Set("startIndex", "1")
	}
	for {
		status, doc, _ := c.call(http.MethodGet, "/"+resource+"?"+q.Encode(), nil)
		if status != http.StatusOK {
			c.t.Fatalf("list %s: %d %v", resource, status, doc)
		}
		res, _ := doc["Resources"].([]any)
		for _, r := range res {
			id := r.(map[string]any)["id"].(string)
			if seen[id] {
				c.t.Fatalf("list %s: %s twice", resource, id)
			}
			seen[id] = true
			out = append(out, id)
		}
		if cursor {
			next, _ := doc["nextCursor"].(string)
			if next == "" {
				return out
			}
			q.Set("cursor", next)
			continue
		}
		total := int(doc["totalResults"].(float64))
		if len(out) >= total || len(res) == 0 {
			return out
		}
		q.Set("startIndex", strconv.Itoa(len(out)+1))
	}
}

func TestSCIMPagesAsIdentityCenterAndAsRFC7644(t *testing.T) {
	_, truth, c := newSCIM(t, Options{}, 250)
	if got := c.ids("Users", "", true); len(got) != 250 {
		t.Errorf("cursor paging listed %d users, want 250", len(got))
	}
	// Identity Center: without a cursor one page with the total; startIndex
	// is not supported (ignored), and there is no cursor in the answer.
	_, doc, _ := c.call(http.MethodGet, "/Users?startIndex=101&count=100", nil)
	if doc["totalResults"].(float64) != 250 || doc["startIndex"].(float64) != 1 || len(doc["Resources"].([]any)) != 100 || doc["nextCursor"] != nil {
		t.Errorf("classic page: total %v start %v", doc["totalResults"], doc["startIndex"])
	}
	if status, _, _ := c.call(http.MethodGet, "/Users?count=101", nil); status != http.StatusBadRequest {
		t.Errorf("count 101 answered %d, want 400", status)
	}

	srv2, _, rfc := newSCIM(t, Options{SCIM: SCIMOptions{IndexPaging: true, PageSize: 40, GroupMembers: true}}, 250)
	if got := rfc.ids("Users", "", false); len(got) != 250 {
		t.Errorf("index paging listed %d users, want 250", len(got))
	}
	_, doc, _ = rfc.call(http.MethodGet, "/Users?startIndex=241&count=100", nil)
	if doc["totalResults"].(float64) != 250 || doc["startIndex"].(float64) != 241 || len(doc["Resources"].([]any)) != 10 || doc["nextCursor"] != nil {
		t.Errorf("last index page: %v", doc)
	}
	// Groups list their members, which agree with the groups.value filter.
	for _, gid := range rfc.ids("Groups", "", false) {
		_, g, _ := rfc.call(http.MethodGet, "/Groups/"+gid, nil)
		members := g["members"].([]any)
		if n := len(rfc.ids("Users", `groups.value eq "`+gid+`"`, false)); n != len(members) || n != len(srv2.IdentityCenter().Groups[gid].Members) {
			t.Errorf("group %s lists %d members, the filter %d", gid, len(members), n)
		}
	}
	_ = truth
}

func TestSCIMCursorSurvivesChangesBetweenPages(t *testing.T) {
	srv, _, c := newSCIM(t, Options{}, 150)
	_, first, _ := c.call(http.MethodGet, "/Users?cursor=&count=100", nil)
	page := first["Resources"].([]any)
	// A user of the first page is deleted before the second is asked.
	c.call(http.MethodDelete, "/Users/"+page[10].(map[string]any)["id"].(string), nil)
	_, second, _ := c.call(http.MethodGet, "/Users?count=100&cursor="+url.QueryEscape(first["nextCursor"].(string)), nil)
	if n := len(second["Resources"].([]any)); n != 50 {
		t.Errorf("second page holds %d users after a delete on the first, want the other 50", n)
	}
	if status, _, _ := c.call(http.MethodGet, "/Users?cursor=garbage", nil); status != http.StatusBadRequest {
		t.Errorf("a bad cursor answered %d", status)
	}
	_ = srv
}

func TestSCIMFiltersUseTheIndexAndSeeIdentityStoreWrites(t *testing.T) {
	srv, truth, c := newSCIM(t, Options{}, 30)
	var one *SSOUser
	for _, id := range sortedKeys(truth.IdentityCenter.Users) {
		if u := truth.IdentityCenter.Users[id]; u.ExternalID != "" {
			one = u
			break
		}
	}
	if one == nil {
		t.Fatal("the estate has no user with an external id")
	}
	for _, f := range []string{`userName eq "` + one.UserName + `"`, `USERNAME eq "` + one.UserName + `"`, `externalId eq "` + one.ExternalID + `"`, `id eq "` + one.ID + `"`} {
		if got := c.ids("Users", f, true); len(got) != 1 || got[0] != one.ID {
			t.Errorf("filter %s found %v", f, got)
		}
	}
	// A user created through the Identity Store API is found by the next
	// SCIM filter: the index does not go stale.
	ids := identitystore.NewFromConfig(sdkConfig(srv, c.creds))
	out, err := ids.CreateUser(context.Background(), &identitystore.CreateUserInput{IdentityStoreId: aws.String(truth.IdentityCenter.IdentityStoreID),
		UserName: aws.String("fresh@example.com"), DisplayName: aws.String("Fresh"),
		Name: &istypes.Name{GivenName: aws.String("Fresh"), FamilyName: aws.String("User")}})
	if err != nil {
		t.Fatalf("create a user through the Identity Store API: %v", err)
	}
	if got := c.ids("Users", `userName eq "fresh@example.com"`, true); len(got) != 1 || got[0] != aws.ToString(out.UserId) {
		t.Errorf("a user made through the Identity Store API is not found by userName: %v", got)
	}
	if got := c.ids("Users", "", true); len(got) != 31 {
		t.Errorf("listing holds %d users, want 31", len(got))
	}
}

func TestSCIMPatchUserFollowsRFC7644(t *testing.T) {
	_, _, c := newSCIM(t, Options{}, 0)
	status, u, _ := c.call(http.MethodPost, "/Users", map[string]any{"userName": "ann@example.com", "displayName": "Ann", "title": "Eng",
		"name": map[string]string{"givenName": "Ann", "familyName": "Lee"}})
	if status != http.StatusCreated {
		t.Fatalf("create: %d %v", status, u)
	}
	id := u["id"].(string)
	patch := func(ops ...map[string]any) (int, map[string]any) {
		status, doc, _ := c.call(http.MethodPatch, "/Users/"+id, map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"}, "Operations": ops})
		return status, doc
	}
	// Replace through a value filter that matches nothing: 400 noTarget,
	// and nothing of the request applies.
	status, doc := patch(map[string]any{"op": "replace", "path": "title", "value": "Staff"},
		map[string]any{"op": "replace", "path": `emails[type eq "work"].value`, "value": "ann@example.com"})
	if status != http.StatusBadRequest || doc["scimType"] != "noTarget" {
		t.Errorf("replace of a missing work e-mail: %d %v, want 400 noTarget", status, doc)
	}
	if _, got, _ := c.call(http.MethodGet, "/Users/"+id, nil); got["title"] != "Eng" {
		t.Errorf("a failed PATCH applied part of itself: title %v", got["title"])
	}
	if status, doc = patch(map[string]any{"op": "add", "path": "emails", "value": []map[string]any{{"value": "ann@example.com", "type": "work", "primary": true}}}); status != http.StatusOK {
		t.Errorf("add of an e-mail: %d %v", status, doc)
	}
	if status, _ = patch(map[string]any{"op": "replace", "path": `emails[type eq "work"].value`, "value": "ann2@example.com"}); status != http.StatusOK {
		t.Errorf("replace of the work e-mail: %d", status)
	}
	if status, doc = patch(map[string]any{"op": "replace", "path": "title", "value": ""}); status != http.StatusBadRequest {
		t.Errorf("replace with an empty value: %d, want 400 (a value is required)", status)
	}
	if status, _ = patch(map[string]any{"op": "remove", "path": "title"}, map[string]any{"op": "remove", "path": "emails"}); status != http.StatusOK {
		t.Errorf("remove: %d", status)
	}
	if _, got, _ := c.call(http.MethodGet, "/Users/"+id, nil); got["title"] != nil || got["emails"] != nil {
		t.Errorf("after remove: %v", got)
	}
	for _, path := range []string{"userName", "active", "name.givenName"} {
		if status, _ = patch(map[string]any{"op": "remove", "path": path}); status != http.StatusBadRequest {
			t.Errorf("remove %s: %d, want 400", path, status)
		}
	}
	if status, _ = patch(map[string]any{"op": "replace", "path": "active", "value": false}, map[string]any{"op": "replace", "path": "active", "value": true}); status != http.StatusBadRequest {
		t.Errorf("two operations on active: %d, want 400", status)
	}
	if status, doc, _ = c.call(http.MethodPost, "/Users", map[string]any{"userName": "ANN@example.com", "displayName": "A",
		"name": map[string]string{"givenName": "A", "familyName": "B"}}); status != http.StatusConflict || doc["scimType"] != "uniqueness" {
		t.Errorf("duplicate userName: %d %v, want 409 uniqueness", status, doc)
	}
}

func TestSCIMInjectedFailures(t *testing.T) {
	_, _, c := newSCIM(t, Options{SCIM: SCIMOptions{UnauthorizedAfter: 2}}, 5)
	for i, want := range []int{200, 200, 401, 401} {
		if status, _, _ := c.call(http.MethodGet, "/Users", nil); status != want {
			t.Errorf("request %d answered %d, want %d", i+1, status, want)
		}
	}
	srv, truth, c := newSCIM(t, Options{SCIM: SCIMOptions{ForbiddenAfter: 1}}, 5)
	if status, _, _ := c.call(http.MethodGet, "/Users", nil); status != 200 {
		t.Errorf("first request answered %d", status)
	}
	if status, doc, h := c.call(http.MethodGet, "/Users", nil); status != 403 || h.Get("X-Amzn-Errortype") != "AccessDeniedException" {
		t.Errorf("second request answered %d %v", status, doc)
	}
	// New options start the count again.
	srv.SetOptions(Options{SCIM: SCIMOptions{RetryAfter: 1500 * time.Millisecond},
		AccountFaults: map[string]Faults{truth.IdentityCenter.OwnerAccountID: {ThrottleEvery: 1 + 1}}})
	var got []string
	for i := 0; i < 2; i++ {
		status, _, h := c.call(http.MethodGet, "/Users", nil)
		got = append(got, fmt.Sprintf("%d/%s", status, h.Get("Retry-After")))
	}
	if !(got[0] == "200/" && got[1] == "429/2" || got[0] == "429/2" && got[1] == "200/") {
		t.Errorf("answers %v, want a 200 and a 429 with Retry-After: 2 (1.5 s rounded up)", got)
	}
}

// TestSCIMRenameOntoATakenUserName: PUT and PATCH that would give a user
// another user's userName (compared without case) answer 409 uniqueness
// and change nothing; the user's own name, in another case, is no conflict,
// and the new name is then found by filter.
func TestSCIMRenameOntoATakenUserName(t *testing.T) {
	_, _, c := newSCIM(t, Options{}, 0)
	user := func(name, title string) map[string]any {
		return map[string]any{"userName": name, "displayName": name, "title": title, "name": map[string]string{"givenName": "A", "familyName": "B"}}
	}
	ids := map[string]string{}
	for _, name := range []string{"ann", "bob"} {
		status, u, _ := c.call(http.MethodPost, "/Users", user(name, "Eng"))
		if status != http.StatusCreated {
			t.Fatalf("create %s: %d %v", name, status, u)
		}
		ids[name] = u["id"].(string)
	}
	if status, doc, _ := c.call(http.MethodPut, "/Users/"+ids["bob"], user("ANN", "Staff")); status != http.StatusConflict || doc["scimType"] != "uniqueness" {
		t.Errorf("PUT onto a taken userName: %d %v, want 409 uniqueness", status, doc)
	}
	patch := map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"}, "Operations": []map[string]any{
		{"op": "replace", "path": "title", "value": "Staff"}, {"op": "replace", "path": "userName", "value": "Ann"}}}
	if status, doc, _ := c.call(http.MethodPatch, "/Users/"+ids["bob"], patch); status != http.StatusConflict {
		t.Errorf("PATCH onto a taken userName: %d %v, want 409", status, doc)
	}
	if _, got, _ := c.call(http.MethodGet, "/Users/"+ids["bob"], nil); got["userName"] != "bob" || got["title"] != "Eng" {
		t.Errorf("a refused rename changed the user: %v", got)
	}
	if status, doc, _ := c.call(http.MethodPut, "/Users/"+ids["bob"], user("BOB2", "Staff")); status != http.StatusOK {
		t.Fatalf("PUT with a free userName: %d %v", status, doc)
	}
	if got := c.ids("Users", `userName eq "bob2"`, true); len(got) != 1 || got[0] != ids["bob"] {
		t.Errorf("filter on the new name = %v, want [%s]", got, ids["bob"])
	}
	if got := c.ids("Users", `userName eq "bob"`, true); len(got) != 0 {
		t.Errorf("filter on the old name = %v, want none", got)
	}
	if status, doc, _ := c.call(http.MethodPost, "/Users", user("bob", "New")); status != http.StatusCreated {
		t.Errorf("create a user of the name given up: %d %v, want 201", status, doc)
	}
	if status, doc, _ := c.call(http.MethodPut, "/Users/"+ids["ann"], user("ANN", "Lead")); status != http.StatusOK {
		t.Errorf("PUT of a user's own name in another case: %d %v, want 200", status, doc)
	}
}
