package server

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/warden-iam/warden/internal/benchestate"
	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/store"
	"github.com/warden-iam/warden/internal/tokens"
)

// benchService is the API over the benchmark organization (200 member
// accounts of 300 users by default; WARDEN_BENCH_ACCOUNTS changes it),
// synced once per process into SQLite.
var bench struct {
	once  sync.Once
	err   error
	srv   *httptest.Server
	token string
	users []string // ARNs of the users
	st    *store.DB
	snap  *model.Snapshot
	g     *model.Graph
}

func benchService(b *testing.B) {
	b.Helper()
	bench.once.Do(func() {
		isolateAWS(b)
		accounts := 200
		if v := os.Getenv("WARDEN_BENCH_ACCOUNTS"); v != "" {
			if accounts, bench.err = strconv.Atoi(v); bench.err != nil {
				return
			}
		}
		ctx := context.Background()
		start := time.Now()
		snap, g, err := benchestate.Build(ctx, accounts)
		if err != nil {
			bench.err = err
			return
		}
		dir, err := os.MkdirTemp("", "warden-server-bench")
		if err != nil {
			bench.err = err
			return
		}
		st, err := store.OpenSQLite(ctx, filepath.Join(dir, "bench.db"))
		if err != nil {
			bench.err = err
			return
		}
		if _, err := st.WriteSnapshot(ctx, snap, g); err != nil {
			bench.err = err
			return
		}
		bench.st, bench.snap, bench.g = st, snap, g
		for _, r := range g.Resources {
			if r.Type == model.TypeIAMUser {
				bench.users = append(bench.users, r.ID)
			}
		}
		var svc *tokens.Service
		if os.Getenv("WARDEN_BENCH_ENV_TOKEN") != "" {
			// The environment's token: no last use to record.
			bench.token = "bench-env-token-000000000000000000"
			svc = tokens.New(st, tokens.Options{Env: &tokens.EnvToken{Secret: bench.token, Scope: tokens.ScopeRead}})
		} else {
			svc = tokens.New(st, tokens.Options{})
			if bench.token, _, err = svc.Create(ctx, "bench", tokens.ScopeRead, 0); err != nil {
				bench.err = err
				return
			}
		}
		s, err := New(Config{Store: st, Tokens: svc})
		if err != nil {
			bench.err = err
			return
		}
		bench.srv = httptest.NewServer(s.Handler())
		fmt.Fprintf(os.Stderr, "server bench: %d member accounts, %d users, %d resources, ready in %s\n",
			accounts, len(bench.users), len(g.Resources), time.Since(start).Round(time.Millisecond))
	})
	if bench.err != nil {
		b.Fatal(bench.err)
	}
}

// latencies collects request durations from parallel clients.
type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) add(d time.Duration) { l.mu.Lock(); l.d = append(l.d, d); l.mu.Unlock() }

// report adds req/s and the p50 and p99 latency to b.
func (l *latencies) report(b *testing.B, elapsed time.Duration) {
	slices.Sort(l.d)
	if len(l.d) == 0 {
		return
	}
	b.ReportMetric(float64(len(l.d))/elapsed.Seconds(), "req/s")
	b.ReportMetric(float64(l.d[len(l.d)*50/100].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(l.d[min(len(l.d)-1, len(l.d)*99/100)].Microseconds())/1000, "p99-ms")
}

func get(b *testing.B, client *http.Client, u string) []byte {
	req, _ := http.NewRequest("GET", u, nil)
	req.Header.Set("Authorization", "Bearer "+bench.token)
	resp, err := client.Do(req)
	if err != nil {
		b.Error(err)
		return nil
	}
	defer resp.Body.Close()
	var body json.RawMessage
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != 200 {
		b.Errorf("GET %s: %d %v", u, resp.StatusCode, err)
	}
	return body
}

// BenchmarkAccessAPI answers GET /api/v1/access/{user} for random users
// of the organization from parallel clients, through real HTTP: idle, and
// while snapshots of the organization (1 in 20 principals changed) are
// written one after the other, as a scheduled sync writes.
func BenchmarkAccessAPI(b *testing.B) {
	benchService(b)
	b.Run("idle", func(b *testing.B) { benchAccess(b, bench.users) })
	changed, _ := benchestate.Mutate(bench.g, 20)
	kept := map[string]bool{}
	for _, r := range changed.Resources {
		kept[r.ID] = true
	}
	var users []string // those no write deletes
	for _, u := range bench.users {
		if kept[u] {
			users = append(users, u)
		}
	}
	// The writer runs through every round of the sub-benchmark.
	stop := make(chan struct{})
	done := make(chan struct{})
	var writes atomic.Int64
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			g := changed
			if i%2 == 1 {
				g = bench.g
			}
			snap := *bench.snap
			snap.ID, snap.FinishedAt = 0, time.Now()
			if _, err := bench.st.WriteSnapshot(context.Background(), &snap, g); err != nil {
				b.Error(err)
				return
			}
			writes.Add(1)
		}
	}()
	b.Run("while-writing", func(b *testing.B) {
		before := writes.Load()
		start := time.Now()
		benchAccess(b, users)
		b.ReportMetric(float64(writes.Load()-before)/time.Since(start).Minutes(), "snapshots/min")
	})
	close(stop)
	<-done
}

// benchAccess asks for the access of random users.
func benchAccess(b *testing.B, users []string) {
	client := bench.srv.Client()
	l := &latencies{}
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
		for pb.Next() {
			u := bench.srv.URL + "/api/v1/access/" + url.PathEscape(users[r.IntN(len(users))])
			t0 := time.Now()
			get(b, client, u)
			l.add(time.Since(t0))
		}
	})
	l.report(b, time.Since(start))
}

// BenchmarkResourcesPageAPI walks the users of the organization a page of
// 100 at a time, from random points (each request one page).
func BenchmarkResourcesPageAPI(b *testing.B) {
	benchService(b)
	client := bench.srv.Client()
	// The cursors of every 10th page of users.
	var cursors []string
	next := ""
	for i := 0; ; i++ {
		u := bench.srv.URL + "/api/v1/resources?type=iam_user&limit=100"
		if next != "" {
			u += "&cursor=" + url.QueryEscape(next)
		}
		var page ResourcePage
		if err := json.Unmarshal(get(b, client, u), &page); err != nil {
			b.Fatal(err)
		}
		if i%10 == 0 {
			cursors = append(cursors, next)
		}
		if next = page.NextCursor; next == "" {
			break
		}
	}
	l := &latencies{}
	b.ResetTimer()
	start := time.Now()
	for i := 0; b.Loop(); i++ {
		u := bench.srv.URL + "/api/v1/resources?type=iam_user&limit=100"
		if c := cursors[i%len(cursors)]; c != "" {
			u += "&cursor=" + url.QueryEscape(c)
		}
		t0 := time.Now()
		get(b, client, u)
		l.add(time.Since(t0))
	}
	l.report(b, time.Since(start))
}
