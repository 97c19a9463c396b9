package pipes

import (
	"context"
	"fmt"

	"github.com/otai-dev/otai/pipe"
	"github.com/otai-dev/otai/registry"
)

// CompositeParams are the params of base:CompositePipe (it has none but steps).
type CompositeParams struct{}

func init() {
	registry.RegisterPipe(registry.Info{
		ID:        "base:CompositePipe",
		Aliases:   []string{"otai_base:pipes.composite_pipe.CompositePipe", "base:Composite"},
		Summary:   "Run steps in order; stops at the first failure and reports it (never as success).",
		Container: true,
	}, func(b registry.Build[CompositeParams]) (pipe.Pipe, error) {
		if len(b.Steps) == 0 {
			return nil, fmt.Errorf("needs at least one step")
		}
		return pipe.Func(func(ctx context.Context, rc *pipe.Context) pipe.Result {
			steps := pipe.RunSteps(ctx, rc, b.Steps)
			r := pipe.Result{Status: pipe.Summarize(steps), Steps: steps}
			for _, s := range steps {
				if s.Status == pipe.StatusFailed {
					r.Message = s.Pipe + " failed: " + s.Message
					break
				}
			}
			return r
		}), nil
	})
}
