package awsapi

import "strings"

// Observer is told of every attempt of every AWS call a Session's clients
// make, as the attempt middleware sees it: warden's metrics count
// throttles and retries with it (Options.Observer). Its methods are called
// from many goroutines at once and must not block.
type Observer interface {
	// Attempt reports one attempt of a call once AWS answered it (or the
	// request failed): service and action name the call as IAM policies do
	// ("iam", "ListUsers"; "sso", "ListPermissionSets"); throttled says
	// AWS throttled this attempt; retry says it was not the call's first.
	Attempt(service, action string, throttled, retry bool)
}

// observeAttempt tells o, when not nil, of an attempt of the call key
// ("service:Action", as callKey names it).
func observeAttempt(o Observer, key string, throttled, retry bool) {
	if o == nil {
		return
	}
	service, action, _ := strings.Cut(key, ":")
	o.Attempt(service, action, throttled, retry)
}
