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
			v := versionInfo{Version: "(devel)", Go: runtime.Version()}
			if bi, ok := debug.ReadBuildInfo(); ok {
				if bi.Main.Version != "" {
					v.Version = bi.Main.Version
				}
				for _, s := range bi.Settings {
					if s.Key == "vcs.revision" {
						v.Commit = s.Value
					}
				}
			}
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
