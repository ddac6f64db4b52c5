package findings_test

import (
	"context"
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/warden-iam/warden/awsfake"
	"github.com/warden-iam/warden/internal/awsapi"
	"github.com/warden-iam/warden/internal/collect"
	"github.com/warden-iam/warden/internal/findings"
	"github.com/warden-iam/warden/internal/model"
)

// estateGraph syncs an awsfake estate's IAM through the real collector and
// returns the graph and the last accessed data of every user and role as
// awsfake's ground truth has it.
func estateGraph(t *testing.T, now time.Time) (*model.Graph, []findings.LastAccessed, *awsfake.Server, string) {
	t.Helper()
	srv := awsfake.NewServer(awsfake.Options{Now: func() time.Time { return now }})
	t.Cleanup(srv.Close)
	acct := awsfake.Estate{AccountID: "123456789012", Users: 25, Groups: 4, Roles: 15, Policies: 5, Seed: 21, Now: now.Add(-24 * time.Hour)}.Build()
	c := srv.AddAccount(acct)
	cfg, err := config.LoadDefaultConfig(context.Background(), config.WithRegion("us-east-1"), config.WithBaseEndpoint(srv.URL()),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, "")))
	if err != nil {
		t.Fatal(err)
	}
	cfg.HTTPClient = awsapi.BufferedBodyClient(cfg.HTTPClient)
	res, err := collect.CollectIAM(context.Background(), iam.NewFromConfig(cfg), acct.ID, collect.IAMOptions{SkipCredentialReport: true})
	if err != nil {
		t.Fatal(err)
	}
	var data []findings.LastAccessed
	var arns []string
	for _, u := range acct.IAM.Users {
		arns = append(arns, u.ARN)
	}
	for _, r := range acct.IAM.Roles {
		arns = append(arns, r.ARN)
	}
	sort.Strings(arns)
	for _, arn := range arns {
		sa, _ := srv.LastAccessed(acct.ID, arn, true)
		d := findings.LastAccessed{Principal: arn, ReadAt: now}
		for _, s := range sa {
			u := findings.ServiceUse{Namespace: s.Namespace, Name: s.Name, LastUsed: s.LastAuthenticated}
			for _, a := range s.Actions {
				u.Actions = append(u.Actions, findings.ActionUse{Name: a.Name, LastUsed: a.LastAccessed})
			}
			d.Services = append(d.Services, u)
		}
		data = append(data, d)
	}
	return &res.Graph, data, srv, acct.ID
}

// TestUnusedServicesGroundTruth: every principal flagged is exactly one
// with a granted service unused for 90 days in awsfake's data, with
// exactly those services; its right-sized policy names no unused service,
// allows every used tracked action, and keeps every pattern of the used
// services AWS tracks at service level only.
func TestUnusedServicesGroundTruth(t *testing.T) {
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	g, data, _, _ := estateGraph(t, now)
	limit := now.AddDate(0, 0, -90)
	created := map[string]time.Time{}
	for _, r := range g.Resources {
		if r.ARN != "" {
			created[r.ARN] = r.CreatedAt
		}
	}
	want := map[string][]string{}
	for _, d := range data {
		if created[d.Principal].After(limit) {
			continue
		}
		for _, s := range d.Services {
			if s.LastUsed == nil || !s.LastUsed.After(limit) {
				want[d.Principal] = append(want[d.Principal], s.Namespace)
			}
		}
	}
	got := findings.UnusedServicesFor(g, data, now, 90)
	if len(got) != len(want) || len(got) == 0 {
		t.Fatalf("%d principals flagged, want %d (and some)", len(got), len(want))
	}
	byARN := map[string]findings.LastAccessed{}
	for _, d := range data {
		byARN[d.Principal] = d
	}
	narrowedTracked := 0
	for _, f := range got {
		var ns []string
		for _, u := range f.Unused {
			ns = append(ns, u.Namespace)
		}
		if !reflect.DeepEqual(ns, want[f.ID]) {
			t.Fatalf("%s unused %v, want %v", f.ID, ns, want[f.ID])
		}
		if f.Granted != len(byARN[f.ID].Services) || f.Granted != len(f.Unused)+len(f.Used) {
			t.Errorf("%s: granted %d, unused %d, used %d", f.ID, f.Granted, len(f.Unused), len(f.Used))
		}
		patterns := allowPatterns(t, f.Policy)
		unused := map[string]bool{}
		for _, n := range ns {
			unused[n] = true
		}
		for _, p := range patterns {
			if p == "*" || unused[strings.SplitN(p, ":", 2)[0]] {
				t.Errorf("%s: right-sized policy keeps %s of an unused service", f.ID, p)
			}
		}
		for _, s := range byARN[f.ID].Services {
			if s.LastUsed == nil || !s.LastUsed.After(limit) {
				continue
			}
			for _, a := range s.Actions {
				if a.LastUsed != nil && a.LastUsed.After(limit) {
					narrowedTracked++
					if !matchesAny(patterns, s.Namespace+":"+a.Name) {
						t.Errorf("%s: right-sized policy drops %s:%s, used %v", f.ID, s.Namespace, a.Name, a.LastUsed)
					}
				}
			}
		}
	}
	if narrowedTracked == 0 {
		t.Error("no used tracked action in the estate: the action-level narrowing is untested here")
	}
}

// allowPatterns returns the Action patterns of a document's Allow
// statements.
func allowPatterns(t *testing.T, doc string) []string {
	t.Helper()
	var d struct {
		Statement []struct {
			Effect string
			Action json.RawMessage
		}
	}
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		t.Fatalf("right-sized policy %s: %v", doc, err)
	}
	var out []string
	for _, s := range d.Statement {
		if s.Effect != "Allow" {
			continue
		}
		var one string
		if json.Unmarshal(s.Action, &one) == nil {
			out = append(out, one)
			continue
		}
		var list []string
		_ = json.Unmarshal(s.Action, &list)
		out = append(out, list...)
	}
	return out
}

func matchesAny(patterns []string, action string) bool {
	for _, p := range patterns {
		if strings.EqualFold(p, action) || p == "*" || strings.HasSuffix(p, ":*") && strings.EqualFold(strings.TrimSuffix(p, "*"), action[:strings.Index(action, ":")+1]) {
			return true
		}
	}
	return false
}

// TestUnusedServicesRightSizedPolicy checks the policy exactly on known
// documents: "*" narrowed to the used services, a tracked wildcard to the
// used tracked actions (with a note), an untracked action of a tracked
// service kept, Resource and Condition kept, Deny kept, an unused service
// dropped with its statement; a principal younger than the window is not
// judged.
func TestUnusedServicesRightSizedPolicy(t *testing.T) {
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	recent, old := aws.Time(now.AddDate(0, 0, -3)), aws.Time(now.AddDate(0, 0, -200))
	const acct = "123456789012"
	roleARN := "arn:aws:iam::" + acct + ":role/app"
	g := &model.Graph{
		Resources: []model.Resource{
			{ID: roleARN, ARN: roleARN, Type: model.TypeIAMRole, Name: "app", AccountID: acct, CreatedAt: now.AddDate(-1, 0, 0)},
			{ID: "arn:aws:iam::123456789012:role/new", ARN: "arn:aws:iam::123456789012:role/new", Type: model.TypeIAMRole, Name: "new", AccountID: acct, CreatedAt: now.AddDate(0, 0, -5)},
			{ID: roleARN + "#inline/p", Type: model.TypeInlinePolicy, Name: "p", AccountID: acct, InlinePolicy: &model.InlinePolicyAttrs{Document: `{"Version":"2012-10-17","Statement":[
				{"Sid":"All","Effect":"Allow","Action":"*","Resource":"*"},
				{"Effect":"Allow","Action":["s3:*","s3:GetObject"],"Resource":"arn:aws:s3:::b/*","Condition":{"Bool":{"aws:SecureTransport":"true"}}},
				{"Effect":"Allow","Action":"sqs:SendMessage","Resource":"*"},
				{"Effect":"Deny","Action":"s3:DeleteBucket","Resource":"*"}]}`}},
		},
		Entitlements: []model.Entitlement{{ID: roleARN + "#inline/p#attached", ResourceID: roleARN + "#inline/p", Name: model.EntAttached}},
		Grants:       []model.Grant{{PrincipalID: roleARN, EntitlementID: roleARN + "#inline/p#attached", Provenance: model.ViaInline}},
	}
	data := []findings.LastAccessed{
		{Principal: roleARN, ReadAt: now, Services: []findings.ServiceUse{
			{Namespace: "dynamodb", Name: "Amazon DynamoDB", LastUsed: recent},
			{Namespace: "s3", Name: "Amazon S3", LastUsed: recent, Actions: []findings.ActionUse{
				{Name: "CreateBucket", LastUsed: recent}, {Name: "DeleteBucket", LastUsed: old}, {Name: "ListAllMyBuckets"}}},
			{Namespace: "sqs", Name: "Amazon SQS", LastUsed: old},
			{Namespace: "kms", Name: "AWS Key Management Service"},
		}},
		{Principal: "arn:aws:iam::123456789012:role/new", ReadAt: now, Services: []findings.ServiceUse{{Namespace: "kms", Name: "AWS Key Management Service"}}},
	}
	got := findings.UnusedServicesFor(g, data, now, 90)
	if len(got) != 1 {
		t.Fatalf("%d findings, want 1 (the new role is not judged): %+v", len(got), got)
	}
	f := got[0]
	wantUnused := []findings.UnusedService{{Namespace: "sqs", Name: "Amazon SQS", LastUsed: old}, {Namespace: "kms", Name: "AWS Key Management Service"}}
	if !reflect.DeepEqual(f.Unused, wantUnused) || !reflect.DeepEqual(f.Used, []string{"dynamodb", "s3"}) || f.Granted != 4 {
		t.Errorf("unused %+v, used %v, granted %d", f.Unused, f.Used, f.Granted)
	}
	var gotDoc, wantDoc any
	json.Unmarshal([]byte(f.Policy), &gotDoc)
	json.Unmarshal([]byte(`{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":["dynamodb:*","s3:CreateBucket"],"Resource":"*"},
		{"Effect":"Allow","Action":["s3:CreateBucket","s3:GetObject"],"Resource":"arn:aws:s3:::b/*","Condition":{"Bool":{"aws:SecureTransport":"true"}}},
		{"Effect":"Deny","Action":"s3:DeleteBucket","Resource":"*"}]}`), &wantDoc)
	if !reflect.DeepEqual(gotDoc, wantDoc) {
		t.Errorf("right-sized policy\n%s\nwant\n%v", f.Policy, wantDoc)
	}
	if len(f.Notes) != 1 || !strings.Contains(f.Notes[0], "s3:* is narrowed") {
		t.Errorf("notes %v", f.Notes)
	}
}
