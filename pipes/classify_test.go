package pipes_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/otai-dev/otai/classify"
	"github.com/otai-dev/otai/orchestrator"
	"github.com/otai-dev/otai/pipe"
	"github.com/otai-dev/otai/ticket"
)

const fiveMB = 5 << 20

func TestClassifyCutsLongTextsAndSkipsEmptyOnes(t *testing.T) {
	tests := []struct {
		name      string
		params    string
		tk        ticket.Ticket
		status    pipe.Status
		msg       string
		wantRunes int // runes the classifier gets; 0: not called
	}{
		{"5 MB ASCII body", `{max_chars: 1000}`, ticket.Ticket{Subject: "S", Body: strings.Repeat("a", fiveMB)}, pipe.StatusSucceeded, "", 1000},
		{"5 MB of umlauts is cut on a rune boundary", `{max_chars: 1001}`, ticket.Ticket{Subject: "S", Body: strings.Repeat("ü", fiveMB/2)}, pipe.StatusSucceeded, "", 1001},
		{"default max_chars", `{}`, ticket.Ticket{Subject: "S", Body: strings.Repeat("€", fiveMB/3)}, pipe.StatusSucceeded, "", 20000},
		{"short text is not cut", `{max_chars: 1000}`, ticket.Ticket{Subject: "Invoice", Body: "wrong"}, pipe.StatusSucceeded, "", len("Invoice\n\nwrong")},
		{"max_chars 0 does not cut", `{max_chars: 0, text: "{{ ticket.body }}"}`, ticket.Ticket{Body: strings.Repeat("x", 30000)}, pipe.StatusSucceeded, "", 30000},
		{"empty subject and body", `{}`, ticket.Ticket{}, pipe.StatusSkipped, "nothing to classify: the text is empty", 0},
		{"whitespace only", `{text: "{{ ticket.body }}"}`, ticket.Ticket{Subject: "has one", Body: " \n\t "}, pipe.StatusSkipped, "nothing to classify: the text is empty", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := strings.Replace(servicesYAML, "  - id: rules\n", "  - id: rec\n    use: pipestest:Recorder\n  - id: rules\n", 1)
			steps := "\n      - id: classify\n        use: base:ClassifyPipe\n        params: " +
				strings.Replace(tc.params, "{", "{classifier: rec, ", 1) + "\n"
			steps = strings.Replace(steps, "rec, }", "rec}", 1)
			eng := build(t, strings.Replace(triageYAML(1, steps, ""), servicesYAML, src, 1), orchestrator.Options{})
			tk := tc.tk
			tk.ID = "1"
			desk(t, eng, "desk").Add(tk)
			res := runOne(t, eng)
			byID, _ := items(t, res, "each")
			r := stepOf(t, byID["1"].Steps, "classify")
			if r.Status != tc.status || r.Message != tc.msg {
				t.Fatalf("%s %q, want %s %q", r.Status, r.Message, tc.status, tc.msg)
			}
			texts := eng.Service("rec").(*recorder).Texts()
			if tc.wantRunes == 0 {
				if len(texts) != 0 {
					t.Fatalf("the classifier was called with %d texts", len(texts))
				}
				return
			}
			if len(texts) != 1 {
				t.Fatalf("the classifier was called %d times", len(texts))
			}
			if n := utf8.RuneCountInString(texts[0]); n != tc.wantRunes || !utf8.ValidString(texts[0]) {
				t.Errorf("classified %d runes (valid UTF-8: %v), want %d", n, utf8.ValidString(texts[0]), tc.wantRunes)
			}
			if r.Data["label"] != "Billing" || r.Data["classifier"] != "rec" {
				t.Errorf("data %v", r.Data)
			}
		})
	}
}

// With the real rule classifier: a keyword past max_chars is not seen.
func TestClassifyRulesSeeOnlyTheCutText(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		label string
	}{
		{"keyword at the start", "invoice " + strings.Repeat("blah ", fiveMB/5), "Billing"},
		{"keyword after the cut", strings.Repeat("blah ", fiveMB/5) + "invoice", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			steps := "\n      - id: classify\n        use: base:ClassifyPipe\n        params: {max_chars: 5000, top_k: 2}\n"
			eng := build(t, triageYAML(1, steps, ""), orchestrator.Options{})
			desk(t, eng, "desk").Add(ticket.Ticket{ID: "1", Subject: "hi", Body: tc.body})
			res := runOne(t, eng)
			byID, _ := items(t, res, "each")
			r := stepOf(t, byID["1"].Steps, "classify")
			if r.Status != pipe.StatusSucceeded || r.Data["label"] != tc.label {
				t.Fatalf("%s %q, label %v, want %q", r.Status, r.Message, r.Data["label"], tc.label)
			}
			preds, _ := r.Data["top_k"].([]classify.Prediction)
			if (tc.label == "") != (len(preds) == 0) {
				t.Errorf("top_k %v", preds)
			}
			if tc.label == "" && r.Action != "no prediction" {
				t.Errorf("action %q, want no prediction", r.Action)
			}
		})
	}
}

// Threshold, top_k and above_threshold as later pipes read them.
func TestClassifyData(t *testing.T) {
	tests := []struct {
		threshold string
		body      string
		label     string
		conf      float64
		above     bool
		topK      int
	}{
		{"0.8", "invoice", "Billing", 0.9, true, 1},
		{"0.95", "invoice", "Billing", 0.9, false, 1},
		{"0.5", "invoice error", "Billing", 0.9, true, 2},
		{"0.5", "error", "Technical", 0.7, true, 1},
		{"0.5", "nothing", "", 0, false, 0},
	}
	for _, tc := range tests {
		t.Run(tc.threshold+" "+tc.body, func(t *testing.T) {
			steps := "\n      - id: classify\n        use: base:ClassifyPipe\n        params: {threshold: " + tc.threshold + ", text: '{{ ticket.body }}'}\n"
			eng := build(t, triageYAML(1, steps, ""), orchestrator.Options{})
			desk(t, eng, "desk").Add(ticket.Ticket{ID: "1", Body: tc.body})
			res := runOne(t, eng)
			byID, _ := items(t, res, "each")
			d := stepOf(t, byID["1"].Steps, "classify").Data
			preds, _ := d["top_k"].([]classify.Prediction)
			if d["label"] != tc.label || d["confidence"] != tc.conf || d["above_threshold"] != tc.above || len(preds) != tc.topK {
				t.Errorf("label %v confidence %v above %v top_k %v", d["label"], d["confidence"], d["above_threshold"], preds)
			}
		})
	}
}
