package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/warden-iam/warden/internal/render"
)

func newExportCmd(a *app) *cobra.Command {
	var format, out string
	cmd := &cobra.Command{
		Use:   "export --format json|csv [--out FILE]",
		Short: "Write the whole latest snapshot as JSON (snapshot and graph) or CSV (one row per grant)",
		Long: `export writes the latest snapshot of the connection.

json: {"snapshot": …, "graph": {"resources": […], "entitlements": […], "grants": […]}}
csv:  one row per grant, columns:
      ` + strings.Join(render.GrantColumns, ",") + `

Secrets are never in a snapshot, so never in an export.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "json" && format != "csv" {
				return usageError(fmt.Sprintf("unknown export format %q", format), "use --format json or --format csv")
			}
			snap, g, err := a.latestGraph(cmd.Context())
			if err != nil {
				return err
			}
			write := func(w io.Writer) error {
				if format == "csv" {
					return render.GrantsCSV(w, g)
				}
				return render.JSON(w, render.Export{Snapshot: snap, Graph: g})
			}
			if out == "" || out == "-" {
				return write(a.stdout)
			}
			f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
			if err != nil {
				return fmt.Errorf("create export file: %w", err)
			}
			if err := write(f); err != nil {
				f.Close()
				return fmt.Errorf("write %s: %w", out, err)
			}
			if err := f.Close(); err != nil {
				return fmt.Errorf("write %s: %w", out, err)
			}
			a.log.Info("export written", "file", out, "format", format, "snapshot", snap.ID)
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "json", "json or csv")
	cmd.Flags().StringVar(&out, "out", "", "file to write (default: stdout)")
	return cmd
}
