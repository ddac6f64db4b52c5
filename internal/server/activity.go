package server

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/warden-iam/warden/internal/access"
	"github.com/warden-iam/warden/internal/collect"
	"github.com/warden-iam/warden/internal/config"
	"github.com/warden-iam/warden/internal/diff"
	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/render"
)

// The API's activity answers: GET /api/v1/activity (as `warden show
// activity -o json`), and the activity the access, findings and diff
// documents carry when the connection reads activity (docs/activity.md).

type activityInput struct {
	at
	Account string `query:"account" doc:"only principals (and role uses) of this 12-digit account"`
	Since   string `query:"since" default:"90d" maxLength:"20" doc:"only activity at or after this age ago: 30d, 12h, 2w (CloudTrail keeps 90 days)"`
}

// activityRoutes registers GET /api/v1/activity.
func (s *Server) activityRoutes() {
	register(s, huma.Operation{OperationID: "get-activity", Method: http.MethodGet, Path: "/api/v1/activity",
		Errors:  []int{http.StatusBadRequest, http.StatusNotFound},
		Summary: "Last activity of every user, role and Identity Center user, and who assumed which role (as `warden show activity -o json`)"},
		access.ActivityReport{}, s.activity)
}

// activity answers GET /api/v1/activity.
func (s *Server) activity(ctx context.Context, in *activityInput) (any, error) {
	age, err := config.ParseAge(in.Since)
	if err != nil || age <= 0 {
		return nil, fail(http.StatusBadRequest, fmt.Sprintf("since %q is not an age", in.Since), "give an age such as 30d, 12h or 2w")
	}
	if in.Account != "" && !model.IsAccountID(in.Account) {
		return nil, fail(http.StatusBadRequest, fmt.Sprintf("account %q is not an account id", in.Account), "give the 12-digit account id")
	}
	snap, err := s.snapshot(ctx, in.at)
	if err != nil {
		return nil, err
	}
	g, err := s.c.Store.Subgraph(ctx, snap.ID, access.ActivityPart, "")
	if err != nil {
		return nil, storeFailure(err)
	}
	from := s.c.Now().Add(-age)
	events, _, err := access.StoredActivity(ctx, s.c.Store, snap.ConnectionID, from)
	if err != nil {
		return nil, storeFailure(err)
	}
	return access.Activity(g, events, in.Account, from), nil
}

// addActivity sets the activity of an access answer (access.AddActivity).
func (s *Server) addActivity(ctx context.Context, snap *model.Snapshot, ans *access.Answer) error {
	if err := access.AddActivity(ctx, s.c.Store, snap, ans, s.c.Now()); err != nil {
		return storeFailure(err)
	}
	return nil
}

// addActors sets the actors of a diff's rows from the connection's stored
// events (diff.AddActors).
func (s *Server) addActors(ctx context.Context, r *diff.Report) error {
	events, _, err := access.StoredActivity(ctx, s.c.Store, r.To.ConnectionID, r.From.StartedAt.Truncate(time.Second))
	if err != nil {
		return storeFailure(err)
	}
	diff.AddActors(r, events)
	return nil
}

// activityFindings reruns the unused-access findings with N = days over
// the connection's stored activity and IAM last accessed data.
func (s *Server) activityFindings(ctx context.Context, f *render.Findings, g *model.Graph, snap *model.Snapshot, days int) error {
	now := s.c.Now()
	events, read, err := access.StoredActivity(ctx, s.c.Store, snap.ConnectionID, now.Add(-collect.MaxLookback))
	if err != nil {
		return storeFailure(err)
	}
	la, err := access.StoredLastAccessed(ctx, s.c.Store, snap.ConnectionID)
	if err != nil {
		return storeFailure(err)
	}
	f.Unused(g, now, days, events, read).LastAccessed(g, now, la)
	return nil
}
