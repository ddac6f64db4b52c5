package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/render"
	"github.com/warden-iam/warden/internal/store"
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
mean.`,
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
			found, err := st.FindPrincipal(ctx, snap.ID, args[0])
			if err != nil {
				return storeError(err, fmt.Sprintf("look up %q in snapshot %d: %v", args[0], snap.ID, err), "sync again to write a fresh snapshot")
			}
			// An e-mail address naming one Identity Center user and IAM
			// users tagged with it means that person: the Identity Center
			// view lists the linked IAM users too.
			if sso := onlySSOUser(found); sso != nil {
				found = []model.Resource{*sso}
			}
			switch len(found) {
			case 0:
				return usageError(fmt.Sprintf("no user, group or role matches %q in snapshot %d", args[0], snap.ID),
					"list them with `warden show users` (or groups, roles); give a name, an ARN or an e-mail tag")
			case 1:
			default:
				return usageError(fmt.Sprintf("%q matches %d principals:%s", args[0], len(found), principalList(found)),
					"pass the ARN (the last column) of the one you mean")
			}
			p := &found[0]
			if p.Type == model.TypeSSOUser {
				acc, err := ssoAccess(ctx, st, snap.ID, p)
				if err != nil {
					return err
				}
				return a.print(acc, acc.Tables(time.Now())...)
			}
			held, err := st.GrantsOf(ctx, snap.ID, p.ID)
			if err != nil {
				return storeError(err, fmt.Sprintf("read what %s holds: %v", p.ID, err), "sync again to write a fresh snapshot")
			}
			var members []store.Holder
			if p.Type == model.TypeIAMGroup {
				if members, err = st.HoldersOf(ctx, snap.ID, model.EntitlementID(p.ID, model.EntMember)); err != nil {
					return storeError(err, fmt.Sprintf("read the members of %s: %v", p.ID, err), "sync again to write a fresh snapshot")
				}
			}
			acc := render.NewAccess(p, held, members)
			return a.print(acc, acc.Tables(time.Now())...)
		},
	}
}

// ssoAccess builds the access view of an Identity Center user, with the
// IAM users linked to the same person.
func ssoAccess(ctx context.Context, st store.Store, snapID int64, p *model.Resource) (*render.SSOAccess, error) {
	fail := func(err error) error {
		return storeError(err, fmt.Sprintf("read what %s holds: %v", p.Name, err), "sync again to write a fresh snapshot")
	}
	held, err := st.GrantsOf(ctx, snapID, p.ID)
	if err != nil {
		return nil, fail(err)
	}
	accts, err := st.Resources(ctx, snapID, store.ResourceFilter{Type: model.TypeAccount})
	if err != nil {
		return nil, fail(err)
	}
	accounts := map[string]model.Resource{}
	for _, r := range accts {
		accounts[r.ID] = r
	}
	acc, err := render.NewSSOAccess(p, held, accounts, func(roleID string) ([]store.HeldGrant, error) {
		return st.GrantsOf(ctx, snapID, roleID)
	})
	if err != nil {
		return nil, fail(err)
	}
	linked, err := st.IAMUsersMatching(ctx, snapID, append([]string{p.Name}, acc.Emails...))
	if err != nil {
		return nil, fail(err)
	}
	for i := range linked {
		uh, err := st.GrantsOf(ctx, snapID, linked[i].ID)
		if err != nil {
			return nil, fail(err)
		}
		acc.LinkedIAMUsers = append(acc.LinkedIAMUsers, render.NewAccess(&linked[i], uh, nil))
	}
	return acc, nil
}

// onlySSOUser returns the one Identity Center user among several matches
// when the others are all IAM users, else nil.
func onlySSOUser(found []model.Resource) *model.Resource {
	var sso *model.Resource
	for i := range found {
		switch found[i].Type {
		case model.TypeSSOUser:
			if sso != nil {
				return nil
			}
			sso = &found[i]
		case model.TypeIAMUser:
		default:
			return nil
		}
	}
	if len(found) < 2 {
		return nil
	}
	return sso
}
