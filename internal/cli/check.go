package cli

import (
	"fmt"
	"time"

	"github.com/otai-dev/otai/ticket"
	"github.com/spf13/cobra"
)

func init() {
	addCommand(func(app *App) *cobra.Command {
		var (
			cf      configFlags
			queues  []string
			timeout time.Duration
		)
		cmd := &cobra.Command{
			Use:   "check",
			Short: "Connect to each configured ticket system and report what works",
			Long: `Check starts the config's services and asks each ticket system what works:
authentication, search, reading a ticket, and whether otai's account may move
tickets into the queues you name with --queue. Every failed line says what to
do about it.

Exit 0 when every check passed, 1 when any failed, 3 when a service could not
even be started.`,
			Example: `  otai check --config config.yml --queue Billing --queue "Technical Support"`,
			Args:    cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				file, err := app.load(&cf)
				if err != nil {
					return err
				}
				ctx := cmd.Context()
				eng, closeAll, err := app.build(ctx, file, true, nil)
				if err != nil {
					return err
				}
				defer closeAll()
				failed := 0
				for _, s := range file.Services {
					sys, ok := eng.Service(s.ID).(ticket.System)
					if !ok {
						continue
					}
					fmt.Fprintf(app.Out, "%s (%s)\n", s.ID, s.Spec.ID)
					cctx, cancel := contextWithTimeout(ctx, timeout)
					var results []ticket.CheckResult
					if c, ok := sys.(ticket.Checker); ok {
						results = c.Check(cctx, ticket.CheckOptions{Queues: queues})
					} else {
						results = basicCheck(cctx, sys)
					}
					cancel()
					for _, r := range results {
						mark := "ok  "
						if !r.OK {
							mark = "FAIL"
							failed++
						}
						fmt.Fprintf(app.Out, "  %s %s: %s\n", mark, r.Name, redactString(r.Message))
					}
				}
				if failed > 0 {
					fmt.Fprintf(app.Out, "%d check(s) failed\n", failed)
					return silent(ExitFailure)
				}
				return nil
			},
		}
		cf.add(cmd)
		cmd.Flags().StringSliceVar(&queues, "queue", nil, "a queue otai will move tickets into (repeatable)")
		cmd.Flags().DurationVar(&timeout, "timeout", 30*time.Second, "how long each ticket system may take")
		return cmd
	})
}
