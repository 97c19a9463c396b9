package cli

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/otai-dev/otai/config"
	"github.com/otai-dev/otai/orchestrator"
	"github.com/otai-dev/otai/registry"
	"github.com/otai-dev/otai/ticket"
	"github.com/spf13/cobra"
)

func init() {
	addCommand(func(app *App) *cobra.Command {
		var (
			cf      configFlags
			queues  []string
			sources []string
			timeout time.Duration
		)
		cmd := &cobra.Command{
			Use:   "check",
			Short: "Connect to each configured ticket system, look at each model, and report what works",
			Long: `Check starts the config's ticket-system services (classifiers and other
services are not started, so a model that is not trained yet does not stop it)
and asks each ticket system what works: authentication, search, reading a
ticket, whether otai's account may move tickets out of the queues it fetches
from, and whether the queues it moves tickets into exist. Nothing is changed.

Then it looks at each classifier without training anything: whether its model
file is there (or will be trained at start-up by a train block), its labels,
when and on how many tickets it was trained and its held-out scores, and warns
when the model is more than 180 days old.

Source queues are the literal queue names in the search criteria of the
config's fetch pipes, plus those named with --source-queue; target queues are
those named with --queue. Every failed line says what to do about it; "warn"
lines could not be verified and say why.

Exit 0 when no check failed (warnings allowed), 1 when any failed, 3 when a
ticket system could not even be started.`,
			Example: `  otai check --config config.yml --source-queue Inbox --queue Billing --queue "Technical Support"`,
			Args:    cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				file, err := app.load(&cf)
				if err != nil {
					return err
				}
				ctx := cmd.Context()
				eng, closeAll, err := app.build(ctx, ticketSystemsOnly(file), true, nil)
				if err != nil {
					return err
				}
				defer closeAll()
				fetched := sourceQueues(file)
				failed, warned := 0, 0
				report := func(results []ticket.CheckResult) {
					for _, r := range results {
						mark := "ok  "
						switch {
						case !r.OK:
							mark = "FAIL"
							failed++
						case r.Warn:
							mark = "warn"
							warned++
						}
						fmt.Fprintf(app.Out, "  %s %s: %s\n", mark, r.Name, redactString(r.Message))
					}
				}
				for _, s := range file.Services {
					sys, ok := eng.Service(s.ID).(ticket.System)
					if !ok {
						continue
					}
					fmt.Fprintf(app.Out, "%s (%s)\n", s.ID, s.Spec.ID)
					cctx, cancel := contextWithTimeout(ctx, timeout)
					var results []ticket.CheckResult
					if c, ok := sys.(ticket.Checker); ok {
						src := append(slices.Clone(fetched[s.ID]), sources...)
						results = c.Check(cctx, ticket.CheckOptions{Queues: queues, SourceQueues: dedupe(src)})
					} else {
						results = basicCheck(cctx, sys)
					}
					cancel()
					report(results)
				}
				for _, s := range file.Services {
					if s.Spec == nil || s.Spec.Kind != registry.KindClassifier {
						continue
					}
					fmt.Fprintf(app.Out, "%s (%s)\n", s.ID, s.Spec.ID)
					report(app.checkClassifier(ctx, file, s))
				}
				if warned > 0 {
					fmt.Fprintf(app.Out, "%d check(s) could not be verified (warn)\n", warned)
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
		cmd.Flags().StringSliceVar(&sources, "source-queue", nil, "a queue otai fetches tickets from and moves them out of, besides those in the config's fetch pipes (repeatable)")
		cmd.Flags().DurationVar(&timeout, "timeout", 30*time.Second, "how long each ticket system may take")
		return cmd
	})
}

// ticketSystemsOnly returns f with only its ticket-system services and no
// runners: check talks to ticket systems, and a classifier whose model is
// not trained yet must not keep it from doing so.
func ticketSystemsOnly(f *config.File) *config.File {
	g := *f
	g.Services = nil
	for _, s := range f.Services {
		if s.Spec != nil && s.Spec.Kind == registry.KindTicketSystem {
			g.Services = append(g.Services, s)
		}
	}
	g.Pipes, g.Runners = nil, nil
	return &g
}

// sourceQueues collects, per ticket-system service id, the queue names
// written literally in the search criteria of the config's fetch pipes
// (templates and queue ids are left out). A fetch pipe without
// ticket_system belongs to the only ticket system.
func sourceQueues(f *config.File) map[string][]string {
	var systems []string
	for _, s := range f.Services {
		if s.Spec != nil && s.Spec.Kind == registry.KindTicketSystem {
			systems = append(systems, s.ID)
		}
	}
	out := map[string][]string{}
	seen := map[*config.Pipe]bool{}
	var walk func(p *config.Pipe)
	walk = func(p *config.Pipe) {
		if p == nil || seen[p] {
			return
		}
		seen[p] = true
		for _, st := range p.Steps {
			walk(st)
		}
		if p.Spec == nil || p.Spec.ID != "base:FetchTicketsPipe" {
			return
		}
		sys := literal(p.Params.Get("ticket_system"))
		if sys == "" && len(systems) == 1 {
			sys = systems[0]
		}
		if sys == "" {
			return
		}
		var crit *config.Node
		for _, k := range []string{"ticket_search_criteria", "criteria", "search"} {
			if crit = p.Params.Get(k); crit != nil {
				break
			}
		}
		q := crit.Get("queue")
		name := literal(q) // queue: Inbox
		if q != nil && q.Kind == config.Map {
			name = literal(q.Get("name"))
		}
		if name != "" {
			out[sys] = append(out[sys], name)
		}
	}
	for _, p := range f.Pipes {
		walk(p)
	}
	for _, r := range f.Runners {
		for _, p := range r.Pipes {
			walk(p)
		}
	}
	return out
}

// literal returns a scalar's text unless it is a template.
func literal(n *config.Node) string {
	if n == nil || n.Kind != config.Scalar || n.IsTemplate() || n.Tmpl != nil && strings.Contains(n.Value, "{{") {
		return ""
	}
	return strings.TrimSpace(n.Value)
}

func dedupe(s []string) []string {
	var out []string
	for _, v := range s {
		if v != "" && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// checkClassifier builds one classifier the way 'otai validate' does
// (nothing is trained or written) and asks it about itself. A classifier
// that cannot be built (a corrupt model, say) is one failed line.
func (app *App) checkClassifier(ctx context.Context, file *config.File, s *config.Service) []ticket.CheckResult {
	g := ticketSystemsOnly(file)
	g.Services = append(g.Services, s)
	eng, err := orchestrator.Build(ctx, g, orchestrator.Options{DataDir: app.DataDir, Logger: slog.New(slog.DiscardHandler),
		Validate: true, Version: Version})
	if err != nil {
		return []ticket.CheckResult{{Name: "start", Message: err.Error()}}
	}
	defer eng.Close()
	if c, ok := eng.Service(s.ID).(interface {
		Check(context.Context) []ticket.CheckResult
	}); ok {
		return c.Check(ctx)
	}
	return []ticket.CheckResult{{Name: "start", OK: true, Message: "built"}}
}
