package main

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/warden-iam/warden/internal/render"
)

func newFindingsCmd(a *app) *cobra.Command {
	var top, days, limit int
	cmd := &cobra.Command{
		Use:   "findings",
		Short: "Who holds the most access, admins, old access keys, console users without MFA, outside trust",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if days < 0 || top < 0 || limit < 0 {
				return usageError("--top, --stale-days and --limit cannot be negative", "pass 0 or more")
			}
			_, g, err := a.latestGraph(cmd.Context())
			if err != nil {
				return err
			}
			f := render.NewFindings(g, time.Now(), top, days)
			return a.print(f, f.Tables(limit)...)
		},
	}
	cmd.Flags().IntVar(&top, "top", 10, "principals to rank by policies held (0: all)")
	cmd.Flags().IntVar(&days, "stale-days", staleDays, "report access keys older than this many days")
	cmd.Flags().IntVar(&limit, "limit", 20, "rows per table (0: all); JSON always has every row")
	return cmd
}
