package benchestate

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/warden-iam/warden/internal/inventory"
	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/pgtest"
	"github.com/warden-iam/warden/internal/render"
	"github.com/warden-iam/warden/internal/store"
)

// The storage benchmarks of issue 11 (BENCHMARKS.md, "History storage").
// They build the organization of `warden fake-aws --accounts N` once per
// process: N is WARDEN_BENCH_ACCOUNTS, 200 for the 60,000-user
// organization, 5 by default so that a quick `-bench .` stays quick. They
// use only the Store interface, so they measure whichever store is built.

// defaultBenchAccounts is the organization's size without WARDEN_BENCH_ACCOUNTS.
const defaultBenchAccounts = 5

func benchAccounts(b *testing.B) int {
	v := os.Getenv("WARDEN_BENCH_ACCOUNTS")
	if v == "" {
		return defaultBenchAccounts
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		b.Fatalf("WARDEN_BENCH_ACCOUNTS=%q: want a number of member accounts, at least 1 (200 for the issue's organization)", v)
	}
	return n
}

var estate struct {
	once  sync.Once
	snap  *model.Snapshot
	g     *model.Graph
	err   error
	users int
}

// isolateAWS clears the AWS variables of the environment that would point
// the SDK elsewhere.
func isolateAWS(tb testing.TB) {
	for _, k := range []string{"AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
		"AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_IAM", "AWS_ENDPOINT_URL_STS", "AWS_RETRY_MODE", "AWS_MAX_ATTEMPTS"} {
		tb.Setenv(k, "")
	}
	dir := tb.TempDir()
	tb.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	tb.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	tb.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

// benchGraph returns the benchmark organization's snapshot and graph,
// synced once per process.
func benchGraph(b *testing.B) (*model.Snapshot, *model.Graph) {
	b.Helper()
	estate.once.Do(func() {
		isolateAWS(b)
		n := benchAccounts(b)
		start := time.Now()
		estate.snap, estate.g, estate.err = Build(context.Background(), n)
		if estate.err == nil {
			for _, r := range estate.g.Resources {
				if r.Type == model.TypeIAMUser {
					estate.users++
				}
			}
			fmt.Fprintf(os.Stderr, "benchestate: organization of %d member accounts: %d users, %d resources, %d entitlements, %d grants (synced in %s)\n",
				n, estate.users, len(estate.g.Resources), len(estate.g.Entitlements), len(estate.g.Grants), time.Since(start).Round(time.Millisecond))
		}
	})
	if estate.err != nil {
		b.Fatal(estate.err)
	}
	return estate.snap, estate.g
}

// snapshotOf returns a copy of the synced snapshot record, finished at
// finished (each write needs its own: WriteSnapshot sets the ID).
func snapshotOf(snap *model.Snapshot, finished time.Time) *model.Snapshot {
	s := *snap
	s.ID = 0
	s.StartedAt = finished.Add(-time.Minute)
	s.FinishedAt = finished
	return &s
}

// backend is a store the benchmarks run against.
type backend struct {
	name string
	// open opens a new, empty store for one benchmark iteration (a file in
	// dir for SQLite).
	open func(b *testing.B, dir string) *benchStore
}

// benchStore is one empty store opened by a backend.
type benchStore struct {
	st store.Store
	// reopen opens it again after Close; size is the bytes it takes, read
	// with the store closed; remove deletes it (the caller's duty: once,
	// after closing it).
	reopen func() store.Store
	size   func() int64
	remove func()
}

// backends are SQLite, and PostgreSQL when WARDEN_TEST_POSTGRES names a
// server (each iteration then gets a database of its own, dropped after).
func backends() []backend {
	bs := []backend{{name: "sqlite", open: openSQLite}}
	if store.IsPostgresURL(os.Getenv("WARDEN_TEST_POSTGRES")) {
		bs = append(bs, backend{name: "postgres", open: openPostgres})
	} else {
		pgSkipOnce.Do(func() {
			fmt.Fprintln(os.Stderr, "benchestate: PostgreSQL benchmarks SKIPPED: WARDEN_TEST_POSTGRES is not set (.ci/run sets it)")
		})
	}
	return bs
}

var pgSkipOnce sync.Once

// openSQLite opens a new SQLite file. Its size is the database file plus
// its write-ahead log: closing the last connection checkpoints the log.
func openSQLite(b *testing.B, dir string) *benchStore {
	b.Helper()
	path := filepath.Join(dir, "bench.db")
	open := func() store.Store {
		st, err := store.OpenSQLite(context.Background(), path)
		if err != nil {
			b.Fatal(err)
		}
		return st
	}
	size := func() int64 {
		var n int64
		for _, p := range []string{path, path + "-wal"} {
			if fi, err := os.Stat(p); err == nil {
				n += fi.Size()
			}
		}
		return n
	}
	return &benchStore{st: open(), reopen: open, size: size, remove: func() { os.RemoveAll(dir) }}
}

// openPostgres creates a database of its own on the server of
// WARDEN_TEST_POSTGRES and opens it. Its size is pg_database_size (the
// server's write-ahead log, shared by every database, is not counted).
func openPostgres(b *testing.B, _ string) *benchStore {
	b.Helper()
	ctx := context.Background()
	admin := os.Getenv("WARDEN_TEST_POSTGRES")
	db, err := sql.Open("pgx", admin)
	if err != nil {
		b.Fatalf("connect to %s: %v", store.MaskDSN(admin), err)
	}
	buf := make([]byte, 6)
	rand.Read(buf)
	name := "warden_bench_" + hex.EncodeToString(buf)
	if _, err := db.ExecContext(ctx, `CREATE DATABASE `+name); err != nil {
		db.Close()
		b.Fatalf("create a benchmark database on %s (the role needs CREATEDB): %v", store.MaskDSN(admin), err)
	}
	u, err := url.Parse(admin)
	if err != nil {
		b.Fatalf("WARDEN_TEST_POSTGRES=%s: %v", store.MaskDSN(admin), err)
	}
	u.Path = "/" + name
	open := func() store.Store {
		st, err := store.OpenPostgres(ctx, u.String())
		if err != nil {
			b.Fatal(err)
		}
		return st
	}
	size := func() int64 {
		var n int64
		if err := db.QueryRowContext(ctx, `SELECT pg_database_size($1)`, name).Scan(&n); err != nil {
			b.Fatal(err)
		}
		return n
	}
	var once sync.Once
	remove := func() {
		once.Do(func() {
			if err := pgtest.Drop(ctx, db, name); err != nil {
				fmt.Fprintf(os.Stderr, "benchestate: drop benchmark database %s: %v\n", name, err)
			}
			db.Close()
		})
	}
	return &benchStore{st: open(), reopen: open, size: size, remove: remove}
}

func closeStore(b *testing.B, st store.Store) {
	b.Helper()
	if err := st.Close(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkFirstWrite times WriteSnapshot of the whole organization into an
// empty store and reports the store's size after it.
func BenchmarkFirstWrite(b *testing.B) {
	snap, g := benchGraph(b)
	for _, be := range backends() {
		b.Run(be.name, func(b *testing.B) {
			ctx := context.Background()
			var bytes int64
			for b.Loop() {
				b.StopTimer()
				bs := be.open(b, b.TempDir())
				b.Cleanup(bs.remove) // when an iteration fails
				st := bs.st
				s := snapshotOf(snap, time.Now())
				b.StartTimer()
				if _, err := st.WriteSnapshot(ctx, s, g); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				closeStore(b, st)
				bytes = bs.size()
				bs.remove() // not at the end: iterations would pile up
				b.StartTimer()
			}
			b.ReportMetric(float64(bytes), "db-bytes")
			b.ReportMetric(float64(len(g.Resources)+len(g.Entitlements)+len(g.Grants)), "rows")
		})
	}
}

// benchmarkResync writes first, closes and reopens the store, then times
// WriteSnapshot of second and reports the bytes it added.
func benchmarkResync(b *testing.B, first, second *model.Graph, changed int) {
	snap, _ := benchGraph(b)
	for _, be := range backends() {
		b.Run(be.name, func(b *testing.B) {
			ctx := context.Background()
			var before, after int64
			for b.Loop() {
				b.StopTimer()
				bs := be.open(b, b.TempDir())
				b.Cleanup(bs.remove)
				st := bs.st
				t := time.Now().Add(-time.Hour)
				if _, err := st.WriteSnapshot(ctx, snapshotOf(snap, t), first); err != nil {
					b.Fatal(err)
				}
				closeStore(b, st)
				before = bs.size()
				st = bs.reopen()
				s := snapshotOf(snap, t.Add(time.Hour))
				b.StartTimer()
				if _, err := st.WriteSnapshot(ctx, s, second); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				closeStore(b, st)
				after = bs.size()
				bs.remove()
				b.StartTimer()
			}
			b.ReportMetric(float64(after-before), "added-bytes")
			b.ReportMetric(float64(before), "first-db-bytes")
			b.ReportMetric(100*float64(after-before)/float64(before), "added-%")
			if changed >= 0 {
				b.ReportMetric(float64(changed), "changed-principals")
			}
		})
	}
}

// BenchmarkUnchangedResync writes the same graph twice (a sync of an
// organization in which nothing changed) and reports what the second write
// added.
func BenchmarkUnchangedResync(b *testing.B) {
	_, g := benchGraph(b)
	benchmarkResync(b, g, g, -1)
}

// BenchmarkResync1Percent writes the graph, then the graph with 1% of its
// principals changed (Mutate(g, 100): group memberships, policy
// attachments, tags, deletions), and reports what the second write added.
func BenchmarkResync1Percent(b *testing.B) {
	_, g := benchGraph(b)
	changed, ch := Mutate(g, 100)
	benchmarkResync(b, g, changed, ch.Principals)
}

// BenchmarkPrune writes the graph, then the graph with 1% of its
// principals changed, and times Prune of the first snapshot (Keep 1):
// what it deletes is the history only the first snapshot held. It reports
// the rows and bytes Prune says it freed, and how much the store shrank.
func BenchmarkPrune(b *testing.B) {
	snap, g := benchGraph(b)
	changed, _ := Mutate(g, 100)
	for _, be := range backends() {
		b.Run(be.name, func(b *testing.B) {
			ctx := context.Background()
			var res *store.PruneResult
			var before, after int64
			for b.Loop() {
				b.StopTimer()
				bs := be.open(b, b.TempDir())
				b.Cleanup(bs.remove)
				st := bs.st
				t := time.Now().Add(-time.Hour)
				for i, gr := range []*model.Graph{g, changed} {
					if _, err := st.WriteSnapshot(ctx, snapshotOf(snap, t.Add(time.Duration(i)*time.Minute)), gr); err != nil {
						b.Fatal(err)
					}
				}
				closeStore(b, st)
				before = bs.size()
				st = bs.reopen()
				b.StartTimer()
				var err error
				if res, err = st.Prune(ctx, "", store.PruneOptions{Keep: 1}); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				closeStore(b, st)
				after = bs.size()
				bs.remove()
				b.StartTimer()
			}
			if len(res.Deleted) != 1 || res.Kept != 1 {
				b.Fatalf("Prune(Keep 1) of two snapshots = %+v", res)
			}
			b.ReportMetric(float64(res.Rows), "rows-deleted")
			b.ReportMetric(float64(res.BytesFreed), "bytes-freed")
			b.ReportMetric(float64(before-after), "shrank-bytes")
		})
	}
}

// readStores are stores holding two snapshots of the organization (a
// sync, then an unchanged re-sync, as the database after two
// syncs), one per backend, shared by the read benchmarks of a process, in
// the directory dir that TestMain removes.
var readStores struct {
	mu      sync.Mutex
	dir     string
	stores  map[string]store.Store
	removes []func()
}

func TestMain(m *testing.M) {
	code := m.Run()
	readStores.mu.Lock()
	for _, st := range readStores.stores {
		st.Close()
	}
	for _, remove := range readStores.removes {
		remove()
	}
	if readStores.dir != "" {
		os.RemoveAll(readStores.dir)
	}
	readStores.mu.Unlock()
	os.Exit(code)
}

func readStore(b *testing.B, be backend) (store.Store, *model.Snapshot) {
	b.Helper()
	snap, g := benchGraph(b)
	ctx := context.Background()
	readStores.mu.Lock()
	defer readStores.mu.Unlock()
	st := readStores.stores[be.name]
	if st == nil {
		if readStores.dir == "" {
			dir, err := os.MkdirTemp("", "warden-benchestate-")
			if err != nil {
				b.Fatal(err)
			}
			readStores.dir = dir
		}
		dir := filepath.Join(readStores.dir, be.name)
		if err := os.Mkdir(dir, 0o700); err != nil {
			b.Fatal(err)
		}
		bs := be.open(b, dir)
		readStores.removes = append(readStores.removes, bs.remove)
		st = bs.st
		t := time.Now().Add(-time.Hour)
		for i := range 2 {
			if _, err := st.WriteSnapshot(ctx, snapshotOf(snap, t.Add(time.Duration(i)*time.Hour)), g); err != nil {
				b.Fatal(err)
			}
		}
		// Read from a store opened afresh, as a command does.
		closeStore(b, st)
		st = bs.reopen()
		if readStores.stores == nil {
			readStores.stores = map[string]store.Store{}
		}
		readStores.stores[be.name] = st
	}
	latest, err := st.LatestSnapshot(ctx, "")
	if err != nil {
		b.Fatal(err)
	}
	return st, latest
}

// BenchmarkShowUsers is `warden show users` on the latest of two
// snapshots: "subgraph" is what the command does (the part of the snapshot
// inventory.UsersPart names, then the users laid out with their groups, keys
// and MFA), "graph" the same from the whole snapshot (the command before
// Store.Subgraph), "resources" the store's listing of the IAM users alone.
func BenchmarkShowUsers(b *testing.B) {
	ctx := context.Background()
	for _, be := range backends() {
		b.Run(be.name+"/resources", func(b *testing.B) {
			st, latest := readStore(b, be)
			n := 0
			for b.Loop() {
				users, err := st.Resources(ctx, latest.ID, store.ResourceFilter{Type: model.TypeIAMUser})
				if err != nil {
					b.Fatal(err)
				}
				n = len(users)
			}
			if n != estate.users {
				b.Fatalf("Resources listed %d IAM users, the estate has %d", n, estate.users)
			}
			b.ReportMetric(float64(n), "users")
		})
		b.Run(be.name+"/subgraph", func(b *testing.B) {
			st, latest := readStore(b, be)
			n := 0
			for b.Loop() {
				g, err := st.Subgraph(ctx, latest.ID, inventory.UsersPart, "")
				if err != nil {
					b.Fatal(err)
				}
				n = len(inventory.Users(g, ""))
			}
			if n != estate.users {
				b.Fatalf("show users laid out %d users, the estate has %d", n, estate.users)
			}
			b.ReportMetric(float64(n), "users")
		})
		b.Run(be.name+"/graph", func(b *testing.B) {
			st, latest := readStore(b, be)
			n := 0
			for b.Loop() {
				g, err := st.Graph(ctx, latest.ID)
				if err != nil {
					b.Fatal(err)
				}
				n = len(inventory.Users(g, ""))
			}
			if n != estate.users {
				b.Fatalf("show users laid out %d users, the estate has %d", n, estate.users)
			}
			b.ReportMetric(float64(n), "users")
		})
	}
}

// accessUser is the user of BenchmarkAccess: the IAM user holding the
// most grants (the first in ID order of those).
func accessUser(g *model.Graph) model.Resource {
	held := map[string]int{}
	for _, gr := range g.Grants {
		held[gr.PrincipalID]++
	}
	var u model.Resource
	for _, r := range g.Resources {
		if r.Type == model.TypeIAMUser && (u.ID == "" || held[r.ID] > held[u.ID]) {
			u = r
		}
	}
	return u
}

// BenchmarkAccess is `warden access USER` on the latest of two snapshots:
// the user found by ARN, then everything it holds.
func BenchmarkAccess(b *testing.B) {
	ctx := context.Background()
	_, g := benchGraph(b)
	u := accessUser(g)
	want := 0
	for _, gr := range g.Grants {
		if gr.PrincipalID == u.ID {
			want++
		}
	}
	for _, be := range backends() {
		b.Run(be.name, func(b *testing.B) {
			st, latest := readStore(b, be)
			n := 0
			for b.Loop() {
				found, err := st.FindPrincipal(ctx, latest.ID, u.ARN)
				if err != nil || len(found) != 1 {
					b.Fatalf("FindPrincipal %s: %v, %d found", u.ARN, err, len(found))
				}
				held, err := st.GrantsOf(ctx, latest.ID, found[0].ID)
				if err != nil {
					b.Fatal(err)
				}
				n = len(held)
			}
			if n != want {
				b.Fatalf("GrantsOf %s returned %d grants, the graph has %d", u.ID, n, want)
			}
			b.ReportMetric(float64(n), "grants")
		})
	}
}

// BenchmarkFindings is `warden findings` on the latest of two snapshots:
// the whole snapshot loaded, then every finding computed.
func BenchmarkFindings(b *testing.B) {
	ctx := context.Background()
	for _, be := range backends() {
		b.Run(be.name, func(b *testing.B) {
			st, _ := readStore(b, be)
			var f *render.Findings
			for b.Loop() {
				latest, err := st.LatestSnapshot(ctx, "")
				if err != nil {
					b.Fatal(err)
				}
				g, err := st.Graph(ctx, latest.ID)
				if err != nil {
					b.Fatal(err)
				}
				f = render.NewFindings(g, time.Now(), 10, 90)
			}
			b.ReportMetric(float64(len(f.Admins)), "admins")
		})
	}
}
