package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/warden-iam/warden/internal/config"
	"github.com/warden-iam/warden/internal/scim"
	"github.com/warden-iam/warden/internal/scimsync"
	"github.com/warden-iam/warden/internal/store"
)

// SCIMPushRequest is a SCIM push: the source's content and the options of
// `warden scim push`.
type SCIMPushRequest struct {
	Connection string            `json:"connection,omitempty" doc:"the connection whose identity_center.scim endpoint and token are used; default the only one"`
	Format     string            `json:"format" enum:"csv,json" doc:"the source's format"`
	Source     string            `json:"source" maxLength:"1000000" doc:"the source itself: CSV with a header row (groups separated by ;), or JSON (a list of people with a groups list)"`
	Groups     []string          `json:"groups,omitempty" doc:"push only members of these source groups (and these groups)"`
	Map        map[string]string `json:"map,omitempty" doc:"attribute → source field, over the default mapping"`
	Leavers    string            `json:"leavers,omitempty" enum:"deactivate,delete" doc:"what happens to people no longer in scope; default deactivate"`
	MaxLeavers string            `json:"max_leavers,omitempty" doc:"most people one push may deactivate or delete: N, or P% (default 10%, at least 5)"`
	DryRun     bool              `json:"dry_run,omitempty" doc:"plan exactly as a real push and write nothing"`
}

type scimPushInput struct {
	Body SCIMPushRequest
}

func (s *Server) scimRoutes() {
	register(s, huma.Operation{OperationID: "scim-push", Method: http.MethodPost, Path: "/api/v1/scim/push",
		Errors:  []int{http.StatusBadRequest, http.StatusNotFound, http.StatusUnprocessableEntity, http.StatusBadGateway},
		Summary: "Reconcile Identity Center with a source of people and groups (as `warden scim push -o json`); every write is audited with the token's name"},
		scimsync.Report{}, s.scimPush)
}

// scimPush runs one push.
func (s *Server) scimPush(ctx context.Context, in *scimPushInput) (any, error) {
	req := in.Body
	id := s.connectionOf(req.Connection)
	var conn *config.Connection
	for i := range s.c.Connections {
		if s.c.Connections[i].ID == id {
			conn = &s.c.Connections[i]
		}
	}
	if conn == nil {
		return nil, fail(http.StatusNotFound, fmt.Sprintf("no connection %q in warden.yaml", id), "give a connection of warden.yaml: GET /api/v1/connections lists them")
	}
	sc := conn.IdentityCenter.SCIM
	if sc.Endpoint == "" {
		return nil, fail(http.StatusBadRequest, fmt.Sprintf("connection %q has no identity_center.scim endpoint", id),
			"add identity_center: {scim: {endpoint: …, token_env: …}} to the connection in warden.yaml, then restart the service")
	}
	token, err := sc.Token()
	if err != nil {
		return nil, fail(http.StatusBadGateway, err.Error(), "give the service the SCIM token as warden.yaml's identity_center.scim says")
	}
	client, err := scim.New(sc.Endpoint, token, nil)
	if err != nil {
		return nil, fail(http.StatusBadGateway, err.Error(), "check identity_center.scim in warden.yaml")
	}
	limit := scimsync.DefaultLeaverLimit
	if req.MaxLeavers != "" {
		if limit, err = scimsync.ParseLeaverLimit(req.MaxLeavers); err != nil {
			return nil, fail(http.StatusBadRequest, err.Error(), `give max_leavers as "25" (people) or "30%" (of the people this database pushed)`)
		}
	}
	src, err := scimsync.ReadSource(strings.NewReader(req.Source), "the request's source", req.Format)
	if err != nil {
		return nil, fail(http.StatusBadRequest, err.Error(), "correct the source (see `warden scim push --help` for its format)")
	}
	m := scimsync.DefaultMapping()
	for k, v := range req.Map {
		m[k] = v
	}
	people, err := scimsync.Map(src, m)
	if err != nil {
		return nil, fail(http.StatusBadRequest, err.Error(), "correct the rows named, or the map")
	}
	policy := scimsync.Deactivate
	if req.Leavers != "" {
		policy = scimsync.LeaverPolicy(req.Leavers)
	}
	ledger := scimsync.StoreLedger(actorStore{s.c.Store, tokenOf(ctx).Name}, sc.Endpoint, id)
	rep, err := scimsync.Push(context.WithoutCancel(ctx), client, people,
		scimsync.Options{Groups: req.Groups, Leavers: policy, MaxLeavers: limit, DryRun: req.DryRun, Ledger: ledger})
	if err != nil {
		return nil, scimFailure(err)
	}
	return rep, nil
}

// scimFailure maps what stopped a push to its answer.
func scimFailure(err error) *Error {
	var limit *scimsync.LeaverLimitError
	var input *scimsync.InputError
	var ledger *scimsync.LedgerError
	switch {
	case errors.As(err, &input):
		return fail(http.StatusBadRequest, input.Problem, input.Fix)
	case errors.As(err, &limit):
		return fail(http.StatusUnprocessableEntity, err.Error(), fmt.Sprintf(`check the source and groups; if these people did leave, push again with "max_leavers": "%d"`, limit.Leavers))
	case errors.As(err, &ledger):
		return storeFailure(err)
	case scim.IsAuth(err):
		return fail(http.StatusBadGateway, err.Error(), "the SCIM endpoint refused the token: give the service a fresh one (Identity Center console, Settings → Automatic provisioning)")
	}
	return fail(http.StatusBadGateway, err.Error(), "push again: only what is still different is written")
}

// actorStore is the store whose audit records name actor: the token's
// name, as every write of the API is audited.
type actorStore struct {
	*store.DB
	actor string
}

// StartAudit records r as done by the token.
func (a actorStore) StartAudit(ctx context.Context, r store.AuditRecord) (int64, error) {
	r.Actor = a.actor
	return a.DB.StartAudit(ctx, r)
}
