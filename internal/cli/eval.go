package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/otai-dev/otai/classify/linear"
	"github.com/otai-dev/otai/config"
	"github.com/otai-dev/otai/internal/dataset"
	"github.com/otai-dev/otai/internal/evalreport"
	"github.com/spf13/cobra"
)

// loadModel loads a model file; a missing file is an environment error,
// a corrupt one a failure. A relative path that does not exist here is
// looked up in the data directory too, where a config's model paths are
// relative to (models/queue.model).
func (app *App) loadModel(path string) (*linear.Model, error) {
	if path == "" {
		return nil, usageError("--model: say which model file to use")
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) && !filepath.IsAbs(path) && app.DataDir != "" {
		if _, err := os.Stat(filepath.Join(app.DataDir, path)); err == nil {
			path = filepath.Join(app.DataDir, path)
		}
	}
	if _, err := os.Stat(path); err != nil {
		return nil, envError(fmt.Errorf("model: %w", err))
	}
	m, err := linear.Load(path)
	if err != nil {
		return nil, failure(err)
	}
	return m, nil
}

func init() {
	addCommand(func(app *App) *cobra.Command {
		var (
			df        dataFlags
			cf        configFlags
			from      string
			since     string
			states    string
			modelPath string
			report    string
			jsonOut   bool
			topK      int
		)
		cmd := &cobra.Command{
			Use:   "eval",
			Short: "Score a trained model on labelled tickets",
			Long: `Score a model on labelled data: accuracy, macro-F1, per-class precision, recall
and F1, the confusion matrix, and calibration (expected calibration error, and what
a confidence threshold would do). --report writes a self-contained HTML page with a
confusion-matrix heat map and a reliability diagram.

The column flags are those of 'otai train'. The label column defaults to the one
the model was trained on.

--from SERVICE_ID scores the model on a configured ticket system's tickets instead
(--config, or the embedded demo): the closed ones by default (--state), updated
within --since if given, with the field the model learned as the truth. Tickets the
model was trained on are recognised and scored apart, so after 'otai train --from'
the scores of the tickets that arrived since are the ones to read.`,
			Example: `  otai eval --model queue.model --data test.csv
  otai eval --model queue.model --data test.csv --report report.html
  otai eval --model priority.model --data test.jsonl --label priority --json
  otai eval --model queue.model --config config.yml --from helpdesk --since 30d`,
			Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				if (df.data == "") == (from == "") {
					return usageError("give either --data FILE or --from SERVICE_ID: the labelled tickets to score on")
				}
				m, err := app.loadModel(modelPath)
				if err != nil {
					return err
				}
				if df.label == "" {
					df.label = m.Meta.Field
				}
				if df.label == "" {
					return usageError("--label: the model does not record its label column; name it")
				}
				var recs []dataset.Record
				source := df.data
				if from != "" {
					if recs, source, err = app.evalTickets(cmd.Context(), &cf, from, df.label, since, states); err != nil {
						return err
					}
				} else if recs, _, err = df.load(); err != nil {
					return err
				}
				if len(recs) == 0 {
					return failure(fmt.Errorf("%s: no labelled rows", source))
				}
				truth := make([]string, len(recs))
				probs := make([][]float64, len(recs))
				seen := make([]bool, len(recs))
				nSeen := 0
				for i, r := range recs {
					if i%1024 == 0 {
						if err := cmd.Context().Err(); err != nil {
							return err
						}
					}
					truth[i] = r.Label
					probs[i] = m.Probabilities(r.Text)
					if s, _ := m.SeenInTraining(r.Text); s {
						seen[i] = true
						nSeen++
					}
				}
				rep := evalreport.Compute(m.Labels, truth, probs, topK)
				rep.SeenUnknown = !m.RecordsTrainingTexts()
				if nSeen > 0 {
					rep.Seen = unseenScores(m, truth, probs, seen, nSeen, topK)
				}
				info := m.Describe()
				rep.Model = fmt.Sprintf("%s (%s, %s)", filepath.Base(modelPath), info.Name, info.Version)
				rep.Data = source
				rep.Trained = trainedLine(m.Meta)
				rep.Title = "otai evaluation: " + filepath.Base(modelPath)
				if report != "" {
					f, err := os.Create(report)
					if err != nil {
						return envError(fmt.Errorf("report: %w", err))
					}
					if err := rep.WriteHTML(f); err != nil {
						f.Close()
						return envError(fmt.Errorf("report: %w", err))
					}
					if err := f.Close(); err != nil {
						return envError(fmt.Errorf("report: %w", err))
					}
					fmt.Fprintf(app.Err, "wrote %s\n", report)
				}
				if rep.N > 0 && rep.Unknown == rep.N {
					fmt.Fprintf(app.Err, "warning: none of the %d rows has a label the model knows (%s): is --label %q the column the model learned?\n",
						rep.N, strings.Join(m.Labels[:min(len(m.Labels), 5)], ", ")+ellipsis(len(m.Labels) > 5), df.label)
				}
				if w := rep.Warning(); w != "" && jsonOut {
					fmt.Fprintf(app.Err, "warning: %s\n", w)
				}
				if jsonOut {
					enc := json.NewEncoder(app.Out)
					enc.SetIndent("", "  ")
					return enc.Encode(rep)
				}
				return rep.WriteText(app.Out)
			},
		}
		df.add(cmd, "")
		cf.add(cmd)
		f := cmd.Flags()
		f.StringVar(&from, "from", "", "score on the tickets of this ticket system of --config instead of --data")
		f.StringVar(&since, "since", "", "with --from: only tickets updated within this window, e.g. 30d")
		f.StringVar(&states, "state", "closed", "with --from: ticket states to score on (comma-separated)")
		f.StringVarP(&modelPath, "model", "m", "", "model file written by 'otai train'")
		f.StringVar(&report, "report", "", "also write a self-contained HTML report here")
		f.BoolVar(&jsonOut, "json", false, "print the report as JSON")
		f.IntVar(&topK, "top-k", 3, "k for top-k accuracy")
		// Evaluation scores every row, duplicates included, unless asked.
		_ = f.Set("dedupe", "false")
		f.Lookup("dedupe").DefValue = "false"
		return cmd
	})
}

// unseenScores scores the rows the model was not trained on.
func unseenScores(m *linear.Model, truth []string, probs [][]float64, seen []bool, nSeen, topK int) *evalreport.Overlap {
	o := &evalreport.Overlap{Rows: nSeen, FPRate: m.Meta.TrainingTexts.FPRate}
	if mt := m.Meta.Metrics; mt["holdout"] > 0 {
		o.HeldOut = &evalreport.Summary{N: int(mt["holdout"]), Accuracy: mt["accuracy"], MacroF1: mt["macro_f1"]}
	}
	var t []string
	var p [][]float64
	for i := range truth {
		if !seen[i] {
			t = append(t, truth[i])
			p = append(p, probs[i])
		}
	}
	if len(t) > 0 {
		u := evalreport.Compute(m.Labels, t, p, topK)
		o.Unseen = &evalreport.Summary{N: u.N, Accuracy: u.Accuracy, MacroF1: u.MacroF1}
	}
	return o
}

// trainedLine summarises a model's training metadata for eval's header.
func trainedLine(md linear.Metadata) string {
	var parts []string
	if !md.TrainedAt.IsZero() {
		parts = append(parts, md.TrainedAt.Format("2006-01-02 15:04 UTC"))
	}
	if md.Examples > 0 {
		parts = append(parts, fmt.Sprintf("on %d examples of %s", md.Examples, plural(len(md.ClassCounts), "label")))
	}
	if h := md.DataHash; len(h) >= 12 {
		parts = append(parts, "data sha256 "+h[:12])
	}
	if mt := md.Metrics; mt["holdout"] > 0 {
		parts = append(parts, fmt.Sprintf("held out %d: accuracy %.3f, macro-F1 %.3f, ECE %.3f", int(mt["holdout"]), mt["accuracy"], mt["macro_f1"], mt["ece"]))
	}
	if md.OtaiVersion != "" {
		parts = append(parts, "otai "+md.OtaiVersion)
	}
	return strings.Join(parts, "; ")
}

func ellipsis(more bool) string {
	if more {
		return ", …"
	}
	return ""
}

// evalTickets reads the labelled tickets eval --from scores: the states'
// tickets of the ticket system from, with field (the model's, unless
// --label names another) as the label; no label is dropped as rare.
func (app *App) evalTickets(ctx context.Context, cf *configFlags, from, field, since, states string) ([]dataset.Record, string, error) {
	var sinceT time.Time
	if since != "" {
		d, err := config.ParseDuration(since)
		if err != nil || d < 0 {
			return nil, "", usageError("--since %q: want a duration like 30d or 720h", since)
		}
		if d > 0 {
			sinceT = time.Now().Add(-d)
		}
	}
	_, eng, closeFn, err := app.ticketSystems(ctx, cf)
	if err != nil {
		return nil, "", err
	}
	defer closeFn()
	sys, err := eng.Services().TicketSystem(from)
	if err != nil {
		return nil, "", usageError("--from: %v", err)
	}
	so := linear.SourceOptions{Field: field, States: dataset.SplitList(states), Since: sinceT, MinPerClass: 1}
	ex, st, err := linear.Examples(ctx, sys, so)
	if err != nil {
		return nil, "", failure(fmt.Errorf("--from %s: %w", from, err))
	}
	fmt.Fprintf(app.Err, "read %d tickets from %s: %d with a %s (%d without%s)\n", st.Tickets, from, len(ex), field, st.NoLabel, noText(st.NoText))
	recs := make([]dataset.Record, len(ex))
	for i, e := range ex {
		recs[i] = dataset.Record{Text: e.Text, Label: e.Label}
	}
	if len(so.States) == 0 {
		so.States = []string{"closed"}
	}
	source := fmt.Sprintf("ticket system %s (%s tickets", from, strings.Join(so.States, ", "))
	if since != "" {
		source += ", updated within " + since
	}
	return recs, source + ")", nil
}
