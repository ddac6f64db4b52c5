// Command warden syncs the identities and access of AWS accounts into a local
// store and answers questions about them: who holds what, through what, and
// which findings need attention. `warden demo` runs it end to end against the
// built-in AWS emulator with nothing to configure.
//
// This package only parses flags, calls warden's packages and prints; the
// behaviour lives in those packages.
package main

import (
	"context"
	"io"
	"os"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

// run executes one warden command line and returns its exit code (see
// exit.go). Errors are printed to stderr as one "warden: problem" line and a
// "fix:" line, never as a stack trace.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	a := newApp(stdout, stderr)
	root := newRootCmd(a)
	if args == nil {
		args = []string{} // cobra reads os.Args when given nil
	}
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	return report(stderr, err)
}
