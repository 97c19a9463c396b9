package cli

import (
	"fmt"

	"github.com/otai-dev/otai/config"
	"github.com/otai-dev/otai/orchestrator"
	"github.com/spf13/cobra"
)

func init() {
	addCommand(func(app *App) *cobra.Command {
		var cf configFlags
		cmd := &cobra.Command{
			Use:   "validate [FILE]",
			Short: "Check a config without running it",
			Long: `Validate reads a config and reports every problem at once, each as
file:line:col: field: message: malformed YAML, unknown keys, wrong types,
missing required fields, unknown use: ids (with the closest known ones),
duplicate ids, references to services that do not exist, template errors and
missing secrets. A clean config is then built the way run builds it (services
provisioned in validate mode: no files created, no help desk contacted).

Exit 0 when the config is valid, 1 when it is not, 3 when the file cannot be read.`,
			Example: `  otai validate config.yml
  otai validate            # the embedded demo config
  OTAI_SECRET_OTOBO_PASSWORD=x otai validate examples/otobo.yml`,
			Args: cobra.MaximumNArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				if len(args) == 1 {
					if cf.path != "" && cf.path != args[0] {
						return usageError("give the config either as argument or with --config, not both")
					}
					cf.path = args[0]
				}
				file, err := app.load(&cf)
				if err != nil {
					return err
				}
				eng, err := orchestrator.Build(cmd.Context(), file, orchestrator.Options{
					DataDir: app.DataDir, Logger: app.Logger, Validate: true})
				if err != nil {
					fmt.Fprintln(app.Err, redactString(err.Error()))
					return silent(ExitFailure)
				}
				defer eng.Close()
				fmt.Fprintf(app.Out, "%s: valid (%s, %s, %s)\n", nameOf(cf.path),
					plural(len(file.Services), "service"), plural(countPipes(file.Pipes), "pipe"), plural(len(file.Runners), "runner"))
				return nil
			},
		}
		cf.add(cmd)
		return cmd
	})
}

func countPipes(ps []*config.Pipe) int {
	n := len(ps)
	for _, p := range ps {
		n += countPipes(p.Steps)
	}
	return n
}

// plural writes "1 runner", "2 runners".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
