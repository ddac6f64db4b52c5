package server

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/warden-iam/warden/internal/policy"
)

// PolicyEvalPath is the route of the policy simulator: a POST that reads
// nothing of the store and changes nothing, so a read token may call it.
const PolicyEvalPath = "/api/v1/policy/eval"

type policyEvalInput struct {
	RawBody []byte `contentType:"application/json"`
}

// policyEvalRoutes registers POST /api/v1/policy/eval: `warden policy
// eval` over HTTP, the same request format (one request, or an array of
// them) and the same answers.
func (s *Server) policyEvalRoutes() {
	register(s, huma.Operation{OperationID: "policy-eval", Method: http.MethodPost, Path: PolicyEvalPath,
		Errors: []int{http.StatusBadRequest},
		// The request format is policy.ParseRequests's, which names the
		// field at fault as the CLI does; huma's own check of a raw body
		// would only say "expected string".
		SkipValidateBody: true,
		Summary: "Decide self-contained requests as AWS's policy evaluation logic does, with no snapshot (as `warden policy eval -o json`): " +
			"the body is one request or a JSON array of them, in the request format of README's `warden policy eval`"},
		oneOfSample{name: "PolicyEvalAnswer", samples: []any{policy.EvalResult{}, []policy.EvalResult{}}},
		func(_ context.Context, in *policyEvalInput) (any, error) {
			reqs, batch, err := policy.ParseRequests(in.RawBody)
			if err != nil {
				problem, fix := policy.RequestProblem(err)
				return nil, fail(http.StatusBadRequest, problem, fix)
			}
			results := policy.EvaluateAll(reqs)
			if batch {
				return results, nil
			}
			return results[0], nil
		})
	// The document says what the body is: a request, or an array of them.
	if item := s.api.OpenAPI().Paths[PolicyEvalPath]; item != nil && item.Post != nil && item.Post.RequestBody != nil {
		item.Post.RequestBody.Required = true
		item.Post.RequestBody.Description = "one request in the `warden policy eval` request format, or a JSON array of them"
		item.Post.RequestBody.Content["application/json"] = &huma.MediaType{Schema: &huma.Schema{
			AnyOf: []*huma.Schema{{Type: huma.TypeObject}, {Type: huma.TypeArray, Items: &huma.Schema{Type: huma.TypeObject}}}}}
	}
}
