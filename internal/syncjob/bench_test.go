package syncjob

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/warden-iam/warden/awsfake"
	"github.com/warden-iam/warden/internal/awsapi"
	"github.com/warden-iam/warden/internal/collect"
	"github.com/warden-iam/warden/internal/store"
	"github.com/warden-iam/warden/internal/syncer"
)

// The benchmark organization of activity: 200 accounts (the management
// account and 199 members), each with a week of management events, 2,000
// in us-east-1 (sign-ins, IAM, STS's global endpoint) and 200 in its home
// region, eu-west-1 (the connection's region).
const (
	benchActivityAccounts = 200
	benchGlobalEvents     = 2000
	benchHomeEvents       = 200
	benchHome             = "eu-west-1"
	benchExternalID       = "bench-activity-external-id-00000000"
)

// benchActivityOrg serves the organization with its week of events, every
// call 20 ms late (as the syncer's organization benchmarks), the
// emulator's LookupEvents limit lifted so the figure is warden's own.
func benchActivityOrg(b *testing.B) (*awsfake.Server, awsfake.Credentials, []string) {
	srv := awsfake.NewServer(awsfake.Options{Latency: 20 * time.Millisecond, Seed: 3})
	srv.SetCloudTrailRate(1e9)
	truth := awsfake.OrgEstate{Accounts: benchActivityAccounts - 1, Seed: 3, ExternalID: benchExternalID,
		PerAccount: awsfake.Estate{Users: 2, Roles: 1}}.Build()
	creds := truth.Install(srv)
	now := time.Now().UTC()
	var ids []string
	for _, a := range truth.Accounts() {
		ids = append(ids, a.ID)
		user := "arn:aws:iam::" + a.ID + ":user/u"
		for i := range benchGlobalEvents + benchHomeEvents {
			// The week's events spread over the week but its first and
			// last hour, inside the first read's 7 days.
			week := 7*24*time.Hour - 2*time.Hour
			region, step := "us-east-1", week/benchGlobalEvents
			if i >= benchGlobalEvents {
				region, step = benchHome, week/benchHomeEvents
			}
			srv.RecordEvent(awsfake.Event{Name: "ConsoleLogin", Source: "signin.amazonaws.com", Time: now.Add(-time.Hour - time.Duration(i%benchGlobalEvents)*step),
				Account: a.ID, Region: region, Username: "u", IdentityType: "IAMUser", IdentityARN: user, IdentityAccount: a.ID})
		}
	}
	return srv, creds, ids
}

// BenchmarkActivityOrganization200 syncs the benchmark organization with
// activity twice into one store: the first read (a week of events in every
// account and region) and the incremental read after it. It reports the
// LookupEvents calls of each, and the wall time AWS's limit of 2 calls a
// second per account and region would add (a region's calls after the
// first wait half a second each, the regions of an account are read at
// once, 32 accounts at a time).
func BenchmarkActivityOrganization200(b *testing.B) {
	srv, creds, accounts := benchActivityOrg(b)
	defer srv.Close()
	ctx := context.Background()
	target := Target{ID: "bench", Name: "connection bench",
		AWS: awsapi.Options{Region: benchHome, Endpoint: srv.URL(), CloudTrailRate: 1e9, IAMRate: 1e6, OrganizationsRate: 1e6,
			Credentials: credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken)},
		IAM:          collect.IAMOptions{ReportPoll: 5 * time.Millisecond},
		Organization: &syncer.OrganizationOptions{ExternalID: benchExternalID},
		Activity:     &ActivityOptions{Lookback: collect.DefaultLookback}}
	for b.Loop() {
		b.StopTimer()
		st, err := store.OpenSQLite(ctx, filepath.Join(b.TempDir(), "bench.db"))
		if err != nil {
			b.Fatal(err)
		}
		for _, pass := range []string{"first", "incremental"} {
			srv.ResetCalls()
			b.StartTimer()
			start := time.Now()
			res, err := Run(ctx, st, target, Options{})
			took := time.Since(start)
			b.StopTimer()
			if err != nil {
				b.Fatal(err)
			}
			a := res.Activity
			wantEvents := 0
			if pass == "first" {
				wantEvents = benchActivityAccounts * (benchGlobalEvents + benchHomeEvents)
			}
			if a.New < wantEvents || a.New != a.Events || len(res.Snapshot.Errors) > 0 {
				b.Fatalf("%s read: %+v, errors %v; want at least %d new events", pass, *a, res.Snapshot.Errors, wantEvents)
			}
			// At AWS's rate: an account takes as long as its slowest region
			// (us-east-1: its calls after the first wait half a second
			// each), 32 accounts at a time.
			slowest := math.Ceil(float64(benchGlobalEvents) / 50) // us-east-1's pages
			if pass == "incremental" {
				if a.Calls != a.AccountRegions {
					b.Fatalf("incremental read: %d calls over %d account-regions, want one each", a.Calls, a.AccountRegions)
				}
				slowest = 1
			}
			rounds := math.Ceil(float64(len(accounts)) / float64(syncer.DefaultConcurrency))
			waitAtAWS := rounds * math.Max(0, slowest-1) / collect.LookupEventsRate
			b.ReportMetric(float64(a.Calls), pass+"-lookupevents-calls")
			b.ReportMetric(float64(a.New), pass+"-events")
			b.ReportMetric(took.Seconds(), pass+"-s")
			b.ReportMetric(waitAtAWS, pass+"-aws-wait-s")
			b.Logf("%s read: %d LookupEvents calls over %d account-regions, %d events (%d new), %s here; calls by action %s; at AWS's 2 calls/s per account-region about %.0f s of waiting",
				pass, a.Calls, a.AccountRegions, a.Events, a.New, took.Round(time.Millisecond), fmt.Sprint(res.Snapshot.APICalls), waitAtAWS)
		}
		st.Close()
		b.StartTimer()
	}
}
