package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/user"
	"time"

	"github.com/spf13/cobra"

	"github.com/warden-iam/warden/internal/render"
	"github.com/warden-iam/warden/internal/store"
	"github.com/warden-iam/warden/internal/tokens"
)

// newTokenCmd builds `warden token`: the API tokens of `warden serve`.
func newTokenCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Create, list and revoke the API tokens of `warden serve` (kept hashed in the database)",
		Args:  cobra.ArbitraryArgs,
		RunE:  helpOrUnknown,
		// Typos within two edits get a "did you mean" hint.
		SuggestionsMinimumDistance: 2,
	}
	cmd.AddCommand(newTokenCreateCmd(a), newTokenListCmd(a), newTokenRevokeCmd(a))
	return cmd
}

// tokenCreated is what `token create -o json` prints: the token, and its
// secret, this once.
type tokenCreated struct {
	Name    string       `json:"name"`
	Scope   tokens.Scope `json:"scope"`
	Created time.Time    `json:"created"`
	Expires *time.Time   `json:"expires"`
	Token   string       `json:"token"`
}

func newTokenCreateCmd(a *app) *cobra.Command {
	var scope, expires string
	cmd := &cobra.Command{
		Use:   "create NAME --scope read|admin [--expires 90d]",
		Short: "Create an API token and print it, once: only its hash is kept",
		Long: `create makes a token named NAME (1 to 64 lowercase letters, digits, dots, underscores and
hyphens, beginning with a letter or digit; not "env", the name of WARDEN_API_TOKEN's) with scope
read (answers questions) or admin (may also sync, provision and push), and prints it on stdout,
once: the database keeps only its sha256, so it cannot be shown again. --expires makes it expire
after that long (such as 90d, 12h, 2w or 1y; default: never). A name is free again once its token
is revoked. Run it against the database warden serve uses; running replicas honour the token at once.`,
		Example: `  warden token create grafana --scope read --expires 90d
  warden token create ops --scope admin`,
		Args: exactArgs(1, "the token's NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			if err := tokens.CheckName(name); err != nil {
				return usageError(err.Error(), "pass another NAME")
			}
			if !cmd.Flags().Changed("scope") {
				return usageError("token create needs --scope: read or admin", "pass --scope read (answers questions) or --scope admin (may also sync, provision and push)")
			}
			sc, err := tokens.ParseScope(scope)
			if err != nil {
				return usageError(err.Error(), "pass --scope read or --scope admin")
			}
			var lifetime time.Duration
			if expires != "" {
				if lifetime, err = tokens.ParseLifetime(expires); err != nil {
					return usageError(fmt.Sprintf("--expires: %v", err), "pass --expires with a lifetime such as 90d, 12h or 1y, or leave it out for a token that never expires")
				}
			}
			ctx := cmd.Context()
			st, err := a.openStore(ctx, a.dbPath())
			if err != nil {
				return err
			}
			defer st.Close()
			params := map[string]string{"name": name, "scope": string(sc)}
			if expires != "" {
				params["expires_in"] = expires
			}
			var secret string
			var t tokens.Token
			err = a.auditedTokenWrite(ctx, st, "create-token", "warden:CreateToken", name, params, func() error {
				var err error
				secret, t, err = tokens.New(st, tokens.Options{}).Create(ctx, name, sc, lifetime)
				return err
			})
			switch {
			case errors.Is(err, store.ErrTokenExists):
				return usageError(err.Error(), fmt.Sprintf("revoke it first (warden token revoke %s), or choose another name", name))
			case err != nil:
				return tokenStoreError(err)
			}
			fmt.Fprintf(a.stderr, "warden: token %s (%s) created; it is shown only now, on stdout: store it where it is needed (the database keeps only its hash)\n", t.Name, t.Scope)
			if a.format == render.FormatJSON {
				return render.JSON(a.stdout, tokenCreated{Name: t.Name, Scope: t.Scope, Created: t.Created, Expires: t.Expires, Token: secret})
			}
			_, err = fmt.Fprintln(a.stdout, secret)
			return err
		},
	}
	cmd.Flags().StringVar(&scope, "scope", "", "what the token may do: read (answers questions) or admin (may also sync, provision and push)")
	cmd.Flags().StringVar(&expires, "expires", "", "lifetime, such as 90d, 12h, 2w or 1y (default: never expires)")
	return cmd
}

func newTokenListCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the API tokens: names, scopes, expiry, last use, revocation; never a token",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			st, path, err := a.openExisting(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			list, err := tokens.New(st, tokens.Options{}).List(ctx)
			if err != nil {
				return storeError(err, fmt.Sprintf("list tokens in %s: %v", path, err), "check the database is warden's and reachable")
			}
			return a.print(list, tokensTable(list, time.Now()))
		},
	}
}

// tokensTable lays out the tokens for `token list`.
func tokensTable(list []tokens.Token, now time.Time) *render.Table {
	t := &render.Table{Header: []string{"NAME", "SCOPE", "CREATED", "EXPIRES", "LAST USED", "STATE"}}
	when := func(at *time.Time, none string) string {
		if at == nil {
			return none
		}
		return at.UTC().Format(time.RFC3339)
	}
	for _, tok := range list {
		state := "live"
		switch {
		case tok.Revoked != nil:
			state = "revoked " + tok.Revoked.UTC().Format(time.RFC3339)
		case tok.Expires != nil && !now.Before(*tok.Expires):
			state = "expired"
		}
		t.Add(tok.Name, string(tok.Scope), tok.Created.UTC().Format(time.RFC3339), when(tok.Expires, "never"), when(tok.LastUsed, "never"), state)
	}
	return t
}

func newTokenRevokeCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "revoke NAME",
		Short: "Revoke an API token, at once for every replica; it stays listed as revoked",
		Args:  exactArgs(1, "the token's NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			ctx := cmd.Context()
			st, err := a.openStore(ctx, a.dbPath())
			if err != nil {
				return err
			}
			defer st.Close()
			svc := tokens.New(st, tokens.Options{})
			err = a.auditedTokenWrite(ctx, st, "revoke-token", "warden:RevokeToken", name, map[string]string{"name": name}, func() error {
				return svc.Revoke(ctx, name)
			})
			switch {
			case errors.Is(err, tokens.ErrNotFound):
				return usageError(err.Error(), "check the name with `warden token list`")
			case err != nil:
				return tokenStoreError(err)
			}
			list, err := svc.List(ctx)
			if err != nil {
				return storeError(err, fmt.Sprintf("read the revoked token back: %v", err), "run `warden token list` to check it is revoked")
			}
			var revoked *tokens.Token
			for i := range list {
				if list[i].Name == name && list[i].Revoked != nil && (revoked == nil || list[i].Revoked.After(*revoked.Revoked)) {
					revoked = &list[i]
				}
			}
			if revoked == nil {
				return storeError(nil, fmt.Sprintf("token %s is not listed as revoked after revoking it", name), "run `warden token list` to check it")
			}
			if a.format == render.FormatJSON {
				return render.JSON(a.stdout, revoked)
			}
			_, err = fmt.Fprintf(a.stdout, "Revoked token %s (%s): it no longer authenticates, here or on any replica.\n", name, revoked.Scope)
			return err
		},
	}
}

// auditedTokenWrite runs write, a change to the tokens, recorded in the
// audit log of the connection as the OS user: started before, and ok or
// failed after, so a change that cannot be recorded is not made. The
// record names the token and its scope, never its secret.
func (a *app) auditedTokenWrite(ctx context.Context, st *store.DB, action, call, name string, params map[string]string, write func() error) error {
	id, err := st.StartAudit(ctx, store.AuditRecord{At: time.Now(), ConnectionID: a.connection, Actor: osActor(),
		Action: action, Target: "token " + name, Call: call, Params: params})
	if err != nil {
		return storeError(err, fmt.Sprintf("%v; the token was not changed", err), "check the database is writable, then run the command again")
	}
	werr := write()
	result, detail := store.AuditOK, ""
	if werr != nil {
		result, detail = store.AuditFailed, werr.Error()
	}
	if err := st.FinishAudit(context.WithoutCancel(ctx), id, result, "", detail, nil); err != nil && werr == nil {
		return storeError(err, fmt.Sprintf("token %s was changed, but its audit record %d could not be completed: %v", name, id, err), "check the database is writable; `warden token list` shows the token")
	}
	return werr
}

// osActor is the audit log's actor of a change made at the command line:
// the OS user running warden.
func osActor() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return "os-user:" + u.Username
	}
	if n := os.Getenv("USER"); n != "" {
		return "os-user:" + n
	}
	return "os-user:unknown"
}

// tokenStoreError is the error of a token change the database refused,
// unless it is already explained.
func tokenStoreError(err error) error {
	var ce *cliError
	if errors.As(err, &ce) {
		return err
	}
	return storeError(err, err.Error(), "check the database is writable and reachable, then run the command again")
}
