package store

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// testLastAccessed stores principals' data, reads it back exactly (all
// accounts and one), replaces one principal's data without adding a row,
// and keeps connections apart.
func testLastAccessed(t *testing.T, st *DB) {
	ctx := context.Background()
	at := time.Date(2026, 12, 2, 9, 30, 0, 123000000, time.UTC)
	recs := []LastAccessedRecord{
		{Principal: "arn:aws:iam::222222222222:user/bob", Account: "222222222222", ReadAt: at, Granularity: "ACTION_LEVEL",
			Services: json.RawMessage(`[{"namespace":"s3","name":"Amazon S3","last_authenticated":"2026-11-30T10:00:00Z"}]`)},
		{Principal: "arn:aws:iam::111111111111:role/admin", Account: "111111111111", ReadAt: at.Add(time.Minute), Granularity: "SERVICE_LEVEL",
			Services: json.RawMessage(`[]`)},
	}
	if err := st.SaveLastAccessed(ctx, "c1", recs); err != nil {
		t.Fatal(err)
	}
	got, err := st.LastAccessed(ctx, "c1", "")
	if err != nil {
		t.Fatal(err)
	}
	if want := []LastAccessedRecord{recs[1], recs[0]}; !reflect.DeepEqual(got, want) {
		t.Fatalf("LastAccessed =\n%+v\nwant\n%+v", got, want)
	}
	if got, _ := st.LastAccessed(ctx, "c1", "222222222222"); len(got) != 1 || got[0].Principal != recs[0].Principal {
		t.Errorf("one account's data = %+v", got)
	}
	// Read again: replaced, not added.
	again := recs[0]
	again.ReadAt, again.Services = at.Add(time.Hour), json.RawMessage(`[{"namespace":"s3","name":"Amazon S3","last_authenticated":null}]`)
	if err := st.SaveLastAccessed(ctx, "c1", []LastAccessedRecord{again}); err != nil {
		t.Fatal(err)
	}
	reads, err := st.LastAccessedReads(ctx, "c1")
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]time.Time{recs[0].Principal: again.ReadAt, recs[1].Principal: recs[1].ReadAt}; !reflect.DeepEqual(reads, want) {
		t.Errorf("LastAccessedReads = %v, want %v", reads, want)
	}
	if got, _ := st.LastAccessed(ctx, "c1", "222222222222"); len(got) != 1 || !reflect.DeepEqual(got[0], again) {
		t.Errorf("replaced data = %+v, want %+v", got, again)
	}
	if got, _ := st.LastAccessed(ctx, "other", ""); len(got) != 0 {
		t.Errorf("another connection's data = %+v", got)
	}
}

func TestLastAccessed(t *testing.T) { eachBackend(t, testLastAccessed) }
