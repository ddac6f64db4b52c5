package syncer

import (
	"context"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/warden-iam/warden/awsfake"
	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/store"
)

// The benchmark estates: per 1000 users, 100 groups, 500 roles and 200
// customer managed policies (an account of people and the services they
// run), at 20 ms of latency on every call, the round trip to IAM's
// endpoint from a nearby region.
const benchLatency = 20 * time.Millisecond

func benchEstate(users int) awsfake.Estate {
	return awsfake.Estate{AccountID: testAccount, Users: users, Groups: users / 10, Roles: users / 2, Policies: users / 5, Seed: 42}
}

func BenchmarkSync1000Users(b *testing.B) { benchmarkSync(b, 1000) }
func BenchmarkSync5000Users(b *testing.B) { benchmarkSync(b, 5000) }

// benchmarkSync syncs a fresh emulated account of users users into a fresh
// store per iteration, and reports per sync: the calls made (all, and by
// action), the calls a per-entity connector would make for the same
// estate, the graph's size and the peak Go heap of the process (emulator
// included, since it runs in-process).
func benchmarkSync(b *testing.B, users int) {
	isolateAWS(b)
	ctx := context.Background()
	var calls map[string]int64
	var perEntity, resources, grants int
	var peak uint64
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		srv := awsfake.NewServer(awsfake.Options{Latency: benchLatency, Seed: 42})
		truth := benchEstate(users).Build()
		creds := srv.AddAccount(truth)
		sess := newSession(b, srv.URL(), creds)
		st, err := store.OpenSQLite(ctx, filepath.Join(b.TempDir(), "bench.db"))
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		stop := samplePeakHeap(&peak)
		b.StartTimer()

		snap, err := Sync(ctx, sess, st, syncOptions())

		b.StopTimer()
		stop()
		if err != nil {
			b.Fatalf("Sync: %v", err)
		}
		if snap.Status != model.StatusComplete {
			b.Fatalf("snapshot %s: %+v", snap.Status, snap.Errors)
		}
		calls = srv.Calls()
		perEntity = perEntityCalls(truth, awsfake.AWSManagedPolicies())
		resources, grants = 0, 0
		for _, n := range snap.Counts {
			resources += n
		}
		if g, err := st.Graph(ctx, snap.ID); err == nil {
			grants = len(g.Grants)
		}
		st.Close()
		srv.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(iamCalls(calls)), "iam-calls/op")
	b.ReportMetric(float64(calls["iam:GetAccountAuthorizationDetails"]), "gaad-calls/op")
	b.ReportMetric(float64(calls["iam:GenerateCredentialReport"]+calls["iam:GetCredentialReport"]), "report-calls/op")
	b.ReportMetric(float64(calls["iam:ListAccessKeys"]), "listaccesskeys-calls/op")
	b.ReportMetric(float64(perEntity), "per-entity-calls/op")
	b.ReportMetric(float64(resources), "resources/op")
	b.ReportMetric(float64(grants), "grants/op")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
}

// samplePeakHeap records the largest HeapInuse seen every 5 ms into *peak
// until the returned stop is called.
func samplePeakHeap(peak *uint64) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	var max atomic.Uint64
	max.Store(*peak)
	wg.Go(func() {
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > max.Load() {
				max.Store(ms.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
		*peak = max.Load()
	}
}

// perEntityCalls is what a connector that reads IAM entity by entity (the
// usual List-then-Get connector) calls for the same estate, counting pages
// of 1000 (IAM's largest) for every listing:
//
//	ListUsers, ListGroups, ListRoles, ListPolicies (customer, and AWS managed in use): one per 1000
//	per user:   ListGroupsForUser, ListAttachedUserPolicies, ListUserPolicies, ListAccessKeys,
//	            GetLoginProfile, ListMFADevices, ListUserTags (7)
//	            + GetUserPolicy per inline policy + GetAccessKeyLastUsed per key
//	per group:  GetGroup (members), ListAttachedGroupPolicies, ListGroupPolicies (3)
//	            + GetGroupPolicy per inline policy
//	per role:   GetRole (trust, last use, boundary), ListAttachedRolePolicies, ListRolePolicies,
//	            ListRoleTags (4) + GetRolePolicy per inline policy
//	per policy: GetPolicyVersion (the default version's document) (1)
func perEntityCalls(truth *awsfake.Account, awsManaged []*awsfake.ManagedPolicy) int {
	in := truth.IAM
	pages := func(n int) int { return max(1, (n+999)/1000) }
	used := map[string]bool{}
	for _, u := range in.Users {
		for _, p := range u.AttachedPolicies {
			used[p] = true
		}
	}
	for _, g := range in.Groups {
		for _, p := range g.AttachedPolicies {
			used[p] = true
		}
	}
	for _, r := range in.Roles {
		for _, p := range r.AttachedPolicies {
			used[p] = true
		}
	}
	awsUsed := 0
	for _, p := range awsManaged {
		if used[p.ARN] {
			awsUsed++
		}
	}
	n := pages(len(in.Users)) + pages(len(in.Groups)) + pages(len(in.Roles)) + pages(len(in.Policies)) + pages(awsUsed)
	for _, u := range in.Users {
		n += 7 + len(u.InlinePolicies) + len(u.AccessKeys)
	}
	for _, g := range in.Groups {
		n += 3 + len(g.InlinePolicies)
	}
	for _, r := range in.Roles {
		n += 4 + len(r.InlinePolicies)
	}
	n += len(in.Policies) + awsUsed
	return n
}
