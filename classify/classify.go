// Package classify is the contract of otai's classifiers: text in, ranked
// labels with probabilities out. Classifier services (rules, the built-in
// linear model, LLM endpoints) implement Classifier and register themselves
// with the registry.
package classify

import (
	"context"
	"sort"
	"time"
)

// Prediction is one label with its score in [0, 1]. For probabilistic
// models the scores of all labels sum to 1; rule-based classifiers report a
// fixed configured confidence.
type Prediction struct {
	Label      string  `json:"label" expr:"label"`
	Confidence float64 `json:"confidence" expr:"confidence"`
}

// Classifier ranks labels for a text. It returns at most k predictions
// (k <= 0 means all), sorted by confidence, highest first; an empty slice
// means "no opinion" (e.g. no rule matched).
type Classifier interface {
	Classify(ctx context.Context, text string, k int) ([]Prediction, error)
}

// Info describes a loaded model, for decisions and notes.
type Info struct {
	Name    string   `json:"name"`
	Version string   `json:"version,omitempty"`
	Labels  []string `json:"labels,omitempty"`
}

// Training says how a trained model was trained: when, on how many
// examples, and its held-out scores (accuracy, macro_f1, ece; holdout is
// the number of held-out examples).
type Training struct {
	At       time.Time          `json:"trained_at,omitzero"`
	Examples int                `json:"examples,omitempty"`
	HeldOut  map[string]float64 `json:"held_out,omitempty"`
}

// TrainingReporter is implemented by classifiers trained from examples.
type TrainingReporter interface {
	Training() Training
}

// Describer is implemented by classifiers that can say what they are.
type Describer interface {
	Describe() Info
}

// Sort orders predictions by confidence, highest first, ties by label, and
// cuts them to k (k <= 0 keeps all).
func Sort(p []Prediction, k int) []Prediction {
	sort.SliceStable(p, func(i, j int) bool {
		if p[i].Confidence != p[j].Confidence {
			return p[i].Confidence > p[j].Confidence
		}
		return p[i].Label < p[j].Label
	})
	if k > 0 && len(p) > k {
		p = p[:k]
	}
	return p
}
