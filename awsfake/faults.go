package awsfake

import (
	"encoding/json"
	"net/http"
	"time"
)

// ActionFault makes one action fail, every call of it or only the calls
// that name one entity (Options.ActionFaults): a ListAccessKeys that fails
// for one user, a DescribePolicy for one SCP. The answer has the service's
// own error shape: query XML for IAM and STS, JSON for the others. SCIM
// answers its own two faults: 500 InternalServerException for a Status of
// 500 or more (the default), else 429 ThrottlingException.
type ActionFault struct {
	// Status and Code are the HTTP status and error code answered; a zero
	// Code answers the service's internal failure (500 InternalFailure for
	// IAM and STS, ServiceException for Organizations,
	// InternalServerException for the others), with Status if set; a Code
	// without a Status answers 400.
	Status  int
	Code    string
	Message string
	// Param and Value, when Param is set, limit the fault to the calls
	// whose request parameter Param equals Value: a query parameter for IAM
	// and STS ("UserName"), a top-level string field of the JSON body for
	// the JSON services ("PermissionSetArn", "PolicyId"), a URL query
	// parameter for SCIM ("startIndex").
	Param string
	Value string
	// Account, when set, limits the fault to the calls made with that
	// account's credentials (a member account whose role lacks the
	// permission, say).
	Account string
	// Skip lets the first Skip calls of the action made with the
	// account's credentials pass (whatever their parameters): Skip 1 on a
	// listing fails its second page, and every page after.
	Skip int
}

// matches reports whether the fault applies to a call whose parameters
// param gives.
func (f ActionFault) matches(param func(string) string) bool {
	return f.Param == "" || param(f.Param) == f.Value
}

// answer is the error the fault makes a service answer.
func (f ActionFault) answer(service string) *apiError {
	e := serverError(service)
	if f.Code != "" {
		e = &apiError{status: http.StatusBadRequest, code: f.Code, message: f.Code}
	}
	if f.Status != 0 {
		e.status = f.Status
	}
	if f.Message != "" {
		e.message = f.Message
	}
	return e
}

// requestParam returns a lookup of a call's parameters: the JSON body's
// top-level string fields when there is a body, else the form (query
// protocol) or the URL's query (SCIM).
func requestParam(r *http.Request, body []byte) func(string) string {
	if len(body) > 0 {
		var fields map[string]any
		json.Unmarshal(body, &fields)
		return func(k string) string {
			v, _ := fields[k].(string)
			return v
		}
	}
	if r.PostForm != nil {
		return r.PostForm.Get
	}
	return r.URL.Query().Get
}

// bucket is a token bucket for one account and service.
type bucket struct {
	tokens float64
	last   time.Time
}

// chargeCall counts a call, waits out the injected latency and decides
// whether the call fails with an injected fault. body is the request's JSON
// body, nil for the query protocol and SCIM (their parameters are in r).
func (s *Server) chargeCall(r *http.Request, account, service, action string, body []byte) *apiError {
	s.mu.Lock()
	if s.calls[account] == nil {
		s.calls[account] = map[string]int64{}
	}
	s.calls[account][service+":"+action]++
	o := s.opts
	f := o.AccountFaults[account]
	s.seq[account]++
	throttled := o.ThrottleFraction > 0 && s.rng.Float64() < o.ThrottleFraction ||
		f.ThrottleFraction > 0 && s.rng.Float64() < f.ThrottleFraction ||
		f.ThrottleEvery > 1 && s.seq[account]%int64(f.ThrottleEvery) == 0
	failed := !throttled && (o.ErrorRate > 0 && s.rng.Float64() < o.ErrorRate ||
		f.ErrorRate > 0 && s.rng.Float64() < f.ErrorRate)
	var injected *apiError
	if af, ok := o.ActionFaults[service+":"+action]; ok && !throttled && !failed && s.calls[account][service+":"+action] > int64(af.Skip) &&
		(af.Account == "" || af.Account == account) && af.matches(requestParam(r, body)) {
		injected = af.answer(service)
	}
	if !throttled && !failed && injected == nil && o.ThrottleRate > 0 {
		throttled = !s.takeToken(account+"/"+service, o)
	}
	s.mu.Unlock()
	if o.Latency > 0 {
		t := time.NewTimer(o.Latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
		}
	}
	if throttled || failed || injected != nil {
		s.mu.Lock()
		s.faults[account]++
		s.mu.Unlock()
	}
	switch {
	case throttled:
		return throttleError(service)
	case failed:
		return serverError(service)
	}
	if injected != nil {
		return injected
	}
	return nil
}

// throttleError is the error a service answers when it throttles a caller.
func throttleError(service string) *apiError {
	switch service {
	case "iam", "sts":
		return &apiError{status: http.StatusBadRequest, code: "Throttling", message: "Rate exceeded"}
	case "organizations":
		return &apiError{status: http.StatusBadRequest, code: "TooManyRequestsException", message: "AWS Organizations can't complete your request because another request is already in progress. Try again later."}
	}
	return &apiError{status: http.StatusBadRequest, code: "ThrottlingException", message: "Rate exceeded"}
}

// serverError is the error a service answers for an internal failure.
func serverError(service string) *apiError {
	switch service {
	case "iam", "sts":
		return &apiError{status: http.StatusInternalServerError, code: "InternalFailure", message: "The request processing has failed because of an unknown error, exception or failure."}
	case "organizations":
		return &apiError{status: http.StatusInternalServerError, code: "ServiceException", message: "AWS Organizations can't complete your request because of an internal service error. Try again later."}
	}
	return &apiError{status: http.StatusInternalServerError, code: "InternalServerException", message: "The request processing has failed because of an unknown error, exception or failure."}
}

// takeToken takes one token from a bucket; the caller holds s.mu.
func (s *Server) takeToken(key string, o Options) bool {
	burst := float64(o.ThrottleBurst)
	if burst <= 0 {
		burst = max(1, o.ThrottleRate)
	}
	now := time.Now()
	b := s.buckets[key]
	if b == nil {
		b = &bucket{tokens: burst, last: now}
		s.buckets[key] = b
	}
	b.tokens = min(burst, b.tokens+now.Sub(b.last).Seconds()*o.ThrottleRate)
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
