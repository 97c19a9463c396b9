package pipe

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// Step is a built pipe with its config id and optional condition.
type Step struct {
	ID   string
	Use  string
	If   func(rc *Context) (bool, error) // nil: always run
	Pipe Pipe
}

// RunSteps runs steps in order on rc, recording each result so later steps
// can read it. After a step fails, the remaining steps are skipped (a note
// must not explain a classification that failed), each with a message that
// names the failed step.
func RunSteps(ctx context.Context, rc *Context, steps []*Step) []Result {
	out := make([]Result, 0, len(steps))
	failed := ""
	for _, s := range steps {
		var r Result
		switch {
		case failed != "":
			r = Skipped("skipped because %s failed", failed)
		case ctx.Err() != nil:
			r = Failed(fmt.Errorf("not run: %w", context.Cause(ctx)))
		default:
			r = runStep(ctx, rc, s)
		}
		r.Pipe, r.Use = s.ID, s.Use
		if r.Status == StatusFailed && failed == "" {
			failed = s.ID
		}
		if l := rc.Log(); l.Enabled(ctx, slog.LevelDebug) {
			attrs := []slog.Attr{slog.String("pipe", s.ID), slog.String("status", string(r.Status)), slog.Duration("took", r.Duration)}
			if r.Action != "" {
				attrs = append(attrs, slog.String("action", r.Action))
			}
			if r.Message != "" {
				attrs = append(attrs, slog.String("message", r.Message))
			}
			l.LogAttrs(ctx, slog.LevelDebug, "pipe finished", attrs...)
		}
		rc.Record(r)
		out = append(out, r)
	}
	return out
}

func runStep(ctx context.Context, rc *Context, s *Step) (r Result) {
	start := time.Now()
	defer func() {
		if p := recover(); p != nil {
			r = Failf("panic in pipe %s: %v", s.ID, p)
		}
		r.Duration = time.Since(start)
	}()
	if s.If != nil {
		ok, err := s.If(rc)
		if err != nil {
			return Failed(fmt.Errorf("evaluating if: %w", err))
		}
		if !ok {
			return Skipped("condition is false")
		}
	}
	return s.Pipe.Run(ctx, rc)
}

// Status summarises step results: failed if any failed, skipped if all
// were skipped, succeeded otherwise.
func Summarize(rs []Result) Status {
	all := len(rs) > 0
	for _, r := range rs {
		if r.Status == StatusFailed {
			return StatusFailed
		}
		if r.Status != StatusSkipped {
			all = false
		}
	}
	if all {
		return StatusSkipped
	}
	return StatusSucceeded
}
