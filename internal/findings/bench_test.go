package findings

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/warden-iam/warden/internal/benchestate"
	"github.com/warden-iam/warden/internal/effective"
	"github.com/warden-iam/warden/internal/store"
)

// The benchmarks of the effective-access findings (BENCHMARKS.md,
// "Effective access") run on internal/benchestate's organization:
// WARDEN_BENCH_ACCOUNTS member accounts (200 for the 60,000-user
// organization, 5 by default so a plain -bench . stays quick), synced
// through the real SDK from the emulator and written to a SQLite store.
// WARDEN_BENCH_DB names a file to keep that store in and reuse (built when
// missing), so a run can measure the findings without the sync.

var benchDB struct {
	once sync.Once
	st   *store.DB
	snap int64
	err  error
}

func findingsBenchStore(b *testing.B) (*store.DB, int64) {
	b.Helper()
	benchDB.once.Do(func() {
		ctx := context.Background()
		accounts := 5
		if v := os.Getenv("WARDEN_BENCH_ACCOUNTS"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				benchDB.err = fmt.Errorf("WARDEN_BENCH_ACCOUNTS=%q: want a number of member accounts, at least 1", v)
				return
			}
			accounts = n
		}
		path := os.Getenv("WARDEN_BENCH_DB")
		if path == "" {
			path = filepath.Join(b.TempDir(), "warden.db")
		}
		_, statErr := os.Stat(path)
		if benchDB.st, benchDB.err = store.OpenSQLite(ctx, path); benchDB.err != nil {
			return
		}
		if statErr == nil {
			if snap, err := benchDB.st.LatestSnapshot(ctx, ""); err == nil {
				benchDB.snap = snap.ID
				fmt.Fprintf(os.Stderr, "findings: benchmark store %s reused (snapshot %d)\n", path, snap.ID)
				return
			}
		}
		for _, k := range []string{"AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
			"AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_IAM", "AWS_ENDPOINT_URL_STS", "AWS_RETRY_MODE", "AWS_MAX_ATTEMPTS"} {
			os.Setenv(k, "")
		}
		start := time.Now()
		snap, g, err := benchestate.Build(ctx, accounts)
		if err != nil {
			benchDB.err = err
			return
		}
		if benchDB.snap, benchDB.err = benchDB.st.WriteSnapshot(ctx, snap, g); benchDB.err != nil {
			return
		}
		fmt.Fprintf(os.Stderr, "findings: organization of %d member accounts, %d resources, synced and stored in %s\n",
			accounts, len(g.Resources), time.Since(start).Round(time.Millisecond))
	})
	if benchDB.err != nil {
		b.Fatal(benchDB.err)
	}
	return benchDB.st, benchDB.snap
}

// BenchmarkEffectiveFindings measures, over a snapshot and graph loaded
// outside the timer, EffectiveAdmins (effective-admins) and
// EscalationPaths given those administrators (escalation-paths), as
// `warden findings` runs them, reporting how many each found.
func BenchmarkEffectiveFindings(b *testing.B) {
	st, snap := findingsBenchStore(b)
	ctx := context.Background()
	s, err := effective.Load(ctx, st, snap)
	if err != nil {
		b.Fatal(err)
	}
	g, err := st.Graph(ctx, snap)
	if err != nil {
		b.Fatal(err)
	}
	admins, err := EffectiveAdmins(ctx, s, g)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("effective-admins", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			a, err := EffectiveAdmins(ctx, s, g)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(len(a)), "admins")
		}
	})
	b.Run("escalation-paths", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			p, err := EscalationPaths(ctx, s, g, admins)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(len(p)), "paths")
		}
	})
}
