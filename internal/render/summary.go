package render

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/warden-iam/warden/internal/collect"
	"github.com/warden-iam/warden/internal/model"
)

// Summary is what `warden sync` and `warden demo` report about one sync.
type Summary struct {
	Snapshot   *model.Snapshot `json:"snapshot"`
	DBPath     string          `json:"db"`
	DurationMS int64           `json:"duration_ms"`
	APICalls   int64           `json:"api_calls"` // total of Snapshot.APICalls
	// IAMRateWaitMS is Snapshot.IAMRateWait in milliseconds: how long IAM
	// calls waited on warden's own IAM rate limit during the sync.
	IAMRateWaitMS int64 `json:"iam_rate_wait_ms"`
	// Notes are advice about the sync (never null): that the IAM rate
	// limit set its pace, naming --iam-rate.
	Notes []string `json:"notes"`
	// Activity is what the sync read of CloudTrail activity; absent when
	// the connection reads none (docs/activity.md).
	Activity *collect.ActivitySummary `json:"activity,omitempty"`
}

// A sync is reported as held back by warden's IAM rate limit when calls
// waited on it for at least rateLimitedShare of the sync, and for at least
// rateLimitedMin: a sync of a few seconds is not slow, whatever paced it.
const (
	rateLimitedShare = 0.5
	rateLimitedMin   = 5 * time.Second
)

// NewSummary describes snap, written to the database at dbPath after a sync
// that took d.
func NewSummary(snap *model.Snapshot, dbPath string, d time.Duration) *Summary {
	s := &Summary{Snapshot: snap, DBPath: dbPath, DurationMS: d.Milliseconds(), IAMRateWaitMS: snap.IAMRateWait.Milliseconds(), Notes: []string{}}
	for _, n := range snap.APICalls {
		s.APICalls += n
	}
	if w := snap.IAMRateWait; d > 0 && w >= rateLimitedMin && float64(w) >= rateLimitedShare*float64(d) {
		s.Notes = append(s.Notes, fmt.Sprintf("IAM calls waited on warden's own IAM rate limit for %s of this %s sync (%.0f%%): "+
			"raise it with --iam-rate (sync.iam_rate in warden.yaml; default 20 calls a second per account) if the account's IAM quota allows",
			w.Round(100*time.Millisecond), d.Round(100*time.Millisecond), 100*float64(w)/float64(d)))
	}
	return s
}

// Tables lays out the summary: the snapshot, counts by kind, API calls by
// action, and any part of the sync that failed with its fix.
func (s *Summary) Tables() []*Table {
	snap := s.Snapshot
	head := &Table{Title: "Sync"}
	head.Add("snapshot", strconv.FormatInt(snap.ID, 10))
	head.Add("connection", snap.ConnectionID)
	head.Add("status", string(snap.Status))
	head.Add("accounts", accountsCell(snap.Accounts))
	head.Add("duration", (time.Duration(s.DurationMS) * time.Millisecond).String())
	head.Add("api calls", strconv.FormatInt(s.APICalls, 10))
	head.Add("iam rate wait", (time.Duration(s.IAMRateWaitMS) * time.Millisecond).String())
	head.Add("database", s.DBPath)

	counts := &Table{Title: "Resources", Header: []string{"KIND", "COUNT"}}
	for _, k := range sortedKeys(snap.Counts) {
		counts.Add(k, strconv.Itoa(snap.Counts[k]))
	}
	calls := &Table{Title: "API calls", Header: []string{"ACTION", "CALLS"}}
	for _, k := range sortedKeys(snap.APICalls) {
		calls.Add(k, strconv.FormatInt(snap.APICalls[k], 10))
	}
	out := []*Table{head, counts, calls}
	if a := s.Activity; a != nil {
		act := &Table{Title: "Activity (CloudTrail LookupEvents)"}
		act.Add("events read", fmt.Sprintf("%d (%d new)", a.Events, a.New))
		act.Add("calls", strconv.Itoa(a.Calls))
		act.Add("account-regions", fmt.Sprintf("%d (%d not read whole)", a.AccountRegions, a.Failed))
		if la := a.LastAccessed; la != nil {
			act.Add("IAM last accessed", la.String())
		}
		out = append(out, act)
	}
	if t := failuresTable(snap); t != nil {
		out = append(out, t)
	}
	if t := carriedTable(snap); t != nil {
		out = append(out, t)
	}
	if len(s.Notes) > 0 {
		notes := &Table{Title: "Notes"}
		for _, n := range s.Notes {
			notes.Add(n)
		}
		out = append(out, notes)
	}
	return out
}

// failuresTable lists the parts of a sync that failed, with their fixes;
// nil when none did.
func failuresTable(snap *model.Snapshot) *Table {
	if len(snap.Errors) == 0 {
		return nil
	}
	t := &Table{Title: fmt.Sprintf("Parts that failed (%d); everything else was read", len(snap.Errors)),
		Header: []string{"ACCOUNT", "SOURCE", "PROBLEM", "FIX"}}
	for _, e := range snap.Errors {
		t.Add(dash(e.AccountID), e.Source, e.Message, dash(e.Fix))
	}
	return t
}

// carriedTable lists the parts the snapshot holds as last read because
// this sync could not read them; nil when none.
func carriedTable(snap *model.Snapshot) *Table {
	if len(snap.Carried) == 0 {
		return nil
	}
	t := &Table{Title: "Not read this time, kept as last read (not revoked)",
		Header: []string{"PART", "RESOURCES", "ENTITLEMENTS", "GRANTS"}}
	for _, c := range snap.Carried {
		t.Add(c.Part, strconv.Itoa(c.Resources), strconv.Itoa(c.Entitlements), strconv.Itoa(c.Grants))
	}
	return t
}

// accountsCell says how many of the accounts a sync set out to read it read.
func accountsCell(t model.AccountTally) string {
	if t.Planned == 0 {
		return "-"
	}
	return fmt.Sprintf("%d of %d read", t.Read, t.Planned)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func dash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "-"
	}
	return s
}
