// Package cli implements the otai command line. Each subcommand lives in
// its own file and adds itself with addCommand in init().
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

// Exit codes scripts can rely on.
const (
	ExitOK       = 0 // everything worked
	ExitFailure  = 1 // the command ran and found problems: invalid config, failed tickets, failed checks
	ExitUsage    = 2 // bad flags or arguments
	ExitEnv      = 3 // could not start: unreadable file, unusable data dir, corrupt database
	ExitInterrup = 130
)

// exitError carries an exit code through cobra.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// failure returns an error that makes otai exit with ExitFailure.
func failure(err error) error { return &exitError{ExitFailure, err} }

// envError returns an error that makes otai exit with ExitEnv.
func envError(err error) error { return &exitError{ExitEnv, err} }

// usageError returns an error that makes otai exit with ExitUsage.
func usageError(format string, a ...any) error {
	return &exitError{ExitUsage, fmt.Errorf(format, a...)}
}

// silent exits with code without printing anything more (the command has
// already reported).
func silent(code int) error { return &exitError{code, errSilent} }

var errSilent = errors.New("")

// App holds what every subcommand shares.
type App struct {
	In        io.Reader
	Out       io.Writer
	Err       io.Writer
	LogFormat string
	LogLevel  string
	DataDir   string
	Logger    *slog.Logger
}

var commands []func(*App) *cobra.Command

// addCommand registers a subcommand constructor; call it from init().
func addCommand(f func(*App) *cobra.Command) { commands = append(commands, f) }

// Main runs otai with args and returns the process exit code.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return MainContext(ctx, args, stdin, stdout, stderr)
}

// MainContext is Main with a caller-controlled context (tests cancel it to
// simulate SIGINT).
func MainContext(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	app := &App{In: stdin, Out: stdout, Err: stderr}
	root := newRoot(app)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var ee *exitError
	code := ExitUsage // cobra's own errors are about flags and args
	if errors.As(err, &ee) {
		code = ee.code
	}
	if !errors.Is(err, errSilent) {
		fmt.Fprintf(stderr, "otai: %s\n", redactString(err.Error()))
		if code == ExitUsage && !errors.As(err, &ee) {
			fmt.Fprintln(stderr, "Run 'otai --help' for usage.")
		}
	}
	return code
}

func newRoot(app *App) *cobra.Command {
	root := &cobra.Command{
		Use:   "otai",
		Short: "On-premise AI triage for help desks",
		Long: `otai fetches tickets from a help desk (OTOBO, Znuny, OTRS, Zammad, Freshdesk, or
its own embedded store), classifies them with models that run locally, and writes
the result back: queue moved, priority set, an internal note explaining why.

Everything is driven by one YAML config of services and pipes. Without a config,
otai uses an embedded demo: a local SQLite ticket store with demo tickets.

Exit codes: 0 ok, 1 problems found (invalid config, failed tickets or checks),
2 bad usage, 3 could not start (unreadable file, unusable data dir).`,
		Example: `  # triage the demo inbox once, no help desk needed
  otai run --once

  # check a config, then run it until Ctrl-C
  otai validate config.yml && otai run --config config.yml`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return app.setup()
		},
	}
	root.PersistentFlags().StringVar(&app.LogFormat, "log-format", envOr("OTAI_LOG_FORMAT", "text"), "log format: text or json (env OTAI_LOG_FORMAT)")
	root.PersistentFlags().StringVar(&app.LogLevel, "log-level", envOr("OTAI_LOG_LEVEL", "info"), "log level: debug, info, warn, error (env OTAI_LOG_LEVEL)")
	root.PersistentFlags().StringVar(&app.DataDir, "data-dir", defaultDataDir(), "where otai keeps its database, models and state (env OTAI_DATA_DIR)")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError("%v (see '%s --help')", err, c.CommandPath())
	})
	for _, f := range commands {
		root.AddCommand(f(app))
	}
	return root
}

func (app *App) setup() error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(app.LogLevel)); err != nil {
		return usageError("--log-level %q: want debug, info, warn or error", app.LogLevel)
	}
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler
	switch strings.ToLower(app.LogFormat) {
	case "text":
		h = slog.NewTextHandler(app.Err, opts)
	case "json":
		h = slog.NewJSONHandler(app.Err, opts)
	default:
		return usageError("--log-format %q: want text or json", app.LogFormat)
	}
	app.Logger = slog.New(redactHandler(h))
	if app.DataDir != "" {
		if abs, err := filepath.Abs(app.DataDir); err == nil {
			app.DataDir = abs
		}
	}
	return nil
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// defaultDataDir is $OTAI_DATA_DIR, else $XDG_DATA_HOME/otai, else
// ~/.local/share/otai.
func defaultDataDir() string {
	if v := os.Getenv("OTAI_DATA_DIR"); v != "" {
		return v
	}
	if v := os.Getenv("XDG_DATA_HOME"); v != "" {
		return filepath.Join(v, "otai")
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".local", "share", "otai")
	}
	return "otai-data"
}
