package awsapi

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
)

// attemptMiddlewareID names warden's middleware in the SDK's stack.
const attemptMiddlewareID = "warden.Attempt"

// recorder counts the calls a session makes, per "service:Operation".
type recorder struct {
	mu    sync.Mutex
	calls map[string]int64
}

func (r *recorder) add(key string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.calls == nil {
		r.calls = make(map[string]int64)
	}
	r.calls[key]++
}

// snapshot returns a copy of the counts.
func (r *recorder) snapshot() map[string]int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]int64, len(r.calls))
	for k, v := range r.calls {
		out[k] = v
	}
	return out
}

// throttleCodes recognises AWS's throttling error codes, as the SDK's
// retryer does.
var throttleCodes = retry.ThrottleErrorCode{Codes: retry.DefaultThrottleErrorCodes}

// attemptMiddleware runs inside the SDK's retry loop, so once per attempt:
// it waits for the limiter (when there is one), counts the attempt, and
// feeds throttling back into the limiter.
type attemptMiddleware struct {
	account string
	lim     *limiter // nil: not rate limited
	rec     *recorder
	log     *slog.Logger
}

// ID implements middleware.FinalizeMiddleware.
func (m *attemptMiddleware) ID() string { return attemptMiddlewareID }

// HandleFinalize implements middleware.FinalizeMiddleware.
func (m *attemptMiddleware) HandleFinalize(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (
	middleware.FinalizeOutput, middleware.Metadata, error,
) {
	if m.lim != nil {
		if err := m.lim.wait(ctx); err != nil {
			return middleware.FinalizeOutput{}, middleware.Metadata{}, err
		}
	}
	key := callKey(awsmiddleware.GetServiceID(ctx), awsmiddleware.GetOperationName(ctx))
	m.rec.add(key)
	out, md, err := next.HandleFinalize(ctx, in)
	if m.lim != nil {
		if isThrottle(err) {
			m.lim.throttled()
			m.log.Debug("AWS throttled a call; slowing down", "call", key, "account", m.account, "rate", m.lim.rate())
		} else if err == nil {
			m.lim.succeeded()
		}
	}
	return out, md, err
}

// isThrottle reports whether err is AWS throttling the caller.
func isThrottle(err error) bool {
	if err == nil {
		return false
	}
	var api smithy.APIError
	if !errors.As(err, &api) {
		return false
	}
	return throttleCodes.IsErrorThrottle(err).Bool()
}

// iamPrefixes maps SDK service ids, lowercased without spaces, to the
// service prefix of IAM actions where the two differ.
var iamPrefixes = map[string]string{"ssoadmin": "sso"}

// callKey names a call as IAM policies, the emulator and snapshots do:
// "iam:ListAccessKeys", "sso:ListPermissionSets".
func callKey(serviceID, operation string) string {
	svc := strings.ToLower(strings.ReplaceAll(serviceID, " ", ""))
	if p, ok := iamPrefixes[svc]; ok {
		svc = p
	}
	return svc + ":" + operation
}

// addAttemptMiddleware returns the stack option installing m right after
// the SDK's retry middleware, that is, inside its loop.
func addAttemptMiddleware(m *attemptMiddleware) func(*middleware.Stack) error {
	return func(s *middleware.Stack) error {
		return s.Finalize.Insert(m, "Retry", middleware.After)
	}
}
