package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/warden-iam/warden/internal/effective"
)

type canInput struct {
	at
	Principal string   `query:"principal" required:"true" maxLength:"2048" doc:"an IAM user or role (name or ARN), or an Identity Center user (user name or e-mail)"`
	Action    string   `query:"action" required:"true" maxLength:"256" doc:"the IAM action, service:Action, e.g. s3:GetObject"`
	Resource  string   `query:"resource" maxLength:"2048" doc:"the resource's ARN; default * (every resource)"`
	Context   []string `query:"context,explode" doc:"a condition key and its value, key=value; repeat the parameter for more"`
	// SessionPolicy is a JSON policy document (AWS takes at most 2,048
	// characters).
	SessionPolicy string `query:"session_policy" maxLength:"2048" doc:"a session policy, a JSON policy document: the request must be allowed by it too, and its explicit deny wins"`
}

type whoCanInput struct {
	at
	Action   string   `query:"action" required:"true" maxLength:"256" doc:"the IAM action, service:Action, e.g. s3:GetObject"`
	Resource string   `query:"resource" required:"true" maxLength:"2048" doc:"the resource's ARN, or * for every resource"`
	Account  string   `query:"account" doc:"list only the principals of this 12-digit account"`
	Context  []string `query:"context,explode" doc:"a condition key and its value, key=value; repeat the parameter for more"`
}

// effectiveRoutes registers GET /api/v1/can and GET /api/v1/who-can: the
// answers of `warden can` and `warden who-can`, the same JSON documents.
func (s *Server) effectiveRoutes() {
	op := func(id, path, summary string) huma.Operation {
		return huma.Operation{OperationID: id, Method: http.MethodGet, Path: path, Summary: summary,
			Errors: []int{http.StatusBadRequest, http.StatusNotFound, http.StatusConflict}}
	}
	register(s, op("get-can", "/api/v1/can", "Whether a principal can do an action on a resource, and the statements that decide it (as `warden can -o json`)"),
		effective.CanAnswer{}, func(ctx context.Context, in *canInput) (any, error) {
			keys, err := contextKeys(in.Context)
			if err != nil {
				return nil, err
			}
			q := effective.Question{Principal: strings.TrimSpace(in.Principal), Action: in.Action, Resource: in.Resource, Context: keys, SessionPolicy: in.SessionPolicy}
			if q.Principal == "" {
				return nil, fail(http.StatusBadRequest, "no principal given", "give principal: a user or role name, an ARN, or an Identity Center user's e-mail")
			}
			if err := effective.CheckAction(q.Action); err != nil {
				return nil, effectiveFailure(err)
			}
			if _, err := effective.ParseSessionPolicy(q.SessionPolicy); err != nil {
				return nil, effectiveFailure(err)
			}
			snap, err := s.snapshot(ctx, in.at)
			if err != nil {
				return nil, err
			}
			ans, err := effective.Can(ctx, s.c.Store, snap.ID, q)
			if err != nil {
				return nil, effectiveFailure(err)
			}
			return ans, nil
		})
	register(s, op("get-who-can", "/api/v1/who-can", "Every principal that can do an action on a resource, and how: directly, through Identity Center, through a chain of roles, or from outside (as `warden who-can -o json`)"),
		effective.WhoCanAnswer{}, func(ctx context.Context, in *whoCanInput) (any, error) {
			keys, err := contextKeys(in.Context)
			if err != nil {
				return nil, err
			}
			q := effective.WhoCanQuestion{Action: in.Action, Resource: in.Resource, Account: in.Account, Context: keys}
			if err := q.Check(); err != nil {
				return nil, effectiveFailure(err)
			}
			snap, err := s.snapshot(ctx, in.at)
			if err != nil {
				return nil, err
			}
			ans, err := effective.WhoCan(ctx, s.c.Store, snap.ID, q)
			if err != nil {
				return nil, effectiveFailure(err)
			}
			return ans, nil
		})
}

// contextKeys reads context=key=value parameters.
func contextKeys(params []string) (map[string][]string, error) {
	out := map[string][]string{}
	for _, p := range params {
		k, v, ok := strings.Cut(p, "=")
		if k = strings.TrimSpace(k); !ok || !strings.Contains(k, ":") {
			return nil, fail(http.StatusBadRequest, fmt.Sprintf("context %q is not key=value with a condition key such as aws:SourceIp", p),
				"give context=aws:MultiFactorAuthPresent=true (repeat the parameter for more keys)")
		}
		out[k] = append(out[k], v)
	}
	return out, nil
}

// effectiveFailure is the API error of an internal/effective error.
func effectiveFailure(err error) error {
	var notFound *effective.NotFoundError
	var ambiguous *effective.AmbiguousError
	var input *effective.InputError
	switch {
	case errors.As(err, &notFound):
		return fail(http.StatusNotFound, notFound.Error(), "list them: GET /api/v1/resources?q=NAME; give a name, an ARN or an Identity Center e-mail")
	case errors.As(err, &ambiguous):
		arns := make([]string, len(ambiguous.Matches))
		for i, m := range ambiguous.Matches {
			arns[i] = m.ID
		}
		return fail(http.StatusConflict, ambiguous.Error()+": "+strings.Join(arns, ", "), "ask again with the ARN of the one you mean")
	case errors.As(err, &input):
		return fail(http.StatusBadRequest, input.Problem, input.Fix)
	}
	return storeFailure(err)
}
