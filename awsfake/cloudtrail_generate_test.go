package awsfake

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
)

// TestIdentityCenterSignInsAndWebIdentity reads the generated Identity
// Center sign-ins and web identity assumptions through LookupEvents and
// finds exactly the ground truth, each record in CloudTrail's shape.
func TestIdentityCenterSignInsAndWebIdentity(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	srv := NewServer(Options{Now: func() time.Time { return now }})
	defer srv.Close()
	srv.SetCloudTrailRate(1000)
	truth := OrgEstate{Accounts: 2, Seed: 5, PerAccount: Estate{Users: 2},
		IdentityCenter: &IdentityCenterEstate{Users: 40, Groups: 3, PermissionSets: 2}}.Build()
	used := now.Add(-3 * time.Hour)
	truth.Management.IAM.Roles["deploy"] = &Role{Name: "deploy", ID: "AROAFAKEDEPLOY", Path: "/", ARN: "arn:aws:iam::111111111111:role/deploy",
		AssumeRolePolicy: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com"},"Action":"sts:AssumeRoleWithWebIdentity"}]}`,
		LastUsed:         &used, LastUsedRegion: "eu-west-1", InlinePolicies: map[string]string{}}
	cfg := sdkConfig(srv, truth.Install(srv))
	srv.GenerateActivity()

	signIns := srv.IdentityCenterLastSignIns()
	visible := map[string]time.Time{}
	for id, at := range signIns {
		if now.Sub(at) <= cloudTrailRetention {
			visible[id] = at
		}
	}
	if len(visible) == 0 || len(signIns) == len(truth.IdentityCenter.Users) || len(visible) == len(signIns) {
		t.Fatalf("%d users, %d signed in, %d in 90 days: want some who never did and some too long ago", len(truth.IdentityCenter.Users), len(signIns), len(visible))
	}
	c := cloudtrail.NewFromConfig(cfg)
	type signInRecord struct {
		EventType    string `json:"eventType"`
		UserIdentity struct {
			Type       string `json:"type"`
			AccountID  string `json:"accountId"`
			ARN        string `json:"arn"`
			OnBehalfOf struct {
				UserID           string `json:"userId"`
				IdentityStoreARN string `json:"identityStoreArn"`
			} `json:"onBehalfOf"`
		} `json:"userIdentity"`
		Additional map[string]string `json:"additionalEventData"`
		Details    map[string]string `json:"serviceEventDetails"`
	}
	decode := func(e cttypes.Event) signInRecord {
		var rec signInRecord
		if err := json.Unmarshal([]byte(aws.ToString(e.CloudTrailEvent)), &rec); err != nil {
			t.Fatal(err)
		}
		return rec
	}
	// The steps of each sign-in, by AuthWorkflowID.
	steps := map[string]map[string]signInRecord{}
	for _, name := range []string{"CredentialChallenge", "CredentialVerification"} {
		for _, e := range lookupAll(t, c, &cloudtrail.LookupEventsInput{LookupAttributes: []cttypes.LookupAttribute{{AttributeKey: cttypes.LookupAttributeKeyEventName, AttributeValue: aws.String(name)}}}) {
			rec := decode(e)
			flow := rec.Additional["AuthWorkflowID"]
			if steps[flow] == nil {
				steps[flow] = map[string]signInRecord{}
			}
			steps[flow][name] = rec
		}
	}
	got := lookupAll(t, c, &cloudtrail.LookupEventsInput{LookupAttributes: []cttypes.LookupAttribute{{AttributeKey: cttypes.LookupAttributeKeyEventName, AttributeValue: aws.String("UserAuthentication")}}})
	if len(got) != len(visible) {
		t.Fatalf("%d UserAuthentication events, want %d", len(got), len(visible))
	}
	external, native := 0, 0
	for _, e := range got {
		rec := decode(e)
		id := rec.UserIdentity.OnBehalfOf.UserID
		u := truth.IdentityCenter.Users[id]
		if u == nil || !aws.ToTime(e.EventTime).Equal(visible[id]) || aws.ToString(e.EventSource) != "signin.amazonaws.com" {
			t.Fatalf("event %s for user %q at %v, want a user's last sign-in", aws.ToString(e.EventId), id, e.EventTime)
		}
		if rec.UserIdentity.Type != "IdentityCenterUser" || rec.UserIdentity.ARN != "" || rec.UserIdentity.AccountID != "111111111111" ||
			rec.UserIdentity.OnBehalfOf.IdentityStoreARN != "arn:aws:identitystore::111111111111:identitystore/"+truth.IdentityCenter.IdentityStoreID ||
			aws.ToString(e.Username) != u.UserName || rec.EventType != "AwsServiceEvent" || rec.Details["UserAuthentication"] != "Success" {
			t.Errorf("record of %s's sign-in: %+v", u.UserName, rec)
		}
		// The UserName is logged once per sign-in: on the authentication
		// of an external IdP's user, on the password challenge of a
		// directory user, whose challenge and verification precede it.
		flow := steps[rec.Additional["AuthWorkflowID"]]
		switch rec.Additional["CredentialType"] {
		case "EXTERNAL_IDP":
			external++
			if u.ExternalID == "" || rec.Additional["UserName"] != u.UserName || len(flow) != 0 {
				t.Errorf("%s's external sign-in: %+v, steps %+v", u.UserName, rec, flow)
			}
		case "PASSWORD":
			native++
			ch, ver := flow["CredentialChallenge"], flow["CredentialVerification"]
			if u.ExternalID != "" || rec.Additional["UserName"] != "" || ch.Additional["UserName"] != u.UserName || ch.Additional["CredentialType"] != "PASSWORD" ||
				ch.UserIdentity.OnBehalfOf.UserID != id || ver.Details["CredentialVerification"] != "Success" || ver.UserIdentity.OnBehalfOf.UserID != id {
				t.Errorf("%s's password sign-in: %+v, challenge %+v, verification %+v", u.UserName, rec, ch, ver)
			}
		default:
			t.Errorf("%s's sign-in has credential type %q", u.UserName, rec.Additional["CredentialType"])
		}
	}
	// Failed attempts: a challenge and a failed verification, no
	// UserAuthentication; some by users who never signed in.
	failed := srv.IdentityCenterFailedSignIns()
	failures, neverIn := 0, 0
	for flow, st := range steps {
		ver := st["CredentialVerification"]
		if ver.Details["CredentialVerification"] != "Failure" {
			continue
		}
		failures++
		id := ver.UserIdentity.OnBehalfOf.UserID
		if _, ok := signIns[id]; !ok {
			neverIn++
		}
		if st["CredentialChallenge"].Additional["UserName"] != "" || len(failed[id]) == 0 {
			t.Errorf("failed attempt %s of %s: %+v (ground truth %v)", flow, id, st, failed[id])
		}
	}
	want := 0
	for _, times := range failed {
		for _, at := range times {
			if now.Sub(at) <= cloudTrailRetention {
				want++
			}
		}
	}
	if failures != want || neverIn == 0 || failures == neverIn || external == 0 || native == 0 {
		t.Errorf("%d failed attempts (%d by users never signed in), ground truth %d; %d external and %d password sign-ins: want some of each",
			failures, neverIn, want, external, native)
	}

	// The role trusting GitHub's OIDC provider was assumed with a web
	// identity, recorded in the region it was used in.
	c = cloudtrail.NewFromConfig(cfg, func(o *cloudtrail.Options) { o.Region = "eu-west-1" })
	got = lookupAll(t, c, &cloudtrail.LookupEventsInput{LookupAttributes: []cttypes.LookupAttribute{{AttributeKey: cttypes.LookupAttributeKeyEventName, AttributeValue: aws.String("AssumeRoleWithWebIdentity")}}})
	if len(got) != 1 {
		t.Fatalf("%d AssumeRoleWithWebIdentity events, want 1", len(got))
	}
	var rec struct {
		UserIdentity map[string]string `json:"userIdentity"`
		Request      map[string]string `json:"requestParameters"`
	}
	if err := json.Unmarshal([]byte(aws.ToString(got[0].CloudTrailEvent)), &rec); err != nil {
		t.Fatal(err)
	}
	if rec.UserIdentity["type"] != "WebIdentityUser" || rec.UserIdentity["identityProvider"] != "token.actions.githubusercontent.com" ||
		rec.UserIdentity["arn"] != "" || rec.Request["roleArn"] != "arn:aws:iam::111111111111:role/deploy" || !aws.ToTime(got[0].EventTime).Equal(used.Truncate(time.Second)) {
		t.Errorf("web identity record: %+v", rec)
	}
	euTruth := srv.Events("111111111111", "eu-west-1")
	if len(euTruth) != 1 || euTruth[0].ID != aws.ToString(got[0].EventId) || euTruth[0].IdentityProvider != "token.actions.githubusercontent.com" {
		t.Errorf("ground truth of eu-west-1: %+v", euTruth)
	}
}
