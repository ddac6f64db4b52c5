// Package store keeps warden's snapshots: the access graph of every sync,
// written atomically, with history and the queries the CLI and service ask
// ("everything principal X holds", "everyone holding Y").
//
// The SQLite implementation (OpenSQLite) is the default; it uses
// modernc.org/sqlite, so no cgo is needed.
package store

import (
	"context"
	"errors"

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
	// group or role name, or an e-mail address held in a tag) to resources; an
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
	// Close releases the store.
	Close() error
}
