package pipes_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/otai-dev/otai/classify"
	_ "github.com/otai-dev/otai/classify/rules" // base:RuleClassifier
	"github.com/otai-dev/otai/config"
	"github.com/otai-dev/otai/internal/testsys"
	"github.com/otai-dev/otai/orchestrator"
	"github.com/otai-dev/otai/pipe"
	"github.com/otai-dev/otai/registry"
	"github.com/otai-dev/otai/ticket"
)

// panicParams are the params of pipestest:Panic.
type panicParams struct {
	Message string `yaml:"message" default:"kaboom"`
}

// recorder is pipestest:Recorder, a classifier that remembers the texts it
// was given and always answers Billing.
type recorder struct {
	mu    sync.Mutex
	texts []string
}

type recorderParams struct{}

func (r *recorder) Classify(_ context.Context, text string, k int) ([]classify.Prediction, error) {
	r.mu.Lock()
	r.texts = append(r.texts, text)
	r.mu.Unlock()
	return []classify.Prediction{{Label: "Billing", Confidence: 0.9}}, nil
}

func (r *recorder) Texts() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.texts...)
}

func init() {
	testsys.Register()
	registry.RegisterPipe(registry.Info{ID: "pipestest:Panic", Summary: "Panics."},
		func(b registry.Build[panicParams]) (pipe.Pipe, error) {
			return pipe.Func(func(ctx context.Context, rc *pipe.Context) pipe.Result {
				p, _ := b.Params.Get(rc)
				panic(p.Message)
			}), nil
		})
	registry.RegisterClassifier(registry.Info{ID: "pipestest:Recorder", Summary: "Records texts."},
		func(ctx context.Context, p *recorderParams, env registry.Env) (classify.Classifier, error) {
			return &recorder{}, nil
		})
}

// servicesYAML is one in-memory help desk and a rule classifier.
const servicesYAML = `
services:
  - id: desk
    use: testsys:Memory
  - id: rules
    use: base:RuleClassifier
    params:
      rules:
        - {label: Billing, keywords: [invoice, refund], confidence: 0.9}
        - {label: Technical, keywords: [error, crash, login], confidence: 0.7}
`

// triageSteps classify, move when sure, and note.
const triageSteps = `
      - id: classify
        use: base:ClassifyPipe
        params: {classifier: rules, threshold: 0.8}
      - id: move
        use: base:UpdateTicketPipe
        params:
          updates:
            queue: "{{ pipes.classify.above_threshold ? pipes.classify.label : '' }}"
      - id: note
        use: base:AddNotePipe
        params:
          note:
            body: "otai: {{ pipes.classify.label == '' ? 'no idea' : pipes.classify.label }}"
`

// triageYAML is servicesYAML, a fetch of every ticket and a for-each over
// steps (indented by six spaces), run by runner "triage". runnerExtra is
// added to the runner (indented by six spaces), e.g. "dry_run: true".
func triageYAML(concurrency int, steps, runnerExtra string) string {
	return servicesYAML + fmt.Sprintf(`
pipes:
  - id: fetch
    use: base:FetchTicketsPipe
  - id: each
    use: base:ForEachTicketPipe
    params:
      tickets: '{{ pipes.fetch.tickets }}'
      concurrency: %d
    steps:%s
orchestrator:
  runners:
    - id: triage
      pipes: [fetch, each]
      %s
`, concurrency, steps, runnerExtra)
}

// inbox are four tickets: 1 is a sure Billing ticket in the Inbox, 2 an
// unsure Technical one, 3 is already in Billing, 4 matches no rule.
func inbox() []ticket.Ticket {
	return []ticket.Ticket{
		{ID: "1", Subject: "Invoice is wrong", Body: "Please fix my invoice.", Queue: ticket.Entity{ID: "q1", Name: "Inbox"}, Priority: ticket.Entity{Name: "normal"}},
		{ID: "2", Subject: "Login", Body: "I get an error.", Queue: ticket.Entity{ID: "q1", Name: "Inbox"}, Priority: ticket.Entity{Name: "normal"}},
		{ID: "3", Subject: "Refund", Body: "Where is my refund?", Queue: ticket.Entity{ID: "q2", Name: "Billing"}, Priority: ticket.Entity{Name: "high"}},
		{ID: "4", Subject: "Hello", Body: "Nice weather.", Queue: ticket.Entity{ID: "q1", Name: "Inbox"}, Priority: ticket.Entity{Name: "low"}},
	}
}

// build parses src as the config file and builds it, the way `otai run` does.
func build(t *testing.T, src string, opts orchestrator.Options) *orchestrator.Engine {
	t.Helper()
	f, err := config.Parse(t.Name()+".yml", []byte(src), config.Options{})
	if err != nil {
		t.Fatalf("config.Parse:\n%v\n--- config:\n%s", err, src)
	}
	if opts.Env == nil {
		opts.Env = map[string]any{}
	}
	if opts.DataDir == "" {
		opts.DataDir = t.TempDir()
	}
	eng, err := orchestrator.Build(context.Background(), f, opts)
	if err != nil {
		t.Fatalf("orchestrator.Build: %v", err)
	}
	t.Cleanup(func() { eng.Close() })
	return eng
}

// desk returns the engine's in-memory ticket system with id.
func desk(t *testing.T, eng *orchestrator.Engine, id string) *testsys.System {
	t.Helper()
	s, ok := eng.Service(id).(*testsys.System)
	if !ok {
		t.Fatalf("service %s is %T, not *testsys.System", id, eng.Service(id))
	}
	return s
}

// runOne runs the engine's only runner once.
func runOne(t *testing.T, eng *orchestrator.Engine) orchestrator.RunResult {
	t.Helper()
	rs := eng.RunAll(context.Background())
	if len(rs) != 1 {
		t.Fatalf("RunAll returned %d results, want 1", len(rs))
	}
	return rs[0]
}

// stepOf returns the result of step id among rs.
func stepOf(t *testing.T, rs []pipe.Result, id string) pipe.Result {
	t.Helper()
	for _, r := range rs {
		if r.Pipe == id {
			return r
		}
	}
	t.Fatalf("no result for step %q among %d results", id, len(rs))
	return pipe.Result{}
}

// items returns the for-each items of step id by ticket id, and the order
// of ticket ids.
func items(t *testing.T, res orchestrator.RunResult, id string) (map[string]pipe.ItemResult, []string) {
	t.Helper()
	r := stepOf(t, res.Steps, id)
	m := map[string]pipe.ItemResult{}
	var order []string
	for _, it := range r.Items {
		m[it.TicketID] = it
		order = append(order, it.TicketID)
	}
	return m, order
}

// dump describes a run for failure messages.
func dump(res orchestrator.RunResult) string {
	var b strings.Builder
	fmt.Fprintf(&b, "runner %s: %s\n", res.Runner, res.Status)
	var walk func(indent string, rs []pipe.Result)
	walk = func(indent string, rs []pipe.Result) {
		for _, r := range rs {
			fmt.Fprintf(&b, "%s%s (%s): %s %q %q\n", indent, r.Pipe, r.Use, r.Status, r.Message, r.Action)
			walk(indent+"  ", r.Steps)
			for _, it := range r.Items {
				fmt.Fprintf(&b, "%s  ticket %s: %s %q\n", indent, it.TicketID, it.Status, it.Message)
				walk(indent+"    ", it.Steps)
			}
		}
	}
	walk("  ", res.Steps)
	return b.String()
}
