// Package provisionjob connects one plan or apply run of a connection to
// AWS, the same for `warden plan`/`apply`, the HTTP API and the web UI: it
// loads the session, builds the provision.Provisioner the actions need
// (the organization, Identity Center, its SCIM API) and refreshes the
// snapshot after apply. It joins provision and syncer, which do not know
// each other (as syncjob joins the syncer and the store for a sync).
package provisionjob

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/warden-iam/warden/internal/awsapi"
	"github.com/warden-iam/warden/internal/collect"
	"github.com/warden-iam/warden/internal/provision"
	"github.com/warden-iam/warden/internal/scim"
	"github.com/warden-iam/warden/internal/store"
	"github.com/warden-iam/warden/internal/syncer"
)

// Options say how to reach AWS (and Identity Center's SCIM API) for
// one plan or apply run of a connection. The CLI fills them from its
// flags, `warden serve` from the connection of warden.yaml.
type Options struct {
	AWS          awsapi.Options
	Logger       *slog.Logger
	ConnectionID string
	// IdentityCenterRegion is Identity Center's home region; "" is the
	// session's region.
	IdentityCenterRegion string
	// SCIMEndpoint and SCIMToken reach Identity Center's SCIM API, for
	// deactivate-sso-user and reactivate-sso-user; "" has none.
	SCIMEndpoint, SCIMToken string
	// Store keeps the audit log and the deactivation records; nil plans
	// without them (and cannot apply).
	Store *store.DB
	// Actor is who the audit log names; "" is the ARN of the credentials.
	Actor string
	// Actions are those the run will plan: Identity Center and the
	// organization are only reached when one needs them.
	Actions []provision.Action
}

// Connection is a provisioner together with what refreshing the snapshot
// after an apply needs.
type Connection struct {
	Provisioner *provision.Provisioner
	Session     *awsapi.Session
	// Store and ConnectionID are where Refresh writes.
	Store                *store.DB
	ConnectionID         string
	IdentityCenterRegion string
}

// ConnectError is a part of the connection other than AWS's credentials
// that could not be set up: the Identity Center instance (Part
// "identity-center") or the SCIM client (Part "scim"). Its message is Err's.
type ConnectError struct {
	Part string
	Err  error
}

// Error is the underlying error's message.
func (e *ConnectError) Error() string { return e.Err.Error() }

// Unwrap returns the underlying error.
func (e *ConnectError) Unwrap() error { return e.Err }

// Connect loads the AWS session of o, finds who it acts as and builds the
// provisioner of o.Actions: the organization's client when an assignment
// must check its account, the Identity Center instance (and SCIM client)
// when an Identity Center action needs it. Errors of AWS are returned as
// they are; the Identity Center and SCIM parts fail with a *ConnectError.
func Connect(ctx context.Context, o Options) (*Connection, error) {
	aws := o.AWS
	aws.Logger = o.Logger
	sess, err := awsapi.Load(ctx, aws)
	if err != nil {
		return nil, err
	}
	account, arn, err := sess.CallerIdentity(ctx)
	if err != nil {
		return nil, err
	}
	actor := o.Actor
	if actor == "" {
		actor = arn
	}
	p := &provision.Provisioner{IAM: sess.IAM(account), AccountID: account, ConnectionID: o.ConnectionID, Actor: actor}
	for _, act := range o.Actions {
		if act.Kind == provision.AssignPermissionSet {
			p.Org = sess.Organizations() // to check the accounts before any write
		}
	}
	if o.Store != nil {
		p.Audit, p.Records = o.Store, o.Store
	}
	for _, act := range o.Actions {
		if act.Kind.IdentityCenter() {
			sso, ids := sess.IdentityCenter(o.IdentityCenterRegion)
			if p.IC, err = provision.FindIdentityCenter(ctx, sso, ids); err != nil {
				return nil, &ConnectError{Part: "identity-center", Err: err}
			}
			if o.SCIMEndpoint != "" {
				client, err := scim.New(o.SCIMEndpoint, o.SCIMToken, nil)
				if err != nil {
					return nil, &ConnectError{Part: "scim", Err: err}
				}
				p.SCIM = client
			}
			break
		}
	}
	return &Connection{Provisioner: p, Session: sess, Store: o.Store, ConnectionID: o.ConnectionID,
		IdentityCenterRegion: o.IdentityCenterRegion}, nil
}

// Refresh brings the connection's latest snapshot up to date with the
// changes one apply run made in one place (provision.RunOptions.Refresh): the IAM
// changes through syncer.Refresh, Identity Center's through
// syncer.RefreshIdentityCenter, so the access answers show them without a
// sync. It returns the id of the snapshot that records them.
func (c *Connection) Refresh(ctx context.Context, ch provision.Change) (int64, error) {
	if c.Store == nil {
		return 0, fmt.Errorf("refresh connection %q: no store to write the snapshot to", c.ConnectionID)
	}
	if !ch.IdentityCenter {
		snap, err := syncer.Refresh(ctx, c.Session, c.Store, c.ConnectionID, ch.Account, ch.Users, collect.IAMOptions{})
		if err != nil {
			return 0, err
		}
		return snap.ID, nil
	}
	p := c.Provisioner
	o := syncer.IdentityCenterOptions{Region: c.IdentityCenterRegion,
		IdentityCenterOptions: collect.IdentityCenterOptions{InstanceARN: p.IC.InstanceARN, IdentityStoreID: p.IC.IdentityStoreID}}
	if lister, ok := p.SCIM.(collect.SCIMUserLister); ok {
		o.SCIM = lister
	}
	snap, err := syncer.RefreshIdentityCenter(ctx, c.Session, c.Store, c.ConnectionID, o)
	if err != nil {
		return 0, err
	}
	return snap.ID, nil
}
