package effective

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/warden-iam/warden/internal/benchestate"
	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/policy"
	"github.com/warden-iam/warden/internal/store"
)

// The benchmarks of issue 14 (BENCHMARKS.md, "Effective access") run on
// internal/benchestate's organization: WARDEN_BENCH_ACCOUNTS member
// accounts (200 for the 60,000-user organization, 5 by default so
// a plain -bench . stays quick), synced through the real SDK from the
// emulator and written to a SQLite store, which the benchmarks then read
// as the CLI does. WARDEN_BENCH_DB names a file to keep that store in and
// reuse on the next run (it is built when missing), so a run can measure
// the question alone, without the sync in the same process.

var bench struct {
	once sync.Once
	st   *store.DB
	path string
	snap int64
	err  error
}

func benchStore(b *testing.B) (*store.DB, int64) {
	b.Helper()
	bench.once.Do(func() {
		ctx := context.Background()
		accounts := 5
		if v := os.Getenv("WARDEN_BENCH_ACCOUNTS"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				bench.err = fmt.Errorf("WARDEN_BENCH_ACCOUNTS=%q: want a number of member accounts, at least 1", v)
				return
			}
			accounts = n
		}
		path := os.Getenv("WARDEN_BENCH_DB")
		if path == "" {
			dir, err := os.MkdirTemp("", "effective-bench-")
			if err != nil {
				bench.err = err
				return
			}
			path = filepath.Join(dir, "warden.db")
		}
		bench.path = path
		_, statErr := os.Stat(path)
		if bench.st, bench.err = store.OpenSQLite(ctx, path); bench.err != nil {
			return
		}
		if statErr == nil {
			snap, err := bench.st.LatestSnapshot(ctx, "")
			if err == nil {
				bench.snap = snap.ID
				fmt.Fprintf(os.Stderr, "effective: benchmark store %s reused (snapshot %d)\n", path, snap.ID)
				return
			}
		}
		isolateAWS(b)
		start := time.Now()
		snap, g, err := benchestate.Build(ctx, accounts)
		if err != nil {
			bench.err = err
			return
		}
		users := 0
		for _, r := range g.Resources {
			if r.Type == model.TypeIAMUser {
				users++
			}
		}
		if bench.snap, bench.err = bench.st.WriteSnapshot(ctx, snap, g); bench.err != nil {
			return
		}
		fmt.Fprintf(os.Stderr, "effective: organization of %d member accounts, %d users, %d resources, %d grants, synced and stored in %s at %s\n",
			accounts, users, len(g.Resources), len(g.Grants), time.Since(start).Round(time.Millisecond), path)
		g = nil
		runtime.GC()
	})
	if bench.err != nil {
		b.Fatal(bench.err)
	}
	return bench.st, bench.snap
}

// peakHeap samples the live heap every few milliseconds until stop is
// called, and returns the highest it saw.
func peakHeap() (stop func() uint64) {
	var peak uint64
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		var m runtime.MemStats
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak {
				peak = m.HeapInuse
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 {
		close(done)
		<-finished
		return peak
	}
}

// cpuTime is the CPU time (user and system) the process has used: on a
// shared machine it says what a question costs better than the wall clock.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// dropIndex deletes the stored effective index of snapshot snap of the
// benchmark store (on a connection of its own), so the next Load builds
// it again.
func dropIndex(b *testing.B, snap int64) {
	b.Helper()
	db, err := sql.Open("sqlite", "file:"+bench.path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`DELETE FROM effective_index WHERE snapshot_id=?`, snap); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkWhoCan is `warden who-can s3:GetObject '*'` over the benchmark
// organization. cold: load the snapshot's principals and policies from the
// store (its stored effective index), decide every principal, follow role
// chains (what the CLI does); first: the same on a snapshot whose index is
// not stored yet (deleted outside the timer), so Load builds and stores it
// (the first question asked of a snapshot); load: the loading alone;
// answer: the question over a snapshot loaded outside the timer. Each reports the peak heap in use during its
// iterations (peak-heap-MiB) besides B/op.
func BenchmarkWhoCan(b *testing.B) {
	st, snap := benchStore(b)
	ctx := context.Background()
	q := WhoCanQuestion{Action: "s3:GetObject", Resource: "*"}
	// f does one iteration and returns its answer and the CPU time of the
	// part timed.
	run := func(b *testing.B, f func(b *testing.B) (*WhoCanAnswer, time.Duration)) {
		runtime.GC()
		b.ReportAllocs()
		b.ResetTimer()
		stop := peakHeap()
		var cpu time.Duration
		var a *WhoCanAnswer
		for i := 0; i < b.N; i++ {
			var c time.Duration
			a, c = f(b)
			cpu += c
		}
		b.StopTimer()
		b.ReportMetric(float64(stop())/(1<<20), "peak-heap-MiB")
		b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
		if a != nil {
			b.ReportMetric(float64(len(a.Principals)), "principals")
			b.ReportMetric(float64(a.Evaluated), "requests")
		}
	}
	b.Run("cold", func(b *testing.B) {
		run(b, func(b *testing.B) (*WhoCanAnswer, time.Duration) {
			before := cpuTime()
			a, err := WhoCan(ctx, st, snap, q)
			if err != nil {
				b.Fatal(err)
			}
			return a, cpuTime() - before
		})
	})
	b.Run("first", func(b *testing.B) {
		run(b, func(b *testing.B) (*WhoCanAnswer, time.Duration) {
			b.StopTimer()
			dropIndex(b, snap)
			b.StartTimer()
			before := cpuTime()
			a, err := WhoCan(ctx, st, snap, q)
			if err != nil {
				b.Fatal(err)
			}
			return a, cpuTime() - before
		})
	})
	b.Run("load", func(b *testing.B) {
		run(b, func(b *testing.B) (*WhoCanAnswer, time.Duration) {
			before := cpuTime()
			if _, err := Load(ctx, st, snap); err != nil {
				b.Fatal(err)
			}
			return nil, cpuTime() - before
		})
	})
	b.Run("answer", func(b *testing.B) {
		run(b, func(b *testing.B) (*WhoCanAnswer, time.Duration) {
			b.StopTimer()
			s, err := Load(ctx, st, snap)
			if err != nil {
				b.Fatal(err)
			}
			runtime.GC()
			b.StartTimer()
			before := cpuTime()
			a, err := s.WhoCan(ctx, q)
			if err != nil {
				b.Fatal(err)
			}
			return a, cpuTime() - before
		})
	})
}

// BenchmarkCan is `warden can USER s3:GetObject '*'` for the IAM user of
// the benchmark organization with the most grants: find it, read what it
// holds, its boundary and its account's SCP chain, decide.
func BenchmarkCan(b *testing.B) {
	st, snap := benchStore(b)
	ctx := context.Background()
	users, err := st.Resources(ctx, snap, store.ResourceFilter{Type: model.TypeIAMUser})
	if err != nil {
		b.Fatal(err)
	}
	best, most := "", -1
	for i := range users {
		if i%50 != 0 { // a sample keeps the set-up short
			continue
		}
		held, err := st.GrantsOf(ctx, snap, users[i].ID)
		if err != nil {
			b.Fatal(err)
		}
		if len(held) > most {
			best, most = users[i].ID, len(held)
		}
	}
	users = nil
	runtime.GC()
	b.ReportAllocs()
	b.ResetTimer()
	var a *CanAnswer
	for i := 0; i < b.N; i++ {
		if a, err = Can(ctx, st, snap, Question{Principal: best, Action: "s3:GetObject", Resource: "*"}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if a.Decision == "" || a.Decision == policy.Decision("") {
		b.Fatal("no decision")
	}
	b.ReportMetric(float64(most), "grants")
}
