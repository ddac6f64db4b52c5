package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/aws/smithy-go"

	"github.com/warden-iam/warden/internal/awsapi"
	"github.com/warden-iam/warden/internal/store"
)

// Exit codes, documented in README.md and `warden --help`.
const (
	exitOK      = 0 // success
	exitError   = 1 // any other failure
	exitUsage   = 2 // bad flags or arguments, unknown or ambiguous principal
	exitPartial = 3 // sync finished, but some part failed: the snapshot is marked partial
	exitAuth    = 4 // no credentials, credentials refused, or a permission missing
	exitStore   = 5 // database missing, unreadable, not warden's, or without a snapshot yet
)

// exitCodesHelp is the exit-code table shown by `warden --help`.
const exitCodesHelp = `Exit codes:
  0  success
  1  error not covered below
  2  usage: bad flags or arguments, unknown or ambiguous principal
  3  sync finished partial: some part failed (listed with its fix), the rest is stored
  4  AWS credentials missing or refused, or an IAM permission missing
  5  database missing, unreadable, not a warden database, or no snapshot yet`

// cliError is an error the CLI already understands: what went wrong, what
// to do about it, and the exit code.
type cliError struct {
	code    int
	problem string
	fix     string
	err     error // the cause, for errors.Is; never printed beyond problem
}

func (e *cliError) Error() string { return e.problem }
func (e *cliError) Unwrap() error { return e.err }

// usageError reports a bad command line.
func usageError(problem, fix string) error {
	return &cliError{code: exitUsage, problem: problem, fix: fix}
}

// storeError reports a database problem.
func storeError(err error, problem, fix string) error {
	return &cliError{code: exitStore, problem: problem, fix: fix, err: err}
}

// report prints err as "warden: problem" and "fix: …" lines and returns the
// exit code for it.
func report(w io.Writer, err error) int {
	code, problem, fix := explain(err)
	fmt.Fprintf(w, "warden: %s\n", problem)
	if fix != "" {
		fmt.Fprintf(w, "fix: %s\n", fix)
	}
	return code
}

// explain turns any error a command returns into an exit code, a problem
// and a fix.
func explain(err error) (code int, problem, fix string) {
	var ce *cliError
	if errors.As(err, &ce) {
		return ce.code, ce.problem, ce.fix
	}
	switch {
	case errors.Is(err, context.Canceled):
		return exitError, "interrupted", "run the command again; an interrupted sync leaves the previous snapshot current"
	case errors.Is(err, store.ErrNoSnapshot):
		return exitStore, err.Error(), "run `warden sync` (or `warden demo`) first"
	case errors.Is(err, store.ErrForeignDatabase):
		return exitStore, err.Error(), "point --db (or WARDEN_DB) at a database warden created, or at a new file"
	}
	if isAWSError(err) {
		problem, fix = awsapi.Explain(err)
		if isAuthError(err) {
			return exitAuth, problem, fix
		}
		return exitError, problem, fix
	}
	return exitError, err.Error(), ""
}

// authCodes are the AWS error codes that mean the caller's credentials were
// refused; a missing permission is awsapi.Denied's.
var authCodes = map[string]bool{
	"InvalidClientTokenId": true, "SignatureDoesNotMatch": true, "IncompleteSignature": true,
	"ExpiredToken": true, "ExpiredTokenException": true, "InvalidAccessKeyId": true,
	"UnrecognizedClientException": true, "MissingAuthenticationToken": true, "AuthFailure": true,
	"InvalidToken": true, "RequestExpired": true,
}

// isAWSError reports whether err came from an AWS call (an API error, or
// the SDK failing to get credentials or to reach the endpoint).
func isAWSError(err error) bool {
	var op *smithy.OperationError
	var api smithy.APIError
	return errors.As(err, &op) || errors.As(err, &api)
}

// isAuthError reports whether err means missing or refused credentials or a
// missing permission.
func isAuthError(err error) bool {
	if _, _, denied := awsapi.Denied(err); denied {
		return true
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		return authCodes[api.ErrorCode()]
	}
	// The SDK reports a credential chain that found nothing as an operation
	// error wrapping "get identity: … get credentials: …".
	msg := err.Error()
	return strings.Contains(msg, "get identity") || strings.Contains(msg, "retrieve credentials")
}
