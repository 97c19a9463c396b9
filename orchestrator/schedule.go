package orchestrator

import (
	"context"
	"sync"
	"time"

	"github.com/otai-dev/otai/config"
)

// Serve runs every runner on its triggers until ctx is cancelled. Then it
// stops starting runs, lets the runs in flight finish the tickets they
// have started (at most grace long; after that their context is cancelled)
// and returns. When every trigger is a once-trigger, Serve returns after
// those runs. A runner never overlaps itself: a tick that finds it still
// running is skipped. onResult is called after every run.
func (e *Engine) Serve(ctx context.Context, grace time.Duration, onResult func(RunResult)) {
	stopping := make(chan struct{})
	work, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	var wg sync.WaitGroup
	for _, r := range e.runners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e.serveRunner(ctx, work, r, stopping, onResult)
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done: // only once-triggers: all ran
		return
	case <-ctx.Done():
	}
	close(stopping)
	e.opts.Logger.Info("shutting down: finishing tickets in flight", "grace", grace)
	select {
	case <-done:
	case <-time.After(grace):
		e.opts.Logger.Warn("grace period over: cancelling runs in flight")
		cancelWork()
		<-done
	}
}

func (e *Engine) serveRunner(ctx, work context.Context, r *Runner, stopping chan struct{}, onResult func(RunResult)) {
	var mu sync.Mutex
	running := false
	var wg sync.WaitGroup
	fire := func(why string) {
		if ctx.Err() != nil { // a tick that raced with shutdown starts nothing
			return
		}
		mu.Lock()
		if running {
			mu.Unlock()
			e.opts.Logger.Warn("runner still busy, skipping this trigger", "runner", r.ID, "trigger", why)
			return
		}
		running = true
		mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := e.RunOnce(work, r, stopping)
			if onResult != nil {
				onResult(res)
			}
			mu.Lock()
			running = false
			mu.Unlock()
		}()
	}
	var tws sync.WaitGroup
	for _, t := range r.Triggers {
		tws.Add(1)
		go func(t config.Trigger) {
			defer tws.Done()
			switch {
			case t.Once:
				fire("once")
			case t.Interval > 0:
				fire(t.String())
				tk := time.NewTicker(t.Interval)
				defer tk.Stop()
				for {
					select {
					case <-ctx.Done():
						return
					case <-tk.C:
						fire(t.String())
					}
				}
			case t.Schedule != nil:
				for {
					next := t.Schedule.Next(time.Now())
					tm := time.NewTimer(time.Until(next))
					select {
					case <-ctx.Done():
						tm.Stop()
						return
					case <-tm.C:
						fire(t.String())
					}
				}
			}
		}(t)
	}
	tws.Wait()
	wg.Wait()
}
