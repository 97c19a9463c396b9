package pipes

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"unicode/utf8"

	"github.com/otai-dev/otai/classify"
	"github.com/otai-dev/otai/pipe"
	"github.com/otai-dev/otai/registry"
)

// ClassifyParams are the params of base:ClassifyPipe.
type ClassifyParams struct {
	Classifier string   `yaml:"classifier" ref:"classifier" aliases:"model" desc:"Id of the classifier service; may be left out when only one is configured."`
	Text       string   `yaml:"text" default:"{{ ticket.subject }}\n\n{{ ticket.body }}" desc:"The text to classify."`
	TopK       int      `yaml:"top_k" default:"3" desc:"How many ranked labels to keep."`
	Threshold  *float64 `yaml:"threshold" desc:"Confidence at or above which above_threshold is true; by default the classifier's own threshold (0 if it has none)."`
	MaxChars   int      `yaml:"max_chars" default:"20000" desc:"Longer texts are cut to this many characters (a 5 MB body is not a better signal)."`
}

func init() {
	registry.RegisterPipe(registry.Info{
		ID:      "base:ClassifyPipe",
		Aliases: []string{"otai_base:pipes.classification_pipes.ClassificationPipe", "base:ClassificationPipe", "base:Classify"},
		Summary: "Classify text with a classifier service; later pipes read label, confidence, top_k, above_threshold.",
	}, func(b registry.Build[ClassifyParams]) (pipe.Pipe, error) {
		return withParams(b, func(ctx context.Context, rc *pipe.Context, p ClassifyParams) pipe.Result {
			c, err := rc.Services.Classifier(p.Classifier)
			if err != nil {
				return pipe.Failed(err)
			}
			text := cut(p.Text, p.MaxChars)
			if strings.TrimSpace(text) == "" {
				return pipe.Skipped("nothing to classify: the text is empty")
			}
			preds, err := c.Classify(ctx, text, p.TopK)
			if err != nil {
				return pipe.Failed(fmt.Errorf("classifying with %s: %w", p.Classifier, err))
			}
			data := map[string]any{"top_k": preds, "label": "", "confidence": 0.0, "above_threshold": false, "classifier": p.Classifier}
			if d, ok := c.(classify.Describer); ok {
				info := d.Describe()
				data["model"] = info.Name
				data["model_version"] = info.Version
			}
			if len(preds) == 0 {
				return pipe.Succeeded(data).WithAction("no prediction")
			}
			data["label"] = preds[0].Label
			data["confidence"] = preds[0].Confidence
			threshold := 0.0
			if t, ok := c.(interface{ Threshold() float64 }); ok {
				threshold = t.Threshold()
			}
			if p.Threshold != nil {
				threshold = *p.Threshold
			}
			data["threshold"] = threshold
			data["above_threshold"] = preds[0].Confidence >= threshold
			if l := rc.Log(); l.Enabled(ctx, slog.LevelDebug) {
				top := make([]string, 0, len(preds))
				for _, pr := range preds {
					top = append(top, fmt.Sprintf("%s %.0f%%", pr.Label, 100*pr.Confidence))
				}
				l.LogAttrs(ctx, slog.LevelDebug, "classified", slog.String("classifier", p.Classifier),
					slog.String("top_k", strings.Join(top, ", ")), slog.Float64("threshold", threshold),
					slog.Bool("above_threshold", preds[0].Confidence >= threshold), slog.Int("chars", len(text)))
			}
			return pipe.Succeeded(data).WithAction("%s %.0f%%", preds[0].Label, 100*preds[0].Confidence)
		}), nil
	})
}

// cut returns s shortened to at most n runes (n <= 0: unlimited), on a
// valid UTF-8 boundary.
func cut(s string, n int) string {
	if n <= 0 || len(s) <= n {
		return s
	}
	i := 0
	for k := 0; k < n && i < len(s); k++ {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return s[:i]
}
