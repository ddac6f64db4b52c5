package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/warden-iam/warden/internal/awsapi"
	"github.com/warden-iam/warden/internal/config"
	"github.com/warden-iam/warden/internal/provision"
	"github.com/warden-iam/warden/internal/provisionjob"
	"github.com/warden-iam/warden/internal/setup"
	"github.com/warden-iam/warden/internal/store"
	"github.com/warden-iam/warden/internal/syncjob"
)

// Provisioning plans and applies provisioning actions on the connections
// of warden.yaml, for the API and the web UI: the same provisionjob.Connect,
// provision.Run and refresh as `warden plan` and `warden apply`.
type Provisioning struct {
	Store       *store.DB
	Connections []config.Connection
	Logger      *slog.Logger
}

// UnknownConnectionError is a connection warden.yaml does not have.
type UnknownConnectionError struct{ ID string }

// Error names the connection.
func (e *UnknownConnectionError) Error() string {
	return fmt.Sprintf("no connection %q in warden.yaml", e.ID)
}

// connect builds the provisioner of actions on connection id, acting as
// actor in the audit log ("" is the credentials' ARN).
func (p *Provisioning) connect(ctx context.Context, id string, actions []provision.Action, actor string) (*provisionjob.Connection, error) {
	var conn *config.Connection
	for i := range p.Connections {
		if p.Connections[i].ID == id {
			conn = &p.Connections[i]
		}
	}
	if conn == nil {
		return nil, &UnknownConnectionError{ID: id}
	}
	for i, a := range actions {
		if err := a.Validate(); err != nil {
			return nil, &provision.BatchError{Index: i, Total: len(actions), Err: err}
		}
	}
	t, err := syncjob.FromConnection(*conn)
	if err != nil {
		return nil, fmt.Errorf("connection %q: %w", id, err)
	}
	o := provisionjob.Options{AWS: t.AWS, Logger: p.Logger, ConnectionID: conn.ID, Store: p.Store, Actor: actor, Actions: actions,
		IdentityCenterRegion: conn.IdentityCenter.Region}
	if ep := conn.IdentityCenter.SCIM.Endpoint; ep != "" {
		token, err := conn.IdentityCenter.SCIM.Token()
		if err != nil {
			return nil, fmt.Errorf("connection %q: %w", id, err)
		}
		o.SCIMEndpoint, o.SCIMToken = ep, token
	}
	return provisionjob.Connect(ctx, o)
}

// Plan plans actions on the connection from AWS's live state: the calls
// each would make, or why none is needed. Nothing is changed.
func (p *Provisioning) Plan(ctx context.Context, connection string, actions []provision.Action) ([]*provision.Plan, error) {
	c, err := p.connect(ctx, connection, actions, "")
	if err != nil {
		return nil, err
	}
	return c.Provisioner.PlanAll(ctx, actions)
}

// Apply plans, applies (confirmed: the caller's token is the confirmation)
// and audits actions on the connection as actor, then refreshes the
// snapshot. The result holds what was done even when the run fails part
// way; the error is then a *provision.RunError.
func (p *Provisioning) Apply(ctx context.Context, connection string, actions []provision.Action, actor string) (*provision.RunResult, error) {
	c, err := p.connect(ctx, connection, actions, actor)
	if err != nil {
		return nil, err
	}
	o := provision.RunOptions{Actions: actions, Provisioner: c.Provisioner,
		Confirm: func(context.Context, *provision.Plan) error { return nil },
		Refresh: func(ctx context.Context, ch provision.Change) (int64, error) {
			snap, err := c.Refresh(ctx, ch)
			if err != nil {
				p.logger().Warn("the snapshot was not refreshed after apply; the next sync records the changes", "connection", connection, "err", err)
			}
			return snap, err
		}}
	return provision.Run(ctx, o)
}

func (p *Provisioning) logger() *slog.Logger {
	if p.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return p.Logger
}

// provisionFailure maps an error of Plan or Apply to its answer.
func provisionFailure(err error) *Error {
	var unknown *provisionjob.ConnectError
	var uc *UnknownConnectionError
	var re *provision.RunError
	var rec *provision.RecordError
	switch {
	case errors.As(err, &uc):
		return fail(http.StatusNotFound, err.Error(), "give a connection of warden.yaml: GET /api/v1/connections lists them")
	case errors.As(err, &re) && re.Stage == provision.StageApply:
		return fail(http.StatusBadGateway, err.Error(), "correct the cause named, then apply again with a new Idempotency-Key: actions already done are skipped")
	case errors.As(err, &rec):
		return fail(http.StatusInternalServerError, err.Error(), rec.Fix+"; then run it again (nothing was changed)")
	}
	if action, who, ok := awsapi.Denied(err); ok {
		if who == "" {
			who = "the identity warden runs as"
		}
		return fail(http.StatusBadGateway, err.Error(), "AWS denied "+action+" to "+who+": "+awsapi.DeniedFix(action, who, setup.ModeProvision)+"; nothing was changed")
	}
	if errors.As(err, &unknown) {
		return fail(http.StatusBadGateway, err.Error(), "check the connection's identity_center settings in warden.yaml (region, scim); nothing was changed")
	}
	var be *provision.BatchError
	if errors.As(err, &be) {
		return fail(http.StatusUnprocessableEntity, err.Error(), "correct the action as the message says (GET /api/v1/resources lists what exists); nothing was changed")
	}
	return fail(http.StatusBadGateway, err.Error(), "check the connection's credentials and AWS, then try again; nothing was changed")
}
