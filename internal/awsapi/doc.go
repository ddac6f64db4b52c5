// Package awsapi is the only place in warden that builds AWS SDK clients. It
// loads configuration and credentials from the SDK's standard chain (or from
// explicit options), and hands out clients that share three behaviours:
//
//   - a rate limiter per account and service (golang.org/x/time/rate), applied
//     before every attempt, retries included, that slows down when AWS
//     throttles most of its attempts (not at a throttle here and there) and
//     climbs back when it stops;
//   - one retry policy for every call of every client, the first
//     sts:GetCallerIdentity and every sts:AssumeRole included: throttling
//     retried soon after a short jittered wait, other transient failures
//     after a longer one, each call bounded in attempts, in server errors and
//     in the time it waits, then reported as a *RetriesExhaustedError; no
//     retry quota, so a throttling storm never ends a sync with "retry quota
//     exceeded";
//   - a counter of the calls made, per service and operation, attempts
//     included ("iam:GetAccountAuthorizationDetails" → n), and an optional
//     Observer told of every attempt, throttled and retried ones too.
//
// Explain turns the errors these clients return into a one-line problem and
// its fix for the command line.
package awsapi
