package render

import (
	"strconv"
	"time"

	"github.com/warden-iam/warden/internal/model"
)

// SnapshotsTable lays out a connection's snapshot history, newest first.
func SnapshotsTable(snaps []model.Snapshot) *Table {
	t := &Table{Header: []string{"ID", "CONNECTION", "STARTED", "DURATION", "STATUS", "RESOURCES", "API CALLS", "ERRORS"}}
	for _, s := range snaps {
		resources := 0
		for _, n := range s.Counts {
			resources += n
		}
		var calls int64
		for _, n := range s.APICalls {
			calls += n
		}
		t.Add(strconv.FormatInt(s.ID, 10), s.ConnectionID, s.StartedAt.UTC().Format(time.RFC3339),
			s.FinishedAt.Sub(s.StartedAt).Round(time.Millisecond).String(), string(s.Status),
			strconv.Itoa(resources), strconv.FormatInt(calls, 10), strconv.Itoa(len(s.Errors)))
	}
	return t
}
