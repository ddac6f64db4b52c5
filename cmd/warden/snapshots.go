package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/warden-iam/warden/internal/config"
	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/render"
	"github.com/warden-iam/warden/internal/store"
	"github.com/warden-iam/warden/internal/syncjob"
)

func newSnapshotsCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "snapshots",
		Short: "List the connection's snapshots, newest first; `snapshots prune` deletes old ones",
		Args:  cobra.ArbitraryArgs,
		// Typos within two edits get a "did you mean" hint.
		SuggestionsMinimumDistance: 2,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return unknownCommand(cmd, args[0]) // `snapshots prun`
			}
			ctx := cmd.Context()
			st, path, err := a.openExisting(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			snaps, err := st.Snapshots(ctx, a.connection)
			if err != nil {
				return storeError(err, fmt.Sprintf("list snapshots in %s: %v", path, err), "check the file is a warden database that is not being written")
			}
			if snaps == nil {
				snaps = []model.Snapshot{}
			}
			return a.print(snaps, render.SnapshotsTable(snaps))
		},
	}
	cmd.AddCommand(newSnapshotsPruneCmd(a))
	return cmd
}

// newSnapshotsPruneCmd builds `warden snapshots prune`.
func newSnapshotsPruneCmd(a *app) *cobra.Command {
	var (
		keep      int
		olderThan string
		dryRun    bool
		all       bool
	)
	cmd := &cobra.Command{
		Use:   "prune --keep N | --older-than AGE",
		Short: "Delete old snapshots of a connection (never its latest, never the audit log) and give the space back",
		Long: `prune deletes the connection's snapshots beyond the newest --keep N, and those that finished
longer ago than --older-than AGE (such as 30d, 12h or 2w); with both, a snapshot goes when either
says so. The connection's latest snapshot is always kept, and the audit log is never touched. The
space is given back to the file system. --dry-run lists what would go and deletes nothing; --all
prunes every connection in the database instead of --connection.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts, err := pruneOptions(cmd.Flags().Changed("keep"), keep, olderThan)
			if err != nil {
				return err
			}
			opts.DryRun = dryRun
			if all && a.connectionSet {
				return usageError("--all prunes every connection of the database; it does not go with --connection",
					"pass --all, or --connection ID for one connection")
			}
			return a.prune(cmd.Context(), opts, all)
		},
	}
	f := cmd.Flags()
	f.IntVar(&keep, "keep", 0, "keep the newest N snapshots of the connection (at least 1)")
	f.StringVar(&olderThan, "older-than", "", "delete snapshots that finished longer ago than this age: 30d, 12h, 2w, 1d12h")
	f.BoolVar(&dryRun, "dry-run", false, "list what would be deleted, delete nothing")
	f.BoolVar(&all, "all", false, "prune every connection of the database, not only --connection")
	return cmd
}

// pruneOptions checks --keep (keepSet says it was given) and --older-than
// and turns them into the store's options.
func pruneOptions(keepSet bool, keep int, olderThan string) (store.PruneOptions, error) {
	var o store.PruneOptions
	if !keepSet && olderThan == "" {
		return o, usageError("snapshots prune needs --keep N or --older-than AGE (or both)",
			"for example: warden snapshots prune --keep 48, or --older-than 30d; add --dry-run to see what would go")
	}
	if keepSet {
		if keep < 1 {
			return o, usageError(fmt.Sprintf("--keep must be at least 1, got %d (the latest snapshot is always kept)", keep),
				"pass for example --keep 48, or leave --keep out to prune by --older-than alone")
		}
		o.Keep = keep
	}
	if olderThan != "" {
		age, err := config.ParseAge(olderThan)
		if err != nil {
			return o, usageError("--older-than "+err.Error(), "pass for example --older-than 30d")
		}
		o.OlderThan = age
	}
	return o, nil
}

// prune prunes the connection (or, with all, every connection of the
// database) and prints what it deleted.
func (a *app) prune(ctx context.Context, opts store.PruneOptions, all bool) error {
	st, path, err := a.openExisting(ctx)
	if err != nil {
		return err
	}
	conns := []string{a.connection}
	if all {
		if conns, err = st.Connections(ctx); err != nil {
			st.Close()
			return storeError(err, fmt.Sprintf("list connections in %s: %v", path, err), "check the file is a warden database that is not being written")
		}
	} else if _, err := st.LatestSnapshot(ctx, a.connection); err != nil {
		st.Close()
		return storeError(err, fmt.Sprintf("no snapshot of connection %q in %s: nothing to prune", a.connection, path),
			"check --connection (`warden sync status` lists the connections), or pass --all")
	}
	if !opts.DryRun {
		// The check above read the file without writing it; pruning
		// writes.
		st.Close()
		if st, err = a.openStore(ctx, path); err != nil {
			return err
		}
	}
	defer st.Close()
	results := make([]*store.PruneResult, 0, len(conns))
	for _, c := range conns {
		res, err := st.Prune(ctx, c, opts)
		if err != nil {
			return storeError(err, fmt.Sprintf("prune connection %q in %s: %v", c, path, err),
				"check the file is writable and no other warden is writing it, then run prune again")
		}
		results = append(results, res)
	}
	return a.print(results, pruneTable(results, opts.DryRun))
}

// pruneTable lays out prune results, one row per connection.
func pruneTable(results []*store.PruneResult, dryRun bool) *render.Table {
	t := &render.Table{Title: "Pruned", Header: []string{"CONNECTION", "DELETED", "SNAPSHOTS", "KEPT", "ROWS", "FREED"}}
	if dryRun {
		t.Title = "Would prune (dry run: nothing deleted)"
	}
	for _, r := range results {
		t.Add(r.ConnectionID, strconv.Itoa(len(r.Deleted)), idList(r.Deleted), strconv.Itoa(r.Kept),
			strconv.FormatInt(r.Rows, 10), formatBytes(r.BytesFreed))
	}
	return t
}

// idList writes snapshot ids as "7, 6, 5", "-" for none, and the first
// ten and a count beyond that.
func idList(ids []int64) string {
	if len(ids) == 0 {
		return "-"
	}
	const most = 10
	parts := make([]string, 0, min(len(ids), most))
	for _, id := range ids[:min(len(ids), most)] {
		parts = append(parts, strconv.FormatInt(id, 10))
	}
	s := strings.Join(parts, ", ")
	if len(ids) > most {
		s += fmt.Sprintf(" and %d more", len(ids)-most)
	}
	return s
}

// formatBytes writes n bytes in B, KB, MB or GB (powers of 1000).
func formatBytes(n int64) string {
	switch {
	case n < 1000:
		return fmt.Sprintf("%d B", n)
	case n < 1000*1000:
		return fmt.Sprintf("%.1f KB", float64(n)/1e3)
	case n < 1000*1000*1000:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	}
	return fmt.Sprintf("%.2f GB", float64(n)/1e9)
}

// printRetention says on stderr what the retention of a synced
// connection pruned, and returns the error of a retention that failed.
func (a *app) printRetention(res *syncjob.Result, r config.Retention) error {
	var pe *syncjob.PruneError
	if errors.As(res.PruneErr, &pe) {
		if pe.Invalid {
			return usageError(pe.Error(), "correct the connections file; `warden config validate` checks it")
		}
		return storeError(pe, pe.Error(), "check the database is writable, then run `warden snapshots prune` (or the next sync prunes)")
	}
	p := res.Pruned
	if p == nil {
		return nil
	}
	fmt.Fprintf(a.stderr, "retention (%s): connection %s: pruned %d snapshot(s) [%s], %d rows, %s freed, %d kept, in %s\n",
		retentionLabel(r), p.ConnectionID, len(p.Deleted), idList(p.Deleted), p.Rows, formatBytes(p.BytesFreed), p.Kept,
		res.PruneTook.Round(time.Millisecond))
	return nil
}

// retentionLabel writes a retention as warden.yaml does: "keep 24,
// older_than 30d".
func retentionLabel(r config.Retention) string {
	var parts []string
	if r.Keep > 0 {
		parts = append(parts, fmt.Sprintf("keep %d", r.Keep))
	}
	if r.OlderThan != "" {
		parts = append(parts, "older_than "+r.OlderThan)
	}
	return strings.Join(parts, ", ")
}
