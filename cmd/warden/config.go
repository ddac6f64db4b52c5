package main

import (
	"errors"
	"fmt"
	"io/fs"

	"github.com/spf13/cobra"

	"github.com/warden-iam/warden/internal/config"
	"github.com/warden-iam/warden/internal/render"
)

// newConfigCmd builds `warden config`: check and start connections files.
func newConfigCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Check a connections file (warden.yaml), or print an example",
		Args:  cobra.ArbitraryArgs,
		RunE:  helpOrUnknown,
		// Typos within two edits get a "did you mean" hint.
		SuggestionsMinimumDistance: 2,
	}
	cmd.AddCommand(newConfigValidateCmd(a), newConfigExampleCmd(a))
	return cmd
}

// connectionView is one connection as `config validate` reports it.
type connectionView struct {
	ID             string  `json:"id"`
	Name           string  `json:"name"`
	Credentials    string  `json:"credentials"`
	Organization   bool    `json:"organization"`
	MemberRole     *string `json:"member_role"` // null without organization mode
	IdentityCenter bool    `json:"identity_center"`
}

func newConfigValidateCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "validate",
		Short: "Check the connections file and name every mistake with its line",
		Long: `validate reads the connections file (--config, WARDEN_CONFIG, or ./warden.yaml) and prints every
problem as file:line:col: key problem (and what to do), exiting with code 2; a valid file prints
its connections. The schema is in docs/config.md.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path, _ := a.configPath()
			if path == "" {
				path = defaultConfigFile
			}
			f, err := config.Load(path)
			if err != nil {
				var verr *config.ValidationError
				switch {
				case errors.As(err, &verr):
					for _, p := range verr.Problems {
						fmt.Fprintln(a.stderr, p.String())
					}
					return usageError(fmt.Sprintf("%s has %d problem(s), listed above", path, len(verr.Problems)),
						"correct each line named, then run `warden config validate` again")
				case errors.Is(err, fs.ErrNotExist):
					return usageError(fmt.Sprintf("no connections file at %s", path),
						"pass --config PATH, or start one with `warden config example > warden.yaml`")
				}
				return usageError(err.Error(), "check the file is readable")
			}
			views := make([]connectionView, 0, len(f.Connections))
			t := &render.Table{Title: fmt.Sprintf("%s is valid: %d connection(s)", path, len(f.Connections)),
				Header: []string{"ID", "NAME", "CREDENTIALS", "ORGANIZATION", "IDENTITY CENTER"}}
			for _, c := range f.Connections {
				v := connectionView{ID: c.ID, Name: c.Name, Credentials: credentialsLabel(c.Credentials),
					Organization: c.Organization.Enabled, IdentityCenter: c.IdentityCenter.Enabled}
				org := "no"
				if v.Organization {
					role := c.Organization.MemberRoleName
					v.MemberRole = &role
					org = "yes, via " + role
				}
				views = append(views, v)
				t.Add(v.ID, v.Name, v.Credentials, org, yesNoWord(v.IdentityCenter))
			}
			return a.print(views, t)
		},
	}
}

func newConfigExampleCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "example",
		Short: "Print a complete, valid example connections file",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprint(a.stdout, config.Example())
			return err
		},
	}
}

// credentialsLabel says where a connection's credentials come from, without
// any secret (the ExternalId is not shown either).
func credentialsLabel(c config.Credentials) string {
	switch c.Source {
	case config.SourceProfile:
		return "profile " + c.Profile
	case config.SourceRole:
		s := "role " + c.RoleARN
		if c.SourceProfile != "" {
			s += " from profile " + c.SourceProfile
		}
		return s
	}
	return "environment"
}

func yesNoWord(v bool) string {
	if v {
		return "yes"
	}
	return "no"
}
