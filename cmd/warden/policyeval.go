package main

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/warden-iam/warden/internal/policy"
	"github.com/warden-iam/warden/internal/render"
)

// newPolicyCmd is `warden policy`: questions about policy documents
// themselves, without a snapshot.
func newPolicyCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Decide self-contained IAM requests (test policies before deploying them)",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newPolicyEvalCmd(a))
	return cmd
}

func newPolicyEvalCmd(a *app) *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "eval [-f request.json]",
		Short: "Decide a request (or a JSON array of requests) as AWS's policy evaluation logic does",
		Long: `eval reads a request from -f (or stdin when no -f is given) and decides it as AWS would:
an explicit deny anywhere wins; then every SCP level, every RCP level, the permissions boundary and
the session policy must allow; then an identity-based or resource-based policy must allow
(cross-account: both). The request is concrete: a context key it does not give is absent.

  {"principal": "arn:aws:iam::111111111111:user/alice", "action": "s3:GetObject",
   "resource": "arn:aws:s3:::bucket/key", "resource_account": "111111111111",
   "context": {"aws:SourceIp": "10.1.2.3", "aws:TagKeys": ["team", "env"]},
   "identity_policies": [{"name": "p1", "document": {"Version": "2012-10-17", "Statement": []}}],
   "permissions_boundary": [{"name": "b", "document": {...}}],
   "scps": [{"target": "r-root", "policies": [{"name": "FullAWSAccess", "document": {...}}]}],
   "rcps": [], "resource_policy": null, "session_policy": null}

Omitted fields mean none; an omitted scps means no Organizations, an omitted rcps AWS's default
allow-all RCP. A JSON array of requests gives an array of results. The output (-o json) is
{"decision": "allowed"|"explicit_deny"|"implicit_deny", "explanation": [...]}.
A malformed request or policy exits 2 naming the field.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var data []byte
			var err error
			if file == "" {
				data, err = io.ReadAll(cmd.InOrStdin())
			} else {
				data, err = os.ReadFile(file)
			}
			if err != nil {
				return usageError(fmt.Sprintf("read the request: %v", err), "give -f with a readable JSON file, or the request on stdin")
			}
			reqs, batch, err := policy.ParseRequests(data)
			if err != nil {
				return usageError(policy.RequestProblem(err))
			}
			results := policy.EvaluateAll(reqs)
			t := &render.Table{Header: []string{"#", "DECISION", "KIND", "POLICY", "VIA", "STATEMENT", "EFFECT", "NOTE"}}
			for i, r := range results {
				for _, s := range r.Explanation {
					t.Add(fmt.Sprint(i+1), r.Decision, s.Kind, s.Policy, s.Via, s.Statement, s.Effect, s.Note)
				}
			}
			if batch {
				return a.print(results, t)
			}
			return a.print(results[0], t)
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "request file (JSON); stdin when not given")
	return cmd
}
