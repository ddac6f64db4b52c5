package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/warden-iam/warden/internal/render"
	"github.com/warden-iam/warden/internal/store"
)

// newDBCmd builds `warden db`: work on whole databases.
func newDBCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "db",
		Short: "Work on whole databases: copy one into another (a file into PostgreSQL)",
		Args:  cobra.ArbitraryArgs,
		RunE:  helpOrUnknown,
		// Typos within two edits get a "did you mean" hint.
		SuggestionsMinimumDistance: 2,
	}
	cmd.AddCommand(newDBCopyCmd(a))
	return cmd
}

// dbCopyView is what `db copy` reports.
type dbCopyView struct {
	From   string           `json:"from"` // passwords masked
	To     string           `json:"to"`
	Source store.CopyCounts `json:"source"`
	Target store.CopyCounts `json:"target"`
}

func newDBCopyCmd(a *app) *cobra.Command {
	var from, to string
	cmd := &cobra.Command{
		Use:   "copy --to DATABASE [--from DATABASE]",
		Short: "Copy every snapshot and the audit log into a new database, verified by counts",
		Long: `copy moves a team from a file to a server (or back): every connection's snapshots, oldest
first, each with its ID, times, status, errors and counts, the audit log with its IDs, the
deactivation and SCIM push records. --from is the database to read (default: the one --db,
WARDEN_DB or database: in warden.yaml names) and --to the one to write; either may be a SQLite
file or a postgres:// URL. The target must hold no snapshot and no audit record: a new file, or a
new database (createdb). Afterwards every snapshot is read back from the target and the counts of
both are printed; any difference fails the command.`,
		Example: `  warden db copy --from warden.db --to postgres://warden@db.example.com:5432/warden`,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if to == "" {
				return usageError("db copy needs --to, the database to copy into",
					"pass --to with a new file or a postgres:// URL of an empty database")
			}
			if from == "" {
				from = a.dbPath()
			}
			if sameDatabase(a.dbSecret(from), to) {
				return usageError(fmt.Sprintf("--from and --to are the same database (%s)", store.MaskDSN(to)),
					"pass --to with another database")
			}
			src, fromShown, err := a.openExistingAt(ctx, from)
			if err != nil {
				return err
			}
			defer src.Close()
			dst, err := a.openStore(ctx, to)
			if err != nil {
				return err
			}
			defer dst.Close()
			toShown := store.MaskDSN(to)
			var progress func(done, total int)
			if p := a.progressReporter(); p != nil {
				defer p.Done()
				progress = func(done, total int) { p.Update("copy", "snapshots", done, total) }
			}
			res, err := store.Copy(ctx, src, dst, progress)
			switch {
			case errors.Is(err, store.ErrTargetNotEmpty):
				return usageError(err.Error(), "copy into a new file, or a new database (createdb -O USER NAME); to start over, drop and recreate the target")
			case err != nil:
				return storeError(err, fmt.Sprintf("copy %s to %s: %v", fromShown, toShown, err),
					"the target now holds part of the copy: drop and recreate it (or remove the file), then run the copy again")
			}
			v := dbCopyView{From: fromShown, To: toShown, Source: res.Source, Target: res.Target}
			t := &render.Table{Title: fmt.Sprintf("Copied %s to %s (checked by reading every snapshot back)", fromShown, toShown),
				Header: []string{"WHAT", "SOURCE", "TARGET"}}
			for _, r := range []struct {
				what string
				a, b int64
			}{
				{"snapshots", int64(res.Source.Snapshots), int64(res.Target.Snapshots)},
				{"resources (all snapshots)", res.Source.Resources, res.Target.Resources},
				{"entitlements (all snapshots)", res.Source.Entitlements, res.Target.Entitlements},
				{"grants (all snapshots)", res.Source.Grants, res.Target.Grants},
				{"audit records", res.Source.AuditRecords, res.Target.AuditRecords},
				{"deactivations", res.Source.Deactivations, res.Target.Deactivations},
				{"SCIM push records", res.Source.SCIMPushed, res.Target.SCIMPushed},
				{"API tokens", res.Source.APITokens, res.Target.APITokens},
				{"activity events", res.Source.ActivityEvents, res.Target.ActivityEvents},
				{"activity cursors", res.Source.ActivityCursors, res.Target.ActivityCursors},
				{"last accessed records", res.Source.LastAccessed, res.Target.LastAccessed},
			} {
				t.Add(r.what, strconv.FormatInt(r.a, 10), strconv.FormatInt(r.b, 10))
			}
			return a.print(v, t)
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "database to copy from: a SQLite file or a postgres:// URL (default: --db, WARDEN_DB or database: in warden.yaml)")
	cmd.Flags().StringVar(&to, "to", "", "database to copy into, which must be empty: a new SQLite file or a postgres:// URL")
	return cmd
}

// sameDatabase reports whether two databases given on the command line
// are one: the same URL, or paths of the same file.
func sameDatabase(a, b string) bool {
	if store.IsPostgresURL(a) || store.IsPostgresURL(b) {
		return a == b
	}
	pa, errA := filepath.Abs(a)
	pb, errB := filepath.Abs(b)
	return errA == nil && errB == nil && pa == pb
}
