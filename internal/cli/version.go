package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// Version is set at build time with -ldflags "-X github.com/otai-dev/otai/internal/cli.Version=v1.2.3".
var Version = "dev"

func init() {
	addCommand(func(app *App) *cobra.Command {
		return &cobra.Command{
			Use:     "version",
			Short:   "Print otai's version",
			Example: "  otai version",
			Args:    cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				v, rev := Version, ""
				if bi, ok := debug.ReadBuildInfo(); ok {
					if v == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
						v = bi.Main.Version
					}
					for _, s := range bi.Settings {
						if s.Key == "vcs.revision" && len(s.Value) >= 12 {
							rev = " " + s.Value[:12]
						}
					}
				}
				fmt.Fprintf(app.Out, "otai %s%s %s %s/%s\n", v, rev, runtime.Version(), runtime.GOOS, runtime.GOARCH)
				return nil
			},
		}
	})
}
