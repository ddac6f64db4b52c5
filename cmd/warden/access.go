package main

import (
	"errors"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/warden-iam/warden/internal/access"
	"github.com/warden-iam/warden/internal/effective"
	"github.com/warden-iam/warden/internal/render"
)

func newAccessCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "access PRINCIPAL",
		Short: "Everything a user, group or role holds, and through what",
		Long: `access resolves PRINCIPAL (a user, group or role name, an ARN, an Identity Center user name or
e-mail address, or an e-mail address held in a tag) in the latest snapshot and lists its groups,
the policies in effect for it with the path each comes through (direct, inline, or group G), its
access keys and MFA devices, and the roles whose trust policy names it. For a group it also lists
the members; for a role, who it trusts.

For an IAM Identity Center user it lists, per account, each permission set it holds (directly or
through which group), the role Identity Center created for it in that account, and the policies
inside; then the access of IAM users of the same person: an IAM user whose name equals the Identity
Center user name or one of its e-mail addresses, or that has a tag whose value is one of them
(case-insensitive). A name that matches several principals lists them; pass the ARN of the one you
mean.

For an access key ID (AKIA…, ASIA…) that names no principal it lists the access of the user who
owns the key.

For the ARN of an asset it lists who can act on it, through the policy evaluator (as ` + "`warden who-can`" + `:
identity policies, boundaries, SCPs, RCPs and the asset's own resource policy), for the actions that
matter on it: a bucket's s3:GetObject, s3:PutObject and s3:DeleteObject (on every object, b/*) and
s3:PutBucketPolicy; a KMS key's kms:Decrypt, kms:Encrypt, kms:PutKeyPolicy and
kms:ScheduleKeyDeletion; a function's lambda:InvokeFunction and lambda:UpdateFunctionCode; a
secret's secretsmanager:GetSecretValue and secretsmanager:PutSecretValue; an instance's
ec2:TerminateInstances, and the role an instance or function runs as.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if err := exactArgs(1, "one PRINCIPAL")(cmd, args); err != nil {
				return err
			}
			if strings.TrimSpace(args[0]) == "" {
				return usageError("access takes a PRINCIPAL, got an empty one",
					"give a user, group or role name, an ARN, or an e-mail address; `warden show users` lists them")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			st, snap, err := a.latest(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			ans, err := access.Query(ctx, st, snap.ID, args[0])
			var notFound *access.NotFoundError
			var ambiguous *access.AmbiguousError
			switch {
			case errors.As(err, &notFound):
				return usageError(notFound.Error(),
					"list them with `warden show users` (or groups, roles); give a name, an ARN or an e-mail tag")
			case errors.As(err, &ambiguous):
				return usageError(ambiguous.Error()+":"+principalList(ambiguous.Matches),
					"pass the ARN (the last column) of the one you mean")
			case err != nil:
				return storeError(err, err.Error(), "sync again to write a fresh snapshot")
			}
			if err := access.AddActivity(ctx, st, snap, ans, time.Now()); err != nil {
				return storeError(err, err.Error(), "check the database, or sync again")
			}
			if ans.Asset != nil {
				return a.print(ans.Asset, assetTables(snap.ID, ans.Asset)...)
			}
			if ans.SSO != nil {
				return a.print(ans.SSO, withActivity(render.SSOAccessTables(ans.SSO, time.Now()), ans.SSO.Activity)...)
			}
			if ans.Holders != nil {
				return a.print(ans.Holders, render.HoldersTable(ans.Holders))
			}
			if ans.Key != nil {
				return a.print(ans.IAM, withLastAccessed(withActivity(render.KeyOwnerTables(*ans.Key, ans.IAM, time.Now()), ans.IAM.Activity), ans.IAM)...)
			}
			return a.print(ans.IAM, withLastAccessed(withActivity(render.AccessTables(ans.IAM, time.Now()), ans.IAM.Activity), ans.IAM)...)
		},
	}
}

// withLastAccessed appends the services-last-accessed table of an IAM
// principal's answer, when its data was read.
func withLastAccessed(tables []*render.Table, a *access.Access) []*render.Table {
	if a == nil || a.LastAccessed == nil {
		return tables
	}
	return append(tables, render.LastAccessedTable(a.LastAccessed))
}

// withActivity appends the activity table to an answer's tables, when
// there is activity.
func withActivity(tables []*render.Table, p *access.PrincipalActivity) []*render.Table {
	if p == nil {
		return tables
	}
	return append(tables, render.PrincipalActivityTable(p))
}

// assetTables are the tables of `warden access` on an asset: the role it
// runs as, then who-can's table for each action.
func assetTables(snap int64, a *access.AssetAccess) []*render.Table {
	var out []*render.Table
	if a.RunsAs != nil {
		t := &render.Table{Title: string(a.Asset.Type) + " " + a.Asset.Name + " runs as", Header: []string{"ROLE", "ACCOUNT", "ARN"}}
		t.Add(a.RunsAs.Name, a.RunsAs.AccountID, a.RunsAs.ID)
		out = append(out, t)
	}
	for _, act := range a.Actions {
		out = append(out, render.WhoCanTables(&effective.WhoCanAnswer{Snapshot: snap, Action: act.Action, Resource: act.Resource,
			Principals: act.Principals, Evaluated: act.Evaluated})...)
	}
	return out
}
