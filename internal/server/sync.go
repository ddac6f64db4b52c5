package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"github.com/warden-iam/warden/internal/schedule"
)

// Syncs is the scheduler of `warden serve`: *schedule.Scheduler is one.
type Syncs interface {
	// Statuses is every connection's sync state.
	Statuses() []schedule.Status
	// Status is one connection's, or schedule.ErrUnknownConnection.
	Status(connection string) (schedule.Status, error)
	// Trigger starts a sync of connection now, asked for by actor; it
	// fails with schedule.ErrUnknownConnection, schedule.ErrRunning, or
	// another error when the scheduler takes no more work (stopping).
	Trigger(ctx context.Context, connection, actor string) (schedule.Run, error)
	// Runs is a connection's last runs, newest first.
	Runs(connection string, limit int) ([]schedule.Run, error)
	// Subscribe sends every event of the connection's syncs until cancel
	// is called.
	Subscribe(connection string) (events <-chan schedule.Event, cancel func(), err error)
	// Healthy reports whether the scheduler runs.
	Healthy() bool
}

type syncInput struct {
	Connection string `path:"connection" doc:"the connection id"`
}

type runsInput struct {
	Connection string `path:"connection" doc:"the connection id"`
	Limit      int    `query:"limit" minimum:"1" maximum:"1000" default:"20" doc:"most runs, newest first"`
}

// syncs is the scheduler, or the 503 of a service without one.
func (s *Server) syncs() (Syncs, error) {
	if s.c.Syncs == nil {
		return nil, fail(http.StatusServiceUnavailable, "this service runs no scheduler",
			"run `warden serve` (it starts the scheduler), or sync with `warden sync`")
	}
	return s.c.Syncs, nil
}

// syncFailure maps a scheduler error to its answer.
func syncFailure(connection string, err error) error {
	switch {
	case errors.Is(err, schedule.ErrUnknownConnection):
		return fail(http.StatusNotFound, fmt.Sprintf("no connection %q", connection), "list them: GET /api/v1/connections (syncs run for the connections of warden.yaml)")
	case errors.Is(err, schedule.ErrRunning):
		return fail(http.StatusConflict, fmt.Sprintf("connection %q: %v", connection, err), "wait for it: GET /api/v1/sync/"+connection+"/events follows it")
	}
	return fail(http.StatusServiceUnavailable, fmt.Sprintf("connection %q: %v", connection, err), "the scheduler is stopping or stopped: try again once the service is back (GET /readyz)")
}

func (s *Server) syncRoutes() {
	get := func(op huma.Operation) huma.Operation {
		op.Method = http.MethodGet
		op.Errors = append(op.Errors, http.StatusNotFound, http.StatusServiceUnavailable)
		return op
	}
	register(s, get(huma.Operation{OperationID: "list-sync-status", Path: "/api/v1/sync", Summary: "Every connection's sync state"}),
		[]schedule.Status{}, func(context.Context, *noInput) (any, error) {
			sy, err := s.syncs()
			if err != nil {
				return nil, err
			}
			st := sy.Statuses()
			if st == nil {
				st = []schedule.Status{}
			}
			return st, nil
		})
	register(s, get(huma.Operation{OperationID: "get-sync-status", Path: "/api/v1/sync/{connection}", Summary: "One connection's sync state"}),
		schedule.Status{}, func(_ context.Context, in *syncInput) (any, error) {
			sy, err := s.syncs()
			if err != nil {
				return nil, err
			}
			st, err := sy.Status(in.Connection)
			if err != nil {
				return nil, syncFailure(in.Connection, err)
			}
			return st, nil
		})
	register(s, huma.Operation{OperationID: "trigger-sync", Method: http.MethodPost, Path: "/api/v1/sync/{connection}", DefaultStatus: http.StatusAccepted,
		Errors: []int{http.StatusNotFound, http.StatusConflict, http.StatusServiceUnavailable}, Summary: "Start a sync of the connection now (admin); the run is audited with the token's name"},
		schedule.Run{}, func(ctx context.Context, in *syncInput) (any, error) {
			sy, err := s.syncs()
			if err != nil {
				return nil, err
			}
			run, err := sy.Trigger(context.WithoutCancel(ctx), in.Connection, tokenOf(ctx).Name)
			if err != nil {
				return nil, syncFailure(in.Connection, err)
			}
			return run, nil
		})
	register(s, get(huma.Operation{OperationID: "list-sync-runs", Path: "/api/v1/sync/{connection}/runs", Summary: "A connection's last runs, newest first"}),
		[]schedule.Run{}, func(_ context.Context, in *runsInput) (any, error) {
			sy, err := s.syncs()
			if err != nil {
				return nil, err
			}
			runs, err := sy.Runs(in.Connection, in.Limit)
			if err != nil {
				return nil, syncFailure(in.Connection, err)
			}
			if runs == nil {
				runs = []schedule.Run{}
			}
			return runs, nil
		})
	s.eventsRoute()
}

// Event names of the stream: a run's start, its progress, its end.
const (
	eventStart    = "start"
	eventProgress = "progress"
	eventEnd      = "end"
)

// eventName is the name of e in the stream.
func eventName(e schedule.Event) string {
	switch {
	case e.Run.Finished != nil:
		return eventEnd
	case e.Progress != nil:
		return eventProgress
	}
	return eventStart
}

// eventsRoute registers the server-sent events of a connection's syncs.
func (s *Server) eventsRoute() {
	reg := s.api.OpenAPI().Components.Schemas
	op := huma.Operation{OperationID: "follow-sync", Method: http.MethodGet, Path: "/api/v1/sync/{connection}/events",
		Summary: "Follow the connection's syncs: server-sent events `start`, `progress` and `end`, each with a JSON schedule.Event; the stream ends after `end`",
		Errors:  []int{http.StatusUnauthorized, http.StatusTooManyRequests, http.StatusNotFound, http.StatusServiceUnavailable},
		Responses: map[string]*huma.Response{"200": {Description: "a stream of events: `event: start|progress|end` and `data:` an Event in JSON",
			Content: map[string]*huma.MediaType{"text/event-stream": {Schema: schemaOf(reg, schedule.Event{}, "SyncEvent")}}}}}
	huma.Register(s.api, op, func(ctx context.Context, in *syncInput) (*huma.StreamResponse, error) {
		sy, err := s.syncs()
		if err != nil {
			return nil, err
		}
		events, cancel, err := sy.Subscribe(in.Connection)
		if err != nil {
			return nil, syncFailure(in.Connection, err)
		}
		return &huma.StreamResponse{Body: func(hctx huma.Context) {
			defer cancel()
			_, w := humago.Unwrap(hctx)
			rc := http.NewResponseController(w)
			_ = rc.SetWriteDeadline(timeZero) // a sync may outlast any write timeout
			w.Header().Set("Content-Type", "text/event-stream")
			w.Header().Set("Cache-Control", "no-cache")
			w.WriteHeader(http.StatusOK)
			_ = rc.Flush()
			stopping := stoppingOf(ctx)
			for {
				select {
				case <-ctx.Done():
					return
				case <-stopping:
					return
				case e, ok := <-events:
					if !ok {
						return
					}
					data, err := json.Marshal(e)
					if err != nil {
						return
					}
					name := eventName(e)
					if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", name, data); err != nil {
						return
					}
					if err := rc.Flush(); err != nil || name == eventEnd {
						return
					}
				}
			}
		}}, nil
	})
}

var _ Syncs = (*schedule.Scheduler)(nil)
