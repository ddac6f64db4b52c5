package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/render"
)

func newSnapshotsCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "snapshots",
		Short: "List the connection's snapshots, newest first",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
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
}
