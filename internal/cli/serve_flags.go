package cli

import (
	"context"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/otai-dev/otai/classify"
	"github.com/otai-dev/otai/config"
	"github.com/otai-dev/otai/internal/httpx"
	"github.com/otai-dev/otai/internal/metrics"
	"github.com/otai-dev/otai/orchestrator"
	"github.com/otai-dev/otai/server"
	"github.com/spf13/cobra"
)

// serveFlags is `otai run --listen`: the status page, /healthz, /readyz
// and /metrics of package server (see docs/operations.md).
type serveFlags struct{ listen string }

func (f *serveFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.listen, "listen", os.Getenv("OTAI_LISTEN"),
		"serve a status page, /healthz, /readyz and /metrics on host:port, e.g. 127.0.0.1:9464 (env OTAI_LISTEN; default: off)")
}

// statusServer is the running server. A nil *statusServer (no --listen)
// does nothing, so `otai run` calls its methods unconditionally.
type statusServer struct {
	srv     *server.Server
	app     *App
	metrics *metrics.Metrics
}

// httpMetrics is the hook REST adapters report their requests to; nil
// without --listen.
func (s *statusServer) httpMetrics() httpx.Hook {
	if s == nil {
		return nil
	}
	return s.metrics.HTTPHook()
}

// start validates --listen and starts listening; nil, nil without it.
func (f *serveFlags) start(ctx context.Context, app *App) (*statusServer, error) {
	if f.listen == "" {
		return nil, nil
	}
	host, _, err := net.SplitHostPort(f.listen)
	if err != nil {
		return nil, usageError("--listen %q: want host:port, e.g. 127.0.0.1:9464 (%v)", f.listen, err)
	}
	if ip := net.ParseIP(host); host == "" || (host != "localhost" && (ip == nil || !ip.IsLoopback())) {
		app.Logger.Warn("the status page shows ticket subjects and has no login: listen on 127.0.0.1 or put it behind an authenticating proxy",
			"listen", f.listen)
	}
	m := metrics.New()
	srv := server.New(server.Options{Addr: f.listen, Metrics: m, Logger: app.Logger.With("component", "http"), Version: Version})
	if err := srv.Start(ctx); err != nil {
		return nil, envError(fmt.Errorf("--listen: %w", err))
	}
	return &statusServer{srv: srv, app: app, metrics: m}, nil
}

// built tells the server the services are built, which runners run and
// which models the classifiers of file loaded.
func (s *statusServer) built(eng *orchestrator.Engine, file *config.File) {
	if s == nil {
		return
	}
	models := modelViews(eng, file)
	for _, mv := range models {
		var scores map[string]float64
		if mv.HeldOut > 0 {
			scores = map[string]float64{"accuracy": mv.Accuracy, "macro_f1": mv.MacroF1, "ece": mv.ECE}
		}
		s.metrics.SetModel(mv.Service, mv.Name, mv.Version, mv.TrainedAt, scores)
	}
	s.srv.SetModels(models)
	s.srv.SetRunners(eng.Runners())
}

// modelViews describes the models file's classifier services loaded.
func modelViews(eng *orchestrator.Engine, file *config.File) []server.ModelView {
	var models []server.ModelView
	for _, svc := range file.Services {
		d, ok := eng.Service(svc.ID).(classify.Describer)
		if !ok {
			continue
		}
		info := d.Describe()
		mv := server.ModelView{Service: svc.ID, Name: info.Name, Version: info.Version, Labels: len(info.Labels)}
		if t, ok := d.(classify.TrainingReporter); ok {
			tr := t.Training()
			mv.TrainedAt, mv.Examples = tr.At, tr.Examples
			if n := tr.HeldOut["holdout"]; n > 0 {
				mv.HeldOut, mv.Accuracy, mv.MacroF1, mv.ECE = int(n), tr.HeldOut["accuracy"], tr.HeldOut["macro_f1"], tr.HeldOut["ece"]
			}
		}
		models = append(models, mv)
	}
	return models
}

// record adds finished runs to the metrics and the page's history.
func (s *statusServer) record(rs ...orchestrator.RunResult) {
	if s == nil {
		return
	}
	for _, r := range rs {
		s.srv.Record(r)
	}
}

// stop shuts the server down, waiting at most 5s for requests in flight.
func (s *statusServer) stop() {
	if s == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.srv.Shutdown(ctx); err != nil {
		s.app.Logger.Warn("stopping the status server", "error", err)
	}
}
