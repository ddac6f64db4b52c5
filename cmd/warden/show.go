package main

import (
	"fmt"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/warden-iam/warden/internal/access"
	"github.com/warden-iam/warden/internal/config"
	"github.com/warden-iam/warden/internal/inventory"
	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/render"
)

func newShowCmd(a *app) *cobra.Command {
	var account string
	cmd := &cobra.Command{
		Use:   "show users|groups|roles|policies|keys|accounts|ous|scps|sso-users|sso-groups|permission-sets|assignments|activity|instances|security-groups|buckets|keys-kms|functions|secrets",
		Short: "List the users, groups, roles, policies, keys, accounts, OUs, SCPs, Identity Center users, groups, permission sets and assignments, the activity, or the assets of the latest snapshot",
		Args:  cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return unknownCommand(cmd, args[0])
			}
			return usageError("show needs what to list: users, groups, roles, policies, keys, accounts, ous, scps, sso-users, sso-groups, permission-sets, assignments, activity, instances, security-groups, buckets, keys-kms, functions or secrets", "for example: warden show users")
		},
	}
	var region string
	cmd.PersistentFlags().StringVar(&account, "account", "", "only this AWS account id")
	cmd.PersistentFlags().StringVar(&region, "region", "", "only the assets in this region (instances, security-groups, buckets, keys-kms, functions, secrets)")

	// view is one listing: rows for JSON, a table for people.
	type view func(g *model.Graph, account string) (rows any, table *render.Table)
	// add adds the listing name; a listing that reads only resources of
	// some types and the grants they hold names them in part (it then
	// reads that part of the snapshot, not the whole graph).
	add := func(name, short string, v view, part ...model.ResourceType) {
		cmd.AddCommand(&cobra.Command{
			Use:   name,
			Short: short,
			Args:  noArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				// IAM listings read only the account's part; the others
				// (Identity Center, the organization) live in another
				// account than the ones they name, and filter themselves.
				partAccount := ""
				if name == "users" || name == "keys" {
					partAccount = account
				}
				g, err := a.latestPart(cmd.Context(), part, partAccount)
				if err != nil {
					return err
				}
				if region != "" {
					if !slices.Contains(part, model.TypeEC2Instance) {
						return usageError("--region applies to the asset listings only", "leave out --region for show "+name)
					}
					g = inventory.InRegion(g, region)
				}
				rows, table := v(g, account)
				return a.print(rows, table)
			},
		})
	}
	add("users", "Users: groups, console access, MFA, keys, password last used, created", func(g *model.Graph, acct string) (any, *render.Table) {
		rows := inventory.Users(g, acct)
		return rows, render.UsersTable(rows)
	}, inventory.UsersPart...)
	add("groups", "Groups: members and attached policies", func(g *model.Graph, acct string) (any, *render.Table) {
		rows := inventory.Groups(g, acct)
		return rows, render.GroupsTable(rows)
	})
	add("roles", "Roles: trusted principals and last use", func(g *model.Graph, acct string) (any, *render.Table) {
		rows := inventory.Roles(g, acct)
		return rows, render.RolesTable(rows)
	})
	add("policies", "Managed policies: AWS or customer, attachments, admin", func(g *model.Graph, acct string) (any, *render.Table) {
		rows := inventory.Policies(g, acct)
		return rows, render.PoliciesTable(rows)
	})
	add("keys", "Access keys: user, status, age, last use", func(g *model.Graph, acct string) (any, *render.Table) {
		rows := inventory.Keys(g, acct, time.Now())
		return rows, render.KeysTable(rows)
	}, inventory.KeysPart...)
	add("accounts", "Accounts of the organization: OU, status, e-mail, root MFA and keys", func(g *model.Graph, acct string) (any, *render.Table) {
		rows := inventory.Accounts(g, acct)
		return rows, render.AccountsTable(rows)
	}, inventory.Parts["accounts"]...)
	add("ous", "The organization's root and OUs: accounts, child OUs and SCPs of each", func(g *model.Graph, _ string) (any, *render.Table) {
		rows := inventory.OUs(g)
		return rows, render.OUsTable(rows)
	}, inventory.Parts["ous"]...)
	add("scps", "Service control policies and what they are attached to", func(g *model.Graph, _ string) (any, *render.Table) {
		rows := inventory.SCPs(g)
		return rows, render.SCPsTable(rows)
	}, inventory.Parts["scps"]...)
	add("sso-users", "Identity Center users: e-mail, status, groups, assignments", func(g *model.Graph, _ string) (any, *render.Table) {
		rows := inventory.SSOUsers(g)
		return rows, render.SSOUsersTable(rows)
	}, inventory.Parts["sso-users"]...)
	add("sso-groups", "Identity Center groups: members and assignments", func(g *model.Graph, _ string) (any, *render.Table) {
		rows := inventory.SSOGroups(g)
		return rows, render.SSOGroupsTable(rows)
	}, inventory.Parts["sso-groups"]...)
	add("permission-sets", "Identity Center permission sets: policies, boundary, session, accounts", func(g *model.Graph, _ string) (any, *render.Table) {
		rows := inventory.PermissionSets(g)
		return rows, render.PermissionSetsTable(rows)
	}, inventory.Parts["permission-sets"]...)
	add("assignments", "Identity Center account assignments: account, permission set, principal, through what", func(g *model.Graph, acct string) (any, *render.Table) {
		rows := inventory.Assignments(g, acct)
		return rows, render.AssignmentsTable(rows)
	}, inventory.Parts["assignments"]...)
	add("instances", "EC2 instances: state, public IP, the role they run as, admin ports open to the internet", func(g *model.Graph, acct string) (any, *render.Table) {
		rows := inventory.Instances(g, acct)
		return rows, render.InstancesTable(rows)
	}, inventory.AssetsPart...)
	add("security-groups", "EC2 security groups: inbound rules, those open to the internet, admin ports open", func(g *model.Graph, acct string) (any, *render.Table) {
		rows := inventory.SecurityGroups(g, acct)
		return rows, render.SecurityGroupsTable(rows)
	}, inventory.AssetsPart...)
	add("buckets", "S3 buckets: policy, Block Public Access, exposure", func(g *model.Graph, acct string) (any, *render.Table) {
		rows := inventory.Buckets(g, acct)
		return rows, render.BucketsTable(rows)
	}, inventory.AssetsPart...)
	add("keys-kms", "Customer managed KMS keys: state, grants, exposure", func(g *model.Graph, acct string) (any, *render.Table) {
		rows := inventory.KMSKeys(g, acct)
		return rows, render.KMSKeysTable(rows)
	}, inventory.AssetsPart...)
	add("functions", "Lambda functions: runtime, execution role, exposure", func(g *model.Graph, acct string) (any, *render.Table) {
		rows := inventory.Functions(g, acct)
		return rows, render.FunctionsTable(rows)
	}, inventory.AssetsPart...)
	add("secrets", "Secrets Manager secrets (never their values): policy, exposure", func(g *model.Graph, acct string) (any, *render.Table) {
		rows := inventory.Secrets(g, acct)
		return rows, render.SecretsTable(rows)
	}, inventory.AssetsPart...)
	cmd.AddCommand(newShowActivityCmd(a, &account))
	return cmd
}

// newShowActivityCmd builds `warden show activity`.
func newShowActivityCmd(a *app, account *string) *cobra.Command {
	var since string
	c := &cobra.Command{
		Use:   "activity",
		Short: "Last activity of every user, role and Identity Center user (credential report, RoleLastUsed, CloudTrail), and who assumed which role",
		Long: `activity lists, for every IAM user, role and Identity Center user of the latest snapshot, its last
activity since --since and from which source: the credential report (password, access key), the
role's RoleLastUsed, and the CloudTrail events the sync stored for a connection with activity:
(docs/activity.md); then the role-use edges: who assumed which role, how often, first and last.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			age, err := config.ParseAge(since)
			if err != nil || age <= 0 {
				return usageError(fmt.Sprintf("--since %q is not an age", since), "pass an age such as 30d, 12h or 2w")
			}
			ctx := cmd.Context()
			st, snap, err := a.latest(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			g, err := st.Subgraph(ctx, snap.ID, access.ActivityPart, "")
			if err != nil {
				return storeError(err, fmt.Sprintf("read snapshot %d: %v", snap.ID, err), "sync again to write a fresh snapshot")
			}
			from := time.Now().Add(-age)
			events, _, err := access.StoredActivity(ctx, st, snap.ConnectionID, from)
			if err != nil {
				return storeError(err, err.Error(), "check the database, or sync again")
			}
			rep := access.Activity(g, events, *account, from)
			return a.print(rep, render.ActivityTables(rep)...)
		},
	}
	c.Flags().StringVar(&since, "since", "90d", "only activity at or after this age ago (CloudTrail keeps 90 days)")
	return c
}
