// Package store keeps warden's snapshots: the access graph of every sync,
// written atomically, with history and the queries the CLI and service ask
// ("everything principal X holds", "everyone holding Y").
//
// One implementation, DB, runs on two back-ends: a SQLite file
// (OpenSQLite, the default; modernc.org/sqlite, so no cgo is needed) and a
// PostgreSQL server shared by a team (OpenPostgres, through pgx). Both run
// the same queries and the same migrations; what differs is a dialect.
// History is stored once per connection with the range of snapshots each
// row holds in, so a sync writes only what changed.
package store

import (
	"context"
	"errors"
	"time"

	"github.com/warden-iam/warden/internal/model"
)

// ErrNoSnapshot is returned when a connection has no complete snapshot yet.
var ErrNoSnapshot = errors.New("no snapshot yet: run `warden sync` (or `warden demo`) first")

// ErrNotFound is returned when a resource asked for by ID or name is not in
// the snapshot.
var ErrNotFound = errors.New("not found")

// ResourceFilter narrows a resource listing. Zero fields match everything.
type ResourceFilter struct {
	Type      model.ResourceType
	AccountID string
	ParentID  string
}

// HeldGrant is a grant together with the entitlement's resource, as returned
// by the "what does X hold" query.
type HeldGrant struct {
	Grant    model.Grant    `json:"grant"`
	Resource model.Resource `json:"resource"` // the resource offering the entitlement
}

// Holder is a grant together with the principal holding it, as returned by
// the "who holds Y" query.
type Holder struct {
	Grant     model.Grant     `json:"grant"`
	Principal *model.Resource `json:"principal,omitempty"` // nil when the principal is not a synced resource
}

// Store is where snapshots live. Every method is safe for concurrent use.
type Store interface {
	// WriteSnapshot stores snap and its graph in one transaction and returns
	// the snapshot's new ID. Until it returns nil the snapshot is invisible:
	// a failed or interrupted write leaves the previous snapshot current.
	WriteSnapshot(ctx context.Context, snap *model.Snapshot, g *model.Graph) (int64, error)
	// LatestSnapshot returns the newest snapshot of a connection ("" means
	// the default connection), or ErrNoSnapshot.
	LatestSnapshot(ctx context.Context, connectionID string) (*model.Snapshot, error)
	// Connections lists the connections that have snapshots, sorted.
	Connections(ctx context.Context) ([]string, error)
	// Snapshots lists a connection's snapshots, newest first.
	Snapshots(ctx context.Context, connectionID string) ([]model.Snapshot, error)
	// Resources lists a snapshot's resources matching f, ordered by type then name.
	Resources(ctx context.Context, snapshotID int64, f ResourceFilter) ([]model.Resource, error)
	// Resource returns one resource by ID, or ErrNotFound.
	Resource(ctx context.Context, snapshotID int64, id string) (*model.Resource, error)
	// FindPrincipal resolves what a user typed (an ARN, a resource ID, a user,
	// group or role name, or an e-mail address held in a tag; failing those,
	// a managed policy's or permission set's name) to resources; an
	// ambiguous name returns several.
	FindPrincipal(ctx context.Context, snapshotID int64, query string) ([]model.Resource, error)
	// IAMUsersMatching returns the IAM users whose name, or the value of one
	// of whose tags, equals one of values (case-insensitive): the IAM users
	// of a person known by those names and e-mail addresses.
	IAMUsersMatching(ctx context.Context, snapshotID int64, values []string) ([]model.Resource, error)
	// GrantsOf returns everything principalID holds, directly or inherited.
	GrantsOf(ctx context.Context, snapshotID int64, principalID string) ([]HeldGrant, error)
	// HoldersOf returns everyone holding the entitlement.
	HoldersOf(ctx context.Context, snapshotID int64, entitlementID string) ([]Holder, error)
	// Graph loads a whole snapshot.
	Graph(ctx context.Context, snapshotID int64) (*model.Graph, error)
	// Subgraph loads the part of a snapshot one view needs: the resources
	// of the given types (in account, when not ""), the entitlements they
	// offer and the grants they hold.
	Subgraph(ctx context.Context, snapshotID int64, types []model.ResourceType, account string) (*model.Graph, error)
	// Snapshot returns one snapshot by ID, or an error wrapping ErrNotFound.
	Snapshot(ctx context.Context, id int64) (*model.Snapshot, error)
	// ResourcesByID returns the resources of a snapshot with the given IDs,
	// keyed by ID; IDs not in the snapshot are left out.
	ResourcesByID(ctx context.Context, snapshotID int64, ids []string) (map[string]model.Resource, error)
	// Changes returns what differs between two snapshots of one connection
	// (from may be newer than to: the changes then read backwards). Its cost
	// is proportional to the change, not to the snapshots.
	Changes(ctx context.Context, fromID, toID int64) (*ChangeSet, error)
	// Prune deletes a connection's snapshots as p says, never its latest,
	// and gives the space back. The audit log is not touched.
	Prune(ctx context.Context, connectionID string, p PruneOptions) (*PruneResult, error)
	// Close releases the store.
	Close() error
}

// ChangeSet is what differs between two snapshots of one connection: every
// resource, entitlement and grant in one and not the other, or changed.
// Each list is sorted (resources and entitlements by ID, grants as
// model.Graph.Sort does).
type ChangeSet struct {
	From         int64               `json:"from"`
	To           int64               `json:"to"`
	Resources    []ResourceChange    `json:"resources"`
	Entitlements []EntitlementChange `json:"entitlements"`
	Grants       []GrantChange       `json:"grants"`
}

// ResourceChange is one resource added (Before nil), removed (After nil)
// or changed (both set, and different).
type ResourceChange struct {
	ID     string          `json:"id"`
	Before *model.Resource `json:"before"`
	After  *model.Resource `json:"after"`
}

// EntitlementChange is one entitlement added (Before nil), removed (After
// nil) or changed.
type EntitlementChange struct {
	ID     string             `json:"id"`
	Before *model.Entitlement `json:"before"`
	After  *model.Entitlement `json:"after"`
}

// GrantChange is one grant added (Added) or removed.
type GrantChange struct {
	Grant model.Grant `json:"grant"`
	Added bool        `json:"added"`
}

// Empty reports whether nothing changed.
func (c *ChangeSet) Empty() bool {
	return len(c.Resources) == 0 && len(c.Entitlements) == 0 && len(c.Grants) == 0
}

// PruneOptions says which snapshots Prune deletes: those beyond the newest
// Keep (0: no limit by count) and those that finished more than OlderThan
// before Now (0: no limit by age). A snapshot is deleted when either rule
// says so; the connection's latest snapshot is always kept.
type PruneOptions struct {
	Keep      int
	OlderThan time.Duration
	Now       time.Time // zero: time.Now()
	DryRun    bool      // report what would be deleted, delete nothing
}

// PruneResult is what Prune deleted (or, on a dry run, would delete).
type PruneResult struct {
	ConnectionID string  `json:"connection_id"`
	Deleted      []int64 `json:"deleted"` // snapshot IDs, newest first
	Kept         int     `json:"kept"`    // snapshots left
	Rows         int64   `json:"rows"`    // history rows deleted
	BytesFreed   int64   `json:"bytes_freed"`
	DryRun       bool    `json:"dry_run"`
}
