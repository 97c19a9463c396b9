// Package orchestrator turns a loaded config into running components:
// it provisions services in order (closing those already built if a later
// one fails), builds pipes with their per-run params, and runs runners on
// their triggers with graceful shutdown.
package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/otai-dev/otai/classify"
	"github.com/otai-dev/otai/config"
	"github.com/otai-dev/otai/internal/httpx"
	"github.com/otai-dev/otai/pipe"
	"github.com/otai-dev/otai/registry"
	"github.com/otai-dev/otai/ticket"
)

// Options configure an Engine.
type Options struct {
	DataDir  string
	Logger   *slog.Logger
	Validate bool       // build only: create nothing, contact nothing
	DryRun   bool       // write nothing to any help desk
	Marks    pipe.Marks // remembers processed tickets; nil: remember nothing
	// Decisions records every decision; nil: not recorded.
	Decisions pipe.DecisionRecorder
	// Claims leases tickets to this process (replicas sharing a state
	// store split the work); nil: no leases. Owner is this process's id as
	// a lease holder; empty: pipe.NewOwner().
	Claims pipe.Claims
	Owner  string
	Env    map[string]any
	// HTTPMetrics is handed to every service (REST adapters observe their
	// requests with it). The engine wraps it (or, when nil, stands in for
	// it) with a counter of retries that RunResult.HTTPRetries reports.
	HTTPMetrics httpx.Hook
	// Version is otai's version, handed to every service.
	Version string
}

// retryCounter counts HTTP attempts that are retries (Attempt > 0) and
// passes every observation on.
type retryCounter struct {
	n    atomic.Int64
	next httpx.Hook
}

func (c *retryCounter) ObserveRequest(o httpx.Observation) {
	if o.Attempt > 0 {
		c.n.Add(1)
	}
	if c.next != nil {
		c.next.ObserveRequest(o)
	}
}

// Engine is a built config.
type Engine struct {
	file     *config.File
	opts     Options
	services *services
	runners  []*Runner
	retries  *retryCounter
}

// Runner is a built runner.
type Runner struct {
	ID       string
	Triggers []config.Trigger
	DryRun   bool
	vars     map[string]any
	steps    []*pipe.Step
}

type services struct {
	byID  map[string]any
	order []string
}

var _ pipe.Services = (*services)(nil)

// only returns the one service of type T when id is empty.
func only[T any](s *services, id, what string) (string, error) {
	if id != "" {
		return id, nil
	}
	var found []string
	for _, sid := range s.order {
		if _, ok := s.byID[sid].(T); ok {
			found = append(found, sid)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return "", fmt.Errorf("no %s is configured: %w", what, pipe.ErrNoService)
	}
	return "", fmt.Errorf("%d %ss are configured (%s): name one in the pipe's params: %w", len(found), what, strings.Join(found, ", "), pipe.ErrNoService)
}

func (s *services) TicketSystem(id string) (ticket.System, error) {
	id, err := only[ticket.System](s, id, "ticket system")
	if err != nil {
		return nil, err
	}
	v, ok := s.byID[id]
	if !ok {
		return nil, fmt.Errorf("ticket system %q: %w", id, pipe.ErrNoService)
	}
	ts, ok := v.(ticket.System)
	if !ok {
		return nil, fmt.Errorf("service %q is not a ticket system: %w", id, pipe.ErrNoService)
	}
	return ts, nil
}

func (s *services) Classifier(id string) (classify.Classifier, error) {
	id, err := only[classify.Classifier](s, id, "classifier")
	if err != nil {
		return nil, err
	}
	v, ok := s.byID[id]
	if !ok {
		return nil, fmt.Errorf("classifier %q: %w", id, pipe.ErrNoService)
	}
	c, ok := v.(classify.Classifier)
	if !ok {
		return nil, fmt.Errorf("service %q is not a classifier: %w", id, pipe.ErrNoService)
	}
	return c, nil
}

// Build provisions every service and builds every pipe of f. On error,
// what was already built is closed again.
func Build(ctx context.Context, f *config.File, opts Options) (_ *Engine, err error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Env == nil {
		opts.Env = Environ()
	}
	if opts.Claims != nil && opts.Owner == "" {
		opts.Owner = pipe.NewOwner()
	}
	e := &Engine{file: f, opts: opts, services: &services{byID: map[string]any{}}, retries: &retryCounter{next: opts.HTTPMetrics}}
	defer func() {
		if err != nil { // Caddy's rule: clean up also after a failed provision
			e.Close()
		}
	}()
	scope := map[string]any{"ticket": nil, "pipes": map[string]any{}, "context": maps.Clone(f.Vars), "env": opts.Env}
	if scope["context"] == nil {
		scope["context"] = map[string]any{}
	}
	for _, s := range f.Services {
		params := s.Spec.NewParams()
		if err := config.Decode(s.Params, scope, params); err != nil {
			return nil, fmt.Errorf("configuring service %s: %w", s.ID, err)
		}
		env := registry.Env{DataDir: opts.DataDir, Logger: opts.Logger.With("service", s.ID),
			Validate: opts.Validate, Services: e.services, HTTPMetrics: e.retries, Version: opts.Version}
		v, err := s.Spec.NewService(ctx, params, env)
		if err != nil {
			return nil, fmt.Errorf("%s: starting service %s (%s): %w", s.Pos, s.ID, s.Spec.ID, err)
		}
		e.services.byID[s.ID] = v
		e.services.order = append(e.services.order, s.ID)
	}
	built := map[*config.Pipe]*pipe.Step{}
	for _, r := range f.Runners {
		run := &Runner{ID: r.ID, Triggers: r.Triggers, DryRun: r.DryRun || opts.DryRun, vars: merge(f.Vars, r.Vars)}
		for _, p := range r.Pipes {
			st, err := e.buildPipe(p, built)
			if err != nil {
				return nil, err
			}
			run.steps = append(run.steps, st)
		}
		e.runners = append(e.runners, run)
	}
	return e, nil
}

func (e *Engine) buildPipe(p *config.Pipe, built map[*config.Pipe]*pipe.Step) (*pipe.Step, error) {
	if st, ok := built[p]; ok {
		return st, nil
	}
	var children []*pipe.Step
	for _, c := range p.Steps {
		st, err := e.buildPipe(c, built)
		if err != nil {
			return nil, err
		}
		children = append(children, st)
	}
	params := p.Params
	pp, err := p.Spec.NewPipe(registry.Build[any]{ID: p.ID, Steps: children, Services: e.services,
		Logger: e.opts.Logger.With("pipe", p.ID), DataDir: e.opts.DataDir, Validate: e.opts.Validate},
		func(scope map[string]any, out any) error { return config.Decode(params, scope, out) })
	if err != nil {
		return nil, fmt.Errorf("%s: building pipe %s (%s): %w", p.Pos, p.ID, p.Spec.ID, err)
	}
	st := &pipe.Step{ID: p.ID, Use: p.Spec.ID, Pipe: pp}
	if p.If != nil {
		cond := p.If
		st.If = func(rc *pipe.Context) (bool, error) { return cond.Eval(rc.Scope()) }
	}
	built[p] = st
	return st, nil
}

func merge(ms ...map[string]any) map[string]any {
	out := map[string]any{}
	for _, m := range ms {
		maps.Copy(out, m)
	}
	return out
}

// Services returns the provisioned services.
func (e *Engine) Services() pipe.Services { return e.services }

// Service returns the service with id, or nil.
func (e *Engine) Service(id string) any { return e.services.byID[id] }

// Runners returns the built runners.
func (e *Engine) Runners() []*Runner { return e.runners }

// Close releases every service that holds resources, newest first.
func (e *Engine) Close() error {
	var errs []error
	for i := len(e.services.order) - 1; i >= 0; i-- {
		id := e.services.order[i]
		if c, ok := e.services.byID[id].(interface{ Close() error }); ok {
			if err := c.Close(); err != nil {
				errs = append(errs, fmt.Errorf("closing service %s: %w", id, err))
			}
		}
	}
	return errors.Join(errs...)
}

// Environ returns the environment for templates, without secrets.
func Environ() map[string]any {
	env := map[string]any{}
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "OTAI_SECRET_") || looksSecret(k) {
			continue
		}
		env[k] = v
	}
	return env
}

func looksSecret(k string) bool {
	k = strings.ToUpper(k)
	for _, w := range []string{"PASSWORD", "SECRET", "TOKEN", "API_KEY", "APIKEY", "CREDENTIAL"} {
		if strings.Contains(k, w) {
			return true
		}
	}
	return false
}

// RunResult is the outcome of one run of a runner.
type RunResult struct {
	Runner   string        `json:"runner"`
	Started  time.Time     `json:"started"`
	Duration time.Duration `json:"duration_ns"`
	Status   pipe.Status   `json:"status"`
	DryRun   bool          `json:"dry_run,omitempty"`
	Steps    []pipe.Result `json:"steps"`
	// HTTPRetries is how many HTTP requests the engine's services sent
	// again during the run (429, 502-504, timeouts, resets: each retry
	// counts once). The counter belongs to the engine, so runners of one
	// engine that run at the same time each count the others' retries too.
	HTTPRetries int `json:"http_retries"`
}

// Failures lists every failure in the run.
func (r *RunResult) Failures() []string {
	var out []string
	for i := range r.Steps {
		out = append(out, r.Steps[i].Failures()...)
	}
	return out
}

// Counts tallies tickets by status.
func (r *RunResult) Counts() map[pipe.Status]int {
	c := map[pipe.Status]int{}
	for i := range r.Steps {
		for k, v := range r.Steps[i].Counts() {
			c[k] += v
		}
	}
	return c
}

// RunOnce runs runner r now.
func (e *Engine) RunOnce(ctx context.Context, r *Runner, stopping <-chan struct{}) RunResult {
	log := e.opts.Logger.With("runner", r.ID)
	vars := maps.Clone(r.vars)
	vars["runner"] = r.ID
	vars["dry_run"] = r.DryRun
	rc := &pipe.Context{Runner: r.ID, Pipes: map[string]map[string]any{}, Vars: vars, Env: e.opts.Env,
		Services: e.services, Logger: log, DryRun: r.DryRun, Marks: e.opts.Marks, Decisions: e.opts.Decisions,
		Claims: e.opts.Claims, Owner: e.opts.Owner, Stopping: stopping}
	start := time.Now()
	retries0 := e.retries.n.Load()
	log.Info("run started", "dry_run", r.DryRun)
	steps := pipe.RunSteps(ctx, rc, r.steps)
	res := RunResult{Runner: r.ID, Started: start, Duration: time.Since(start), Steps: steps, DryRun: r.DryRun,
		HTTPRetries: int(e.retries.n.Load() - retries0)}
	res.Status = pipe.Summarize(steps)
	if res.Status != pipe.StatusFailed && len(res.Failures()) > 0 {
		res.Status = pipe.StatusFailed
	}
	c := res.Counts()
	attrs := []any{"status", res.Status, "duration", res.Duration.Round(time.Millisecond),
		"tickets_succeeded", c[pipe.StatusSucceeded], "tickets_skipped", c[pipe.StatusSkipped], "tickets_failed", c[pipe.StatusFailed],
		"http_retries", res.HTTPRetries}
	if res.Status == pipe.StatusFailed {
		for _, f := range res.Failures() {
			log.Error("failure", "detail", f)
		}
		log.Warn("run finished with failures", attrs...)
	} else {
		log.Info("run finished", attrs...)
	}
	return res
}

// RunAll runs every runner once, in config order.
func (e *Engine) RunAll(ctx context.Context) []RunResult {
	var out []RunResult
	for _, r := range e.runners {
		out = append(out, e.RunOnce(ctx, r, nil))
	}
	return out
}
