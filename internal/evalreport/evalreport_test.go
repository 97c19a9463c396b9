package evalreport

import (
	"bytes"
	"math"
	"strings"
	"testing"
)

func TestCompute(t *testing.T) {
	labels := []string{"a", "b"}
	truth := []string{"a", "a", "b", "b", "c"}
	probs := [][]float64{{0.9, 0.1}, {0.4, 0.6}, {0.2, 0.8}, {0.3, 0.7}, {0.5, 0.5}}
	r := Compute(labels, truth, probs, 1)
	if r.N != 5 || math.Abs(r.Accuracy-0.6) > 1e-9 || r.Unknown != 1 || len(r.Labels) != 3 {
		t.Fatalf("%+v", r)
	}
	if r.Confusion[0][0] != 1 || r.Confusion[0][1] != 1 || r.Confusion[1][1] != 2 || r.Confusion[2][0] != 1 {
		t.Errorf("confusion %v", r.Confusion)
	}
	// a: P 1/2 R 1/2; b: P 2/3 R 1; c: 0.
	wantMacro := (0.5 + 0.8 + 0) / 3
	if math.Abs(r.MacroF1-wantMacro) > 1e-9 {
		t.Errorf("macro-F1 %v, want %v", r.MacroF1, wantMacro)
	}
	if r.ECE <= 0 || r.ECE > 1 {
		t.Errorf("ECE %v", r.ECE)
	}
	var text, html bytes.Buffer
	if err := r.WriteText(&text); err != nil || !strings.Contains(text.String(), "macro-F1") {
		t.Error(err, text.String())
	}
	r.Labels[0] = "<script>"
	if err := r.WriteHTML(&html); err != nil {
		t.Fatal(err)
	}
	h := html.String()
	if strings.Contains(h, "<script>") || strings.Contains(h, "src=") || strings.Count(h, "<svg") != 2 {
		t.Error("HTML is not escaped or not self-contained")
	}
}

func TestWarning(t *testing.T) {
	held := &Summary{N: 100, Accuracy: 0.9, MacroF1: 0.85}
	tests := []struct {
		name string
		r    Report
		want string // "" for no warning; else a substring
	}{
		{"nothing seen", Report{N: 100, Seen: nil}, ""},
		{"zero rows", Report{N: 100, Seen: &Overlap{Rows: 0, FPRate: 0.001}}, ""},
		// 17 of 20,000 at a 0.1% false-positive rate: what the filter's
		// errors alone give (20 expected), so no warning.
		{"false positives only", Report{N: 20000, Seen: &Overlap{Rows: 17, FPRate: 0.001}}, ""},
		{"above the false positives", Report{N: 20000, Seen: &Overlap{Rows: 60, FPRate: 0.001}}, "60 of 20000 rows (under 1%) were among"},
		{"all seen", Report{N: 300, Seen: &Overlap{Rows: 300, FPRate: 0.001, HeldOut: held}},
			"300 of 300 rows (100%) were among the model's training examples, so these scores are optimistic; score the model on tickets it was not trained on (training held out 100 examples and scored accuracy 0.9000, macro-F1 0.8500 on them). The check mistakes about 1 new row in 1000 for a training example"},
		{"some seen", Report{N: 400, Seen: &Overlap{Rows: 300, FPRate: 0.001, Unseen: &Summary{N: 100, Accuracy: 0.5, MacroF1: 0.4}}},
			"300 of 400 rows (75%) were among the model's training examples, so these scores are optimistic; on the other 100 rows: accuracy 0.5000, macro-F1 0.4000."},
		{"old model", Report{N: 10, SeenUnknown: true}, "keeps no record of its training texts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.r.Warning()
			if tt.want == "" && got != "" || tt.want != "" && !strings.Contains(got, tt.want) {
				t.Errorf("Warning() = %q, want %q", got, tt.want)
			}
		})
	}
}

// The confusion matrix's row labels line up on the left.
func TestConfusionRowsAligned(t *testing.T) {
	labels := []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "Long label"}
	var truth []string
	var probs [][]float64
	for i, l := range labels {
		p := make([]float64, len(labels))
		p[i] = 1
		truth = append(truth, l)
		probs = append(probs, p)
	}
	var b strings.Builder
	if err := Compute(labels, truth, probs, 3).WriteText(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	rows := strings.Split(out[strings.Index(out, "confusion matrix"):], "\n")[2:]
	if !strings.HasPrefix(rows[0], "  1 a ") || !strings.HasPrefix(rows[9], " 10 Long label ") || len(rows[0]) != len(rows[9]) {
		t.Errorf("rows not aligned:\n%s\n%s", rows[0], rows[9])
	}
}
