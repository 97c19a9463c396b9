package linear

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/otai-dev/otai/classify"
	"github.com/otai-dev/otai/registry"
	"github.com/otai-dev/otai/ticket"
)

type fakeServices struct{ sys ticket.System }

func (f fakeServices) TicketSystem(id string) (ticket.System, error) {
	if id != "helpdesk" {
		return nil, fmt.Errorf("no ticket system %q", id)
	}
	return f.sys, nil
}
func (f fakeServices) Classifier(string) (classify.Classifier, error) { return nil, fmt.Errorf("none") }

func TestServiceTrainsAndLoads(t *testing.T) {
	spec, ok := registry.Lookup("linear:Classifier")
	if !ok || spec.ID != "base:LinearClassifier" {
		t.Fatal("base:LinearClassifier is not registered under its alias")
	}
	fs := &fakeSystem{}
	for i, e := range synth(200, 11, 0) {
		fs.tickets = append(fs.tickets, ticket.Ticket{ID: fmt.Sprint(i), Body: e.Text, State: ticket.Entity{Name: "closed"}, Queue: ticket.Entity{Name: e.Label}})
	}
	dir := t.TempDir()
	env := registry.Env{DataDir: dir, Services: fakeServices{fs}, Version: "v9.9.9-test"}
	p := &Params{Model: "models/queue.model", TopK: 2, Threshold: 0.5, Train: &TrainParams{TicketSystem: "helpdesk", Field: "queue", MinExamples: 20}}

	// Validate mode trains and writes nothing.
	env.Validate = true
	if _, err := New(context.Background(), p, env); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "models")); !os.IsNotExist(err) {
		t.Fatal("validate mode wrote files")
	}
	bad := *p
	bad.Train = &TrainParams{TicketSystem: "nope"}
	if _, err := New(context.Background(), &bad, env); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("unknown ticket system in validate mode: %v", err)
	}

	env.Validate = false
	c, err := New(context.Background(), p, env)
	if err != nil {
		t.Fatal(err)
	}
	preds, err := c.Classify(context.Background(), "invoice refund Rechnung", 0)
	if err != nil || len(preds) != 2 || preds[0].Label != "Billing" {
		t.Errorf("Classify = %v, %v", preds, err)
	}
	if th := c.(*Classifier).Threshold(); th != 0.5 {
		t.Errorf("threshold %v", th)
	}
	st, err := os.Stat(filepath.Join(dir, "models", "queue.model"))
	if err != nil {
		t.Fatal(err)
	}
	// Second start loads the file instead of training.
	calls := fs.calls
	c2, err := New(context.Background(), p, env)
	if err != nil || fs.calls != calls {
		t.Fatalf("second start: %v, %d new searches", err, fs.calls-calls)
	}
	if v := c2.(*Classifier).Model.Meta.OtaiVersion; v != "v9.9.9-test" {
		t.Errorf("a model trained at start-up records otai version %q", v)
	}
	if d := c2.(classify.Describer).Describe(); d.Name != "linear/queue" || len(d.Labels) != 4 {
		t.Errorf("Describe %+v", d)
	}
	st2, _ := os.Stat(filepath.Join(dir, "models", "queue.model"))
	if !st2.ModTime().Equal(st.ModTime()) {
		t.Error("model rewritten on second start")
	}
	// A damaged model file is an error that says how to get a new one,
	// and is left in place.
	garbage := filepath.Join(dir, "models", "garbage.model")
	if err := os.WriteFile(garbage, []byte("not a model at all"), 0o644); err != nil {
		t.Fatal(err)
	}
	withTrain := *p
	withTrain.Model = "models/garbage.model"
	if _, err := New(context.Background(), &withTrain, env); err == nil || !strings.Contains(err.Error(), "bad magic") ||
		!strings.Contains(err.Error(), "trains a new one from helpdesk") {
		t.Errorf("damaged model with a train block: %v", err)
	}
	if _, err := New(context.Background(), &Params{Model: "models/garbage.model"}, env); err == nil || !strings.Contains(err.Error(), "otai train ... -o") {
		t.Errorf("damaged model without a train block: %v", err)
	}
	if b, _ := os.ReadFile(garbage); string(b) != "not a model at all" {
		t.Error("the damaged file was changed")
	}
	// Without a train block, a missing model is an error outside validate mode.
	if _, err := New(context.Background(), &Params{Model: "missing.model"}, env); err == nil || !strings.Contains(err.Error(), "otai train") {
		t.Errorf("missing model: %v", err)
	}
}

func TestClassifierCheck(t *testing.T) {
	m, err := Train(context.Background(), synth(100, 21, 0.1), smallOpts())
	if err != nil {
		t.Fatal(err)
	}
	c := &Classifier{Model: m, path: "q.model", threshold: 0.6}
	res := c.Check(context.Background())
	if len(res) != 3 || !res[0].OK || res[1].Warn || !strings.Contains(res[0].Message, "q.model: 4 labels (Billing, HR, Sales, Technical)") ||
		!strings.Contains(res[2].Message, "0.60 (what it lets through: otai eval --model q.model --from SERVICE_ID)") {
		t.Errorf("fresh model: %+v", res)
	}
	m.Meta.TrainedAt = time.Now().Add(-200 * 24 * time.Hour)
	if res := c.Check(context.Background()); !res[1].OK || !res[1].Warn || !strings.Contains(res[1].Message, "200 days ago") {
		t.Errorf("old model: %+v", res[1])
	}
	// A model with a memory says so, between training and threshold.
	withMem := &Classifier{Model: func() *Model { m, _ := trainEncoded(t, withRepeats(), memOpts()); return m }(), path: "q.model", threshold: 0.6}
	if res := withMem.Check(context.Background()); len(res) != 4 || res[2].Name != "memory" || !strings.Contains(res[2].Message, "training tickets over") ||
		!strings.Contains(res[2].Message, "strength 16") || res[3].Name != "threshold" {
		t.Errorf("model with memory: %+v", res)
	}
	missing := &Classifier{path: "q.model"}
	if res := missing.Check(context.Background()); len(res) != 1 || !res[0].OK || !res[0].Warn || !strings.Contains(res[0].Message, "does not exist yet: train one") {
		t.Errorf("missing model: %+v", res)
	}
}
