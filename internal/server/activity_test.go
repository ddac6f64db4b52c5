package server

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/warden-iam/warden/internal/awsapi"
	"github.com/warden-iam/warden/internal/config"
)

// activityUser is the user created between the two activity syncs.
const activityUser = "made-while-reading-activity"

// enableActivity makes e's connection read activity (awsfake's generated
// events) from its next sync on, syncs, creates activityUser through the
// SDK and syncs again, so the latest diff has a change CloudTrail recorded.
func enableActivity(t *testing.T, e *env) {
	t.Helper()
	e.fake.GenerateActivity()
	e.conn.Activity = config.Activity{Lookback: "90d"}
	e.sync(t)
	ctx := context.Background()
	sess, err := awsapi.Load(ctx, awsapi.Options{Region: "us-east-1", Endpoint: e.fake.URL()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sess.IAM(testAccount).CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(activityUser)}); err != nil {
		t.Fatal(err)
	}
	e.latestSnap = e.sync(t)
}

// TestActivityAPI: GET /api/v1/activity lists every user and role with
// the role uses of awsfake's assumptions; the access document carries the
// principal's activity and the diff's row of the user created between two
// syncs its actor, as awsfake recorded the call.
func TestActivityAPI(t *testing.T) {
	e := newEnv(t, smallEstate, Config{})
	enableActivity(t, e)
	status, _, body := e.do(t, "GET", "/api/v1/activity", e.read, nil)
	if status != 200 {
		t.Fatalf("activity: %d %s", status, body)
	}
	var rep struct {
		Principals []struct {
			ID   string `json:"id"`
			Seen []struct {
				Source string `json:"source"`
			} `json:"seen"`
		} `json:"principals"`
		RoleUses []struct {
			Count int `json:"count"`
		} `json:"role_uses"`
	}
	if err := json.Unmarshal(body, &rep); err != nil {
		t.Fatal(err)
	}
	// Every user (the two the tests created too) and role of the estate
	// is listed.
	want := len(e.truth.IAM.Users) + 2 + len(e.truth.IAM.Roles)
	if len(rep.Principals) != want {
		t.Errorf("activity lists %d principals, want %d users and roles", len(rep.Principals), want)
	}
	assumptions := 0
	for _, region := range e.fake.EventRegions(testAccount) {
		for _, ev := range e.fake.Events(testAccount, region) {
			if strings.HasPrefix(ev.Name, "AssumeRole") && ev.Request["roleArn"] != "" {
				assumptions++
			}
		}
	}
	counted := 0
	for _, u := range rep.RoleUses {
		counted += u.Count
	}
	if assumptions == 0 || counted != assumptions {
		t.Errorf("role uses count %d assumptions, awsfake recorded %d", counted, assumptions)
	}
	status, _, body = e.do(t, "GET", "/api/v1/access/"+url.PathEscape(firstUser(e)), e.read, nil)
	var acc struct {
		Activity *struct {
			Seen []json.RawMessage `json:"seen"`
		} `json:"activity"`
	}
	if status != 200 || json.Unmarshal(body, &acc) != nil || acc.Activity == nil {
		t.Errorf("access: %d, no activity: %.400s", status, body)
	}
	status, _, body = e.do(t, "GET", "/api/v1/diff", e.read, nil)
	var d struct {
		Resources []struct {
			Change   string `json:"change"`
			Resource struct {
				Name string `json:"name"`
			} `json:"resource"`
			Actor *struct {
				EventID string `json:"event_id"`
				Event   string `json:"event"`
				ARN     string `json:"arn"`
			} `json:"actor"`
		} `json:"resources"`
	}
	if status != 200 || json.Unmarshal(body, &d) != nil {
		t.Fatalf("diff: %d %s", status, body)
	}
	var truthID, truthARN string
	for _, ev := range e.fake.Events(testAccount, "us-east-1") {
		if ev.Name == "CreateUser" && ev.Request["userName"] == activityUser {
			truthID, truthARN = ev.ID, ev.IdentityARN
		}
	}
	found := false
	for _, r := range d.Resources {
		if r.Change == "added" && r.Resource.Name == activityUser {
			found = true
			if r.Actor == nil || r.Actor.EventID != truthID || r.Actor.ARN != truthARN || r.Actor.Event != "CreateUser" {
				t.Errorf("the created user's actor %+v, want event %s by %s", r.Actor, truthID, truthARN)
			}
		}
	}
	if !found || truthID == "" {
		t.Errorf("diff has no added %s (awsfake event %q): %.600s", activityUser, truthID, body)
	}
}
