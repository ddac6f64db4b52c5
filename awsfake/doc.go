// Package awsfake is an in-process AWS emulator that an unmodified
// aws-sdk-go-v2 client talks to over HTTP, in the manner of Google's pstest.
//
// It speaks IAM and STS over the query protocol with XML responses and AWS's
// error XML, holds several accounts at once (each set of credentials maps to
// one account), injects latency, throttling and server errors, counts calls
// per action, and generates deterministic estates whose returned *Account is
// the ground truth of what it serves:
//
//	srv := awsfake.NewServer(awsfake.Options{Latency: 20 * time.Millisecond})
//	defer srv.Close()
//	truth := awsfake.Estate{Users: 500, Groups: 50, Roles: 100, Policies: 80, Seed: 1}.Build()
//	creds := srv.AddAccount(truth)
//	// point the SDK at srv.URL() with creds
package awsfake
