package awsfake

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// lookupAll reads every event LookupEvents answers, page by page.
func lookupAll(t *testing.T, c *cloudtrail.Client, in *cloudtrail.LookupEventsInput) []cttypes.Event {
	t.Helper()
	var out []cttypes.Event
	p := cloudtrail.NewLookupEventsPaginator(c, in)
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("LookupEvents: %v", err)
		}
		if len(page.Events) > 50 {
			t.Fatalf("page of %d events, AWS answers at most 50", len(page.Events))
		}
		out = append(out, page.Events...)
	}
	return out
}

// TestLookupEventsGroundTruth generates the estate's activity, then reads it
// back through the SDK: every event, newest first, in pages of at most 50.
func TestLookupEventsGroundTruth(t *testing.T) {
	srv := NewServer(Options{})
	defer srv.Close()
	srv.SetCloudTrailRate(1000)
	truth := Estate{Users: 120, Roles: 80, Seed: 3}.Build()
	cfg := sdkConfig(srv, srv.AddAccount(truth))
	gen := srv.GenerateActivity()
	if len(gen) == 0 {
		t.Fatal("the estate generated no activity")
	}
	for _, region := range srv.EventRegions(truth.ID) {
		want := srv.Events(truth.ID, region)
		c := cloudtrail.NewFromConfig(cfg, func(o *cloudtrail.Options) { o.Region = region })
		got := lookupAll(t, c, &cloudtrail.LookupEventsInput{})
		if len(got) != len(want) {
			t.Fatalf("%s: %d events, want %d", region, len(got), len(want))
		}
		for i, e := range got {
			w := want[len(want)-1-i]
			if aws.ToString(e.EventId) != w.ID || aws.ToString(e.EventName) != w.Name || !aws.ToTime(e.EventTime).Equal(w.Time) ||
				aws.ToString(e.Username) != w.Username || aws.ToString(e.EventSource) != w.Source {
				t.Fatalf("%s: event %d = %s %s %v %s, want %+v", region, i, aws.ToString(e.EventId), aws.ToString(e.EventName), e.EventTime, aws.ToString(e.Username), w)
			}
		}
	}
	logins, failures := 0, 0
	failed := srv.IAMConsoleLoginFailures()
	for _, u := range truth.IAM.Users {
		if u.PasswordLastUsed != nil && time.Since(*u.PasswordLastUsed) < cloudTrailRetention {
			logins++
		}
		if at, ok := failed[u.ARN]; ok && time.Since(at) < cloudTrailRetention {
			failures++
		}
	}
	c := cloudtrail.NewFromConfig(cfg)
	got := lookupAll(t, c, &cloudtrail.LookupEventsInput{LookupAttributes: []cttypes.LookupAttribute{{AttributeKey: cttypes.LookupAttributeKeyEventName, AttributeValue: aws.String("ConsoleLogin")}}})
	gotFailures := 0
	for _, e := range got {
		var rec struct {
			Response map[string]string `json:"responseElements"`
			Error    string            `json:"errorMessage"`
			Type     string            `json:"eventType"`
		}
		if err := json.Unmarshal([]byte(aws.ToString(e.CloudTrailEvent)), &rec); err != nil {
			t.Fatal(err)
		}
		switch {
		case rec.Response["ConsoleLogin"] == "Failure" && rec.Error == "Failed authentication":
			gotFailures++
		case rec.Response["ConsoleLogin"] != "Success" || rec.Error != "":
			t.Errorf("ConsoleLogin %s: responseElements %v, errorMessage %q", aws.ToString(e.EventId), rec.Response, rec.Error)
		}
		if rec.Type != "AwsConsoleSignIn" {
			t.Errorf("ConsoleLogin %s: eventType %q", aws.ToString(e.EventId), rec.Type)
		}
	}
	if len(got)-gotFailures != logins || gotFailures != failures || failures == 0 {
		t.Errorf("ConsoleLogin events %d (%d failed), want %d successes (users whose password was used in 90 days) and %d failures (some)",
			len(got), gotFailures, logins, failures)
	}
}

// TestLookupEventsLimits checks AWS's errors: one lookup attribute,
// MaxResults ≤ 50, StartTime not after EndTime, 2 calls a second per
// account and region.
func TestLookupEventsLimits(t *testing.T) {
	srv := NewServer(Options{})
	defer srv.Close()
	c := cloudtrail.NewFromConfig(sdkConfig(srv, srv.AddAccount(NewAccount("210987654321"))), func(o *cloudtrail.Options) {
		o.RetryMaxAttempts = 1
	})
	ctx := context.Background()
	srv.SetCloudTrailRate(1000)
	two := []cttypes.LookupAttribute{{AttributeKey: cttypes.LookupAttributeKeyEventName, AttributeValue: aws.String("A")},
		{AttributeKey: cttypes.LookupAttributeKeyUsername, AttributeValue: aws.String("b")}}
	_, err := c.LookupEvents(ctx, &cloudtrail.LookupEventsInput{LookupAttributes: two})
	wantCode(t, "two attributes", err, "InvalidLookupAttributesException", "")
	_, err = c.LookupEvents(ctx, &cloudtrail.LookupEventsInput{MaxResults: aws.Int32(51)})
	wantCode(t, "MaxResults 51", err, "InvalidMaxResultsException", "")
	now := time.Now()
	_, err = c.LookupEvents(ctx, &cloudtrail.LookupEventsInput{StartTime: aws.Time(now), EndTime: aws.Time(now.Add(-time.Hour))})
	wantCode(t, "start after end", err, "InvalidTimeRangeException", "")
	_, err = c.LookupEvents(ctx, &cloudtrail.LookupEventsInput{NextToken: aws.String("nope")})
	wantCode(t, "bad token", err, "InvalidNextTokenException", "")

	srv.SetCloudTrailRate(0) // AWS's 2 a second
	throttled := 0
	for range 4 {
		if _, err := c.LookupEvents(ctx, &cloudtrail.LookupEventsInput{}); err != nil {
			wantCode(t, "third call in a second", err, "ThrottlingException", "")
			throttled++
		}
	}
	if throttled == 0 {
		t.Error("4 calls at once: none throttled, AWS allows 2 a second")
	}
	// Another region has its own limit.
	c2 := cloudtrail.NewFromConfig(sdkConfig(srv, srv.AddAccount(NewAccount("210987654322"))), func(o *cloudtrail.Options) {
		o.RetryMaxAttempts = 1
		o.Region = "eu-west-1"
	})
	if _, err := c2.LookupEvents(ctx, &cloudtrail.LookupEventsInput{}); err != nil {
		t.Errorf("another account and region: %v", err)
	}
}

// TestWritesRecordEvents checks that IAM writes append an event with the
// caller's identity, which LookupEvents then answers.
func TestWritesRecordEvents(t *testing.T) {
	srv := NewServer(Options{})
	defer srv.Close()
	srv.SetCloudTrailRate(1000)
	creds := srv.AddAccount(NewAccount("210987654321"))
	ic := iamClient(srv, creds)
	ctx := context.Background()
	if _, err := ic.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("alice")}); err != nil {
		t.Fatal(err)
	}
	if _, err := ic.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("alice"), PolicyArn: aws.String("arn:aws:iam::aws:policy/ReadOnlyAccess")}); err != nil {
		t.Fatal(err)
	}
	if _, err := ic.ListUsers(ctx, &iam.ListUsersInput{}); err != nil {
		t.Fatal(err)
	}
	want := srv.Events("210987654321", "us-east-1")
	if len(want) != 2 || want[0].Name != "CreateUser" || want[1].Name != "AttachUserPolicy" {
		t.Fatalf("events %+v, want CreateUser, AttachUserPolicy", want)
	}
	got := lookupAll(t, cloudtrail.NewFromConfig(sdkConfig(srv, creds)), &cloudtrail.LookupEventsInput{
		LookupAttributes: []cttypes.LookupAttribute{{AttributeKey: cttypes.LookupAttributeKeyResourceName, AttributeValue: aws.String("alice")}}})
	if len(got) != 2 || aws.ToString(got[0].EventName) != "AttachUserPolicy" {
		t.Fatalf("LookupEvents by resource alice: %d events", len(got))
	}
	if want[0].IdentityARN == "" || want[0].IdentityAccount != "210987654321" {
		t.Errorf("actor %q of account %q, want the caller", want[0].IdentityARN, want[0].IdentityAccount)
	}
}
