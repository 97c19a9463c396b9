package linear

import (
	"context"
	"fmt"
	"maps"
	"math"
	"sort"
	"sync"
	"time"

	"github.com/otai-dev/otai/classify"
)

// Metadata records how a model was trained.
type Metadata struct {
	Name        string             `json:"name,omitempty"`  // e.g. "queue"
	Field       string             `json:"field,omitempty"` // label column or ticket field
	TrainedAt   time.Time          `json:"trained_at"`
	DataHash    string             `json:"data_hash"` // sha256 of the training examples (text, label)
	Examples    int                `json:"examples"`
	ClassCounts map[string]int     `json:"class_counts,omitempty"`
	Seed        int64              `json:"seed"`
	Trainer     TrainOptions       `json:"trainer"`
	Metrics     map[string]float64 `json:"metrics,omitempty"` // held-out: accuracy, macro_f1, ece, nll
	Iterations  int                `json:"iterations"`
	TrainMillis int64              `json:"train_ms"`
	OtaiVersion string             `json:"otai_version,omitempty"`
	// TrainingTexts lets 'otai eval' notice rows the model learned from.
	TrainingTexts *TextSet `json:"training_texts,omitempty"`
}

// Model is a trained linear text classifier. It is safe for concurrent use.
type Model struct {
	Labels      []string
	Features    Features
	Buckets     []uint32  // active hashed features, ascending
	IDF         []float32 // per active feature
	Weights     []float32 // [feature][class], len(Buckets)*len(Labels)
	Bias        []float32 // per class
	Temperature float64   // logits are divided by it before the softmax
	Meta        Metadata

	nb    *neighbours // the memory of training tickets, nil if off
	remap []int32     // hashed index -> active feature, -1 if pruned
	nWord int32       // active features below it are word n-grams, the rest chars
	pool  sync.Pool
}

// init builds the lookup tables after training or loading.
func (m *Model) init() error {
	if err := m.Features.validate(); err != nil {
		return err
	}
	nc, nf := len(m.Labels), len(m.Buckets)
	switch {
	case nc < 2:
		return fmt.Errorf("model has %d labels, need at least 2", nc)
	case len(m.IDF) != nf:
		return fmt.Errorf("model has %d idf values for %d features", len(m.IDF), nf)
	case len(m.Weights) != nf*nc:
		return fmt.Errorf("model has %d weights for %d features x %d labels", len(m.Weights), nf, nc)
	case len(m.Bias) != nc:
		return fmt.Errorf("model has %d biases for %d labels", len(m.Bias), nc)
	case !(m.Temperature > 0) || math.IsInf(m.Temperature, 0):
		return fmt.Errorf("model temperature %g is not positive", m.Temperature)
	}
	seen := make(map[string]bool, nc)
	for _, l := range m.Labels {
		if seen[l] {
			return fmt.Errorf("label %q appears twice", l)
		}
		seen[l] = true
	}
	size := uint32(1) << m.Features.HashBits
	m.remap = make([]int32, size)
	for i := range m.remap {
		m.remap[i] = -1
	}
	prev := int64(-1)
	half := size / 2
	m.nWord = int32(len(m.Buckets))
	for j, b := range m.Buckets {
		if b >= half && m.nWord == int32(len(m.Buckets)) {
			m.nWord = int32(j)
		}
		if int64(b) <= prev || b >= size {
			return fmt.Errorf("feature table corrupt at entry %d", j)
		}
		prev = int64(b)
		m.remap[b] = int32(j)
	}
	for _, v := range m.IDF {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("idf table holds a non-finite value")
		}
	}
	for _, v := range m.Weights {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("weights hold a non-finite value")
		}
	}
	if m.nb != nil {
		if m.Features.WordMax == 0 {
			return fmt.Errorf("neighbour memory without word features")
		}
		if err := m.nb.init(int(half), nc); err != nil {
			return err
		}
	}
	m.pool.New = func() any { return m.newScratch() }
	return nil
}

type scratch struct {
	ex      *extractor
	acc     []float32 // term counts per active feature
	touched []int32
	vals    []float32
	acc32   []float32 // logits while summing
	scores  []float64
	probs   []float64
	nb      nbScratch
}

func (m *Model) newScratch() *scratch {
	return &scratch{
		ex:     newExtractor(m.Features),
		acc:    make([]float32, len(m.Buckets)),
		acc32:  make([]float32, len(m.Labels)),
		scores: make([]float64, len(m.Labels)),
		probs:  make([]float64, len(m.Labels)),
	}
}

// vectorize fills s.touched/s.vals with the L2-normalised TF-IDF vector of
// text over the active features.
func (m *Model) vectorize(s *scratch, text string) {
	touched := s.touched[:0]
	acc, remap := s.acc, m.remap
	for _, idx := range s.ex.extract(text) {
		j := remap[idx]
		if j < 0 {
			continue
		}
		if acc[j] == 0 {
			touched = append(touched, j)
		}
		acc[j]++
	}
	vals := s.vals[:0]
	nWord := m.nWord
	var ss [2]float64
	for _, j := range touched {
		tf := acc[j]
		acc[j] = 0
		if m.Features.Sublinear {
			tf = sublinearTF(tf)
		}
		v := tf * m.IDF[j]
		vals = append(vals, v)
		ss[b2i(j >= nWord)] += float64(v) * float64(v)
	}
	sc := blockScales(m.Features.CharWeight, ss)
	for i, j := range touched {
		vals[i] *= sc[b2i(j >= nWord)]
	}
	s.touched, s.vals = touched, vals
}

// logTF[k] is 1+ln(k), the sublinear term frequency of small counts.
var logTF = func() (t [256]float32) {
	for k := 1; k < len(t); k++ {
		t[k] = 1 + float32(math.Log(float64(k)))
	}
	return t
}()

func sublinearTF(tf float32) float32 {
	if k := int(tf); k < len(logTF) && float32(k) == tf {
		return logTF[k]
	}
	return 1 + float32(math.Log(float64(tf)))
}

// blockScales returns the factors that L2-normalise each block, weight the
// char block, and L2-normalise the concatenation.
func blockScales(charWeight float64, ss [2]float64) [2]float32 {
	var sc [2]float64
	var total float64
	if ss[0] > 0 {
		sc[0] = 1 / math.Sqrt(ss[0])
		total++
	}
	if ss[1] > 0 {
		sc[1] = charWeight / math.Sqrt(ss[1])
		total += charWeight * charWeight
	}
	if total > 0 {
		n := 1 / math.Sqrt(total)
		sc[0] *= n
		sc[1] *= n
	}
	return [2]float32{float32(sc[0]), float32(sc[1])}
}

// probabilities computes calibrated class probabilities of text into s.probs.
func (m *Model) probabilities(s *scratch, text string) {
	m.vectorize(s, text)
	nc := len(m.Labels)
	// Sum in float32 like the weights (a few hundred terms: the error is
	// far below what the probabilities are printed with), then widen.
	acc := s.acc32[:nc]
	copy(acc, m.Bias)
	for i, j := range s.touched {
		v := s.vals[i]
		w := m.Weights[int(j)*nc : int(j)*nc+nc]
		w = w[:len(acc)]
		for c, wc := range w {
			acc[c] += v * wc
		}
	}
	sc := s.scores[:nc]
	for c, v := range acc {
		sc[c] = float64(v)
	}
	if m.nb == nil {
		softmax(s.probs, s.scores, 1/m.Temperature)
		return
	}
	for c := range sc {
		sc[c] /= m.Temperature
	}
	m.nb.query(&s.nb, s.ex.memGrams(), m.Features.Sublinear)
	m.nb.boost(&s.nb, s.nb.slots, s.nb.vals, sc)
	softmax(s.probs, sc, 1)
}

func softmax(dst, logits []float64, scale float64) {
	mx := math.Inf(-1)
	for _, z := range logits {
		mx = max(mx, z*scale)
	}
	var sum float64
	for c, z := range logits {
		e := math.Exp(z*scale - mx)
		dst[c] = e
		sum += e
	}
	for c := range dst {
		dst[c] /= sum
	}
}

// Probabilities returns the calibrated probability of every label, in the
// order of m.Labels.
func (m *Model) Probabilities(text string) []float64 {
	s := m.pool.Get().(*scratch)
	m.probabilities(s, text)
	out := append([]float64(nil), s.probs...)
	m.pool.Put(s)
	return out
}

// Predict returns the top k labels (k <= 0: all) with calibrated
// probabilities, highest first, ties by label.
func (m *Model) Predict(text string, k int) []classify.Prediction {
	s := m.pool.Get().(*scratch)
	m.probabilities(s, text)
	out := topK(m.Labels, s.probs, k)
	m.pool.Put(s)
	return out
}

// PredictLabel returns the most likely label index and its probability,
// without allocating.
func (m *Model) PredictLabel(text string) (int, float64) {
	s := m.pool.Get().(*scratch)
	m.probabilities(s, text)
	best := 0
	for c, p := range s.probs {
		if p > s.probs[best] {
			best = c
		}
	}
	p := s.probs[best]
	m.pool.Put(s)
	return best, p
}

func topK(labels []string, probs []float64, k int) []classify.Prediction {
	n := len(labels)
	if k <= 0 || k > n {
		k = n
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool {
		pa, pb := probs[idx[a]], probs[idx[b]]
		if pa != pb {
			return pa > pb
		}
		return labels[idx[a]] < labels[idx[b]]
	})
	out := make([]classify.Prediction, k)
	for i := range out {
		out[i] = classify.Prediction{Label: labels[idx[i]], Confidence: probs[idx[i]]}
	}
	return out
}

// Classify implements classify.Classifier.
func (m *Model) Classify(ctx context.Context, text string, k int) ([]classify.Prediction, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return m.Predict(text, k), nil
}

// Describe implements classify.Describer.
func (m *Model) Describe() classify.Info {
	name := "linear"
	if m.Meta.Name != "" {
		name = "linear/" + m.Meta.Name
	}
	v := fmt.Sprintf("v%d", m.formatVersion())
	if m.Meta.DataHash != "" {
		v += "+" + m.Meta.DataHash[:min(12, len(m.Meta.DataHash))]
	}
	return classify.Info{Name: name, Version: v, Labels: append([]string(nil), m.Labels...)}
}

// Training implements classify.TrainingReporter.
func (m *Model) Training() classify.Training {
	return classify.Training{At: m.Meta.TrainedAt, Examples: m.Meta.Examples, HeldOut: maps.Clone(m.Meta.Metrics)}
}

// formatVersion is the file format version m is written in: 2 with a
// neighbour memory, else 1.
func (m *Model) formatVersion() int {
	if m.nb != nil {
		return FormatVersion
	}
	return 1
}
