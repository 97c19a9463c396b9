package cli

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/otai-dev/otai/classify"
	"github.com/otai-dev/otai/internal/dataset"
	"github.com/spf13/cobra"
)

func init() {
	addCommand(func(app *App) *cobra.Command {
		var (
			modelPath string
			topK      int
			jsonOut   bool
			textCols  string
		)
		cmd := &cobra.Command{
			Use:   "classify [TEXT...]",
			Short: "Classify text with a trained model and print the top-k labels",
			Long: `Classify text with a model written by 'otai train' and print the top-k labels with
their calibrated probabilities.

Each argument is one ticket. Without arguments, tickets are read from stdin, one per
line: plain text, or a JSON object whose --text fields (default subject,body, or
"text") are joined. Literal "\n" sequences become newlines.`,
			Example: `  otai classify --model queue.model "Invoice charged twice this month"
  otai classify --model queue.model --top-k 1 < tickets.txt
  otai classify --model priority.model --json < tickets.jsonl`,
			RunE: func(cmd *cobra.Command, args []string) error {
				m, err := app.loadModel(modelPath)
				if err != nil {
					return err
				}
				cols := dataset.SplitList(textCols)
				enc := json.NewEncoder(app.Out)
				w := bufio.NewWriter(app.Out)
				defer w.Flush()
				n := 0
				emit := func(text string) error {
					n++
					preds := m.Predict(text, topK)
					if jsonOut {
						w.Flush()
						return enc.Encode(struct {
							Label      string                `json:"label"`
							Confidence float64               `json:"confidence"`
							TopK       []classify.Prediction `json:"top_k"`
						}{preds[0].Label, preds[0].Confidence, preds})
					}
					if len(args) == 1 {
						for _, p := range preds {
							fmt.Fprintf(w, "%-32s %.3f\n", p.Label, p.Confidence)
						}
						return nil
					}
					parts := make([]string, len(preds))
					for i, p := range preds {
						parts[i] = fmt.Sprintf("%s %.3f", p.Label, p.Confidence)
					}
					_, err := fmt.Fprintf(w, "%d\t%s\n", n, strings.Join(parts, "\t"))
					return err
				}
				if len(args) > 0 {
					for _, a := range args {
						if err := emit(dataset.Unescape(a)); err != nil {
							return err
						}
					}
					return nil
				}
				sc := bufio.NewScanner(app.In)
				sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
				line := 0
				for sc.Scan() {
					line++
					if err := cmd.Context().Err(); err != nil {
						return err
					}
					s := strings.TrimSpace(sc.Text())
					if s == "" {
						continue
					}
					text, err := lineText(s, cols)
					if err != nil {
						return failure(fmt.Errorf("stdin line %d: %w", line, err))
					}
					if err := emit(text); err != nil {
						return err
					}
				}
				if err := sc.Err(); err != nil && err != io.EOF {
					return envError(fmt.Errorf("reading stdin: %w", err))
				}
				if n == 0 {
					return usageError("nothing to classify: give text as arguments or on stdin")
				}
				return nil
			},
		}
		f := cmd.Flags()
		f.StringVarP(&modelPath, "model", "m", "", "model file written by 'otai train'")
		f.IntVarP(&topK, "top-k", "k", 3, "how many labels to print (0: all)")
		f.BoolVar(&jsonOut, "json", false, "print one JSON object per ticket")
		f.StringVar(&textCols, "text", "subject,body", "with JSON input: fields joined into the text")
		return cmd
	})
}

// lineText returns the text of one stdin line: the joined fields of a
// JSON object, or the line itself.
func lineText(s string, cols []string) (string, error) {
	if !strings.HasPrefix(s, "{") {
		return dataset.Unescape(s), nil
	}
	var obj map[string]any
	if err := json.Unmarshal([]byte(s), &obj); err != nil {
		return "", fmt.Errorf("not a JSON object: %w", err)
	}
	var parts []string
	for _, c := range cols {
		if v, ok := obj[c].(string); ok && v != "" {
			parts = append(parts, v)
		}
	}
	if len(parts) == 0 {
		if v, ok := obj["text"].(string); ok {
			parts = append(parts, v)
		}
	}
	if len(parts) == 0 {
		return "", fmt.Errorf("the JSON object has none of the fields %s or text", strings.Join(cols, ", "))
	}
	return dataset.Unescape(strings.Join(parts, " ")), nil
}
