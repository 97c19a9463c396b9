package pipes

import (
	"context"

	"github.com/otai-dev/otai/pipe"
	"github.com/otai-dev/otai/registry"
)

// ExpressionParams are the params of base:ExpressionPipe.
type ExpressionParams struct {
	Expression any    `yaml:"expression" aliases:"value" otai:"required" desc:"A value or template, e.g. \"{{ pipes.classify.confidence >= 0.8 ? pipes.classify.label : 'Inbox' }}\"."`
	FailIf     bool   `yaml:"fail_if" desc:"Fail the pipe when this is true (e.g. a sanity check)."`
	Message    string `yaml:"message" desc:"Message for fail_if."`
}

func init() {
	registry.RegisterPipe(registry.Info{
		ID:      "base:ExpressionPipe",
		Aliases: []string{"otai_base:pipes.expression_pipe.ExpressionPipe", "base:Expression", "base:Decide"},
		Summary: "Compute a value (a decision, a fallback) from the ticket and earlier results; later pipes read pipes.<id>.value.",
	}, func(b registry.Build[ExpressionParams]) (pipe.Pipe, error) {
		return withParams(b, func(ctx context.Context, rc *pipe.Context, p ExpressionParams) pipe.Result {
			if p.FailIf {
				msg := p.Message
				if msg == "" {
					msg = "fail_if is true"
				}
				return pipe.Failf("%s", msg)
			}
			return pipe.Succeeded(map[string]any{"value": p.Expression}).WithAction("%v", p.Expression)
		}), nil
	})
}
