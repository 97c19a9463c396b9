package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/otai-dev/otai/config"
	"github.com/otai-dev/otai/orchestrator"
	"github.com/otai-dev/otai/pipe"
	"github.com/otai-dev/otai/ticket"
	"github.com/spf13/cobra"
)

func init() {
	addCommand(func(app *App) *cobra.Command {
		var (
			cf      configFlags
			once    bool
			dryRun  bool
			output  string
			grace   time.Duration
			runners []string
			serve   serveFlags // --listen: status page and metrics (serve_flags.go)
		)
		cmd := &cobra.Command{
			Use:   "run",
			Short: "Triage tickets: run the config's runners on their triggers",
			Long: `Run loads the config, starts its services and runs each runner on its
triggers (interval, cron, once) until SIGINT or SIGTERM. On the first signal
otai starts no new ticket, finishes the tickets in flight (at most --grace
long) and exits; a second signal exits at once.

Without --config, otai runs its embedded demo: a local SQLite ticket store in
the data directory, seeded with English and German demo tickets, whose inbox is
triaged. A ticket already triaged is not triaged or noted again unless it
changed since.

With --once every runner runs once and otai exits 0 if every ticket
succeeded or was skipped, 1 if any ticket failed.`,
			Example: `  # triage the demo inbox once and print what was done
  otai run --once

  # run a config until Ctrl-C, JSON logs for the log shipper
  otai run --config /etc/otai/config.yml --log-format json

  # see what would happen, write nothing to the help desk
  otai run --config config.yml --once --dry-run`,
			Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				if output != "table" && output != "json" {
					return usageError("--output %q: want table or json", output)
				}
				if grace < 0 {
					return usageError("--grace %s: want 0 (stop at once) or a positive duration such as 30s", grace)
				}
				file, err := app.load(&cf)
				if err != nil {
					return err
				}
				if len(runners) > 0 {
					if err := filterRunners(file, runners); err != nil {
						return err
					}
				}
				if len(file.Runners) == 0 {
					return failure(fmt.Errorf("%s has no runners and no pipes: nothing to run", nameOf(cf.path)))
				}
				ctx := cmd.Context()
				status, err := serve.start(ctx, app) // --listen (serve_flags.go); nil when off
				if err != nil {
					return err
				}
				defer status.stop()
				eng, closeAll, err := app.build(ctx, file, dryRun, status.httpMetrics())
				if err != nil {
					return err
				}
				defer closeAll()
				status.built(eng, file) // --listen
				var results []orchestrator.RunResult
				if once {
					results = eng.RunAll(ctx)
					status.record(results...) // --listen
					printResults(app.Out, output, results)
				} else {
					// A second signal ends the grace period at once. The first
					// signal reaches this channel too (it also cancelled ctx), so
					// it is drained before waiting for the second.
					hard := make(chan os.Signal, 2)
					signal.Notify(hard, os.Interrupt, syscall.SIGTERM)
					defer signal.Stop(hard)
					served := make(chan struct{})
					defer close(served)
					go func() {
						select {
						case <-ctx.Done():
						case <-served:
							return
						}
						select {
						case <-hard:
						case <-time.After(200 * time.Millisecond):
						case <-served:
							return
						}
						select {
						case <-hard:
							app.Logger.Warn("second signal: exiting without waiting for tickets in flight")
							os.Exit(ExitInterrup)
						case <-served:
						}
					}()
					var mu sync.Mutex // runners report from their own goroutines
					eng.Serve(ctx, grace, func(r orchestrator.RunResult) {
						status.record(r) // --listen
						mu.Lock()
						defer mu.Unlock()
						results = append(results, r)
						printResults(app.Out, output, []orchestrator.RunResult{r})
					})
				}
				for _, r := range results {
					if r.Status == pipe.StatusFailed && once {
						return silent(ExitFailure)
					}
				}
				return nil
			},
		}
		cf.add(cmd)
		cmd.Flags().BoolVar(&once, "once", false, "run every runner once, then exit (exit 1 if any ticket failed)")
		cmd.Flags().BoolVar(&dryRun, "dry-run", false, "decide and report, but write nothing to any help desk")
		cmd.Flags().StringVarP(&output, "output", "o", "table", "result format on stdout: table or json")
		cmd.Flags().DurationVar(&grace, "grace", 30*time.Second, "on shutdown, how long tickets in flight may take to finish (0: cancel them at once; negative is an error)")
		cmd.Flags().StringSliceVar(&runners, "runner", nil, "run only these runners (repeatable)")
		serve.add(cmd) // --listen (serve_flags.go)
		return cmd
	})
}

// filterRunners keeps only the named runners.
func filterRunners(file *config.File, ids []string) error {
	var keep []*config.Runner
	var known []string
	for _, r := range file.Runners {
		known = append(known, r.ID)
	}
	for _, id := range ids {
		found := false
		for _, r := range file.Runners {
			if r.ID == id {
				keep, found = append(keep, r), true
			}
		}
		if !found {
			return usageError("--runner %q: no such runner (runners: %s)", id, strings.Join(known, ", "))
		}
	}
	file.Runners = keep
	return nil
}

// printResults writes results as a table or JSON lines. Ticket texts and
// help-desk messages can echo a secret, so the output is redacted whole.
func printResults(w io.Writer, format string, rs []orchestrator.RunResult) {
	var b bytes.Buffer
	for _, r := range rs {
		if format == "json" {
			json.NewEncoder(&b).Encode(jsonResult(r))
		} else {
			printSummary(&b, r)
		}
	}
	io.WriteString(w, redactString(b.String()))
}

// jsonResult adds the failures, which Result keeps as errors, to the output.
func jsonResult(r orchestrator.RunResult) map[string]any {
	return map[string]any{"runner": r.Runner, "started": r.Started, "duration_ms": r.Duration.Milliseconds(),
		"status": r.Status, "dry_run": r.DryRun, "counts": r.Counts(), "http_retries": r.HTTPRetries, "failures": r.Failures(), "steps": compactSteps(r.Steps)}
}

// ticketSummary is a fetched ticket as the JSON result shows it: what
// identifies it and what triage changes, not its body, notes or customer
// (a fetch of 100 tickets would otherwise print 100 bodies).
type ticketSummary struct {
	ID       string `json:"id"`
	Number   string `json:"number,omitempty"`
	Subject  string `json:"subject"`
	Queue    string `json:"queue,omitempty"`
	Priority string `json:"priority,omitempty"`
	State    string `json:"state,omitempty"`
}

// compactSteps returns copies of rs in which ticket lists in the data are
// summaries; rs is not changed.
func compactSteps(rs []pipe.Result) []pipe.Result {
	if rs == nil {
		return nil
	}
	out := make([]pipe.Result, len(rs))
	for i, r := range rs {
		if ts, ok := r.Data["tickets"].([]ticket.Ticket); ok {
			d := maps.Clone(r.Data)
			sum := make([]ticketSummary, len(ts))
			for j, t := range ts {
				sum[j] = ticketSummary{ID: t.ID, Number: t.Number, Subject: t.Subject,
					Queue: t.Queue.String(), Priority: t.Priority.String(), State: t.State.String()}
			}
			d["tickets"] = sum
			r.Data = d
		}
		r.Steps = compactSteps(r.Steps)
		for j := range r.Items {
			if j == 0 {
				r.Items = slices.Clone(r.Items)
			}
			r.Items[j].Steps = compactSteps(r.Items[j].Steps)
		}
		out[i] = r
	}
	return out
}

// printSummary writes a table of what happened to each ticket.
func printSummary(w io.Writer, r orchestrator.RunResult) {
	c := r.Counts()
	total := c[pipe.StatusSucceeded] + c[pipe.StatusSkipped] + c[pipe.StatusFailed]
	mode := ""
	if r.DryRun {
		mode = " [dry run: nothing written]"
	}
	fmt.Fprintf(w, "runner %s: %s in %s: %d tickets, %d triaged, %d skipped, %d failed%s\n",
		r.Runner, r.Status, r.Duration.Round(time.Millisecond), total,
		c[pipe.StatusSucceeded], c[pipe.StatusSkipped], c[pipe.StatusFailed], mode)
	var items []pipe.ItemResult
	for _, s := range r.Steps {
		if s.Status == pipe.StatusFailed && len(s.Items) == 0 {
			fmt.Fprintf(w, "  pipe %s failed: %s\n", s.Pipe, s.Message)
		}
		items = append(items, s.Items...)
	}
	if len(items) == 0 {
		return
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  TICKET\tSUBJECT\tQUEUE\tPRIORITY\tCONFIDENCE\tACTION")
	for _, it := range items {
		row := summarize(it)
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\n", it.TicketID, clip(it.Subject, 40), row.queue, row.priority, row.confidence, row.action)
	}
	tw.Flush()
}

type summaryRow struct{ queue, priority, confidence, action string }

func summarize(it pipe.ItemResult) summaryRow {
	row := summaryRow{queue: it.Queue, priority: it.Priority}
	var confs, actions []string
	for _, s := range it.Steps {
		if s.Data != nil {
			if to, ok := s.Data["queue_to"].(string); ok && to != "" {
				row.queue = arrow(it.Queue, to)
			}
			if to, ok := s.Data["priority_to"].(string); ok && to != "" {
				row.priority = arrow(it.Priority, to)
			}
			if conf, ok := s.Data["confidence"].(float64); ok {
				if _, isClassify := s.Data["top_k"]; isClassify {
					confs = append(confs, fmt.Sprintf("%.0f%%", 100*conf))
				}
			}
		}
		switch {
		case s.Status == pipe.StatusFailed:
			actions = append(actions, s.Pipe+" FAILED: "+s.Message)
		case s.Status == pipe.StatusSkipped && s.Action != "":
			actions = append(actions, s.Action)
		case s.Status == pipe.StatusSucceeded && s.Action != "" && s.Data["top_k"] == nil:
			actions = append(actions, s.Action)
		}
	}
	if it.Status == pipe.StatusSkipped && len(it.Steps) == 0 {
		actions = append(actions, "skipped: "+it.Message)
	}
	row.confidence = strings.Join(confs, " / ")
	row.action = strings.Join(actions, "; ")
	if row.action == "" {
		row.action = string(it.Status)
	}
	return row
}

func arrow(from, to string) string {
	if from == "" || strings.EqualFold(from, to) {
		return to
	}
	return from + " -> " + to
}

func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
