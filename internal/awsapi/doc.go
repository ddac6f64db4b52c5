// Package awsapi is the only place in warden that builds AWS SDK clients. It
// loads configuration and credentials from the SDK's standard chain (or from
// explicit options), and hands out clients that share three behaviours:
//
//   - a rate limiter per account and service (golang.org/x/time/rate), applied
//     before every attempt, retries included, that halves its rate when AWS
//     throttles and climbs back as calls succeed;
//   - the SDK's standard retryer with more attempts than its default, full
//     jitter backoff, and no retry quota, so a throttling storm slows a sync
//     down but never ends it with "retry quota exceeded";
//   - a counter of the calls made, per service and operation, attempts
//     included ("iam:GetAccountAuthorizationDetails" → n).
//
// Explain turns the errors these clients return into a one-line problem and
// its fix for the command line.
package awsapi
