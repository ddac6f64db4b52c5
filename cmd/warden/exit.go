package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"strings"
	"syscall"

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
	exitStore   = 5 // database missing, unreadable, not warden's, without a snapshot yet, or a PostgreSQL server not reached
)

// exitCodesHelp is the exit-code table shown by `warden --help`.
const exitCodesHelp = `Exit codes:
  0  success
  1  error not covered below; also diff --exit-code when the snapshots differ
  2  usage: bad flags or arguments, unknown or ambiguous principal
  3  sync finished partial: some part failed (listed with its fix), the rest is stored
  4  AWS credentials missing or refused, or an IAM permission missing
  5  database missing, empty, unreadable, damaged, not a warden database, made by a newer warden, or no snapshot yet;
     a PostgreSQL server that cannot be reached, refuses the login or has no such database; a db copy that failed`

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
	ce = fallbackError(err, "check the network, and the endpoint (--endpoint or AWS_ENDPOINT_URL) when one is set", "")
	return ce.code, ce.problem, ce.fix
}

// fallbackError classifies an error no more specific rule explained: the
// network failing gets networkFix; a file that cannot be opened or written
// says so; anything else is not the network's fault and is not blamed on
// it: it gets otherFix, or when that is "" advice to look closer.
func fallbackError(err error, networkFix, otherFix string) *cliError {
	var pathErr *fs.PathError
	switch {
	case isNetworkError(err):
		return &cliError{code: exitError, problem: err.Error(), fix: networkFix, err: err}
	case errors.As(err, &pathErr):
		return &cliError{code: exitError, problem: err.Error(), fix: pathFix(pathErr), err: err}
	}
	if otherFix == "" {
		otherFix = "run the command again with --log-level debug to see what led to it; if it happens again, report it with that output"
	}
	return &cliError{code: exitError, problem: err.Error(), fix: otherFix, err: err}
}

// pathFix says what to do about a file that could not be used.
func pathFix(e *fs.PathError) string {
	switch {
	case errors.Is(e, fs.ErrNotExist):
		return fmt.Sprintf("check the path %s: its directory must exist (create it first, or name a file in an existing directory)", e.Path)
	case errors.Is(e, fs.ErrPermission):
		return fmt.Sprintf("check the permissions of %s and its directory, or name a file you may write", e.Path)
	}
	return fmt.Sprintf("check the path %s and the space left on its file system", e.Path)
}

// isNetworkError reports whether err is the network failing: a connection
// refused or reset, a name that does not resolve, a timeout, or a request
// the HTTP client could not complete.
func isNetworkError(err error) bool {
	var netErr net.Error
	var dnsErr *net.DNSError
	var opErr *net.OpError
	return errors.As(err, &netErr) || errors.As(err, &dnsErr) || errors.As(err, &opErr) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.ErrUnexpectedEOF)
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
