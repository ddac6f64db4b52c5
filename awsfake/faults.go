package awsfake

import (
	"net/http"
	"time"
)

// bucket is a token bucket for one account and service.
type bucket struct {
	tokens float64
	last   time.Time
}

// chargeCall counts a call, waits out the injected latency and decides
// whether the call fails with an injected fault.
func (s *Server) chargeCall(r *http.Request, account, service, action string) *apiError {
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
	if !throttled && !failed && o.ThrottleRate > 0 {
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
	if throttled || failed {
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
