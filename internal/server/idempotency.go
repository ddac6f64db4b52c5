package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/warden-iam/warden/internal/provision"
	"github.com/warden-iam/warden/internal/store"
)

// IdempotentResponse is the answer kept for an Idempotency-Key.
type IdempotentResponse struct {
	RequestHash string
	Status      int // 0 while the first request is still running
	Body        []byte
}

// Idempotency keeps the answers of apply by token and Idempotency-Key, so
// a replayed request gets the first answer and makes no AWS call. Keys are
// shared by every replica of the database.
type Idempotency interface {
	// Claim takes key for a request of hash; when another request has it,
	// claimed is false and existing is what it stored.
	Claim(ctx context.Context, token, key, requestHash string, at time.Time) (claimed bool, existing *IdempotentResponse, err error)
	// Complete stores the answer of a claimed key.
	Complete(ctx context.Context, token, key string, status int, body []byte) error
	// Release gives a claimed key up, so that the request can be tried again.
	Release(ctx context.Context, token, key string) error
}

// storeIdempotency is the store's idempotency keys (one table shared by
// every replica).
func storeIdempotency(st *store.DB) Idempotency { return dbIdempotency{st} }

// dbIdempotency adapts *store.DB to Idempotency.
type dbIdempotency struct{ db *store.DB }

func (d dbIdempotency) Claim(ctx context.Context, token, key, hash string, at time.Time) (bool, *IdempotentResponse, error) {
	claimed, existing, err := d.db.ClaimIdempotencyKey(ctx, token, key, hash, at)
	if err != nil || existing == nil {
		return claimed, nil, err
	}
	return claimed, &IdempotentResponse{RequestHash: existing.RequestHash, Status: existing.Status, Body: existing.Body}, nil
}

func (d dbIdempotency) Complete(ctx context.Context, token, key string, status int, body []byte) error {
	return d.db.CompleteIdempotencyKey(ctx, token, key, status, body)
}

func (d dbIdempotency) Release(ctx context.Context, token, key string) error {
	return d.db.ReleaseIdempotencyKey(ctx, token, key)
}

// ActionsRequest is a plan or apply request.
type ActionsRequest struct {
	Connection string             `json:"connection,omitempty" doc:"the connection of warden.yaml; default its only one"`
	Actions    []provision.Action `json:"actions" minItems:"1" maxItems:"1000" doc:"the actions, in order, as in a changes file (keys: action, user, group, policy_arn …)"`
}

type planInput struct {
	Body ActionsRequest
}

type applyInput struct {
	Key  string `header:"Idempotency-Key" maxLength:"200" doc:"required: a unique key per apply; a replay with the same key and body returns the first answer and changes nothing"`
	Body ActionsRequest
}

// requestHash identifies a request's content.
func requestHash(connection string, body []byte) string {
	h := sha256.New()
	h.Write([]byte(connection))
	h.Write([]byte{0})
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

func (s *Server) provisionRoutes() {
	register(s, huma.Operation{OperationID: "plan", Method: http.MethodPost, Path: "/api/v1/plan",
		Errors:  []int{http.StatusNotFound, http.StatusUnprocessableEntity, http.StatusBadGateway},
		Summary: "Plan provisioning actions from AWS's live state (as `warden plan -o json`); nothing is changed"},
		[]*provision.Plan{}, func(ctx context.Context, in *planInput) (any, error) {
			plans, err := s.prov.Plan(ctx, s.connectionOf(in.Body.Connection), in.Body.Actions)
			if err != nil {
				return nil, provisionFailure(err)
			}
			return plans, nil
		})
	register(s, huma.Operation{OperationID: "apply", Method: http.MethodPost, Path: "/api/v1/apply",
		Errors: []int{http.StatusBadRequest, http.StatusNotFound, http.StatusConflict, http.StatusUnprocessableEntity, http.StatusBadGateway, http.StatusServiceUnavailable},
		Summary: "Plan, apply and audit provisioning actions (as `warden apply --yes -o json`), with the token's name as actor; " +
			"needs an Idempotency-Key header"},
		[]*provision.Result{}, s.apply)
}

// apply runs an apply once per Idempotency-Key.
func (s *Server) apply(ctx context.Context, in *applyInput) (any, error) {
	if in.Key == "" {
		return nil, fail(http.StatusBadRequest, "apply needs an Idempotency-Key header",
			"send `Idempotency-Key: <a new random value>` (a UUID); send the same key again to retry safely")
	}
	if s.c.Idempotency == nil {
		return nil, fail(http.StatusServiceUnavailable, "this database keeps no idempotency keys, so apply cannot be made safe to retry",
			"upgrade the database schema (run `warden sync` once with this version), then apply again")
	}
	body, err := encode(in.Body)
	if err != nil {
		return nil, err
	}
	conn := s.connectionOf(in.Body.Connection)
	hash := requestHash(conn, body.Body)
	tok := tokenOf(ctx).Name
	claimed, existing, err := s.c.Idempotency.Claim(ctx, tok, in.Key, hash, s.c.Now())
	if err != nil {
		return nil, storeFailure(err)
	}
	if !claimed {
		switch {
		case existing == nil || existing.RequestHash != hash:
			return nil, fail(http.StatusUnprocessableEntity, "Idempotency-Key "+in.Key+" was used for another request",
				"use a new key for a new request; the same key only replays the same request")
		case existing.Status == 0:
			return nil, fail(http.StatusConflict, "the apply of Idempotency-Key "+in.Key+" is still running",
				"wait, then send it again: it then returns the first answer")
		case existing.Status >= 300:
			return nil, replayError(existing)
		}
		return &document{ContentType: "application/json", Body: existing.Body}, nil
	}
	// The run goes on when the client goes: its answer is kept for the replay.
	run, err := s.prov.Apply(context.WithoutCancel(ctx), conn, in.Body.Actions, tok)
	if err != nil {
		var re *provision.RunError
		if !asRunError(err, &re) || re.Stage != provision.StageApply {
			// Nothing was changed: the same key may try again.
			if rerr := s.c.Idempotency.Release(context.WithoutCancel(ctx), tok, in.Key); rerr != nil {
				s.c.Logger.Error("release idempotency key", "err", rerr)
			}
			return nil, provisionFailure(err)
		}
		e := provisionFailure(err)
		kept := *e
		if run != nil {
			e.Results, kept.Results = run.Results, withoutSecrets(run.Results)
		}
		b, _ := encode(&kept)
		if cerr := s.c.Idempotency.Complete(context.WithoutCancel(ctx), tok, in.Key, e.Status, b.Body); cerr != nil {
			s.c.Logger.Error("keep the answer of an idempotency key", "err", cerr)
		}
		return nil, e
	}
	doc, err := encode(run.Results)
	if err != nil {
		return nil, err
	}
	kept, err := encode(withoutSecrets(run.Results))
	if err != nil {
		return nil, err
	}
	if err := s.c.Idempotency.Complete(context.WithoutCancel(ctx), tok, in.Key, http.StatusOK, kept.Body); err != nil {
		return nil, fail(http.StatusInternalServerError, "the actions were applied, but their answer could not be kept: "+err.Error(),
			"do not replay this key; GET /api/v1/audit shows what was done")
	}
	return doc, nil
}

// SecretShownOnce replaces a generated secret's value in a replayed
// answer: the store keeps no secret, so only the first answer has it.
const SecretShownOnce = "(shown once, in the first answer to this Idempotency-Key)"

// withoutSecrets is results with every secret's value replaced by
// SecretShownOnce: what the idempotency store keeps.
func withoutSecrets(results []*provision.Result) []*provision.Result {
	out := make([]*provision.Result, len(results))
	for i, r := range results {
		if r == nil {
			continue
		}
		c := *r
		c.Secrets = make([]provision.Secret, len(r.Secrets))
		for j, sec := range r.Secrets {
			c.Secrets[j] = provision.Secret{What: sec.What, Value: SecretShownOnce}
		}
		out[i] = &c
	}
	return out
}

// replayError is the kept error answer of a key.
func replayError(r *IdempotentResponse) *Error {
	e := &Error{Status: r.Status}
	if err := jsonUnmarshal(r.Body, e); err != nil || e.Problem == "" {
		e.Problem, e.Fix = "the first request of this Idempotency-Key failed", "GET /api/v1/audit shows what was done"
	}
	return e
}
