package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
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
			if err := writeFileAtomic(out, write); err != nil {
				return err
			}
			a.log.Info("export written", "file", out, "format", format, "snapshot", snap.ID)
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "json", "json or csv")
	cmd.Flags().StringVar(&out, "out", "", "file to write (default: stdout)")
	return cmd
}

// writeFileAtomic writes a new file at path (mode 0600) through write: into
// a temporary file beside it, renamed over path only when complete, so a
// failure leaves no half-written export and any earlier file intact.
func writeFileAtomic(path string, write func(io.Writer) error) error {
	fail := func(err error) error {
		var pathErr *fs.PathError
		if errors.As(err, &pathErr) {
			return &cliError{code: exitError, problem: fmt.Sprintf("cannot write --out %s: %v", path, pathErr.Err), fix: pathFix(&fs.PathError{Op: pathErr.Op, Path: path, Err: pathErr.Err}), err: err}
		}
		return &cliError{code: exitError, problem: fmt.Sprintf("cannot write --out %s: %v", path, err),
			fix: "check the space left on its file system, or name another file", err: err}
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fail(err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // a no-op once renamed
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fail(err)
	}
	if err := write(f); err != nil {
		f.Close()
		return fail(err)
	}
	if err := f.Close(); err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fail(err)
	}
	return nil
}
