// Package evalreport scores a classifier on labelled data (accuracy,
// macro-F1, per-class precision/recall/F1, confusion matrix, calibration)
// and renders the result as text, JSON or a self-contained HTML page.
package evalreport

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode/utf8"
)

// ClassMetrics are one label's scores.
type ClassMetrics struct {
	Label     string  `json:"label"`
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
	Support   int     `json:"support"`
	Predicted int     `json:"predicted"`
}

// Bin is one bar of the reliability diagram.
type Bin struct {
	Lo         float64 `json:"lo"`
	Hi         float64 `json:"hi"`
	Count      int     `json:"count"`
	Confidence float64 `json:"confidence"` // mean top-1 confidence
	Accuracy   float64 `json:"accuracy"`   // share correct
}

// Threshold is what a confidence threshold would do: how many tickets
// clear it, and how many of those are right.
type Threshold struct {
	Threshold float64 `json:"threshold"`
	Coverage  float64 `json:"coverage"`
	Accuracy  float64 `json:"accuracy"`
}

// Report is the evaluation of one model on one data set.
type Report struct {
	Title      string         `json:"title"`
	Model      string         `json:"model"`
	Trained    string         `json:"trained,omitempty"` // how the model was trained, one line
	Data       string         `json:"data"`
	Labels     []string       `json:"labels"` // row/column order of Confusion
	N          int            `json:"n"`
	Accuracy   float64        `json:"accuracy"`
	TopK       int            `json:"top_k"`
	TopKAcc    float64        `json:"top_k_accuracy"`
	MacroF1    float64        `json:"macro_f1"`
	WeightedF1 float64        `json:"weighted_f1"`
	Majority   float64        `json:"majority_accuracy"`
	PerClass   []ClassMetrics `json:"per_class"`
	Confusion  [][]int        `json:"confusion"` // [true][predicted]
	ECE        float64        `json:"ece"`
	MeanConf   float64        `json:"mean_confidence"`
	NLL        float64        `json:"nll"`
	Bins       []Bin          `json:"reliability"`
	Thresholds []Threshold    `json:"thresholds"`
	Unknown    int            `json:"unknown_labels"` // true labels the model does not know
	// Seen is set when some rows were among the model's training
	// examples: the scores above are then optimistic.
	Seen *Overlap `json:"seen_in_training,omitempty"`
	// SeenUnknown is set when the model cannot tell which rows it was
	// trained on (a model from an otai before 0.x kept no record).
	SeenUnknown bool `json:"seen_in_training_unknown,omitempty"`
}

// Overlap says how many scored rows the model was trained on, and the
// scores on the others.
type Overlap struct {
	Rows   int     `json:"rows"`    // rows found among the training texts
	FPRate float64 `json:"fp_rate"` // chance that an unseen row is counted as seen
	// Unseen scores the rows the model did not learn from; nil when there
	// are none.
	Unseen *Summary `json:"unseen,omitempty"`
	// HeldOut is what training measured on the examples it held out.
	HeldOut *Summary `json:"held_out_at_training,omitempty"`
}

// Summary is the headline of a report.
type Summary struct {
	N        int     `json:"n"`
	Accuracy float64 `json:"accuracy"`
	MacroF1  float64 `json:"macro_f1"`
}

// Warning is one line for a person: what share of the rows the model has
// seen, and what that means; "" when none.
func (r *Report) Warning() string {
	if r.SeenUnknown {
		return "the model keeps no record of its training texts (trained by an older otai), so eval cannot tell whether these rows were among them; if they were, these scores are optimistic"
	}
	if !r.Seen.Significant(r.N) {
		return ""
	}
	w := fmt.Sprintf("%d of %d rows (%s) were among the model's training examples, so these scores are optimistic",
		r.Seen.Rows, r.N, percent(r.Seen.Rows, r.N))
	if u := r.Seen.Unseen; u != nil {
		w += fmt.Sprintf("; on the other %d rows: accuracy %.4f, macro-F1 %.4f", u.N, u.Accuracy, u.MacroF1)
	} else {
		w += "; score the model on tickets it was not trained on"
	}
	if h := r.Seen.HeldOut; h != nil {
		w += fmt.Sprintf(" (training held out %d examples and scored accuracy %.4f, macro-F1 %.4f on them)", h.N, h.Accuracy, h.MacroF1)
	}
	if r.Seen.FPRate > 0 {
		w += fmt.Sprintf(". The check mistakes about 1 new row in %s for a training example", roundSig(1/r.Seen.FPRate))
	}
	return w
}

// Significant reports whether the rows found among the training texts
// are more than the filter's false positives explain: when o.Rows is at most
// the expected number of false positives among n rows plus two standard
// deviations, the overlap is not reported.
func (o *Overlap) Significant(n int) bool {
	if o == nil || o.Rows == 0 {
		return false
	}
	exp := o.FPRate * float64(n)
	return float64(o.Rows) > exp+2*math.Sqrt(exp)
}

// roundSig writes x rounded to two significant digits: 1002 -> "1000".
func roundSig(x float64) string {
	if x < 1 {
		return "1"
	}
	p := math.Pow(10, math.Floor(math.Log10(x))-1)
	return strconv.FormatFloat(math.Round(x/p)*p, 'f', 0, 64)
}

// percent writes k/n as a percentage without rounding a few rows to 0%.
func percent(k, n int) string {
	p := 100 * float64(k) / float64(max(n, 1))
	switch {
	case k > 0 && p < 1:
		return "under 1%"
	default:
		return fmt.Sprintf("%.0f%%", p)
	}
}

// Compute scores predictions. modelLabels name the columns of probs; truth
// holds the true label of each row. Labels in truth the model does not know
// count as errors and get a row of their own.
func Compute(modelLabels []string, truth []string, probs [][]float64, topK int) *Report {
	if topK <= 0 {
		topK = 3
	}
	r := &Report{Labels: append([]string(nil), modelLabels...), N: len(truth), TopK: topK}
	idx := map[string]int{}
	for i, l := range r.Labels {
		idx[l] = i
	}
	for _, t := range truth {
		if _, ok := idx[t]; !ok {
			idx[t] = len(r.Labels)
			r.Labels = append(r.Labels, t)
		}
	}
	k := len(r.Labels)
	r.Confusion = make([][]int, k)
	for i := range r.Confusion {
		r.Confusion[i] = make([]int, k)
	}
	const nb = 10
	r.Bins = make([]Bin, nb)
	conf := make([]float64, len(truth))
	correct := make([]bool, len(truth))
	var nll float64
	for i, t := range truth {
		p := probs[i]
		best := 0
		for c := range p {
			if p[c] > p[best] {
				best = c
			}
		}
		y := idx[t]
		if y >= len(modelLabels) {
			r.Unknown++
		}
		r.Confusion[y][best]++
		conf[i] = p[best]
		correct[i] = y == best
		if correct[i] {
			r.Accuracy++
		}
		if y < len(p) {
			nll -= math.Log(math.Max(p[y], 1e-15))
			rank := 0
			for c := range p {
				if p[c] > p[y] || (p[c] == p[y] && c < y) {
					rank++
				}
			}
			if rank < topK {
				r.TopKAcc++
			}
		} else {
			nll -= math.Log(1e-15)
		}
		b := min(nb-1, int(p[best]*nb))
		r.Bins[b].Count++
		r.Bins[b].Confidence += p[best]
		if correct[i] {
			r.Bins[b].Accuracy++
		}
		r.MeanConf += p[best]
	}
	n := float64(max(1, len(truth)))
	r.Accuracy /= n
	r.TopKAcc /= n
	r.MeanConf /= n
	r.NLL = nll / n
	for b := range r.Bins {
		r.Bins[b].Lo, r.Bins[b].Hi = float64(b)/nb, float64(b+1)/nb
		if c := float64(r.Bins[b].Count); c > 0 {
			r.ECE += math.Abs(r.Bins[b].Accuracy-r.Bins[b].Confidence) / n
			r.Bins[b].Confidence /= c
			r.Bins[b].Accuracy /= c
		}
	}
	// Per class.
	var present, wsum float64
	maj := 0
	for c := 0; c < k; c++ {
		m := ClassMetrics{Label: r.Labels[c]}
		tp := r.Confusion[c][c]
		for o := 0; o < k; o++ {
			m.Support += r.Confusion[c][o]
			m.Predicted += r.Confusion[o][c]
		}
		if m.Predicted > 0 {
			m.Precision = float64(tp) / float64(m.Predicted)
		}
		if m.Support > 0 {
			m.Recall = float64(tp) / float64(m.Support)
		}
		if m.Precision+m.Recall > 0 {
			m.F1 = 2 * m.Precision * m.Recall / (m.Precision + m.Recall)
		}
		if m.Support > 0 || m.Predicted > 0 {
			present++
			r.MacroF1 += m.F1
		}
		r.WeightedF1 += m.F1 * float64(m.Support)
		wsum += float64(m.Support)
		maj = max(maj, m.Support)
		r.PerClass = append(r.PerClass, m)
	}
	if present > 0 {
		r.MacroF1 /= present
	}
	if wsum > 0 {
		r.WeightedF1 /= wsum
	}
	r.Majority = float64(maj) / n
	for _, th := range []float64{0, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9} {
		var cov, ok float64
		for i := range conf {
			if conf[i] >= th {
				cov++
				if correct[i] {
					ok++
				}
			}
		}
		t := Threshold{Threshold: th, Coverage: cov / n}
		if cov > 0 {
			t.Accuracy = ok / cov
		}
		r.Thresholds = append(r.Thresholds, t)
	}
	return r
}

// WriteText prints the report for a terminal.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	if r.Model != "" {
		fmt.Fprintf(&b, "model:     %s\n", r.Model)
	}
	if r.Trained != "" {
		fmt.Fprintf(&b, "trained:   %s\n", r.Trained)
	}
	if r.Data != "" {
		fmt.Fprintf(&b, "data:      %s\n", r.Data)
	}
	fmt.Fprintf(&b, "examples:  %d", r.N)
	if r.Unknown > 0 {
		fmt.Fprintf(&b, " (%d with labels the model does not know)", r.Unknown)
	}
	if w := r.Warning(); w != "" {
		fmt.Fprintf(&b, "\nwarning:   %s", w)
	}
	fmt.Fprintf(&b, "\naccuracy:  %.4f   (majority class %.4f, top-%d %.4f)\n", r.Accuracy, r.Majority, r.TopK, r.TopKAcc)
	fmt.Fprintf(&b, "macro-F1:  %.4f   weighted-F1 %.4f\n", r.MacroF1, r.WeightedF1)
	fmt.Fprintf(&b, "calibration: ECE %.4f (10 bins), mean confidence %.4f, log loss %.4f\n\n", r.ECE, r.MeanConf, r.NLL)
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "label\tprecision\trecall\tF1\tsupport\t")
	for _, c := range r.PerClass {
		fmt.Fprintf(tw, "%s\t%.3f\t%.3f\t%.3f\t%d\t\n", c.Label, c.Precision, c.Recall, c.F1, c.Support)
	}
	tw.Flush()
	b.WriteString("\nconfusion matrix (rows: true, columns: predicted)\n")
	tw = tabwriter.NewWriter(&b, 0, 4, 1, ' ', tabwriter.AlignRight)
	// Row labels left-aligned: pad them to one width, so that the
	// right-aligning tabwriter leaves them as they are.
	iw := len(strconv.Itoa(len(r.Labels)))
	lw := 0
	for i, l := range r.Labels {
		lw = max(lw, utf8.RuneCountInString(fmt.Sprintf("%*d %s", iw, i+1, l)))
	}
	fmt.Fprintf(tw, "%*s\t", lw, "")
	for i := range r.Labels {
		fmt.Fprintf(tw, "%d\t", i+1)
	}
	fmt.Fprintln(tw)
	for i, row := range r.Confusion {
		l := fmt.Sprintf("%*d %s", iw, i+1, r.Labels[i])
		fmt.Fprintf(tw, "%s%s\t", l, strings.Repeat(" ", lw-utf8.RuneCountInString(l)))
		for _, v := range row {
			fmt.Fprintf(tw, "%d\t", v)
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
	b.WriteString("\nthreshold  coverage  accuracy above\n")
	for _, t := range r.Thresholds {
		fmt.Fprintf(&b, "%9.2f  %8.3f  %8.3f\n", t.Threshold, t.Coverage, t.Accuracy)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// SortedClasses returns the per-class metrics ordered by support, largest
// first.
func (r *Report) SortedClasses() []ClassMetrics {
	out := append([]ClassMetrics(nil), r.PerClass...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Support > out[j].Support })
	return out
}
