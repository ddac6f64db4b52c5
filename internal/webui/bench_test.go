package webui

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/warden-iam/warden/internal/benchestate"
	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/store"
	"github.com/warden-iam/warden/internal/tokens"
)

// bench is the UI over the benchmark organization (200 member accounts of
// 300 users; WARDEN_BENCH_ACCOUNTS changes it), built once per process.
var bench struct {
	once     sync.Once
	err      error
	ui       *UI
	cookie   *http.Cookie
	conn     string
	users    []model.Resource
	policies []model.Resource // customer managed
	accounts []string
	snap     *model.Snapshot
}

func benchUI(b *testing.B) {
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
		snap, g, err := benchestate.Build(ctx, accounts)
		if err != nil {
			bench.err = err
			return
		}
		dir, err := os.MkdirTemp("", "warden-webui-bench")
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
		for _, r := range g.Resources {
			switch {
			case r.Type == model.TypeIAMUser:
				bench.users = append(bench.users, r)
			case r.Type == model.TypeIAMPolicy && r.Policy != nil && !r.Policy.AWSManaged:
				bench.policies = append(bench.policies, r)
			case r.Type == model.TypeAccount:
				bench.accounts = append(bench.accounts, r.AccountID)
			}
		}
		bench.snap = snap
		bench.conn = snap.ConnectionID
		if bench.ui, bench.err = New(Config{Store: st, Tokens: tokens.New(st, tokens.Options{})}); bench.err != nil {
			return
		}
		s := bench.ui.sessions.create("bench", tokens.ScopeRead)
		bench.cookie = &http.Cookie{Name: cookieName, Value: s.id}
		fmt.Fprintf(os.Stderr, "webui bench: %d member accounts, %d IAM users, %d resources\n", accounts, len(bench.users), len(g.Resources))
	})
	if bench.err != nil {
		b.Fatal(bench.err)
	}
}

// serve answers one page in-process and reports its status.
func serve(b *testing.B, path string) {
	req := httptest.NewRequest("GET", path, nil)
	req.AddCookie(bench.cookie)
	rec := httptest.NewRecorder()
	bench.ui.ServeHTTP(rec, req)
	if rec.Code != 200 {
		b.Fatalf("GET %s: %d %s", path, rec.Code, rec.Body.String())
	}
}

// BenchmarkPrincipalPage renders the principal page (tables and path
// diagram) of users of the organization, server time.
func BenchmarkPrincipalPage(b *testing.B) {
	benchUI(b)
	i := 0
	start := time.Now()
	for b.Loop() {
		u := bench.users[(i*7919)%len(bench.users)]
		i++
		serve(b, "/principal?c="+url.QueryEscape(bench.conn)+"&id="+url.QueryEscape(u.ID))
	}
	b.ReportMetric(float64(time.Since(start).Microseconds())/1000/float64(i), "ms/page")
}

// BenchmarkSearch answers the search-as-you-type fragment for parts of
// user names across the organization.
// The first search of a snapshot builds its index; it is timed apart
// (printed) and the loop measures searches after it.
func BenchmarkSearch(b *testing.B) {
	benchUI(b)
	t0 := time.Now()
	serve(b, "/search?fragment=1&c="+url.QueryEscape(bench.conn)+"&q=warm")
	fmt.Fprintf(os.Stderr, "webui bench: the first search (index build) took %s\n", time.Since(t0).Round(time.Millisecond))
	i := 0
	start := time.Now()
	for b.Loop() {
		u := bench.users[(i*104729)%len(bench.users)]
		i++
		q := u.Name[:min(len(u.Name), 6)]
		serve(b, "/search?fragment=1&c="+url.QueryEscape(bench.conn)+"&q="+url.QueryEscape(q))
	}
	b.ReportMetric(float64(time.Since(start).Microseconds())/1000/float64(i), "ms/search")
}

// warmFindings counts the latest snapshot's findings once (the account
// page and the overview show them from the cache) and prints how long it
// took.
func warmFindings(b *testing.B) {
	t0 := time.Now()
	if f := bench.ui.counts.get(bench.ui, bench.snap, bench.ui.latestDay(), 10*time.Minute); f == nil {
		b.Fatal("the findings were not counted")
	}
	fmt.Fprintf(os.Stderr, "webui bench: counting the findings of the snapshot (once, cached) took %s\n", time.Since(t0).Round(time.Millisecond))
}

// BenchmarkAccountPage renders the account page (OU path, SCPs by level,
// IAM principals, Identity Center assignments, findings) of the
// organization's accounts in turn, server time, findings counted.
func BenchmarkAccountPage(b *testing.B) {
	benchUI(b)
	warmFindings(b)
	t0 := time.Now()
	serve(b, "/account?c="+url.QueryEscape(bench.conn)+"&id="+bench.accounts[0])
	fmt.Fprintf(os.Stderr, "webui bench: the first account page (search index build) took %s\n", time.Since(t0).Round(time.Millisecond))
	i := 0
	start := time.Now()
	for b.Loop() {
		a := bench.accounts[(i*31)%len(bench.accounts)]
		i++
		serve(b, "/account?c="+url.QueryEscape(bench.conn)+"&id="+a)
	}
	b.ReportMetric(float64(time.Since(start).Microseconds())/1000/float64(i), "ms/page")
}

// BenchmarkPolicyPage renders a policy page: AdministratorAccess (held
// across the organization: the first page of its holders), read afresh
// ("uncached") and with its holders cached from an earlier view, and
// customer managed policies in turn (uncached: each is seen once).
func BenchmarkPolicyPage(b *testing.B) {
	benchUI(b)
	for _, c := range []struct {
		name string
		arn  func(i int) string
		keep bool
	}{
		{"AdministratorAccess-uncached", func(int) string { return "arn:aws:iam::aws:policy/AdministratorAccess" }, false},
		{"AdministratorAccess-cached", func(int) string { return "arn:aws:iam::aws:policy/AdministratorAccess" }, true},
		{"customer", func(i int) string { return bench.policies[(i*7919)%len(bench.policies)].ID }, false},
	} {
		b.Run(c.name, func(b *testing.B) {
			i := 0
			start := time.Now()
			for b.Loop() {
				if !c.keep {
					bench.ui.hcache.mu.Lock()
					bench.ui.hcache.m = nil
					bench.ui.hcache.mu.Unlock()
				}
				serve(b, "/policy?c="+url.QueryEscape(bench.conn)+"&arn="+url.QueryEscape(c.arn(i)))
				i++
			}
			b.ReportMetric(float64(time.Since(start).Microseconds())/1000/float64(i), "ms/page")
		})
	}
}

// BenchmarkOverview renders the overview with its findings by rule and
// charts, the counts cached.
func BenchmarkOverview(b *testing.B) {
	benchUI(b)
	warmFindings(b)
	i := 0
	start := time.Now()
	for b.Loop() {
		serve(b, "/")
		i++
	}
	b.ReportMetric(float64(time.Since(start).Microseconds())/1000/float64(i), "ms/page")
}

// benchHistory writes the second snapshot of BenchmarkPrincipalPageWithHistory once.
var benchHistory struct {
	once sync.Once
	err  error
}

// BenchmarkPrincipalPageWithHistory writes a second snapshot of the
// organization with 1 principal in 100 changed (benchestate.Mutate) and
// renders the principal page of users in turn: the first view diffs the
// pair (printed), the others filter that diff for their user. It runs last,
// since the other benchmarks read the first snapshot as the latest.
func BenchmarkPrincipalPageWithHistory(b *testing.B) {
	benchUI(b)
	benchHistory.once.Do(func() {
		ctx := context.Background()
		g, err := bench.ui.c.Store.Graph(ctx, bench.snap.ID)
		if err != nil {
			benchHistory.err = err
			return
		}
		changed, ch := benchestate.Mutate(g, 100)
		next := *bench.snap
		next.ID, next.StartedAt, next.FinishedAt = 0, bench.snap.FinishedAt.Add(time.Hour), bench.snap.FinishedAt.Add(time.Hour+time.Minute)
		t0 := time.Now()
		if _, err := bench.ui.c.Store.WriteSnapshot(ctx, &next, changed); err != nil {
			benchHistory.err = err
			return
		}
		fmt.Fprintf(os.Stderr, "webui bench: a second snapshot (%d principals changed) written in %s\n", ch.Principals, time.Since(t0).Round(time.Millisecond))
		kept := map[string]bool{}
		for _, r := range changed.Resources {
			kept[r.ID] = true
		}
		var users []model.Resource
		for _, u := range bench.users {
			if kept[u.ID] {
				users = append(users, u)
			}
		}
		bench.users = users
	})
	if benchHistory.err != nil {
		b.Fatal(benchHistory.err)
	}
	t0 := time.Now()
	serve(b, "/principal?c="+url.QueryEscape(bench.conn)+"&id="+url.QueryEscape(bench.users[0].ID))
	fmt.Fprintf(os.Stderr, "webui bench: the first principal page with history (the diff of the pair, then cached) took %s\n", time.Since(t0).Round(time.Millisecond))
	i := 0
	start := time.Now()
	for b.Loop() {
		u := bench.users[(i*7919+13)%len(bench.users)]
		i++
		serve(b, "/principal?c="+url.QueryEscape(bench.conn)+"&id="+url.QueryEscape(u.ID))
	}
	b.ReportMetric(float64(time.Since(start).Microseconds())/1000/float64(i), "ms/page")
}
