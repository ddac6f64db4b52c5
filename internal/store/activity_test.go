package store

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// testActivity stores events and cursors, reads them back exactly, and
// checks that storing an event twice keeps one row and that a cursor is
// replaced, not added.
func testActivity(t *testing.T, st *DB) {
	ctx := context.Background()
	at := time.Date(2026, 12, 2, 9, 30, 0, 0, time.UTC)
	evs := []ActivityRecord{
		{EventID: "e2", Account: "111111111111", Region: "us-east-1", At: at.Add(time.Second), Name: "AssumeRole",
			ActorARN: "arn:aws:iam::222222222222:user/bob", Target: "arn:aws:iam::111111111111:role/admin", Data: json.RawMessage(`{"id":"e2"}`)},
		{EventID: "e1", Account: "111111111111", Region: "us-east-1", At: at, Name: "ConsoleLogin",
			ActorARN: "arn:aws:iam::111111111111:user/alice", Data: json.RawMessage(`{"id":"e1"}`)},
		{EventID: "e3", Account: "333333333333", Region: "eu-west-1", At: at.Add(500 * time.Millisecond), Name: "CreateUser",
			ActorARN: "arn:aws:iam::333333333333:user/ops", Target: "carol", Data: json.RawMessage(`{"id":"e3"}`)},
	}
	cur := []ActivityCursor{{Account: "111111111111", Region: "us-east-1", Last: at.Add(time.Second), LastIDs: []string{"e2"}}}
	if n, err := st.SaveActivity(ctx, "c1", evs, cur); err != nil || n != 3 {
		t.Fatalf("SaveActivity = %d, %v; want 3 added", n, err)
	}
	// The same events again (an overlapping read) add nothing.
	cur[0].LastIDs = []string{"e2", "e9"}
	if n, err := st.SaveActivity(ctx, "c1", evs[:2], cur); err != nil || n != 0 {
		t.Fatalf("SaveActivity again = %d, %v; want 0 added", n, err)
	}
	got, err := st.Activity(ctx, "c1", "", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	want := []ActivityRecord{evs[1], evs[2], evs[0]}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Activity =\n%+v\nwant\n%+v", got, want)
	}
	if got, _ := st.Activity(ctx, "c1", "111111111111", at.Add(time.Second)); len(got) != 1 || got[0].EventID != "e2" {
		t.Errorf("Activity of one account since a time = %+v, want e2", got)
	}
	if got, _ := st.Activity(ctx, "other", "", time.Time{}); len(got) != 0 {
		t.Errorf("another connection's activity = %+v, want none", got)
	}
	cs, err := st.ActivityCursors(ctx, "c1")
	if err != nil || !reflect.DeepEqual(cs, cur) {
		t.Fatalf("ActivityCursors = %+v, %v; want %+v", cs, err, cur)
	}
}

func TestActivity(t *testing.T) { eachBackend(t, testActivity) }
