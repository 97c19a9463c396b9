// Package server is otai's operations endpoint for `otai run --listen`:
//
//	/         a small status page (server-rendered, refreshes every 10 s):
//	          runners, the classifiers' models, recent runs
//	/api/runs the same as JSON
//	/healthz  200 while the process serves HTTP
//	/readyz   200 when the services are built and every runner has run
//	          recently enough, else 503 with the reason as JSON
//	/metrics  Prometheus metrics (package internal/metrics)
//
// It keeps the last runs in memory (a ring of Options.History), as compact
// redacted views without ticket bodies. The page shows ticket subjects:
// bind it to localhost or put it behind an authenticating proxy.
package server

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/otai-dev/otai/config"
	"github.com/otai-dev/otai/internal/metrics"
	"github.com/otai-dev/otai/orchestrator"
)

// Options configure a Server.
type Options struct {
	Addr    string           // host:port to listen on; ":0" picks a free port
	Metrics *metrics.Metrics // served on /metrics and fed by Record; nil: no /metrics
	Logger  *slog.Logger     // nil: discard
	Version string           // shown on the page
	// History is how many runs are kept (default DefaultHistory).
	History int
	// StaleFactor and MinStaleAge tune /readyz (defaults
	// DefaultStaleFactor, DefaultMinStaleAge).
	StaleFactor float64
	MinStaleAge time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Server serves the status page, the API, health and metrics.
type Server struct {
	opts    Options
	log     *slog.Logger
	handler http.Handler
	started time.Time

	mu       sync.Mutex
	srv      *http.Server
	addr     string
	served   chan struct{} // closed when Serve returned
	stopping bool
	built    bool
	builtAt  time.Time
	runners  []runnerInfo
	models   []ModelView
	last     map[string]RunView // newest run of each runner, without tickets
	total    map[string]int     // runs per runner since start
	runs     *ring
	seq      uint64
}

type runnerInfo struct {
	ID       string
	Triggers []config.Trigger
	DryRun   bool
}

// New returns a server; it listens once Start is called.
func New(o Options) *Server {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.History <= 0 {
		o.History = DefaultHistory
	}
	if o.StaleFactor <= 0 {
		o.StaleFactor = DefaultStaleFactor
	}
	if o.MinStaleAge <= 0 {
		o.MinStaleAge = DefaultMinStaleAge
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &Server{opts: o, log: o.Logger, started: o.Now(), last: map[string]RunView{}, total: map[string]int{},
		runs: newRing(o.History)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.page)
	mux.HandleFunc("GET /api/runs", s.apiRuns)
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	if o.Metrics != nil {
		mux.Handle("GET /metrics", o.Metrics.Handler(o.Logger))
	}
	s.handler = secure(mux)
	return s
}

// Handler is the server's handler (tests serve it with httptest).
func (s *Server) Handler() http.Handler { return s.handler }

// SetRunners records that the services are built and which runners run;
// until then /readyz answers 503. It also creates the runners' metric
// series at zero.
func (s *Server) SetRunners(rs []*orchestrator.Runner) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.runners = s.runners[:0]
	for _, r := range rs {
		s.runners = append(s.runners, runnerInfo{ID: text(r.ID, textLen), Triggers: r.Triggers, DryRun: r.DryRun})
		if s.opts.Metrics != nil {
			s.opts.Metrics.InitRunner(r.ID)
		}
	}
	s.built, s.builtAt = true, s.opts.Now()
}

// ModelView is one classifier service and the model it loaded, for the
// page: what it is and how it was trained.
type ModelView struct {
	Service   string    `json:"service"` // the classifier's service id
	Name      string    `json:"name"`    // e.g. linear/queue
	Version   string    `json:"version,omitempty"`
	Labels    int       `json:"labels"`
	TrainedAt time.Time `json:"trained_at,omitzero"`
	Examples  int       `json:"examples,omitempty"`
	HeldOut   int       `json:"held_out,omitempty"` // held-out examples behind the scores
	Accuracy  float64   `json:"accuracy,omitempty"`
	MacroF1   float64   `json:"macro_f1,omitempty"`
	ECE       float64   `json:"ece,omitempty"`
}

// SetModels tells the server which models the classifiers loaded.
func (s *Server) SetModels(ms []ModelView) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.models = slices.Clone(ms)
	for i := range s.models {
		s.models[i].Service = text(s.models[i].Service, textLen)
		s.models[i].Name = text(s.models[i].Name, textLen)
	}
}

// Record keeps a finished run in the history and, with Options.Metrics,
// records it in the metrics. Safe for concurrent use (Serve calls it from
// each runner's goroutine).
func (s *Server) Record(r orchestrator.RunResult) {
	if s.opts.Metrics != nil {
		s.opts.Metrics.Observe(r)
	}
	v := View(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	v.Seq = s.seq
	s.runs.add(v)
	summary := v
	summary.Tickets = nil
	s.last[v.Runner] = summary
	s.total[v.Runner]++
}

// Start listens on Options.Addr and serves in the background until
// Shutdown. It returns once listening, or the error if it cannot listen.
// When ctx is done (the first SIGINT) /readyz turns 503 "shutting down",
// but the server keeps answering until Shutdown, so the metrics of the
// runs finishing during the grace period can still be scraped.
func (s *Server) Start(ctx context.Context) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.opts.Addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", s.opts.Addr, err)
	}
	srv := &http.Server{Handler: s.handler, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 60 * time.Second, MaxHeaderBytes: 64 << 10,
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelDebug)}
	served := make(chan struct{})
	s.mu.Lock()
	s.srv, s.addr, s.served = srv, ln.Addr().String(), served
	s.mu.Unlock()
	s.log.Info("serving status page, health and metrics", "addr", "http://"+ln.Addr().String()+"/")
	go func() {
		defer close(served)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("status server stopped", "error", err)
		}
	}()
	go func() {
		select {
		case <-ctx.Done():
			s.mu.Lock()
			s.stopping = true
			s.mu.Unlock()
		case <-served:
		}
	}()
	return nil
}

// Addr is the address the server listens on (after Start).
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// Shutdown stops accepting connections and waits for requests in flight
// (at most until ctx is done). It is a no-op before Start.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	srv, served := s.srv, s.served
	s.stopping = true
	s.mu.Unlock()
	if srv == nil {
		return nil
	}
	err := srv.Shutdown(ctx)
	<-served
	return err
}

// PageRunsWithTickets is how many of the newest runs the page shows with
// their tickets; older ones get a summary line (/api/runs has them all).
const PageRunsWithTickets = 10

// Status is the whole state the page and /api/runs show.
type Status struct {
	Now       time.Time    `json:"now"`
	StartedAt time.Time    `json:"started_at"`
	Version   string       `json:"version,omitempty"`
	Ready     Readiness    `json:"ready"`
	Runners   []RunnerView `json:"runners"`
	Models    []ModelView  `json:"models"`
	Runs      []RunView    `json:"runs"` // newest first, with tickets
}

// RunnerView is a runner and its latest run.
type RunnerView struct {
	ID       string   `json:"id"`
	Triggers []string `json:"triggers"`
	DryRun   bool     `json:"dry_run"`
	Runs     int      `json:"runs"` // since start
	LastRun  *RunView `json:"last_run"`
}

// Status returns a snapshot of the state.
func (s *Server) Status() Status {
	now := s.opts.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Status{Now: now, StartedAt: s.started, Version: s.opts.Version, Ready: s.readinessLocked(now),
		Runners: []RunnerView{}, Models: slices.Clone(s.models), Runs: s.runs.newestFirst()}
	if st.Models == nil {
		st.Models = []ModelView{}
	}
	seen := map[string]bool{}
	add := func(id string, ts []config.Trigger, dry bool) {
		rv := RunnerView{ID: id, Triggers: []string{}, DryRun: dry, Runs: s.total[id]}
		for _, t := range ts {
			rv.Triggers = append(rv.Triggers, t.String())
		}
		if l, ok := s.last[id]; ok {
			rv.LastRun = &l
		}
		seen[id] = true
		st.Runners = append(st.Runners, rv)
	}
	for _, r := range s.runners {
		add(r.ID, r.Triggers, r.DryRun)
	}
	for _, id := range slices.Sorted(maps.Keys(s.last)) { // runners not (yet) announced
		if !seen[id] {
			add(id, nil, s.last[id].DryRun)
		}
	}
	return st
}

func (s *Server) readinessLocked(now time.Time) Readiness {
	st := readyState{Stopping: s.stopping, Built: s.built, BuiltAt: s.builtAt, Factor: s.opts.StaleFactor, MinAge: s.opts.MinStaleAge}
	for _, r := range s.runners {
		rs := runnerState{ID: r.ID, Triggers: r.Triggers}
		if l, ok := s.last[r.ID]; ok {
			rs.LastEnd = l.Finished
		}
		st.Runners = append(st.Runners, rs)
	}
	return checkReady(now, st)
}

// Ready returns the current readiness.
func (s *Server) Ready() Readiness {
	now := s.opts.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.readinessLocked(now)
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ok\n"))
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	rd := s.Ready()
	code := http.StatusOK
	if !rd.Ready {
		code = http.StatusServiceUnavailable
	}
	writeJSON(w, code, rd)
}

func (s *Server) apiRuns(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.Status())
}

func (s *Server) page(w http.ResponseWriter, r *http.Request) {
	var b bytes.Buffer
	if err := pageTmpl.Execute(&b, s.Status()); err != nil {
		s.log.Error("rendering status page", "error", err)
		http.Error(w, "rendering the page failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(b.Bytes())
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		http.Error(w, "encoding failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	w.Write(append(b, '\n'))
}

// secure sets headers that keep the page inert: no scripts, no external
// resources, no framing, nothing cached.
func secure(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("Cache-Control", "no-store")
		h.ServeHTTP(w, r)
	})
}

//go:embed page.html
var pageHTML string

var pageTmpl = template.Must(template.New("page").Funcs(template.FuncMap{
	"clock": func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.Local().Format("2006-01-02 15:04:05")
	},
	"iso": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"ago": func(now, t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return short(max(now.Sub(t), 0)) + " ago"
	},
	"ms": func(ms int64) string {
		d := time.Duration(ms) * time.Millisecond
		if d < time.Second {
			return d.String()
		}
		return d.Round(100 * time.Millisecond).String()
	},
	"uptime": func(now, t time.Time) string { return short(now.Sub(t)) },
	"open":   func(i int, v RunView) bool { return i < 5 && (len(v.Tickets) > 0 || len(v.Failures) > 0) },
	"full":   func(i int) bool { return i < PageRunsWithTickets },
}).Parse(pageHTML))
