package linear

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/otai-dev/otai/classify"
	"github.com/otai-dev/otai/registry"
	"github.com/otai-dev/otai/ticket"
)

// Params are the params of the base:LinearClassifier service.
type Params struct {
	Model     string       `yaml:"model" otai:"required" desc:"Model file written by 'otai train'; a relative path is relative to the data directory."`
	TopK      int          `yaml:"top_k" default:"3" desc:"How many ranked labels to return when the caller does not say."`
	Threshold float64      `yaml:"threshold" default:"0" desc:"Confidence the model's owner considers trustworthy. Predictions are never dropped: all top-k labels are returned and Threshold() reports this value, so a classify pipe can tell sure from unsure."`
	Train     *TrainParams `yaml:"train" desc:"Train the model from a ticket system's closed tickets when the file does not exist (or retrain is true)."`
}

// TrainParams say how to train a missing model at start-up.
type TrainParams struct {
	TicketSystem string        `yaml:"ticket_system" otai:"required" ref:"ticket_system" desc:"Id of the ticket system to learn from."`
	Field        string        `yaml:"field" default:"queue" desc:"The label to learn: queue, priority, type, or a custom field name."`
	States       []string      `yaml:"states" desc:"Ticket states to learn from (default: closed)."`
	Since        time.Duration `yaml:"since" desc:"Only tickets updated within this window, e.g. 90d (default: all)."`
	MinExamples  int           `yaml:"min_examples" default:"20" desc:"Fewest labelled tickets to train on."`
	Retrain      bool          `yaml:"retrain" desc:"Retrain at every start even if the model file exists."`
}

func init() {
	registry.RegisterClassifier(registry.Info{
		ID:      "base:LinearClassifier",
		Aliases: []string{"linear:Classifier", "base:Linear"},
		Summary: "Built-in text classifier (TF-IDF n-grams + logistic regression) that runs in-process; trained with 'otai train' or from closed tickets.",
		Description: "Loads a model file written by 'otai train'. Returns the top-k labels with calibrated probabilities. " +
			"With a train block, a missing model is trained at start-up from the closed tickets of a ticket system and saved atomically.",
	}, New)
}

var (
	_ classify.Classifier       = (*Classifier)(nil)
	_ classify.Describer        = (*Classifier)(nil)
	_ classify.TrainingReporter = (*Classifier)(nil)
)

// Classifier is a loaded model as a classify.Classifier service.
type Classifier struct {
	Model     *Model
	TopK      int
	threshold float64
	path      string
	train     *TrainParams // nil: no train block
}

// New builds the service: it loads the model file, or trains it first when
// a train block is configured and the file is missing (or retrain is set).
// In validate mode nothing is trained or written.
func New(ctx context.Context, p *Params, env registry.Env) (classify.Classifier, error) {
	if strings.TrimSpace(p.Model) == "" {
		return nil, errors.New("model: a model file path is required")
	}
	if p.Threshold < 0 || p.Threshold > 1 {
		return nil, fmt.Errorf("threshold %g: want a value between 0 and 1", p.Threshold)
	}
	path := p.Model
	if !filepath.IsAbs(path) && env.DataDir != "" {
		path = filepath.Join(env.DataDir, path)
	}
	c := &Classifier{TopK: p.TopK, threshold: p.Threshold, path: path, train: p.Train}
	_, statErr := os.Stat(path)
	missing := errors.Is(statErr, fs.ErrNotExist)
	train := p.Train != nil && (missing || p.Train.Retrain)
	if p.Train != nil && strings.TrimSpace(p.Train.TicketSystem) == "" {
		return nil, errors.New("train.ticket_system: the id of a ticket system to learn from is required")
	}
	if env.Validate {
		if p.Train != nil && env.Services != nil {
			if _, err := env.Services.TicketSystem(p.Train.TicketSystem); err != nil {
				return nil, fmt.Errorf("train.ticket_system: %w", err)
			}
		}
		if train {
			return c, nil // would be trained at start-up
		}
		if missing {
			// Validation may run before the model is copied into place:
			// warn, and fail at start-up if it is still missing.
			if env.Logger != nil {
				env.Logger.Warn("model file does not exist yet: train one with 'otai train', or add a train block", "path", path)
			}
			return c, nil
		}
	}
	if train {
		if env.Services == nil {
			return nil, errors.New("train: no services to find the ticket system in")
		}
		sys, err := env.Services.TicketSystem(p.Train.TicketSystem)
		if err != nil {
			return nil, fmt.Errorf("train.ticket_system: %w", err)
		}
		o := SourceOptions{Field: p.Train.Field, States: p.Train.States, MinExamples: p.Train.MinExamples,
			Logger: env.Logger, Train: DefaultTrainOptions()}
		if p.Train.Since > 0 {
			o.Since = time.Now().Add(-p.Train.Since)
		}
		start := time.Now()
		m, st, err := TrainFromSystem(ctx, sys, o)
		if err != nil {
			return nil, fmt.Errorf("training %s from %s: %w", path, p.Train.TicketSystem, err)
		}
		m.Meta.Name = o.Field
		m.Meta.OtaiVersion = env.Version
		if err := m.Save(path); err != nil {
			return nil, err
		}
		if env.Logger != nil {
			env.Logger.Info("trained linear model", "path", path, "field", o.Field, "tickets", st.Tickets,
				"examples", st.Examples, "labels", len(m.Labels), "took", time.Since(start).Round(time.Millisecond),
				"holdout_accuracy", round3(m.Meta.Metrics["accuracy"]), "holdout_ece", round3(m.Meta.Metrics["ece"]))
		}
		c.Model = m
		return c, nil
	}
	m, err := Load(path)
	if err != nil {
		if missing {
			return nil, fmt.Errorf("model file %s does not exist: train one with 'otai train', or add a train block: %w", path, err)
		}
		if p.Train != nil {
			return nil, fmt.Errorf("%w (move the file away, e.g. mv %q %q, and otai trains a new one from %s at the next start)",
				err, path, path+".bad", p.Train.TicketSystem)
		}
		return nil, fmt.Errorf("%w (train a new one with 'otai train ... -o %s')", err, path)
	}
	c.Model = m
	return c, nil
}

func round3(v float64) float64 { return float64(int(v*1000+0.5)) / 1000 }

// Classify returns the top k labels (k <= 0: the configured top_k, and if
// that is 0 too, all) with calibrated probabilities.
func (c *Classifier) Classify(ctx context.Context, text string, k int) ([]classify.Prediction, error) {
	if c.Model == nil {
		return nil, errors.New("linear classifier: no model loaded (validate mode)")
	}
	if k <= 0 {
		k = c.TopK
	}
	return c.Model.Classify(ctx, text, k)
}

// Threshold is the configured confidence threshold. Predictions below it
// are still returned; callers decide what "unsure" means for them.
func (c *Classifier) Threshold() float64 { return c.threshold }

// Training implements classify.TrainingReporter; zero before a model is
// loaded (validate mode).
func (c *Classifier) Training() classify.Training {
	if c.Model == nil {
		return classify.Training{}
	}
	return c.Model.Training()
}

// Describe implements classify.Describer.
func (c *Classifier) Describe() classify.Info {
	if c.Model == nil {
		return classify.Info{Name: "linear"}
	}
	return c.Model.Describe()
}

// staleAfter is the model age from which 'otai check' suggests retraining.
const staleAfter = 180 * 24 * time.Hour

// Check reports, for 'otai check', whether the model is there and what it
// is: labels, when and on what it was trained, its held-out scores. A
// missing model is a failure unless a train block will train it at start.
func (c *Classifier) Check(_ context.Context) []ticket.CheckResult {
	if c.Model == nil {
		if c.train != nil {
			return []ticket.CheckResult{{Name: "model", OK: true, Warn: true,
				Message: fmt.Sprintf("%s does not exist yet: it is trained at start-up from the closed tickets of %s", c.path, c.train.TicketSystem)}}
		}
		// Not a failure: check is how an admin tries a config before the
		// first model exists; 'otai run' fails on it, 'otai check' warns.
		return []ticket.CheckResult{{Name: "model", OK: true, Warn: true,
			Message: fmt.Sprintf("%s does not exist yet: train one with 'otai train ... -o %s' before 'otai run', or add a train block", c.path, c.path)}}
	}
	md := c.Model.Meta
	labels := c.Model.Labels
	shown := strings.Join(labels[:min(len(labels), 6)], ", ")
	if len(labels) > 6 {
		shown += fmt.Sprintf(", … (%d in all)", len(labels))
	}
	out := []ticket.CheckResult{{Name: "model", OK: true, Message: fmt.Sprintf("%s: %d labels (%s)", c.path, len(labels), shown)}}
	trained := fmt.Sprintf("on %d examples", md.Examples)
	if !md.TrainedAt.IsZero() {
		trained = md.TrainedAt.Format("2006-01-02") + " " + trained
	}
	if mt := md.Metrics; mt["holdout"] > 0 {
		trained += fmt.Sprintf("; held out %d: accuracy %.3f, macro-F1 %.3f, ECE %.3f", int(mt["holdout"]), mt["accuracy"], mt["macro_f1"], mt["ece"])
	}
	r := ticket.CheckResult{Name: "trained", OK: true, Message: trained}
	if age := time.Since(md.TrainedAt); !md.TrainedAt.IsZero() && age > staleAfter {
		r.Warn = true
		r.Message += fmt.Sprintf(" (%d days ago: retrain on recent tickets, queues and wording change)", int(age.Hours()/24))
	}
	out = append(out, r)
	if tickets, ngrams, strength := c.Model.Memory(); tickets > 0 {
		out = append(out, ticket.CheckResult{Name: "memory", OK: true,
			Message: fmt.Sprintf("%d training tickets over %d rare word n-grams, strength %g: a ticket much like one of them leans towards its label",
				tickets, ngrams, strength)})
	}
	if c.threshold > 0 {
		from := "SERVICE_ID"
		if c.train != nil {
			from = c.train.TicketSystem
		}
		out = append(out, ticket.CheckResult{Name: "threshold", OK: true,
			Message: fmt.Sprintf("%.2f (what it lets through: otai eval --model %s --from %s)", c.threshold, c.path, from)})
	}
	return out
}
