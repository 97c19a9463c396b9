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
