package scimsync

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/warden-iam/warden/internal/store"
)

// Ledger is what a push keeps in warden's database: who it pushed to the
// endpoint, and every write it made, recorded before the write (intent)
// and completed after it, so a write in flight when the process died stays
// visible as started. A push never drops a ledger error: a write whose
// intent cannot be recorded is not made, and any ledger failure stops the
// push.
type Ledger interface {
	// Pushed returns the external ids pushed to the endpoint before.
	Pushed(ctx context.Context) (map[string]bool, error)
	// Start writes the record of a write about to be made (Call, Target
	// and On; result started) and returns its id for Finish.
	Start(ctx context.Context, w Write) (int64, error)
	// Finish completes the record Start wrote with the write's Result,
	// Detail and Outcome.
	Finish(ctx context.Context, id int64, w Write) error
	// AddPushed records external ids as pushed to the endpoint; a push
	// calls it as each person is known to be in the target, not once at
	// its end.
	AddPushed(ctx context.Context, externalIDs []string) error
}

// Write results, besides store.AuditStarted while a write is in flight.
const (
	WriteOK       = store.AuditOK
	WriteFailed   = store.AuditFailed
	WriteConflict = "conflict" // a 409 on create, resolved by looking the user up
)

// Write is one write call of a push, as the audit log keeps it. It never
// holds a secret (the bearer token is in no request field kept here).
type Write struct {
	Call   string // e.g. scim:CreateUser
	Target string // e.g. user ann@example.com
	// On is what the call acts on: the SCIM id of the user or group it
	// changes or deletes, the member changes it sends; nil for a create.
	On map[string]string
	// Result is WriteOK, WriteFailed or WriteConflict once the call
	// returned; Detail the error when not ok.
	Result string
	Detail string
	// Outcome is what the call reported: the SCIM id of the user or group
	// it created ("id"), the HTTP status of an error answer ("status").
	Outcome map[string]string
}

// AuditStore is the part of warden's store a StoreLedger needs.
type AuditStore interface {
	PushedIDs(ctx context.Context, endpoint string) (map[string]bool, error)
	AddPushedIDs(ctx context.Context, endpoint string, ids []string) error
	StartAudit(ctx context.Context, r store.AuditRecord) (int64, error)
	FinishAudit(ctx context.Context, id int64, result, requestID, detail string, outcome map[string]string) error
}

// StoreLedger is the Ledger of one SCIM endpoint in warden's store, for a
// connection: writes go to the audit log as action scim-push, actor
// scim:<endpoint>.
func StoreLedger(st AuditStore, endpoint, connectionID string) Ledger {
	return &storeLedger{st: st, endpoint: endpoint, connection: connectionID}
}

type storeLedger struct {
	st         AuditStore
	endpoint   string
	connection string
}

func (l *storeLedger) Pushed(ctx context.Context) (map[string]bool, error) {
	return l.st.PushedIDs(ctx, l.endpoint)
}

func (l *storeLedger) Start(ctx context.Context, w Write) (int64, error) {
	return l.st.StartAudit(ctx, store.AuditRecord{At: time.Now(), ConnectionID: l.connection, Actor: "scim:" + l.endpoint,
		Action: "scim-push", Target: w.Target, Call: w.Call, Params: w.On})
}

func (l *storeLedger) Finish(ctx context.Context, id int64, w Write) error {
	return l.st.FinishAudit(ctx, id, w.Result, "", w.Detail, w.Outcome)
}

func (l *storeLedger) AddPushed(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	return l.st.AddPushedIDs(ctx, l.endpoint, ids)
}

// LeaverLimit bounds how many people one push may deactivate or delete: a
// number, or a percentage of the people this database pushed. The zero
// value is the default: more than 10% of them and more than 5 stops the
// push before any write (a truncated source must not empty Identity
// Center).
type LeaverLimit struct {
	set     bool
	isPct   bool
	n       int
	percent float64
}

// DefaultLeaverLimit is the limit of a push that names none.
var DefaultLeaverLimit = LeaverLimit{}

// ParseLeaverLimit reads --max-leavers: N (a count) or P% (of the people
// this database pushed).
func ParseLeaverLimit(s string) (LeaverLimit, error) {
	v := strings.TrimSpace(s)
	if p, ok := strings.CutSuffix(v, "%"); ok {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || math.IsNaN(f) || f < 0 || f > 100 {
			return LeaverLimit{}, fmt.Errorf("--max-leavers %q is not a percentage from 0%% to 100%%", s)
		}
		return LeaverLimit{set: true, isPct: true, percent: f}, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return LeaverLimit{}, fmt.Errorf("--max-leavers %q is not a count (N) or a percentage (P%%)", s)
	}
	return LeaverLimit{set: true, n: n}, nil
}

// allowed is the most leavers the limit allows out of pushed people.
func (l LeaverLimit) allowed(pushed int) int {
	switch {
	case !l.set:
		return max(5, pushed/10)
	case l.isPct:
		return int(math.Floor(float64(pushed) * l.percent / 100))
	}
	return l.n
}

// String names the limit as a flag would.
func (l LeaverLimit) String() string {
	switch {
	case !l.set:
		return "the default limit (10% of them, and at least 5)"
	case l.isPct:
		return "--max-leavers " + strconv.FormatFloat(l.percent, 'f', -1, 64) + "%"
	}
	return "--max-leavers " + strconv.Itoa(l.n)
}
