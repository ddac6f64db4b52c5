package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/warden-iam/warden/internal/model"
)

// testTokens creates, lists, finds, touches and revokes tokens: every
// field reads back as written, a live name cannot be taken twice but a
// revoked one can, and revoking finds only a live token.
func testTokens(t *testing.T, st *DB) {
	ctx := context.Background()
	at := time.Date(2026, 12, 2, 9, 30, 0, 123456789, time.UTC)
	exp := at.Add(90 * 24 * time.Hour)
	hash := func(s string) []byte { h := sha256.Sum256([]byte(s)); return h[:] }
	if got, err := st.Tokens(ctx); err != nil || len(got) != 0 {
		t.Fatalf("Tokens of a new store = %v, %v; want none", got, err)
	}
	grafana := TokenRecord{Name: "grafana", Scope: "read", Hash: hash("g1"), Created: at, Expires: &exp}
	ops := TokenRecord{Name: "ops", Scope: "admin", Hash: hash("o1"), Created: at.Add(time.Second)}
	for _, r := range []TokenRecord{ops, grafana} {
		if err := st.CreateToken(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	err := st.CreateToken(ctx, TokenRecord{Name: "grafana", Scope: "admin", Hash: hash("g2"), Created: at})
	if !errors.Is(err, ErrTokenExists) {
		t.Fatalf("second live token grafana: %v, want ErrTokenExists", err)
	}
	if err := st.CreateToken(ctx, TokenRecord{Name: "short", Scope: "read", Hash: []byte("abc"), Created: at}); err == nil {
		t.Error("a token with a 3-byte hash was stored")
	}
	got, err := st.Tokens(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := []TokenRecord{grafana, ops}; !reflect.DeepEqual(got, want) {
		t.Fatalf("Tokens:\n got %+v\nwant %+v", got, want)
	}
	r, err := st.TokenByHash(ctx, hash("o1"))
	if err != nil || r == nil || !reflect.DeepEqual(*r, ops) {
		t.Fatalf("TokenByHash(ops) = %+v, %v; want %+v", r, err, ops)
	}
	if r, err := st.TokenByHash(ctx, hash("nope")); err != nil || r != nil {
		t.Fatalf("TokenByHash(unknown) = %+v, %v; want nil, nil", r, err)
	}
	used := at.Add(time.Hour)
	if err := st.TouchToken(ctx, "ops", used); err != nil {
		t.Fatal(err)
	}
	if r, _ := st.TokenByHash(ctx, hash("o1")); r == nil || r.LastUsed == nil || !r.LastUsed.Equal(used) {
		t.Fatalf("ops after TouchToken: %+v, want last used %s", r, used)
	}
	revokedAt := at.Add(2 * time.Hour)
	if ok, err := st.RevokeToken(ctx, "grafana", revokedAt); err != nil || !ok {
		t.Fatalf("RevokeToken(grafana) = %v, %v; want true", ok, err)
	}
	if ok, err := st.RevokeToken(ctx, "grafana", revokedAt); err != nil || ok {
		t.Fatalf("RevokeToken(grafana) again = %v, %v; want false", ok, err)
	}
	if ok, err := st.RevokeToken(ctx, "nobody", revokedAt); err != nil || ok {
		t.Fatalf("RevokeToken(nobody) = %v, %v; want false", ok, err)
	}
	// A touch of a revoked name changes nothing.
	if err := st.TouchToken(ctx, "grafana", revokedAt.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	old, _ := st.TokenByHash(ctx, hash("g1"))
	if old == nil || old.Revoked == nil || !old.Revoked.Equal(revokedAt) || old.LastUsed != nil {
		t.Fatalf("grafana after revoke: %+v; want revoked at %s, never used", old, revokedAt)
	}
	// The name is free again; both tokens are listed, oldest first.
	second := TokenRecord{Name: "grafana", Scope: "admin", Hash: hash("g2"), Created: revokedAt}
	if err := st.CreateToken(ctx, second); err != nil {
		t.Fatalf("a new grafana after revoking the old: %v", err)
	}
	got, _ = st.Tokens(ctx)
	if len(got) != 3 || got[0].Revoked == nil || !bytes.Equal(got[1].Hash, second.Hash) || got[1].Revoked != nil || got[2].Name != "ops" {
		t.Fatalf("Tokens after re-creating grafana: %+v", got)
	}
	if err := st.CreateToken(ctx, TokenRecord{Name: "again", Scope: "read", Hash: hash("g2"), Created: at}); err == nil {
		t.Error("a second token with the same hash was stored")
	}
}

func TestTokens(t *testing.T) { eachBackend(t, testTokens) }

// testIdempotencyKeys claims, completes, replays, releases and prunes
// keys: keys are per token, a completed key returns its response, a
// released one may be claimed again, and pruning forgets only older keys.
func testIdempotencyKeys(t *testing.T, st *DB) {
	ctx := context.Background()
	at := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	claimed, ex, err := st.ClaimIdempotencyKey(ctx, "ops", "k1", "h1", at)
	if err != nil || !claimed || ex != nil {
		t.Fatalf("first claim = %v, %+v, %v; want claimed", claimed, ex, err)
	}
	claimed, ex, err = st.ClaimIdempotencyKey(ctx, "ops", "k1", "h2", at.Add(time.Second))
	want := &IdempotentResponse{Token: "ops", Key: "k1", RequestHash: "h1", Status: 0, Body: []byte{}, Created: at}
	if err != nil || claimed || !reflect.DeepEqual(ex, want) {
		t.Fatalf("claim of a running key = %v, %+v, %v; want the running %+v", claimed, ex, err, want)
	}
	// Another token's key of the same name is its own.
	if claimed, _, err := st.ClaimIdempotencyKey(ctx, "ci", "k1", "h9", at); err != nil || !claimed {
		t.Fatalf("claim of k1 by another token = %v, %v; want claimed", claimed, err)
	}
	body := []byte("{\"applied\":3}\n\x00\xff")
	if err := st.CompleteIdempotencyKey(ctx, "ops", "k1", 200, body); err != nil {
		t.Fatal(err)
	}
	if err := st.CompleteIdempotencyKey(ctx, "ops", "k1", 200, body); err == nil {
		t.Error("a completed key was completed again")
	}
	if err := st.CompleteIdempotencyKey(ctx, "ops", "never", 200, body); err == nil {
		t.Error("a key never claimed was completed")
	}
	if err := st.CompleteIdempotencyKey(ctx, "ci", "k1", 0, body); err == nil {
		t.Error("a key was completed with status 0")
	}
	_, ex, err = st.ClaimIdempotencyKey(ctx, "ops", "k1", "h1", at.Add(time.Minute))
	want = &IdempotentResponse{Token: "ops", Key: "k1", RequestHash: "h1", Status: 200, Body: body, Created: at}
	if err != nil || !reflect.DeepEqual(ex, want) {
		t.Fatalf("replay = %+v, %v; want %+v", ex, err, want)
	}
	// Release forgets an in-progress claim, never a completed one.
	if err := st.ReleaseIdempotencyKey(ctx, "ci", "k1"); err != nil {
		t.Fatal(err)
	}
	if err := st.ReleaseIdempotencyKey(ctx, "ops", "k1"); err != nil {
		t.Fatal(err)
	}
	if claimed, _, _ := st.ClaimIdempotencyKey(ctx, "ci", "k1", "h9", at.Add(time.Hour)); !claimed {
		t.Error("a released key could not be claimed again")
	}
	if claimed, ex, _ := st.ClaimIdempotencyKey(ctx, "ops", "k1", "h1", at); claimed || ex == nil || ex.Status != 200 {
		t.Errorf("release forgot a completed key: claimed %v, %+v", claimed, ex)
	}
	// Prune: ops/k1 was claimed at `at`, ci/k1 an hour later; a key 0.5 s
	// after `at` sorts between them (stored times are fixed width).
	if claimed, _, _ := st.ClaimIdempotencyKey(ctx, "ops", "k2", "h2", at.Add(500*time.Millisecond)); !claimed {
		t.Fatal("claim ops/k2")
	}
	n, err := st.PruneIdempotencyKeys(ctx, at.Add(time.Second))
	if err != nil || n != 2 {
		t.Fatalf("PruneIdempotencyKeys = %d, %v; want 2 (ops/k1 and ops/k2)", n, err)
	}
	if claimed, _, _ := st.ClaimIdempotencyKey(ctx, "ops", "k1", "h1", at); !claimed {
		t.Error("a pruned key is still claimed")
	}
	if claimed, _, _ := st.ClaimIdempotencyKey(ctx, "ci", "k1", "h9", at); claimed {
		t.Error("pruning forgot a key newer than its cut-off")
	}
}

func TestIdempotencyKeys(t *testing.T) { eachBackend(t, testIdempotencyKeys) }

// testConcurrentClaims claims one key from many goroutines at once, over
// several rounds: exactly one claim wins each round, and every other sees
// the winner's row.
func testConcurrentClaims(t *testing.T, st *DB) {
	ctx := context.Background()
	at := time.Date(2026, 12, 2, 11, 0, 0, 0, time.UTC)
	const workers = 8
	for round := range 5 {
		key := "key-" + string(rune('a'+round))
		var wg sync.WaitGroup
		var mu sync.Mutex
		wins, seen := 0, 0
		start := make(chan struct{})
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				claimed, ex, err := st.ClaimIdempotencyKey(ctx, "ops", key, "h", at)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err != nil:
					t.Errorf("worker %d: %v", w, err)
				case claimed:
					wins++
				case ex != nil && ex.Key == key && ex.Status == 0:
					seen++
				default:
					t.Errorf("worker %d: not claimed and no row: %+v", w, ex)
				}
			}()
		}
		close(start)
		wg.Wait()
		if wins != 1 || seen != workers-1 {
			t.Fatalf("round %d: %d claims won, %d saw the winner's row; want 1 and %d", round, wins, seen, workers-1)
		}
	}
}

func TestConcurrentClaims(t *testing.T) { eachBackend(t, testConcurrentClaims) }

// TestUpgradeFromSchema7 opens a database of schema 7 (the one before the
// tokens; made here by removing them from a new one) holding a snapshot,
// on each back-end: the open adds the tokens and idempotency keys, the
// snapshot is kept, and both tables work.
func TestUpgradeFromSchema7(t *testing.T) {
	ctx := context.Background()
	if !strings.Contains(migrations[7].sql, "CREATE TABLE api_tokens") || len(migrations) != 11 {
		t.Fatalf("the tokens are step 8 of %d: make this test remove what the steps after it add too", len(migrations))
	}
	for _, name := range backends {
		t.Run(name, func(t *testing.T) {
			var target string
			open := OpenSQLite
			if name == "sqlite" {
				target = t.TempDir() + "/warden.db"
			} else {
				target = pgTestDatabase(t)
				open = OpenPostgres
			}
			st, err := open(ctx, target)
			if err != nil {
				t.Fatal(err)
			}
			at := time.Date(2026, 12, 2, 6, 0, 0, 0, time.UTC)
			id, err := st.WriteSnapshot(ctx, &model.Snapshot{ConnectionID: "prod", StartedAt: at, FinishedAt: at, Status: model.StatusComplete}, sampleGraph())
			if err != nil {
				t.Fatal(err)
			}
			if _, err := st.db.ExecContext(ctx, `DROP TABLE api_tokens`); err != nil {
				t.Fatal(err)
			}
			for _, table := range []string{"idempotency_keys", "activity_events", "activity_cursors", "last_accessed", "effective_index"} {
				if _, err := st.db.ExecContext(ctx, `DROP TABLE `+table); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := st.db.ExecContext(ctx, `UPDATE warden_meta SET value='7' WHERE key='schema_version'`); err != nil {
				t.Fatal(err)
			}
			st.Close()
			st, err = open(ctx, target)
			if err != nil {
				t.Fatalf("open schema 7: %v", err)
			}
			defer st.Close()
			if v, err := st.schemaVersion(ctx); err != nil || v != len(migrations) {
				t.Fatalf("schema version after the upgrade %d (%v), want %d", v, err, len(migrations))
			}
			if g, err := st.Graph(ctx, id); err != nil || !reflect.DeepEqual(g, sorted(sampleGraph())) {
				t.Errorf("snapshot %d after the upgrade: %v", id, err)
			}
			h := sha256.Sum256([]byte("x"))
			if err := st.CreateToken(ctx, TokenRecord{Name: "ci", Scope: "read", Hash: h[:], Created: at}); err != nil {
				t.Error(err)
			}
			if claimed, _, err := st.ClaimIdempotencyKey(ctx, "ci", "k", "h", at); err != nil || !claimed {
				t.Errorf("claim after the upgrade = %v, %v", claimed, err)
			}
		})
	}
}
