package awsapi

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// IDs of warden's middleware in the SDK's stack.
const (
	callMiddlewareID    = "warden.Call"
	attemptMiddlewareID = "warden.Attempt"
)

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

// clientMiddleware is what every client a Session builds carries: a call
// middleware outside the SDK's retry loop and an attempt middleware inside
// it, sharing the client's account, limiter, counter and logger.
type clientMiddleware struct {
	account func() string // the account the client acts in ("" until known)
	lim     *limiter      // nil: not rate limited
	rec     *recorder
	log     *slog.Logger
	obs     Observer // nil: none
}

// apply installs both middlewares in a client's stack.
func (m *clientMiddleware) apply(s *middleware.Stack) error {
	if err := s.Initialize.Add(callMiddleware{m}, middleware.After); err != nil {
		return err
	}
	return s.Finalize.Insert(attemptMiddleware{m}, "Retry", middleware.After)
}

// callMiddleware runs once per call, around all its attempts: it gives the
// call its retry state, logs the call at debug level when it ends, and
// reports a call the retry policy gave up on as a *RetriesExhaustedError.
//
// The log record has the call's service, action, account, region, duration,
// attempts (throttled ones too), HTTP status, error code and request ID,
// and nothing else: never the input, the output or a credential.
type callMiddleware struct{ *clientMiddleware }

// ID implements middleware.InitializeMiddleware.
func (callMiddleware) ID() string { return callMiddlewareID }

// HandleInitialize implements middleware.InitializeMiddleware.
func (m callMiddleware) HandleInitialize(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (
	middleware.InitializeOutput, middleware.Metadata, error,
) {
	cs := &callState{started: time.Now()}
	out, md, err := next.HandleInitialize(withCallState(ctx, cs), in)
	elapsed := time.Since(cs.started)
	cs.mu.Lock()
	attempts, throttles, waited, exhausted := cs.attempts, cs.throttles, cs.waited, cs.exhausted
	cs.mu.Unlock()
	if err != nil && exhausted != "" {
		err = &RetriesExhaustedError{Attempts: attempts, Throttled: throttles, Waited: waited, Elapsed: elapsed, Bound: exhausted, Err: err}
	}
	if m.log.Enabled(ctx, slog.LevelDebug) {
		service, operation := awsmiddleware.GetServiceID(ctx), awsmiddleware.GetOperationName(ctx)
		account := m.account()
		if id, ok := out.Result.(*sts.GetCallerIdentityOutput); ok && id != nil {
			account = aws.ToString(id.Account) // the call that finds the account
		}
		attrs := []slog.Attr{
			slog.String("service", service),
			slog.String("action", callKey(service, operation)),
			slog.String("account", account),
			slog.String("region", awsmiddleware.GetRegion(ctx)),
			slog.Duration("duration", elapsed),
			slog.Int("attempts", attempts),
			slog.Int("throttled", throttles),
			slog.Int("status", httpStatus(md, err)),
			slog.String("error", apiCode(err)),
		}
		if id, ok := awsmiddleware.GetRequestIDMetadata(md); ok {
			attrs = append(attrs, slog.String("request_id", id))
		}
		m.log.LogAttrs(ctx, slog.LevelDebug, "aws call", attrs...)
	}
	return out, md, err
}

// httpStatus is the HTTP status of a call's last response; 0 when none
// came (a network error, a request never sent).
func httpStatus(md middleware.Metadata, err error) int {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	if r, ok := awsmiddleware.GetRawResponse(md).(*smithyhttp.Response); ok && r != nil {
		return r.StatusCode
	}
	return 0
}

// attemptMiddleware runs inside the SDK's retry loop, so once per attempt:
// it waits for the limiter (when there is one), counts the attempt, feeds
// its outcome back into the limiter, the call's state and the observer
// (when there is one), and hands the state to the retryer with the
// attempt's error.
type attemptMiddleware struct{ *clientMiddleware }

// ID implements middleware.FinalizeMiddleware.
func (attemptMiddleware) ID() string { return attemptMiddlewareID }

// HandleFinalize implements middleware.FinalizeMiddleware.
func (m attemptMiddleware) HandleFinalize(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (
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
	throttled := isThrottle(err)
	if m.lim != nil {
		m.lim.observe(throttled)
		if throttled {
			m.log.Debug("AWS throttled an attempt", "action", key, "account", m.account(), "rate", m.lim.rate())
		}
	}
	cs := callStateOf(ctx)
	if cs == nil {
		observeAttempt(m.obs, key, throttled, false)
		return out, md, err
	}
	cs.mu.Lock()
	retry := cs.attempts > 0
	cs.attempts++
	switch {
	case throttled:
		cs.throttles++
	case err != nil:
		cs.serverErrors++
	}
	cs.mu.Unlock()
	observeAttempt(m.obs, key, throttled, retry)
	if err != nil {
		err = &attemptError{err: err, state: cs}
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
var iamPrefixes = map[string]string{"ssoadmin": "sso", "configservice": "config"}

// callKey names a call as IAM policies, the emulator and snapshots do:
// "iam:ListAccessKeys", "sso:ListPermissionSets".
func callKey(serviceID, operation string) string {
	svc := strings.ToLower(strings.ReplaceAll(serviceID, " ", ""))
	if p, ok := iamPrefixes[svc]; ok {
		svc = p
	}
	return svc + ":" + operation
}
