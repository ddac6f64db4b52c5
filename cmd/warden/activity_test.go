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
}

// activityExternalID is the ExternalId the activity tests' member roles
// require.
const activityExternalID = "activity-test-external-id-0000000000"

// newActivityOrg serves the organization with its generated activity,
// points the AWS environment at it, and writes a warden.yaml whose
// connection "org" reads activity with lookback (and extra keys).
func newActivityOrg(t *testing.T, lookback string, extra string) *activityOrg {
	t.Helper()
	isolateAWSConfig(t)
	o := &activityOrg{denied: "200000000002"}
	o.srv = awsfake.NewServer(awsfake.Options{ActionFaults: map[string]awsfake.ActionFault{"cloudtrail:LookupEvents": {
		Status: 400, Code: "AccessDeniedException", Account: o.denied,
		Message: "User: arn:aws:sts::" + o.denied + ":assumed-role/OrganizationAccountAccessRole/warden is not authorized to perform: cloudtrail:LookupEvents"}}})
	t.Cleanup(o.srv.Close)
	o.truth = awsfake.OrgEstate{Accounts: 4, Seed: 11, ExternalID: activityExternalID,
		PerAccount: awsfake.Estate{Users: 8, Roles: 6, Groups: 2}}.Build()
	c := o.truth.Install(o.srv)
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
      lookback: ` + lookback + "\n" + extra
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
	if code != exitPartial {
		t.Fatalf("sync exited %d, want %d (the denied account's activity): %s\n%s", code, exitPartial, stderr, out)
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
