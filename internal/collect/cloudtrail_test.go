package collect

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/warden-iam/warden/awsfake"
	"github.com/warden-iam/warden/internal/awsapi"
)

// fakeConfig is an SDK config on the emulator with the standard retryer.
func fakeConfig(t testing.TB, srv *awsfake.Server, c awsfake.Credentials, region string) aws.Config {
	t.Helper()
	cfg, err := config.LoadDefaultConfig(context.Background(), config.WithRegion(region), config.WithBaseEndpoint(srv.URL()),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken)))
	if err != nil {
		t.Fatal(err)
	}
	cfg.HTTPClient = awsapi.BufferedBodyClient(cfg.HTTPClient)
	return cfg
}

// TestReadActivityGroundTruthAndIncremental reads the estate's generated
// activity and compares it to awsfake's ground truth exactly, then proves
// the incremental read reads nothing twice: a second read with the cursor
// makes one call and returns nothing; after new writes it returns exactly
// those.
func TestReadActivityGroundTruthAndIncremental(t *testing.T) {
	srv := awsfake.NewServer(awsfake.Options{})
	defer srv.Close()
	srv.SetCloudTrailRate(1000)
	acct := awsfake.Estate{Users: 150, Roles: 90, Seed: 7}.Build()
	creds := srv.AddAccount(acct)
	srv.GenerateActivity()
	ctx := context.Background()
	lims := NewLimiters(1000)
	now := time.Now().UTC()
	for _, region := range srv.EventRegions(acct.ID) {
		want := srv.Events(acct.ID, region)
		client := cloudtrail.NewFromConfig(fakeConfig(t, srv, creds, region))
		srv.ResetCalls()
		got := ReadActivity(ctx, client, lims.For(acct.ID, region), acct.ID, region, Cursor{}, MaxLookback, now)
		if len(got.Errors) > 0 {
			t.Fatalf("%s: %v", region, got.Errors)
		}
		if len(got.Events) != len(want) {
			t.Fatalf("%s: read %d events, awsfake has %d", region, len(got.Events), len(want))
		}
		byID := map[string]awsfake.Event{}
		for _, w := range want {
			byID[w.ID] = w
		}
		for _, e := range got.Events {
			w, ok := byID[e.ID]
			if !ok || e.Name != w.Name || !e.Time.Equal(w.Time) || e.ActorARN != w.IdentityARN || e.ActorType != w.IdentityType ||
				e.ActorAccount != w.IdentityAccount || e.Username != w.Username {
				t.Fatalf("%s: read %+v, awsfake has %+v", region, e, w)
			}
			if w.Name == "AssumeRole" || w.Name == "AssumeRoleWithSAML" {
				if e.RoleARN != w.Request["roleArn"] {
					t.Errorf("%s: role %q, want %q", e.ID, e.RoleARN, w.Request["roleArn"])
				}
			}
		}
		wantCalls := max(1, (len(want)+49)/50)
		if n := srv.CallsFor(acct.ID)["cloudtrail:LookupEvents"]; n != int64(wantCalls) || got.Calls != wantCalls {
			t.Errorf("%s: %d calls (counted %d), want %d for %d events", region, n, got.Calls, wantCalls, len(want))
		}
		// Second read from the cursor: one call, nothing read again.
		srv.ResetCalls()
		again := ReadActivity(ctx, client, lims.For(acct.ID, region), acct.ID, region, got.Cursor, MaxLookback, now)
		if len(again.Events) != 0 || srv.CallsFor(acct.ID)["cloudtrail:LookupEvents"] != 1 {
			t.Errorf("%s: second read %d events in %d calls, want 0 in 1", region, len(again.Events), srv.CallsFor(acct.ID)["cloudtrail:LookupEvents"])
		}
	}

	// New writes after the cursor are read, and only they.
	client := cloudtrail.NewFromConfig(fakeConfig(t, srv, creds, "us-east-1"))
	first := ReadActivity(ctx, client, nil, acct.ID, "us-east-1", Cursor{}, MaxLookback, time.Now().UTC())
	ic := iam.NewFromConfig(fakeConfig(t, srv, creds, "us-east-1"))
	if _, err := ic.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("activity-new")}); err != nil {
		t.Fatal(err)
	}
	second := ReadActivity(ctx, client, nil, acct.ID, "us-east-1", first.Cursor, MaxLookback, time.Now().UTC().Add(time.Second))
	if len(second.Events) != 1 || second.Events[0].Name != "CreateUser" || second.Events[0].Resources[0] != "activity-new" {
		t.Fatalf("incremental read after CreateUser: %+v, want exactly that CreateUser", second.Events)
	}
	if second.Events[0].ActorAccount != acct.ID || second.Events[0].ActorARN == "" {
		t.Errorf("actor %q of %q, want the caller", second.Events[0].ActorARN, second.Events[0].ActorAccount)
	}
	third := ReadActivity(ctx, client, nil, acct.ID, "us-east-1", second.Cursor, MaxLookback, time.Now().UTC().Add(time.Second))
	if len(third.Events) != 0 {
		t.Errorf("third read %d events, want 0", len(third.Events))
	}
}

// TestReadActivityThrottledIsPartial: a throttled region is a recorded
// failure with its fix, and the cursor does not move.
func TestReadActivityThrottledIsPartial(t *testing.T) {
	srv := awsfake.NewServer(awsfake.Options{})
	defer srv.Close()
	srv.SetCloudTrailRate(0) // AWS's 2 a second
	creds := srv.AddAccount(awsfake.NewAccount("210987654321"))
	client := cloudtrail.NewFromConfig(fakeConfig(t, srv, creds, "us-east-1"), func(o *cloudtrail.Options) { o.RetryMaxAttempts = 1 })
	ctx := context.Background()
	for range 2 {
		client.LookupEvents(ctx, &cloudtrail.LookupEventsInput{})
	}
	c := Cursor{Last: time.Now().Add(-time.Hour).UTC().Truncate(time.Second), LastIDs: []string{"x"}}
	got := ReadActivity(ctx, client, nil, "210987654321", "us-east-1", c, 0, time.Now().UTC())
	if len(got.Errors) != 1 || got.Errors[0].Fix == "" || got.Errors[0].Source != "cloudtrail" {
		t.Fatalf("throttled read: errors %+v, want one cloudtrail failure with a fix", got.Errors)
	}
	if !got.Cursor.Last.Equal(c.Last) {
		t.Errorf("cursor moved to %v after a failed read", got.Cursor.Last)
	}
}

// BenchmarkReadActivityWeek reads a week of 2,000 events of one account and
// region (first read: 40 pages of 50), the emulator's limit lifted so the
// figure is warden's own cost; at AWS's 2 calls a second the same read
// takes 20 s of waiting.
func BenchmarkReadActivityWeek(b *testing.B) {
	srv := awsfake.NewServer(awsfake.Options{})
	defer srv.Close()
	srv.SetCloudTrailRate(1e9)
	creds := srv.AddAccount(awsfake.NewAccount("210987654321"))
	now := time.Now().UTC()
	for i := range 2000 {
		srv.RecordEvent(awsfake.Event{Name: "ConsoleLogin", Source: "signin.amazonaws.com", Time: now.Add(-time.Duration(i) * 5 * time.Minute),
			Account: "210987654321", Region: "us-east-1", Username: "u", IdentityType: "IAMUser", IdentityARN: "arn:aws:iam::210987654321:user/u", IdentityAccount: "210987654321"})
	}
	client := cloudtrail.NewFromConfig(fakeConfig(b, srv, creds, "us-east-1"))
	b.ResetTimer()
	calls := 0
	for range b.N {
		r := ReadActivity(context.Background(), client, nil, "210987654321", "us-east-1", Cursor{}, DefaultLookback, now)
		if len(r.Events) != 2000 || len(r.Errors) > 0 {
			b.Fatalf("read %d events, %v", len(r.Events), r.Errors)
		}
		calls = r.Calls
	}
	b.ReportMetric(float64(calls), "calls/op")
}

// TestReadActivityLateDelivery: an event CloudTrail delivers late (its
// time before the newest event already read, within SettleWindow) is
// read by the next read, and the events read before are not read again.
func TestReadActivityLateDelivery(t *testing.T) {
	srv := awsfake.NewServer(awsfake.Options{})
	defer srv.Close()
	srv.SetCloudTrailRate(1000)
	const acct = "210987654321"
	creds := srv.AddAccount(awsfake.NewAccount(acct))
	client := cloudtrail.NewFromConfig(fakeConfig(t, srv, creds, "us-east-1"))
	ctx := context.Background()
	now := time.Now().UTC()
	event := func(name string, at time.Time) awsfake.Event {
		return srv.RecordEvent(awsfake.Event{Name: name, Source: "iam.amazonaws.com", Time: at, Account: acct, Region: "us-east-1",
			Username: "u", IdentityType: "IAMUser", IdentityARN: "arn:aws:iam::" + acct + ":user/u", IdentityAccount: acct})
	}
	old := event("CreateUser", now.Add(-time.Hour))
	recent := event("CreateGroup", now.Add(-2*time.Minute))
	first := ReadActivity(ctx, client, nil, acct, "us-east-1", Cursor{}, MaxLookback, now)
	if len(first.Events) != 2 || first.Cursor.Last.After(now.Add(-SettleWindow)) || !slices.Contains(first.Cursor.LastIDs, recent.ID) {
		t.Fatalf("first read %d events, cursor %+v; want 2, at most now - %v, holding %s", len(first.Events), first.Cursor, SettleWindow, recent.ID)
	}
	late := event("DeleteGroup", now.Add(-5*time.Minute)) // delivered after the first read
	second := ReadActivity(ctx, client, nil, acct, "us-east-1", first.Cursor, MaxLookback, now.Add(time.Minute))
	if len(second.Events) != 1 || second.Events[0].ID != late.ID || second.Calls != 1 {
		t.Fatalf("second read %+v in %d calls; want only the late %s in 1", second.Events, second.Calls, late.ID)
	}
	third := ReadActivity(ctx, client, nil, acct, "us-east-1", second.Cursor, MaxLookback, now.Add(time.Hour))
	if len(third.Events) != 0 {
		t.Errorf("third read %+v, want none", third.Events)
	}
	if slices.Contains(first.Cursor.LastIDs, old.ID) {
		t.Errorf("the cursor skips %s, older than its time", old.ID)
	}
}

// TestParseIdentityCenterSignIn: a sign-in of an Identity Center user, as
// AWS documents its record (userIdentity of type IdentityCenterUser with
// onBehalfOf), is kept with the user's ID, source address and request
// parameters.
func TestParseIdentityCenterSignIn(t *testing.T) {
	rec := `{"eventVersion":"1.09","userIdentity":{"type":"IdentityCenterUser","accountId":"111122223333",
		"onBehalfOf":{"userId":"906745f2-1041-70a2-8fa1-7a1f0c5ea2a0","identityStoreArn":"arn:aws:identitystore::111122223333:identitystore/d-1234567890"},
		"credentialId":"a1b2"},"eventTime":"2026-12-01T10:00:00Z","eventSource":"signin.amazonaws.com","eventName":"UserAuthentication",
		"awsRegion":"us-east-1","sourceIPAddress":"203.0.113.9","requestParameters":null,"responseElements":null,
		"additionalEventData":{"AuthWorkflowID":"x","CredentialType":"PASSWORD"},"eventID":"e1","readOnly":false,"eventType":"AwsServiceEvent"}`
	e := parseEvent("111122223333", "us-east-1", &rec, "e1", "UserAuthentication", "signin.amazonaws.com", "", time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC), nil)
	if !e.IsIdentityCenterSignIn() || e.OnBehalfOf != "906745f2-1041-70a2-8fa1-7a1f0c5ea2a0" || e.SourceIP != "203.0.113.9" || e.ActorType != "IdentityCenterUser" {
		t.Errorf("parsed %+v", e)
	}
	assume := `{"userIdentity":{"type":"SAMLUser","principalId":"x:alice@example.com","userName":"alice@example.com"},
		"requestParameters":{"roleArn":"arn:aws:iam::222233334444:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_ReadOnly_0123456789abcdef","principalArn":"arn:aws:iam::222233334444:saml-provider/AWSSSO_x_DO_NOT_DELETE","durationSeconds":3600}}`
	a := parseEvent("222233334444", "us-east-1", &assume, "e2", "AssumeRoleWithSAML", "sts.amazonaws.com", "", time.Now(), nil)
	ps, acct, ok := a.ReservedPermissionSet()
	if !ok || ps != "ReadOnly" || acct != "222233334444" || a.Username != "alice@example.com" || a.Params["principalArn"] == "" {
		t.Errorf("assumption %+v: permission set %q in %q (%v)", a, ps, acct, ok)
	}
}

// TestIdentityCenterSignInsCountOnlySuccesses reads an organization's
// Identity Center sign-in events as awsfake records them (a password
// challenge and its verification before each directory user's
// UserAuthentication, failed attempts that end at a failed verification,
// some by users who never signed in) and finds, per user, exactly the
// ground truth's last sign-in within the 90 days: the failed attempts are
// read, marked failed, and count as no sign-in.
func TestIdentityCenterSignInsCountOnlySuccesses(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Second)
	srv := awsfake.NewServer(awsfake.Options{Now: func() time.Time { return now }})
	defer srv.Close()
	srv.SetCloudTrailRate(1000)
	truth := awsfake.OrgEstate{Accounts: 1, Seed: 5, PerAccount: awsfake.Estate{Users: 1},
		IdentityCenter: &awsfake.IdentityCenterEstate{Users: 60, Groups: 2, PermissionSets: 1}}.Build()
	creds := truth.Install(srv)
	srv.GenerateActivity()
	mgmt := truth.Management.ID
	read := ReadActivity(context.Background(), cloudtrail.NewFromConfig(fakeConfig(t, srv, creds, "us-east-1")), nil, mgmt, "us-east-1", Cursor{}, MaxLookback, now)
	if len(read.Errors) > 0 {
		t.Fatal(read.Errors)
	}
	got := map[string]time.Time{}
	failures := map[string]int{}
	for _, e := range read.Events {
		if e.IsIdentityCenterSignIn() && e.Time.After(got[e.OnBehalfOf]) {
			got[e.OnBehalfOf] = e.Time
		}
		if e.Failed {
			if e.Name != "CredentialVerification" || e.Source != "signin.amazonaws.com" {
				t.Errorf("event %s %s marked failed", e.ID, e.Name)
			}
			failures[e.OnBehalfOf]++
		}
	}
	want := map[string]time.Time{}
	for id, at := range srv.IdentityCenterLastSignIns() {
		if now.Sub(at) <= MaxLookback {
			want[id] = at
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d users signed in, ground truth %d", len(got), len(want))
	}
	for id, at := range want {
		if !got[id].Equal(at) {
			t.Errorf("user %s last signed in at %v, ground truth %v", id, got[id], at)
		}
	}
	wantFailures, neverIn := 0, 0
	for id, times := range srv.IdentityCenterFailedSignIns() {
		n := 0
		for _, at := range times {
			if now.Sub(at) <= MaxLookback {
				n++
			}
		}
		wantFailures += n
		if failures[id] != n {
			t.Errorf("user %s: %d failed attempts read, ground truth %d", id, failures[id], n)
		}
		if _, ok := want[id]; !ok && n > 0 {
			neverIn++
			if _, signedIn := got[id]; signedIn {
				t.Errorf("user %s, who only failed to sign in, counts as signed in", id)
			}
		}
	}
	if wantFailures == 0 || neverIn == 0 {
		t.Fatalf("%d failed attempts, %d by users never signed in: the estate must have both", wantFailures, neverIn)
	}
}

// TestParseFailedSignIns: a failed ConsoleLogin (responseElements) and a
// failed Identity Center step (serviceEventDetails) are marked failed; a
// failed UserAuthentication is no sign-in.
func TestParseFailedSignIns(t *testing.T) {
	for _, c := range []struct {
		name, rec string
		failed    bool
	}{
		{"ConsoleLogin", `{"userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/bob"},"responseElements":{"ConsoleLogin":"Failure"}}`, true},
		{"ConsoleLogin", `{"userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/bob"},"responseElements":{"ConsoleLogin":"Success"}}`, false},
		{"CredentialVerification", `{"userIdentity":{"type":"IdentityCenterUser","onBehalfOf":{"userId":"u1"}},"serviceEventDetails":{"CredentialVerification":"Failure"}}`, true},
		{"UserAuthentication", `{"userIdentity":{"type":"IdentityCenterUser","onBehalfOf":{"userId":"u1"}},"serviceEventDetails":{"UserAuthentication":"Failure"}}`, true},
		{"UserAuthentication", `{"userIdentity":{"type":"IdentityCenterUser","onBehalfOf":{"userId":"u1"}},"serviceEventDetails":{"UserAuthentication":"Success"}}`, false},
	} {
		e := parseEvent("111122223333", "us-east-1", &c.rec, "e", c.name, "signin.amazonaws.com", "", time.Now(), nil)
		if e.Failed != c.failed || c.name == "UserAuthentication" && e.IsIdentityCenterSignIn() == c.failed {
			t.Errorf("%s %s: failed %v, sign-in %v", c.name, c.rec, e.Failed, e.IsIdentityCenterSignIn())
		}
	}
}
