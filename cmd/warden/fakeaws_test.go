package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	istypes "github.com/aws/aws-sdk-go-v2/service/identitystore/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"

	"github.com/warden-iam/warden/internal/store"
)

// TestFakeAWSEmpty: `fake-aws --empty` serves an account with nothing in
// it, which the SDK builds and warden then syncs.
func TestFakeAWSEmpty(t *testing.T) {
	isolateAWSConfig(t)
	env := startFakeAWS(t, "--empty")
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "AWS_ENDPOINT_URL"} {
		t.Setenv(k, env[k])
	}
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	client := iam.NewFromConfig(cfg)
	users, err := client.ListUsers(ctx, &iam.ListUsersInput{})
	if err != nil || len(users.Users) != 0 {
		t.Fatalf("ListUsers on --empty = %v, %v; want no users", users, err)
	}
	for _, name := range []string{"ann", "bob"} {
		if _, err := client.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)}); err != nil {
			t.Fatal(err)
		}
	}
	db := filepath.Join(t.TempDir(), "w.db")
	var out, errOut bytes.Buffer
	if code := run(ctx, []string{"--db", db, "sync", "-o", "json"}, &out, &errOut); code != 0 {
		t.Fatalf("sync against fake-aws --empty exited %d: %s", code, errOut.String())
	}
	sum := decodeSummaries(t, out.String())[0]
	if sum.Snapshot.Counts["iam_user"] != 2 || sum.Snapshot.Counts["iam_role"] != 0 {
		t.Errorf("sync of the built account counts %v, want 2 users and no roles", sum.Snapshot.Counts)
	}
}

func TestFakeAWSEmptyRefusesAnEstate(t *testing.T) {
	for _, args := range [][]string{{"--empty", "--accounts", "2"}, {"--empty", "--users", "10"}} {
		var out, errOut bytes.Buffer
		code := run(context.Background(), append([]string{"fake-aws", "--listen", "127.0.0.1:0"}, args...), &out, &errOut)
		if code != 2 || !strings.Contains(errOut.String(), "--empty") || !strings.Contains(errOut.String(), "fix:") {
			t.Errorf("fake-aws %v: exit %d, stderr %q; want a usage error naming --empty", args, code, errOut.String())
		}
	}
}

// TestFakeAWSEmptyIdentityCenter: `fake-aws --empty --identity-center`
// serves what the console's Enable leaves in a standalone account: an
// organization it manages, with no members, and an Identity Center
// instance with nothing in it, which the SDK sees and builds.
func TestFakeAWSEmptyIdentityCenter(t *testing.T) {
	isolateAWSConfig(t)
	env := startFakeAWS(t, "--empty", "--identity-center")
	cfg := fakeAWSConfig(t, env)
	ctx := context.Background()
	org, err := organizations.NewFromConfig(cfg).DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	if err != nil || aws.ToString(org.Organization.MasterAccountId) != fakeAWSAccount {
		t.Fatalf("DescribeOrganization = %+v, %v; want an organization managed by %s", org, err, fakeAWSAccount)
	}
	inst, err := ssoadmin.NewFromConfig(cfg).ListInstances(ctx, &ssoadmin.ListInstancesInput{})
	if err != nil || len(inst.Instances) != 1 || aws.ToString(inst.Instances[0].OwnerAccountId) != fakeAWSAccount {
		t.Fatalf("ListInstances = %+v, %v; want one instance owned by %s", inst, err, fakeAWSAccount)
	}
	is := identitystore.NewFromConfig(cfg)
	storeID := inst.Instances[0].IdentityStoreId
	users, err := is.ListUsers(ctx, &identitystore.ListUsersInput{IdentityStoreId: storeID})
	if err != nil || len(users.Users) != 0 {
		t.Fatalf("ListUsers = %+v, %v; want an empty identity store", users, err)
	}
	if _, err := is.CreateUser(ctx, &identitystore.CreateUserInput{IdentityStoreId: storeID, UserName: aws.String("ann"),
		DisplayName: aws.String("Ann"), Name: &istypes.Name{GivenName: aws.String("Ann"), FamilyName: aws.String("Example")}}); err != nil {
		t.Fatal(err)
	}
	if page := scimGet(t, env, "/Users"); page.TotalResults != 1 || len(page.Resources) != 1 || page.Resources[0].UserName != "ann" {
		t.Errorf("SCIM /Users after CreateUser = %+v; want ann", page)
	}
	// fake-aws prints `warden sync --identity-center` to sync it with.
	db := filepath.Join(t.TempDir(), "w.db")
	var out, errOut bytes.Buffer
	if code := run(ctx, []string{"--db", db, "sync", "--identity-center", "-o", "json"}, &out, &errOut); code != 0 {
		t.Fatalf("sync --identity-center against fake-aws --empty --identity-center exited %d: %s", code, errOut.String())
	}
	sum := decodeSummaries(t, out.String())[0]
	if sum.Snapshot.Counts["sso_user"] != 1 || sum.Snapshot.Counts["iam_user"] != 0 {
		t.Errorf("sync of the built Identity Center counts %v, want 1 Identity Center user and no IAM users", sum.Snapshot.Counts)
	}
}

// TestFakeAWSSCIMIndexPaging: --scim-paging index pages SCIM listings by
// RFC 7644 startIndex and count (at most --scim-page-size a page), where
// Identity Center's default ignores startIndex and answers the first page.
func TestFakeAWSSCIMIndexPaging(t *testing.T) {
	isolateAWSConfig(t)
	all := []string{"u0", "u1", "u2", "u3"}
	for _, tc := range []struct {
		args   []string
		starts []int // the startIndex of each answer to startIndex=1, then =3
		pages  []int // and its size
		union  []string
	}{
		{[]string{"--scim-paging", "index", "--scim-page-size", "2"}, []int{1, 3}, []int{2, 2}, all},
		{nil, []int{1, 1}, []int{3, 3}, nil}, // union: the first page twice
	} {
		env := startFakeAWS(t, append([]string{"--empty", "--identity-center"}, tc.args...)...)
		cfg := fakeAWSConfig(t, env)
		ctx := context.Background()
		inst, err := ssoadmin.NewFromConfig(cfg).ListInstances(ctx, &ssoadmin.ListInstancesInput{})
		if err != nil || len(inst.Instances) != 1 {
			t.Fatalf("ListInstances = %+v, %v", inst, err)
		}
		is := identitystore.NewFromConfig(cfg)
		for _, name := range all {
			if _, err := is.CreateUser(ctx, &identitystore.CreateUserInput{IdentityStoreId: inst.Instances[0].IdentityStoreId, UserName: aws.String(name),
				DisplayName: aws.String(name), Name: &istypes.Name{GivenName: aws.String(name), FamilyName: aws.String("Example")}}); err != nil {
				t.Fatal(err)
			}
		}
		var got, first []string
		for i, start := range []int{1, 3} {
			page := scimGet(t, env, fmt.Sprintf("/Users?startIndex=%d&count=3", start))
			if page.TotalResults != 4 || page.StartIndex != tc.starts[i] || page.ItemsPerPage != tc.pages[i] || len(page.Resources) != tc.pages[i] {
				t.Errorf("fake-aws %v: SCIM /Users?startIndex=%d&count=3 = total %d, start %d, per page %d, %d users; want 4, %d, %d, %d",
					tc.args, start, page.TotalResults, page.StartIndex, page.ItemsPerPage, len(page.Resources), tc.starts[i], tc.pages[i], tc.pages[i])
			}
			var names []string
			for _, r := range page.Resources {
				names = append(names, r.UserName)
			}
			if i == 0 {
				first = names
			} else if tc.union == nil && !slices.Equal(names, first) {
				t.Errorf("fake-aws %v: startIndex=3 answered %v, not the first page %v", tc.args, names, first)
			}
			got = append(got, names...)
		}
		slices.Sort(got)
		if tc.union != nil && !slices.Equal(got, tc.union) {
			t.Errorf("fake-aws %v: the pages hold %v; want each user once, %v", tc.args, got, tc.union)
		}
	}
}

// TestFakeAWSSCIMRetryAfter: with --scim-retry-after, a throttled SCIM
// request's 429 carries Retry-After in whole seconds, rounded up; without
// it, none, as Identity Center sends.
func TestFakeAWSSCIMRetryAfter(t *testing.T) {
	for _, tc := range []struct{ args, want string }{{"1500ms", "2"}, {"", ""}} {
		args := []string{"--empty", "--identity-center", "--throttle-fraction", "1"}
		if tc.args != "" {
			args = append(args, "--scim-retry-after", tc.args)
		}
		env := startFakeAWS(t, args...)
		req, err := http.NewRequest(http.MethodGet, env["WARDEN_SCIM_ENDPOINT"]+"/Users", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+env["WARDEN_SCIM_TOKEN"])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != tc.want {
			t.Errorf("--scim-retry-after %q: %s, Retry-After %q; want 429 and %q", tc.args, resp.Status, resp.Header.Get("Retry-After"), tc.want)
		}
	}
}

func TestFakeAWSIdentityCenterFlagsRefused(t *testing.T) {
	for _, tc := range []struct {
		args []string
		flag string
	}{
		{[]string{"--identity-center"}, "--identity-center"},
		{[]string{"--accounts", "2", "--identity-center"}, "--identity-center"},
		{[]string{"--empty", "--scim-paging", "index"}, "--scim-paging"},
		{[]string{"--scim-group-members"}, "--scim-group-members"},
		{[]string{"--empty", "--identity-center", "--scim-paging", "offset"}, "--scim-paging"},
		{[]string{"--empty", "--identity-center", "--scim-page-size", "10"}, "--scim-page-size"},
		{[]string{"--empty", "--identity-center", "--scim-paging", "index", "--scim-page-size", "0"}, "--scim-page-size"},
		{[]string{"--empty", "--identity-center", "--scim-retry-after", "-1s"}, "--scim-retry-after"},
		{[]string{"--scim-retry-after", "2s"}, "--scim-retry-after"},
	} {
		var out, errOut bytes.Buffer
		code := run(context.Background(), append([]string{"fake-aws", "--listen", "127.0.0.1:0"}, tc.args...), &out, &errOut)
		if code != 2 || !strings.Contains(errOut.String(), tc.flag) || !strings.Contains(errOut.String(), "fix:") || out.Len() != 0 {
			t.Errorf("fake-aws %v: exit %d, stdout %q, stderr %q; want a usage error naming %s", tc.args, code, out.String(), errOut.String(), tc.flag)
		}
	}
}

// fakeAWSConfig is an SDK configuration for the emulator startFakeAWS
// started, from the environment it printed.
func fakeAWSConfig(t *testing.T, env map[string]string) aws.Config {
	t.Helper()
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "AWS_ENDPOINT_URL"} {
		t.Setenv(k, env[k])
	}
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// scimPage is a SCIM ListResponse of users.
type scimPage struct {
	TotalResults int `json:"totalResults"`
	StartIndex   int `json:"startIndex"`
	ItemsPerPage int `json:"itemsPerPage"`
	Resources    []struct {
		UserName string `json:"userName"`
	} `json:"Resources"`
}

// scimGet reads path from the SCIM endpoint fake-aws printed, with its
// token.
func scimGet(t *testing.T, env map[string]string, path string) scimPage {
	t.Helper()
	if env["WARDEN_SCIM_ENDPOINT"] == "" || env["WARDEN_SCIM_TOKEN"] == "" {
		t.Fatalf("fake-aws printed no SCIM endpoint and token: %v", env)
	}
	req, err := http.NewRequest(http.MethodGet, env["WARDEN_SCIM_ENDPOINT"]+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+env["WARDEN_SCIM_TOKEN"])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var page scimPage
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", path, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
		t.Fatal(err)
	}
	return page
}

// TestFakeAWSGeneratesActivity: `fake-aws` serves its estate's activity,
// and a sync of a connection asking for activity reads some: CloudTrail
// events, and IAM last accessed data within the connection's budget.
func TestFakeAWSGeneratesActivity(t *testing.T) {
	env := useFakeAWS(t, "--users", "6")
	t.Setenv("WARDEN_CONFIG", "")
	dir := t.TempDir()
	cfg, db := filepath.Join(dir, "warden.yaml"), filepath.Join(dir, "w.db")
	file := `version: 1
connections:
  - id: fake
    endpoint: ` + env["AWS_ENDPOINT_URL"] + `
    activity:
      lookback: 90d
      last_accessed: all
      call_budget: 9
`
	if err := os.WriteFile(cfg, []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	out, stderr, code := runIn(t, db, "--config", cfg, "sync", "-o", "json")
	if code != 0 {
		t.Fatalf("sync exited %d: %s", code, stderr)
	}
	var sum struct {
		Activity struct {
			Events       int `json:"events"`
			LastAccessed struct {
				Covered, Wanted, Calls, Budget int
			} `json:"last_accessed"`
		} `json:"activity"`
	}
	if err := json.Unmarshal([]byte(out), &sum); err != nil {
		t.Fatalf("sync -o json printed %q: %v", out, err)
	}
	la := sum.Activity.LastAccessed
	if sum.Activity.Events == 0 || la.Covered != 3 || la.Calls > 9 || la.Budget != 9 || la.Wanted <= la.Covered {
		t.Fatalf("activity read from fake-aws: %+v", sum.Activity)
	}
	st, err := store.OpenSQLite(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	recs, err := st.LastAccessed(context.Background(), "fake", "")
	if err != nil || len(recs) != 3 {
		t.Fatalf("stored last accessed data of %d principals (%v), want 3", len(recs), err)
	}
	evs, err := st.Activity(context.Background(), "fake", "", time.Time{})
	if err != nil || len(evs) != sum.Activity.Events {
		t.Errorf("stored %d events (%v), the sync read %d", len(evs), err, sum.Activity.Events)
	}

	// `warden findings` reports, from exactly that stored data, the
	// services each covered principal was granted and has not used for 90
	// days (never, or last used before), for principals older than that.
	out, stderr, code = runIn(t, db, "--config", cfg, "--connection", "fake", "findings", "-o", "json")
	if code != 0 {
		t.Fatalf("findings exited %d: %s", code, stderr)
	}
	var f struct {
		Read   bool `json:"last_accessed_read"`
		Unused []struct {
			ID     string `json:"id"`
			Unused []struct {
				Namespace string `json:"namespace"`
			} `json:"unused"`
			Policy string `json:"policy"`
		} `json:"unused_services"`
	}
	if err := json.Unmarshal([]byte(out), &f); err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{}
	for _, r := range recs {
		var svcs []struct {
			Namespace string     `json:"namespace"`
			Last      *time.Time `json:"last_authenticated"`
		}
		if err := json.Unmarshal(r.Services, &svcs); err != nil {
			t.Fatal(err)
		}
		for _, s := range svcs {
			if s.Last == nil || time.Since(*s.Last) > 90*24*time.Hour {
				want[r.Principal] = append(want[r.Principal], s.Namespace)
			}
		}
	}
	var raw struct {
		Unused []map[string]json.RawMessage `json:"unused_services"`
	}
	if err := json.Unmarshal([]byte(out), &raw); err != nil {
		t.Fatal(err)
	}
	for _, u := range raw.Unused {
		for _, k := range []string{"id", "principal", "read_at", "granted", "unused", "used", "policy"} {
			if _, ok := u[k]; !ok {
				t.Errorf("an unused_services element lacks the documented key %q: %v", k, u)
			}
		}
		var svcs []map[string]json.RawMessage
		_ = json.Unmarshal(u["unused"], &svcs)
		for _, s := range svcs {
			for _, k := range []string{"namespace", "name", "last_used"} {
				if _, ok := s[k]; !ok {
					t.Errorf("an unused service lacks the documented key %q: %v", k, s)
				}
			}
		}
	}
	// `warden access` shows a covered principal's services as stored.
	out, stderr, code = runIn(t, db, "--config", cfg, "--connection", "fake", "access", recs[0].Principal, "-o", "json")
	if code != 0 {
		t.Fatalf("access %s exited %d: %s", recs[0].Principal, code, stderr)
	}
	var acc struct {
		LastAccessed *struct {
			Principal string          `json:"principal"`
			Services  json.RawMessage `json:"services"`
		} `json:"last_accessed"`
	}
	if err := json.Unmarshal([]byte(out), &acc); err != nil {
		t.Fatal(err)
	}
	type svc struct {
		Namespace string     `json:"namespace"`
		Name      string     `json:"name"`
		Last      *time.Time `json:"last_authenticated"`
	}
	var gotSvcs, wantSvcs []svc
	if acc.LastAccessed != nil {
		_ = json.Unmarshal(acc.LastAccessed.Services, &gotSvcs)
	}
	_ = json.Unmarshal(recs[0].Services, &wantSvcs)
	if acc.LastAccessed == nil || acc.LastAccessed.Principal != recs[0].Principal || len(wantSvcs) == 0 || !reflect.DeepEqual(gotSvcs, wantSvcs) {
		t.Errorf("access %s: last_accessed = %+v, want the stored services %s", recs[0].Principal, acc.LastAccessed, recs[0].Services)
	}
	text, _, _ := runIn(t, db, "--config", cfg, "--connection", "fake", "access", recs[0].Principal)
	if !strings.Contains(text, "Services last accessed (IAM, read ") {
		t.Errorf("access %s in text has no last accessed table:\n%s", recs[0].Principal, text)
	}
	if !f.Read || len(f.Unused) == 0 {
		t.Errorf("findings: last_accessed_read %v, %d principals with unused services; want true and some", f.Read, len(f.Unused))
	}
	for _, u := range f.Unused {
		var got []string
		for _, s := range u.Unused {
			got = append(got, s.Namespace)
		}
		slices.Sort(got)
		w := slices.Clone(want[u.ID])
		slices.Sort(w)
		if !slices.Equal(got, w) || u.Policy == "" {
			t.Errorf("unused services of %s = %v (policy %q), want %v", u.ID, got, u.Policy, w)
		}
		delete(want, u.ID)
	}
	for p, w := range want {
		// A principal created within the 90 days is not judged; fake-aws's
		// estate dates its principals years back.
		t.Errorf("findings lack the unused services %v of %s", w, p)
	}
}
