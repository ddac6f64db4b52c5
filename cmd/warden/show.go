package main

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/render"
)

func newShowCmd(a *app) *cobra.Command {
	var account string
	cmd := &cobra.Command{
		Use:   "show users|groups|roles|policies|keys",
		Short: "List the users, groups, roles, managed policies or access keys of the latest snapshot",
		Args:  cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return unknownCommand(cmd, args[0])
			}
			return usageError("show needs what to list: users, groups, roles, policies or keys", "for example: warden show users")
		},
	}
	cmd.PersistentFlags().StringVar(&account, "account", "", "only this AWS account id")

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
				g, err := a.latestPart(cmd.Context(), part, account)
				if err != nil {
					return err
				}
				rows, table := v(g, account)
				return a.print(rows, table)
			},
		})
	}
	add("users", "Users: groups, console access, MFA, keys, password last used, created", func(g *model.Graph, acct string) (any, *render.Table) {
		rows := render.Users(g, acct)
		return rows, render.UsersTable(rows)
	}, render.UsersPart...)
	add("groups", "Groups: members and attached policies", func(g *model.Graph, acct string) (any, *render.Table) {
		rows := render.Groups(g, acct)
		return rows, render.GroupsTable(rows)
	})
	add("roles", "Roles: trusted principals and last use", func(g *model.Graph, acct string) (any, *render.Table) {
		rows := render.Roles(g, acct)
		return rows, render.RolesTable(rows)
	})
	add("policies", "Managed policies: AWS or customer, attachments, admin", func(g *model.Graph, acct string) (any, *render.Table) {
		rows := render.Policies(g, acct)
		return rows, render.PoliciesTable(rows)
	})
	add("keys", "Access keys: user, status, age, last use", func(g *model.Graph, acct string) (any, *render.Table) {
		rows := render.Keys(g, acct, time.Now())
		return rows, render.KeysTable(rows)
	}, render.KeysPart...)
	return cmd
}
