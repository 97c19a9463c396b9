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
	"github.com/otai-dev/otai/pipe"
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
	lookup := f.resolver().Lookup
	warned := map[string]bool{}
	opts := config.Options{Secrets: func(name string) (string, error) {
		v, err := lookup(name)
		if err == nil && len(v) < secret.MinLen && !warned[name] {
			// Masking two or three characters would shred ordinary text,
			// so such a value stays readable wherever it is printed.
			warned[name] = true
			app.Logger.Warn(fmt.Sprintf("secret %s is shorter than %d characters, so otai cannot redact it from logs, errors and results: use a longer value", name, secret.MinLen))
		}
		return v, err
	}}
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
		return nil, &exitError{ExitFailure, fmt.Errorf("%s in %s", plural(len(ce), "problem"), nameOf(f.path))}
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

// StateDSNEnv names the environment variable with the DSN of a PostgreSQL
// state store. Set, otai keeps processed marks, decisions, corrections and
// ticket leases there, and several `otai run` processes sharing it split
// the work (docs/reliability-replicas.md); unset, they live in state.db in
// the data directory.
const StateDSNEnv = "OTAI_STATE_DSN"

// openState opens the state store: PostgreSQL when OTAI_STATE_DSN is set,
// else state.db in the data directory (which must exist when mustExist).
// owner names this process in the decisions PostgreSQL records.
func (app *App) openState(ctx context.Context, owner string, mustExist bool) (state.Backend, error) {
	if dsn := os.Getenv(StateDSNEnv); dsn != "" {
		st, err := state.OpenPostgres(ctx, dsn)
		if err != nil {
			return nil, envError(fmt.Errorf("%w (from %s)", err, StateDSNEnv))
		}
		st.SetOwner(owner)
		return st, nil
	}
	path := filepath.Join(app.DataDir, "state.db")
	if mustExist {
		if _, err := os.Stat(path); err != nil {
			return nil, envError(fmt.Errorf("no decisions yet: %s does not exist (run 'otai run' first, or set --data-dir or %s)", path, StateDSNEnv))
		}
	}
	st, err := state.Open(ctx, path)
	if err != nil {
		return nil, envError(err)
	}
	return st, nil
}

// build provisions the engine with otai's state store. The returned
// closer releases everything.
func (app *App) build(ctx context.Context, file *config.File, dryRun bool, httpMetrics httpx.Hook) (*orchestrator.Engine, func(), error) {
	if err := app.dataDir(); err != nil {
		return nil, nil, err
	}
	owner := pipe.NewOwner()
	st, err := app.openState(ctx, owner, false)
	if err != nil {
		return nil, nil, err
	}
	if _, ok := st.(*state.PostgresStore); ok {
		app.Logger.Info("state store: PostgreSQL ("+StateDSNEnv+")", "owner", owner)
	}
	env := orchestrator.Environ()
	delete(env, StateDSNEnv) // may carry a password; templates have no use for it
	eng, err := orchestrator.Build(ctx, file, orchestrator.Options{DataDir: app.DataDir, Logger: app.Logger,
		DryRun: dryRun, Marks: st, Decisions: st, Claims: st, Owner: owner, Env: env, HTTPMetrics: httpMetrics, Version: Version})
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
