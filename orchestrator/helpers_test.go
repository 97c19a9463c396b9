package orchestrator_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/otai-dev/otai/classify/rules" // base:RuleClassifier
	"github.com/otai-dev/otai/config"
	"github.com/otai-dev/otai/internal/testsys"
	"github.com/otai-dev/otai/orchestrator"
	"github.com/otai-dev/otai/pipe"
	_ "github.com/otai-dev/otai/pipes"
	"github.com/otai-dev/otai/registry"
)

// gate is what an orchtest:Block pipe waits on.
type gate struct {
	entered  chan string // ticket ids, as pipes enter
	release  chan struct{}
	count    atomic.Int32
	mu       sync.Mutex
	stopping <-chan struct{}
}

var (
	gatesMu sync.Mutex
	gates   = map[string]*gate{}
	gateSeq atomic.Int64
)

func newGate(t *testing.T) (string, *gate) {
	name := fmt.Sprintf("gate-%d", gateSeq.Add(1))
	g := &gate{entered: make(chan string, 100), release: make(chan struct{})}
	gatesMu.Lock()
	gates[name] = g
	gatesMu.Unlock()
	t.Cleanup(func() {
		gatesMu.Lock()
		delete(gates, name)
		gatesMu.Unlock()
	})
	return name, g
}

// wait returns the next ticket id that entered the gate.
func (g *gate) wait(t *testing.T) string {
	t.Helper()
	select {
	case id := <-g.entered:
		return id
	case <-time.After(5 * time.Second):
		t.Fatal("no pipe entered the gate within 5s")
		return ""
	}
}

func (g *gate) stoppingChan() <-chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.stopping
}

type blockParams struct {
	Gate string `yaml:"gate" otai:"required"`
}

type badParams struct{}

func init() {
	testsys.Register()
	registry.RegisterPipe(registry.Info{ID: "orchtest:Block", Summary: "Waits until its gate is released."},
		func(b registry.Build[blockParams]) (pipe.Pipe, error) {
			return pipe.Func(func(ctx context.Context, rc *pipe.Context) pipe.Result {
				p, err := b.Params.Get(rc)
				if err != nil {
					return pipe.Failed(err)
				}
				gatesMu.Lock()
				g := gates[p.Gate]
				gatesMu.Unlock()
				if g == nil {
					return pipe.Failf("no gate %q", p.Gate)
				}
				g.mu.Lock()
				g.stopping = rc.Stopping
				g.mu.Unlock()
				g.count.Add(1)
				id := ""
				if rc.Ticket != nil {
					id = rc.Ticket.ID
				}
				g.entered <- id
				select {
				case <-g.release:
					return pipe.Succeeded(nil).WithAction("released")
				case <-ctx.Done():
					return pipe.Failed(ctx.Err())
				}
			}), nil
		})
	registry.RegisterPipe(registry.Info{ID: "orchtest:BadPipe", Summary: "Cannot be built."},
		func(b registry.Build[badParams]) (pipe.Pipe, error) {
			return nil, errors.New("no good")
		})
}

// logs is a slog.Handler that keeps messages.
type logs struct {
	mu   *sync.Mutex
	msgs *[]string
}

func newLogs() logs { return logs{mu: &sync.Mutex{}, msgs: &[]string{}} }

func (l logs) Enabled(context.Context, slog.Level) bool { return true }
func (l logs) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	*l.msgs = append(*l.msgs, r.Message)
	l.mu.Unlock()
	return nil
}
func (l logs) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l logs) WithGroup(string) slog.Handler      { return l }

func (l logs) count(msg string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, m := range *l.msgs {
		if m == msg {
			n++
		}
	}
	return n
}

// waitFor polls cond for up to 5s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func parse(t *testing.T, src string) *config.File {
	t.Helper()
	f, err := config.Parse(t.Name()+".yml", []byte(src), config.Options{})
	if err != nil {
		t.Fatalf("config.Parse:\n%v\n--- config:\n%s", err, src)
	}
	return f
}

func build(t *testing.T, src string, opts orchestrator.Options) *orchestrator.Engine {
	t.Helper()
	if opts.Env == nil {
		opts.Env = map[string]any{}
	}
	eng, err := orchestrator.Build(context.Background(), parse(t, src), opts)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	t.Cleanup(func() { eng.Close() })
	return eng
}

// results collects RunResults from Serve's callback.
type results struct {
	mu sync.Mutex
	rs []orchestrator.RunResult
}

func (r *results) add(x orchestrator.RunResult) {
	r.mu.Lock()
	r.rs = append(r.rs, x)
	r.mu.Unlock()
}

func (r *results) get() []orchestrator.RunResult {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]orchestrator.RunResult(nil), r.rs...)
}

func (r *results) len() int { return len(r.get()) }

// serve runs eng.Serve in the background; the returned channel is closed
// when Serve returns.
func serve(ctx context.Context, eng *orchestrator.Engine, grace time.Duration, rs *results) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		eng.Serve(ctx, grace, rs.add)
	}()
	return done
}

func returned(done <-chan struct{}, within time.Duration) bool {
	select {
	case <-done:
		return true
	case <-time.After(within):
		return false
	}
}

func itemsOf(r orchestrator.RunResult, step string) map[string]pipe.ItemResult {
	m := map[string]pipe.ItemResult{}
	for _, s := range r.Steps {
		if s.Pipe == step {
			for _, it := range s.Items {
				m[it.TicketID] = it
			}
		}
	}
	return m
}

func stepIn(rs []pipe.Result, id string) (pipe.Result, bool) {
	for _, r := range rs {
		if r.Pipe == id {
			return r, true
		}
	}
	return pipe.Result{}, false
}

func indent(s string, n int) string {
	pad := strings.Repeat(" ", n)
	return pad + strings.ReplaceAll(strings.TrimSpace(s), "\n", "\n"+pad)
}
