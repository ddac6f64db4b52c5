package scimsync

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/warden-iam/warden/awsfake"
	"github.com/warden-iam/warden/internal/scim"
)

// BenchmarkPush pushes 2,000 people in 100 groups into an empty Identity
// Center at 20 ms latency, then a change of 50 people, with 8 writes at
// once and the client's rate limit lifted (AWS publishes none for SCIM),
// and reports the calls and wall time of each.
func BenchmarkPush(b *testing.B) {
	ctx := context.Background()
	people := generate(2000, 100)
	changed := slices.Clone(people[10:])
	for i := 0; i < 20; i++ {
		changed[i].Title = "Staff Engineer"
	}
	changed = append(changed, generate(2020, 100)[2000:]...)
	var first, second time.Duration
	var firstCalls, secondCalls, firstWrites, secondWrites int64
	for b.Loop() {
		b.StopTimer()
		srv := awsfake.NewServer(awsfake.Options{Latency: 20 * time.Millisecond})
		truth := awsfake.OrgEstate{Accounts: 1, Seed: 1, PerAccount: awsfake.Estate{Users: 1}, IdentityCenter: &awsfake.IdentityCenterEstate{}}.Build()
		truth.Install(srv)
		c, err := scim.New(srv.SCIMURL(), truth.IdentityCenter.SCIMToken, nil)
		if err != nil {
			b.Fatal(err)
		}
		c.SetRate(1e6)
		b.StartTimer()

		start := time.Now()
		if _, err := Push(ctx, c, people, Options{}); err != nil {
			b.Fatal(err)
		}
		first = time.Since(start)
		firstCalls, firstWrites = scimCalls(srv)
		start = time.Now()
		if _, err := Push(ctx, c, changed, Options{}); err != nil {
			b.Fatal(err)
		}
		second = time.Since(start)
		all, w := scimCalls(srv)
		secondCalls, secondWrites = all-firstCalls, w-firstWrites

		b.StopTimer()
		srv.Close()
		b.StartTimer()
	}
	b.ReportMetric(first.Seconds(), "initial-s")
	b.ReportMetric(float64(firstCalls), "initial-calls")
	b.ReportMetric(float64(firstWrites), "initial-writes")
	b.ReportMetric(second.Seconds(), "incremental-s")
	b.ReportMetric(float64(secondCalls), "incremental-calls")
	b.ReportMetric(float64(secondWrites), "incremental-writes")
}

// scimCalls returns the SCIM calls the emulator served, and the writes
// among them.
func scimCalls(srv *awsfake.Server) (all, writes int64) {
	for k, v := range srv.Calls() {
		if len(k) > 5 && k[:5] == "scim:" {
			all += v
			if k[5:9] != "List" && k[5:8] != "Get" {
				writes += v
			}
		}
	}
	return all, writes
}

// BenchmarkPush50000Twice pushes 50,000 people in 500 groups into an empty
// Identity Center, then pushes the same source again, which must make no
// write, with the client's rate limit lifted and no added latency: the
// emulator's cost per request, not its size, sets the pace (issue 10 item
// 32: a second push of 50,000 ran for over 19 minutes when the emulator
// scanned every user for every filter). Run it with -benchtime=1x.
func BenchmarkPush50000Twice(b *testing.B) {
	ctx := context.Background()
	people := generate(50000, 500)
	var first, second time.Duration
	var firstCalls, secondCalls, firstWrites, secondWrites int64
	for b.Loop() {
		b.StopTimer()
		srv := awsfake.NewServer(awsfake.Options{})
		truth := awsfake.OrgEstate{Accounts: 1, Seed: 1, PerAccount: awsfake.Estate{Users: 1}, IdentityCenter: &awsfake.IdentityCenterEstate{}}.Build()
		truth.Install(srv)
		c, err := scim.New(srv.SCIMURL(), truth.IdentityCenter.SCIMToken, nil)
		if err != nil {
			b.Fatal(err)
		}
		c.SetRate(1e6)
		b.StartTimer()

		start := time.Now()
		rep, err := Push(ctx, c, people, Options{})
		if err != nil || len(rep.Failed) != 0 || rep.Created != 50000 {
			b.Fatalf("first push: %v, %+v", err, rep)
		}
		first = time.Since(start)
		firstCalls, firstWrites = scimCalls(srv)
		start = time.Now()
		rep, err = Push(ctx, c, people, Options{})
		if err != nil || rep.Writes != 0 || rep.Unchanged != 50000 {
			b.Fatalf("second push: %v, %+v; want no write", err, rep)
		}
		second = time.Since(start)
		all, w := scimCalls(srv)
		secondCalls, secondWrites = all-firstCalls, w-firstWrites
		if secondWrites != 0 {
			b.Fatalf("the second push made %d writes", secondWrites)
		}

		b.StopTimer()
		srv.Close()
		b.StartTimer()
	}
	b.ReportMetric(first.Seconds(), "first-s")
	b.ReportMetric(float64(firstCalls), "first-calls")
	b.ReportMetric(float64(firstWrites), "first-writes")
	b.ReportMetric(second.Seconds(), "second-s")
	b.ReportMetric(float64(secondCalls), "second-calls")
	b.ReportMetric(float64(secondWrites), "second-writes")
}
