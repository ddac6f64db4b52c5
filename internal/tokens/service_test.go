package tokens

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/warden-iam/warden/internal/store"
)

// countingStore is a real SQLite store that counts TouchToken calls and
// can be made to fail them.
type countingStore struct {
	*store.DB
	mu        sync.Mutex
	touches   int
	failTouch bool
}

func (c *countingStore) TouchToken(ctx context.Context, name string, at time.Time) error {
	c.mu.Lock()
	c.touches++
	fail := c.failTouch
	c.mu.Unlock()
	if fail {
		return errors.New("database is locked")
	}
	return c.DB.TouchToken(ctx, name, at)
}

func (c *countingStore) touchCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.touches
}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }
func newClock(t time.Time) *clock    { return &clock{t: t} }
func openStore(t *testing.T) (*countingStore, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "warden.db")
	db, err := store.OpenSQLite(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &countingStore{DB: db}, path
}

var secretForm = regexp.MustCompile(`^wdn_[A-Za-z0-9_-]{43}$`)

// TestCreateVerifyRevoke creates tokens and verifies them through their
// whole life: valid with its scope, invalid once expired or revoked, and
// never verified by another secret; the store holds only the hash.
func TestCreateVerifyRevoke(t *testing.T) {
	ctx := context.Background()
	st, path := openStore(t)
	clk := newClock(time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC))
	s := New(st, Options{Now: clk.now})
	grafana, g, err := s.Create(ctx, "grafana", ScopeRead, 90*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	ops, o, err := s.Create(ctx, "ops", ScopeAdmin, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !secretForm.MatchString(grafana) || !secretForm.MatchString(ops) || grafana == ops {
		t.Fatalf("secrets %q and %q: want two different %s", grafana, ops, secretForm)
	}
	if g.Expires == nil || !g.Expires.Equal(clk.now().Add(90*24*time.Hour)) || o.Expires != nil || g.Scope != ScopeRead || o.Scope != ScopeAdmin {
		t.Fatalf("created %+v and %+v", g, o)
	}
	got, err := s.Verify(ctx, grafana)
	if err != nil || got.Name != "grafana" || got.Scope != ScopeRead {
		t.Fatalf("Verify(grafana) = %+v, %v", got, err)
	}
	if got, err := s.Verify(ctx, ops); err != nil || got.Name != "ops" || got.Scope != ScopeAdmin {
		t.Fatalf("Verify(ops) = %+v, %v", got, err)
	}
	for _, bad := range []string{"", "wdn_", grafana + "x", grafana[:len(grafana)-1], strings.ToUpper(grafana)} {
		if _, err := s.Verify(ctx, bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("Verify(%q) = %v, want ErrInvalid", bad, err)
		}
	}
	// Expiry: valid one second before, invalid at the instant.
	clk.add(90*24*time.Hour - time.Second)
	if _, err := s.Verify(ctx, grafana); err != nil {
		t.Errorf("grafana a second before it expires: %v", err)
	}
	clk.add(time.Second)
	if _, err := s.Verify(ctx, grafana); !errors.Is(err, ErrInvalid) {
		t.Errorf("grafana at its expiry: %v, want ErrInvalid", err)
	}
	if err := s.Revoke(ctx, "ops"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Verify(ctx, ops); !errors.Is(err, ErrInvalid) {
		t.Errorf("a revoked token verifies: %v", err)
	}
	if err := s.Revoke(ctx, "ops"); !errors.Is(err, ErrNotFound) {
		t.Errorf("revoke twice: %v, want ErrNotFound", err)
	}
	if err := s.Revoke(ctx, "nobody"); !errors.Is(err, ErrNotFound) {
		t.Errorf("revoke of an unknown name: %v, want ErrNotFound", err)
	}
	// A revoked name may be taken again; the old secret stays invalid.
	ops2, _, err := s.Create(ctx, "ops", ScopeRead, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Verify(ctx, ops); !errors.Is(err, ErrInvalid) {
		t.Errorf("the revoked ops verifies after ops is created again: %v", err)
	}
	if got, err := s.Verify(ctx, ops2); err != nil || got.Scope != ScopeRead {
		t.Errorf("the new ops: %+v, %v", got, err)
	}
	list, err := s.List(ctx)
	if err != nil || len(list) != 3 || list[0].Name != "grafana" || list[1].Revoked == nil || list[2].Revoked != nil {
		t.Fatalf("List = %+v, %v", list, err)
	}
	st.Close()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, sec := range []string{grafana, ops, ops2} {
		if bytes.Contains(raw, []byte(sec)) || bytes.Contains(raw, []byte(strings.TrimPrefix(sec, SecretPrefix))) {
			t.Errorf("the database file holds a secret")
		}
	}
}

// TestCreateRefuses checks the name, scope and lifetime rules and a second
// live token of one name.
func TestCreateRefuses(t *testing.T) {
	ctx := context.Background()
	st, _ := openStore(t)
	s := New(st, Options{})
	if _, _, err := s.Create(ctx, "ci", ScopeRead, 0); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Create(ctx, "ci", ScopeAdmin, 0); !errors.Is(err, store.ErrTokenExists) {
		t.Errorf("second live ci: %v, want ErrTokenExists", err)
	}
	long := strings.Repeat("a", 65)
	for _, name := range []string{"", "env", "Grafana", "-ci", ".x", "a b", "a/b", long, "é"} {
		if _, _, err := s.Create(ctx, name, ScopeRead, 0); !errors.Is(err, ErrBadName) {
			t.Errorf("Create(%q) = %v, want ErrBadName", name, err)
		}
	}
	for _, name := range []string{"a", "0", "ci-deploy", "grafana.prod_1", strings.Repeat("a", 64)} {
		if err := CheckName(name); err != nil {
			t.Errorf("CheckName(%q) = %v, want nil", name, err)
		}
	}
	if _, _, err := s.Create(ctx, "x", Scope("write"), 0); err == nil {
		t.Error("a token of scope write was created")
	}
	if _, _, err := s.Create(ctx, "y", ScopeRead, -time.Hour); err == nil {
		t.Error("a token with a negative lifetime was created")
	}
	if list, _ := s.List(ctx); len(list) != 1 {
		t.Errorf("refused creations stored tokens: %+v", list)
	}
}

// TestTouchAtMostOncePerMinute verifies one token many times, from many
// goroutines, over minutes of the test clock: its last use is written
// once per minute, not per request, and reads back; a failed write is
// logged (with the name, never the secret) and the token still verifies.
func TestTouchAtMostOncePerMinute(t *testing.T) {
	ctx := context.Background()
	st, _ := openStore(t)
	clk := newClock(time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC))
	var logs bytes.Buffer
	s := New(st, Options{Now: clk.now, Log: slog.New(slog.NewTextHandler(&logs, nil))})
	sec, _, err := s.Create(ctx, "grafana", ScopeRead, 0)
	if err != nil {
		t.Fatal(err)
	}
	for minute := range 3 {
		var wg sync.WaitGroup
		for range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := s.Verify(ctx, sec); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		s.Wait()
		if n := st.touchCount(); n != minute+1 {
			t.Fatalf("minute %d: %d writes of the last use, want %d", minute, n, minute+1)
		}
		clk.add(30 * time.Second)
		s.Verify(ctx, sec)
		clk.add(30 * time.Second)
	}
	s.Wait()
	list, _ := s.List(ctx)
	if want := clk.now().Add(-time.Minute); len(list) != 1 || list[0].LastUsed == nil || !list[0].LastUsed.Equal(want) {
		t.Fatalf("last used %+v, want %s", list, want)
	}
	// Another process (a replica) sees the stored last use and does not
	// write it again within the minute.
	clk.add(-30 * time.Second)
	other := New(st, Options{Now: clk.now})
	before := st.touchCount()
	if _, err := other.Verify(ctx, sec); err != nil || st.touchCount() != before {
		t.Errorf("a second service wrote the last use again within a minute (%d writes, %v)", st.touchCount()-before, err)
	}
	st.mu.Lock()
	st.failTouch = true
	st.mu.Unlock()
	clk.add(2 * time.Minute)
	if tok, err := s.Verify(ctx, sec); err != nil || tok.Name != "grafana" {
		t.Errorf("Verify with the last use not recorded = %+v, %v; want grafana", tok, err)
	}
	s.Wait()
	if !strings.Contains(logs.String(), "grafana") || !strings.Contains(logs.String(), "database is locked") || strings.Contains(logs.String(), sec) {
		t.Errorf("log of a failed touch: %q; want the name and the error, not the secret", logs.String())
	}
}

// TestEnvToken verifies the token of the environment: named env with its
// scope, alongside stored ones, and never listed.
func TestEnvToken(t *testing.T) {
	ctx := context.Background()
	st, _ := openStore(t)
	envSecret := strings.Repeat("ab", 16)
	s := New(st, Options{Env: &EnvToken{Secret: envSecret, Scope: ScopeAdmin}})
	tok, err := s.Verify(ctx, envSecret)
	if err != nil || tok != (Token{Name: EnvName, Scope: ScopeAdmin}) {
		t.Fatalf("Verify(env) = %+v, %v", tok, err)
	}
	if _, err := s.Verify(ctx, envSecret[:len(envSecret)-1]); !errors.Is(err, ErrInvalid) {
		t.Errorf("a prefix of the env token: %v, want ErrInvalid", err)
	}
	sec, _, _ := s.Create(ctx, "ci", ScopeRead, 0)
	if tok, err := s.Verify(ctx, sec); err != nil || tok.Name != "ci" {
		t.Errorf("a stored token beside the env one: %+v, %v", tok, err)
	}
	if list, _ := s.List(ctx); len(list) != 1 {
		t.Errorf("List = %+v, want only ci", list)
	}
	if _, err := New(st, Options{}).Verify(ctx, envSecret); !errors.Is(err, ErrInvalid) {
		t.Errorf("a service without an env token verifies it: %v", err)
	}
}

// TestFromEnv reads the environment's token from the variable or a file
// and refuses each bad setting with the variable named and the token not.
func TestFromEnv(t *testing.T) {
	dir := t.TempDir()
	good := "0123456789abcdef0123456789abcdef"
	file := filepath.Join(dir, "token")
	if err := os.WriteFile(file, []byte(good+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	crlf := filepath.Join(dir, "crlf")
	os.WriteFile(crlf, []byte(good+"\r\n"), 0o600)
	short := filepath.Join(dir, "short")
	os.WriteFile(short, []byte("secret-but-short\n"), 0o600)
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	for _, c := range []struct {
		env  func(string) string
		want *EnvToken
	}{
		{env(), nil},
		{env(EnvVar, good), &EnvToken{Secret: good, Scope: ScopeRead}},
		{env(EnvVar, good, EnvScopeVar, "admin"), &EnvToken{Secret: good, Scope: ScopeAdmin}},
		{env(EnvFileVar, file, EnvScopeVar, "read"), &EnvToken{Secret: good, Scope: ScopeRead}},
		{env(EnvFileVar, crlf), &EnvToken{Secret: good, Scope: ScopeRead}},
	} {
		got, err := FromEnv(c.env)
		if err != nil || (got == nil) != (c.want == nil) || (got != nil && *got != *c.want) {
			t.Errorf("FromEnv = %+v, %v; want %+v", got, err, c.want)
		}
	}
	for _, c := range []struct {
		env   func(string) string
		names string
	}{
		{env(EnvVar, good, EnvFileVar, file), EnvFileVar},
		{env(EnvVar, "secret-but-short"), EnvVar},
		{env(EnvFileVar, short), EnvFileVar},
		{env(EnvFileVar, filepath.Join(dir, "missing")), EnvFileVar},
		{env(EnvVar, good, EnvScopeVar, "root"), EnvScopeVar},
		{env(EnvScopeVar, "admin"), EnvScopeVar},
		{env(EnvVar, "0123456789 abcdef0123456789"), EnvVar},
	} {
		got, err := FromEnv(c.env)
		if err == nil || got != nil {
			t.Errorf("FromEnv(%s…) = %+v, %v; want an error", c.names, got, err)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, c.names) || strings.Contains(msg, good) || strings.Contains(msg, "secret-but-short") || strings.Contains(msg, "abcdef") {
			t.Errorf("error %q: want it to name %s and never the token", msg, c.names)
		}
	}
}

// TestParse checks scopes, lifetimes and what each scope allows.
func TestParse(t *testing.T) {
	for _, s := range []string{"read", "admin"} {
		if got, err := ParseScope(s); err != nil || string(got) != s {
			t.Errorf("ParseScope(%q) = %q, %v", s, got, err)
		}
	}
	for _, s := range []string{"", "Admin", "write"} {
		if _, err := ParseScope(s); err == nil {
			t.Errorf("ParseScope(%q) accepted", s)
		}
	}
	day := 24 * time.Hour
	for in, want := range map[string]time.Duration{"90d": 90 * day, "12h": 12 * time.Hour, "2w": 14 * day, "1y": 365 * day, "2y": 730 * day, "1d12h": 36 * time.Hour} {
		if got, err := ParseLifetime(in); err != nil || got != want {
			t.Errorf("ParseLifetime(%q) = %s, %v; want %s", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0d", "0y", "y", "-1d", "90", "1.5y", "101y", "99999999999999y", "soon"} {
		if d, err := ParseLifetime(in); err == nil {
			t.Errorf("ParseLifetime(%q) = %s, want an error", in, d)
		}
	}
	for _, c := range []struct {
		have, want Scope
		ok         bool
	}{{ScopeAdmin, ScopeRead, true}, {ScopeAdmin, ScopeAdmin, true}, {ScopeRead, ScopeRead, true}, {ScopeRead, ScopeAdmin, false}, {"", ScopeRead, false}, {"root", ScopeAdmin, false}} {
		if got := c.have.Allows(c.want); got != c.ok {
			t.Errorf("%q.Allows(%q) = %v, want %v", c.have, c.want, got, c.ok)
		}
	}
}

// TestHashIsSHA256 checks what the store keeps of a secret: its sha256,
// so the API's replicas and the CLI agree on it.
func TestHashIsSHA256(t *testing.T) {
	ctx := context.Background()
	st, _ := openStore(t)
	sec, _, err := New(st, Options{}).Create(ctx, "ci", ScopeRead, 0)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256([]byte(sec))
	if r, err := st.TokenByHash(ctx, h[:]); err != nil || r == nil || r.Name != "ci" {
		t.Errorf("TokenByHash(sha256(secret)) = %+v, %v", r, err)
	}
}

// BenchmarkVerify is the cost a request pays to authenticate with a
// stored token on SQLite (one indexed lookup; the last use written at
// most once a minute).
func BenchmarkVerify(b *testing.B) {
	ctx := context.Background()
	db, err := store.OpenSQLite(ctx, filepath.Join(b.TempDir(), "warden.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	s := New(db, Options{})
	sec, _, err := s.Create(ctx, "bench", ScopeRead, 0)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.Verify(ctx, sec); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
