package syncer

import (
	"context"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/warden-iam/warden/awsfake"
	"github.com/warden-iam/warden/internal/awsapi"
	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/store"
)

// benchOrgEstate is an organization of accounts members, each with the
// issue's account shape: 20 users, 10 groups, 60 roles, 30 policies.
func benchOrgEstate(accounts int) awsfake.OrgEstate {
	return awsfake.OrgEstate{Accounts: accounts, SCPs: 10, Seed: 42, ExternalID: testExternalID,
		PerAccount: awsfake.Estate{Users: 20, Groups: 10, Roles: 60, Policies: 30}}
}

func BenchmarkSyncOrganization100Accounts(b *testing.B)  { benchmarkSyncOrganization(b, 100) }
func BenchmarkSyncOrganization1000Accounts(b *testing.B) { benchmarkSyncOrganization(b, 1000) }

// benchmarkSyncOrganization syncs a fresh emulated organization per
// iteration at warden's default rates (20 IAM calls a second in each
// account, 20 Organizations calls a second) and default concurrency, with
// 20 ms of latency on every call.
func benchmarkSyncOrganization(b *testing.B, accounts int) {
	isolateAWS(b)
	ctx := context.Background()
	var calls map[string]int64
	var snap *model.Snapshot
	var peak uint64
	perEntity := 0
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		srv := awsfake.NewServer(awsfake.Options{Latency: benchLatency, Seed: 42})
		truth := benchOrgEstate(accounts).Build()
		creds := truth.Install(srv)
		// A connector reading entity by entity: the per-entity IAM calls of
		// every account, plus ListParents for each account and OU to place
		// it in the tree.
		perEntity = len(truth.Organization.Accounts) + len(truth.Organization.OUs)
		for _, a := range truth.Accounts() {
			perEntity += perEntityCalls(a, awsfake.AWSManagedPolicies())
		}
		sess, err := awsapi.Load(ctx, awsapi.Options{Region: "us-east-1", Endpoint: srv.URL(),
			Credentials: staticCredentials(creds)})
		if err != nil {
			b.Fatal(err)
		}
		st, err := store.OpenSQLite(ctx, filepath.Join(b.TempDir(), "bench.db"))
		if err != nil {
			b.Fatal(err)
		}
		o := syncOptions()
		o.Organization = &OrganizationOptions{ExternalID: testExternalID}
		runtime.GC()
		stop := samplePeakHeap(&peak)
		b.StartTimer()

		snap, err = Sync(ctx, sess, st, o)

		b.StopTimer()
		stop()
		if err != nil {
			b.Fatalf("Sync: %v", err)
		}
		if snap.Status != model.StatusComplete || snap.Accounts.Read != accounts+1 {
			b.Fatalf("snapshot %s, accounts %+v: %+v", snap.Status, snap.Accounts, snap.Errors)
		}
		calls = srv.Calls()
		st.Close()
		srv.Close()
		b.StartTimer()
	}
	var org, all int64
	for k, v := range calls {
		all += v
		if len(k) > 14 && k[:14] == "organizations:" {
			org += v
		}
	}
	resources := 0
	for _, n := range snap.Counts {
		resources += n
	}
	b.ReportMetric(float64(all), "api-calls/op")
	b.ReportMetric(float64(org), "org-calls/op")
	b.ReportMetric(float64(calls["sts:AssumeRole"]), "assumerole-calls/op")
	b.ReportMetric(float64(iamCalls(calls)), "iam-calls/op")
	b.ReportMetric(float64(calls["iam:ListAccessKeys"]), "listaccesskeys-calls/op")
	b.ReportMetric(float64(perEntity), "per-entity-calls/op")
	b.ReportMetric(float64(resources), "resources/op")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
}

// BenchmarkSyncIdentityCenter syncs an organization of 200 small accounts
// with an Identity Center of 2,000 users, 200 groups and 50 permission sets
// at 20 ms latency and Identity Center's 20 calls a second, and reports
// the Identity Center calls next to those of the naive pattern: one
// ListAccountAssignments for every account x every permission set.
func BenchmarkSyncIdentityCenter(b *testing.B) {
	isolateAWS(b)
	ctx := context.Background()
	estate := awsfake.OrgEstate{Accounts: 199, Seed: 42, ExternalID: testExternalID, PerAccount: awsfake.Estate{Users: 2, Roles: 2},
		IdentityCenter: &awsfake.IdentityCenterEstate{Users: 2000, Groups: 200, PermissionSets: 50}}
	var calls map[string]int64
	var naive, pairs int64
	var peak uint64
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		srv := awsfake.NewServer(awsfake.Options{Latency: benchLatency, Seed: 42})
		truth := estate.Build()
		creds := truth.Install(srv)
		sess, err := awsapi.Load(ctx, awsapi.Options{Region: "us-east-1", Endpoint: srv.URL(), Credentials: staticCredentials(creds)})
		if err != nil {
			b.Fatal(err)
		}
		st, err := store.OpenSQLite(ctx, filepath.Join(b.TempDir(), "bench.db"))
		if err != nil {
			b.Fatal(err)
		}
		o := syncOptions()
		o.Organization = &OrganizationOptions{ExternalID: testExternalID}
		o.IdentityCenter = &IdentityCenterOptions{}
		runtime.GC()
		stop := samplePeakHeap(&peak)
		b.StartTimer()

		snap, err := Sync(ctx, sess, st, o)

		b.StopTimer()
		stop()
		if err != nil || snap.Status != model.StatusComplete {
			b.Fatalf("Sync: %v %+v", err, snap)
		}
		calls = srv.Calls()
		ic := truth.IdentityCenter
		pairs = int64(len(ic.ProvisionedPairs()))
		// The naive pattern makes the same identity store and permission
		// set calls, minus the provisioned-account listings, plus one
		// ListAccountAssignments per account and permission set.
		naive = identityCenterCalls(calls) - calls["sso:ListAccountsForProvisionedPermissionSet"] -
			calls["sso:ListAccountAssignments"] - calls["sso:ListAccountAssignmentsForPrincipal"] +
			int64(len(truth.Organization.Accounts)*len(ic.PermissionSets))
		st.Close()
		srv.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(identityCenterCalls(calls)), "ic-calls/op")
	b.ReportMetric(float64(calls["sso:ListAccountAssignments"]+calls["sso:ListAccountAssignmentsForPrincipal"]), "assignment-calls/op")
	b.ReportMetric(float64(pairs), "provisioned-pairs/op")
	b.ReportMetric(float64(naive), "naive-ic-calls/op")
	b.ReportMetric(float64(naive)/float64(identityCenterCalls(calls)), "x-fewer")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
}

// identityCenterCalls sums the Identity Store and SSO Admin calls.
func identityCenterCalls(calls map[string]int64) int64 {
	var n int64
	for k, v := range calls {
		if strings.HasPrefix(k, "sso:") || strings.HasPrefix(k, "identitystore:") {
			n += v
		}
	}
	return n
}
