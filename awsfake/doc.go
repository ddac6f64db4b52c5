// Package awsfake is an in-process AWS emulator that an unmodified
// aws-sdk-go-v2 client talks to over HTTP, in the manner of Google's pstest.
//
// It speaks IAM and STS over the query protocol with XML responses and AWS's
// error XML, and AWS Organizations, the Identity Store and SSO Admin over
// JSON 1.1 (X-Amz-Target, {"__type", "message"} errors). It authenticates
// every call as AWS does: the access key must be one it issued, temporary
// credentials must send their session token, and the SigV4 signature is
// recomputed with the SDK's own signer, so a wrong secret answers
// SignatureDoesNotMatch (InvalidSignatureException over JSON) and an unknown
// key InvalidClientTokenId (UnrecognizedClientException). It holds several
// accounts at once (each set of credentials maps to one account); an
// organization over them whose listings page 20 at a time and may come
// back empty with a NextToken (Options.OrgEmptyPages); sts:AssumeRole that
// evaluates the role's trust policy (principals, Deny, sts:ExternalId) and
// returns temporary credentials acting in the role's account until they
// expire. It injects latency, throttling and server errors, globally or for
// one account (Options.AccountFaults), counts calls per account and action,
// and generates deterministic estates whose results are the ground truth of
// what it serves:
//
//	srv := awsfake.NewServer(awsfake.Options{Latency: 20 * time.Millisecond})
//	defer srv.Close()
//	truth := awsfake.Estate{Users: 500, Groups: 50, Roles: 100, Policies: 80, Seed: 1}.Build()
//	creds := srv.AddAccount(truth)
//	// point the SDK at srv.URL() with creds
//
// An account can also start empty (NewAccount) and be built through the
// API with the calls the AWS CLI, boto3 or Terraform make: IAM's users,
// groups, roles, managed policies and their versions, attachments, inline
// policies, login profiles, access keys, virtual MFA devices, tags and
// instance profiles, each action with IAM's validation and errors, served
// by its own handler in an action table (iamHandlers). Policy documents are
// checked against IAM's grammar (MalformedPolicyDocument).
//
// OrgEstate does the same for a whole organization: OUs, SCPs, member
// accounts with their IAM and the role to assume into them
// (OrgTruth.Install returns the management account's credentials).
package awsfake
