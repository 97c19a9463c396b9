package pipes_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/otai-dev/otai/orchestrator"
	"github.com/otai-dev/otai/pipe"
	"github.com/otai-dev/otai/pipes"
	"github.com/otai-dev/otai/registry"
)

// stealingClaims grants every first claim and loses every renewal, as
// when another process took the lease over while this one stalled.
type stealingClaims struct {
	mu   sync.Mutex
	held map[string]bool
}

func (c *stealingClaims) Claim(_ context.Context, key, _ string, _ time.Duration) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.held[key] {
		return false, nil
	}
	c.held[key] = true
	return true, nil
}

func (c *stealingClaims) Release(context.Context, string, string) error { return nil }

type waitParams struct{}

func init() {
	// pipestest:WaitForCancel runs until its context ends (at most 10 s).
	registry.RegisterPipe(registry.Info{ID: "pipestest:WaitForCancel", Summary: "Waits until cancelled."},
		func(b registry.Build[waitParams]) (pipe.Pipe, error) {
			return pipe.Func(func(ctx context.Context, rc *pipe.Context) pipe.Result {
				select {
				case <-ctx.Done():
					return pipe.Failed(context.Cause(ctx))
				case <-time.After(10 * time.Second):
					return pipe.Succeeded(nil)
				}
			}), nil
		})
}

// TestLostLeaseStopsTheTicket: when a renewal finds the lease taken over,
// the ticket's work stops at once: the step in flight ends and the next
// step does not run.
func TestLostLeaseStopsTheTicket(t *testing.T) {
	steps := `
      - id: wait
        use: pipestest:WaitForCancel
      - id: note
        use: base:AddNotePipe
        params: { note: { body: "must not be written" } }`
	src := strings.Replace(triageYAML(1, steps, ""), "concurrency: 1", "concurrency: 1\n      claim_ttl: 60ms", 1)
	eng := build(t, src, orchestrator.Options{Claims: &stealingClaims{held: map[string]bool{}}, Owner: "me"})
	d := desk(t, eng, "desk")
	d.Add(inbox()[:1]...)
	start := time.Now()
	res := runOne(t, eng)
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("the ticket ran for %s after losing its lease", took)
	}
	byID, _ := items(t, res, "each")
	it := byID["1"]
	if it.Status != pipe.StatusFailed || !strings.Contains(it.Message, pipes.ErrLeaseLost.Error()) {
		t.Fatalf("ticket 1: %s %q, want failed with the lost lease\n%s", it.Status, it.Message, dump(res))
	}
	if n := len(d.Notes("1")); n != 0 {
		t.Errorf("%d notes written after the lease was lost", n)
	}
}
