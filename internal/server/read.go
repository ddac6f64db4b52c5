package server

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/warden-iam/warden/internal/access"
	"github.com/warden-iam/warden/internal/diff"
	"github.com/warden-iam/warden/internal/effective"
	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/render"
	"github.com/warden-iam/warden/internal/store"
)

// staleDays is the default age of a stale access key, as `warden findings`.
const staleDays = 90

// at is the snapshot a read answers from.
type at struct {
	Connection string `query:"connection" doc:"the connection id; default the only connection of warden.yaml, else the default connection"`
	Snapshot   int64  `query:"snapshot" minimum:"0" doc:"a snapshot id; default the connection's latest"`
}

// connectionOf is the connection a request names, or the default.
func (s *Server) connectionOf(name string) string {
	if name == "" && len(s.c.Connections) == 1 {
		return s.c.Connections[0].ID
	}
	return name
}

// snapshot resolves a to a snapshot.
func (s *Server) snapshot(ctx context.Context, a at) (*model.Snapshot, error) {
	conn := s.connectionOf(a.Connection)
	if a.Snapshot > 0 {
		snap, err := s.c.Store.Snapshot(ctx, a.Snapshot)
		if errors.Is(err, store.ErrNotFound) {
			return nil, fail(http.StatusNotFound, fmt.Sprintf("no snapshot %d", a.Snapshot), "list the snapshots: GET /api/v1/connections/{id}/snapshots")
		}
		if err != nil {
			return nil, storeFailure(err)
		}
		if a.Connection != "" && snap.ConnectionID != a.Connection {
			return nil, fail(http.StatusBadRequest, fmt.Sprintf("snapshot %d is of connection %q, not %q", snap.ID, snap.ConnectionID, a.Connection),
				"leave out connection, or give a snapshot of that connection")
		}
		return snap, nil
	}
	snap, err := s.c.Store.LatestSnapshot(ctx, conn)
	if errors.Is(err, store.ErrNoSnapshot) {
		return nil, fail(http.StatusNotFound, fmt.Sprintf("no snapshot yet of connection %q", conn),
			"sync it first: POST /api/v1/sync/{connection} (or `warden sync`), and check the connection id: GET /api/v1/connections")
	}
	if err != nil {
		return nil, storeFailure(err)
	}
	return snap, nil
}

// storeFailure is a store error the client cannot correct.
func storeFailure(err error) *Error {
	return fail(http.StatusInternalServerError, "read the database: "+err.Error(), "check the database is reachable (GET /readyz), then try again")
}

// Connection is one connection of warden.yaml, or of the database, with
// its latest snapshot.
type Connection struct {
	ID       string          `json:"id"`
	Name     string          `json:"name"`
	Region   string          `json:"region"`
	Schedule string          `json:"schedule"`
	Latest   *model.Snapshot `json:"latest"` // nil before its first sync
}

type noInput struct{}

type connectionInput struct {
	ID string `path:"id" doc:"the connection id"`
}

type resourcesInput struct {
	at
	Type    string `query:"type" doc:"only resources of this type, e.g. iam_user"`
	Account string `query:"account" doc:"only resources in this 12-digit account"`
	Q       string `query:"q" maxLength:"200" doc:"only resources whose name or id contains this text (case-insensitive)"`
	Limit   int    `query:"limit" minimum:"1" maximum:"1000" default:"100" doc:"resources per page"`
	Cursor  string `query:"cursor" maxLength:"2048" doc:"next_cursor of the previous page"`
}

// ResourcePage is a page of resources.
type ResourcePage struct {
	Items []model.Resource `json:"items"`
	// NextCursor fetches the next page; "" on the last.
	NextCursor string `json:"next_cursor"`
}

// cursor is what next_cursor holds: the snapshot the walk reads (so a new
// snapshot does not shift it) and the key of the last resource given.
type cursor struct {
	Snapshot int64         `json:"s"`
	After    store.PageKey `json:"k"`
}

func encodeCursor(c cursor) string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (cursor, error) {
	var c cursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err == nil && c.Snapshot <= 0 {
		err = errors.New("no snapshot")
	}
	if err != nil {
		return c, fail(http.StatusBadRequest, "cursor "+strconv.Quote(s)+" is not a cursor this API gave",
			"pass next_cursor of the previous page as it came, or leave cursor out to start at the first page")
	}
	return c, nil
}

type resourceInput struct {
	at
	ID string `path:"id" doc:"the resource id (an ARN where AWS has one), URL-encoded"`
}

type principalInput struct {
	at
	Principal string `path:"principal" doc:"a user, group or role name, an ARN, an Identity Center user name or e-mail, an access key id, or a managed policy or permission set (URL-encoded)"`
}

type findingsInput struct {
	at
	Top       int `query:"top" minimum:"0" default:"10" doc:"principals to rank by policies held (0: all)"`
	StaleDays int `query:"stale_days" minimum:"0" default:"90" doc:"report access keys older than this many days"`
	// UnusedDays is the N of the unused-access findings (activity.go).
	UnusedDays int `query:"unused_days" minimum:"1" default:"90" doc:"report users, keys, roles and Identity Center users unused for more than this many days"`
	// Effective and Escalation are `warden findings --effective` and
	// `--escalation`.
	Effective  bool `query:"effective" default:"true" doc:"decide the effective administrators with the policy evaluator (false: skip them; effective_admins_read says which)"`
	Escalation bool `query:"escalation" default:"false" doc:"find the privilege escalation paths to administrator (slower; escalation_paths_read says whether they were)"`
}

type diffInput struct {
	Connection string `query:"connection" doc:"the connection id; default as for every read"`
	From       int64  `query:"from" minimum:"0" doc:"the older snapshot; default the one before to"`
	To         int64  `query:"to" minimum:"0" doc:"the newer snapshot; default the latest"`
	Only       string `query:"only" enum:"grants,resources,findings," doc:"only one kind of change"`
	Account    string `query:"account" doc:"only changes in this account"`
}

type auditInput struct {
	Connection string `query:"connection" doc:"the connection id"`
	Limit      int    `query:"limit" minimum:"1" maximum:"1000" default:"100" doc:"most records, newest first"`
}

// routes registers every route of the API.
func (s *Server) routes() {
	read := func(op huma.Operation) huma.Operation {
		op.Method = http.MethodGet
		op.Errors = append(op.Errors, http.StatusBadRequest, http.StatusNotFound)
		return op
	}
	register(s, read(huma.Operation{OperationID: "list-connections", Path: "/api/v1/connections", Summary: "The connections of warden.yaml and of the database, with their latest snapshot"}),
		[]Connection{}, func(ctx context.Context, _ *noInput) (any, error) { return s.connections(ctx) })
	register(s, read(huma.Operation{OperationID: "list-snapshots", Path: "/api/v1/connections/{id}/snapshots", Summary: "A connection's snapshots, newest first (as `warden snapshots -o json`)"}),
		[]model.Snapshot{}, func(ctx context.Context, in *connectionInput) (any, error) {
			snaps, err := s.c.Store.Snapshots(ctx, in.ID)
			if err != nil {
				return nil, storeFailure(err)
			}
			if snaps == nil {
				snaps = []model.Snapshot{}
			}
			return snaps, nil
		})
	register(s, read(huma.Operation{OperationID: "list-resources", Path: "/api/v1/resources", Summary: "A snapshot's resources, by type then name, a page at a time"}),
		ResourcePage{}, s.resources)
	register(s, read(huma.Operation{OperationID: "get-resource", Path: "/api/v1/resources/{id}", Summary: "One resource by id"}),
		model.Resource{}, func(ctx context.Context, in *resourceInput) (any, error) {
			snap, err := s.snapshot(ctx, in.at)
			if err != nil {
				return nil, err
			}
			r, err := s.c.Store.Resource(ctx, snap.ID, in.ID)
			if errors.Is(err, store.ErrNotFound) {
				return nil, fail(http.StatusNotFound, fmt.Sprintf("no resource %q in snapshot %d", in.ID, snap.ID),
					"list them: GET /api/v1/resources?q=NAME (ids are URL-encoded in the path)")
			}
			if err != nil {
				return nil, storeFailure(err)
			}
			return r, nil
		})
	accessSchema := s.oneOf("AccessAnswer", access.Access{}, access.SSOAccess{}, access.Holders{}, access.AssetAccess{})
	register(s, read(huma.Operation{OperationID: "get-access", Path: "/api/v1/access/{principal}", Errors: []int{http.StatusConflict},
		Summary: "Everything a principal holds and through what (as `warden access X -o json`): an IAM principal, an Identity Center user, an access key's owner, or who holds a managed policy or permission set"}),
		accessSchema, func(ctx context.Context, in *principalInput) (any, error) {
			ans, err := s.access(ctx, in)
			if err != nil {
				return nil, err
			}
			switch {
			case ans.SSO != nil:
				return ans.SSO, nil
			case ans.Holders != nil:
				return ans.Holders, nil
			case ans.Asset != nil:
				return ans.Asset, nil
			}
			return ans.IAM, nil
		})
	register(s, read(huma.Operation{OperationID: "get-holders", Path: "/api/v1/holders/{principal}", Errors: []int{http.StatusConflict},
		Summary: "Who holds a managed policy or permission set, and through what (as `warden access <policy> -o json`)"}),
		access.Holders{}, func(ctx context.Context, in *principalInput) (any, error) {
			ans, err := s.access(ctx, in)
			if err != nil {
				return nil, err
			}
			if ans.Holders == nil {
				return nil, fail(http.StatusNotFound, fmt.Sprintf("%q is a principal, not a managed policy or permission set", in.Principal),
					"ask what it holds instead: GET /api/v1/access/{principal}")
			}
			return ans.Holders, nil
		})
	register(s, read(huma.Operation{OperationID: "get-findings", Path: "/api/v1/findings", Summary: "The findings of a snapshot (as `warden findings -o json`)"}),
		render.Findings{}, func(ctx context.Context, in *findingsInput) (any, error) {
			snap, err := s.snapshot(ctx, in.at)
			if err != nil {
				return nil, err
			}
			g, err := s.c.Store.Graph(ctx, snap.ID)
			if err != nil {
				return nil, storeFailure(err)
			}
			f := render.NewFindings(g, s.c.Now(), in.Top, in.StaleDays).Assets(snap, g)
			if err := s.activityFindings(ctx, f, g, snap, in.UnusedDays); err != nil {
				return nil, err
			}
			if err := s.effectiveFindings(ctx, f, g, snap, render.EffectiveOptions{Admins: in.Effective, Escalation: in.Escalation}); err != nil {
				return nil, err
			}
			return f, nil
		})
	register(s, read(huma.Operation{OperationID: "get-diff", Path: "/api/v1/diff", Summary: "What changed between two snapshots (as `warden diff -o json`)"}),
		diff.Report{}, s.diff)
	register(s, read(huma.Operation{OperationID: "list-audit", Path: "/api/v1/audit", Summary: "The provisioning calls warden made, newest first (as `warden audit -o json`)"}),
		[]store.AuditRecord{}, func(ctx context.Context, in *auditInput) (any, error) {
			recs, err := s.c.Store.Audit(ctx, s.connectionOf(in.Connection), in.Limit)
			if err != nil {
				return nil, storeFailure(err)
			}
			if recs == nil {
				recs = []store.AuditRecord{}
			}
			return recs, nil
		})
	s.effectiveRoutes()
	s.policyEvalRoutes()
	s.activityRoutes()
	s.assetRoutes()
	s.syncRoutes()
	s.provisionRoutes()
	s.scimRoutes()
}

// oneOf is a sample whose schema is one of the types of samples.
func (s *Server) oneOf(name string, samples ...any) any {
	return oneOfSample{name: name, samples: samples}
}

// connections lists warden.yaml's connections, then those only the
// database has.
func (s *Server) connections(ctx context.Context) ([]Connection, error) {
	inDB, err := s.c.Store.Connections(ctx)
	if err != nil {
		return nil, storeFailure(err)
	}
	out := []Connection{}
	seen := map[string]bool{}
	add := func(c Connection) error {
		seen[c.ID] = true
		snap, err := s.c.Store.LatestSnapshot(ctx, c.ID)
		switch {
		case errors.Is(err, store.ErrNoSnapshot):
		case err != nil:
			return storeFailure(err)
		default:
			c.Latest = snap
		}
		out = append(out, c)
		return nil
	}
	for _, c := range s.c.Connections {
		name := c.Name
		if name == "" {
			name = c.ID
		}
		if err := add(Connection{ID: c.ID, Name: name, Region: c.Region, Schedule: c.Schedule.String()}); err != nil {
			return nil, err
		}
	}
	for _, id := range inDB {
		if !seen[id] {
			if err := add(Connection{ID: id, Name: id}); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// resources is a page of resources.
func (s *Server) resources(ctx context.Context, in *resourcesInput) (any, error) {
	var after store.PageKey
	a := in.at
	if in.Cursor != "" {
		c, err := decodeCursor(in.Cursor)
		if err != nil {
			return nil, err
		}
		if a.Snapshot > 0 && a.Snapshot != c.Snapshot {
			return nil, fail(http.StatusBadRequest, fmt.Sprintf("the cursor walks snapshot %d, not %d", c.Snapshot, a.Snapshot),
				"leave out snapshot when passing a cursor, or start again without the cursor")
		}
		a.Snapshot, after = c.Snapshot, c.After
	}
	if in.Account != "" && !model.IsAccountID(in.Account) {
		return nil, fail(http.StatusBadRequest, fmt.Sprintf("account %q is not an account id", in.Account), "give the 12-digit account id")
	}
	snap, err := s.snapshot(ctx, a)
	if err != nil {
		return nil, err
	}
	limit := in.Limit
	if limit <= 0 || limit > maxLimit {
		limit = defaultLimit
	}
	f := store.PageFilter{ResourceFilter: store.ResourceFilter{Type: model.ResourceType(in.Type), AccountID: in.Account}, Search: strings.TrimSpace(in.Q)}
	rs, err := s.c.Store.ResourcePage(ctx, snap.ID, f, after, limit+1)
	if err != nil {
		return nil, storeFailure(err)
	}
	page := ResourcePage{Items: rs}
	if len(rs) > limit {
		page.Items = rs[:limit]
		page.NextCursor = encodeCursor(cursor{Snapshot: snap.ID, After: store.KeyOf(rs[limit-1])})
	}
	if page.Items == nil {
		page.Items = []model.Resource{}
	}
	return page, nil
}

// access answers an access query.
func (s *Server) access(ctx context.Context, in *principalInput) (*access.Answer, error) {
	if strings.TrimSpace(in.Principal) == "" {
		return nil, fail(http.StatusBadRequest, "no principal given", "give a user, group or role name, an ARN, or an e-mail address")
	}
	snap, err := s.snapshot(ctx, in.at)
	if err != nil {
		return nil, err
	}
	ans, err := access.Query(ctx, s.c.Store, snap.ID, in.Principal)
	var notFound *access.NotFoundError
	var ambiguous *access.AmbiguousError
	switch {
	case errors.As(err, &notFound):
		return nil, fail(http.StatusNotFound, notFound.Error(), "list them: GET /api/v1/resources?q=NAME; give a name, an ARN or an e-mail tag")
	case errors.As(err, &ambiguous):
		arns := make([]string, len(ambiguous.Matches))
		for i, m := range ambiguous.Matches {
			arns[i] = m.ID
		}
		return nil, fail(http.StatusConflict, ambiguous.Error()+": "+strings.Join(arns, ", "), "ask again with the ARN of the one you mean")
	case err != nil:
		return nil, storeFailure(err)
	}
	if err := s.addActivity(ctx, snap, ans); err != nil {
		return nil, err
	}
	return ans, nil
}

// diff compares two snapshots of a connection.
func (s *Server) diff(ctx context.Context, in *diffInput) (any, error) {
	if in.Account != "" && !model.IsAccountID(in.Account) {
		return nil, fail(http.StatusBadRequest, fmt.Sprintf("account %q is not an account id", in.Account), "give the 12-digit account id")
	}
	conn := s.connectionOf(in.Connection)
	var from, to *model.Snapshot
	var err error
	if in.To > 0 {
		if to, err = s.snapshot(ctx, at{Connection: in.Connection, Snapshot: in.To}); err != nil {
			return nil, err
		}
		conn = to.ConnectionID
	}
	if in.From > 0 {
		if from, err = s.snapshot(ctx, at{Connection: in.Connection, Snapshot: in.From}); err != nil {
			return nil, err
		}
		conn = from.ConnectionID
	}
	if from != nil && to != nil && from.ConnectionID != to.ConnectionID {
		return nil, fail(http.StatusBadRequest, fmt.Sprintf("snapshots %d and %d are of different connections", from.ID, to.ID), "give two snapshots of one connection")
	}
	if from == nil || to == nil {
		snaps, err := s.c.Store.Snapshots(ctx, conn)
		if err != nil {
			return nil, storeFailure(err)
		}
		if to == nil {
			if len(snaps) == 0 {
				return nil, fail(http.StatusNotFound, fmt.Sprintf("no snapshot yet of connection %q", conn), "sync it twice, then compare")
			}
			to = &snaps[0]
		}
		if from == nil {
			for i := range snaps {
				if snaps[i].ID < to.ID {
					from = &snaps[i]
					break
				}
			}
			if from == nil {
				return nil, fail(http.StatusNotFound, fmt.Sprintf("no snapshot of connection %q before snapshot %d: nothing to compare", conn, to.ID), "sync again, then compare")
			}
		}
	}
	r, err := diff.Compute(ctx, s.c.Store, from, to, diff.Filter{Only: in.Only, AccountID: in.Account})
	if err != nil {
		return nil, storeFailure(err)
	}
	if err := s.addActors(ctx, r); err != nil {
		return nil, err
	}
	return r, nil
}

// effectiveFindings computes the findings of f that use the policy
// evaluator, those opts asks for, as `warden findings` does.
func (s *Server) effectiveFindings(ctx context.Context, f *render.Findings, g *model.Graph, snap *model.Snapshot, opts render.EffectiveOptions) error {
	var es *effective.Snapshot
	if opts.Admins || opts.Escalation {
		var err error
		if es, err = effective.Load(ctx, s.c.Store, snap.ID); err != nil {
			return effectiveFailure(err)
		}
	}
	if _, err := f.Effective(ctx, es, g, opts); err != nil {
		return effectiveFailure(err)
	}
	return nil
}
