package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/otai-dev/otai/classify/linear"
	"github.com/otai-dev/otai/config"
	"github.com/otai-dev/otai/internal/dataset"
	"github.com/otai-dev/otai/orchestrator"
	"github.com/otai-dev/otai/pipe"
	"github.com/otai-dev/otai/state"
	"github.com/spf13/cobra"
)

// dataFlags are the column flags shared by train and eval.
type dataFlags struct {
	data        string
	text        string
	label       string
	mapping     string
	format      string
	keepEscapes bool
	dedupe      bool
}

func (f *dataFlags) add(cmd *cobra.Command, labelDefault string) {
	cmd.Flags().StringVar(&f.data, "data", "", "labelled tickets: a CSV file with a header row, or JSONL (.jsonl/.ndjson) with one object per line")
	cmd.Flags().StringVar(&f.text, "text", "subject,body", "columns joined (with a space) into the text")
	cmd.Flags().StringVar(&f.label, "label", labelDefault, "column holding the label (e.g. queue, priority)")
	cmd.Flags().StringVar(&f.mapping, "map", "", "column aliases, e.g. subject=title,queue=category")
	cmd.Flags().StringVar(&f.format, "format", "", "csv or jsonl (default: by file extension)")
	cmd.Flags().BoolVar(&f.keepEscapes, "keep-escapes", false, `keep literal "\n" sequences as they are (by default they become newlines); the model reads both as white space, so this only changes duplicate detection`)
	cmd.Flags().BoolVar(&f.dedupe, "dedupe", true, "drop rows whose text repeats an earlier row")
}

// load reads the data file; a missing column is a usage error, an
// unreadable file an environment error.
func (f *dataFlags) load() ([]dataset.Record, dataset.Stats, error) {
	m, err := dataset.ParseMap(f.mapping)
	if err != nil {
		return nil, dataset.Stats{}, usageError("--map: %v", err)
	}
	text := dataset.SplitList(f.text)
	if len(text) == 0 {
		return nil, dataset.Stats{}, usageError("--text: name at least one column")
	}
	recs, st, err := dataset.Load(f.data, dataset.Options{Text: text, Label: f.label, Map: m, Format: f.format,
		KeepEscapes: f.keepEscapes, Dedupe: f.dedupe})
	switch {
	case errors.Is(err, dataset.ErrColumn):
		return nil, st, usageError("%v (choose columns with --text, --label and --map)", err)
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, fs.ErrPermission):
		return nil, st, envError(err)
	case err != nil:
		return nil, st, failure(err)
	}
	return recs, st, nil
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// progressFunc draws "stage  42%" on a terminal, redrawing in place.
func progressFunc(w io.Writer) func(stage string, done, total int) {
	if !isTerminal(w) {
		return nil
	}
	last := time.Time{}
	lastStage := ""
	return func(stage string, done, total int) {
		if total <= 0 {
			return
		}
		if stage == lastStage && done < total && time.Since(last) < 100*time.Millisecond {
			return
		}
		last, lastStage = time.Now(), stage
		const width = 30
		n := width * done / total
		fmt.Fprintf(w, "\r%-10s [%s%s] %3d%%", stage, strings.Repeat("#", n), strings.Repeat(".", width-n), 100*done/total)
		if done >= total {
			fmt.Fprint(w, "\r\033[K")
		}
	}
}

func init() {
	addCommand(func(app *App) *cobra.Command {
		var (
			df      dataFlags
			cf      configFlags
			out     string
			from    string
			field   string
			since   string
			states  string
			minEx   int
			name    string
			opts    = linear.DefaultTrainOptions()
			workers int
			corr    bool
			corrW   int
			check   bool
			memory  bool
		)
		cmd := &cobra.Command{
			Use:   "train",
			Short: "Train the built-in linear classifier from labelled tickets",
			Long: `Train otai's built-in classifier (TF-IDF word and character n-grams, logistic
regression with calibrated probabilities) and write it to one model file.

The model also keeps a memory of its training tickets (--neighbours, on by default):
a new ticket much like one it was trained on, a repeat or a rewording, leans towards
that ticket's label.

From a file: CSV with a header row, or JSONL. --text names the columns joined into
the text, --label the column to learn; --map renames columns (subject=title).
Literal "\n" sequences in the data become newlines. Duplicate texts are dropped.

From a ticket system: --from SERVICE_ID reads the closed tickets of a ticket system
configured in --config (or the embedded demo) and learns --field.

--corrections adds what agents taught otai: every value an agent set after otai had
set the field being learned (--label, or --field with --from), as recorded in the
state store (<data-dir>/state.db, or PostgreSQL when OTAI_STATE_DSN is set), becomes a training example (text = subject + " " + body, label =
the agent's value), counted --corrections-weight times. A correction replaces file or
ticket-system examples with the same text, and the newest correction of a text wins.
--since also limits the corrections.

--check-tickets (with --corrections) also finds corrections no run has recorded.
otai records one only when its update step meets the ticket again, and a ticket
otai moved out of the queue its runners fetch (the Inbox) is never fetched
again. So train reads, from the ticket systems of --config (or the embedded
demo), every ticket whose field otai set (the newest real decision per ticket,
within --since), and compares the field's value now with otai's: another value
is a correction (text: the ticket as it is now); otai's value, the value before
otai, or none is not. Tickets that are gone or unreadable are counted and
skipped. Where a recorded and a found correction concern the same ticket, the
found one counts.

The model keeps its training metadata (date, data hash, held-out metrics, otai
version) and a filter of its training texts; 'otai eval' prints the metadata and
warns when the scored rows include training examples.`,
			Example: `  otai train --data tickets.csv --text subject,body --label queue -o queue.model
  otai train --data export.jsonl --label priority -o priority.model
  otai train --data endava.csv --map subject=title --label category -o category.model
  otai train --from local --field queue --since 180d -o queue.model
  otai train --data tickets.csv --label queue --corrections -o queue.model
  otai train --config config.yml --from helpdesk --field queue --corrections --check-tickets -o queue.model`,
			Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				if out == "" {
					return usageError("-o/--output: say where to write the model file")
				}
				if (df.data == "") == (from == "") {
					return usageError("give either --data FILE or --from SERVICE_ID")
				}
				if corrW < 1 {
					return usageError("--corrections-weight %d: want 1 or more", corrW)
				}
				if cmd.Flags().Changed("corrections-weight") && !corr {
					return usageError("--corrections-weight needs --corrections")
				}
				if check && !corr {
					return usageError("--check-tickets needs --corrections")
				}
				if corr { // fail before reading the data
					if err := app.stateDBExists(); err != nil {
						return err
					}
				}
				var sinceT time.Time
				if since != "" {
					d, err := config.ParseDuration(since)
					if err != nil || d < 0 {
						return usageError("--since %q: want a duration like 90d or 720h", since)
					}
					if d > 0 {
						sinceT = time.Now().Add(-d)
					}
				}
				opts.Workers = workers
				if !memory {
					opts.Neighbours.Beta = -1
				}
				opts.Progress = progressFunc(app.Err)
				ctx := cmd.Context()
				start := time.Now()
				var ex []linear.Example
				var source, learn string
				var file *config.File        // with --from, or --check-tickets
				var eng *orchestrator.Engine // the same
				if df.data != "" {
					recs, st, err := df.load()
					if err != nil {
						return err
					}
					ex = make([]linear.Example, len(recs))
					for i, r := range recs {
						ex[i] = linear.Example{Text: r.Text, Label: r.Label}
					}
					fmt.Fprintf(app.Err, "read %d rows from %s: %d examples (%d without label, %d without text, %d duplicates)\n",
						st.Rows, df.data, len(ex), st.NoLabel, st.NoText, st.Duplicates)
					learn, source = df.label, df.data
				} else {
					var closeFn func()
					var err error
					if file, eng, closeFn, err = app.ticketSystems(ctx, &cf); err != nil {
						return err
					}
					defer closeFn()
					sys, err := eng.Services().TicketSystem(from)
					if err != nil {
						return usageError("--from: %v", err)
					}
					so := linear.SourceOptions{Field: field, States: dataset.SplitList(states), MinExamples: minEx, Since: sinceT, Train: opts}
					var st linear.SourceStats
					ex, st, err = linear.Examples(ctx, sys, so)
					if err != nil {
						return trainError(err)
					}
					fmt.Fprintf(app.Err, "read %d tickets from %s: %d examples (%d without %s%s%s)\n", st.Tickets, from, st.Examples, st.NoLabel, field, noText(st.NoText), rareLabels(st.RareLabels))
					if err := enoughExamples(ex, minEx, field, st.Tickets); err != nil {
						return trainError(err)
					}
					learn, source = field, "ticket system "+from
				}
				if corr {
					cs, where, err := app.corrections(ctx, learn, sinceT)
					if err != nil {
						return err
					}
					if check {
						if eng == nil {
							var closeFn func()
							if file, eng, closeFn, err = app.ticketSystems(ctx, &cf); err != nil {
								return err
							}
							defer closeFn()
						}
						if cs, err = app.liveCorrections(ctx, file, eng, learn, sinceT, cs); err != nil {
							return err
						}
						where += " and the tickets otai changed"
					}
					if len(cs) == 0 {
						if check {
							fmt.Fprintf(app.Err, "no corrections of %s recorded or found on the tickets\n", learn)
						} else {
							fmt.Fprintf(app.Err, "no corrections recorded for %s\n", learn)
						}
					} else {
						var ms mergeStats
						ex, ms = mergeCorrections(ex, cs, corrW)
						fmt.Fprintf(app.Err, "added %s of %s from %s as %d examples (weight %d; %d earlier examples of the same text replaced, %d older corrections of the same text superseded)\n",
							plural(ms.Added, "correction"), learn, where, ms.Added*corrW, corrW, ms.Replaced, ms.Superseded)
						source += " and " + plural(ms.Added, "correction")
					}
				}
				m, err := linear.Train(ctx, ex, opts)
				if err != nil {
					return trainError(err)
				}
				m.Meta.Field = learn
				if name == "" {
					name = m.Meta.Field
				}
				m.Meta.Name = name
				m.Meta.OtaiVersion = Version
				if err := m.Save(out); err != nil {
					return envError(err)
				}
				fi, _ := os.Stat(out)
				var size int64
				if fi != nil {
					size = fi.Size()
				}
				labels := make([]string, 0, len(m.Labels))
				for _, l := range m.Labels {
					labels = append(labels, fmt.Sprintf("%s (%d)", l, m.Meta.ClassCounts[l]))
				}
				sort.Strings(labels)
				fmt.Fprintf(app.Out, "wrote %s: %d labels, %d features, %s, trained on %d examples from %s in %s\n",
					filepath.Clean(out), len(m.Labels), len(m.Buckets), humanBytes(size), m.Meta.Examples, source,
					time.Since(start).Round(time.Millisecond))
				fmt.Fprintf(app.Out, "labels: %s\n", strings.Join(labels, ", "))
				if mt := m.Meta.Metrics; mt["holdout"] > 0 {
					fmt.Fprintf(app.Out, "held-out %d examples: accuracy %.3f, macro-F1 %.3f, ECE %.3f (%.3f before calibration, temperature %.2f)\n",
						int(mt["holdout"]), mt["accuracy"], mt["macro_f1"], mt["ece"], mt["ece_uncalibrated"], m.Temperature)
				}
				if tickets, ngrams, strength := m.Memory(); tickets > 0 {
					fmt.Fprintf(app.Out, "memory: %d training tickets over %d rare word n-grams, strength %g (a new ticket much like one of them leans towards its label)\n",
						tickets, ngrams, strength)
				} else if b, ok := m.Meta.Metrics["neighbour_beta"]; ok && b == 0 {
					if h := m.Meta.Metrics["holdout"]; h < linear.MinMemoryHoldout {
						fmt.Fprintf(app.Out, "memory: none kept (%d held-out examples are too few to show that leaning towards look-alike training tickets helps: %d needed, about %d training examples)\n",
							int(h), linear.MinMemoryHoldout, 10*linear.MinMemoryHoldout)
					} else {
						fmt.Fprintln(app.Out, "memory: none kept (on the held-out examples, leaning towards look-alike training tickets did not help)")
					}
				}
				return nil
			},
		}
		df.add(cmd, "queue")
		cf.add(cmd)
		f := cmd.Flags()
		f.StringVarP(&out, "output", "o", "", "model file to write (written atomically)")
		f.StringVar(&from, "from", "", "train from the closed tickets of this configured ticket system instead of --data")
		f.StringVar(&field, "field", "queue", "with --from: the field to learn: queue, priority, type, or a custom field")
		f.StringVar(&since, "since", "", "with --from: only tickets updated within this window, e.g. 90d (also limits --corrections, and the decisions --check-tickets follows)")
		f.StringVar(&states, "state", "closed", "with --from: ticket states to learn from (comma list)")
		f.IntVar(&minEx, "min-examples", 20, "with --from: fewest labelled tickets to train on")
		f.StringVar(&name, "name", "", "model name shown in notes (default: the label column)")
		f.Float64Var(&opts.C, "reg-c", opts.C, "inverse L2 regularisation strength (C)")
		f.IntVar(&opts.Epochs, "epochs", opts.Epochs, "training epochs")
		f.StringVar(&opts.ClassWeight, "class-weight", opts.ClassWeight, "balanced, sqrt or none")
		f.Float64Var(&opts.Holdout, "holdout", opts.Holdout, "share held out to calibrate probabilities (negative: no calibration)")
		f.IntVar(&opts.RefitEpochs, "refit-epochs", opts.RefitEpochs, "after calibration, continue training on all examples for this many epochs (-1: refit from scratch)")
		f.Int64Var(&opts.Seed, "seed", opts.Seed, "random seed (training is deterministic for a seed)")
		f.BoolVar(&memory, "neighbours", true, "keep a memory of the training tickets, so a ticket much like one of them leans towards its label (--neighbours=false: the linear model alone, in a smaller file that older otai versions read too)")
		f.BoolVar(&corr, "corrections", false, "also learn from the agents' corrections of this field recorded in the state store (<data-dir>/state.db, or PostgreSQL with OTAI_STATE_DSN)")
		f.IntVar(&corrW, "corrections-weight", 2, "with --corrections: each correction counts as this many examples")
		f.BoolVar(&check, "check-tickets", false, "with --corrections: also read every ticket otai changed the field of (via --config) and learn where an agent has changed it since, including tickets no run fetches again")
		f.IntVar(&workers, "workers", 0, "goroutines to use (default: all cores; results do not depend on it)")
		return cmd
	})
}

// enoughExamples is TrainFromSystem's check: at least minEx labelled
// tickets and two labels.
func enoughExamples(ex []linear.Example, minEx int, field string, tickets int) error {
	if minEx <= 0 {
		minEx = 20
	}
	labels := map[string]bool{}
	for _, e := range ex {
		labels[e.Label] = true
	}
	if len(ex) < minEx || len(labels) < 2 {
		return fmt.Errorf("%w: %d labelled tickets with %d distinct %s values (of %d read); need at least %d and 2",
			linear.ErrTooFewExamples, len(ex), len(labels), field, tickets, minEx)
	}
	return nil
}

// ticketSystems loads the config (--config, or the embedded demo) and
// builds its ticket systems. Only the ticket systems: a classifier whose
// model is not trained yet (this very run may train it) must not keep
// train from reading the help desk. closeFn releases them.
func (app *App) ticketSystems(ctx context.Context, cf *configFlags) (file *config.File, eng *orchestrator.Engine, closeFn func(), err error) {
	if file, err = app.load(cf); err != nil {
		return nil, nil, nil, err
	}
	file = ticketSystemsOnly(file)
	if eng, closeFn, err = app.build(ctx, file, true, nil); err != nil {
		return nil, nil, nil, err
	}
	return file, eng, closeFn, nil
}

// corrections reads the corrections of field from the state store:
// PostgreSQL when OTAI_STATE_DSN is set (where 'otai run' records them
// then), else <data-dir>/state.db, which must exist (exit 3 otherwise).
// where names the store for messages.
func (app *App) corrections(ctx context.Context, field string, since time.Time) (cs []pipe.Correction, where string, err error) {
	if err := app.stateDBExists(); err != nil {
		return nil, "", err
	}
	st, err := app.openState(ctx, "", true)
	if err != nil {
		return nil, "", err
	}
	defer st.Close()
	cs, err = st.Corrections(ctx, field, since)
	if err != nil {
		return nil, "", envError(fmt.Errorf("--corrections: %w", err))
	}
	kept, dropped, err := dropSentBack(ctx, st, cs)
	if err != nil {
		return nil, "", envError(fmt.Errorf("--corrections: %w", err))
	}
	if dropped > 0 {
		fmt.Fprintf(app.Err, "left out %s that only sent a ticket back to its value before otai (recorded by an older otai)\n", plural(dropped, "correction"))
	}
	return kept, app.stateWhere(), nil
}

// dropSentBack leaves out corrections whose "agent value" is the value the
// field had before otai changed it: the agent sent the ticket back (to the
// Inbox, say), which names no label to learn. otai no longer records
// these; older versions did.
func dropSentBack(ctx context.Context, st state.Backend, cs []pipe.Correction) ([]pipe.Correction, int, error) {
	all := true
	var kept []pipe.Correction
	byTicket := map[string][]pipe.Decision{}
	for _, c := range cs {
		ds, ok := byTicket[c.TicketID]
		if !ok {
			var err error
			if ds, err = st.Decisions(ctx, state.Filter{TicketID: c.TicketID, Limit: -1}); err != nil {
				return nil, 0, err
			}
			byTicket[c.TicketID] = ds
		}
		if sentBack(c, ds) {
			all = false
			continue
		}
		kept = append(kept, c)
	}
	if all {
		return cs, 0, nil
	}
	return kept, len(cs) - len(kept), nil
}

// sentBack reports whether c's agent value is the field's value before
// the decision c corrects.
func sentBack(c pipe.Correction, ds []pipe.Decision) bool {
	for _, d := range ds {
		if d.ID != c.DecisionID {
			continue
		}
		for _, ch := range d.Changes {
			if strings.EqualFold(ch.Field, c.Field) && strings.EqualFold(strings.TrimSpace(ch.From), strings.TrimSpace(c.Agent)) {
				return true
			}
		}
	}
	return false
}

// stateWhere names the state store openState opens.
func (app *App) stateWhere() string {
	if os.Getenv(StateDSNEnv) != "" {
		return "the PostgreSQL state store (" + StateDSNEnv + ")"
	}
	return filepath.Join(app.DataDir, "state.db")
}

// stateDBExists fails (exit 3) when corrections are read from
// <data-dir>/state.db and it does not exist; with OTAI_STATE_DSN set they
// are read from PostgreSQL and it says nothing.
func (app *App) stateDBExists() error {
	if os.Getenv(StateDSNEnv) != "" {
		return nil
	}
	path := filepath.Join(app.DataDir, "state.db")
	if _, err := os.Stat(path); err != nil {
		return envError(fmt.Errorf("--corrections: %s does not exist: no corrections have been recorded in this data directory (run 'otai run' first, or set --data-dir or OTAI_DATA_DIR, or %s for a PostgreSQL state store)", path, StateDSNEnv))
	}
	return nil
}

type mergeStats struct {
	Added      int // distinct corrected texts added
	Replaced   int // earlier examples dropped because a correction has their text
	Superseded int // older corrections of a text a newer one corrects again
}

// textKey identifies a ticket text regardless of whitespace.
func textKey(s string) string { return strings.Join(strings.Fields(s), " ") }

// mergeCorrections appends corrections (oldest first) to ex as examples
// with the agent's label, each weight times. Per text only the newest
// correction counts, and it replaces the examples of ex with that text.
func mergeCorrections(ex []linear.Example, cs []pipe.Correction, weight int) ([]linear.Example, mergeStats) {
	var ms mergeStats
	latest := map[string]int{} // text key -> index in cs
	var order []string
	for i, c := range cs {
		if strings.TrimSpace(c.Agent) == "" {
			continue
		}
		k := textKey(c.Subject + " " + c.Body)
		if k == "" {
			continue
		}
		if _, ok := latest[k]; ok {
			ms.Superseded++
		} else {
			order = append(order, k)
		}
		latest[k] = i
	}
	out := make([]linear.Example, 0, len(ex)+weight*len(order))
	for _, e := range ex {
		if _, ok := latest[textKey(e.Text)]; ok {
			ms.Replaced++
			continue
		}
		out = append(out, e)
	}
	for _, k := range order {
		c := cs[latest[k]]
		for range weight {
			out = append(out, linear.Example{Text: c.Subject + " " + c.Body, Label: strings.TrimSpace(c.Agent)})
		}
	}
	ms.Added = len(order)
	return out, ms
}

func trainError(err error) error {
	if errors.Is(err, linear.ErrTooFewExamples) {
		return failure(err)
	}
	return failure(fmt.Errorf("training: %w", err))
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func noText(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(", %d without subject and body", n)
}

// rareLabels says which labels were dropped for having too few tickets to
// learn from, so the counts of the "read" line add up.
func rareLabels(rare map[string]int) string {
	if len(rare) == 0 {
		return ""
	}
	names := make([]string, 0, len(rare))
	n := 0
	for l, c := range rare {
		names = append(names, fmt.Sprintf("%q (%d)", l, c))
		n += c
	}
	sort.Strings(names)
	return fmt.Sprintf(", %d with a label too rare to learn: %s", n, strings.Join(names, ", "))
}
