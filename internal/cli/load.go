package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/otai-dev/otai/config"
	"github.com/otai-dev/otai/internal/defaults"
	"github.com/otai-dev/otai/internal/httpx"
	"github.com/otai-dev/otai/orchestrator"
	"github.com/otai-dev/otai/secret"
	"github.com/otai-dev/otai/state"
	"github.com/spf13/cobra"
)

// configFlags are shared by every command that reads a config.
type configFlags struct {
	path       string
	secretsDir string
}

func (f *configFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVarP(&f.path, "config", "c", os.Getenv("OTAI_CONFIG"), "config file (env OTAI_CONFIG); without it, the embedded demo config")
	cmd.Flags().StringVar(&f.secretsDir, "secrets-dir", envOr("OTAI_SECRETS_DIR", secret.DefaultDir), "directory of secret files, one per secret (env OTAI_SECRETS_DIR)")
}

func (f *configFlags) resolver() secret.Resolver { return secret.Resolver{Dir: f.secretsDir} }

// load reads the config (or the embedded default). Config problems exit 1,
// an unreadable file exits 3.
func (app *App) load(f *configFlags) (*config.File, error) {
	opts := config.Options{Secrets: f.resolver().Lookup}
	var (
		file *config.File
		err  error
	)
	if f.path == "" {
		file, err = config.Parse(defaults.Name, defaults.Config, opts)
	} else {
		var b []byte
		b, err = os.ReadFile(f.path)
		if err != nil {
			return nil, envError(fmt.Errorf("reading config: %w", err))
		}
		file, err = config.Parse(f.path, b, opts)
	}
	var ce config.Errors
	if errors.As(err, &ce) {
		for _, e := range ce {
			fmt.Fprintln(app.Err, secret.Redact(e.Error()))
		}
		return nil, &exitError{ExitFailure, fmt.Errorf("%d problem(s) in %s", len(ce), nameOf(f.path))}
	}
	if err != nil {
		return nil, failure(err)
	}
	return file, nil
}

func nameOf(path string) string {
	if path == "" {
		return defaults.Name
	}
	return path
}

// dataDir makes sure the data directory exists and is writable.
func (app *App) dataDir() error {
	if err := os.MkdirAll(app.DataDir, 0o755); err != nil {
		return envError(fmt.Errorf("data directory %s cannot be created: %w (choose another with --data-dir or OTAI_DATA_DIR)", app.DataDir, err))
	}
	probe, err := os.CreateTemp(app.DataDir, ".otai-write-test-*")
	if err != nil {
		return envError(fmt.Errorf("data directory %s is not writable: %w (choose another with --data-dir or OTAI_DATA_DIR)", app.DataDir, err))
	}
	probe.Close()
	os.Remove(probe.Name())
	return nil
}

// build provisions the engine with otai's state store. The returned
// closer releases everything.
func (app *App) build(ctx context.Context, file *config.File, dryRun bool, httpMetrics httpx.Hook) (*orchestrator.Engine, func(), error) {
	if err := app.dataDir(); err != nil {
		return nil, nil, err
	}
	st, err := state.Open(ctx, filepath.Join(app.DataDir, "state.db"))
	if err != nil {
		return nil, nil, envError(err)
	}
	eng, err := orchestrator.Build(ctx, file, orchestrator.Options{DataDir: app.DataDir, Logger: app.Logger,
		DryRun: dryRun, Marks: st, Decisions: st, HTTPMetrics: httpMetrics})
	if err != nil {
		st.Close()
		return nil, nil, envError(err)
	}
	return eng, func() {
		if err := eng.Close(); err != nil {
			app.Logger.Warn("closing services", "error", err)
		}
		st.Close()
	}, nil
}
