package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/warden-iam/warden/internal/effective"
	"github.com/warden-iam/warden/internal/render"
)

func newWhoCanCmd(a *app) *cobra.Command {
	var account string
	var contextFlags []string
	cmd := &cobra.Command{
		Use:   "who-can ACTION RESOURCE",
		Short: "Every principal that can do an action on a resource, and how (effective access)",
		Long: `who-can decides ACTION on RESOURCE (an ARN, or * for every resource) for every principal of the
latest snapshot, as ` + "`warden can`" + ` does for one, and lists those allowed (or allowed if a condition
key the question leaves open holds), each with how:

  direct           the principal's own policies allow it
  identity center  an Identity Center user, through the role of a permission set assigned to it
  assume role      a chain: the principal may assume a role (its trust policy and the principal's
                   policies allow sts:AssumeRole) that can, or that may assume one that can … (at
                   most 3 roles, no cycles; the shortest chain is shown)
  outside          a principal outside the snapshot (another account, a service, a federated
                   provider, anyone) that a role's trust policy lets assume a role that can, or
                   that the resource's own policy names; its own account's policies are not in the
                   snapshot and are taken to allow

When RESOURCE is, or is inside, an asset the snapshot holds (an S3 bucket or object, a KMS key, a
Lambda function, a secret), its resource policy decides with the principals' own policies, as AWS
decides: every principal of the asset's account is asked (a policy naming it grants on its own),
those of other accounts need their own allow too; a KMS key is used only as its key policy allows;
Block Public Access RestrictPublicBuckets (the bucket's or its account's) confines a public bucket
policy to the owner's account. The RCPs of every level apply when the resource is in a member
account of the organization.

--account ID lists only the principals of that account (Identity Center users through a role
there). A resource whose ARN has no account (*, an S3 object of a bucket the snapshot does not
hold) is taken to be in each principal's own account.
The answer is printed whatever it is (exit 0); a malformed action, account or context exits 2.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 2 {
				return usageError(fmt.Sprintf("who-can takes ACTION RESOURCE, got %d arguments", len(args)),
					"e.g. `warden who-can s3:GetObject '*'` or `warden who-can iam:CreateUser '*' --account 111111111111`")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			ctxKeys, err := parseContext(contextFlags)
			if err != nil {
				return err
			}
			q := effective.WhoCanQuestion{Action: args[0], Resource: args[1], Account: account, Context: ctxKeys}
			if err := q.Check(); err != nil {
				return effectiveError(err)
			}
			ctx := cmd.Context()
			st, snap, err := a.latest(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			ans, err := effective.WhoCan(ctx, st, snap.ID, q)
			if err != nil {
				return effectiveError(err)
			}
			return a.print(ans, render.WhoCanTables(ans)...)
		},
	}
	cmd.Flags().StringVar(&account, "account", "", "list only the principals of this 12-digit account")
	cmd.Flags().StringArrayVar(&contextFlags, "context", nil, "a condition key and its value, key=value (repeat for more keys or values)")
	return cmd
}
