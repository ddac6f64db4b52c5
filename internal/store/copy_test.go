package store

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/warden-iam/warden/internal/model"
)

// copySource is a SQLite store holding a bit of everything Copy moves: two
// connections' changing snapshots interleaved, a partial snapshot carrying
// an account, audit records (one still in flight), deactivations, SCIM push
// records and a demo mark.
func copySource(t *testing.T) *DB {
	t.Helper()
	ctx := context.Background()
	st := openBackend(t, "sqlite")
	series := graphSeries(4)
	for i, g := range series {
		writeSeries(t, st, "default", []*model.Graph{g})
		writeSeries(t, st, "other", []*model.Graph{series[len(series)-1-i]})
	}
	a, b := accountGraph("111111111111", 3), accountGraph("222222222222", 2)
	writeSeries(t, st, "org", []*model.Graph{merge(a, b)})
	at := time.Date(2026, 11, 2, 3, 4, 5, 6, time.UTC)
	partial := &model.Snapshot{ConnectionID: "org", StartedAt: at, FinishedAt: at.Add(time.Minute), Status: model.StatusPartial,
		Errors:   []model.SourceError{{AccountID: "222222222222", Source: "assume_role", Message: "AccessDenied", Fix: "fix the role"}},
		APICalls: map[string]int64{"iam:GetAccountAuthorizationDetails": 3}, Accounts: model.AccountTally{Planned: 2, Read: 1}}
	id, err := st.WriteSnapshot(ctx, partial, accountGraph("111111111111", 2))
	if err != nil {
		t.Fatal(err)
	}
	if len(partial.Carried) == 0 {
		t.Fatal("the partial snapshot carries nothing: the test would not check carried parts")
	}
	if err := st.MarkDemoSnapshot(ctx, id); err != nil {
		t.Fatal(err)
	}
	for i, c := range []string{"default", "org", "default"} {
		rec := AuditRecord{At: at.Add(time.Duration(i) * time.Second), ConnectionID: c, Actor: "arn:aws:iam::111122223333:user/admin",
			Action: "delete-user", Target: "user bob", Call: "iam:DeleteUser", Params: map[string]string{"user": "bob"}}
		rid, err := st.StartAudit(ctx, rec)
		if err != nil {
			t.Fatal(err)
		}
		if i < 2 {
			if err := st.FinishAudit(ctx, rid, AuditOK, "req-"+c, "", map[string]string{"id": "x"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := st.SaveDeactivation(ctx, "org", "111111111111", "alice", `{"keys":["AKIA1"]}`); err != nil {
		t.Fatal(err)
	}
	if err := st.AddPushedIDs(ctx, "https://scim.example.com/v2", []string{"u1", "u2"}); err != nil {
		t.Fatal(err)
	}
	exp := at.Add(90 * 24 * time.Hour)
	for i, r := range []TokenRecord{
		{Name: "grafana", Scope: "read", Created: at, Expires: &exp},
		{Name: "ops", Scope: "admin", Created: at.Add(time.Second)},
	} {
		r.Hash = make([]byte, 32)
		r.Hash[0] = byte(i + 1)
		if err := st.CreateToken(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.RevokeToken(ctx, "grafana", at.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := st.TouchToken(ctx, "ops", at.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.ClaimIdempotencyKey(ctx, "ops", "k1", "h", at); err != nil {
		t.Fatal(err)
	}
	if _, err := st.SaveActivity(ctx, "org", []ActivityRecord{
		{EventID: "e1", Account: "111111111111", Region: "us-east-1", At: at, Name: "ConsoleLogin", ActorARN: "arn:aws:iam::111111111111:user/alice", Data: json.RawMessage(`{"a":1}`)},
		{EventID: "e2", Account: "111111111111", Region: "us-east-1", At: at.Add(time.Second), Name: "AssumeRole", ActorARN: "arn:aws:iam::111111111111:user/alice",
			Target: "arn:aws:iam::111111111111:role/ops", Data: json.RawMessage(`{}`)},
	}, []ActivityCursor{{Account: "111111111111", Region: "us-east-1", Last: at.Add(time.Second), LastIDs: []string{"e2"}}}); err != nil {
		t.Fatal(err)
	}
	if err := st.SaveLastAccessed(ctx, "org", []LastAccessedRecord{{Principal: "arn:aws:iam::111111111111:role/ops", Account: "111111111111",
		ReadAt: at, Granularity: "SERVICE_LEVEL", Services: json.RawMessage(`[{"namespace":"s3"}]`)}}); err != nil {
		t.Fatal(err)
	}
	return st
}

// TestCopy copies a SQLite store into each back-end, reads everything back
// equal to the source, checks the target's next IDs follow the copied ones,
// refuses to copy into it again, and copies it back into a new SQLite file.
func TestCopy(t *testing.T) {
	eachBackend(t, func(t *testing.T, to *DB) {
		ctx := context.Background()
		from := copySource(t)
		var calls int
		res, err := Copy(ctx, from, to, func(done, total int) { calls++ })
		if err != nil {
			t.Fatal(err)
		}
		if res.Source != res.Target || res.Source.Snapshots != 10 || res.Source.AuditRecords != 3 || res.Source.Deactivations != 1 || res.Source.SCIMPushed != 2 || res.Source.APITokens != 2 ||
			res.Source.ActivityEvents != 2 || res.Source.ActivityCursors != 1 || res.Source.LastAccessed != 1 || calls != 10 {
			t.Errorf("copy counts %+v (progress called %d times)", res, calls)
		}
		assertSameStore(t, from, to)

		if _, err := Copy(ctx, from, to, nil); !errors.Is(err, ErrTargetNotEmpty) {
			t.Errorf("a second copy into the same target: %v, want ErrTargetNotEmpty", err)
		}
		id, err := to.WriteSnapshot(ctx, &model.Snapshot{StartedAt: time.Now(), FinishedAt: time.Now(), Status: model.StatusComplete}, graphSeries(1)[0])
		if err != nil || id <= 10 {
			t.Errorf("next snapshot after the copy: id %d, %v; want above the copied ones", id, err)
		}
		aid, err := to.StartAudit(ctx, AuditRecord{At: time.Now(), Action: "x", Call: "-"})
		if err != nil || aid <= 3 {
			t.Errorf("next audit record after the copy: id %d, %v; want above the copied ones", aid, err)
		}
		if err := to.CreateToken(ctx, TokenRecord{Name: "grafana", Scope: "read", Hash: make([]byte, 32), Created: time.Now()}); err != nil {
			t.Errorf("a new token after the copy: %v", err)
		}
		// Idempotency keys are not copied.
		if claimed, _, err := to.ClaimIdempotencyKey(ctx, "ops", "k1", "h", time.Now()); err != nil || !claimed {
			t.Errorf("claim of the source's idempotency key in the copy = %v, %v; want claimed (keys are not copied)", claimed, err)
		}

		back := openBackend(t, "sqlite")
		if _, err := Copy(ctx, to, back, nil); err != nil {
			t.Fatalf("copy back: %v", err)
		}
		assertSameStore(t, to, back)
	})
}

// assertSameStore checks two stores hold the same snapshots (metadata and
// graphs), audit log, deactivations, SCIM push records and demo mark.
func assertSameStore(t *testing.T, a, b *DB) {
	t.Helper()
	ctx := context.Background()
	sa, err := allSnapshots(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	sb, err := allSnapshots(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	if marshal(sa) != marshal(sb) {
		t.Fatalf("snapshots differ:\n%s\n%s", marshal(sa), marshal(sb))
	}
	for _, snap := range sa {
		ga, err := a.Graph(ctx, snap.ID)
		if err != nil {
			t.Fatal(err)
		}
		gb, err := b.Graph(ctx, snap.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(ga, gb) {
			t.Fatalf("snapshot %d differs:\n%+v\n%+v", snap.ID, ga, gb)
		}
	}
	for _, c := range []string{"default", "org", "other"} {
		ea, err := a.Activity(ctx, c, "", time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		eb, err := b.Activity(ctx, c, "", time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		ca, _ := a.ActivityCursors(ctx, c)
		cb, _ := b.ActivityCursors(ctx, c)
		la, _ := a.LastAccessed(ctx, c, "")
		lb, _ := b.LastAccessed(ctx, c, "")
		if marshal(ea) != marshal(eb) || marshal(ca) != marshal(cb) || marshal(la) != marshal(lb) {
			t.Fatalf("activity of %s differs:\n%s %s %s\n%s %s %s", c, marshal(ea), marshal(ca), marshal(la), marshal(eb), marshal(cb), marshal(lb))
		}
		aa, err := a.Audit(ctx, c, 0)
		if err != nil {
			t.Fatal(err)
		}
		ab, err := b.Audit(ctx, c, 0)
		if err != nil {
			t.Fatal(err)
		}
		if marshal(aa) != marshal(ab) {
			t.Errorf("audit log of %s differs:\n%s\n%s", c, marshal(aa), marshal(ab))
		}
	}
	da, errA := a.Deactivation(ctx, "org", "111111111111", "alice")
	db, errB := b.Deactivation(ctx, "org", "111111111111", "alice")
	if da != db || errA != nil || errB != nil {
		t.Errorf("deactivation %q (%v), %q (%v)", da, errA, db, errB)
	}
	pa, _ := a.PushedIDs(ctx, "https://scim.example.com/v2")
	pb, _ := b.PushedIDs(ctx, "https://scim.example.com/v2")
	if !reflect.DeepEqual(pa, pb) || len(pa) != 2 {
		t.Errorf("pushed ids %v, %v", pa, pb)
	}
	ta, errA := a.Tokens(ctx)
	tb, errB := b.Tokens(ctx)
	if !reflect.DeepEqual(ta, tb) || len(ta) < 2 || errA != nil || errB != nil {
		t.Errorf("tokens %+v (%v), %+v (%v)", ta, errA, tb, errB)
	}
	ma, _ := a.demoSnapshots(ctx)
	mb, _ := b.demoSnapshots(ctx)
	if !reflect.DeepEqual(ma, mb) || len(ma) != 1 {
		t.Errorf("demo marks %v, %v", ma, mb)
	}
}
