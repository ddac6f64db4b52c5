package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/warden-iam/warden/internal/render"
	"github.com/warden-iam/warden/internal/setup"
)

// newSetupCmd builds `warden setup`: the artifacts a customer deploys so
// warden can read (or provision) their AWS estate.
func newSetupCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "setup",
		Short: "Print the IAM policy, CloudFormation template or StackSet warden needs, or a new ExternalId",
		Long: `setup prints what to deploy so warden can read (or provision) an AWS estate. Everything is generated
from one table of the AWS actions each warden feature calls, so the policy is exactly what warden uses.

  warden setup external-id                       a new random ExternalId
  warden setup policy --for read                 the least-privilege IAM policy (JSON)
  warden setup cloudformation --trust-principal ARN --external-id ID
                                                 the role for one account (the management account of an organization)
  warden setup stackset --trust-principal ARN --external-id ID
                                                 the member-account role for every account (service-managed StackSet)

See docs/setup.md for the deployment steps.`,
		Args: cobra.ArbitraryArgs,
		RunE: helpOrUnknown,
		// Typos within two edits get a "did you mean" hint.
		SuggestionsMinimumDistance: 2,
	}
	cmd.AddCommand(newSetupPolicyCmd(a), newSetupTemplateCmd(a, "cloudformation"), newSetupTemplateCmd(a, "stackset"), newSetupExternalIDCmd(a))
	return cmd
}

// parseMode reads --for.
func parseMode(v string) (setup.Mode, error) {
	m, err := setup.ParseMode(v)
	if err != nil {
		return "", usageError(fmt.Sprintf("--for %q is not a mode", v), "use --for read (sync only) or --for provision (sync and make changes)")
	}
	return m, nil
}

func newSetupPolicyCmd(a *app) *cobra.Command {
	var mode string
	var features []string
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Print the least-privilege IAM policy for reading (or provisioning)",
		Long: `policy prints the IAM policy (JSON) that allows exactly the AWS actions warden calls: for --for read,
those of every read feature; for --for provision, those and the provisioning actions. --features
narrows it to some of the features warden calls: ` + featureList() + `.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			m, err := parseMode(mode)
			if err != nil {
				return err
			}
			fs, err := parseFeatures(features)
			if err != nil {
				return err
			}
			doc, err := setup.Policy(m, fs...)
			if err != nil {
				return usageError(err.Error(), "use features the mode allows, or --for provision")
			}
			_, err = a.stdout.Write(doc)
			return err
		},
	}
	cmd.Flags().StringVar(&mode, "for", "read", "read or provision")
	cmd.Flags().StringSliceVar(&features, "features", nil, "only these features (comma-separated)")
	return cmd
}

func newSetupTemplateCmd(a *app, kind string) *cobra.Command {
	var mode string
	var o setup.RoleOptions
	short := "Print a CloudFormation template creating warden's role in one account"
	generate := setup.CloudFormation
	if kind == "stackset" {
		short = "Print a service-managed StackSet template creating warden's member role in every account"
		generate = setup.StackSet
	}
	cmd := &cobra.Command{
		Use:   kind,
		Short: short,
		Long: short + `.

The role trusts --trust-principal (the ARN of the role or user warden runs as, or an account id) only
when it presents --external-id (make one with ` + "`warden setup external-id`" + `). Values left out become
parameters asked for at deployment. The output is JSON, which CloudFormation reads as YAML too.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			m, err := parseMode(mode)
			if err != nil {
				return err
			}
			o.Mode = m
			doc, err := generate(o)
			if err != nil {
				return usageError(err.Error(), "correct the flag it names (see `warden setup "+kind+" --help`)")
			}
			_, err = a.stdout.Write(doc)
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&mode, "for", "read", "read or provision")
	f.StringVar(&o.TrustedPrincipalARN, "trust-principal", "", "ARN of the role or user warden runs as, or a 12-digit account id")
	f.StringVar(&o.ExternalID, "external-id", "", "ExternalId the role requires (at least 32 characters)")
	f.StringVar(&o.RoleName, "role-name", "", "role name (default WardenReadRole or WardenProvisionRole)")
	return cmd
}

func newSetupExternalIDCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "external-id",
		Short: "Print a new random ExternalId (40 characters from crypto/rand)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			id, err := setup.NewExternalID()
			if err != nil {
				return err
			}
			if a.format == render.FormatJSON {
				return render.JSON(a.stdout, map[string]string{"external_id": id})
			}
			_, err = fmt.Fprintln(a.stdout, id)
			return err
		},
	}
}

// parseFeatures reads --features: each name must be a feature warden has
// built, since a policy never grants what warden does not call.
func parseFeatures(names []string) ([]setup.Feature, error) {
	var fs []setup.Feature
	for _, name := range names {
		f, err := setup.ParseFeature(strings.TrimSpace(name))
		if err != nil {
			return nil, usageError(fmt.Sprintf("--features: unknown feature %q", strings.TrimSpace(name)),
				"use a comma-separated list of: "+featureList())
		}
		if !setup.Built(f) {
			return nil, usageError(fmt.Sprintf("--features: warden does not call the actions of feature %q yet, so no policy grants them", f),
				"leave it out; the features warden calls are: "+featureList())
		}
		fs = append(fs, f)
	}
	return fs, nil
}

// helpOrUnknown runs a command group: help without arguments, a usage
// error naming the closest subcommand otherwise.
func helpOrUnknown(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return unknownCommand(cmd, args[0])
	}
	return cmd.Help()
}

// featureList names every built feature, for help texts and errors.
func featureList() string {
	var names []string
	for _, f := range setup.Features() {
		if setup.Built(f) {
			names = append(names, string(f))
		}
	}
	return strings.Join(names, ", ")
}
