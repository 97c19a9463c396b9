package cli

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/otai-dev/otai/config"
	"github.com/otai-dev/otai/pipe"
	"github.com/otai-dev/otai/state"
	"github.com/otai-dev/otai/ticket"
	"github.com/spf13/cobra"
)

func init() {
	addCommand(func(app *App) *cobra.Command {
		var (
			since, until, runner, outcome, ticketID, format string
			limit                                           int
			dryRun                                          string
			shadow                                          bool
			cf                                              configFlags
		)
		cmd := &cobra.Command{
			Use:   "decisions",
			Short: "List what otai decided per ticket, and what it wrote back",
			Long: `Decisions lists the decision records in the data directory's state.db
(in PostgreSQL when OTAI_STATE_DSN is set), newest first: when, which runner,
which ticket, the label and confidence of each
classify step, what was written back, and the outcome with its error.

--since and --until take a duration back from now (24h, 7d) or a time
(2026-01-31, 2026-01-31T08:00:00Z). --format csv and jsonl export everything
for a spreadsheet or a script; table is for people. The table shows the newest
100 unless --limit says otherwise; csv and jsonl export every match unless
--limit is given (0 means no limit). When a limit cuts the output, a note on
stderr says so.

CSV columns: id, at, runner, ticket_system, ticket_id, subject, label and
confidence (of the first classify step), predictions, written, outcome, error,
dry_run, pipe (the for-each), model, model_version, top_k and changes. With
several classify steps, predictions, model, model_version and top_k hold one
entry per step, separated by " / ". top_k lists labels with confidences as
"Billing 79%; Technical 12%"; changes lists the fields written (or, in a dry
run, planned) as "queue Inbox -> Billing; priority normal -> high" (tags as
"tag +vip"). JSONL has all of this as structured JSON.

--shadow-report compares the dry-run (shadow) decisions with what agents did
since: it reads each ticket from the help desk of --config and counts, per
field, how often the agents put the ticket where otai would have (agreed),
somewhere else (otherwise), or have not touched it yet. Per ticket it judges
the oldest dry-run decision with a planned change (within --since), the one
made before agents acted on the ticket.`,
			Example: `  otai decisions --since 24h
  otai decisions --outcome failed --format jsonl > failed.jsonl
  otai decisions --runner triage-inbox --since 7d --format csv > week.csv
  otai decisions --dry-run true     # what shadow runs would have done
  otai decisions --shadow-report --config config.yml --since 7d`,
			Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				var f state.Filter
				var err error
				if f.Since, err = pastTime(since); err != nil {
					return usageError("--since: %v", err)
				}
				if f.Until, err = pastTime(until); err != nil {
					return usageError("--until: %v", err)
				}
				switch outcome {
				case "", "succeeded", "skipped", "failed":
				default:
					return usageError("--outcome %q: want succeeded, skipped or failed", outcome)
				}
				if dryRun != "" {
					b, err := strconv.ParseBool(dryRun)
					if err != nil {
						return usageError("--dry-run %q: want true or false", dryRun)
					}
					f.DryRun = &b
				}
				switch format {
				case "table", "csv", "jsonl":
				default:
					return usageError("--format %q: want table, csv or jsonl", format)
				}
				f.Runner, f.Outcome, f.TicketID = runner, outcome, ticketID
				// The table shows the newest 100 by default; exports and the
				// shadow report take every match unless --limit says otherwise.
				switch {
				case cmd.Flags().Changed("limit") && limit < 0:
					return usageError("--limit %d: want 0 (no limit) or more", limit)
				case cmd.Flags().Changed("limit"):
					f.Limit = limit
				case format == "table" && !shadow:
					f.Limit = 100
				}
				if f.Limit == 0 {
					f.Limit = -1
				} else {
					f.Limit++ // one more tells whether the limit cut the output
				}
				st, err := app.openState(cmd.Context(), "", true) // OTAI_STATE_DSN or state.db
				if err != nil {
					return err
				}
				defer st.Close()
				if shadow {
					yes := true
					f.DryRun = &yes
				}
				ds, err := st.Decisions(cmd.Context(), f)
				if err != nil {
					return envError(err)
				}
				if f.Limit > 0 && len(ds) >= f.Limit {
					ds = ds[:f.Limit-1]
					fmt.Fprintf(app.Err, "note: only the newest %d matching decisions are shown; more match (raise --limit, use --limit 0 for all, or narrow with --since)\n", len(ds))
				}
				if shadow {
					return app.shadowReport(cmd, &cf, ds)
				}
				return writeDecisions(app, format, ds)
			},
		}
		fl := cmd.Flags()
		fl.StringVar(&since, "since", "", "only decisions at or after this (24h, 7d, 2026-01-31)")
		fl.StringVar(&until, "until", "", "only decisions before this")
		fl.StringVar(&runner, "runner", "", "only this runner")
		fl.StringVar(&outcome, "outcome", "", "only this outcome: succeeded, skipped or failed")
		fl.StringVar(&ticketID, "ticket", "", "only this ticket id")
		fl.StringVar(&dryRun, "dry-run", "", "true: only dry-run (shadow) decisions; false: only real ones")
		fl.StringVar(&format, "format", "table", "table, csv or jsonl")
		fl.IntVar(&limit, "limit", 0, "at most this many, newest first; 0: all (default: 100 for the table, all for csv, jsonl and --shadow-report)")
		fl.BoolVar(&shadow, "shadow-report", false, "compare dry-run decisions with what agents did (reads tickets via --config)")
		cf.add(cmd)
		return cmd
	})
}

// pastTime reads "24h"/"7d" as that long ago, or an absolute time.
func pastTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := config.ParseDuration(s); err == nil && !strings.ContainsAny(s, "-:T") {
		return time.Now().Add(-d), nil
	}
	return config.ParseTime(s)
}

func writeDecisions(app *App, format string, ds []pipe.Decision) error {
	switch format {
	case "jsonl":
		enc := json.NewEncoder(app.Out)
		for _, d := range ds {
			if err := enc.Encode(d); err != nil {
				return err
			}
		}
	case "csv":
		w := csv.NewWriter(app.Out)
		w.Write([]string{"id", "at", "runner", "ticket_system", "ticket_id", "subject", "label", "confidence", "predictions", "written", "outcome", "error", "dry_run",
			"pipe", "model", "model_version", "top_k", "changes"})
		for _, d := range ds {
			label, conf := d.Label()
			models := make([]string, len(d.Predictions))
			versions := make([]string, len(d.Predictions))
			topk := make([]string, len(d.Predictions))
			for i, p := range d.Predictions {
				models[i], versions[i] = p.Model, p.ModelVersion
				ks := make([]string, len(p.TopK))
				for j, k := range p.TopK {
					ks[j] = fmt.Sprintf("%s %.0f%%", k.Label, 100*k.Confidence)
				}
				topk[i] = strings.Join(ks, "; ")
			}
			changes := make([]string, len(d.Changes))
			for i, c := range d.Changes {
				switch {
				case c.Field == "tag":
					changes[i] = "tag " + c.To
				case c.From != "":
					changes[i] = fmt.Sprintf("%s %s -> %s", c.Field, c.From, c.To)
				default:
					changes[i] = c.Field + " " + c.To
				}
			}
			w.Write([]string{d.ID, d.At.Format(time.RFC3339), d.Runner, d.TicketSystem, d.TicketID, d.Subject, label,
				strconv.FormatFloat(conf, 'f', 4, 64), predictionsText(d), strings.Join(d.Written, "; "), string(d.Outcome), d.Error, strconv.FormatBool(d.DryRun),
				d.Pipe, joinSteps(models), joinSteps(versions), joinSteps(topk), strings.Join(changes, "; ")})
		}
		w.Flush()
		return w.Error()
	default:
		if len(ds) == 0 {
			fmt.Fprintln(app.Out, "no decisions match")
			return nil
		}
		tw := tabwriter.NewWriter(app.Out, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "TIME\tRUNNER\tTICKET\tSUBJECT\tPREDICTIONS\tWRITTEN\tOUTCOME")
		for _, d := range ds {
			out := string(d.Outcome)
			if d.DryRun {
				out += " (dry run)"
			}
			if d.Error != "" {
				out += ": " + clip(d.Error, 60)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", d.At.Local().Format("2006-01-02 15:04:05"), d.Runner, d.TicketID,
				clip(d.Subject, 32), predictionsText(d), clip(strings.Join(d.Written, "; "), 60), out)
		}
		tw.Flush()
	}
	return nil
}

// joinSteps joins one value per classify step with " / ", or is "" when
// every value is.
func joinSteps(vs []string) string {
	for _, v := range vs {
		if v != "" {
			return strings.Join(vs, " / ")
		}
	}
	return ""
}

func predictionsText(d pipe.Decision) string {
	parts := make([]string, len(d.Predictions))
	for i, p := range d.Predictions {
		parts[i] = fmt.Sprintf("%s %.0f%%", p.Label, 100*p.Confidence)
		if p.Label == "" {
			parts[i] = "-"
		}
	}
	return strings.Join(parts, " / ")
}

// shadowStat counts, for one field, how the shadow decisions fared.
type shadowStat struct{ planned, agreed, otherwise, untouched, missing int }

// shadowReport reads each ticket of the oldest dry-run decision with
// changes per ticket and compares what otai would have set with what the
// ticket has now. The oldest, not the newest: once an agent moves a
// ticket, a later shadow run plans a move from the agent's value, and
// judged by that decision the agent's disagreement would look like a
// ticket nobody has handled yet.
func (app *App) shadowReport(cmd *cobra.Command, cf *configFlags, ds []pipe.Decision) error {
	file, err := app.load(cf)
	if err != nil {
		return err
	}
	eng, closeAll, err := app.build(cmd.Context(), file, true, nil)
	if err != nil {
		return err
	}
	defer closeAll()
	stats := map[string]*shadowStat{}
	var fields []string
	seen := map[string]bool{}
	tickets := 0
	for i := len(ds) - 1; i >= 0; i-- { // ds is newest first: the oldest per ticket counts
		d := ds[i]
		key := d.TicketSystem + "\x00" + d.TicketID
		if seen[key] || len(d.Changes) == 0 {
			continue
		}
		seen[key] = true
		sys, err := eng.Services().TicketSystem(d.TicketSystem)
		if err != nil {
			return failure(fmt.Errorf("decision %s: %w", d.ID, err))
		}
		t, err := sys.GetTicket(cmd.Context(), d.TicketID)
		tickets++
		for _, c := range d.Changes {
			have, ok := fieldValue(t, c.Field)
			if !ok {
				continue
			}
			st := stats[c.Field]
			if st == nil {
				st = &shadowStat{}
				stats[c.Field] = st
				fields = append(fields, c.Field)
			}
			st.planned++
			switch {
			case err != nil:
				st.missing++
			case strings.EqualFold(have, c.To):
				st.agreed++
			case strings.EqualFold(have, c.From):
				st.untouched++
			default:
				st.otherwise++
			}
		}
	}
	if tickets == 0 {
		fmt.Fprintln(app.Out, "no dry-run decision with a planned change matches")
		return nil
	}
	fmt.Fprintf(app.Out, "shadow decisions: %d tickets\n", tickets)
	tw := tabwriter.NewWriter(app.Out, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FIELD\tPLANNED\tAGREED\tOTHERWISE\tNOT YET HANDLED\tGONE\tAGREEMENT")
	for _, f := range fields {
		st := stats[f]
		rate := "-"
		if handled := st.agreed + st.otherwise; handled > 0 {
			rate = fmt.Sprintf("%.0f%% of %d handled", 100*float64(st.agreed)/float64(handled), handled)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%s\n", f, st.planned, st.agreed, st.otherwise, st.untouched, st.missing, rate)
	}
	return tw.Flush()
}

// fieldValue is the ticket's current value of a change's field.
func fieldValue(t *ticket.Ticket, field string) (string, bool) {
	if t == nil {
		return "", field == "queue" || field == "priority" || field == "state" || field == "type" || field == "owner"
	}
	switch field {
	case "queue":
		return t.Queue.String(), true
	case "priority":
		return t.Priority.String(), true
	case "state":
		return t.State.String(), true
	case "type":
		return t.Type.String(), true
	case "owner":
		return t.Owner.String(), true
	}
	return "", false
}
