package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/warden-iam/warden/internal/effective"
	"github.com/warden-iam/warden/internal/render"
)

func newCanCmd(a *app) *cobra.Command {
	var contextFlags []string
	var sessionFile string
	cmd := &cobra.Command{
		Use:   "can PRINCIPAL ACTION [RESOURCE]",
		Short: "Decide whether a principal can do an action on a resource, and why (effective access)",
		Long: `can decides, over the latest snapshot and as AWS's policy evaluation logic does, whether PRINCIPAL
may do ACTION on RESOURCE (an ARN; * or left out: every resource), and names the statements that
decide it: identity policies (direct, inline, or through group G), the permissions boundary, the
SCPs of every level from the root through each OU to the account (the management account and
service-linked roles are not subject to them), the resource's own policy (for sts:AssumeRole on a
role its trust policy; on an S3 bucket or object, a KMS key, a Lambda function or a secret the
snapshot holds, its bucket, key, function or secret policy, with AWS's rules: same-account, a policy
naming the user or role grants on its own; cross-account, both sides must allow; a KMS key is used
only as its key policy allows; Block Public Access RestrictPublicBuckets confines a public bucket
policy to the owner's account), and the RCPs of every level when the resource is in a member account.

--session-policy FILE (- for stdin) gives a session policy, a JSON policy document as AssumeRole's
Policy parameter takes it: the request must be allowed by it too, and its explicit deny wins.

PRINCIPAL is anything ` + "`warden access`" + ` accepts that makes requests: an IAM user or role (name or
ARN), or an Identity Center user (user name or e-mail), answered once per account and permission
set through the role Identity Center created for it there.

--context key=value gives a condition key (repeat it; a key given twice is multivalued). A key the
question does not give and the snapshot does not know (aws:MultiFactorAuthPresent,
aws:SourceIp, a resource's tags …) is unknown: a decision that depends on it is "allowed if …",
with the keys and values it needs. The snapshot gives aws:username, aws:userid, aws:PrincipalArn,
aws:PrincipalAccount, aws:PrincipalOrgID, aws:PrincipalTag/*, aws:PrincipalType.

The answer is printed whatever it is (exit 0); an unknown or ambiguous principal, a malformed action
or context exits 2.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 2 || len(args) > 3 {
				return usageError(fmt.Sprintf("can takes PRINCIPAL ACTION [RESOURCE], got %d arguments", len(args)),
					"e.g. `warden can alice s3:GetObject arn:aws:s3:::bucket/key`")
			}
			if strings.TrimSpace(args[0]) == "" {
				return usageError("can takes a PRINCIPAL, got an empty one", "give a user or role name, an ARN, or an Identity Center user's e-mail")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			ctxKeys, err := parseContext(contextFlags)
			if err != nil {
				return err
			}
			q := effective.Question{Principal: args[0], Action: args[1], Context: ctxKeys}
			if len(args) == 3 {
				q.Resource = args[2]
			}
			if err := effective.CheckAction(q.Action); err != nil {
				return effectiveError(err)
			}
			if sessionFile != "" {
				if q.SessionPolicy, err = readSessionPolicy(cmd, sessionFile); err != nil {
					return err
				}
				if _, err := effective.ParseSessionPolicy(q.SessionPolicy); err != nil {
					return effectiveError(err)
				}
			}
			ctx := cmd.Context()
			st, snap, err := a.latest(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			ans, err := effective.Can(ctx, st, snap.ID, q)
			if err != nil {
				return effectiveError(err)
			}
			return a.print(ans, render.CanTables(ans)...)
		},
	}
	cmd.Flags().StringArrayVar(&contextFlags, "context", nil, "a condition key and its value, key=value (repeat for more keys or values)")
	cmd.Flags().StringVar(&sessionFile, "session-policy", "", "a session policy: a file holding a JSON policy document, - for stdin")
	return cmd
}

// readSessionPolicy reads the --session-policy file (- is stdin).
func readSessionPolicy(cmd *cobra.Command, file string) (string, error) {
	var data []byte
	var err error
	if file == "-" {
		data, err = io.ReadAll(cmd.InOrStdin())
	} else {
		data, err = os.ReadFile(file)
	}
	if err != nil {
		return "", usageError(fmt.Sprintf("read the session policy %s: %v", file, err), "give --session-policy a readable file holding a JSON policy document, or - and the document on stdin")
	}
	if strings.TrimSpace(string(data)) == "" {
		return "", usageError("the session policy "+file+" is empty", `give a JSON policy document, {"Version":"2012-10-17","Statement":[...]}`)
	}
	return string(data), nil
}

// parseContext reads --context key=value flags into condition keys.
func parseContext(flags []string) (map[string][]string, error) {
	out := map[string][]string{}
	for _, f := range flags {
		k, v, ok := strings.Cut(f, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" || !strings.Contains(k, ":") {
			return nil, usageError(fmt.Sprintf("--context %q is not key=value with a condition key such as aws:SourceIp", f),
				"give --context aws:MultiFactorAuthPresent=true (repeat --context for more keys)")
		}
		out[k] = append(out[k], v)
	}
	return out, nil
}

// effectiveError turns an error of internal/effective into the CLI's.
func effectiveError(err error) error {
	var notFound *effective.NotFoundError
	var ambiguous *effective.AmbiguousError
	var input *effective.InputError
	switch {
	case errors.As(err, &notFound):
		return usageError(notFound.Error(), "list them with `warden show users` (or roles); give a name, an ARN or an Identity Center e-mail")
	case errors.As(err, &ambiguous):
		return usageError(ambiguous.Error()+":"+principalList(ambiguous.Matches), "pass the ARN (the last column) of the one you mean")
	case errors.As(err, &input):
		return usageError(input.Problem, input.Fix)
	}
	return storeError(err, err.Error(), "sync again to write a fresh snapshot")
}
