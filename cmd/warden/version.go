package main

import (
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/warden-iam/warden/internal/render"
)

// versionInfo is what `warden version` prints.
type versionInfo struct {
	Version string `json:"version"` // module version, "(devel)" for a source build
	Commit  string `json:"commit"`  // VCS revision the binary was built from, when known
	Go      string `json:"go"`
}

func newVersionCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print warden's version",
		Args:  noArgs,
		RunE: func(*cobra.Command, []string) error {
			v := versionInfo{Go: runtime.Version()}
			v.Version, v.Commit = buildInfo()
			t := &render.Table{}
			t.Add("warden", v.Version)
			if v.Commit != "" {
				t.Add("commit", v.Commit)
			}
			t.Add("go", v.Go)
			return a.print(v, t)
		},
	}
}

// buildInfo is warden's module version ("(devel)" for a source build) and
// the commit it was built from ("" when unknown).
func buildInfo() (version, commit string) {
	version = "(devel)"
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return version, ""
	}
	if bi.Main.Version != "" {
		version = bi.Main.Version
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" {
			commit = s.Value
		}
	}
	return version, commit
}
