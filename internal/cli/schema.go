package cli

import (
	"encoding/json"
	"fmt"

	"github.com/otai-dev/otai/registry"
	"github.com/spf13/cobra"
)

func init() {
	addCommand(func(app *App) *cobra.Command {
		var list bool
		cmd := &cobra.Command{
			Use:   "schema",
			Short: "Print the JSON Schema of the config (for editor completion), or list components",
			Long: `Schema prints a JSON Schema (draft 2020-12) of otai's config, built from the
components compiled into this binary: every ticket system, classifier and pipe
with its params, types, defaults and descriptions. Point your editor's YAML
language server at it for completion and inline errors.

With --list it prints one line per component instead.`,
			Example: `  otai schema > otai.schema.json
  # then, first line of config.yml:
  # yaml-language-server: $schema=./otai.schema.json
  otai schema --list`,
			Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				if list {
					for _, s := range registry.All() {
						fmt.Fprintf(app.Out, "%-40s %-13s %s\n", s.ID, s.Kind, s.Summary)
					}
					return nil
				}
				enc := json.NewEncoder(app.Out)
				enc.SetIndent("", "  ")
				return enc.Encode(registry.Schema())
			},
		}
		cmd.Flags().BoolVar(&list, "list", false, "list components, one per line")
		return cmd
	})
}
