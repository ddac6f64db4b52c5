package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/warden-iam/warden/awsfake"
	"github.com/warden-iam/warden/internal/store"
)

// activityOrg is the organization of the activity tests: a management
// account and four members, whose member 200000000002 refuses
// cloudtrail:LookupEvents (its role lacks the permission).
type activityOrg struct {
	srv    *awsfake.Server
	truth  *awsfake.OrgTruth
	cfg    string
	db     string
	denied string
	creds  awsfake.Credentials // the management account's
}

// activityExternalID is the ExternalId the activity tests' member roles
// require.
const activityExternalID = "activity-test-external-id-0000000000"

// newActivityOrg serves the organization with its generated activity,
// points the AWS environment at it, and writes a warden.yaml whose
// connection "org" reads activity with lookback (and extra keys).
func newActivityOrg(t *testing.T, lookback string, extra string) *activityOrg {
	t.Helper()
	return buildActivityOrg(t, awsfake.OrgEstate{Accounts: 4, Seed: 11, ExternalID: activityExternalID,
		PerAccount: awsfake.Estate{Users: 8, Roles: 6, Groups: 2}}, "200000000002", lookback, extra)
}

// buildActivityOrg serves est (its account denied refusing LookupEvents,
// none when ""), as newActivityOrg does.
func buildActivityOrg(t *testing.T, est awsfake.OrgEstate, denied, lookback, extra string) *activityOrg {
	t.Helper()
	return buildActivityOrgAt(t, est, denied, lookback, extra, nil)
}

// buildActivityOrgAt is buildActivityOrg with the emulator's clock (nil:
// time.Now).
func buildActivityOrgAt(t *testing.T, est awsfake.OrgEstate, denied, lookback, extra string, now func() time.Time) *activityOrg {
	t.Helper()
	isolateAWSConfig(t)
	o := &activityOrg{denied: denied}
	var faults map[string]awsfake.ActionFault
	if denied != "" {
		faults = map[string]awsfake.ActionFault{"cloudtrail:LookupEvents": {
			Status: 400, Code: "AccessDeniedException", Account: o.denied,
			Message: "User: arn:aws:sts::" + o.denied + ":assumed-role/OrganizationAccountAccessRole/warden is not authorized to perform: cloudtrail:LookupEvents"}}
	}
	o.srv = awsfake.NewServer(awsfake.Options{ActionFaults: faults, Now: now})
	t.Cleanup(o.srv.Close)
	o.truth = est.Build()
	c := o.truth.Install(o.srv)
	o.creds = c
	o.srv.GenerateActivity()
	for k, v := range map[string]string{"AWS_ACCESS_KEY_ID": c.AccessKeyID, "AWS_SECRET_ACCESS_KEY": c.SecretAccessKey,
		"AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": ""} {
		t.Setenv(k, v)
	}
	t.Setenv("WARDEN_CONFIG", "")
	t.Setenv("WARDEN_DB", "")
	t.Setenv("WARDEN_EXTERNAL_ID", activityExternalID)
	dir := t.TempDir()
	o.cfg, o.db = filepath.Join(dir, "warden.yaml"), filepath.Join(dir, "w.db")
	file := `version: 1
connections:
  - id: org
    endpoint: ` + o.srv.URL() + `
    organization:
      enabled: true
      external_id_env: WARDEN_EXTERNAL_ID
    activity:
      lookback: ` + lookback + "\n" + extra + "\n"
	if err := os.WriteFile(o.cfg, []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	return o
}

// accounts returns the organization's account IDs.
func (o *activityOrg) accounts() []string {
	ids := []string{o.truth.Management.ID}
	for _, m := range o.truth.Members {
		ids = append(ids, m.ID)
	}
	return ids
}

// regions returns the regions warden reads in an account by default:
// us-east-1 and every region where a role or access key of the account
// was last used within 90 days.
func (o *activityOrg) regions(a *awsfake.Account) []string {
	set := map[string]bool{"us-east-1": true}
	recent := func(t *time.Time) bool { return t != nil && time.Since(*t) <= 90*24*time.Hour }
	for _, r := range a.IAM.Roles {
		if recent(r.LastUsed) && r.LastUsedRegion != "" {
			set[r.LastUsedRegion] = true
		}
	}
	for _, u := range a.IAM.Users {
		for _, k := range u.AccessKeys {
			if recent(k.LastUsed) && k.LastUsedRegion != "N/A" {
				set[k.LastUsedRegion] = true
			}
		}
	}
	var out []string
	for r := range set {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}

// account returns the emulated account of an ID.
func (o *activityOrg) account(id string) *awsfake.Account {
	if id == o.truth.Management.ID {
		return o.truth.Management
	}
	for _, m := range o.truth.Members {
		if m.ID == id {
			return m
		}
	}
	return nil
}

// eventLine is one event as the comparison sees it.
func eventLine(id, account, region, name string, at time.Time, actor string) string {
	return fmt.Sprintf("%s %s/%s %s %s %s", id, account, region, name, at.UTC().Format(time.RFC3339), actor)
}

// truthLines returns every event awsfake can still show of the accounts
// warden reads (the denied one apart), as lines, sorted.
func (o *activityOrg) truthLines() []string {
	var out []string
	for _, id := range o.accounts() {
		if id == o.denied {
			continue
		}
		for _, region := range o.srv.EventRegions(id) {
			for _, e := range o.srv.Events(id, region) {
				out = append(out, eventLine(e.ID, id, region, e.Name, e.Time, e.IdentityARN))
			}
		}
	}
	sort.Strings(out)
	return out
}

// storedLines returns the events warden stored for the connection, as
// lines, sorted.
func (o *activityOrg) storedLines(t *testing.T) []string {
	t.Helper()
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, o.db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	recs, err := st.Activity(ctx, "org", "", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range recs {
		out = append(out, eventLine(r.EventID, r.Account, r.Region, r.Name, r.At, r.ActorARN))
	}
	sort.Strings(out)
	return out
}

// activitySummary is the activity part of `sync -o json`.
type activitySummary struct {
	syncSummary
	Activity *struct {
		AccountRegions int `json:"account_regions"`
		Events         int `json:"events"`
		New            int `json:"new"`
		Calls          int `json:"calls"`
		Failed         int `json:"failed"`
	} `json:"activity"`
	// APICalls is the snapshot's calls by action.
	APICalls map[string]int64 `json:"-"`
}

// syncActivity runs `warden sync -o json` and returns its summary; a
// partial sync (the denied account) exits 3.
func (o *activityOrg) sync(t *testing.T) activitySummary {
	t.Helper()
	out, stderr, code := runIn(t, o.db, "--config", o.cfg, "sync", "-o", "json")
	want := exitOK
	if o.denied != "" {
		want = exitPartial // the denied account's activity
	}
	if code != want {
		t.Fatalf("sync exited %d, want %d: %s\n%s", code, want, stderr, out)
	}
	var s activitySummary
	var calls struct {
		Snapshot struct {
			APICalls map[string]int64 `json:"api_calls"`
		} `json:"snapshot"`
	}
	if err := json.Unmarshal([]byte(out), &s); err != nil || json.Unmarshal([]byte(out), &calls) != nil {
		t.Fatalf("sync -o json printed %q: %v", out, err)
	}
	s.APICalls = calls.Snapshot.APICalls
	if s.Activity == nil {
		t.Fatalf("sync -o json has no activity: %s", out)
	}
	return s
}

// TestSyncReadsActivity: `warden sync` of an organization whose connection
// reads activity stores exactly the events awsfake holds for every account
// and region it reads; the account that refuses LookupEvents is a partial
// failure with its fix while everything else syncs; a second sync makes one
// call per account and region and reads only the events recorded since
// (warden's own role assumptions), none twice.
func TestSyncReadsActivity(t *testing.T) {
	o := newActivityOrg(t, "90d", "")
	first := o.sync(t)
	snap := first.Snapshot
	if snap.Accounts.Read != 5 {
		t.Errorf("accounts read %d, want 5: a refused LookupEvents does not stop the account's IAM", snap.Accounts.Read)
	}
	deniedRegions := o.regions(o.account(o.denied))
	var cloudtrail int
	for _, e := range snap.Errors {
		if e.Source != "cloudtrail" {
			t.Errorf("unexpected failure %+v", e)
			continue
		}
		cloudtrail++
		if e.AccountID != o.denied || !strings.Contains(e.Message, "refused") || !strings.Contains(e.Fix, "cloudtrail:LookupEvents") ||
			!strings.Contains(e.Fix, "warden setup policy") {
			t.Errorf("failure %+v: want account %s refused, with the fix naming cloudtrail:LookupEvents and the setup policy", e, o.denied)
		}
	}
	if cloudtrail != len(deniedRegions) {
		t.Errorf("%d cloudtrail failures, want one per region of the denied account (%v)", cloudtrail, deniedRegions)
	}
	t.Logf("first sync: %+v, errors %d", *first.Activity, len(snap.Errors))
	truth, stored := o.truthLines(), o.storedLines(t)
	if len(truth) == 0 || !slices.Equal(truth, stored) {
		t.Fatalf("stored %d events, awsfake has %d:\nstored %v\ntruth  %v", len(stored), len(truth), stored, truth)
	}
	wantRegions := 0
	for _, id := range o.accounts() {
		wantRegions += len(o.regions(o.account(id)))
	}
	a := first.Activity
	if a.Events != len(truth) || a.New != len(truth) || a.AccountRegions != wantRegions || a.Failed != len(deniedRegions) {
		t.Errorf("first sync's activity %+v; want %d events, all new, over %d account-regions, %d failed", *a, len(truth), wantRegions, len(deniedRegions))
	}

	// The second sync: one call per account and region, only the events
	// recorded since the first read.
	o.srv.ResetCalls()
	before := len(truth)
	second := o.sync(t)
	for _, id := range o.accounts() {
		want := int64(len(o.regions(o.account(id))))
		if got := o.srv.CallsFor(id)["cloudtrail:LookupEvents"]; got != want {
			t.Errorf("account %s: second sync made %d LookupEvents calls, want %d (one per region)", id, got, want)
		}
	}
	truth, stored = o.truthLines(), o.storedLines(t)
	if !slices.Equal(truth, stored) {
		t.Fatalf("after the second sync stored %d events, awsfake has %d", len(stored), len(truth))
	}
	a = second.Activity
	t.Logf("second sync: %+v; %d events stored", *a, len(stored))
	if a.Events != len(truth)-before || a.New != a.Events || a.Calls != wantRegions {
		t.Errorf("second sync's activity %+v; want %d events (those since the first), all new, in %d calls", *a, len(truth)-before, wantRegions)
	}
	if int64(a.Calls) != second.APICalls["cloudtrail:LookupEvents"] {
		t.Errorf("activity says %d calls, the snapshot's API calls %d", a.Calls, second.APICalls["cloudtrail:LookupEvents"])
	}
	// The text summary says it too.
	out, _, _ := runIn(t, o.db, "--config", o.cfg, "sync")
	if !strings.Contains(out, "Activity (CloudTrail LookupEvents)") || !strings.Contains(out, "events read") {
		t.Errorf("sync's text summary does not report the activity read:\n%s", out)
	}
}

// showActivity is `warden show activity -o json`.
type showActivity struct {
	Since      time.Time `json:"since"`
	Account    string    `json:"account"`
	Events     int       `json:"events"`
	Principals []struct {
		ID        string `json:"id"`
		Type      string `json:"type"`
		Name      string `json:"name"`
		AccountID string `json:"account_id"`
		Last      *seenJSON
		Seen      []seenJSON `json:"seen"`
	} `json:"principals"`
	RoleUses []struct {
		Principal string    `json:"principal"`
		Role      string    `json:"role"`
		Count     int       `json:"count"`
		First     time.Time `json:"first"`
		Last      time.Time `json:"last"`
	} `json:"role_uses"`
}

type seenJSON struct {
	At      time.Time `json:"at"`
	Source  string    `json:"source"`
	Event   string    `json:"event"`
	Account string    `json:"account"`
	Region  string    `json:"region"`
	From    string    `json:"from"`
	Detail  string    `json:"detail"`
}

// TestShowActivityAgainstTruth: `warden show activity` gives every user's
// password and console sign-in, every role's RoleLastUsed and last
// assumption, as awsfake generated them, and role-use edges counting every
// stored assumption; `warden access` of a user carries its activity.
func TestShowActivityAgainstTruth(t *testing.T) {
	o := newActivityOrg(t, "90d", "")
	o.sync(t)
	out, stderr, code := runIn(t, o.db, "--config", o.cfg, "--connection", "org", "show", "activity", "-o", "json")
	if code != 0 {
		t.Fatalf("show activity exited %d: %s", code, stderr)
	}
	var rep showActivity
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	type key struct{ id, source string }
	got := map[key]seenJSON{}
	for _, p := range rep.Principals {
		for _, s := range p.Seen {
			got[key{p.ID, s.Source}] = s
		}
		if len(p.Seen) > 0 && (p.Last == nil || !p.Last.At.Equal(p.Seen[0].At)) {
			t.Errorf("%s: last %+v is not the newest of %+v", p.ID, p.Last, p.Seen)
		}
	}
	recent := func(at *time.Time) bool { return at != nil && time.Since(*at) <= 90*24*time.Hour }
	checked := 0
	for _, id := range o.accounts() {
		a := o.account(id)
		for _, u := range a.IAM.Users {
			if !recent(u.PasswordLastUsed) {
				continue
			}
			checked++
			if s, ok := got[key{u.ARN, "password"}]; !ok || !s.At.Equal(u.PasswordLastUsed.UTC().Truncate(time.Second)) && !s.At.Equal(*u.PasswordLastUsed) {
				t.Errorf("user %s: password seen %+v, want %v", u.ARN, s, u.PasswordLastUsed)
			}
			s, ok := got[key{u.ARN, "cloudtrail"}]
			if id == o.denied {
				if ok {
					t.Errorf("user %s of the denied account has CloudTrail activity %+v", u.ARN, s)
				}
				continue
			}
			if !ok || s.Event != "ConsoleLogin" || !s.At.Equal(u.PasswordLastUsed.UTC().Truncate(time.Second)) {
				t.Errorf("user %s: CloudTrail seen %+v, want its ConsoleLogin at %v", u.ARN, s, u.PasswordLastUsed)
			}
		}
		for _, r := range a.IAM.Roles {
			if !recent(r.LastUsed) {
				continue
			}
			checked++
			if s, ok := got[key{r.ARN, "role_last_used"}]; !ok || s.Region != r.LastUsedRegion {
				t.Errorf("role %s: RoleLastUsed seen %+v, want %v in %s", r.ARN, s, r.LastUsed, r.LastUsedRegion)
			}
			if s, ok := got[key{r.ARN, "cloudtrail"}]; id != o.denied && (!ok || !strings.HasPrefix(s.Event, "AssumeRole")) {
				t.Errorf("role %s: CloudTrail seen %+v, want its assumption", r.ARN, s)
			}
		}
	}
	if checked == 0 {
		t.Fatal("the estate has no recent password or role use to check")
	}
	// Role uses: every stored assumption, counted once.
	assumptions := 0
	for _, id := range o.accounts() {
		if id == o.denied {
			continue
		}
		for _, region := range o.srv.EventRegions(id) {
			for _, e := range o.srv.Events(id, region) {
				if strings.HasPrefix(e.Name, "AssumeRole") && e.Request["roleArn"] != "" {
					assumptions++
				}
			}
		}
	}
	counted := 0
	for _, u := range rep.RoleUses {
		counted += u.Count
	}
	if counted != assumptions || assumptions == 0 {
		t.Errorf("role uses count %d assumptions, awsfake recorded %d", counted, assumptions)
	}

	// warden access of a user with a recent sign-in carries its activity.
	var user *awsfake.User
	for _, id := range o.accounts() {
		for _, u := range o.account(id).IAM.Users {
			if recent(u.PasswordLastUsed) && (user == nil || u.ARN < user.ARN) {
				user = u
			}
		}
	}
	if user == nil {
		t.Fatal("the organization has no user with a recent sign-in")
	}
	for _, u := range []*awsfake.User{user} {
		out, stderr, code := runIn(t, o.db, "--connection", "org", "access", u.ARN, "-o", "json")
		var acc struct {
			Activity *struct {
				Last *seenJSON `json:"last"`
			} `json:"activity"`
		}
		if code != 0 || json.Unmarshal([]byte(out), &acc) != nil || acc.Activity == nil || acc.Activity.Last == nil {
			t.Fatalf("access %s exited %d (%s), activity missing:\n%s", u.ARN, code, stderr, out)
		}
		text, _, _ := runIn(t, o.db, "--connection", "org", "access", u.ARN)
		if !strings.Contains(text, "Last activity (") {
			t.Errorf("access %s in text has no activity table:\n%s", u.ARN, text)
		}
	}
	t.Logf("checked %d users and roles, %d assumptions", checked, assumptions)
}

// TestActivityFindingsAgainstTruth: with activity read, `warden findings
// --unused-days 30` lists exactly the IAM users, keys and roles unused for
// 30 days as awsfake's estate says, the Identity Center users who never
// signed in or not for 30 days (sign-ins and reserved-role assumptions
// recorded in awsfake), and the assignments whose reserved role nobody
// assumed in their account.
func TestActivityFindingsAgainstTruth(t *testing.T) {
	est := awsfake.OrgEstate{Accounts: 3, Seed: 4, ExternalID: activityExternalID, PerAccount: awsfake.Estate{Users: 10, Roles: 6},
		IdentityCenter: &awsfake.IdentityCenterEstate{Users: 12, Groups: 3, PermissionSets: 4}}
	o := buildActivityOrg(t, est, "", "90d", "    identity_center:\n      enabled: true")
	ic := o.truth.IdentityCenter
	var users []*awsfake.SSOUser
	for _, u := range ic.Users {
		users = append(users, u)
	}
	sort.Slice(users, func(i, j int) bool { return users[i].ID < users[j].ID })
	now := time.Now().UTC()
	mgmt := o.truth.Management.ID
	signIn := func(u *awsfake.SSOUser, at time.Time) {
		o.srv.RecordEvent(awsfake.Event{Name: "UserAuthentication", Source: "signin.amazonaws.com", Time: at, Account: mgmt, Region: "us-east-1",
			Username: u.UserName, IdentityType: "Unknown", IdentityAccount: mgmt})
	}
	planted := map[*awsfake.SSOUser]time.Time{users[0]: now.Add(-48 * time.Hour), users[1]: now.Add(-72 * time.Hour), users[2]: now.Add(-50 * 24 * time.Hour)}
	for u, at := range planted {
		signIn(u, at)
	}
	generated := o.srv.IdentityCenterLastSignIns()
	// users[3] uses the first assignment's account through its permission
	// set's reserved role.
	as := slices.Clone(ic.Assignments)
	sort.Slice(as, func(i, j int) bool {
		return as[i].AccountID+as[i].PermissionSetARN+as[i].PrincipalID < as[j].AccountID+as[j].PermissionSetARN+as[j].PrincipalID
	})
	used := as[0]
	ps := ic.PermissionSets[used.PermissionSetARN]
	role := awsfake.ReservedRole(ps, used.AccountID)
	o.srv.RecordEvent(awsfake.Event{Name: "AssumeRoleWithSAML", Source: "sts.amazonaws.com", Time: now.Add(-24 * time.Hour), Account: used.AccountID,
		Region: "us-east-1", Username: users[3].UserName, IdentityType: "SAMLUser", IdentityARN: "arn:aws:iam::" + used.AccountID + ":saml-provider/AWSSSO_x_DO_NOT_DELETE",
		IdentityAccount: used.AccountID, Resources: []awsfake.EventResource{{Type: "AWS::IAM::Role", Name: role.ARN}},
		Request: map[string]string{"roleArn": role.ARN, "roleSessionName": users[3].UserName}})

	o.sync(t)
	out, stderr, code := runIn(t, o.db, "--connection", "org", "findings", "--unused-days", "30", "-o", "json")
	if code != 0 {
		t.Fatalf("findings exited %d: %s", code, stderr)
	}
	type unused struct {
		ID        string `json:"id"`
		KeyID     string `json:"key_id"`
		Principal struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"principal"`
		LastUsed *time.Time `json:"last_used"`
		IdleDays int        `json:"idle_days"`
	}
	var f struct {
		UnusedAfterDays  int      `json:"unused_after_days"`
		InactiveUsers    []unused `json:"inactive_users"`
		UnusedKeys       []unused `json:"unused_keys"`
		UnusedRoles      []unused `json:"unused_roles"`
		ActivityRead     bool     `json:"activity_read"`
		InactiveSSOUsers []struct {
			ID         string     `json:"id"`
			LastSignIn *time.Time `json:"last_sign_in"`
		} `json:"inactive_sso_users"`
		UnusedAssignments []struct {
			Principal struct {
				ID string `json:"id"`
			} `json:"principal"`
			PermissionSetName string `json:"permission_set_name"`
			AccountID         string `json:"account_id"`
		} `json:"unused_assignments"`
	}
	if err := json.Unmarshal([]byte(out), &f); err != nil {
		t.Fatal(err)
	}
	if f.UnusedAfterDays != 30 || !f.ActivityRead {
		t.Errorf("unused_after_days %d, activity_read %v; want 30, true", f.UnusedAfterDays, f.ActivityRead)
	}
	limit := 30 * 24 * time.Hour
	idle := func(last *time.Time, created time.Time) bool {
		from := created
		if last != nil {
			from = *last
		}
		return now.Sub(from) > limit
	}
	var wantUsers, wantKeys, wantRoles []string
	for _, id := range o.accounts() {
		a := o.account(id)
		for _, u := range a.IAM.Users {
			last := u.PasswordLastUsed
			for _, k := range u.AccessKeys {
				if k.LastUsed != nil && (last == nil || k.LastUsed.After(*last)) {
					last = k.LastUsed
				}
				if k.Status == "Active" && idle(k.LastUsed, k.CreatedAt) {
					wantKeys = append(wantKeys, k.ID)
				}
			}
			if idle(last, u.CreatedAt) {
				wantUsers = append(wantUsers, u.ARN)
			}
		}
		for _, r := range a.IAM.Roles {
			if !strings.HasPrefix(r.Path, "/aws-service-role/") && idle(r.LastUsed, r.CreatedAt) {
				wantRoles = append(wantRoles, r.ARN)
			}
		}
	}
	ids := func(list []unused, key bool) []string {
		var out []string
		for _, u := range list {
			if key {
				out = append(out, u.KeyID)
			} else {
				out = append(out, u.ID)
			}
		}
		return out
	}
	for _, c := range []struct {
		what      string
		got, want []string
	}{{"inactive users", ids(f.InactiveUsers, false), wantUsers}, {"unused keys", ids(f.UnusedKeys, true), wantKeys},
		{"unused roles", ids(f.UnusedRoles, false), wantRoles}} {
		sort.Strings(c.got)
		sort.Strings(c.want)
		if len(c.want) == 0 || !slices.Equal(c.got, c.want) {
			t.Errorf("%s: got %d %v\nwant %d %v", c.what, len(c.got), c.got, len(c.want), c.want)
		}
	}

	// The last sign-in of each user: awsfake's generated ones the sync's
	// 90-day lookback reaches, or the ones planted above when later.
	last := map[string]time.Time{}
	for id, at := range generated {
		if now.Sub(at) < 90*24*time.Hour {
			last[id] = at
		}
	}
	for u, at := range planted {
		if at.After(last[u.ID]) {
			last[u.ID] = at
		}
	}
	var gotSSO, wantSSO []string
	for _, u := range f.InactiveSSOUsers {
		gotSSO = append(gotSSO, u.ID)
		if u.ID == "arn:aws:identitystore:::user/"+users[2].ID && (u.LastSignIn == nil || u.LastSignIn.Sub(last[users[2].ID]).Abs() > time.Second) {
			t.Errorf("user %s: last sign-in %v, want %v", users[2].UserName, u.LastSignIn, last[users[2].ID])
		}
	}
	for _, u := range users {
		if at, ok := last[u.ID]; u != users[3] && (!ok || now.Sub(at) >= 30*24*time.Hour) {
			wantSSO = append(wantSSO, "arn:aws:identitystore:::user/"+u.ID)
		}
	}
	sort.Strings(gotSSO)
	sort.Strings(wantSSO)
	if !slices.Equal(gotSSO, wantSSO) {
		t.Errorf("inactive Identity Center users %v\nwant %v", gotSSO, wantSSO)
	}

	var gotAs, wantAs []string
	for _, a := range f.UnusedAssignments {
		gotAs = append(gotAs, a.AccountID+" "+a.PermissionSetName+" "+a.Principal.ID)
	}
	for _, a := range as {
		p := ic.PermissionSets[a.PermissionSetARN]
		if a.AccountID == used.AccountID && p.Name == ps.Name {
			continue
		}
		kind := "user"
		if a.PrincipalType == "GROUP" {
			kind = "group"
		}
		wantAs = append(wantAs, a.AccountID+" "+p.Name+" arn:aws:identitystore:::"+kind+"/"+a.PrincipalID)
	}
	sort.Strings(gotAs)
	sort.Strings(wantAs)
	if len(wantAs) == 0 || !slices.Equal(gotAs, wantAs) {
		t.Errorf("unused assignments %d %v\nwant %d %v", len(gotAs), gotAs, len(wantAs), wantAs)
	}
	text, _, _ := runIn(t, o.db, "--connection", "org", "findings", "--unused-days", "30")
	if !strings.Contains(text, "Identity Center users with no sign-in for more than 30 days") || !strings.Contains(text, "Permission-set assignments never used") {
		t.Errorf("findings text lacks the activity findings:\n%s", text)
	}
}

// TestDiffActorsAgainstTruth: changes made through the SDK between two
// syncs show in `warden diff` with the actor, event and time CloudTrail
// recorded for each (awsfake's events), in JSON and text; rows nothing
// explains carry no actor.
func TestDiffActorsAgainstTruth(t *testing.T) {
	est := awsfake.OrgEstate{Accounts: 1, Seed: 6, ExternalID: activityExternalID, PerAccount: awsfake.Estate{Users: 5, Groups: 2, Roles: 2}}
	o := buildActivityOrg(t, est, "", "7d", "")
	o.sync(t)
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion("us-east-1"), config.WithBaseEndpoint(o.srv.URL()),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(o.creds.AccessKeyID, o.creds.SecretAccessKey, o.creds.SessionToken)))
	if err != nil {
		t.Fatal(err)
	}
	client := iam.NewFromConfig(cfg)
	mgmt := o.truth.Management
	var users, groups []string
	for n := range mgmt.IAM.Users {
		users = append(users, n)
	}
	for n := range mgmt.IAM.Groups {
		groups = append(groups, n)
	}
	sort.Strings(users)
	sort.Strings(groups)
	const policy = "arn:aws:iam::aws:policy/ReadOnlyAccess"
	if _, err := client.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("diff-actor-new")}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String(users[0]), PolicyArn: aws.String(policy)}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.AddUserToGroup(ctx, &iam.AddUserToGroupInput{UserName: aws.String(users[1]), GroupName: aws.String(groups[0])}); err != nil {
		t.Fatal(err)
	}
	// The ground truth: the events awsfake recorded for these calls.
	truth := map[string]awsfake.Event{}
	for _, e := range o.srv.Events(mgmt.ID, "us-east-1") {
		switch e.Name {
		case "CreateUser", "AttachUserPolicy", "AddUserToGroup":
			truth[e.Name] = e
		}
	}
	if len(truth) != 3 {
		t.Fatalf("awsfake recorded %d of the 3 changes: %v", len(truth), truth)
	}
	o.sync(t)
	out, stderr, code := runIn(t, o.db, "--connection", "org", "diff", "-o", "json")
	if code != 0 {
		t.Fatalf("diff exited %d: %s", code, stderr)
	}
	type actor struct {
		ARN     string    `json:"arn"`
		Type    string    `json:"type"`
		Account string    `json:"account"`
		At      time.Time `json:"at"`
		Event   string    `json:"event"`
		EventID string    `json:"event_id"`
	}
	type ref struct {
		ID   string `json:"id"`
		Name string `json:"name"`
		Type string `json:"type"`
	}
	var rep struct {
		Access []struct {
			Change      string `json:"change"`
			Principal   ref    `json:"principal"`
			Entitlement string `json:"entitlement"`
			Resource    ref    `json:"resource"`
			Actor       *actor `json:"actor"`
		} `json:"access"`
		Resources []struct {
			Change   string `json:"change"`
			Resource ref    `json:"resource"`
			Actor    *actor `json:"actor"`
		} `json:"resources"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	check := func(what string, a *actor, want awsfake.Event) {
		t.Helper()
		if a == nil || a.EventID != want.ID || a.Event != want.Name || a.ARN != want.IdentityARN || a.Type != want.IdentityType ||
			a.Account != want.IdentityAccount || !a.At.Equal(want.Time) {
			t.Errorf("%s: actor %+v, want event %s %s by %s (%s) at %v", what, a, want.ID, want.Name, want.IdentityARN, want.IdentityType, want.Time)
		}
	}
	found := map[string]bool{}
	for _, c := range rep.Access {
		switch {
		case c.Change == "gained" && c.Principal.Name == users[0] && c.Resource.ID == policy:
			check("policy attached", c.Actor, truth["AttachUserPolicy"])
			found["attach"] = true
		case c.Change == "gained" && c.Principal.Name == users[1] && c.Entitlement == "member" && c.Resource.Name == groups[0]:
			check("group membership", c.Actor, truth["AddUserToGroup"])
			found["member"] = true
		}
	}
	for _, c := range rep.Resources {
		if c.Change == "added" && c.Resource.Name == "diff-actor-new" {
			check("user created", c.Actor, truth["CreateUser"])
			found["user"] = true
		}
	}
	if len(found) != 3 {
		t.Fatalf("diff has %d of the 3 changes (%v):\n%s", len(found), found, out)
	}
	text, _, _ := runIn(t, o.db, "--connection", "org", "diff")
	if !strings.Contains(text, "(by "+truth["AttachUserPolicy"].IdentityARN+", AttachUserPolicy at ") {
		t.Errorf("diff's text does not name the actor of the attachment:\n%s", text)
	}
}
