package cli

import (
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
	cmd.Flags().BoolVar(&f.keepEscapes, "keep-escapes", false, `keep literal "\n" sequences (by default they become newlines)`)
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
		)
		cmd := &cobra.Command{
			Use:   "train",
			Short: "Train the built-in linear classifier from labelled tickets",
			Long: `Train otai's built-in classifier (TF-IDF word and character n-grams, logistic
regression with calibrated probabilities) and write it to one model file.

From a file: CSV with a header row, or JSONL. --text names the columns joined into
the text, --label the column to learn; --map renames columns (subject=title).
Literal "\n" sequences in the data become newlines. Duplicate texts are dropped.

From a ticket system: --from SERVICE_ID reads the closed tickets of a ticket system
configured in --config (or the embedded demo) and learns --field.

The model keeps its training metadata (data hash, date, held-out metrics); see it
with 'otai eval' or in the log line train prints.`,
			Example: `  otai train --data tickets.csv --text subject,body --label queue -o queue.model
  otai train --data export.jsonl --label priority -o priority.model
  otai train --data endava.csv --map subject=title --label category -o category.model
  otai train --from local --field queue --since 180d -o queue.model`,
			Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				if out == "" {
					return usageError("-o/--output: say where to write the model file")
				}
				if (df.data == "") == (from == "") {
					return usageError("give either --data FILE or --from SERVICE_ID")
				}
				opts.Workers = workers
				opts.Progress = progressFunc(app.Err)
				ctx := cmd.Context()
				start := time.Now()
				var m *linear.Model
				var source string
				if df.data != "" {
					recs, st, err := df.load()
					if err != nil {
						return err
					}
					ex := make([]linear.Example, len(recs))
					for i, r := range recs {
						ex[i] = linear.Example{Text: r.Text, Label: r.Label}
					}
					fmt.Fprintf(app.Err, "read %d rows from %s: %d examples (%d without label, %d without text, %d duplicates)\n",
						st.Rows, df.data, len(ex), st.NoLabel, st.NoText, st.Duplicates)
					m, err = linear.Train(ctx, ex, opts)
					if err != nil {
						return trainError(err)
					}
					m.Meta.Field = df.label
					source = df.data
				} else {
					file, err := app.load(&cf)
					if err != nil {
						return err
					}
					eng, closeFn, err := app.build(ctx, file, true, nil)
					if err != nil {
						return err
					}
					defer closeFn()
					sys, err := eng.Services().TicketSystem(from)
					if err != nil {
						return usageError("--from: %v", err)
					}
					so := linear.SourceOptions{Field: field, States: dataset.SplitList(states), MinExamples: minEx, Train: opts}
					if since != "" {
						d, err := config.ParseDuration(since)
						if err != nil || d < 0 {
							return usageError("--since %q: want a duration like 90d or 720h", since)
						}
						if d > 0 {
							so.Since = time.Now().Add(-d)
						}
					}
					var st linear.SourceStats
					m, st, err = linear.TrainFromSystem(ctx, sys, so)
					if err != nil {
						return trainError(err)
					}
					fmt.Fprintf(app.Err, "read %d tickets from %s: %d examples (%d without %s)\n", st.Tickets, from, st.Examples, st.NoLabel, field)
					source = "ticket system " + from
				}
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
				return nil
			},
		}
		df.add(cmd, "queue")
		cf.add(cmd)
		f := cmd.Flags()
		f.StringVarP(&out, "output", "o", "", "model file to write (written atomically)")
		f.StringVar(&from, "from", "", "train from the closed tickets of this configured ticket system instead of --data")
		f.StringVar(&field, "field", "queue", "with --from: the field to learn: queue, priority, type, or a custom field")
		f.StringVar(&since, "since", "", "with --from: only tickets updated within this window, e.g. 90d")
		f.StringVar(&states, "state", "closed", "with --from: ticket states to learn from (comma list)")
		f.IntVar(&minEx, "min-examples", 20, "with --from: fewest labelled tickets to train on")
		f.StringVar(&name, "name", "", "model name shown in notes (default: the label column)")
		f.Float64Var(&opts.C, "reg-c", opts.C, "inverse L2 regularisation strength (C)")
		f.IntVar(&opts.Epochs, "epochs", opts.Epochs, "training epochs")
		f.StringVar(&opts.ClassWeight, "class-weight", opts.ClassWeight, "balanced, sqrt or none")
		f.Float64Var(&opts.Holdout, "holdout", opts.Holdout, "share held out to calibrate probabilities (negative: no calibration)")
		f.IntVar(&opts.RefitEpochs, "refit-epochs", opts.RefitEpochs, "after calibration, continue training on all examples for this many epochs (-1: refit from scratch)")
		f.Int64Var(&opts.Seed, "seed", opts.Seed, "random seed (training is deterministic for a seed)")
		f.IntVar(&workers, "workers", 0, "goroutines to use (default: all cores; results do not depend on it)")
		return cmd
	})
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
