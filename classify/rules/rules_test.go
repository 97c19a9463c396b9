package rules

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/otai-dev/otai/classify"
	"github.com/otai-dev/otai/registry"
)

func testParams() *Params {
	return &Params{
		Rules: []Rule{
			{Label: "Billing", Keywords: []string{"invoice", "Rechnung", "refund", "credit card", "bill"}, Regex: `(?i)\bpayment (failed|declined)\b`, Confidence: 0.9},
			{Label: "Sizes", Keywords: []string{"Größe", "Straße"}},
			{Label: "Sales", Keywords: []string{"quote", "Angebot", "Prüfung"}},
			{Label: "Billing", Keywords: []string{"Mahnung"}, Confidence: 0.95},
			{Label: "Tech", Keywords: []string{"error", "fehler"}},
		},
	}
}

func mustCompile(t *testing.T, p *Params) *Classifier {
	t.Helper()
	c, err := Compile(p)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestClassify(t *testing.T) {
	c := mustCompile(t, testParams())
	tests := []struct {
		name string
		text string
		k    int
		want []classify.Prediction
	}{
		{"lower", "wo ist meine rechnung?", 0, []classify.Prediction{{Label: "Billing", Confidence: 0.9}}},
		{"upper", "RECHNUNG FEHLT", 0, []classify.Prediction{{Label: "Billing", Confidence: 0.9}}},
		{"title", "Ihre Rechnung.", 0, []classify.Prediction{{Label: "Billing", Confidence: 0.9}}},
		{"word boundary", "one billion dollars", 0, []classify.Prediction{}},
		{"word boundary prefix", "billing question", 0, []classify.Prediction{}},
		{"word at end", "please send the bill.", 0, []classify.Prediction{{Label: "Billing", Confidence: 0.9}}},
		{"multi-word", "my Credit  Card was charged", 0, []classify.Prediction{{Label: "Billing", Confidence: 0.9}}},
		{"multi-word hyphen", "credit-card", 0, []classify.Prediction{{Label: "Billing", Confidence: 0.9}}},
		{"multi-word newline", "credit\ncard", 0, []classify.Prediction{{Label: "Billing", Confidence: 0.9}}},
		{"multi-word plural", "credit cards", 0, []classify.Prediction{}},
		{"multi-word split", "card credit", 0, []classify.Prediction{}},
		{"regex", "Payment DECLINED again", 0, []classify.Prediction{{Label: "Billing", Confidence: 0.9}}},
		{"regex boundary", "payment failedx", 0, []classify.Prediction{}},
		{"sharp s upper", "FALSCHE GRÖSSE", 0, []classify.Prediction{{Label: "Sizes", Confidence: 0.8}}},
		{"sharp s", "die größe passt nicht", 0, []classify.Prediction{{Label: "Sizes", Confidence: 0.8}}},
		{"swiss ss", "Grösse", 0, []classify.Prediction{{Label: "Sizes", Confidence: 0.8}}},
		{"capital sharp s", "STRAẞE", 0, []classify.Prediction{{Label: "Sizes", Confidence: 0.8}}},
		{"no transliteration", "Groesse", 0, []classify.Prediction{}},
		{"umlaut upper", "PRÜFUNG", 0, []classify.Prediction{{Label: "Sales", Confidence: 0.8}}},
		{"umlaut decomposed", "Pru\u0308fung", 0, []classify.Prediction{{Label: "Sales", Confidence: 0.8}}},
		{"umlaut differs", "Prufung", 0, []classify.Prediction{}},
		{"dedupe keeps highest", "Rechnung und Mahnung", 0, []classify.Prediction{{Label: "Billing", Confidence: 0.95}}},
		{"order by confidence then rule", "Fehler: Angebot, Größe, Rechnung", 0, []classify.Prediction{
			{Label: "Billing", Confidence: 0.9}, {Label: "Sizes", Confidence: 0.8}, {Label: "Sales", Confidence: 0.8}, {Label: "Tech", Confidence: 0.8}}},
		{"k cut", "Fehler: Angebot, Größe, Rechnung", 2, []classify.Prediction{
			{Label: "Billing", Confidence: 0.9}, {Label: "Sizes", Confidence: 0.8}}},
		{"empty", "", 0, []classify.Prediction{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.Classify(context.Background(), tt.text, tt.k)
			if err != nil {
				t.Fatal(err)
			}
			if got == nil || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Classify(%q) = %#v, want %#v", tt.text, got, tt.want)
			}
		})
	}
}

func TestDefaultLabel(t *testing.T) {
	p := testParams()
	p.DefaultLabel = "Other"
	c := mustCompile(t, p)
	got, err := c.Classify(context.Background(), "hello there", 3)
	if err != nil || !reflect.DeepEqual(got, []classify.Prediction{{Label: "Other", Confidence: 0.1}}) {
		t.Fatalf("= %v, %v", got, err)
	}
	got, _ = c.Classify(context.Background(), "refund please", 3)
	if !reflect.DeepEqual(got, []classify.Prediction{{Label: "Billing", Confidence: 0.9}}) {
		t.Fatalf("with match = %v", got)
	}
	p.DefaultConfidence = 0.3
	got, _ = mustCompile(t, p).Classify(context.Background(), "nothing", 0)
	if got[0].Confidence != 0.3 {
		t.Fatalf("default_confidence ignored: %v", got)
	}
	if labels := mustCompile(t, p).Describe().Labels; !reflect.DeepEqual(labels, []string{"Billing", "Sizes", "Sales", "Tech", "Other"}) {
		t.Errorf("Labels = %v", labels)
	}
}

func TestValidation(t *testing.T) {
	tests := []struct {
		name string
		p    *Params
		want string
	}{
		{"no rules", &Params{}, "rules: at least one rule"},
		{"invalid regex", &Params{Rules: []Rule{{Label: "A", Keywords: []string{"a"}}, {Label: "B", Regex: "(unclosed"}}}, "rules[1].regex: error parsing regexp"},
		{"no label", &Params{Rules: []Rule{{Keywords: []string{"a"}}}}, "rules[0].label: required"},
		{"confidence too high", &Params{Rules: []Rule{{Label: "A", Keywords: []string{"a"}, Confidence: 1.5}}}, "rules[0].confidence: 1.5 is not in (0, 1]"},
		{"confidence negative", &Params{Rules: []Rule{{Label: "A", Keywords: []string{"a"}, Confidence: -0.1}}}, "rules[0].confidence"},
		{"nothing to match", &Params{Rules: []Rule{{Label: "A"}}}, "rules[0]: rule \"A\" needs keywords or regex"},
		{"symbol keyword", &Params{Rules: []Rule{{Label: "A", Keywords: []string{"ok", "++"}}}}, "rules[0].keywords[1]"},
		{"default confidence", &Params{Rules: []Rule{{Label: "A", Keywords: []string{"a"}}}, DefaultLabel: "X", DefaultConfidence: 2}, "default_confidence"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(context.Background(), tt.p, registry.Env{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestDescribe(t *testing.T) {
	a := mustCompile(t, testParams()).Describe()
	b := mustCompile(t, testParams()).Describe()
	if a.Name != "rules" || a.Version == "" || a.Version != b.Version {
		t.Fatalf("Describe = %+v / %+v", a, b)
	}
	p := testParams()
	p.Rules[0].Keywords = append(p.Rules[0].Keywords, "payment")
	if c := mustCompile(t, p).Describe(); c.Version == a.Version {
		t.Errorf("version did not change with the rules: %s", c.Version)
	}
	if !reflect.DeepEqual(a.Labels, []string{"Billing", "Sizes", "Sales", "Tech"}) {
		t.Errorf("Labels = %v", a.Labels)
	}
}

func TestRegistered(t *testing.T) {
	for _, id := range []string{"base:RuleClassifier", "base:RulesClassifier", "rules:Classifier"} {
		spec, ok := registry.Lookup(id)
		if !ok || spec.ID != "base:RuleClassifier" || spec.Kind != registry.KindClassifier {
			t.Fatalf("Lookup(%q) = %v, %v", id, spec, ok)
		}
	}
	spec, _ := registry.Lookup("rules:Classifier")
	params := spec.NewParams().(*Params)
	params.Rules = []Rule{{Label: "A", Keywords: []string{"alpha"}}}
	svc, err := spec.NewService(context.Background(), params, registry.Env{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := svc.(classify.Classifier).Classify(context.Background(), "ALPHA", 1)
	if err != nil || len(got) != 1 || got[0].Label != "A" {
		t.Fatalf("= %v, %v", got, err)
	}
}

func TestCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := mustCompile(t, testParams()).Classify(ctx, "rechnung", 0)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
}

func TestConcurrent(t *testing.T) {
	c := mustCompile(t, testParams())
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				got, err := c.Classify(context.Background(), "Rechnung und Angebot", 0)
				if err != nil || len(got) != 2 {
					t.Errorf("= %v, %v", got, err)
					return
				}
			}
		})
	}
	wg.Wait()
}
