package render

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/warden-iam/warden/internal/model"
)

// TestSummarySaysWhenTheIAMRateLimitSetThePace: a sync that spent most of
// its time waiting on warden's own IAM limit says so and names --iam-rate,
// in the table and in JSON; a sync that did not, or a short one, does not.
func TestSummarySaysWhenTheIAMRateLimitSetThePace(t *testing.T) {
	tests := []struct {
		name     string
		wait, d  time.Duration
		wantNote bool
	}{
		{"limit set the pace", 10600 * time.Millisecond, 10800 * time.Millisecond, true},
		{"exactly half", 30 * time.Second, time.Minute, true},
		{"limit waited a little", 2 * time.Second, time.Minute, false},
		{"short sync", 3 * time.Second, 4 * time.Second, false},
		{"no wait", 0, time.Minute, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			snap := &model.Snapshot{ID: 1, Status: model.StatusComplete, IAMRateWait: tc.wait, APICalls: map[string]int64{"iam:ListAccessKeys": 3}}
			s := NewSummary(snap, "warden.db", tc.d)
			if s.IAMRateWaitMS != tc.wait.Milliseconds() {
				t.Errorf("iam_rate_wait_ms = %d, want %d", s.IAMRateWaitMS, tc.wait.Milliseconds())
			}
			var out bytes.Buffer
			for _, tb := range s.Tables() {
				if err := tb.Write(&out); err != nil {
					t.Fatal(err)
				}
			}
			text := out.String()
			hasNote := len(s.Notes) == 1 && strings.Contains(s.Notes[0], "--iam-rate") && strings.Contains(text, "--iam-rate")
			if hasNote != tc.wantNote || (!tc.wantNote && len(s.Notes) != 0) {
				t.Errorf("notes = %q, table:\n%s\nwant a note naming --iam-rate: %v", s.Notes, text, tc.wantNote)
			}
			if tc.wantNote && !strings.Contains(s.Notes[0], "waited on warden's own IAM rate limit for "+tc.wait.Round(100*time.Millisecond).String()) {
				t.Errorf("note %q does not say how long calls waited", s.Notes[0])
			}
			doc, err := json.Marshal(s)
			if err != nil {
				t.Fatal(err)
			}
			var keys map[string]json.RawMessage
			if err := json.Unmarshal(doc, &keys); err != nil {
				t.Fatal(err)
			}
			if string(keys["notes"]) == "null" || keys["notes"] == nil || keys["iam_rate_wait_ms"] == nil {
				t.Errorf("JSON %s: notes must be a list and iam_rate_wait_ms present", doc)
			}
		})
	}
}

// TestSummaryListsCarriedParts: a partial sync's summary lists the parts
// it kept as last read, with their counts; a complete one has no such
// table.
func TestSummaryListsCarriedParts(t *testing.T) {
	for _, carried := range [][]model.CarriedPart{nil, {{Part: "222222222222", Resources: 3, Entitlements: 1, Grants: 2}}} {
		s := NewSummary(&model.Snapshot{ID: 2, Status: model.StatusPartial, Carried: carried}, "warden.db", time.Second)
		var out bytes.Buffer
		for _, tb := range s.Tables() {
			if err := tb.Write(&out); err != nil {
				t.Fatal(err)
			}
		}
		has := strings.Contains(out.String(), "kept as last read")
		if has != (carried != nil) || carried != nil && !strings.Contains(out.String(), "222222222222") {
			t.Errorf("carried %+v, summary:\n%s", carried, out.String())
		}
	}
}
