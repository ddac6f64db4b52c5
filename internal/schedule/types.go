// Package schedule runs `warden serve`'s syncs: each connection on its own
// schedule (a cron expression or a fixed interval, with jitter), never two
// syncs of one connection at once, a slot missed while the service was down
// run once at start, and manual triggers. Replicas sharing one PostgreSQL
// database share the schedule: each slot runs on exactly one of them.
package schedule

import (
	"errors"
	"time"
)

// Triggers: why a run started, as Run.Trigger.
const (
	TriggerSchedule = "schedule" // its slot came
	TriggerMissed   = "missed"   // at start, for a slot missed while the service was down
	TriggerManual   = "manual"   // asked for through the API
)

// Results of a run, as Run.Result.
const (
	ResultRunning   = "running"
	ResultComplete  = "complete"
	ResultPartial   = "partial"
	ResultFailed    = "failed"
	ResultCancelled = "cancelled"
)

// Run is one sync the scheduler started.
type Run struct {
	ID         string     `json:"id"`
	Connection string     `json:"connection"`
	Trigger    string     `json:"trigger"`
	Slot       *time.Time `json:"slot"`  // the scheduled time it runs for; nil for a manual run
	Actor      string     `json:"actor"` // the token name of a manual run; "scheduler" otherwise
	Started    time.Time  `json:"started"`
	Finished   *time.Time `json:"finished"`
	Result     string     `json:"result"`
	SnapshotID int64      `json:"snapshot_id"` // 0 until stored
	Error      string     `json:"error"`       // why it failed, "" when it did not
	Fix        string     `json:"fix"`
}

// Progress is where a running sync is: a stage of the syncer, the account
// it is reading, and how far through.
type Progress struct {
	Stage   string `json:"stage"`
	Account string `json:"account"`
	Message string `json:"message"`
	Done    int    `json:"done"`
	Total   int    `json:"total"`
}

// Event is one update a subscriber to a connection's syncs receives: a
// run's start, its progress, or its end (Run.Finished set).
type Event struct {
	Run      Run       `json:"run"`
	Progress *Progress `json:"progress"`
}

// Status is a connection's sync state.
type Status struct {
	Connection string     `json:"connection"`
	Schedule   string     `json:"schedule"` // as written in warden.yaml; "" when it has none
	Next       *time.Time `json:"next"`     // its next slot; nil without a schedule
	Running    *Run       `json:"running"`
	Progress   *Progress  `json:"progress"`
	Last       *Run       `json:"last"` // the last run that finished, on this replica
}

// ErrRunning is returned by a trigger while the connection is syncing
// (here or on another replica).
var ErrRunning = errors.New("a sync of this connection is already running")

// ErrUnknownConnection is returned for a connection the configuration does
// not have.
var ErrUnknownConnection = errors.New("no such connection")
