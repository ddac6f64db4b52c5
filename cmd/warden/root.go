package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/warden-iam/warden/internal/store"
)

// newRootCmd builds the warden command tree around a.
func newRootCmd(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:   "warden",
		Short: "Sync AWS identities and access into a local store and answer who holds what",
		Long: `warden reads the IAM users, groups, roles, policies and access keys of an AWS account
(through GetAccountAuthorizationDetails and the credential report, in a handful of calls),
stores each sync as a snapshot in a SQLite file (or a PostgreSQL database), and answers who holds what and through what.

Start with:  warden demo     (runs against the built-in AWS emulator; nothing to configure)

Output is a table by default; -o json prints JSON with the keys documented in README.md.
Errors print one "warden: <problem>" line and one "fix: <what to do>" line on stderr.

` + exitCodesHelp,
		SilenceErrors: true,
		SilenceUsage:  true,
		// Typos within two edits get a "did you mean" hint.
		SuggestionsMinimumDistance: 2,
		Args:                       cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return unknownCommand(cmd, args[0])
			}
			return cmd.Help()
		},
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			a.dbSet = cmd.Flags().Changed("db")
			// From here on --db is shown masked wherever a command prints
			// it; opening the database puts the password back.
			a.dbRaw, a.dbFlag = a.dbFlag, store.MaskDSN(a.dbFlag)
			a.connectionSet = cmd.Flags().Changed("connection")
			a.soleConnection()
			return a.setup()
		},
	}
	root.SetFlagErrorFunc(flagError)
	pf := root.PersistentFlags()
	pf.StringVar(&a.dbFlag, "db", "warden.db", "database: a SQLite file, or a postgres://USER:PASSWORD@HOST:5432/DATABASE URL (env WARDEN_DB, else database: in warden.yaml)")
	pf.StringVarP(&a.output, "output", "o", "table", "output format: table or json")
	pf.StringVar(&a.logLevel, "log-level", "warn", "log level on stderr: debug, info, warn or error")
	pf.StringVar(&a.connection, "connection", "default", "connection id: snapshots of different connections never mix")
	pf.BoolVar(&a.progress, "progress", false, "report progress on stderr even when it is not a terminal")
	pf.StringVar(&a.configFlag, "config", "", "connections file (default: WARDEN_CONFIG, else ./warden.yaml when it exists)")

	root.AddCommand(
		newDemoCmd(a),
		newSyncCmd(a),
		newShowCmd(a),
		newAccessCmd(a),
		newCanCmd(a),
		newWhoCanCmd(a),
		newFindingsCmd(a),
		newExportCmd(a),
		newSnapshotsCmd(a),
		newDiffCmd(a),
		newFakeAWSCmd(a),
		newPlanCmd(a),
		newApplyCmd(a),
		newAuditCmd(a),
		newSCIMCmd(a),
		newSetupCmd(a),
		newConfigCmd(a),
		newDBCmd(a),
		newServeCmd(a),
		newTokenCmd(a),
		newVersionCmd(a),
		newPolicyCmd(a),
	)
	return root
}

// flagError is the usage error for a flag cobra could not parse: a value
// that is not of the flag's type says which flag and what it takes, not
// strconv's words.
func flagError(cmd *cobra.Command, err error) error {
	var bad *pflag.InvalidValueError
	if errors.As(err, &bad) {
		f := bad.GetFlag()
		fix := fmt.Sprintf("see `%s --help`", cmd.CommandPath())
		if f.DefValue != "" && f.DefValue != "[]" {
			fix = fmt.Sprintf("pass for example --%s %s (the default); see `%s --help`", f.Name, f.DefValue, cmd.CommandPath())
		}
		return usageError(fmt.Sprintf("--%s takes %s, not %q", f.Name, flagKind(f.Value.Type()), bad.GetValue()), fix)
	}
	return usageError(err.Error(), fmt.Sprintf("see `%s --help`", cmd.CommandPath()))
}

// flagKind names what a flag of a pflag type takes.
func flagKind(typ string) string {
	switch typ {
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "a whole number"
	case "float32", "float64":
		return "a number"
	case "duration":
		return "a duration such as 500ms, 2s or 1m"
	case "bool":
		return "true or false"
	case "intSlice", "int32Slice", "int64Slice", "uintSlice":
		return "whole numbers separated by commas"
	case "stringToString":
		return "key=value pairs separated by commas"
	}
	return "a " + typ
}

// unknownCommand is the usage error for a command name that does not exist.
func unknownCommand(cmd *cobra.Command, name string) error {
	problem := fmt.Sprintf("unknown command %q for %q", name, cmd.CommandPath())
	if s := cmd.SuggestionsFor(name); len(s) > 0 {
		problem += fmt.Sprintf(" (did you mean %s?)", strings.Join(s, ", "))
	}
	return usageError(problem, fmt.Sprintf("see `%s --help` for the commands", cmd.CommandPath()))
}

// exactArgs requires n positional arguments, named in the usage error.
func exactArgs(n int, names string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usageError(fmt.Sprintf("%s takes %s, got %d argument(s)", cmd.CommandPath(), names, len(args)),
				fmt.Sprintf("usage: %s", cmd.UseLine()))
		}
		return nil
	}
}

// noArgs refuses positional arguments.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageError(fmt.Sprintf("%s takes no arguments, got %q", cmd.CommandPath(), strings.Join(args, " ")),
			fmt.Sprintf("usage: %s", cmd.UseLine()))
	}
	return nil
}
